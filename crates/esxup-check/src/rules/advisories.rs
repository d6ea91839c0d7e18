//! Advisories: what the installed build is exposed to, whether the target
//! fixes it, known-exploited ones (CVE-2021-21974) and the slpd workaround.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::HostFacts;

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

/// ADVISORY_EXPOSED (one per known-exploited advisory, one summary for the
/// rest) and TARGET_EXPOSED (the target itself is still affected).
pub fn advisory_exposed(cx: &Ctx, out: &mut Vec<Finding>) {
    let (Some(branch), Some(build)) = (cx.current_branch(), cx.current_build) else {
        return;
    };
    let exp = cx.kb.exposures_on(branch, build);
    let mut others = Vec::new();
    let mut other_sources: Vec<String> = Vec::new();
    for e in &exp {
        let a = e.advisory;
        let exploited = a.cves.iter().any(|c| c.known_exploited);
        let fixed = a.fixed_in(cx.target);
        let cves = a.cves.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ");
        if exploited {
            let key = if fixed == Some(false) {
                "check.advisory_exploited_not_fixed"
            } else {
                "check.advisory_exploited"
            };
            out.push(
                Finding::new("ADVISORY_EXPOSED", Severity::Warning, key)
                    .arg("advisory", &a.id)
                    .arg("cves", &cves)
                    .arg(
                        "fix",
                        e.fix
                            .and_then(|f| f.release.clone().or(f.build.map(|b| b.to_string())))
                            .unwrap_or_else(|| "@check.why.no_fix".into()),
                    )
                    .arg("target", &cx.target.name)
                    .evidence("product.build", build)
                    .sources(&a.sources),
            );
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
        .filter(|e| e.advisory.cves.iter().any(|c| c.known_exploited))
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
