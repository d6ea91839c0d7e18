//! `esxup check`.
//!
//! OWNER: the checks helper (issue 5).

use crate::cli::Global;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run_check(_g: &Global, _a: CheckArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
