//! Test support: starts the govmomi vSphere simulator harness
//! (testbed/vcsim, built by scripts/test.sh) and reads its URL and
//! certificate thumbprints. Included by the vim_* tests and the CLI tests.
//!
//! For the runner tests: the harness writes its call counters and host state
//! to files in a temp dir the `Sim` owns (`calls()`, `state()`), and
//! `install()` simulates an admin upgrading the host from the ISO (see
//! testbed/vcsim/README.md, "Runner support").
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const USER: &str = "root";
pub const PASSWORD: &str = "esxup-test";

/// A running simulator; killed when dropped.
pub struct Sim {
    child: Child,
    pub url: String,
    pub thumbprint: String,
    pub thumbprint_sha1: String,
    pub ca_file: PathBuf,
    pub hosts: usize,
    pub vms: usize,
    /// Holds `calls.json` and `state.json` (-calls-file, -state-file).
    files: tempfile::TempDir,
}

pub fn harness() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testbed/vcsim/bin/esxup-vcsim")
}

impl Sim {
    /// Starts the harness with `args` (`-mode esx`, `-mode vpx -hosts 3`, ...).
    pub fn start(args: &[&str]) -> Sim {
        let bin = harness();
        assert!(
            bin.exists(),
            "the vSphere simulator harness is missing at {}: run scripts/test.sh (or testbed/vcsim/build.sh)",
            bin.display()
        );
        let files = tempfile::tempdir().expect("temp dir for the simulator's files");
        let mut child = Command::new(&bin)
            .args(args)
            .args(["-user", USER, "-password", PASSWORD])
            .arg("-calls-file")
            .arg(files.path().join("calls.json"))
            .arg("-state-file")
            .arg(files.path().join("state.json"))
            .arg("-events-file")
            .arg(files.path().join("events.jsonl"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("simulator stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read simulator banner");
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("simulator banner {line:?} is not JSON: {e}"));
        let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("banner lacks {k}: {line}")).to_string();
        Sim {
            url: s("url"),
            thumbprint: s("thumbprint"),
            thumbprint_sha1: s("thumbprint_sha1"),
            ca_file: PathBuf::from(s("ca_file")),
            hosts: v["hosts"].as_u64().unwrap_or(0) as usize,
            vms: v["vms"].as_u64().unwrap_or(0) as usize,
            child,
            files,
        }
    }

    /// The call counters: `{"RebootHost_Task": 1, "PUT /folder": 2, ...}`,
    /// one per SOAP method name as sent and per `VERB /folder` / `VERB /downloads`
    /// (from -calls-file, written before each answer is sent).
    pub fn calls(&self) -> serde_json::Value {
        read_json(&self.files.path().join("calls.json"))
    }

    /// The host state (build, version, in_maintenance_mode, boot_time, down,
    /// uuid, name, vms[], license_key, slpd, cimslp_enabled, ...; from -state-file).
    pub fn state(&self) -> serde_json::Value {
        read_json(&self.files.path().join("state.json"))
    }

    /// One line per request as answered (`t_ns`, `host`, `call`,
    /// `in_maintenance_mode` after it; -events-file), in order. Harness
    /// processes share the clock: merging their lines orders their requests.
    pub fn events(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.files.path().join("events.jsonl")).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The base URL (`https://127.0.0.1:PORT`) of the harness's HTTP server.
    pub fn base_url(&self) -> String {
        self.url.trim_end_matches("/sdk").to_string()
    }

    /// Simulates an admin booting the installer ISO and upgrading the host
    /// to `version` / `build`: the host goes down (-reboot-down) and comes
    /// back with the new product, whatever its maintenance mode.
    pub fn install(&self, version: &str, build: &str) {
        let url = format!("{}/esxup-test/install?version={version}&build={build}", self.base_url());
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--cacert"])
            .arg(&self.ca_file)
            .args(["-X", "POST", &url])
            .output()
            .unwrap_or_else(|e| panic!("run curl (needed by Sim::install): {e}"));
        assert!(
            out.status.success(),
            "POST {url}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Kills the simulator now (a host that goes away).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the simulator to exit by itself (after `-die-after`).
    pub fn wait(&mut self) {
        let _ = self.child.wait();
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}
