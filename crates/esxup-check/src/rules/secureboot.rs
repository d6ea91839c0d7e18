//! Secure Boot: an esxcli (depot) upgrade from 6.x loses it (use the ISO);
//! CommunitySupported VIBs prevent Secure Boot.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::{AcceptanceLevel, FirmwareType};
use esxup_version::Branch;

pub const RULES: &[(&str, Rule)] =
    &[("secure_boot_method", secure_boot_method), ("secure_boot_community", secure_boot_community)];

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
        .source(SRC_SB);
    for v in community {
        f = f.evidence(&format!("vibs.{}.acceptance_level", v.name), "CommunitySupported");
    }
    out.push(f);
}
