//! `esxup report`: the fleet report of a facts folder, in a real browser
//! (headless Chromium over the DevTools protocol) and as CSV.
//!
//! The folder holds the built-in example hosts plus the bad cases a real
//! collection folder gets: a corrupt file, a file of another schema
//! version and a second file naming a host already listed. Each of those
//! is a row with its error; the other hosts still report, and the exit code
//! is 1.

mod common;

use common::cdp::open_devtools;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const TODAY: &str = "2026-11-26";

/// A facts folder: the examples, and three bad files.
fn fleet_dir(dir: &Path) -> PathBuf {
    let d = dir.join("facts");
    std::fs::create_dir_all(&d).unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for e in std::fs::read_dir(&ex).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&p, d.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(d.join("zz-corrupt.json"), b"{\"schema_version\": 1, \"hostname\": ").unwrap();
    let seed = std::fs::read_to_string(ex.join("seed.json")).unwrap();
    std::fs::write(d.join("zz-duplicate.json"), &seed).unwrap();
    let other = seed.replacen("\"schema_version\": 1", "\"schema_version\": 7", 1);
    assert_ne!(other, seed, "the seed names its schema version");
    std::fs::write(d.join("zz-schema7.json"), other).unwrap();
    d
}

fn report(dir: &Path, args: &[&str]) -> std::process::Output {
    common::esxup_on(TODAY)
        .args(["report", "--facts-dir"])
        .arg(dir)
        .args(["--target", "8.0U3e"])
        .args(args)
        .output()
        .expect("run esxup report")
}

#[test]
fn csv_has_a_row_per_host_and_an_error_row_per_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let out = report(&d, &["--format", "csv"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("Host,Cluster,Build,Release,Release date,Lifecycle,Exposures,Readiness,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 4 + 3, "{text}");
    let row =
        |name: &str| lines.iter().find(|l| l.starts_with(&format!("{name},"))).copied().unwrap_or_default();
    assert!(row("nuc-realtek").contains("BLOCKED"), "{text}");
    assert!(row("nuc-realtek").contains("NATIVE_BOOT_NIC"), "{text}");
    assert!(row("esxi-seed").contains(",18828794,ESXi 6.7 Patch 6,2021-11-23,"), "{text}");
    assert!(row("esxi-seed").contains("ISO installer (required)"), "{text}");
    assert!(text.contains("zz-corrupt.json: not JSON"), "{text}");
    assert!(text.contains("schema_version 7"), "{text}");
    assert!(text.contains("duplicate host name \"\"esxi-seed\"\""), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 host(s) could not be checked"), "{stderr}");
}

#[test]
fn json_summary_and_check_agree_on_every_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let out = report(&d, &["--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = common::esxup_on(TODAY)
        .args(["check", "--facts-dir"])
        .arg(&d)
        .args(["--target", "8.0U3e", "--format", "json", "--detail", "full"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    let full: Value = serde_json::from_slice(&check.stdout).unwrap();
    let hosts = v["hosts"].as_array().unwrap();
    let full_hosts = full["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), full_hosts.len());
    for (row, h) in hosts.iter().zip(full_hosts) {
        assert_eq!(row["name"], h["name"]);
        match h.get("report") {
            Some(r) => {
                assert_eq!(row["verdict"], r["verdict"], "{}", row["name"]);
                assert_eq!(row["blockers"], r["counts"]["blockers"]);
                assert_eq!(
                    row["exposures"]["total"].as_u64(),
                    r["exposures"].as_array().map(|a| a.len() as u64)
                );
            }
            None => assert_eq!(row["error"], h["error"]),
        }
    }
    assert_eq!(v["totals"], full["totals"]);
    assert_eq!(v["totals"]["errors"], json!(3));
}

/// The rows the page shows, as indexes into its data, and the data.
fn shown(cdp: &mut common::cdp::Cdp) -> (Vec<usize>, Value) {
    let order = cdp.eval("Array.prototype.map.call(document.querySelectorAll('#rows tr'), function(t){return Number(t.dataset.i)})");
    let data: Value =
        serde_json::from_str(cdp.eval("document.getElementById('fleet-data').textContent").as_str().unwrap())
            .unwrap();
    (order.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect(), data)
}

#[test]
fn html_report_sorts_filters_and_drills_down_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let file = tmp.path().join("fleet.html");
    let out = report(&d, &["-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let source = std::fs::read_to_string(&file).unwrap();
    assert!(source.contains("http-equiv=\"Content-Security-Policy\""), "a CSP");
    assert!(!source.contains("src=\"http") && !source.contains("href=\"http"), "no external assets");
    assert!(source.contains("@media print") && source.contains("prefers-color-scheme:dark"));
    assert!(source.contains("<svg role=\"img\""), "inline SVG charts");

    let url = format!("file://{}", file.display());
    let (_browser, mut cdp) = open_devtools(&url, &tmp.path().join("profile"));
    cdp.call("Page.enable", json!({}));
    cdp.call("Runtime.enable", json!({}));
    cdp.call("Log.enable", json!({}));
    cdp.call("Network.enable", json!({}));
    cdp.reload();
    // The script ran under a CSP that allows only its own hash.
    let csp = cdp.eval("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content");
    let csp = csp.as_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(cdp.eval("document.body.dataset.shown"), json!("7"));

    // Sort by each column, both ways: the shown order follows the column's
    // sort keys (numbers) or texts, with empty cells last.
    let ncols = cdp.eval("document.querySelectorAll('#head th').length").as_u64().unwrap() as usize;
    assert_eq!(ncols, 14);
    for col in 0..ncols {
        for dir in ["ascending", "descending"] {
            cdp.eval(&format!("document.querySelector('#head th:nth-child({}) button').click()", col + 1));
            assert_eq!(
                cdp.eval(&format!(
                    "document.querySelector('#head th:nth-child({})').getAttribute('aria-sort')",
                    col + 1
                )),
                json!(dir)
            );
            let (order, data) = shown(&mut cdp);
            assert_eq!(order.len(), 7);
            let num = data["cols"][col]["num"] == json!(true);
            let rows = data["rows"].as_array().unwrap();
            let keys: Vec<Value> = order
                .iter()
                .map(|i| if num { rows[*i]["s"][col].clone() } else { rows[*i]["c"][col].clone() })
                .collect();
            let present: Vec<&Value> = keys.iter().filter(|k| !k.is_null() && **k != json!("")).collect();
            let first_empty = keys.iter().position(|k| k.is_null() || *k == json!("")).unwrap_or(keys.len());
            assert!(
                keys[first_empty..].iter().all(|k| k.is_null() || *k == json!("")),
                "col {col} {dir}: empty cells last: {keys:?}"
            );
            for w in present.windows(2) {
                let ord = if num {
                    w[0].as_f64().unwrap().partial_cmp(&w[1].as_f64().unwrap()).unwrap()
                } else {
                    w[0].as_str().unwrap().to_lowercase().cmp(&w[1].as_str().unwrap().to_lowercase())
                };
                let ok = if dir == "ascending" { ord.is_le() } else { ord.is_ge() };
                assert!(ok, "column {col} ({}) {dir}: {keys:?}", data["cols"][col]["key"]);
            }
        }
    }

    // The text filter, then a facet; the fragment keeps them over a reload.
    cdp.eval("var q=document.getElementById('q');q.value='realtek';q.dispatchEvent(new Event('input'))");
    assert_eq!(cdp.eval("document.body.dataset.shown"), json!("1"));
    cdp.eval("var q=document.getElementById('q');q.value='';q.dispatchEvent(new Event('input'))");
    cdp.eval(
        "var s=document.getElementById('f-verdict');s.value='error';s.dispatchEvent(new Event('change'))",
    );
    assert_eq!(cdp.eval("document.body.dataset.shown"), json!("3"));
    assert!(cdp.eval("location.hash").as_str().unwrap().contains("verdict=error"));
    cdp.reload();
    assert_eq!(cdp.eval("document.getElementById('f-verdict').value"), json!("error"));
    assert_eq!(cdp.eval("document.body.dataset.shown"), json!("3"));
    cdp.eval("document.getElementById('clear').click()");
    assert_eq!(cdp.eval("document.body.dataset.shown"), json!("7"));

    // A host's drill-down lists its findings as check prints them.
    cdp.eval("document.querySelector('button.open[data-host=\"nuc-realtek\"]').click()");
    assert_eq!(cdp.eval("document.getElementById('detail').hidden"), json!(false));
    let detail = cdp.eval("document.getElementById('detail').textContent");
    let detail = detail.as_str().unwrap();
    assert!(detail.contains("NATIVE_BOOT_NIC") && detail.contains("MISSING_DEPENDENCY_VIBS"), "{detail}");
    assert!(detail.contains("VMSA-"), "advisories listed: {detail}");
    cdp.eval("document.getElementById('close').click()");
    assert_eq!(cdp.eval("document.getElementById('detail').hidden"), json!(true));

    // Print media hides the controls.
    cdp.call("Emulation.setEmulatedMedia", json!({"media": "print"}));
    assert_eq!(cdp.eval("getComputedStyle(document.querySelector('.controls')).display"), json!("none"));

    let problems = cdp.problems();
    assert!(problems.is_empty(), "console errors or exceptions:\n{}", problems.join("\n"));
    // Nothing but the page itself was requested.
    let requests: Vec<String> = cdp
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| e["params"]["request"]["url"].as_str().unwrap_or("").to_string())
        .filter(|u| u != &url)
        .collect();
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
}

#[test]
fn japanese_report_is_in_japanese() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let file = tmp.path().join("fleet-ja.html");
    let out = report(&d, &["--lang", "ja", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let url = format!("file://{}", file.display());
    let (_browser, mut cdp) = open_devtools(&url, &tmp.path().join("profile-ja"));
    cdp.call("Page.enable", json!({}));
    cdp.call("Runtime.enable", json!({}));
    cdp.reload();
    let text = cdp.eval("document.body.innerText");
    let text = text.as_str().unwrap();
    assert!(text.contains("ESXi フリートレポート"), "{text}");
    assert!(text.contains("アップグレード可否"), "{text}");
    assert!(text.contains("7 台中 7 台を表示"), "{text}");
    assert_eq!(cdp.eval("document.documentElement.lang"), json!("ja"));
    assert!(cdp.problems().is_empty(), "{:?}", cdp.problems());
}

/// On a terminal, a fleet check draws a progress bar on stderr; `--quiet`
/// leaves it out. (`script` gives the run a pseudo-terminal; stdout goes to
/// /dev/null, so what the typescript holds is stderr.)
#[test]
fn fleet_progress_bar_on_a_terminal_and_quiet_silences_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let bin = env!("CARGO_BIN_EXE_esxup");
    let run = |extra: &str| {
        let o = std::process::Command::new("script")
            .args(["-qec"])
            .arg(format!("'{bin}' check --facts-dir '{}' --target 8.0U3e {extra} >/dev/null", d.display()))
            .arg("/dev/null")
            .env("ESXUP_TODAY", TODAY)
            .env("LC_ALL", "C.UTF-8")
            .env("TERM", "xterm")
            .env_remove("ESXUP_KB")
            .output()
            .expect("run script (util-linux)");
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = run("");
    assert!(shown.contains("/7 hosts"), "a bar counting the 7 hosts: {shown:?}");
    let quiet = run("--quiet");
    assert!(!quiet.contains("hosts"), "--quiet draws no bar: {quiet:?}");
    // Not a terminal (the other tests): no bar, stderr holds only the failures' warning.
    let o = report(&d, &["--format", "csv"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("/7 hosts"));
}
