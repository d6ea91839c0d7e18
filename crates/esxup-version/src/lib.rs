//! ESXi versions as admins write them, and the orders VMware uses to compare them.
//!
//! This crate is pure (no I/O) and is the one owner of version semantics in
//! esxup: the knowledge base, the depot engine and the checks all use it.
//!
//! - [`Date`]: a calendar date (`YYYY-MM-DD`), the unit of release dates and
//!   lifecycle milestones.
//! - [`Branch`] (`7.0`) and [`Version`] (`7.0.3`), with [`MoveKind`] to tell an
//!   update (same x.y) from an upgrade (x.y changes), as VMware does.
//! - [`query`]: parsing of everything admins paste (build numbers, `7.0U3g`,
//!   `esxcli system version get` output, image profile names, ...).
//! - [`vib`]: VIB version order exactly as VMware's esximage sorts it.

mod date;
pub mod query;
mod version;
pub mod vib;

pub use date::{Date, DateError};
pub use query::{parse_query, patch_ref_in, update_agrees, ParsedQuery, PatchRef, QueryError};
pub use version::{Branch, MoveKind, Version, VersionError};
