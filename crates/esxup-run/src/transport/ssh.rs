//! The ESXi Shell over SSH: `vim-cmd`, `esxcli` and the KB commands an
//! admin would type, run one by one, their outputs read with the same
//! parsers as `esxup collect --ssh` (crates/esxup-facts/src/parse).
//!
//! Secrets never go into a command line: the licence key is sent on the
//! command's standard input (`read -r k && vim-cmd vimsvc/license --set "$k"`),
//! so neither sshd's log nor the host's shell history can show it.

use super::{datastore_path, Change, Outcome, Transport, TransportError};
use crate::state::{HostState, LicenseState, PendingImage, SlpState, SnapshotRef, TransportKind, VmState};
use esxup_collect::ssh::{SshOptions, SshSource};
use esxup_collect::CollectError;
use esxup_facts::parse::vmodl::{self, V};
use esxup_facts::parse::{boot, hardware, network, services, software, storage, vimcmd};
use esxup_facts::{HostFacts, InstalledVib, PowerState};

/// The KB 76372 and esxcli commands, as the runner sends them (the tests'
/// fake host answers exactly these).
pub const HOSTSUMMARY: &str = "vim-cmd hostsvc/hostsummary";
pub const PROFILE_GET: &str = "esxcli --formatter=xml software profile get";
pub const VIB_LIST: &str = "esxcli --formatter=xml software vib list";
pub const ALTBOOTBANK: &str = "cat /altbootbank/boot.cfg";
pub const SLPD_STATUS: &str = "/etc/init.d/slpd status";
pub const SLPD_CHKCONFIG: &str = "chkconfig --list slpd";
pub const CIMSLP_RULESET: &str = "esxcli --formatter=xml network firewall ruleset list -r CIMSLP";
pub const LICENSE_SHOW: &str = "vim-cmd vimsvc/license --show";
pub const SECUREBOOT_STATE: &str = "/usr/lib/vmware/secureboot/bin/secureBoot.py -s";
pub const GETALLVMS: &str = "vim-cmd vmsvc/getallvms";
pub const AUTOSTART: &str = "vim-cmd hostsvc/autostartmanager/get_autostartseq";
pub const FILESYSTEMS: &str = "esxcli --formatter=xml storage filesystem list";
pub const GHETTOVCB: &str = "/opt/ghettovcb/bin/ghettoVCB.sh";

/// Quotes a word for the ESXi shell (busybox sh): single quotes unless it
/// is plainly safe.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The SSH transport: one session, reconnected after a reboot.
pub struct SshTransport {
    opts: SshOptions,
    src: Option<SshSource>,
    /// Outputs of reads run together by [`SshTransport::prefetch`], taken
    /// by the next [`SshTransport::read`] of the same command. Emptied at the
    /// end of every observation: a later read always asks the host again.
    prefetched: std::collections::HashMap<String, Option<String>>,
    /// Told the bytes of the bundle upload as they go (the CLI's bar).
    pub progress: Option<esxup_depot::Progress>,
}

/// Ends each command of a batch: `printf '\n<MARK> %s\n' "$?"` prints the
/// command's exit status after its output (the leading newline keeps an
/// output without a final newline apart from the mark).
const BATCH_MARK: &str = "@@ESXUP-BATCH@@";

/// The shell command line that runs `cmds` one after the other in one
/// session, each followed by its mark. The ESXi Shell (busybox ash) runs it
/// as it would run the commands one by one; a session costs far more than
/// a command, so an observation of the host takes one or two sessions
/// instead of twenty.
pub fn batch_command(cmds: &[&str]) -> String {
    cmds.iter().map(|c| format!("{c}; printf '\\n{BATCH_MARK} %s\\n' \"$?\"")).collect::<Vec<_>>().join("; ")
}

/// Splits a batch's output into each command's output and status.
pub fn split_batch(out: &str, n: usize) -> Option<Vec<(i32, String)>> {
    let sep = format!("\n{BATCH_MARK} ");
    let mut rest = out;
    let mut parts = Vec::with_capacity(n);
    for _ in 0..n {
        let i = rest.find(&sep)?;
        let text = rest[..i].to_string();
        let after = &rest[i + sep.len()..];
        let end = after.find('\n')?;
        let status: i32 = after[..end].trim().parse().ok()?;
        parts.push((status, text));
        rest = &after[end + 1..];
    }
    Some(parts)
}

impl std::fmt::Debug for SshTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshTransport").field("target", &self.opts.target.to_string()).finish()
    }
}

fn map_collect(op: &str, e: CollectError) -> TransportError {
    let op = op.to_string();
    match e {
        CollectError::Connect { .. } | CollectError::Timeout { .. } => {
            TransportError::Unreachable { op, message: e.to_string() }
        }
        CollectError::Ssh { ref message, .. } if message.contains("connection lost") => {
            TransportError::Unreachable { op, message: e.to_string() }
        }
        CollectError::Ssh { .. } => TransportError::Unreachable { op, message: e.to_string() },
        CollectError::Auth { .. } => TransportError::Access {
            op,
            message: e.to_string(),
            hint: Some("give --identity FILE, load the key in ssh-agent, or set ESXUP_SSH_PASSWORD".into()),
        },
        CollectError::UnknownHostKey { ref fingerprint, .. } => TransportError::Access {
            op,
            hint: Some(format!(
                "check the key on the host, then pin it with --ssh-fingerprint {fingerprint}"
            )),
            message: e.to_string(),
        },
        CollectError::HostKeyMismatch { .. } => {
            TransportError::Access { op, message: e.to_string(), hint: None }
        }
        other => TransportError::Answer { op, message: other.to_string() },
    }
}

/// A vim-cmd that printed a vmodl fault (`(vim.fault.ToolsUnavailable) {`).
fn vim_fault(out: &str) -> Option<String> {
    let i = out.find("vim.fault.")?;
    let rest = &out[i..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_')).unwrap_or(rest.len());
    let kind = rest[..end].trim_start_matches("vim.fault.").to_string();
    let msg = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("msg = ").map(|m| m.trim_matches([',', '"', ' ']).to_string()))
        .filter(|m| !m.is_empty());
    Some(match msg {
        Some(m) => format!("{kind}: {m}"),
        None => kind,
    })
}

impl SshTransport {
    /// Connects (checks the host key, authenticates).
    pub fn connect(opts: SshOptions) -> Result<SshTransport, TransportError> {
        let src = SshSource::connect(&opts).map_err(|e| map_collect("connect", e))?;
        Ok(SshTransport { opts, src: Some(src), prefetched: Default::default(), progress: None })
    }

    /// `user@host:port`.
    pub fn target(&self) -> String {
        self.opts.target.to_string()
    }

    fn src(&mut self) -> Result<&mut SshSource, TransportError> {
        if self.src.is_none() {
            self.src = Some(SshSource::connect(&self.opts).map_err(|e| map_collect("connect", e))?);
        }
        Ok(self.src.as_mut().expect("just connected"))
    }

    /// Runs a command: `(status, stdout, stderr)`. A connection that broke
    /// is dropped, so that the next command connects again.
    fn exec(&mut self, cmd: &str, input: Option<&[u8]>) -> Result<(i32, Vec<u8>, String), TransportError> {
        self.exec_as(cmd, cmd, input)
    }

    /// [`SshTransport::exec`], naming the command `label` in errors.
    fn exec_as(
        &mut self,
        cmd: &str,
        label: &str,
        input: Option<&[u8]>,
    ) -> Result<(i32, Vec<u8>, String), TransportError> {
        let src = self.src()?;
        let r = match input {
            Some(mut bytes) => src.run_with_input(cmd, &mut bytes),
            None => src.run(cmd),
        };
        match r {
            Ok(x) => Ok(x),
            Err(e) => {
                self.src = None;
                Err(map_collect(label, e).relabel(cmd, label))
            }
        }
    }

    /// A read: the output text, whatever the status (some commands print
    /// their answer with a non-zero status, `slpd status` of a stopped
    /// daemon); `None` when it printed nothing.
    fn read(&mut self, cmd: &str) -> Result<Option<String>, TransportError> {
        if let Some(text) = self.prefetched.remove(cmd) {
            return Ok(text);
        }
        let (_, out, _) = self.exec(cmd, None)?;
        let text = String::from_utf8_lossy(&out).into_owned();
        Ok(Some(text).filter(|t| !t.trim().is_empty()))
    }

    /// Runs the reads `cmds` in one session; [`SshTransport::read`] then
    /// takes their outputs. A batch whose output is not complete (the
    /// connection broke) is an error, as the single read would be.
    fn prefetch(&mut self, cmds: &[&str]) -> Result<(), TransportError> {
        if cmds.len() < 2 {
            return Ok(());
        }
        let line = batch_command(cmds);
        let label = format!("`{}` and {} more reads in one session", cmds[0], cmds.len() - 1);
        let (_, out, _) = self.exec_as(&line, &label, None)?;
        let text = String::from_utf8_lossy(&out);
        let parts = split_batch(&text, cmds.len()).ok_or_else(|| TransportError::Answer {
            op: format!("`{}` and {} more reads", cmds[0], cmds.len() - 1),
            message: "the output ended before every command had answered".into(),
        })?;
        for (cmd, (_, text)) in cmds.iter().zip(parts) {
            self.prefetched.insert(cmd.to_string(), Some(text).filter(|t| !t.trim().is_empty()));
        }
        Ok(())
    }

    /// A change: fails unless the command ends with status 0 and printed no
    /// vim fault.
    fn change(&mut self, cmd: &str, input: Option<&[u8]>) -> Result<String, TransportError> {
        let (status, out, err) = self.exec(cmd, input)?;
        let text = String::from_utf8_lossy(&out).into_owned();
        if status != 0 || vim_fault(&text).is_some() {
            let why = vim_fault(&text)
                .or_else(|| err.lines().find(|l| !l.trim().is_empty()).map(str::to_string))
                .or_else(|| text.lines().find(|l| !l.trim().is_empty()).map(|l| l.trim().to_string()))
                .unwrap_or_else(|| "no message".into());
            return Err(TransportError::Refused {
                op: format!("`{}`", redact(cmd)),
                message: format!("status {status}: {why}"),
            });
        }
        Ok(text)
    }

    fn vms(&mut self) -> Result<Option<Vec<VmState>>, TransportError> {
        let Some(text) = self.read(GETALLVMS)? else { return Ok(Some(Vec::new())) };
        let Ok(list) = vimcmd::getallvms(&text) else { return Ok(None) };
        let order = self.autostart()?;
        let per_vm: Vec<String> = list
            .iter()
            .filter_map(|vm| vm.id.as_deref())
            .flat_map(|id| {
                ["get.summary", "get.guest", "get.snapshotinfo"].map(|c| vimcmd::per_vm_command(c, id))
            })
            .collect();
        self.prefetch(&per_vm.iter().map(String::as_str).collect::<Vec<_>>())?;
        let mut out = Vec::new();
        for vm in list {
            let Some(id) = vm.id.clone() else { continue };
            let summary = self
                .read(&vimcmd::per_vm_command("get.summary", &id))?
                .and_then(|t| vimcmd::vm_summary(&id, &t).ok());
            let guest = self.read(&vimcmd::per_vm_command("get.guest", &id))?;
            let guest_v = guest.as_deref().and_then(|t| vmodl::parse("get.guest", t).ok().flatten());
            let tools = guest
                .as_deref()
                .and_then(|t| vimcmd::vm_guest(&id, t).ok())
                .and_then(|g| g.tools_status)
                .or(summary.as_ref().and_then(|s| s.tools_status));
            let snaps = self.read(&vimcmd::per_vm_command("get.snapshotinfo", &id))?;
            out.push(VmState {
                name: summary.as_ref().and_then(|s| s.name.clone()).unwrap_or(vm.name.clone()),
                power: summary.as_ref().and_then(|s| s.power_state),
                tools,
                tools_running: guest_v
                    .as_ref()
                    .and_then(|v| v.text_at("toolsRunningStatus"))
                    .map(|s| s == "guestToolsRunning"),
                tools_version: guest_v
                    .as_ref()
                    .and_then(|v| v.text_at("toolsVersion"))
                    .filter(|v| !v.is_empty() && *v != "0")
                    .map(str::to_string),
                hardware: summary.as_ref().and_then(|s| s.hardware_version).or(vm.hardware_version),
                snapshots: snapshot_refs(snaps.as_deref()),
                start_order: order.iter().find(|(k, _)| *k == id).map(|(_, o)| *o),
                id,
            });
        }
        Ok(Some(out))
    }

    /// The image part of the state only (profile, pending image, Secure
    /// Boot): what the API cannot see, read over SSH beside it.
    pub fn observe_image(&mut self) -> Result<HostState, TransportError> {
        self.prefetch(&[PROFILE_GET, ALTBOOTBANK, SECUREBOOT_STATE])?;
        let r = self.observe_image_parts();
        self.prefetched.clear();
        r
    }

    fn observe_image_parts(&mut self) -> Result<HostState, TransportError> {
        let mut s = HostState {
            image_profile: self.read(PROFILE_GET)?.and_then(|t| software::profile_get(&t).ok()),
            ..HostState::default()
        };
        s.pending = self.pending()?;
        s.secure_boot = self.read(SECUREBOOT_STATE)?.and_then(|t| hardware::secureboot_state(&t).ok());
        Ok(s)
    }

    fn pending(&mut self) -> Result<Option<PendingImage>, TransportError> {
        Ok(self.read(ALTBOOTBANK)?.and_then(|t| boot::boot_cfg(ALTBOOTBANK, &t).ok()).and_then(|b| {
            (b.bootstate == Some(1))
                .then(|| PendingImage { build: b.build, version: b.version.map(|v| v.to_string()) })
        }))
    }

    /// `(vmid, startOrder)` of the autostart sequence.
    fn autostart(&mut self) -> Result<Vec<(String, u32)>, TransportError> {
        let Some(text) = self.read(AUTOSTART)? else { return Ok(Vec::new()) };
        let Ok(Some(v)) = vmodl::parse(AUTOSTART, &text) else { return Ok(Vec::new()) };
        let items = match &v {
            V::Arr(a) => a.clone(),
            one @ V::Obj(..) => vec![one.clone()],
            _ => Vec::new(),
        };
        Ok(items
            .iter()
            .filter_map(|i| {
                let key = i.text_at("key")?;
                let id = key.rsplit(':').next()?.to_string();
                let order: i64 = i.text_at("startOrder")?.parse().ok()?;
                (order > 0).then_some((id, order as u32))
            })
            .collect())
    }
}

/// Snapshot ids and names from a `vim.vm.SnapshotInfo` dump (none: empty).
fn snapshot_refs(text: Option<&str>) -> Option<Vec<SnapshotRef>> {
    let Some(text) = text else { return Some(Vec::new()) };
    let v = vmodl::parse("get.snapshotinfo", text).ok()?;
    let mut out = Vec::new();
    fn walk(list: &[V], out: &mut Vec<SnapshotRef>, depth: usize) {
        if depth > 256 {
            return;
        }
        for s in list {
            if let (Some(id), Some(name)) = (s.text_at("id"), s.text_at("name")) {
                out.push(SnapshotRef { id: id.to_string(), name: name.to_string() });
            }
            if let Some(V::Arr(c)) = s.get("childSnapshotList") {
                walk(c, out, depth + 1);
            }
        }
    }
    if let Some(V::Arr(roots)) = v.as_ref().and_then(|v| v.get("rootSnapshotList")) {
        walk(roots, &mut out, 0);
    }
    Some(out)
}

/// A command as the journal shows it: the licence command never holds the
/// key (it comes on stdin), so there is nothing to mask but keep one place.
fn redact(cmd: &str) -> String {
    cmd.to_string()
}

/// The path after `/downloads/` in backup_config's answer
/// (`Bundle can be downloaded at : http://*/downloads/<id>/configBundle-x.tgz`).
pub fn bundle_path(answer: &str) -> Option<String> {
    let i = answer.find("/downloads/")?;
    let rest = answer[i + "/downloads/".len()..].split_whitespace().next()?;
    // Only what a real answer holds: a token and a file name.
    let ok = rest.split('/').count() == 2
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !rest.contains("..");
    ok.then(|| rest.to_string())
}

impl Transport for SshTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Ssh
    }

    fn describe(&self, c: &Change<'_>) -> String {
        match c {
            Change::BackupConfig => {
                "vim-cmd hostsvc/firmware/sync_config; vim-cmd hostsvc/firmware/backup_config; \
                 cat /scratch/downloads/<id>/configBundle-<host>.tgz"
                    .into()
            }
            Change::Maintenance(on) => format!("esxcli system maintenanceMode set --enable {on}"),
            Change::ShutdownGuest(vm) => format!("vim-cmd vmsvc/power.shutdown {}", vm.id),
            Change::PowerOff(vm) => format!("vim-cmd vmsvc/power.off {}", vm.id),
            Change::PowerOn(vm) => format!("vim-cmd vmsvc/power.on {}", vm.id),
            Change::StopService(s) => format!("/etc/init.d/{s} stop"),
            Change::ServicePolicy(s, p) => format!("chkconfig {s} {p}"),
            Change::Ruleset(r, on) => {
                format!("esxcli network firewall ruleset set -r {r} -e {}", if *on { 1 } else { 0 })
            }
            Change::Upload { datastore, name, .. } => {
                let path = datastore_path(datastore, name);
                format!("cat > {} (the bundle on standard input)", quote(&path))
            }
            Change::ProfileUpdate { depot, profile, dry_run } => format!(
                "esxcli software profile update -d {} -p {}{}",
                quote(depot),
                quote(profile),
                if *dry_run { " --dry-run" } else { "" }
            ),
            Change::Reboot { reason } => format!("esxcli system shutdown reboot -r {}", quote(reason)),
            Change::SetLicense(k) => {
                format!(
                    "read -r k && vim-cmd vimsvc/license --set \"$k\" (key {} on standard input)",
                    k.masked_key()
                )
            }
            Change::UpgradeTools(vm) => format!("vim-cmd vmsvc/tools.upgrade {}", vm.id),
            Change::UpgradeHardware(vm, v) => format!("vim-cmd vmsvc/upgrade {} vmx-{v}", vm.id),
            Change::CreateSnapshot(vm, name) => format!(
                "vim-cmd vmsvc/snapshot.create {} {} {} 0 0",
                vm.id,
                quote(name),
                quote("esxup: before the hardware upgrade")
            ),
            Change::RemoveSnapshot(vm, id) => format!("vim-cmd vmsvc/snapshot.remove {} {id}", vm.id),
            Change::WriteFile { path, .. } => format!("cat > {} (content on standard input)", quote(path)),
            Change::GhettoVcb { vm_list, conf } => {
                format!("{GHETTOVCB} -f {} -g {}", quote(vm_list), quote(conf))
            }
        }
    }

    fn apply(&mut self, c: &Change<'_>) -> Result<Outcome, TransportError> {
        match c {
            Change::BackupConfig => {
                self.change("vim-cmd hostsvc/firmware/sync_config", None)?;
                let answer = self.change("vim-cmd hostsvc/firmware/backup_config", None)?;
                let rel = bundle_path(&answer).ok_or_else(|| TransportError::Answer {
                    op: "vim-cmd hostsvc/firmware/backup_config".into(),
                    message: format!("no download path in {:?}", answer.trim()),
                })?;
                // The /downloads/ URL serves /scratch/downloads/ of the host.
                let cmd = format!("cat {}", quote(&format!("/scratch/downloads/{rel}")));
                let (status, out, err) = self.exec(&cmd, None)?;
                if status != 0 {
                    return Err(TransportError::Refused {
                        op: format!("`{cmd}`"),
                        message: format!("status {status}: {err}"),
                    });
                }
                Ok(Outcome::Bytes(out))
            }
            Change::Upload { datastore, name, local, size } => {
                let dir = format!("/vmfs/volumes/{datastore}/esxup");
                self.change(&format!("mkdir -p {}", quote(&dir)), None)?;
                let cmd = format!("cat > {}", quote(&datastore_path(datastore, name)));
                let progress = self.progress.clone();
                let src = self.src()?;
                let f = std::fs::File::open(local).map_err(|e| TransportError::Answer {
                    op: format!("read {}", local.display()),
                    message: e.to_string(),
                })?;
                let mut f = esxup_depot::ProgressReader::new(f, progress, name, Some(*size));
                let r = src.run_with_input(&cmd, &mut f);
                let (status, _, err) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        self.src = None;
                        return Err(map_collect(&cmd, e));
                    }
                };
                if status != 0 {
                    return Err(TransportError::Refused {
                        op: format!("`{cmd}`"),
                        message: format!("status {status}: {err}"),
                    });
                }
                Ok(Outcome::None)
            }
            Change::ProfileUpdate { depot, profile, dry_run } => {
                let label = self.describe(c);
                // A Broadcom depot names <token> (esxup_depot::broadcom): the
                // host's esxcli needs the real URL, so the token goes on
                // standard input, never in this command line or the journal.
                let host_depot = esxup_depot::broadcom::split_for_host(depot)
                    .map_err(|e| TransportError::Answer { op: label.clone(), message: e.to_string() })?;
                let (cmd, token) = match host_depot {
                    Some((head, tail, token)) if !format!("{head}{tail}").contains(['"', '$', '`', '\\']) => {
                        (
                            format!(
                                "read -r t && esxcli software profile update -d \"{head}$t/{tail}\" -p {}{}",
                                quote(profile),
                                if *dry_run { " --dry-run" } else { "" }
                            ),
                            Some(token),
                        )
                    }
                    _ => (label.clone(), None),
                };
                let secret = token.as_ref().map(|t| format!("{}\n", t.expose_secret()));
                let (status, out, err) = self.exec_as(&cmd, &label, secret.as_deref().map(str::as_bytes))?;
                // esxcli names the depot URL in its errors: masked again.
                let mask = |s: String| match &token {
                    Some(t) => s.replace(t.expose_secret(), esxup_depot::broadcom::TOKEN_PLACEHOLDER),
                    None => s,
                };
                let (text, err) = (mask(String::from_utf8_lossy(&out).into_owned()), mask(err));
                if status != 0 {
                    let all = if text.trim().is_empty() { err } else { text };
                    return Err(TransportError::Refused {
                        op: format!("`{label}`"),
                        message: all.trim().to_string(),
                    });
                }
                Ok(Outcome::Text(text))
            }
            Change::SetLicense(k) => {
                let line = format!("{}\n", k.expose());
                self.change("read -r k && vim-cmd vimsvc/license --set \"$k\"", Some(line.as_bytes()))?;
                Ok(Outcome::None)
            }
            Change::WriteFile { path, content } => {
                if let Some((dir, _)) = path.rsplit_once('/') {
                    if !dir.is_empty() {
                        self.change(&format!("mkdir -p {}", quote(dir)), None)?;
                    }
                }
                self.change(&format!("cat > {}", quote(path)), Some(content))?;
                Ok(Outcome::None)
            }
            Change::GhettoVcb { .. } => {
                let cmd = self.describe(c);
                let (status, out, err) = self.exec(&cmd, None)?;
                let text = String::from_utf8_lossy(&out).into_owned();
                if status != 0 && text.trim().is_empty() {
                    return Err(TransportError::Refused {
                        op: format!("`{cmd}`"),
                        message: format!("status {status}: {err}"),
                    });
                }
                Ok(Outcome::Text(text))
            }
            Change::CreateSnapshot(..) => {
                let cmd = self.describe(c);
                let out = self.change(&cmd, None)?;
                Ok(Outcome::Text(out))
            }
            _ => {
                let cmd = self.describe(c);
                self.change(&cmd, None)?;
                Ok(Outcome::None)
            }
        }
    }

    fn observe(&mut self) -> Result<HostState, TransportError> {
        let r = self.prefetch(&[
            HOSTSUMMARY,
            PROFILE_GET,
            ALTBOOTBANK,
            SLPD_STATUS,
            SLPD_CHKCONFIG,
            CIMSLP_RULESET,
            LICENSE_SHOW,
            SECUREBOOT_STATE,
            FILESYSTEMS,
            GETALLVMS,
            AUTOSTART,
        ]);
        let r = r.and_then(|()| self.observe_parts());
        self.prefetched.clear();
        r
    }

    fn facts(&mut self) -> Result<HostFacts, TransportError> {
        let src = self.src()?;
        match esxup_collect::collect(src) {
            Ok(mut c) => {
                c.facts.collected_on = Some(esxup_version::Date::today().to_string());
                if c.facts.hostname.is_none() {
                    c.facts.hostname = Some(self.opts.target.host.clone());
                }
                Ok(c.facts)
            }
            Err(e) => {
                self.src = None;
                Err(map_collect("collect facts", e))
            }
        }
    }

    fn installed_vibs(&mut self) -> Result<Vec<InstalledVib>, TransportError> {
        let text = self
            .read(VIB_LIST)?
            .ok_or_else(|| TransportError::Answer { op: VIB_LIST.into(), message: "no output".into() })?;
        software::vib_list(&text)
            .map_err(|e| TransportError::Answer { op: VIB_LIST.into(), message: e.to_string() })
    }

    fn remote_sha256(&mut self, datastore: &str, name: &str) -> Result<Option<String>, TransportError> {
        let cmd = format!("sha256sum {}", quote(&datastore_path(datastore, name)));
        let (status, out, err) = self.exec(&cmd, None)?;
        let text = String::from_utf8_lossy(&out);
        if status != 0 {
            if err.contains("No such file") || text.contains("No such file") {
                return Ok(None);
            }
            return Err(TransportError::Refused {
                op: format!("`{cmd}`"),
                message: format!("status {status}: {err}"),
            });
        }
        let hash = text.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(TransportError::Answer {
                op: format!("`{cmd}`"),
                message: format!("not a sha256: {:?}", text.trim()),
            });
        }
        Ok(Some(hash))
    }

    fn ghettovcb_installed(&mut self) -> Result<bool, TransportError> {
        let (status, _, _) = self.exec(&format!("ls {GHETTOVCB}"), None)?;
        Ok(status == 0)
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.src = None;
        self.src()?;
        Ok(())
    }
}

/// Whether a VM's power state is what `want` says (for waits).
pub fn power_is(vm: Option<&VmState>, want: PowerState) -> bool {
    vm.and_then(|v| v.power) == Some(want)
}

impl SshTransport {
    /// Whether firewall ruleset `name` is enabled (`None`: unreadable).
    pub fn ruleset_enabled(&mut self, name: &str) -> Result<Option<bool>, TransportError> {
        let cmd = format!("esxcli --formatter=xml network firewall ruleset list -r {}", quote(name));
        Ok(self.read(&cmd)?.and_then(|t| network::firewall_ruleset_named(&t, name).ok()))
    }

    fn observe_parts(&mut self) -> Result<HostState, TransportError> {
        let text = self
            .read(HOSTSUMMARY)?
            .ok_or_else(|| TransportError::Answer { op: HOSTSUMMARY.into(), message: "no output".into() })?;
        let v = vmodl::parse(HOSTSUMMARY, &text)
            .map_err(|e| TransportError::Answer { op: HOSTSUMMARY.into(), message: e.to_string() })?
            .ok_or_else(|| TransportError::Answer {
                op: HOSTSUMMARY.into(),
                message: "no vmodl dump".into(),
            })?;
        let mut s = HostState {
            hostname: v.text_at("config.name").map(str::to_string),
            uuid: v.text_at("hardware.uuid").map(str::to_string),
            version: v.text_at("config.product.version").map(str::to_string),
            build: v.text_at("config.product.build").and_then(|b| b.parse().ok()),
            maintenance_mode: v.text_at("runtime.inMaintenanceMode").and_then(esxup_facts::parse::parse_bool),
            boot_time: v.text_at("runtime.bootTime").map(str::to_string),
            ..HostState::default()
        };
        s.image_profile = self.read(PROFILE_GET)?.and_then(|t| software::profile_get(&t).ok());
        s.pending = self.pending()?;
        let running = self.read(SLPD_STATUS)?.and_then(|t| services::slpd_status(&t).ok());
        let policy = self.read(SLPD_CHKCONFIG)?.and_then(|t| services::slpd_chkconfig(&t).ok());
        let firewall = self.read(CIMSLP_RULESET)?.and_then(|t| network::firewall_ruleset(&t).ok());
        if running.is_some() || policy.is_some() || firewall.is_some() {
            s.slp = Some(SlpState { running, policy, firewall_enabled: firewall });
        }
        s.license = self
            .read(LICENSE_SHOW)?
            .and_then(|t| vimcmd::license_show(&t).ok())
            .map(|l| LicenseState { edition: l.edition, key_masked: l.key_masked });
        s.secure_boot = self.read(SECUREBOOT_STATE)?.and_then(|t| hardware::secureboot_state(&t).ok());
        s.datastores = self.read(FILESYSTEMS)?.and_then(|t| storage::filesystem_list(&t).ok()).map(|list| {
            list.into_iter()
                .filter(|d| {
                    d.kind
                        .as_deref()
                        .is_some_and(|k| k.to_ascii_uppercase().starts_with("VMFS") || k.starts_with("NFS"))
                })
                .map(|d| d.name)
                .collect()
        });
        s.vms = self.vms()?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn batch_line_and_its_output() {
        let line = batch_command(&["vim-cmd hostsvc/hostsummary", "cat /altbootbank/boot.cfg"]);
        assert_eq!(
            line,
            "vim-cmd hostsvc/hostsummary; printf '\\n@@ESXUP-BATCH@@ %s\\n' \"$?\"; \
             cat /altbootbank/boot.cfg; printf '\\n@@ESXUP-BATCH@@ %s\\n' \"$?\""
        );
        // An output with and one without a final newline, then a failure.
        let out = "a\nb\n\n@@ESXUP-BATCH@@ 0\nc\n@@ESXUP-BATCH@@ 0\n\n@@ESXUP-BATCH@@ 127\n";
        let parts = split_batch(out, 3).unwrap();
        assert_eq!(parts, vec![(0, "a\nb\n".into()), (0, "c".into()), (127, String::new())]);
        // Cut short (the connection broke): not a partial answer.
        assert!(split_batch("a\n@@ESXUP-BATCH@@ 0\nb", 2).is_none());
        assert!(split_batch("a\n@@ESXUP-BATCH@@ x\n", 1).is_none());
    }

    use super::*;

    #[test]
    fn quotes_for_busybox_sh() {
        assert_eq!(quote("/vmfs/volumes/datastore1/esxup/b.zip"), "/vmfs/volumes/datastore1/esxup/b.zip");
        assert_eq!(quote("My DS"), "'My DS'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("<x>"), "'<x>'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn reads_the_backup_answer() {
        let a = "Bundle can be downloaded at : http://*/downloads/52d0f4b1-1ac0-72e6-c184-3ca636ca9fd2/configBundle-esx03.tgz\n";
        assert_eq!(
            bundle_path(a).as_deref(),
            Some("52d0f4b1-1ac0-72e6-c184-3ca636ca9fd2/configBundle-esx03.tgz")
        );
        assert_eq!(bundle_path("Bundle can be downloaded at : http://*/downloads/../../etc/passwd"), None);
        assert_eq!(bundle_path("no path"), None);
    }

    #[test]
    fn finds_vim_faults_in_outputs() {
        let out = "(vim.fault.ToolsUnavailable) {\n   faultCause = (vmodl.MethodFault) null,\n   msg = \"Cannot complete operation because VMware Tools is not running in this virtual machine.\",\n}\n";
        assert_eq!(
            vim_fault(out).as_deref(),
            Some("ToolsUnavailable: Cannot complete operation because VMware Tools is not running in this virtual machine.")
        );
        assert_eq!(vim_fault("Powering on VM:\n"), None);
    }
}
