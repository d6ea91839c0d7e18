//! Errors that end a collection (the source itself failed). Outputs that
//! are merely missing or unreadable are not errors here: they become
//! collection notes and [`esxup_facts::parse::ParseError`]s.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("read saved outputs in {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("read vm-support bundle {path}: {message}")]
    Bundle { path: PathBuf, message: String },
    #[error("read saved outputs archive {path}: {message}")]
    Archive { path: PathBuf, message: String },
    #[error("read saved outputs in {path}: {message}")]
    TooLarge { path: PathBuf, message: String },
    #[error("ssh {target}: connect: {message}")]
    Connect { target: String, message: String },
    #[error("ssh {target}: host key {fingerprint} ({key_type}) is not known{detail}")]
    UnknownHostKey { target: String, fingerprint: String, key_type: String, detail: String },
    #[error(
        "ssh {target}: HOST KEY MISMATCH: the server offered {fingerprint} ({key_type}), which is not the key \
         recorded for it{detail}; refusing to connect (possible man-in-the-middle)"
    )]
    HostKeyMismatch { target: String, fingerprint: String, key_type: String, detail: String },
    #[error("ssh {target}: authentication failed as {user} (tried: {tried})")]
    Auth { target: String, user: String, tried: String },
    #[error("ssh {target}: timed out after {seconds}s {during}")]
    Timeout { target: String, seconds: u64, during: String },
    #[error("ssh {target}: {during}: {message}")]
    Ssh { target: String, during: String, message: String },
    #[error("{0}")]
    Input(String),
}
