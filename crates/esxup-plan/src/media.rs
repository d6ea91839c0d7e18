//! What the plan decides for the installer media (`esxup media`): the
//! command line the runbook's media step prints, and the `%firstboot`
//! commands of the upgrade kickstart. `esxup media` asks the same functions,
//! so the runbook and the stick never disagree.

use crate::input::PlanInput;

/// The CVE-2021-21974 workaround (VMware KB 76372): stop slpd, close its
/// firewall ruleset, keep it off across reboots. The runbook's advisory step
/// runs it before the upgrade; the kickstart's `%firstboot` runs it again
/// when the target does not fix the advisory.
pub const SLPD_WORKAROUND: [&str; 3] =
    ["/etc/init.d/slpd stop", "esxcli network firewall ruleset set -r CIMSLP -e 0", "chkconfig slpd off"];

/// `%firstboot` commands of the upgrade kickstart, each with the comment
/// that says why: the slpd workaround while an advisory with that workaround
/// is not fixed by the target (or its fix is unknown).
pub fn upgrade_firstboot(input: &PlanInput) -> Vec<(String, String)> {
    let open: Vec<&str> = input
        .exposures
        .iter()
        .filter(|e| e.workaround_service.as_deref() == Some("slpd") && e.fixed_by_target != Some(true))
        .map(|e| e.id.as_str())
        .collect();
    if open.is_empty() {
        return Vec::new();
    }
    SLPD_WORKAROUND
        .iter()
        .map(|c| {
            (
                format!("{} workaround (VMware KB 76372): the target does not fix it", open.join(", ")),
                c.to_string(),
            )
        })
        .collect()
}

/// The `esxup media` command for this host's ISO route: a UEFI stick with
/// the scripted upgrade of its boot disk. The ISO, the facts file and the
/// stick stay placeholders the admin fills in. `None` for a host booting in
/// BIOS mode: the stick esxup writes boots UEFI firmware only.
pub fn media_command(input: &PlanInput) -> Option<String> {
    let kind = input.facts.firmware.as_ref().and_then(|f| f.kind);
    if kind.is_some() && kind != Some(esxup_facts::FirmwareType::Uefi) {
        return None;
    }
    Some("esxup media --iso <VMware-VMvisor-Installer-…iso> --facts <host-facts.json> --ks upgrade --device /dev/<sdX>".into())
}
