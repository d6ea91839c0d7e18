//! `esxup plan`: the upgrade runbook for one host, built on `esxup check`.
//!
//! OWNER: the plan helper (issue 6).
//!
//! Exit codes: 0 the plan is for a ready host (warnings allowed), 1 the
//! requested target is blocked (the plan is still written, with the way
//! out; fleet: a host is blocked or has no runbook, and `index.md` says
//! why), 2 error (bad facts, unknown target, unreachable host; fleet: no
//! host could be listed).

use super::input::{self, For, InputArgs};
use super::{hinted, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::TargetSpec;
use esxup_facts::HostFacts;
use esxup_plan::PlanStatus;
use esxup_render::plan::PlanFormat;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").args(["facts", "example", "host", "facts_dir", "inventory"])))]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// A fleet: one runbook per host into --out-dir, plus an index.
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// Write one runbook per host (`<host>.md`, `.html` or `.json`) and
    /// `index.md` into DIR (fleet inputs, or a vCenter's hosts).
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub out_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_name = "md|html|json", default_value = "md")]
    pub format: PlanFormat,
    /// Write the runbook to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Collect the facts over the vSphere API (same options as `esxup collect --host`).
    #[command(flatten)]
    pub vim: input::HostArgs,
}

fn load_facts(a: &PlanArgs) -> anyhow::Result<HostFacts> {
    if let Some(p) = &a.input.facts {
        return input::read_facts(p);
    }
    if let Some(n) = &a.input.example {
        return input::example(n, For::Plan);
    }
    if a.vim.host.is_some() {
        return match super::collect_vim::collect_vim(&a.vim.to_vim_args()) {
            Some(Ok(super::collect_vim::VimOutcome::Facts(mut v))) if v.len() == 1 => Ok(v.remove(0)),
            Some(Ok(super::collect_vim::VimOutcome::Facts(v))) => Err(hinted(
                format!("plan: the server manages {} hosts", v.len()),
                "write one runbook per host with --out-dir DIR",
            )),
            Some(Ok(super::collect_vim::VimOutcome::Done(_))) | None => {
                Err(hinted("plan: no facts were collected", "use --facts FILE or --example NAME"))
            }
            Some(Err(e)) => Err(e),
        };
    }
    Err(hinted("plan: no host given", "use --facts FILE, --example seed or --host URL"))
}

pub fn run_plan(g: &Global, mut a: PlanArgs) -> anyhow::Result<u8> {
    if let Some(list) = input::example_list(&a.input, For::Plan)? {
        super::out::write_stdout(&list)?;
        return Ok(EXIT_OK);
    }
    a.input.take_iso()?;
    let lang = a.input.lang();
    let spec: TargetSpec = a.input.target_text()?.parse().map_err(|e: esxup_check::TargetSpecError| {
        hinted(e.to_string(), "e.g. --target 7.0U3g, --target latest-8.0 or --target auto")
    })?;
    if a.out_dir.is_some() || a.fleet.facts_dir.is_some() || a.fleet.inventory.is_some() {
        return run_fleet(g, &a, &spec);
    }
    let facts = load_facts(&a)?;
    let (kb, tables) = input::load_kb(g, For::Plan)?;
    let today = input::today()?;
    // An unknown target is an error (exit 2) before anything else is read.
    let resolved = a.input.resolve_target(kb, &spec)?;
    // Any depot `check` reads (folder, zip, VIB-id list, http(s) URL, the
    // latter through the on-disk cache) stands for the target image here too.
    // With `--target auto` the plan's target is known only after the
    // check: no depot image then.
    let image = match &resolved {
        Some(t) => a.input.target_image(Some(t), For::Plan)?.map(|i| i.for_host(&facts)),
        None => None,
    };
    let report = esxup_check::check_with(kb, tables, &facts, &spec, image.as_ref(), today)
        .map_err(|e| hinted(e.to_string(), "see `esxup check --help`"))?;
    let depot_for_commands = commands_depot(&a, image.as_ref());
    let input = esxup_plan::from_check::plan_input(&report, &facts, kb, depot_for_commands)?;
    let plan = esxup_plan::build_plan(&input, lang);
    let text = esxup_render::plan::render(&plan, a.format);
    match &a.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("write plan {}", path.display()))?;
            eprintln!("{}: {}", path.display(), plan.status_text);
        }
        None => super::out::write_stdout_line(&text)?,
    }
    Ok(if plan.status == PlanStatus::Blocked { EXIT_FINDINGS } else { EXIT_OK })
}

/// The depot the runbook's esxcli commands name. A VIB-id list stands for
/// the target image in the check only; the esxcli commands need a real depot.
fn commands_depot(a: &PlanArgs, image: Option<&esxup_check::TargetImage>) -> Option<String> {
    match (&a.input.depot, image) {
        (Some(d), Some(img))
            if img.source == *d && !d.ends_with(".zip") && !d.ends_with(".xml") && !d.contains("://") =>
        {
            None
        }
        (d, _) => d.clone(),
    }
}

/// `plan` for a fleet: one runbook per host into `--out-dir`, and an
/// `index.md` listing each host's status (or why it has no runbook).
fn run_fleet(g: &Global, a: &PlanArgs, spec: &TargetSpec) -> anyhow::Result<u8> {
    use super::fleet::{check_all, CheckCtx, Checked};
    let Some(dir) = &a.out_dir else {
        return Err(hinted("plan: a fleet writes one runbook per host", "give --out-dir DIR"));
    };
    let lang = a.input.lang();
    let (kb, tables) = input::load_kb(g, For::Plan)?;
    let today = input::today()?;
    let resolved = a.input.resolve_target(kb, spec)?;
    let image = match &resolved {
        Some(t) => a.input.target_image(Some(t), For::Plan)?,
        None => None,
    };
    let fleet = match super::fleet::load(&a.fleet, &a.vim, !g.quiet)? {
        Some(f) => f,
        None => super::fleet::from_collected(load_facts_many(a)?),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("create output folder {}", dir.display()))?;
    let cx = CheckCtx {
        kb,
        tables,
        spec,
        image: image.as_ref(),
        today,
        opts: esxup_check::CheckOptions { recommend: true },
        progress: !g.quiet,
    };
    // Each host's runbook is built on the worker; only its text is kept.
    let keep = |c: Checked| -> (String, Result<(String, PlanStatus, String), String>) {
        let r = c.result.and_then(|(facts, report)| {
            let img = cx.image.map(|i| i.for_host(&facts));
            let depot = commands_depot(a, img.as_ref());
            let input = esxup_plan::from_check::plan_input(&report, &facts, kb, depot)
                .map_err(|e| format!("{e:#}"))?;
            let plan = esxup_plan::build_plan(&input, lang);
            Ok((esxup_render::plan::render(&plan, a.format), plan.status, plan.status_text))
        });
        (c.file, r)
    };
    let dup = |file: &str, _: &str, e: String| (file.to_string(), Err(e));
    let done = check_all(&cx, &fleet, a.fleet.jobs, &keep, &dup);
    let ext = match a.format {
        PlanFormat::Markdown => "md",
        PlanFormat::Html => "html",
        PlanFormat::Json => "json",
    };
    let mut index = String::from("# esxup plan: fleet\n\n| host | runbook | status |\n|---|---|---|\n");
    let mut used = std::collections::HashSet::new();
    let (mut failed, mut blocked) = (0usize, 0usize);
    for (name, (file, r)) in &done {
        let cell = |s: &str| esxup_render::check::md_escape(s).replace('\n', " ");
        match r {
            Ok((text, status, status_text)) => {
                let mut stem = esxup_collect::fleet::safe_stem(name);
                let mut n = 2;
                while !used.insert(stem.clone()) {
                    stem = format!("{}-{n}", esxup_collect::fleet::safe_stem(name));
                    n += 1;
                }
                let path = dir.join(format!("{stem}.{ext}"));
                esxup_run::journal::write_file_atomic(&path, text.as_bytes())
                    .with_context(|| format!("write plan {}", path.display()))?;
                if *status == PlanStatus::Blocked {
                    blocked += 1;
                }
                index.push_str(&format!(
                    "| {} | [{stem}.{ext}]({stem}.{ext}) | {} |\n",
                    cell(name),
                    cell(status_text)
                ));
            }
            Err(e) => {
                failed += 1;
                index.push_str(&format!("| {} | - | error: {} ({}) |\n", cell(name), cell(e), cell(file)));
            }
        }
    }
    let index_path = dir.join("index.md");
    esxup_run::journal::write_file_atomic(&index_path, index.as_bytes())
        .with_context(|| format!("write {}", index_path.display()))?;
    eprintln!(
        "wrote {} runbook(s) and {} ({blocked} blocked, {failed} without a runbook)",
        done.len() - failed,
        super::out::visible(&index_path.display().to_string())
    );
    Ok(if failed > 0 || blocked > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

/// The hosts of `--facts`, `--example` or `--host` (a vCenter gives many).
fn load_facts_many(a: &PlanArgs) -> anyhow::Result<Vec<HostFacts>> {
    if a.vim.host.is_some() && a.input.facts.is_none() && a.input.example.is_none() {
        return match super::collect_vim::collect_vim(&a.vim.to_vim_args()) {
            Some(Ok(super::collect_vim::VimOutcome::Facts(v))) if !v.is_empty() => Ok(v),
            Some(Err(e)) => Err(e.context("plan --host: collect facts")),
            _ => Err(hinted("plan --host: the server reported no host", "check the user's permissions")),
        };
    }
    Ok(vec![load_facts(a)?])
}
