//! `esxup collect` and `esxup facts`.
//!
//! OWNER: the collectors helpers (issue 3).

use crate::cli::Global;

#[derive(Debug, clap::Args)]
pub struct CollectArgs {}

#[derive(Debug, clap::Subcommand)]
pub enum FactsCommand {
    /// Print a readable summary of a facts file.
    Show { file: std::path::PathBuf },
}

pub fn run_collect(_g: &Global, _a: CollectArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn run_facts(_g: &Global, _c: FactsCommand) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
