//! What `esxup run` would do, without `--yes`: every step in order, with
//! what it does, the calls or commands it would make on this host through
//! this transport, and whether the host already satisfies it. Computed by
//! the same [`satisfied`] and [`automation`](esxup_plan::runnable::automation)
//! decisions the runner acts on.

use crate::engine::{satisfied, Host, Options};
use crate::journal::{Phase, Record, TargetRef};
use crate::plan::{Method, RunPlan};
use crate::state::{HostState, TransportKind};
use crate::transport::{Change, Secret};
use esxup_plan::runnable::{Automation, RunStep};
use serde::Serialize;
use std::path::Path;

/// Version of the JSON layout of a [`Preview`].
pub const PREVIEW_SCHEMA_VERSION: u32 = 1;

/// What becomes of a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PreviewStatus {
    WillRun,
    AlreadySatisfied,
    AlreadyDone,
    NotSelected,
    NotNeeded,
    NoInput,
    NeedsSsh,
    Manual,
    /// It would run, and stop (the reason says why).
    WillStop,
}

/// One step of the preview.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct StepPreview {
    pub step: RunStep,
    pub status: PreviewStatus,
    /// Catalog key of the reason (`run.not_needed.iso`, `run.manual.iso`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reason's placeholders (`vms`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reason_args: std::collections::BTreeMap<String, String>,
    /// The calls or commands, with this host's names.
    pub actions: Vec<String>,
}

/// The whole preview.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Preview {
    pub schema_version: u32,
    pub host: String,
    pub transport: TransportKind,
    pub ssh: bool,
    pub current_build: Option<u32>,
    pub current_name: Option<String>,
    pub target: TargetRef,
    pub method: Method,
    pub method_reasons: Vec<String>,
    pub warnings: Vec<String>,
    pub journal: String,
    /// Records already in the journal (a resumed run).
    pub journal_records: usize,
    pub steps: Vec<StepPreview>,
}

fn completed(records: &[Record], step: RunStep) -> bool {
    matches!(
        records.iter().rev().find(|r| r.step == step && r.item.is_none()).map(|r| r.phase),
        Some(Phase::Done) | Some(Phase::SkippedAlreadySatisfied)
    )
}

/// The preview of a run.
#[allow(clippy::too_many_arguments)]
pub fn preview(
    host_name: &str,
    host: &mut Host,
    state: &HostState,
    plan: &RunPlan,
    target: &TargetRef,
    current_name: Option<String>,
    records: &[Record],
    opts: &Options,
    journal: &Path,
) -> Preview {
    let mut steps = Vec::new();
    let stopped_vms: Vec<String> =
        state.vms.iter().flatten().filter(|v| v.is_on()).map(|v| v.name.clone()).collect();
    let key = Secret::new("*****-*****-*****-*****-*****");
    for step in RunStep::ALL {
        let mut p = StepPreview {
            step,
            status: PreviewStatus::WillRun,
            reason: None,
            reason_args: Default::default(),
            actions: Vec::new(),
        };
        let auto = plan.automation(step);
        if !opts.selection.selected(step) {
            p.status = PreviewStatus::NotSelected;
        } else if completed(records, step) {
            p.status = PreviewStatus::AlreadyDone;
        } else {
            match &auto {
                Automation::NotNeeded { reason }
                    if !(step == RunStep::Reboot && plan.method == Method::Esxcli) =>
                {
                    p.status = PreviewStatus::NotNeeded;
                    p.reason = Some(format!("run.not_needed.{reason}"));
                }
                Automation::Manual { reason } => {
                    if satisfied(step, state, plan, target.build) == Some(true) {
                        p.status = PreviewStatus::AlreadySatisfied;
                    } else {
                        p.status = PreviewStatus::Manual;
                        p.reason = Some(format!("run.manual.{reason}"));
                    }
                }
                Automation::NeedsSsh if !host.has_ssh() => {
                    p.status = PreviewStatus::NeedsSsh;
                    p.reason = Some("run.stop.needs_ssh".into());
                }
                _ => {
                    if satisfied(step, state, plan, target.build) == Some(true) {
                        p.status = PreviewStatus::AlreadySatisfied;
                    }
                }
            }
        }
        if step == RunStep::License && opts.license_key.is_none() && p.status == PreviewStatus::WillRun {
            p.status = PreviewStatus::NoInput;
            p.reason = Some("run.no_input.license_key".into());
        }
        if step == RunStep::VmHardwareUpgrade
            && opts.vms.is_empty()
            && !opts.all_vms
            && p.status == PreviewStatus::WillRun
        {
            p.status = PreviewStatus::NoInput;
            p.reason = Some("run.no_input.vms".into());
        }
        if step == RunStep::VmShutdown && p.status == PreviewStatus::WillRun && !opts.power_off_without_tools
        {
            let no_tools: Vec<String> = state
                .vms
                .iter()
                .flatten()
                .filter(|v| v.is_on() && !v.can_shut_down_guest())
                .map(|v| v.name.clone())
                .collect();
            if !no_tools.is_empty() {
                p.status = PreviewStatus::WillStop;
                p.reason = Some("run.stop.tools_missing".into());
                p.reason_args.insert("vms".into(), no_tools.join(", "));
            }
        }
        if matches!(p.status, PreviewStatus::WillRun | PreviewStatus::WillStop) {
            p.actions = actions(step, host, state, plan, target, &stopped_vms, &key, opts);
        }
        steps.push(p);
    }
    Preview {
        schema_version: PREVIEW_SCHEMA_VERSION,
        host: host_name.to_string(),
        transport: host.active_kind(),
        ssh: host.has_ssh(),
        current_build: state.build,
        current_name,
        target: target.clone(),
        method: plan.method,
        method_reasons: plan.method_reasons.clone(),
        warnings: plan.warnings.clone(),
        journal: journal.display().to_string(),
        journal_records: records.len(),
        steps,
    }
}

#[allow(clippy::too_many_arguments)]
fn actions(
    step: RunStep,
    host: &mut Host,
    st: &HostState,
    plan: &RunPlan,
    target: &TargetRef,
    running: &[String],
    key: &Secret,
    opts: &Options,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = |c: Change<'_>| out.push(host.describe(&c).0);
    let vms = st.vms.clone().unwrap_or_default();
    match step {
        RunStep::ConfigBackup => d(Change::BackupConfig),
        RunStep::VmBackup => d(Change::GhettoVcb {
            vm_list: "/tmp/esxup-ghettovcb/vms.txt",
            conf: "/tmp/esxup-ghettovcb/ghettoVCB.conf",
        }),
        RunStep::Workarounds => {
            if !plan.workarounds.is_empty() {
                let slp = st.slp.clone().unwrap_or_default();
                if slp.running != Some(false) {
                    d(Change::StopService("slpd"));
                }
                if !slp.policy.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("off")) {
                    d(Change::ServicePolicy("slpd", "off"));
                }
                if slp.firewall_enabled != Some(false) {
                    d(Change::Ruleset("CIMSLP", false));
                }
            }
        }
        RunStep::VmShutdown => {
            for vm in vms.iter().filter(|v| v.is_on()) {
                if vm.can_shut_down_guest() {
                    d(Change::ShutdownGuest(vm));
                } else if opts.power_off_without_tools {
                    d(Change::PowerOff(vm));
                }
            }
        }
        RunStep::MaintenanceOn => d(Change::Maintenance(true)),
        RunStep::BundleUpload => {
            if let Some(dp) = plan.depot.as_ref().filter(|d| d.local) {
                let ds = dp.datastore.clone().unwrap_or_else(|| "<datastore>".into());
                let name = dp.file_name.clone().unwrap_or_else(|| "<bundle.zip>".into());
                d(Change::Upload {
                    datastore: &ds,
                    name: &name,
                    local: Path::new(&dp.given),
                    size: dp.size.unwrap_or(0),
                });
            }
        }
        RunStep::ImageUpdate => {
            if let Some(dp) = &plan.depot {
                d(Change::ProfileUpdate { depot: &dp.host_path, profile: &dp.profile, dry_run: true });
                d(Change::ProfileUpdate { depot: &dp.host_path, profile: &dp.profile, dry_run: false });
            }
        }
        RunStep::Reboot => d(Change::Reboot { reason: &format!("esxup: upgrade to build {}", target.build) }),
        RunStep::Verify => d(Change::BackupConfig),
        RunStep::License => d(Change::SetLicense(opts.license_key.as_ref().unwrap_or(key))),
        RunStep::MaintenanceOff => d(Change::Maintenance(false)),
        RunStep::VmStart => {
            for vm in vms.iter().filter(|v| running.contains(&v.name)) {
                d(Change::PowerOn(vm));
            }
        }
        RunStep::ToolsUpgrade => {
            for vm in vms
                .iter()
                .filter(|v| v.tools_need_upgrade() && (opts.vms.is_empty() || opts.vms.contains(&v.name)))
            {
                d(Change::UpgradeTools(vm));
            }
        }
        RunStep::VmHardwareUpgrade => {
            if let Some(max) = plan.max_vm_hardware {
                for vm in vms.iter().filter(|v| {
                    (opts.all_vms || opts.vms.contains(&v.name)) && v.hardware.is_some_and(|h| h < max)
                }) {
                    d(Change::UpgradeHardware(vm, max));
                }
            }
        }
    }
    out
}
