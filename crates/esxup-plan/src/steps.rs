//! The step builder: turns a [`PlanInput`] into a [`Plan`] with every text
//! taken from the message catalog (`messages/plan.<lang>.toml`) and every
//! command filled in with this host's names, builds, profiles and datastores.
//!
//! Facts behind the steps (see shared/research/README.md):
//! - back-in-time rule: VMware KB 67077; Shift+R rollback: VMware KB 1033604
//!   (no way back to 6.x after an upgrade to 7.0: the boot partitions change);
//! - configuration backup/restore: VMware KB 2042141 (`vim-cmd hostsvc/firmware/...`);
//! - Secure Boot is lost with an esxcli upgrade from 6.x: use the ISO;
//!   CommunitySupported VIBs (ghettoVCB's VIB is one) prevent Secure Boot;
//! - VMware Tools before VM hardware (Windows guests can lose network settings).

use crate::ghetto;
use crate::input::{MethodKind, PlanInput, RollbackRoute, Text, Verdict};
use crate::model::*;
use crate::runnable::{automation, RunContext, RunStep};
use esxup_check::{Finding, Severity};
use esxup_facts::{BootMedia, PowerState, ToolsStatus, Vm};
use esxup_i18n::Lang;
use esxup_kb::{FixStatus, Release};
use std::collections::BTreeMap;

const KB_BACK_IN_TIME: &str = "VMware KB 67077 (back-in-time upgrades are not supported)";
const KB_ROLLBACK: &str = "VMware KB 1033604 (roll back with Shift+R to the altbootbank build)";
const KB_CONFIG: &str = "VMware KB 2042141 (back up and restore the ESXi configuration)";
const SRC_SECURE_BOOT: &str = "vSphere Security guide: UEFI Secure Boot for ESXi hosts (secureBoot.py)";
const SRC_GHETTOVCB: &str = "https://github.com/lamw/ghettoVCB";
const SRC_TOOLS_FIRST: &str = "VMware: upgrade VMware Tools before the virtual hardware";
const KB_SLP: &str = "VMware KB 76372";

/// Builds the runbook in `lang`.
pub fn build_plan(input: &PlanInput, lang: Lang) -> Plan {
    let b = Builder::new(input, lang);
    b.build()
}

struct Builder<'a> {
    input: &'a PlanInput,
    lang: Lang,
    args: BTreeMap<String, String>,
    host: String,
}

/// Renders a check message: arguments whose value starts with `@` name
/// another catalog key and are rendered first (as `esxup check` does).
pub fn msg(lang: Lang, key: &str, args: &BTreeMap<String, String>) -> String {
    let resolved: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| {
            let v = match v.strip_prefix('@') {
                Some(inner) => esxup_i18n::t(lang, inner, args),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    esxup_i18n::t(lang, key, &resolved)
}

fn release_ref(r: &Release) -> ReleaseRef {
    ReleaseRef {
        build: r.build,
        version: r.version.to_string(),
        name: r.name.clone(),
        release_date: r.release_date.to_string(),
        image_profile: standard_profile(r),
    }
}

/// The `-standard` image profile of a release, else its first.
pub fn standard_profile(r: &Release) -> Option<String> {
    r.image_profiles
        .iter()
        .find(|p| p.trim().ends_with("-standard"))
        .or_else(|| r.image_profiles.first())
        .map(|p| p.trim().to_string())
}

/// Quotes a path for the ESXi shell when it holds spaces or shell characters.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,<>".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

impl<'a> Builder<'a> {
    fn new(input: &'a PlanInput, lang: Lang) -> Builder<'a> {
        let f = &input.facts;
        let host = f.hostname.clone().unwrap_or_else(|| "<esxi-host>".to_string());
        let mut b = Builder { input, lang, args: BTreeMap::new(), host: host.clone() };
        let unknown = b.word("unknown");
        b.set("host", &host);
        b.set("today", &input.today.to_string());
        // Installed build: KB record first, facts second.
        let (cur_build, cur_version) = match (&input.current, &f.product) {
            (Some(r), _) => (r.build.to_string(), r.version.to_string()),
            (None, Some(p)) => (p.build.to_string(), p.version.to_string()),
            (None, None) => (unknown.clone(), unknown.clone()),
        };
        b.set("cur_build", &cur_build);
        b.set("cur_version", &cur_version);
        b.set(
            "cur_name",
            &input.current.as_ref().map(|r| r.name.clone()).unwrap_or_else(|| format!("ESXi {cur_version}")),
        );
        b.set(
            "cur_date",
            &input.current.as_ref().map(|r| r.release_date.to_string()).unwrap_or(unknown.clone()),
        );
        b.set("cur_profile", f.image_profile.as_deref().unwrap_or(&unknown));
        let t = input.route_target();
        b.set_release("tgt", t);
        b.set("tgt_branch", &t.version.branch().to_string());
        b.set("tgt_major", &t.version.major.to_string());
        b.set_release("req", &input.requested);
        let alt = input.altbootbank.as_ref();
        let alt_build = alt
            .map(|r| r.build.to_string())
            .or_else(|| f.altbootbank.as_ref().and_then(|a| a.build).map(|b| b.to_string()))
            .unwrap_or(unknown.clone());
        b.set("alt_build", &alt_build);
        b.set("alt_name", &alt.map(|r| r.name.clone()).unwrap_or(unknown.clone()));
        b.set("alt_date", &alt.map(|r| r.release_date.to_string()).unwrap_or(unknown.clone()));
        let boot = f.boot_device.as_ref();
        b.set("boot_device", boot.and_then(|d| d.device.as_deref()).unwrap_or("<boot-device>"));
        b.set("boot_model", boot.and_then(|d| d.model.as_deref()).unwrap_or(&unknown));
        let disk: Vec<String> = [
            boot.and_then(|d| d.device.clone()),
            boot.and_then(|d| d.model.clone()),
            boot.and_then(|d| d.size_bytes).map(gib),
        ]
        .into_iter()
        .flatten()
        .collect();
        b.set("boot_disk", &if disk.is_empty() { "<boot-device>".to_string() } else { disk.join(", ") });
        b.set("boot_size", &boot.and_then(|d| d.size_bytes).map(gib).unwrap_or(unknown.clone()));
        let media = boot.and_then(|d| d.media).map(|m| b.word(&format!("media_{m:?}").to_lowercase()));
        b.set("boot_media", &media.unwrap_or(unknown.clone()));
        let this_hw = b.word("this_hardware");
        b.set("system_model", &system_model(input).unwrap_or(this_hw));
        let ds = backup_datastore(input);
        let ds_dir = format!("/vmfs/volumes/{}", ds.as_deref().unwrap_or("<backup-datastore>"));
        // esxcli runs on the host: a local bundle is copied to a datastore
        // first and named by its path there; an online depot stays a URL.
        let (depot_host, depot_local) = match input.depot.as_deref() {
            Some(d) if d.contains("://") => (d.to_string(), None),
            Some(d) if d.starts_with("/vmfs/") => (d.to_string(), None),
            Some(d) => {
                let base = std::path::Path::new(d)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "<offline-bundle.zip>".into());
                (format!("{ds_dir}/{base}"), Some(d.to_string()))
            }
            None => (format!("{ds_dir}/<offline-bundle.zip>"), Some("<offline-bundle.zip>".to_string())),
        };
        b.set("depot", &depot_host);
        b.set("depot_local", depot_local.as_deref().unwrap_or(""));
        b.set("patch_depot", &format!("{ds_dir}/<patch-bundle.zip>"));
        b.set("backup_ds", ds.as_deref().unwrap_or("<backup-datastore>"));
        b.set(
            "ghetto_dir",
            &format!("/vmfs/volumes/{}/ghettoVCB", ds.as_deref().unwrap_or("<backup-datastore>")),
        );
        b.set("max_hw", &input.max_vm_hardware.map(|v| v.to_string()).unwrap_or(unknown.clone()));
        b
    }

    fn set(&mut self, k: &str, v: &str) {
        self.args.insert(k.to_string(), v.to_string());
    }

    fn set_release(&mut self, p: &str, r: &Release) {
        self.set(&format!("{p}_build"), &r.build.to_string());
        self.set(&format!("{p}_name"), &r.name);
        self.set(&format!("{p}_date"), &r.release_date.to_string());
        self.set(&format!("{p}_version"), &r.version.to_string());
        let prof = standard_profile(r).unwrap_or_else(|| "<image-profile>".to_string());
        self.set(&format!("{p}_profile"), &prof);
    }

    /// A catalog text with the common arguments.
    fn t(&self, key: &str) -> String {
        esxup_i18n::t(self.lang, &format!("plan.{key}"), &self.args)
    }

    /// A catalog text with extra arguments on top of the common ones.
    fn tx(&self, key: &str, extra: &[(&str, String)]) -> String {
        let mut a = self.args.clone();
        for (k, v) in extra {
            a.insert(k.to_string(), v.clone());
        }
        esxup_i18n::t(self.lang, &format!("plan.{key}"), &a)
    }

    /// Appends a sentence: a space between English sentences, none in Japanese.
    fn join(&self, text: &mut String, next: &str) {
        if self.lang == Lang::En {
            text.push(' ');
        }
        text.push_str(next);
    }

    fn word(&self, w: &str) -> String {
        esxup_i18n::t(self.lang, &format!("plan.word.{w}"), &BTreeMap::new())
    }

    fn text(&self, t: &Text) -> String {
        match t {
            Text::Plain(s) => s.clone(),
            Text::Key { key, args } => {
                let mut a = self.args.clone();
                a.extend(args.clone());
                msg(self.lang, key, &a)
            }
        }
    }

    /// A step skeleton: title, purpose, verify text and failure advice from
    /// `plan.step.<key>.*`.
    ///
    /// `run` names the `esxup run` steps that carry this step out; it is
    /// marked automatable exactly when [`automation`] says the runner can
    /// do every one of them on this host (the runner asks the same function).
    fn step(&self, id: &str, key: &str, run: &[RunStep]) -> Step {
        let ctx = RunContext::of(self.input);
        Step {
            id: id.to_string(),
            title: self.t(&format!("step.{key}.title")),
            purpose: self.t(&format!("step.{key}.purpose")),
            notes: Vec::new(),
            commands: Vec::new(),
            automatable: !run.is_empty() && run.iter().all(|s| automation(*s, &ctx).runs()),
            run_steps: run.to_vec(),
            verify: Verify {
                text: self.t(&format!("step.{key}.verify")),
                commands: Vec::new(),
                expect: None,
            },
            on_failure: self.t(&format!("step.{key}.on_failure")),
            files: Vec::new(),
            sources: Vec::new(),
        }
    }

    fn cmd(&self, run_on: RunOn, line: impl Into<String>) -> Command {
        Command::new(run_on, line, None)
    }

    fn cmdn(&self, run_on: RunOn, line: impl Into<String>, note_key: &str) -> Command {
        Command::new(run_on, line, Some(self.t(&format!("cmd.{note_key}"))))
    }

    fn a(&self, k: &str) -> String {
        self.args.get(k).cloned().unwrap_or_default()
    }

    fn secure_boot(&self) -> bool {
        self.input.facts.firmware.as_ref().and_then(|f| f.secure_boot) == Some(true)
    }

    fn uefi(&self) -> Option<bool> {
        self.input.facts.firmware.as_ref().and_then(|f| f.kind).map(|k| k == esxup_facts::FirmwareType::Uefi)
    }

    /// The upgrade leaves 6.x for 7.0 or later: no Shift+R back (KB 1033604).
    fn crosses_to_7(&self) -> bool {
        let from = self.input.current.as_ref().map(|r| r.version.major).or(self
            .input
            .facts
            .product
            .as_ref()
            .map(|p| p.version.major));
        matches!(from, Some(m) if m < 7) && self.input.route_target().version.major >= 7
    }

    fn vms(&self) -> Option<&'a Vec<Vm>> {
        self.input.facts.vms.as_ref()
    }

    fn vmid(&self, vm: &Vm) -> String {
        vm.id.clone().unwrap_or_else(|| format!("<vmid:{}>", vm.name))
    }

    fn build(self) -> Plan {
        let input = self.input;
        let lang = self.lang;
        let status = match input.verdict {
            Verdict::Ready => PlanStatus::Ready,
            Verdict::ReadyWithWarnings => PlanStatus::ReadyWithWarnings,
            Verdict::Blocked => PlanStatus::Blocked,
        };
        let blockers: Vec<PlanFinding> = input
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocker)
            .map(|f| self.finding(f))
            .collect();
        let warnings: Vec<PlanFinding> = input
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| self.finding(f))
            .collect();
        let notes: Vec<PlanFinding> =
            input.findings.iter().filter(|f| f.severity == Severity::Info).map(|f| self.finding(f)).collect();
        let status_text = match status {
            PlanStatus::Ready => self.t("status.ready"),
            PlanStatus::ReadyWithWarnings => {
                self.tx("status.warnings", &[("count", warnings.len().to_string())])
            }
            PlanStatus::Blocked if input.blocked_only_by_path() && input.route_is_requested() => {
                self.tx("status.blocked_hops", &[("hops", hop_names(&input.hops))])
            }
            PlanStatus::Blocked if input.route_is_requested() => {
                self.tx("status.blocked_no_route", &[("count", blockers.len().to_string())])
            }
            PlanStatus::Blocked => self.tx("status.blocked", &[("count", blockers.len().to_string())]),
        };
        let route_target = input.route_target();
        let route = Route {
            target: release_ref(route_target),
            via: input.hops.iter().map(release_ref).collect(),
            is_requested: input.route_is_requested(),
            label: if input.route_is_requested() {
                if status == PlanStatus::Blocked && !input.blocked_only_by_path() {
                    self.t("route.requested_blocked")
                } else if !input.auto_reasons.is_empty() && input.hops.is_empty() {
                    self.t("route.auto")
                } else if input.hops.is_empty() {
                    self.t("route.requested")
                } else {
                    self.tx("route.requested_hops", &[("hops", hop_names(&input.hops))])
                }
            } else {
                self.t("route.alternative")
            },
        };
        let method = MethodChoice {
            kind: match input.method {
                MethodKind::Iso => "iso".into(),
                MethodKind::Depot => "depot".into(),
            },
            reasons: input.method_reasons.iter().map(|r| self.text(r)).collect(),
        };
        let ways_out = if status == PlanStatus::Blocked { self.ways_out() } else { Vec::new() };
        let phases = vec![
            Phase { id: "before".into(), title: self.t("phase.before"), steps: self.before() },
            Phase { id: "media".into(), title: self.t("phase.media"), steps: self.media() },
            Phase { id: "upgrade".into(), title: self.t("phase.upgrade"), steps: self.upgrade() },
            Phase { id: "after".into(), title: self.t("phase.after"), steps: self.after() },
            Phase { id: "rollback".into(), title: self.t("phase.rollback"), steps: self.rollback() },
        ];
        let mut sources: Vec<String> = Vec::new();
        for s in blockers.iter().chain(warnings.iter()).chain(notes.iter()).flat_map(|f| f.sources.iter()) {
            if !sources.contains(s) {
                sources.push(s.clone());
            }
        }
        for s in phases.iter().flat_map(|p| p.steps.iter()).flat_map(|s| s.sources.iter()) {
            if !sources.contains(s) {
                sources.push(s.clone());
            }
        }
        Plan {
            schema_version: PLAN_SCHEMA_VERSION,
            lang,
            generated_on: input.today.to_string(),
            host: self.host.clone(),
            title: self.t("title"),
            status,
            status_text,
            current: input.current.as_ref().map(release_ref),
            requested: release_ref(&input.requested),
            route,
            method,
            blockers,
            ways_out,
            warnings,
            notes,
            phases,
            sources,
        }
    }

    fn finding(&self, f: &Finding) -> PlanFinding {
        let r = |part: &str| msg(self.lang, &format!("{}.{part}", f.key), &f.args);
        PlanFinding {
            id: f.id.clone(),
            severity: esxup_i18n::t(
                self.lang,
                match f.severity {
                    Severity::Blocker => "common.blocker",
                    Severity::Warning => "common.warning",
                    Severity::Info => "common.info",
                },
                &BTreeMap::new(),
            ),
            title: r("title"),
            detail: r("detail"),
            remedy: r("remedy"),
            sources: f.sources.clone(),
        }
    }

    fn ways_out(&self) -> Vec<WayOut> {
        let input = self.input;
        let mut out = Vec::new();
        if let Some(alt) = &input.alternative {
            let mut extra = vec![
                ("way_name", alt.name.clone()),
                ("way_build", alt.build.to_string()),
                ("way_date", alt.release_date.to_string()),
            ];
            if !input.hops.is_empty() {
                extra.push(("hops", hop_names(&input.hops)));
                out.push(WayOut { kind: "hop".into(), text: self.tx("way.hop", &extra) });
            } else {
                let mut text = self.tx("way.target", &extra);
                if input.current.as_ref().is_some_and(|c| c.release_date <= alt.release_date) {
                    self.join(&mut text, &self.tx("way.target_newer", &extra));
                }
                out.push(WayOut { kind: "target".into(), text });
            }
        } else if !input.hops.is_empty() {
            out.push(WayOut {
                kind: "hop".into(),
                text: self.tx("way.hop_requested", &[("hops", hop_names(&input.hops))]),
            });
        }
        if let Some(RollbackRoute { to, then }) = &input.rollback_route {
            out.push(WayOut {
                kind: "rollback".into(),
                text: self.tx(
                    "way.rollback",
                    &[
                        ("rb_name", to.name.clone()),
                        ("rb_build", to.build.to_string()),
                        ("rb_date", to.release_date.to_string()),
                        ("then_name", then.name.clone()),
                        ("then_build", then.build.to_string()),
                        ("then_date", then.release_date.to_string()),
                    ],
                ),
            });
        }
        for f in input.findings.iter().filter(|f| f.severity == Severity::Blocker) {
            if is_driver_finding(f) {
                let remedy = msg(self.lang, &f.remedy_key(), &f.args);
                out.push(WayOut { kind: "remove-driver".into(), text: remedy });
            }
        }
        for t in &input.extra_ways_out {
            out.push(WayOut { kind: "remedy".into(), text: self.text(t) });
        }
        out
    }

    // ---------------------------------------------------------------- Before

    fn before(&self) -> Vec<Step> {
        let mut v = vec![self.confirm_target(), self.advisories()];
        if self.secure_boot() {
            v.push(self.secure_boot_before());
        }
        v.push(self.snapshots());
        v.push(self.backup_vms());
        v.push(self.backup_config("before.backup-config", "backup_config"));
        if self.crosses_to_7() {
            v.push(self.backup_boot_device());
        }
        v.push(self.licence_key());
        v.push(self.trial_install());
        v
    }

    fn confirm_target(&self) -> Step {
        let mut s = self.step("before.confirm-target", "confirm_target", &[]);
        s.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
        s.commands.push(self.cmd(RunOn::EsxiShell, "esxcli software profile get"));
        s.commands.push(self.cmdn(
            RunOn::Workstation,
            format!("esxup build {}", self.input.route_target().build),
            "esxup_build",
        ));
        if self.input.method == MethodKind::Depot {
            s.commands.push(self.cmdn(
                RunOn::EsxiShell,
                format!("esxcli software sources profile list -d {}", sh_quote(&self.a("depot"))),
                "profile_list",
            ));
        }
        s.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
        s.verify.expect = Some(format!("Build: Releasebuild-{}", self.a("cur_build")));
        if !self.input.route_is_requested() {
            s.notes.push(self.t("note.route_not_requested"));
        }
        s.notes.extend(self.input.auto_reasons.iter().map(|r| self.text(r)));
        if self.input.route_target().image_profiles.is_empty() {
            s.notes.push(self.t("note.profile_unknown"));
        }
        if let Some(c) = &self.input.current {
            let t = self.input.route_target();
            if c.release_date <= t.release_date {
                s.notes.push(self.t("note.not_back_in_time"));
            }
        }
        s.sources.push(KB_BACK_IN_TIME.into());
        s
    }

    fn advisories(&self) -> Step {
        let mut s = self.step("before.advisories", "advisories", &[RunStep::Workarounds]);
        s.commands.push(self.cmdn(
            RunOn::Workstation,
            format!("esxup advisories {}", self.a("cur_build")),
            "esxup_advisories",
        ));
        if self.input.exposures.is_empty() {
            s.notes.push(self.t("note.no_exposures"));
        }
        for e in &self.input.exposures {
            let key = match e.target_status {
                FixStatus::Fixed => "note.exposure_fixed",
                FixStatus::NotFixed => "note.exposure_not_fixed",
                FixStatus::NoFixPublished => "note.exposure_no_fix",
                FixStatus::NotListed => "note.exposure_not_listed",
            };
            let mut line = self
                .tx(key, &[("vmsa", e.id.clone()), ("title", e.title.clone()), ("cves", e.cves.join(", "))]);
            if e.known_exploited {
                self.join(&mut line, &self.t("note.known_exploited"));
            }
            s.notes.push(line);
            if let Some(w) = &e.workaround {
                s.notes
                    .push(self.tx("note.workaround", &[("vmsa", e.id.clone()), ("workaround", w.clone())]));
            }
            s.sources.push(e.id.clone());
        }
        if let Some(slpd) = &self.input.facts.slpd {
            let slpd_advisory =
                self.input.exposures.iter().any(|e| e.workaround_service.as_deref() == Some("slpd"));
            if slpd.running == Some(true) && slpd_advisory {
                s.notes.push(self.t("note.slpd_running"));
                let [stop, firewall, off] = crate::media::SLPD_WORKAROUND;
                s.commands.push(self.cmdn(RunOn::EsxiShell, stop, "slpd_stop"));
                s.commands.push(self.cmd(RunOn::EsxiShell, firewall));
                s.commands.push(self.cmd(RunOn::EsxiShell, off));
                s.sources.push(KB_SLP.into());
            }
        }
        s.verify
            .commands
            .push(self.cmd(RunOn::Workstation, format!("esxup advisories {}", self.a("tgt_build"))));
        s
    }

    fn secure_boot_before(&self) -> Step {
        let mut s = self.step("before.secure-boot", "secure_boot_before", &[]);
        s.commands.push(self.cmdn(
            RunOn::EsxiShell,
            "/usr/lib/vmware/secureboot/bin/secureBoot.py -s",
            "sb_state",
        ));
        s.commands.push(self.cmdn(
            RunOn::EsxiShell,
            "/usr/lib/vmware/secureboot/bin/secureBoot.py -c",
            "sb_check",
        ));
        s.commands.push(self.cmdn(
            RunOn::EsxiShell,
            "esxcli software vib list | grep -i CommunitySupported",
            "community_vibs",
        ));
        let community: Vec<String> = self
            .input
            .facts
            .vibs
            .iter()
            .flatten()
            .filter(|v| v.acceptance_level == Some(esxup_facts::AcceptanceLevel::CommunitySupported))
            .map(|v| format!("{} {}", v.name, v.version))
            .collect();
        if !community.is_empty() {
            s.notes.push(self.tx("note.community_vibs", &[("vibs", community.join(", "))]));
        }
        s.verify.commands.push(self.cmd(RunOn::EsxiShell, "/usr/lib/vmware/secureboot/bin/secureBoot.py -s"));
        s.verify.expect = Some("Enabled".into());
        s.sources.push(SRC_SECURE_BOOT.into());
        s
    }

    fn snapshots(&self) -> Step {
        let mut s = self.step("before.snapshots", "snapshots", &[]);
        match self.vms() {
            None => {
                s.notes.push(self.t("note.vms_unknown"));
                s.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/getallvms"));
                s.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/snapshot.get <vmid>"));
                s.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/snapshot.removeall <vmid>"));
            }
            Some(vms) => {
                let with: Vec<&Vm> =
                    vms.iter().filter(|vm| vm.snapshots.as_ref().is_some_and(|x| !x.is_empty())).collect();
                let unknown: Vec<&str> =
                    vms.iter().filter(|vm| vm.snapshots.is_none()).map(|vm| vm.name.as_str()).collect();
                if with.is_empty() && unknown.is_empty() {
                    s.notes.push(self.t("note.no_snapshots"));
                }
                for vm in &with {
                    let snaps = vm.snapshots.as_deref().unwrap_or_default();
                    let oldest = snaps.iter().filter_map(|x| x.created).min();
                    let size: u64 = snaps.iter().filter_map(|x| x.size_bytes).sum();
                    s.notes.push(self.tx(
                        "note.vm_snapshots",
                        &[
                            ("vm", vm.name.clone()),
                            ("vmid", self.vmid(vm)),
                            ("count", snaps.len().to_string()),
                            ("oldest", oldest.map(|d| d.to_string()).unwrap_or_else(|| self.word("unknown"))),
                            ("size", if size > 0 { gib(size) } else { self.word("unknown") }),
                            ("names", snaps.iter().map(|x| x.name.as_str()).collect::<Vec<_>>().join(", ")),
                        ],
                    ));
                    let id = self.vmid(vm);
                    s.commands.push(self.cmd(RunOn::EsxiShell, format!("vim-cmd vmsvc/snapshot.get {id}")));
                    s.commands.push(Command::new(
                        RunOn::EsxiShell,
                        format!("vim-cmd vmsvc/snapshot.removeall {id}"),
                        Some(self.tx("cmd.removeall", &[("vm", vm.name.clone())])),
                    ));
                    s.verify
                        .commands
                        .push(self.cmd(RunOn::EsxiShell, format!("vim-cmd vmsvc/snapshot.get {id}")));
                }
                if !unknown.is_empty() {
                    s.notes.push(self.tx("note.snapshots_unknown", &[("vms", unknown.join(", "))]));
                    s.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/getallvms"));
                }
            }
        }
        s
    }

    fn backup_vms(&self) -> Step {
        let mut s = self.step("before.backup-vms", "backup_vms", &[RunStep::VmBackup]);
        let dir = self.a("ghetto_dir");
        let q = |p: &str| sh_quote(&format!("{dir}/{p}"));
        let names: Vec<String> =
            self.vms().map(|v| v.iter().map(|vm| vm.name.clone()).collect()).unwrap_or_default();
        if self.secure_boot() {
            s.notes.push(self.t("note.ghetto_no_vib"));
        }
        if self.vms().is_some_and(|v| v.is_empty()) {
            s.notes.push(self.t("note.no_vms"));
        } else if names.is_empty() {
            s.notes.push(self.t("note.vms_unknown"));
        } else {
            s.notes.push(self.tx("note.vms_to_back_up", &[("vms", names.join(", "))]));
        }
        if backup_datastore(self.input).is_none() {
            s.notes.push(self.t("note.backup_ds_unknown"));
        } else if datastore_count(self.input) < 2 {
            s.notes.push(self.t("note.backup_same_disk"));
        }
        s.files.push(GeneratedFile {
            path: format!("{dir}/ghettoVCB.conf"),
            content: ghetto::config(&self.a("backup_ds"), &self.host, &self.a("today")),
        });
        s.files.push(GeneratedFile {
            path: format!("{dir}/vms.txt"),
            content: if names.is_empty() { "<vm-name>\n".to_string() } else { names.join("\n") + "\n" },
        });
        s.commands.push(self.cmd(RunOn::EsxiShell, format!("mkdir -p {}", sh_quote(&dir))));
        s.commands.push(self.cmdn(
            RunOn::Workstation,
            format!("scp ghettoVCB.sh ghettoVCB.conf vms.txt root@{}:{}/", self.host, sh_quote(&dir)),
            "scp_ghetto",
        ));
        s.commands.push(self.cmd(RunOn::EsxiShell, format!("chmod +x {}", q("ghettoVCB.sh"))));
        s.commands.push(self.cmdn(
            RunOn::EsxiShell,
            format!("{} -f {} -g {} -d dryrun", q("ghettoVCB.sh"), q("vms.txt"), q("ghettoVCB.conf")),
            "dry_run",
        ));
        s.commands.push(self.cmd(
            RunOn::EsxiShell,
            format!("{} -f {} -g {}", q("ghettoVCB.sh"), q("vms.txt"), q("ghettoVCB.conf")),
        ));
        s.commands.push(self.cmdn(
            RunOn::Workstation,
            format!("ovftool vi://root@{}/<vm-name> ./<vm-name>/", self.host),
            "ovftool",
        ));
        s.verify.commands.push(self.cmd(
            RunOn::EsxiShell,
            format!(
                "find {} -name STATUS.ok",
                sh_quote(&format!("/vmfs/volumes/{}/ghettoVCB-backups", self.a("backup_ds")))
            ),
        ));
        s.verify.expect = Some("STATUS.ok".into());
        s.sources.push(SRC_GHETTOVCB.into());
        s
    }

    fn backup_config(&self, id: &str, key: &str) -> Step {
        let run: &[RunStep] =
            if id.starts_with("after") { &[RunStep::Verify] } else { &[RunStep::ConfigBackup] };
        let mut s = self.step(id, key, run);
        s.commands.push(self.cmdn(RunOn::EsxiShell, "vim-cmd hostsvc/firmware/sync_config", "sync_config"));
        s.commands.push(self.cmdn(
            RunOn::EsxiShell,
            "vim-cmd hostsvc/firmware/backup_config",
            "backup_config",
        ));
        let build = if id.starts_with("after") { self.a("tgt_build") } else { self.a("cur_build") };
        s.commands.push(self.cmdn(
            RunOn::Workstation,
            format!(
                "curl -k -o configBundle-{host}-{build}.tgz 'https://{host}/downloads/<path-printed-above>/configBundle-{host}.tgz'",
                host = self.host
            ),
            "download_bundle",
        ));
        s.verify
            .commands
            .push(self.cmd(RunOn::Workstation, format!("tar -tzf configBundle-{}-{build}.tgz", self.host)));
        s.verify.expect = Some("state.tgz".into());
        if id.starts_with("before") {
            s.notes.push(self.tx("note.bundle_same_build", &[("build", build)]));
        }
        s.sources.push(KB_CONFIG.into());
        s
    }

    fn backup_boot_device(&self) -> Step {
        let mut s = self.step("before.backup-boot-device", "backup_boot_device", &[]);
        let removable = matches!(
            self.input.facts.boot_device.as_ref().and_then(|b| b.media),
            Some(BootMedia::Usb) | Some(BootMedia::SdCard)
        );
        if removable {
            s.commands.push(self.cmdn(
                RunOn::EsxiShell,
                "esxcli system shutdown poweroff -r 'esxup: image the boot device'",
                "poweroff",
            ));
            s.commands.push(self.cmdn(RunOn::Workstation, "lsblk -o NAME,SIZE,MODEL,TRAN", "lsblk"));
            s.commands.push(self.cmdn(
                RunOn::Workstation,
                format!(
                    "sudo dd if=/dev/<sdX> of=esxi-boot-{}-{}.img bs=4M status=progress",
                    self.host,
                    self.a("cur_build")
                ),
                "dd_read",
            ));
        } else {
            s.notes.push(self.t("note.boot_not_removable"));
        }
        s.verify.commands.push(
            self.cmd(
                RunOn::Workstation,
                format!("ls -l esxi-boot-{}-{}.img", self.host, self.a("cur_build")),
            ),
        );
        s.sources.push(KB_ROLLBACK.into());
        s
    }

    fn licence_key(&self) -> Step {
        let mut s = self.step("before.licence", "licence", &[]);
        s.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vimsvc/license --show"));
        match &self.input.facts.license {
            Some(l) => {
                let unknown = self.word("unknown");
                s.notes.push(self.tx(
                    "note.licence_now",
                    &[
                        ("edition", l.edition.clone().unwrap_or(unknown.clone())),
                        ("key_major", l.product_major.map(|m| m.to_string()).unwrap_or(unknown.clone())),
                    ],
                ));
                if l.product_major.is_some_and(|m| m < self.input.route_target().version.major) {
                    s.notes.push(self.t("note.licence_old"));
                }
            }
            None => s.notes.push(self.t("note.licence_unknown")),
        }
        s.verify.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vimsvc/license --show"));
        s
    }

    fn trial_install(&self) -> Step {
        let mut s = self.step("before.trial-install", "trial_install", &[]);
        let nics: Vec<String> = self
            .input
            .facts
            .nics
            .iter()
            .flatten()
            .map(|n| format!("{} ({})", n.name, n.driver.as_deref().unwrap_or("?")))
            .collect();
        let hbas: Vec<String> = self
            .input
            .facts
            .storage_adapters
            .iter()
            .flatten()
            .map(|a| format!("{} ({})", a.name, a.driver.as_deref().unwrap_or("?")))
            .collect();
        if !nics.is_empty() {
            s.notes.push(self.tx("note.trial_nics", &[("nics", nics.join(", "))]));
        }
        if !hbas.is_empty() {
            s.notes.push(self.tx("note.trial_hbas", &[("hbas", hbas.join(", "))]));
        }
        let device_warnings: Vec<&str> = self
            .input
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info && is_hardware_finding(f))
            .map(|f| f.id.as_str())
            .collect();
        if !device_warnings.is_empty() {
            s.notes.push(self.tx("note.trial_findings", &[("ids", device_warnings.join(", "))]));
        }
        s.commands.push(self.cmdn(RunOn::Console, "esxcli network nic list", "trial_nics"));
        s.commands.push(self.cmdn(RunOn::Console, "esxcli storage core adapter list", "trial_hbas"));
        s.commands.push(self.cmdn(RunOn::Console, "esxcli storage filesystem list", "trial_fs"));
        s.verify.commands.push(self.cmd(RunOn::Console, "esxcli network nic list"));
        s
    }

    // ------------------------------------------------------ Media and method

    fn media(&self) -> Vec<Step> {
        let mut v = Vec::new();
        let mut m = self.step("media.method", "method", &[]);
        let reasons: Vec<String> = self.input.method_reasons.iter().map(|r| self.text(r)).collect();
        m.notes.extend(reasons);
        match self.input.method {
            MethodKind::Iso => {
                m.title = self.t("step.method.title_iso");
                if self.secure_boot() {
                    if self.input.method_reasons.is_empty() {
                        m.notes.push(self.t("note.iso_secure_boot"));
                    }
                    m.sources.push(SRC_SECURE_BOOT.into());
                }
            }
            MethodKind::Depot => m.title = self.t("step.method.title_depot"),
        }
        v.push(m);
        match self.input.method {
            MethodKind::Iso => {
                let mut d = self.step("media.download-iso", "download_iso", &[]);
                d.commands.push(self.cmdn(
                    RunOn::Workstation,
                    "sha256sum <VMware-VMvisor-Installer-…iso>",
                    "sha256",
                ));
                d.verify
                    .commands
                    .push(self.cmd(RunOn::Workstation, "sha256sum <VMware-VMvisor-Installer-…iso>"));
                v.push(d);
                let mut w = self.step("media.write-usb", "write_usb", &[]);
                if self.uefi() == Some(true) {
                    w.notes.push(self.t("note.gpt_uefi"));
                } else if self.uefi() == Some(false) {
                    w.notes.push(self.t("note.mbr_bios"));
                }
                w.commands.push(self.cmdn(RunOn::Workstation, "lsblk -o NAME,SIZE,MODEL,TRAN", "lsblk"));
                match crate::media::media_command(self.input) {
                    Some(c) => w.commands.push(self.cmdn(RunOn::Workstation, c, "esxup_media")),
                    None => w.commands.push(self.cmdn(
                        RunOn::Workstation,
                        "sudo dd if=<VMware-VMvisor-Installer-…iso> of=/dev/<sdX> bs=4M status=progress conv=fsync",
                        "dd_write",
                    )),
                }
                w.commands.push(self.cmdn(
                    RunOn::Workstation,
                    "Rufus: <stick> / GPT / UEFI (non CSM)",
                    "rufus",
                ));
                w.verify.commands.push(self.cmd(RunOn::Workstation, "lsblk -o NAME,SIZE,MODEL,TRAN"));
                v.push(w);
            }
            MethodKind::Depot => {
                let mut d = self.step("media.depot", "depot", &[RunStep::BundleUpload]);
                let depot = self.a("depot");
                let online = depot.starts_with("http://") || depot.starts_with("https://");
                if online {
                    d.commands.push(self.cmdn(
                        RunOn::EsxiShell,
                        "esxcli network firewall ruleset set -e true -r httpClient",
                        "firewall_open",
                    ));
                } else if !self.a("depot_local").is_empty() {
                    d.commands.push(self.cmdn(
                        RunOn::Workstation,
                        format!(
                            "scp {} root@{}:{}/",
                            sh_quote(&self.a("depot_local")),
                            self.host,
                            sh_quote(&format!("/vmfs/volumes/{}", self.a("backup_ds")))
                        ),
                        "upload_bundle",
                    ));
                    if self.input.depot.is_none() {
                        d.notes.push(self.t("note.depot_unknown"));
                    }
                }
                d.commands.push(self.cmd(
                    RunOn::EsxiShell,
                    format!("esxcli software sources profile list -d {}", sh_quote(&depot)),
                ));
                d.verify.commands.push(self.cmd(
                    RunOn::EsxiShell,
                    format!("esxcli software sources profile list -d {}", sh_quote(&depot)),
                ));
                d.verify.expect = Some(self.a("tgt_profile"));
                v.push(d);
            }
        }
        v
    }

    // --------------------------------------------------------------- Upgrade

    fn upgrade(&self) -> Vec<Step> {
        let mut v = Vec::new();
        for (i, h) in self.input.hops.iter().enumerate() {
            let mut s = self.step(&format!("upgrade.hop-{}", i + 1), "hop", &[]);
            s.title = self
                .tx("step.hop.title_n", &[("hop_name", h.name.clone()), ("hop_build", h.build.to_string())]);
            s.notes.push(
                self.tx("note.hop", &[("hop_name", h.name.clone()), ("hop_build", h.build.to_string())]),
            );
            s.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
            s.verify.expect = Some(format!("Build: Releasebuild-{}", h.build));
            v.push(s);
        }
        let mut sd = self.step("upgrade.shutdown-vms", "shutdown_vms", &[RunStep::VmShutdown]);
        match self.vms() {
            Some(vms) => {
                let on: Vec<&Vm> =
                    vms.iter().filter(|vm| vm.power_state == Some(PowerState::PoweredOn)).collect();
                if on.is_empty() {
                    sd.notes.push(self.t("note.no_running_vms"));
                }
                for vm in on {
                    let id = self.vmid(vm);
                    sd.commands.push(Command::new(
                        RunOn::EsxiShell,
                        format!("vim-cmd vmsvc/power.shutdown {id}"),
                        Some(self.tx("cmd.shutdown_vm", &[("vm", vm.name.clone())])),
                    ));
                    sd.verify
                        .commands
                        .push(self.cmd(RunOn::EsxiShell, format!("vim-cmd vmsvc/power.getstate {id}")));
                }
                sd.verify.expect = Some("Powered off".into());
            }
            None => {
                sd.notes.push(self.t("note.vms_unknown"));
                sd.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/getallvms"));
                sd.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/power.shutdown <vmid>"));
            }
        }
        v.push(sd);
        let mut mm = self.step("upgrade.maintenance", "maintenance", &[RunStep::MaintenanceOn]);
        mm.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system maintenanceMode set --enable true"));
        mm.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system maintenanceMode get"));
        mm.verify.expect = Some("Enabled".into());
        v.push(mm);
        match self.input.method {
            MethodKind::Iso => {
                let mut b = self.step("upgrade.boot-installer", "boot_installer", &[RunStep::ImageUpdate]);
                b.commands.push(self.cmdn(
                    RunOn::EsxiShell,
                    "esxcli system shutdown reboot -r 'esxup: upgrade from ISO'",
                    "reboot",
                ));
                if self.secure_boot() {
                    b.notes.push(self.t("note.keep_secure_boot_on"));
                }
                v.push(b);
                let mut u = self.step("upgrade.installer", "installer", &[RunStep::ImageUpdate]);
                u.notes.push(self.t("note.installer_disk"));
                u.commands.push(self.cmdn(
                    RunOn::Console,
                    "Upgrade ESXi, preserve VMFS datastore",
                    "installer_choice",
                ));
                u.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
                u.verify.expect = Some(format!("Build: Releasebuild-{}", self.a("tgt_build")));
                v.push(u);
            }
            MethodKind::Depot => {
                let depot = sh_quote(&self.a("depot"));
                let prof = sh_quote(&self.a("tgt_profile"));
                let mut d = self.step("upgrade.dry-run", "dry_run", &[RunStep::ImageUpdate]);
                d.commands.push(self.cmd(
                    RunOn::EsxiShell,
                    format!("esxcli software profile update -d {depot} -p {prof} --dry-run"),
                ));
                d.verify.commands.push(self.cmd(
                    RunOn::EsxiShell,
                    format!("esxcli software profile update -d {depot} -p {prof} --dry-run"),
                ));
                d.verify.expect = Some("Dryrun only, host not changed".into());
                d.sources.push(KB_BACK_IN_TIME.into());
                v.push(d);
                let mut u = self.step("upgrade.profile-update", "profile_update", &[RunStep::ImageUpdate]);
                u.commands.push(
                    self.cmd(
                        RunOn::EsxiShell,
                        format!("esxcli software profile update -d {depot} -p {prof}"),
                    ),
                );
                u.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli software profile get"));
                u.verify.expect = Some(self.a("tgt_profile"));
                v.push(u);
                let mut r = self.step("upgrade.reboot", "reboot", &[RunStep::Reboot]);
                if self.a("depot").starts_with("http") {
                    r.commands.push(self.cmdn(
                        RunOn::EsxiShell,
                        "esxcli network firewall ruleset set -e false -r httpClient",
                        "firewall_close",
                    ));
                }
                r.commands
                    .push(self.cmd(RunOn::EsxiShell, "esxcli system shutdown reboot -r 'esxup: upgrade'"));
                r.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
                r.verify.expect = Some(format!("Build: Releasebuild-{}", self.a("tgt_build")));
                v.push(r);
            }
        }
        v
    }

    // ----------------------------------------------------------------- After

    fn after(&self) -> Vec<Step> {
        let mut v = Vec::new();
        let mut s = self.step("after.verify-version", "verify_version", &[RunStep::Verify]);
        s.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
        s.commands.push(self.cmd(RunOn::EsxiShell, "esxcli software profile get"));
        s.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
        s.verify.expect = Some(format!("Build: Releasebuild-{}", self.a("tgt_build")));
        v.push(s);
        if self.secure_boot() {
            let mut sb = self.step("after.secure-boot", "secure_boot_after", &[RunStep::Verify]);
            sb.commands.push(self.cmd(RunOn::EsxiShell, "/usr/lib/vmware/secureboot/bin/secureBoot.py -s"));
            sb.verify
                .commands
                .push(self.cmd(RunOn::EsxiShell, "/usr/lib/vmware/secureboot/bin/secureBoot.py -s"));
            sb.verify.expect = Some("Enabled".into());
            sb.sources.push(SRC_SECURE_BOOT.into());
            v.push(sb);
        }
        let mut ex = self.step(
            "after.exit-maintenance",
            "exit_maintenance",
            &[RunStep::MaintenanceOff, RunStep::VmStart],
        );
        ex.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system maintenanceMode set --enable false"));
        for vm in self.vms().into_iter().flatten().filter(|vm| vm.power_state == Some(PowerState::PoweredOn))
        {
            ex.commands.push(Command::new(
                RunOn::EsxiShell,
                format!("vim-cmd vmsvc/power.on {}", self.vmid(vm)),
                Some(self.tx("cmd.power_on_vm", &[("vm", vm.name.clone())])),
            ));
        }
        ex.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system maintenanceMode get"));
        ex.verify.expect = Some("Disabled".into());
        v.push(ex);
        let mut l = self.step("after.licence", "licence_assign", &[RunStep::License]);
        l.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vimsvc/license --set <licence-key>"));
        l.verify.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vimsvc/license --show"));
        v.push(l);
        if let Some(latest) = &self.input.latest_in_branch {
            let t = self.input.route_target();
            if latest.build > t.build {
                let mut p = self.step("after.patch", "patch", &[]);
                let extra = [
                    ("latest_name", latest.name.clone()),
                    ("latest_build", latest.build.to_string()),
                    ("latest_date", latest.release_date.to_string()),
                ];
                p.notes.push(self.tx("note.patch_latest", &extra));
                let prof = standard_profile(latest).unwrap_or_else(|| "<image-profile>".into());
                p.commands.push(self.cmd(
                    RunOn::EsxiShell,
                    format!(
                        "esxcli software profile update -d {} -p {} --dry-run",
                        sh_quote(&self.a("patch_depot")),
                        sh_quote(&prof)
                    ),
                ));
                p.commands.push(self.cmd(
                    RunOn::EsxiShell,
                    format!(
                        "esxcli software profile update -d {} -p {}",
                        sh_quote(&self.a("patch_depot")),
                        sh_quote(&prof)
                    ),
                ));
                if self.secure_boot() {
                    p.commands.push(self.cmdn(
                        RunOn::EsxiShell,
                        "/usr/lib/vmware/secureboot/bin/secureBoot.py -c",
                        "sb_check",
                    ));
                }
                p.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
                p.verify.expect = Some(format!("Build: Releasebuild-{}", latest.build));
                v.push(p);
            } else {
                let mut p = self.step("after.patch", "patch", &[]);
                p.notes.push(self.t("note.patch_is_latest"));
                p.verify.commands.push(
                    self.cmd(RunOn::Workstation, format!("esxup releases --branch {}", self.a("tgt_branch"))),
                );
                v.push(p);
            }
        }
        v.push(self.backup_config("after.backup-config", "backup_config_after"));
        v.push(self.tools());
        v.push(self.vm_hardware());
        v
    }

    fn tools(&self) -> Step {
        let mut s = self.step("after.vmware-tools", "tools", &[RunStep::ToolsUpgrade]);
        match self.vms() {
            None => {
                s.notes.push(self.t("note.vms_unknown"));
                s.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/tools.upgrade <vmid>"));
            }
            Some(vms) => {
                for vm in vms {
                    if vm.tools_status == Some(ToolsStatus::NotInstalled) {
                        continue;
                    }
                    if vm.tools_status == Some(ToolsStatus::Unmanaged) {
                        s.notes.push(self.tx("note.tools_unmanaged", &[("vm", vm.name.clone())]));
                        continue;
                    }
                    let id = self.vmid(vm);
                    let st =
                        vm.tools_status.map(|t| format!("{t:?}")).unwrap_or_else(|| self.word("unknown"));
                    s.commands.push(Command::new(
                        RunOn::EsxiShell,
                        format!("vim-cmd vmsvc/tools.upgrade {id}"),
                        Some(self.tx("cmd.tools_vm", &[("vm", vm.name.clone()), ("status", st)])),
                    ));
                    s.verify.commands.push(self.cmd(
                        RunOn::EsxiShell,
                        format!("vim-cmd vmsvc/get.guest {id} | grep toolsVersionStatus"),
                    ));
                }
            }
        }
        s.verify.expect = Some("guestToolsCurrent".into());
        s.sources.push(SRC_TOOLS_FIRST.into());
        s
    }

    fn vm_hardware(&self) -> Step {
        let mut s = self.step("after.vm-hardware", "vm_hardware", &[RunStep::VmHardwareUpgrade]);
        s.notes.push(self.t("note.hw_only_if_needed"));
        let max = self.input.max_vm_hardware;
        for vm in self.vms().into_iter().flatten() {
            let Some(hw) = vm.hardware_version else { continue };
            let windows = vm.guest_os.as_deref().is_some_and(|g| g.to_ascii_lowercase().contains("windows"));
            let note = self.tx(
                if windows { "note.hw_vm_windows" } else { "note.hw_vm" },
                &[("vm", vm.name.clone()), ("hw", hw.to_string())],
            );
            s.notes.push(note);
            if let Some(m) = max {
                if hw < m {
                    s.commands.push(Command::new(
                        RunOn::EsxiShell,
                        format!("vim-cmd vmsvc/upgrade {} vmx-{m}", self.vmid(vm)),
                        Some(self.tx("cmd.hw_upgrade", &[("vm", vm.name.clone())])),
                    ));
                }
            }
        }
        s.verify.commands.push(self.cmd(RunOn::EsxiShell, "vim-cmd vmsvc/getallvms"));
        s.sources.push(SRC_TOOLS_FIRST.into());
        s
    }

    // -------------------------------------------------------------- Rollback

    fn rollback(&self) -> Vec<Step> {
        let mut v = Vec::new();
        // What Shift+R brings back today, and whether that route works.
        let mut now = self.step("rollback.altbootbank-now", "altbootbank_now", &[]);
        now.commands.push(self.cmdn(
            RunOn::EsxiShell,
            "grep -E '^(build|bootstate)=' /altbootbank/boot.cfg",
            "altbootbank",
        ));
        now.commands.push(self.cmdn(RunOn::Console, "Shift+R", "shift_r"));
        match (&self.input.altbootbank, &self.input.facts.altbootbank) {
            (Some(alt), _) => {
                let req = &self.input.requested;
                let key = if alt.release_date <= req.release_date {
                    "note.alt_route_safe"
                } else {
                    "note.alt_route_unsafe"
                };
                now.notes.push(self.t(key));
                if let Some(c) = &self.input.current {
                    if alt.build == c.build {
                        now.notes.push(self.t("note.alt_same"));
                    }
                }
            }
            (None, Some(a)) if a.build.is_some() => now.notes.push(self.t("note.alt_not_in_kb")),
            _ => now.notes.push(self.t("note.alt_unknown")),
        }
        if let Some(a) = &self.input.facts.altbootbank {
            if a.bootstate == Some(1) {
                now.notes.push(self.t("note.alt_pending"));
            }
        }
        now.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
        now.verify.expect = Some(format!("Build: Releasebuild-{}", self.a("alt_build")));
        now.sources.push(KB_ROLLBACK.into());
        now.sources.push(KB_BACK_IN_TIME.into());
        v.push(now);
        // After the upgrade.
        let mut after = self.step("rollback.after-upgrade", "rollback_after", &[]);
        if self.crosses_to_7() {
            after.notes.push(self.t("note.no_shift_r_to_6"));
            let removable = matches!(
                self.input.facts.boot_device.as_ref().and_then(|b| b.media),
                Some(BootMedia::Usb) | Some(BootMedia::SdCard)
            );
            if removable {
                after.commands.push(self.cmdn(
                    RunOn::Workstation,
                    format!(
                        "sudo dd if=esxi-boot-{}-{}.img of=/dev/<sdX> bs=4M status=progress conv=fsync",
                        self.host,
                        self.a("cur_build")
                    ),
                    "dd_restore",
                ));
            }
            after.commands.push(self.cmdn(
                RunOn::Workstation,
                format!(
                    "scp configBundle-{h}-{b}.tgz root@{h}:/tmp/configBundle.tgz",
                    h = self.host,
                    b = self.a("cur_build")
                ),
                "scp_bundle",
            ));
            after
                .commands
                .push(self.cmd(RunOn::EsxiShell, "esxcli system maintenanceMode set --enable true"));
            after.commands.push(self.cmdn(
                RunOn::EsxiShell,
                "vim-cmd hostsvc/firmware/restore_config /tmp/configBundle.tgz",
                "restore_config",
            ));
            after.sources.push(KB_CONFIG.into());
        } else {
            after.notes.push(self.t("note.shift_r_after"));
            after.notes.push(self.t("note.rollback_tools"));
            after.commands.push(self.cmdn(RunOn::Console, "Shift+R", "shift_r"));
        }
        after.verify.commands.push(self.cmd(RunOn::EsxiShell, "esxcli system version get"));
        after.verify.expect = Some(format!("Build: Releasebuild-{}", self.a("cur_build")));
        after.sources.push(KB_ROLLBACK.into());
        v.push(after);
        v
    }
}

fn hop_names(hops: &[Release]) -> String {
    hops.iter().map(|h| format!("{} ({})", h.name, h.build)).collect::<Vec<_>>().join(" → ")
}

fn system_model(input: &PlanInput) -> Option<String> {
    let f = input.facts.firmware.as_ref()?;
    match (&f.system_vendor, &f.system_model) {
        (Some(v), Some(m)) => Some(format!("{v} {m}")),
        (None, Some(m)) => Some(m.clone()),
        (Some(v), None) => Some(v.clone()),
        (None, None) => None,
    }
}

/// The datastore for VM backups: a VMFS/NFS datastore, preferring one that
/// holds no VM and is not on the boot device, then the most free space.
pub fn backup_datastore(input: &PlanInput) -> Option<String> {
    let ds = input.facts.datastores.as_ref()?;
    let vm_ds: Vec<&str> = input.facts.vms.iter().flatten().filter_map(|v| v.datastore.as_deref()).collect();
    ds.iter()
        .filter(|d| holds_files(d))
        .max_by_key(|d| {
            (
                !vm_ds.contains(&d.name.as_str()),
                d.on_boot_device != Some(true),
                d.free_bytes.unwrap_or(0),
                std::cmp::Reverse(d.name.clone()),
            )
        })
        .map(|d| d.name.clone())
}

fn datastore_count(input: &PlanInput) -> usize {
    input.facts.datastores.iter().flatten().filter(|d| holds_files(d)).count()
}

/// A datastore that can hold a backup or a bundle: VMFS, NFS or vSAN. Not the
/// bootbanks (`vfat` volumes such as BOOTBANK1: small, rewritten by every
/// update, and not writable from the shell) nor 7.0's OSDATA (VMFS-L).
/// An unknown type is kept: the collector did not say.
fn holds_files(d: &esxup_facts::Datastore) -> bool {
    match d.kind.as_deref() {
        None => true,
        Some(k) => {
            let k = k.to_ascii_uppercase();
            k != "OSDATA" && k != "VMFS-L" && k != "VFAT" && k != "VFFS"
        }
    }
}

fn is_driver_finding(f: &Finding) -> bool {
    matches!(
        f.id.as_str(),
        "NATIVE_BOOT_NIC"
            | "NATIVE_BOOTBANK"
            | "CONFLICTING_VIBS"
            | "MISSING_DEPENDENCY_VIBS"
            | "VMKLINUX_DRIVERS"
    )
}

fn is_hardware_finding(f: &Finding) -> bool {
    matches!(
        f.id.as_str(),
        "CPU_SUPPORT"
            | "UNSUPPORTED_DEVICES"
            | "DEVICE_UNCLAIMED"
            | "NATIVE_BOOT_NIC"
            | "NATIVE_BOOTBANK"
            | "VMKLINUX_DRIVERS"
            | "HARDWARE_VIRTUALIZATION"
            | "TPM_CRB"
            | "DEVICE_NOTE"
            | "HOMELAB_DEVICE"
    ) || f.key.contains("device")
}
