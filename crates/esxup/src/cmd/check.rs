//! `esxup check`: readiness of one host (or a folder of facts files) for a
//! target release.
//!
//! OWNER: the checks helper (issue 5).
//!
//! Exit codes: 0 ready (warnings allowed), 1 a blocker was found (fleet: on
//! any host), 2 error (bad facts, unknown target, unreadable depot).

use super::collect_vim::{collect_vim, VimOutcome};
use super::input::{self, For, InputArgs, LoadedImage};
use super::{hinted, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::{CheckReport, FleetHost, FleetReport, TargetSpec, Verdict};
use esxup_kb::tables::Tables;
use esxup_kb::Kb;
use esxup_version::Date;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Md,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").args(["facts", "example", "facts_dir"])))]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Check every `*.json` facts file in DIR: one summary line per host plus totals.
    #[arg(long, value_name = "DIR")]
    pub facts_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Threads for --facts-dir [default: available cores].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Collect from a live host over the vSphere API (`--host URL`, see `esxup collect --help`).
    #[command(flatten)]
    pub vim: input::HostArgs,
}

fn exit_for(r: &CheckReport) -> u8 {
    if r.verdict == Verdict::Blocked {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn print(r: &CheckReport, a: &CheckArgs) -> anyhow::Result<()> {
    let lang = a.input.lang();
    let text = match a.format {
        Format::Table => esxup_render::check::render_table(r, lang),
        Format::Json => esxup_render::json::to_json(r),
        Format::Md => esxup_render::check::render_md(r, lang),
    };
    super::out::write_stdout(&text)
}

pub fn run_check(g: &Global, mut a: CheckArgs) -> anyhow::Result<u8> {
    if let Some(list) = input::example_list(&a.input, For::Check)? {
        super::out::write_stdout(&list)?;
        return Ok(EXIT_OK);
    }
    a.input.take_iso()?;
    let spec: TargetSpec = a.input.target_text()?.parse().map_err(|e| {
        hinted(
            format!("{e}"),
            "examples: --target 7.0U3g, --target 20328353, --target latest-8.0, --target auto",
        )
    })?;
    let (kb, tables) = input::load_kb(g, For::Check)?;
    let today = input::today()?;
    // Resolve the target early so that an unknown target is an error (exit 2)
    // before any facts are read.
    let resolved = a.input.resolve_target(kb, &spec)?;
    let image = match &a.input.depot {
        Some(d) => Some(input::load_image(
            d,
            a.input.profile.as_deref(),
            resolved.as_ref().map(|t| t.release.build),
            For::Check,
        )?),
        None => None,
    };
    if let Some(dir) = &a.facts_dir {
        return run_fleet(kb, tables, dir, &spec, image.as_ref(), today, &a);
    }
    let facts = if let Some(p) = &a.input.facts {
        input::read_facts(p)?
    } else if let Some(name) = &a.input.example {
        input::example(name, For::Check)?
    } else if a.vim.host.is_some() {
        match collect_vim(&a.vim.to_vim_args()) {
            Some(Ok(VimOutcome::Facts(mut v))) if v.len() == 1 => v.remove(0),
            Some(Ok(VimOutcome::Facts(_))) | Some(Ok(VimOutcome::Done(_))) => {
                return Err(hinted(
                    "check --host: the collection did not return exactly one host",
                    "collect with `esxup collect --host URL -o facts.json`, then `esxup check --facts facts.json`",
                ))
            }
            Some(Err(e)) => return Err(e.context("check --host: collect facts")),
            None => {
                return Err(hinted(
                    "check --host: API collection is not available in this build",
                    "collect with `esxup collect`, then `esxup check --facts FILE`",
                ))
            }
        }
    } else {
        return Err(hinted(
            "check: no host given",
            "give --facts FILE, --example seed, --facts-dir DIR or --host URL",
        ));
    };
    let image = image.as_ref().map(|i| i.for_host(&facts));
    let report = esxup_check::check_with(kb, tables, &facts, &spec, image.as_ref(), today)
        .map_err(|e| hinted(e.to_string(), "see `esxup check --help`"))?;
    print(&report, &a)?;
    Ok(exit_for(&report))
}

/// One facts file's outcome in a fleet run.
enum Outcome {
    Report(Box<CheckReport>),
    Error(String),
}

fn check_file(
    kb: &Kb,
    tables: &Tables,
    path: &Path,
    spec: &TargetSpec,
    image: Option<&LoadedImage>,
    today: Date,
    opts: esxup_check::CheckOptions,
) -> Outcome {
    let facts = match input::read_facts(path) {
        Ok(f) => f,
        Err(e) => return Outcome::Error(format!("{e:#}")),
    };
    let image = image.map(|i| i.for_host(&facts));
    match esxup_check::check_with_options(kb, tables, &facts, spec, image.as_ref(), today, opts) {
        Ok(r) => Outcome::Report(Box::new(r)),
        Err(e) => Outcome::Error(format!("check {}: {e}", path.display())),
    }
}

fn run_fleet(
    kb: &Kb,
    tables: &Tables,
    dir: &Path,
    spec: &TargetSpec,
    image: Option<&LoadedImage>,
    today: Date,
    a: &CheckArgs,
) -> anyhow::Result<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read facts folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(hinted(
            format!("facts folder {} has no *.json files", dir.display()),
            "write facts with `esxup collect --out-dir DIR`",
        ));
    }
    let jobs =
        a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let chunk = files.len().div_ceil(jobs);
    // One line per host: the recommendation is not printed, so not computed.
    let opts = esxup_check::CheckOptions { recommend: a.format == Format::Json };
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(files.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|p| check_file(kb, tables, p, spec, image, today, opts))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(v) => outcomes.extend(v),
                Err(_) => outcomes.push(Outcome::Error("a worker thread panicked".into())),
            }
        }
    });
    let hosts: Vec<FleetHost> = files
        .iter()
        .zip(outcomes)
        .map(|(p, o)| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let file = p.display().to_string();
            match o {
                Outcome::Report(r) => {
                    let name = r.host.name.clone().unwrap_or(stem);
                    FleetHost { file, name, report: Some(r), error: None }
                }
                Outcome::Error(e) => FleetHost { file, name: stem, report: None, error: Some(e) },
            }
        })
        .collect();
    let fleet = FleetReport::new(hosts);
    let lang = a.input.lang();
    let text = match a.format {
        Format::Table => esxup_render::check::render_fleet_table(&fleet, lang),
        Format::Md => esxup_render::check::render_fleet_md(&fleet, lang),
        Format::Json => esxup_render::json::to_json(&fleet),
    };
    super::out::write_stdout(&text)?;
    let (errors, blocked) = (fleet.totals.errors, fleet.totals.blocked);
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if blocked > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
