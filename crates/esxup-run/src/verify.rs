//! `verify`: does the host run what the run set out to give it, and is
//! everything else as it was? One function, [`verify`], serves the run's
//! `verify` step (right after the reboot, still in maintenance mode with
//! the VMs off) and `esxup verify` (after the run, against the state the
//! journal recorded before the run).

use crate::journal::{RunMeta, TargetRef};
use crate::state::HostState;
use esxup_facts::PowerState;
use serde::{Deserialize, Serialize};

/// When the comparison is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Inside the run, after the reboot: maintenance mode on, VMs off.
    AfterReboot,
    /// After the run (`esxup verify`): maintenance mode and VM power as
    /// before the run.
    Final,
}

/// The outcome of one comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Match,
    Mismatch,
    /// Not visible through this transport, or nothing recorded to compare with.
    Unknown,
}

impl CheckStatus {
    /// `match`, `mismatch`, `unknown` (JSON and message keys).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Match => "match",
            CheckStatus::Mismatch => "mismatch",
            CheckStatus::Unknown => "unknown",
        }
    }
}

/// One comparison of `verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Check {
    /// `build`, `image-profile`, `maintenance-mode`, `licence`, `workaround`,
    /// `secure-boot`, `vm-power`.
    pub what: String,
    /// The VM, for `vm-power`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    pub expected: String,
    pub found: String,
    pub status: CheckStatus,
}

/// All comparisons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VerifyReport {
    pub schema_version: u32,
    pub stage: Stage,
    pub host: Option<String>,
    pub target: TargetRef,
    pub checks: Vec<Check>,
}

/// Exit code meaning (see `esxup verify --help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything compared matches.
    Pass,
    /// Something differs.
    Fail,
    /// The build could not be read: cannot tell.
    Unknown,
}

impl VerifyReport {
    pub fn verdict(&self) -> Verdict {
        if self.checks.iter().any(|c| c.status == CheckStatus::Mismatch) {
            Verdict::Fail
        } else if self.checks.iter().any(|c| c.what == "build" && c.status == CheckStatus::Unknown) {
            Verdict::Unknown
        } else {
            Verdict::Pass
        }
    }

    pub fn mismatches(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Mismatch)
    }
}

fn show<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())
}

fn cmp<T: PartialEq + std::fmt::Display>(what: &str, expected: Option<T>, found: Option<T>) -> Check {
    let status = match (&expected, &found) {
        (Some(e), Some(f)) if e == f => CheckStatus::Match,
        (Some(_), Some(_)) => CheckStatus::Mismatch,
        _ => CheckStatus::Unknown,
    };
    Check { what: what.into(), item: None, expected: show(expected), found: show(found), status }
}

fn power(p: Option<PowerState>) -> Option<&'static str> {
    p.map(|p| match p {
        PowerState::PoweredOn => "powered on",
        PowerState::PoweredOff => "powered off",
        PowerState::Suspended => "suspended",
    })
}

/// What the run expects of the host's licence key: the key it set, when
/// the `license` step is done, else the one the host had.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// Masked key the `license` step set.
    pub licence_set: Option<String>,
    /// The workaround was applied by the run (it must still be in place).
    pub workaround_applied: bool,
    /// The image profile `image-update` applied (esxcli route).
    pub profile: Option<String>,
}

/// Compares the host's state `now` with the run's target and the state
/// before the run (`meta.before_run`).
pub fn verify(meta: &RunMeta, now: &HostState, stage: Stage, expect: &Expect) -> VerifyReport {
    let before = &meta.before_run;
    let mut checks = vec![cmp("build", Some(meta.target.build), now.build)];
    let profile = expect.profile.clone().or(meta.target.profile.clone());
    checks.push(match (&profile, &now.image_profile) {
        (Some(p), Some(f)) if p == f => cmp("image-profile", Some(p.clone()), Some(f.clone())),
        // A vendor or custom ISO names its profile its own way: the build
        // in the name is what tells the target.
        (Some(_), Some(f)) if expect.profile.is_none() && f.contains(&meta.target.build.to_string()) => {
            cmp("image-profile", Some(f.clone()), Some(f.clone()))
        }
        (p, f) => cmp("image-profile", p.clone(), f.clone()),
    });
    let mm_expected = match stage {
        Stage::AfterReboot => None,
        Stage::Final => before.maintenance_mode,
    };
    if stage == Stage::Final {
        checks.push(cmp("maintenance-mode", mm_expected, now.maintenance_mode));
    }
    // Not right after the reboot: an upgrade to another major version
    // leaves the old key without effect (evaluation mode) until the
    // `license` step, which comes after `verify`, sets the new one.
    if stage == Stage::Final {
        let lic_expected =
            expect.licence_set.clone().or(before.license.as_ref().and_then(|l| l.key_masked.clone()));
        checks.push(cmp("licence", lic_expected, now.license.as_ref().and_then(|l| l.key_masked.clone())));
    }
    if expect.workaround_applied {
        checks.push(cmp(
            "workaround",
            Some("in place"),
            now.slp.as_ref().and_then(|s| s.workaround_in_place()).map(|w| {
                if w {
                    "in place"
                } else {
                    "not in place"
                }
            }),
        ));
    }
    checks.push(cmp("secure-boot", before.secure_boot, now.secure_boot));
    for vm in before.vms.iter().flatten() {
        let expected = match stage {
            Stage::AfterReboot => continue,
            Stage::Final => power(vm.power),
        };
        let found = power(now.vm(&vm.name).and_then(|v| v.power));
        let mut c = cmp("vm-power", expected, found);
        c.item = Some(vm.name.clone());
        checks.push(c);
    }
    VerifyReport {
        schema_version: crate::journal::JOURNAL_SCHEMA_VERSION,
        stage,
        host: now.hostname.clone(),
        target: meta.target.clone(),
        checks,
    }
}
