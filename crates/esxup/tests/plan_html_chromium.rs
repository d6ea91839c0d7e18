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

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("ESXUP_CHROMIUM") {
        return PathBuf::from(p);
    }
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!("headless Chromium not found (/usr/bin/chromium): run scripts/test.sh to install it");
}

const CHROME_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
];

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

// ---------------------------------------------------------------- DevTools

/// A minimal WebSocket client (RFC 6455): text frames, client masking,
/// continuation frames, ping/pong. Enough for the DevTools protocol.
struct Ws {
    s: TcpStream,
}

impl Ws {
    fn connect(url: &str) -> Ws {
        let rest = url.strip_prefix("ws://").expect("ws:// url");
        let (hostport, path) = rest.split_at(rest.find('/').expect("path in ws url"));
        let mut s = TcpStream::connect(hostport).expect("connect devtools");
        // Guards against a hung browser; not a timing assertion.
        s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .expect("handshake");
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).expect("read handshake");
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "websocket handshake refused: {head}");
        Ws { s }
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut f = vec![0x80 | opcode];
        let n = payload.len();
        if n < 126 {
            f.push(0x80 | n as u8);
        } else if n < 65536 {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mask = [0x13, 0x57, 0x9b, 0xdf];
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.s.write_all(&f).expect("send frame");
    }

    fn recv(&mut self) -> String {
        let mut msg = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.s.read_exact(&mut h).expect("read frame header (browser hung?)");
            let fin = h[0] & 0x80 != 0;
            let opcode = h[0] & 0x0f;
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut e = [0u8; 2];
                self.s.read_exact(&mut e).expect("len16");
                len = u64::from(u16::from_be_bytes(e));
            } else if len == 127 {
                let mut e = [0u8; 8];
                self.s.read_exact(&mut e).expect("len64");
                len = u64::from_be_bytes(e);
            }
            let mask = if h[1] & 0x80 != 0 {
                let mut m = [0u8; 4];
                self.s.read_exact(&mut m).expect("mask");
                Some(m)
            } else {
                None
            };
            let mut p = vec![0u8; len as usize];
            self.s.read_exact(&mut p).expect("payload");
            if let Some(m) = mask {
                for (i, b) in p.iter_mut().enumerate() {
                    *b ^= m[i % 4];
                }
            }
            match opcode {
                0x9 => self.send_frame(0xA, &p),
                0x8 => panic!("devtools closed the connection"),
                0xA => {}
                _ => {
                    msg.extend_from_slice(&p);
                    if fin {
                        return String::from_utf8(msg).expect("utf-8 message");
                    }
                }
            }
        }
    }
}

struct Cdp {
    ws: Ws,
    next: u64,
    events: Vec<Value>,
}

impl Cdp {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.ws.send_frame(0x1, json!({"id": id, "method": method, "params": params}).to_string().as_bytes());
        loop {
            let v: Value = serde_json::from_str(&self.ws.recv()).expect("json from devtools");
            if v["id"].as_u64() == Some(id) {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    fn wait_event(&mut self, name: &str) {
        if let Some(i) = self.events.iter().position(|e| e["method"] == name) {
            self.events.remove(i);
            return;
        }
        loop {
            let v: Value = serde_json::from_str(&self.ws.recv()).expect("json from devtools");
            if v["method"] == name {
                return;
            }
            self.events.push(v);
        }
    }

    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({"expression": expr, "returnByValue": true}));
        assert!(r.get("exceptionDetails").is_none(), "{expr} threw: {r}");
        r["result"]["value"].clone()
    }

    /// Reloads and waits until the new document's script has run.
    fn reload(&mut self) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        self.call("Page.reload", json!({}));
        self.wait_event("Page.loadEventFired");
        for _ in 0..200 {
            if self.eval("!!(document.body && document.body.dataset.js === 'ready')") == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the page script did not mark the body ready after a reload");
    }

    /// Reloads until `expr` is true after the load, at most ten times.
    fn reload_until(&mut self, expr: &str) {
        for _ in 0..10 {
            self.reload();
            if self.eval(expr) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("after ten reloads, still not true: {expr}");
    }

    fn problems(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                e["method"] == "Runtime.exceptionThrown"
                    || (e["method"] == "Runtime.consoleAPICalled" && e["params"]["type"] == "error")
                    || (e["method"] == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
            })
            .map(|e| e.to_string())
            .collect()
    }
}

struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET on the DevTools HTTP endpoint; reads exactly Content-Length bytes
/// (the browser keeps the connection open).
fn http_get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    // Guards against a hung browser; not a timing assertion.
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").is_err() {
        return String::new();
    }
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read_exact(&mut b).is_err() {
            return String::new();
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if s.read_exact(&mut body).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&body).into_owned()
}

#[test]
fn html_checklist_ticks_persist_and_no_errors_over_devtools() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write_plan(tmp.path(), "en");
    let url = format!("file://{}", file.display());
    let profile = tmp.path().join("profile-cdp");
    let child = Command::new(chromium())
        .args(CHROME_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--remote-debugging-port=0")
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let _browser = Browser(child);
    // Chromium writes the port it listens on into the profile folder.
    let port_file = profile.join("DevToolsActivePort");
    let mut port = None;
    for _ in 0..600 {
        if let Some(p) =
            std::fs::read_to_string(&port_file).ok().and_then(|t| t.lines().next()?.trim().parse().ok())
        {
            port = Some(p);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let port: u16 = port.expect("chromium did not open its DevTools port within a minute");
    let mut ws_url = None;
    for _ in 0..600 {
        let list: Value = serde_json::from_str(&http_get(port, "/json/list")).unwrap_or(Value::Null);
        if let Some(p) =
            list.as_array().and_then(|a| a.iter().find(|t| t["type"] == "page" && t["url"] == url.as_str()))
        {
            ws_url = p["webSocketDebuggerUrl"].as_str().map(str::to_string);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ws_url = ws_url.expect("the plan page did not show up in DevTools");
    let mut cdp = Cdp { ws: Ws::connect(&ws_url), next: 0, events: Vec::new() };
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
