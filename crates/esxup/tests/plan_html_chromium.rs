//! The HTML runbook in a real browser: headless Chromium (installed by
//! `scripts/test.sh`) loads the file `esxup plan --format html` wrote.
//!
//! - `--dump-dom`: it renders, the script ran (`data-js="ready"`), every
//!   step has its checkbox and the progress counter reads `0 / N`, and
//!   Chromium's log shows no console error or uncaught exception;
//! - over the DevTools protocol (a small std-only WebSocket client below):
//!   ticking a box moves the counter, the tick survives a reload
//!   (localStorage), "clear" empties it, print media hides the toolbar, and
//!   no exception or console error is reported throughout.

mod common;

use common::cdp::{chromium, open_devtools, CHROME_FLAGS};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes the seed's runbook as HTML into `dir` and returns its path.
fn write_plan(dir: &Path, lang: &str) -> PathBuf {
    let out = dir.join(format!("plan-{lang}.html"));
    let st = Command::new(env!("CARGO_BIN_EXE_esxup"))
        .args(["plan", "--example", "seed", "--target", "7.0U2a", "--format", "html", "--lang", lang, "-o"])
        .arg(&out)
        .env("ESXUP_TODAY", "2026-11-26")
        .env_remove("ESXUP_KB")
        .output()
        .expect("run esxup plan");
    assert_eq!(st.status.code(), Some(1), "seed plan is blocked: {}", String::from_utf8_lossy(&st.stderr));
    out
}

fn attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let tag = &body[..body.find('>')?];
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(&tag[at..at + tag[at..].find('"')?])
}

fn console_problems(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("Uncaught") || l.contains(":CONSOLE")).collect()
}

#[test]
fn html_plan_renders_and_its_script_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for lang in ["en", "ja"] {
        let file = write_plan(tmp.path(), lang);
        let source = std::fs::read_to_string(&file).expect("read html");
        assert!(!source.contains("src=\"http") && !source.contains("href=\"http"), "no external assets");
        assert!(source.contains("@media print"), "printable");
        let ticks = source.matches("class=\"tick\"").count();
        assert!(ticks >= 20, "a checkbox per step, found {ticks}");
        let profile = tmp.path().join(format!("profile-dump-{lang}"));
        let out = Command::new(chromium())
            .args(CHROME_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
            .arg(format!("file://{}", file.display()))
            .output()
            .expect("run chromium --dump-dom");
        let dom = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "chromium failed: {log}");
        assert_eq!(attr(&dom, "data-js"), Some("ready"), "script did not run; log:\n{log}");
        assert_eq!(attr(&dom, "data-total"), Some(ticks.to_string().as_str()));
        assert_eq!(attr(&dom, "data-done"), Some("0"));
        let label = if lang == "ja" { "完了" } else { "done" };
        assert!(dom.contains(&format!("0 / {ticks} {label}")), "progress counter missing");
        for id in
            ["before.backup-config", "media.write-usb", "after.verify-version", "rollback.altbootbank-now"]
        {
            assert!(dom.contains(&format!("data-step=\"{id}\"")), "step {id} missing from the DOM");
        }
        // The check's info findings are listed after the warnings (the seed
        // has no collected locker space and VMs still running).
        assert!(dom.contains("<section id=\"notes\">"), "info findings section missing");
        for id in ["LOCKER_SPACE_AVAIL", "MAINTENANCE_MODE"] {
            assert!(
                dom.contains(&format!("<li data-id=\"{id}\">")),
                "info finding {id} missing from the DOM"
            );
        }
        let problems = console_problems(&log);
        assert!(problems.is_empty(), "console errors:\n{}", problems.join("\n"));
    }
}

#[test]
fn html_checklist_ticks_persist_and_no_errors_over_devtools() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write_plan(tmp.path(), "en");
    let url = format!("file://{}", file.display());
    let (_browser, mut cdp) = open_devtools(&url, &tmp.path().join("profile-cdp"));
    cdp.call("Page.enable", json!({}));
    cdp.call("Runtime.enable", json!({}));
    cdp.call("Log.enable", json!({}));
    cdp.reload();

    assert_eq!(cdp.eval("document.body.dataset.js"), json!("ready"));
    let total = cdp.eval("document.querySelectorAll('input.tick').length").as_u64().expect("count");
    assert!(total >= 20);
    assert_eq!(
        cdp.eval("document.getElementById('progress').textContent"),
        json!(format!("0 / {total} done"))
    );

    // Tick two steps by clicking their labels, as a user would.
    cdp.eval("document.querySelector('label[for=\"tick-before.backup-config\"]').click()");
    cdp.eval("document.getElementById('tick-after.verify-version').click()");
    assert_eq!(
        cdp.eval("document.getElementById('progress').textContent"),
        json!(format!("2 / {total} done"))
    );
    assert_eq!(
        cdp.eval("document.getElementById('step-before.backup-config').classList.contains('done')"),
        json!(true)
    );

    // The ticks survive a reload (localStorage). The browser commits
    // localStorage asynchronously, so a reload may come too early: reload
    // again a few times before concluding that nothing was stored.
    cdp.reload_until("document.getElementById('tick-before.backup-config').checked");
    assert_eq!(cdp.eval("document.getElementById('tick-before.backup-config').checked"), json!(true));
    assert_eq!(cdp.eval("document.getElementById('tick-after.verify-version').checked"), json!(true));
    assert_eq!(cdp.eval("document.getElementById('tick-before.advisories').checked"), json!(false));
    assert_eq!(cdp.eval("document.body.dataset.done"), json!("2"));

    // Untick one, clear the rest.
    cdp.eval("document.getElementById('tick-after.verify-version').click()");
    assert_eq!(cdp.eval("document.body.dataset.done"), json!("1"));
    cdp.eval("document.getElementById('reset').click()");
    cdp.reload_until("document.body.dataset.done === '0'");
    assert_eq!(cdp.eval("document.body.dataset.done"), json!("0"));

    // Print media hides the toolbar and keeps the steps.
    cdp.call("Emulation.setEmulatedMedia", json!({"media": "print"}));
    assert_eq!(cdp.eval("getComputedStyle(document.querySelector('.toolbar')).display"), json!("none"));
    assert_ne!(cdp.eval("getComputedStyle(document.querySelector('article.step')).display"), json!("none"));

    let problems = cdp.problems();
    assert!(problems.is_empty(), "console errors or exceptions:\n{}", problems.join("\n"));
}
