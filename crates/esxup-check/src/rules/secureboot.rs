//! Secure Boot: an esxcli (depot) upgrade from 6.x loses it (use the ISO);
//! CommunitySupported VIBs prevent Secure Boot; host VIBs the target image
//! does not replace keep the signature state they have today.

use super::vibs::{is_vmware, vmklinux_vib};
use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::{AcceptanceLevel, FirmwareType, InstalledVib as Vib};
use esxup_version::Branch;

pub const RULES: &[(&str, Rule)] = &[
    ("secure_boot_method", secure_boot_method),
    ("secure_boot_community", secure_boot_community),
    ("secure_boot_kept_vibs", secure_boot_kept_vibs),
];

/// The VMware ESXi Upgrade guide page on Secure Boot after an upgrade (8.0 and
/// 6.7 editions, same GUID): every installed VIB's signature must be available;
/// older ESXi versions do not save them; an ESXCLI upgrade does not save the
/// new VIBs' signatures, the ISO (also through Lifecycle/Update Manager) does;
/// old VIBs that remain (e.g. a third-party driver the upgrade has no new
/// version of) have none; CommunitySupported VIBs prevent Secure Boot; the
/// validation script is `secureBoot.py -c`.
const SRC_SB_DOC: &str = "VMware ESXi Upgrade 8.0, \"Run the Secure Boot Validation Script on an Upgraded ESXi Host\": https://docs.vmware.com/en/VMware-vSphere/8.0/vsphere-esxi-upgrade/GUID-DD075A38-8900-459F-BD9D-69DC87CCE11B.html (6.7 edition: https://docs.vmware.com/en/VMware-vSphere/6.7/com.vmware.esxi.upgrade.doc/GUID-DD075A38-8900-459F-BD9D-69DC87CCE11B.html)";
const SRC_SB: &str = "shared/research/README.md: an esxcli upgrade from 6.x does not keep the new VIB signatures, so Secure Boot cannot be used after it; upgrade with the ISO; check with /usr/lib/vmware/secureboot/bin/secureBoot.py -c";

/// SECURE_BOOT_METHOD.
pub fn secure_boot_method(cx: &Ctx, out: &mut Vec<Finding>) {
    let fw = cx.facts.firmware.as_ref();
    // The signature problem is specific to esxcli upgrades from 6.x.
    let from_6x =
        cx.current_branch().is_none_or(|b| b < Branch::new(7, 0)) && cx.target_branch() >= Branch::new(7, 0);
    match fw.and_then(|f| f.secure_boot) {
        Some(true) if from_6x => out.push(
            Finding::new("SECURE_BOOT_METHOD", Severity::Warning, "check.secure_boot_method")
                .arg("from", cx.current_branch().map(|b| b.to_string()).unwrap_or_else(|| "?".into()))
                .arg("to", cx.target_branch())
                .evidence("firmware.secure_boot", true)
                .source(SRC_SB_DOC)
                .source(SRC_SB),
        ),
        Some(_) => {}
        None if from_6x && fw.and_then(|f| f.kind) != Some(FirmwareType::Bios) => out.push(unknown(
            "SECURE_BOOT_METHOD",
            Severity::Warning,
            "firmware.secure_boot",
            "/usr/lib/vmware/secureboot/bin/secureBoot.py -s",
        )),
        None => {}
    }
}

/// SECURE_BOOT_COMMUNITY_VIB: a CommunitySupported VIB with Secure Boot on.
pub fn secure_boot_community(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.facts.firmware.as_ref().and_then(|f| f.secure_boot) != Some(true) {
        return;
    }
    let Some(vibs) = cx.facts.vibs.as_ref() else { return };
    let community: Vec<_> =
        vibs.iter().filter(|v| v.acceptance_level == Some(AcceptanceLevel::CommunitySupported)).collect();
    if community.is_empty() {
        return;
    }
    let mut f = Finding::new("SECURE_BOOT_COMMUNITY_VIB", Severity::Blocker, "check.secure_boot_community")
        .arg(
            "vibs",
            community.iter().map(|v| format!("{} {}", v.name, v.version)).collect::<Vec<_>>().join(", "),
        )
        .evidence("firmware.secure_boot", true)
        .source(SRC_SB_DOC)
        .source(SRC_SB);
    for v in community {
        f = f.evidence(&format!("vibs.{}.acceptance_level", v.name), "CommunitySupported");
    }
    out.push(f);
}

/// `Vendor_name version`, as the VIB rules list VIBs.
fn vib_label(v: &Vib) -> String {
    format!("{}_{} {}", v.vendor, v.name, v.version)
}

/// SECURE_BOOT_KEPT_VIBS: on a move from 6.x into 7.0+, host VIBs the target
/// image does not replace stay on the host as they are. The Upgrade guide
/// (`SRC_SB_DOC`): such old VIBs have no saved signature when an ESXi version
/// that does not save signatures installed them, and then Secure Boot is not
/// possible after the upgrade, even one done with the ISO. A host that boots
/// with Secure Boot on today, or whose `secureBoot.py -c` passes, has every
/// signature saved (the guide: Secure Boot needs the signature of every
/// installed VIB), so the kept VIBs are fine there and the rule stays quiet.
/// VMware's own VIBs (replaced or obsoleted by the image; esxup cannot see
/// obsoletes in a VIB list), CommunitySupported VIBs (SECURE_BOOT_COMMUNITY_VIB)
/// and 6.x vmklinux VIBs (MISSING_DEPENDENCY_VIBS: they block the upgrade
/// itself) are left out. Reported only with the target image (`--depot`).
pub fn secure_boot_kept_vibs(cx: &Ctx, out: &mut Vec<Finding>) {
    if !cx.crosses_into_70() {
        return;
    }
    let fw = cx.facts.firmware.as_ref();
    if fw.and_then(|f| f.kind) == Some(FirmwareType::Bios) {
        return; // Secure Boot is a UEFI feature
    }
    if fw.and_then(|f| f.secure_boot) == Some(true)
        || fw.and_then(|f| f.secure_boot_can_be_enabled) == Some(true)
    {
        return; // every installed VIB's signature is saved today
    }
    let Some(vibs) = cx.facts.vibs.as_ref() else { return };
    let candidates: Vec<&Vib> = vibs
        .iter()
        .filter(|v| !is_vmware(&v.vendor))
        .filter(|v| v.acceptance_level != Some(AcceptanceLevel::CommunitySupported))
        .filter(|v| !vmklinux_vib(cx, &v.name, &v.vendor))
        .collect();
    let sb_state = match fw.and_then(|f| f.secure_boot) {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None => "unknown",
    };
    let check_state = match fw.and_then(|f| f.secure_boot_can_be_enabled) {
        Some(true) => "passes",
        Some(false) => "fails",
        None => "not collected",
    };
    // Which of them the target image replaces is known only from the image
    // (--depot); without it THIRD_PARTY_VIBS already says that non-VMware
    // VIBs stay, and a guess here would be noise on most hosts.
    let Some(img) = cx.image else { return };
    let kept: Vec<&Vib> = candidates.into_iter().filter(|v| img.vib(&v.name).is_none()).collect();
    if kept.is_empty() {
        return;
    }
    // Info, not a warning: it matters only to whoever turns Secure Boot on
    // after the upgrade (it is off or unknown today), and the upgrade itself
    // succeeds.
    let mut f = Finding::new("SECURE_BOOT_KEPT_VIBS", Severity::Info, "check.secure_boot_kept_vibs")
        .arg("count", kept.len())
        .arg("vibs", kept.iter().map(|v| vib_label(v)).collect::<Vec<_>>().join(", "))
        .arg("profile", &img.profile)
        .arg("to", cx.target_branch())
        .evidence("firmware.secure_boot", sb_state)
        .evidence("firmware.secure_boot_can_be_enabled", check_state)
        .source(SRC_SB_DOC);
    for v in &kept {
        f = f.evidence(&format!("vibs.{}", v.name), format!("{} (not in the target image)", v.version));
    }
    out.push(f);
}
