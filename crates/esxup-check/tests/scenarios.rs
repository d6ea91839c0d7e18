//! Scenario tests: every folder under `tests/scenarios/` holds a host
//! (`facts.json`), what to check it against and what must come out
//! (`expect.toml`), and where the case comes from (`SOURCE.md`). The checks
//! run against the embedded knowledge base, as `esxup check` does.

use esxup_check::{check, Finding, MethodKind, Severity, TargetImage, TargetSpec, Verdict};
use esxup_facts::HostFacts;
use esxup_i18n::{Catalog, Lang};
use esxup_kb::Kb;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    target: String,
    today: String,
    verdict: Option<String>,
    verdict_not: Option<String>,
    depot: Option<String>,
    #[serde(default)]
    present: Vec<(String, String)>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    keys: BTreeMap<String, String>,
    #[serde(default)]
    args: BTreeMap<String, String>,
    #[serde(default)]
    args_contains: BTreeMap<String, String>,
    method: Option<String>,
    method_required: Option<bool>,
    best_min_build: Option<u32>,
    best_branch: Option<String>,
    rollback_build: Option<u32>,
    chosen_by: Option<String>,
    hops_min: Option<usize>,
    #[serde(default)]
    no_severity: Vec<String>,
    #[serde(default)]
    unknown: Vec<String>,
    #[serde(default)]
    exposure: BTreeMap<String, BTreeMap<String, bool>>,
    #[serde(default)]
    absent_sev: BTreeMap<String, String>,
    allowed_warnings: Option<Vec<String>>,
    #[serde(default)]
    alternative_builds: Vec<u32>,
    target_version_max: Option<String>,
}

fn dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn sev(s: &str) -> Severity {
    match s {
        "blocker" => Severity::Blocker,
        "warning" => Severity::Warning,
        "info" => Severity::Info,
        other => panic!("bad severity {other}"),
    }
}

fn verdict(s: &str) -> Verdict {
    match s {
        "ready" => Verdict::Ready,
        "ready-with-warnings" => Verdict::ReadyWithWarnings,
        "blocked" => Verdict::Blocked,
        other => panic!("bad verdict {other}"),
    }
}

fn arg<'a>(fs: &'a [Finding], spec: &str) -> Option<&'a String> {
    let (id, a) = spec.split_once('.').expect("ID.arg");
    fs.iter().filter(|f| f.id == id).find_map(|f| f.args.get(a))
}

fn run_one(dir: &Path, kb: &Kb) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{name}: read {f}: {e}"));
    if read("SOURCE.md")?.trim().lines().count() < 2 {
        return Err(format!("{name}: SOURCE.md must cite where the case comes from"));
    }
    let e: Expect = toml::from_str(&read("expect.toml")?).map_err(|x| format!("{name}: expect.toml: {x}"))?;
    let facts: HostFacts =
        serde_json::from_str(&read("facts.json")?).map_err(|x| format!("{name}: facts.json: {x}"))?;
    let image = match &e.depot {
        Some(f) => Some(TargetImage::from_vib_ids(f, f, &read(f)?).map_err(|x| format!("{name}: {x}"))?),
        None => None,
    };
    let spec: TargetSpec = e.target.parse().map_err(|x| format!("{name}: {x}"))?;
    let today = e.today.parse().map_err(|x| format!("{name}: {x}"))?;
    let r = check(kb, &facts, &spec, image.as_ref(), today).map_err(|x| format!("{name}: check: {x}"))?;
    let ids: Vec<String> = r.findings.iter().map(|f| format!("{}:{}", f.id, f.severity.as_str())).collect();
    let mut errs = Vec::new();
    if let Some(v) = &e.verdict {
        if r.verdict != verdict(v) {
            errs.push(format!("verdict {:?}, expected {v}", r.verdict));
        }
    }
    if let Some(v) = &e.verdict_not {
        if r.verdict == verdict(v) {
            errs.push(format!("verdict must not be {v}"));
        }
    }
    for (id, s) in &e.present {
        if !r.findings.iter().any(|f| &f.id == id && f.severity == sev(s)) {
            errs.push(format!("missing {id} ({s})"));
        }
    }
    for id in &e.absent {
        if r.findings.iter().any(|f| &f.id == id && f.key != "check.unknown") {
            errs.push(format!("unexpected {id}"));
        }
    }
    for (id, s) in &e.absent_sev {
        if r.findings.iter().any(|f| &f.id == id && f.severity == sev(s)) {
            errs.push(format!("unexpected {id} at {s}"));
        }
    }
    for (id, k) in &e.keys {
        if !r.findings.iter().any(|f| &f.id == id && &f.key == k) {
            errs.push(format!("{id} should use message {k}"));
        }
    }
    for (spec, v) in &e.args {
        if arg(&r.findings, spec) != Some(v) {
            errs.push(format!("{spec} = {:?}, expected {v:?}", arg(&r.findings, spec)));
        }
    }
    for (spec, v) in &e.args_contains {
        if !arg(&r.findings, spec).is_some_and(|a| a.contains(v.as_str())) {
            errs.push(format!("{spec} = {:?} should contain {v:?}", arg(&r.findings, spec)));
        }
    }
    for s in &e.no_severity {
        if r.findings.iter().any(|f| f.severity == sev(s)) {
            errs.push(format!("no {s} expected"));
        }
    }
    if let Some(allowed) = &e.allowed_warnings {
        for f in r.findings.iter().filter(|f| f.severity == Severity::Warning && !allowed.contains(&f.id)) {
            errs.push(format!("unexpected warning {}", f.id));
        }
    }
    for id in &e.unknown {
        if !r.findings.iter().any(|f| &f.id == id && f.key == "check.unknown") {
            errs.push(format!("{id} should report unknown"));
        }
    }
    if let Some(m) = &e.method {
        let k = if r.method.kind == MethodKind::Iso { "iso" } else { "esxcli" };
        if k != m {
            errs.push(format!("method {k}, expected {m}"));
        }
    }
    if let Some(req) = e.method_required {
        if r.method.required != req {
            errs.push(format!("method.required {}, expected {req}", r.method.required));
        }
    }
    let rec = r.recommendation.as_ref();
    if let Some(b) = e.best_min_build {
        match rec.and_then(|x| x.best.as_ref()) {
            Some(best) if best.build >= b => {}
            other => errs.push(format!("recommended best {other:?}, expected build >= {b}")),
        }
    }
    if let Some(b) = &e.best_branch {
        if r.target.release.version.branch().to_string() != *b {
            errs.push(format!("auto chose {}, expected branch {b}", r.target.release.name));
        }
    }
    if let Some(c) = &e.chosen_by {
        let got = serde_json::to_value(r.target.chosen_by).unwrap();
        if got != serde_json::Value::String(c.clone()) {
            errs.push(format!("chosen_by {got}, expected {c}"));
        }
    }
    if let Some(b) = e.rollback_build {
        if rec.and_then(|x| x.rollback.as_ref()).map(|x| x.build) != Some(b) {
            errs.push(format!("rollback route to {b} expected"));
        }
    }
    for b in &e.alternative_builds {
        if !rec.is_some_and(|x| x.alternatives.iter().any(|a| a.release.build == *b)) {
            errs.push(format!("alternative build {b} expected"));
        }
    }
    if let Some(v) = &e.target_version_max {
        let max: esxup_version::Version = v.parse().map_err(|x| format!("{name}: {x}"))?;
        if r.target.release.version > max {
            errs.push(format!("target {} is above version {v}", r.target.release.name));
        }
    }
    if let Some(n) = e.hops_min {
        if rec.map_or(0, |x| x.hops.len()) < n {
            errs.push(format!("at least {n} hop(s) expected"));
        }
    }
    for (adv, fields) in &e.exposure {
        match r.exposures.iter().find(|x| &x.advisory == adv) {
            None => errs.push(format!("exposure {adv} missing")),
            Some(x) => {
                let v = serde_json::to_value(x).unwrap();
                for (k, want) in fields {
                    if v.get(k) != Some(&serde_json::Value::Bool(*want)) {
                        errs.push(format!("exposure {adv}.{k} = {:?}, expected {want}", v.get(k)));
                    }
                }
            }
        }
    }
    // Every message the report uses exists in English and Japanese.
    let cat = Catalog::embedded();
    let mut keys: Vec<String> =
        r.findings.iter().flat_map(|f| [f.title_key(), f.detail_key(), f.remedy_key()]).collect();
    keys.extend(r.method.reasons.iter().map(|m| m.key.clone()));
    if let Some(rec) = rec {
        keys.extend(rec.why.iter().map(|m| m.key.clone()));
        keys.extend(rec.alternatives.iter().flat_map(|a| a.reasons.iter().map(|m| m.key.clone())));
        keys.extend(rec.rollback.iter().flat_map(|rb| rb.steps.iter().map(|m| m.key.clone())));
    }
    keys.extend(
        r.findings
            .iter()
            .flat_map(|f| f.args.values().filter_map(|v| v.strip_prefix('@').map(str::to_string))),
    );
    for k in keys {
        for lang in Lang::ALL {
            if !cat.has(lang, &k) {
                errs.push(format!("message {k} missing in {lang}"));
            }
        }
    }
    // Every real finding cites a source; unknown ones say what to collect.
    for f in &r.findings {
        if f.key == "check.unknown" {
            if !f.args.contains_key("collect") {
                errs.push(format!("{} unknown without what to collect", f.id));
            }
        } else if f.sources.is_empty() && f.id != "ALREADY_ON_TARGET" {
            errs.push(format!("{} has no source", f.id));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}\n  findings: {}", errs.join("; "), ids.join(", ")))
    }
}

#[test]
fn scenarios() {
    let kb = Kb::embedded().expect("embedded knowledge base");
    let all = dirs();
    assert!(all.len() >= 15, "at least 15 scenario folders, found {}", all.len());
    let failures: Vec<String> = all.iter().filter_map(|d| run_one(d, kb).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
