//! From a parsed query (`7.0U3g`, a pasted `esxcli system version get`) to
//! one release of the knowledge base, with the inconsistencies of the input.

use crate::kb::Kb;
use crate::model::{Release, ReleaseKind};
use esxup_version::{parse_query, patch_ref_in, update_agrees, Branch, Date, ParsedQuery, QueryError};
use std::fmt;

/// A query matched to a release.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved<'a> {
    pub release: &'a Release,
    /// Parts of the input that contradict the release (`Version: 7.0.2` with
    /// the build of 7.0 U3g), or each other.
    pub inconsistencies: Vec<String>,
    /// Other releases the query also matched (e.g. patches of the same
    /// update), when one was preferred.
    pub candidates: Vec<&'a Release>,
}

/// A known release near an unknown build.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Neighbour {
    pub build: u32,
    pub name: String,
    pub date: Date,
}

impl Neighbour {
    fn of(r: &Release) -> Neighbour {
        Neighbour { build: r.build, name: r.name.clone(), date: r.release_date }
    }
}

impl fmt::Display for Neighbour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.build, self.name, self.date)
    }
}

/// Why a query did not name exactly one release.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Parse(#[from] QueryError),
    /// A build number the knowledge base does not hold.
    #[error(
        "unknown build {build}: not in the knowledge base{}",
        describe_unknown(likely_branch, before, after)
    )]
    Unknown { build: u32, likely_branch: Option<Branch>, before: Option<Neighbour>, after: Option<Neighbour> },
    /// The query matches several releases and none is preferred.
    #[error("{query:?} matches {} releases: {}{}", candidates.len(), list(candidates), more(candidates))]
    Ambiguous { query: String, candidates: Vec<Neighbour> },
    /// No release matches (a version, update or name the knowledge base lacks).
    #[error("no release matches {query:?}{}", branch.map(|b| format!(" on branch {b}")).unwrap_or_default())]
    NotFound { query: String, branch: Option<Branch> },
}

fn describe_unknown(b: &Option<Branch>, before: &Option<Neighbour>, after: &Option<Neighbour>) -> String {
    let mut s = String::new();
    if let Some(b) = b {
        s.push_str(&format!("; most likely an ESXi {b} build"));
    }
    match (before, after) {
        (Some(x), Some(y)) => s.push_str(&format!("; nearest known builds: {x} before, {y} after")),
        (Some(x), None) => {
            s.push_str(&format!("; nearest known build: {x} before (newer than every known build)"))
        }
        (None, Some(y)) => {
            s.push_str(&format!("; nearest known build: {y} after (older than every known build)"))
        }
        (None, None) => {}
    }
    s
}

const SHOWN: usize = 8;

fn list(c: &[Neighbour]) -> String {
    c.iter().take(SHOWN).map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn more(c: &[Neighbour]) -> String {
    if c.len() > SHOWN {
        format!(" and {} more", c.len() - SHOWN)
    } else {
        String::new()
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

/// `esxi650-202102` of a 6.x bulletin id such as `ESXi650-202102101-SG`.
fn patch_month(id: &str) -> Option<String> {
    let squashed: String = id.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let (head, tail) = squashed.split_once('-')?;
    let ok = head.len() == 7
        && head.starts_with("esxi")
        && head[4..].bytes().all(|b| b.is_ascii_digit())
        && tail.len() >= 9
        && tail.as_bytes()[..9].iter().all(u8::is_ascii_digit);
    ok.then(|| format!("{head}-{}", &tail[..6]))
}

fn same_id(a: &str, b: &str) -> bool {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    squash(a) == squash(b)
}

impl Kb {
    /// Parses and resolves a query in one step (`17700523`, `7.0U3g`,
    /// `latest-8.0`, pasted command output, ...).
    pub fn resolve_str(&self, s: &str) -> Result<Resolved<'_>, ResolveError> {
        // A release name exactly as the knowledge base writes it wins
        // (`ESXi 8.0 Update 3e (Security Only)`).
        let n = norm(s);
        let named: Vec<&Release> = self.releases().iter().filter(|r| norm(&r.name) == n).collect();
        if let [one] = named.as_slice() {
            return Ok(Resolved { release: one, inconsistencies: Vec::new(), candidates: Vec::new() });
        }
        let q = parse_query(s)?;
        match self.resolve(&q) {
            Err(ResolveError::NotFound { .. }) if !n.is_empty() => {
                // A name some source uses, quoted in a record's notes
                // (`KB 316595 Version column: 'ESXi 7.0.3 EP5'`).
                let quoted = format!("'{n}'");
                let m: Vec<&Release> = self
                    .releases()
                    .iter()
                    .filter(|r| r.notes.iter().any(|x| norm(x).contains(&quoted)))
                    .collect();
                if m.is_empty() {
                    self.resolve(&q)
                } else {
                    self.pick(&q, m)
                }
            }
            other => other,
        }
    }

    /// Resolves a parsed query to one release.
    pub fn resolve(&self, q: &ParsedQuery) -> Result<Resolved<'_>, ResolveError> {
        let not_found = || ResolveError::NotFound { query: q.raw.trim().to_string(), branch: q.branch() };
        if q.latest {
            let b = q.branch().ok_or_else(not_found)?;
            let r = self.latest(b).ok_or_else(not_found)?;
            return Ok(self.finish(q, r, Vec::new()));
        }
        if let Some(build) = q.build {
            return match self.release(build) {
                Some(r) => Ok(self.finish(q, r, Vec::new())),
                None => Err(self.unknown(build, q.branch())),
            };
        }
        if let Some(b) = &q.bulletin {
            let m: Vec<&Release> = self
                .releases()
                .iter()
                .filter(|r| r.bulletin.as_deref().is_some_and(|x| same_id(x, b)))
                .collect();
            if !m.is_empty() {
                return self.pick(q, m);
            }
            // A component bulletin of a 6.x patch: ESXi650-202102101-SG ships in
            // the patch ESXi650-202102001, the same ESXiNNN-YYYYMM.
            if let Some(month) = patch_month(b) {
                let m: Vec<&Release> = self
                    .releases()
                    .iter()
                    .filter(|r| r.bulletin.as_deref().and_then(patch_month).is_some_and(|x| x == month))
                    .collect();
                if !m.is_empty() {
                    return self.pick(q, m);
                }
            }
            if q.profile.is_none() {
                return Err(not_found());
            }
        }
        if let Some(p) = &q.profile {
            let m: Vec<&Release> =
                self.releases().iter().filter(|r| r.image_profiles.iter().any(|x| same_id(x, p))).collect();
            if !m.is_empty() {
                return self.pick(q, m);
            }
        }
        let Some(branch) = q.branch() else { return Err(not_found()) };
        let on_branch = || self.branch_releases(branch).filter(|r| q.version.is_none_or(|v| v == r.version));
        if let Some(p) = q.patch {
            let m: Vec<&Release> = on_branch().filter(|r| patch_ref_in(&r.name) == Some(p)).collect();
            return if m.is_empty() { Err(not_found()) } else { self.pick(q, m) };
        }
        if let Some(letter) = &q.letter {
            // `7.0b` / `7.0bs`: the GA-line re-spin named `ESXi 7.0b` (and its security-only build).
            let security = letter.len() > 1 && letter.ends_with('s');
            let stem = format!("{branch}{}", if security { &letter[..letter.len() - 1] } else { letter });
            let m: Vec<&Release> = on_branch()
                .filter(|r| r.update.is_none())
                .filter(|r| norm(&r.name).split(' ').any(|w| w == stem))
                .filter(|r| !security || r.kind == ReleaseKind::SecurityOnly)
                .collect();
            return if m.is_empty() { Err(not_found()) } else { self.pick(q, m) };
        }
        if let Some(u) = &q.update {
            let m: Vec<&Release> = on_branch()
                .filter(|r| r.update.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(u)))
                .collect();
            return if m.is_empty() { Err(not_found()) } else { self.pick(q, m) };
        }
        if q.ga {
            let m: Vec<&Release> = on_branch().filter(|r| r.kind == ReleaseKind::Ga).collect();
            return if m.is_empty() { Err(not_found()) } else { self.pick(q, m) };
        }
        let m: Vec<&Release> = on_branch().collect();
        if m.is_empty() {
            return Err(not_found());
        }
        self.pick(q, m)
    }

    /// One release out of several matches: the only one, else the only GA /
    /// update release among them (`6.7 U3` is the update, not its patches),
    /// else the only full patch (`ESXi 6.0b`, not its security-only twin).
    fn pick<'a>(&'a self, q: &ParsedQuery, m: Vec<&'a Release>) -> Result<Resolved<'a>, ResolveError> {
        if let [one] = m.as_slice() {
            return Ok(self.finish(q, one, Vec::new()));
        }
        // First the GA / update release, then the one full (not security-only) patch.
        let tiers: [fn(ReleaseKind) -> bool; 2] =
            [|k| matches!(k, ReleaseKind::Ga | ReleaseKind::Update), |k| k != ReleaseKind::SecurityOnly];
        for tier in tiers {
            let main: Vec<&Release> = m.iter().copied().filter(|r| tier(r.kind)).collect();
            if let [one] = main.as_slice() {
                let others = m.iter().copied().filter(|r| r.build != one.build).collect();
                return Ok(self.finish(q, one, others));
            }
            if main.len() > 1 {
                break;
            }
        }
        Err(ResolveError::Ambiguous {
            query: q.raw.trim().to_string(),
            candidates: m.iter().map(|r| Neighbour::of(r)).collect(),
        })
    }

    fn finish<'a>(&'a self, q: &ParsedQuery, r: &'a Release, candidates: Vec<&'a Release>) -> Resolved<'a> {
        let mut inc = q.conflicts.clone();
        let what = format!("build {} is {} (version {})", r.build, r.name, r.version);
        if let Some(v) = q.version.filter(|v| *v != r.version) {
            inc.push(format!("the input says version {v}, but {what}"));
        } else if let Some(b) = q.branch().filter(|b| *b != r.version.branch()) {
            inc.push(format!("the input says ESXi {b}, but {what}"));
        }
        if let Some(u) = q.update.as_deref().filter(|u| !update_agrees(u, r.update.as_deref())) {
            let actual =
                r.update.as_deref().map(|x| format!("Update {x}")).unwrap_or_else(|| "no update".into());
            inc.push(format!("the input says Update {u}, but build {} is {actual}", r.build));
        }
        if let (Some(b), Some(rb)) = (&q.bulletin, &r.bulletin) {
            if !same_id(b, rb) {
                inc.push(format!("the input names bulletin {b}, but build {} is {rb}", r.build));
            }
        }
        if let (Some(p), Some(rp)) = (q.patch, patch_ref_in(&r.name)) {
            if p != rp {
                inc.push(format!("the input says {p}, but build {} is {}", r.build, r.name));
            }
        }
        Resolved { release: r, inconsistencies: inc, candidates }
    }

    fn unknown(&self, build: u32, given: Option<Branch>) -> ResolveError {
        fn nearest<'r>(
            build: u32,
            rs: impl Iterator<Item = &'r Release>,
        ) -> (Option<&'r Release>, Option<&'r Release>) {
            let (mut lo, mut hi): (Option<&Release>, Option<&Release>) = (None, None);
            for r in rs {
                if r.build < build && lo.is_none_or(|l| r.build > l.build) {
                    lo = Some(r);
                }
                if r.build > build && hi.is_none_or(|h| r.build < h.build) {
                    hi = Some(r);
                }
            }
            (lo, hi)
        }
        let likely = given.or_else(|| {
            let (lo, hi) = nearest(build, self.releases().iter());
            match (lo, hi) {
                (Some(l), Some(h)) if l.version.branch() == h.version.branch() => Some(l.version.branch()),
                (Some(l), Some(h)) => {
                    Some(if build - l.build <= h.build - build { l } else { h }.version.branch())
                }
                (Some(x), None) | (None, Some(x)) => Some(x.version.branch()),
                (None, None) => None,
            }
        });
        let (before, after) = match likely {
            Some(b) => nearest(build, self.branch_releases(b)),
            None => (None, None),
        };
        ResolveError::Unknown {
            build,
            likely_branch: likely,
            before: before.map(Neighbour::of),
            after: after.map(Neighbour::of),
        }
    }
}
