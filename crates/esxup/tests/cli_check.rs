//! `esxup check` end to end: the real binary, the embedded knowledge base,
//! the built-in examples and the scenario fixtures. Output is pinned with
//! insta snapshots; `ESXUP_TODAY` fixes the report day.

mod common;
#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use common::{scenarios, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

fn esxup(args: &[&str]) -> Output {
    common::esxup_on("2026-01-15").args(args).output().expect("run esxup")
}

#[test]
fn seed_table_reports_back_in_time_rollback_and_iso() {
    let o = esxup(&["check", "--example", "seed", "--target", "7.0U2a"]);
    assert_eq!(o.status.code(), Some(1), "blocked -> exit 1; stderr: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("BACK_IN_TIME"));
    assert!(out.contains("2021-11-23") && out.contains("2021-04-29"));
    assert!(out.contains("Shift+R") && out.contains("17700523") && out.contains("2021-03-18"));
    assert!(out.contains("ISO installer (required)"));
    insta::assert_snapshot!("seed_table_en", out);
}

#[test]
fn seed_json_is_the_documented_structure() {
    let o = esxup(&["check", "--example", "seed", "--target", "7.0U2a", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["verdict"], "blocked");
    assert_eq!(v["target"]["release"]["build"], 17867351);
    assert_eq!(v["method"]["kind"], "iso");
    assert_eq!(v["method"]["required"], true);
    assert_eq!(v["recommendation"]["rollback"]["build"], 17700523);
    assert_eq!(v["findings"][0]["id"], "BACK_IN_TIME");
    assert!(v["recommendation"]["best"]["build"].as_u64().unwrap() >= 19193900);
    insta::assert_json_snapshot!("seed_json", v);
}

#[test]
fn seed_auto_in_japanese_markdown() {
    let o = esxup(&["check", "--example", "seed", "--target", "auto", "--format", "md", "--lang", "ja"]);
    assert_eq!(o.status.code(), Some(0), "auto target has no blocker; stderr: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("最適なターゲット"));
    assert!(out.contains("バックインタイムではありません"));
    insta::assert_snapshot!("seed_auto_md_ja", out);
}

#[test]
fn seed_with_the_u2a_vib_list_names_vmkusb() {
    let list = scenarios().join("seed-with-depot-vmkusb/vibs.txt");
    let o = esxup(&["check", "--example", "seed", "--target", "7.0U2a", "--depot", list.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("vmkusb 0.1-4vmw.670.3.159.18828794 > 0.1-1vmw.702.0.0.17867351"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn seed_with_a_u2a_depot_profile_reports_the_simulated_esxcli_dependency_error() {
    // The small synthetic depot (real schema; the 7.0 U2a profile from its
    // real VIB list) written by scripts/gen-synthetic-depot.py, as the depot
    // crate's own tests use it.
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("depot");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-synthetic-depot.py");
    let gen = Command::new("python3").arg(&script).arg(&root).arg("--small").output().unwrap_or_else(|e| {
        panic!("python3 is needed to generate the synthetic depot ({e}): run scripts/test.sh")
    });
    assert!(gen.status.success(), "generator failed: {}", String::from_utf8_lossy(&gen.stderr));
    let o = esxup(&["check", "--example", "seed", "--target", "7.0U2a", "--depot", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "blocked -> exit 1; stderr: {}", stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains("[blocker] MISSING_DEPENDENCY_VIBS"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("ESXi-7.0U2a-17867351-standard"), "{line}");
    assert!(
        out.contains("[DependencyError] VIB VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794 requires vmkapi_incompat_2_5_0_0, but the requirement cannot be satisfied within the ImageProfile."),
        "{out}"
    );
    // The same host with only a VIB id list (no profile to apply): no simulation.
    let list = scenarios().join("seed-with-depot-vmkusb/vibs.txt");
    let o = esxup(&["check", "--example", "seed", "--target", "7.0U2a", "--depot", list.to_str().unwrap()]);
    assert!(!stdout(&o).contains("[DependencyError]"), "{}", stdout(&o));
}

#[test]
fn ready_host_exits_zero() {
    let o = esxup(&["check", "--example", "clean-70u3", "--target", "latest-8.0"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn other_schema_version_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.json");
    let text = std::fs::read_to_string(scenarios().join("seed-67p06-to-70u2a/facts.json")).unwrap();
    std::fs::write(&p, text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1)).unwrap();
    let o = esxup(&["check", "--facts", p.to_str().unwrap(), "--target", "7.0U3c"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("schema_version 2"), "{e}");
    assert!(e.contains("hint:"), "{e}");
}

#[test]
fn not_a_facts_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.json");
    std::fs::write(&p, "{\"hello\": 1}").unwrap();
    let o = esxup(&["check", "--facts", p.to_str().unwrap(), "--target", "7.0U3c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("schema_version"), "{}", stderr(&o));
    let missing = esxup(&["check", "--facts", "/nonexistent/facts.json", "--target", "7.0U3c"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/facts.json"));
}

#[test]
fn unknown_target_is_an_error() {
    let o = esxup(&["check", "--example", "seed", "--target", "99999999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("target \"99999999\""), "{}", stderr(&o));
    let o = esxup(&["check", "--example", "nope", "--target", "7.0U3c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("seed"), "the hint lists the examples: {}", stderr(&o));
}

#[test]
fn fleet_prints_one_line_per_host_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    for s in ["seed-67p06-to-70u2a", "clean-70u3i-to-80u3", "sandy-bridge-67-to-70", "hop-60-to-70"] {
        std::fs::copy(scenarios().join(s).join("facts.json"), dir.path().join(format!("{s}.json"))).unwrap();
    }
    let o = esxup(&["check", "--facts-dir", dir.path().to_str().unwrap(), "--target", "7.0U3c"]);
    assert_eq!(o.status.code(), Some(1), "some host blocked -> 1; {}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 5, "{out}");
    insta::assert_snapshot!("fleet_70u3c", out);
    // A broken file is a host that failed (exit 1, as a blocked host is),
    // and the others still print.
    std::fs::write(dir.path().join("zz-broken.json"), "not json").unwrap();
    let o = esxup(&["check", "--facts-dir", dir.path().to_str().unwrap(), "--target", "7.0U3c"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("zz-broken") && stdout(&o).contains("ERROR"));
}

#[test]
fn lists_examples() {
    let o = esxup(&["check", "--example", "list", "--target", "auto"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).lines().any(|l| l.split_whitespace().next() == Some("seed")), "{}", stdout(&o));
}

#[test]
fn realtek_to_80_with_the_realtek_driver_bundle() {
    // VMware's Realtek driver for 8.0 (if-re, PCIID 10ec:8168 among others),
    // a real component bundle from the depot crate's fixtures.
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../esxup-depot/tests/fixtures/components-7x/8-updates_VMware-Re-Driver_1.101.01-5vmw.800.1.0.20613240.zip");
    let without = esxup(&["check", "--example", "realtek-homelab", "--target", "8.0U3", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&without.stdout).unwrap();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect()
    };
    assert!(ids(&v).contains(&"NATIVE_BOOT_NIC".to_string()), "{:?}", ids(&v));
    assert!(ids(&v).contains(&"COMMUNITY_DRIVER".to_string()));
    let with = esxup(&[
        "check",
        "--example",
        "realtek-homelab",
        "--target",
        "8.0U3",
        "--format",
        "json",
        "--depot",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(with.status.code(), Some(1), "{}", stderr(&with));
    let v: serde_json::Value = serde_json::from_slice(&with.stdout).unwrap();
    let got = ids(&v);
    assert!(
        !got.contains(&"NATIVE_BOOT_NIC".to_string()),
        "the bundle's if-re driver claims 10ec:8168: {got:?}"
    );
    assert!(!got.contains(&"COMMUNITY_DRIVER".to_string()), "{got:?}");
    // The old vmklinux VIB must still be removed before the upgrade.
    assert!(got.contains(&"MISSING_DEPENDENCY_VIBS".to_string()), "{got:?}");
}

#[test]
fn checks_a_live_host_over_the_api() {
    // The govmomi simulator as a 6.7 host (build 17700523), started by the test.
    let sim = sim::Sim::start(&["-mode", "esx", "-product", "6.7.0", "-vms", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_esxup"))
        .args(["check", "--host", &sim.url, "--user", "root", "--thumbprint", &sim.thumbprint])
        .arg("--password-file")
        .arg(&pw)
        .args(["--target", "7.0U3c", "--format", "json"])
        .env("ESXUP_TODAY", "2026-01-15")
        .env_remove("GOVC_URL")
        .env_remove("ESXUP_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    assert_eq!(v["host"]["build"], 17700523);
    assert_eq!(v["target"]["release"]["build"], 19193900);
}

#[test]
fn community_bundle_above_host_acceptance_blocks() {
    // ghettoVCB's offline bundle (CommunitySupported), a real fixture of the
    // depot crate, added to a host whose acceptance level is PartnerSupported.
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../esxup-depot/tests/fixtures/ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip",
    );
    let o = esxup(&[
        "check",
        "--example",
        "clean-70u3",
        "--target",
        "latest-7.0",
        "--format",
        "json",
        "--depot",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "HOST_ACCEPTANCE")
        .expect("HOST_ACCEPTANCE");
    assert_eq!(f["severity"], "blocker");
    assert_eq!(f["args"]["vib_level"], "CommunitySupported");
    assert_eq!(f["args"]["host_level"], "PartnerSupported");
}

#[test]
fn an_example_without_target_uses_its_own_target() {
    // The seed's admin was aiming at 7.0 U2a: without --target the seed is
    // checked against that, and the back-in-time blocker follows.
    let out = esxup(&["check", "--example", "seed", "--format", "json"]);
    assert_eq!(common::code(&out), 1, "stderr: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json report");
    assert_eq!(v["target"]["release"]["build"], 17867351, "{}", v["target"]);
    assert!(stdout(&out).contains("BACK_IN_TIME"));
}

#[test]
fn a_facts_file_without_target_is_an_error_with_a_hint() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/seed.json");
    let out = esxup(&["check", "--facts", seed]);
    assert_eq!(common::code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("error: no target given"), "{err}");
    assert!(err.contains("hint: name one with --target"), "{err}");
}
