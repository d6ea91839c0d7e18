//! Every exposed/fixed decision the knowledge base makes about an advisory,
//! checked against the first fixed builds transcribed from the VMSA / CVE
//! records in `tests/fixtures/advisories-fixed/fixed-builds.txt` (a table kept
//! apart from `data/advisories`, each row with its source, so that a wrong
//! record in the data makes this test fail).
//!
//! For each advisory and each branch it lists: the first fixed build is fixed
//! and the build just below it is exposed; an update line VMware fixed with
//! its own build is fixed from that build on and exposed on the line's release
//! just below it; a branch without a published fix is exposed on every build;
//! and every release of the branch in the knowledge base gets the decision the
//! table implies. The table and the data must name the same advisories and
//! branches.

use esxup_kb::{FixStatus, Kb};
use esxup_version::Branch;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn table_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories-fixed/fixed-builds.txt")
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    vmsa: String,
    branch: Branch,
    /// `None`: the branch's first fixed build; `Some("8.0.3")`: an update line's.
    line: Option<String>,
    /// `None`: affected, no fixed build published.
    fixed: Option<u32>,
    also_fixed: Vec<u32>,
    source: String,
    at: usize,
}

fn dash(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

fn table() -> Vec<Row> {
    let text = std::fs::read_to_string(table_path()).expect("read the fixed-builds table");
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.splitn(6, " | ").map(str::trim).collect();
        assert_eq!(f.len(), 6, "line {}: expected 6 columns: {line}", i + 1);
        let build = |s: &str| s.parse::<u32>().unwrap_or_else(|e| panic!("line {}: build {s:?}: {e}", i + 1));
        let row = Row {
            vmsa: f[0].to_string(),
            branch: f[1].parse().unwrap_or_else(|_| panic!("line {}: branch {:?}", i + 1, f[1])),
            line: dash(f[2]).map(str::to_string),
            fixed: dash(f[3]).map(build),
            also_fixed: dash(f[4]).map(|s| s.split_whitespace().map(build).collect()).unwrap_or_default(),
            source: f[5].to_string(),
            at: i + 1,
        };
        assert!(!row.source.is_empty() && row.source != "-", "line {}: every row needs its source", row.at);
        assert!(row.line.is_none() || row.fixed.is_some(), "line {}: a line row needs its build", row.at);
        rows.push(row);
    }
    rows
}

fn kb() -> Kb {
    Kb::load_dir(&data_dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// (vmsa, branch) -> (branch row, line rows).
fn by_branch(rows: &[Row]) -> BTreeMap<(String, Branch), (Option<Row>, Vec<Row>)> {
    let mut m: BTreeMap<(String, Branch), (Option<Row>, Vec<Row>)> = BTreeMap::new();
    for r in rows {
        let e = m.entry((r.vmsa.clone(), r.branch)).or_default();
        if r.line.is_some() {
            e.1.push(r.clone());
        } else {
            assert!(e.0.is_none(), "line {}: two branch rows for {} {}", r.at, r.vmsa, r.branch);
            e.0 = Some(r.clone());
        }
    }
    m
}

#[test]
fn table_and_data_name_the_same_advisories_and_branches() {
    let kb = kb();
    let rows = table();
    let in_table: BTreeSet<(String, String)> =
        rows.iter().map(|r| (r.vmsa.clone(), r.branch.to_string())).collect();
    let in_kb: BTreeSet<(String, String)> = kb
        .advisories()
        .iter()
        .flat_map(|a| a.fixes.iter().map(move |f| (a.id.clone(), f.branch.to_string())))
        .collect();
    let missing: Vec<_> = in_kb.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_kb).collect();
    assert!(missing.is_empty(), "advisory branches without a row in fixed-builds.txt: {missing:?}");
    assert!(stale.is_empty(), "rows of fixed-builds.txt the knowledge base does not list: {stale:?}");
    for (key, (branch_row, _)) in by_branch(&rows) {
        assert!(branch_row.is_some(), "{key:?}: line rows without the branch row");
    }
}

#[test]
fn first_fixed_build_is_fixed_and_the_build_below_is_exposed() {
    let kb = kb();
    let mut failures = Vec::new();
    for ((vmsa, branch), (row, lines)) in by_branch(&table()) {
        let Some(a) = kb.advisory(&vmsa) else { continue };
        let row = row.expect("branch row");
        let check = |failures: &mut Vec<String>, build: u32, want_exposed: bool, what: &str| {
            let st = a.status_of(branch, build);
            if st.exposed() != want_exposed {
                failures.push(format!(
                    "{vmsa} {branch} build {build} ({what}): the KB says {}, the table (line {}: {}) says {}",
                    st.as_str(),
                    row.at,
                    row.source,
                    if want_exposed { "exposed" } else { "fixed" }
                ));
            }
        };
        match row.fixed {
            Some(fixed) => {
                check(&mut failures, fixed, false, "first fixed build");
                if !row.also_fixed.contains(&(fixed - 1)) {
                    check(&mut failures, fixed - 1, true, "just below the first fixed build");
                }
                for &b in &row.also_fixed {
                    check(&mut failures, b, false, "security-only image of the fixing bundle");
                }
            }
            None => {
                // No published fix: every build of the branch is exposed.
                let latest = kb.latest(branch).map(|r| r.build).unwrap_or(u32::MAX - 1);
                for b in [1, latest, u32::MAX - 1] {
                    check(&mut failures, b, true, "no fix published");
                }
                if a.status_of(branch, latest) != FixStatus::NoFixPublished {
                    failures
                        .push(format!("{vmsa} {branch}: expected no-fix-published (table line {})", row.at));
                }
            }
        }
        for l in &lines {
            let line_build = l.fixed.expect("line build");
            let version = l.line.as_deref().unwrap();
            if a.status_of(branch, line_build).exposed() {
                failures.push(format!(
                    "{vmsa} {branch} line {version}: its fixed build {line_build} is exposed (table line {})",
                    l.at
                ));
            }
            // The line's own release just below its fixed build (numbered above
            // the branch's first fixed build or not) must be exposed.
            let below = kb
                .branch_releases(branch)
                .filter(|r| r.version.to_string() == version && r.build < line_build)
                .max_by_key(|r| r.build);
            if let Some(r) = below {
                if !a.status_of(branch, r.build).exposed() {
                    failures.push(format!(
                        "{vmsa} {branch} line {version}: {} {} (below the line's fix {line_build}) is fixed per the KB, exposed per the table (line {}: {})",
                        r.build, r.name, l.at, l.source
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} decisions differ from the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_release_gets_the_decision_the_table_implies() {
    let kb = kb();
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for ((vmsa, branch), (row, lines)) in by_branch(&table()) {
        let Some(a) = kb.advisory(&vmsa) else { continue };
        let row = row.expect("branch row");
        for r in kb.branch_releases(branch) {
            let version = r.version.to_string();
            let line = lines.iter().find(|l| l.line.as_deref() == Some(version.as_str()));
            let threshold = line.map(|l| l.fixed).unwrap_or(row.fixed);
            let want_fixed = threshold.is_some_and(|t| r.build >= t) || row.also_fixed.contains(&r.build);
            let st = a.status_of(branch, r.build);
            checked += 1;
            if st.exposed() == want_fixed {
                failures.push(format!(
                    "{vmsa} {branch}: {} {} ({version}) is {} per the KB, {} per the table (line {})",
                    r.build,
                    r.name,
                    st.as_str(),
                    if want_fixed { "fixed" } else { "exposed" },
                    line.map(|l| l.at).unwrap_or(row.at)
                ));
            }
        }
    }
    assert!(checked > 1000, "only {checked} release decisions checked");
    assert!(
        failures.is_empty(),
        "{} decisions differ from the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
