//! Virtual machines: snapshots to consolidate, VM hardware versions above what
//! the target supports (and old ones), VMware Tools status.

use super::{gib, unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::ToolsStatus;
use esxup_kb::Release;

pub const RULES: &[(&str, Rule)] =
    &[("snapshots", snapshots), ("vm_hardware", vm_hardware), ("vm_tools", vm_tools)];

const SRC_HW: &str = "shared/research/README.md: vmx-13 = 6.5, 14 = 6.7, 15 = 6.7 U2, 17 = 7.0, 18 = 7.0 U1, 19 = 7.0 U2, 20 = 8.0, 21 = 8.0 U2";

/// Highest VM hardware version of a release: the KB's value, else the
/// research table by version.
pub fn max_hw(cx: &Ctx, r: &Release) -> Option<u32> {
    if let Some(v) = cx.kb.max_vm_hardware(r.build) {
        return Some(v);
    }
    let v = r.version;
    let upd: u32 = r
        .update
        .as_deref()
        .and_then(|u| u.trim_end_matches(|c: char| c.is_ascii_alphabetic()).parse().ok())
        .unwrap_or(0);
    match (v.major, v.minor, v.patch) {
        (8, 0, p) if p >= 2 => Some(21),
        (8, 0, _) => Some(20),
        (7, 0, p) if p >= 2 => Some(19),
        (7, 0, 1) => Some(18),
        (7, 0, _) => Some(17),
        (6, 7, _) if upd >= 2 => Some(15),
        (6, 7, _) => Some(14),
        (6, 5, _) => Some(13),
        _ => None,
    }
}

/// VM_SNAPSHOTS: consolidate before upgrading.
pub fn snapshots(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(vms) = cx.facts.vms.as_ref() else {
        out.push(unknown(
            "VM_SNAPSHOTS",
            Severity::Info,
            "vms",
            "vim-cmd vmsvc/getallvms; vim-cmd vmsvc/snapshot.get <vmid>",
        ));
        return;
    };
    let mut not_collected: Vec<&str> = Vec::new();
    for vm in vms {
        match vm.snapshots.as_ref() {
            None => not_collected.push(&vm.name),
            Some(s) if s.is_empty() => {}
            Some(s) => {
                let size: u64 = s.iter().filter_map(|x| x.size_bytes).sum();
                let oldest = s.iter().filter_map(|x| x.created).min();
                let age = oldest.map(|d| d.days_until(cx.today));
                out.push(
                    Finding::new("VM_SNAPSHOTS", Severity::Warning, "check.vm_snapshots")
                        .arg("vm", &vm.name)
                        .arg("count", s.len())
                        .arg(
                            "size",
                            if s.iter().any(|x| x.size_bytes.is_some()) { gib(size) } else { "?".into() },
                        )
                        .arg("oldest", oldest.map(|d| d.to_string()).unwrap_or_else(|| "?".into()))
                        .arg("days", age.map(|a| a.to_string()).unwrap_or_else(|| "?".into()))
                        .evidence(&format!("vms[{}].snapshots", vm.name), s.len())
                        .source("VMware KB 1025279 (best practices for using snapshots)"),
                );
            }
        }
    }
    const COLLECT: &str = "vim-cmd vmsvc/snapshot.get <vmid>";
    if not_collected.len() == vms.len() && !vms.is_empty() {
        out.push(unknown("VM_SNAPSHOTS", Severity::Info, "vms[].snapshots", COLLECT));
    } else if !not_collected.is_empty() {
        // Some VMs were checked (their findings stand), some were not: say
        // which, rather than "not checked" for the whole rule.
        out.push(
            Finding::new("VM_SNAPSHOTS", Severity::Info, "check.partially_collected")
                .arg("check", "VM_SNAPSHOTS")
                .arg("fact", "vms[].snapshots")
                .arg("collect", COLLECT)
                .arg("count", not_collected.len())
                .arg("total", vms.len())
                .arg("vms", not_collected.join(", "))
                .evidence("vms[].snapshots", format!("{} of {} unknown", not_collected.len(), vms.len()))
                .source("VMware KB 1025279 (best practices for using snapshots)"),
        );
    }
}

/// VM_HARDWARE: versions the target cannot run (blocker: the VM will not
/// power on), and old versions (info: Tools first, hardware only if needed).
pub fn vm_hardware(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(vms) = cx.facts.vms.as_ref() else { return };
    let Some(max) = max_hw(cx, cx.target) else {
        if !vms.is_empty() {
            out.push(unknown(
                "VM_HARDWARE",
                Severity::Info,
                "kb.max_vm_hardware(target)",
                "data/vm-hardware.toml",
            ));
        }
        return;
    };
    let cur_max = cx.current.and_then(|c| max_hw(cx, c));
    let mut old = Vec::new();
    for vm in vms {
        let Some(hw) = vm.hardware_version else { continue };
        if hw > max {
            out.push(
                Finding::new("VM_HARDWARE", Severity::Blocker, "check.vm_hardware_too_new")
                    .arg("vm", &vm.name)
                    .arg("hw", hw)
                    .arg("max", max)
                    .arg("target", &cx.target.name)
                    .evidence(&format!("vms[{}].hardware_version", vm.name), format!("vmx-{hw}"))
                    .source(SRC_HW),
            );
        } else if cur_max.is_some_and(|c| hw < c.min(max)) || hw < 13 {
            old.push(format!("{} (vmx-{hw})", vm.name));
        }
    }
    if !old.is_empty() {
        out.push(
            Finding::new("VM_HARDWARE_OLD", Severity::Info, "check.vm_hardware_old")
                .arg("count", old.len())
                .arg("vms", old.join(", "))
                .arg("max", max)
                .source(SRC_HW),
        );
    }
}

/// VM_TOOLS: Tools missing or too old on VMs (upgrade Tools before hardware).
pub fn vm_tools(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(vms) = cx.facts.vms.as_ref() else { return };
    let bad: Vec<String> = vms
        .iter()
        .filter(|v| {
            matches!(
                v.tools_status,
                Some(ToolsStatus::TooOld) | Some(ToolsStatus::NotInstalled) | Some(ToolsStatus::SupportedOld)
            )
        })
        .map(|v| format!("{} ({})", v.name, tools_word(v.tools_status)))
        .collect();
    if !bad.is_empty() {
        out.push(
            Finding::new("VM_TOOLS", Severity::Info, "check.vm_tools")
                .arg("count", bad.len())
                .arg("vms", bad.join(", "))
                .source(SRC_HW),
        );
    }
}

fn tools_word(s: Option<ToolsStatus>) -> &'static str {
    match s {
        Some(ToolsStatus::TooOld) => "too-old",
        Some(ToolsStatus::NotInstalled) => "not-installed",
        Some(ToolsStatus::SupportedOld) => "supported-old",
        _ => "-",
    }
}
