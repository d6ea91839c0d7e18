//! The slice of the knowledge base the checks read, as a trait.
//!
//! The rules only need a few record lists (releases, advisories, lifecycle,
//! upgrade paths); the derived questions (latest build of a branch, exposures,
//! hops) are answered here once, the same way for every implementation. This
//! keeps `esxup-check` pure and testable with an in-memory [`MemKb`], and lets
//! [`esxup_kb::Kb`] plug in through its record accessors.

use esxup_kb::{Advisory, Lifecycle, LifecycleStatus, Release, UpgradePath};
use esxup_version::{Branch, Date};

/// Read access to knowledge-base records.
pub trait KbView: Sync {
    /// Every known release (any order).
    fn all_releases(&self) -> Vec<&Release>;
    /// Every advisory.
    fn all_advisories(&self) -> Vec<&Advisory>;
    /// Lifecycle milestones of one branch.
    fn branch_lifecycle(&self, branch: Branch) -> Option<&Lifecycle>;
    /// Supported direct upgrades.
    fn all_upgrade_paths(&self) -> Vec<&UpgradePath>;
    /// Resolves a release query (build number, `7.0U3g`, `7.0 Update 3g`,
    /// image profile, bulletin, release name). The default implementation is
    /// [`resolve_query`]; a KB with a richer parser may override it.
    fn resolve_release(&self, query: &str) -> Result<&Release, ResolveError> {
        resolve_query(self.all_releases(), query)
    }
    /// Known branches, lowest first.
    fn known_branches(&self) -> Vec<Branch> {
        let mut v: Vec<Branch> = self.all_releases().iter().map(|r| r.version.branch()).collect();
        v.sort();
        v.dedup();
        v
    }
    /// One release by build (override with an index when there is one).
    fn find_release(&self, build: u32) -> Option<&Release> {
        self.all_releases().into_iter().find(|r| r.build == build)
    }
    /// Releases of a branch, oldest first (by date, then build).
    fn releases_in_branch(&self, branch: Branch) -> Vec<&Release> {
        let mut v: Vec<&Release> =
            self.all_releases().into_iter().filter(|r| r.version.branch() == branch).collect();
        v.sort_by_key(|r| (r.release_date, r.build));
        v
    }
}

/// Why a target could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown ESXi release {0:?}: no build, version, update, bulletin or profile in the knowledge base matches")]
    Unknown(String),
    #[error("ambiguous ESXi release {query:?}: matches {candidates}")]
    Ambiguous { query: String, candidates: String },
    /// The knowledge base's own resolver refused the query.
    #[error("{0}")]
    Kb(String),
}

impl KbView for esxup_kb::Kb {
    fn all_releases(&self) -> Vec<&Release> {
        self.releases().iter().collect()
    }
    fn all_advisories(&self) -> Vec<&Advisory> {
        self.advisories().iter().collect()
    }
    fn branch_lifecycle(&self, branch: Branch) -> Option<&Lifecycle> {
        self.lifecycle(branch)
    }
    fn all_upgrade_paths(&self) -> Vec<&UpgradePath> {
        self.upgrade_paths().iter().collect()
    }
    fn resolve_release(&self, query: &str) -> Result<&Release, ResolveError> {
        self.resolve_str(query).map(|r| r.release).map_err(|e| ResolveError::Kb(e.to_string()))
    }
    fn find_release(&self, build: u32) -> Option<&Release> {
        self.release(build)
    }
    fn known_branches(&self) -> Vec<Branch> {
        let mut v = self.branches();
        v.sort();
        v
    }
    fn releases_in_branch(&self, branch: Branch) -> Vec<&Release> {
        // The KB keeps releases sorted by branch, date, build.
        self.branch_releases(branch).collect()
    }
}

/// An in-memory knowledge base: the records and nothing else.
#[derive(Clone, Debug, Default)]
pub struct MemKb {
    pub releases: Vec<Release>,
    pub advisories: Vec<Advisory>,
    pub lifecycles: Vec<Lifecycle>,
    pub upgrade_paths: Vec<UpgradePath>,
}

impl KbView for MemKb {
    fn all_releases(&self) -> Vec<&Release> {
        self.releases.iter().collect()
    }
    fn all_advisories(&self) -> Vec<&Advisory> {
        self.advisories.iter().collect()
    }
    fn branch_lifecycle(&self, branch: Branch) -> Option<&Lifecycle> {
        self.lifecycles.iter().find(|l| l.branch == branch)
    }
    fn all_upgrade_paths(&self) -> Vec<&UpgradePath> {
        self.upgrade_paths.iter().collect()
    }
}

/// Release lookup by build.
pub fn release_by_build(kb: &dyn KbView, build: u32) -> Option<&Release> {
    kb.find_release(build)
}

/// Releases of a branch, oldest build first.
pub fn branch_releases(kb: &dyn KbView, branch: Branch) -> Vec<&Release> {
    kb.releases_in_branch(branch)
}

/// Known branches, lowest first.
pub fn branches(kb: &dyn KbView) -> Vec<Branch> {
    kb.known_branches()
}

/// Newest release of a branch (by date, then build).
pub fn latest(kb: &dyn KbView, branch: Branch) -> Option<&Release> {
    branch_releases(kb, branch).into_iter().last()
}

/// Where a branch stands on `today`.
pub fn lifecycle_status(kb: &dyn KbView, branch: Branch, today: Date) -> LifecycleStatus {
    match kb.branch_lifecycle(branch) {
        None => LifecycleStatus::Unknown,
        Some(l) => match (l.end_of_general_support, l.end_of_technical_guidance) {
            (Some(g), _) if today <= g => LifecycleStatus::GeneralSupport,
            (_, Some(t)) if today <= t => LifecycleStatus::TechnicalGuidance,
            (Some(_), Some(_)) | (None, Some(_)) => LifecycleStatus::EndOfLife,
            (Some(_), None) => LifecycleStatus::TechnicalGuidance,
            (None, None) => LifecycleStatus::Unknown,
        },
    }
}

/// Whether `from` may upgrade to `to` in one step (same branch: always).
pub fn direct_upgrade_supported(kb: &dyn KbView, from: Branch, to: Branch) -> bool {
    if from == to {
        return true;
    }
    kb.all_upgrade_paths().iter().any(|p| p.to == to && p.from.contains(&from))
}

/// Intermediate branches for `from` -> `to`: empty when direct, `None` when no
/// route exists. Shortest route, preferring the highest intermediate branch.
pub fn hops(kb: &dyn KbView, from: Branch, to: Branch) -> Option<Vec<Branch>> {
    if direct_upgrade_supported(kb, from, to) {
        return Some(Vec::new());
    }
    // Breadth-first over the path graph; the graph is tiny.
    let paths = kb.all_upgrade_paths();
    let mut frontier: Vec<(Branch, Vec<Branch>)> = vec![(from, Vec::new())];
    let mut seen = vec![from];
    for _ in 0..6 {
        let mut next = Vec::new();
        for (at, route) in &frontier {
            let mut outs: Vec<Branch> =
                paths.iter().filter(|p| p.from.contains(at) && p.to > *at).map(|p| p.to).collect();
            outs.sort_by(|a, b| b.cmp(a));
            for o in outs {
                if o == to {
                    return Some(route.clone());
                }
                if o < to && !seen.contains(&o) {
                    seen.push(o);
                    let mut r = route.clone();
                    r.push(o);
                    next.push((o, r));
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        frontier = next;
    }
    None
}

/// One advisory a build is exposed to, with the fix on its branch.
#[derive(Clone, Debug)]
pub struct Exposure<'a> {
    pub advisory: &'a Advisory,
    /// First fixed build on the build's branch (`None`: no fix published).
    pub fix_build: Option<u32>,
    pub fix_release: Option<String>,
}

/// Advisories `build` on `branch` is exposed to: the advisory lists a fix
/// record for the branch and the build is below the fixed build (or no fix).
pub fn exposures(kb: &dyn KbView, branch: Branch, build: u32) -> Vec<Exposure<'_>> {
    let mut out = Vec::new();
    for a in kb.all_advisories() {
        for f in a.fixes.iter().filter(|f| f.branch == branch) {
            let exposed = match f.build {
                Some(b) => build < b,
                None => true,
            };
            if exposed {
                out.push(Exposure { advisory: a, fix_build: f.build, fix_release: f.release.clone() });
            }
        }
    }
    out.sort_by(|a, b| {
        a.advisory.published.cmp(&b.advisory.published).then(a.advisory.id.cmp(&b.advisory.id))
    });
    out
}

/// Whether release `r` fixes the advisory (has a fix record for its branch at or below its build).
pub fn fixes(r: &Release, a: &Advisory) -> Option<bool> {
    let f = a.fixes.iter().find(|f| f.branch == r.version.branch())?;
    Some(matches!(f.build, Some(b) if r.build >= b))
}

/// Highest VM hardware version a release supports: its own record, else the
/// nearest earlier release of the branch that states one.
pub fn max_vm_hardware(kb: &dyn KbView, r: &Release) -> Option<u32> {
    if let Some(v) = r.max_vm_hardware {
        return Some(v);
    }
    branch_releases(kb, r.version.branch())
        .into_iter()
        .filter(|x| x.build <= r.build)
        .filter_map(|x| x.max_vm_hardware)
        .max()
}

/// The fallback query parser: build number, `x.y.z`, `x.y`, `7.0U3g`,
/// `7.0 Update 3g`, `ESXi 7.0 Update 3g`, `7.0 GA`, image profile, bulletin or
/// exact release name. Several matches of a version/update pick the newest
/// only when the query names no update letter ambiguity (`7.0U3` alone means
/// the Update 3 release itself, not 3c).
pub fn resolve_query<'a>(releases: Vec<&'a Release>, query: &str) -> Result<&'a Release, ResolveError> {
    let q = query.trim();
    let unknown = || ResolveError::Unknown(q.to_string());
    if q.is_empty() {
        return Err(unknown());
    }
    if let Ok(b) = q.parse::<u32>() {
        return releases.into_iter().find(|r| r.build == b).ok_or_else(unknown);
    }
    let lower = q.to_ascii_lowercase();
    // Exact name, bulletin or profile.
    if let Some(r) = releases.iter().find(|r| {
        r.name.eq_ignore_ascii_case(q)
            || r.bulletin.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(q))
            || r.image_profiles.iter().any(|p| p.eq_ignore_ascii_case(q))
    }) {
        return Ok(r);
    }
    // A build number inside a profile-like string (`ESXi-7.0U3g-20328353-standard`).
    for tok in lower.split(|c: char| !c.is_ascii_digit()) {
        if tok.len() >= 7 {
            if let Ok(b) = tok.parse::<u32>() {
                if let Some(r) = releases.iter().find(|r| r.build == b) {
                    return Ok(r);
                }
            }
        }
    }
    // Version + update forms.
    let s =
        lower.trim_start_matches("vmware").trim().trim_start_matches("esxi").trim().replace("update", "u");
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let (ver, upd) = match s.find('u') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s.as_str(), None),
    };
    let ga = ver.ends_with("ga");
    let ver = ver.trim_end_matches("ga");
    let parts: Vec<&str> = ver.split('.').collect();
    let nums: Option<Vec<u8>> = parts.iter().map(|p| p.parse().ok()).collect();
    let nums = nums.filter(|n| n.len() == 2 || n.len() == 3).ok_or_else(unknown)?;
    let branch = Branch::new(nums[0], nums[1]);
    let mut matched: Vec<&Release> = releases.into_iter().filter(|r| r.version.branch() == branch).collect();
    match (upd, nums.get(2)) {
        (Some(u), _) => {
            matched.retain(|r| r.update.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(u)));
            // Prefer the update release itself over patches that keep its letter.
            let firsts: Vec<&Release> = matched
                .iter()
                .copied()
                .filter(|r| matches!(r.kind, esxup_kb::ReleaseKind::Update | esxup_kb::ReleaseKind::Ga))
                .collect();
            if !firsts.is_empty() {
                matched = firsts;
            }
        }
        (None, Some(z)) => matched.retain(|r| r.version.patch == *z),
        (None, None) => {}
    }
    if ga {
        matched.retain(|r| r.kind == esxup_kb::ReleaseKind::Ga);
    }
    matched.sort_by_key(|r| (r.release_date, r.build));
    match matched.len() {
        0 => Err(unknown()),
        1 => Ok(matched[0]),
        _ if upd.is_some() || ga => Ok(matched[0]),
        _ => Err(ResolveError::Ambiguous {
            query: q.to_string(),
            candidates: matched
                .iter()
                .map(|r| format!("{} ({})", r.name, r.build))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esxup_kb::{Fix, ReleaseKind};
    use esxup_version::Version;

    fn rel(build: u32, v: &str, update: Option<&str>, name: &str, date: &str) -> Release {
        Release {
            build,
            version: v.parse().unwrap(),
            update: update.map(str::to_string),
            name: name.into(),
            kind: if update.is_some() { ReleaseKind::Update } else { ReleaseKind::Patch },
            bulletin: None,
            release_date: date.parse().unwrap(),
            image_profiles: vec![],
            iso: None,
            max_vm_hardware: None,
            sources: vec![],
            notes: vec![],
        }
    }

    fn path(to: &str, from: &[&str]) -> UpgradePath {
        UpgradePath {
            to: to.parse().unwrap(),
            from: from.iter().map(|b| b.parse().unwrap()).collect(),
            sources: vec![],
            notes: vec![],
        }
    }

    fn kb() -> MemKb {
        MemKb {
            releases: vec![
                rel(17700523, "6.7.0", None, "ESXi 6.7 Patch 5", "2021-03-18"),
                rel(18828794, "6.7.0", None, "ESXi 6.7 Patch 6", "2021-11-23"),
                rel(17867351, "7.0.2", Some("2a"), "ESXi 7.0 Update 2a", "2021-04-29"),
                rel(19193900, "7.0.3", Some("3c"), "ESXi 7.0 Update 3c", "2022-01-27"),
            ],
            advisories: vec![Advisory {
                id: "VMSA-2021-0002".into(),
                title: "t".into(),
                published: "2021-02-23".parse().unwrap(),
                cves: vec![],
                fixes: vec![Fix {
                    branch: Branch::new(6, 7),
                    build: Some(17499825),
                    release: None,
                    notes: vec![],
                }],
                workaround_kb: None,
                workaround: None,
                workaround_service: Some("slpd".into()),
                sources: vec![],
            }],
            lifecycles: vec![],
            upgrade_paths: vec![
                path("6.7", &["6.0", "6.5"]),
                path("7.0", &["6.5", "6.7"]),
                path("8.0", &["6.7", "7.0"]),
            ],
        }
    }

    #[test]
    fn paths_and_hops() {
        let k = kb();
        let b = |s: &str| s.parse::<Branch>().unwrap();
        assert!(direct_upgrade_supported(&k, b("6.7"), b("7.0")));
        assert!(!direct_upgrade_supported(&k, b("6.0"), b("7.0")));
        assert_eq!(hops(&k, b("6.0"), b("7.0")), Some(vec![b("6.7")]));
        assert_eq!(hops(&k, b("6.5"), b("8.0")), Some(vec![b("7.0")]));
        assert_eq!(hops(&k, b("6.7"), b("7.0")), Some(vec![]));
        assert_eq!(hops(&k, b("5.5"), b("7.0")), None);
    }

    #[test]
    fn exposures_and_fallback_resolver() {
        let k = kb();
        assert_eq!(exposures(&k, Branch::new(6, 7), 17167734).len(), 1);
        assert!(exposures(&k, Branch::new(6, 7), 17700523).is_empty());
        assert!(exposures(&k, Branch::new(7, 0), 17867351).is_empty(), "no fix record for 7.0 in this KB");
        assert_eq!(k.resolve_release("7.0U2a").unwrap().build, 17867351);
        assert_eq!(k.resolve_release("ESXi 7.0 Update 3c").unwrap().build, 19193900);
        assert_eq!(k.resolve_release("18828794").unwrap().name, "ESXi 6.7 Patch 6");
        assert!(k.resolve_release("6.7.0").is_err(), "two 6.7 patches: ambiguous");
        assert!(k.resolve_release("9.9U1").is_err());
        assert_eq!(latest(&k, Branch::new(7, 0)).unwrap().version, Version::new(7, 0, 3));
    }
}
