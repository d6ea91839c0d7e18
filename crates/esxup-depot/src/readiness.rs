//! Driver readiness: for each host device, does the target image carry a
//! native driver for it? Target driver VIBs tag the devices they claim with
//! `PCIID` software tags (`vvvvdddd`, `vvvvddddssssssss`, `.` a wildcard,
//! a class code after the 16 id digits); vmklinux drivers (depending on
//! `vmkapi_2_2_0_0` / `com.vmware.driverAPI-9.2.x`) do not load on 7.0.
//! The management NIC and the boot HBA without a native driver block the
//! upgrade (7.0 precheck NATIVE_BOOT_NIC / NATIVE_BOOTBANK); AHCI (010601),
//! NVMe (010802) and USB (0c03xx) count as native (research README).

use crate::depot::Depot;
use crate::model::{ImageProfile, Vib};
use esxup_facts::{HostFacts, PciDevice};
use serde::Serialize;

/// What the device is to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceRole {
    ManagementNic,
    BootHba,
    Nic,
    StorageAdapter,
    Other,
}

/// Whether the target has a driver for the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Readiness {
    /// A target VIB's PCIID tag claims the device.
    Native,
    /// AHCI / NVMe / USB class: counted as native by the precheck.
    NativeByClass,
    /// Only vmklinux driver VIBs claim it: they will not load on 7.0+.
    VmklinuxOnly,
    /// No target VIB claims it.
    NoDriver,
    /// The host's PCI ids were not collected.
    Unknown,
}

/// One device's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DeviceReadiness {
    pub address: Option<String>,
    /// `vvvv:dddd[:ssss:ssss]` in hex.
    pub pci_id: Option<String>,
    pub name: Option<String>,
    pub vmkernel_name: Option<String>,
    pub current_driver: Option<String>,
    /// The host's current driver is a vmklinux one, if known.
    pub current_driver_vmklinux: Option<bool>,
    pub role: DeviceRole,
    pub status: Readiness,
    /// Target VIBs whose PCIID tags claim the device.
    pub target_vibs: Vec<String>,
    /// Without a driver this device stops the upgrade (management NIC, boot HBA).
    pub blocker: bool,
    pub reason: String,
}

/// Matches one PCIID tag against a device: positions are vendor(4),
/// device(4), subvendor(4), subdevice(4), class(6); `.` is a wildcard and a
/// short tag leaves the rest free. Unknown device fields never match a
/// specific digit.
pub fn pciid_matches(tag: &str, dev: &PciDevice) -> bool {
    let hex = |v: Option<u32>, w: usize| match v {
        Some(x) => format!("{x:0w$x}"),
        None => "?".repeat(w),
    };
    let key = format!(
        "{}{}{}{}{}",
        hex(Some(dev.vendor_id.into()), 4),
        hex(Some(dev.device_id.into()), 4),
        hex(dev.subvendor_id.map(u32::from), 4),
        hex(dev.subdevice_id.map(u32::from), 4),
        hex(dev.class, 6)
    );
    let tag = tag.trim().to_ascii_lowercase();
    if tag.is_empty() || tag.len() > key.len() {
        return false;
    }
    tag.bytes().zip(key.bytes()).all(|(t, k)| t == b'.' || t == k)
}

fn native_by_class(class: Option<u32>) -> Option<&'static str> {
    match class? {
        0x010601 => Some("AHCI"),
        0x010802 => Some("NVMe"),
        c if c >> 8 == 0x0c03 => Some("USB"),
        _ => None,
    }
}

/// Checks every NIC, storage controller and driver-bound device of the host
/// against the driver VIBs of `profile`.
pub fn driver_readiness(facts: &HostFacts, depot: &Depot, profile: &ImageProfile) -> Vec<DeviceReadiness> {
    let targets: Vec<&Vib> = profile.vib_ids.iter().filter_map(|id| depot.vib(id)).collect();
    let drivers: Vec<&Vib> = targets.iter().copied().filter(|v| v.pci_ids().next().is_some()).collect();
    // vmklinux drivers still load on 6.x targets; from 7.0 they do not. The
    // target's release is its esx-base version; without esx-base (a partial
    // profile) assume 7.0 or later, the case this check exists for.
    let drops_vmklinux = targets
        .iter()
        .find(|v| v.name == "esx-base")
        .and_then(|v| v.version.version().split('.').next().and_then(|m| m.parse::<u32>().ok()))
        .is_none_or(|major| major >= 7);

    let nics = facts.nics.as_deref().unwrap_or(&[]);
    let hbas = facts.storage_adapters.as_deref().unwrap_or(&[]);
    let boot_adapter = facts.boot_device.as_ref().and_then(|b| b.adapter.clone());
    let is_mgmt = |addr: Option<&str>, vmk: Option<&str>| {
        nics.iter().any(|n| {
            n.management == Some(true)
                && (addr.is_some() && n.pci_address.as_deref() == addr || vmk == Some(n.name.as_str()))
        })
    };
    let is_boot = |addr: Option<&str>, vmk: Option<&str>| {
        hbas.iter().any(|h| {
            (h.boot == Some(true) || boot_adapter.as_deref() == Some(h.name.as_str()))
                && (addr.is_some() && h.pci_address.as_deref() == addr || vmk == Some(h.name.as_str()))
        })
    };
    let vmklinux_module = |drv: &str| -> Option<bool> {
        if let Some(m) = facts.modules.as_ref().and_then(|ms| ms.iter().find(|m| m.name == drv)) {
            if m.vmklinux.is_some() {
                return m.vmklinux;
            }
        }
        // Driver VIBs are named after the module, with the old prefixes.
        let vibs = facts.vibs.as_deref().unwrap_or(&[]);
        let candidates = [
            drv.to_string(),
            format!("net-{drv}"),
            format!("scsi-{drv}"),
            format!("sata-{drv}"),
            format!("block-{drv}"),
            format!("net51-{drv}"),
            format!("net55-{drv}"),
        ];
        vibs.iter()
            .filter(|v| candidates.contains(&v.name))
            .find_map(|v| {
                depot.find_installed(
                    "",
                    &v.vendor,
                    &v.name,
                    &esxup_version::vib::VibVersion::parse(&v.version),
                )
            })
            .map(Vib::is_vmklinux)
    };

    let mut out = Vec::new();
    let Some(pcis) = facts.pci_devices.as_ref() else {
        // Without PCI ids only the critical devices can be named.
        for n in nics.iter().filter(|n| n.management == Some(true)) {
            out.push(unknown(
                Some(n.name.clone()),
                n.pci_address.clone(),
                n.driver.clone(),
                DeviceRole::ManagementNic,
            ));
        }
        for h in
            hbas.iter().filter(|h| h.boot == Some(true) || boot_adapter.as_deref() == Some(h.name.as_str()))
        {
            out.push(unknown(
                Some(h.name.clone()),
                h.pci_address.clone(),
                h.driver.clone(),
                DeviceRole::BootHba,
            ));
        }
        return out;
    };

    for d in pcis {
        let addr = Some(d.address.as_str());
        let vmk = d.vmkernel_name.as_deref();
        let class = d.class;
        let is_net =
            class.is_some_and(|c| c >> 16 == 0x02) || nics.iter().any(|n| n.pci_address.as_deref() == addr);
        let is_storage =
            class.is_some_and(|c| c >> 16 == 0x01) || hbas.iter().any(|h| h.pci_address.as_deref() == addr);
        let role = if is_mgmt(addr, vmk) {
            DeviceRole::ManagementNic
        } else if is_boot(addr, vmk) {
            DeviceRole::BootHba
        } else if is_net {
            DeviceRole::Nic
        } else if is_storage {
            DeviceRole::StorageAdapter
        } else {
            DeviceRole::Other
        };
        if role == DeviceRole::Other && d.driver.is_none() {
            continue;
        }
        let claim: Vec<&Vib> =
            drivers.iter().copied().filter(|v| v.pci_ids().any(|t| pciid_matches(t, d))).collect();
        let native: Vec<&Vib> =
            claim.iter().copied().filter(|v| !drops_vmklinux || !v.is_vmklinux()).collect();
        let critical = matches!(role, DeviceRole::ManagementNic | DeviceRole::BootHba);
        let what = match role {
            DeviceRole::ManagementNic => "the management NIC",
            DeviceRole::BootHba => "the boot HBA",
            _ => "this device",
        };
        let (status, reason) = if !native.is_empty() {
            (Readiness::Native, format!("claimed by {} (PCIID tag)", native[0].id))
        } else if let Some(kind) = native_by_class(class) {
            (Readiness::NativeByClass, format!("{kind} class device: covered by the inbox native driver"))
        } else if !claim.is_empty() {
            (
                Readiness::VmklinuxOnly,
                format!(
                    "only {} claims it, a vmklinux driver ({}) that does not load on 7.0 and later",
                    claim[0].id,
                    claim[0]
                        .depends
                        .iter()
                        .find(|c| crate::model::is_vmklinux_api(&c.name))
                        .map(|c| c.name.as_str())
                        .unwrap_or("vmklinux API")
                ),
            )
        } else {
            (
                Readiness::NoDriver,
                format!(
                    "no driver VIB in {} claims {}; {what} will have no driver after the upgrade",
                    profile.name,
                    pci_id(d)
                ),
            )
        };
        let blocker = critical && matches!(status, Readiness::NoDriver | Readiness::VmklinuxOnly);
        out.push(DeviceReadiness {
            address: Some(d.address.clone()),
            pci_id: Some(pci_id(d)),
            name: d.device_name.clone(),
            vmkernel_name: d.vmkernel_name.clone(),
            current_driver: d.driver.clone(),
            current_driver_vmklinux: d.driver.as_deref().and_then(vmklinux_module),
            role,
            status,
            target_vibs: claim.iter().map(|v| v.id.clone()).collect(),
            blocker,
            reason,
        });
    }
    out
}

fn unknown(
    name: Option<String>,
    address: Option<String>,
    driver: Option<String>,
    role: DeviceRole,
) -> DeviceReadiness {
    DeviceReadiness {
        address,
        pci_id: None,
        name: None,
        vmkernel_name: name,
        current_driver: driver,
        current_driver_vmklinux: None,
        role,
        status: Readiness::Unknown,
        target_vibs: Vec::new(),
        blocker: false,
        reason: "PCI ids not collected: cannot match the target's PCIID tags".into(),
    }
}

fn pci_id(d: &PciDevice) -> String {
    match (d.subvendor_id, d.subdevice_id) {
        (Some(sv), Some(sd)) => format!("{:04x}:{:04x}:{sv:04x}:{sd:04x}", d.vendor_id, d.device_id),
        _ => format!("{:04x}:{:04x}", d.vendor_id, d.device_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(v: u16, d: u16, class: Option<u32>) -> PciDevice {
        PciDevice {
            address: "0000:03:00.0".into(),
            vendor_id: v,
            device_id: d,
            subvendor_id: None,
            subdevice_id: None,
            class,
            vendor_name: None,
            device_name: None,
            driver: None,
            vmkernel_name: None,
        }
    }

    #[test]
    fn pciid_tags_from_real_descriptors() {
        // net55-r8168 / if-re style: vendor+device.
        assert!(pciid_matches("10ec8168", &dev(0x10ec, 0x8168, Some(0x020000))));
        assert!(!pciid_matches("10ec8168", &dev(0x10ec, 0x8125, Some(0x020000))));
        // USB NIC fling / nvme-community style: class only.
        assert!(pciid_matches("................0c0330", &dev(0x8086, 0xa36d, Some(0x0c0330))));
        assert!(pciid_matches("................010802", &dev(0x144d, 0xa808, Some(0x010802))));
        assert!(!pciid_matches("................010802", &dev(0x144d, 0xa808, None)));
    }
}
