//! A readable, plain-text summary of [`HostFacts`] (`esxup facts show`,
//! `esxup collect` without `-o`). Unknown facts are listed, never guessed.

use crate::model::*;
use std::fmt::Write;

fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1024.0 * 1024.0 * 1024.0);
    if g >= 1024.0 {
        format!("{:.1} TiB", g / 1024.0)
    } else {
        format!("{g:.1} GiB")
    }
}

fn yes_no(b: Option<bool>, yes: &str, no: &str) -> String {
    match b {
        Some(true) => yes.to_string(),
        Some(false) => no.to_string(),
        None => "unknown".to_string(),
    }
}

fn level_name(l: AcceptanceLevel) -> &'static str {
    match l {
        AcceptanceLevel::CommunitySupported => "CommunitySupported",
        AcceptanceLevel::PartnerSupported => "PartnerSupported",
        AcceptanceLevel::VMwareAccepted => "VMwareAccepted",
        AcceptanceLevel::VMwareCertified => "VMwareCertified",
    }
}

/// The summary, one `Label: value` line per topic, then unknowns and notes.
pub fn render(f: &HostFacts) -> String {
    let mut s = String::new();
    let mut unknown: Vec<&str> = Vec::new();
    let line = |s: &mut String, label: &str, value: String| {
        let _ = writeln!(s, "{:<18}{value}", format!("{label}:"));
    };
    line(&mut s, "Host", f.hostname.clone().unwrap_or_else(|| "unknown".into()));
    if let Some(src) = &f.source {
        line(&mut s, "Source", src.clone());
    }
    if let Some(d) = &f.collected_on {
        line(&mut s, "Collected on", d.clone());
    }
    match &f.product {
        Some(p) => {
            let mut v = format!("ESXi {} build {}", p.version, p.build);
            let extra: Vec<String> = [
                p.update.as_ref().map(|u| format!("Update {u}")),
                p.patch.as_ref().map(|x| format!("Patch {x}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !extra.is_empty() {
                let _ = write!(v, " ({})", extra.join(", "));
            }
            line(&mut s, "Product", v);
        }
        None => unknown.push("product"),
    }
    match &f.image_profile {
        Some(p) => line(&mut s, "Image profile", p.clone()),
        None => unknown.push("image profile"),
    }
    match &f.cpu {
        Some(c) => {
            let mut parts = Vec::new();
            if let Some(b) = &c.brand {
                parts.push(b.clone());
            }
            let id = [
                c.family.map(|x| format!("family {x}")),
                c.model.map(|x| format!("model {x} (0x{x:X})")),
                c.stepping.map(|x| format!("stepping {x}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            if !id.is_empty() {
                parts.push(id);
            }
            let counts = [
                c.sockets.map(|x| format!("{x} sockets")),
                c.cores.map(|x| format!("{x} cores")),
                c.threads.map(|x| format!("{x} threads")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            if !counts.is_empty() {
                parts.push(counts);
            }
            parts.push(format!(
                "VT {}, NX {}, XSAVE {}",
                yes_no(c.hv, "enabled", "not enabled"),
                yes_no(c.nx, "yes", "no"),
                yes_no(c.xsave, "yes", "no")
            ));
            line(&mut s, "CPU", parts.join("; "));
        }
        None => unknown.push("CPU"),
    }
    match f.memory_bytes {
        Some(m) => line(&mut s, "Memory", format!("{} ({m} bytes)", gib(m))),
        None => unknown.push("memory"),
    }
    match &f.boot_device {
        Some(b) => {
            let media = match b.media {
                Some(BootMedia::Usb) => "USB",
                Some(BootMedia::SdCard) => "SD card",
                Some(BootMedia::LocalDisk) => "local disk",
                Some(BootMedia::San) => "SAN",
                Some(BootMedia::Pxe) => "PXE",
                Some(BootMedia::Other) => "other",
                None => "unknown media",
            };
            let mut v = format!("{media} {}", b.device.as_deref().unwrap_or("?"));
            let extra: Vec<String> =
                [b.size_bytes.map(gib), b.model.clone(), b.adapter.as_ref().map(|a| format!("via {a}"))]
                    .into_iter()
                    .flatten()
                    .collect();
            if !extra.is_empty() {
                let _ = write!(v, " ({})", extra.join(", "));
            }
            line(&mut s, "Boot device", v);
        }
        None => unknown.push("boot device"),
    }
    match &f.firmware {
        Some(fw) => {
            let kind = match fw.kind {
                Some(FirmwareType::Uefi) => "UEFI",
                Some(FirmwareType::Bios) => "BIOS",
                None => "unknown",
            };
            line(&mut s, "Firmware", kind.to_string());
            let mut sb = yes_no(fw.secure_boot, "enabled", "disabled");
            if let Some(c) = fw.secure_boot_can_be_enabled {
                let _ = write!(sb, " ({})", if c { "can be enabled" } else { "cannot be enabled" });
            }
            line(&mut s, "Secure Boot", sb);
            line(&mut s, "TPM", yes_no(fw.tpm_present, "present", "not present"));
            if fw.system_vendor.is_some() || fw.system_model.is_some() {
                line(
                    &mut s,
                    "System",
                    format!(
                        "{} {}",
                        fw.system_vendor.as_deref().unwrap_or("?"),
                        fw.system_model.as_deref().unwrap_or("?")
                    ),
                );
            }
        }
        None => unknown.push("firmware, Secure Boot, TPM"),
    }
    match &f.altbootbank {
        Some(a) => {
            let mut v = match (a.version, a.build) {
                (Some(ver), Some(b)) => format!("ESXi {ver} build {b}"),
                (None, Some(b)) => format!("build {b}"),
                _ => "build unknown".to_string(),
            };
            match a.bootstate {
                Some(1) => v.push_str(", bootstate 1: an update waits for a reboot"),
                Some(n) => {
                    let _ = write!(v, ", bootstate {n}");
                }
                None => {}
            }
            line(&mut s, "Alt bootbank", v);
        }
        None => unknown.push("alt bootbank"),
    }
    if let Some(o) = &f.boot_options {
        line(&mut s, "Boot options", if o.is_empty() { "none".into() } else { o.join(" ") });
    }
    match f.maintenance_mode {
        Some(m) => line(&mut s, "Maintenance mode", yes_no(Some(m), "yes", "no")),
        None => unknown.push("maintenance mode"),
    }
    match &f.slpd {
        Some(sl) => line(
            &mut s,
            "slpd",
            format!(
                "{}, start policy {}, CIMSLP firewall {}",
                yes_no(sl.running, "running", "not running"),
                sl.policy.as_deref().unwrap_or("unknown"),
                yes_no(sl.firewall_enabled, "enabled", "disabled")
            ),
        ),
        None => unknown.push("slpd"),
    }
    match &f.nics {
        Some(nics) => {
            let mgmt: Vec<String> = nics
                .iter()
                .filter(|n| n.management == Some(true))
                .map(|n| {
                    format!(
                        "{} ({}, link {}{})",
                        n.name,
                        n.driver.as_deref().unwrap_or("?"),
                        yes_no(n.link_up, "up", "down"),
                        n.speed_mbps.map(|x| format!(", {x} Mb/s")).unwrap_or_default()
                    )
                })
                .collect();
            line(&mut s, "NICs", format!("{} physical", nics.len()));
            let m = if mgmt.is_empty() {
                if nics.iter().all(|n| n.management.is_none()) {
                    "unknown".to_string()
                } else {
                    "none found".to_string()
                }
            } else {
                mgmt.join(", ")
            };
            line(&mut s, "Management NICs", m);
        }
        None => unknown.push("NICs"),
    }
    match &f.storage_adapters {
        Some(a) => line(
            &mut s,
            "Storage adapters",
            a.iter()
                .map(|x| {
                    format!(
                        "{} {}{}",
                        x.name,
                        x.driver.as_deref().unwrap_or("?"),
                        if x.boot == Some(true) { " (boot)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => unknown.push("storage adapters"),
    }
    match &f.datastores {
        Some(d) => {
            let v: Vec<String> = d
                .iter()
                .filter(|x| x.kind.as_deref() != Some("vfat"))
                .map(|x| {
                    let kind = match (x.kind.as_deref(), x.vmfs_version) {
                        (Some("VMFS"), Some(v)) => format!("VMFS-{v}"),
                        (Some(k), _) => k.to_string(),
                        _ => "?".into(),
                    };
                    let cap = x.capacity_bytes.map(gib).unwrap_or_else(|| "?".into());
                    let free = x.free_bytes.map(gib).unwrap_or_else(|| "?".into());
                    format!("{} {kind} {cap} ({free} free)", x.name)
                })
                .collect();
            line(&mut s, "Datastores", v.join("; "));
        }
        None => unknown.push("datastores"),
    }
    match f.persistent_scratch {
        Some(p) => line(&mut s, "Scratch", yes_no(Some(p), "persistent", "NOT persistent (ramdisk)")),
        None => unknown.push("scratch"),
    }
    match f.acceptance_level {
        Some(l) => line(&mut s, "Acceptance level", level_name(l).to_string()),
        None => unknown.push("acceptance level"),
    }
    match &f.vibs {
        Some(v) => {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for vib in v {
                let k = vib.acceptance_level.map(level_name).unwrap_or("unknown").to_string();
                match counts.iter_mut().find(|(n, _)| *n == k) {
                    Some(c) => c.1 += 1,
                    None => counts.push((k, 1)),
                }
            }
            counts.sort();
            let by = counts.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
            line(&mut s, "VIBs", format!("{} ({by})", v.len()));
        }
        None => unknown.push("VIBs"),
    }
    match &f.modules {
        Some(m) => {
            let vmklinux = m.iter().any(|x| x.vmklinux == Some(true) && x.loaded == Some(true));
            line(
                &mut s,
                "Modules",
                format!(
                    "{} ({} loaded){}",
                    m.len(),
                    m.iter().filter(|x| x.loaded == Some(true)).count(),
                    if vmklinux { ", vmklinux loaded" } else { "" }
                ),
            );
        }
        None => unknown.push("modules"),
    }
    match &f.vms {
        Some(vms) => {
            line(&mut s, "VMs", format!("{}", vms.len()));
            for vm in vms {
                let snaps = match &vm.snapshots {
                    None => "snapshots unknown".to_string(),
                    Some(v) if v.is_empty() => "no snapshots".to_string(),
                    Some(v) => {
                        let oldest = v.iter().filter_map(|x| x.created).min();
                        format!(
                            "{} snapshot{}{}",
                            v.len(),
                            if v.len() == 1 { "" } else { "s" },
                            oldest.map(|d| format!(", oldest {d}")).unwrap_or_default()
                        )
                    }
                };
                let hw = vm.hardware_version.map(|h| format!("vmx-{h}")).unwrap_or_else(|| "vmx-?".into());
                let power = match vm.power_state {
                    Some(PowerState::PoweredOn) => "on",
                    Some(PowerState::PoweredOff) => "off",
                    Some(PowerState::Suspended) => "suspended",
                    None => "power unknown",
                };
                let tools = match vm.tools_status {
                    Some(t) => format!(
                        "tools {}",
                        serde_json::to_value(t)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    ),
                    None => "tools unknown".into(),
                };
                let _ = writeln!(s, "  - {} ({hw}, {power}, {tools}, {snaps})", vm.name);
            }
        }
        None => unknown.push("VMs"),
    }
    match &f.license {
        Some(l) => line(
            &mut s,
            "Licence",
            format!(
                "{}{}, expires {}",
                l.edition.as_deref().unwrap_or("unknown edition"),
                l.product_major.map(|m| format!(" (for {m}.x)")).unwrap_or_default(),
                l.expires.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into())
            ),
        ),
        None => unknown.push("licence"),
    }
    if !unknown.is_empty() {
        line(&mut s, "Unknown", unknown.join(", "));
    }
    if !f.collection_notes.is_empty() {
        let _ = writeln!(s, "Notes:");
        for n in &f.collection_notes {
            let _ = writeln!(s, "  - {n}");
        }
    }
    s
}
