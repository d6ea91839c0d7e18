//! CPU and device readiness tables (`data/cpu.toml`, `data/devices.toml`),
//! read by `esxup check`. Embedded at build time like the rest of the KB;
//! [`Tables::load_dir`] reads the same files from a `--kb DIR`.
//!
//! OWNER: checks helper (issue 5).

use esxup_version::Branch;
use serde::Deserialize;
use std::path::Path;

const CPU_TOML: &str = include_str!("../../../data/cpu.toml");
const DEVICES_TOML: &str = include_str!("../../../data/devices.toml");

/// CPU vendor as the tables name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuTableVendor {
    Intel,
    Amd,
}

/// What a CPU row means for the target branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CpuSupport {
    /// The installer refuses (CPU_SUPPORT error); `allowLegacyCPU=true` may turn it into a warning.
    Unsupported,
    /// The installer warns: support ends in a later release.
    Deprecated,
}

/// One CPU row. A row applies to targets of branch `since` and later, up to
/// (not including) `until`; the first row matching the CPU wins, so specific
/// rows come before ranges.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CpuRow {
    pub vendor: CpuTableVendor,
    /// Exact family, or a range with `family_max`.
    pub family: Option<u32>,
    pub family_max: Option<u32>,
    /// Exact models (any of), or a range `model_max` (inclusive); none = every model.
    #[serde(default)]
    pub models: Vec<u32>,
    pub model_max: Option<u32>,
    pub since: Branch,
    pub until: Option<Branch>,
    pub support: CpuSupport,
    /// `allowLegacyCPU=true` turns an unsupported row into a warning.
    #[serde(default = "yes")]
    pub legacy_override: bool,
    /// Code names, e.g. `Sandy Bridge DT/EN`.
    pub name: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
}

fn yes() -> bool {
    true
}

impl CpuRow {
    /// Whether this row covers the CPU for a target on `target`.
    pub fn matches(&self, vendor: CpuTableVendor, family: u32, model: u32, target: Branch) -> bool {
        if self.vendor != vendor || target < self.since || self.until.is_some_and(|u| target >= u) {
            return false;
        }
        let fam_ok = match (self.family, self.family_max) {
            (Some(f), _) => family == f,
            (None, Some(m)) => family <= m,
            (None, None) => true,
        };
        let model_ok = if !self.models.is_empty() {
            self.models.contains(&model)
        } else {
            self.model_max.is_none_or(|m| model <= m)
        };
        fam_ok && model_ok
    }
}

/// How a device or driver fares on a target branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceStatus {
    /// No driver in the target image (nor a supported add-on).
    NoDriver,
    /// Only a community / fling driver exists; it must be added to the image.
    CommunityDriver,
    /// Driver is in the target image (note only).
    Inbox,
    /// A driver exists but must match the exact ESXi update (USB NIC fling).
    VersionLocked,
}

/// One device note: matched by PCI id, by driver name, or by VIB name.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRow {
    /// Stable id of the note (`realtek-r8168`), used in finding args and messages.
    pub id: String,
    pub name: String,
    pub vendor_id: Option<u16>,
    #[serde(default)]
    pub device_ids: Vec<u16>,
    /// Driver module names that identify the device class (`r8168`).
    #[serde(default)]
    pub drivers: Vec<String>,
    /// VIB names that identify it (`net55-r8168`).
    #[serde(default)]
    pub vibs: Vec<String>,
    /// Applies to targets of this branch and later...
    pub since: Branch,
    /// ...and before this one.
    pub until: Option<Branch>,
    pub status: DeviceStatus,
    /// The driver is a vmklinux (Linux-compat) driver: removed in 7.0.
    #[serde(default)]
    pub vmklinux: bool,
    pub sources: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
}

impl DeviceRow {
    pub fn applies_to(&self, target: Branch) -> bool {
        target >= self.since && self.until.is_none_or(|u| target < u)
    }
    pub fn matches_pci(&self, vendor: u16, device: u16) -> bool {
        self.vendor_id == Some(vendor) && self.device_ids.contains(&device)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CpuFile {
    #[serde(rename = "cpu")]
    rows: Vec<CpuRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevicesFile {
    #[serde(rename = "device")]
    rows: Vec<DeviceRow>,
    /// Driver module names known to be vmklinux drivers (6.x), with sources.
    #[serde(default)]
    vmklinux_drivers: Vec<String>,
    #[serde(default)]
    vmklinux_sources: Vec<String>,
}

/// Both tables.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Tables {
    pub cpu: Vec<CpuRow>,
    pub devices: Vec<DeviceRow>,
    pub vmklinux_drivers: Vec<String>,
    pub vmklinux_sources: Vec<String>,
}

/// Why a table file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error("read table {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("parse table {path}: {source}")]
    Parse { path: String, source: toml::de::Error },
    #[error("table {path}: row {row} has no source")]
    NoSource { path: String, row: String },
}

impl Tables {
    /// The tables built into the binary.
    pub fn embedded() -> Result<&'static Tables, TablesError> {
        static T: std::sync::OnceLock<Result<Tables, String>> = std::sync::OnceLock::new();
        let r =
            T.get_or_init(|| Tables::parse(CPU_TOML, DEVICES_TOML, "embedded").map_err(|e| e.to_string()));
        match r {
            Ok(t) => Ok(t),
            Err(e) => Err(TablesError::Parse {
                path: "embedded data/cpu.toml, data/devices.toml".into(),
                source: <toml::de::Error as serde::de::Error>::custom(e),
            }),
        }
    }

    /// Reads `cpu.toml` and `devices.toml` from a KB folder.
    pub fn load_dir(dir: &Path) -> Result<Tables, TablesError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p)
                .map_err(|source| TablesError::Io { path: p.display().to_string(), source })
        };
        Tables::parse(&read("cpu.toml")?, &read("devices.toml")?, &dir.display().to_string())
    }

    /// Parses both files' text and checks every row cites a source.
    pub fn parse(cpu: &str, devices: &str, origin: &str) -> Result<Tables, TablesError> {
        let cpu_path = format!("{origin}/cpu.toml");
        let dev_path = format!("{origin}/devices.toml");
        let c: CpuFile =
            toml::from_str(cpu).map_err(|source| TablesError::Parse { path: cpu_path.clone(), source })?;
        let d: DevicesFile = toml::from_str(devices)
            .map_err(|source| TablesError::Parse { path: dev_path.clone(), source })?;
        if let Some(r) = c.rows.iter().find(|r| r.sources.is_empty()) {
            return Err(TablesError::NoSource { path: cpu_path, row: r.name.clone() });
        }
        if let Some(r) = d.rows.iter().find(|r| r.sources.is_empty()) {
            return Err(TablesError::NoSource { path: dev_path, row: r.id.clone() });
        }
        Ok(Tables {
            cpu: c.rows,
            devices: d.rows,
            vmklinux_drivers: d.vmklinux_drivers,
            vmklinux_sources: d.vmklinux_sources,
        })
    }

    /// The first CPU row that covers this CPU for a target branch.
    pub fn cpu_row(
        &self,
        vendor: CpuTableVendor,
        family: u32,
        model: u32,
        target: Branch,
    ) -> Option<&CpuRow> {
        self.cpu.iter().find(|r| r.matches(vendor, family, model, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_and_classify_the_installer_cases() {
        let t = Tables::embedded().unwrap();
        let b70 = Branch::new(7, 0);
        let b80 = Branch::new(8, 0);
        let intel = CpuTableVendor::Intel;
        // Sandy Bridge DT: warning for 7.0, unsupported for 8.0.
        assert_eq!(t.cpu_row(intel, 6, 0x2A, b70).unwrap().support, CpuSupport::Deprecated);
        assert_eq!(t.cpu_row(intel, 6, 0x2A, b80).unwrap().support, CpuSupport::Unsupported);
        // Westmere (0x2C) is refused by 7.0.
        assert_eq!(t.cpu_row(intel, 6, 0x2C, b70).unwrap().support, CpuSupport::Unsupported);
        // Skylake-SP (0x55) is fine for both.
        assert!(t.cpu_row(intel, 6, 0x55, b80).is_none());
        assert!(t.cpu_row(intel, 0x0F, 0x04, b70).is_some());
        assert_eq!(t.cpu_row(CpuTableVendor::Amd, 0x10, 4, b70).unwrap().support, CpuSupport::Unsupported);
        assert_eq!(t.cpu_row(CpuTableVendor::Amd, 0x15, 1, b70).unwrap().support, CpuSupport::Deprecated);
        assert!(t.cpu_row(CpuTableVendor::Amd, 0x17, 1, b80).is_none());
        assert!(t.devices.iter().any(|d| d.id == "realtek-r8168"));
    }

    #[test]
    fn refuses_rows_without_source() {
        let cpu =
            "[[cpu]]\nvendor='intel'\nfamily=15\nsince='7.0'\nsupport='unsupported'\nname='x'\nsources=[]\n";
        assert!(matches!(Tables::parse(cpu, "device=[]", "t"), Err(TablesError::NoSource { .. })));
    }
}
