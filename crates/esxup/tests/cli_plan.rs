//! `esxup plan` end to end: the real binary, the embedded knowledge base,
//! the built-in `seed` example and every scenario fixture of `esxup check`
//! (crates/esxup-check/tests/scenarios/*/), in English and Japanese,
//! Markdown and JSON, pinned with insta snapshots. `ESXUP_TODAY` fixes the day.

mod common;

use common::{scenarios, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

fn esxup(args: &[&str], cwd: Option<&Path>) -> Output {
    let mut c = common::esxup_on("2026-11-26");
    c.args(args);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    c.output().expect("run esxup")
}

/// `key = "value"` from a scenario's expect.toml (top-level keys only).
fn expect_value(text: &str, key: &str) -> Option<String> {
    text.lines().take_while(|l| !l.trim_start().starts_with('[')).find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

#[test]
fn seed_plan_in_japanese_reads_like_a_runbook() {
    let o = esxup(&["plan", "--example", "seed", "--target", "7.0U2a", "--lang", "ja"], None);
    assert_eq!(o.status.code(), Some(1), "blocked -> exit 1 (plan still written); stderr: {}", stderr(&o));
    let out = stdout(&o);
    // Back-in-time blocker with both dates, the way out, the rollback route.
    for s in ["BACK_IN_TIME", "2021-11-23", "2021-04-29", "Shift+R", "17700523", "2021-03-18", "altbootbank"]
    {
        assert!(out.contains(s), "{s} missing");
    }
    assert!(out.starts_with("# esxi-seed の ESXi アップグレード手順書"));
    assert!(out.contains("ブロック："), "plainly blocked");
    // ISO because of Secure Boot, GPT for UEFI, the wrong-disk warning.
    assert!(out.contains("ISO インストーラー") && out.contains("セキュアブート") && out.contains("GPT"));
    assert!(out.contains("書き込み先を間違えると"));
    // Backups, trial install, licence, patching, Tools before hardware.
    for s in [
        "vim-cmd hostsvc/firmware/sync_config",
        "vim-cmd hostsvc/firmware/backup_config",
        "ghettoVCB.sh",
        "予備の USB メモリで試験インストール",
        "vim-cmd vimsvc/license --set",
        "ブランチの最新ビルドまでパッチを適用",
        "VMware Tools をアップグレードする（先に実施）",
        "esxcli system version get",
        "メンテナンスモード",
        "スナップショット",
    ] {
        assert!(out.contains(s), "{s} missing");
    }
    let tools = out.find("VMware Tools をアップグレードする").expect("tools step");
    let hw = out.find("仮想ハードウェア：必要な機能がある").expect("hardware step");
    assert!(tools < hw, "Tools before hardware");
}

#[test]
fn plan_exit_codes_and_errors() {
    let ok = esxup(&["plan", "--example", "seed", "--target", "latest-7.0"], None);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = esxup(&["plan", "--example", "seed", "--target", "9.9U9"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("hint:"), "{}", stderr(&bad));
    let none = esxup(&["plan", "--target", "7.0U3g"], None);
    assert_eq!(none.status.code(), Some(2));
    let unknown = esxup(&["plan", "--example", "nope", "--target", "7.0U3g"], None);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("seed"));
}

#[test]
fn plan_writes_the_file_with_dash_o() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("plan.json");
    let o = esxup(&["plan", "--example", "seed", "--target", "7.0U2a", "--format", "json", "-o"], None);
    assert_eq!(o.status.code(), Some(2), "-o needs a value");
    let o = esxup(
        &[
            "plan",
            "--example",
            "seed",
            "--target",
            "7.0U2a",
            "--format",
            "json",
            "-o",
            path.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty(), "the plan goes to the file");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(v["status"], "blocked");
    assert_eq!(v["route"]["is_requested"], false);
    let steps: Vec<&serde_json::Value> = v["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .flat_map(|p| p["steps"].as_array().expect("steps"))
        .collect();
    assert!(steps
        .iter()
        .all(|s| s["id"].is_string() && s["automatable"].is_boolean() && s["verify"].is_object()));
    assert!(steps.iter().any(|s| s["id"] == "after.verify-version" && s["verify"]["expect"].is_string()));
}

#[test]
fn plans_for_every_check_scenario_in_both_languages() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios())
        .expect("scenario folder of esxup check")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("facts.json").is_file() && p.join("expect.toml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 15, "expected the check scenarios, found {}", dirs.len());
    for dir in dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).expect("utf-8 name").to_string();
        let expect = std::fs::read_to_string(dir.join("expect.toml")).expect("read expect.toml");
        let target =
            expect_value(&expect, "target").unwrap_or_else(|| panic!("{name}: no target in expect.toml"));
        let mut args: Vec<String> =
            ["plan", "--facts", "facts.json", "--target", &target].iter().map(|s| s.to_string()).collect();
        if let Some(d) = expect_value(&expect, "depot") {
            args.extend(["--depot".to_string(), d]);
        }
        for lang in ["en", "ja"] {
            for format in ["md", "json"] {
                let mut a = args.clone();
                a.extend(["--lang".into(), lang.into(), "--format".into(), format.into()]);
                let refs: Vec<&str> = a.iter().map(String::as_str).collect();
                let o = esxup(&refs, Some(&dir));
                let code = o.status.code();
                assert!(
                    matches!(code, Some(0) | Some(1)),
                    "{name} {lang} {format}: exit {code:?}: {}",
                    stderr(&o)
                );
                let out = stdout(&o);
                if format == "json" {
                    let v: serde_json::Value = serde_json::from_str(&out).expect("plan json");
                    let blocked = v["status"] == "blocked";
                    assert_eq!(
                        code,
                        Some(if blocked { 1 } else { 0 }),
                        "{name}: exit code follows the status"
                    );
                    if expect_value(&expect, "verdict").as_deref() == Some("blocked") {
                        assert!(blocked, "{name}: the check says blocked, the plan must too");
                    }
                }
                assert!(!out.contains("[plan."), "{name} {lang}: a plan message key is missing");
                assert!(!out.contains("@check."), "{name} {lang}: an unresolved message reference");
                insta::assert_snapshot!(format!("plan_{name}_{lang}_{format}"), out);
            }
        }
    }
}

#[test]
fn plan_language_follows_the_locale() {
    let o = common::esxup_on("2026-11-26")
        .args(["plan", "--example", "seed", "--target", "latest-7.0"])
        .env("LC_ALL", "ja_JP.UTF-8")
        .output()
        .expect("run esxup");
    assert!(stdout(&o).starts_with("# esxi-seed の ESXi アップグレード手順書"), "{}", stdout(&o));
    let o = common::esxup_on("2026-11-26")
        .args(["plan", "--example", "seed", "--target", "latest-7.0", "--lang", "en"])
        .env("LC_ALL", "ja_JP.UTF-8")
        .output()
        .expect("run esxup");
    assert!(stdout(&o).starts_with("# ESXi upgrade runbook for esxi-seed"), "--lang wins over the locale");
}
