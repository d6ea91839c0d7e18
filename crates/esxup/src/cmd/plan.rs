//! `esxup plan`: the upgrade runbook for one host, built on `esxup check`.
//!
//! OWNER: the plan helper (issue 6).
//!
//! Exit codes: 0 the plan is for a ready host (warnings allowed), 1 the
//! requested target is blocked (the plan is still written, with the way
//! out), 2 error (bad facts, unknown target, unreachable host).

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
#[command(group(clap::ArgGroup::new("input").args(["facts", "example", "host"])))]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: InputArgs,
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
                "collect them with `esxup collect --host URL --out-dir DIR`, then `esxup plan --facts DIR/<host>.json`",
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
    let facts = load_facts(&a)?;
    let (kb, tables) = input::load_kb(g, For::Plan)?;
    let today = input::today()?;
    // An unknown target is an error (exit 2) before anything else is read.
    let resolved = a.input.resolve_target(kb, &spec)?;
    // Any depot `check` reads (folder, zip, VIB-id list, http(s) URL, the
    // latter through the on-disk cache) stands for the target image here too.
    let image = match (&a.input.depot, &resolved) {
        (Some(d), Some(t)) => Some(
            input::load_image(d, a.input.profile.as_deref(), Some(t.release.build), For::Plan)?
                .for_host(&facts),
        ),
        _ => None,
    };
    let report = esxup_check::check_with(kb, tables, &facts, &spec, image.as_ref(), today)
        .map_err(|e| hinted(e.to_string(), "see `esxup check --help`"))?;
    // A VIB-id list stands for the target image in the check only; the
    // esxcli commands need a real depot.
    let depot_for_commands = match (&a.input.depot, &image) {
        (Some(d), Some(img))
            if img.source == *d && !d.ends_with(".zip") && !d.ends_with(".xml") && !d.contains("://") =>
        {
            None
        }
        (d, _) => d.clone(),
    };
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
