//! Every JSON output of esxup carries `schema_version` and validates against
//! its JSON Schema in `schema/` (see `schema/README.md`).
//!
//! The schemas of the typed outputs are generated from their Rust types
//! (schemars); `schema_files_are_current` fails when a checked-in file is
//! stale. Regenerate: `UPDATE_SCHEMA=1 cargo test -p esxup --test json_schema`.
//! `plan.schema.json` is written by hand (see its description).

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every generated schema: (file name, content).
fn generated() -> Vec<(&'static str, String)> {
    let mut v = vec![("host-facts.schema.json", esxup_facts::json_schema())];
    v.extend(esxup_kb::report::json_schemas());
    v.extend(esxup_check::json_schemas());
    v.extend(esxup_depot::report::json_schemas());
    v.extend(esxup_run::json_schemas());
    v.extend(esxup_media::json_schemas());
    v
}

#[test]
fn schema_files_are_current() {
    let mut stale = Vec::new();
    for (name, want) in generated() {
        let path = schema_dir().join(name);
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        if std::fs::read_to_string(&path).unwrap_or_default() != want {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "schema files not current: {stale:?}; regenerate with `UPDATE_SCHEMA=1 cargo test -p esxup --test json_schema` and commit them"
    );
}

/// The synthetic depot (scripts/gen-synthetic-depot.py), once per test binary.
fn synthetic() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("depot");
        common::write_synthetic_depot(&root);
        (d, root)
    })
    .1
}

/// Runs esxup, returns its JSON output (any exit code but 2).
fn run_json(args: &[&str]) -> Value {
    let o = common::esxup_on("2026-11-26").args(args).output().expect("run esxup");
    assert_ne!(common::code(&o), 2, "{args:?}: {}", common::stderr(&o));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", common::stdout(&o)))
}

fn validate(schema_file: &str, v: &Value, what: &str) -> Vec<String> {
    let text = std::fs::read_to_string(schema_dir().join(schema_file))
        .unwrap_or_else(|e| panic!("{schema_file}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{schema_file}: {e}"));
    let mut errs: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{what} vs {schema_file}: {e} at {}", e.instance_path()))
        .collect();
    if v["schema_version"] != 1 {
        errs.push(format!("{what}: schema_version is {}", v["schema_version"]));
    }
    errs
}

#[test]
fn every_json_output_validates_against_its_schema() {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let examples = root().join("examples");
    let seed = s(&examples.join("seed.json"));
    let fx = root().join("crates/esxup-depot/tests/fixtures");
    let bundle = s(&fx.join("ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip"));
    let old = s(&fx.join("old-layout/6-updates_net55-r8168-8.045a-napi-offline_bundle.zip"));
    let vib = s(&fx.join("vibs/6-updates_net-r8125-9.011.00-10.vib"));
    let vib2 = s(&fx.join("ghettovcb/vghetto-ghettoVCB-2020-12-29-37290df.vib"));
    let depot = s(synthetic());
    let vib_list = s(&common::scenarios().join("seed-with-depot-vmkusb/vibs.txt"));
    let mut cases: Vec<(&str, Vec<String>)> = vec![
        ("build.schema.json", vec!["build".into(), "17700523".into()]),
        ("build.schema.json", vec!["build".into(), "7.0U3g".into()]),
        ("build.schema.json", vec!["build".into(), "25595708".into()]),
        ("releases.schema.json", vec!["releases".into()]),
        ("releases.schema.json", vec!["releases".into(), "--branch".into(), "8.0".into()]),
        ("advisories.schema.json", vec!["advisories".into(), "17167734".into()]),
        ("advisories.schema.json", vec!["advisories".into(), "25595708".into()]),
        ("kb-lint.schema.json", vec!["kb-lint".into()]),
        ("kb-status.schema.json", vec!["kb".into(), "status".into(), "--coverage".into()]),
        ("host-facts.schema.json", vec!["facts".into(), "show".into(), seed.clone()]),
        (
            "check-fleet.schema.json",
            vec![
                "check".into(),
                "--facts-dir".into(),
                s(&examples),
                "--target".into(),
                "auto".into(),
                "--detail".into(),
                "full".into(),
            ],
        ),
        (
            "check-fleet-summary.schema.json",
            vec!["check".into(), "--facts-dir".into(), s(&examples), "--target".into(), "auto".into()],
        ),
        (
            "check-fleet-summary.schema.json",
            vec!["report".into(), "--facts-dir".into(), s(&examples), "--target".into(), "8.0U3e".into()],
        ),
        (
            "check.schema.json",
            vec!["check".into(), "--example".into(), "seed".into(), "--depot".into(), vib_list],
        ),
        (
            "check.schema.json",
            vec!["check".into(), "--example".into(), "seed".into(), "--depot".into(), depot.clone()],
        ),
        ("depot-ls.schema.json", vec!["depot".into(), "ls".into(), bundle.clone()]),
        ("depot-ls.schema.json", vec!["depot".into(), "ls".into(), old]),
        ("depot-profiles.schema.json", vec!["depot".into(), "profiles".into(), depot.clone()]),
        ("depot-profiles.schema.json", vec!["depot".into(), "profiles".into(), bundle.clone()]),
        (
            "depot-dry-run.schema.json",
            vec![
                "depot".into(),
                "dry-run".into(),
                "--depot".into(),
                depot.clone(),
                "--profile".into(),
                "ESXi-7.0U2a-17867351-standard".into(),
                "--facts".into(),
                seed.clone(),
            ],
        ),
        (
            "depot-diff.schema.json",
            vec![
                "depot".into(),
                "diff".into(),
                depot.clone(),
                "ESXi-7.0U2a-17867351-standard".into(),
                "ESXi-7.0U3g-20328353-standard".into(),
            ],
        ),
        ("depot-verify.schema.json", vec!["depot".into(), "verify".into(), bundle]),
        ("vib-show.schema.json", vec!["vib".into(), "show".into(), vib]),
        ("vib-show.schema.json", vec!["vib".into(), "show".into(), vib2]),
    ];
    for name in esxup_check::examples::names() {
        cases.push(("check.schema.json", vec!["check".into(), "--example".into(), name.to_string()]));
        cases.push(("plan.schema.json", vec!["plan".into(), "--example".into(), name.to_string()]));
        cases.push((
            "plan.schema.json",
            vec!["plan".into(), "--example".into(), name.to_string(), "--lang".into(), "ja".into()],
        ));
    }
    let mut errs = Vec::new();
    for (schema, mut args) in cases {
        args.extend(["--format".to_string(), "json".to_string()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = run_json(&refs);
        errs.extend(validate(schema, &v, &args.join(" ")));
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// A schema rejects what it should: the tests above would pass against a
/// schema that accepts anything.
#[test]
fn schemas_reject_a_wrong_document() {
    let v = run_json(&["build", "17700523", "--format", "json"]);
    let mut bad = v.clone();
    bad["build"] = "seventeen".into();
    assert!(!validate("build.schema.json", &bad, "bad build").is_empty());
    let mut bad = v;
    bad.as_object_mut().unwrap().remove("schema_version");
    assert!(!validate("build.schema.json", &bad, "no schema_version").is_empty());
    let mut plan = run_json(&["plan", "--example", "seed", "--format", "json"]);
    plan["status"] = "maybe".into();
    assert!(!validate("plan.schema.json", &plan, "bad plan").is_empty());
}

/// Every schema file in `schema/` is either generated here or is the
/// hand-written plan schema, and is named in `schema/README.md`.
#[test]
fn every_schema_file_is_known_and_documented() {
    let readme = std::fs::read_to_string(schema_dir().join("README.md")).expect("schema/README.md");
    let known: Vec<&str> = generated().iter().map(|(n, _)| *n).chain(["plan.schema.json"]).collect();
    for e in std::fs::read_dir(schema_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".schema.json") {
            continue;
        }
        if !known.contains(&name.as_str()) && !readme.contains(&name) {
            panic!("schema/{name} is neither generated by this test nor documented in schema/README.md");
        }
    }
    for n in known {
        assert!(readme.contains(n), "schema/README.md does not name {n}");
    }
}
