//! `esxup collect` (saved outputs, vm-support, SSH against a real loopback
//! OpenSSH server started here) and `esxup facts show`, through the binary.
//!
//! The "host" is the composite test host of
//! crates/esxup-facts/tests/fixtures/host-a.list; the SSH server is
//! `/usr/sbin/sshd` with testbed/sshd/sshd_config.template and
//! testbed/sshd/fake-esxi.sh.

mod common;

use common::sshd::{user, Sshd};
use common::{code, stderr, stdout, write_host_a};
use esxup_collect::commands::COMMANDS;
use esxup_facts::HostFacts;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn esxup(args: &[&str]) -> Output {
    esxup_env(args, &[])
}

fn esxup_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_esxup"));
    c.args(args)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ESXUP_SSH_PASSWORD")
        .env_remove("GOVC_URL")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

// ---------------------------------------------------------------- saved outputs

#[test]
fn from_dir_writes_facts_and_facts_show_summarises_them() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    write_host_a(&out);
    let facts = t.path().join("facts.json");
    let o = esxup(&["collect", "--from-dir", out.to_str().unwrap(), "-o", facts.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote the facts of esxi-01.npcsolutions.co.za"), "{}", stderr(&o));
    assert!(stderr(&o).contains("4 outputs were not collected"), "{}", stderr(&o));

    // Normalise the temp path out of `source` for a stable snapshot.
    let mut f = HostFacts::from_json_file(&facts).unwrap();
    f.source = Some("dir:host-a".into());
    std::fs::write(&facts, f.to_json_pretty()).unwrap();
    let o = esxup(&["facts", "show", facts.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!("facts_show_host_a", stdout(&o));

    let o = esxup(&["facts", "show", "--format", "json", facts.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    let back: HostFacts = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(back, f);
}

#[test]
fn from_dir_without_output_prints_summary_or_json() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("vmware-vl.txt"),
        "VMware ESXi 8.0.1 build-21813344\nVMware ESXi 8.0 Update 1\n",
    )
    .unwrap();
    let o = esxup(&["collect", "--from-dir", t.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("ESXi 8.0.1 build 21813344 (Update 1)"), "{s}");
    assert!(s.contains("Unknown:") && s.contains("CPU"), "{s}");
    assert!(
        s.contains("esxcli --formatter=xml hardware cpu global get > esxcli-hardware-cpu-global-get.txt"),
        "{s}"
    );
    let o = esxup(&["collect", "--from-dir", t.path().to_str().unwrap(), "--format", "json"]);
    let mut f: HostFacts = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(f.product.as_ref().unwrap().build, 21813344);
    assert_eq!(f.cpu, None);
    // The summary of facts that are mostly unknown lists them as unknown.
    f.source = Some("dir:sparse".into());
    f.collection_notes.truncate(2);
    let file = t.path().join("sparse.json");
    std::fs::write(&file, f.to_json_pretty()).unwrap();
    let o = esxup(&["facts", "show", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!("facts_show_sparse", stdout(&o));
}

#[test]
fn truncated_output_is_an_error_naming_command_and_line() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    write_host_a(&out);
    std::fs::write(out.join("esxcli-software-vib-list.txt"), "Name      Version   Vendor  Acceptance Level  Install Date\n--------  --------  ------  ----------------  ------------\nesx-base  7.0.0-1   VMware  VMwareCertified   2020-04-03\nesx-ui    1.3").unwrap();
    let facts = t.path().join("f.json");
    let o = esxup(&["collect", "--from-dir", out.to_str().unwrap(), "-o", facts.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("error: parse output of `esxcli software vib list`, line 4"), "{e}");
    // The other facts were still written; the VIBs stay unknown.
    let f = HostFacts::from_json_file(&facts).unwrap();
    assert_eq!(f.vibs, None);
    assert!(f.product.is_some());
}

#[test]
fn facts_show_refuses_other_schema_versions_and_junk() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("f.json");
    std::fs::write(&p, "{\"schema_version\": 7}").unwrap();
    let o = esxup(&["facts", "show", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("schema_version 7 is newer than this esxup understands"), "{}", stderr(&o));
    std::fs::write(&p, [0xff, 0xfe, 0x00]).unwrap();
    let o = esxup(&["facts", "show", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("read facts file"), "{}", stderr(&o));
}

#[test]
fn from_dir_also_reads_the_snippets_tgz() {
    // The docs' snippet packs /tmp/esxup into esxup-outputs.tgz: esxup/<file>.txt.
    let t = tempfile::tempdir().unwrap();
    write_host_a(&t.path().join("esxup"));
    let tgz = t.path().join("esxup-outputs.tgz");
    let st = Command::new("tar")
        .args(["czf", tgz.to_str().unwrap(), "-C", t.path().to_str().unwrap(), "esxup"])
        .status()
        .unwrap();
    assert!(st.success());
    let o = esxup(&["collect", "--from-dir", tgz.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f: HostFacts = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(f.hostname.as_deref(), Some("esxi-01.npcsolutions.co.za"));
    assert_eq!(f.vms.map(|v| v.len()), Some(3));
    assert_eq!(f.source, Some(format!("archive:{}", tgz.display())));
}

#[test]
fn two_sources_are_refused() {
    let o = esxup(&["collect", "--from-dir", ".", "--ssh", "root@h"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

#[test]
fn collect_without_a_source_says_which_flags_exist() {
    let o = esxup(&["collect"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("hint: give --ssh USER@HOST, --from-dir DIR"), "{}", stderr(&o));
}

#[test]
fn vm_support_bundle_through_the_cli() {
    let t = tempfile::tempdir().unwrap();
    let top = t.path().join("esx-esxi-01-2026-11-26--22.00");
    std::fs::create_dir_all(top.join("commands")).unwrap();
    let out = t.path().join("out");
    write_host_a(&out);
    for (saved, bundled) in [
        ("vmware-vl.txt", "vmware_-vl.txt"),
        ("esxcli-software-vib-list.txt", "localcli_software-vib-list.txt"),
        ("esxcli-hardware-memory-get.txt", "localcli_hardware-memory-get.txt"),
    ] {
        std::fs::copy(out.join(saved), top.join("commands").join(bundled)).unwrap();
    }
    let tgz = t.path().join("bundle.tgz");
    let st = Command::new("tar")
        .args([
            "czf",
            tgz.to_str().unwrap(),
            "-C",
            t.path().to_str().unwrap(),
            "esx-esxi-01-2026-11-26--22.00",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let o = esxup(&["collect", "--vm-support", tgz.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f: HostFacts = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(f.memory_bytes, Some(240470433792));
    assert_eq!(f.vibs.map(|v| v.len()), Some(60));

    let junk = t.path().join("junk.tgz");
    std::fs::write(&junk, b"\x1f\x8b\x08 not really").unwrap();
    let o = esxup(&["collect", "--vm-support", junk.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("read vm-support bundle"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- SSH

#[test]
fn ssh_collects_the_same_facts_as_saved_outputs() {
    let s = Sshd::start("prohibit-password", None);
    let kh = s.known_hosts();
    let ssh_json = s.path("ssh.json");
    let o = s.collect(["--known-hosts", &kh], &["-o", &ssh_json]);
    assert_eq!(code(&o), 0, "{}\nsshd log:\n{}", stderr(&o), s.log());
    let via_ssh = HostFacts::from_json_file(Path::new(&ssh_json)).unwrap();
    assert_eq!(via_ssh.source, Some(format!("ssh:{}", s.target())));
    assert!(via_ssh.collected_on.is_some());

    let dir_json = s.path("dir.json");
    let o = esxup(&["collect", "--from-dir", &s.path("out"), "-o", &dir_json]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let via_dir = HostFacts::from_json_file(Path::new(&dir_json)).unwrap();

    // Same facts; only the source differs, and the notes on missing per-VM
    // outputs (a missing file vs a failing command) are worded differently.
    let strip = |mut f: HostFacts| {
        f.source = None;
        f.collected_on = None;
        f.collection_notes.retain(|n| !n.starts_with("not collected"));
        f
    };
    assert_eq!(strip(via_ssh.clone()), strip(via_dir));
    assert_eq!(via_ssh.vibs.as_ref().map(Vec::len), Some(60));
    assert!(via_ssh
        .collection_notes
        .iter()
        .any(|n| n.contains("vim-cmd vmsvc/get.summary 1") && n.contains("status 127")));
}

#[test]
fn ssh_pinned_fingerprint_is_accepted_and_a_wrong_one_refused() {
    let s = Sshd::start("prohibit-password", None);
    let fp = s.fingerprint();
    let o = s.collect(["--ssh-fingerprint", &fp], &["--format", "json"]);
    assert_eq!(code(&o), 0, "{}\n{}", stderr(&o), s.log());
    let f: HostFacts = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(f.product.unwrap().build, 24677879);

    let o = s.collect(["--ssh-fingerprint", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], &[]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("HOST KEY MISMATCH") && e.contains(&fp), "{e}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn ssh_unknown_host_key_is_refused_with_its_fingerprint_and_the_flag() {
    let s = Sshd::start("prohibit-password", None);
    let empty = s.path("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let o = s.collect(["--known-hosts", &empty], &[]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    let fp = s.fingerprint();
    assert!(e.contains(&format!("host key {fp} (ecdsa-sha2-nistp256) is not known")), "{e}");
    assert!(e.contains(&format!("--ssh-fingerprint {fp}")), "{e}");

    // Hashed known_hosts entries (`ssh-keygen -H`, HashKnownHosts) match too.
    let kh = s.known_hosts();
    let st = Command::new("ssh-keygen").args(["-q", "-H", "-f", &kh]).stdout(Stdio::null()).status().unwrap();
    assert!(st.success());
    assert!(std::fs::read_to_string(&kh).unwrap().starts_with("|1|"));
    let o = s.collect(["--known-hosts", &kh], &["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // A known_hosts line for this host with another key: refused as changed.
    let other = std::fs::read_to_string(s.path("wrong_key.pub")).unwrap();
    let mut p = other.split_whitespace();
    let changed = s.path("changed_known_hosts");
    std::fs::write(&changed, format!("[127.0.0.1]:{} {} {}\n", s.port, p.next().unwrap(), p.next().unwrap()))
        .unwrap();
    let o = s.collect(["--known-hosts", &changed], &[]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("HOST KEY MISMATCH"), "{}", stderr(&o));
}

#[test]
fn ssh_wrong_key_or_password_is_a_clear_error() {
    let s = Sshd::start("yes", None);
    let kh = s.known_hosts();
    let o =
        esxup(&["collect", "--ssh", &s.target(), "--known-hosts", &kh, "--identity", &s.path("wrong_key")]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains(&format!("authentication failed as {}", user())) && e.contains("publickey"), "{e}");
    assert!(e.contains("hint:"), "{e}");

    let o = esxup_env(
        &["collect", "--ssh", &s.target(), "--known-hosts", &kh],
        &[("ESXUP_SSH_PASSWORD", "not-the-password")],
    );
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("authentication failed") && e.contains("password"), "{e}");
    assert!(!e.contains("not-the-password"), "the password must never be printed: {e}");

    let pw = s.path("pw");
    std::fs::write(&pw, "also-wrong\n").unwrap();
    let o = esxup(&["collect", "--ssh", &s.target(), "--known-hosts", &kh, "--password-file", &pw]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("authentication failed"), "{}", stderr(&o));
}

#[test]
fn ssh_host_that_stops_answering_times_out() {
    // The first command hangs, so that a slow machine cannot time out earlier.
    let hang = COMMANDS[0].command;
    let s = Sshd::start("prohibit-password", Some(hang));
    let kh = s.known_hosts();
    let o = s.collect(["--known-hosts", &kh], &["--timeout", "5"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(&format!("timed out after 5s waiting for `{hang}`")), "{e}");
    assert!(e.contains("hint: raise --timeout"), "{e}");
}

#[test]
fn ssh_unreachable_host_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = esxup(&["collect", "--ssh", &format!("root@127.0.0.1:{port}"), "--ssh-fingerprint", "SHA256:x"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(&format!("ssh root@127.0.0.1:{port}: connect:")), "{}", stderr(&o));
}

#[test]
fn ssh_connection_lost_mid_collection_is_an_error() {
    let at = "esxcli --formatter=xml hardware pci list";
    let s = Sshd::start_with("prohibit-password", None, Some(at));
    let kh = s.known_hosts();
    let out = s.path("f.json");
    let o = s.collect(["--known-hosts", &kh], &["--timeout", "5", "-o", &out]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(&format!("ssh {}", s.target())) && e.contains(&format!("`{at}`")), "{e}");
    assert!(!Path::new(&out).exists(), "no facts file from a collection that failed half-way");
}
