//! Storage: VMFS_VERSION (VMFS-3), LOCKER_SPACE_AVAIL (not collectable offline).

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};

pub const RULES: &[(&str, Rule)] = &[("vmfs_version", vmfs_version), ("locker_space", locker_space)];

/// VMFS_VERSION: VMFS-3 volumes (warning).
pub fn vmfs_version(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(ds) = cx.facts.datastores.as_ref() else {
        out.push(unknown("VMFS_VERSION", Severity::Info, "datastores", "esxcli storage filesystem list"));
        return;
    };
    for d in ds.iter().filter(|d| d.vmfs_version == Some(3)) {
        out.push(
            Finding::new("VMFS_VERSION", Severity::Warning, "check.vmfs3")
                .arg("datastore", &d.name)
                .evidence(&format!("datastores[{}].vmfs_version", d.name), 3)
                .source("vSphere Storage 6.7 (VMFS datastore upgrades): ESXi no longer supports VMFS3 datastores; the host upgrades VMFS3 to VMFS5 when it mounts them, and a datastore whose upgrade fails stays unmounted: https://docs.vmware.com/de/VMware-vSphere/6.7/com.vmware.vsphere.storage.doc/GUID-DAD74662-E09E-44A4-82F1-DB7A3433CEF9.html (German edition)")
                .source("ESXi installer precheck VMFS_VERSION (shared/research/README.md)"),
        );
    }
}

/// LOCKER_SPACE_AVAIL: the installer checks the locker (/store, OSData) free
/// space; a facts file does not carry it, so esxup says what to look at.
pub fn locker_space(cx: &Ctx, out: &mut Vec<Finding>) {
    let osdata = cx.facts.datastores.iter().flatten().find(|d| {
        d.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("OSDATA") || k.eq_ignore_ascii_case("locker"))
    });
    if osdata.and_then(|d| d.free_bytes).is_none() {
        out.push(unknown(
            "LOCKER_SPACE_AVAIL",
            Severity::Info,
            "locker free space",
            "vdf -h; df -h (/store, /locker, OSDATA)",
        ));
    }
}
