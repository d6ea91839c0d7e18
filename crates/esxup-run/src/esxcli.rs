//! Reads the `Installation Result` esxcli prints for `software profile
//! update` (and `vib update`), dry run or not:
//!
//! ```text
//! Installation Result
//!    Message: Dryrun only, host not changed. The following installers will be applied: [BootBankInstaller]
//!    Reboot Required: true
//!    VIBs Installed: VMware_bootbank_esx-base_6.0.0-0.11.2809209, ...
//!    VIBs Removed: ...
//!    VIBs Skipped: ...
//! ```
//! (layout of research/outputs/esxcli-software-dryrun-result__1.txt), and
//! compares it with esxup's own simulation of the same transaction.

use std::collections::BTreeSet;

/// An esxcli installation result.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstallResult {
    pub message: String,
    pub reboot_required: Option<bool>,
    pub installed: BTreeSet<String>,
    pub removed: BTreeSet<String>,
    pub skipped: BTreeSet<String>,
}

/// Parses the result block; `None` when the text has none.
pub fn parse(text: &str) -> Option<InstallResult> {
    let start = text.lines().position(|l| l.trim() == "Installation Result")?;
    let mut r = InstallResult::default();
    let list = |v: &str| -> BTreeSet<String> {
        v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    for line in text.lines().skip(start + 1) {
        let Some((k, v)) = line.trim().split_once(':') else { continue };
        let v = v.trim();
        match k.trim() {
            "Message" => r.message = v.to_string(),
            "Reboot Required" => r.reboot_required = esxup_facts::parse::parse_bool(v),
            "VIBs Installed" => r.installed = list(v),
            "VIBs Removed" => r.removed = list(v),
            "VIBs Skipped" => r.skipped = list(v),
            _ => {}
        }
    }
    Some(r)
}

/// Where esxcli's answer and esxup's simulation differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Difference {
    /// esxcli installs it, esxup did not expect it.
    pub installed_only_esxcli: Vec<String>,
    /// esxup expected it installed, esxcli does not install it.
    pub installed_only_esxup: Vec<String>,
    pub removed_only_esxcli: Vec<String>,
    pub removed_only_esxup: Vec<String>,
}

impl Difference {
    pub fn is_empty(&self) -> bool {
        self.installed_only_esxcli.is_empty()
            && self.installed_only_esxup.is_empty()
            && self.removed_only_esxcli.is_empty()
            && self.removed_only_esxup.is_empty()
    }
}

/// The part of a VIB id (`<vendor>_<type>_<name>_<version>`) that says
/// which VIB it is: name and version. Ids esxup composes from a VIB list
/// guess the type (`bootbank`), where esxcli prints the real one (`locker`
/// for tools-light), so the comparison leaves vendor and type out.
pub fn vib_key(id: &str) -> String {
    let mut parts = id.splitn(3, '_');
    let (_, _, rest) = (parts.next(), parts.next(), parts.next());
    match rest.and_then(|r| r.rsplit_once('_')) {
        Some((name, version)) => format!("{name} {version}"),
        None => id.to_string(),
    }
}

/// Compares the installed and removed VIB sets (ids, matched by [`vib_key`]).
pub fn compare(
    esxcli: &InstallResult,
    installed: &BTreeSet<String>,
    removed: &BTreeSet<String>,
) -> Difference {
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
        let keys: BTreeSet<String> = b.iter().map(|i| vib_key(i)).collect();
        a.iter().filter(|i| !keys.contains(&vib_key(i))).cloned().collect::<Vec<_>>()
    };
    Difference {
        installed_only_esxcli: only(&esxcli.installed, installed),
        installed_only_esxup: only(installed, &esxcli.installed),
        removed_only_esxcli: only(&esxcli.removed, removed),
        removed_only_esxup: only(removed, &esxcli.removed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_dry_run_layout() {
        // The first lines of research/outputs/esxcli-software-dryrun-result__1.txt (ESXi 6.0).
        let t = "Installation Result\n   Message: Dryrun only, host not changed. The following installers will be applied: [BootBankInstaller, LockerInstaller]\n   Reboot Required: true\n   VIBs Installed: VMware_bootbank_esx-base_6.0.0-0.11.2809209, VMware_locker_tools-light_6.0.0-0.11.2809209\n   VIBs Removed: VMware_bootbank_esx-base_6.0.0-0.8.2809111, VMware_locker_tools-light_6.0.0-0.0.2494585\n   VIBs Skipped: VMware_bootbank_ata-pata-amd_0.3.10-3vmw.600.0.0.2494585\n";
        let r = parse(t).unwrap();
        assert!(r.message.starts_with("Dryrun only, host not changed."));
        assert_eq!(r.reboot_required, Some(true));
        assert_eq!(r.installed.len(), 2);
        assert!(r.removed.contains("VMware_bootbank_esx-base_6.0.0-0.8.2809111"));
        assert_eq!(r.skipped.len(), 1);
        let same = compare(&r, &r.installed, &r.removed);
        assert!(same.is_empty());
        let mut fewer = r.installed.clone();
        fewer.remove("VMware_locker_tools-light_6.0.0-0.11.2809209");
        let d = compare(&r, &fewer, &r.removed);
        assert_eq!(d.installed_only_esxcli, ["VMware_locker_tools-light_6.0.0-0.11.2809209"]);
        assert!(parse("[DependencyError]\n VIB x requires y").is_none());
        // A composed id with the wrong type still matches esxcli's.
        let composed: BTreeSet<String> =
            ["VMware_bootbank_esx-base_6.0.0-0.8.2809111", "VMware_bootbank_tools-light_6.0.0-0.0.2494585"]
                .into_iter()
                .map(str::to_string)
                .collect();
        assert!(compare(&r, &r.installed, &composed).is_empty());
        assert_eq!(vib_key("VMware_locker_tools-light_6.0.0-0.0.2494585"), "tools-light 6.0.0-0.0.2494585");
    }

    #[test]
    fn empty_lists_are_empty() {
        let r = parse("Installation Result\n   Message: Host is not changed.\n   Reboot Required: false\n   VIBs Installed:\n   VIBs Removed:\n   VIBs Skipped: a_b_c_1\n").unwrap();
        assert!(r.installed.is_empty() && r.removed.is_empty());
        assert_eq!(r.reboot_required, Some(false));
    }
}
