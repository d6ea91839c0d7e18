//! Rendering of `esxup check` reports (table, Markdown, JSON) and of the
//! fleet summary. OWNER: checks helper (issue 5).
//!
//! Message arguments whose value starts with `@` name another catalog key
//! (`@check.why.vmklinux`) and are rendered in the report's language.

use esxup_check::{
    CheckReport, ChosenBy, ExposureReport, Finding, FleetReport, FleetRow, Message, MethodKind, ReleaseRef,
    Severity, Verdict,
};
use esxup_i18n::{t, Lang};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Renders a message key with its arguments, resolving `@key` arguments.
pub fn msg(lang: Lang, key: &str, args: &BTreeMap<String, String>) -> String {
    let resolved: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| {
            let v = match v.strip_prefix('@') {
                Some(inner) => t(lang, inner, args),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    t(lang, key, &resolved)
}

fn ui(lang: Lang, key: &str) -> String {
    t(lang, &format!("check.ui.{key}"), &BTreeMap::new())
}

fn m(lang: Lang, mm: &Message) -> String {
    msg(lang, &mm.key, &mm.args)
}

/// Title, detail and remedy of a finding.
pub fn finding_texts(lang: Lang, f: &Finding) -> (String, String, String) {
    (
        msg(lang, &f.title_key(), &f.args),
        msg(lang, &f.detail_key(), &f.args),
        msg(lang, &f.remedy_key(), &f.args),
    )
}

/// Localised severity word.
pub fn sev_word(lang: Lang, s: Severity) -> String {
    t(lang, &format!("common.{}", s.as_str()), &BTreeMap::new())
}

/// Localised verdict.
pub fn verdict_word(lang: Lang, v: Verdict) -> String {
    ui(
        lang,
        match v {
            Verdict::Ready => "ready",
            Verdict::ReadyWithWarnings => "ready_with_warnings",
            Verdict::Blocked => "blocked",
        },
    )
}

/// Display width: East Asian wide characters count as two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 && !matches!(c as u32, 0x2000..=0x206F) { 2 } else { 1 }).sum()
}

/// Pads `s` with spaces to `w` display columns.
fn pad(s: &str, w: usize) -> String {
    let n = width(s);
    if n >= w {
        format!("{s} ")
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

fn rel(lang: Lang, r: &ReleaseRef) -> String {
    let mut a = BTreeMap::new();
    a.insert("name".to_string(), r.name.clone());
    a.insert("build".to_string(), r.build.to_string());
    a.insert("date".to_string(), r.date.to_string());
    t(lang, "check.ui.release", &a)
}

/// Localised lifecycle status.
pub fn lifecycle_word(lang: Lang, s: esxup_check::LifecycleStatus) -> String {
    ui(
        lang,
        match s {
            esxup_check::LifecycleStatus::GeneralSupport => "general-support",
            esxup_check::LifecycleStatus::TechnicalGuidance => "technical-guidance",
            esxup_check::LifecycleStatus::EndOfLife => "end-of-life",
            esxup_check::LifecycleStatus::Unknown => "unknown",
        },
    )
}

fn counts_line(lang: Lang, r: &CheckReport) -> String {
    let mut a = BTreeMap::new();
    a.insert("blockers".to_string(), r.counts.blockers.to_string());
    a.insert("warnings".to_string(), r.counts.warnings.to_string());
    a.insert("infos".to_string(), r.counts.infos.to_string());
    t(lang, "check.ui.counts", &a)
}

fn installed(lang: Lang, r: &CheckReport) -> String {
    match (&r.host.release, r.host.build, r.host.version) {
        (Some(rr), _, _) => rel(lang, rr),
        (None, Some(b), v) => format!(
            "{} build {b} ({})",
            v.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
            ui(lang, "unknown_build")
        ),
        _ => t(lang, "common.unknown", &BTreeMap::new()),
    }
}

fn chosen(lang: Lang, c: ChosenBy) -> String {
    ui(
        lang,
        match c {
            ChosenBy::Named => "chosen_named",
            ChosenBy::LatestOfBranch => "chosen_latest",
            ChosenBy::Auto => "chosen_auto",
        },
    )
}

fn method_line(lang: Lang, r: &CheckReport) -> String {
    let k = match r.method.kind {
        MethodKind::Iso => ui(lang, "method_iso"),
        MethodKind::Esxcli => ui(lang, "method_esxcli"),
    };
    if r.method.required {
        format!("{k} ({})", ui(lang, "required"))
    } else {
        k
    }
}

/// Plain-text report for a terminal (no colour, readable when piped).
pub fn render_table(r: &CheckReport, lang: Lang) -> String {
    let mut o = String::new();
    let lw = ["host", "installed", "target", "verdict", "method"]
        .iter()
        .map(|k| width(&ui(lang, k)))
        .max()
        .unwrap_or(0)
        + 2;
    let name = r.host.name.clone().unwrap_or_else(|| "-".into());
    let _ = writeln!(o, "{}{name}", pad(&ui(lang, "host"), lw));
    let _ = writeln!(o, "{}{}", pad(&ui(lang, "installed"), lw), installed(lang, r));
    if let Some(l) = &r.host.lifecycle {
        let _ = writeln!(o, "{}{} {}", pad("", lw), l.branch, lifecycle_word(lang, l.status));
    }
    let _ = writeln!(
        o,
        "{}{} [{}]",
        pad(&ui(lang, "target"), lw),
        rel(lang, &r.target.release),
        chosen(lang, r.target.chosen_by)
    );
    if let Some(l) = &r.target.lifecycle {
        let _ = writeln!(o, "{}{} {}", pad("", lw), l.branch, lifecycle_word(lang, l.status));
    }
    let _ = writeln!(
        o,
        "{}{} — {}",
        pad(&ui(lang, "verdict"), lw),
        verdict_word(lang, r.verdict),
        counts_line(lang, r)
    );
    let _ = writeln!(o, "{}{}", pad(&ui(lang, "method"), lw), method_line(lang, r));
    for reason in &r.method.reasons {
        let _ = writeln!(o, "{}{}", pad("", lw), m(lang, reason));
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", ui(lang, "findings"));
    if r.findings.is_empty() {
        let _ = writeln!(o, "  {}", ui(lang, "none"));
    }
    for f in &r.findings {
        let (title, detail, remedy) = finding_texts(lang, f);
        let _ = writeln!(o, "  [{}] {} — {}", sev_word(lang, f.severity), f.id, title);
        if f.severity != Severity::Info {
            let _ = writeln!(o, "      {detail}");
        }
        let _ = writeln!(o, "      -> {remedy}");
    }
    if let Some(rec) = &r.recommendation {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", ui(lang, "recommendation"));
        if let Some(b) = &rec.best {
            let _ = writeln!(o, "  {}: {}", ui(lang, "best"), rel(lang, b));
        }
        for w in &rec.why {
            let _ = writeln!(o, "    - {}", m(lang, w));
        }
        if !rec.alternatives.is_empty() {
            let _ = writeln!(o, "  {}:", ui(lang, "alternatives"));
            for a in &rec.alternatives {
                let status = if a.blockers.is_empty() { "ok".to_string() } else { a.blockers.join(", ") };
                let _ = writeln!(o, "    - {} [{status}]", rel(lang, &a.release));
                for reason in &a.reasons {
                    let _ = writeln!(o, "        {}", m(lang, reason));
                }
            }
        }
        if !rec.hops.is_empty() {
            let route: Vec<String> = rec.hops.iter().map(|h| rel(lang, h)).collect();
            let _ = writeln!(o, "  {}: {}", ui(lang, "hops"), route.join(" -> "));
        }
        if let Some(rb) = &rec.rollback {
            let safe = match rb.back_in_time_safe {
                Some(true) => ui(lang, "back_in_time_safe"),
                _ => t(lang, "common.unknown", &BTreeMap::new()),
            };
            let _ = writeln!(
                o,
                "  {}: Shift+R -> {} ({safe}) -> {}",
                ui(lang, "rollback"),
                rb.build,
                rel(lang, &rb.then)
            );
            for (i, s) in rb.steps.iter().enumerate() {
                let _ = writeln!(o, "    {}. {}", i + 1, m(lang, s));
            }
        }
    }
    if !r.exposures.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", ui(lang, "exposures"));
        for e in &r.exposures {
            let fixed = fix_status_text(lang, r, e);
            let exploited =
                if e.known_exploited { format!(" [{}]", ui(lang, "exploited")) } else { String::new() };
            let _ = writeln!(
                o,
                "  {} {}{exploited} — {}: {fixed}",
                e.advisory,
                e.cves.join(", "),
                ui(lang, "fixed_by_target")
            );
        }
    }
    o
}

/// "fixed by target" of one exposure, from its `target_status` (the one
/// decision, `esxup_kb::Advisory::status_in`) and the target's branch.
pub fn fix_status_text(lang: Lang, r: &CheckReport, e: &ExposureReport) -> String {
    let mut a = BTreeMap::new();
    let branch = r.target.release.version.branch().to_string();
    a.insert("branch".to_string(), e.target_fix_line.clone().unwrap_or(branch));
    let fix = e
        .target_fix_release
        .clone()
        .or(e.target_fix_build.map(|b| b.to_string()))
        .unwrap_or_else(|| t(lang, "check.why.no_fix", &BTreeMap::new()));
    a.insert("fix".to_string(), fix);
    t(lang, &format!("check.fix_status.{}", e.target_status.as_str()), &a)
}

/// Escapes a table cell for Markdown.
pub fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown report (for tickets and change requests).
pub fn render_md(r: &CheckReport, lang: Lang) -> String {
    let mut o = String::new();
    let name = r.host.name.clone().unwrap_or_else(|| "-".into());
    let _ = writeln!(o, "# esxup check: {name}\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| {} | {} |", ui(lang, "installed"), md_escape(&installed(lang, r)));
    let _ = writeln!(
        o,
        "| {} | {} ({}) |",
        ui(lang, "target"),
        md_escape(&rel(lang, &r.target.release)),
        chosen(lang, r.target.chosen_by)
    );
    let _ = writeln!(
        o,
        "| {} | **{}** — {} |",
        ui(lang, "verdict"),
        verdict_word(lang, r.verdict),
        counts_line(lang, r)
    );
    let _ = writeln!(o, "| {} | {} |", ui(lang, "method"), method_line(lang, r));
    for reason in &r.method.reasons {
        let _ = writeln!(o, "| | {} |", md_escape(&m(lang, reason)));
    }
    let _ = writeln!(o, "\n## {}\n", ui(lang, "findings"));
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} |",
        ui(lang, "severity"),
        ui(lang, "id"),
        ui(lang, "finding"),
        ui(lang, "remedy")
    );
    let _ = writeln!(o, "|---|---|---|---|");
    for f in &r.findings {
        let (title, detail, remedy) = finding_texts(lang, f);
        let sources = if f.sources.is_empty() {
            String::new()
        } else {
            format!("<br>_{}: {}_", ui(lang, "sources"), md_escape(&f.sources.join("; ")))
        };
        let _ = writeln!(
            o,
            "| {} | `{}` | **{}**<br>{}{} | {} |",
            sev_word(lang, f.severity),
            f.id,
            md_escape(&title),
            md_escape(&detail),
            sources,
            md_escape(&remedy)
        );
    }
    if let Some(rec) = &r.recommendation {
        let _ = writeln!(o, "\n## {}\n", ui(lang, "recommendation"));
        if let Some(b) = &rec.best {
            let _ = writeln!(o, "**{}**: {}\n", ui(lang, "best"), rel(lang, b));
        }
        for w in &rec.why {
            let _ = writeln!(o, "- {}", m(lang, w));
        }
        if !rec.alternatives.is_empty() {
            let _ = writeln!(o, "\n{}:\n", ui(lang, "alternatives"));
            for a in &rec.alternatives {
                let status = if a.blockers.is_empty() { "ok".to_string() } else { a.blockers.join(", ") };
                let reasons: Vec<String> = a.reasons.iter().map(|x| m(lang, x)).collect();
                let _ = writeln!(o, "- {} — `{status}` {}", rel(lang, &a.release), reasons.join(" "));
            }
        }
        if !rec.hops.is_empty() {
            let route: Vec<String> = rec.hops.iter().map(|h| rel(lang, h)).collect();
            let _ = writeln!(o, "\n{}: {}", ui(lang, "hops"), route.join(" → "));
        }
        if let Some(rb) = &rec.rollback {
            let _ = writeln!(o, "\n### {}\n", ui(lang, "rollback"));
            for (i, s) in rb.steps.iter().enumerate() {
                let _ = writeln!(o, "{}. {}", i + 1, m(lang, s));
            }
        }
    }
    if !r.exposures.is_empty() {
        let _ = writeln!(o, "\n## {}\n", ui(lang, "exposures"));
        let _ = writeln!(o, "| VMSA | CVE | {} | {} |", ui(lang, "exploited"), ui(lang, "fixed_by_target"));
        let _ = writeln!(o, "|---|---|---|---|");
        for e in &r.exposures {
            let exploited = if e.known_exploited { ui(lang, "yes") } else { ui(lang, "no") };
            let _ = writeln!(
                o,
                "| {} | {} | {exploited} | {} |",
                e.advisory,
                e.cves.join(", "),
                md_escape(&fix_status_text(lang, r, e))
            );
        }
    }
    o
}

/// The JSON form (docs/check-json.md): the report as serialised, pretty-printed.
pub fn render_json(r: &CheckReport) -> String {
    crate::json::to_json_pretty(r)
}

/// The fleet summary for a terminal: one line per host, then the totals.
/// It needs only the fleet rows, not every host's whole report.
pub fn render_fleet_table(rows: &[FleetRow], lang: Lang) -> String {
    let mut o = String::new();
    for r in rows {
        match r.verdict {
            Some(v) => {
                let _ = writeln!(o, "{}", fleet_line(r, v, lang));
            }
            None => {
                let _ = writeln!(o, "{:<24} ERROR      {}", r.name, r.error.as_deref().unwrap_or(""));
            }
        }
    }
    let t = esxup_check::fleet::totals(rows);
    let _ =
        writeln!(o, "{}", fleet_totals(lang, t.hosts, t.ready, t.ready_with_warnings, t.blocked, t.errors));
    o
}

/// The fleet summary as Markdown: a table of the hosts, then the totals.
pub fn render_fleet_md(f: &FleetReport, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# esxup check: {}\n", ui(lang, "fleet"));
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {} |",
        ui(lang, "host"),
        ui(lang, "verdict"),
        ui(lang, "installed"),
        ui(lang, "target"),
        ui(lang, "blockers")
    );
    let _ = writeln!(o, "|---|---|---|---|---|");
    for h in &f.hosts {
        match (&h.report, &h.error) {
            (Some(r), _) => {
                let mut b: Vec<&str> = r
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Blocker)
                    .map(|f| f.id.as_str())
                    .collect();
                b.dedup();
                let _ = writeln!(
                    o,
                    "| {} | **{}** — {} | {} | {} | {} |",
                    md_escape(&h.name),
                    verdict_word(lang, r.verdict),
                    counts_line(lang, r),
                    md_escape(&installed(lang, r)),
                    md_escape(&rel(lang, &r.target.release)),
                    if b.is_empty() {
                        "-".to_string()
                    } else {
                        b.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
                    }
                );
            }
            (None, e) => {
                let _ = writeln!(
                    o,
                    "| {} | **ERROR** | {} | | |",
                    md_escape(&h.name),
                    md_escape(e.as_deref().unwrap_or(""))
                );
            }
        }
    }
    let t = &f.totals;
    let _ =
        writeln!(o, "\n{}", fleet_totals(lang, t.hosts, t.ready, t.ready_with_warnings, t.blocked, t.errors));
    o
}

/// One fleet summary line: `name  verdict  build  counts  blockers`.
pub fn fleet_line(r: &FleetRow, verdict: Verdict, lang: Lang) -> String {
    let mut line = format!(
        "{}{:<10} B{} W{} I{}",
        pad(&r.name, 24) + &pad(&verdict_word(lang, verdict), 20),
        r.build.map(|b| b.to_string()).unwrap_or_else(|| "?".into()),
        r.blockers.unwrap_or(0),
        r.warnings.unwrap_or(0),
        r.infos.unwrap_or(0)
    );
    if !r.blocker_ids.is_empty() {
        let _ = write!(line, "  {}", r.blocker_ids.join(","));
    }
    line
}

/// Totals line of a fleet run.
pub fn fleet_totals(
    lang: Lang,
    hosts: usize,
    ready: usize,
    warnings: usize,
    blocked: usize,
    errors: usize,
) -> String {
    let mut a = BTreeMap::new();
    for (k, v) in
        [("hosts", hosts), ("ready", ready), ("warnings", warnings), ("blocked", blocked), ("errors", errors)]
    {
        a.insert(k.to_string(), v.to_string());
    }
    t(lang, "check.ui.fleet_totals", &a)
}
