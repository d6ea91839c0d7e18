//! Every sentence esxup prints is true and agrees with the others (issue 11).
//!
//! Over the whole knowledge base and every built-in example, this test runs
//! the same decision functions the outputs use and checks that the outputs
//! cannot disagree:
//!
//! - one decision, [`esxup_kb::Advisory::status_of`], answers "does build B
//!   of branch X carry the fix of advisory A": the exposures, the findings,
//!   the recommendation's reasons, the runbook's notes and every JSON field
//!   say what it says, for every advisory, branch and release;
//! - no finding contradicts another (a rule is not both "not checked" and
//!   checked, the workaround sentence matches the host's workaround state);
//! - every "fixed by" / "exposed" statement is the same in the text table,
//!   Markdown, HTML (runbook) and JSON;
//! - no output has unfilled placeholders, missing catalog keys, doubled
//!   punctuation, "-." or empty parentheses;
//! - the version words ("7.0", "8.0") in a finding are the installed or the
//!   target branch, a hop between them, or a branch the upgrade crosses.
//!
//! The matrix: every example against every release as the target (check
//! and runbook, every format), and every release as the installed build
//! against every release of the same or a newer branch as the target
//! (check, every format).

use esxup_check::rules::advisories::exploited_key;
use esxup_check::{examples, CheckOptions, CheckReport, Finding, Severity, TargetSpec};
use esxup_facts::HostFacts;
use esxup_i18n::{t, Lang};
use esxup_kb::tables::Tables;
use esxup_kb::{FixStatus, Kb, Release};
use esxup_version::{Branch, Date};
use std::collections::BTreeMap;

fn kb() -> &'static Kb {
    Kb::embedded().expect("embedded knowledge base")
}

fn tables() -> &'static Tables {
    Tables::embedded().expect("embedded tables")
}

fn today() -> Date {
    "2026-11-26".parse().unwrap()
}

fn spec(r: &Release) -> TargetSpec {
    r.build.to_string().parse().expect("a build is a target spec")
}

/// The decision itself, for every advisory, every branch of the knowledge
/// base and every release of it: exposures, fixed_in and the first fixed
/// build all follow from `status_of`.
#[test]
fn one_fix_decision_for_every_advisory_branch_and_release() {
    let kb = kb();
    let mut checked = 0;
    for a in kb.advisories() {
        for b in kb.branches() {
            for r in kb.branch_releases(b) {
                let s = a.status_of(b, r.build);
                assert_eq!(a.status_in(r), s);
                assert_eq!(a.fixed_in(r), s.fixed(), "{} {}", a.id, r.build);
                let exposed = kb.exposures_on(b, r.build).iter().any(|e| e.advisory.id == a.id);
                assert_eq!(exposed, s.exposed(), "{} on {} {}: {s:?}", a.id, b, r.build);
                assert_eq!(kb.exposures(r.build).iter().any(|e| e.advisory.id == a.id), s.exposed());
                match (a.fix_for(b), s) {
                    (None, FixStatus::NotListed) => {}
                    (Some(f), FixStatus::NoFixPublished) => assert!(f.build.is_none()),
                    (Some(f), FixStatus::NotFixed) => assert!(f.build.is_some_and(|fb| r.build < fb)),
                    (Some(f), FixStatus::Fixed) => assert!(f.covers(r.build)),
                    other => panic!("{} {}: {other:?}", a.id, r.build),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// What one report says, checked against the decision functions.
fn report_problems(label: &str, kb: &Kb, rep: &CheckReport, errs: &mut Vec<String>) {
    let mut e = |m: String| errs.push(format!("{label}: {m}"));
    let target = kb.release(rep.target.release.build).expect("target in KB");
    let tb = target.version.branch();
    // 1. Exposures: the installed build is exposed, and what they say about the target is the decision.
    for x in &rep.exposures {
        let a = kb.advisory(&x.advisory).expect("advisory in KB");
        if let (Some(b), Some(v)) = (rep.host.build, rep.host.version) {
            if !a.status_of(v.branch(), b).exposed() {
                e(format!("{} listed as an exposure but the installed build is not exposed", a.id));
            }
        }
        let s = a.status_in(target);
        if x.target_status != s || x.fixed_by_target != s.fixed() {
            e(format!(
                "{}: exposure says {:?}/{:?}, the decision {s:?}",
                a.id, x.target_status, x.fixed_by_target
            ));
        }
        // 2. Its finding (known-exploited ones) says the same.
        if x.known_exploited {
            let fs: Vec<&Finding> = rep
                .findings
                .iter()
                .filter(|f| f.id == "ADVISORY_EXPOSED" && f.args.get("advisory") == Some(&x.advisory))
                .collect();
            match fs.as_slice() {
                [f] => {
                    if f.key != exploited_key(s) {
                        e(format!("{}: finding {} but the decision is {s:?}", a.id, f.key));
                    }
                    let want = match (x.workaround_exists, x.workaround_in_place) {
                        (Some(false), _) => "@check.workaround.none",
                        (None, _) => "@check.workaround.not_recorded",
                        (Some(true), Some(true)) => "@check.workaround.in_place",
                        (Some(true), _) => "@check.workaround.apply",
                    };
                    if f.args.get("workaround").map(String::as_str) != Some(want) {
                        e(format!(
                            "{}: workaround sentence {:?}, host state wants {want}",
                            a.id,
                            f.args.get("workaround")
                        ));
                    }
                }
                other => e(format!("{}: {} findings for a known-exploited exposure", a.id, other.len())),
            }
        }
    }
    // 3. TARGET_EXPOSED names exactly the known-exploited advisories the target is exposed to.
    let mut want: Vec<&str> = kb
        .advisories()
        .iter()
        .filter(|a| a.known_exploited() && a.status_in(target).exposed())
        .map(|a| a.id.as_str())
        .collect();
    want.sort();
    let mut got: Vec<&str> = rep
        .findings
        .iter()
        .filter(|f| f.id == "TARGET_EXPOSED")
        .flat_map(|f| f.args["advisories"].split(", "))
        .collect();
    got.sort();
    if got != want {
        e(format!("TARGET_EXPOSED says {got:?}, the decision {want:?}"));
    }
    // 4. The recommendation's reasons about advisories follow the decision for the release they are about.
    if let Some(rec) = &rep.recommendation {
        if let Some(best) = rec.best.as_ref().and_then(|b| kb.release(b.build)) {
            for m in &rec.why {
                let want = match m.key.as_str() {
                    "check.auto.why_fixes" => FixStatus::Fixed,
                    "check.auto.why_not_listed" => FixStatus::NotListed,
                    "check.auto.why_not_fixed" => FixStatus::NotFixed,
                    "check.auto.why_unfixed" => FixStatus::NoFixPublished,
                    _ => continue,
                };
                for id in m.args["advisories"].split(", ") {
                    let s = kb.advisory(id).map(|a| a.status_in(best));
                    if s != Some(want) {
                        e(format!(
                            "recommendation says {id} is {want:?} for {}, the decision {s:?}",
                            best.build
                        ));
                    }
                }
            }
        }
    }
    // 5. slpd: the workaround findings and the exposures agree.
    for x in rep.exposures.iter().filter(|x| x.workaround_service.as_deref() == Some("slpd")) {
        let running = rep.findings.iter().any(|f| f.id == "SLPD_RUNNING" && f.key == "check.slpd_running");
        let off = rep.findings.iter().any(|f| f.id == "SLPD_WORKAROUND");
        if (running && x.workaround_in_place != Some(false)) || (off && x.workaround_in_place != Some(true)) {
            e(format!(
                "{}: slpd findings (running {running}, off {off}) vs in place {:?}",
                x.advisory, x.workaround_in_place
            ));
        }
    }
    // 6. No rule is both "not checked" and checked.
    for f in rep.findings.iter().filter(|f| f.key == "check.unknown") {
        if let Some(o) = rep
            .findings
            .iter()
            .find(|o| o.id == f.id && o.key != "check.unknown" && o.severity != Severity::Info)
        {
            e(format!("{} is \"not checked\" and also {} ({})", f.id, o.severity.as_str(), o.key));
        }
    }
    // 7. Version words of each finding (English texts).
    let allowed = allowed_branches(kb, rep, tb);
    for f in &rep.findings {
        let (title, detail, remedy) = esxup_render::check::finding_texts(Lang::En, f);
        for text in [title, detail, remedy] {
            for w in branch_words(kb, &text) {
                if !allowed(w) {
                    e(format!("{} ({}) says {w} for a move to {tb}: {text}", f.id, f.key));
                }
            }
        }
    }
}

/// Branches a message may name: the installed and the target branch and the
/// hops between them. A release named in full ("7.0 U3c", "8.0 Update 2")
/// is not a bare branch word and may be named anywhere.
fn allowed_branches<'a>(kb: &'a Kb, rep: &'a CheckReport, tb: Branch) -> impl Fn(Branch) -> bool + 'a {
    let cur = rep.host.version.map(|v| v.branch());
    let hops: Vec<Branch> =
        rep.recommendation.iter().flat_map(|r| r.hops.iter().map(|h| h.version.branch())).collect();
    let route: Vec<Branch> = cur.and_then(|c| kb.hops(c, tb)).unwrap_or_default();
    move |w: Branch| w == tb || Some(w) == cur || hops.contains(&w) || route.contains(&w)
}

/// Bare branch words ("7.0", not "7.0.3", "7.0 U3c", "7.0 Update 2" or "driverAPI-9.2")
/// that are branches of the knowledge base.
fn branch_words(kb: &Kb, text: &str) -> Vec<Branch> {
    let branches = kb.branches();
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() + 1 {
        if i + 3 <= b.len() && b[i].is_ascii_digit() && b[i + 1] == b'.' && b[i + 2].is_ascii_digit() {
            let before = if i > 0 { b[i - 1] } else { b' ' };
            let after = b.get(i + 3).copied().unwrap_or(b' ');
            let rest = &text[i + 3..];
            let named = rest.starts_with(" U")
                || rest.starts_with(" GA")
                || rest.starts_with(" P")
                || rest.starts_with(" EP");
            if !before.is_ascii_alphanumeric()
                && before != b'.'
                && before != b'-'
                && !after.is_ascii_digit()
                && !(after == b'.' && b.get(i + 4).is_some_and(u8::is_ascii_digit))
                && after != b'x'
                && !named
            {
                if let Ok(br) = text[i..i + 3].parse::<Branch>() {
                    if branches.contains(&br) {
                        out.push(br);
                    }
                }
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// Unfilled placeholders, missing catalog keys, doubled punctuation, "-."
/// and empty parentheses in a rendered output.
fn text_problems(label: &str, what: &str, text: &str, errs: &mut Vec<String>) {
    for line in text.lines() {
        let l = line.trim();
        // Commands and code keep their own punctuation.
        if l.starts_with("esxcli") || l.starts_with('$') || l.starts_with("```") || l.contains("<code>") {
            continue;
        }
        let mut bad: Vec<&str> = Vec::new();
        for pat in [
            "-.", "()", "( )", "（）", "..", ",,", ";;", ". .", "。。", "、、", ",.", ".,", ":.", "。.",
            "[check.", "[plan.", "[common.",
        ] {
            if l.contains(pat) && !l.contains("...") && !l.contains("../") {
                bad.push(pat);
            }
        }
        if let Some(i) = l.find('{') {
            let rest = &l[i + 1..];
            if let Some(j) = rest.find('}') {
                let name = &rest[..j];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    bad.push("{placeholder}");
                }
            }
        }
        if l.contains("@check.") || l.contains("@plan.") {
            bad.push("@key");
        }
        if !bad.is_empty() {
            errs.push(format!("{label} {what}: {bad:?} in: {l}"));
        }
    }
}

/// The check outputs (table, Markdown, JSON) of one report agree with it.
fn render_problems(label: &str, rep: &CheckReport, langs: &[Lang], errs: &mut Vec<String>) {
    for &lang in langs {
        let table = esxup_render::check::render_table(rep, lang);
        let md = esxup_render::check::render_md(rep, lang);
        text_problems(label, &format!("table/{lang}"), &table, errs);
        text_problems(label, &format!("md/{lang}"), &md, errs);
        for x in &rep.exposures {
            let s = esxup_render::check::fix_status_text(lang, rep, x);
            let row = table.lines().find(|l| l.trim_start().starts_with(&format!("{} ", x.advisory)));
            if !row.is_some_and(|l| l.ends_with(&s)) {
                errs.push(format!("{label} table/{lang}: {} row {row:?} lacks {s:?}", x.advisory));
            }
            let row = md.lines().find(|l| l.starts_with(&format!("| {} |", x.advisory)));
            if !row.is_some_and(|l| l.contains(&format!("| {} |", s.replace('|', "\\|")))) {
                errs.push(format!("{label} md/{lang}: {} row {row:?} lacks {s:?}", x.advisory));
            }
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&esxup_render::check::render_json(rep)).expect("check JSON");
    for (i, x) in rep.exposures.iter().enumerate() {
        let j = &json["exposures"][i];
        if j["advisory"] != x.advisory.as_str()
            || j["target_status"] != x.target_status.as_str()
            || j["fixed_by_target"] != serde_json::json!(x.target_status.fixed())
        {
            errs.push(format!("{label} json: exposure {i} {j}"));
        }
        if let Some(c) = x.max_cvss {
            if serde_json::to_string(&j["max_cvss"]).unwrap() != c.to_string() {
                errs.push(format!("{label} json: max_cvss {} is not {c}", j["max_cvss"]));
            }
        }
    }
}

/// The runbook (Markdown, HTML, JSON) says about each advisory what the
/// decision says about the runbook's target.
fn plan_problems(label: &str, kb: &Kb, rep: &CheckReport, facts: &HostFacts, errs: &mut Vec<String>) {
    let input = esxup_plan::from_check::plan_input(rep, facts, kb, None).expect("plan input");
    let route = input.route_target().clone();
    for lang in Lang::ALL {
        let plan = esxup_plan::build_plan(&input, lang);
        let md = esxup_render::plan::render(&plan, esxup_render::plan::PlanFormat::Markdown);
        let html = esxup_render::plan::render(&plan, esxup_render::plan::PlanFormat::Html);
        let json = esxup_render::plan::render(&plan, esxup_render::plan::PlanFormat::Json);
        text_problems(label, &format!("plan md/{lang}"), &md, errs);
        for x in &input.exposures {
            let a = kb.advisory(&x.id).expect("advisory");
            let s = a.status_in(&route);
            if x.target_status != s || x.fixed_by_target != s.fixed() {
                errs.push(format!("{label} plan: {} says {:?}, the decision {s:?}", x.id, x.target_status));
            }
            if route.build == rep.target.release.build {
                let c = rep.exposures.iter().find(|c| c.advisory == x.id).map(|c| c.target_status);
                if c != Some(s) {
                    errs.push(format!("{label} plan and check disagree on {}: {c:?} vs {s:?}", x.id));
                }
            }
            let key = match s {
                FixStatus::Fixed => "plan.note.exposure_fixed",
                FixStatus::NotFixed => "plan.note.exposure_not_fixed",
                FixStatus::NoFixPublished => "plan.note.exposure_no_fix",
                FixStatus::NotListed => "plan.note.exposure_not_listed",
            };
            let args: BTreeMap<String, String> = [
                ("vmsa", x.id.clone()),
                ("cves", x.cves.join(", ")),
                ("title", x.title.clone()),
                ("tgt_name", route.name.clone()),
                ("tgt_branch", route.version.branch().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let note = t(lang, key, &args);
            if !md.contains(&note) {
                errs.push(format!("{label} plan md/{lang}: no {note:?}"));
            }
            if !html.contains(&esxup_render::plan_html::esc(&note)) {
                errs.push(format!("{label} plan html/{lang}: no {note:?}"));
            }
            let quoted = serde_json::to_string(&note).unwrap();
            if !json.contains(&quoted[1..quoted.len() - 1]) {
                errs.push(format!("{label} plan json/{lang}: no {note:?}"));
            }
        }
    }
}

fn finish(what: &str, errs: Vec<String>) {
    if !errs.is_empty() {
        let mut uniq = errs.clone();
        uniq.sort();
        uniq.dedup();
        panic!(
            "{what}: {} problem(s), first ones:\n{}",
            errs.len(),
            uniq.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// Every built-in example against every release of the knowledge base as
/// the target: the check in every format and the runbook in every format.
#[test]
fn every_example_against_every_target_agrees_with_itself() {
    let (kb, tables, today) = (kb(), tables(), today());
    let mut errs = Vec::new();
    let mut runs = 0;
    for name in examples::names() {
        let facts = examples::get(name).expect("example");
        for target in kb.releases().iter().filter(|r| r.release_date <= today) {
            let label = format!("example {name} -> {} ({})", target.build, target.name);
            let rep = match esxup_check::check_with(kb, tables, &facts, &spec(target), None, today) {
                Ok(r) => r,
                Err(e) => panic!("{label}: {e}"),
            };
            report_problems(&label, kb, &rep, &mut errs);
            render_problems(&label, &rep, &Lang::ALL, &mut errs);
            plan_problems(&label, kb, &rep, &facts, &mut errs);
            runs += 1;
        }
        // And the example's own target (`auto` for most), as `esxup check --example NAME` runs it.
        let own: TargetSpec = examples::intended_target(name).unwrap().parse().unwrap();
        let rep = esxup_check::check_with(kb, tables, &facts, &own, None, today).expect("own target");
        let label = format!("example {name} (own target)");
        report_problems(&label, kb, &rep, &mut errs);
        render_problems(&label, &rep, &Lang::ALL, &mut errs);
        plan_problems(&label, kb, &rep, &facts, &mut errs);
    }
    assert!(runs > 500, "{runs}");
    finish("examples x targets", errs);
}

/// A host on `r`: the esxiargs example (slpd running, a free licence, VMs)
/// with its installed build set to `r`.
fn host_on(base: &HostFacts, r: &Release) -> HostFacts {
    let mut f = base.clone();
    if let Some(p) = f.product.as_mut() {
        p.build = r.build;
        p.version = r.version;
        p.update = r.update.clone();
        p.full_name = None;
    }
    f
}

/// Every release as the installed build, against every release of the
/// same or a newer branch as the target (the check in every format).
#[test]
fn every_release_as_installed_against_every_target_agrees_with_itself() {
    let (kb, tables, today) = (kb(), tables(), today());
    let base = examples::get("esxiargs").expect("example");
    let releases: Vec<&Release> = kb.releases().iter().filter(|r| r.release_date <= today).collect();
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                let (releases, base) = (&releases, &base);
                s.spawn(move || {
                    let mut errs = Vec::new();
                    let mut runs = 0;
                    // Interleaved, so that every worker gets old and new installed builds.
                    for inst in releases.iter().skip(job).step_by(jobs) {
                        let facts = host_on(base, inst);
                        for target in releases.iter().filter(|t| t.version.branch() >= inst.version.branch())
                        {
                            let label = format!(
                                "{} ({}) -> {} ({})",
                                inst.build, inst.name, target.build, target.name
                            );
                            let rep = esxup_check::check_with_options(
                                kb,
                                tables,
                                &facts,
                                &spec(target),
                                None,
                                today,
                                CheckOptions { recommend: false },
                            )
                            .unwrap_or_else(|e| panic!("{label}: {e}"));
                            report_problems(&label, kb, &rep, &mut errs);
                            // One language here: the decisions do not depend on it,
                            // and the example matrix renders both.
                            render_problems(&label, &rep, &[Lang::En], &mut errs);
                            runs += 1;
                        }
                    }
                    (runs, errs)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).collect()
    });
    let runs: usize = results.iter().map(|(n, _)| n).sum();
    assert!(runs > 10_000, "{runs}");
    finish("releases x targets", results.into_iter().flat_map(|(_, e)| e).collect());
}
