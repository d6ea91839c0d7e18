//! The data files as written (`deny_unknown_fields`), and the checks that turn
//! them into model records while deserialising (`#[serde(try_from = ...)]`).
//!
//! Only hard invariants live here (a record that breaks one is unusable);
//! style and cross-record rules are in `lint`.

use crate::model::*;
use esxup_version::{update_agrees, Branch, Date, Version};
use serde::Deserialize;

fn check_sources(sources: &[String]) -> Result<(), String> {
    if sources.is_empty() {
        return Err("missing source: `sources` must name at least one".into());
    }
    if sources.iter().any(|s| s.trim().is_empty()) {
        return Err("empty entry in `sources`".into());
    }
    Ok(())
}

fn check_text(what: &str, s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("`{what}` is empty"));
    }
    if s.trim() != s {
        return Err(format!("`{what}` {s:?} has leading or trailing whitespace"));
    }
    Ok(())
}

/// `3`, `3g`, `3sg`: one or two digits, then up to three lowercase letters.
pub(crate) fn valid_update(u: &str) -> bool {
    let d = u.bytes().take_while(u8::is_ascii_digit).count();
    (1..=2).contains(&d) && u.len() - d <= 3 && u.bytes().skip(d).all(|b| b.is_ascii_lowercase())
}

/// `PREFIX-YYYY-NNNN...` with at least `min_seq` digits in the sequence.
fn valid_dated_id(id: &str, prefix: &str, min_seq: usize) -> bool {
    let Some(rest) = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else { return false };
    let Some((year, seq)) = rest.split_once('-') else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && seq.len() >= min_seq
        && seq.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn valid_vmsa_id(id: &str) -> bool {
    valid_dated_id(id, "VMSA", 4) && id.len() == "VMSA-2021-0002".len()
}

pub(crate) fn valid_cve_id(id: &str) -> bool {
    valid_dated_id(id, "CVE", 4)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    build: u32,
    version: Version,
    update: Option<String>,
    name: String,
    kind: ReleaseKind,
    bulletin: Option<String>,
    date: Date,
    #[serde(default)]
    profiles: Vec<String>,
    iso: Option<bool>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
    /// Why and how VMware withdrew (pulled) the release.
    withdrawn: Option<String>,
    /// Read by the lint only: why this record breaks date/build order.
    #[allow(dead_code)]
    order_exception: Option<String>,
    /// Why an optional field is absent: no source read for the record
    /// states it (`unsourced = { bulletin = "why" }`). Validated here (a
    /// bad reason fails the load and the lint); not part of the model.
    unsourced: Option<Unsourced>,
}

/// `unsourced = { bulletin = "...", profiles = "..." }` on a `[[release]]`:
/// the reason a field is left out (no source that states it; a naming
/// pattern is not a source). Only fields the record lacks may be named.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Unsourced {
    bulletin: Option<String>,
    profiles: Option<String>,
}

impl Unsourced {
    fn check(&self, has_bulletin: bool, has_profiles: bool) -> Result<(), String> {
        if self.bulletin.is_none() && self.profiles.is_none() {
            return Err("`unsourced` names no field (bulletin, profiles)".into());
        }
        for (key, reason, present) in
            [("bulletin", &self.bulletin, has_bulletin), ("profiles", &self.profiles, has_profiles)]
        {
            if let Some(why) = reason {
                check_text(&format!("unsourced.{key}"), why)?;
                if present {
                    return Err(format!("`unsourced.{key}` is given but the record has `{key}`"));
                }
            }
        }
        Ok(())
    }
}

impl TryFrom<RawRelease> for Release {
    type Error = String;
    fn try_from(r: RawRelease) -> Result<Release, String> {
        let at = |m: String| format!("build {}: {m}", r.build);
        if r.build == 0 {
            return Err("build 0 is not a build number".into());
        }
        check_text("name", &r.name).map_err(at)?;
        check_sources(&r.sources).map_err(at)?;
        if let Some(u) = &r.update {
            if !valid_update(u) {
                return Err(at(format!("update {u:?} is not an update level like \"3\" or \"3g\"")));
            }
            // From 7.0 the z of x.y.z is the update number.
            if r.version.major >= 7 && !update_agrees(&r.version.patch.to_string(), Some(u)) {
                return Err(at(format!("version {} does not match update {u:?}", r.version)));
            }
        }
        if let Some(b) = &r.bulletin {
            check_text("bulletin", b).map_err(at)?;
        }
        if let Some(w) = &r.withdrawn {
            check_text("withdrawn", w).map_err(at)?;
        }
        if let Some(u) = &r.unsourced {
            u.check(r.bulletin.is_some(), !r.profiles.is_empty()).map_err(at)?;
        }
        for p in &r.profiles {
            if p.is_empty() || p.chars().any(char::is_whitespace) {
                return Err(at(format!("image profile {p:?} is empty or has whitespace")));
            }
        }
        Ok(Release {
            build: r.build,
            version: r.version,
            update: r.update,
            name: r.name,
            kind: r.kind,
            bulletin: r.bulletin,
            release_date: r.date,
            image_profiles: r.profiles,
            iso: r.iso,
            max_vm_hardware: None,
            sources: r.sources,
            notes: r.notes,
            withdrawn: r.withdrawn,
        })
    }
}

/// `releases/<branch>.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseFile {
    pub branch: Branch,
    #[serde(default, rename = "release")]
    pub releases: Vec<Release>,
}

impl ReleaseFile {
    pub fn check(&self) -> Result<(), String> {
        for r in &self.releases {
            if r.version.branch() != self.branch {
                return Err(format!(
                    "build {}: version {} is not on the file's branch {}",
                    r.build, r.version, self.branch
                ));
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCve {
    id: String,
    cvss: Option<f64>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    known_exploited: bool,
}

impl TryFrom<RawCve> for Cve {
    type Error = String;
    fn try_from(r: RawCve) -> Result<Cve, String> {
        if !valid_cve_id(&r.id) {
            return Err(format!("CVE id {:?} is not CVE-YYYY-NNNN", r.id));
        }
        let cvss = match r.cvss {
            None => None,
            Some(c) if !(0.0..=10.0).contains(&c) => {
                return Err(format!("{}: CVSS {c} is outside 0-10", r.id));
            }
            Some(c) => match Cvss::new(c) {
                Some(s) if (s.value() - c).abs() < 1e-6 => Some(s),
                _ => return Err(format!("{}: CVSS {c} has more than one decimal", r.id)),
            },
        };
        Ok(Cve { id: r.id, cvss, summary: r.summary, known_exploited: r.known_exploited })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFix {
    branch: Branch,
    build: Option<u32>,
    release: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default, rename = "line")]
    lines: Vec<FixLine>,
}

impl TryFrom<RawFix> for Fix {
    type Error = String;
    fn try_from(r: RawFix) -> Result<Fix, String> {
        if r.build == Some(0) {
            return Err(format!("fix for {}: build 0 is not a build number", r.branch));
        }
        if r.build.is_none() && r.release.is_some() {
            return Err(format!("fix for {}: `release` without `build`", r.branch));
        }
        for l in &r.lines {
            if l.version.branch() != r.branch {
                return Err(format!("fix for {}: line {} is of another branch", r.branch, l.version));
            }
            if !matches!(r.build, Some(b) if l.build > b) {
                return Err(format!(
                    "fix for {}: line {} build {} must be higher than the fix's `build` (the branch's lowest fixed build)",
                    r.branch, l.version, l.build
                ));
            }
        }
        let mut versions: Vec<&Version> = r.lines.iter().map(|l| &l.version).collect();
        versions.sort();
        if versions.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!("fix for {}: two [[fix.line]] entries for one version", r.branch));
        }
        Ok(Fix {
            branch: r.branch,
            build: r.build,
            release: r.release,
            notes: r.notes,
            also_in: Vec::new(),
            lines: r.lines,
            not_in: Vec::new(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdvisory {
    id: String,
    title: String,
    published: Date,
    #[serde(default)]
    sources: Vec<String>,
    workaround_kb: Option<String>,
    workaround: Option<String>,
    workaround_service: Option<String>,
    #[serde(default, rename = "cve")]
    cves: Vec<Cve>,
    #[serde(default, rename = "fix")]
    fixes: Vec<Fix>,
}

impl TryFrom<RawAdvisory> for Advisory {
    type Error = String;
    fn try_from(r: RawAdvisory) -> Result<Advisory, String> {
        if !valid_vmsa_id(&r.id) {
            return Err(format!("advisory id {:?} is not VMSA-YYYY-NNNN", r.id));
        }
        let at = |m: String| format!("{}: {m}", r.id);
        check_text("title", &r.title).map_err(at)?;
        check_sources(&r.sources).map_err(at)?;
        if r.cves.is_empty() {
            return Err(at("no [[cve]]".into()));
        }
        let mut branches: Vec<Branch> = r.fixes.iter().map(|f| f.branch).collect();
        branches.sort();
        if branches.windows(2).any(|w| w[0] == w[1]) {
            return Err(at("two [[fix]] entries for one branch".into()));
        }
        Ok(Advisory {
            id: r.id,
            title: r.title,
            published: r.published,
            cves: r.cves,
            fixes: r.fixes,
            workaround_kb: r.workaround_kb,
            workaround: r.workaround,
            workaround_service: r.workaround_service,
            sources: r.sources,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    branch: Branch,
    ga: Option<Date>,
    end_of_general_support: Option<Date>,
    end_of_technical_guidance: Option<Date>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
}

impl TryFrom<RawLifecycle> for Lifecycle {
    type Error = String;
    fn try_from(r: RawLifecycle) -> Result<Lifecycle, String> {
        check_sources(&r.sources).map_err(|m| format!("branch {}: {m}", r.branch))?;
        let dates = [r.ga, r.end_of_general_support, r.end_of_technical_guidance];
        let known: Vec<Date> = dates.iter().flatten().copied().collect();
        if known.windows(2).any(|w| w[0] > w[1]) {
            return Err(format!(
                "branch {}: milestones out of order (ga <= end_of_general_support <= end_of_technical_guidance)",
                r.branch
            ));
        }
        Ok(Lifecycle {
            branch: r.branch,
            ga: r.ga,
            end_of_general_support: r.end_of_general_support,
            end_of_technical_guidance: r.end_of_technical_guidance,
            notes: r.notes,
            sources: r.sources,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNote {
    date: Date,
    text: String,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    free_hypervisor: Option<FreeHypervisorEvent>,
}

impl TryFrom<RawNote> for LifecycleNote {
    type Error = String;
    fn try_from(r: RawNote) -> Result<LifecycleNote, String> {
        check_text("text", &r.text).map_err(|m| format!("note of {}: {m}", r.date))?;
        check_sources(&r.sources).map_err(|m| format!("note of {}: {m}", r.date))?;
        if let Some(f) = &r.free_hypervisor {
            if f.branches.is_empty() {
                return Err(format!("note of {}: free_hypervisor without branches", r.date));
            }
            if (f.event == FreeHypervisorChange::Available) != f.since_build.is_some() {
                return Err(format!(
                    "note of {}: free_hypervisor needs `since_build` exactly when it is `available`",
                    r.date
                ));
            }
        }
        Ok(LifecycleNote {
            date: r.date,
            text: r.text,
            sources: r.sources,
            free_hypervisor: r.free_hypervisor,
        })
    }
}

/// `lifecycle.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LifecycleFile {
    #[serde(default, rename = "branch")]
    pub branches: Vec<Lifecycle>,
    #[serde(default, rename = "note")]
    pub notes: Vec<LifecycleNote>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpgradePath {
    to: Branch,
    from: Vec<Branch>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
}

impl TryFrom<RawUpgradePath> for UpgradePath {
    type Error = String;
    fn try_from(r: RawUpgradePath) -> Result<UpgradePath, String> {
        check_sources(&r.sources).map_err(|m| format!("path to {}: {m}", r.to))?;
        if let Some(b) = r.from.iter().find(|b| **b >= r.to) {
            return Err(format!("path to {}: from {b} is not an older branch (no downgrades)", r.to));
        }
        Ok(UpgradePath { to: r.to, from: r.from, sources: r.sources, notes: r.notes })
    }
}

/// `upgrade-paths.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpgradePathFile {
    #[serde(default, rename = "path")]
    pub paths: Vec<UpgradePath>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVmHardware {
    version: u32,
    first_release: String,
    since: HardwareSince,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
}

impl TryFrom<RawVmHardware> for VmHardware {
    type Error = String;
    fn try_from(r: RawVmHardware) -> Result<VmHardware, String> {
        check_sources(&r.sources).map_err(|m| format!("vmx-{}: {m}", r.version))?;
        check_text("first_release", &r.first_release).map_err(|m| format!("vmx-{}: {m}", r.version))?;
        Ok(VmHardware {
            version: r.version,
            first_release: r.first_release,
            since: r.since,
            sources: r.sources,
            notes: r.notes,
        })
    }
}

/// `vm-hardware.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmHardwareFile {
    #[serde(default, rename = "hardware")]
    pub hardware: Vec<VmHardware>,
}

/// What the lint needs of a release beyond the model: file order and the exception key.
#[derive(Deserialize)]
pub(crate) struct OrderView {
    #[serde(default, rename = "release")]
    pub releases: Vec<OrderRow>,
}

#[derive(Deserialize)]
pub(crate) struct OrderRow {
    pub build: u32,
    pub date: Date,
    pub order_exception: Option<String>,
}
