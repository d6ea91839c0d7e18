//! The check report: the one stable structure `esxup check` prints as JSON
//! (documented in `docs/check-json.md`) and the plan builds runbooks from.

use crate::finding::{Finding, Severity};
use crate::target::{ChosenBy, TargetSpec};
use esxup_kb::{Cvss, FixStatus, LifecycleStatus, Release};
use esxup_version::{Branch, Date, MoveKind, Version};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the report layout. Bump on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A translatable sentence: message key plus placeholder values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BranchLifecycle {
    pub branch: Branch,
    pub status: LifecycleStatus,
    pub end_of_general_support: Option<Date>,
    pub end_of_technical_guidance: Option<Date>,
}

/// The host as checked.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ready,
    ReadyWithWarnings,
    Blocked,
}

impl Verdict {
    /// The verdict as its JSON spells it (`ready-with-warnings`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::ReadyWithWarnings => "ready-with-warnings",
            Verdict::Blocked => "blocked",
        }
    }
}

/// How to install the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MethodKind {
    /// Boot the installer ISO and choose "Upgrade".
    Iso,
    /// `esxcli software profile update` from a depot / offline bundle.
    Esxcli,
}

/// The recommended upgrade method and why.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Method {
    pub kind: MethodKind,
    /// `true` when the other method must not be used (Secure Boot forces ISO).
    pub required: bool,
    pub reasons: Vec<Message>,
}

/// Another target worth considering.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Alternative {
    pub release: ReleaseRef,
    /// Blockers this target would still have (empty: it works).
    pub blockers: Vec<String>,
    pub reasons: Vec<Message>,
}

/// Going back one step with Shift+R (KB 1033604), then on to a target.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ExposureReport {
    pub advisory: String,
    pub title: String,
    pub published: Date,
    pub cves: Vec<String>,
    pub known_exploited: bool,
    pub max_cvss: Option<Cvss>,
    /// First fixed build on the installed branch, on the installed build's
    /// update line when the advisory records one for it (`None`: no fix there).
    pub fix_build: Option<u32>,
    pub fix_release: Option<String>,
    /// The target release fixes it: [`FixStatus::fixed`] of `target_status`
    /// (`None`: the advisory does not list the target's branch).
    pub fixed_by_target: Option<bool>,
    /// What the advisory says about the target build (the one decision,
    /// `esxup_kb::Advisory::status_in`).
    pub target_status: FixStatus,
    /// First fixed build (and its release) on the target's branch, on the
    /// target's update line when the advisory records one for it.
    pub target_fix_build: Option<u32>,
    pub target_fix_release: Option<String>,
    /// What `target_fix_build` is the first fixed build of: the target's
    /// update line (`8.0 U3`) when the advisory records a fix for that line
    /// (`[[fix.line]]`), else the target's branch (`8.0`). `None`: the
    /// advisory does not list the target's branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_fix_line: Option<String>,
    pub workaround_kb: Option<String>,
    pub workaround_service: Option<String>,
    /// The workaround is in place (service stopped and disabled); `None`:
    /// unknown, or not a workaround esxup can see on the host.
    pub workaround_in_place: Option<bool>,
    /// `true`: a workaround is documented (`workaround`); `false`: the vendor
    /// says there is none (`workaround` quotes it); `None`: not recorded.
    pub workaround_exists: Option<bool>,
    pub workaround: Option<String>,
}

/// Finding counts per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
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

/// One host of a fleet check (`esxup check --facts-dir DIR`).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FleetHost {
    /// The facts file.
    pub file: String,
    /// The host's name: the facts' hostname, else the file stem.
    pub name: String,
    /// The report, when the file could be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<CheckReport>>,
    /// Why the file could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Per-verdict totals of a fleet check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FleetTotals {
    pub hosts: usize,
    pub ready: usize,
    pub ready_with_warnings: usize,
    pub blocked: usize,
    pub errors: usize,
}

/// The answer of `esxup check --facts-dir DIR`: every host, in file order,
/// and the totals. Its JSON is validated against `schema/check-fleet.schema.json`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FleetReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub hosts: Vec<FleetHost>,
    pub totals: FleetTotals,
}

impl FleetTotals {
    /// The totals of hosts with these verdicts (`None`: the host failed).
    pub fn of(verdicts: impl IntoIterator<Item = Option<Verdict>>) -> FleetTotals {
        let mut t = FleetTotals::default();
        for v in verdicts {
            t.hosts += 1;
            match v {
                Some(Verdict::Ready) => t.ready += 1,
                Some(Verdict::ReadyWithWarnings) => t.ready_with_warnings += 1,
                Some(Verdict::Blocked) => t.blocked += 1,
                None => t.errors += 1,
            }
        }
        t
    }
}

impl FleetReport {
    /// The report of these hosts, with their totals.
    pub fn new(hosts: Vec<FleetHost>) -> FleetReport {
        let totals = FleetTotals::of(hosts.iter().map(|h| h.report.as_ref().map(|r| r.verdict)));
        FleetReport { schema_version: REPORT_SCHEMA_VERSION, hosts, totals }
    }
}

/// The JSON Schemas of `esxup check`'s outputs: (file name in `schema/`, schema).
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn s<T: schemars::JsonSchema>() -> String {
        let mut t = serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default();
        t.push('\n');
        t
    }
    vec![
        ("check.schema.json", s::<CheckReport>()),
        ("check-fleet.schema.json", s::<FleetReport>()),
        ("check-fleet-summary.schema.json", s::<crate::fleet::FleetSummary>()),
    ]
}
