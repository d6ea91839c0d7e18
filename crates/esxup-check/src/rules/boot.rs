//! Boot: BOOT_DISK_SIZE, USB/SD boot media and persistent storage (KB 85685),
//! legacy BIOS and TPM notes for 8.0, UPDATE_PENDING (altbootbank bootstate).

use super::{gib, unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::{BootMedia, FirmwareType};
use esxup_version::Branch;

pub const RULES: &[(&str, Rule)] = &[
    ("boot_disk_size", boot_disk_size),
    ("usb_sd_boot", usb_sd_boot),
    ("legacy_bios", legacy_bios),
    ("tpm", tpm),
    ("update_pending", update_pending),
];

const SRC_STORAGE: &str = "VMware docs: ESXi 7.0 system storage requirements (32 GB boot device recommended; 8 GB minimum for upgrades on USB/SD)";
const SRC_USB: &str = "VMware KB 85685 (SD card / USB boot device guidance for ESXi 7.0 and later)";
const GB: u64 = 1_000_000_000;

/// BOOT_DISK_SIZE: under 8 GB blocks 7.0+; a local disk under 32 GB is a warning.
pub fn boot_disk_size(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.target_branch() < Branch::new(7, 0) {
        return;
    }
    let bd = cx.facts.boot_device.as_ref();
    let Some(size) = bd.and_then(|b| b.size_bytes) else {
        out.push(unknown(
            "BOOT_DISK_SIZE",
            Severity::Info,
            "boot_device.size_bytes",
            "esxcli storage core device list -d <boot device>",
        ));
        return;
    };
    let local = matches!(bd.and_then(|b| b.media), Some(BootMedia::LocalDisk) | Some(BootMedia::San));
    let f = |sev, key| {
        Finding::new("BOOT_DISK_SIZE", sev, key)
            .arg("size", gib(size))
            .evidence("boot_device.size_bytes", size)
            .source(SRC_STORAGE)
    };
    if size < 8 * GB {
        out.push(f(Severity::Blocker, "check.boot_disk_size").arg("need", "8 GB"));
    } else if local && size < 32 * GB {
        out.push(f(Severity::Warning, "check.boot_disk_small").arg("need", "32 GB"));
    }
}

/// USB_SD_BOOT / NO_PERSISTENT_STORAGE (KB 85685).
pub fn usb_sd_boot(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.target_branch() < Branch::new(7, 0) {
        return;
    }
    let Some(media) = cx.facts.boot_device.as_ref().and_then(|b| b.media) else {
        out.push(unknown(
            "USB_SD_BOOT",
            Severity::Info,
            "boot_device.media",
            "esxcli system boot device get; esxcli storage core device list",
        ));
        return;
    };
    if !matches!(media, BootMedia::Usb | BootMedia::SdCard) {
        return;
    }
    let m = if media == BootMedia::Usb { "USB" } else { "SD" };
    match cx.facts.persistent_scratch {
        Some(true) => out.push(
            Finding::new("USB_SD_BOOT", Severity::Info, "check.usb_sd_boot")
                .arg("media", m)
                .evidence("boot_device.media", m)
                .source(SRC_USB),
        ),
        Some(false) => out.push(
            Finding::new("NO_PERSISTENT_STORAGE", Severity::Warning, "check.no_persistent_storage")
                .arg("media", m)
                .evidence("boot_device.media", m)
                .evidence("persistent_scratch", false)
                .source(SRC_USB),
        ),
        None => out.push(
            unknown(
                "NO_PERSISTENT_STORAGE",
                Severity::Warning,
                "persistent_scratch",
                "esxcli system settings advanced list -o /ScratchConfig/CurrentScratchLocation",
            )
            .evidence("boot_device.media", m),
        ),
    }
}

/// LEGACY_BIOS: 8.0 deprecates legacy BIOS boot.
pub fn legacy_bios(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.target_branch() < Branch::new(8, 0) {
        return;
    }
    match cx.facts.firmware.as_ref().and_then(|f| f.kind) {
        Some(FirmwareType::Bios) => out.push(
            Finding::new("LEGACY_BIOS", Severity::Warning, "check.legacy_bios")
                .evidence("firmware.kind", "bios")
                .source("VMware KB 84233 (deprecation of legacy BIOS support in vSphere)"),
        ),
        Some(FirmwareType::Uefi) => {}
        None => out.push(unknown(
            "LEGACY_BIOS",
            Severity::Info,
            "firmware.kind",
            "vsish -e get /hardware/bios/bootFirmware (or the server's BIOS setup)",
        )),
    }
}

/// TPM_VERSION: TPM 1.2 is not supported by 8.0 (host attestation needs TPM 2.0).
pub fn tpm(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.target_branch() < Branch::new(8, 0) {
        return;
    }
    let fw = cx.facts.firmware.as_ref();
    if fw.and_then(|f| f.tpm_present) == Some(true)
        && fw.and_then(|f| f.tpm_version.as_deref()) == Some("1.2")
    {
        out.push(
            Finding::new("TPM_VERSION", Severity::Warning, "check.tpm12")
                .evidence("firmware.tpm_version", "1.2")
                .source("Broadcom KB 368511, quoting the vSphere 8.0 release notes: \"Removal of Trusted Platform Module (TPM) 1.2: VMware discontinues support of TPM 1.2 and associated features such as TPM 1.2 with TXT\": https://knowledge.broadcom.com/external/article/368511/esxi-upgrade-from-7x-to-8x-fails-due-to.html")
                .source("shared/research/README.md: TPM notes for 8.0"),
        );
    }
}

/// UPDATE_PENDING: altbootbank has bootstate=1, a staged update waits for a reboot.
pub fn update_pending(cx: &Ctx, out: &mut Vec<Finding>) {
    match cx.facts.altbootbank.as_ref().and_then(|a| a.bootstate) {
        None => out.push(unknown(
            "UPDATE_PENDING",
            Severity::Info,
            "altbootbank.bootstate",
            "grep bootstate /altbootbank/boot.cfg",
        )),
        Some(1) => out.push(
            Finding::new("UPDATE_PENDING", Severity::Blocker, "check.update_pending")
                .evidence("altbootbank.bootstate", 1)
                .source("ESXi installer precheck UPDATE_PENDING (shared/research/README.md)"),
        ),
        Some(_) => {}
    }
}
