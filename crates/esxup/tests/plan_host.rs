//! `esxup plan --host URL`: facts collected live over the vSphere API from
//! the govmomi simulator (testbed/vcsim, built by scripts/test.sh), then
//! checked and turned into a runbook in one command.

#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use sim::Sim;
use std::process::Command;

#[test]
fn plan_from_a_live_host() {
    let s = Sim::start(&["-mode", "esx", "-product", "6.7.0", "-vms", "2"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).expect("write password file");
    let o = Command::new(env!("CARGO_BIN_EXE_esxup"))
        .args([
            "plan",
            "--host",
            &s.url,
            "--user",
            "root",
            "--thumbprint",
            &s.thumbprint,
            "--target",
            "7.0U3c",
        ])
        .arg("--password-file")
        .arg(&pw)
        .args(["--format", "json"])
        .env("ESXUP_TODAY", "2026-11-26")
        .env_remove("ESXUP_KB")
        .env_remove("GOVC_URL")
        .env_remove("ESXUP_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run esxup plan --host");
    let code = o.status.code();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(matches!(code, Some(0) | Some(1)), "exit {code:?}: {err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("plan json");
    // The simulator's host: ESXi 6.7.0 build 17700523 (see cli_vim.rs).
    assert_eq!(v["current"]["build"], 17700523);
    assert_eq!(v["requested"]["build"], 19193900);
    let confirm = v["phases"][0]["steps"][0]["verify"]["expect"].as_str().expect("expect");
    assert_eq!(confirm, "Build: Releasebuild-17700523");
    // Two VMs were collected: the shutdown step names them by id.
    let upgrade =
        v["phases"].as_array().expect("phases").iter().find(|p| p["id"] == "upgrade").expect("upgrade");
    let shutdown =
        upgrade["steps"].as_array().expect("steps").iter().find(|s| s["id"] == "upgrade.shutdown-vms");
    let lines: Vec<&str> = shutdown.expect("shutdown step")["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["line"].as_str())
        .collect();
    assert!(!lines.is_empty(), "the simulator runs its VMs: they must be shut down");
    assert!(lines.iter().all(|l| l.starts_with("vim-cmd vmsvc/power.shutdown ")), "{lines:?}");
}
