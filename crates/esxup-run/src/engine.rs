//! The runner: the steps of [`RunStep::ALL`], in order, each one
//!
//! 1. reads the host's state, and does nothing when the host is already
//!    where the step leads (journal: `skipped-already-satisfied`);
//! 2. writes and fsyncs an `intent` record naming the call or command;
//! 3. makes the change (a free-licence host's `RestrictedVersion` moves the
//!    run to SSH, when it has SSH credentials);
//! 4. reads the state back and writes `done` (or `failed`).
//!
//! Resuming is the same loop: a step whose last record is `done` is not
//! repeated; one that stopped at `intent` is re-observed, and its change is
//! made only if the host does not show it. VMs are matched by name, so that
//! a run that moved from the API to SSH recognises them.
//!
//! Test-only: `ESXUP_TEST_KILL_AT=<step>:<point>` (points `before`,
//! `after-intent`, `after-change`) makes the process SIGKILL itself there,
//! so that the crash tests hit every boundary deterministically.

use crate::bundle;
use crate::esxcli;
use crate::journal::{Journal, JournalError, Phase, Record};
use crate::plan::{Method, RunPlan};
use crate::state::{HostState, TransportKind, VmState};
use crate::transport::api::ApiTransport;
use crate::transport::ssh::SshTransport;
use crate::transport::{Change, Outcome, Secret, Transport, TransportError};
use crate::verify::{self, Expect, Stage};
use esxup_facts::PowerState;
use esxup_plan::runnable::{Automation, RunStep};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Errors that end a run (exit 2): the journal says where it stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{step}: {source}")]
    Transport { step: RunStep, source: TransportError },
    #[error("{step}: {message}")]
    Step { step: RunStep, message: String, hint: Option<String> },
    #[error(
        "reboot: the host did not come back within {secs} s (last answer: {last}); the journal records the reboot, \
         `esxup run --resume` waits for it again"
    )]
    NeverBack { secs: u64, last: String },
}

impl RunError {
    fn step(step: RunStep, message: impl Into<String>) -> RunError {
        RunError::Step { step, message: message.into(), hint: None }
    }

    fn hinted(step: RunStep, message: impl Into<String>, hint: impl Into<String>) -> RunError {
        RunError::Step { step, message: message.into(), hint: Some(hint.into()) }
    }

    /// The `hint:` line for the admin, if the error carries one.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Step { hint, .. } => hint.clone(),
            RunError::Transport { source: TransportError::Access { hint, .. }, .. } => hint.clone(),
            RunError::Transport { source: TransportError::Unreachable { .. }, .. } => {
                Some("check that the host is up and reachable, then run the same command again (it resumes)".into())
            }
            RunError::Transport { step: RunStep::ConfigBackup, .. } => {
                Some("nothing else was changed; check the host's /scratch space and run the same command again".into())
            }
            RunError::Journal(JournalError::Locked { .. }) => {
                Some("wait for the other run to end; two runs on one journal are refused".into())
            }
            RunError::Journal(JournalError::Corrupt { .. }) => Some(
                "the journal is left as it is: check the host's state by hand, then move the journal folder away to start anew"
                    .into(),
            ),
            RunError::NeverBack { .. } => Some(
                "look at the host's console (see docs/run.md, rollback); once it answers, run the same command with --resume"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Why a run stopped on purpose (exit 1): nothing half-done, `--resume`
/// continues once the reason is dealt with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Stop {
    /// A human step comes next (the ISO installer); `run.manual.<key>`.
    Manual { key: String },
    /// The step needs SSH and none was given.
    NeedsSsh,
    /// No verified configuration backup from this run.
    NoBackup,
    /// VMs without VMware Tools cannot be shut down through the guest.
    ToolsMissing { vms: Vec<String> },
    /// esxup's own simulation says esxcli would refuse the update.
    SimulationFails { problems: Vec<String> },
    /// esxcli's dry run and esxup's simulation differ.
    DryRunMismatch { difference: esxcli::Difference },
    /// The host does not run the target after the reboot (or differs otherwise).
    VerifyFailed { mismatches: Vec<String> },
    /// ghettoVCB is not installed on the host.
    NoGhettoVcb,
    /// ghettoVCB's log does not say that every VM was backed up.
    BackupFailed { final_line: String },
}

/// What became of a step in this invocation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum StepOutcome {
    /// Made its change(s) and read them back.
    Done,
    /// The host already was there.
    AlreadySatisfied,
    /// Completed in an earlier invocation (journal).
    AlreadyDone,
    /// Left out by `--only`/`--skip` (or opt-in and not asked for).
    NotSelected,
    /// Nothing to do on this host (`run.not_needed.<key>`).
    NotNeeded {
        key: String,
    },
    /// Needs an input that was not given (`run.no_input.<key>`).
    NoInput {
        key: String,
    },
    Stopped {
        stop: Stop,
    },
}

/// Progress, for the CLI to print (stderr).
#[derive(Clone, Debug)]
pub enum Event {
    Step {
        step: RunStep,
        outcome: StepOutcome,
    },
    /// A change is about to be made.
    Change {
        step: RunStep,
        item: Option<String>,
        action: String,
        transport: TransportKind,
    },
    /// A per-item result or remark: message `run.note.<key>` with `args`.
    Note {
        step: RunStep,
        key: &'static str,
        args: Vec<(&'static str, String)>,
    },
    /// Waiting (reboot, guest shutdown): message `run.wait.<key>` with `args`.
    Waiting {
        step: RunStep,
        key: &'static str,
        args: Vec<(&'static str, String)>,
    },
    /// The API refused a change: continuing over SSH.
    Switched {
        step: RunStep,
        why: String,
    },
}

/// Which steps this invocation runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub only: Vec<RunStep>,
    pub skip: Vec<RunStep>,
    pub with: Vec<RunStep>,
}

impl Selection {
    pub fn selected(&self, s: RunStep) -> bool {
        if !self.only.is_empty() {
            return self.only.contains(&s);
        }
        !self.skip.contains(&s) && (!s.opt_in() || self.with.contains(&s))
    }
}

/// The run's options.
#[derive(Clone, Debug)]
pub struct Options {
    pub selection: Selection,
    pub reboot_timeout: Duration,
    /// On resume after an interrupted reboot step: how long a host that
    /// still answers with its old boot time is given to go down before
    /// esxup concludes the reboot was never issued (the run died between
    /// its intent record and the command) and issues it.
    pub reboot_grace: Duration,
    pub shutdown_timeout: Duration,
    /// Interval of the waits (reboot, guest shutdown).
    pub poll: Duration,
    pub power_off_without_tools: bool,
    /// `--vm NAME` (Tools and hardware upgrades).
    pub vms: Vec<String>,
    pub all_vms: bool,
    pub snapshot_before_hardware: bool,
    pub license_key: Option<Secret>,
    /// Today (ghettoVCB configuration header).
    pub today: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            selection: Selection::default(),
            reboot_timeout: Duration::from_secs(30 * 60),
            reboot_grace: Duration::from_secs(5 * 60),
            shutdown_timeout: Duration::from_secs(10 * 60),
            poll: Duration::from_secs(2),
            power_off_without_tools: false,
            vms: Vec::new(),
            all_vms: false,
            snapshot_before_hardware: false,
            license_key: None,
            today: esxup_version::Date::today().to_string(),
        }
    }
}

/// The result of an invocation.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunReport {
    pub steps: Vec<(RunStep, StepOutcome)>,
    pub stopped: Option<(RunStep, Stop)>,
}

/// The host, through the transports the run has: the API first when given,
/// SSH for what the API cannot do and for everything after a refusal.
pub struct Host {
    api: Option<ApiTransport>,
    ssh: Option<SshTransport>,
    active: TransportKind,
}

impl Host {
    pub fn new(api: Option<ApiTransport>, ssh: Option<SshTransport>) -> Host {
        let active = if api.is_some() { TransportKind::Api } else { TransportKind::Ssh };
        Host { api, ssh, active }
    }

    pub fn active_kind(&self) -> TransportKind {
        self.active
    }

    pub fn has_ssh(&self) -> bool {
        self.ssh.is_some()
    }

    /// Tells `p` the bytes of the bundle upload, whichever transport makes it.
    pub fn set_transfer_progress(&mut self, p: Option<esxup_depot::Progress>) {
        if let Some(a) = &mut self.api {
            a.progress = p.clone();
        }
        if let Some(s) = &mut self.ssh {
            s.progress = p;
        }
    }

    /// The hardware UUIDs the API and SSH report (`None` for a transport
    /// the run does not have): both must name the same machine.
    pub fn uuids(&mut self) -> Result<(Option<String>, Option<String>), TransportError> {
        let api = match self.api.as_mut() {
            Some(a) => a.observe()?.uuid,
            None => None,
        };
        let ssh = match self.ssh.as_mut() {
            Some(s) => s.observe()?.uuid,
            None => None,
        };
        Ok((api, ssh))
    }

    /// Makes the changes over SSH from the start (a free-licence host,
    /// whose API refuses them); `false` without an SSH connection.
    pub fn prefer_ssh(&mut self) -> bool {
        if self.ssh.is_some() {
            self.active = TransportKind::Ssh;
        }
        self.ssh.is_some()
    }

    fn active(&mut self) -> &mut dyn Transport {
        match self.active {
            TransportKind::Api => self.api.as_mut().map(|t| t as &mut dyn Transport),
            TransportKind::Ssh => self.ssh.as_mut().map(|t| t as &mut dyn Transport),
        }
        .expect("the active transport exists")
    }

    /// The transport that carries out `change`: esxcli and ghettoVCB only
    /// over SSH, everything else over the active one.
    fn for_change(&mut self, change: &Change<'_>) -> Option<&mut dyn Transport> {
        let ssh_only = matches!(
            change,
            Change::ProfileUpdate { .. } | Change::GhettoVcb { .. } | Change::WriteFile { .. }
        );
        if ssh_only {
            self.ssh.as_mut().map(|t| t as &mut dyn Transport)
        } else {
            Some(self.active())
        }
    }

    pub fn describe(&mut self, change: &Change<'_>) -> (String, TransportKind) {
        match self.for_change(change) {
            Some(t) => (t.describe(change), t.kind()),
            None => (self.active().describe(change), self.active),
        }
    }

    /// Reads the host. Over the API, the image profile, the pending image
    /// and Secure Boot come from SSH when the run has it.
    pub fn observe(&mut self) -> Result<HostState, TransportError> {
        let mut s = self.active().observe()?;
        if self.active == TransportKind::Api {
            if let Some(ssh) = self.ssh.as_mut() {
                if let Ok(i) = ssh.observe_image() {
                    s.image_profile = i.image_profile;
                    s.pending = i.pending;
                    s.secure_boot = i.secure_boot;
                }
            }
        }
        Ok(s)
    }

    pub fn facts(&mut self) -> Result<esxup_facts::HostFacts, TransportError> {
        // SSH sees everything the check needs (VIBs, boot device, Secure
        // Boot); the API only part of it.
        match self.ssh.as_mut() {
            Some(s) => s.facts(),
            None => self.active().facts(),
        }
    }

    fn reconnect(&mut self) {
        if let Some(a) = self.api.as_mut() {
            let _ = a.reconnect();
        }
        if let Some(s) = self.ssh.as_mut() {
            let _ = s.reconnect();
        }
    }

    pub fn ssh_mut(&mut self) -> Option<&mut SshTransport> {
        self.ssh.as_mut()
    }
}

/// Makes this process SIGKILL itself at a named point (test-only, see the
/// module documentation).
fn kill_point(step: RunStep, point: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    if let Ok(v) = std::env::var("ESXUP_TEST_KILL_AT") {
        let here = format!("{}:{point}", step.name());
        // `step:point#n`: the n-th time this process passes that point.
        let nth = {
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            seen.push(here.clone());
            seen.iter().filter(|s| **s == here).count()
        };
        let hit = v.split(',').map(str::trim).any(|p| match p.split_once('#') {
            Some((at, n)) => at == here && n.parse() == Ok(nth),
            None => p == here,
        });
        if hit {
            // SAFETY: kill(2) on our own pid has no memory-safety conditions.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// Whether the host already is where `step` leads, from its state alone
/// (`None`: the step is not about a host state, or it cannot be seen).
pub fn satisfied(step: RunStep, st: &HostState, plan: &RunPlan, target_build: u32) -> Option<bool> {
    match step {
        RunStep::Workarounds => {
            if plan.workarounds.is_empty() {
                return Some(true);
            }
            st.slp.as_ref().and_then(|s| s.workaround_in_place())
        }
        RunStep::VmShutdown => st.vms.as_ref().map(|v| !v.iter().any(VmState::is_on)),
        RunStep::MaintenanceOn => st.maintenance_mode,
        RunStep::MaintenanceOff => st.maintenance_mode.map(|m| !m),
        RunStep::ImageUpdate => st.build.map(|b| b == target_build || st.has_pending(target_build)),
        RunStep::Reboot => st.build.map(|b| b == target_build && !st.has_pending(target_build)),
        _ => None,
    }
}

/// The runner of one invocation.
pub struct Runner<'a> {
    host: Host,
    journal: Journal,
    opts: Options,
    events: &'a mut dyn FnMut(Event),
}

fn vm_names(vms: &[&VmState]) -> Vec<String> {
    vms.iter().map(|v| v.name.clone()).collect()
}

impl<'a> Runner<'a> {
    pub fn new(host: Host, journal: Journal, opts: Options, events: &'a mut dyn FnMut(Event)) -> Runner<'a> {
        Runner { host, journal, opts, events }
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn plan(&self) -> &RunPlan {
        &self.journal.meta().plan
    }

    fn target_build(&self) -> u32 {
        self.journal.meta().target.build
    }

    fn emit(&mut self, e: Event) {
        (self.events)(e)
    }

    fn note(&mut self, step: RunStep, key: &'static str, args: Vec<(&'static str, String)>) {
        self.emit(Event::Note { step, key, args });
    }

    fn observe(&mut self, step: RunStep) -> Result<HostState, RunError> {
        self.host.observe().map_err(|source| RunError::Transport { step, source })
    }

    fn append(&mut self, r: Record) -> Result<(), RunError> {
        self.journal.append(r)?;
        Ok(())
    }

    /// The step completed in the journal (`done` or already satisfied).
    fn completed(&self, step: RunStep) -> bool {
        matches!(
            self.journal.last_of_step(step).map(|r| r.phase),
            Some(Phase::Done) | Some(Phase::SkippedAlreadySatisfied)
        )
    }

    /// A verified configuration backup of this run exists.
    fn has_backup(&self) -> bool {
        self.journal.records().iter().any(|r| {
            r.step == RunStep::ConfigBackup
                && r.phase == Phase::Done
                && r.detail.as_ref().and_then(|d| d.get("sha256")).is_some()
        })
    }

    /// Runs every selected step in order; stops at the first one that
    /// stops.
    pub fn run(&mut self) -> Result<RunReport, RunError> {
        let mut report = RunReport::default();
        for step in RunStep::ALL {
            let outcome = if !self.opts.selection.selected(step) {
                StepOutcome::NotSelected
            } else if self.completed(step) {
                StepOutcome::AlreadyDone
            } else if step != RunStep::ConfigBackup && step != RunStep::Verify && !self.has_backup() {
                StepOutcome::Stopped { stop: Stop::NoBackup }
            } else {
                kill_point(step, "before");
                self.step(step)?
            };
            self.emit(Event::Step { step, outcome: outcome.clone() });
            if let StepOutcome::Stopped { stop } = &outcome {
                report.stopped = Some((step, stop.clone()));
                report.steps.push((step, outcome));
                break;
            }
            report.steps.push((step, outcome));
        }
        Ok(report)
    }

    fn step(&mut self, step: RunStep) -> Result<StepOutcome, RunError> {
        match self.plan().automation(step) {
            Automation::NotNeeded { reason }
                if step != RunStep::Reboot || self.plan().method == Method::Iso =>
            {
                return Ok(StepOutcome::NotNeeded { key: reason })
            }
            Automation::NeedsSsh if !self.host.has_ssh() => {
                return Ok(StepOutcome::Stopped { stop: Stop::NeedsSsh })
            }
            _ => {}
        }
        match step {
            RunStep::ConfigBackup => self.config_backup(step, "before"),
            RunStep::VmBackup => self.vm_backup(),
            RunStep::Workarounds => self.workarounds(),
            RunStep::VmShutdown => self.vm_shutdown(),
            RunStep::MaintenanceOn => self.maintenance(step, true),
            RunStep::BundleUpload => self.bundle_upload(),
            RunStep::ImageUpdate => self.image_update(),
            RunStep::Reboot => self.reboot(),
            RunStep::Verify => self.verify_step(),
            RunStep::License => self.license(),
            RunStep::MaintenanceOff => self.maintenance(step, false),
            RunStep::VmStart => self.vm_start(),
            RunStep::ToolsUpgrade => self.tools_upgrade(),
            RunStep::VmHardwareUpgrade => self.hardware_upgrade(),
        }
    }

    /// intent (fsynced) -> change -> (RestrictedVersion: failed, switch to
    /// SSH, intent again, change); the caller reads back and writes done.
    fn change(
        &mut self,
        step: RunStep,
        item: Option<&str>,
        change: &Change<'_>,
        before: serde_json::Value,
    ) -> Result<Outcome, RunError> {
        let mut first = true;
        loop {
            let (action, transport) = self.host.describe(change);
            let mut r = Record::new(step, Phase::Intent).action(action.clone()).transport(transport);
            r.before = Some(before.clone());
            if let Some(i) = item {
                r = r.item(i);
            }
            self.append(r)?;
            self.emit(Event::Change { step, item: item.map(str::to_string), action, transport });
            if first {
                kill_point(step, "after-intent");
            }
            let Some(t) = self.host.for_change(change) else {
                return Err(RunError::hinted(
                    step,
                    "this change runs in the ESXi Shell and the run has no SSH connection",
                    "give --ssh root@HOST as well",
                ));
            };
            match t.apply(change) {
                Ok(o) => {
                    kill_point(step, "after-change");
                    return Ok(o);
                }
                Err(e @ TransportError::Restricted { .. })
                    if first && self.host.api.is_some() && self.host.ssh.is_some() =>
                {
                    let why = e.to_string();
                    let mut f =
                        Record::new(step, Phase::Failed).transport(TransportKind::Api).error(why.clone());
                    if let Some(i) = item {
                        f = f.item(i);
                    }
                    f.note = Some("the API refuses writes (free licence): continuing over SSH".into());
                    self.append(f)?;
                    self.host.active = TransportKind::Ssh;
                    self.emit(Event::Switched { step, why });
                    self.check_identity(step)?;
                    first = false;
                }
                Err(e) => {
                    let hint = matches!(e, TransportError::Restricted { .. }).then(|| {
                        "the host has a free licence: its API refuses changes; give --ssh root@HOST so that esxup run works in the ESXi Shell"
                            .to_string()
                    });
                    let mut f = Record::new(step, Phase::Failed).transport(transport).error(e.to_string());
                    if let Some(i) = item {
                        f = f.item(i);
                    }
                    self.append(f)?;
                    return Err(match hint {
                        Some(h) => RunError::hinted(step, e.to_string(), h),
                        None => RunError::Transport { step, source: e },
                    });
                }
            }
        }
    }

    /// After a switch of transport: the host must be the journal's host.
    fn check_identity(&mut self, step: RunStep) -> Result<(), RunError> {
        let st = self.observe(step)?;
        let want = self.journal.meta().uuid.clone();
        match st.uuid {
            Some(u) if u.eq_ignore_ascii_case(&want) => Ok(()),
            found => Err(RunError::step(
                step,
                format!(
                    "over SSH the host reports UUID {}, the journal's host has {want}: refusing to go on",
                    found.unwrap_or_else(|| "unknown".into())
                ),
            )),
        }
    }

    fn done(
        &mut self,
        step: RunStep,
        item: Option<&str>,
        after: serde_json::Value,
        detail: Option<serde_json::Value>,
    ) -> Result<(), RunError> {
        let mut r = Record::new(step, Phase::Done).transport(self.host.active);
        r.after = Some(after);
        r.detail = detail;
        if let Some(i) = item {
            r = r.item(i);
        }
        if item.is_some() {
            kill_point(step, "after-item");
        }
        self.append(r)
    }

    fn failed(
        &mut self,
        step: RunStep,
        item: Option<&str>,
        error: &str,
        detail: Option<serde_json::Value>,
    ) -> Result<(), RunError> {
        let mut r = Record::new(step, Phase::Failed).transport(self.host.active).error(error);
        r.detail = detail;
        if let Some(i) = item {
            r = r.item(i);
        }
        self.append(r)
    }

    /// Records "already satisfied" — or `done` when an earlier invocation
    /// stopped after its intent and the host shows the change made.
    fn satisfied_now(
        &mut self,
        step: RunStep,
        item: Option<&str>,
        state: serde_json::Value,
        note: Option<&str>,
    ) -> Result<(), RunError> {
        let last = match item {
            Some(i) => self.journal.last(step, Some(i)).map(|r| r.phase),
            None => self.journal.last_of_step(step).map(|r| r.phase),
        };
        let phase = if last == Some(Phase::Intent) { Phase::Done } else { Phase::SkippedAlreadySatisfied };
        let mut r = Record::new(step, phase).transport(self.host.active);
        r.after = Some(state);
        if let Some(i) = item {
            r = r.item(i);
        }
        r.note = match (phase, note) {
            (Phase::Done, _) => Some("found made on the host after an interrupted run".into()),
            (_, n) => n.map(str::to_string),
        };
        self.append(r)
    }

    // ------------------------------------------------------------ steps

    fn config_backup(&mut self, step: RunStep, when: &str) -> Result<StepOutcome, RunError> {
        let st = self.observe(step)?;
        let before = json!({"build": st.build, "uuid": st.uuid});
        // The post-upgrade backup is an item of `verify`: its records say so.
        let item = (step != RunStep::ConfigBackup).then_some("config-backup-after");
        let out = self.change(step, item, &Change::BackupConfig, before)?;
        let Outcome::Bytes(bytes) = out else {
            self.failed(step, item, "the backup returned no bundle", None)?;
            return Err(RunError::step(step, "the backup returned no bundle"));
        };
        let info = match bundle::verify(&bytes, st.uuid.as_deref(), st.build) {
            Ok(i) => i,
            Err(e) => {
                self.failed(step, item, &e.to_string(), None)?;
                return Err(RunError::hinted(
                    step,
                    format!("the configuration backup is not usable: {e}"),
                    "nothing else was changed; check the host's /scratch space and run the same command again",
                ));
            }
        };
        let host = self.journal.meta().host.clone();
        let build = st.build.map(|b| b.to_string()).unwrap_or_else(|| "unknown".into());
        let name = format!("configBundle-{host}-{build}.tgz");
        let path = self.journal.file_path("config-backup", &name)?;
        crate::journal::write_atomic(&path, &bytes)?;
        let detail = json!({
            "when": when,
            "file": format!("config-backup/{name}"),
            "sha256": info.sha256,
            "size": info.size,
            "build": st.build,
            "uuid": st.uuid,
            "members": info.members,
        });
        if step == RunStep::ConfigBackup {
            self.done(step, None, json!({"build": st.build}), Some(detail))?;
        } else {
            // The post-upgrade backup, inside `verify`.
            let mut r =
                Record::new(step, Phase::Done).transport(self.host.active).item("config-backup-after");
            r.detail = Some(detail);
            self.append(r)?;
        }
        self.note(
            step,
            "bundle_saved",
            vec![
                ("path", path.display().to_string()),
                ("size", info.size.to_string()),
                ("sha256", info.sha256.clone()),
            ],
        );
        Ok(StepOutcome::Done)
    }

    fn vm_backup(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::VmBackup;
        let Some(ssh) = self.host.ssh_mut() else { return Ok(StepOutcome::Stopped { stop: Stop::NeedsSsh }) };
        let installed = ssh.ghettovcb_installed().map_err(|source| RunError::Transport { step, source })?;
        if !installed {
            return Ok(StepOutcome::Stopped { stop: Stop::NoGhettoVcb });
        }
        let st = self.observe(step)?;
        let names: Vec<String> = st.vms.iter().flatten().map(|v| v.name.clone()).collect();
        if names.is_empty() {
            self.satisfied_now(step, None, json!({"vms": []}), Some("the host has no VM"))?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        let ds = self.plan().backup_datastore.clone().ok_or_else(|| {
            RunError::hinted(
                step,
                "no datastore for the VM backups is known",
                "collect the host's datastores first (esxup collect)",
            )
        })?;
        let host = self.journal.meta().host.clone();
        let conf = esxup_plan::ghetto::config(&ds, &host, &self.opts.today);
        let list = names.join("\n") + "\n";
        let dir = "/tmp/esxup-ghettovcb";
        let (conf_path, list_path) = (format!("{dir}/ghettoVCB.conf"), format!("{dir}/vms.txt"));
        let before = json!({"vms": names, "datastore": ds});
        // The files are inputs of the backup, not host state: written under
        // the same intent as the backup itself.
        self.change(
            step,
            None,
            &Change::WriteFile { path: &conf_path, content: conf.as_bytes() },
            before.clone(),
        )?;
        self.change(
            step,
            None,
            &Change::WriteFile { path: &list_path, content: list.as_bytes() },
            before.clone(),
        )?;
        let out =
            self.change(step, None, &Change::GhettoVcb { vm_list: &list_path, conf: &conf_path }, before)?;
        let text = match out {
            Outcome::Text(t) => t,
            _ => String::new(),
        };
        let log = self.journal.file_path("vm-backup", "ghettoVCB.log")?;
        crate::journal::write_atomic(&log, text.as_bytes())?;
        let final_line = text
            .lines()
            .rev()
            .find(|l| l.contains("Final status:"))
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        if !final_line.contains("All VMs backed up OK!") {
            self.failed(
                step,
                None,
                &format!("ghettoVCB: {final_line}"),
                Some(json!({"log": "vm-backup/ghettoVCB.log"})),
            )?;
            return Ok(StepOutcome::Stopped { stop: Stop::BackupFailed { final_line } });
        }
        self.done(
            step,
            None,
            json!({"final_status": final_line}),
            Some(json!({"log": "vm-backup/ghettoVCB.log"})),
        )?;
        Ok(StepOutcome::Done)
    }

    fn workarounds(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::Workarounds;
        // Exposures without a workaround esxup applies: what the upgrade
        // does about them, in the check's words (fixed_by_target is
        // Advisory::status_in of the target, the one decision).
        let notes = self.plan().exposures.clone();
        let fixed: Vec<String> =
            notes.iter().filter(|e| e.fixed_by_target == Some(true)).map(|e| e.advisory.clone()).collect();
        if !fixed.is_empty() {
            self.note(step, "fixed_by_target", vec![("advisories", fixed.join(", "))]);
        }
        for e in notes.iter().filter(|e| e.fixed_by_target != Some(true)) {
            let key = match (e.fixed_by_target, e.no_workaround) {
                (Some(false), true) => "not_fixed_no_workaround",
                (Some(false), false) => "not_fixed_manual_workaround",
                (_, true) => "not_listed_no_workaround",
                (_, false) => "not_listed_manual_workaround",
            };
            self.note(step, key, vec![("advisory", e.advisory.clone())]);
        }
        let work = self.plan().workarounds.clone();
        let mut changed = false;
        for w in &work {
            if w.service != "slpd" {
                self.note(
                    step,
                    "service_not_applied",
                    vec![("advisory", w.advisory.clone()), ("service", w.service.clone())],
                );
                continue;
            }
            let st = self.observe(step)?;
            let slp = st.slp.clone().unwrap_or_default();
            if slp.workaround_in_place() == Some(true) {
                self.satisfied_now(step, Some(&w.advisory), json!(slp), None)?;
                continue;
            }
            // KB 76372: stop slpd, keep it off across reboots, close CIMSLP.
            let before = json!(slp);
            if slp.running != Some(false) {
                self.change(step, Some(&w.advisory), &Change::StopService("slpd"), before.clone())?;
            }
            if !slp.policy.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("off")) {
                self.change(step, Some(&w.advisory), &Change::ServicePolicy("slpd", "off"), before.clone())?;
            }
            if slp.firewall_enabled != Some(false) {
                self.change(step, Some(&w.advisory), &Change::Ruleset("CIMSLP", false), before.clone())?;
            }
            let after = self.observe(step)?.slp.unwrap_or_default();
            if after.workaround_in_place() != Some(true) {
                let msg = format!("{}: after the workaround slpd reads {}", w.advisory, json!(after));
                self.failed(step, Some(&w.advisory), &msg, None)?;
                return Err(RunError::step(step, msg));
            }
            self.done(
                step,
                Some(&w.advisory),
                json!(after),
                w.text.as_ref().map(|t| json!({"workaround": t})),
            )?;
            changed = true;
        }
        let st = self.observe(step)?;
        self.done(step, None, json!(st.slp), None)?;
        Ok(if changed { StepOutcome::Done } else { StepOutcome::AlreadySatisfied })
    }

    /// Waits until `name` has power state `want`.
    fn wait_power(&mut self, step: RunStep, name: &str, want: PowerState) -> Result<HostState, RunError> {
        let deadline = Instant::now() + self.opts.shutdown_timeout;
        loop {
            let st = self.observe(step)?;
            if st.vm(name).and_then(|v| v.power) == Some(want) {
                return Ok(st);
            }
            if Instant::now() >= deadline {
                return Err(RunError::hinted(
                    step,
                    format!("VM {name} is not {want:?} after {} s", self.opts.shutdown_timeout.as_secs()),
                    "shut the guest down by hand, or raise --shutdown-timeout, then run the same command again",
                ));
            }
            self.emit(Event::Waiting {
                step,
                key: "power",
                args: vec![("vm", name.to_string()), ("power", power_word(want).to_string())],
            });
            std::thread::sleep(self.opts.poll);
        }
    }

    fn vm_shutdown(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::VmShutdown;
        let st = self.observe(step)?;
        let vms = st.vms.clone().unwrap_or_default();
        let on: Vec<&VmState> = vms.iter().filter(|v| v.is_on()).collect();
        if on.is_empty() {
            let stopped = self.stopped_by_run();
            self.satisfied_now(step, None, json!({"running": []}), None)?;
            if !stopped.is_empty() {
                // Interrupted after the last VM was off: say which the run stopped.
                self.note(step, "stopped_by_run", vec![("vms", stopped.join(", "))]);
            }
            return Ok(StepOutcome::AlreadySatisfied);
        }
        let no_tools: Vec<&VmState> = on.iter().copied().filter(|v| !v.can_shut_down_guest()).collect();
        if !no_tools.is_empty() && !self.opts.power_off_without_tools {
            return Ok(StepOutcome::Stopped { stop: Stop::ToolsMissing { vms: vm_names(&no_tools) } });
        }
        for vm in on {
            let before = json!({"power": vm.power, "tools": vm.tools});
            let change =
                if vm.can_shut_down_guest() { Change::ShutdownGuest(vm) } else { Change::PowerOff(vm) };
            self.change(step, Some(&vm.name), &change, before)?;
            let st = self.wait_power(step, &vm.name, PowerState::PoweredOff)?;
            self.done(step, Some(&vm.name), json!({"power": st.vm(&vm.name).and_then(|v| v.power)}), None)?;
        }
        let stopped = self.stopped_by_run();
        self.done(step, None, json!({"running": []}), Some(json!({"stopped": stopped})))?;
        Ok(StepOutcome::Done)
    }

    /// The VMs `vm-shutdown` stopped in this run, in the order it stopped them.
    fn stopped_by_run(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.journal.records() {
            if r.step == RunStep::VmShutdown && r.phase == Phase::Intent {
                if let Some(i) = &r.item {
                    if !out.contains(i) {
                        out.push(i.clone());
                    }
                }
            }
        }
        out
    }

    fn maintenance(&mut self, step: RunStep, on: bool) -> Result<StepOutcome, RunError> {
        if !on && self.journal.meta().before_run.maintenance_mode == Some(true) {
            return Ok(StepOutcome::NotNeeded { key: "was_in_maintenance".into() });
        }
        let st = self.observe(step)?;
        if st.maintenance_mode == Some(on) {
            self.satisfied_now(step, None, json!({"maintenance_mode": on}), None)?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        self.change(step, None, &Change::Maintenance(on), json!({"maintenance_mode": st.maintenance_mode}))?;
        let after = self.observe(step)?;
        if after.maintenance_mode != Some(on) {
            let msg = format!("maintenance mode reads {:?} after the change", after.maintenance_mode);
            self.failed(step, None, &msg, None)?;
            return Err(RunError::step(step, msg));
        }
        self.done(step, None, json!({"maintenance_mode": on}), None)?;
        Ok(StepOutcome::Done)
    }

    fn bundle_upload(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::BundleUpload;
        let Some(d) = self.plan().depot.clone().filter(|d| d.local) else {
            return Ok(StepOutcome::NotNeeded { key: "remote_depot".into() });
        };
        let (Some(ds), Some(name), Some(want)) = (d.datastore.clone(), d.file_name.clone(), d.sha256.clone())
        else {
            return Err(RunError::step(step, "the run's plan has no datastore or checksum for the bundle"));
        };
        let local = PathBuf::from(&d.given);
        let (now, size) = sha256_file(&local)
            .map_err(|e| RunError::step(step, format!("read {}: {e}", local.display())))?;
        if now != want {
            return Err(RunError::hinted(
                step,
                format!(
                    "{} changed since the run was planned (sha256 {now}, planned {want})",
                    local.display()
                ),
                "give the same bundle, or start a new run with a new journal",
            ));
        }
        let t = self.host.active();
        let remote = t.remote_sha256(&ds, &name).map_err(|source| RunError::Transport { step, source })?;
        if remote.as_deref() == Some(want.as_str()) {
            self.satisfied_now(step, None, json!({"path": d.host_path, "sha256": want}), None)?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        let change = Change::Upload { datastore: &ds, name: &name, local: &local, size };
        self.change(step, None, &change, json!({"path": d.host_path, "sha256": remote}))?;
        let got = self
            .host
            .active()
            .remote_sha256(&ds, &name)
            .map_err(|source| RunError::Transport { step, source })?;
        if got.as_deref() != Some(want.as_str()) {
            let msg = format!(
                "the bundle on the host has sha256 {}, the local one {want}",
                got.as_deref().unwrap_or("(missing)")
            );
            self.failed(step, None, &msg, None)?;
            return Err(RunError::hinted(
                step,
                msg,
                "the upload was damaged: run the same command again to upload it anew",
            ));
        }
        self.done(step, None, json!({"path": d.host_path, "sha256": want}), Some(json!({"size": size})))?;
        Ok(StepOutcome::Done)
    }

    fn image_update(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::ImageUpdate;
        let target = self.target_build();
        let st = self.observe(step)?;
        if satisfied(step, &st, self.plan(), target) == Some(true) {
            // An interrupted run that had opened httpClient: close it now.
            let left_open = self.journal.last(step, Some("httpClient")).is_some_and(|r| {
                r.phase == Phase::Done
                    && r.after.as_ref().and_then(|a| a.get("httpClient")) == Some(&json!(true))
            });
            if left_open && self.host.has_ssh() {
                self.close_http_client(step)?;
            }
            self.satisfied_now(step, None, json!({"build": st.build, "pending": st.pending}), None)?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        if let Automation::Manual { reason } = self.plan().automation(step) {
            return Ok(StepOutcome::Stopped { stop: Stop::Manual { key: reason } });
        }
        if !self.host.has_ssh() {
            return Ok(StepOutcome::Stopped { stop: Stop::NeedsSsh });
        }
        let d =
            self.plan().depot.clone().ok_or_else(|| RunError::step(step, "no depot in the run's plan"))?;
        // esxup's own simulation of the same transaction, on the host's VIBs now.
        let ssh = self.host.ssh_mut().expect("checked above");
        let vibs = ssh.installed_vibs().map_err(|source| RunError::Transport { step, source })?;
        let depot = esxup_depot::Depot::open(&d.given)
            .map_err(|e| RunError::step(step, format!("open depot {}: {e}", d.given)))?;
        let profile = depot.profile(&d.profile).ok_or_else(|| {
            RunError::step(step, format!("depot {} has no image profile {}", d.given, d.profile))
        })?;
        let facts = esxup_facts::HostFacts { vibs: Some(vibs), ..esxup_facts::HostFacts::new() };
        let image =
            esxup_depot::HostImage::from_facts(&facts).map_err(|e| RunError::step(step, e.to_string()))?;
        let tx = esxup_depot::simulate(&image, &depot, profile, &Default::default());
        if !tx.succeeds() {
            let problems: Vec<String> =
                tx.problems.iter().filter(|p| p.kind.fails()).map(|p| p.message.clone()).collect();
            self.failed(
                step,
                None,
                "esxup's simulation: esxcli would refuse this update",
                Some(json!({"problems": problems})),
            )?;
            return Ok(StepOutcome::Stopped { stop: Stop::SimulationFails { problems } });
        }
        let installed: BTreeSet<String> = tx.installed.iter().map(|x| x.vib.clone()).collect();
        let removed: BTreeSet<String> = tx.removed.iter().map(|x| x.vib.clone()).collect();
        // esxcli reaches an online depot through the httpClient ruleset:
        // opened only if closed, and closed again whatever the update did.
        let opened = if d.host_path.contains("://") { self.open_http_client(step)? } else { false };
        let r = self.update_from_depot(step, &d, &st, &installed, &removed, target);
        if opened {
            let closed = self.close_http_client(step);
            if let (Ok(_), Err(e)) = (&r, closed) {
                return Err(e);
            }
        }
        r
    }

    /// The dry run, its comparison with esxup's simulation, the update and
    /// the read-back (image-update with a depot).
    fn update_from_depot(
        &mut self,
        step: RunStep,
        d: &crate::plan::DepotPlan,
        st: &HostState,
        installed: &BTreeSet<String>,
        removed: &BTreeSet<String>,
        target: u32,
    ) -> Result<StepOutcome, RunError> {
        let dry = Change::ProfileUpdate { depot: &d.host_path, profile: &d.profile, dry_run: true };
        let ssh = self.host.ssh_mut().expect("checked above");
        let dry_text = match ssh.apply(&dry) {
            Ok(Outcome::Text(t)) => t,
            Ok(_) => String::new(),
            Err(e) => {
                self.failed(step, None, &e.to_string(), None)?;
                return Err(RunError::Transport { step, source: e });
            }
        };
        let dry_file = self.journal.file_path("image-update", "profile-update-dry-run.txt")?;
        crate::journal::write_atomic(&dry_file, dry_text.as_bytes())?;
        let Some(dry_result) = esxcli::parse(&dry_text) else {
            let msg = "esxcli's dry run printed no Installation Result".to_string();
            self.failed(
                step,
                None,
                &msg,
                Some(json!({"dry_run": "image-update/profile-update-dry-run.txt"})),
            )?;
            return Err(RunError::step(step, msg));
        };
        let diff = esxcli::compare(&dry_result, installed, removed);
        if !diff.is_empty() {
            self.failed(
                step,
                None,
                "esxcli's dry run and esxup's simulation install or remove different VIBs",
                Some(json!({"difference": diff, "dry_run": "image-update/profile-update-dry-run.txt"})),
            )?;
            return Ok(StepOutcome::Stopped { stop: Stop::DryRunMismatch { difference: diff } });
        }
        self.note(
            step,
            "dry_run_agrees",
            vec![("installed", installed.len().to_string()), ("removed", removed.len().to_string())],
        );
        let real = Change::ProfileUpdate { depot: &d.host_path, profile: &d.profile, dry_run: false };
        let out = self.change(step, None, &real, json!({"build": st.build, "profile": st.image_profile}))?;
        let text = match out {
            Outcome::Text(t) => t,
            _ => String::new(),
        };
        let out_file = self.journal.file_path("image-update", "profile-update.txt")?;
        crate::journal::write_atomic(&out_file, text.as_bytes())?;
        let after = self.observe(step)?;
        let result = esxcli::parse(&text);
        if satisfied(step, &after, self.plan(), target) != Some(true) {
            let msg = format!(
                "after the update the host runs {} with no pending image of build {target}",
                after.build.map(|b| b.to_string()).unwrap_or_else(|| "an unknown build".into())
            );
            self.failed(step, None, &msg, Some(json!({"output": "image-update/profile-update.txt"})))?;
            return Err(RunError::step(step, msg));
        }
        self.done(
            step,
            None,
            json!({"build": after.build, "pending": after.pending, "profile": after.image_profile}),
            Some(json!({
                "output": "image-update/profile-update.txt",
                "dry_run": "image-update/profile-update-dry-run.txt",
                "installed": result.as_ref().map(|r| r.installed.len()),
                "removed": result.as_ref().map(|r| r.removed.len()),
                "reboot_required": result.as_ref().and_then(|r| r.reboot_required),
            })),
        )?;
        Ok(StepOutcome::Done)
    }

    /// Opens the httpClient ruleset if it is closed; whether it did.
    fn open_http_client(&mut self, step: RunStep) -> Result<bool, RunError> {
        let ssh = self.host.ssh_mut().expect("image-update runs over SSH");
        let was = ssh.ruleset_enabled("httpClient").map_err(|source| RunError::Transport { step, source })?;
        if was == Some(true) {
            return Ok(false);
        }
        let item = Some("httpClient");
        self.change(step, item, &Change::Ruleset("httpClient", true), json!({"httpClient": was}))?;
        let ssh = self.host.ssh_mut().expect("image-update runs over SSH");
        let now = ssh.ruleset_enabled("httpClient").map_err(|source| RunError::Transport { step, source })?;
        if now != Some(true) {
            let msg = format!("the httpClient ruleset reads {now:?} after enabling it");
            self.failed(step, item, &msg, None)?;
            return Err(RunError::step(step, msg));
        }
        self.done(step, item, json!({"httpClient": now}), None)?;
        Ok(true)
    }

    /// Closes the httpClient ruleset the run opened.
    fn close_http_client(&mut self, step: RunStep) -> Result<(), RunError> {
        let item = Some("httpClient");
        self.change(step, item, &Change::Ruleset("httpClient", false), json!({"httpClient": true}))?;
        let ssh = self.host.ssh_mut().expect("image-update runs over SSH");
        let now = ssh.ruleset_enabled("httpClient").map_err(|source| RunError::Transport { step, source })?;
        self.done(step, item, json!({"httpClient": now}), None)
    }

    /// Waits until the host answers with a boot time other than `before`.
    fn wait_back(&mut self, step: RunStep, before: Option<&str>) -> Result<HostState, RunError> {
        Ok(self.wait_back_within(step, before, None)?.expect("no grace: back or an error"))
    }

    /// Waits for the host to answer with a boot time other than `before`.
    /// With `grace`: `None` when the host kept answering with the old boot
    /// time, never down, for that long (it was not rebooted).
    fn wait_back_within(
        &mut self,
        step: RunStep,
        before: Option<&str>,
        grace: Option<Duration>,
    ) -> Result<Option<HostState>, RunError> {
        let start = Instant::now();
        let deadline = start + self.opts.reboot_timeout;
        let mut last;
        let mut seen_down = false;
        loop {
            match self.host.observe() {
                Ok(s) if s.boot_time.is_some() && s.boot_time.as_deref() != before => {
                    self.emit(Event::Waiting { step, key: "host_back", args: Vec::new() });
                    return Ok(Some(s));
                }
                Ok(_) if !seen_down && grace.is_some_and(|g| start.elapsed() >= g) => return Ok(None),
                Ok(_) => last = "the host still reports its old boot time".into(),
                Err(e) => {
                    if !seen_down {
                        self.emit(Event::Waiting { step, key: "host_down", args: Vec::new() });
                        seen_down = true;
                    }
                    last = e.to_string();
                    self.host.reconnect();
                }
            }
            if Instant::now() >= deadline {
                return Err(RunError::NeverBack { secs: self.opts.reboot_timeout.as_secs(), last });
            }
            std::thread::sleep(self.opts.poll);
        }
    }

    fn reboot(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::Reboot;
        let target = self.target_build();
        // An earlier invocation announced the reboot and died: if the host
        // goes down or comes back with a new boot time, that reboot
        // happened; wait for it, never reboot twice. If it keeps its old
        // boot time for the grace period, the command was never sent.
        if let Some(r) = self.journal.last_of_step(step).filter(|r| r.phase == Phase::Intent).cloned() {
            let before = r
                .before
                .as_ref()
                .and_then(|b| b.get("boot_time"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let grace = self.opts.reboot_grace;
            if let Some(st) = self.wait_back_within(step, before.as_deref(), Some(grace))? {
                self.done(step, None, json!({"build": st.build, "boot_time": st.boot_time}), None)?;
                return Ok(StepOutcome::Done);
            }
            self.emit(Event::Waiting { step, key: "not_rebooted", args: Vec::new() });
        }
        let st = self.observe(step)?;
        if satisfied(step, &st, self.plan(), target) == Some(true) {
            self.satisfied_now(step, None, json!({"build": st.build, "boot_time": st.boot_time}), None)?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        let update_done =
            matches!(self.journal.last_of_step(RunStep::ImageUpdate).map(|r| r.phase), Some(Phase::Done));
        if !st.has_pending(target) && !update_done {
            return Ok(StepOutcome::NotNeeded { key: "no_pending_image".into() });
        }
        if st.maintenance_mode != Some(true) {
            return Err(RunError::hinted(
                step,
                "the host is not in maintenance mode: esxup reboots a host only in maintenance mode",
                "run the maintenance-on step (or drop --skip maintenance-on)",
            ));
        }
        let reason = format!("esxup: upgrade to build {target}");
        let before_boot = st.boot_time.clone();
        self.change(
            step,
            None,
            &Change::Reboot { reason: &reason },
            json!({"build": st.build, "boot_time": st.boot_time}),
        )?;
        let after = self.wait_back(step, before_boot.as_deref())?;
        self.done(step, None, json!({"build": after.build, "boot_time": after.boot_time}), None)?;
        Ok(StepOutcome::Done)
    }

    /// What `verify` expects, from the journal.
    pub fn expectations(journal_records: &[Record], plan: &RunPlan) -> Expect {
        let licence_set = journal_records
            .iter()
            .rev()
            .find(|r| r.step == RunStep::License && r.phase == Phase::Done && r.item.is_none())
            .and_then(|r| r.after.as_ref())
            .and_then(|a| a.get("key_masked"))
            .and_then(|k| k.as_str())
            .map(str::to_string);
        let workaround_applied = journal_records
            .iter()
            .any(|r| r.step == RunStep::Workarounds && r.phase == Phase::Done && r.item.is_some());
        Expect {
            licence_set,
            workaround_applied,
            profile: (plan.method == Method::Esxcli)
                .then(|| plan.depot.as_ref().map(|d| d.profile.clone()))
                .flatten(),
        }
    }

    fn verify_step(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::Verify;
        let st = self.observe(step)?;
        let expect = Runner::expectations(self.journal.records(), self.plan());
        let report = verify::verify(self.journal.meta(), &st, Stage::AfterReboot, &expect);
        if report.verdict() != verify::Verdict::Pass {
            let mismatches: Vec<String> = report
                .mismatches()
                .map(|c| format!("{}: expected {}, found {}", c.what, c.expected, c.found))
                .collect();
            self.failed(step, None, "the host is not as the run expects", Some(json!(report)))?;
            if report.verdict() == verify::Verdict::Unknown {
                return Err(RunError::step(
                    step,
                    "cannot read the host's build: cannot tell whether it runs the target",
                ));
            }
            return Ok(StepOutcome::Stopped { stop: Stop::VerifyFailed { mismatches } });
        }
        for c in &report.checks {
            self.note(
                step,
                "verify_check",
                vec![
                    ("check", c.what.to_string()),
                    ("found", c.found.clone()),
                    ("status", c.status.as_str().to_string()),
                ],
            );
        }
        // The upgraded host's own backup, kept beside the first, so that
        // either build can be restored.
        let already = self.journal.records().iter().any(|r| {
            r.step == step && r.phase == Phase::Done && r.item.as_deref() == Some("config-backup-after")
        });
        if !already {
            self.config_backup(step, "after")?;
        }
        self.done(step, None, json!({"build": st.build, "profile": st.image_profile}), Some(json!(report)))?;
        Ok(StepOutcome::Done)
    }

    fn license(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::License;
        let Some(key) = self.opts.license_key.clone() else {
            return Ok(StepOutcome::NoInput { key: "license_key".into() });
        };
        let st = self.observe(step)?;
        let masked = key.masked_key();
        let now = st.license.as_ref().and_then(|l| l.key_masked.clone());
        if now.as_deref() == Some(masked.as_str()) {
            self.satisfied_now(step, None, json!({"key_masked": masked}), None)?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        self.change(step, None, &Change::SetLicense(&key), json!({"key_masked": now}))?;
        let after = self.observe(step)?;
        let got = after.license.as_ref().and_then(|l| l.key_masked.clone());
        if got.as_deref() != Some(masked.as_str()) {
            let msg = format!(
                "the host reports licence {} after the change",
                got.unwrap_or_else(|| "unknown".into())
            );
            self.failed(step, None, &msg, None)?;
            return Err(RunError::step(step, msg));
        }
        self.done(
            step,
            None,
            json!({"key_masked": masked, "edition": after.license.and_then(|l| l.edition)}),
            None,
        )?;
        Ok(StepOutcome::Done)
    }

    fn vm_start(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::VmStart;
        let stopped = self.stopped_by_run();
        let st = self.observe(step)?;
        if stopped.is_empty() {
            self.satisfied_now(step, None, json!({"started": []}), Some("no VM was stopped by this run"))?;
            return Ok(StepOutcome::AlreadySatisfied);
        }
        // The host's autostart order first (startOrder 1, 2, ...), then the
        // order vm-shutdown stopped them in.
        let mut order: Vec<(u32, usize, String)> = stopped
            .iter()
            .enumerate()
            .map(|(i, n)| (st.vm(n).and_then(|v| v.start_order).unwrap_or(u32::MAX), i, n.clone()))
            .collect();
        order.sort();
        let mut any = false;
        for (_, _, name) in order {
            let st = self.observe(step)?;
            let Some(vm) = st.vm(&name).cloned() else {
                self.note(step, "vm_gone", vec![("vm", name.clone())]);
                continue;
            };
            if vm.is_on() {
                self.satisfied_now(step, Some(&name), json!({"power": vm.power}), None)?;
                continue;
            }
            self.change(step, Some(&name), &Change::PowerOn(&vm), json!({"power": vm.power}))?;
            let st = self.wait_power(step, &name, PowerState::PoweredOn)?;
            self.done(step, Some(&name), json!({"power": st.vm(&name).and_then(|v| v.power)}), None)?;
            any = true;
        }
        self.done(step, None, json!({"started": stopped}), None)?;
        Ok(if any { StepOutcome::Done } else { StepOutcome::AlreadySatisfied })
    }

    /// VMs the admin named (`--vm`), or all with `--all-vms`; `None` when
    /// neither was given.
    fn chosen(&self, vms: &[VmState]) -> Option<Vec<VmState>> {
        if self.opts.all_vms {
            return Some(vms.to_vec());
        }
        if self.opts.vms.is_empty() {
            return None;
        }
        Some(vms.iter().filter(|v| self.opts.vms.contains(&v.name)).cloned().collect())
    }

    fn tools_upgrade(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::ToolsUpgrade;
        let st = self.observe(step)?;
        let vms = st.vms.clone().unwrap_or_default();
        let pool = self.chosen(&vms).unwrap_or(vms);
        let mut any = false;
        for vm in &pool {
            if !vm.tools_need_upgrade() {
                continue;
            }
            if !vm.is_on() {
                self.note(step, "tools_vm_off", vec![("vm", vm.name.clone())]);
                continue;
            }
            self.change(
                step,
                Some(&vm.name),
                &Change::UpgradeTools(vm),
                json!({"tools": vm.tools, "version": vm.tools_version}),
            )?;
            let after = self.observe(step)?;
            let now = after.vm(&vm.name).cloned();
            if now.as_ref().is_some_and(|v| v.tools_need_upgrade()) {
                let msg = format!(
                    "{}: Tools still report {:?} after the upgrade",
                    vm.name,
                    now.and_then(|v| v.tools)
                );
                self.failed(step, Some(&vm.name), &msg, None)?;
                return Err(RunError::step(step, msg));
            }
            self.done(step, Some(&vm.name), json!({"tools": now.as_ref().and_then(|v| v.tools), "version": now.and_then(|v| v.tools_version)}), None)?;
            any = true;
        }
        let st = self.observe(step)?;
        let left: Vec<String> = st
            .vms
            .iter()
            .flatten()
            .filter(|v| v.is_on() && v.tools_need_upgrade())
            .map(|v| v.name.clone())
            .collect();
        self.done(step, None, json!({"still_old": left}), None)?;
        Ok(if any { StepOutcome::Done } else { StepOutcome::AlreadySatisfied })
    }

    fn hardware_upgrade(&mut self) -> Result<StepOutcome, RunError> {
        let step = RunStep::VmHardwareUpgrade;
        let st = self.observe(step)?;
        let vms = st.vms.clone().unwrap_or_default();
        let Some(chosen) = self.chosen(&vms) else {
            return Ok(StepOutcome::NoInput { key: "vms".into() });
        };
        let Some(max) = self.plan().max_vm_hardware else {
            return Err(RunError::step(step, "the knowledge base has no VM hardware version for the target"));
        };
        let mut any = false;
        for vm in chosen {
            let last = self.journal.last(step, Some(&vm.name)).cloned();
            let was_on = match &last {
                Some(r) if r.phase == Phase::Intent => r
                    .before
                    .as_ref()
                    .and_then(|b| b.get("power"))
                    .and_then(|p| p.as_str())
                    .map(|p| p == "powered-on")
                    .unwrap_or(vm.is_on()),
                _ => vm.is_on(),
            };
            let snap_name = format!("esxup-before-vmx-{max}");
            if vm.hardware.is_some_and(|h| h >= max) {
                // Done, or interrupted after the upgrade: finish the rest.
                if last.as_ref().is_some_and(|r| r.phase == Phase::Intent) {
                    self.finish_hardware(step, &vm.name, was_on, &snap_name)?;
                } else {
                    self.satisfied_now(step, Some(&vm.name), json!({"hardware": vm.hardware}), None)?;
                }
                continue;
            }
            if vm.tools != Some(esxup_facts::ToolsStatus::Current) {
                self.note(step, "hardware_tools_not_current", vec![("vm", vm.name.clone())]);
                continue;
            }
            let before = json!({"hardware": vm.hardware, "power": vm.power});
            if vm.is_on() {
                if !vm.can_shut_down_guest() {
                    self.note(step, "hardware_no_guest_shutdown", vec![("vm", vm.name.clone())]);
                    continue;
                }
                self.change(step, Some(&vm.name), &Change::ShutdownGuest(&vm), before.clone())?;
                self.wait_power(step, &vm.name, PowerState::PoweredOff)?;
            }
            if self.opts.snapshot_before_hardware {
                self.change(step, Some(&vm.name), &Change::CreateSnapshot(&vm, &snap_name), before.clone())?;
            }
            self.change(step, Some(&vm.name), &Change::UpgradeHardware(&vm, max), before)?;
            self.finish_hardware(step, &vm.name, was_on, &snap_name)?;
            any = true;
        }
        let st = self.observe(step)?;
        self.done(step, None, json!({"hardware": st.vms.iter().flatten().map(|v| (v.name.clone(), v.hardware)).collect::<Vec<_>>()}), None)?;
        Ok(if any { StepOutcome::Done } else { StepOutcome::AlreadySatisfied })
    }

    /// After a hardware upgrade: the VM runs again if it ran, and the
    /// snapshot taken before goes once it has booted.
    fn finish_hardware(
        &mut self,
        step: RunStep,
        name: &str,
        was_on: bool,
        snap: &str,
    ) -> Result<(), RunError> {
        let st = self.observe(step)?;
        let vm = st.vm(name).cloned().ok_or_else(|| RunError::step(step, format!("VM {name} is gone")))?;
        if was_on && !vm.is_on() {
            self.change(step, Some(name), &Change::PowerOn(&vm), json!({"power": vm.power}))?;
            self.wait_power(step, name, PowerState::PoweredOn)?;
        }
        let st = self.observe(step)?;
        let vm = st.vm(name).cloned().ok_or_else(|| RunError::step(step, format!("VM {name} is gone")))?;
        if let Some(s) = vm.snapshots.iter().flatten().find(|s| s.name == snap).cloned() {
            if vm.is_on() || !was_on {
                self.change(
                    step,
                    Some(name),
                    &Change::RemoveSnapshot(&vm, &s.id),
                    json!({"snapshot": s.name}),
                )?;
            }
        }
        let st = self.observe(step)?;
        let vm = st.vm(name).cloned();
        self.done(
            step,
            Some(name),
            json!({"hardware": vm.as_ref().and_then(|v| v.hardware), "power": vm.and_then(|v| v.power)}),
            None,
        )
    }
}

/// sha256 and size of a local file.
pub fn sha256_file(p: &std::path::Path) -> std::io::Result<(String, u64)> {
    use sha2::Digest;
    let mut f = std::fs::File::open(p)?;
    let mut h = sha2::Sha256::new();
    let n = std::io::copy(&mut f, &mut h)?;
    Ok((hex::encode(h.finalize()), n))
}

/// The API's word for a power state, as the messages print it.
fn power_word(p: PowerState) -> &'static str {
    match p {
        PowerState::PoweredOn => "poweredOn",
        PowerState::PoweredOff => "poweredOff",
        PowerState::Suspended => "suspended",
    }
}
