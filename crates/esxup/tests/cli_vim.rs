//! `esxup collect --host` / `--inventory` end to end, against the real govmomi
//! simulator (testbed/vcsim): certificates, credentials from govc's
//! environment variables, wrong passwords, fleets with failing members.

mod common;
#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use common::code;
use sim::Sim;
use std::path::Path;
use std::process::Command;

fn esxup() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_esxup"));
    for v in [
        "GOVC_URL",
        "GOVC_USERNAME",
        "GOVC_PASSWORD",
        "GOVC_INSECURE",
        "GOVC_TLS_KNOWN_HOSTS",
        "GOVC_TLS_CA_CERTS",
        "ESXUP_PASSWORD",
    ] {
        c.env_remove(v);
    }
    c.stdin(std::process::Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Replaces the run-specific parts (port, thumbprint, temp dirs) for snapshots.
fn redact(s: &str, sim: &Sim, dir: &Path) -> String {
    let port = sim.url.trim_end_matches("/sdk").rsplit(':').next().unwrap_or("").to_string();
    s.replace(&sim.thumbprint, "[SHA256]")
        .replace(&format!(":{port}/"), ":[PORT]/")
        .replace(&dir.display().to_string(), "[DIR]")
}

#[test]
fn unknown_certificate_refused_with_pin_hint() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let o = esxup()
        .args(["collect", "--host", &sim.url, "--user", "root"])
        .env("ESXUP_PASSWORD", sim::PASSWORD)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("unknown_certificate", redact(&text(&o.stderr), &sim, dir.path()));
}

#[test]
fn pinned_host_writes_facts() {
    let sim = Sim::start(&["-mode", "esx", "-product", "6.7.0", "-vms", "3"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("facts");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).unwrap();
    let o = esxup()
        .args(["collect", "--host", &sim.url, "--user", "root", "--thumbprint", &sim.thumbprint])
        .arg("--password-file")
        .arg(&pw)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let path = out.join("localhost.localdomain.json");
    assert_eq!(text(&o.stdout).trim(), path.display().to_string());
    let f = esxup_facts::HostFacts::from_json_file(&path).unwrap();
    let p = f.product.unwrap();
    assert_eq!((p.version.to_string(), p.build), ("6.7.0".to_string(), 17700523));
    assert_eq!(f.vms.unwrap().len(), 3);
    insta::assert_snapshot!("pinned_summary", redact(&text(&o.stderr), &sim, dir.path()));

    // The facts feed the check: the host's TPM 1.2 (HostCapability.tpmVersion,
    // set by the harness) is what 8.0 no longer supports.
    let o = esxup()
        .env("ESXUP_TODAY", "2026-11-26")
        .args(["check", "--target", "8.0U3", "--format", "json", "--facts"])
        .arg(&path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&text(&o.stdout)).expect("check JSON");
    let tpm = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "TPM_VERSION")
        .unwrap_or_else(|| panic!("no TPM_VERSION finding: {}", text(&o.stdout)));
    assert_eq!(tpm["severity"], "warning");
}

#[test]
fn wrong_password_exits_2() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let o = esxup()
        .args(["collect", "--host", &sim.url, "--user", "root", "--thumbprint", &sim.thumbprint])
        .env("ESXUP_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("wrong_password", redact(&text(&o.stderr), &sim, dir.path()));
}

#[test]
fn no_password_without_terminal_is_an_error_not_a_hang() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let o = esxup().args(["collect", "--host", &sim.url, "--user", "root", "--insecure"]).output().unwrap();
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("no_password", redact(&text(&o.stderr), &sim, dir.path()));
}

#[test]
fn insecure_warns() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let o = esxup()
        .args(["collect", "--host", &sim.url, "--user", "root", "--insecure"])
        .arg("--out-dir")
        .arg(dir.path())
        .env("ESXUP_PASSWORD", sim::PASSWORD)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.starts_with("warning: --insecure: the certificate of https://127.0.0.1:"), "{err}");
    assert!(err.contains("is NOT checked"), "{err}");
}

#[test]
fn govc_environment_with_known_hosts() {
    let sim = Sim::start(&["-mode", "vpx", "-hosts", "2", "-vms", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    let hostport = sim.url.trim_start_matches("https://").trim_end_matches("/sdk").to_string();
    // govc writes `host thumbprint` lines; SHA-1 in older govc versions.
    std::fs::write(&known, format!("other.example.com AA:BB\n{hostport} {}\n", sim.thumbprint_sha1)).unwrap();
    let o = esxup()
        .args(["collect", "--host", "--out-dir"])
        .arg(dir.path().join("out"))
        .env("GOVC_URL", &sim.url)
        .env("GOVC_USERNAME", sim::USER)
        .env("GOVC_PASSWORD", sim::PASSWORD)
        .env("GOVC_TLS_KNOWN_HOSTS", &known)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 2);
    assert!(text(&o.stderr).contains("warning: pinning https://127.0.0.1:"), "SHA-1 pins warn");
}

#[test]
fn host_dying_mid_collection_exits_2() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "2", "-die-after", "4"]);
    let o = esxup()
        .args(["collect", "--host", &sim.url, "--user", "root", "--thumbprint", &sim.thumbprint])
        .env("ESXUP_PASSWORD", sim::PASSWORD)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.starts_with("error: RetrievePropertiesEx https://127.0.0.1:"), "{err}");
    assert!(err.contains("hint: check the host name"), "{err}");
}

#[test]
fn fleet_keeps_good_hosts_and_reports_failures() {
    let vc = Sim::start(&["-mode", "vpx", "-hosts", "3", "-vms", "6"]);
    let esx = Sim::start(&["-mode", "esx", "-product", "7.0.3", "-vms", "2"]);
    let bad = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("fleet.toml");
    std::fs::write(
        &inv,
        format!(
            r#"[defaults]
user = "root"
password_env = "FLEET_PW"

[[vcenter]]
url = "{}"
name = "vc"
thumbprint = "{}"

[[host]]
url = "{}"
name = "esx70"
ca_file = "{}"

[[host]]
url = "{}"
name = "untrusted"
"#,
            vc.url,
            vc.thumbprint,
            esx.url,
            esx.ca_file.display(),
            bad.url
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = esxup()
        .args(["collect", "--concurrency", "2", "--inventory"])
        .arg(&inv)
        .arg("--out-dir")
        .arg(&out)
        .env("FLEET_PW", sim::PASSWORD)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["DC0_H0.json", "DC0_H1.json", "DC0_H2.json", "localhost.localdomain.json"]);
    let esx70 = esxup_facts::HostFacts::from_json_file(&out.join("localhost.localdomain.json")).unwrap();
    assert_eq!(esx70.product.unwrap().build, 20328353);
    let err = redact(&redact(&redact(&text(&o.stderr), &vc, dir.path()), &esx, dir.path()), &bad, dir.path());
    insta::assert_snapshot!("fleet_summary", err);

    // Nothing collected: exit 2.
    let o = esxup()
        .args(["collect", "--inventory"])
        .arg(&inv)
        .arg("--out-dir")
        .arg(&out)
        .env("FLEET_PW", "wrong")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr).matches("FAILED").count(), 3);
}

#[test]
fn bad_inventory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.toml");
    std::fs::write(&inv, "[[host]]\nurl = \"esx1.example.com\"\nthumbprint = \"12:34\"\n").unwrap();
    let o =
        esxup().args(["collect", "--inventory"]).arg(&inv).arg("--out-dir").arg(dir.path()).output().unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr).replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!("bad_inventory", err);
    let o = esxup().args(["collect", "--inventory"]).arg(&inv).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("hint: give --out-dir DIR"));
}

#[test]
fn single_host_goes_through_the_usual_output() {
    let sim = Sim::start(&["-mode", "esx", "-product", "7.0.3", "-vms", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.json");
    let o = esxup()
        .args(["collect", "--host", &sim.url, "--user", "root", "--thumbprint", &sim.thumbprint, "-o"])
        .arg(&path)
        .env("ESXUP_PASSWORD", sim::PASSWORD)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let f = esxup_facts::HostFacts::from_json_file(&path).unwrap();
    let p = f.product.unwrap();
    assert_eq!((p.version.to_string(), p.build), ("7.0.3".to_string(), 20328353));
    assert_eq!(f.slpd.unwrap().running, Some(false));
}
