//! `esxup run` and `esxup verify` over the vSphere API only, against the
//! govmomi simulator harness (testbed/vcsim, "Runner support"): the preview
//! changes nothing, the ISO route from 6.7 to 7.0 U3g (the run stops for the
//! installer, the admin installs, `--resume` finishes), the state the host
//! ends in, every change made exactly once, the licence key kept secret, a
//! free-licence host refused with a hint naming --ssh, and the faults a real
//! host can produce (wrong password, dead host, a failing backup download, a
//! host that does not come back from the installer, a second run at the same
//! time).

mod common;
#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use serde_json::{json, Value};
use sim::Sim;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const U3G: &str = "7.0U3g";
const U3G_VERSION: &str = "7.0.3";
const U3G_BUILD: &str = "20328353";
/// Well formed (5 groups of 5 [0-9A-Z], not the evaluation key): the harness
/// installs it as an Enterprise Plus licence.
const LICENSE_7: &str = "4A0K2-J8L1P-H9Q3M-XC7R5-2T6VN";

/// The SOAP methods and HTTP requests that only read (the harness's
/// free-licence read whitelist, plus Logout and reading a datastore file).
const READS: &[&str] = &[
    "RetrieveServiceContent",
    "Login",
    "Logout",
    "RetrieveProperties",
    "RetrievePropertiesEx",
    "ContinueRetrievePropertiesEx",
    "CancelRetrievePropertiesEx",
    "CreateContainerView",
    "DestroyView",
    "CreateFilter",
    "DestroyPropertyFilter",
    "WaitForUpdatesEx",
    "CurrentTime",
    "QueryAssignedLicenses",
    "DecodeLicense",
    "SessionIsActive",
    "TerminateSession",
    "GET /folder",
];

/// Where `esxup` reads the API password from (never the command line).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Password {
    /// `--password-file`.
    File,
    /// `ESXUP_PASSWORD`.
    Env,
}

/// One host under test and the journal folder of its run.
struct Run<'a> {
    sim: &'a Sim,
    journal: PathBuf,
    password_file: PathBuf,
}

impl<'a> Run<'a> {
    fn new(sim: &'a Sim, dir: &Path) -> Run<'a> {
        let password_file = dir.join("password");
        std::fs::write(&password_file, format!("{}\n", sim::PASSWORD)).unwrap();
        Run { sim, journal: dir.join("journal"), password_file }
    }

    /// `esxup CMD` against the simulator: its URL, the pinned SHA-256
    /// thumbprint, the password from a file, the journal folder, the licence
    /// key in the environment; nothing from govc's environment.
    fn command(&self, cmd: &str, extra: &[&str]) -> Command {
        self.command_with(&self.sim.url, Password::File, cmd, extra)
    }

    fn command_with(&self, url: &str, password: Password, cmd: &str, extra: &[&str]) -> Command {
        let mut c = common::esxup_on("2026-11-26");
        c.arg(cmd).args(["--host", url, "--user", sim::USER, "--thumbprint", &self.sim.thumbprint]);
        if password == Password::File {
            c.arg("--password-file").arg(&self.password_file);
        }
        c.arg("--journal").arg(&self.journal).args(extra);
        for v in [
            "GOVC_URL",
            "GOVC_USERNAME",
            "GOVC_PASSWORD",
            "GOVC_INSECURE",
            "GOVC_TLS_KNOWN_HOSTS",
            "GOVC_TLS_CA_CERTS",
            "ESXUP_PASSWORD",
            "ESXUP_SSH_PASSWORD",
            "SSH_AUTH_SOCK",
            "ESXUP_TEST_KILL_AT",
        ] {
            c.env_remove(v);
        }
        if password == Password::Env {
            c.env("ESXUP_PASSWORD", sim::PASSWORD);
        }
        c.env("ESXUP_LICENSE_KEY", LICENSE_7)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn esxup(&self, cmd: &str, extra: &[&str]) -> Output {
        output(self.command(cmd, extra))
    }

    /// `esxup run` to 7.0 U3g (no depot: the ISO route), with fast polls.
    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["--target", U3G, "--poll-ms", "50", "--reboot-timeout", "60"];
        args.extend_from_slice(extra);
        self.esxup("run", &args)
    }

    fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.journal.join("journal.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

/// Runs the command; stderr is echoed line by line with the time since the
/// start, so a failing test shows where the run spent its time.
fn output(mut c: Command) -> Output {
    let mut child = c.spawn().unwrap();
    collect(&mut child)
}

fn collect(child: &mut Child) -> Output {
    common::collect_timed(child)
}

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        common::stdout(o),
        common::stderr(o)
    )
}

/// The harness's counters as a map.
fn calls(sim: &Sim) -> BTreeMap<String, u64> {
    serde_json::from_value(sim.calls()).unwrap()
}

/// The counters of every request that is not a read.
fn writes(sim: &Sim) -> BTreeMap<String, u64> {
    calls(sim).into_iter().filter(|(k, _)| !READS.contains(&k.as_str())).collect()
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// The names of the VMs powered on in a harness state.
fn powered_on(st: &Value) -> BTreeSet<String> {
    st["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["power"] == json!("poweredOn"))
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (a wait, not an assertion) until the harness state satisfies `ok`.
fn wait_state(sim: &Sim, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = sim.state();
        if ok(&st) {
            return st;
        }
        assert!(Instant::now() < deadline, "the simulator never got {what}: {st}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `hint:` lines of an output.
fn hints(o: &Output) -> String {
    common::stderr(o).lines().filter(|l| l.starts_with("hint:")).collect::<Vec<_>>().join("\n")
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every intent is followed by an outcome of the same item before the next
/// item's intent; no record failed.
fn assert_journal_pairs(recs: &[Value]) {
    let mut open: Option<(String, Option<String>)> = None;
    for rec in recs {
        let key = (rec["step"].as_str().unwrap().to_string(), rec["item"].as_str().map(str::to_string));
        match rec["phase"].as_str().unwrap() {
            "intent" => {
                assert!(open.is_none() || open == Some(key.clone()), "{open:?} has no outcome before {rec}");
                open = Some(key);
            }
            "failed" => panic!("a record failed: {rec}"),
            _ => {
                if let Some(o) = open.take() {
                    assert_eq!(o, key, "an outcome of another item than the intent's: {rec}");
                }
            }
        }
    }
    assert!(open.is_none(), "the last intent has no outcome: {open:?}");
}

fn esx67(extra: &[&str]) -> Sim {
    let mut args = vec!["-mode", "esx", "-product", "6.7.0", "-vms", "4"];
    args.extend_from_slice(extra);
    Sim::start(&args)
}

#[test]
fn preview_changes_nothing() {
    let sim = esx67(&[]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let before = sim.state();
    let o = r.run(&[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let text = common::stdout(&o);
    for step in [
        "config-backup",
        "vm-shutdown",
        "maintenance-on",
        "image-update",
        "reboot",
        "verify",
        "license",
        "maintenance-off",
        "vm-start",
        "tools-upgrade",
    ] {
        assert!(text.contains(step), "the preview lacks {step}:\n{text}");
    }
    // The ISO route: the API names its calls, the installer is by hand.
    assert!(text.contains("Method: ISO installer"), "{text}");
    assert!(text.contains("EnterMaintenanceMode_Task"), "{text}");
    assert!(text.contains("continue with --resume"), "{text}");
    assert!(!r.journal.exists(), "a preview writes no journal");
    assert!(writes(&sim).is_empty(), "a preview changes nothing: {:?}", calls(&sim));
    assert!(calls(&sim).contains_key("Login"), "the preview read the host: {:?}", calls(&sim));
    assert_eq!(sim.state(), before);

    // The same preview as JSON, the password from ESXUP_PASSWORD this time.
    std::fs::remove_file(&r.password_file).unwrap();
    let o = output(r.command_with(&sim.url, Password::Env, "run", &["--target", U3G, "--format", "json"]));
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let v: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert!(v.to_string().contains("image-update"), "{v}");
    assert!(!r.journal.exists());
    assert!(writes(&sim).is_empty(), "{:?}", calls(&sim));
    assert_eq!(sim.state(), before);
}

#[test]
fn iso_upgrade_from_67_to_70u3g_over_the_api_then_verify() {
    let sim = esx67(&[]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let before = sim.state();
    assert_eq!(before["build"], json!("17700523"), "{before}");
    let was_on = powered_on(&before);
    assert!(!was_on.is_empty(), "the fixture has running VMs: {before}");
    let mut outputs = String::new();

    // Up to the installer: backup, VMs down, maintenance mode; exit 1.
    let o = r.run(&["--yes"]);
    outputs += &out(&o);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("image-update") && err.contains("--resume"), "{err}");
    let st = sim.state();
    assert_eq!(st["in_maintenance_mode"], json!(true), "{st}");
    assert!(powered_on(&st).is_empty(), "{st}");
    assert_eq!(st["build"], before["build"]);
    let n = was_on.len() as u64;
    let first = map(&[
        ("SyncFirmwareConfiguration", 1),
        ("BackupFirmwareConfiguration", 1),
        ("GET /downloads", 1),
        ("ShutdownGuest", n),
        ("EnterMaintenanceMode_Task", 1),
    ]);
    assert_eq!(writes(&sim), first);

    // Resuming before the admin installed stops at the same place again.
    let o = r.run(&["--resume", "--yes"]);
    outputs += &out(&o);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    assert_eq!(writes(&sim), first, "a resume before the install changes nothing");

    // The admin boots the installer ISO; the host comes back on 7.0 U3g.
    sim.install(U3G_VERSION, U3G_BUILD);
    wait_state(&sim, "the upgraded host back", |s| {
        s["down"] == json!(false) && s["reboots"] == json!(1) && s["build"] == json!(U3G_BUILD)
    });

    let o = r.run(&["--resume", "--yes"]);
    outputs += &out(&o);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let o = r.esxup("verify", &[]);
    outputs += &out(&o);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    assert!(common::stdout(&o).contains("the host matches"), "{}", out(&o));

    let st = sim.state();
    assert_eq!(st["build"], json!(U3G_BUILD), "{st}");
    assert_eq!(st["version"], json!(U3G_VERSION), "{st}");
    assert_eq!(st["in_maintenance_mode"], json!(false), "{st}");
    assert_eq!(powered_on(&st), was_on, "the VMs that ran run again, the others stay off: {st}");
    assert_eq!(st["license_key"], json!(LICENSE_7), "{st}");
    assert_eq!(st["reboots"], json!(1), "only the installer rebooted the host: {st}");

    // Every change exactly once; the configuration backup twice: before the
    // upgrade and, inside verify, of the upgraded host. No RebootHost_Task:
    // the installer reboots.
    let done = writes(&sim);
    let mut want = map(&[
        ("SyncFirmwareConfiguration", 2),
        ("BackupFirmwareConfiguration", 2),
        ("GET /downloads", 2),
        ("ShutdownGuest", n),
        ("EnterMaintenanceMode_Task", 1),
        ("UpdateLicense", 1),
        ("ExitMaintenanceMode_Task", 1),
        ("PowerOnVM_Task", n),
    ]);
    // Tools out of date in a VM that runs: upgraded once.
    let old_tools = before["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["power"] == json!("poweredOn") && v["tools_status"] == json!("guestToolsSupportedOld"))
        .count() as u64;
    if old_tools > 0 {
        want.insert("UpgradeTools_Task".into(), old_tools);
    }
    assert_eq!(done, want);
    assert!(!done.contains_key("RebootHost_Task"));

    // The journal: an intent before each change, then its outcome; two
    // bundles, each the file its record's sha256 names, of the two builds.
    let recs = r.records();
    assert_journal_pairs(&recs);
    let backups: Vec<&Value> =
        recs.iter().filter(|r| r["phase"] == json!("done") && r["detail"]["sha256"].is_string()).collect();
    assert_eq!(backups.len(), 2, "{recs:?}");
    let mut builds = Vec::new();
    for b in backups {
        let file = r.journal.join(b["detail"]["file"].as_str().unwrap());
        let (sha, _) =
            esxup_run::engine::sha256_file(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(json!(sha), b["detail"]["sha256"], "{}", file.display());
        builds.push(b["detail"]["build"].clone());
    }
    assert_eq!(builds, vec![json!(17700523), json!(20328353)]);
    assert!(recs.iter().all(|r| r["transport"] == json!("api")), "{recs:?}");

    // Running it again finds everything done: no change at all.
    let o = r.run(&["--resume", "--yes"]);
    outputs += &out(&o);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    assert_eq!(writes(&sim), done, "a finished run changes nothing when run again");

    // The licence key is a secret: not in the journal folder, nor any output.
    for f in files_under(&r.journal) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(LICENSE_7),
            "{} holds the licence key",
            f.display()
        );
    }
    assert!(!outputs.contains(LICENSE_7), "an output shows the licence key");
    assert!(outputs.contains("2T6VN"), "the masked key names its last group: {outputs}");
}

#[test]
fn free_licence_without_ssh_is_refused_with_a_hint_naming_ssh() {
    let sim = esx67(&["-free-license"]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let before = sim.state();
    assert!(before["license_key"].as_str().unwrap().starts_with("FREE0"), "{before}");
    // The preview says so (and changes nothing)...
    let o = r.run(&[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    assert!(common::stderr(&o).contains("free licence"), "{}", out(&o));
    // ...and the run refuses before it starts a journal or changes anything.
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("free licence") && err.contains("refuses every change"), "{err}");
    assert!(hints(&o).contains("--ssh"), "{}", out(&o));
    assert_eq!(sim.state(), before);
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert!(!r.journal.exists(), "no journal for a run that cannot start");
}

#[test]
fn wrong_password_is_refused_before_anything() {
    let sim = esx67(&[]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    std::fs::write(&r.password_file, "not-the-password\n").unwrap();
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("incorrect user name or password"), "{}", out(&o));
    assert!(hints(&o).contains("password"), "{}", out(&o));
    assert!(!r.journal.exists());
    assert!(writes(&sim).is_empty(), "{:?}", calls(&sim));
    assert!(!common::stderr(&o).contains("not-the-password"));
}

#[test]
fn dead_host_is_an_error_without_a_journal() {
    let sim = esx67(&[]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("https://127.0.0.1:{port}/sdk");
    let o =
        output(r.command_with(&url, Password::File, "run", &["--target", U3G, "--yes", "--timeout", "5"]));
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(hints(&o).contains("that the host is up"), "{}", out(&o));
    assert!(!r.journal.exists());
}

#[test]
fn failing_backup_download_stops_before_any_other_change() {
    let sim = esx67(&["-fail-download"]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let before = sim.state();
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("config-backup") && err.contains("500"), "{err}");
    assert!(hints(&o).contains("nothing else was changed"), "{}", out(&o));
    assert_eq!(
        writes(&sim),
        map(&[("SyncFirmwareConfiguration", 1), ("BackupFirmwareConfiguration", 1), ("GET /downloads", 1)])
    );
    assert_eq!(sim.state(), before);
    let recs = r.records();
    let phases: Vec<(&str, &str)> =
        recs.iter().map(|r| (r["step"].as_str().unwrap(), r["phase"].as_str().unwrap())).collect();
    assert_eq!(phases, [("config-backup", "intent"), ("config-backup", "failed")], "{recs:?}");
    assert!(recs[1]["error"].as_str().unwrap().contains("500"), "{}", recs[1]);
    assert!(!r.journal.join("config-backup").exists(), "no bundle was saved");
}

/// The ISO route's reboot is the installer's (RebootHost_Task is only sent
/// on the esxcli route, which needs SSH): a host that never comes back from
/// the installer makes the resume fail to connect, exit 2, journal untouched.
#[test]
fn host_that_never_comes_back_from_the_installer() {
    let sim = esx67(&["-never-back"]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let o = r.run(&["--yes"]);
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    let recs = r.records();
    sim.install(U3G_VERSION, U3G_BUILD);
    wait_state(&sim, "the host down", |s| s["down"] == json!(true));
    let o = r.run(&["--resume", "--yes", "--timeout", "5"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(hints(&o).contains("that the host is up"), "{}", out(&o));
    assert_eq!(r.records(), recs, "the journal is as the first run left it");
}

/// A second run while the first is running: the first is held inside its
/// run (its host stops answering after it took the journal's lock), the
/// second, against an identical host, is refused by the lock.
#[test]
fn second_run_at_the_same_time_is_refused() {
    // How many SOAP requests a run makes before it takes the lock: the same
    // as a preview without its final Logout.
    let probe = esx67(&[]);
    let dir = tempfile::tempdir().unwrap();
    let o = Run::new(&probe, dir.path()).run(&[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let soap: u64 = calls(&probe).iter().filter(|(k, _)| !k.contains(' ')).map(|(_, n)| n).sum();
    let before_lock = soap - calls(&probe).get("Logout").copied().unwrap_or(0);

    // The first run: its host hangs two requests after the lock.
    let hang = (before_lock + 2).to_string();
    let held = esx67(&["-hang-after", &hang]);
    let r1 = Run::new(&held, dir.path());
    let mut first = r1
        .command("run", &["--target", U3G, "--yes", "--poll-ms", "50", "--timeout", "600"])
        .spawn()
        .unwrap();
    let lock = r1.journal.join("lock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(r1.journal.join("run.json").exists()
        && std::fs::read_to_string(&lock).is_ok_and(|s| s.trim() == first.id().to_string()))
    {
        assert!(first.try_wait().unwrap().is_none(), "the first run ended: {}", out(&collect(&mut first)));
        assert!(Instant::now() < deadline, "the first run never took the journal's lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let recs = r1.records();

    // The second run, on the same journal, against a host with the same
    // identity (the first one no longer answers).
    let other = esx67(&[]);
    let r2 = Run { sim: &other, journal: r1.journal.clone(), password_file: r1.password_file.clone() };
    let o = r2.run(&["--yes"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    let err = common::stderr(&o);
    assert!(err.contains("another esxup run is working on this host"), "{err}");
    assert!(err.contains(&format!("by process {}", first.id())), "{err}");
    assert!(hints(&o).contains("wait for the other run to end"), "{}", out(&o));
    assert!(writes(&other).is_empty(), "the refused run changed nothing: {:?}", calls(&other));
    assert_eq!(r1.records(), recs, "the refused run wrote nothing to the journal");
}

/// A free-ESXi host given with both `--host` and `--ssh`: the API only
/// reads, every change goes over SSH from the start (no refused API call),
/// and the esxcli upgrade with the offline bundle goes through.
#[test]
fn free_esxi_with_ssh_changes_everything_over_ssh() {
    use common::sshd::Sshd;
    let host = Sshd::host_67();
    let uuid = host["uuid"].as_str().unwrap().to_string();
    let sim = esx67(&["-free-license", "-uuid", &uuid, "-hostname", "esx01.lab.local"]);
    let s = Sshd::start_host(&host);
    s.claim_synthetic_devices();
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let bundle = common::write_synthetic_bundle(dir.path());
    let (target, fp, key) = (s.target(), s.fingerprint(), s.path("client_key"));
    let ssh = ["--ssh", &target, "--ssh-fingerprint", &fp, "--identity", &key];
    let mut args = vec!["--depot", bundle.to_str().unwrap(), "--yes"];
    args.extend_from_slice(&ssh);
    let o = r.run(&args);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    assert!(writes(&sim).is_empty(), "the free host's API only read: {:?}", writes(&sim));
    assert_eq!(s.state()["build"], json!(20328353));
    assert!(s.calls().keys().any(|k| k.contains("software profile update")), "{:?}", s.calls());
    assert!(r.records().iter().all(|x| x["phase"] != json!("failed")), "{:?}", r.records());

    // Two machines given as one: refused before anything.
    let other = esx67(&[]);
    let dir2 = tempfile::tempdir().unwrap();
    let r2 = Run::new(&other, dir2.path());
    let o = r2.run(&args);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("two machines"), "{}", out(&o));
    assert!(!r2.journal.exists());
}

/// From 7.0 U3g to 8.0 Update 3 (build 24022510, data/releases/8.0.toml)
/// by the ISO installer: the run prepares the host and stops, the admin
/// installs, `--resume` finishes, `verify` passes.
#[test]
fn iso_upgrade_from_70_to_80u3_over_the_api_then_verify() {
    // Hardware a real 8.0-capable host has: the simulator's template is a
    // Sandy Bridge with 4 GiB, which 8.0 refuses (testbed/vcsim/README.md).
    let host = ["-mode", "esx", "-product", "7.0.3", "-vms", "3", "-cpu", "skylake-sp", "-memory-gib", "128"];
    let sim = Sim::start(&host);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let was_on = powered_on(&sim.state());
    let args = ["--target", "8.0U3", "--poll-ms", "50", "--reboot-timeout", "60", "--yes"];
    let o = output(r.command("run", &args));
    assert_eq!(common::code(&o), 1, "{}", out(&o));
    assert!(common::stderr(&o).contains("--resume"), "{}", out(&o));
    assert_eq!(sim.state()["in_maintenance_mode"], json!(true));
    sim.install("8.0.3", "24022510");
    wait_state(&sim, "the upgraded host back", |s| {
        s["down"] == json!(false) && s["reboots"] == json!(1) && s["build"] == json!("24022510")
    });
    let mut resume = args.to_vec();
    resume.push("--resume");
    let o = output(r.command("run", &resume));
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let o = r.esxup("verify", &[]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let st = sim.state();
    assert_eq!(
        (st["build"].clone(), st["in_maintenance_mode"].clone()),
        (json!("24022510"), json!(false)),
        "{st}"
    );
    assert_eq!(powered_on(&st), was_on, "{st}");
    assert_eq!(writes(&sim).get("EnterMaintenanceMode_Task"), Some(&1));
    assert_eq!(writes(&sim).get("ExitMaintenanceMode_Task"), Some(&1));
    assert_journal_pairs(&r.records());
    // The JSON outputs of the run, against their schemas (schema/).
    let o = r.esxup("verify", &["--format", "json"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    common::assert_valid("verify.schema.json", &serde_json::from_str(&common::stdout(&o)).unwrap());
    let o = common::esxup_on("2026-11-26")
        .args(["journal", "show"])
        .arg(&r.journal)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    common::assert_valid("journal.schema.json", &serde_json::from_str(&common::stdout(&o)).unwrap());
    let o = output(r.command("run", &["--target", "8.0U3", "--resume", "--format", "json"]));
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    common::assert_valid("run-preview.schema.json", &serde_json::from_str(&common::stdout(&o)).unwrap());
}

/// The runbook's "esxup can run this step" marks and what `esxup run` would
/// do on the same host come from one decision (esxup_plan::runnable): for
/// every runbook step tied to run steps, `automatable` is true exactly when
/// the preview would carry out each of them (over SSH where it says so).
#[test]
fn the_runbook_marks_match_what_the_run_would_do() {
    let sim = esx67(&[]);
    let dir = tempfile::tempdir().unwrap();
    let r = Run::new(&sim, dir.path());
    let mut plan = common::esxup_on("2026-11-26");
    plan.args(["plan", "--host", &sim.url, "--user", sim::USER, "--thumbprint", &sim.thumbprint])
        .arg("--password-file")
        .arg(&r.password_file)
        .args(["--target", U3G, "--format", "json"])
        .env_remove("GOVC_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let o = output(plan);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let plan: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    let o = r.run(&["--format", "json", "--with", "vm-backup"]);
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    let preview: Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    let status: BTreeMap<String, String> = preview["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap().to_string(), s["status"].as_str().unwrap().to_string()))
        .collect();
    let runs = |step: &str| {
        let st = status.get(step).unwrap_or_else(|| panic!("{step} not in the preview: {status:?}"));
        !matches!(st.as_str(), "manual" | "not-needed")
    };
    let mut tied = 0;
    for phase in plan["phases"].as_array().unwrap() {
        for step in phase["steps"].as_array().unwrap() {
            let Some(run_steps) = step["run_steps"].as_array() else { continue };
            tied += 1;
            let all = run_steps.iter().all(|s| runs(s.as_str().unwrap()));
            assert_eq!(
                step["automatable"],
                json!(all),
                "{}: {run_steps:?} in the preview: {status:?}",
                step["id"]
            );
        }
    }
    assert!(tied >= 8, "{tied} runbook steps tied to run steps");
    assert!(writes(&sim).is_empty());
}

#[test]
fn run_and_verify_help_document_their_exit_codes() {
    for cmd in ["run", "verify"] {
        let o = common::esxup_on("2026-11-26").args([cmd, "--help"]).output().unwrap();
        assert_eq!(common::code(&o), 0);
        let text = common::stdout(&o);
        assert!(text.contains("Exit codes: 0 "), "{cmd} --help:\n{text}");
        for n in ["; 1 ", "; 2 "] {
            assert!(text.contains(n), "{cmd} --help lacks exit code{n}:\n{text}");
        }
    }
    let o = common::esxup_on("2026-11-26").args(["run", "--list-steps"]).output().unwrap();
    // `N. name`: the fourteen steps in their fixed order.
    let names: Vec<String> = common::stdout(&o)
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .collect();
    assert_eq!(names.len(), 14, "{names:?}");
    assert_eq!(names.first().map(String::as_str), Some("config-backup"), "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("vm-hardware-upgrade"), "{names:?}");
}
