//! The steps `esxup run` carries out, and the one decision of whether it can
//! carry each of them out on a host.
//!
//! Both the runbook (its "esxup can run this step" marks and `automatable`
//! in JSON) and the runner (which steps it runs, skips or stops at) ask
//! [`automation`]: two outputs, one function, so they cannot disagree.
//! `esxup-run` re-exports these types.

use crate::input::{MethodKind, PlanInput};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A step of `esxup run`, in run order. The names are fixed (docs and
/// scripts rely on them): `esxup run --list-steps` prints them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RunStep {
    ConfigBackup,
    VmBackup,
    Workarounds,
    VmShutdown,
    MaintenanceOn,
    BundleUpload,
    ImageUpdate,
    Reboot,
    Verify,
    License,
    MaintenanceOff,
    VmStart,
    ToolsUpgrade,
    VmHardwareUpgrade,
}

impl RunStep {
    /// Every step, in the order `esxup run` runs them.
    pub const ALL: [RunStep; 14] = [
        RunStep::ConfigBackup,
        RunStep::VmBackup,
        RunStep::Workarounds,
        RunStep::VmShutdown,
        RunStep::MaintenanceOn,
        RunStep::BundleUpload,
        RunStep::ImageUpdate,
        RunStep::Reboot,
        RunStep::Verify,
        RunStep::License,
        RunStep::MaintenanceOff,
        RunStep::VmStart,
        RunStep::ToolsUpgrade,
        RunStep::VmHardwareUpgrade,
    ];

    /// The step's fixed name (`config-backup`).
    pub fn name(self) -> &'static str {
        match self {
            RunStep::ConfigBackup => "config-backup",
            RunStep::VmBackup => "vm-backup",
            RunStep::Workarounds => "workarounds",
            RunStep::VmShutdown => "vm-shutdown",
            RunStep::MaintenanceOn => "maintenance-on",
            RunStep::BundleUpload => "bundle-upload",
            RunStep::ImageUpdate => "image-update",
            RunStep::Reboot => "reboot",
            RunStep::Verify => "verify",
            RunStep::License => "license",
            RunStep::MaintenanceOff => "maintenance-off",
            RunStep::VmStart => "vm-start",
            RunStep::ToolsUpgrade => "tools-upgrade",
            RunStep::VmHardwareUpgrade => "vm-hardware-upgrade",
        }
    }

    /// The catalog key part of the step (`config_backup`), for `run.step.<key>.*`.
    pub fn key(self) -> String {
        self.name().replace('-', "_")
    }

    /// Steps that run only when asked for by name (`--only` / `--with`).
    pub fn opt_in(self) -> bool {
        matches!(self, RunStep::VmBackup)
    }
}

impl fmt::Display for RunStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RunStep {
    type Err = String;
    fn from_str(s: &str) -> Result<RunStep, String> {
        RunStep::ALL.into_iter().find(|r| r.name() == s.trim()).ok_or_else(|| {
            let names: Vec<&str> = RunStep::ALL.iter().map(|r| r.name()).collect();
            format!("unknown step {s:?}; the steps are: {}", names.join(", "))
        })
    }
}

/// Whether `esxup run` can carry out a step on this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Automation {
    /// It can, over the vSphere API or SSH.
    Auto,
    /// It can, but only over SSH (esxcli, ghettoVCB, or a free-licence host
    /// whose API refuses writes): `esxup run` needs `--ssh` for it.
    NeedsSsh,
    /// A human does it (catalog key `run.manual.<reason>` says why); `esxup
    /// run` stops before it and continues with `--resume` afterwards.
    Manual { reason: String },
    /// Nothing to do on this host (catalog key `run.not_needed.<reason>`).
    NotNeeded { reason: String },
}

impl Automation {
    /// `esxup run` carries the step out (given SSH where it needs it).
    pub fn runs(&self) -> bool {
        matches!(self, Automation::Auto | Automation::NeedsSsh)
    }

    fn manual(reason: &str) -> Automation {
        Automation::Manual { reason: reason.to_string() }
    }

    fn not_needed(reason: &str) -> Automation {
        Automation::NotNeeded { reason: reason.to_string() }
    }
}

/// Where the target image comes from, as far as the runner is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepotKind {
    /// No `--depot` given.
    None,
    /// A local offline bundle that `bundle-upload` copies to a datastore.
    Local,
    /// An online depot (http/https) or a bundle already on the host (`/vmfs/...`).
    Remote,
}

impl DepotKind {
    /// How `--depot` (as given) is reached.
    pub fn of(depot: Option<&str>) -> DepotKind {
        match depot {
            None => DepotKind::None,
            Some(d) if d.contains("://") || d.starts_with("/vmfs/") => DepotKind::Remote,
            Some(_) => DepotKind::Local,
        }
    }
}

/// The facts of a host that decide how each step is carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunContext {
    /// ISO installer or esxcli with a depot (the plan's method).
    pub method: MethodKind,
    pub depot: DepotKind,
    /// ghettoVCB is installed on the host (its VIB is in the VIB list).
    pub ghettovcb: Option<bool>,
    /// Advisories the host is exposed to whose workaround is a service to
    /// stop (slpd) and which is not in place yet.
    pub workarounds_to_apply: usize,
}

impl RunContext {
    /// The context of a plan input (the host's facts and the check's verdict).
    pub fn of(input: &PlanInput) -> RunContext {
        RunContext {
            method: input.method,
            depot: DepotKind::of(input.depot.as_deref()),
            ghettovcb: input
                .facts
                .vibs
                .as_ref()
                .map(|v| v.iter().any(|vib| vib.name.eq_ignore_ascii_case("ghettoVCB"))),
            workarounds_to_apply: input.exposures.iter().filter(|e| e.workaround_service.is_some()).count(),
        }
    }
}

/// Whether `esxup run` can carry out `step` on a host in `ctx`: the one
/// decision behind the runbook's marks and the runner's choices.
pub fn automation(step: RunStep, ctx: &RunContext) -> Automation {
    match step {
        RunStep::ConfigBackup
        | RunStep::VmShutdown
        | RunStep::MaintenanceOn
        | RunStep::Verify
        | RunStep::License
        | RunStep::MaintenanceOff
        | RunStep::VmStart
        | RunStep::ToolsUpgrade
        | RunStep::VmHardwareUpgrade => Automation::Auto,
        RunStep::VmBackup => match ctx.ghettovcb {
            // ghettoVCB is a shell script: it runs in the ESXi Shell only.
            Some(true) => Automation::NeedsSsh,
            Some(false) => Automation::manual("no_ghettovcb"),
            None => Automation::manual("ghettovcb_unknown"),
        },
        RunStep::Workarounds => {
            if ctx.workarounds_to_apply > 0 {
                Automation::Auto
            } else {
                Automation::not_needed("no_workaround")
            }
        }
        RunStep::BundleUpload => match (ctx.method, ctx.depot) {
            (MethodKind::Iso, _) => Automation::not_needed("iso"),
            (MethodKind::Depot, DepotKind::Remote) => Automation::not_needed("remote_depot"),
            (MethodKind::Depot, DepotKind::None) => Automation::manual("no_depot"),
            (MethodKind::Depot, DepotKind::Local) => Automation::Auto,
        },
        RunStep::ImageUpdate => match (ctx.method, ctx.depot) {
            // The installer runs from the host's console: a human boots it.
            (MethodKind::Iso, _) => Automation::manual("iso"),
            (MethodKind::Depot, DepotKind::None) => Automation::manual("no_depot"),
            // `esxcli software profile update` runs in the ESXi Shell.
            (MethodKind::Depot, _) => Automation::NeedsSsh,
        },
        RunStep::Reboot => match ctx.method {
            // The ISO route reboots into the installer by hand.
            MethodKind::Iso => Automation::not_needed("iso"),
            MethodKind::Depot => Automation::Auto,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(method: MethodKind, depot: DepotKind) -> RunContext {
        RunContext { method, depot, ghettovcb: Some(false), workarounds_to_apply: 0 }
    }

    #[test]
    fn names_round_trip_in_order() {
        let names: Vec<&str> = RunStep::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.first(), Some(&"config-backup"));
        assert_eq!(names.last(), Some(&"vm-hardware-upgrade"));
        for s in RunStep::ALL {
            assert_eq!(s.name().parse::<RunStep>(), Ok(s));
        }
        let mut sorted = RunStep::ALL;
        sorted.sort();
        assert_eq!(sorted, RunStep::ALL, "Ord is the run order");
        assert!("reboot-now".parse::<RunStep>().unwrap_err().contains("config-backup, vm-backup"));
    }

    #[test]
    fn iso_route_leaves_the_image_to_a_human() {
        let c = ctx(MethodKind::Iso, DepotKind::None);
        assert_eq!(automation(RunStep::ImageUpdate, &c), Automation::manual("iso"));
        assert_eq!(automation(RunStep::Reboot, &c), Automation::not_needed("iso"));
        assert_eq!(automation(RunStep::BundleUpload, &c), Automation::not_needed("iso"));
        assert!(automation(RunStep::MaintenanceOn, &c).runs());
    }

    #[test]
    fn esxcli_route_needs_ssh_for_the_image() {
        let c = ctx(MethodKind::Depot, DepotKind::Local);
        assert_eq!(automation(RunStep::ImageUpdate, &c), Automation::NeedsSsh);
        assert_eq!(automation(RunStep::BundleUpload, &c), Automation::Auto);
        let online = ctx(MethodKind::Depot, DepotKind::Remote);
        assert_eq!(automation(RunStep::BundleUpload, &online), Automation::not_needed("remote_depot"));
        assert_eq!(DepotKind::of(Some("https://dl.example.com/depot/index.xml")), DepotKind::Remote);
        assert_eq!(DepotKind::of(Some("/vmfs/volumes/ds1/b.zip")), DepotKind::Remote);
        assert_eq!(DepotKind::of(Some("b.zip")), DepotKind::Local);
    }

    #[test]
    fn workarounds_and_backups_depend_on_the_host() {
        let mut c = ctx(MethodKind::Depot, DepotKind::Local);
        assert!(!automation(RunStep::Workarounds, &c).runs());
        c.workarounds_to_apply = 1;
        assert!(automation(RunStep::Workarounds, &c).runs());
        assert!(!automation(RunStep::VmBackup, &c).runs());
        c.ghettovcb = Some(true);
        assert_eq!(automation(RunStep::VmBackup, &c), Automation::NeedsSsh);
    }
}
