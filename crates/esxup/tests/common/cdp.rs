//! Headless Chromium for the HTML tests: where the browser is, the flags
//! it runs with on this closed network, and a minimal DevTools-protocol
//! client (a std-only WebSocket client, RFC 6455) to click and read pages.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn chromium() -> PathBuf {
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

pub const CHROME_FLAGS: &[&str] = &[
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

// ---------------------------------------------------------------- DevTools

/// A minimal WebSocket client (RFC 6455): text frames, client masking,
/// continuation frames, ping/pong. Enough for the DevTools protocol.
pub struct Ws {
    s: TcpStream,
}

impl Ws {
    pub fn connect(url: &str) -> Ws {
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

    pub fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
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

    pub fn recv(&mut self) -> String {
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

pub struct Cdp {
    pub ws: Ws,
    pub next: u64,
    pub events: Vec<Value>,
}

impl Cdp {
    pub fn call(&mut self, method: &str, params: Value) -> Value {
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

    pub fn wait_event(&mut self, name: &str) {
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

    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({"expression": expr, "returnByValue": true}));
        assert!(r.get("exceptionDetails").is_none(), "{expr} threw: {r}");
        r["result"]["value"].clone()
    }

    /// Reloads and waits until the new document's script has run.
    pub fn reload(&mut self) {
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
    pub fn reload_until(&mut self, expr: &str) {
        for _ in 0..10 {
            self.reload();
            if self.eval(expr) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("after ten reloads, still not true: {expr}");
    }

    pub fn problems(&self) -> Vec<String> {
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

pub struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET on the DevTools HTTP endpoint; reads exactly Content-Length bytes
/// (the browser keeps the connection open).
pub fn http_get(port: u16, path: &str) -> String {
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

/// Starts Chromium on `url` with remote debugging and connects to the page.
pub fn open_devtools(url: &str, profile: &Path) -> (Browser, Cdp) {
    let child = Command::new(chromium())
        .args(CHROME_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--remote-debugging-port=0")
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let browser = Browser(child);
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
            list.as_array().and_then(|a| a.iter().find(|t| t["type"] == "page" && t["url"] == url))
        {
            ws_url = p["webSocketDebuggerUrl"].as_str().map(str::to_string);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ws_url = ws_url.expect("the page did not show up in DevTools");
    let cdp = Cdp { ws: Ws::connect(&ws_url), next: 0, events: Vec::new() };
    (browser, cdp)
}
