//! Checks a downloaded configuration bundle (`configBundle-<host>.tgz`)
//! before the run counts on it: nothing runs without a verified backup.
//!
//! A bundle is a gzip-compressed tar that holds `state.tgz` (the host's
//! configuration, VMware KB 2042141). When it also holds a `Manifest.txt`
//! with `UUID=` / `BUILD=` lines, they must name the host and build it was
//! taken from (restore_config refuses a bundle of another build).

use sha2::Digest;
use std::io::Read;

/// What a verified bundle is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BundleInfo {
    pub sha256: String,
    pub size: u64,
    /// Members of the tar, in order.
    pub members: Vec<String>,
    pub manifest_uuid: Option<String>,
    pub manifest_build: Option<u32>,
}

/// Why a bundle is not a usable backup.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the configuration bundle is empty")]
    Empty,
    #[error("the configuration bundle is not a gzip tar: {0}")]
    NotTgz(String),
    #[error("the configuration bundle holds no state.tgz (members: {0})")]
    NoState(String),
    #[error("the configuration bundle is of host {found}, not {expected}")]
    OtherHost { found: String, expected: String },
    #[error("the configuration bundle is of build {found}, not {expected}")]
    OtherBuild { found: u32, expected: u32 },
}

/// Verifies `bytes` as the bundle of the host `uuid` at `build`.
pub fn verify(bytes: &[u8], uuid: Option<&str>, build: Option<u32>) -> Result<BundleInfo, BundleError> {
    if bytes.is_empty() {
        return Err(BundleError::Empty);
    }
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut ar = tar::Archive::new(gz);
    let mut members = Vec::new();
    let mut manifest = String::new();
    let entries = ar.entries().map_err(|e| BundleError::NotTgz(e.to_string()))?;
    for e in entries {
        let mut e = e.map_err(|e| BundleError::NotTgz(e.to_string()))?;
        let name = e.path().map_err(|e| BundleError::NotTgz(e.to_string()))?.to_string_lossy().into_owned();
        let name = name.trim_start_matches("./").to_string();
        if name == "Manifest.txt" {
            e.by_ref()
                .take(64 * 1024)
                .read_to_string(&mut manifest)
                .map_err(|e| BundleError::NotTgz(e.to_string()))?;
        } else {
            // Read to the end: a truncated member is an error here, not later.
            std::io::copy(&mut e, &mut std::io::sink()).map_err(|e| BundleError::NotTgz(e.to_string()))?;
        }
        members.push(name);
    }
    if !members.iter().any(|m| m == "state.tgz") {
        return Err(BundleError::NoState(members.join(", ")));
    }
    let value = |key: &str| {
        manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
            .filter(|v| !v.is_empty())
    };
    let manifest_uuid = value("UUID=");
    let manifest_build = value("BUILD=").and_then(|b| b.parse().ok());
    if let (Some(found), Some(expected)) = (&manifest_uuid, uuid) {
        if !found.eq_ignore_ascii_case(expected) {
            return Err(BundleError::OtherHost { found: found.clone(), expected: expected.to_string() });
        }
    }
    if let (Some(found), Some(expected)) = (manifest_build, build) {
        if found != expected {
            return Err(BundleError::OtherBuild { found, expected });
        }
    }
    Ok(BundleInfo {
        sha256: hex::encode(sha2::Sha256::digest(bytes)),
        size: bytes.len() as u64,
        members,
        manifest_uuid,
        manifest_build,
    })
}

#[cfg(test)]
pub(crate) fn make(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_bundle_of_this_host_and_build() {
        let b = make(&[("Manifest.txt", b"UUID=4c4c-1\nBUILD=17700523\n"), ("state.tgz", b"x")]);
        let i = verify(&b, Some("4C4C-1"), Some(17700523)).unwrap();
        assert_eq!(i.members, ["Manifest.txt", "state.tgz"]);
        assert_eq!(i.manifest_build, Some(17700523));
        assert_eq!(i.sha256.len(), 64);
    }

    #[test]
    fn refuses_what_is_no_backup() {
        assert!(matches!(verify(b"", None, None), Err(BundleError::Empty)));
        assert!(matches!(verify(b"<html>login</html>", None, None), Err(BundleError::NotTgz(_))));
        let no_state = make(&[("Manifest.txt", b"UUID=a\n")]);
        assert!(matches!(verify(&no_state, None, None), Err(BundleError::NoState(_))));
        let other = make(&[("Manifest.txt", b"UUID=a\nBUILD=1\n"), ("state.tgz", b"x")]);
        assert!(matches!(verify(&other, Some("b"), None), Err(BundleError::OtherHost { .. })));
        assert!(matches!(verify(&other, Some("a"), Some(2)), Err(BundleError::OtherBuild { .. })));
        let good = make(&[("state.tgz", b"xxxxxxxx")]);
        assert!(matches!(verify(&good[..good.len() / 2], None, None), Err(BundleError::NotTgz(_))));
    }
}
