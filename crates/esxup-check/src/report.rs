//! The check report: the one stable structure `esxup check` prints as JSON
//! (documented in `docs/check-json.md`) and the plan builds runbooks from.

use crate::finding::{Finding, Severity};
use crate::target::{ChosenBy, TargetSpec};
use esxup_kb::{LifecycleStatus, Release};
use esxup_version::{Branch, Date, MoveKind, Version};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the report layout. Bump on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A translatable sentence: message key plus placeholder values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub key: String,
    pub args: BTreeMap<String, String>,
}

impl Message {
    pub fn new(key: &str) -> Message {
        Message { key: key.to_string(), args: BTreeMap::new() }
    }
    pub fn arg(mut self, k: &str, v: impl ToString) -> Message {
        self.args.insert(k.to_string(), v.to_string());
        self
    }
}

/// A release as the report names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleaseRef {
    pub build: u32,
    pub version: Version,
    pub update: Option<String>,
    pub name: String,
    pub bulletin: Option<String>,
    pub date: Date,
}

impl From<&Release> for ReleaseRef {
    fn from(r: &Release) -> ReleaseRef {
        ReleaseRef {
            build: r.build,
            version: r.version,
            update: r.update.clone(),
            name: r.name.clone(),
            bulletin: r.bulletin.clone(),
            date: r.release_date,
        }
    }
}

/// Lifecycle of a branch on the report's day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BranchLifecycle {
    pub branch: Branch,
    pub status: LifecycleStatus,
    pub end_of_general_support: Option<Date>,
    pub end_of_technical_guidance: Option<Date>,
}

/// The host as checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostSummary {
    pub name: Option<String>,
    /// Where the facts came from.
    pub source: Option<String>,
    /// Installed build and version as the facts say (`None`: not collected).
    pub build: Option<u32>,
    pub version: Option<Version>,
    /// The knowledge-base record of the installed build (`None`: unknown build).
    pub release: Option<ReleaseRef>,
    pub lifecycle: Option<BranchLifecycle>,
}

/// The target as checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetSummary {
    pub spec: TargetSpec,
    pub chosen_by: ChosenBy,
    pub release: ReleaseRef,
    /// Update (same branch), upgrade, same or downgrade; `None` when the
    /// installed version is unknown.
    pub move_kind: Option<MoveKind>,
    pub lifecycle: Option<BranchLifecycle>,
}

/// Overall answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ready,
    ReadyWithWarnings,
    Blocked,
}

/// How to install the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodKind {
    /// Boot the installer ISO and choose "Upgrade".
    Iso,
    /// `esxcli software profile update` from a depot / offline bundle.
    Esxcli,
}

/// The recommended upgrade method and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Method {
    pub kind: MethodKind,
    /// `true` when the other method must not be used (Secure Boot forces ISO).
    pub required: bool,
    pub reasons: Vec<Message>,
}

/// Another target worth considering.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alternative {
    pub release: ReleaseRef,
    /// Blockers this target would still have (empty: it works).
    pub blockers: Vec<String>,
    pub reasons: Vec<Message>,
}

/// Going back one step with Shift+R (KB 1033604), then on to a target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rollback {
    /// Build in the alternate bootbank.
    pub build: u32,
    pub release: Option<ReleaseRef>,
    /// From that build, the target is not back in time.
    pub back_in_time_safe: Option<bool>,
    /// What to upgrade to after the rollback.
    pub then: ReleaseRef,
    pub steps: Vec<Message>,
}

/// What esxup suggests instead of (or on top of) the asked target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    /// The best target for this host (auto), or the nearest working one.
    pub best: Option<ReleaseRef>,
    pub why: Vec<Message>,
    /// Runners-up and alternatives, best first.
    pub alternatives: Vec<Alternative>,
    /// Intermediate branches to go through (6.0 -> 6.7 -> 7.0), each with its newest release.
    pub hops: Vec<ReleaseRef>,
    pub rollback: Option<Rollback>,
}

/// An advisory the installed build is exposed to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExposureReport {
    pub advisory: String,
    pub title: String,
    pub published: Date,
    pub cves: Vec<String>,
    pub known_exploited: bool,
    pub max_cvss: Option<f32>,
    /// First fixed build on the installed branch (`None`: no fix there).
    pub fix_build: Option<u32>,
    pub fix_release: Option<String>,
    /// The target release fixes it (`None`: the advisory says nothing about the target branch).
    pub fixed_by_target: Option<bool>,
    pub workaround_kb: Option<String>,
    pub workaround_service: Option<String>,
    /// The workaround is in place (service stopped and disabled); `None`: unknown.
    pub workaround_in_place: Option<bool>,
}

/// Finding counts per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub blockers: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Blocker => c.blockers += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Info => c.infos += 1,
            }
        }
        c
    }
}

/// The whole answer of `esxup check` for one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The day the report was computed for (lifecycle, ages).
    pub today: Date,
    pub host: HostSummary,
    pub target: TargetSummary,
    pub verdict: Verdict,
    pub counts: Counts,
    /// Blockers first, then warnings, then info; stable order within each.
    pub findings: Vec<Finding>,
    pub method: Method,
    pub recommendation: Option<Recommendation>,
    pub exposures: Vec<ExposureReport>,
}

impl CheckReport {
    /// Whether any finding blocks the upgrade.
    pub fn blocked(&self) -> bool {
        self.verdict == Verdict::Blocked
    }
    /// Findings with a given id.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }
}
