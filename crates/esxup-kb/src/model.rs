//! Knowledge-base record types (the contract other crates code against).

use esxup_version::{Branch, Date, Version};
use serde::Serialize;

/// The kind of a release, as VMware's build tables name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseKind {
    /// First release of a branch (6.7 GA, 7.0 GA).
    Ga,
    /// Update release (7.0 Update 3, and lettered re-spins like 7.0 U3g).
    Update,
    /// Patch release (6.7 P05, 8.0 U3e).
    Patch,
    /// Express Patch (6.7 EP 23).
    ExpressPatch,
    /// Security-only build ("s" image profiles, `-SG` bulletins, 7.0 U3s...).
    SecurityOnly,
}

/// One ESXi build.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawRelease")]
pub struct Release {
    pub build: u32,
    pub version: Version,
    /// Update level: `None` for GA and its patches, `Some("3g")` for 7.0 U3g.
    pub update: Option<String>,
    /// Human name, e.g. `ESXi 6.7 Patch 5`, `ESXi 7.0 Update 3g`.
    pub name: String,
    pub kind: ReleaseKind,
    /// Bulletin / patch id, e.g. `ESXi670-202103001`.
    pub bulletin: Option<String>,
    pub release_date: Date,
    /// Image profile names (standard, no-tools, security-only "s" ...).
    pub image_profiles: Vec<String>,
    /// Shipped as an installable ISO (`None` when the sources do not say).
    pub iso: Option<bool>,
    /// Highest VM hardware version this build supports (derived from data/vm-hardware.toml).
    pub max_vm_hardware: Option<u32>,
    /// Where this record comes from (KB, release notes, data file).
    pub sources: Vec<String>,
    /// Source disagreements and remarks, kept verbatim.
    pub notes: Vec<String>,
    /// VMware withdrew (pulled) the release: why and by what it was
    /// replaced, from the `withdrawn` key (7.0 U3, U3a, U3b). `None`: not
    /// withdrawn as far as the sources say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
}

/// Support milestones of one branch.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawLifecycle")]
pub struct Lifecycle {
    pub branch: Branch,
    pub ga: Option<Date>,
    pub end_of_general_support: Option<Date>,
    pub end_of_technical_guidance: Option<Date>,
    pub notes: Vec<String>,
    pub sources: Vec<String>,
}

/// Where a branch stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleStatus {
    GeneralSupport,
    TechnicalGuidance,
    EndOfLife,
    Unknown,
}

/// A supported direct upgrade.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawUpgradePath")]
pub struct UpgradePath {
    pub to: Branch,
    /// Branches that may upgrade to `to` directly.
    pub from: Vec<Branch>,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

/// A CVSS base score: one decimal, 0.0 to 10.0, as advisories print it.
/// Kept in tenths so that text and JSON both say `9.3` (a binary float
/// widened for JSON would print `9.300000190734863`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cvss(u8);

impl Cvss {
    /// The score from a number, rounded to one decimal; `None` outside 0-10.
    pub fn new(score: f64) -> Option<Cvss> {
        let tenths = (score * 10.0).round();
        (score.is_finite() && (0.0..=100.0).contains(&tenths)).then_some(Cvss(tenths as u8))
    }
    /// The score in tenths (`93` for 9.3).
    pub fn tenths(self) -> u8 {
        self.0
    }
    /// The score as a number (`9.3`).
    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl std::fmt::Display for Cvss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

impl Serialize for Cvss {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.value())
    }
}

impl<'de> serde::Deserialize<'de> for Cvss {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cvss, D::Error> {
        let v = f64::deserialize(d)?;
        Cvss::new(v).ok_or_else(|| serde::de::Error::custom(format!("CVSS {v} is outside 0-10")))
    }
}

impl schemars::JsonSchema for Cvss {
    fn schema_name() -> String {
        "Cvss".into()
    }
    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut o = schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::Number.into()),
            ..Default::default()
        };
        o.number().minimum = Some(0.0);
        o.number().maximum = Some(10.0);
        o.metadata().description = Some("CVSS base score, one decimal (9.3)".into());
        o.into()
    }
}

/// One CVE of an advisory.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawCve")]
pub struct Cve {
    pub id: String,
    pub cvss: Option<Cvss>,
    pub summary: String,
    /// Known to be exploited in the wild (CISA KEV, VMware's own statement).
    pub known_exploited: bool,
}

/// First fixed build of an advisory on one branch.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawFix")]
pub struct Fix {
    pub branch: Branch,
    /// `None`: the branch is affected and no fix was published for it.
    pub build: Option<u32>,
    /// Release or bulletin that carries the fix (`ESXi670-202102401-SG`).
    pub release: Option<String>,
    pub notes: Vec<String>,
    /// Lower-numbered builds that carry the fix all the same: the
    /// security-only image of the patch bundle that `build` belongs to,
    /// when the fix is a security bulletin (`-SG`). A 6.x patch bundle
    /// (`ESXi670-202111001`) ships a full image (6.7 P06, 18828794) and a
    /// security-only one (`...s-standard`, 18812553, numbered lower) and
    /// its `-SG` bulletins are in both; the KB's own data shows it where
    /// Tenable names the security-only build as the fix (VMSA-2020-0011:
    /// ESXi670-202004101-SG, 15999342; VMSA-2020-0026: 17167699). Derived
    /// when the KB is loaded, from the releases' `bulletin` and `kind`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<u32>,
    /// Other update lines VMware fixed with their own build (`[[fix.line]]`):
    /// 8.0 U2 is fixed by 8.0 U2d 24585300 (`build`) and 8.0 U3 only by
    /// 8.0 U3d 24585383. Each line's build is higher than `build`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<FixLine>,
    /// Builds at or above `build` that do not carry the fix all the same:
    /// the knowledge base's releases of a [`FixLine`]'s update line below
    /// that line's fixed build. Derived when the KB is loaded, from
    /// `lines` and the releases' `version`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in: Vec<u32>,
}

/// The first fixed build of one update line (releases of one `version`,
/// such as 8.0.3 for 8.0 U3), when it differs from the branch's lowest.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixLine {
    /// The update line: the `version` of its releases (`8.0.3`).
    pub version: Version,
    /// First fixed build of the line.
    pub build: u32,
    /// Release or bulletin that carries the fix on the line (`ESXi80U3d-24585383`).
    pub release: Option<String>,
}

impl Fix {
    /// Whether `build` (of this fix's branch) carries the fix.
    pub fn covers(&self, build: u32) -> bool {
        (matches!(self.build, Some(b) if build >= b) && !self.not_in.contains(&build))
            || self.also_in.contains(&build)
    }

    /// The first fixed build and its release to name for a build of
    /// `version` (its update line's when the data records one, else the
    /// branch's lowest). `None` version: the branch's.
    pub fn first_fixed_for(&self, version: Option<&Version>) -> (Option<u32>, Option<&str>) {
        match self.line_of(version) {
            Some(l) => (Some(l.build), l.release.as_deref()),
            None => (self.build, self.release.as_deref()),
        }
    }

    /// The update line record for builds of `version`, when the data has one.
    pub fn line_of(&self, version: Option<&Version>) -> Option<&FixLine> {
        version.and_then(|v| self.lines.iter().find(|l| &l.version == v))
    }

    /// What [`Fix::first_fixed_for`] is the first fixed build of: the update
    /// line (`8.0 U3`) when the data records one for `version`, else the
    /// branch (`8.0`).
    pub fn fixed_line_label(&self, version: Option<&Version>) -> String {
        match self.line_of(version) {
            Some(l) if l.version.patch > 0 => format!("{} U{}", self.branch, l.version.patch),
            Some(_) => format!("{} GA", self.branch),
            None => self.branch.to_string(),
        }
    }
}

/// A VMware security advisory.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawAdvisory")]
pub struct Advisory {
    pub id: String,
    pub title: String,
    pub published: Date,
    pub cves: Vec<Cve>,
    pub fixes: Vec<Fix>,
    /// Workaround KB, e.g. `KB 76372`.
    pub workaround_kb: Option<String>,
    pub workaround: Option<String>,
    /// Service whose disabling is the workaround (`slpd`), for the checks.
    pub workaround_service: Option<String>,
    pub sources: Vec<String>,
}

/// What an advisory says about one build: the one answer to "does build B
/// of branch X carry the fix of advisory A". Every finding, recommendation,
/// runbook note and JSON field about an advisory and a release derives from
/// [`Advisory::status_of`]; nothing else decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixStatus {
    /// The branch is affected and this build carries its fix.
    Fixed,
    /// The branch is affected and this build is older than its first fixed build.
    NotFixed,
    /// The branch is affected and no fixed build was published for it (as far as the sources say).
    NoFixPublished,
    /// The advisory has no `[[fix]]` record for the branch: it does not name
    /// the branch as affected (data/README.md: one record per affected
    /// branch). esxup then says so, and claims neither a fix nor an exposure.
    NotListed,
}

impl FixStatus {
    /// The build is exposed: its branch is listed and the build lacks the fix.
    pub fn exposed(self) -> bool {
        matches!(self, FixStatus::NotFixed | FixStatus::NoFixPublished)
    }
    /// `Some(true)` fixed, `Some(false)` exposed, `None` not listed.
    pub fn fixed(self) -> Option<bool> {
        match self {
            FixStatus::Fixed => Some(true),
            FixStatus::NotFixed | FixStatus::NoFixPublished => Some(false),
            FixStatus::NotListed => None,
        }
    }
    /// `fixed`, `not-fixed`, `no-fix-published`, `not-listed` (JSON and message keys).
    pub fn as_str(self) -> &'static str {
        match self {
            FixStatus::Fixed => "fixed",
            FixStatus::NotFixed => "not-fixed",
            FixStatus::NoFixPublished => "no-fix-published",
            FixStatus::NotListed => "not-listed",
        }
    }
}

/// What the advisory's data says about a workaround.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workaround<'a> {
    /// A workaround is documented: its text (and KB, when recorded).
    Documented { text: &'a str, kb: Option<&'a str> },
    /// The vendor states there is none (`workaround = "none: ..."`): the quote.
    NoneExists { quote: &'a str },
    /// The data records nothing about a workaround.
    NotRecorded,
}

impl Advisory {
    /// The fix record for a branch (`None`: the advisory does not list it).
    pub fn fix_for(&self, branch: Branch) -> Option<&Fix> {
        self.fixes.iter().find(|f| f.branch == branch)
    }

    /// The one decision: what this advisory says about `build` of `branch`.
    /// (See [`Fix::also_in`] for the security-only builds that count as fixed.)
    pub fn status_of(&self, branch: Branch, build: u32) -> FixStatus {
        match self.fix_for(branch) {
            None => FixStatus::NotListed,
            Some(f) if f.covers(build) => FixStatus::Fixed,
            Some(f) if f.build.is_none() => FixStatus::NoFixPublished,
            Some(_) => FixStatus::NotFixed,
        }
    }

    /// [`Advisory::status_of`] for a release.
    pub fn status_in(&self, r: &Release) -> FixStatus {
        self.status_of(r.version.branch(), r.build)
    }

    /// Whether release `r` carries the fix: [`FixStatus::fixed`] of
    /// [`Advisory::status_in`] (`None` when the branch is not listed).
    pub fn fixed_in(&self, r: &Release) -> Option<bool> {
        self.status_in(r).fixed()
    }

    /// Highest CVSS score of the advisory's CVEs.
    pub fn max_cvss(&self) -> Option<Cvss> {
        self.cves.iter().filter_map(|c| c.cvss).max()
    }

    /// Whether any CVE is known to be exploited.
    pub fn known_exploited(&self) -> bool {
        self.cves.iter().any(|c| c.known_exploited)
    }

    /// The workaround as the data records it: a `workaround` text starting
    /// with `none` records the vendor's statement that there is none.
    pub fn workaround_info(&self) -> Workaround<'_> {
        match self.workaround.as_deref().map(str::trim) {
            Some(w) if w.to_ascii_lowercase().starts_with("none") => {
                let quote = w[4..].trim_start_matches([':', ' ']).trim();
                Workaround::NoneExists { quote }
            }
            Some(w) if !w.is_empty() => Workaround::Documented { text: w, kb: self.workaround_kb.as_deref() },
            _ => match self.workaround_kb.as_deref() {
                Some(kb) => Workaround::Documented { text: kb, kb: Some(kb) },
                None => Workaround::NotRecorded,
            },
        }
    }
}

/// A dated remark about ESXi availability (free-ESXi withdrawal and return),
/// from the `[[note]]` tables of `data/lifecycle.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawNote")]
pub struct LifecycleNote {
    pub date: Date,
    pub text: String,
    pub sources: Vec<String>,
    /// What the note says about the free vSphere Hypervisor, in a form the
    /// checks can apply to a release (the `free_hypervisor` key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_hypervisor: Option<FreeHypervisorEvent>,
}

/// A dated change of the free vSphere Hypervisor's availability.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FreeHypervisorEvent {
    /// `withdrawn` or `available`.
    pub event: FreeHypervisorChange,
    /// The branches the note is about.
    pub branches: Vec<Branch>,
    /// For `available`: the first build it is offered for; builds of that
    /// branch from it on, on its update line or a later one, are covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_build: Option<u32>,
}

/// Whether the free hypervisor went away or came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FreeHypervisorChange {
    Withdrawn,
    Available,
}

/// What the knowledge base says about the free vSphere Hypervisor for one
/// release on one day ([`crate::Kb::free_hypervisor`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FreeHypervisor<'a> {
    /// Offered for this release: it is `since` or a later build of its update line.
    Available { note: &'a LifecycleNote, since: &'a Release },
    /// Withdrawn, and back only from `since` on (a later release than this one).
    BeforeReturn { withdrawn: &'a LifecycleNote, since: &'a Release },
    /// Withdrawn, and no return recorded for this branch.
    Withdrawn { note: &'a LifecycleNote },
    /// The knowledge base records nothing about this branch (by that day).
    NotRecorded,
}

/// A VM hardware version and the first release that supports it
/// (`data/vm-hardware.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "crate::raw::RawVmHardware")]
pub struct VmHardware {
    /// The `N` of `vmx-N`.
    pub version: u32,
    /// Release name as the source writes it (`ESXi 7.0 Update 2`).
    pub first_release: String,
    /// Branch and build of that first release.
    pub since: HardwareSince,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

/// Where a VM hardware version first appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HardwareSince {
    pub branch: Branch,
    pub build: u32,
}

impl HardwareSince {
    /// Whether a build on `branch` includes this hardware version: every build
    /// of a newer branch, and builds from `build` on within the same branch.
    pub fn covers(&self, branch: Branch, build: u32) -> bool {
        branch > self.branch || (branch == self.branch && build >= self.build)
    }
}
