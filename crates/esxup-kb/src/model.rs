//! Knowledge-base record types (the contract other crates code against).

use esxup_version::{Branch, Date, Version};
use serde::Serialize;

/// The kind of a release, as VMware's build tables name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleStatus {
    GeneralSupport,
    TechnicalGuidance,
    EndOfLife,
    Unknown,
}

/// A supported direct upgrade.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(try_from = "crate::raw::RawUpgradePath")]
pub struct UpgradePath {
    pub to: Branch,
    /// Branches that may upgrade to `to` directly.
    pub from: Vec<Branch>,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

/// One CVE of an advisory.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(try_from = "crate::raw::RawCve")]
pub struct Cve {
    pub id: String,
    pub cvss: Option<f32>,
    pub summary: String,
    /// Known to be exploited in the wild (CISA KEV, VMware's own statement).
    pub known_exploited: bool,
}

/// First fixed build of an advisory on one branch.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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
}

impl Fix {
    /// Whether `build` (of this fix's branch) carries the fix.
    pub fn covers(&self, build: u32) -> bool {
        matches!(self.build, Some(b) if build >= b) || self.also_in.contains(&build)
    }
}

/// A VMware security advisory.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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

impl Advisory {
    /// The fix record for a branch (`None`: the advisory does not list it).
    pub fn fix_for(&self, branch: Branch) -> Option<&Fix> {
        self.fixes.iter().find(|f| f.branch == branch)
    }

    /// Whether release `r` carries the fix: `None` when the advisory lists
    /// no fix record for its branch, `Some(false)` when the branch has no
    /// published fix or `r` is older than the first fixed build.
    /// (See [`Fix::also_in`] for the security-only builds that count.)
    pub fn fixed_in(&self, r: &Release) -> Option<bool> {
        let f = self.fix_for(r.version.branch())?;
        Some(f.covers(r.build))
    }
}

/// A dated remark about ESXi availability (free-ESXi withdrawal and return),
/// from the `[[note]]` tables of `data/lifecycle.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(try_from = "crate::raw::RawNote")]
pub struct LifecycleNote {
    pub date: Date,
    pub text: String,
    pub sources: Vec<String>,
}

/// A VM hardware version and the first release that supports it
/// (`data/vm-hardware.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
