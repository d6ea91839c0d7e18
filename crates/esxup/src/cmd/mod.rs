//! Command implementations: one module per command group, each owning its
//! clap `Args` and a `run` returning the process exit code.

pub mod broadcom;
pub mod build;
pub mod check;
pub mod collect;
pub mod collect_vim;
pub mod depot;
pub mod fleet;
pub mod input;
pub mod kb;
pub mod media;
pub mod meta;
pub mod out;
pub mod plan;
pub mod report;
pub mod run;
pub mod run_fleet;

use crate::cli::{Cli, Command};

/// Everything went fine (for `check`: the host is ready).
pub const EXIT_OK: u8 = 0;
/// The command worked and found something: a blocker, an exposure, a failed dry run.
pub const EXIT_FINDINGS: u8 = 1;
/// The command could not do its job: bad input, unknown build, unreachable host.
pub const EXIT_ERROR: u8 = 2;

/// An error with a `hint:` line for the user (see docs/STYLE.md).
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// A [`Hinted`] error that keeps the error it explains as its cause, so
/// that `main` prints the chain (`caused by:`) under the message.
#[derive(Debug)]
pub struct HintedWithCause {
    pub hinted: Hinted,
    pub cause: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for HintedWithCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hinted.message)
    }
}

impl std::error::Error for HintedWithCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.cause.as_ref())
    }
}

/// The hint of an error, whichever of the two hinted forms it is.
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    err.downcast_ref::<Hinted>()
        .map(|h| h.hint.as_str())
        .or_else(|| err.downcast_ref::<HintedWithCause>().map(|h| h.hinted.hint.as_str()))
}

/// Shorthand for an error carrying a hint.
pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted { message: message.into(), hint: hint.into() })
}

pub fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    out::set_quiet(g.quiet);
    match cli.command {
        Command::Build(a) => build::run_build(g, a),
        Command::Releases(a) => build::run_releases(g, a),
        Command::Advisories(a) => build::run_advisories(g, a),
        Command::KbLint(a) => build::run_kb_lint(g, a),
        Command::Kb(c) => kb::run_kb(g, c),
        Command::Collect(a) => collect::run_collect(g, a),
        Command::Facts(c) => collect::run_facts(g, c),
        Command::Depot(c) => depot::run_depot(g, c),
        Command::Vib(c) => depot::run_vib(g, c),
        Command::Check(a) => check::run_check(g, a),
        Command::Plan(a) => plan::run_plan(g, a),
        Command::Report(a) => report::run_report(g, *a),
        Command::Completions(a) => meta::run_completions(a),
        Command::Man(a) => meta::run_man(a),
        Command::Run(a) => run::run_run(g, *a),
        Command::Journal(c) => run::run_journal(g, c),
        Command::Verify(a) => run::run_verify(g, a),
        Command::Iso(c) => media::run_iso(g, c),
        Command::Media(a) => media::run_media(g, *a),
    }
}
