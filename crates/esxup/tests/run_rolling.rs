//! `esxup run --inventory`: the rolling upgrade of many hosts, against the
//! govmomi simulator harness — one `-mode esx` process per ESXi host, and a
//! `-mode vpx` vCenter that says which cluster each host is in.
//!
//! The one-host-per-cluster rule is checked on what the hosts themselves
//! saw: every harness appends a line per request with the host's
//! maintenance mode after it (`-events-file`), the processes share the
//! clock, so merging a cluster's lines shows whether two of its hosts were
//! ever in maintenance mode at once.

mod common;
#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use serde_json::Value;
use sim::Sim;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const U3G: &str = "7.0U3g";
const U3G_VERSION: &str = "7.0.3";
const U3G_BUILD: &str = "20328353";
const LICENSE_7: &str = "4A0K2-J8L1P-H9Q3M-XC7R5-2T6VN";
/// The variable the inventory names for the hosts' password.
const PW_VAR: &str = "ESXUP_TEST_FLEET_PASSWORD";

/// One ESXi host of the fleet: a `-mode esx` 6.7 harness with its own name
/// and hardware UUID.
fn esx(name: &str, n: u32, extra: &[&str]) -> Sim {
    let uuid = format!("4c4c4544-0000-1000-8000-{n:012x}");
    let mut args = vec!["-mode", "esx", "-product", "6.7.0", "-vms", "2", "-hostname", name, "-uuid", &uuid];
    args.extend_from_slice(extra);
    Sim::start(&args)
}

/// An inventory: `[[vcenter]]` entries first, then a `[[host]]` per
/// `(name, sim, extra TOML lines)`.
fn inventory(dir: &Path, vcenter: Option<&Sim>, hosts: &[(&str, &Sim, &str)]) -> PathBuf {
    let mut t = format!("[defaults]\nuser = \"root\"\npassword_env = \"{PW_VAR}\"\n\n");
    if let Some(vc) = vcenter {
        t += &format!("[[vcenter]]\nurl = \"{}\"\nthumbprint = \"{}\"\n\n", vc.url, vc.thumbprint);
    }
    for (name, s, extra) in hosts {
        t += &format!(
            "[[host]]\nurl = \"{}\"\nname = \"{name}\"\nthumbprint = \"{}\"\n{extra}\n",
            s.url, s.thumbprint
        );
    }
    let p = dir.join("fleet.toml");
    std::fs::write(&p, t).unwrap();
    p
}

/// `esxup run --inventory INV --target 7.0U3g` with fast polls, the
/// password in the variable the inventory names, the licence key in the
/// environment; nothing from govc's environment.
fn run(inv: &Path, journal: &Path, extra: &[&str]) -> Output {
    let mut c: Command = common::esxup_on("2026-11-26");
    c.arg("run").arg("--inventory").arg(inv).arg("--journal").arg(journal);
    c.args(["--target", U3G, "--poll-ms", "50", "--reboot-timeout", "60"]).args(extra);
    for v in [
        "GOVC_URL",
        "GOVC_USERNAME",
        "GOVC_PASSWORD",
        "ESXUP_PASSWORD",
        "ESXUP_SSH_PASSWORD",
        "SSH_AUTH_SOCK",
    ] {
        c.env_remove(v);
    }
    c.env(PW_VAR, sim::PASSWORD)
        .env("ESXUP_LICENSE_KEY", LICENSE_7)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    common::collect_timed(&mut child)
}

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        common::stdout(o),
        common::stderr(o)
    )
}

/// The summary row of `host` (stdout).
fn row<'a>(o: &'a str, host: &str) -> &'a str {
    o.lines()
        .find(|l| l.split_whitespace().next() == Some(host))
        .unwrap_or_else(|| panic!("no row {host}:\n{o}"))
}

/// The periods a host was in maintenance mode, from its request log:
/// `(first time seen in, first time seen out again)`; an open period ends
/// at `u64::MAX`.
fn mm_periods(events: &[Value]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut since: Option<u64> = None;
    for e in events {
        let t = e["t_ns"].as_u64().unwrap();
        match (e["in_maintenance_mode"].as_bool().unwrap(), since) {
            (true, None) => since = Some(t),
            (false, Some(s)) => {
                out.push((s, t));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(s) = since {
        out.push((s, u64::MAX));
    }
    out
}

fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.0 < y.1 && y.0 < x.1))
}

fn wait_back(s: &Sim, build: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = s.state();
        if st["down"] == Value::Bool(false) && st["build"] == Value::String(build.into()) {
            return;
        }
        assert!(Instant::now() < deadline, "the host never came back on {build}: {st}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn install(s: &Sim) {
    s.install(U3G_VERSION, U3G_BUILD);
    wait_back(s, U3G_BUILD);
}

#[test]
fn rolling_iso_upgrade_takes_one_host_per_cluster_at_a_time() {
    // A vCenter with two clusters of two hosts; the hosts themselves are
    // separate harnesses named as the vCenter names them, plus a standalone
    // host (cluster = "").
    let vc =
        Sim::start(&["-mode", "vpx", "-hosts", "0", "-clusters", "2", "-cluster-hosts", "2", "-vms", "2"]);
    let names = ["DC0_C0_H0", "DC0_C0_H1", "DC0_C1_H0", "DC0_C1_H1"];
    let sims: Vec<Sim> = names.iter().enumerate().map(|(i, n)| esx(n, i as u32 + 1, &[])).collect();
    let solo = esx("esx-solo", 9, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut hosts: Vec<(&str, &Sim, &str)> = names.iter().zip(&sims).map(|(n, s)| (*n, s, "")).collect();
    hosts.push(("esx-solo", &solo, "cluster = \"\"\n"));
    let inv = inventory(dir.path(), Some(&vc), &hosts);
    let journal = dir.path().join("journals");
    let mut log = String::new();

    // Without --yes: every host's preview and the waves; nothing changes.
    let o = run(&inv, &journal, &["--concurrency", "3"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 0, "{log}");
    let so = common::stdout(&o);
    assert!(so.contains("== DC0_C0_H1 (127.0.0.1/DC0_C0, wave 2) =="), "{log}");
    let wave = |h: &str| row(&so, h).split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(
        [wave("DC0_C0_H0"), wave("DC0_C0_H1"), wave("DC0_C1_H0"), wave("DC0_C1_H1"), wave("esx-solo")],
        ["1", "2", "1", "2", "1"].map(String::from),
        "{log}"
    );
    for s in sims.iter().chain([&solo]) {
        assert_eq!(s.state()["in_maintenance_mode"], Value::Bool(false), "the preview changed nothing");
        assert!(!s.calls().as_object().unwrap().contains_key("EnterMaintenanceMode_Task"), "{log}");
    }
    assert!(!journal.exists(), "the preview starts no journal");

    // Run 1: the first host of each cluster and the standalone host, side
    // by side; each stops for the ISO installer in maintenance mode, which
    // holds its cluster: the second hosts are not started.
    let o = run(&inv, &journal, &["--concurrency", "3", "--yes"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 1, "{log}");
    let so = common::stdout(&o);
    for h in ["DC0_C0_H0", "DC0_C1_H0", "esx-solo"] {
        assert!(row(&so, h).contains("waiting at image-update"), "{log}");
        assert!(journal.join(h).join("journal.jsonl").exists(), "{log}");
    }
    for (h, c) in [("DC0_C0_H1", "DC0_C0"), ("DC0_C1_H1", "DC0_C1")] {
        let r = row(&so, h);
        assert!(r.contains("not started: cluster") && r.contains(c), "{log}");
        assert!(!journal.join(h).exists(), "{log}");
    }
    let err = common::stderr(&o);
    assert!(err.lines().any(|l| l.starts_with("[DC0_C1_H0] ") && l.contains("maintenance-on")), "{log}");
    // Each journal is its host's, under the inventory's name.
    let o = common::esxup_on("2026-11-26")
        .args(["journal", "show", "--format", "json"])
        .arg(journal.join("DC0_C1_H0"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).expect("journal JSON");
    assert_eq!(v["run"]["host"], Value::String("DC0_C1_H0".into()), "{v}");
    assert_eq!(v["run"]["uuid"], sims[2].state()["uuid"], "{v}");
    assert_eq!(sims[1].state()["in_maintenance_mode"], Value::Bool(false));
    assert!(!sims[1].calls().as_object().unwrap().contains_key("EnterMaintenanceMode_Task"), "{log}");

    // The admin installs the first wave from the ISO; run 2 finishes it
    // (hosts with a journal first), then the second wave stops for the installer.
    for s in [&sims[0], &sims[2], &solo] {
        install(s);
    }
    let o = run(&inv, &journal, &["--concurrency", "3", "--yes"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 1, "{log}");
    let so = common::stdout(&o);
    for h in ["DC0_C0_H0", "DC0_C1_H0", "esx-solo"] {
        assert!(row(&so, h).contains(" done"), "{log}");
    }
    for h in ["DC0_C0_H1", "DC0_C1_H1"] {
        assert!(row(&so, h).contains("waiting at image-update"), "{log}");
    }

    // Run 3 finishes the second wave.
    for s in [&sims[1], &sims[3]] {
        install(s);
    }
    let o = run(&inv, &journal, &["--concurrency", "3", "--yes", "--format", "json"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 0, "{log}");
    let v: Value = serde_json::from_str(&common::stdout(&o)).expect("summary JSON");
    common::assert_valid("run-rolling.schema.json", &v);
    assert_eq!(v["totals"], serde_json::json!({"done": 5}), "{log}");
    for s in sims.iter().chain([&solo]) {
        let st = s.state();
        assert_eq!(st["build"], Value::String(U3G_BUILD.into()), "{st}");
        assert_eq!(st["in_maintenance_mode"], Value::Bool(false), "{st}");
        assert_eq!(s.calls()["EnterMaintenanceMode_Task"], serde_json::json!(1), "{log}");
        assert_eq!(s.calls()["ExitMaintenanceMode_Task"], serde_json::json!(1), "{log}");
    }

    // What the hosts saw: within a cluster the maintenance periods never
    // overlap, and the first host's ended before the second's began;
    // across clusters they did overlap (the run went side by side).
    let p: Vec<Vec<(u64, u64)>> = sims.iter().map(|s| mm_periods(&s.events())).collect();
    for (i, periods) in p.iter().enumerate() {
        assert_eq!(periods.len(), 1, "{} was in maintenance mode once: {periods:?}", names[i]);
    }
    assert!(!overlap(&p[0], &p[1]) && p[0][0].1 <= p[1][0].0, "cluster C0: {:?} {:?}", p[0], p[1]);
    assert!(!overlap(&p[2], &p[3]) && p[2][0].1 <= p[3][0].0, "cluster C1: {:?} {:?}", p[2], p[3]);
    assert!(overlap(&p[0], &p[2]), "the two clusters' first hosts ran side by side: {:?} {:?}", p[0], p[2]);
    assert!(overlap(&p[0], &mm_periods(&solo.events())), "the standalone host ran beside them");
}

#[test]
fn the_first_failure_stops_the_schedule_unless_keep_going() {
    // Cluster X: a host whose configuration backup download fails, then a
    // good one; cluster Y: a good one. No vCenter: the inventory says the
    // clusters.
    let bad = esx("esx-bad", 1, &["-fail-download"]);
    let x2 = esx("esx-x2", 2, &[]);
    let y1 = esx("esx-y1", 3, &[]);
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(
        dir.path(),
        None,
        &[
            ("esx-bad", &bad, "cluster = \"X\"\n"),
            ("esx-x2", &x2, "cluster = \"X\"\n"),
            ("esx-y1", &y1, "cluster = \"Y\"\n"),
        ],
    );
    let journal = dir.path().join("journals");
    let mut log = String::new();

    // The preview as JSON: every host with its wave, nothing changed.
    let o = run(&inv, &journal, &["--format", "json"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 0, "{log}");
    let v: Value = serde_json::from_str(&common::stdout(&o)).expect("preview JSON");
    common::assert_valid("run-rolling-preview.schema.json", &v);
    let waves: Vec<(String, u64)> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap().to_string(), h["wave"].as_u64().unwrap()))
        .collect();
    assert_eq!(waves, [("esx-bad".into(), 1), ("esx-x2".into(), 2), ("esx-y1".into(), 1)], "{log}");
    assert!(v["hosts"][0]["preview"]["steps"].is_array(), "the host's own preview: {v}");
    let logins = |s: &Sim| s.calls().get("Login").and_then(Value::as_u64).unwrap_or(0);
    let before = [logins(&x2), logins(&y1)];

    let o = run(&inv, &journal, &["--yes"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 2, "{log}");
    let so = common::stdout(&o);
    assert!(row(&so, "esx-bad").contains("failed"), "{log}");
    for h in ["esx-x2", "esx-y1"] {
        assert!(row(&so, h).contains("not started: the run stopped after esx-bad failed"), "{log}");
    }
    for (s, n) in [(&x2, before[0]), (&y1, before[1])] {
        assert!(s.calls().get("EnterMaintenanceMode_Task").is_none(), "{log}");
        assert_eq!(logins(s), n, "not even logged in to by the run: {log}");
    }
    assert!(common::stderr(&o).contains("--keep-going"), "{log}");

    // --keep-going: the failed host never reached maintenance mode (read
    // back after it failed), so its cluster is free for the next host.
    let o = run(&inv, &journal, &["--yes", "--keep-going"]);
    log += &out(&o);
    assert_eq!(common::code(&o), 2, "{log}");
    let so = common::stdout(&o);
    assert!(row(&so, "esx-bad").contains("failed"), "{log}");
    for (h, s) in [("esx-x2", &x2), ("esx-y1", &y1)] {
        assert!(row(&so, h).contains("waiting at image-update"), "{log}");
        assert_eq!(s.state()["in_maintenance_mode"], Value::Bool(true), "{log}");
    }
    assert_eq!(bad.state()["in_maintenance_mode"], Value::Bool(false), "{log}");
}

#[test]
fn inventory_errors_are_rows_and_secrets_stay_out_of_the_output() {
    // A vCenter that does not know one host; a host whose password variable
    // is unset; a good one.
    let vc =
        Sim::start(&["-mode", "vpx", "-hosts", "0", "-clusters", "1", "-cluster-hosts", "1", "-vms", "1"]);
    let good = esx("DC0_C0_H0", 1, &[]);
    let stranger = esx("esx-unknown", 2, &[]);
    let nopw = esx("esx-nopw", 3, &[]);
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(
        dir.path(),
        Some(&vc),
        &[
            ("DC0_C0_H0", &good, ""),
            ("esx-unknown", &stranger, ""),
            ("esx-nopw", &nopw, "cluster = \"\"\npassword_env = \"ESXUP_TEST_UNSET_VARIABLE\"\n"),
            // A name with a terminal escape (TOML's \u001b): shown escaped.
            ("evil\\u001b[2J", &nopw, "cluster = \"\"\npassword_env = \"ESXUP_TEST_UNSET_VARIABLE\"\n"),
        ],
    );
    let journal = dir.path().join("journals");
    let o = run(&inv, &journal, &["--yes"]);
    let log = out(&o);
    assert_eq!(common::code(&o), 2, "{log}");
    let so = common::stdout(&o);
    assert!(
        row(&so, "esx-unknown").contains("no [[vcenter]] of the inventory manages a host named esx-unknown"),
        "{log}"
    );
    assert!(row(&so, "esx-nopw").contains("ESXUP_TEST_UNSET_VARIABLE is not set"), "{log}");
    assert!(row(&so, "DC0_C0_H0").contains("waiting at image-update"), "{log}");
    assert!(stranger.calls().get("Login").is_none() && nopw.calls().get("Login").is_none(), "{log}");
    assert!(!log.contains('\u{1b}') && so.contains("evil\\x1b[2J"), "escaped, not raw: {log}");
    assert!(!log.contains(sim::PASSWORD) && !log.contains(LICENSE_7), "no secret in the output: {log}");
    for f in walk(&journal) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!text.contains(sim::PASSWORD) && !text.contains(LICENSE_7), "{}", f.display());
    }

    // A selection that would leave hosts in maintenance mode is refused
    // before anything is read.
    let o = run(&inv, &dir.path().join("j2"), &["--yes", "--skip", "maintenance-off"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
    assert!(common::stderr(&o).contains("maintenance-off is not selected"), "{}", out(&o));
    // And so is --concurrency 0.
    let o = run(&inv, &dir.path().join("j3"), &["--concurrency", "0"]);
    assert_eq!(common::code(&o), 2, "{}", out(&o));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_host_in_maintenance_mode_outside_the_run_holds_its_cluster() {
    // Five hosts in one cluster; the harness puts one of them (which one
    // varies) in maintenance mode. The run's host is another of them.
    let vc =
        Sim::start(&["-mode", "vpx", "-hosts", "0", "-clusters", "1", "-cluster-hosts", "5", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).unwrap();
    let o = common::esxup_on("2026-11-26")
        .args([
            "collect",
            "--host",
            &vc.url,
            "--user",
            "root",
            "--thumbprint",
            &vc.thumbprint,
            "--format",
            "json",
        ])
        .arg("--password-file")
        .arg(&pw)
        .env_remove("GOVC_URL")
        .output()
        .unwrap();
    assert_eq!(common::code(&o), 0, "{}", out(&o));
    // One facts document per host, one after the other.
    let all: Vec<Value> = serde_json::Deserializer::from_slice(&o.stdout)
        .into_iter::<Value>()
        .map(|v| v.expect("facts JSON"))
        .collect();
    let facts = Value::Array(all.clone());
    let away: Vec<&str> = all
        .iter()
        .filter(|h| h["maintenance_mode"] == Value::Bool(true))
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(away.len(), 1, "{facts}");
    let mine =
        all.iter().map(|h| h["hostname"].as_str().unwrap()).find(|n| *n != away[0]).unwrap().to_string();
    let host = esx(&mine, 1, &[]);
    let inv = inventory(dir.path(), Some(&vc), &[(&mine, &host, "")]);
    let o = run(&inv, &dir.path().join("journals"), &["--yes"]);
    let log = out(&o);
    assert_eq!(common::code(&o), 1, "{log}");
    let so = common::stdout(&o);
    let r = row(&so, &mine);
    assert!(
        r.contains("not started: cluster 127.0.0.1/DC0_C0 is held:")
            && r.contains(&format!("{} is in maintenance mode and not part of this run", away[0])),
        "{log}"
    );
    assert!(host.calls().get("Login").is_none(), "the host was not touched: {log}");
}
