//! Operations: maintenance mode and running VMs; configuration backup.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::PowerState;

pub const RULES: &[(&str, Rule)] = &[("maintenance", maintenance), ("config_backup", config_backup)];

/// MAINTENANCE_MODE: the host must be in maintenance mode for the upgrade;
/// running VMs must be shut down or moved first.
pub fn maintenance(cx: &Ctx, out: &mut Vec<Finding>) {
    let running = cx.facts.vms.as_ref().map(|v| {
        v.iter()
            .filter(|vm| vm.power_state == Some(PowerState::PoweredOn))
            .map(|vm| vm.name.clone())
            .collect::<Vec<_>>()
    });
    match cx.facts.maintenance_mode {
        Some(true) => {}
        None => out.push(unknown(
            "MAINTENANCE_MODE",
            Severity::Info,
            "maintenance_mode",
            "esxcli system maintenanceMode get",
        )),
        Some(false) => {
            let r = running.unwrap_or_default();
            out.push(
                Finding::new("MAINTENANCE_MODE", Severity::Info, "check.maintenance_mode")
                    .arg("count", r.len())
                    .arg("vms", if r.is_empty() { "-".into() } else { r.join(", ") })
                    .evidence("maintenance_mode", false)
                    .evidence("vms[powered-on]", r.len())
                    .source("VMware docs: upgrading hosts with esxcli requires maintenance mode"),
            );
        }
    }
}

/// CONFIG_BACKUP: always back up the host configuration first.
pub fn config_backup(_cx: &Ctx, out: &mut Vec<Finding>) {
    out.push(
        Finding::new("CONFIG_BACKUP", Severity::Info, "check.config_backup")
            .source("vSphere Web Services API, HostFirmwareSystem.BackupFirmwareConfiguration: generates a bundle containing the host configuration and returns its download URL: https://vdc-repo.vmware.com/vmwb-repository/dcr-public/eba5419c-6272-4697-bd07-a328843c487e/f7bb0652-de93-4431-b874-82f11852e474/doc/vim.host.FirmwareSystem.html")
            .source("shared/research/README.md: vim-cmd hostsvc/firmware/backup_config (HostFirmwareSystem.BackupFirmwareConfiguration)"),
    );
}
