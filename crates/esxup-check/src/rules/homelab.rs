//! Homelab devices: community drivers to carry over (Realtek if-re for 8.0,
//! net-community), the USB NIC fling tied to the exact update, NUC CRB-only TPM.

use super::Rule;
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_kb::tables::{DeviceRow, DeviceStatus};
use esxup_version::Branch;

pub const RULES: &[(&str, Rule)] =
    &[("device_notes", device_notes), ("usb_nic_fling", usb_nic_fling), ("tpm_crb", tpm_crb)];

fn matched_rows<'t>(cx: &Ctx<'t>, status: DeviceStatus) -> Vec<(&'t DeviceRow, String)> {
    let tb = cx.target_branch();
    let mut out = Vec::new();
    for r in cx.tables.devices.iter().filter(|r| r.applies_to(tb) && r.status == status) {
        let pci = cx.facts.pci_devices.iter().flatten().find(|d| {
            r.matches_pci(d.vendor_id, d.device_id)
                || d.driver.as_ref().is_some_and(|x| r.drivers.contains(x))
        });
        let vib = cx.facts.vibs.iter().flatten().find(|v| r.vibs.contains(&v.name));
        let what = match (pci, vib) {
            (Some(d), _) => Some(format!("{} {:04x}:{:04x}", d.address, d.vendor_id, d.device_id)),
            (None, Some(v)) => Some(format!("{} {}", v.name, v.version)),
            (None, None) => None,
        };
        if let Some(w) = what {
            out.push((r, w));
        }
    }
    out
}

/// COMMUNITY_DRIVER (warning: add it to the image) and DRIVER_INBOX (info).
pub fn device_notes(cx: &Ctx, out: &mut Vec<Finding>) {
    for (r, what) in matched_rows(cx, DeviceStatus::CommunityDriver) {
        let claimed = |i: &crate::image::TargetImage| {
            i.vibs.iter().any(|v| {
                r.vibs.contains(&v.name)
                    || v.pci_ids
                        .iter()
                        .any(|(ven, dev)| r.vendor_id == Some(*ven) && r.device_ids.contains(dev))
            })
        };
        if cx.image.is_some_and(claimed) {
            continue;
        }
        out.push(
            Finding::new("COMMUNITY_DRIVER", Severity::Warning, "check.community_driver")
                .arg("device", &what)
                .arg("note", &r.name)
                .arg("branch", cx.target_branch())
                .evidence("device", &what)
                .sources(&r.sources),
        );
    }
    for (r, what) in matched_rows(cx, DeviceStatus::Inbox) {
        out.push(
            Finding::new("DRIVER_INBOX", Severity::Info, "check.driver_inbox")
                .arg("device", &what)
                .arg("note", &r.name)
                .arg("branch", cx.target_branch())
                .evidence("device", &what)
                .sources(&r.sources),
        );
    }
}

/// USB_NIC_FLING: the fling build must match the target update exactly.
pub fn usb_nic_fling(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(v) = cx.facts.vibs.iter().flatten().find(|v| v.name == "vmkusb-nic-fling") else {
        return;
    };
    let in_image = cx.image.and_then(|i| i.vib("vmkusb-nic-fling"));
    let mgmt_on_usb = cx
        .facts
        .nics
        .iter()
        .flatten()
        .any(|n| n.management == Some(true) && n.driver.as_deref() == Some("vmkusb_nic_fling"));
    let sev = match (in_image, mgmt_on_usb) {
        (Some(_), _) => Severity::Info,
        (None, true) => Severity::Blocker,
        (None, false) => Severity::Warning,
    };
    let key = if in_image.is_some() { "check.usb_nic_fling_in_image" } else { "check.usb_nic_fling" };
    let row = cx.tables.devices.iter().find(|r| r.id == "usb-nic-fling");
    out.push(
        Finding::new("USB_NIC_FLING", sev, key)
            .arg("version", &v.version)
            .arg("target", &cx.target.name)
            .evidence("vibs.vmkusb-nic-fling", &v.version)
            .evidence("nics[management].driver", if mgmt_on_usb { "vmkusb_nic_fling" } else { "-" })
            .sources(row.map(|r| r.sources.clone()).unwrap_or_default()),
    );
}

/// TPM_CRB: some NUCs expose a CRB-only TPM 2.0 that fails after 8.0.
pub fn tpm_crb(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.target_branch() < Branch::new(8, 0) {
        return;
    }
    let fw = cx.facts.firmware.as_ref();
    let crb = fw.and_then(|f| f.tpm_interface.as_deref()).is_some_and(|i| i.eq_ignore_ascii_case("crb"));
    if crb && fw.and_then(|f| f.tpm_present) != Some(false) {
        out.push(
            Finding::new("TPM_CRB", Severity::Warning, "check.tpm_crb")
                .arg("model", fw.and_then(|f| f.system_model.clone()).unwrap_or_else(|| "-".into()))
                .evidence("firmware.tpm_interface", "CRB")
                .source("William Lam, \"Quick Tip - TPM 2.0 connection cannot be established after upgrading to ESXi 8.0\" (2022): Intel NUC TPMs support neither TIS nor FIFO, and 8.0 reports 'TPM 2.0 device detected but a connection cannot be established': https://williamlam.com/2022/10/quick-tip-tpm-2-0-connection-cannot-be-established-after-upgrading-to-esxi-8-0.html")
                .source("shared/research/README.md: TPM 2.0 on some NUCs is CRB-only and fails after 8.0"),
        );
    }
}
