//! A small vSphere (vim25) SOAP client: session, PropertyCollector, tasks, TLS pinning.
//!
//! Just what esxup needs to read a host or a vCenter: `RetrieveServiceContent`,
//! `Login`/`Logout` with the session cookie (one re-login when the session
//! expired), `CreateContainerView` + `RetrievePropertiesEx` /
//! `ContinueRetrievePropertiesEx` paging, task waiting and SOAP faults.
//! TLS is verified by default; see [`tls`] for pinning and `--insecure`.

pub mod client;
pub mod tls;
pub mod transport;
pub mod xml;

pub use client::{parse_url, About, Client, ConnectOptions, ObjectContent, PropSpec, SdkUrl, ServiceContent};
pub use tls::{ShortKey, Thumbprint, TlsMode, TlsOptions};
pub use xml::Node;

/// A managed object reference (`HostSystem:host-21`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MoRef {
    pub ty: String,
    pub value: String,
}

impl MoRef {
    pub fn new(ty: &str, value: &str) -> MoRef {
        MoRef { ty: ty.to_string(), value: value.to_string() }
    }
}

impl std::fmt::Display for MoRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.ty, self.value)
    }
}

/// A vSphere fault: its type (`InvalidLogin`, `NotAuthenticated`,
/// `ManagedObjectNotFound`) and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: String,
    pub message: String,
}

/// Errors of the client; each names the operation and the URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("parse URL {url}: {detail}")]
    Url { url: String, detail: String },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{op} {url}: refused the server certificate ({reason}); its SHA-256 thumbprint is {thumbprint}")]
    UntrustedCertificate { op: String, url: String, thumbprint: String, reason: String, pinned: bool },
    /// The connection failed or broke. `message` names the cause (`timed out
    /// after 3 s`, `the server did not answer TLS (plain http?)`); `source`
    /// keeps the error of the HTTP or TLS library underneath, when there is one.
    #[error("{op} {url}: {message}")]
    Transport {
        op: String,
        url: String,
        message: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{op} {url}: HTTP status {status}: {body}")]
    Http { op: String, url: String, status: u16, body: String },
    #[error("login to {url} as {user}: incorrect user name or password")]
    InvalidLogin { url: String, user: String },
    #[error("{op} {url}: not authenticated (the session expired or was terminated)")]
    NotAuthenticated { op: String, url: String },
    #[error("{op} {url}: {kind}: {message}")]
    Fault { op: String, url: String, kind: String, message: String },
    #[error("{op} {url}: unexpected response: {detail}")]
    Response { op: String, url: String, detail: String },
    #[error("wait for task {task} on {url}: {kind}: {message}")]
    TaskFailed { task: String, url: String, kind: String, message: String },
    #[error("wait for task {task} on {url}: still running after {secs}s")]
    TaskTimeout { task: String, url: String, secs: u64 },
}
