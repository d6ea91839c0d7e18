//! The strict data linter behind `esxup kb-lint` and the `kb_lint` test.
//!
//! Errors: a file that does not deserialise (unknown key, missing source,
//! bad date, CVSS outside 0-10, malformed id, version off its branch), a
//! duplicate build, a release dated before the one above it in its branch
//! file, a fix or hardware record pointing at a build of another branch (a
//! `[[fix.line]]` at a build of another version), an
//! image profile naming another build or version than its release.
//! Warnings: a build lower than the one above it with a later date, missing
//! files, references to builds the catalog lacks, unusual names.
//! A release with `order_exception = "why"` is exempt from both order rules.
//! An `unsourced` reason (why `bulletin` / `profiles` are absent) for a field
//! the record has, or an empty one, is a parse error.

use crate::kb::{read_dir_files, Kb, KNOWN_ROOT_FILES};
use crate::model::{Advisory, Release};
use crate::raw::{LifecycleFile, OrderView, ReleaseFile, UpgradePathFile, VmHardwareFile};
use esxup_version::Branch;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding of the linter.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct LintProblem {
    /// File path relative to the knowledge-base folder.
    pub path: String,
    pub severity: Severity,
    /// Short rule name: `parse`, `duplicate-build`, `date-order`, ...
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for LintProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}] {}: {}", self.rule, self.path, self.message)
    }
}

/// Lints a knowledge-base folder of the `data/` layout.
pub fn lint(dir: &Path) -> Vec<LintProblem> {
    match read_dir_files(dir) {
        Ok(files) => lint_files(files.iter().map(|(p, t)| (p.as_str(), t.as_str()))),
        Err(e) => vec![LintProblem {
            path: dir.display().to_string(),
            severity: Severity::Error,
            rule: "read",
            message: e.to_string(),
        }],
    }
}

/// Lints the data files built into the binary.
pub fn lint_embedded() -> Vec<LintProblem> {
    lint_files(crate::kb::embedded_files())
}

impl Kb {
    /// Lints the files this knowledge base was loaded from.
    pub fn lint(&self) -> Vec<LintProblem> {
        lint_files(self.files_iter())
    }
}

struct Lint {
    out: Vec<LintProblem>,
}

impl Lint {
    fn push(&mut self, path: &str, severity: Severity, rule: &'static str, message: String) {
        self.out.push(LintProblem { path: path.to_string(), severity, rule, message });
    }
    fn error(&mut self, path: &str, rule: &'static str, message: String) {
        self.push(path, Severity::Error, rule, message);
    }
    fn warn(&mut self, path: &str, rule: &'static str, message: String) {
        self.push(path, Severity::Warning, rule, message);
    }
}

/// Lints (relative path, text) pairs.
pub fn lint_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<LintProblem> {
    let mut l = Lint { out: Vec::new() };
    let mut releases: Vec<(String, Release)> = Vec::new();
    let mut advisories: Vec<(String, Advisory)> = Vec::new();
    let mut branches_with_lifecycle: Vec<Branch> = Vec::new();
    let mut path_branches: Vec<(Branch, &'static str)> = Vec::new();
    let mut hardware = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (path, text) in files {
        seen.insert(path.to_string());
        let parse_err = |l: &mut Lint, e: toml::de::Error| l.error(path, "parse", e.to_string());
        if let Some(name) = path.strip_prefix("releases/") {
            match toml::from_str::<ReleaseFile>(text) {
                Err(e) => parse_err(&mut l, e),
                Ok(f) => {
                    if let Err(m) = f.check() {
                        l.error(path, "branch", m);
                    }
                    if name != format!("{}.toml", f.branch) {
                        l.error(
                            path,
                            "file-name",
                            format!("branch {} belongs in releases/{}.toml", f.branch, f.branch),
                        );
                    }
                    lint_order(&mut l, path, text);
                    for r in f.releases {
                        lint_release_style(&mut l, path, &r);
                        releases.push((path.to_string(), r));
                    }
                }
            }
        } else if let Some(name) = path.strip_prefix("advisories/") {
            match toml::from_str::<Advisory>(text) {
                Err(e) => parse_err(&mut l, e),
                Ok(a) => {
                    if name.strip_suffix(".toml") != Some(a.id.as_str()) {
                        l.error(
                            path,
                            "file-name",
                            format!("advisory {} belongs in advisories/{}.toml", a.id, a.id),
                        );
                    }
                    let mut ids: Vec<&str> = a.cves.iter().map(|c| c.id.as_str()).collect();
                    ids.sort();
                    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
                        l.error(path, "duplicate-cve", format!("{} is listed twice", w[0]));
                    }
                    advisories.push((path.to_string(), a));
                }
            }
        } else {
            match path {
                "lifecycle.toml" => match toml::from_str::<LifecycleFile>(text) {
                    Err(e) => parse_err(&mut l, e),
                    Ok(f) => branches_with_lifecycle = f.branches.iter().map(|b| b.branch).collect(),
                },
                "upgrade-paths.toml" => match toml::from_str::<UpgradePathFile>(text) {
                    Err(e) => parse_err(&mut l, e),
                    Ok(f) => {
                        for p in f.paths {
                            path_branches.push((p.to, "to"));
                            path_branches.extend(p.from.iter().map(|b| (*b, "from")));
                        }
                    }
                },
                "vm-hardware.toml" => match toml::from_str::<VmHardwareFile>(text) {
                    Err(e) => parse_err(&mut l, e),
                    Ok(f) => hardware = f.hardware,
                },
                p if KNOWN_ROOT_FILES.contains(&p) => {}
                p => {
                    l.warn(p, "unknown-file", "not a knowledge-base file this version of esxup reads".into())
                }
            }
        }
    }
    for f in ["lifecycle.toml", "upgrade-paths.toml", "vm-hardware.toml"] {
        if !seen.contains(f) {
            l.warn(f, "missing-file", "file is missing".into());
        }
    }
    if !seen.iter().any(|p| p.starts_with("releases/")) {
        l.warn("releases/", "missing-file", "no release files".into());
    }

    // Cross-record rules.
    let mut by_build: HashMap<u32, (&str, &Release)> = HashMap::new();
    for (path, r) in &releases {
        if let Some((other, o)) = by_build.get(&r.build) {
            l.error(
                path,
                "duplicate-build",
                format!("build {} is both {:?} ({other}) and {:?}", r.build, o.name, r.name),
            );
        } else {
            by_build.insert(r.build, (path, r));
        }
    }
    let branches: BTreeSet<Branch> = releases.iter().map(|(_, r)| r.version.branch()).collect();
    for (path, a) in &advisories {
        for fix in &a.fixes {
            if !branches.contains(&fix.branch) {
                l.warn(
                    path,
                    "unknown-branch",
                    format!("fix for branch {} which has no releases", fix.branch),
                );
            }
            let Some(b) = fix.build else { continue };
            match by_build.get(&b) {
                Some((_, r)) if r.version.branch() != fix.branch => l.error(
                    path,
                    "fix-branch",
                    format!("fix for {} names build {b}, which is {} ({})", fix.branch, r.name, r.version),
                ),
                Some(_) => {}
                None if branches.contains(&fix.branch) => l.warn(
                    path,
                    "unknown-build",
                    format!("fixed build {b} for {} is not in releases/", fix.branch),
                ),
                None => {}
            }
            for line in &fix.lines {
                match by_build.get(&line.build) {
                    Some((_, r)) if r.version != line.version => l.error(
                        path,
                        "fix-line",
                        format!(
                            "fix line {} names build {}, which is {} ({})",
                            line.version, line.build, r.name, r.version
                        ),
                    ),
                    Some(_) => {}
                    None => l.warn(
                        path,
                        "unknown-build",
                        format!("fixed build {} for line {} is not in releases/", line.build, line.version),
                    ),
                }
            }
        }
    }
    for h in &hardware {
        match by_build.get(&h.since.build) {
            Some((_, r)) if r.version.branch() != h.since.branch => l.error(
                "vm-hardware.toml",
                "hardware-branch",
                format!(
                    "vmx-{}: build {} is {} (branch {}), not {}",
                    h.version,
                    r.build,
                    r.name,
                    r.version.branch(),
                    h.since.branch
                ),
            ),
            Some(_) => {}
            None => l.warn(
                "vm-hardware.toml",
                "unknown-build",
                format!("vmx-{}: build {} is not in releases/", h.version, h.since.build),
            ),
        }
    }
    if seen.contains("lifecycle.toml") {
        for b in &branches {
            if !branches_with_lifecycle.contains(b) {
                l.warn("lifecycle.toml", "missing-lifecycle", format!("no [[branch]] for {b}"));
            }
        }
    }
    for (b, side) in path_branches {
        if !branches.contains(&b) && !releases.is_empty() {
            l.warn("upgrade-paths.toml", "unknown-branch", format!("`{side}` branch {b} has no releases"));
        }
    }
    l.out.sort_by(|a, b| (b.severity, &a.path).cmp(&(a.severity, &b.path)));
    l.out
}

/// Dates must not decrease down a branch file; builds should not decrease
/// while the date increases. `order_exception` exempts a record.
fn lint_order(l: &mut Lint, path: &str, text: &str) {
    let Ok(view) = toml::from_str::<OrderView>(text) else { return };
    let mut prev: Option<&crate::raw::OrderRow> = None;
    for row in &view.releases {
        if let Some(p) = prev {
            // An explained row is neither checked nor the baseline for the next one.
            if row.order_exception.as_deref().is_some_and(|s| !s.trim().is_empty()) {
                continue;
            }
            if row.date < p.date {
                l.error(
                    path,
                    "date-order",
                    format!(
                        "build {} ({}) is dated before build {} ({}) above it; keep the file oldest first or add order_exception",
                        row.build, row.date, p.build, p.date
                    ),
                );
            } else if row.date > p.date && row.build < p.build {
                l.warn(
                    path,
                    "build-order",
                    format!(
                        "build {} ({}) is lower than build {} ({}) released before it; if VMware re-released, say so in order_exception",
                        row.build, row.date, p.build, p.date
                    ),
                );
            }
        }
        prev = Some(row);
    }
}

fn lint_release_style(l: &mut Lint, path: &str, r: &Release) {
    for p in &r.image_profiles {
        if !p.starts_with("ESXi-") {
            l.warn(
                path,
                "profile-name",
                format!("build {}: image profile {p:?} does not start with \"ESXi-\"", r.build),
            );
            continue;
        }
        // A profile name carries its version, and from 7.0 its build: they must be this release's.
        match esxup_version::parse_query(p) {
            Ok(q) if q.profile.is_some() => {
                if q.build.is_some_and(|b| b != r.build) || q.version.is_some_and(|v| v != r.version) {
                    l.error(
                        path,
                        "profile-mismatch",
                        format!(
                            "build {} ({}): image profile {p:?} names another build or version",
                            r.build, r.version
                        ),
                    );
                }
            }
            _ => l.warn(path, "profile-name", format!("build {}: cannot read image profile {p:?}", r.build)),
        }
    }
    if let Some(b) = &r.bulletin {
        if b.contains(char::is_whitespace) {
            l.warn(path, "bulletin", format!("build {}: bulletin {b:?} contains whitespace", r.build));
        }
    }
    if !(r.name.starts_with("ESXi") || r.name.starts_with("ESX ")) {
        l.warn(path, "name", format!("build {}: name {:?} does not start with \"ESXi\"", r.build, r.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release_file(extra: &str) -> String {
        format!(
            "branch = \"8.0\"\n[[release]]\nbuild = 24585383\nversion = \"8.0.3\"\nupdate = \"3d\"\n\
             name = \"ESXi 8.0 Update 3d\"\nkind = \"express-patch\"\ndate = \"2025-03-04\"\n\
             sources = [\"s\"]\n{extra}"
        )
    }

    fn rules(extra: &str) -> Vec<(Severity, &'static str, String)> {
        let t = release_file(extra);
        lint_files([("releases/8.0.toml", t.as_str())])
            .into_iter()
            .filter(|p| p.path == "releases/8.0.toml")
            .map(|p| (p.severity, p.rule, p.message))
            .collect()
    }

    #[test]
    fn unsourced_reasons_are_accepted() {
        let r = rules("unsourced = { bulletin = \"no source read names it\", profiles = \"same\" }\n");
        assert!(r.iter().all(|(s, _, _)| *s != Severity::Error), "{r:?}");
        let r = rules("unsourced = { profiles = \"no source read names them\" }\n");
        assert!(r.iter().all(|(s, _, _)| *s != Severity::Error), "{r:?}");
    }

    #[test]
    fn unsourced_is_validated() {
        for bad in [
            "bulletin = \"ESXi80U3d-24585383\"\nunsourced = { bulletin = \"why\" }\n",
            "unsourced = { bulletin = \" \" }\n",
            "unsourced = {}\n",
            "unsourced = { date = \"why\" }\n",
        ] {
            let r = rules(bad);
            assert!(r.iter().any(|(s, rule, _)| *s == Severity::Error && *rule == "parse"), "{bad}: {r:?}");
        }
    }
}
