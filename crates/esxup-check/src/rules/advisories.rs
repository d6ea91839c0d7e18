//! Advisories: what the installed build is exposed to, whether the target
//! fixes it, known-exploited ones (CVE-2021-21974) and the slpd workaround.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::HostFacts;
use esxup_kb::{Advisory, Fix, FixStatus, Workaround};
use esxup_version::Version;

pub const RULES: &[(&str, Rule)] = &[("advisory_exposed", advisory_exposed), ("slpd", slpd)];

/// The public page of a VMware security advisory.
pub fn advisory_url(id: &str) -> String {
    format!("https://www.vmware.com/security/advisories/{id}.html")
}

/// slpd is stopped and not started at boot (KB 76372 workaround in place).
pub fn slpd_disabled(f: &HostFacts) -> Option<bool> {
    let s = f.slpd.as_ref()?;
    let running = s.running?;
    let policy_off = s.policy.as_deref().map(|p| p.eq_ignore_ascii_case("off"));
    Some(!running && policy_off.unwrap_or(true))
}

/// The message key of a known-exploited exposure, by what the advisory says
/// about the target ([`esxup_kb::FixStatus`], the one decision).
pub fn exploited_key(status: FixStatus) -> &'static str {
    match status {
        FixStatus::Fixed => "check.advisory_exploited",
        FixStatus::NotFixed => "check.advisory_exploited_not_fixed",
        FixStatus::NoFixPublished => "check.advisory_exploited_no_fix",
        FixStatus::NotListed => "check.advisory_exploited_not_listed",
    }
}

/// How a fix record names its build for a build of `version` (its update
/// line's fix when the data records one, [`Fix::first_fixed_for`]): the
/// release or bulletin, else the build number, else "none published".
pub fn fix_name(f: Option<&Fix>, version: Option<&Version>) -> String {
    f.and_then(|f| {
        let (build, release) = f.first_fixed_for(version);
        release.map(str::to_string).or(build.map(|b| b.to_string()))
    })
    .unwrap_or_else(|| "@check.why.no_fix".into())
}

/// The host's state of an advisory's workaround: `Some(true)` in place,
/// `Some(false)` not in place, `None` unknown (not collected, or a
/// workaround esxup cannot observe on the host).
pub fn workaround_in_place(a: &Advisory, facts: &HostFacts) -> Option<bool> {
    match a.workaround_service.as_deref() {
        Some("slpd") => slpd_disabled(facts),
        _ => None,
    }
}

/// The workaround sentence of a finding (`@check.workaround.*`, filled from
/// the finding's `workaround_text`/`workaround_kb` arguments): what the
/// advisory's data says, and whether the host already has it in place.
pub fn with_workaround(f: Finding, a: &Advisory, facts: &HostFacts) -> Finding {
    match a.workaround_info() {
        Workaround::Documented { text, .. } => {
            let key = match workaround_in_place(a, facts) {
                Some(true) => "@check.workaround.in_place",
                _ => "@check.workaround.apply",
            };
            f.arg("workaround", key).arg("workaround_text", text.trim_end_matches('.'))
        }
        Workaround::NoneExists { quote } => {
            f.arg("workaround", "@check.workaround.none").arg("workaround_text", quote.trim_end_matches('.'))
        }
        Workaround::NotRecorded => f.arg("workaround", "@check.workaround.not_recorded"),
    }
}

/// ADVISORY_EXPOSED (one per known-exploited advisory, one summary for the
/// rest) and TARGET_EXPOSED (the target itself is still affected). What a
/// finding says about the target is [`Advisory::status_in`], nothing else.
pub fn advisory_exposed(cx: &Ctx, out: &mut Vec<Finding>) {
    let (Some(branch), Some(build)) = (cx.current_branch(), cx.current_build) else {
        return;
    };
    let exp = cx.kb.exposures_on(branch, build);
    let mut others = Vec::new();
    let mut other_sources: Vec<String> = Vec::new();
    for e in &exp {
        let a = e.advisory;
        let cves = a.cves.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ");
        if a.known_exploited() {
            let status = a.status_in(cx.target);
            let f = Finding::new("ADVISORY_EXPOSED", Severity::Warning, exploited_key(status))
                .arg("advisory", &a.id)
                .arg("cves", &cves)
                .arg("fix", fix_name(e.fix, cx.current_version.as_ref()))
                .arg("target", &cx.target.name)
                .arg(
                    "branch",
                    a.fix_for(cx.target_branch())
                        .map(|f| f.fixed_line_label(Some(&cx.target.version)))
                        .unwrap_or_else(|| cx.target_branch().to_string()),
                )
                .arg("target_fix", fix_name(a.fix_for(cx.target_branch()), Some(&cx.target.version)))
                .arg("target_status", status.as_str())
                .evidence("product.build", build)
                .evidence("target.build", cx.target.build)
                .sources(&a.sources);
            out.push(with_workaround(f, a, cx.facts));
        } else {
            others.push(a.id.clone());
            other_sources.push(advisory_url(&a.id));
        }
    }
    if !others.is_empty() {
        out.push(
            Finding::new("ADVISORY_EXPOSED", Severity::Info, "check.advisory_summary")
                .arg("count", others.len())
                .arg("advisories", others.join(", "))
                .evidence("product.build", build)
                .sources(other_sources),
        );
    }
    // The target's own exposure to known-exploited advisories.
    let texp: Vec<String> = cx
        .kb
        .exposures_on(cx.target_branch(), cx.target.build)
        .into_iter()
        .filter(|e| e.advisory.known_exploited())
        .map(|e| e.advisory.id.clone())
        .collect();
    if !texp.is_empty() {
        out.push(
            Finding::new("TARGET_EXPOSED", Severity::Warning, "check.target_exposed")
                .arg("target", &cx.target.name)
                .arg("advisories", texp.join(", "))
                .evidence("target.build", cx.target.build)
                .sources(texp.iter().map(|a| advisory_url(a))),
        );
    }
}

/// SLPD_RUNNING: exposed to an advisory whose workaround is stopping slpd
/// (CVE-2021-21974, KB 76372) and slpd still runs or starts at boot.
pub fn slpd(cx: &Ctx, out: &mut Vec<Finding>) {
    let (Some(branch), Some(build)) = (cx.current_branch(), cx.current_build) else {
        return;
    };
    let exp: Vec<_> = cx
        .kb
        .exposures_on(branch, build)
        .into_iter()
        .filter(|e| e.advisory.workaround_service.as_deref() == Some("slpd"))
        .collect();
    if exp.is_empty() {
        return;
    }
    let ids = exp.iter().map(|e| e.advisory.id.as_str()).collect::<Vec<_>>().join(", ");
    let cves =
        exp.iter().flat_map(|e| e.advisory.cves.iter().map(|c| c.id.as_str())).collect::<Vec<_>>().join(", ");
    let kb = exp.iter().find_map(|e| e.advisory.workaround_kb.clone()).unwrap_or_else(|| "KB 76372".into());
    match slpd_disabled(cx.facts) {
        Some(true) => out.push(
            Finding::new("SLPD_WORKAROUND", Severity::Info, "check.slpd_disabled")
                .arg("advisories", &ids)
                .arg("cves", &cves)
                .arg("kb", &kb)
                .evidence("slpd.running", false)
                .source(&format!("VMware {kb} (disable slpd)")),
        ),
        Some(false) => {
            let s = cx.facts.slpd.as_ref();
            out.push(
                Finding::new("SLPD_RUNNING", Severity::Warning, "check.slpd_running")
                    .arg("advisories", &ids)
                    .arg("cves", &cves)
                    .arg("kb", &kb)
                    .evidence("slpd.running", s.and_then(|s| s.running).map_or("unknown".into(), |r| r.to_string()))
                    .evidence("slpd.policy", s.and_then(|s| s.policy.clone()).unwrap_or_else(|| "unknown".into()))
                    .source(&format!("VMware {kb} (disable slpd)")),
            );
        }
        None => out.push(unknown("SLPD_RUNNING", Severity::Warning, "slpd", "/etc/init.d/slpd status; chkconfig --list | grep slpd; esxcli network firewall ruleset list -r CIMSLP")),
    }
}
