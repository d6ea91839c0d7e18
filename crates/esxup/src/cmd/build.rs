//! `esxup build`, `esxup releases`, `esxup advisories`, `esxup kb-lint`.
//!
//! OWNER: the knowledge-base helper (issue 2).

use crate::cli::Global;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// A build number, version, release name, image profile or pasted `esxcli system version get` output.
    pub query: Vec<String>,
}
#[derive(Debug, clap::Args)]
pub struct ReleasesArgs {}
#[derive(Debug, clap::Args)]
pub struct AdvisoriesArgs {}
#[derive(Debug, clap::Args)]
pub struct KbLintArgs {}

pub fn run_build(_g: &Global, _a: BuildArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn run_releases(_g: &Global, _a: ReleasesArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn run_advisories(_g: &Global, _a: AdvisoriesArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn run_kb_lint(_g: &Global, _a: KbLintArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
