//! How the runner reads and changes a host: one [`Transport`] trait, with
//! the vSphere API ([`api`]) and the ESXi Shell over SSH ([`ssh`]) behind it.
//!
//! Every change is a [`Change`] value, so that the journal can name the
//! exact call or command before it is made ([`Transport::describe`]) and
//! the engine decides what to do with a refusal in one place (a free-licence
//! host answers every API write with `RestrictedVersion`: the engine then
//! continues over SSH, when it has SSH credentials).

pub mod api;
pub mod ssh;

use crate::state::{HostState, TransportKind, VmState};
use esxup_facts::{HostFacts, InstalledVib};
use std::path::Path;

/// A secret (licence key, password) that never prints: `Debug` and
/// `Display` show it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A licence key masked to its last group (`*****-...-EEEEE`).
    pub fn masked_key(&self) -> String {
        esxup_collect::vim::mask_key(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One change the runner makes on a host.
#[derive(Clone, Debug)]
pub enum Change<'a> {
    /// Sync the configuration to the bootbank, back it up, download the bundle.
    BackupConfig,
    Maintenance(bool),
    ShutdownGuest(&'a VmState),
    PowerOff(&'a VmState),
    PowerOn(&'a VmState),
    /// Stop a service now (`slpd`).
    StopService(&'a str),
    /// Set a service's start policy (`slpd`, `off`).
    ServicePolicy(&'a str, &'a str),
    /// Open or close a firewall ruleset (`CIMSLP`, `httpClient`).
    Ruleset(&'a str, bool),
    /// Copy a local file to `/vmfs/volumes/<datastore>/esxup/<name>`.
    Upload {
        datastore: &'a str,
        name: &'a str,
        local: &'a Path,
        size: u64,
    },
    /// `esxcli software profile update -d DEPOT -p PROFILE [--dry-run]`.
    ProfileUpdate {
        depot: &'a str,
        profile: &'a str,
        dry_run: bool,
    },
    Reboot {
        reason: &'a str,
    },
    SetLicense(&'a Secret),
    UpgradeTools(&'a VmState),
    UpgradeHardware(&'a VmState, u32),
    CreateSnapshot(&'a VmState, &'a str),
    RemoveSnapshot(&'a VmState, &'a str),
    /// Write `content` to a file on the host (ghettoVCB configuration).
    WriteFile {
        path: &'a str,
        content: &'a [u8],
    },
    /// Run ghettoVCB with a VM list and a configuration on the host.
    GhettoVcb {
        vm_list: &'a str,
        conf: &'a str,
    },
}

/// What a change hands back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    None,
    /// A downloaded file (the configuration bundle).
    Bytes(Vec<u8>),
    /// A command's output (esxcli, ghettoVCB).
    Text(String),
    /// The id of something created (a snapshot).
    Id(String),
}

/// Why a read or a change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The host refuses changes through the API (free licence:
    /// `RestrictedVersion`).
    #[error("{op}: the host refuses changes through the vSphere API ({message})")]
    Restricted { op: String, message: String },
    /// This transport cannot do it (esxcli over the API, ...).
    #[error("{op}: not possible over {transport}: {why}")]
    Unsupported { op: String, transport: &'static str, why: String },
    /// The host does not answer (down, rebooting, network).
    #[error("{op}: {message}")]
    Unreachable { op: String, message: String },
    /// The host answered with an error (a fault, a failing command).
    #[error("{op}: {message}")]
    Refused { op: String, message: String },
    /// A session or credential problem (wrong password, unknown host key).
    #[error("{op}: {message}")]
    Access { op: String, message: String, hint: Option<String> },
    /// An answer esxup could not read.
    #[error("{op}: {message}")]
    Answer { op: String, message: String },
}

impl TransportError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, TransportError::Unreachable { .. })
    }

    /// The same error with `from` (a long command line) named `to` in its
    /// message.
    pub fn relabel(self, from: &str, to: &str) -> TransportError {
        if from == to {
            return self;
        }
        let r = |m: String| m.replace(from, to);
        match self {
            TransportError::Restricted { op, message } => {
                TransportError::Restricted { op, message: r(message) }
            }
            TransportError::Unreachable { op, message } => {
                TransportError::Unreachable { op, message: r(message) }
            }
            TransportError::Refused { op, message } => TransportError::Refused { op, message: r(message) },
            TransportError::Access { op, message, hint } => {
                TransportError::Access { op, message: r(message), hint }
            }
            TransportError::Answer { op, message } => TransportError::Answer { op, message: r(message) },
            e @ TransportError::Unsupported { .. } => e,
        }
    }
}

/// A way to read and change one host.
pub trait Transport {
    fn kind(&self) -> TransportKind;

    /// The call or command a change makes, as the journal and the dry run
    /// print it (secrets masked).
    fn describe(&self, change: &Change<'_>) -> String;

    /// Makes the change and waits until the host reports it finished
    /// (tasks are waited for; a guest shutdown is only requested: the
    /// engine waits for the power state).
    fn apply(&mut self, change: &Change<'_>) -> Result<Outcome, TransportError>;

    /// Reads the host's state.
    fn observe(&mut self) -> Result<HostState, TransportError>;

    /// Collects the host's facts, as `esxup collect` does (for the check).
    fn facts(&mut self) -> Result<HostFacts, TransportError>;

    /// The installed VIBs (`esxcli software vib list`), for esxup's own
    /// simulation of the image update.
    fn installed_vibs(&mut self) -> Result<Vec<InstalledVib>, TransportError> {
        Err(TransportError::Unsupported {
            op: "list installed VIBs".into(),
            transport: self.kind().name(),
            why: "the vSphere API does not list VIBs".into(),
        })
    }

    /// The sha256 of `/vmfs/volumes/<datastore>/esxup/<name>` on the host,
    /// `None` when the file does not exist.
    fn remote_sha256(&mut self, datastore: &str, name: &str) -> Result<Option<String>, TransportError>;

    /// ghettoVCB is installed on the host.
    fn ghettovcb_installed(&mut self) -> Result<bool, TransportError> {
        Err(TransportError::Unsupported {
            op: "look for ghettoVCB".into(),
            transport: self.kind().name(),
            why: "ghettoVCB is a shell script: it runs in the ESXi Shell".into(),
        })
    }

    /// Drops the connection and connects again (after a reboot).
    fn reconnect(&mut self) -> Result<(), TransportError>;
}

/// The host path of a file `bundle-upload` puts on a datastore.
pub fn datastore_path(datastore: &str, name: &str) -> String {
    format!("/vmfs/volumes/{datastore}/esxup/{name}")
}
