//! Helpers shared by the CLI test binaries of `esxup` (each includes this
//! module with `mod common;` and uses the parts it needs): the real binary
//! with a fixed day, its output as text, the scenario fixtures.

#![allow(dead_code)]

pub mod sshd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real `esxup` binary reporting as of `today` (`ESXUP_TODAY`), in the
/// C locale, with the built-in knowledge base (no `ESXUP_KB`).
pub fn esxup_on(today: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_esxup"));
    c.env("ESXUP_TODAY", today).env("LC_ALL", "C.UTF-8").env_remove("ESXUP_KB");
    c
}

/// Standard output of a run, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error of a run, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code of a run (-1 when it was killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The scenario fixtures of `esxup check` (crates/esxup-check/tests/scenarios).
pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../esxup-check/tests/scenarios")
}

/// Writes the small synthetic depot (`scripts/gen-synthetic-depot.py
/// --small`) into `root`.
pub fn write_synthetic_depot(root: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-synthetic-depot.py");
    let out =
        Command::new("python3").arg(script).arg(root).arg("--small").output().unwrap_or_else(|e| {
            panic!("python3 is needed for the synthetic depot ({e}): run scripts/test.sh")
        });
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
