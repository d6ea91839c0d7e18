//! `esxup build`, `esxup releases`, `esxup advisories`, `esxup kb-lint`:
//! the knowledge-base commands.
//!
//! `build` answers "what exactly do I run?" for anything an admin pastes;
//! `releases` lists the catalog; `advisories` lists exposures with their
//! fixed builds; `kb-lint` applies the strict data rules to a folder.
//! Each output is a typed report of `esxup_kb::report`, rendered by
//! `esxup_render::kb` (text) or `esxup_render::json`.

use crate::cli::Global;
use crate::cmd::out;
use crate::cmd::{hinted, EXIT_FINDINGS, EXIT_OK};
use anyhow::Context;
use esxup_kb::report::{AdvisoriesReport, BuildReport, LintReport, ReleasesReport};
use esxup_kb::{Kb, ResolveError, Resolved};
use esxup_version::{Branch, Date};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

/// Output format of a data command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// Identify a build. Exit codes: 0 identified (also when it is exposed to
/// advisories: use `esxup advisories` for a findings exit code), 2 unknown
/// build or unreadable input. Inconsistent input (a version that does not
/// match the build) is reported on stderr and in the JSON `inconsistencies`.
/// The lifecycle status is for today (UTC); `ESXUP_TODAY=YYYY-MM-DD` fixes the day.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 identified (even when exposed to advisories; see `esxup advisories`), \
2 unknown build or unreadable input. Inconsistent input is reported as warnings on stderr and in the \
JSON `inconsistencies`. Lifecycle status is for today (UTC); ESXUP_TODAY=YYYY-MM-DD fixes the day."
)]
pub struct BuildArgs {
    /// A build number, version, release name, image profile or pasted `esxcli system version get`
    /// / `vmware -vl` output; `-` or nothing reads standard input.
    pub query: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// List the release catalog, oldest first.
#[derive(Debug, clap::Args)]
pub struct ReleasesArgs {
    /// Only this branch (`7.0`).
    #[arg(long)]
    pub branch: Option<Branch>,
    /// Only releases published on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<Date>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// List the advisories a build is exposed to, with the first fixed build of
/// its branch. Exit codes: 0 not exposed to any known advisory (the output
/// says so when no advisory covers the branch at all), 1 exposed, 2 unknown
/// build or unreadable input.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 not exposed to any advisory in the knowledge base (or none covers the \
branch: the output says so), 1 exposed, 2 unknown build or unreadable input."
)]
pub struct AdvisoriesArgs {
    /// Same forms as `esxup build`; `-` or nothing reads standard input.
    pub query: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Lint knowledge-base data (the built-in data, `--kb DIR`, or DIR).
/// Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 unreadable.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 folder unreadable. \
The rules are listed in data/README.md.")]
pub struct KbLintArgs {
    /// Folder of the `data/` layout; default: `--kb`, else the built-in data.
    pub dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The knowledge base of this run: `--kb DIR` (or `ESXUP_KB`) when given,
/// else the active data ([`super::kb::default_data`]: the user data
/// directory, else the built-in one), with the data-age warning. Other
/// commands use this too.
pub fn kb(g: &Global) -> anyhow::Result<&'static Kb> {
    match &g.kb {
        Some(dir) => {
            let kb = Kb::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load knowledge base {}: {e}", dir.display()),
                    "check the folder with `esxup kb-lint DIR`, or drop --kb to use the built-in data",
                )
            })?;
            Ok(Box::leak(Box::new(kb)))
        }
        None => {
            let a = super::kb::default_data()?;
            super::kb::warn_age(g, a.kb, a.source);
            Ok(a.kb)
        }
    }
}

/// Today, or `ESXUP_TODAY=YYYY-MM-DD` for reproducible output.
pub fn today() -> anyhow::Result<Date> {
    match std::env::var("ESXUP_TODAY") {
        Ok(s) if !s.trim().is_empty() => s.parse().with_context(|| format!("read ESXUP_TODAY={s:?}")),
        _ => Ok(Date::today()),
    }
}

/// The query from the arguments, or from standard input for `-` / nothing.
fn read_query(args: &[String]) -> anyhow::Result<String> {
    if !args.is_empty() && args != ["-"] {
        return Ok(args.join(" "));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(hinted(
            "no build given",
            "give a build (`esxup build 17700523`) or pipe `esxcli system version get` into `esxup build -`",
        ));
    }
    // Bounded: a pasted output is small, and stdin may be endless.
    let max = esxup_version::query::MAX_QUERY_BYTES;
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .context("read the query from standard input")?;
    if bytes.len() > max {
        return Err(hinted(
            format!("standard input is longer than {max} bytes"),
            "pipe only the output of `esxcli system version get` (or `vmware -vl`)",
        ));
    }
    let s = super::input::text_from_bytes(bytes, "standard input")?;
    if s.trim().is_empty() {
        return Err(hinted("standard input is empty", "paste the output of `esxcli system version get`"));
    }
    Ok(s)
}

fn resolve<'k>(kb: &'k Kb, query: &str) -> anyhow::Result<Resolved<'k>> {
    kb.resolve_str(query).map_err(|e| {
        let advice;
        let hint: &str = match &e {
            ResolveError::Unknown { build, likely_branch, .. } => {
                advice = kb.unknown_build(*build, *likely_branch).advice();
                &advice
            }
            ResolveError::Ambiguous { .. } => "give the build number (`vmware -v` on the host prints it)",
            ResolveError::NotFound { .. } => "list known releases with `esxup releases --branch X.Y`",
            ResolveError::Parse(_) => {
                "give a build number (17700523), a version (7.0U3g) or the output of `esxcli system version get`"
            }
        };
        hinted(format!("identify {:?}: {e}", one_line(query)), hint)
    })
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

fn warn_inconsistencies(r: &Resolved<'_>) {
    for i in &r.inconsistencies {
        eprintln!("warning: inconsistent input: {i}");
    }
}

pub fn run_build(g: &Global, a: BuildArgs) -> anyhow::Result<u8> {
    let query = read_query(&a.query)?;
    let kb = kb(g)?;
    let today = today()?;
    let res = resolve(kb, &query)?;
    warn_inconsistencies(&res);
    out::emit(a.format, &BuildReport::new(kb, &res, today), esxup_render::kb::render_build)?;
    Ok(EXIT_OK)
}

pub fn run_releases(g: &Global, a: ReleasesArgs) -> anyhow::Result<u8> {
    let kb = kb(g)?;
    if let Some(b) = a.branch {
        if kb.branch_releases(b).next().is_none() {
            let known: Vec<String> = kb.branches().iter().map(ToString::to_string).collect();
            return Err(hinted(
                format!("list releases of {b}: no such branch"),
                format!("known branches: {}", known.join(", ")),
            ));
        }
    }
    out::emit(a.format, &ReleasesReport::new(kb, a.branch, a.since), esxup_render::kb::render_releases)?;
    Ok(EXIT_OK)
}

pub fn run_advisories(g: &Global, a: AdvisoriesArgs) -> anyhow::Result<u8> {
    let query = read_query(&a.query)?;
    let kb = kb(g)?;
    let res = resolve(kb, &query)?;
    warn_inconsistencies(&res);
    let report = AdvisoriesReport::new(kb, &res);
    out::emit(a.format, &report, esxup_render::kb::render_advisories)?;
    Ok(if report.exposed { EXIT_FINDINGS } else { EXIT_OK })
}

pub fn run_kb_lint(g: &Global, a: KbLintArgs) -> anyhow::Result<u8> {
    let (what, problems) = match a.dir.as_ref().or(g.kb.as_ref()) {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(hinted(
                    format!("lint knowledge base {}: not a directory", dir.display()),
                    "give a folder of the data/ layout (releases/, advisories/, lifecycle.toml, ...)",
                ));
            }
            (dir.display().to_string(), esxup_kb::lint(dir))
        }
        None => ("built-in knowledge base".to_string(), esxup_kb::lint_embedded()),
    };
    let report = LintReport::new(what.clone(), problems);
    out::emit(a.format, &report, esxup_render::kb::render_lint)?;
    eprintln!("kb-lint {what}: {} error(s), {} warning(s)", report.errors, report.warnings);
    let errors = report.errors;
    Ok(if errors > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
