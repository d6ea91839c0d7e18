//! The fleet inputs `check`, `plan` and `report` share: a folder of facts
//! files (`--facts-dir`), a TOML inventory collected first (`--inventory`,
//! `--concurrency`), or every host a vCenter manages (`--host`); and the
//! one loop that reads and checks each host on every core.
//!
//! A host that cannot be read, collected or checked becomes an error of its
//! own (its row says why); the others go on. A second facts file naming the
//! same host is such an error too: one host, one row.

use super::collect_vim::collect_inventory;
use super::hinted;
use super::input::{self, HostArgs, LoadedImage};
use anyhow::Context;
use esxup_check::{CheckOptions, CheckReport, TargetSpec};
use esxup_facts::HostFacts;
use esxup_kb::tables::Tables;
use esxup_kb::Kb;
use esxup_version::Date;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The fleet options (flattened into `check`, `plan` and `report`).
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// Every `*.json` facts file in DIR, one host each (as `esxup collect --out-dir DIR` writes them).
    #[arg(long, value_name = "DIR")]
    pub facts_dir: Option<PathBuf>,
    /// Collect every vCenter and host of this TOML inventory first (see `esxup collect --help`).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// How many inventory targets to collect at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Threads reading and checking facts [default: available cores].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// One host to check, before it is read.
pub enum Source {
    /// A facts file (read by a worker).
    File(PathBuf),
    /// Facts collected live.
    Facts { label: String, facts: Box<HostFacts> },
    /// A target that failed before any facts existed (dead host, bad login).
    Failed { label: String, error: String },
}

/// The hosts of a fleet, and the temporary folder an inventory was
/// collected into (kept until the run ends).
pub struct Fleet {
    pub sources: Vec<Source>,
    _tmp: Option<tempfile::TempDir>,
}

/// Lists the `*.json` files of a facts folder, sorted.
fn facts_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
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
    Ok(files)
}

/// The fleet `--facts-dir` or `--inventory` names, or `None` (then the
/// command reads one host; a `--host` that turns out to be a vCenter is
/// made a fleet with [`from_collected`]).
pub fn load(f: &FleetArgs, h: &HostArgs, progress: bool) -> anyhow::Result<Option<Fleet>> {
    if let Some(dir) = &f.facts_dir {
        let sources = facts_files(dir)?.into_iter().map(Source::File).collect();
        return Ok(Some(Fleet { sources, _tmp: None }));
    }
    if let Some(inv) = &f.inventory {
        let tmp =
            tempfile::Builder::new().prefix("esxup-fleet-").tempdir().context("create a temporary folder")?;
        let mut vim = h.to_vim_args();
        vim.concurrency = f.concurrency.max(1);
        vim.progress = progress;
        let reports = collect_inventory(&vim, inv, tmp.path())?;
        let mut sources: Vec<Source> = Vec::new();
        for r in reports {
            match r.result {
                Ok(written) => sources.extend(written.into_iter().map(|w| Source::File(w.path))),
                Err(e) => {
                    let error = format!("collect {}: {e}", r.label);
                    sources.push(Source::Failed { label: r.label, error })
                }
            }
        }
        return Ok(Some(Fleet { sources, _tmp: Some(tmp) }));
    }
    Ok(None)
}

/// Facts collected from `--host` as a fleet (a vCenter's hosts).
pub fn from_collected(facts: Vec<HostFacts>) -> Fleet {
    let sources = facts
        .into_iter()
        .enumerate()
        .map(|(i, f)| Source::Facts {
            label: f.hostname.clone().unwrap_or_else(|| format!("host-{}", i + 1)),
            facts: Box::new(f),
        })
        .collect();
    Fleet { sources, _tmp: None }
}

/// What every host is checked against.
pub struct CheckCtx<'a> {
    pub kb: &'a Kb,
    pub tables: &'a Tables,
    pub spec: &'a TargetSpec,
    pub image: Option<&'a LoadedImage>,
    pub today: Date,
    pub opts: CheckOptions,
    /// Draw a progress bar on stderr while checking (when it is a terminal).
    pub progress: bool,
}

/// One host's outcome: where it came from, its name, and either its facts
/// with their report, or why there is none.
pub struct Checked<'a> {
    pub file: String,
    pub name: String,
    /// Facts read from a file are owned; facts collected live are borrowed
    /// from the fleet, not copied.
    pub result: Result<(Cow<'a, HostFacts>, CheckReport), String>,
}

fn stem(p: &Path) -> String {
    p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn check_one<'a>(cx: &CheckCtx<'_>, s: &'a Source) -> Checked<'a> {
    let (file, fallback, facts) = match s {
        Source::File(p) => (
            p.display().to_string(),
            stem(p),
            input::read_facts(p).map(Cow::Owned).map_err(|e| format!("{e:#}")),
        ),
        Source::Facts { label, facts } => {
            (format!("vim:{label}"), label.clone(), Ok(Cow::Borrowed(&**facts)))
        }
        Source::Failed { label, error } => {
            return Checked { file: label.clone(), name: label.clone(), result: Err(error.clone()) }
        }
    };
    let facts = match facts {
        Ok(f) => f,
        Err(e) => return Checked { file, name: fallback, result: Err(e) },
    };
    let name = facts.hostname.clone().unwrap_or(fallback);
    let image = cx.image.map(|i| i.for_host(&facts));
    match esxup_check::check_with_options(
        cx.kb,
        cx.tables,
        &facts,
        cx.spec,
        image.as_ref(),
        cx.today,
        cx.opts,
    ) {
        Ok(r) => Checked { file, name, result: Ok((facts, r)) },
        Err(e) => Checked { file: file.clone(), name, result: Err(format!("check {file}: {e}")) },
    }
}

/// Reads and checks every host on `jobs` threads, turning each outcome
/// into a `T` as soon as it is known (so a 10,000-host fleet keeps only
/// what the output needs, not 10,000 facts). Results are in source order.
/// A host whose name an earlier host already has is replaced by
/// `duplicate(file, name, error)`: one host, one row.
pub fn check_all<T: Send>(
    cx: &CheckCtx<'_>,
    fleet: &Fleet,
    jobs: Option<usize>,
    keep: &(dyn Fn(Checked<'_>) -> T + Sync),
    duplicate: &dyn Fn(&str, &str, String) -> T,
) -> Vec<(String, T)> {
    let jobs =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let n = fleet.sources.len();
    let chunk = n.div_ceil(jobs).max(1);
    // A bar only on a terminal: piped or logged stderr stays free of
    // redraws (the results are on stdout, and failures are rows there).
    let bar = (cx.progress && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(n as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} hosts {elapsed} eta {eta}")
        {
            pb.set_style(style);
        }
        // Drawn at once: the bar shows before the first host is done.
        pb.tick();
        pb
    });
    let bar = bar.as_ref();
    let mut parts: Vec<Vec<(String, String, bool, T)>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = fleet
            .sources
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|src| {
                            // check_one never panics on input; should a bug
                            // make it panic, that host says so and the
                            // others go on.
                            let c =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_one(cx, src)))
                                    .unwrap_or_else(|_| {
                                        let label = match src {
                                            Source::File(p) => p.display().to_string(),
                                            Source::Facts { label, .. } | Source::Failed { label, .. } => {
                                                label.clone()
                                            }
                                        };
                                        Checked {
                                    file: label.clone(),
                                    name: label,
                                    result: Err(
                                        "internal error while checking this host (a bug: please report it)"
                                            .into(),
                                    ),
                                }
                                    });
                            let (name, file, ok) = (c.name.clone(), c.file.clone(), c.result.is_ok());
                            if let Some(pb) = bar {
                                pb.inc(1);
                            }
                            (name, file, ok, keep(c))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            parts.push(h.join().unwrap_or_default());
        }
    });
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let mut first: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    for (name, file, ok, t) in parts.into_iter().flatten() {
        if !ok {
            out.push((name, t));
            continue;
        }
        match first.get(&name) {
            Some(prev) => {
                let e = format!("duplicate host name {name:?}: {prev} already has it; this file is left out");
                out.push((name.clone(), duplicate(&file, &name, e)));
            }
            None => {
                first.insert(name.clone(), file);
                out.push((name, t));
            }
        }
    }
    out
}
