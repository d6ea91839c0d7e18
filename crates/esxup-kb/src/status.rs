//! `esxup kb status`: which data is active, its date and digest, the newest
//! build per branch, and (`--coverage`) how many builds of each branch
//! carry each field. Also the one decision what esxup says about a build
//! the data lacks ([`Kb::unknown_build`]), used by `build`, `check` and
//! `plan`, and the age rule of the data-age warning ([`STALE_AFTER_DAYS`]).

use crate::kb::Kb;
use crate::report::{ReleaseBrief, OUTPUT_SCHEMA_VERSION};
use esxup_version::{Branch, Date};
use schemars::JsonSchema;
use serde::Serialize;

/// Data older than this many days (its [`Kb::data_date`] before today)
/// gets the data-age warning.
pub const STALE_AFTER_DAYS: i64 = 120;

/// Where the active data comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// Built into esxup.
    Embedded,
    /// The user data directory (`esxup kb update`).
    UserData,
    /// `--kb DIR` (or `ESXUP_KB`).
    KbDir,
}

/// Whether data of `data_date` is older than [`STALE_AFTER_DAYS`] on `today`;
/// the age in days when it is.
pub fn stale_age(data_date: Option<Date>, today: Date) -> Option<i64> {
    let age = data_date?.days_until(today);
    (age > STALE_AFTER_DAYS).then_some(age)
}

/// What the output says about a build the knowledge base does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UnknownBuild {
    /// Higher than every build the data knows of its (likely) branch: the
    /// data is older than the build; the remedy is newer data.
    NewerThanData { build: u32, branch: Option<Branch>, data_date: Option<Date> },
    /// Inside the range of builds the data knows (or on no known branch):
    /// a gap in the data; the remedy is a report with the host's output.
    NotInData { build: u32, branch: Option<Branch> },
}

/// The host commands whose output a report of a missing build attaches.
pub const REPORT_COMMANDS: &str = "`esxcli system version get` and `vmware -vl`";

impl UnknownBuild {
    /// One sentence for the CLI (the `hint:` of `esxup build`), English.
    pub fn advice(&self) -> String {
        match self {
            UnknownBuild::NewerThanData { build, data_date, .. } => format!(
                "build {build} is newer than this knowledge base (data of {}): run `esxup kb update --from FILE.tar.zst|DIR|URL` with newer data",
                data_date.map(|d| d.to_string()).unwrap_or_else(|| "no date".into())
            ),
            UnknownBuild::NotInData { build, .. } => format!(
                "build {build} is not in the knowledge base though it falls inside the builds it knows; please report it, attaching the output of {REPORT_COMMANDS} from the host"
            ),
        }
    }
}

impl Kb {
    /// The one decision what to say about `build` when the knowledge base
    /// lacks it: newer than every known build of its likely branch (the
    /// branch of the nearest known builds, or `branch` when the input
    /// named one), or a gap inside the known range.
    pub fn unknown_build(&self, build: u32, branch: Option<Branch>) -> UnknownBuild {
        let branch = branch.or_else(|| {
            let lo = self.releases().iter().filter(|r| r.build < build).max_by_key(|r| r.build);
            let hi = self.releases().iter().filter(|r| r.build > build).min_by_key(|r| r.build);
            match (lo, hi) {
                (Some(l), Some(h)) if build - l.build <= h.build - build => Some(l.version.branch()),
                (_, Some(h)) => Some(h.version.branch()),
                (Some(l), None) => Some(l.version.branch()),
                (None, None) => None,
            }
        });
        let mut known = self.releases().iter().filter(|r| branch.is_none_or(|b| r.version.branch() == b));
        let has_lower = known.clone().any(|r| r.build < build);
        if has_lower && !known.any(|r| r.build > build) {
            UnknownBuild::NewerThanData { build, branch, data_date: self.data_date() }
        } else {
            UnknownBuild::NotInData { build, branch }
        }
    }
}

/// One branch in `esxup kb status`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BranchStatus {
    pub branch: Branch,
    pub builds: usize,
    /// The newest release ([`Kb::latest`]).
    pub newest: Option<ReleaseBrief>,
}

/// How many builds of a branch have each field (`--coverage`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Coverage {
    pub branch: String,
    pub builds: usize,
    pub name: usize,
    pub date: usize,
    pub bulletin: usize,
    /// A `bulletin` ending in `-SG` (a security bulletin).
    pub sg_bulletin: usize,
    /// An image profile ending in `-standard`.
    pub profile_standard: usize,
    /// An image profile ending in `-no-tools`.
    pub profile_no_tools: usize,
    /// Builds of kind `security-only`.
    pub security_only: usize,
    /// Security-only builds with an image profile.
    pub security_only_profiles: usize,
    /// Builds without a bulletin whose `unsourced.bulletin` says why.
    pub unsourced_bulletin: usize,
    /// Builds without image profiles whose `unsourced.profiles` says why.
    pub unsourced_profiles: usize,
}

/// The answer of `esxup kb status`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct KbStatus {
    pub schema_version: u32,
    /// Where the active data comes from.
    pub source: DataSource,
    /// Its folder (user data directory or `--kb DIR`); `None` when embedded.
    pub path: Option<String>,
    /// The newest release `date` or advisory `published` of the data.
    pub data_date: Option<Date>,
    /// The day of the report (`ESXUP_TODAY`).
    pub today: Date,
    /// Days from `data_date` to `today`.
    pub age_days: Option<i64>,
    /// Older than [`STALE_AFTER_DAYS`].
    pub stale: bool,
    /// sha256 over the data files sorted by path (`data/README.md`).
    pub digest: String,
    pub files: usize,
    pub releases: usize,
    pub advisories: usize,
    pub branches: Vec<BranchStatus>,
    /// Per branch, with `--coverage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Vec<Coverage>>,
    /// What the loader said about the user data directory when it was not
    /// used (a corrupt bundle, an interrupted update taken back).
    pub notes: Vec<String>,
}

impl KbStatus {
    pub fn new(kb: &Kb, source: DataSource, path: Option<String>, today: Date, coverage: bool) -> KbStatus {
        let data_date = kb.data_date();
        KbStatus {
            schema_version: OUTPUT_SCHEMA_VERSION,
            source,
            path,
            data_date,
            today,
            age_days: data_date.map(|d| d.days_until(today)),
            stale: stale_age(data_date, today).is_some(),
            digest: kb.digest(),
            files: kb.files_iter().count(),
            releases: kb.releases().len(),
            advisories: kb.advisories().len(),
            branches: kb
                .branches()
                .into_iter()
                .map(|b| BranchStatus {
                    branch: b,
                    builds: kb.branch_releases(b).count(),
                    newest: kb.latest(b).map(ReleaseBrief::from),
                })
                .collect(),
            coverage: coverage.then(|| coverage_of(kb)),
            notes: Vec::new(),
        }
    }
}

/// Counts from the release files as written (the `unsourced` key is not
/// part of the loaded model).
fn coverage_of(kb: &Kb) -> Vec<Coverage> {
    let mut out: Vec<Coverage> = Vec::new();
    for (path, text) in kb.files_iter().filter(|(p, _)| p.starts_with("releases/")) {
        let Ok(v) = toml::from_str::<toml::Value>(text) else { continue };
        let branch = v.get("branch").and_then(|b| b.as_str()).unwrap_or(path).to_string();
        let mut c = Coverage { branch, ..Coverage::default() };
        let rows = v.get("release").and_then(|r| r.as_array()).map(Vec::as_slice).unwrap_or(&[]);
        for r in rows {
            let s = |k: &str| r.get(k).and_then(|x| x.as_str());
            let profiles: Vec<&str> = r
                .get("profiles")
                .and_then(|p| p.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let unsourced = |k: &str| r.get("unsourced").and_then(|u| u.get(k)).is_some();
            let security_only = s("kind") == Some("security-only");
            c.builds += 1;
            c.name += usize::from(s("name").is_some_and(|n| !n.is_empty()));
            c.date += usize::from(r.get("date").is_some());
            c.bulletin += usize::from(s("bulletin").is_some());
            c.sg_bulletin +=
                usize::from(s("bulletin").is_some_and(|b| b.to_ascii_uppercase().ends_with("-SG")));
            c.profile_standard += usize::from(profiles.iter().any(|p| p.ends_with("-standard")));
            c.profile_no_tools += usize::from(profiles.iter().any(|p| p.ends_with("-no-tools")));
            c.security_only += usize::from(security_only);
            c.security_only_profiles += usize::from(security_only && !profiles.is_empty());
            c.unsourced_bulletin += usize::from(unsourced("bulletin"));
            c.unsourced_profiles += usize::from(unsourced("profiles"));
        }
        out.push(c);
    }
    out
}
