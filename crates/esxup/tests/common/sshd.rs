//! A loopback OpenSSH server posing as an ESXi host (testbed/sshd).
//!
//! [`Sshd::start`] / [`Sshd::start_with`] serve the read-only outputs of the
//! composite host-a (crates/esxup-facts/tests/fixtures/host-a.list) through
//! testbed/sshd/fake-esxi.sh, for the collector tests. [`Sshd::start_host`]
//! serves a stateful fake host (testbed/sshd/esxi_host.py) that also answers
//! the write commands of `esxup run` from a JSON state (schema in
//! testbed/sshd/README.md); [`Sshd::host_67`] and [`Sshd::host_70`] build
//! realistic states. The server is `/usr/sbin/sshd` on a free 127.0.0.1
//! port, with keys made by `ssh-keygen` in a temporary folder; it is killed
//! (by its pid) on drop.

use esxup_collect::commands::{COMMANDS, PER_VM};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const SSHD: &str = "/usr/sbin/sshd";

/// The server; its folder holds the keys, `sshd.log`, and `out/` (the
/// fake host's folder: saved outputs, `host-state.json`, `commands.log`,
/// `calls.json`, `fs/`).
pub struct Sshd {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    /// Serialises starting the connection [`Sshd::ssh`] multiplexes over.
    master: std::sync::Mutex<()>,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if Path::new(&self.path("cm")).exists() {
            let _ = self.ssh_base().args(["-O", "exit", &format!("{}@127.0.0.1", user())]).output();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes the outputs of host-a (source lines stripped) into `dir`; returns
/// the saved file names.
pub fn write_host_a(dir: &Path) -> Vec<String> {
    let fx = root().join("crates/esxup-facts/tests/fixtures");
    let list = std::fs::read_to_string(fx.join("host-a.list")).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let mut names = Vec::new();
    for l in list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (name, f) = l.split_once(' ').unwrap();
        let text = std::fs::read_to_string(fx.join(f.trim())).unwrap();
        std::fs::write(dir.join(name), text.split_once('\n').map(|x| x.1).unwrap_or("")).unwrap();
        names.push(name.to_string());
    }
    names
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", "", "-f", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen not found: run scripts/test.sh");
    assert!(st.success());
}

/// The user the tests run as (the SSH login).
pub fn user() -> String {
    let o = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

impl Sshd {
    /// Serves host-a; `sleep_on` names a command that hangs.
    pub fn start(permit_root: &str, sleep_on: Option<&str>) -> Sshd {
        Sshd::start_with(permit_root, sleep_on, None)
    }

    /// As [`Sshd::start`]; `drop_on` names a command at which the connection dies.
    pub fn start_with(permit_root: &str, sleep_on: Option<&str>, drop_on: Option<&str>) -> Sshd {
        Sshd::launch(permit_root, sleep_on, drop_on, None)
    }

    /// Serves the stateful fake host, starting from `state`
    /// (testbed/sshd/README.md); host-a's outputs answer the read-only
    /// commands the state does not decide (hardware, network, storage).
    pub fn start_host(state: &Value) -> Sshd {
        Sshd::launch("prohibit-password", None, None, Some(state))
    }

    fn launch(
        permit_root: &str,
        sleep_on: Option<&str>,
        drop_on: Option<&str>,
        state: Option<&Value>,
    ) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} not found: run scripts/test.sh (it installs openssh-server)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        keygen(&d.join("wrong_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let out = d.join("out");
        let names = write_host_a(&out);
        let mut map = String::new();
        for c in COMMANDS {
            map.push_str(&format!("{}\t{}\n", c.file_name(), c.command));
        }
        for n in &names {
            for (prefix, sub) in PER_VM {
                if let Some(id) = n.strip_prefix(&format!("{prefix}-")).and_then(|r| r.strip_suffix(".txt")) {
                    map.push_str(&format!("{n}\tvim-cmd vmsvc/{sub} {id}\n"));
                }
            }
        }
        std::fs::write(out.join("commands.map"), map).unwrap();
        if let Some(cmd) = sleep_on {
            std::fs::write(out.join("SLEEP"), cmd).unwrap();
        }
        if let Some(cmd) = drop_on {
            std::fs::write(out.join("DROP"), cmd).unwrap();
        }
        if let Some(state) = state {
            std::fs::create_dir_all(out.join("fs")).unwrap();
            std::fs::write(out.join("host-state.json"), serde_json::to_string_pretty(state).unwrap())
                .unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let template = std::fs::read_to_string(root().join("testbed/sshd/sshd_config.template")).unwrap();
        let fake = root().join("testbed/sshd/fake-esxi.sh").canonicalize().unwrap();
        let cfg = template
            .replace("@DIR@", d.to_str().unwrap())
            .replace("@PORT@", &port.to_string())
            .replace("@FAKE@", fake.to_str().unwrap())
            .replace("@PERMIT@", permit_root);
        std::fs::write(d.join("sshd_config"), cfg).unwrap();
        if user() == "root" {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f", d.join("sshd_config").to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        // Wait until it listens (or died: then show its log).
        for _ in 0..600 {
            if let Some(st) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default();
                panic!("sshd exited ({st}) before listening:\n{log}");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Sshd { child, port, dir, master: std::sync::Mutex::new(()) };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("sshd did not listen on 127.0.0.1:{port}");
    }

    /// A file of the server's folder.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// `USER@127.0.0.1:PORT`, as `esxup --ssh` takes it.
    pub fn target(&self) -> String {
        format!("{}@127.0.0.1:{}", user(), self.port)
    }

    /// `SHA256:...` of the host key, as ssh-keygen prints it.
    pub fn fingerprint(&self) -> String {
        let o = Command::new("ssh-keygen").args(["-lf", &self.path("host_key.pub")]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).split_whitespace().nth(1).unwrap().to_string()
    }

    /// A known_hosts file holding this server's key.
    pub fn known_hosts(&self) -> String {
        let key = std::fs::read_to_string(self.path("host_key.pub")).unwrap();
        let mut parts = key.split_whitespace();
        let line = format!("[127.0.0.1]:{} {} {}\n", self.port, parts.next().unwrap(), parts.next().unwrap());
        let p = self.path("known_hosts");
        std::fs::write(&p, line).unwrap();
        p
    }

    /// Runs `esxup collect --ssh` against this server with the client key,
    /// trusting its host key by `trust` (`["--known-hosts", FILE]` or
    /// `["--ssh-fingerprint", FP]`), then the `extra` options.
    pub fn collect(&self, trust: [&str; 2], extra: &[&str]) -> Output {
        let (target, key) = (self.target(), self.path("client_key"));
        let mut args = vec!["collect", "--ssh", &target, trust[0], trust[1], "--identity", &key];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_esxup"))
            .args(&args)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("ESXUP_SSH_PASSWORD")
            .env_remove("GOVC_URL")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// The server's log (`sshd -e`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    // ------------------------------------------------------------ the stateful host

    /// The fake host's folder (OUTPUTS_DIR of fake-esxi.sh).
    pub fn host_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Where a host path (`/vmfs/volumes/datastore1/x`, `/tmp/y`) lives here.
    pub fn host_file(&self, host_path: &str) -> PathBuf {
        self.host_dir().join("fs").join(host_path.trim_start_matches('/'))
    }

    /// Gives host-a's two PCI devices (BCM5720 NIC on ntg3, MegaRAID on
    /// lsi_mr3) the device ids the synthetic depot's ntg3 and lsi-mr3 VIBs
    /// claim (`PCIID fffe` + the first 4 hex digits of sha256("dev:<name>"),
    /// scripts/gen-synthetic-depot.py `pci_tags`), so the check of the
    /// synthetic 7.0 U3g image finds their drivers. Without it the check rightly
    /// blocks the target (`blocked_target_is_refused_before_any_change`).
    pub fn claim_synthetic_devices(&self) {
        let file = self.host_dir().join("esxcli-hardware-pci-list.txt");
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text
            .replace("Vendor ID: 0x14e4", "Vendor ID: 0xfffe")
            .replace("Device ID: 0x165f", "Device ID: 0x88d2")
            .replace("Vendor ID: 0x1000", "Vendor ID: 0xfffe")
            .replace("Device ID: 0x005b", "Device ID: 0xb13a");
        std::fs::write(&file, text).unwrap();
    }

    /// The host's state as the fake left it.
    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.host_dir().join("host-state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Replaces the host's state (tmp + rename; call it between commands).
    pub fn set_state(&self, state: &Value) {
        let tmp = self.host_dir().join("host-state.json.test");
        std::fs::write(&tmp, serde_json::to_string_pretty(state).unwrap()).unwrap();
        std::fs::rename(tmp, self.host_dir().join("host-state.json")).unwrap();
    }

    /// Sets `faults.<name>` (`dryrun_differs`, `backup_corrupt`, `hang`, ...).
    pub fn set_fault(&self, name: &str, value: Value) {
        let mut s = self.state();
        if !s["faults"].is_object() {
            s["faults"] = json!({});
        }
        s["faults"][name] = value;
        self.set_state(&s);
    }

    /// How often each state-changing command line was received (attempts).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        match std::fs::read_to_string(self.host_dir().join("calls.json")) {
            Ok(t) => serde_json::from_str(&t).unwrap(),
            Err(_) => BTreeMap::new(),
        }
    }

    /// Every command line the host received, in order.
    pub fn commands_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.host_dir().join("commands.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `ssh` with this server's key, known_hosts and control socket.
    fn ssh_base(&self) -> Command {
        let kh = self.known_hosts();
        let mut c = Command::new("ssh");
        c.args(["-F", "/dev/null", "-i", &self.path("client_key")])
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .args([
                "-o",
                &format!("UserKnownHostsFile={kh}"),
                "-o",
                "ConnectTimeout=10",
                "-o",
                "LogLevel=ERROR",
            ])
            .args(["-o", &format!("ControlPath={}", self.path("cm")), "-p", &self.port.to_string()])
            .env_remove("SSH_AUTH_SOCK");
        c
    }

    /// Commands share one connection (OpenSSH multiplexing: a master started
    /// here, ended on drop), as a client that keeps its session does; it is
    /// started again after the host cut it (a reboot). A command the host
    /// answers still runs in a session of its own on the host.
    fn ssh_command(&self, cmd: &str) -> Command {
        {
            let _g = self.master.lock().unwrap_or_else(|e| e.into_inner());
            if !Path::new(&self.path("cm")).exists() {
                let _ = self
                    .ssh_base()
                    .args(["-M", "-N", "-f", "-o", "ControlPersist=no", &format!("{}@127.0.0.1", user())])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let mut c = self.ssh_base();
        c.args(["-o", "ControlMaster=no", &format!("{}@127.0.0.1", user()), cmd]);
        c
    }

    /// Runs `cmd` on the host with the real OpenSSH client (stdin empty).
    pub fn ssh(&self, cmd: &str) -> Output {
        self.ssh_command(cmd).stdin(Stdio::null()).output().expect("ssh not found: run scripts/test.sh")
    }

    /// Runs `cmd` on the host with `input` on its stdin.
    pub fn ssh_stdin(&self, cmd: &str, input: &[u8]) -> Output {
        let mut child = self
            .ssh_command(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ssh not found: run scripts/test.sh");
        let mut stdin = child.stdin.take().unwrap();
        let data = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    // ------------------------------------------------------------ host states

    /// A 6.7 P01 host (build 15160138): the real VIB inventory of
    /// crates/esxup-depot/tests/fixtures/vibsets/6.7P01-15160138-host__fileid31334863764-removed.txt
    /// (the synthetic depot's `hosts/6.7-P01.viblist`; install dates
    /// constructed), three VMs, slpd running, a vSphere 6 licence, in
    /// normal mode. `profile update` to ESXi-7.0U3g-20328353-standard of the
    /// synthetic depot (`--small`) installs 79 VIBs and removes all 143.
    pub fn host_67() -> Value {
        let file = root().join(
            "crates/esxup-depot/tests/fixtures/vibsets/6.7P01-15160138-host__fileid31334863764-removed.txt",
        );
        let vibs: Vec<Value> = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|id| {
                let mut p = id.splitn(3, '_');
                let (vendor, kind, rest) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
                let (name, version) = rest.rsplit_once('_').unwrap();
                json!({"name": name, "version": version, "vendor": vendor, "acceptance": "VMwareCertified",
                       "install_date": "2020-01-15", "type": kind})
            })
            .collect();
        json!({
            "hostname": "esx01.lab.local",
            "uuid": "4c4c4544-0042-3610-8052-b4c04f4d4e32",
            "version": "6.7.0", "build": 15160138, "update": "3", "patch": "89",
            "profile": "ESXi-6.7.0-20191204001-standard",
            "profile_created": "2019-12-04T00:00:00", "profile_modified": "2020-01-15T10:12:00",
            "vibs": vibs,
            "acceptance": "PartnerSupported",
            "maintenance": false,
            "boot_time": "2026-11-30T08:00:00Z",
            "secure_boot": false, "firmware": "uefi",
            "slpd": {"running": true, "policy": "on"}, "cimslp": true,
            "license": {"key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "edition": "vSphere 6 Enterprise Plus", "version": "6"},
            "vms": [
                {"id": "1", "name": "web01", "power": "poweredOn", "hw": 14, "guest": "ubuntu64Guest",
                 "guest_full_name": "Ubuntu Linux (64-bit)", "tools": "guestToolsSupportedOld",
                 "tools_version": "10346", "datastore": "datastore1", "snapshots": [], "autostart": 1},
                {"id": "2", "name": "db01", "power": "poweredOn", "hw": 13, "guest": "windows9Server64Guest",
                 "guest_full_name": "Microsoft Windows Server 2016 (64-bit)", "tools": "guestToolsCurrent",
                 "tools_version": "10346", "tools_install_type": "guestToolsTypeMSI", "datastore": "datastore1",
                 "snapshots": [], "autostart": 2},
                {"id": "3", "name": "appliance", "power": "poweredOff", "hw": 11, "guest": "otherLinux64Guest",
                 "guest_full_name": "Other Linux (64-bit)", "tools": "guestToolsNotInstalled",
                 "tools_version": "0", "datastore": "datastore1", "snapshots": []}
            ],
            "datastores": [{"name": "datastore1", "capacity": 500107862016_u64, "free": 300000000000_u64}],
            "altbootbank": {"build": "6.7.0-3.73.14320388", "bootstate": 0},
            "pending": null,
            "down_until": null, "never_back": false,
            "reboot_down_seconds": 2,
            "shutdown_seconds": 0,
            "ghettovcb": false,
            "faults": {}
        })
    }

    /// A Dell 7.0 U2a host (build 17867351, image DEL-ESXi-702_17867351-A03):
    /// the real `esxcli software vib list` of
    /// testbed/sshd/vibsets/7.0U2a-17867351-Dell-DEL-ESXi-702_17867351-A03__fileid43633994268-viblist.txt
    /// (copied from the research vibsets: 83 VIBs, OEM drivers), two VMs.
    /// `profile update` to ESXi-7.0U3g-20328353-standard installs 64,
    /// removes 59 and skips 15 (the OEM drivers newer than the profile's).
    pub fn host_70() -> Value {
        let file =
            root().join("testbed/sshd/vibsets/7.0U2a-17867351-Dell-DEL-ESXi-702_17867351-A03__fileid43633994268-viblist.txt");
        let vibs: Vec<Value> = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                json!({"name": f[0], "version": f[1], "vendor": f[2], "acceptance": f[3], "install_date": f[4],
                       "type": if f[0] == "tools-light" { "locker" } else { "bootbank" }})
            })
            .collect();
        json!({
            "hostname": "esx02.lab.local",
            "uuid": "4c4c4544-0052-3410-8031-c4c04f4d4e32",
            "version": "7.0.2", "build": 17867351, "update": "2", "patch": "0",
            "profile": "DEL-ESXi-702_17867351-A03",
            "profile_created": "2021-05-10T00:00:00", "profile_modified": "2022-09-02T09:30:00",
            "vibs": vibs,
            "acceptance": "PartnerSupported",
            "maintenance": false,
            "boot_time": "2026-11-30T08:00:00Z",
            "secure_boot": true, "firmware": "uefi",
            "slpd": {"running": false, "policy": "off"}, "cimslp": false,
            "license": {"key": "FFFFF-GGGGG-HHHHH-JJJJJ-KKKKK", "edition": "vSphere 7 Enterprise Plus", "version": "7"},
            "vms": [
                {"id": "4", "name": "dc01", "power": "poweredOn", "hw": 17, "guest": "windows2019srv_64Guest",
                 "guest_full_name": "Microsoft Windows Server 2019 (64-bit)", "tools": "guestToolsCurrent",
                 "tools_version": "11333", "tools_install_type": "guestToolsTypeMSI", "datastore": "datastore1",
                 "snapshots": [], "autostart": 1},
                {"id": "7", "name": "backup-proxy", "power": "poweredOff", "hw": 14, "guest": "centos7_64Guest",
                 "guest_full_name": "CentOS 7 (64-bit)", "tools": "guestToolsSupportedOld",
                 "tools_version": "10346", "datastore": "datastore2", "snapshots": []}
            ],
            "datastores": [
                {"name": "datastore1", "capacity": 1861599887360_u64, "free": 362729701376_u64},
                {"name": "datastore2", "capacity": 2399007670272_u64, "free": 696270192640_u64}
            ],
            "altbootbank": {"build": "7.0.1-0.25.17325551", "bootstate": 0},
            "pending": null,
            "down_until": null, "never_back": false,
            "reboot_down_seconds": 2,
            "shutdown_seconds": 0,
            "ghettovcb": true,
            "faults": {}
        })
    }
}
