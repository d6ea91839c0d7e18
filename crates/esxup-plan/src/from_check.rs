//! Adapter from an `esxup check` report to a [`PlanInput`]: the verdict,
//! findings, method and recommendation of the check, completed with the
//! full knowledge-base records (image profiles, VM hardware) the steps need.

use crate::input::*;
use esxup_check::{CheckReport, Message};
use esxup_facts::HostFacts;
use esxup_kb::{Kb, Release, ReleaseKind, Workaround};

/// Why a check report cannot be turned into a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("build plan for {host}: the knowledge base has no record of target build {build}")]
    UnknownTarget { host: String, build: u32 },
}

fn full(kb: &Kb, r: &esxup_check::ReleaseRef) -> Release {
    match kb.release(r.build) {
        Some(x) => x.clone(),
        None => Release {
            build: r.build,
            version: r.version,
            update: r.update.clone(),
            name: r.name.clone(),
            kind: ReleaseKind::Patch,
            bulletin: r.bulletin.clone(),
            release_date: r.date,
            image_profiles: Vec::new(),
            iso: None,
            max_vm_hardware: None,
            sources: Vec::new(),
            notes: Vec::new(),
            withdrawn: None,
        },
    }
}

fn text(m: &Message) -> Text {
    Text::Key { key: m.key.clone(), args: m.args.clone() }
}

/// Builds the plan input from a check report, the facts it was computed
/// from, and the same knowledge base.
pub fn plan_input(
    report: &CheckReport,
    facts: &HostFacts,
    kb: &Kb,
    depot: Option<String>,
) -> Result<PlanInput, PlanError> {
    let requested =
        kb.release(report.target.release.build).cloned().ok_or_else(|| PlanError::UnknownTarget {
            host: facts.hostname.clone().unwrap_or_else(|| "host".into()),
            build: report.target.release.build,
        })?;
    let current = report.host.build.and_then(|b| kb.release(b)).cloned();
    let verdict = match report.verdict {
        esxup_check::Verdict::Ready => Verdict::Ready,
        esxup_check::Verdict::ReadyWithWarnings => Verdict::ReadyWithWarnings,
        esxup_check::Verdict::Blocked => Verdict::Blocked,
    };
    let method = match report.method.kind {
        esxup_check::MethodKind::Iso => MethodKind::Iso,
        esxup_check::MethodKind::Esxcli => MethodKind::Depot,
    };
    let rec = report.recommendation.as_ref();
    // Hops toward a branch. Each hop is the newest release of its branch that
    // is neither older than the installed build nor newer than the final
    // target: either would make one leg a back-in-time upgrade (KB 67077).
    let cur_branch = report.host.version.map(|v| v.branch()).or(current.as_ref().map(|c| c.version.branch()));
    let cur_date = current.as_ref().map(|c| c.release_date);
    let hops_to = |target: &Release| -> Vec<Release> {
        match cur_branch {
            Some(c) => kb
                .intermediate_hops(c, target.version.branch())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|b| {
                    let rels: Vec<&Release> = kb.branch_releases(b).collect();
                    rels.iter()
                        .rev()
                        .find(|r| {
                            r.release_date <= target.release_date
                                && !matches!(cur_date, Some(d) if r.release_date < d)
                        })
                        .or_else(|| rels.last())
                        .map(|r| (*r).clone())
                })
                .collect(),
            None => rec.map(|r| r.hops.iter().map(|h| full(kb, h)).collect()).unwrap_or_default(),
        }
    };
    // Blocked only because the path needs hops: the steps go through them.
    let path_only = verdict == Verdict::Blocked
        && report
            .findings
            .iter()
            .filter(|f| f.severity == esxup_check::Severity::Blocker)
            .all(|f| f.id == "UPGRADE_PATH")
        && !hops_to(&requested).is_empty();
    // When blocked, follow the newest alternative of the requested branch that
    // the check found no blocker for (it also carries the most fixes), else
    // the check's own best choice.
    let alternative = if verdict == Verdict::Blocked && !path_only {
        let same_branch = rec.and_then(|r| {
            r.alternatives
                .iter()
                .filter(|a| a.blockers.is_empty() && a.release.version.branch() == requested.version.branch())
                .max_by_key(|a| (a.release.date, a.release.build))
        });
        same_branch
            .map(|a| &a.release)
            .or_else(|| rec.and_then(|r| r.best.as_ref()))
            .map(|b| full(kb, b))
            .filter(|b| b.build != requested.build)
    } else {
        None
    };
    let route_target = alternative.clone().unwrap_or_else(|| requested.clone());
    let hops = hops_to(&route_target);
    let rollback_route = rec.and_then(|r| r.rollback.as_ref()).and_then(|rb| {
        if rb.back_in_time_safe != Some(true) {
            return None;
        }
        let to = kb.release(rb.build)?.clone();
        Some(RollbackRoute { to, then: full(kb, &rb.then) })
    });
    let altbootbank = facts.altbootbank.as_ref().and_then(|a| a.build).and_then(|b| kb.release(b)).cloned();
    let advisories = kb.advisories();
    let exposures = report
        .exposures
        .iter()
        .map(|e| {
            let adv = advisories.iter().find(|a| a.id == e.advisory);
            // The same decision as the check's findings, for the route's target.
            let target_status = adv.map(|a| a.status_in(&route_target)).unwrap_or(e.target_status);
            let workaround = if e.workaround_in_place == Some(true) {
                None
            } else {
                // Only a documented workaround is one to apply ("none: ..." in
                // the KB records that there is none).
                adv.and_then(|a| match a.workaround_info() {
                    Workaround::Documented { text, kb: Some(k) } if !text.contains(k) => {
                        Some(format!("{text} ({k})"))
                    }
                    Workaround::Documented { text, .. } => Some(text.to_string()),
                    Workaround::NoneExists { .. } | Workaround::NotRecorded => None,
                })
            };
            ExposureInfo {
                id: e.advisory.clone(),
                title: e.title.clone(),
                cves: e.cves.clone(),
                known_exploited: e.known_exploited,
                fixed_by_target: target_status.fixed(),
                target_status,
                workaround,
                workaround_service: if e.workaround_in_place == Some(true) {
                    None
                } else {
                    e.workaround_service.clone()
                },
            }
        })
        .collect();
    let latest_in_branch = kb.latest(route_target.version.branch()).cloned();
    let max_vm_hardware = kb.max_vm_hardware(route_target.build);
    // The check chose the method for the requested target; a different route
    // target gets the same rule: Secure Boot forces the ISO, an upgrade to a
    // new branch suggests it, an update within the branch uses esxcli.
    let (method, method_reasons) = if route_target.build == requested.build || report.method.required {
        (method, report.method.reasons.iter().map(text).collect())
    } else {
        let upgrade = !matches!(cur_branch, Some(c) if c >= route_target.version.branch());
        let key = if upgrade { "check.method.upgrade_iso_or_esxcli" } else { "check.method.update_esxcli" };
        let kind = if upgrade { MethodKind::Iso } else { MethodKind::Depot };
        (kind, vec![Text::Key { key: key.to_string(), args: Default::default() }])
    };
    Ok(PlanInput {
        facts: facts.clone(),
        today: report.today,
        current,
        requested,
        verdict,
        findings: report.findings.clone(),
        method,
        method_reasons,
        depot,
        alternative,
        hops,
        rollback_route,
        altbootbank,
        exposures,
        latest_in_branch,
        max_vm_hardware,
        extra_ways_out: Vec::new(),
        auto_reasons: if report.target.chosen_by == esxup_check::ChosenBy::Auto {
            rec.map(|r| r.why.iter().map(text).collect()).unwrap_or_default()
        } else {
            Vec::new()
        },
    })
}
