//! `esxup check`: readiness of one host (or a folder of facts files) for a
//! target release.
//!
//! OWNER: the checks helper (issue 5).
//!
//! Exit codes: 0 ready (warnings allowed), 1 a blocker was found (fleet: a
//! host is blocked, or could not be read, collected or checked: its line
//! says why, and the others are still checked), 2 error (bad facts, unknown
//! target, unreadable depot; fleet: no host could be listed at all).

use super::collect_vim::{collect_vim, VimOutcome};
use super::input::{self, For, InputArgs, LoadedImage};
use super::{hinted, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::{CheckReport, FleetHost, FleetReport, FleetRow, FleetSummary, TargetSpec, Verdict};
use esxup_kb::tables::Tables;
use esxup_kb::Kb;
use esxup_version::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Md,
    /// Fleet only: one JSON object (the fleet row) per host and line.
    Jsonl,
}

/// How much a fleet's JSON holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Detail {
    /// One row per host (the columns of `esxup report`) and the totals.
    Summary,
    /// Every host's whole check report.
    Full,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").args(["facts", "example", "facts_dir", "inventory", "host"])))]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// A fleet: one summary line per host plus totals.
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Fleet JSON: one row per host (`summary`) or every whole report (`full`).
    #[arg(long, value_enum, default_value_t = Detail::Summary)]
    pub detail: Detail,
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
        Format::Json | Format::Jsonl => esxup_render::json::to_json(r),
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
    let image = a.input.target_image(resolved.as_ref(), For::Check)?;
    if let Some(fleet) = super::fleet::load(&a.fleet, &a.vim, !g.quiet)? {
        return run_fleet(kb, tables, &fleet, &spec, image.as_ref(), today, &a, !g.quiet);
    }
    if a.format == Format::Jsonl {
        return Err(hinted(
            "--format jsonl is for fleets",
            "give --facts-dir DIR or --inventory FILE, or use --format json",
        ));
    }
    let facts = if let Some(p) = &a.input.facts {
        input::read_facts(p)?
    } else if let Some(name) = &a.input.example {
        input::example(name, For::Check)?
    } else if a.vim.host.is_some() {
        match collect_vim(&a.vim.to_vim_args()) {
            Some(Ok(VimOutcome::Facts(mut v))) if v.len() == 1 => v.remove(0),
            // A vCenter: every host it manages, as a fleet.
            Some(Ok(VimOutcome::Facts(v))) if v.len() > 1 => {
                let fleet = super::fleet::from_collected(v);
                return run_fleet(kb, tables, &fleet, &spec, image.as_ref(), today, &a, !g.quiet);
            }
            Some(Ok(VimOutcome::Facts(_))) | Some(Ok(VimOutcome::Done(_))) => {
                return Err(hinted(
                    "check --host: the server reported no host",
                    "check the user's permissions on the vCenter inventory",
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

/// Prints a fleet check: every host of `fleet` against the target.
#[allow(clippy::too_many_arguments)]
fn run_fleet(
    kb: &Kb,
    tables: &Tables,
    fleet: &super::fleet::Fleet,
    spec: &TargetSpec,
    image: Option<&LoadedImage>,
    today: Date,
    a: &CheckArgs,
    progress: bool,
) -> anyhow::Result<u8> {
    use super::fleet::{check_all, CheckCtx, Checked};
    // Markdown and the full JSON need every host's whole report; the table,
    // the summary JSON and JSON Lines only the rows.
    let full = a.format == Format::Md || (a.format == Format::Json && a.detail == Detail::Full);
    // Only the full JSON prints the recommendation: elsewhere it is not computed.
    let opts = esxup_check::CheckOptions { recommend: a.detail == Detail::Full && a.format == Format::Json };
    let cx = CheckCtx { kb, tables, spec, image, today, opts, progress };
    let keep = |c: Checked| -> (Option<FleetHost>, FleetRow) {
        match c.result {
            Ok((facts, r)) => {
                let row = FleetRow::of(&c.file, &c.name, &facts, &r);
                let host = full.then(|| FleetHost {
                    file: c.file,
                    name: c.name,
                    report: Some(Box::new(r)),
                    error: None,
                });
                (host, row)
            }
            Err(e) => (
                Some(FleetHost {
                    file: c.file.clone(),
                    name: c.name.clone(),
                    report: None,
                    error: Some(e.clone()),
                }),
                FleetRow::failed(&c.file, &c.name, &e),
            ),
        }
    };
    let dup = |file: &str, name: &str, e: String| {
        (
            Some(FleetHost { file: file.into(), name: name.into(), report: None, error: Some(e.clone()) }),
            FleetRow::failed(file, name, &e),
        )
    };
    let done = check_all(&cx, fleet, a.fleet.jobs, &keep, &dup);
    let lang = a.input.lang();
    let (hosts, rows): (Vec<Option<FleetHost>>, Vec<FleetRow>) = done.into_iter().map(|(_, t)| t).unzip();
    let totals = esxup_check::fleet::totals(&rows);
    let text = match (a.format, a.detail) {
        (Format::Table, _) => esxup_render::check::render_fleet_table(&rows, lang),
        (Format::Md, _) | (Format::Json, Detail::Full) => {
            let report = FleetReport::new(hosts.into_iter().flatten().collect());
            match a.format {
                Format::Md => esxup_render::check::render_fleet_md(&report, lang),
                _ => esxup_render::json::to_json(&report),
            }
        }
        (Format::Json, Detail::Summary) => esxup_render::json::to_json(&FleetSummary::new(rows)),
        (Format::Jsonl, _) => {
            let mut o = String::new();
            for r in &rows {
                o.push_str(&serde_json::to_string(r).context("write a JSON line")?);
                o.push('\n');
            }
            o
        }
    };
    super::out::write_stdout(&text)?;
    Ok(fleet_exit(&totals))
}

/// Exit code of a fleet: 1 when any host is blocked or failed, else 0.
fn fleet_exit(t: &esxup_check::FleetTotals) -> u8 {
    if t.errors > 0 || t.blocked > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
