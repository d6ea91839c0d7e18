//! The loaded knowledge base and the queries other crates code against.

use crate::model::*;
use crate::raw::{LifecycleFile, ReleaseFile, UpgradePathFile, VmHardwareFile};
use esxup_version::query::update_number;
use esxup_version::{Branch, Date};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The data files built into the binary: (path relative to `data/`, TOML text).
pub fn embedded_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    embedded::FILES.iter().map(|(p, t, _)| (*p, *t))
}

/// Why a knowledge base could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    #[error("read knowledge base {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("parse knowledge base file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("knowledge base file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// The knowledge base: releases, advisories, lifecycle, upgrade paths, VM hardware.
#[derive(Debug, Clone)]
pub struct Kb {
    releases: Vec<Release>,
    by_build: HashMap<u32, usize>,
    lifecycles: Vec<Lifecycle>,
    notes: Vec<LifecycleNote>,
    advisories: Vec<Advisory>,
    paths: Vec<UpgradePath>,
    hardware: Vec<VmHardware>,
    files: Vec<(String, Cow<'static, str>)>,
    origin: String,
}

/// One advisory a build is exposed to.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Exposure<'a> {
    pub advisory: &'a Advisory,
    /// The fix for the build's branch (`None` when the advisory lists none).
    pub fix: Option<&'a Fix>,
}

/// The update line of a release: (z of x.y.z, update number); `7.0 U3g` and
/// `7.0 U3sg` are (3, 3), `6.7 P05` (on Update 3) is (0, 3).
pub fn update_line(r: &Release) -> (u8, u8) {
    (r.version.patch, r.update.as_deref().and_then(update_number).unwrap_or(0))
}

/// The files of a knowledge-base folder this crate reads (others, such as
/// `cpu.toml`, are kept as text for [`Kb::file`]).
pub const KNOWN_ROOT_FILES: &[&str] =
    &["lifecycle.toml", "upgrade-paths.toml", "vm-hardware.toml", "cpu.toml", "devices.toml"];

/// Deserialises a data file: from its build-time JSON form when there is one
/// (fast), else, and for the error message, from the TOML text.
fn parse<T: serde::de::DeserializeOwned>(path: &str, text: &str, json: Option<&str>) -> Result<T, KbError> {
    if let Some(Ok(v)) = json.map(serde_json::from_str) {
        return Ok(v);
    }
    toml::from_str(text).map_err(|e| KbError::Parse { path: path.to_string(), message: e.to_string() })
}

/// Reads every `.toml` file under `dir` as (relative path with `/`, text).
pub(crate) fn read_dir_files(dir: &Path) -> Result<Vec<(String, String)>, KbError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), KbError> {
        let rd = std::fs::read_dir(dir)
            .map_err(|e| KbError::Read { path: dir.to_path_buf(), message: e.to_string() })?;
        for e in rd {
            let e = e.map_err(|e| KbError::Read { path: dir.to_path_buf(), message: e.to_string() })?;
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out)?;
            } else if p.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| KbError::Read { path: p.clone(), message: e.to_string() })?;
                let rel = p.strip_prefix(root).unwrap_or(&p);
                let rel: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push((rel.join("/"), text));
            }
        }
        Ok(())
    }
    if !dir.is_dir() {
        return Err(KbError::Read { path: dir.to_path_buf(), message: "not a directory".into() });
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

impl Kb {
    /// The knowledge base built into the binary, parsed once.
    pub fn embedded() -> Result<&'static Kb, KbError> {
        static KB: OnceLock<Result<Kb, KbError>> = OnceLock::new();
        KB.get_or_init(|| {
            Kb::build(
                "built-in knowledge base",
                embedded::FILES.iter().map(|(p, t, _)| (p.to_string(), Cow::Borrowed(*t))).collect(),
                embedded::FILES.iter().map(|(_, _, j)| *j).collect(),
            )
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Loads a knowledge-base folder of the `data/` layout.
    pub fn load_dir(dir: &Path) -> Result<Kb, KbError> {
        let files = read_dir_files(dir)?;
        Kb::from_files(&dir.display().to_string(), files.into_iter().map(|(p, t)| (p, Cow::Owned(t))))
            .map_err(|e| match e {
                KbError::Parse { path, message } => {
                    KbError::Parse { path: dir.join(path).display().to_string(), message }
                }
                KbError::Invalid { path, message } => {
                    KbError::Invalid { path: dir.join(path).display().to_string(), message }
                }
                other => other,
            })
    }

    /// Builds a knowledge base from (relative path, text) pairs.
    pub fn from_files(
        origin: &str,
        files: impl IntoIterator<Item = (String, Cow<'static, str>)>,
    ) -> Result<Kb, KbError> {
        Kb::build(origin, files.into_iter().collect(), Vec::new())
    }

    /// `json[i]`, when present, is file `i` converted to JSON at build time.
    fn build(
        origin: &str,
        files: Vec<(String, Cow<'static, str>)>,
        json: Vec<Option<&'static str>>,
    ) -> Result<Kb, KbError> {
        let mut kb = Kb {
            releases: Vec::new(),
            by_build: HashMap::new(),
            lifecycles: Vec::new(),
            notes: Vec::new(),
            advisories: Vec::new(),
            paths: Vec::new(),
            hardware: Vec::new(),
            files,
            origin: origin.to_string(),
        };
        for (i, (path, text)) in kb.files.iter().enumerate() {
            let (path, text, json) = (path.as_str(), text.as_ref(), json.get(i).copied().flatten());
            let invalid = |message: String| KbError::Invalid { path: path.to_string(), message };
            if path.starts_with("releases/") {
                let f: ReleaseFile = parse(path, text, json)?;
                f.check().map_err(invalid)?;
                kb.releases.extend(f.releases);
            } else if let Some(name) = path.strip_prefix("advisories/") {
                let a: Advisory = parse(path, text, json)?;
                if name.strip_suffix(".toml") != Some(a.id.as_str()) {
                    return Err(invalid(format!("advisory {} must be in advisories/{}.toml", a.id, a.id)));
                }
                kb.advisories.push(a);
            } else {
                match path {
                    "lifecycle.toml" => {
                        let f: LifecycleFile = parse(path, text, json)?;
                        kb.lifecycles = f.branches;
                        kb.notes = f.notes;
                    }
                    "upgrade-paths.toml" => kb.paths = parse::<UpgradePathFile>(path, text, json)?.paths,
                    "vm-hardware.toml" => kb.hardware = parse::<VmHardwareFile>(path, text, json)?.hardware,
                    _ => {}
                }
            }
        }
        kb.releases.sort_by(|a, b| {
            (a.version.branch(), a.release_date, a.build).cmp(&(b.version.branch(), b.release_date, b.build))
        });
        for (i, r) in kb.releases.iter().enumerate() {
            if let Some(j) = kb.by_build.insert(r.build, i) {
                return Err(KbError::Invalid {
                    path: "releases/".into(),
                    message: format!("duplicate build {} ({} and {})", r.build, kb.releases[j].name, r.name),
                });
            }
        }
        kb.hardware.sort_by_key(|h| h.version);
        // VMware ships back-in-time builds of older update lines with higher
        // build numbers (7.0 U1e after 7.0 U3c), so within a branch the update
        // line decides first and the build only within one line.
        let line = update_line;
        let firsts: Vec<(u32, Option<(u8, u8)>)> = kb
            .hardware
            .iter()
            .map(|h| (h.version, kb.by_build.get(&h.since.build).map(|&i| line(&kb.releases[i]))))
            .collect();
        for i in 0..kb.releases.len() {
            let r = &kb.releases[i];
            let (branch, build, l) = (r.version.branch(), r.build, line(r));
            let max = kb
                .hardware
                .iter()
                .zip(&firsts)
                .filter(|(h, (_, first))| match first {
                    Some(f) if branch == h.since.branch => l > *f || (l == *f && build >= h.since.build),
                    _ => h.since.covers(branch, build),
                })
                .map(|(h, _)| h.version)
                .max();
            kb.releases[i].max_vm_hardware = max;
        }
        kb.derive_security_only_fixes();
        kb.derive_line_fixes();
        kb.lifecycles.sort_by_key(|l| l.branch);
        kb.advisories.sort_by(|a, b| (a.published, &a.id).cmp(&(b.published, &b.id)));
        kb.paths.sort_by_key(|p| p.to);
        kb.notes.sort_by_key(|n| n.date);
        Ok(kb)
    }

    /// Fills [`Fix::also_in`]: for a fix delivered by a security bulletin
    /// (`-SG`) whose first fixed build is a full patch image, the
    /// security-only builds of the same patch bundle (same `bulletin`, same
    /// version) carry that bulletin too, though numbered lower.
    fn derive_security_only_fixes(&mut self) {
        let releases = &self.releases;
        let by_build = &self.by_build;
        for a in &mut self.advisories {
            for f in &mut a.fixes {
                let sg = f.release.as_deref().is_some_and(|r| r.to_ascii_uppercase().ends_with("-SG"));
                let Some(fixed) = f.build.and_then(|b| by_build.get(&b)).map(|&i| &releases[i]) else {
                    continue;
                };
                let Some(bundle) = fixed.bulletin.as_deref().filter(|_| sg) else { continue };
                f.also_in = releases
                    .iter()
                    .filter(|r| {
                        r.kind == ReleaseKind::SecurityOnly
                            && r.build < fixed.build
                            && r.version == fixed.version
                            && r.bulletin.as_deref() == Some(bundle)
                    })
                    .map(|r| r.build)
                    .collect();
            }
        }
    }

    /// Fills [`Fix::not_in`]: a release of a [`FixLine`]'s update line
    /// (same `version`) numbered at or above the branch's first fixed build
    /// but below its own line's fixed build does not carry the fix (8.0 U3
    /// builds before 8.0 U3d for VMSA-2025-0004, fixed on 8.0 U2 by U2d).
    fn derive_line_fixes(&mut self) {
        let releases = &self.releases;
        for a in &mut self.advisories {
            for f in &mut a.fixes {
                let Some(first) = f.build else { continue };
                f.not_in = releases
                    .iter()
                    .filter(|r| {
                        r.build >= first
                            && f.lines.iter().any(|l| l.version == r.version && r.build < l.build)
                    })
                    .map(|r| r.build)
                    .collect();
            }
        }
    }

    /// Where this knowledge base came from (`built-in knowledge base` or the folder).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub(crate) fn files_iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(p, t)| (p.as_str(), t.as_ref()))
    }

    /// The text of any data file, by path relative to the folder (`cpu.toml`).
    pub fn file(&self, rel: &str) -> Option<&str> {
        self.files.iter().find(|(p, _)| p == rel).map(|(_, t)| t.as_ref())
    }

    /// All releases, sorted by branch, date, build.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    pub fn release(&self, build: u32) -> Option<&Release> {
        self.by_build.get(&build).map(|&i| &self.releases[i])
    }

    /// Releases of one branch, oldest first.
    pub fn branch_releases(&self, b: Branch) -> impl Iterator<Item = &Release> {
        self.releases.iter().filter(move |r| r.version.branch() == b)
    }

    /// Branches with at least one release, oldest first.
    pub fn branches(&self) -> Vec<Branch> {
        let mut v: Vec<Branch> = self.releases.iter().map(|r| r.version.branch()).collect();
        v.dedup();
        v
    }

    /// The newest release of a branch: on its highest update line (VMware
    /// still ships back-in-time builds of older lines, e.g. 8.0 U2f after
    /// 8.0 U3k), the latest date, a full release before a security-only
    /// build of the same day, then the higher build.
    pub fn latest(&self, b: Branch) -> Option<&Release> {
        self.branch_releases(b)
            .max_by_key(|r| (update_line(r), r.release_date, r.kind != ReleaseKind::SecurityOnly, r.build))
    }

    pub fn lifecycle(&self, b: Branch) -> Option<&Lifecycle> {
        self.lifecycles.iter().find(|l| l.branch == b)
    }

    pub fn lifecycles(&self) -> &[Lifecycle] {
        &self.lifecycles
    }

    /// Where a branch stands on a day. Milestone days are inclusive: on the
    /// day of end of general support the branch is still in general support.
    pub fn status(&self, b: Branch, on: Date) -> LifecycleStatus {
        let Some(l) = self.lifecycle(b) else { return LifecycleStatus::Unknown };
        match (l.end_of_general_support, l.end_of_technical_guidance) {
            (Some(g), _) if on <= g => LifecycleStatus::GeneralSupport,
            (Some(_), Some(t)) if on <= t => LifecycleStatus::TechnicalGuidance,
            (Some(_), _) => LifecycleStatus::EndOfLife,
            (None, _) => LifecycleStatus::Unknown,
        }
    }

    /// Advisories, oldest first.
    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    pub fn advisory(&self, id: &str) -> Option<&Advisory> {
        self.advisories.iter().find(|a| a.id.eq_ignore_ascii_case(id))
    }

    /// Advisories a known build is exposed to (empty for an unknown build;
    /// see [`Kb::exposures_on`]).
    pub fn exposures(&self, build: u32) -> Vec<Exposure<'_>> {
        match self.release(build) {
            Some(r) => self.exposures_on(r.version.branch(), build),
            None => Vec::new(),
        }
    }

    /// Advisories a build of `branch` is exposed to: the advisory lists the
    /// branch, and either publishes no fix for it or the build is older than
    /// the first fixed build (and is not the security-only image of the
    /// fixing patch, see [`Fix::also_in`]).
    pub fn exposures_on(&self, branch: Branch, build: u32) -> Vec<Exposure<'_>> {
        self.advisories
            .iter()
            .filter(|a| a.status_of(branch, build).exposed())
            .map(|a| Exposure { advisory: a, fix: a.fix_for(branch) })
            .collect()
    }

    pub fn upgrade_paths(&self) -> &[UpgradePath] {
        &self.paths
    }

    /// Whether `from` may go to `to` in one step. The same branch is always
    /// allowed (that is an update, subject to the back-in-time rule).
    pub fn direct_upgrade_supported(&self, from: Branch, to: Branch) -> bool {
        from == to || self.paths.iter().any(|p| p.to == to && p.from.contains(&from))
    }

    /// Branches reachable from `from` in one supported upgrade, oldest first.
    pub fn upgrade_targets(&self, from: Branch) -> Vec<Branch> {
        let mut v: Vec<Branch> = self.paths.iter().filter(|p| p.from.contains(&from)).map(|p| p.to).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The shortest chain of supported upgrades from `from` to `to`, without
    /// `from` and ending with `to` (`6.0 -> [6.7, 7.0]`); among equally short
    /// chains the one through the newest branches. `Some([])` when equal;
    /// `None` when no chain exists (downgrades never do).
    pub fn hops(&self, from: Branch, to: Branch) -> Option<Vec<Branch>> {
        if from == to {
            return Some(Vec::new());
        }
        let mut prev: HashMap<Branch, Branch> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(b) = queue.pop_front() {
            let mut next = self.upgrade_targets(b);
            next.reverse();
            for n in next {
                if n == from || prev.contains_key(&n) {
                    continue;
                }
                prev.insert(n, b);
                if n == to {
                    let mut chain = vec![to];
                    let mut cur = to;
                    while let Some(&p) = prev.get(&cur) {
                        if p == from {
                            break;
                        }
                        chain.push(p);
                        cur = p;
                    }
                    chain.reverse();
                    return Some(chain);
                }
                queue.push_back(n);
            }
        }
        None
    }

    /// The intermediate branches of [`Kb::hops`] (the chain without `to`):
    /// `Some([])` when `from` may go to `to` directly, `None` when no chain
    /// exists.
    pub fn intermediate_hops(&self, from: Branch, to: Branch) -> Option<Vec<Branch>> {
        let mut chain = self.hops(from, to)?;
        chain.pop();
        Some(chain)
    }

    /// Highest VM hardware version a known build supports.
    pub fn max_vm_hardware(&self, build: u32) -> Option<u32> {
        self.release(build).and_then(|r| r.max_vm_hardware)
    }

    pub fn vm_hardware(&self) -> &[VmHardware] {
        &self.hardware
    }

    /// What the `free_hypervisor` notes of `lifecycle.toml` dated on or
    /// before `today` say about release `r`: the one decision behind
    /// LICENSE_FREE.
    pub fn free_hypervisor(&self, r: &Release, today: Date) -> FreeHypervisor<'_> {
        let branch = r.version.branch();
        let mut state = FreeHypervisor::NotRecorded;
        for n in self.notes.iter().filter(|n| n.date <= today) {
            let Some(ev) = n.free_hypervisor.as_ref().filter(|e| e.branches.contains(&branch)) else {
                continue;
            };
            match ev.event {
                FreeHypervisorChange::Withdrawn => state = FreeHypervisor::Withdrawn { note: n },
                FreeHypervisorChange::Available => {
                    let Some(since) = ev.since_build.and_then(|b| self.release(b)) else { continue };
                    let covered = since.version.branch() == branch
                        && r.build >= since.build
                        && update_line(r) >= update_line(since);
                    state = match (covered, state) {
                        (true, _) => FreeHypervisor::Available { note: n, since },
                        (false, FreeHypervisor::Withdrawn { note: w }) => {
                            FreeHypervisor::BeforeReturn { withdrawn: w, since }
                        }
                        (false, s) => s,
                    };
                }
            }
        }
        state
    }

    /// Free-ESXi and similar dated notes from `lifecycle.toml`, oldest first.
    pub fn notes(&self) -> &[LifecycleNote] {
        &self.notes
    }
}
