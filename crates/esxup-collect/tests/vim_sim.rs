//! Test support: starts the govmomi vSphere simulator harness
//! (testbed/vcsim, built by scripts/test.sh) and reads its URL and
//! certificate thumbprints. Included by the vim_* tests and the CLI tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
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
        let mut child = Command::new(&bin)
            .args(args)
            .args(["-user", USER, "-password", PASSWORD])
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
        }
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

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}
