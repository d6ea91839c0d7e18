//! Collector: a whole fleet. Collects from many vCenters and hosts at once
//! (a bounded pool of threads), writes one facts file per host, and reports
//! per-target failures without stopping the others.
//!
//! Exit status convention for callers ([`exit_code`]): 0 every target
//! collected, 1 some targets failed but at least one host was collected,
//! 2 nothing was collected.

use crate::vim;

/// The inventory file format (kept beside the fleet runner so the crate
/// root stays untouched).
#[path = "inventory.rs"]
pub mod inventory;
use esxup_facts::HostFacts;
use esxup_vim::ConnectOptions;
use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One thing to collect from: a vCenter (many hosts) or a standalone host.
#[derive(Clone, Debug)]
pub struct Job {
    /// Name in reports (`vc1.example.com`).
    pub label: String,
    /// Connection settings, or why they could not be put together (e.g. no password).
    pub opts: Result<ConnectOptions, String>,
}

/// A host whose facts were written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub hostname: String,
    pub path: PathBuf,
}

/// The outcome of one job.
#[derive(Debug)]
pub struct JobReport {
    pub label: String,
    pub url: String,
    pub result: Result<Vec<Written>, String>,
}

/// Why the fleet run could not start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("create output directory {path}: {source}")]
    OutDir { path: PathBuf, source: std::io::Error },
}

/// Runs `jobs` with at most `concurrency` at a time; writes
/// `<out_dir>/<hostname>.json` per host. Shows a progress bar on stderr
/// when `progress` is set and stderr is a terminal.
pub fn run(
    jobs: Vec<Job>,
    concurrency: usize,
    out_dir: &Path,
    progress: bool,
) -> Result<Vec<JobReport>, FleetError> {
    std::fs::create_dir_all(out_dir).map_err(|source| FleetError::OutDir { path: out_dir.into(), source })?;
    let n = jobs.len();
    let bar = (progress && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(n as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} targets {elapsed} {wide_msg}")
        {
            pb.set_style(style);
        }
        pb
    });
    let next = AtomicUsize::new(0);
    let names: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let results: Mutex<Vec<Option<JobReport>>> = Mutex::new((0..n).map(|_| None).collect());
    let workers = concurrency.clamp(1, n.max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                if let Some(pb) = &bar {
                    pb.set_message(job.label.clone());
                }
                let report = run_one(job, out_dir, &names);
                if let Some(pb) = &bar {
                    pb.inc(1);
                }
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(report);
                }
            });
        }
    });
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let results = results.into_inner().unwrap_or_default();
    Ok(results
        .into_iter()
        .zip(jobs)
        .map(|(r, j)| {
            r.unwrap_or_else(|| JobReport {
                label: j.label,
                url: String::new(),
                result: Err("not run".to_string()),
            })
        })
        .collect())
}

fn run_one(job: &Job, out_dir: &Path, names: &Mutex<HashSet<String>>) -> JobReport {
    let opts = match &job.opts {
        Ok(o) => o,
        Err(e) => return JobReport { label: job.label.clone(), url: String::new(), result: Err(e.clone()) },
    };
    let url = esxup_vim::parse_url(&opts.url).map(|u| u.url).unwrap_or_else(|_| opts.url.clone());
    let result = vim::collect(opts)
        .map_err(|e| e.to_string())
        .and_then(|facts| write_all(&facts, out_dir, names).map_err(|e| e.to_string()));
    JobReport { label: job.label.clone(), url, result }
}

fn file_stem(f: &HostFacts) -> String {
    safe_stem(f.hostname.as_deref().unwrap_or("host"))
}

/// A file name stem for a host: its name with anything but ASCII letters,
/// digits, `.`, `-` and `_` replaced by `_`, no leading dot, never empty.
pub fn safe_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "host".to_string()
    } else {
        s
    }
}

/// Writes each host's facts to `<out_dir>/<hostname>.json` (a `-2`, `-3`
/// suffix when two targets report the same host name).
pub fn write_all(
    facts: &[HostFacts],
    out_dir: &Path,
    names: &Mutex<HashSet<String>>,
) -> std::io::Result<Vec<Written>> {
    let mut out = Vec::new();
    for f in facts {
        let stem = file_stem(f);
        let name = {
            let mut used = names.lock().map_err(|_| std::io::Error::other("name table poisoned"))?;
            let mut name = format!("{stem}.json");
            let mut k = 2;
            while used.contains(&name) {
                name = format!("{stem}-{k}.json");
                k += 1;
            }
            used.insert(name.clone());
            name
        };
        let path = out_dir.join(&name);
        let tmp = out_dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, f.to_json_pretty())
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| std::io::Error::new(e.kind(), format!("write {}: {e}", path.display())))?;
        out.push(Written { hostname: f.hostname.clone().unwrap_or_default(), path });
    }
    Ok(out)
}

/// 0 all targets collected, 1 some failed (others collected), 2 nothing collected.
pub fn exit_code(reports: &[JobReport]) -> u8 {
    let hosts: usize = reports.iter().filter_map(|r| r.result.as_ref().ok()).map(Vec::len).sum();
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    if hosts == 0 {
        2
    } else if failed > 0 {
        1
    } else {
        0
    }
}

/// A readable table of the outcome (for stderr), one line per host or failure.
pub fn summary_table(reports: &[JobReport]) -> String {
    let mut rows: Vec<[String; 3]> = Vec::new();
    for r in reports {
        match &r.result {
            Ok(w) if w.is_empty() => rows.push([r.label.clone(), "-".into(), "ok: no hosts found".into()]),
            Ok(w) => {
                for h in w {
                    rows.push([r.label.clone(), h.hostname.clone(), format!("ok: {}", h.path.display())]);
                }
            }
            Err(e) => rows.push([r.label.clone(), "-".into(), format!("FAILED: {e}")]),
        }
    }
    let w0 = rows.iter().map(|r| r[0].len()).max().unwrap_or(0).max("TARGET".len());
    let w1 = rows.iter().map(|r| r[1].len()).max().unwrap_or(0).max("HOST".len());
    let mut s = format!("{:<w0$}  {:<w1$}  RESULT\n", "TARGET", "HOST");
    for r in &rows {
        s.push_str(&format!("{:<w0$}  {:<w1$}  {}\n", r[0], r[1], r[2]));
    }
    let hosts: usize = reports.iter().filter_map(|r| r.result.as_ref().ok()).map(Vec::len).sum();
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    s.push_str(&format!(
        "{hosts} host(s) collected from {} of {} target(s); {failed} target(s) failed\n",
        reports.len() - failed,
        reports.len()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_uniquely_and_safely() {
        let dir = std::env::temp_dir().join(format!("esxup-fleet-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = HostFacts::new();
        a.hostname = Some("esx1/../x".into());
        let names = Mutex::new(HashSet::new());
        let w = write_all(&[a.clone(), a], &dir, &names).unwrap();
        assert_eq!(w[0].path, dir.join("esx1_.._x.json"));
        assert_eq!(w[1].path, dir.join("esx1_.._x-2.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn exit_codes() {
        let ok = |n: usize| JobReport {
            label: "a".into(),
            url: String::new(),
            result: Ok((0..n).map(|i| Written { hostname: i.to_string(), path: PathBuf::new() }).collect()),
        };
        let bad = || JobReport { label: "b".into(), url: String::new(), result: Err("x".into()) };
        assert_eq!(exit_code(&[ok(2)]), 0);
        assert_eq!(exit_code(&[ok(2), bad()]), 1);
        assert_eq!(exit_code(&[bad()]), 2);
        assert!(summary_table(&[ok(1), bad()]).contains("FAILED: x"));
    }
}
