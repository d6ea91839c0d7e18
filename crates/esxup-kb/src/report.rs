//! The typed outputs of the knowledge-base commands (`esxup build`,
//! `releases`, `advisories`, `kb-lint`): what each command says, computed
//! here, rendered by `esxup-render` (text or JSON). Each carries
//! `schema_version` ([`OUTPUT_SCHEMA_VERSION`]); its JSON Schema is
//! generated from the type into `schema/` (see `schema/README.md`).

use crate::kb::{Exposure, Kb};
use crate::lint::{LintProblem, Severity};
use crate::model::{Advisory, Cve, Cvss, FixStatus, LifecycleStatus, Release, ReleaseKind};
use crate::resolve::Resolved;
use esxup_version::{Branch, Date, Version};
use schemars::JsonSchema;
use serde::Serialize;

/// Version of the layouts in this module. Bump on an incompatible change
/// (a field removed, renamed or changing type); adding a field is not one.
pub const OUTPUT_SCHEMA_VERSION: u32 = 1;

/// A release named briefly.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ReleaseBrief {
    pub build: u32,
    pub name: String,
    pub release_date: Date,
}

impl From<&Release> for ReleaseBrief {
    fn from(r: &Release) -> ReleaseBrief {
        ReleaseBrief { build: r.build, name: r.name.clone(), release_date: r.release_date }
    }
}

/// The lifecycle of a branch on a day.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LifecycleReport {
    pub branch: Branch,
    pub status: LifecycleStatus,
    /// The day the status is for.
    pub as_of: Date,
    pub ga: Option<Date>,
    pub end_of_general_support: Option<Date>,
    pub end_of_technical_guidance: Option<Date>,
    pub notes: Vec<String>,
    pub sources: Vec<String>,
}

impl LifecycleReport {
    /// The lifecycle of `b` on `today`.
    pub fn of(kb: &Kb, b: Branch, today: Date) -> LifecycleReport {
        let l = kb.lifecycle(b);
        LifecycleReport {
            branch: b,
            status: kb.status(b, today),
            as_of: today,
            ga: l.and_then(|l| l.ga),
            end_of_general_support: l.and_then(|l| l.end_of_general_support),
            end_of_technical_guidance: l.and_then(|l| l.end_of_technical_guidance),
            notes: l.map(|l| l.notes.clone()).unwrap_or_default(),
            sources: l.map(|l| l.sources.clone()).unwrap_or_default(),
        }
    }
}

/// An advisory a build is exposed to, with its branch's fix.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AdvisoryExposure {
    pub id: String,
    pub title: String,
    pub published: Date,
    pub cves: Vec<Cve>,
    /// Highest CVSS score of the CVEs, one decimal.
    pub cvss_max: Option<Cvss>,
    pub known_exploited: bool,
    /// What the advisory says about the build ([`crate::Advisory::status_of`]):
    /// `not-fixed` or `no-fix-published` for an exposure.
    pub status: FixStatus,
    /// The branch of the fix record.
    pub branch: Branch,
    /// First fixed build of the branch, or of the build's update line when
    /// the advisory records one for it (`[[fix.line]]`).
    pub fixed_build: Option<u32>,
    pub fixed_release: Option<String>,
    pub fix_notes: Vec<String>,
    pub workaround_kb: Option<String>,
    pub workaround: Option<String>,
    pub sources: Vec<String>,
}

impl AdvisoryExposure {
    /// One exposure of release `r`; the fix named is the one of `r`'s
    /// update line when the advisory records one ([`crate::Fix::first_fixed_for`]).
    pub fn of(e: &Exposure<'_>, r: &Release) -> AdvisoryExposure {
        let a: &Advisory = e.advisory;
        let (branch, build) = (r.version.branch(), r.build);
        let (fixed_build, fixed_release) = match e.fix {
            Some(f) => {
                let (b, rel) = f.first_fixed_for(Some(&r.version));
                (b, rel.map(str::to_string))
            }
            None => (None, None),
        };
        AdvisoryExposure {
            id: a.id.clone(),
            title: a.title.clone(),
            published: a.published,
            cves: a.cves.clone(),
            cvss_max: a.max_cvss(),
            known_exploited: a.known_exploited(),
            status: a.status_of(branch, build),
            branch,
            fixed_build,
            fixed_release,
            fix_notes: e.fix.map(|f| f.notes.clone()).unwrap_or_default(),
            workaround_kb: a.workaround_kb.clone(),
            workaround: a.workaround.clone(),
            sources: a.sources.clone(),
        }
    }
}

/// A branch a release can be upgraded to.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct UpgradeTarget {
    pub branch: Branch,
    /// One supported step (`false`: through `hops`).
    pub direct: bool,
    /// The branches on the way, ending with `branch`.
    pub hops: Vec<Branch>,
    /// The first release of the branch dated on or after this build
    /// (VMware KB 67077, the back-in-time rule), a full release when there
    /// is one, else a security-only build.
    pub first_allowed: Option<ReleaseBrief>,
    pub newest: Option<ReleaseBrief>,
}

/// Supported upgrade targets from a release: each reachable newer branch
/// with the first release allowed by the back-in-time rule.
pub fn upgrade_targets(kb: &Kb, r: &Release) -> Vec<UpgradeTarget> {
    let b = r.version.branch();
    kb.branches()
        .into_iter()
        .filter(|t| *t > b)
        .filter_map(|t| {
            let hops = kb.hops(b, t)?;
            let later = || kb.branch_releases(t).filter(|x| x.release_date >= r.release_date);
            let first_allowed =
                later().find(|x| x.kind != ReleaseKind::SecurityOnly).or_else(|| later().next());
            Some(UpgradeTarget {
                branch: t,
                direct: kb.direct_upgrade_supported(b, t),
                hops,
                first_allowed: first_allowed.map(ReleaseBrief::from),
                newest: kb.latest(t).map(ReleaseBrief::from),
            })
        })
        .collect()
}

/// Whether any advisory lists the branch: when none does, the knowledge
/// base cannot tell exposures (VMware stops assessing branches past their
/// support).
pub fn advisories_cover_branch(kb: &Kb, b: Branch) -> bool {
    kb.advisories().iter().any(|a| a.fix_for(b).is_some())
}

/// `esxup build`: what exactly a host runs.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BuildReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub build: u32,
    pub version: Version,
    pub branch: Branch,
    pub update: Option<String>,
    pub release_name: String,
    pub kind: ReleaseKind,
    pub bulletin: Option<String>,
    pub release_date: Date,
    pub image_profiles: Vec<String>,
    pub iso: Option<bool>,
    pub max_vm_hardware: Option<u32>,
    pub lifecycle: LifecycleReport,
    pub advisories: Vec<AdvisoryExposure>,
    pub advisories_cover_branch: bool,
    pub newest_in_branch: Option<ReleaseBrief>,
    pub is_newest_in_branch: bool,
    /// Releases of the branch newer (by date, then build) than this one.
    pub newer_in_branch: usize,
    pub upgrade_targets: Vec<UpgradeTarget>,
    /// Parts of the input that contradict the release.
    pub inconsistencies: Vec<String>,
    /// Other releases the query also matched.
    pub other_matches: Vec<ReleaseBrief>,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

impl BuildReport {
    /// The report of a resolved query on `today`.
    pub fn new(kb: &Kb, res: &Resolved<'_>, today: Date) -> BuildReport {
        let r = res.release;
        let b = r.version.branch();
        let newest = kb.latest(b);
        BuildReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            build: r.build,
            version: r.version,
            branch: b,
            update: r.update.clone(),
            release_name: r.name.clone(),
            kind: r.kind,
            bulletin: r.bulletin.clone(),
            release_date: r.release_date,
            image_profiles: r.image_profiles.clone(),
            iso: r.iso,
            max_vm_hardware: r.max_vm_hardware,
            lifecycle: LifecycleReport::of(kb, b, today),
            advisories: kb.exposures(r.build).iter().map(|e| AdvisoryExposure::of(e, r)).collect(),
            advisories_cover_branch: advisories_cover_branch(kb, b),
            newest_in_branch: newest.map(ReleaseBrief::from),
            is_newest_in_branch: newest.is_some_and(|n| n.build == r.build),
            newer_in_branch: kb
                .branch_releases(b)
                .filter(|x| (x.release_date, x.build) > (r.release_date, r.build))
                .count(),
            upgrade_targets: upgrade_targets(kb, r),
            inconsistencies: res.inconsistencies.clone(),
            other_matches: res.candidates.iter().map(|c| ReleaseBrief::from(*c)).collect(),
            sources: r.sources.clone(),
            notes: r.notes.clone(),
        }
    }
}

/// `esxup releases`: the catalog, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ReleasesReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `--branch`, when given.
    pub branch: Option<Branch>,
    /// `--since`, when given.
    pub since: Option<Date>,
    pub releases: Vec<Release>,
}

impl ReleasesReport {
    /// The releases of `branch` (all when `None`) published on or after `since`.
    pub fn new(kb: &Kb, branch: Option<Branch>, since: Option<Date>) -> ReleasesReport {
        ReleasesReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            branch,
            since,
            releases: kb
                .releases()
                .iter()
                .filter(|r| branch.is_none_or(|b| r.version.branch() == b))
                .filter(|r| since.is_none_or(|d| r.release_date >= d))
                .cloned()
                .collect(),
        }
    }
}

/// `esxup advisories`: the advisories a build is exposed to.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AdvisoriesReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub build: u32,
    pub version: Version,
    pub release_name: String,
    pub release_date: Date,
    pub exposed: bool,
    pub advisories_cover_branch: bool,
    pub advisories: Vec<AdvisoryExposure>,
    pub inconsistencies: Vec<String>,
}

impl AdvisoriesReport {
    /// The exposures of a resolved query.
    pub fn new(kb: &Kb, res: &Resolved<'_>) -> AdvisoriesReport {
        let r = res.release;
        let b = r.version.branch();
        let advisories: Vec<AdvisoryExposure> =
            kb.exposures(r.build).iter().map(|e| AdvisoryExposure::of(e, r)).collect();
        AdvisoriesReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            build: r.build,
            version: r.version,
            release_name: r.name.clone(),
            release_date: r.release_date,
            exposed: !advisories.is_empty(),
            advisories_cover_branch: advisories_cover_branch(kb, b),
            advisories,
            inconsistencies: res.inconsistencies.clone(),
        }
    }
}

/// `esxup kb-lint`: the linter's findings.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LintReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What was linted (a folder, or "built-in knowledge base").
    pub kb: String,
    pub errors: usize,
    pub warnings: usize,
    pub problems: Vec<LintProblem>,
}

impl LintReport {
    pub fn new(kb: String, problems: Vec<LintProblem>) -> LintReport {
        let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
        LintReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            kb,
            errors,
            warnings: problems.len() - errors,
            problems,
        }
    }
}

/// The JSON Schemas of this module's outputs: (file name in `schema/`, schema).
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn s<T: JsonSchema>() -> String {
        let mut t = serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default();
        t.push('\n');
        t
    }
    vec![
        ("build.schema.json", s::<BuildReport>()),
        ("releases.schema.json", s::<ReleasesReport>()),
        ("advisories.schema.json", s::<AdvisoriesReport>()),
        ("kb-lint.schema.json", s::<LintReport>()),
        ("kb-status.schema.json", s::<crate::status::KbStatus>()),
    ]
}
