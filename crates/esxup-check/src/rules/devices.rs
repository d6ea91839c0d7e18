//! Devices and drivers: UNSUPPORTED_DEVICES (warning), NATIVE_BOOT_NIC and
//! NATIVE_BOOTBANK (blockers). A device is at risk when its driver is a
//! vmklinux driver and the move crosses into 7.0, when data/devices.toml says
//! the target has no driver for it, or, with `--depot`, when no VIB of the
//! target image claims its PCI id (AHCI, NVMe and USB count as native).
//! DEVICE_UNCLAIMED (warning) looks at the installed host itself: a NIC or
//! storage adapter that no driver claims there. On the facts of a trial
//! install (docs/media.md) that is the target release's own answer.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::PciDevice;
use esxup_kb::tables::{DeviceRow, DeviceStatus};

pub const RULES: &[(&str, Rule)] = &[("devices", devices)];

const SRC_PRECHECK: &str = "ESXi installer precheck UNSUPPORTED_DEVICES / NATIVE_BOOT_NIC / NATIVE_BOOTBANK (shared/research/README.md)";

/// Why a device has no driver on the target.
#[derive(Debug, Clone)]
pub enum Problem<'a> {
    Vmklinux { driver: String },
    Table(&'a DeviceRow),
    NotInImage,
}

/// Class codes the installer treats as always native: AHCI, NVMe, USB controllers.
pub fn native_class(class: Option<u32>) -> bool {
    matches!(class, Some(0x010601) | Some(0x010802)) || class.is_some_and(|c| c >> 8 == 0x0C03)
}

/// Whether a driver module is a vmklinux driver (facts first, then the table).
pub fn is_vmklinux(cx: &Ctx, driver: &str) -> bool {
    if let Some(m) = cx.facts.modules.as_ref().and_then(|ms| ms.iter().find(|m| m.name == driver)) {
        if let Some(v) = m.vmklinux {
            return v;
        }
    }
    cx.tables.vmklinux_drivers.iter().any(|d| d == driver)
}

/// The table row that says the target has no driver for this device.
pub fn table_row<'t>(cx: &Ctx<'t>, dev: &PciDevice) -> Option<&'t DeviceRow> {
    let tb = cx.target_branch();
    cx.tables.devices.iter().find(|r| {
        r.applies_to(tb)
            && r.status == DeviceStatus::NoDriver
            && (r.matches_pci(dev.vendor_id, dev.device_id)
                || (r.vendor_id.is_none() && dev.driver.as_ref().is_some_and(|d| r.drivers.contains(d))))
    })
}

/// What is wrong with this device on the target, if anything.
pub fn problem<'t>(cx: &Ctx<'t>, dev: &PciDevice, driver: Option<&str>) -> Option<Problem<'t>> {
    if native_class(dev.class) {
        return None;
    }
    if let Some(img) = cx.image.filter(|i| i.has_pci_tags()) {
        let claimed = img.vibs.iter().any(|v| v.pci_ids.contains(&(dev.vendor_id, dev.device_id)));
        if claimed {
            return None;
        }
        if !img.partial {
            return driver.is_some().then_some(Problem::NotInImage);
        }
    }
    if let Some(r) = table_row(cx, dev) {
        return Some(Problem::Table(r));
    }
    let d = driver?;
    (cx.crosses_into_70() && is_vmklinux(cx, d)).then(|| Problem::Vmklinux { driver: d.to_string() })
}

fn describe(dev: &PciDevice) -> String {
    let name = dev.device_name.clone().or_else(|| dev.vendor_name.clone()).unwrap_or_else(|| "-".into());
    format!("{} {:04x}:{:04x} {}", dev.address, dev.vendor_id, dev.device_id, name)
}

fn finding(
    cx: &Ctx,
    id: &str,
    sev: Severity,
    key: &str,
    dev: &PciDevice,
    p: &Problem,
    role_name: &str,
) -> Finding {
    let (reason_key, driver, sources): (&str, String, Vec<String>) = match p {
        Problem::Vmklinux { driver } => ("vmklinux", driver.clone(), vec![
            "https://blogs.vmware.com/vsphere/2019/04/what-is-the-impact-of-the-vmklinux-driver-stack-deprecation.html".into(),
        ]),
        Problem::Table(r) => ("table", dev.driver.clone().unwrap_or_else(|| "-".into()), r.sources.clone()),
        Problem::NotInImage => ("image", dev.driver.clone().unwrap_or_else(|| "-".into()), Vec::new()),
    };
    let mut f = Finding::new(id, sev, key)
        .arg("device", describe(dev))
        .arg("driver", &driver)
        .arg("name", role_name)
        .arg("why", format!("@check.why.{reason_key}"))
        .arg("branch", cx.target_branch())
        .evidence(
            &format!("pci_devices[{}]", dev.address),
            format!("{:04x}:{:04x}", dev.vendor_id, dev.device_id),
        )
        .evidence(&format!("pci_devices[{}].driver", dev.address), &driver)
        .source(SRC_PRECHECK)
        .sources(sources);
    // The table row's name is part of the `why` text of a table match only.
    if let Problem::Table(r) = p {
        f = f.arg("note", &r.name);
    }
    f
}

/// All three device rules (they share the device walk).
pub fn devices(cx: &Ctx, out: &mut Vec<Finding>) {
    let upgrade = cx.current_branch().is_none_or(|b| b < cx.target_branch());
    let unknown_sev = if upgrade { Severity::Warning } else { Severity::Info };
    let Some(pci) = cx.facts.pci_devices.as_ref() else {
        out.push(unknown("UNSUPPORTED_DEVICES", unknown_sev, "pci_devices", "esxcli hardware pci list"));
        if cx.facts.nics.as_ref().is_some_and(|n| n.iter().any(|n| n.management == Some(true))) {
            // The boot NIC is known by name only: judge it by its driver.
            boot_nic_by_driver(cx, out);
        }
        return;
    };
    unclaimed(cx, pci, out);
    let by_addr = |a: &str| pci.iter().find(|d| d.address == a);
    // Management (boot) NIC.
    let mut mgmt_addrs: Vec<String> = Vec::new();
    match cx.facts.nics.as_ref() {
        None => out.push(unknown(
            "NATIVE_BOOT_NIC",
            unknown_sev,
            "nics",
            "esxcli network nic list; esxcli network vswitch standard list",
        )),
        Some(nics) => {
            let mgmt: Vec<_> = nics.iter().filter(|n| n.management == Some(true)).collect();
            if mgmt.is_empty() {
                out.push(unknown(
                    "NATIVE_BOOT_NIC",
                    Severity::Info,
                    "nics[].management",
                    "esxcli network ip interface list; esxcli network vswitch standard list",
                ));
            }
            for n in mgmt {
                let Some(dev) = n.pci_address.as_deref().and_then(by_addr) else { continue };
                mgmt_addrs.push(dev.address.clone());
                let driver = n.driver.as_deref().or(dev.driver.as_deref());
                if let Some(p) = problem(cx, dev, driver) {
                    out.push(finding(
                        cx,
                        "NATIVE_BOOT_NIC",
                        Severity::Blocker,
                        "check.native_boot_nic",
                        dev,
                        &p,
                        &n.name,
                    ));
                }
            }
        }
    }
    // Boot HBA.
    let mut boot_addrs: Vec<String> = Vec::new();
    let adapters = cx.facts.storage_adapters.as_deref().unwrap_or_default();
    let boot_adapter_name = cx.facts.boot_device.as_ref().and_then(|b| b.adapter.clone());
    let boot_media_usb = cx.facts.boot_device.as_ref().and_then(|b| b.media).is_some_and(|m| {
        matches!(
            m,
            esxup_facts::BootMedia::Usb | esxup_facts::BootMedia::SdCard | esxup_facts::BootMedia::Pxe
        )
    });
    let boot_hbas: Vec<_> = adapters
        .iter()
        .filter(|a| a.boot == Some(true) || boot_adapter_name.as_deref() == Some(a.name.as_str()))
        .collect();
    if boot_hbas.is_empty() && !boot_media_usb && cx.facts.storage_adapters.is_none() {
        out.push(unknown(
            "NATIVE_BOOTBANK",
            unknown_sev,
            "storage_adapters",
            "esxcli storage core adapter list; esxcli storage core device list",
        ));
    }
    for a in boot_hbas {
        let Some(dev) = a.pci_address.as_deref().and_then(by_addr) else { continue };
        boot_addrs.push(dev.address.clone());
        let driver = a.driver.as_deref().or(dev.driver.as_deref());
        if let Some(p) = problem(cx, dev, driver) {
            out.push(finding(
                cx,
                "NATIVE_BOOTBANK",
                Severity::Blocker,
                "check.native_bootbank",
                dev,
                &p,
                &a.name,
            ));
        }
    }
    // Every other device in use.
    for dev in pci {
        if mgmt_addrs.contains(&dev.address) || boot_addrs.contains(&dev.address) {
            continue;
        }
        let driver = dev.driver.as_deref();
        if driver.is_none() && table_row(cx, dev).is_none() {
            continue;
        }
        if let Some(p) = problem(cx, dev, driver) {
            let name = dev.vmkernel_name.clone().unwrap_or_else(|| "-".into());
            out.push(finding(
                cx,
                "UNSUPPORTED_DEVICES",
                Severity::Warning,
                "check.unsupported_device",
                dev,
                &p,
                &name,
            ));
        }
    }
}

/// DEVICE_UNCLAIMED: network (class 02) and storage (class 01) devices that
/// no driver claims on the installed build. Only when the facts know the
/// driver of at least one device, so that facts without drivers (some
/// collections do not list them) do not flag every device.
fn unclaimed(cx: &Ctx, pci: &[PciDevice], out: &mut Vec<Finding>) {
    if !pci.iter().any(|d| d.driver.is_some()) {
        return;
    }
    let build = cx.facts.product.as_ref().map(|p| p.build.to_string()).unwrap_or_else(|| "?".into());
    for dev in pci {
        let Some(class) = dev.class else { continue };
        if dev.driver.is_some() || !matches!(class >> 16, 0x01 | 0x02) {
            continue;
        }
        out.push(
            Finding::new("DEVICE_UNCLAIMED", Severity::Warning, "check.device_unclaimed")
                .arg("device", describe(dev))
                .arg("class", format!("{class:06x}"))
                .arg("build", &build)
                .evidence(&format!("pci_devices[{}].driver", dev.address), "none")
                .source("esxcli hardware pci list (Driver: the module that claimed the device)"),
        );
    }
}

/// NATIVE_BOOT_NIC when only `nics` is known: judge by the driver name.
fn boot_nic_by_driver(cx: &Ctx, out: &mut Vec<Finding>) {
    let tb = cx.target_branch();
    for n in cx.facts.nics.iter().flatten().filter(|n| n.management == Some(true)) {
        let Some(d) = n.driver.as_deref() else { continue };
        let row = cx.tables.devices.iter().find(|r| {
            r.applies_to(tb) && r.status == DeviceStatus::NoDriver && r.drivers.iter().any(|x| x == d)
        });
        let vmk = cx.crosses_into_70() && is_vmklinux(cx, d);
        if row.is_some() || vmk {
            let mut f = Finding::new("NATIVE_BOOT_NIC", Severity::Blocker, "check.native_boot_nic")
                .arg("device", n.description.clone().unwrap_or_else(|| n.name.clone()))
                .arg("driver", d)
                .arg("name", &n.name)
                .arg("why", if row.is_some() { "@check.why.table" } else { "@check.why.vmklinux" })
                .arg("branch", tb)
                .evidence(&format!("nics[{}].driver", n.name), d)
                .source(SRC_PRECHECK);
            if let Some(r) = row {
                f = f.arg("note", &r.name).sources(&r.sources);
            }
            out.push(f);
        }
    }
}
