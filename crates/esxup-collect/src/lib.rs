//! Collectors of [`esxup_facts::HostFacts`]: the vSphere API (`vim`), SSH
//! `esxcli` (`ssh`), saved command outputs (`files`), `vm-support` bundles
//! (`vmsupport`) and whole fleets (`fleet`).

pub mod files;
pub mod fleet;
pub mod ssh;
pub mod vim;
pub mod vmsupport;
