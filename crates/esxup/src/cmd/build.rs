//! `esxup build`, `esxup releases`, `esxup advisories`, `esxup kb-lint`:
//! the knowledge-base commands.
//!
//! `build` answers "what exactly do I run?" for anything an admin pastes;
//! `releases` lists the catalog; `advisories` lists exposures with their
//! fixed builds; `kb-lint` applies the strict data rules to a folder.

use crate::cli::Global;
use crate::cmd::{hinted, EXIT_FINDINGS, EXIT_OK};
use anyhow::Context;
use esxup_kb::{Advisory, Exposure, Kb, LifecycleStatus, Release, ResolveError, Resolved, Severity};
use esxup_version::{Branch, Date};
use serde_json::{json, Value};
use std::fmt::Write as _;
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
/// else the built-in one. Other commands use this too.
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
        None => Kb::embedded().map_err(|e| {
            hinted(
                format!("load the built-in knowledge base: {e}"),
                "this esxup was built with invalid data; run `esxup kb-lint` or use --kb DIR",
            )
        }),
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
    let mut s = String::new();
    stdin.lock().read_to_string(&mut s).context("read the query from standard input")?;
    if s.trim().is_empty() {
        return Err(hinted("standard input is empty", "paste the output of `esxcli system version get`"));
    }
    Ok(s)
}

fn resolve<'k>(kb: &'k Kb, query: &str) -> anyhow::Result<Resolved<'k>> {
    kb.resolve_str(query).map_err(|e| {
        let hint = match &e {
            ResolveError::Unknown { .. } => {
                "the build may be newer than this knowledge base: update esxup or pass --kb DIR with newer data"
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

fn status_word(s: LifecycleStatus) -> &'static str {
    match s {
        LifecycleStatus::GeneralSupport => "general-support",
        LifecycleStatus::TechnicalGuidance => "technical-guidance",
        LifecycleStatus::EndOfLife => "end-of-life",
        LifecycleStatus::Unknown => "unknown",
    }
}

fn lifecycle_text(kb: &Kb, b: Branch, today: Date) -> String {
    let Some(l) = kb.lifecycle(b) else { return format!("{b}: unknown (no lifecycle data)") };
    let d = |x: Option<Date>| x.map(|d| d.to_string()).unwrap_or_else(|| "unknown".into());
    let (g, t) = (d(l.end_of_general_support), d(l.end_of_technical_guidance));
    match kb.status(b, today) {
        LifecycleStatus::GeneralSupport => format!("{b}: in general support until {g}"),
        LifecycleStatus::TechnicalGuidance => {
            format!("{b}: past end of general support ({g}); technical guidance until {t}")
        }
        LifecycleStatus::EndOfLife => {
            format!("{b}: past end of general support ({g}) and of technical guidance ({t})")
        }
        LifecycleStatus::Unknown => format!("{b}: unknown (no end of general support in the data)"),
    }
}

fn release_ref(r: &Release) -> Value {
    json!({ "build": r.build, "name": r.name, "release_date": r.release_date })
}

fn kind_word(r: &Release) -> String {
    serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn cvss_max(a: &Advisory) -> Option<f32> {
    a.cves.iter().filter_map(|c| c.cvss).reduce(f32::max)
}

fn exposure_json(e: &Exposure<'_>) -> Value {
    let a = e.advisory;
    json!({
        "id": a.id,
        "title": a.title,
        "published": a.published,
        "cves": a.cves,
        "cvss_max": cvss_max(a),
        "known_exploited": a.cves.iter().any(|c| c.known_exploited),
        "fixed_build": e.fix.and_then(|f| f.build),
        "fixed_release": e.fix.and_then(|f| f.release.clone()),
        "fix_notes": e.fix.map(|f| f.notes.clone()).unwrap_or_default(),
        "workaround_kb": a.workaround_kb,
        "workaround": a.workaround,
        "sources": a.sources,
    })
}

/// One line per exposure: id, CVEs with CVSS, fixed build.
fn exposure_line(e: &Exposure<'_>) -> String {
    let a = e.advisory;
    let cves: Vec<String> = a
        .cves
        .iter()
        .map(|c| {
            let mut s = c.id.clone();
            if let Some(v) = c.cvss {
                let _ = write!(s, " {v:.1}");
            }
            if c.known_exploited {
                s.push_str(" exploited");
            }
            s
        })
        .collect();
    let fix = match e.fix {
        Some(f) => match (f.build, &f.release) {
            (Some(b), Some(r)) => format!("fixed in {b} ({r})"),
            (Some(b), None) => format!("fixed in {b}"),
            (None, _) => format!("no fix published for {}", f.branch),
        },
        None => "fix unknown".into(),
    };
    let mut s = format!("{}  {}; {fix}", a.id, cves.join(", "));
    if let Some(kb) = &a.workaround_kb {
        let _ = write!(s, "; workaround {kb}");
    }
    s
}

/// Supported upgrade targets from a release: the branch's newer builds
/// (updates) and each reachable branch with the first release allowed by the
/// back-in-time rule (VMware KB 67077: no target published before the build).
fn targets(kb: &Kb, r: &Release) -> Vec<Value> {
    let b = r.version.branch();
    let mut out = Vec::new();
    let mut branches: Vec<Branch> = kb.branches().into_iter().filter(|t| *t > b).collect();
    branches.retain(|t| kb.hops(b, *t).is_some());
    for t in branches {
        let hops = kb.hops(b, t).unwrap_or_default();
        // The first full release dated on or after this build (a security-only
        // build only when nothing else qualifies).
        let later = || kb.branch_releases(t).filter(|x| x.release_date >= r.release_date);
        let first_allowed =
            later().find(|x| x.kind != esxup_kb::ReleaseKind::SecurityOnly).or_else(|| later().next());
        out.push(json!({
            "branch": t,
            "direct": kb.direct_upgrade_supported(b, t),
            "hops": hops,
            "first_allowed": first_allowed.map(release_ref),
            "newest": kb.latest(t).map(release_ref),
        }));
    }
    out
}

/// Advisories listing a branch: none means the knowledge base cannot tell
/// (VMware stops assessing branches past their support).
fn branch_covered(kb: &Kb, b: Branch) -> bool {
    kb.advisories().iter().any(|a| a.fixes.iter().any(|f| f.branch == b))
}

fn none_known(kb: &Kb, b: Branch) -> String {
    if branch_covered(kb, b) {
        "none known".into()
    } else {
        format!("unknown: no advisory in the knowledge base lists branch {b}")
    }
}

fn build_json(kb: &Kb, res: &Resolved<'_>, today: Date) -> Value {
    let r = res.release;
    let b = r.version.branch();
    let l = kb.lifecycle(b);
    let exposures = kb.exposures(r.build);
    let newest = kb.latest(b);
    json!({
        "build": r.build,
        "version": r.version,
        "branch": b,
        "update": r.update,
        "release_name": r.name,
        "kind": r.kind,
        "bulletin": r.bulletin,
        "release_date": r.release_date,
        "image_profiles": r.image_profiles,
        "iso": r.iso,
        "max_vm_hardware": r.max_vm_hardware,
        "lifecycle": {
            "branch": b,
            "status": status_word(kb.status(b, today)),
            "as_of": today,
            "ga": l.and_then(|l| l.ga),
            "end_of_general_support": l.and_then(|l| l.end_of_general_support),
            "end_of_technical_guidance": l.and_then(|l| l.end_of_technical_guidance),
            "notes": l.map(|l| l.notes.clone()).unwrap_or_default(),
            "sources": l.map(|l| l.sources.clone()).unwrap_or_default(),
        },
        "advisories": exposures.iter().map(exposure_json).collect::<Vec<_>>(),
        "advisories_cover_branch": branch_covered(kb, b),
        "newest_in_branch": newest.map(release_ref),
        "is_newest_in_branch": newest.is_some_and(|n| n.build == r.build),
        "upgrade_targets": targets(kb, r),
        "inconsistencies": res.inconsistencies,
        "other_matches": res.candidates.iter().map(|c| release_ref(c)).collect::<Vec<_>>(),
        "sources": r.sources,
        "notes": r.notes,
    })
}

fn build_table(kb: &Kb, res: &Resolved<'_>, today: Date) -> String {
    let r = res.release;
    let b = r.version.branch();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    row("Build", r.build.to_string());
    row("Release", r.name.clone());
    let version = match &r.update {
        Some(u) => format!("{} (Update {u})", r.version),
        None => r.version.to_string(),
    };
    row("Version", version);
    row("Kind", kind_word(r));
    row("Bulletin", r.bulletin.clone().unwrap_or_else(|| "-".into()));
    row("Release date", r.release_date.to_string());
    row("Image profiles", if r.image_profiles.is_empty() { "-".into() } else { r.image_profiles.join(", ") });
    row("ISO", r.iso.map(|x| if x { "yes" } else { "no" }).unwrap_or("unknown").into());
    row(
        "VM hardware",
        r.max_vm_hardware.map(|v| format!("up to vmx-{v}")).unwrap_or_else(|| "unknown".into()),
    );
    row("Lifecycle", format!("{} (as of {today})", lifecycle_text(kb, b, today)));
    let newest = match kb.latest(b) {
        Some(n) if n.build == r.build => "this is the newest build of its branch".to_string(),
        Some(n) => {
            let newer = kb
                .branch_releases(b)
                .filter(|x| (x.release_date, x.build) > (r.release_date, r.build))
                .count();
            format!("{} {} ({}), {newer} release(s) newer", n.build, n.name, n.release_date)
        }
        None => "-".into(),
    };
    row(&format!("Newest {b}"), newest);
    let t = targets(kb, r);
    if t.is_empty() {
        row("Upgrade targets", "none in the knowledge base".into());
    }
    for (i, v) in t.iter().enumerate() {
        let branch = v["branch"].as_str().unwrap_or_default();
        let how = if v["direct"].as_bool() == Some(true) {
            "direct".to_string()
        } else {
            let hops: Vec<&str> =
                v["hops"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            format!("via {}", hops[..hops.len().saturating_sub(1)].join(" -> "))
        };
        let first = match &v["first_allowed"] {
            Value::Null => "no release dated after this build yet (KB 67077)".to_string(),
            f => format!(
                "from {} {} ({}) on (KB 67077)",
                f["build"],
                f["name"].as_str().unwrap_or_default(),
                f["release_date"].as_str().unwrap_or_default()
            ),
        };
        row(if i == 0 { "Upgrade targets" } else { "" }, format!("{branch} {how}, {first}"));
    }
    let exposures = kb.exposures(r.build);
    if exposures.is_empty() {
        row("Advisories", none_known(kb, b));
    }
    for (i, e) in exposures.iter().enumerate() {
        row(if i == 0 { "Advisories" } else { "" }, exposure_line(e));
    }
    if !res.inconsistencies.is_empty() {
        for (i, x) in res.inconsistencies.iter().enumerate() {
            row(if i == 0 { "Inconsistent" } else { "" }, x.clone());
        }
    }
    for (i, n) in r.notes.iter().enumerate() {
        row(if i == 0 { "Notes" } else { "" }, n.clone());
    }
    for (i, s) in r.sources.iter().enumerate() {
        row(if i == 0 { "Sources" } else { "" }, s.clone());
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<w$}  {v}");
    }
    out
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v).context("write JSON")?);
    Ok(())
}

pub fn run_build(g: &Global, a: BuildArgs) -> anyhow::Result<u8> {
    let query = read_query(&a.query)?;
    let kb = kb(g)?;
    let today = today()?;
    let res = resolve(kb, &query)?;
    warn_inconsistencies(&res);
    match a.format {
        Format::Json => print_json(&build_json(kb, &res, today))?,
        Format::Table => print!("{}", build_table(kb, &res, today)),
    }
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
    let rows: Vec<&Release> = kb
        .releases()
        .iter()
        .filter(|r| a.branch.is_none_or(|b| r.version.branch() == b))
        .filter(|r| a.since.is_none_or(|d| r.release_date >= d))
        .collect();
    match a.format {
        Format::Json => print_json(&serde_json::to_value(&rows).context("write JSON")?)?,
        Format::Table => {
            let mut t =
                vec![["BUILD", "VERSION", "DATE", "KIND", "NAME", "BULLETIN"].map(String::from).to_vec()];
            for r in &rows {
                t.push(vec![
                    r.build.to_string(),
                    r.version.to_string(),
                    r.release_date.to_string(),
                    kind_word(r),
                    r.name.clone(),
                    r.bulletin.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            print!("{}", columns(&t));
        }
    }
    Ok(EXIT_OK)
}

/// Left-aligned columns separated by two spaces.
fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let w: Vec<usize> = (0..n)
        .map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().enumerate().map(|(i, c)| format!("{c:<w$}", w = w[i])).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

pub fn run_advisories(g: &Global, a: AdvisoriesArgs) -> anyhow::Result<u8> {
    let query = read_query(&a.query)?;
    let kb = kb(g)?;
    let res = resolve(kb, &query)?;
    warn_inconsistencies(&res);
    let r = res.release;
    let exposures = kb.exposures(r.build);
    match a.format {
        Format::Json => print_json(&json!({
            "build": r.build,
            "version": r.version,
            "release_name": r.name,
            "release_date": r.release_date,
            "exposed": !exposures.is_empty(),
            "advisories_cover_branch": branch_covered(kb, r.version.branch()),
            "advisories": exposures.iter().map(exposure_json).collect::<Vec<_>>(),
            "inconsistencies": res.inconsistencies,
        }))?,
        Format::Table => {
            if exposures.is_empty() && !branch_covered(kb, r.version.branch()) {
                println!("{} {}: {}", r.build, r.name, none_known(kb, r.version.branch()));
            } else if exposures.is_empty() {
                println!("{} {}: not exposed to any advisory in the knowledge base", r.build, r.name);
            } else {
                println!("{} {}: exposed to {} advisory(ies)", r.build, r.name, exposures.len());
                let mut t = vec![["ADVISORY", "CVES", "CVSS", "EXPLOITED", "FIXED IN", "WORKAROUND"]
                    .map(String::from)
                    .to_vec()];
                for e in &exposures {
                    let ad = e.advisory;
                    let fixed = match e.fix {
                        Some(f) => match (f.build, &f.release) {
                            (Some(b), Some(rel)) => format!("{b} {rel}"),
                            (Some(b), None) => b.to_string(),
                            (None, _) => "no fix published".into(),
                        },
                        None => "unknown".into(),
                    };
                    t.push(vec![
                        ad.id.clone(),
                        ad.cves.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(" "),
                        cvss_max(ad).map(|c| format!("{c:.1}")).unwrap_or_else(|| "-".into()),
                        if ad.cves.iter().any(|c| c.known_exploited) { "yes" } else { "no" }.into(),
                        fixed,
                        ad.workaround_kb.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                print!("{}", columns(&t));
            }
        }
    }
    Ok(if exposures.is_empty() { EXIT_OK } else { EXIT_FINDINGS })
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
    let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
    let warnings = problems.len() - errors;
    match a.format {
        Format::Json => {
            print_json(&json!({ "kb": what, "errors": errors, "warnings": warnings, "problems": problems }))?
        }
        Format::Table => {
            for p in &problems {
                println!("{p}");
            }
        }
    }
    eprintln!("kb-lint {what}: {errors} error(s), {warnings} warning(s)");
    Ok(if errors > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
