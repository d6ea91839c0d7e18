//! Adapter from an `esxup check` report to a [`PlanInput`]: the verdict,
//! findings, method and recommendation of the check, completed with the
//! full knowledge-base records (image profiles, VM hardware) the steps need.

use crate::input::*;
use esxup_check::kbview::{self, KbView};
use esxup_check::{CheckReport, Message};
use esxup_facts::HostFacts;
use esxup_kb::{Release, ReleaseKind};

/// Why a check report cannot be turned into a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("build plan for {host}: the knowledge base has no record of target build {build}")]
    UnknownTarget { host: String, build: u32 },
}

fn full(kb: &dyn KbView, r: &esxup_check::ReleaseRef) -> Release {
    match kbview::release_by_build(kb, r.build) {
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
    kb: &dyn KbView,
    depot: Option<String>,
) -> Result<PlanInput, PlanError> {
    let requested = kbview::release_by_build(kb, report.target.release.build).cloned().ok_or_else(|| {
        PlanError::UnknownTarget {
            host: facts.hostname.clone().unwrap_or_else(|| "host".into()),
            build: report.target.release.build,
        }
    })?;
    let current = report.host.build.and_then(|b| kbview::release_by_build(kb, b)).cloned();
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
    // When blocked, follow the newest alternative of the requested branch that
    // the check found no blocker for (it also carries the most fixes), else
    // the check's own best choice.
    let alternative = if verdict == Verdict::Blocked {
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
    // Hops toward the route's branch (the check computes them for the requested branch).
    let cur_branch = report.host.version.map(|v| v.branch()).or(current.as_ref().map(|c| c.version.branch()));
    let hops: Vec<Release> = if route_target.version.branch() == requested.version.branch() {
        rec.map(|r| r.hops.iter().map(|h| full(kb, h)).collect()).unwrap_or_default()
    } else {
        match cur_branch {
            Some(c) => kbview::hops(kb, c, route_target.version.branch())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|b| kbview::latest(kb, b).cloned())
                .collect(),
            None => Vec::new(),
        }
    };
    let rollback_route = rec.and_then(|r| r.rollback.as_ref()).and_then(|rb| {
        if rb.back_in_time_safe != Some(true) {
            return None;
        }
        let to = kbview::release_by_build(kb, rb.build)?.clone();
        Some(RollbackRoute { to, then: full(kb, &rb.then) })
    });
    let altbootbank =
        facts.altbootbank.as_ref().and_then(|a| a.build).and_then(|b| kbview::release_by_build(kb, b)).cloned();
    let advisories = kb.all_advisories();
    let exposures = report
        .exposures
        .iter()
        .map(|e| {
            let adv = advisories.iter().find(|a| a.id == e.advisory);
            let fixed_by_target = adv.and_then(|a| kbview::fixes(&route_target, a));
            let workaround = if e.workaround_in_place == Some(true) {
                None
            } else {
                adv.and_then(|a| match (&a.workaround, &a.workaround_kb) {
                    (Some(w), Some(k)) => Some(format!("{w} ({k})")),
                    (Some(w), None) => Some(w.clone()),
                    (None, Some(k)) => Some(k.clone()),
                    (None, None) => None,
                })
            };
            ExposureInfo {
                id: e.advisory.clone(),
                title: e.title.clone(),
                cves: e.cves.clone(),
                known_exploited: e.known_exploited,
                fixed_by_target,
                workaround,
                workaround_service: if e.workaround_in_place == Some(true) { None } else { e.workaround_service.clone() },
            }
        })
        .collect();
    let latest_in_branch = kbview::latest(kb, route_target.version.branch()).cloned();
    let max_vm_hardware = kbview::max_vm_hardware(kb, &route_target);
    let method_reasons = report.method.reasons.iter().map(text).collect();
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
    })
}
