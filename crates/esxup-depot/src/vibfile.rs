//! VIB files: the `ar` container (`descriptor.xml`, `sig.pkcs7`, payloads),
//! the descriptor, and verification of payload checksums (sha-256 / sha-1, of
//! the stored or the gunzipped payload) and of the whole-VIB sha256 that
//! depot metadata records, and the `sig.pkcs7` signature checked against
//! the descriptor (`signature.rs`).

use crate::error::DepotError;
use crate::model::Vib;
use crate::signature::{self, SignatureReport, Verification};
use crate::xml;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::Read;

/// One member of an `ar` archive (offsets into the VIB bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ArMember {
    pub name: String,
    pub offset: usize,
    pub size: usize,
}

/// Lists the members of an `ar` archive. Truncated or malformed archives
/// are refused with the byte offset of the problem.
pub fn ar_members(label: &str, bytes: &[u8]) -> Result<Vec<ArMember>, DepotError> {
    let err = |m: String| DepotError::Ar { path: label.to_string(), message: m };
    if bytes.len() < 8 || &bytes[..8] != b"!<arch>\n" {
        return Err(err("missing the !<arch> magic".into()));
    }
    let mut pos = 8;
    let mut out = Vec::new();
    let mut long_names: Option<&[u8]> = None;
    while pos < bytes.len() {
        if bytes.len() - pos < 60 {
            if bytes[pos..].iter().all(|b| *b == b'\n') {
                break;
            }
            return Err(err(format!("truncated member header at offset {pos}")));
        }
        let h = &bytes[pos..pos + 60];
        if &h[58..60] != b"`\n" {
            return Err(err(format!("bad member header terminator at offset {pos}")));
        }
        let size_s =
            std::str::from_utf8(&h[48..58]).map_err(|_| err(format!("bad size field at offset {pos}")))?;
        let size: usize = size_s
            .trim()
            .parse()
            .map_err(|_| err(format!("bad size field {:?} at offset {pos}", size_s.trim())))?;
        let start = pos + 60;
        let end =
            start.checked_add(size).ok_or_else(|| err(format!("member size overflows at offset {pos}")))?;
        if end > bytes.len() {
            return Err(err(format!(
                "truncated: member at offset {pos} declares {size} bytes but only {} remain",
                bytes.len() - start
            )));
        }
        let raw_name = String::from_utf8_lossy(&h[..16]).trim_end().to_string();
        let mut name = raw_name.clone();
        let mut data_start = start;
        let mut data_size = size;
        if raw_name == "//" {
            long_names = Some(&bytes[start..end]);
            pos = end + (size & 1);
            continue;
        } else if let Some(n) = raw_name.strip_prefix("#1/") {
            // BSD: the name precedes the data.
            let nlen: usize = n.parse().map_err(|_| err(format!("bad BSD name at offset {pos}")))?;
            if nlen > size {
                return Err(err(format!("BSD name longer than member at offset {pos}")));
            }
            name = String::from_utf8_lossy(&bytes[start..start + nlen]).trim_end_matches('\0').to_string();
            data_start += nlen;
            data_size -= nlen;
        } else if let (Some(table), Some(off)) =
            (long_names, raw_name.strip_prefix('/').and_then(|o| o.parse::<usize>().ok()))
        {
            let rest = table.get(off..).unwrap_or(&[]);
            let endn = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            name = String::from_utf8_lossy(&rest[..endn]).trim_end_matches('/').to_string();
        } else if raw_name != "/" {
            name = raw_name.trim_end_matches('/').to_string();
        }
        if raw_name != "/" {
            out.push(ArMember { name, offset: data_start, size: data_size });
        }
        pos = end + (size & 1);
    }
    Ok(out)
}

/// A VIB file read from disk or a depot.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct VibFile {
    pub descriptor: Vib,
    pub members: Vec<ArMember>,
    /// Size of `sig.pkcs7` (0 = unsigned), `None` if absent.
    pub signature_size: Option<usize>,
    /// `sig.pkcs7` read and checked against `descriptor.xml`.
    pub signature: VibSignature,
    /// Lenient-parsing notes.
    pub warnings: Vec<String>,
    /// sha256 of the whole file.
    pub sha256: String,
    pub size: usize,
}

impl VibFile {
    /// Reads and parses a `.vib` file.
    pub fn open(path: &std::path::Path) -> Result<(VibFile, Vec<u8>), DepotError> {
        let label = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| DepotError::io(&label, e))?;
        let mut bytes = Vec::new();
        let max: u64 = 4 << 30;
        f.take(max + 1).read_to_end(&mut bytes).map_err(|e| DepotError::io(&label, e))?;
        if bytes.len() as u64 > max {
            return Err(DepotError::TooLarge { path: label, message: "VIB larger than 4 GiB".into() });
        }
        let v = VibFile::parse(&label, &bytes)?;
        Ok((v, bytes))
    }

    /// Parses VIB bytes: the `ar` members and `descriptor.xml`.
    pub fn parse(label: &str, bytes: &[u8]) -> Result<VibFile, DepotError> {
        let members = ar_members(label, bytes)?;
        let mut warnings = Vec::new();
        let desc = members.iter().find(|m| m.name == "descriptor.xml").ok_or_else(|| {
            DepotError::Missing { index: label.to_string(), missing: "descriptor.xml".into() }
        })?;
        if members.first().map(|m| m.name.as_str()) != Some("descriptor.xml") {
            warnings.push(format!("{label}: descriptor.xml is not the first member"));
        }
        let dl = format!("{label}!descriptor.xml");
        let descriptor =
            xml::parse_vib_bytes(&dl, &bytes[desc.offset..desc.offset + desc.size], true, &mut warnings)?;
        let sig = members.iter().find(|m| m.name == "sig.pkcs7");
        let signature_size = sig.map(|m| m.size);
        let signature = match sig {
            None => {
                warnings.push(format!("{label}: no sig.pkcs7 member"));
                VibSignature::Absent
            }
            Some(m) => {
                let desc_bytes = &bytes[desc.offset..desc.offset + desc.size];
                let sl = format!("{label}!sig.pkcs7");
                // A bad signature is reported, not fatal: the VIB is still
                // readable and its payloads can still be checked.
                match signature::inspect(&sl, &bytes[m.offset..m.offset + m.size], desc_bytes) {
                    Ok(None) => VibSignature::Unsigned,
                    Ok(Some(r)) => VibSignature::Signed(r),
                    Err(e) => VibSignature::Unreadable { message: e.to_string() },
                }
            }
        };
        Ok(VibFile {
            descriptor,
            members,
            signature_size,
            signature,
            warnings,
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len(),
        })
    }

    /// Verifies every payload checksum the descriptor records.
    pub fn verify_payloads(&self, label: &str, bytes: &[u8]) -> Vec<PayloadCheck> {
        let mut out = Vec::new();
        for p in &self.descriptor.payloads {
            let Some(m) = self.members.iter().find(|m| m.name == p.name) else {
                out.push(PayloadCheck {
                    payload: p.name.clone(),
                    checksum: String::new(),
                    ok: false,
                    message: format!("{label}: payload {} is not in the archive", p.name),
                });
                continue;
            };
            let data = &bytes[m.offset..m.offset + m.size];
            if let Some(sz) = p.size {
                if sz as usize != m.size {
                    out.push(PayloadCheck {
                        payload: p.name.clone(),
                        checksum: "size".into(),
                        ok: false,
                        message: format!(
                            "{label}: payload {} is {} bytes, descriptor says {sz}",
                            p.name, m.size
                        ),
                    });
                }
            }
            for c in &p.checksums {
                let what = match &c.verify_process {
                    Some(vp) => format!("{} ({vp})", c.kind),
                    None => c.kind.clone(),
                };
                let actual = match digest(&c.kind, c.verify_process.as_deref(), data) {
                    Ok(a) => a,
                    Err(m) => {
                        out.push(PayloadCheck {
                            payload: p.name.clone(),
                            checksum: what,
                            ok: false,
                            message: format!("{label}: payload {}: {m}", p.name),
                        });
                        continue;
                    }
                };
                let ok = actual.eq_ignore_ascii_case(&c.value);
                out.push(PayloadCheck {
                    payload: p.name.clone(),
                    checksum: what.clone(),
                    ok,
                    message: if ok {
                        format!("{what} ok")
                    } else {
                        format!(
                            "{label}: payload {} {what} mismatch: expected {}, got {actual}",
                            p.name, c.value
                        )
                    },
                });
            }
        }
        out
    }
}

/// The `sig.pkcs7` member of a VIB, read and checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum VibSignature {
    /// No `sig.pkcs7` member at all.
    Absent,
    /// `sig.pkcs7` is empty (community VIBs such as ghettoVCB).
    Unsigned,
    /// Read; see [`SignatureReport::verification`]. Trust is not checked.
    Signed(SignatureReport),
    /// `sig.pkcs7` could not be read (the message names the member).
    Unreadable { message: String },
}

impl VibSignature {
    /// One word for tables: `absent`, `unsigned`, `verified`,
    /// `descriptor-mismatch`, `signature-invalid`, `not-verified`, `unreadable`.
    pub fn short(&self) -> &'static str {
        match self {
            VibSignature::Absent => "absent",
            VibSignature::Unsigned => "unsigned",
            VibSignature::Unreadable { .. } => "unreadable",
            VibSignature::Signed(r) => match r.verification {
                Verification::Verified => "verified",
                Verification::DescriptorMismatch { .. } => "descriptor-mismatch",
                Verification::SignatureInvalid { .. } => "signature-invalid",
                Verification::NotVerified { .. } => "not-verified",
            },
        }
    }

    /// The signature is there but does not fit the descriptor, or cannot be
    /// read: the file is not what was signed.
    pub fn is_failure(&self) -> bool {
        match self {
            VibSignature::Unreadable { .. } => true,
            VibSignature::Signed(r) => matches!(
                r.verification,
                Verification::DescriptorMismatch { .. } | Verification::SignatureInvalid { .. }
            ),
            VibSignature::Absent | VibSignature::Unsigned => false,
        }
    }
}

/// Hashes `data` (after gunzip when asked) with sha-256 or sha-1.
fn digest(kind: &str, process: Option<&str>, data: &[u8]) -> Result<String, String> {
    enum H {
        S256(Sha256),
        S1(Sha1),
    }
    let mut h = match kind.to_ascii_lowercase().as_str() {
        "sha-256" | "sha256" => H::S256(Sha256::new()),
        "sha-1" | "sha1" => H::S1(Sha1::new()),
        other => return Err(format!("unknown checksum type {other:?}")),
    };
    let mut update = |b: &[u8]| match &mut h {
        H::S256(x) => x.update(b),
        H::S1(x) => x.update(b),
    };
    match process {
        None | Some("") => update(data),
        Some("gunzip") => {
            let mut dec = flate2::read::MultiGzDecoder::new(data).take(16 << 30);
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = dec.read(&mut buf).map_err(|e| format!("gunzip failed: {e}"))?;
                if n == 0 {
                    break;
                }
                update(&buf[..n]);
            }
        }
        Some(other) => return Err(format!("unknown verify-process {other:?}")),
    }
    Ok(match h {
        H::S256(x) => hex::encode(x.finalize()),
        H::S1(x) => hex::encode(x.finalize()),
    })
}

/// Result of checking one payload checksum.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PayloadCheck {
    pub payload: String,
    pub checksum: String,
    pub ok: bool,
    pub message: String,
}

/// Outcome of verifying one VIB of a depot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VibCheckStatus {
    Ok,
    Mismatch,
    Unreadable,
    NotInDepot,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct VibCheck {
    pub vib_id: String,
    pub path: Option<String>,
    pub status: VibCheckStatus,
    pub message: String,
    /// [`VibSignature::short`] of the VIB's `sig.pkcs7`, when the VIB was read.
    pub signature: Option<&'static str>,
}

/// Checks VIB bytes against the depot metadata entry: packed size, whole-VIB
/// sha256, descriptor identity, payload checksums.
pub fn verify_against_metadata(label: &str, bytes: &[u8], meta: &Vib) -> VibCheck {
    let fail = |status, message: String| VibCheck {
        vib_id: meta.id.clone(),
        path: Some(label.to_string()),
        status,
        message,
        signature: None,
    };
    if let Some(sz) = meta.packed_size {
        if sz as usize != bytes.len() {
            return fail(
                VibCheckStatus::Mismatch,
                format!("verify {label}: {} bytes, depot metadata says {sz}", bytes.len()),
            );
        }
    }
    if let Some(c) = &meta.checksum {
        match digest(&c.kind, None, bytes) {
            Ok(actual) if actual.eq_ignore_ascii_case(&c.value) => {}
            Ok(actual) => {
                return fail(
                    VibCheckStatus::Mismatch,
                    DepotError::Checksum {
                        path: label.to_string(),
                        kind: c.kind.clone(),
                        expected: c.value.clone(),
                        actual,
                    }
                    .to_string(),
                )
            }
            Err(m) => return fail(VibCheckStatus::Unreadable, format!("verify {label}: {m}")),
        }
    }
    let vf = match VibFile::parse(label, bytes) {
        Ok(v) => v,
        Err(e) => return fail(VibCheckStatus::Unreadable, e.to_string()),
    };
    if vf.descriptor.id != meta.id {
        return fail(
            VibCheckStatus::Mismatch,
            format!("verify {label}: descriptor says {}, depot metadata says {}", vf.descriptor.id, meta.id),
        );
    }
    let bad: Vec<String> =
        vf.verify_payloads(label, bytes).into_iter().filter(|c| !c.ok).map(|c| c.message).collect();
    let signature = Some(vf.signature.short());
    if !bad.is_empty() {
        return VibCheck { signature, ..fail(VibCheckStatus::Mismatch, bad.join("; ")) };
    }
    // A signature that does not fit the descriptor means the VIB is not what
    // its vendor signed, even when the depot's checksums (made later) match.
    let sig_problem = match &vf.signature {
        VibSignature::Signed(r) => match &r.verification {
            Verification::DescriptorMismatch { message } | Verification::SignatureInvalid { message } => {
                Some((VibCheckStatus::Mismatch, format!("verify {label}!sig.pkcs7: {message}")))
            }
            _ => None,
        },
        VibSignature::Unreadable { message } => Some((VibCheckStatus::Unreadable, message.clone())),
        _ => None,
    };
    if let Some((status, message)) = sig_problem {
        return VibCheck { signature, ..fail(status, message) };
    }
    VibCheck {
        vib_id: meta.id.clone(),
        path: Some(label.to_string()),
        status: VibCheckStatus::Ok,
        message: if meta.checksum.is_some() {
            "sha-256 of the VIB and payload checksums match".into()
        } else {
            "payload checksums match (no whole-VIB checksum in metadata)".into()
        },
        signature,
    }
}
