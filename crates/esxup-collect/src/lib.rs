//! Collectors of [`esxup_facts::HostFacts`]: the vSphere API (`vim`), SSH
//! `esxcli` (`ssh`), saved command outputs (`files`), `vm-support` bundles
//! (`vmsupport`), RVTools exports (`rvtools`) and whole fleets (`fleet`).
//!
//! The SSH, folder and bundle collectors share one command list
//! ([`commands::COMMANDS`]) and one assembler ([`commands::collect`]): they
//! only differ in where an output comes from ([`commands::Source`]).

pub mod commands;
pub mod error;
pub mod files;
pub mod fleet;
pub mod rvtools;
pub mod ssh;
pub mod vim;
pub mod vmsupport;

pub use commands::{collect, Collection, Source};
pub use error::CollectError;
