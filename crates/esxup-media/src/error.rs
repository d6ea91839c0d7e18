//! Errors of the media layer. Every message names the operation and the file
//! or device it concerns, lowercase, without a trailing period.

use std::path::PathBuf;

/// What went wrong reading an ISO, writing media or checking a kickstart.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("read iso: {0}")]
    Iso(#[from] esxup_depot::DepotError),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read iso {path}: {message}")]
    NotInstaller { path: PathBuf, message: String },
    #[error("write media {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("refuse device {path}: {message}")]
    Device { path: PathBuf, message: String },
    #[error("kickstart: {0}")]
    Kickstart(String),
    #[error("root password: {0}")]
    Password(String),
    #[error("verify media {path}: {message}")]
    Verify { path: PathBuf, message: String },
}

impl MediaError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> MediaError {
        MediaError::Io { op, path: path.into(), source }
    }
}
