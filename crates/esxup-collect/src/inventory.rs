//! The fleet inventory file (`esxup collect --inventory FILE`): a TOML list
//! of vCenters and standalone hosts, each with its own user, certificate pin
//! and the name of the environment variable (or file) holding its password.
//!
//! ```toml
//! [defaults]
//! user = "administrator@vsphere.local"
//! password_env = "ESXUP_PASSWORD"
//! timeout_secs = 60
//!
//! [[vcenter]]
//! url = "https://vc1.example.com"
//! thumbprint = "AA:BB:...:FF"          # SHA-256 of its certificate
//!
//! [[host]]
//! url = "esx7.example.com"
//! user = "root"
//! password_env = "ESX7_PASSWORD"
//! ca_file = "/etc/esxup/vmca.pem"
//! ```
//!
//! Passwords never live in the inventory: `password_env` names a variable,
//! `password_file` a file whose first line is the password.
//!
//! `esxup run --inventory` (the rolling upgrade) reads the same file: its
//! `[[host]]` entries are the hosts to upgrade, which may also name their
//! ESXi Shell (`ssh = "root@esx7"`, with `ssh_fingerprint`, `known_hosts`,
//! `identity`) and their `cluster`; its `[[vcenter]]` entries are asked
//! which cluster each host is in and which hosts are in maintenance mode.
//! `esxup collect` ignores the run-only fields.

use esxup_vim::{parse_url, Thumbprint};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why an inventory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("read inventory {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("read inventory {path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("read inventory {path}: {entry}: {message}")]
    Entry { path: PathBuf, entry: String, message: String },
    #[error("read inventory {path}: lists no [[vcenter]] or [[host]]")]
    Empty { path: PathBuf },
}

/// Settings every entry inherits unless it sets its own.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub timeout_secs: Option<u64>,
}

/// One `[[vcenter]]` or `[[host]]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub url: String,
    /// A label for reports (defaults to the URL's host).
    pub name: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// SHA-256 (or SHA-1) thumbprint of the certificate to pin.
    pub thumbprint: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub timeout_secs: Option<u64>,
    /// `esxup run`: the host's ESXi Shell, `USER@HOST[:PORT]`.
    pub ssh: Option<String>,
    /// `esxup run`: accept exactly this SSH host key (`SHA256:...`).
    pub ssh_fingerprint: Option<String>,
    /// `esxup run`: known_hosts file for the SSH host key.
    pub known_hosts: Option<PathBuf>,
    /// `esxup run`: SSH private key file.
    pub identity: Option<PathBuf>,
    /// `esxup run`: the host's cluster, when no `[[vcenter]]` says it
    /// (`""`: a standalone host).
    pub cluster: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    vcenter: Vec<Entry>,
    #[serde(default)]
    host: Vec<Entry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    VCenter,
    Host,
}

/// An inventory entry with the defaults applied and its fields checked.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: TargetKind,
    /// `vcenter #1 (vc1.example.com)`
    pub label: String,
    /// `https://host:port/sdk`
    pub url: String,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub thumbprint: Option<Thumbprint>,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    pub timeout: Option<Duration>,
    /// The run-only fields of a `[[host]]` (see the module doc).
    pub run: RunFields,
}

/// What `esxup run --inventory` reads beyond the API connection.
#[derive(Clone, Debug, Default)]
pub struct RunFields {
    pub ssh: Option<String>,
    pub ssh_fingerprint: Option<String>,
    pub known_hosts: Option<PathBuf>,
    pub identity: Option<PathBuf>,
    /// `Some("")`: standalone, said so; `None`: not said.
    pub cluster: Option<String>,
}

/// Reads and checks an inventory file. Relative `ca_file`/`password_file`
/// paths are taken from the inventory's directory.
pub fn load(path: &Path) -> Result<Vec<Target>, InventoryError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| InventoryError::Read { path: path.into(), source })?;
    parse(&text, path)
}

/// Parses inventory text; `path` names it in errors and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Target>, InventoryError> {
    let file: File = toml::from_str(text)
        .map_err(|e| InventoryError::Toml { path: path.into(), message: e.to_string().trim().to_string() })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
    let d = &file.defaults;
    let mut out = Vec::new();
    let entries = file
        .vcenter
        .iter()
        .enumerate()
        .map(|(i, e)| (TargetKind::VCenter, i, e))
        .chain(file.host.iter().enumerate().map(|(i, e)| (TargetKind::Host, i, e)));
    for (kind, i, e) in entries {
        let word = if kind == TargetKind::VCenter { "vcenter" } else { "host" };
        let mut entry = format!("[[{word}]] #{} ({})", i + 1, e.url);
        let err = |entry: &str, message: String| InventoryError::Entry {
            path: path.into(),
            entry: entry.to_string(),
            message,
        };
        let u = parse_url(&e.url).map_err(|x| err(&entry, x.to_string()))?;
        if u.password.is_some() {
            return Err(err(
                &entry,
                "put the password in password_env or password_file, not in the URL".into(),
            ));
        }
        let label = e.name.clone().unwrap_or_else(|| u.host.clone());
        entry = format!("[[{word}]] #{} ({label})", i + 1);
        let thumbprint = match &e.thumbprint {
            Some(t) => Some(Thumbprint::parse(t).ok_or_else(|| {
                err(
                    &entry,
                    format!("thumbprint {t:?} is not a SHA-256 (32 bytes) or SHA-1 (20 bytes) hex value"),
                )
            })?),
            None => None,
        };
        if kind == TargetKind::VCenter
            && (e.ssh.is_some()
                || e.ssh_fingerprint.is_some()
                || e.known_hosts.is_some()
                || e.identity.is_some()
                || e.cluster.is_some())
        {
            return Err(err(
                &entry,
                "ssh, ssh_fingerprint, known_hosts, identity and cluster belong to a [[host]]".into(),
            ));
        }
        if e.ssh.is_none() && (e.ssh_fingerprint.is_some() || e.known_hosts.is_some() || e.identity.is_some())
        {
            return Err(err(
                &entry,
                "ssh_fingerprint, known_hosts and identity need ssh = \"USER@HOST\"".into(),
            ));
        }
        let insecure = e.insecure.or(d.insecure).unwrap_or(false);
        if insecure && thumbprint.is_some() {
            return Err(err(&entry, "set either thumbprint or insecure, not both".into()));
        }
        out.push(Target {
            kind,
            label,
            url: u.url,
            user: e.user.clone().or(u.user).or_else(|| d.user.clone()),
            password_env: e.password_env.clone().or_else(|| d.password_env.clone()),
            password_file: e.password_file.as_ref().or(d.password_file.as_ref()).map(rel),
            thumbprint,
            ca_file: e.ca_file.as_ref().or(d.ca_file.as_ref()).map(rel),
            insecure,
            timeout: e.timeout_secs.or(d.timeout_secs).map(Duration::from_secs),
            run: RunFields {
                ssh: e.ssh.clone(),
                ssh_fingerprint: e.ssh_fingerprint.clone(),
                known_hosts: e.known_hosts.as_ref().map(rel),
                identity: e.identity.as_ref().map(rel),
                cluster: e.cluster.clone(),
            },
        });
    }
    if out.is_empty() {
        return Err(InventoryError::Empty { path: path.into() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_defaults_and_checks_entries() {
        let text = r#"
[defaults]
user = "administrator@vsphere.local"
password_env = "VC_PASSWORD"
ca_file = "vmca.pem"

[[vcenter]]
url = "https://vc1.example.com"
thumbprint = "F5:B7:44:04:B8:48:B1:A3:9D:CB:7C:2A:1E:E3:B7:A3:33:1B:44:2B:77:61:25:D1:58:34:AE:91:21:FD:27:F2"

[[host]]
url = "esx7.example.com:8443"
name = "lab-esx7"
user = "root"
password_env = "ESX7_PASSWORD"
"#;
        let t = parse(text, Path::new("/etc/esxup/fleet.toml")).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].kind, TargetKind::VCenter);
        assert_eq!(t[0].url, "https://vc1.example.com:443/sdk");
        assert_eq!(t[0].user.as_deref(), Some("administrator@vsphere.local"));
        assert!(t[0].thumbprint.is_some());
        assert_eq!(t[0].ca_file.as_deref(), Some(Path::new("/etc/esxup/vmca.pem")));
        assert_eq!(t[1].label, "lab-esx7");
        assert_eq!(t[1].url, "https://esx7.example.com:8443/sdk");
        assert_eq!(t[1].password_env.as_deref(), Some("ESX7_PASSWORD"));
    }

    #[test]
    fn refuses_bad_entries() {
        let p = Path::new("inv.toml");
        let e = parse("[[host]]\nurl = \"esx1\"\nthumbprint = \"12:34\"\n", p).unwrap_err().to_string();
        assert!(e.contains("[[host]] #1 (esx1)") && e.contains("thumbprint"), "{e}");
        let e = parse("[[host]]\nurl = \"https://root:secret@esx1\"\n", p).unwrap_err().to_string();
        assert!(e.contains("password_env"), "{e}");
        let e = parse("[[hosts]]\nurl = \"esx1\"\n", p).unwrap_err().to_string();
        assert!(e.contains("inv.toml") && e.contains("hosts"), "{e}");
        assert!(matches!(parse("", p), Err(InventoryError::Empty { .. })));
    }

    #[test]
    fn reads_the_run_fields_of_a_host_only() {
        let p = Path::new("/etc/esxup/fleet.toml");
        let t = parse(
            "[[host]]\nurl = \"esx1\"\nssh = \"root@esx1\"\nidentity = \"keys/id\"\ncluster = \"\"\n",
            p,
        )
        .unwrap();
        assert_eq!(t[0].run.ssh.as_deref(), Some("root@esx1"));
        assert_eq!(t[0].run.identity.as_deref(), Some(Path::new("/etc/esxup/keys/id")));
        assert_eq!(t[0].run.cluster.as_deref(), Some(""));
        let e = parse("[[vcenter]]\nurl = \"vc\"\ncluster = \"C\"\n", p).unwrap_err().to_string();
        assert!(e.contains("[[vcenter]] #1 (vc)") && e.contains("belong to a [[host]]"), "{e}");
        let e =
            parse("[[host]]\nurl = \"esx1\"\nssh_fingerprint = \"SHA256:x\"\n", p).unwrap_err().to_string();
        assert!(e.contains("need ssh"), "{e}");
    }
}
