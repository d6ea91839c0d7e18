//! The run's decisions, taken once before the first change and kept in the
//! journal's `run.json`: after the upgrade the host's facts change (its
//! build is the target), so a resumed run must follow what was decided
//! for the host as it was, not re-decide.
//!
//! Everything here comes from `esxup check` and `esxup plan` (one decision
//! each): the method, the exposures and their workarounds (from the
//! advisories' data), the highest VM hardware version of the target, and
//! for every step [`automation`] — the function the runbook's marks use.

use crate::journal::TargetRef;
use esxup_plan::input::{MethodKind, PlanInput};
use esxup_plan::runnable::{automation, Automation, RunContext, RunStep};
use serde::{Deserialize, Serialize};

/// How the image changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// `esxcli software profile update` with a depot.
    Esxcli,
    /// The ISO installer (Secure Boot from 6.x, or a new major by choice).
    Iso,
}

/// The depot the image update uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepotPlan {
    /// `--depot` as given (a local path or a URL).
    pub given: String,
    /// A local bundle `bundle-upload` copies to the host.
    pub local: bool,
    /// sha256 and size of the local bundle, read when the run was planned.
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// File name of the bundle on the datastore.
    pub file_name: Option<String>,
    /// Datastore the bundle goes to.
    pub datastore: Option<String>,
    /// What esxcli's `-d` gets (`/vmfs/volumes/ds/esxup/b.zip` or the URL).
    pub host_path: String,
    /// The image profile to apply.
    pub profile: String,
}

/// An advisory whose workaround the `workarounds` step applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkaroundPlan {
    pub advisory: String,
    pub title: String,
    /// The service the workaround stops (`slpd`).
    pub service: String,
    /// The workaround as the advisory's data words it, with its KB.
    pub text: Option<String>,
}

/// An exposure the run does not work around, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposureNote {
    pub advisory: String,
    pub title: String,
    /// The advisory's data has no workaround.
    pub no_workaround: bool,
    /// The target fixes it (`None`: the data has no fix record).
    pub fixed_by_target: Option<bool>,
}

/// What the run does for one step on this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepPlan {
    pub step: RunStep,
    pub automation: Automation,
}

/// The run's decisions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPlan {
    pub method: Method,
    /// Why that method, as the check words it (in the run's language).
    pub method_reasons: Vec<String>,
    pub depot: Option<DepotPlan>,
    pub workarounds: Vec<WorkaroundPlan>,
    pub exposures: Vec<ExposureNote>,
    /// The highest VM hardware version the target supports.
    pub max_vm_hardware: Option<u32>,
    /// The datastore for backups and the bundle (the plan's choice).
    pub backup_datastore: Option<String>,
    /// The check's warnings (titles), shown before the first change.
    pub warnings: Vec<String>,
    pub steps: Vec<StepPlan>,
}

impl RunPlan {
    /// The decisions for a host, from its plan input (facts + check verdict).
    pub fn from_input(
        input: &PlanInput,
        depot: Option<DepotPlan>,
        warnings: Vec<String>,
        reasons: Vec<String>,
    ) -> RunPlan {
        let ctx = RunContext::of(input);
        let steps =
            RunStep::ALL.iter().map(|s| StepPlan { step: *s, automation: automation(*s, &ctx) }).collect();
        let workarounds = input
            .exposures
            .iter()
            .filter_map(|e| {
                Some(WorkaroundPlan {
                    advisory: e.id.clone(),
                    title: e.title.clone(),
                    service: e.workaround_service.clone()?,
                    text: e.workaround.clone(),
                })
            })
            .collect();
        let exposures = input
            .exposures
            .iter()
            .filter(|e| e.workaround_service.is_none())
            .map(|e| ExposureNote {
                advisory: e.id.clone(),
                title: e.title.clone(),
                no_workaround: e.workaround.is_none(),
                fixed_by_target: e.fixed_by_target,
            })
            .collect();
        RunPlan {
            method: match input.method {
                MethodKind::Iso => Method::Iso,
                MethodKind::Depot => Method::Esxcli,
            },
            method_reasons: reasons,
            depot,
            workarounds,
            exposures,
            max_vm_hardware: input.max_vm_hardware,
            backup_datastore: esxup_plan::steps::backup_datastore(input),
            warnings,
            steps,
        }
    }

    /// The automation decided for `step`.
    pub fn automation(&self, step: RunStep) -> Automation {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .map(|s| s.automation.clone())
            .unwrap_or(Automation::NotNeeded { reason: "unknown_step".into() })
    }

    #[cfg(test)]
    pub fn empty_for_tests() -> RunPlan {
        RunPlan {
            method: Method::Esxcli,
            method_reasons: Vec::new(),
            depot: None,
            workarounds: Vec::new(),
            exposures: Vec::new(),
            max_vm_hardware: Some(19),
            backup_datastore: None,
            warnings: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// The target as the journal records it.
pub fn target_ref(r: &esxup_kb::Release) -> TargetRef {
    TargetRef {
        build: r.build,
        version: r.version.to_string(),
        name: r.name.clone(),
        release_date: r.release_date.to_string(),
        profile: esxup_plan::steps::standard_profile(r),
    }
}
