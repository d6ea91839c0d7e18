//! Text renderers of the knowledge-base commands' outputs (`esxup build`,
//! `releases`, `advisories`, `kb-lint`); their JSON is
//! [`crate::json::to_json`] of the same types.

use crate::table::{columns, kv_rows};
use esxup_kb::report::{
    AdvisoriesReport, AdvisoryExposure, BuildReport, LifecycleReport, LintReport, ReleasesReport,
};
use esxup_kb::{LifecycleStatus, Release, ReleaseKind};
use std::fmt::Write as _;

fn kind_word(k: ReleaseKind) -> &'static str {
    match k {
        ReleaseKind::Ga => "ga",
        ReleaseKind::Update => "update",
        ReleaseKind::Patch => "patch",
        ReleaseKind::ExpressPatch => "express-patch",
        ReleaseKind::SecurityOnly => "security-only",
    }
}

/// `7.0: in general support until 2025-10-02` and the like.
pub fn lifecycle_text(l: &LifecycleReport) -> String {
    let b = l.branch;
    // Every lifecycle record cites a source: none means no record.
    if l.sources.is_empty() {
        return format!("{b}: unknown (no lifecycle data)");
    }
    let d = |x: Option<esxup_version::Date>| x.map(|d| d.to_string()).unwrap_or_else(|| "unknown".into());
    let (g, t) = (d(l.end_of_general_support), d(l.end_of_technical_guidance));
    match l.status {
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

/// The fix column of an exposure: `fixed in 17499825 (ESXi670-202102401-SG)`.
fn fix_text(e: &AdvisoryExposure) -> String {
    match (e.fixed_build, &e.fixed_release) {
        (Some(b), Some(r)) => format!("fixed in {b} ({r})"),
        (Some(b), None) => format!("fixed in {b}"),
        (None, _) => format!("no fix published for {}", e.branch),
    }
}

/// One line per exposure: id, CVEs with CVSS, fixed build.
pub fn exposure_line(e: &AdvisoryExposure) -> String {
    let cves: Vec<String> = e
        .cves
        .iter()
        .map(|c| {
            let mut s = c.id.clone();
            if let Some(v) = c.cvss {
                let _ = write!(s, " {v}");
            }
            if c.known_exploited {
                s.push_str(" exploited");
            }
            s
        })
        .collect();
    let mut s = format!("{}  {}; {}", e.id, cves.join(", "), fix_text(e));
    if let Some(kb) = &e.workaround_kb {
        let _ = write!(s, "; workaround {kb}");
    }
    s
}

fn none_known(covered: bool, branch: esxup_version::Branch) -> String {
    if covered {
        "none known".into()
    } else {
        format!("unknown: no advisory in the knowledge base lists branch {branch}")
    }
}

/// `esxup build`: one `Key  value` row per fact.
pub fn render_build(r: &BuildReport) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    row("Build", r.build.to_string());
    row("Release", r.release_name.clone());
    let version = match &r.update {
        Some(u) => format!("{} (Update {u})", r.version),
        None => r.version.to_string(),
    };
    row("Version", version);
    row("Kind", kind_word(r.kind).to_string());
    row("Bulletin", r.bulletin.clone().unwrap_or_else(|| "-".into()));
    row("Release date", r.release_date.to_string());
    row("Image profiles", if r.image_profiles.is_empty() { "-".into() } else { r.image_profiles.join(", ") });
    row("ISO", r.iso.map(|x| if x { "yes" } else { "no" }).unwrap_or("unknown").into());
    row(
        "VM hardware",
        r.max_vm_hardware.map(|v| format!("up to vmx-{v}")).unwrap_or_else(|| "unknown".into()),
    );
    row("Lifecycle", format!("{} (as of {})", lifecycle_text(&r.lifecycle), r.lifecycle.as_of));
    let newest = match &r.newest_in_branch {
        Some(_) if r.is_newest_in_branch => "this is the newest build of its branch".to_string(),
        Some(n) => {
            format!("{} {} ({}), {} release(s) newer", n.build, n.name, n.release_date, r.newer_in_branch)
        }
        None => "-".into(),
    };
    row(&format!("Newest {}", r.branch), newest);
    if r.upgrade_targets.is_empty() {
        row("Upgrade targets", "none in the knowledge base".into());
    }
    for (i, t) in r.upgrade_targets.iter().enumerate() {
        let how = if t.direct {
            "direct".to_string()
        } else {
            let hops: Vec<String> = t.hops.iter().map(ToString::to_string).collect();
            format!("via {}", hops[..hops.len().saturating_sub(1)].join(" -> "))
        };
        let first = match &t.first_allowed {
            None => "no release dated after this build yet (KB 67077)".to_string(),
            Some(f) => format!("from {} {} ({}) on (KB 67077)", f.build, f.name, f.release_date),
        };
        row(if i == 0 { "Upgrade targets" } else { "" }, format!("{} {how}, {first}", t.branch));
    }
    if r.advisories.is_empty() {
        row("Advisories", none_known(r.advisories_cover_branch, r.branch));
    }
    for (i, e) in r.advisories.iter().enumerate() {
        row(if i == 0 { "Advisories" } else { "" }, exposure_line(e));
    }
    for (i, x) in r.inconsistencies.iter().enumerate() {
        row(if i == 0 { "Inconsistent" } else { "" }, x.clone());
    }
    for (i, n) in r.notes.iter().enumerate() {
        row(if i == 0 { "Notes" } else { "" }, n.clone());
    }
    for (i, s) in r.sources.iter().enumerate() {
        row(if i == 0 { "Sources" } else { "" }, s.clone());
    }
    kv_rows(&rows)
}

fn release_row(r: &Release) -> Vec<String> {
    vec![
        r.build.to_string(),
        r.version.to_string(),
        r.release_date.to_string(),
        kind_word(r.kind).to_string(),
        r.name.clone(),
        r.bulletin.clone().unwrap_or_else(|| "-".into()),
    ]
}

/// `esxup releases`: one row per release.
pub fn render_releases(r: &ReleasesReport) -> String {
    let mut t = vec![["BUILD", "VERSION", "DATE", "KIND", "NAME", "BULLETIN"].map(String::from).to_vec()];
    t.extend(r.releases.iter().map(release_row));
    columns(&t)
}

/// `esxup advisories`: a sentence, then one row per exposure.
pub fn render_advisories(r: &AdvisoriesReport) -> String {
    let branch = r.version.branch();
    if r.advisories.is_empty() && !r.advisories_cover_branch {
        return format!("{} {}: {}\n", r.build, r.release_name, none_known(false, branch));
    }
    if r.advisories.is_empty() {
        return format!(
            "{} {}: not exposed to any advisory in the knowledge base\n",
            r.build, r.release_name
        );
    }
    let mut out =
        format!("{} {}: exposed to {} advisory(ies)\n", r.build, r.release_name, r.advisories.len());
    let mut t =
        vec![["ADVISORY", "CVES", "CVSS", "EXPLOITED", "FIXED IN", "WORKAROUND"].map(String::from).to_vec()];
    for e in &r.advisories {
        let fixed = match (e.fixed_build, &e.fixed_release) {
            (Some(b), Some(rel)) => format!("{b} {rel}"),
            (Some(b), None) => b.to_string(),
            (None, _) => "no fix published".into(),
        };
        t.push(vec![
            e.id.clone(),
            e.cves.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(" "),
            e.cvss_max.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            if e.known_exploited { "yes" } else { "no" }.into(),
            fixed,
            e.workaround_kb.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    out += &columns(&t);
    out
}

/// `esxup kb-lint`: one line per problem (the totals go to stderr).
pub fn render_lint(r: &LintReport) -> String {
    r.problems.iter().map(|p| format!("{p}\n")).collect()
}
