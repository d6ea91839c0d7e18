//! `esxup plan`.
//!
//! OWNER: the plan helper (issue 6).

use crate::cli::Global;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {}

pub fn run_plan(_g: &Global, _a: PlanArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
