//! `esxup depot ...` and `esxup vib ...`.
//!
//! OWNER: the depot helper (issue 4).

use crate::cli::Global;

#[derive(Debug, clap::Subcommand)]
pub enum DepotCommand {
    /// List bulletins, components and profiles of a depot.
    Ls { depot: String },
}
#[derive(Debug, clap::Subcommand)]
pub enum VibCommand {
    /// Show a VIB's descriptor and payloads.
    Show { file: std::path::PathBuf },
}

pub fn run_depot(_g: &Global, _c: DepotCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn run_vib(_g: &Global, _c: VibCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
