//! What the runner reads back from a host before and after every change:
//! [`HostState`], the same shape whichever transport read it, so that the
//! journal's "before" and "after" compare across the vSphere API and SSH.
//!
//! Unknown stays unknown (`None`): the API cannot see the image profile, the
//! altbootbank or Secure Boot; SSH cannot see what hostd does not print.

use esxup_facts::{PowerState, ToolsStatus};
use serde::{Deserialize, Serialize};

/// How the runner talks to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// The vSphere (vim25) SOAP API of the host.
    Api,
    /// The ESXi Shell over SSH (`esxcli`, `vim-cmd`).
    Ssh,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Api => "api",
            TransportKind::Ssh => "ssh",
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An image written by `esxcli software profile update` and waiting for the
/// reboot (`/altbootbank/boot.cfg` with `bootstate=1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PendingImage {
    pub build: Option<u32>,
    /// The `build=` value of boot.cfg as written (`7.0.3-0.50.20328353`).
    pub version: Option<String>,
}

/// The SLP daemon and its firewall ruleset (VMware KB 76372's workaround).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlpState {
    pub running: Option<bool>,
    /// Start policy (`on`, `off`, `automatic`).
    pub policy: Option<String>,
    /// The CIMSLP firewall ruleset is enabled.
    pub firewall_enabled: Option<bool>,
}

impl SlpState {
    /// The KB 76372 workaround is in place: stopped, not started at boot,
    /// ruleset closed. `None` when a part is unknown.
    pub fn workaround_in_place(&self) -> Option<bool> {
        let stopped = self.running.map(|r| !r);
        let off = self.policy.as_deref().map(|p| p.eq_ignore_ascii_case("off"));
        let closed = self.firewall_enabled.map(|e| !e);
        match (stopped, off, closed) {
            (Some(a), Some(b), Some(c)) => Some(a && b && c),
            // A part that is known to be wrong decides, even if another is unknown.
            (Some(false), _, _) | (_, Some(false), _) | (_, _, Some(false)) => Some(false),
            _ => None,
        }
    }
}

/// The licence as the host reports it (the key masked to its last group).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseState {
    pub edition: Option<String>,
    /// `*****-*****-*****-*****-EEEEE`
    pub key_masked: Option<String>,
}

/// A snapshot of a VM, with the id the transport deletes it by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRef {
    pub id: String,
    pub name: String,
}

/// One VM as the runner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VmState {
    /// The transport's id: the managed object id (API) or the Vmid of
    /// `vim-cmd vmsvc/getallvms` (SSH); on ESXi both are the same number.
    pub id: String,
    /// The VM's name: what the journal uses to recognise a VM across transports.
    pub name: String,
    pub power: Option<PowerState>,
    pub tools: Option<ToolsStatus>,
    /// VMware Tools are running in the guest (needed for a guest shutdown).
    pub tools_running: Option<bool>,
    pub tools_version: Option<String>,
    /// `vmx-14` -> 14
    pub hardware: Option<u32>,
    pub snapshots: Option<Vec<SnapshotRef>>,
    /// Position in the host's autostart sequence (1 first), if set.
    pub start_order: Option<u32>,
}

impl VmState {
    /// Tools the runner can upgrade (installed, managed by the host, out of date).
    pub fn tools_need_upgrade(&self) -> bool {
        matches!(self.tools, Some(ToolsStatus::SupportedOld) | Some(ToolsStatus::TooOld))
    }

    /// The guest can be shut down through VMware Tools.
    pub fn can_shut_down_guest(&self) -> bool {
        let installed = !matches!(self.tools, Some(ToolsStatus::NotInstalled) | None);
        installed && self.tools_running != Some(false)
    }

    pub fn is_on(&self) -> bool {
        self.power == Some(PowerState::PoweredOn)
    }
}

/// What the runner reads from a host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostState {
    pub hostname: Option<String>,
    /// The hardware (BIOS) UUID: `summary.hardware.uuid`, the same in
    /// `vim-cmd hostsvc/hostsummary`.
    pub uuid: Option<String>,
    /// `6.7.0`
    pub version: Option<String>,
    pub build: Option<u32>,
    /// Installed image profile (SSH only).
    pub image_profile: Option<String>,
    pub maintenance_mode: Option<bool>,
    /// `runtime.bootTime` as the host writes it: a new value means it rebooted.
    pub boot_time: Option<String>,
    /// An update waiting for the reboot (SSH only).
    pub pending: Option<PendingImage>,
    pub slp: Option<SlpState>,
    pub license: Option<LicenseState>,
    /// Secure Boot enabled (`secureBoot.py -s`, SSH only).
    pub secure_boot: Option<bool>,
    pub vms: Option<Vec<VmState>>,
    /// Datastores by name (where the bundle and backups can go).
    pub datastores: Option<Vec<String>>,
}

impl HostState {
    /// The VM called `name`.
    pub fn vm(&self, name: &str) -> Option<&VmState> {
        self.vms.iter().flatten().find(|v| v.name == name)
    }

    /// `true` when an image waits for a reboot; `None` when the transport
    /// cannot see the altbootbank.
    pub fn has_pending(&self, target_build: u32) -> bool {
        self.pending.as_ref().is_some_and(|p| p.build == Some(target_build))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slp_workaround_needs_all_three_parts() {
        let done =
            SlpState { running: Some(false), policy: Some("off".into()), firewall_enabled: Some(false) };
        assert_eq!(done.workaround_in_place(), Some(true));
        let running = SlpState { running: Some(true), ..done.clone() };
        assert_eq!(running.workaround_in_place(), Some(false));
        let unknown_fw = SlpState { firewall_enabled: None, ..done.clone() };
        assert_eq!(unknown_fw.workaround_in_place(), None);
        let on_unknown_fw = SlpState { policy: Some("on".into()), ..unknown_fw };
        assert_eq!(on_unknown_fw.workaround_in_place(), Some(false));
    }

    #[test]
    fn vm_predicates() {
        let vm = VmState {
            id: "1".into(),
            name: "web".into(),
            power: Some(PowerState::PoweredOn),
            tools: Some(ToolsStatus::NotInstalled),
            tools_running: None,
            tools_version: None,
            hardware: Some(13),
            snapshots: None,
            start_order: None,
        };
        assert!(vm.is_on() && !vm.can_shut_down_guest() && !vm.tools_need_upgrade());
        let old = VmState { tools: Some(ToolsStatus::SupportedOld), tools_running: Some(true), ..vm };
        assert!(old.can_shut_down_guest() && old.tools_need_upgrade());
    }
}
