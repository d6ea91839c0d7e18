//! The vSphere API of a standalone ESXi host: the methods an admin's tools
//! (Host Client, PowerCLI, govc) call for the same steps.
//!
//! | change | call |
//! |---|---|
//! | configuration backup | `HostFirmwareSystem.SyncFirmwareConfiguration`, `BackupFirmwareConfiguration`, then GET of the returned `/downloads/` URL (`*` replaced by the host) |
//! | maintenance mode | `HostSystem.EnterMaintenanceMode_Task` / `ExitMaintenanceMode_Task` (timeout 0) |
//! | VM power | `VirtualMachine.ShutdownGuest`, `PowerOffVM_Task`, `PowerOnVM_Task` |
//! | SLP workaround | `HostServiceSystem.StopService` / `UpdateServicePolicy`, `HostFirewallSystem.DisableRuleset` |
//! | bundle upload | `FileManager.MakeDirectory`, HTTP PUT `/folder/esxup/<file>?dcPath=ha-datacenter&dsName=<ds>` |
//! | reboot | `HostSystem.RebootHost_Task` (force false: only in maintenance mode) |
//! | licence | `LicenseManager.UpdateLicense` |
//! | Tools / hardware | `UpgradeTools_Task`, `UpgradeVM_Task`, `CreateSnapshot_Task`, `RemoveSnapshot_Task` |
//!
//! What the API cannot do, it says so ([`TransportError::Unsupported`]):
//! `esxcli software profile update` (the runner uses SSH for it), reading
//! the image profile, the altbootbank or Secure Boot.
//! A free-licence host answers every change with `RestrictedVersion`:
//! that becomes [`TransportError::Restricted`].

use super::{Change, Outcome, Transport, TransportError};
use crate::state::{HostState, LicenseState, SlpState, SnapshotRef, TransportKind, VmState};
use esxup_facts::{HostFacts, PowerState};
use esxup_vim::xml::escape;
use esxup_vim::{Client, ConnectOptions, MoRef, Node, ObjectContent, PropSpec};
use std::time::Duration;

const HOST_PATHS: &[&str] = &[
    "name",
    "summary.hardware.uuid",
    "summary.config.product",
    "runtime.inMaintenanceMode",
    "runtime.bootTime",
    "config.service",
    "config.firewall",
    "configManager",
];
const VM_PATHS: &[&str] = &[
    "name",
    "runtime.powerState",
    "guest.toolsVersionStatus2",
    "guest.toolsRunningStatus",
    "guest.toolsVersion",
    "config.version",
    "config.template",
    "snapshot",
];
const DS_PATHS: &[&str] = &["summary.name", "summary.type"];

/// Largest configuration bundle accepted (real ones are well under 1 MB).
const MAX_BUNDLE: u64 = 256 * 1024 * 1024;

/// The API transport.
pub struct ApiTransport {
    opts: ConnectOptions,
    client: Option<Client>,
    /// How long a task (Tools upgrade, maintenance mode) may run.
    pub task_timeout: Duration,
    /// How long a file transfer (the offline bundle) may take.
    pub transfer_timeout: Duration,
    /// Told the bytes of the bundle upload as they go (the CLI's bar).
    pub progress: Option<esxup_depot::Progress>,
}

impl std::fmt::Debug for ApiTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTransport").field("url", &self.opts.url).finish()
    }
}

/// Maps the client's errors to what the runner acts on.
pub fn map_vim(op: &str, e: esxup_vim::Error) -> TransportError {
    use esxup_vim::Error as E;
    let message = tidy(op, e.to_string());
    let op = op.to_string();
    match e {
        E::Fault { ref kind, ref message, .. } | E::TaskFailed { ref kind, ref message, .. }
            if kind == "RestrictedVersion" =>
        {
            TransportError::Restricted { op, message: format!("{kind}: {message}") }
        }
        E::Transport { .. } => TransportError::Unreachable { op, message },
        E::InvalidLogin { .. } => TransportError::Access {
            op,
            message,
            hint: Some("check --user and the password (ESXUP_PASSWORD, --password-file)".into()),
        },
        E::UntrustedCertificate { ref thumbprint, .. } => TransportError::Access {
            op,
            hint: Some(format!("if you trust this host, pin its certificate: --thumbprint {thumbprint}")),
            message,
        },
        E::Url { .. } | E::Tls(_) | E::NotAuthenticated { .. } => {
            TransportError::Access { op, message, hint: None }
        }
        E::Http { status, .. } if status == 502 || status == 503 => {
            TransportError::Unreachable { op, message }
        }
        E::Fault { .. } | E::TaskFailed { .. } | E::TaskTimeout { .. } | E::Http { .. } => {
            TransportError::Refused { op, message }
        }
        E::Response { .. } => TransportError::Answer { op, message },
    }
}

/// The client's error text without what the transport error adds itself:
/// the operation (`op: op url: ...` would name it twice) and the blank end
/// of an empty HTTP body (`HTTP status 500: \n`).
fn tidy(op: &str, message: String) -> String {
    let m = message.strip_prefix(op).and_then(|m| m.strip_prefix(' ')).unwrap_or(&message);
    m.trim_end().trim_end_matches(':').to_string()
}

fn moref_of(n: &Node) -> Option<MoRef> {
    Some(MoRef { ty: n.mo_type.clone()?, value: n.text()?.to_string() })
}

/// Percent-encodes a URL query value or path segment.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The host's managed objects the runner calls.
struct Refs {
    host: MoRef,
    firmware: Option<MoRef>,
    service: Option<MoRef>,
    firewall: Option<MoRef>,
}

impl ApiTransport {
    /// Connects and logs in; refuses a vCenter (the runner works on one host).
    pub fn connect(opts: ConnectOptions) -> Result<ApiTransport, TransportError> {
        let client = Client::connect(&opts).map_err(|e| map_vim("connect", e))?;
        if client.service_content().is_vcenter() {
            return Err(TransportError::Unsupported {
                op: "connect".into(),
                transport: "api",
                why: format!(
                    "{} is a vCenter Server; esxup run works on one ESXi host: give the host's own address",
                    client.url()
                ),
            });
        }
        Ok(ApiTransport {
            opts,
            client: Some(client),
            task_timeout: Duration::from_secs(30 * 60),
            transfer_timeout: Duration::from_secs(2 * 60 * 60),
            progress: None,
        })
    }

    fn client(&mut self) -> Result<&Client, TransportError> {
        if self.client.is_none() {
            self.client = Some(Client::connect(&self.opts).map_err(|e| map_vim("connect", e))?);
        }
        Ok(self.client.as_ref().expect("just connected"))
    }

    /// Runs `f` on the client; a connection that broke is dropped so that
    /// the next call connects again.
    fn with<T>(
        &mut self,
        op: &str,
        f: impl FnOnce(&Client) -> Result<T, esxup_vim::Error>,
    ) -> Result<T, TransportError> {
        let c = self.client()?;
        match f(c) {
            Ok(t) => Ok(t),
            Err(e) => {
                let mapped = map_vim(op, e);
                if mapped.is_unreachable() {
                    self.client = None;
                }
                Err(mapped)
            }
        }
    }

    fn host_object(&mut self) -> Result<ObjectContent, TransportError> {
        let mut hosts = self
            .with("read the host", |c| c.retrieve_all(&[PropSpec { ty: "HostSystem", paths: HOST_PATHS }]))?;
        match hosts.len() {
            1 => Ok(hosts.remove(0)),
            n => Err(TransportError::Answer {
                op: "read the host".into(),
                message: format!("{n} hosts where one was expected"),
            }),
        }
    }

    fn refs(&mut self) -> Result<Refs, TransportError> {
        let h = self.host_object()?;
        let cm = h.prop("configManager");
        let r = |name: &str| cm.and_then(|c| c.child(name)).and_then(moref_of);
        Ok(Refs {
            host: h.obj.clone(),
            firmware: r("firmwareSystem"),
            service: r("serviceSystem"),
            firewall: r("firewallSystem"),
        })
    }

    /// Invokes a `*_Task` method and waits for the task.
    fn task(&mut self, method: &str, this: &MoRef, args: &str) -> Result<Option<Node>, TransportError> {
        let timeout = self.task_timeout;
        self.with(method, |c| {
            let rv = c.invoke(method, this, args)?;
            let task = rv.as_ref().and_then(moref_of).ok_or_else(|| esxup_vim::Error::Response {
                op: method.to_string(),
                url: c.url().to_string(),
                detail: "no task returned".into(),
            })?;
            c.wait_for_task(&task, timeout)
        })
    }

    fn call(&mut self, method: &str, this: &MoRef, args: &str) -> Result<Option<Node>, TransportError> {
        self.with(method, |c| c.invoke(method, this, args))
    }

    fn need(r: Option<MoRef>, what: &str) -> Result<MoRef, TransportError> {
        r.ok_or_else(|| TransportError::Unsupported {
            op: what.into(),
            transport: "api",
            why: "the host does not offer this managed object".into(),
        })
    }

    fn vm_ref(vm: &VmState) -> MoRef {
        MoRef::new("VirtualMachine", &vm.id)
    }

    fn folder_url(&mut self, datastore: &str, name: &str) -> Result<String, TransportError> {
        let base = self.client()?.base_url();
        Ok(format!("{base}/folder/esxup/{}?dcPath=ha-datacenter&dsName={}", pct(name), pct(datastore)))
    }

    fn snapshot_moref(&mut self, vm: &VmState, id: &str) -> MoRef {
        let _ = vm;
        MoRef::new("VirtualMachineSnapshot", id)
    }
}

fn tools(n: Option<&Node>) -> Option<esxup_facts::ToolsStatus> {
    n.and_then(|n| n.text()).map(esxup_collect::vim::tools_status)
}

fn snapshots(n: Option<&Node>) -> Vec<SnapshotRef> {
    fn walk<'a>(nodes: impl Iterator<Item = &'a Node>, out: &mut Vec<SnapshotRef>) {
        for n in nodes {
            if let (Some(id), Some(name)) = (n.child("snapshot").and_then(|s| s.text()), n.text_at("name")) {
                out.push(SnapshotRef { id: id.to_string(), name: name.to_string() });
            }
            walk(n.children_named("childSnapshotList"), out);
        }
    }
    let mut out = Vec::new();
    if let Some(n) = n {
        walk(n.children_named("rootSnapshotList"), &mut out);
    }
    out
}

impl Transport for ApiTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Api
    }

    fn describe(&self, c: &Change<'_>) -> String {
        match c {
            Change::BackupConfig => {
                "HostFirmwareSystem.SyncFirmwareConfiguration, BackupFirmwareConfiguration, GET /downloads/<id>/configBundle-<host>.tgz".into()
            }
            Change::Maintenance(true) => "HostSystem.EnterMaintenanceMode_Task(timeout=0)".into(),
            Change::Maintenance(false) => "HostSystem.ExitMaintenanceMode_Task(timeout=0)".into(),
            Change::ShutdownGuest(vm) => format!("VirtualMachine:{}.ShutdownGuest", vm.id),
            Change::PowerOff(vm) => format!("VirtualMachine:{}.PowerOffVM_Task", vm.id),
            Change::PowerOn(vm) => format!("VirtualMachine:{}.PowerOnVM_Task", vm.id),
            Change::StopService(s) => format!("HostServiceSystem.StopService(id={s})"),
            Change::ServicePolicy(s, p) => format!("HostServiceSystem.UpdateServicePolicy(id={s}, policy={p})"),
            Change::Ruleset(r, true) => format!("HostFirewallSystem.EnableRuleset(id={r})"),
            Change::Ruleset(r, false) => format!("HostFirewallSystem.DisableRuleset(id={r})"),
            Change::Upload { datastore, name, .. } => format!(
                "FileManager.MakeDirectory([{datastore}] esxup), PUT /folder/esxup/{name}?dcPath=ha-datacenter&dsName={datastore}"
            ),
            Change::ProfileUpdate { .. } => "esxcli software profile update (not available over the vSphere API)".into(),
            Change::Reboot { .. } => "HostSystem.RebootHost_Task(force=false)".into(),
            Change::SetLicense(k) => format!("LicenseManager.UpdateLicense(licenseKey={})", k.masked_key()),
            Change::UpgradeTools(vm) => format!("VirtualMachine:{}.UpgradeTools_Task", vm.id),
            Change::UpgradeHardware(vm, v) => format!("VirtualMachine:{}.UpgradeVM_Task(version=vmx-{v})", vm.id),
            Change::CreateSnapshot(vm, name) => {
                format!("VirtualMachine:{}.CreateSnapshot_Task(name={name}, memory=false, quiesce=false)", vm.id)
            }
            Change::RemoveSnapshot(_, id) => format!("VirtualMachineSnapshot:{id}.RemoveSnapshot_Task(removeChildren=false)"),
            Change::WriteFile { path, .. } => format!("write {path} (not available over the vSphere API)"),
            Change::GhettoVcb { .. } => "ghettoVCB.sh (not available over the vSphere API)".into(),
        }
    }

    fn apply(&mut self, c: &Change<'_>) -> Result<Outcome, TransportError> {
        let unsupported = |op: &str, why: &str| TransportError::Unsupported {
            op: op.into(),
            transport: "api",
            why: why.into(),
        };
        match c {
            Change::BackupConfig => {
                let fw = Self::need(self.refs()?.firmware, "HostFirmwareSystem")?;
                self.call("SyncFirmwareConfiguration", &fw, "")?;
                let rv = self.call("BackupFirmwareConfiguration", &fw, "")?;
                let url = rv.as_ref().and_then(|n| n.text()).ok_or_else(|| TransportError::Answer {
                    op: "BackupFirmwareConfiguration".into(),
                    message: "no download URL returned".into(),
                })?;
                // The answer is `http://*/downloads/...`: the host's own
                // address replaces `*`, and the download goes over the same
                // verified HTTPS as the API.
                let path = url.find("/downloads/").map(|i| url[i..].to_string()).ok_or_else(|| {
                    TransportError::Answer {
                        op: "BackupFirmwareConfiguration".into(),
                        message: format!("unexpected download URL {url:?}"),
                    }
                })?;
                let full = format!("{}{path}", self.client()?.base_url());
                let timeout = self.transfer_timeout;
                let bytes = self.with("download the configuration bundle", |c| {
                    c.http_get("download the configuration bundle", &full, MAX_BUNDLE, timeout)
                })?;
                Ok(Outcome::Bytes(bytes))
            }
            Change::Maintenance(on) => {
                let host = self.refs()?.host;
                let m = if *on { "EnterMaintenanceMode_Task" } else { "ExitMaintenanceMode_Task" };
                self.task(m, &host, "<timeout>0</timeout>")?;
                Ok(Outcome::None)
            }
            Change::ShutdownGuest(vm) => {
                self.call("ShutdownGuest", &Self::vm_ref(vm), "")?;
                Ok(Outcome::None)
            }
            Change::PowerOff(vm) => {
                self.task("PowerOffVM_Task", &Self::vm_ref(vm), "")?;
                Ok(Outcome::None)
            }
            Change::PowerOn(vm) => {
                self.task("PowerOnVM_Task", &Self::vm_ref(vm), "")?;
                Ok(Outcome::None)
            }
            Change::StopService(id) => {
                let s = Self::need(self.refs()?.service, "HostServiceSystem")?;
                self.call("StopService", &s, &format!("<id>{}</id>", escape(id)))?;
                Ok(Outcome::None)
            }
            Change::ServicePolicy(id, policy) => {
                let s = Self::need(self.refs()?.service, "HostServiceSystem")?;
                let args = format!("<id>{}</id><policy>{}</policy>", escape(id), escape(policy));
                self.call("UpdateServicePolicy", &s, &args)?;
                Ok(Outcome::None)
            }
            Change::Ruleset(id, on) => {
                let f = Self::need(self.refs()?.firewall, "HostFirewallSystem")?;
                let m = if *on { "EnableRuleset" } else { "DisableRuleset" };
                self.call(m, &f, &format!("<id>{}</id>", escape(id)))?;
                Ok(Outcome::None)
            }
            Change::Upload { datastore, name, local, size } => {
                let fm = {
                    let c = self.client()?;
                    c.service_content().file_manager.clone()
                };
                if let Some(fm) = fm {
                    let args = format!(
                        "<name>[{}] esxup</name><createParentDirectories>true</createParentDirectories>",
                        escape(datastore)
                    );
                    match self.call("MakeDirectory", &fm, &args) {
                        Ok(_) => {}
                        // Already there from an earlier run: fine.
                        Err(TransportError::Refused { message, .. })
                            if message.contains("FileAlreadyExists") => {}
                        Err(e) => return Err(e),
                    }
                }
                let url = self.folder_url(datastore, name)?;
                let f = std::fs::File::open(local).map_err(|e| TransportError::Answer {
                    op: format!("read {}", local.display()),
                    message: e.to_string(),
                })?;
                let timeout = self.transfer_timeout;
                let size = *size;
                let f = esxup_depot::ProgressReader::new(f, self.progress.clone(), name, Some(size));
                self.with("upload the bundle", |c| c.http_put("upload the bundle", &url, f, size, timeout))?;
                Ok(Outcome::None)
            }
            Change::ProfileUpdate { .. } => Err(unsupported(
                "esxcli software profile update",
                "esxcli runs in the ESXi Shell: give --ssh as well",
            )),
            Change::Reboot { .. } => {
                let host = self.refs()?.host;
                self.task("RebootHost_Task", &host, "<force>false</force>")?;
                Ok(Outcome::None)
            }
            Change::SetLicense(key) => {
                let lm = self.client()?.service_content().license_manager.clone();
                let lm = Self::need(lm, "LicenseManager")?;
                let args = format!("<licenseKey>{}</licenseKey>", escape(key.expose()));
                // The key is in the request body only (HTTPS), never in an error.
                self.call("UpdateLicense", &lm, &args).map_err(|e| match e {
                    TransportError::Refused { op, message } => TransportError::Refused {
                        op,
                        message: message.replace(key.expose(), &key.masked_key()),
                    },
                    other => other,
                })?;
                Ok(Outcome::None)
            }
            Change::UpgradeTools(vm) => {
                self.task("UpgradeTools_Task", &Self::vm_ref(vm), "")?;
                Ok(Outcome::None)
            }
            Change::UpgradeHardware(vm, v) => {
                self.task("UpgradeVM_Task", &Self::vm_ref(vm), &format!("<version>vmx-{v}</version>"))?;
                Ok(Outcome::None)
            }
            Change::CreateSnapshot(vm, name) => {
                let args = format!(
                    "<name>{}</name><description>esxup: before the hardware upgrade</description><memory>false</memory><quiesce>false</quiesce>",
                    escape(name)
                );
                let rv = self.task("CreateSnapshot_Task", &Self::vm_ref(vm), &args)?;
                Ok(rv
                    .as_ref()
                    .and_then(|n| n.text())
                    .map(|id| Outcome::Id(id.to_string()))
                    .unwrap_or(Outcome::None))
            }
            Change::RemoveSnapshot(vm, id) => {
                let snap = self.snapshot_moref(vm, id);
                self.task("RemoveSnapshot_Task", &snap, "<removeChildren>false</removeChildren>")?;
                Ok(Outcome::None)
            }
            Change::WriteFile { .. } | Change::GhettoVcb { .. } => {
                Err(unsupported("ghettoVCB", "ghettoVCB is a shell script: give --ssh as well"))
            }
        }
    }

    fn observe(&mut self) -> Result<HostState, TransportError> {
        let all = self.with("read the host", |c| {
            c.retrieve_all(&[
                PropSpec { ty: "HostSystem", paths: HOST_PATHS },
                PropSpec { ty: "VirtualMachine", paths: VM_PATHS },
                PropSpec { ty: "Datastore", paths: DS_PATHS },
            ])
        })?;
        let hosts: Vec<&ObjectContent> = all.iter().filter(|o| o.obj.ty == "HostSystem").collect();
        let [h] = hosts.as_slice() else {
            return Err(TransportError::Answer {
                op: "read the host".into(),
                message: format!("{} hosts where one was expected", hosts.len()),
            });
        };
        let text = |o: &ObjectContent, p: &str| o.prop(p).and_then(|n| n.text()).map(str::to_string);
        let product = h.prop("summary.config.product");
        let mut s = HostState {
            hostname: text(h, "name"),
            uuid: text(h, "summary.hardware.uuid"),
            version: product.and_then(|p| p.text_at("version")).map(str::to_string),
            build: product.and_then(|p| p.parse_at("build")),
            maintenance_mode: h.prop("runtime.inMaintenanceMode").and_then(|n| n.bool_at("")),
            boot_time: text(h, "runtime.bootTime"),
            ..HostState::default()
        };
        let slpd = h.prop("config.service").and_then(|svc| {
            svc.children_named("service").find(|x| x.text_at("key") == Some("slpd")).cloned()
        });
        let cimslp = h.prop("config.firewall").and_then(|fw| {
            fw.children_named("ruleset")
                .find(|r| r.text_at("key") == Some("CIMSLP"))
                .and_then(|r| r.bool_at("enabled"))
        });
        if let Some(slpd) = slpd {
            s.slp = Some(SlpState {
                running: slpd.bool_at("running"),
                policy: slpd.text_at("policy").map(str::to_string),
                firewall_enabled: cimslp,
            });
        }
        let autostart = h.prop("configManager").and_then(|c| c.child("autoStartManager")).and_then(moref_of);
        let order: Vec<(String, u32)> = match autostart {
            Some(asm) => self
                .with("read the autostart order", |c| c.retrieve_one(&asm, &["config"]))
                .ok()
                .and_then(|oc| oc.prop("config").cloned())
                .map(|cfg| {
                    cfg.children_named("powerInfo")
                        .filter_map(|p| {
                            let vm = p.child("key").and_then(|k| k.text())?.to_string();
                            let o: i64 = p.parse_at("startOrder")?;
                            (o > 0).then_some((vm, o as u32))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut vms = Vec::new();
        for o in all.iter().filter(|o| o.obj.ty == "VirtualMachine") {
            if text(o, "config.template").as_deref() == Some("true") {
                continue;
            }
            vms.push(VmState {
                id: o.obj.value.clone(),
                name: text(o, "name").unwrap_or_else(|| o.obj.value.clone()),
                power: text(o, "runtime.powerState").and_then(|p| match p.as_str() {
                    "poweredOn" => Some(PowerState::PoweredOn),
                    "poweredOff" => Some(PowerState::PoweredOff),
                    "suspended" => Some(PowerState::Suspended),
                    _ => None,
                }),
                tools: tools(o.prop("guest.toolsVersionStatus2")),
                tools_running: text(o, "guest.toolsRunningStatus").map(|s| s == "guestToolsRunning"),
                tools_version: text(o, "guest.toolsVersion").filter(|v| v != "0"),
                hardware: text(o, "config.version")
                    .and_then(|v| v.strip_prefix("vmx-").and_then(|n| n.parse().ok())),
                snapshots: if o.missing.iter().any(|(p, _)| p == "snapshot") {
                    None
                } else {
                    Some(snapshots(o.prop("snapshot")))
                },
                start_order: order.iter().find(|(id, _)| *id == o.obj.value).map(|(_, n)| *n),
            });
        }
        vms.sort_by(|a, b| a.name.cmp(&b.name));
        s.vms = Some(vms);
        let mut ds: Vec<String> =
            all.iter().filter(|o| o.obj.ty == "Datastore").filter_map(|o| text(o, "summary.name")).collect();
        ds.sort();
        s.datastores = Some(ds);
        let lm = self.client()?.service_content().license_manager.clone();
        if let Some(lm) = lm {
            s.license = self
                .with("read the licence", |c| c.retrieve_one(&lm, &["licenses"]))
                .ok()
                .and_then(|oc| oc.prop("licenses").and_then(|l| l.children.first()).cloned())
                .map(|l| LicenseState {
                    edition: l.text_at("name").map(str::to_string),
                    key_masked: l.text_at("licenseKey").map(esxup_collect::vim::mask_key),
                });
        }
        Ok(s)
    }

    fn facts(&mut self) -> Result<HostFacts, TransportError> {
        let mut list = self.with("collect facts", esxup_collect::vim::collect_with)?;
        match list.len() {
            1 => Ok(list.remove(0)),
            n => Err(TransportError::Answer {
                op: "collect facts".into(),
                message: format!("{n} hosts where one was expected"),
            }),
        }
    }

    fn remote_sha256(&mut self, datastore: &str, name: &str) -> Result<Option<String>, TransportError> {
        use sha2::Digest;
        let url = self.folder_url(datastore, name)?;
        let timeout = self.transfer_timeout;
        let r = self.with("read back the bundle", |c| {
            c.http_get_with("read back the bundle", &url, timeout, |r| {
                let mut h = sha2::Sha256::new();
                std::io::copy(r, &mut h)?;
                Ok(hex::encode(h.finalize()))
            })
        });
        match r {
            Ok(h) => Ok(Some(h)),
            Err(TransportError::Refused { message, .. }) if message.contains("HTTP status 404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.client = None;
        self.client()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_operation_once_without_an_empty_body() {
        let e = esxup_vim::Error::Http {
            op: "download the configuration bundle".into(),
            url: "https://esx01/downloads/x/configBundle-esx01.tgz".into(),
            status: 500,
            body: "\n".into(),
        };
        let t = map_vim("download the configuration bundle", e);
        assert!(matches!(t, TransportError::Refused { .. }), "{t:?}");
        assert_eq!(
            t.to_string(),
            "download the configuration bundle: https://esx01/downloads/x/configBundle-esx01.tgz: HTTP status 500"
        );
        let e = esxup_vim::Error::Fault {
            op: "EnterMaintenanceMode_Task".into(),
            url: "https://esx01/sdk".into(),
            kind: "InvalidState".into(),
            message: "The operation is not allowed in the current state.".into(),
        };
        assert_eq!(
            map_vim("EnterMaintenanceMode_Task", e).to_string(),
            "EnterMaintenanceMode_Task: https://esx01/sdk: InvalidState: The operation is not allowed in the current state."
        );
    }
}
