//! Upgrade path: no downgrade, supported direct upgrades, hops (UPGRADE_PATH).

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_version::MoveKind;

pub const RULES: &[(&str, Rule)] = &[("upgrade_path", upgrade_path)];

const SRC_PATHS: &str = "VMware Product Interoperability Matrix (upgrade path); shared/research/README.md: to 7.0 from 6.5 and 6.7, to 8.0 from 6.7 and 7.0";
const SRC_PATHS_70: &str = "vSphere Lifecycle Manager 7.0 docs: the remediation of an ESXi 6.5 or 6.7 host against an ESXi 7.0 image is an upgrade: https://docs.vmware.com/en/VMware-vSphere/7.0/com.vmware.vsphere-lifecycle-manager.doc/GUID-F80E06EB-1CCB-4F5F-A949-5AD74FF8518F.html";
const SRC_PATHS_80: &str = "vSphere Lifecycle Manager 8.0 docs (Italian edition): upgrading an ESXi 6.7 or 7.0 host to ESXi 8.0: https://docs.vmware.com/it/VMware-vSphere/8.0/vsphere-lifecycle-manager/GUID-2706457E-4B75-41F0-BBF0-F5700C1796D7.html";

/// UPGRADE_PATH: the move must be an update or a supported upgrade.
pub fn upgrade_path(cx: &Ctx, out: &mut Vec<Finding>) {
    let (Some(v), Some(b)) = (cx.current_version, cx.current_build) else {
        out.push(unknown("UPGRADE_PATH", Severity::Warning, "product.version", "esxcli system version get"));
        return;
    };
    let t = cx.target;
    let from = v.branch();
    let to = t.version.branch();
    match v.classify(b, t.version, t.build) {
        MoveKind::Same => out.push(
            Finding::new("ALREADY_ON_TARGET", Severity::Info, "check.already_on_target")
                .arg("build", b)
                .arg("name", &t.name)
                .evidence("product.build", b),
        ),
        MoveKind::Downgrade => out.push(
            Finding::new("UPGRADE_PATH", Severity::Blocker, "check.downgrade")
                .arg("from", format!("{v} ({b})"))
                .arg("to", format!("{} ({})", t.name, t.build))
                .evidence("product.version", v)
                .evidence("product.build", b)
                .evidence("target.build", t.build)
                .source("ESXi installer precheck UPGRADE_PATH (no downgrade)"),
        ),
        MoveKind::Update if t.version < v => out.push(
            // A higher build of an older update line (8.0 U1 -> an 8.0 GA-line
            // patch) takes the host back to an older update level.
            Finding::new("UPGRADE_PATH", Severity::Blocker, "check.downgrade")
                .arg("from", format!("{v} ({b})"))
                .arg("to", format!("{} ({}, {})", t.name, t.version, t.build))
                .evidence("product.version", v)
                .evidence("target.version", t.version)
                .source("ESXi installer precheck UPGRADE_PATH (no downgrade)"),
        ),
        MoveKind::Update => {}
        MoveKind::Upgrade => {
            if cx.kb.direct_upgrade_supported(from, to) {
                return;
            }
            let f = match cx.kb.intermediate_hops(from, to) {
                Some(h) if !h.is_empty() => {
                    let mut route = vec![from.to_string()];
                    route.extend(h.iter().map(|x| x.to_string()));
                    route.push(to.to_string());
                    Finding::new("UPGRADE_PATH", Severity::Blocker, "check.upgrade_path_hop")
                        .arg("from", from)
                        .arg("to", to)
                        .arg("route", route.join(" -> "))
                }
                _ => Finding::new("UPGRADE_PATH", Severity::Blocker, "check.upgrade_path_none")
                    .arg("from", from)
                    .arg("to", to),
            };
            out.push(
                f.evidence("product.version", v)
                    .evidence("target.version", t.version)
                    .source(if to.major >= 8 { SRC_PATHS_80 } else { SRC_PATHS_70 })
                    .source(SRC_PATHS),
            );
        }
    }
}
