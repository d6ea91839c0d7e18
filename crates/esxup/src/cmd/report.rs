//! `esxup report`: the fleet report. Every host of a facts folder, an
//! inventory or a vCenter is checked against the target, and the rows go
//! into one self-contained HTML page (sort, filter, drill-down, charts) or
//! a CSV / JSON / JSON Lines file or an Excel workbook (`xlsx`) with the
//! same columns.
//!
//! Exit codes: 0 the report was written and every host was checked, 1 the
//! report was written but some host could not be read, collected or
//! checked (its row says why), 2 nothing was written (no host listed,
//! unknown target, unreadable depot, unwritable output).

use super::fleet::{self, check_all, CheckCtx, Checked, FleetArgs};
use super::input::{self, For, HostArgs, InputArgs};
use super::{hinted, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::{FleetRow, TargetSpec};
use esxup_render::fleet::{FindingTable, FleetDoc, FleetEntry};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page: sortable, filterable table, drill-down per host, charts.
    Html,
    /// The table's columns, one line per host (RFC 4180, UTF-8).
    Csv,
    /// The rows as the compact fleet JSON of `esxup check --format json`.
    Json,
    /// One row per line.
    Jsonl,
    /// An Excel workbook with the CSV's columns and cells (needs -o FILE or a redirected stdout).
    Xlsx,
}

/// Write the fleet report: every host checked against a target, as one
/// HTML page that sorts, filters and opens each host's findings (no
/// network needed to view it), or as CSV/JSON/xlsx with the same columns.
///
/// Without `--target`, each host is checked against its best target
/// (`--target auto`).
///
/// Exit codes: 0 written, every host checked; 1 written, some host failed
/// (its row says why); 2 nothing written.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("hosts").required(true).args(["facts", "example", "facts_dir", "inventory", "host"])))]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Collect over the vSphere API: a vCenter gives every host it manages.
    #[command(flatten)]
    pub vim: HostArgs,
}

pub fn run_report(g: &Global, mut a: ReportArgs) -> anyhow::Result<u8> {
    if a.format == ReportFormat::Xlsx && a.output.is_none() && std::io::stdout().is_terminal() {
        return Err(hinted(
            "report --format xlsx: will not write a binary workbook to the terminal",
            "give -o fleet.xlsx, or redirect standard output to a file (> fleet.xlsx)",
        ));
    }
    a.input.take_iso()?;
    let target_text = match a.input.target_text() {
        Ok(t) => t.to_string(),
        Err(_) => "auto".to_string(),
    };
    let spec: TargetSpec = target_text.parse().map_err(|e: esxup_check::TargetSpecError| {
        hinted(e.to_string(), "e.g. --target 7.0U3g, --target latest-8.0 or --target auto")
    })?;
    let (kb, tables) = input::load_kb(g, For::Check)?;
    let today = input::today()?;
    let resolved = a.input.resolve_target(kb, &spec)?;
    let image = a.input.target_image(resolved.as_ref(), For::Check)?;
    let fleet = match fleet::load(&a.fleet, &a.vim, !g.quiet)? {
        Some(f) => f,
        None => {
            let facts = if let Some(p) = &a.input.facts {
                vec![input::read_facts(p)?]
            } else if let Some(n) = &a.input.example {
                vec![input::example(n, For::Check)?]
            } else {
                match super::collect_vim::collect_vim(&a.vim.to_vim_args()) {
                    Some(Ok(super::collect_vim::VimOutcome::Facts(v))) if !v.is_empty() => v,
                    Some(Err(e)) => return Err(e.context("report --host: collect facts")),
                    _ => return Err(hinted(
                        "report: no host to report on",
                        "give --facts-dir DIR, --inventory FILE, --host URL, --facts FILE or --example seed",
                    )),
                }
            };
            fleet::from_collected(facts)
        }
    };
    let lang = a.input.lang();
    let cx = CheckCtx {
        kb,
        tables,
        spec: &spec,
        image: image.as_ref(),
        today,
        opts: esxup_check::CheckOptions { recommend: false },
        progress: !g.quiet,
    };
    // Only the HTML shows findings (its drill-down): each is rendered once
    // into the shared table, and a host keeps its indexes. The other
    // formats keep rows only.
    let drill_down = a.format == ReportFormat::Html;
    let table = FindingTable::new(lang);
    let keep = |c: Checked| match c.result {
        Ok((facts, r)) => FleetEntry {
            row: FleetRow::of(&c.file, &c.name, &facts, &r),
            findings: if drill_down { table.add(&r.findings) } else { Vec::new() },
        },
        Err(e) => FleetEntry { row: FleetRow::failed(&c.file, &c.name, &e), findings: Vec::new() },
    };
    let dup = |file: &str, name: &str, e: String| FleetEntry {
        row: FleetRow::failed(file, name, &e),
        findings: Vec::new(),
    };
    let entries: Vec<FleetEntry> =
        check_all(&cx, &fleet, a.fleet.jobs, &keep, &dup).into_iter().map(|(_, e)| e).collect();
    let failed = entries.iter().filter(|e| e.row.error.is_some()).count();
    let target_name = resolved.as_ref().map(|t| t.release.name.clone()).unwrap_or(target_text);
    let bytes: Vec<u8> = match a.format {
        ReportFormat::Html => {
            let findings = table.into_json();
            let doc = FleetDoc {
                entries: &entries,
                findings: &findings,
                target: &target_name,
                today: &today.to_string(),
                lang,
            };
            esxup_render::fleet::html(&doc, env!("CARGO_PKG_VERSION")).into_bytes()
        }
        ReportFormat::Csv => {
            let rows: Vec<FleetRow> = entries.into_iter().map(|e| e.row).collect();
            esxup_render::fleet::csv(lang, &rows).into_bytes()
        }
        ReportFormat::Json => {
            let rows: Vec<FleetRow> = entries.into_iter().map(|e| e.row).collect();
            esxup_render::json::to_json(&esxup_check::FleetSummary::new(rows)).into_bytes()
        }
        ReportFormat::Jsonl => {
            let mut o = String::new();
            for e in &entries {
                o.push_str(&serde_json::to_string(&e.row).context("write a JSON line")?);
                o.push('\n');
            }
            o.into_bytes()
        }
        ReportFormat::Xlsx => {
            let rows: Vec<FleetRow> = entries.into_iter().map(|e| e.row).collect();
            esxup_render::fleet_xlsx::xlsx(lang, &rows)?
        }
    };
    match &a.output {
        Some(path) => {
            esxup_run::journal::write_file_atomic(path, &bytes)
                .with_context(|| format!("write report {}", path.display()))?;
            eprintln!("wrote {}", super::out::visible(&path.display().to_string()));
        }
        // A workbook is bytes, not text: written as it is.
        None if a.format == ReportFormat::Xlsx => {
            let mut o = std::io::stdout().lock();
            o.write_all(&bytes)
                .and_then(|()| o.flush())
                .map_err(|e| anyhow::Error::new(e).context("write to standard output"))?;
        }
        None => super::out::write_stdout(&String::from_utf8_lossy(&bytes))?,
    }
    if failed > 0 {
        eprintln!("warning: {failed} host(s) could not be checked: their rows say why");
    }
    Ok(if failed > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
