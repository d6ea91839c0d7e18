//! One row per host of a fleet: the columns `esxup report` (HTML, CSV) and
//! the compact fleet JSON print, decided here once from the host's
//! [`CheckReport`] and facts, so that no two outputs can disagree.
//!
//! Counts that a check rule decides (VMs needing Tools or a hardware
//! upgrade, snapshots) are read from that rule's findings, not recomputed:
//! the row says what `esxup check` says.

use crate::finding::{Finding, Severity};
use crate::report::{CheckReport, MethodKind, Verdict};
use esxup_facts::{BootMedia, HostFacts};
use esxup_kb::LifecycleStatus;
use serde::Serialize;

/// How bad the exposures of a host are, worst first: the facet of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExposureLevel {
    /// At least one advisory with a known-exploited CVE (CISA KEV).
    KnownExploited,
    /// CVSS 9.0 or more.
    Critical,
    /// CVSS 7.0 to 8.9.
    High,
    /// CVSS below 7.0, or no score recorded.
    Other,
    /// Exposed to no advisory the knowledge base holds.
    None,
}

impl ExposureLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ExposureLevel::KnownExploited => "known-exploited",
            ExposureLevel::Critical => "critical",
            ExposureLevel::High => "high",
            ExposureLevel::Other => "other",
            ExposureLevel::None => "none",
        }
    }
}

/// Exposures of one host, counted by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ExposureCounts {
    /// Advisories the installed build is exposed to.
    pub total: usize,
    /// Of which with a known-exploited CVE.
    pub known_exploited: usize,
    /// Of which with a CVSS of 9.0 or more.
    pub critical: usize,
    /// Of which with a CVSS of 7.0 to 8.9.
    pub high: usize,
}

/// The fleet-report row of one host. A host that could not be read or
/// checked has only `name`, `file` and `error`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FleetRow {
    pub name: String,
    /// The facts file or the collection target the row comes from.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<u32>,
    /// `7.0`, `8.0` … of the installed version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The knowledge base's name of the installed build (`None`: unknown build).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<ExposureLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposures: Option<ExposureCounts>,
    /// Advisory ids, known-exploited first, then by CVSS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    /// The target checked against (its name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blockers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infos: Option<usize>,
    /// Ids of the blocking findings, in report order, without repeats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocker_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodKind>,
    /// The other method must not be used (Secure Boot forces the ISO).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_required: Option<bool>,
    /// Message key of the first reason for the method (rendered per language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_reason: Option<crate::report::Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_media: Option<BootMedia>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_device: Option<String>,
    /// VMs (of those collected) whose Tools need an upgrade or are missing (`VM_TOOLS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vms_tools: Option<usize>,
    /// VMs below the target's newest hardware version (`VM_HARDWARE_OLD`),
    /// plus those too new for the target (`VM_HARDWARE`, blockers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vms_hardware: Option<usize>,
    /// Snapshots counted by `VM_SNAPSHOTS` (all VMs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<usize>,
    /// VMs collected (`None`: not collected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vms: Option<usize>,
    /// Licence edition as the host reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn count_arg(f: &Finding) -> usize {
    f.args.get("count").and_then(|c| c.parse().ok()).unwrap_or(1)
}

impl FleetRow {
    /// The row of a host that was checked.
    pub fn of(file: &str, name: &str, facts: &HostFacts, r: &CheckReport) -> FleetRow {
        let mut adv: Vec<&crate::report::ExposureReport> = r.exposures.iter().collect();
        adv.sort_by(|a, b| {
            b.known_exploited
                .cmp(&a.known_exploited)
                .then_with(|| b.max_cvss.map(|c| c.tenths()).cmp(&a.max_cvss.map(|c| c.tenths())))
                .then_with(|| a.advisory.cmp(&b.advisory))
        });
        let tenths = |e: &crate::report::ExposureReport| e.max_cvss.map(|c| c.tenths()).unwrap_or(0);
        let counts = ExposureCounts {
            total: adv.len(),
            known_exploited: adv.iter().filter(|e| e.known_exploited).count(),
            critical: adv.iter().filter(|e| tenths(e) >= 90).count(),
            high: adv.iter().filter(|e| (70..90).contains(&tenths(e))).count(),
        };
        let level = if counts.known_exploited > 0 {
            ExposureLevel::KnownExploited
        } else if counts.critical > 0 {
            ExposureLevel::Critical
        } else if counts.high > 0 {
            ExposureLevel::High
        } else if counts.total > 0 {
            ExposureLevel::Other
        } else {
            ExposureLevel::None
        };
        // By message key: a rule's "not collected" findings share its id.
        let sum = |keys: &[&str]| -> usize {
            r.findings
                .iter()
                .filter(|f| keys.contains(&f.key.as_str()))
                .map(|f| if f.key == "check.vm_hardware_too_new" { 1 } else { count_arg(f) })
                .sum()
        };
        let vms = facts.vms.as_ref().map(Vec::len);
        let mut blocker_ids: Vec<String> = Vec::new();
        for f in r.findings.iter().filter(|f| f.severity == Severity::Blocker) {
            if !blocker_ids.contains(&f.id) {
                blocker_ids.push(f.id.clone());
            }
        }
        FleetRow {
            name: name.to_string(),
            file: file.to_string(),
            cluster: facts.cluster.clone(),
            build: r.host.build,
            branch: r.host.version.map(|v| format!("{}.{}", v.major, v.minor)),
            release: r.host.release.as_ref().map(|x| x.name.clone()),
            release_date: r.host.release.as_ref().map(|x| x.date.to_string()),
            lifecycle: r.host.lifecycle.as_ref().map(|l| l.status),
            exposure: Some(level),
            exposures: Some(counts),
            advisories: adv.iter().map(|e| e.advisory.clone()).collect(),
            target: Some(r.target.release.name.clone()),
            verdict: Some(r.verdict),
            blockers: Some(r.counts.blockers),
            warnings: Some(r.counts.warnings),
            infos: Some(r.counts.infos),
            blocker_ids,
            method: Some(r.method.kind),
            method_required: Some(r.method.required),
            method_reason: r.method.reasons.first().cloned(),
            boot_media: facts.boot_device.as_ref().and_then(|b| b.media),
            boot_device: facts.boot_device.as_ref().and_then(|b| b.device.clone()),
            vms_tools: vms.map(|_| sum(&["check.vm_tools"])),
            vms_hardware: vms.map(|_| sum(&["check.vm_hardware_old", "check.vm_hardware_too_new"])),
            snapshots: vms.map(|_| sum(&["check.vm_snapshots"])),
            vms,
            license: facts.license.as_ref().and_then(|l| l.edition.clone()),
            error: None,
        }
    }

    /// The row of a host that could not be read, collected or checked.
    pub fn failed(file: &str, name: &str, error: &str) -> FleetRow {
        FleetRow {
            name: name.to_string(),
            file: file.to_string(),
            error: Some(error.to_string()),
            ..FleetRow::default()
        }
    }
}

/// The word of a boot medium in reports (`usb`, `sd-card`, `local-disk` …).
pub fn boot_media_word(m: BootMedia) -> &'static str {
    match m {
        BootMedia::Usb => "usb",
        BootMedia::SdCard => "sd-card",
        BootMedia::LocalDisk => "local-disk",
        BootMedia::San => "san",
        BootMedia::Pxe => "pxe",
        BootMedia::Other => "other",
    }
}

/// The compact JSON of a fleet check (`esxup check --facts-dir DIR --format
/// json`): one [`FleetRow`] per host and the totals; `--detail full` gives
/// the whole [`crate::FleetReport`] instead. Validated against
/// `schema/check-fleet-summary.schema.json`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FleetSummary {
    /// [`crate::REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub hosts: Vec<FleetRow>,
    pub totals: crate::report::FleetTotals,
}

impl FleetSummary {
    pub fn new(hosts: Vec<FleetRow>) -> FleetSummary {
        FleetSummary { schema_version: crate::report::REPORT_SCHEMA_VERSION, totals: totals(&hosts), hosts }
    }
}

/// Per-verdict totals of rows (counted as [`crate::FleetReport::new`] counts).
pub fn totals(rows: &[FleetRow]) -> crate::report::FleetTotals {
    crate::report::FleetTotals::of(rows.iter().map(|r| r.verdict))
}
