//! `esxcli hardware ...` (CPU, memory, PCI, trusted boot), the firmware type
//! (`vsish`) and Secure Boot (`secureBoot.py`).

use super::{
    empty, first_text_line, no_records, non_placeholder, parse_bool, parse_num, records, ParseError,
};
use crate::model::{CpuVendor, FirmwareType, PciDevice};

pub const CPU_GLOBAL: &str = "esxcli hardware cpu global get";
pub const CPU_LIST: &str = "esxcli hardware cpu list";
pub const MEMORY_GET: &str = "esxcli hardware memory get";
pub const PCI_LIST: &str = "esxcli hardware pci list";
pub const TRUSTEDBOOT_GET: &str = "esxcli hardware trustedboot get";
pub const FIRMWARE_TYPE: &str = "vsish -e get /hardware/firmwareType";
pub const SECUREBOOT_STATE: &str = "/usr/lib/vmware/secureboot/bin/secureBoot.py -s";
pub const SECUREBOOT_CHECK: &str = "/usr/lib/vmware/secureboot/bin/secureBoot.py -c";

/// `esxcli hardware cpu global get`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuGlobal {
    pub packages: Option<u32>,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
    /// `HV Support`: 0 not present, 1 present but unsupported, 2 disabled in
    /// the BIOS, 3 enabled (VMware's documented meaning of the field).
    pub hv_support: Option<u32>,
}

pub fn cpu_global(text: &str) -> Result<CpuGlobal, ParseError> {
    let c = CPU_GLOBAL;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("CPU Packages").is_some()).ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `CPU Packages` field")
    })?;
    let num = |name: &str| -> Result<Option<u32>, ParseError> {
        match r.get(name) {
            None => Ok(None),
            Some(v) => parse_num(v)
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| ParseError::new(c, r.line, format!("`{name}` is not a number: {v:?}"))),
        }
    };
    let g = CpuGlobal {
        packages: num("CPU Packages")?,
        cores: num("CPU Cores")?,
        threads: num("CPU Threads")?,
        hv_support: num("HV Support")?,
    };
    if g.cores.is_none() {
        return Err(ParseError::new(c, r.line, "field `CPU Cores` is missing (output truncated?)"));
    }
    Ok(g)
}

/// The first CPU of `esxcli hardware cpu list` (all packages of a host carry
/// the same model): vendor, family, model, stepping, brand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuModel {
    pub vendor: Option<CpuVendor>,
    pub family: Option<u32>,
    pub model: Option<u32>,
    pub stepping: Option<u32>,
    pub brand: Option<String>,
    /// Number of CPU entries (logical CPUs) listed.
    pub logical: u32,
}

pub fn cpu_list(text: &str) -> Result<CpuModel, ParseError> {
    let c = CPU_LIST;
    let recs = records(c, text)?;
    let cpus: Vec<_> =
        recs.iter().filter(|r| r.get("Family").is_some() || r.get("Brand").is_some()).collect();
    let first = cpus.first().ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no CPU entry with `Family`")
    })?;
    for r in &cpus {
        r.require(c, "Family")?;
        r.require(c, "Model")?;
    }
    let n = |name: &str| first.get(name).and_then(parse_num).and_then(|v| u32::try_from(v).ok());
    let brand = first.get("Brand").and_then(non_placeholder);
    let vendor = brand.as_deref().map(|b| {
        let l = b.to_ascii_lowercase();
        if l.contains("intel") {
            CpuVendor::Intel
        } else if l.contains("amd") {
            CpuVendor::Amd
        } else {
            CpuVendor::Other
        }
    });
    Ok(CpuModel {
        vendor,
        family: n("Family"),
        model: n("Model"),
        stepping: n("Stepping"),
        brand,
        logical: cpus.len() as u32,
    })
}

/// `esxcli hardware memory get`: physical memory in bytes.
pub fn memory_get(text: &str) -> Result<u64, ParseError> {
    let c = MEMORY_GET;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("Physical Memory").is_some()).ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `Physical Memory` field")
    })?;
    let v = r.get("Physical Memory").unwrap_or_default();
    let mut parts = v.split_whitespace();
    let n = parts.next().and_then(|s| s.parse::<u64>().ok());
    let unit = parts.next().unwrap_or("Bytes");
    match (n, unit) {
        (Some(n), u) if u.eq_ignore_ascii_case("bytes") => Ok(n),
        _ => Err(ParseError::new(c, r.line, format!("expected `N Bytes`, found {v:?}"))),
    }
}

/// `esxcli hardware pci list`: every PCI function.
pub fn pci_list(text: &str) -> Result<Vec<PciDevice>, ParseError> {
    let c = PCI_LIST;
    let recs = records(c, text)?;
    let devs: Vec<_> = recs.iter().filter(|r| !r.fields.is_empty()).collect();
    if devs.is_empty() {
        return Err(no_records(c, text));
    }
    devs.iter()
        .map(|r| {
            let id16 = |name: &str| -> Result<Option<u16>, ParseError> {
                match r.get(name) {
                    None => Ok(None),
                    Some(v) => parse_num(v).and_then(|n| u16::try_from(n).ok()).map(Some).ok_or_else(|| {
                        ParseError::new(c, r.line, format!("`{name}` is not a 16-bit id: {v:?}"))
                    }),
                }
            };
            let address = r.require(c, "Address")?.to_string();
            let vendor_id = id16("Vendor ID")?.ok_or_else(|| {
                ParseError::new(c, r.line, "field `Vendor ID` is missing (output truncated?)")
            })?;
            let device_id = id16("Device ID")?.ok_or_else(|| {
                ParseError::new(c, r.line, "field `Device ID` is missing (output truncated?)")
            })?;
            let class = match (r.get("Device Class").and_then(parse_num), r.get("Programming Interface")) {
                (Some(dc), pi) => Some(((dc as u32) << 8) | pi.and_then(parse_num).unwrap_or(0) as u32),
                (None, _) => None,
            };
            Ok(PciDevice {
                address,
                vendor_id,
                device_id,
                subvendor_id: id16("SubVendor ID")?,
                subdevice_id: id16("SubDevice ID")?,
                class,
                vendor_name: r.get("Vendor Name").and_then(non_placeholder),
                device_name: r.get("Device Name").and_then(non_placeholder),
                driver: r.get("Module Name").and_then(non_placeholder),
                vmkernel_name: r.get("VMkernel Name").and_then(non_placeholder),
            })
        })
        .collect()
}

/// `esxcli hardware trustedboot get`: `(tpm_present, drtm_enabled)`.
pub fn trustedboot_get(text: &str) -> Result<(Option<bool>, Option<bool>), ParseError> {
    let c = TRUSTEDBOOT_GET;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("Tpm Present").is_some()).ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `Tpm Present` field")
    })?;
    Ok((r.get("Tpm Present").and_then(parse_bool), r.get("Drtm Enabled").and_then(parse_bool)))
}

/// `vsish -e get /hardware/firmwareType`: the output names UEFI or BIOS.
/// No public sample of this output was found: the parser only accepts an
/// output that names exactly one of the two, anything else is an error.
pub fn firmware_type(text: &str) -> Result<FirmwareType, ParseError> {
    let c = FIRMWARE_TYPE;
    let (n, _) = first_text_line(text).ok_or_else(|| empty(c))?;
    let up = text.to_ascii_uppercase();
    let uefi = up.contains("UEFI") || up.split(|ch: char| !ch.is_ascii_alphanumeric()).any(|w| w == "EFI");
    let bios = up.contains("BIOS") || up.contains("LEGACY");
    match (uefi, bios) {
        (true, false) => Ok(FirmwareType::Uefi),
        (false, true) => Ok(FirmwareType::Bios),
        _ => Err(ParseError::new(c, n, format!("expected UEFI or BIOS, found {:?}", text.trim()))),
    }
}

/// `secureBoot.py -s`: `Enabled` or `Disabled` (some builds print `Secure Boot: ENABLED`).
pub fn secureboot_state(text: &str) -> Result<bool, ParseError> {
    let c = SECUREBOOT_STATE;
    let (n, l) = first_text_line(text).ok_or_else(|| empty(c))?;
    let word = l.rsplit([' ', ':']).next().unwrap_or(l);
    match word.to_ascii_lowercase().as_str() {
        "enabled" => Ok(true),
        "disabled" => Ok(false),
        _ => Err(ParseError::new(c, n, format!("expected Enabled or Disabled, found {l:?}"))),
    }
}

/// `secureBoot.py -c`: whether Secure Boot can be enabled (all VIB signatures
/// verify, no CommunitySupported VIB). `Secure boot can be enabled: ...` or
/// `Secure boot CANNOT be enabled: ...`.
pub fn secureboot_check(text: &str) -> Result<bool, ParseError> {
    let c = SECUREBOOT_CHECK;
    let (n, l) = first_text_line(text).ok_or_else(|| empty(c))?;
    let low = l.to_ascii_lowercase();
    if low.contains("cannot be enabled") {
        Ok(false)
    } else if low.contains("can be enabled") {
        Ok(true)
    } else {
        Err(ParseError::new(c, n, format!("expected `Secure boot can/CANNOT be enabled`, found {l:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_boot_words() {
        assert_eq!(secureboot_state("Enabled\n"), Ok(true));
        assert_eq!(secureboot_state("Secure Boot: DISABLED\n"), Ok(false));
        assert!(secureboot_state("Traceback (most recent call last):\n").is_err());
        assert_eq!(secureboot_check("Secure boot CANNOT be enabled: x\n"), Ok(false));
    }

    #[test]
    fn memory_units() {
        assert_eq!(memory_get("   Physical Memory: 1024 Bytes\n"), Ok(1024));
        assert!(memory_get("   Physical Memory: lots\n").is_err());
    }
}
