//! Fleet modes against the govmomi simulator as a vCenter with two
//! clusters and a standalone host: `check --host`, `report --host` and
//! `plan --host --out-dir` take every host the vCenter manages, with its
//! cluster; `check --inventory` keeps going past a dead target.

#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use std::process::{Command, Output, Stdio};

fn esxup(args: &[&str], pw: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esxup"))
        .args(args)
        .arg("--password-file")
        .arg(pw)
        .env("ESXUP_TODAY", "2026-11-26")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("GOVC_URL")
        .env_remove("ESXUP_PASSWORD")
        .env_remove("ESXUP_KB")
        .stdin(Stdio::null())
        .output()
        .expect("run esxup")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_vcenter_is_a_fleet_with_clusters() {
    let sim = sim::Sim::start(&[
        "-mode",
        "vpx",
        "-hosts",
        "1",
        "-clusters",
        "2",
        "-cluster-hosts",
        "2",
        "-vms",
        "6",
    ]);
    assert_eq!(sim.hosts, 5, "1 standalone + 2 clusters x 2 hosts");
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).unwrap();
    let host = ["--host", sim.url.as_str(), "--user", "root", "--thumbprint", sim.thumbprint.as_str()];

    // check --host: one line per host, not "exactly one host".
    let mut args = vec!["check"];
    args.extend(host);
    args.extend(["--target", "8.0U3e", "--format", "json"]);
    let o = esxup(&args, &pw);
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("fleet JSON");
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 5, "{v}");
    let clusters: Vec<&str> = hosts.iter().filter_map(|h| h["cluster"].as_str()).collect();
    assert_eq!(clusters.iter().filter(|c| **c == "DC0_C0").count(), 2, "{clusters:?}");
    assert_eq!(clusters.iter().filter(|c| **c == "DC0_C1").count(), 2, "{clusters:?}");
    assert_eq!(clusters.len(), 4, "the standalone host has no cluster");
    assert!(hosts.iter().all(|h| h["build"].is_u64() && h["verdict"].is_string()), "{v}");

    // report --host: the same hosts, with their cluster, in CSV.
    let mut args = vec!["report"];
    args.extend(host);
    args.extend(["--target", "8.0U3e", "--format", "csv"]);
    let o = esxup(&args, &pw);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let csv = text(&o.stdout);
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert_eq!(csv.matches(",DC0_C1,").count(), 2, "{csv}");

    // plan --host --out-dir: a runbook per host and an index.
    let out = dir.path().join("plans");
    let mut args = vec!["plan"];
    args.extend(host);
    args.extend(["--target", "8.0U3e", "--out-dir", out.to_str().unwrap()]);
    let o = esxup(&args, &pw);
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", text(&o.stderr));
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    let runbooks = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "md"))
        .count();
    assert_eq!(runbooks, 6, "5 runbooks and the index: {index}");
    for h in hosts {
        let name = h["name"].as_str().unwrap();
        assert!(index.contains(&format!("| {name} | [")), "{name} in {index}");
    }
}

#[test]
fn an_inventory_with_a_dead_target_still_checks_the_others() {
    let sim = sim::Sim::start(&["-mode", "vpx", "-hosts", "2", "-vms", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).unwrap();
    // A port nobody listens on: bind, read the port, close.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let inv = dir.path().join("inventory.toml");
    std::fs::write(
        &inv,
        format!(
            "[[vcenter]]\nurl = \"{}\"\nuser = \"root\"\npassword_file = \"{}\"\nthumbprint = \"{}\"\n\n[[host]]\nurl = \"https://127.0.0.1:{dead}/sdk\"\nuser = \"root\"\npassword_file = \"{}\"\ntimeout_secs = 5\n",
            sim.url,
            pw.display(),
            sim.thumbprint,
            pw.display()
        ),
    )
    .unwrap();
    let o = esxup(&["check", "--inventory", inv.to_str().unwrap(), "--target", "8.0U3e"], &pw);
    assert_eq!(o.status.code(), Some(1), "a failed target is exit 1: {}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("ERROR"), "{out}");
    assert!(out.contains(&format!("127.0.0.1:{dead}")), "the dead target is named: {out}");
    assert!(out.contains("3 host(s)"), "2 hosts and the dead target: {out}");
}
