//! `esxup plan`: the upgrade runbook for one host, built on `esxup check`.
//!
//! OWNER: the plan helper (issue 6).
//!
//! Exit codes: 0 the plan is for a ready host (warnings allowed), 1 the
//! requested target is blocked (the plan is still written, with the way
//! out), 2 error (bad facts, unknown target, unreachable host).

use super::{hinted, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::{TargetImage, TargetSpec};
use esxup_facts::HostFacts;
use esxup_i18n::Lang;
use esxup_kb::tables::Tables;
use esxup_plan::PlanStatus;
use esxup_render::plan::PlanFormat;
use esxup_version::Date;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Host facts file written by `esxup collect -o`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["example", "host"])]
    pub facts: Option<PathBuf>,
    /// A built-in example host (`seed`: ESXi 6.7 P06 with Secure Boot aiming at 7.0 U2a).
    #[arg(long, value_name = "NAME", conflicts_with = "host")]
    pub example: Option<String>,
    /// Target release: a build, `7.0U3g`, an image profile, `latest-7.0`, `latest-8.0` or `auto`.
    #[arg(long, value_name = "T")]
    pub target: String,
    /// Depot or offline bundle of the target (path or URL): checked like
    /// `esxup check --depot` and used in the esxcli commands of the plan.
    #[arg(long, value_name = "DEPOT")]
    pub depot: Option<String>,
    /// Image profile in the depot [default: the `-standard` one of the target build].
    #[arg(long, value_name = "NAME", requires = "depot")]
    pub profile: Option<String>,
    /// Language of the runbook [default: from LC_ALL / LC_MESSAGES / LANG].
    #[arg(long, value_name = "en|ja")]
    pub lang: Option<Lang>,
    /// Output format.
    #[arg(long, value_name = "md|html|json", default_value = "md")]
    pub format: PlanFormat,
    /// Write the runbook to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Collect the facts over the vSphere API (same options as `esxup collect --host`).
    #[command(flatten)]
    pub vim: super::collect_vim::VimArgs,
}

/// "Today" for lifecycle and ages: `ESXUP_TODAY` (tests, reproducible
/// output) or the system clock.
fn today() -> anyhow::Result<Date> {
    match std::env::var("ESXUP_TODAY") {
        Ok(s) if !s.trim().is_empty() => {
            s.trim().parse::<Date>().with_context(|| format!("read ESXUP_TODAY={s:?}"))
        }
        _ => Ok(Date::today()),
    }
}

fn load_facts(a: &PlanArgs) -> anyhow::Result<HostFacts> {
    if let Some(p) = &a.facts {
        return super::check::read_facts(p);
    }
    if let Some(n) = &a.example {
        return esxup_check::examples::get(n).ok_or_else(|| {
            hinted(
                format!("plan: unknown example {n:?}"),
                format!("built-in examples: {}", esxup_check::examples::names().join(", ")),
            )
        });
    }
    if a.vim.host.is_some() {
        if a.vim.inventory.is_some() || a.vim.out_dir.is_some() {
            return Err(hinted(
                "plan: --inventory/--out-dir collect many hosts",
                "plan one host: --host URL",
            ));
        }
        return match super::collect_vim::collect_vim(&a.vim) {
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

fn load_kb(g: &Global) -> anyhow::Result<(&'static esxup_kb::Kb, &'static Tables)> {
    match &g.kb {
        Some(dir) => {
            let kb = esxup_kb::Kb::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load knowledge base {}: {e}", dir.display()),
                    "check the folder with `esxup kb-lint DIR`",
                )
            })?;
            let tables = Tables::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load CPU/device tables from {}: {e}", dir.display()),
                    "the folder needs cpu.toml and devices.toml",
                )
            })?;
            // Loaded once per process run, like `esxup check` does.
            Ok((Box::leak(Box::new(kb)), Box::leak(Box::new(tables))))
        }
        None => Ok((
            esxup_kb::Kb::embedded().context("load the built-in knowledge base")?,
            Tables::embedded().context("load the built-in CPU/device tables")?,
        )),
    }
}

/// The target image: a text file of VIB ids (one per line, as `esxup check
/// --depot` accepts), or a depot's named profile, else its `-standard`
/// profile carrying the target build, else its only profile.
fn load_image(depot: &str, profile: Option<&str>, build: u32) -> anyhow::Result<TargetImage> {
    let path = std::path::Path::new(depot);
    if path.is_file() {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if !text.trim_start().starts_with('<')
            && text.lines().any(|l| l.contains("_bootbank_") || l.contains("_locker_"))
        {
            let name = profile
                .map(str::to_string)
                .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default();
            return TargetImage::from_vib_ids(&name, depot, &text).map_err(anyhow::Error::new);
        }
    }
    let d = esxup_depot::Depot::open(depot).with_context(|| format!("open depot {depot}"))?;
    let names = || d.profiles().iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let bs = build.to_string();
    let prof = match profile {
        Some(n) => d.profile(n).ok_or_else(|| {
            hinted(
                format!("depot {depot} has no image profile {n:?}"),
                format!("profiles in it: {}", names()),
            )
        })?,
        None => match d.profiles().iter().find(|p| p.name.contains(&bs) && p.name.ends_with("-standard")) {
            Some(p) => p,
            None if d.profiles().len() == 1 => &d.profiles()[0],
            None => {
                return Err(hinted(
                    format!("depot {depot}: no image profile of build {build}"),
                    format!("pass --profile NAME; profiles: {}", names()),
                ))
            }
        },
    };
    Ok(TargetImage::from_depot(&d, prof))
}

pub fn run_plan(g: &Global, a: PlanArgs) -> anyhow::Result<u8> {
    let lang = a.lang.unwrap_or_else(Lang::from_env);
    let spec: TargetSpec = a.target.parse().map_err(|e: esxup_check::TargetSpecError| {
        hinted(e.to_string(), "e.g. --target 7.0U3g, --target latest-8.0 or --target auto")
    })?;
    let facts = load_facts(&a)?;
    let (kb, tables) = load_kb(g)?;
    let today = today()?;
    // An unknown target is an error (exit 2) before anything else is read.
    let resolved = esxup_check::Target::resolve(kb, &spec).map_err(|e| {
        hinted(
            format!("target {:?}: {e}", a.target),
            "list known releases with `esxup releases`, or use --target auto",
        )
    })?;
    let image = match (&a.depot, &resolved) {
        (Some(d), Some(t)) if !d.starts_with("http://") && !d.starts_with("https://") => {
            Some(load_image(d, a.profile.as_deref(), t.release.build)?)
        }
        _ => None,
    };
    let report = esxup_check::check_with(kb, tables, &facts, &spec, image.as_ref(), today)
        .map_err(|e| hinted(e.to_string(), "see `esxup check --help`"))?;
    // A VIB-id list stands for the target image in the check only; the
    // esxcli commands need a real depot.
    let depot_for_commands = match (&a.depot, &image) {
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
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).context("write plan to stdout")?;
            if !text.ends_with('\n') {
                out.write_all(b"\n").context("write plan to stdout")?;
            }
        }
    }
    Ok(if plan.status == PlanStatus::Blocked { EXIT_FINDINGS } else { EXIT_OK })
}
