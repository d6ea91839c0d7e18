//! The vSphere-API and fleet parts of `esxup collect` (`--host`, `--inventory`).
//!
//! OWNER: the vSphere helper (issue 3, items 2, 3, 6). `cmd/collect.rs`
//! flattens [`VimArgs`] into `CollectArgs` and calls [`collect_vim`].

#[derive(Debug, clap::Args)]
pub struct VimArgs {}

/// Runs the API or fleet collection when the arguments ask for it; `None`
/// when they name another source.
pub fn collect_vim(_a: &VimArgs) -> Option<anyhow::Result<Vec<esxup_facts::HostFacts>>> {
    None
}
