//! What the step builder needs to know: the host's facts plus the verdict
//! of `esxup check` (findings, method, recommendation), flattened into one
//! plain struct so that the builder does not depend on how the check report
//! is laid out. [`crate::from_check`] fills it from a real check report.

use esxup_check::Finding;
use esxup_facts::HostFacts;
use esxup_kb::Release;
use esxup_version::Date;
use std::collections::BTreeMap;

/// The check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    ReadyWithWarnings,
    Blocked,
}

/// ISO installer or esxcli with a depot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodKind {
    Iso,
    Depot,
}

/// A message reference: catalog key and its placeholder values, or a text
/// already rendered by the check (kept as is).
#[derive(Clone, Debug, PartialEq)]
pub enum Text {
    Key { key: String, args: BTreeMap<String, String> },
    Plain(String),
}

/// An advisory the installed build is exposed to.
#[derive(Clone, Debug, PartialEq)]
pub struct ExposureInfo {
    pub id: String,
    pub title: String,
    pub cves: Vec<String>,
    pub known_exploited: bool,
    /// The route's target fixes it: [`esxup_kb::FixStatus::fixed`] of
    /// `target_status` (`None`: the advisory does not list the branch).
    pub fixed_by_target: Option<bool>,
    /// What the advisory says about the route's target (the one decision,
    /// `esxup_kb::Advisory::status_in`, as in the check report).
    pub target_status: esxup_kb::FixStatus,
    /// Workaround KB and text, if any (`KB 76372`, disable slpd).
    pub workaround: Option<String>,
    /// Service whose stop is the workaround (`slpd`), when not yet in place.
    pub workaround_service: Option<String>,
}

/// The rollback route before the upgrade: Shift+R to the altbootbank build,
/// then the requested target, which is no longer back-in-time from there.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackRoute {
    /// The build in the altbootbank (what Shift+R brings back).
    pub to: Release,
    /// The target that works from there.
    pub then: Release,
}

/// Everything the step builder reads.
#[derive(Clone, Debug)]
pub struct PlanInput {
    pub facts: HostFacts,
    pub today: Date,
    /// The installed release, when the KB knows the build.
    pub current: Option<Release>,
    /// The target the admin asked for.
    pub requested: Release,
    pub verdict: Verdict,
    /// Every finding of the check, any severity.
    pub findings: Vec<Finding>,
    pub method: MethodKind,
    /// Why that method (rendered or as keys).
    pub method_reasons: Vec<Text>,
    /// `--depot` as given (path or URL).
    pub depot: Option<String>,
    /// A working target when the requested one is blocked.
    pub alternative: Option<Release>,
    /// Intermediate releases to install before the route's target (hops).
    pub hops: Vec<Release>,
    /// Shift+R route, when the altbootbank build makes the requested target work.
    pub rollback_route: Option<RollbackRoute>,
    /// What the altbootbank holds now, if the KB knows the build.
    pub altbootbank: Option<Release>,
    pub exposures: Vec<ExposureInfo>,
    /// Newest release of the route target's branch (for the patch step).
    pub latest_in_branch: Option<Release>,
    /// Highest VM hardware version the route target supports.
    pub max_vm_hardware: Option<u32>,
    /// Extra texts for the way out, as the check words them.
    pub extra_ways_out: Vec<Text>,
    /// `--target auto`: why the check chose this target (empty otherwise).
    pub auto_reasons: Vec<Text>,
}

impl PlanInput {
    /// The release the upgrade steps install.
    pub fn route_target(&self) -> &Release {
        match (self.verdict, &self.alternative) {
            (Verdict::Blocked, Some(alt)) => alt,
            _ => &self.requested,
        }
    }

    /// Whether the steps follow the requested target.
    pub fn route_is_requested(&self) -> bool {
        self.route_target().build == self.requested.build
    }

    /// Blocked only because the target needs intermediate hops, and the hops
    /// are known: the steps go through them.
    pub fn blocked_only_by_path(&self) -> bool {
        self.verdict == Verdict::Blocked
            && !self.hops.is_empty()
            && self
                .findings
                .iter()
                .filter(|f| f.severity == esxup_check::Severity::Blocker)
                .all(|f| f.id == "UPGRADE_PATH")
    }
}
