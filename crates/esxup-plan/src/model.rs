//! The runbook model: phases, steps, commands and checks, as renderers print
//! them and as a runner executes them (the JSON form is this structure).

use esxup_i18n::Lang;
use serde::Serialize;

/// Version of the JSON layout of a [`Plan`]. Bump on incompatible changes.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// The verdict of the plan, after `esxup check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    /// Nothing stands in the way.
    Ready,
    /// Warnings need attention, nothing blocks.
    ReadyWithWarnings,
    /// The requested target cannot be reached as asked.
    Blocked,
}

/// Where a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOn {
    /// The ESXi Shell (SSH) of the host.
    EsxiShell,
    /// The admin's own computer (download, `dd`, `curl`).
    Workstation,
    /// The host's physical console / remote KVM (boot menus, installer).
    Console,
}

/// One command line, ready to paste.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Command {
    pub run_on: RunOn,
    /// The exact line, with this host's names filled in. Values the admin
    /// must supply stay in angle brackets (`<licence-key>`).
    pub line: String,
    /// A short remark shown next to the line, in the plan's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The `<...>` placeholders in `line` the admin must fill in first; a
    /// runner must not run a line while this is not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

impl Command {
    pub fn new(run_on: RunOn, line: impl Into<String>, note: Option<String>) -> Command {
        let line = line.into();
        let inputs = placeholders(&line);
        Command { run_on, line, note, inputs }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_placeholders() {
        assert_eq!(super::placeholders("vim-cmd vimsvc/license --set <licence-key>"), ["<licence-key>"]);
        assert_eq!(super::placeholders("dd if=<a.iso> of=/dev/<sdX> bs=4M"), ["<a.iso>", "<sdX>"]);
        assert!(super::placeholders("grep -E '^(build)=' /altbootbank/boot.cfg").is_empty());
        assert!(super::placeholders("a < b > c").is_empty());
    }
}

/// `<name>` tokens of a command line (`<vmid>`, `<licence-key>`).
pub fn placeholders(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find('<') {
        match rest[i + 1..].find('>') {
            Some(j) if j > 0 && !rest[i + 1..i + 1 + j].contains([' ', '<']) => {
                let p = rest[i..i + 2 + j].to_string();
                if !out.contains(&p) {
                    out.push(p);
                }
                rest = &rest[i + 2 + j..];
            }
            _ => rest = &rest[i + 1..],
        }
    }
    out
}

/// How to tell that a step worked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verify {
    /// What to look for, in the plan's language.
    pub text: String,
    /// Commands whose output shows it.
    pub commands: Vec<Command>,
    /// A text the output of the commands must contain (for a runner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// A file the plan generates for the admin (e.g. `ghettoVCB.conf`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GeneratedFile {
    /// Where to put it (on the host or the workstation).
    pub path: String,
    pub content: String,
}

/// One step of the runbook.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// Stable id (`before.backup-config`), the same in every language.
    pub id: String,
    pub title: String,
    /// Why the step matters for this host.
    pub purpose: String,
    /// Extra remarks (facts of this host, cautions).
    pub notes: Vec<String>,
    pub commands: Vec<Command>,
    /// `esxup run` can carry it out on this host (see
    /// [`crate::runnable::automation`], which the runner asks too).
    pub automatable: bool,
    /// The `esxup run` steps that carry it out (`config-backup`, ...), if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub run_steps: Vec<crate::runnable::RunStep>,
    pub verify: Verify,
    /// What to do when it goes wrong.
    pub on_failure: String,
    pub files: Vec<GeneratedFile>,
    /// KB / doc references.
    pub sources: Vec<String>,
}

/// A phase: Before, Media and method, Upgrade, After, Rollback.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Phase {
    /// `before`, `media`, `upgrade`, `after`, `rollback`.
    pub id: String,
    pub title: String,
    pub steps: Vec<Step>,
}

/// A release as the plan names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReleaseRef {
    pub build: u32,
    pub version: String,
    pub name: String,
    pub release_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_profile: Option<String>,
}

/// A finding as the plan shows it, rendered in the plan's language.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanFinding {
    pub id: String,
    pub severity: String,
    pub title: String,
    pub detail: String,
    pub remedy: String,
    pub sources: Vec<String>,
}

/// A way past the blockers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WayOut {
    /// `target`, `hop`, `rollback`, `remove-driver`, `remedy`.
    pub kind: String,
    pub text: String,
}

/// The upgrade method and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MethodChoice {
    /// `iso` or `depot`.
    pub kind: String,
    pub reasons: Vec<String>,
}

/// The route the steps follow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    /// The release the upgrade steps install.
    pub target: ReleaseRef,
    /// Releases to install first, in order (hops, or a rollback build).
    pub via: Vec<ReleaseRef>,
    /// True when the steps go to the requested target; false when the
    /// requested target is blocked and the steps follow a working one.
    pub is_requested: bool,
    /// One sentence naming the route (shown at the top of the steps).
    pub label: String,
}

/// A complete runbook for one host and one target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub schema_version: u32,
    pub lang: Lang,
    /// The day the plan was written (ESXUP_TODAY in tests).
    pub generated_on: String,
    pub host: String,
    pub title: String,
    pub status: PlanStatus,
    /// The status as one plain sentence.
    pub status_text: String,
    pub current: Option<ReleaseRef>,
    pub requested: ReleaseRef,
    pub route: Route,
    pub method: MethodChoice,
    pub blockers: Vec<PlanFinding>,
    pub ways_out: Vec<WayOut>,
    pub warnings: Vec<PlanFinding>,
    /// The check's info findings (things to know or to collect), shown
    /// briefly after the warnings.
    pub notes: Vec<PlanFinding>,
    pub phases: Vec<Phase>,
    /// Every source the plan cites, deduplicated.
    pub sources: Vec<String>,
}

impl Plan {
    /// All steps in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.phases.iter().flat_map(|p| p.steps.iter())
    }

    /// The step with `id`.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps().find(|s| s.id == id)
    }

    /// A UI label from the catalog in the plan's language (`plan.ui.<key>`).
    pub fn ui(&self, key: &str) -> String {
        esxup_i18n::t(self.lang, &format!("plan.ui.{key}"), &Default::default())
    }
}
