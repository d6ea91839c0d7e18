//! `esxup check`: readiness of one host (or a folder of facts files) for a
//! target release.
//!
//! OWNER: the checks helper (issue 5).
//!
//! Exit codes: 0 ready (warnings allowed), 1 a blocker was found (fleet: on
//! any host), 2 error (bad facts, unknown target, unreadable depot).

use super::collect_vim::{collect_vim, VimArgs, VimOutcome};
use super::{hinted, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::{examples, CheckReport, TargetImage, TargetSpec, Verdict};
use esxup_facts::HostFacts;
use esxup_i18n::Lang;
use esxup_kb::tables::Tables;
use esxup_kb::Kb;
use esxup_version::Date;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Md,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Host facts file (JSON written by `esxup collect`).
    #[arg(long, value_name = "FILE", group = "input")]
    pub facts: Option<PathBuf>,
    /// A built-in example host (`--example list` shows them), e.g. `seed`.
    #[arg(long, value_name = "NAME", group = "input")]
    pub example: Option<String>,
    /// Check every `*.json` facts file in DIR: one summary line per host plus totals.
    #[arg(long, value_name = "DIR", group = "input")]
    pub facts_dir: Option<PathBuf>,
    /// Target: a build, `7.0U3g`, `ESXi 7.0 Update 3g`, an image profile, `latest-7.0`, `latest-8.0` or `auto`.
    #[arg(long, value_name = "T")]
    pub target: String,
    /// Depot or offline bundle of the target image (or a text file of VIB ids, one per line).
    #[arg(long, value_name = "DEPOT")]
    pub depot: Option<String>,
    /// Image profile in the depot [default: the one matching the target build].
    #[arg(long, value_name = "NAME", requires = "depot")]
    pub profile: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Language of the messages [default: from LC_ALL / LC_MESSAGES / LANG].
    #[arg(long, value_name = "en|ja")]
    pub lang: Option<Lang>,
    /// Threads for --facts-dir [default: available cores].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Collect from a live host over the vSphere API (`--host URL`, see `esxup collect --help`).
    #[command(flatten)]
    pub vim: VimArgs,
}

/// Today, or `ESXUP_TODAY=YYYY-MM-DD` for reproducible output.
fn today() -> anyhow::Result<Date> {
    match std::env::var("ESXUP_TODAY") {
        Ok(s) if !s.trim().is_empty() => s.trim().parse().with_context(|| format!("read ESXUP_TODAY={s:?}")),
        _ => Ok(Date::today()),
    }
}

fn load_kb(g: &Global) -> anyhow::Result<(&'static Kb, &'static Tables)> {
    match &g.kb {
        Some(dir) => {
            let kb = Kb::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load knowledge base {}: {e}", dir.display()),
                    "check the folder with `esxup kb-lint DIR`, or drop --kb",
                )
            })?;
            let tables = Tables::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load CPU/device tables from {}: {e}", dir.display()),
                    "the folder needs cpu.toml and devices.toml",
                )
            })?;
            Ok((Box::leak(Box::new(kb)), Box::leak(Box::new(tables))))
        }
        None => {
            let kb = Kb::embedded().map_err(|e| anyhow::anyhow!("load the built-in knowledge base: {e}"))?;
            let tables = Tables::embedded()
                .map_err(|e| anyhow::anyhow!("load the built-in CPU/device tables: {e}"))?;
            Ok((kb, tables))
        }
    }
}

/// Reads a facts file, refusing other schema versions clearly.
pub fn read_facts(path: &Path) -> anyhow::Result<HostFacts> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("read facts file {}", path.display()))?;
    parse_facts(&text, &path.display().to_string())
}

fn parse_facts(text: &str, origin: &str) -> anyhow::Result<HostFacts> {
    // Fast path for the fleet: one strict parse. On any problem, the facts
    // loader explains it (schema version first, then the field).
    if let Ok(f) = serde_json::from_str::<HostFacts>(text) {
        if f.schema_version == esxup_facts::SCHEMA_VERSION {
            return Ok(f);
        }
    }
    match HostFacts::from_json_str(text, Path::new(origin)) {
        Ok(f) => Ok(f),
        Err(e) => {
            let hint = match &e {
                esxup_facts::FactsError::Newer { .. } => {
                    "upgrade esxup, or re-collect the facts with this esxup (`esxup collect`)"
                }
                esxup_facts::FactsError::Unsupported { .. } | esxup_facts::FactsError::Shape { .. } => {
                    "re-collect the facts with this esxup (`esxup collect`)"
                }
                _ => "write facts with `esxup collect` (or `esxup facts` to convert saved outputs)",
            };
            Err(hinted(e.to_string(), hint))
        }
    }
}

fn load_image(depot: &str, profile: Option<&str>, target_build: Option<u32>) -> anyhow::Result<TargetImage> {
    let p = Path::new(depot);
    let looks_like_list = p.is_file()
        && std::fs::read_to_string(p)
            .map(|t| {
                t.lines().any(|l| l.contains("_bootbank_") || l.contains("_locker_"))
                    && !t.trim_start().starts_with('<')
            })
            .unwrap_or(false);
    if looks_like_list {
        let text = std::fs::read_to_string(p).with_context(|| format!("read VIB list {depot}"))?;
        let name = profile
            .map(str::to_string)
            .unwrap_or_else(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        return TargetImage::from_vib_ids(&name, depot, &text).map_err(anyhow::Error::new);
    }
    let d = esxup_depot::Depot::open(depot).with_context(|| format!("open depot {depot}"))?;
    let prof = match profile {
        Some(n) => d.profile(n).ok_or_else(|| {
            let names: Vec<&str> = d.profiles().iter().map(|p| p.name.as_str()).collect();
            hinted(
                format!("depot {depot} has no image profile {n:?}"),
                format!("profiles in it: {}", names.join(", ")),
            )
        })?,
        None => {
            let by_build = target_build.and_then(|b| {
                let bs = b.to_string();
                d.profiles().iter().find(|p| p.name.contains(&bs) && p.name.ends_with("-standard"))
            });
            match (by_build, d.profiles()) {
                (Some(p), _) => p,
                (None, [one]) => one,
                // A driver or component bundle: its VIBs are added to the image.
                (None, []) => return Ok(TargetImage::from_depot_vibs(&d)),
                (None, all) => {
                    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
                    return Err(hinted(
                        format!("depot {depot}: cannot tell which image profile to check against"),
                        format!(
                            "pass --profile NAME; profiles: {}",
                            if names.is_empty() { "none".into() } else { names.join(", ") }
                        ),
                    ));
                }
            }
        }
    };
    Ok(TargetImage::from_depot(&d, prof))
}

fn lang_of(a: &CheckArgs) -> Lang {
    a.lang.unwrap_or_else(Lang::from_env)
}

fn exit_for(r: &CheckReport) -> u8 {
    if r.verdict == Verdict::Blocked {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn print(r: &CheckReport, a: &CheckArgs) -> anyhow::Result<()> {
    let lang = lang_of(a);
    let text = match a.format {
        Format::Table => esxup_render::check::render_table(r, lang),
        Format::Json => esxup_render::check::render_json(r) + "\n",
        Format::Md => esxup_render::check::render_md(r, lang),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).context("write report to standard output")?;
    Ok(())
}

pub fn run_check(g: &Global, a: CheckArgs) -> anyhow::Result<u8> {
    let spec: TargetSpec = a.target.parse().map_err(|e| {
        hinted(
            format!("{e}"),
            "examples: --target 7.0U3g, --target 20328353, --target latest-8.0, --target auto",
        )
    })?;
    let (kb, tables) = load_kb(g)?;
    let today = today()?;
    // Resolve the target early so that an unknown target is an error (exit 2)
    // before any facts are read.
    let resolved = esxup_check::Target::resolve(kb, &spec).map_err(|e| {
        hinted(
            format!("target {:?}: {e}", a.target),
            "list known releases with `esxup releases`, or use --target auto",
        )
    })?;
    let image = match &a.depot {
        Some(d) => Some(load_image(d, a.profile.as_deref(), resolved.as_ref().map(|t| t.release.build))?),
        None => None,
    };
    if let Some(dir) = &a.facts_dir {
        return run_fleet(kb, tables, dir, &spec, image.as_ref(), today, &a);
    }
    let facts = if let Some(p) = &a.facts {
        read_facts(p)?
    } else if let Some(name) = &a.example {
        if name == "list" {
            for n in examples::names() {
                println!("{n}");
            }
            return Ok(EXIT_OK);
        }
        examples::get(name).ok_or_else(|| {
            hinted(
                format!("unknown example {name:?}"),
                format!("built-in examples: {}", examples::names().join(", ")),
            )
        })?
    } else if a.vim.host.is_some() {
        match collect_vim(&a.vim) {
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
    image: Option<&TargetImage>,
    today: Date,
    opts: esxup_check::CheckOptions,
) -> Outcome {
    let facts = match read_facts(path) {
        Ok(f) => f,
        Err(e) => return Outcome::Error(format!("{e:#}")),
    };
    match esxup_check::check_with_options(kb, tables, &facts, spec, image, today, opts) {
        Ok(r) => Outcome::Report(Box::new(r)),
        Err(e) => Outcome::Error(format!("check {}: {e}", path.display())),
    }
}

fn run_fleet(
    kb: &Kb,
    tables: &Tables,
    dir: &Path,
    spec: &TargetSpec,
    image: Option<&TargetImage>,
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
    let lang = lang_of(a);
    let (mut ready, mut warn, mut blocked, mut errors) = (0, 0, 0, 0);
    let mut out = std::io::stdout().lock();
    let mut json_rows = Vec::new();
    for (p, o) in files.iter().zip(&outcomes) {
        let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        match o {
            Outcome::Report(r) => {
                match r.verdict {
                    Verdict::Ready => ready += 1,
                    Verdict::ReadyWithWarnings => warn += 1,
                    Verdict::Blocked => blocked += 1,
                }
                let name = r.host.name.clone().unwrap_or(stem);
                match a.format {
                    Format::Json => {
                        json_rows.push(serde_json::json!({"file": p.display().to_string(), "report": r}))
                    }
                    _ => writeln!(out, "{}", esxup_render::check::fleet_line(&name, r, lang))?,
                }
            }
            Outcome::Error(e) => {
                errors += 1;
                match a.format {
                    Format::Json => {
                        json_rows.push(serde_json::json!({"file": p.display().to_string(), "error": e}))
                    }
                    _ => writeln!(out, "{stem:<24} ERROR      {e}")?,
                }
            }
        }
    }
    if a.format == Format::Json {
        let doc = serde_json::json!({
            "schema_version": esxup_check::REPORT_SCHEMA_VERSION,
            "hosts": json_rows,
            "totals": {"hosts": files.len(), "ready": ready, "ready_with_warnings": warn, "blocked": blocked, "errors": errors},
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        writeln!(
            out,
            "{}",
            esxup_render::check::fleet_totals(lang, files.len(), ready, warn, blocked, errors)
        )?;
    }
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if blocked > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
