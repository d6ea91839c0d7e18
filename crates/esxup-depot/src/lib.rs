//! Depot, offline bundle and VIB readers; esxcli transaction simulation; image diff.
//!
//! - [`Depot::open`]: an offline bundle zip, an extracted depot folder or an
//!   online depot URL, read into VIBs, bulletins, components and profiles.
//! - [`VibFile`]: a `.vib` (`ar` container, descriptor, payload checksums,
//!   the `sig.pkcs7` signature checked against the descriptor: [`inspect_signature`]).
//! - [`HostImage`]: a host's installed VIBs (facts, `esxcli software vib
//!   list`, or a profile).
//! - [`simulate`]: `esxcli software profile update/install --dry-run`,
//!   explained ([`dry_run`]: the same, reasons rendered on demand);
//!   [`backwards_vibs`]: VIBs an image would take back in time.
//! - [`driver_readiness`]: devices without a native driver in the target.
//! - [`diff_profiles`]: Compare-EsxImageProfile and more.
//! - [`broadcom`]: `broadcom:` and Broadcom's download-token URLs, the
//!   token kept out of every message, label and cache path.

pub mod broadcom;
mod depot;
mod diff;
mod error;
mod fasthash;
mod host;
pub mod iso;
mod minixml;
mod model;
mod readiness;
pub mod report;
mod signature;
mod simulate;
mod snapshot;
mod store;
mod vibfile;
pub mod xml;

pub use depot::{Depot, ISO_METADATA};
pub use diff::{diff_profiles, ProfileDiff, VersionChange};
pub use error::DepotError;
pub use esxup_version::vib::{Constraint, Relation, VibVersion};
pub use host::{HostImage, HostVib};
pub use model::*;
pub use readiness::{driver_readiness, pciid_matches, DeviceReadiness, DeviceRole, Readiness};
pub use signature::{
    inspect as inspect_signature, CertificateInfo, SignatureReport, SignerReport, Verification,
    MAX_SIGNATURE_BYTES,
};
pub use simulate::{
    backwards_vibs, dry_run, simulate, simulate_many, Decision, DryRun, Mode, Problem, ProblemKind,
    Transaction, TxOptions,
};
pub use store::{fetch_https, DownloadProgress, FetchOutcome, OpenOptions, Progress, ProgressReader};
pub use vibfile::{
    ar_members, verify_against_metadata, ArMember, PayloadCheck, VibCheck, VibCheckStatus, VibFile,
    VibSignature,
};

/// A set of VIBs installed on a host (alias used by the checks).
pub type VibSet = HostImage;
