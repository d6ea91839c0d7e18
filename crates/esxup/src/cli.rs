//! The command line, as clap derive types. Each command's arguments live
//! next to its implementation in `cmd/`; this module only lists them.

use crate::cmd;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Safe and boring VMware ESXi upgrades.
#[derive(Debug, Parser)]
#[command(name = "esxup", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Use the knowledge base in DIR instead of the active one (the user
    /// data directory of `esxup kb update`, else the one built into esxup).
    #[arg(long, global = true, value_name = "DIR", env = "ESXUP_KB")]
    pub kb: Option<PathBuf>,
    /// No progress bars on stderr (fleet collection, check, report and plan
    /// draw one when stderr is a terminal; never otherwise), and no warning
    /// that the knowledge base is older than 120 days.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Identify a build: release, bulletin, date, profiles, lifecycle, advisories.
    Build(cmd::build::BuildArgs),
    /// List the release catalog.
    Releases(cmd::build::ReleasesArgs),
    /// List the advisories a build is exposed to, with fixed builds.
    Advisories(cmd::build::AdvisoriesArgs),
    /// Collect host facts (vSphere API, SSH, saved outputs, fleet).
    Collect(cmd::collect::CollectArgs),
    /// Work with facts files.
    #[command(subcommand)]
    Facts(cmd::collect::FactsCommand),
    /// Read depots and offline bundles; simulate image changes.
    #[command(subcommand)]
    Depot(cmd::depot::DepotCommand),
    /// Inspect a VIB file.
    #[command(subcommand)]
    Vib(cmd::depot::VibCommand),
    /// Check a host's readiness for a target release.
    Check(cmd::check::CheckArgs),
    /// Write the upgrade runbook for a host.
    Plan(cmd::plan::PlanArgs),
    // The help of report is its Args struct's doc (exit codes).
    Report(Box<cmd::report::ReportArgs>),
    // The help of run and verify is their Args struct's doc (exit codes).
    Run(Box<cmd::run::RunArgs>),
    /// Read a run journal.
    #[command(subcommand)]
    Journal(cmd::run::JournalCommand),
    Verify(cmd::run::VerifyArgs),
    /// Read an ESXi installer ISO.
    #[command(subcommand)]
    Iso(cmd::media::IsoCommand),
    // The help of media is its Args struct's doc (exit codes).
    Media(Box<cmd::media::MediaArgs>),
    /// The knowledge-base data: status, lint, update, export.
    #[command(subcommand)]
    Kb(cmd::kb::KbCommand),
    /// Lint knowledge-base data files (strict); also `esxup kb lint`.
    #[command(name = "kb-lint")]
    KbLint(cmd::build::KbLintArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(cmd::meta::CompletionsArgs),
    /// Print the man page, or write one per command with -o DIR.
    Man(cmd::meta::ManArgs),
}
