//! `esxup build`, `releases`, `advisories` and `kb-lint`, run as the real
//! binary. Snapshots use the fixture knowledge base
//! `crates/esxup-kb/tests/fixtures/good` (real rows copied from data/, with
//! sources) so they do not drift as data/ grows; the facts of the built-in
//! data are asserted separately.

mod common;

use common::{stderr as err, stdout as out};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const TODAY: &str = "2026-11-26";

fn fixture(name: &str) -> String {
    format!("{}/../esxup-kb/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn esxup(args: &[&str], stdin: Option<&str>, kb: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_esxup"));
    c.args(args).env("ESXUP_TODAY", TODAY).env_remove("ESXUP_KB");
    if let Some(kb) = kb {
        c.arg("--kb").arg(fixture(kb));
    }
    c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("run esxup");
    if let Some(s) = stdin {
        child.stdin.take().expect("stdin").write_all(s.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for esxup")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

/// The `esxcli system version get` layout (tests/fixtures of esxup-version
/// hold real captures); values of ESXi 6.7 P05 from KB 316595.
const ESXCLI_P05: &str =
    "   Product: VMware ESXi\n   Version: 6.7.0\n   Build: Releasebuild-17700523\n   Update: 3\n   Patch: 0\n";

#[test]
fn build_table() {
    let o = esxup(&["build", "17700523"], None, Some("good"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(err(&o), "");
    insta::assert_snapshot!("build_17700523_table", out(&o));
}

#[test]
fn build_json() {
    let o = esxup(&["build", "17700523", "--format", "json"], None, Some("good"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    for k in [
        "build",
        "version",
        "release_name",
        "bulletin",
        "release_date",
        "image_profiles",
        "lifecycle",
        "advisories",
    ] {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    insta::assert_json_snapshot!("build_17700523_json", v);
}

#[test]
fn every_input_form_gives_the_same_answer() {
    let base = json(&esxup(&["build", "17700523", "--format", "json"], None, Some("good")));
    let forms: &[&[&str]] = &[
        &["VMware", "ESXi", "6.7.0", "build-17700523"],
        &["VMware ESXi 6.7.0 build-17700523"],
        &["Releasebuild-17700523"],
        &["ESXi670-202103001"],
        &["ESXi-6.7.0-20210304001-standard"],
        &["ESXi", "6.7", "P05"],
        &["6.7 Patch 5"],
        &["ESXi 6.7 Patch 5"],
        &[ESXCLI_P05],
        // `esxup build $(esxcli system version get)`, unquoted: the words as separate arguments.
        &[
            "Product:",
            "VMware",
            "ESXi",
            "Version:",
            "6.7.0",
            "Build:",
            "Releasebuild-17700523",
            "Update:",
            "3",
            "Patch:",
            "0",
        ],
    ];
    for f in forms {
        let mut args = vec!["build"];
        args.extend_from_slice(f);
        args.extend(["--format", "json"]);
        let o = esxup(&args, None, Some("good"));
        assert_eq!(o.status.code(), Some(0), "{f:?}: {}", err(&o));
        assert_eq!(json(&o), base, "{f:?}");
    }
    // Piped, with `-` and with no argument.
    for args in [&["build", "-", "--format", "json"][..], &["build", "--format", "json"][..]] {
        let o = esxup(args, Some(ESXCLI_P05), Some("good"));
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert_eq!(json(&o), base);
    }
}

#[test]
fn seven_oh_forms() {
    for q in ["7.0U3g", "7.0 Update 3g", "ESXi 7.0 Update 3g", "ESXi-7.0U3g-20328353-standard", "latest-7.0"]
    {
        let o = esxup(&["build", q, "--format", "json"], None, Some("good"));
        assert_eq!(o.status.code(), Some(0), "{q}: {}", err(&o));
        assert_eq!(json(&o)["build"], 20328353, "{q}");
    }
}

#[test]
fn inconsistent_input_is_reported() {
    // The example: Version 7.0.2 with the build of 7.0 U3g.
    let paste = "   Product: VMware ESXi\n   Version: 7.0.2\n   Build: Releasebuild-20328353\n   Update: 2\n   Patch: 0\n";
    let o = esxup(&["build", "-", "--format", "json"], Some(paste), Some("good"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["build"], 20328353);
    assert_eq!(v["inconsistencies"].as_array().map(Vec::len), Some(2), "{v}");
    insta::assert_snapshot!("build_inconsistent_stderr", err(&o));
    let o = esxup(&["build", "-"], Some(paste), Some("good"));
    assert!(out(&o).contains("Inconsistent"), "{}", out(&o));
}

#[test]
fn unknown_build_is_an_error_naming_neighbours() {
    let o = esxup(&["build", "17700600"], None, Some("good"));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out(&o), "");
    insta::assert_snapshot!("build_unknown_stderr", err(&o));
    let o = esxup(&["build", "not a version"], None, Some("good"));
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).starts_with("error: identify \"not a version\""), "{}", err(&o));
    let o = esxup(&["build"], None, Some("good"));
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no build given") || err(&o).contains("standard input is empty"), "{}", err(&o));
}

#[test]
fn releases_lists_and_filters() {
    let o = esxup(&["releases", "--branch", "7.0", "--since", "2021-01-01"], None, Some("good"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    insta::assert_snapshot!("releases_7_0_since_2021", out(&o));
    let o = esxup(&["releases", "--format", "json"], None, Some("good"));
    let v = json(&o);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["releases"].as_array().map(Vec::len), Some(9));
    assert_eq!(v["releases"][2]["build"], 17700523);
    let o = esxup(&["releases", "--branch", "5.5"], None, Some("good"));
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("known branches: 6.0, 6.7, 7.0"), "{}", err(&o));
}

#[test]
fn advisories_exit_code_says_exposed() {
    let o = esxup(&["advisories", "16850804"], None, Some("good"));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    insta::assert_snapshot!("advisories_16850804", out(&o));
    let o = esxup(&["advisories", "16850804", "--format", "json"], None, Some("good"));
    let v = json(&o);
    assert_eq!(v["advisories"][0]["id"], "VMSA-2021-0002");
    assert_eq!(v["advisories"][0]["fixed_build"], 17325551);
    let o = esxup(&["advisories", "7.0U1c"], None, Some("good"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("not exposed"), "{}", out(&o));
    // No advisory of the fixture lists 6.0: say "unknown", not "not exposed".
    let o = esxup(&["advisories", "2494585"], None, Some("good"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("unknown: no advisory in the knowledge base lists branch 6.0"), "{}", out(&o));
    let v = json(&esxup(&["build", "2494585", "--format", "json"], None, Some("good")));
    assert_eq!(v["advisories_cover_branch"], false);
}

#[test]
fn kb_lint_exit_codes() {
    let o = esxup(&["kb-lint", &fixture("good")], None, None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(out(&o), "");
    let o = esxup(&["kb-lint", &fixture("date-order")], None, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("error[date-order] releases/6.7.toml"), "{}", out(&o));
    let o = esxup(&["kb-lint", &fixture("no-such-dir")], None, None);
    assert_eq!(o.status.code(), Some(2));
    // The built-in data passes (warnings allowed).
    let o = esxup(&["kb-lint"], None, None);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

#[test]
fn built_in_data_answers_the_seed_question() {
    // Broadcom KB 316595: ESXi 6.7 P05 = ESXi670-202103001 = 17700523, 2021-03-18.
    let o = esxup(&["build", "17700523", "--format", "json"], None, None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert!(v["release_name"] == "ESXi 6.7 Patch 5" || v["release_name"] == "ESXi 6.7 P05", "{v}");
    assert_eq!(v["bulletin"], "ESXi670-202103001");
    assert_eq!(v["release_date"], "2021-03-18");
    assert_eq!(v["version"], "6.7.0");
    let status = v["lifecycle"]["status"].as_str().unwrap_or_default();
    assert!(status == "end-of-life" || status == "technical-guidance", "{status}");
    let o = esxup(&["build", "17700523"], None, None);
    assert!(out(&o).contains("past end of general support (2022-10-15)"), "{}", out(&o));
    // The same through the other forms.
    for q in [
        "VMware ESXi 6.7.0 build-17700523",
        "ESXi670-202103001",
        "ESXi-6.7.0-20210304001-standard",
        "6.7 P05",
    ] {
        let o = esxup(&["build", q, "--format", "json"], None, None);
        assert_eq!(o.status.code(), Some(0), "{q}: {}", err(&o));
        assert_eq!(json(&o)["build"], 17700523, "{q}");
    }
    let o = esxup(&["build", "-", "--format", "json"], Some(ESXCLI_P05), None);
    assert_eq!(json(&o)["build"], 17700523);
}
