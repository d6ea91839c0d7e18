//! `esxup run`, `esxup journal` and `esxup verify` over SSH against the
//! stateful fake ESXi host (testbed/sshd/esxi_host.py behind a real OpenSSH
//! server on loopback): the preview changes nothing, a whole esxcli upgrade
//! from 6.7 to 7.0 U3g with the synthetic offline bundle, the state the host
//! ends in, every change made exactly once, and the faults a real host can
//! produce (wrong key, dead host, a host that does not come back, a failing
//! backup, a dry run that differs, a second run at the same time).

mod common;

use common::sshd::Sshd;
use common::write_synthetic_bundle;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

const U3G: &str = "7.0U3g";
const LICENSE_7: &str = "MMMMM-NNNNN-PPPPP-QQQQQ-RRRRR";

struct Run<'a> {
    s: &'a Sshd,
    journal: PathBuf,
    bundle: PathBuf,
}

impl<'a> Run<'a> {
    fn new(s: &'a Sshd, dir: &Path) -> Run<'a> {
        Run { s, journal: dir.join("journal"), bundle: write_synthetic_bundle(dir) }
    }

    /// `esxup CMD` against the fake host, with the client key and its
    /// pinned host key, a fast poll, the licence key in the environment.
    fn esxup(&self, cmd: &str, extra: &[&str]) -> Output {
        self.esxup_env(cmd, extra, &[])
    }

    /// [`Run::esxup`] with more environment variables.
    fn esxup_env(&self, cmd: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let target = self.s.target();
        let fp = self.s.fingerprint();
        let key = self.s.path("client_key");
        let mut args: Vec<&str> = vec![cmd, "--ssh", &target, "--ssh-fingerprint", &fp, "--identity", &key];
        let journal = self.journal.to_str().unwrap().to_string();
        args.extend(["--journal", &journal]);
        args.extend_from_slice(extra);
        let mut child = common::esxup_on("2026-11-26")
            .args(&args)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("ESXUP_SSH_PASSWORD")
            .env_remove("GOVC_URL")
            .env("ESXUP_LICENSE_KEY", LICENSE_7)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        common::collect_timed(&mut child)
    }

    /// `esxup run` to 7.0 U3g with the bundle.
    fn run(&self, extra: &[&str]) -> Output {
        self.run_env(extra, &[])
    }

    fn run_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let bundle = self.bundle.to_str().unwrap().to_string();
        let mut args = vec!["--target", U3G, "--depot", &bundle, "--poll-ms", "50"];
        if !extra.contains(&"--reboot-timeout") {
            args.extend(["--reboot-timeout", "60"]);
        }
        args.extend_from_slice(extra);
        self.esxup_env("run", &args, env)
    }

    fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.journal.join("journal.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        common::stdout(o),
        common::stderr(o)
    )
}

/// The state-changing commands the host received, without the counter.
fn changes(s: &Sshd) -> BTreeMap<String, u64> {
    s.calls()
}

#[test]
fn preview_changes_nothing_and_lists_every_step() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    let before = s.state();
    let o = r.run(&[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let text = common::stdout(&o);
    for step in [
        "config-backup",
        "vm-backup",
        "workarounds",
        "vm-shutdown",
        "maintenance-on",
        "bundle-upload",
        "image-update",
        "reboot",
        "verify",
        "license",
        "maintenance-off",
        "vm-start",
        "tools-upgrade",
        "vm-hardware-upgrade",
    ] {
        assert!(text.contains(step), "the preview lacks {step}:\n{text}");
    }
    assert!(!r.journal.exists(), "a preview writes no journal");
    assert!(changes(&s).is_empty(), "a preview changes nothing: {:?}", changes(&s));
    assert_eq!(s.state(), before);

    // The same preview as JSON, for scripts.
    let o = r.run(&["--format", "json"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let v: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert!(v.to_string().contains("image-update"), "{v}");
    common::assert_valid("run-preview.schema.json", &v);
    assert!(changes(&s).is_empty());
}

#[test]
fn whole_esxcli_upgrade_from_67_to_70u3g_then_verify() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));

    let st = s.state();
    assert_eq!(st["build"], json!(20328353), "{st}");
    assert_eq!(st["maintenance"], json!(false));
    assert_eq!(st["license"]["key"], json!(LICENSE_7));
    let power: BTreeMap<String, String> = st["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["power"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(power["web01"], "poweredOn", "{power:?}");
    assert_eq!(power["db01"], "poweredOn");
    assert_eq!(power["appliance"], "poweredOff", "a VM that was off stays off");

    // Every change exactly once.
    // Every change exactly once; the configuration backup twice: before
    // the upgrade and, inside `verify`, of the upgraded host.
    let calls = changes(&s);
    for (cmd, n) in &calls {
        let want = if cmd.contains("hostsvc/firmware/") { 2 } else { 1 };
        assert_eq!(*n, want, "{cmd} ran {n} times: {calls:?}");
    }
    let has = |needle: &str| calls.keys().any(|k| k.contains(needle));
    assert!(has("backup_config"), "{calls:?}");
    assert!(has("maintenanceMode set --enable true"), "{calls:?}");
    assert!(has("software profile update"), "{calls:?}");
    assert!(has("shutdown reboot"), "{calls:?}");
    assert!(has("maintenanceMode set --enable false"), "{calls:?}");

    // The journal: an intent before each change, then its outcome.
    let recs = r.records();
    assert!(!recs.is_empty());
    // One item may take several changes (slpd: stop, policy, firewall),
    // each announced; the item's outcome closes them before the next item.
    let mut open: Option<(String, Option<String>)> = None;
    for rec in &recs {
        let key = (rec["step"].as_str().unwrap().to_string(), rec["item"].as_str().map(str::to_string));
        match rec["phase"].as_str().unwrap() {
            "intent" => {
                assert!(open.is_none() || open == Some(key.clone()), "{open:?} has no outcome before {rec}");
                open = Some(key);
            }
            _ => {
                if let Some(o) = open.take() {
                    assert_eq!(o, key, "an outcome of another item than the intent's: {rec}");
                }
            }
        }
    }
    assert!(open.is_none(), "the last intent has no outcome: {open:?}");
    let o = r.esxup("verify", &[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let o = common::esxup_on("2026-11-26")
        .args(["journal", "show", r.journal.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let v: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["schema_version"], json!(1));
    common::assert_valid("journal.schema.json", &v);
    let o = r.esxup("verify", &["--format", "json"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    common::assert_valid("verify.schema.json", &serde_json::from_str(&common::stdout(&o)).unwrap());

    // Running it again finds everything done: no change at all.
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    assert_eq!(changes(&s), calls, "a finished run changes nothing when run again");

    // The licence key is a secret: not in the journal, outputs, or logs.
    let journal: String = ["run.json", "journal.jsonl"]
        .iter()
        .map(|f| std::fs::read_to_string(r.journal.join(f)).unwrap())
        .collect();
    assert!(!journal.contains(LICENSE_7), "the journal holds the licence key");
    assert!(!out(&o).contains(LICENSE_7));
    assert!(!s.log().contains(LICENSE_7), "the key is on a command line");
    assert!(!s.commands_log().iter().any(|l| l.contains(LICENSE_7)), "the key is on a command line");
}

#[test]
fn blocked_target_is_refused_before_any_change() {
    // host-a's real device ids: the synthetic image claims neither.
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("NATIVE_BOOT_NIC") && err.contains("hint:"), "{err}");
    assert!(!r.journal.exists());
    assert!(changes(&s).is_empty(), "{:?}", changes(&s));
}

/// The points of the kill chain, in run order: each run of the chain is
/// killed (SIGKILL, as kill -9 or a power cut on the admin's machine) at
/// one, then `--resume` goes on to the next. `after-intent`: the journal
/// announces a change that was not made; `after-change`: the change was
/// made and not recorded; `after-item`: between the items of a step
/// (image-update's dry run is a read: its one change is the update).
const KILL_CHAIN: &[&str] = &[
    "config-backup:before",
    "config-backup:after-intent",
    "config-backup:after-change",
    "workarounds:after-intent",
    "workarounds:after-change",
    "workarounds:after-item",
    "vm-shutdown:after-intent",
    "vm-shutdown:after-change",
    "vm-shutdown:after-item",
    "maintenance-on:after-intent",
    "maintenance-on:after-change",
    "bundle-upload:after-intent",
    "bundle-upload:after-change",
    "image-update:after-intent",
    "image-update:after-change",
    "reboot:after-intent",
    "reboot:after-change",
    "verify:after-intent",
    "verify:after-change",
    "license:after-intent",
    "license:after-change",
    "maintenance-off:after-intent",
    "maintenance-off:after-change",
    "vm-start:after-intent",
    "vm-start:after-change",
    "vm-start:after-item",
    "tools-upgrade:after-intent",
    "tools-upgrade:after-change",
];

#[test]
fn killed_at_every_point_and_resumed_ends_as_an_uninterrupted_run() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    for (i, at) in KILL_CHAIN.iter().enumerate() {
        let mut args = vec!["--yes", "--reboot-grace", "3"];
        if i > 0 {
            args.push("--resume");
        }
        let o = r.run_env(&args, &[("ESXUP_TEST_KILL_AT", at)]);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(o.status.signal(), Some(9), "not killed at {at}:\n{}", out(&o));
        // The journal stays readable after every kill.
        let show = common::esxup_on("2026-11-26")
            .args(["journal", "show", r.journal.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(common::code(&show), 0, "after the kill at {at}: {}", out(&show));
    }
    let o = r.run(&["--yes", "--resume", "--reboot-grace", "3"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));

    // The host ends as after an uninterrupted run.
    let st = s.state();
    assert_eq!(st["build"], json!(20328353), "{st}");
    assert_eq!(st["maintenance"], json!(false));
    assert_eq!(st["license"]["key"], json!(LICENSE_7));
    assert_eq!(st["slpd"], json!({"running": false, "policy": "off"}));
    assert_eq!(st["cimslp"], json!(false));
    let power: Vec<(String, String)> = st["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["power"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        power,
        [("web01", "poweredOn"), ("db01", "poweredOn"), ("appliance", "poweredOff")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(st["reboots"].as_u64().or(Some(1)), Some(1), "{st}");

    // Every change of the host once, killed or not: a change announced
    // and not made is made on resume, one made and not recorded is seen
    // on the host and not made again. Only the configuration backup, a
    // read of the host, is taken again when its run died.
    let calls = changes(&s);
    for (cmd, n) in &calls {
        if cmd.contains("hostsvc/firmware/") {
            assert!(*n >= 2, "{cmd}: {n}");
        } else {
            assert_eq!(*n, 1, "{cmd} ran {n} times: {calls:?}");
        }
    }
    assert!(calls.keys().any(|k| k.contains("shutdown reboot")), "{calls:?}");
    let o = r.esxup("verify", &[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
}

/// The `esxup run` arguments to 7.0 U3g for a host reached at `ssh` with `key`.
fn run_with(r: &Run, ssh: &str, key: &str) -> Output {
    let bundle = r.bundle.to_str().unwrap().to_string();
    let journal = r.journal.to_str().unwrap().to_string();
    common::esxup_on("2026-11-26")
        .args(["run", "--ssh", ssh, "--ssh-fingerprint", &r.s.fingerprint(), "--identity", key])
        .args(["--journal", &journal, "--target", U3G, "--depot", &bundle, "--yes", "--timeout", "5"])
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ESXUP_SSH_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn refused_key_and_dead_host_are_errors_before_anything_starts() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    let o = run_with(&r, &s.target(), &s.path("wrong_key"));
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("error:") && err.contains("hint:"), "{err}");
    assert!(!r.journal.exists());

    // Nothing listens on the port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = run_with(&r, &format!("root@127.0.0.1:{port}"), &s.path("client_key"));
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("hint:"), "{}", out(&o));
    assert!(!r.journal.exists());
    assert!(changes(&s).is_empty());
}

#[test]
fn an_unusable_backup_stops_the_run_before_any_change() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    s.set_fault("backup_corrupt", json!(true));
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("configuration backup is not usable"), "{}", out(&o));
    let calls = changes(&s);
    assert!(calls.keys().all(|k| k.contains("hostsvc/firmware/")), "only the backup ran: {calls:?}");
    let recs = r.records();
    assert_eq!(recs.last().unwrap()["phase"], json!("failed"), "{recs:?}");

    // Without a verified backup no other step runs, even when asked for.
    let o = r.run(&["--yes", "--resume", "--only", "maintenance-on"]);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    assert!(common::stderr(&o).contains("no verified configuration backup"), "{}", out(&o));
    assert_eq!(s.state()["maintenance"], json!(false));
}

#[test]
fn a_dry_run_that_differs_from_the_simulation_installs_nothing() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    s.set_fault("dryrun_differs", json!(true));
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    assert!(common::stderr(&o).contains("dry run does not match"), "{}", out(&o));
    let calls = changes(&s);
    assert!(!calls.keys().any(|k| k.contains("profile update") && !k.contains("--dry-run")), "{calls:?}");
    assert_eq!(s.state()["build"], json!(15160138));
    assert!(
        r.journal.join("image-update").exists() || r.records().iter().any(|x| x["phase"] == json!("failed"))
    );
}

#[test]
fn a_host_that_never_comes_back_ends_the_run_with_a_hint() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    let mut st = s.state();
    st["never_back"] = json!(true);
    s.set_state(&st);
    let o = r.run(&["--yes", "--reboot-timeout", "4"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("reboot") && err.contains("hint:") && err.contains("--resume"), "{err}");
    let last = r.records().last().cloned().unwrap();
    assert_eq!((last["step"].clone(), last["phase"].clone()), (json!("reboot"), json!("intent")), "{last}");
}

#[test]
fn running_vms_without_tools_stop_the_shutdown_step_by_name() {
    let mut host = Sshd::host_67();
    host["vms"][2]["power"] = json!("poweredOn");
    host["vms"][2]["tools_running"] = json!(false);
    let s = Sshd::start_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    let o = r.run(&["--yes", "--only", "config-backup,vm-shutdown"]);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("appliance") && err.contains("--power-off-without-tools"), "{err}");
    assert_eq!(s.state()["vms"][2]["power"], json!("poweredOn"));
    let o = r.run(&["--yes", "--resume", "--only", "vm-shutdown", "--power-off-without-tools"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let st = s.state();
    for v in st["vms"].as_array().unwrap() {
        assert_eq!(v["power"], json!("poweredOff"), "{v}");
    }
    assert!(changes(&s).keys().any(|k| k == "vim-cmd vmsvc/power.off 3"), "{:?}", changes(&s));
}

#[test]
fn a_second_run_on_the_same_journal_is_refused_and_a_corrupt_journal_kept() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    // The first run hangs in its first change while holding the journal.
    s.set_fault("hang", json!("vim-cmd hostsvc/firmware/sync_config"));
    s.set_fault("hang_seconds", json!(60));
    let bundle = r.bundle.to_str().unwrap().to_string();
    let journal = r.journal.to_str().unwrap().to_string();
    let mut first = common::esxup_on("2026-11-26")
        .args(["run", "--ssh", &s.target(), "--ssh-fingerprint", &s.fingerprint()])
        .args(["--identity", &s.path("client_key"), "--journal", &journal, "--target", U3G])
        .args(["--depot", &bundle, "--yes", "--timeout", "120"])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !s.commands_log().iter().any(|l| l == "vim-cmd hostsvc/firmware/sync_config") {
        assert!(t0.elapsed().as_secs() < 120, "the first run never got to the backup");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let o = r.run(&["--yes", "--resume"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("wait for the other run"), "{}", out(&o));

    // A journal line cut in the middle: named, and the journal left alone.
    let path = r.journal.join("journal.jsonl");
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(b"{\"seq\": 99, \"step\": \"reb");
    std::fs::write(&path, &text).unwrap();
    let o = r.run(&["--yes", "--resume"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(
        common::stderr(&o).contains("journal.jsonl") && common::stderr(&o).contains("line"),
        "{}",
        out(&o)
    );
    assert_eq!(std::fs::read(&path).unwrap(), text, "the corrupt journal is kept as it was");
}

#[test]
fn a_depot_path_on_the_host_is_refused_with_a_hint() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    let o = r.esxup("run", &["--target", U3G, "--depot", "/vmfs/volumes/datastore1/depot.zip", "--yes"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(
        common::stderr(&o).contains("on this computer") && common::stderr(&o).contains("hint:"),
        "{}",
        out(&o)
    );
    assert!(!r.journal.exists());
    assert!(changes(&s).is_empty());
}

#[test]
fn a_bundle_damaged_on_upload_is_never_installed() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    s.set_fault("upload_corrupt", json!(true));
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("sha256") || common::stderr(&o).contains("checksum"), "{}", out(&o));
    let calls = changes(&s);
    assert!(!calls.keys().any(|k| k.contains("software profile update")), "{calls:?}");
    assert_eq!(s.state()["build"], json!(15160138));
    let last = r.records().last().cloned().unwrap();
    assert_eq!(
        (last["step"].clone(), last["phase"].clone()),
        (json!("bundle-upload"), json!("failed")),
        "{last}"
    );
}

/// An online depot: esxcli downloads through the outgoing httpClient
/// ruleset, which the run opens only for the update and closes again,
/// also when the update stops (here: the dry run differs).
#[test]
fn an_online_depot_opens_http_client_only_for_the_update() {
    let s = Sshd::start_host(&Sshd::host_67());
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&s, dir.path());
    s.claim_synthetic_devices();
    let root = dir.path().join("online");
    common::write_synthetic_depot(&root);
    let (_server, port) = common::serve(&root);
    let url = format!("http://127.0.0.1:{port}/index.xml");
    let args = ["--target", U3G, "--depot", &url, "--poll-ms", "50", "--reboot-timeout", "60", "--yes"];
    s.set_fault("dryrun_differs", json!(true));
    let o = r.esxup("run", &args);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    assert_eq!(s.state()["rulesets"]["httpClient"], json!(false), "closed after the stop: {}", s.state());

    let mut st = s.state();
    st["faults"] = json!({});
    s.set_state(&st);
    let mut resume = args.to_vec();
    resume.push("--resume");
    let o = r.esxup("run", &resume);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let st = s.state();
    assert_eq!(st["build"], json!(20328353));
    assert_eq!(st["rulesets"]["httpClient"], json!(false), "{st}");
    let calls = changes(&s);
    assert_eq!(calls.get("esxcli network firewall ruleset set -r httpClient -e 1"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("esxcli network firewall ruleset set -r httpClient -e 0"), Some(&2), "{calls:?}");
    assert!(!calls.keys().any(|k| k.starts_with("cat >")), "nothing uploaded for an online depot: {calls:?}");
}
