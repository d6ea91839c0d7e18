//! Errors of the depot and VIB readers. Every message names the operation and
//! the file or URL it concerns.

/// What went wrong reading a depot, an offline bundle or a VIB.
#[derive(Debug, thiserror::Error)]
pub enum DepotError {
    #[error("read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("read zip {path}: {message}")]
    Zip { path: String, message: String },
    #[error("parse {path}: {message}")]
    Xml { path: String, message: String },
    #[error("read {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("read {path}: {message} (refused: bounded expansion)")]
    TooLarge { path: String, message: String },
    #[error("read {path}: unsafe path {member:?} (would escape the depot)")]
    UnsafePath { path: String, member: String },
    #[error("read {index}: it names {missing}, which is not in the depot")]
    Missing { index: String, missing: String },
    #[error("fetch {url}: {message}")]
    Http { url: String, message: String },
    /// The request got no HTTP answer (refused, timed out, not TLS, ...):
    /// `message` names the cause, `source` keeps the HTTP library's error.
    #[error("fetch {url}: {message}")]
    Transport { url: String, message: String, source: Option<Box<dyn std::error::Error + Send + Sync>> },
    /// A Broadcom depot URL names `<token>` and no download token was given.
    #[error("fetch {url}: no download token given (neither ESXUP_BROADCOM_TOKEN nor ESXUP_BROADCOM_TOKEN_FILE is set)")]
    NoToken { url: String },
    /// The download token could not be read or is not a token (`origin`
    /// names the variable, file or URL; the message never quotes the token).
    #[error("read download token from {origin}: {message}")]
    Token { origin: String, message: String },
    /// Broadcom refused a request naming the download token: `status` is
    /// 401 or 403, `message` says what Broadcom KB 395322 means by it.
    #[error("fetch {url}: server answered {status} {message}")]
    TokenRefused { url: String, status: u16, message: String },
    #[error("verify {path}: {kind} checksum mismatch: expected {expected}, got {actual}")]
    Checksum { path: String, kind: String, expected: String, actual: String },
    #[error("read signature {path}: {message}")]
    Signature { path: String, message: String },
    #[error("read {path}: not an ar archive ({message})")]
    Ar { path: String, message: String },
}

impl DepotError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> DepotError {
        DepotError::Invalid { path: path.into(), message: message.into() }
    }
    pub(crate) fn xml(path: impl Into<String>, message: impl Into<String>) -> DepotError {
        DepotError::Xml { path: path.into(), message: message.into() }
    }
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> DepotError {
        DepotError::Io { path: path.into(), source }
    }
}
