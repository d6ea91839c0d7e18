//! Licence: a key for the target's major version is needed after an upgrade;
//! free ESXi notes.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_kb::FreeHypervisor;

pub const RULES: &[(&str, Rule)] = &[("license", license)];

const SRC: &str = "shared/research/README.md: free ESXi (vSphere Hypervisor) was withdrawn in 2024 with the move to subscriptions and came back for 8.0 U3e in April 2025";

/// LICENSE_KEY.
pub fn license(cx: &Ctx, out: &mut Vec<Finding>) {
    let target_major = cx.target.version.major;
    let upgrade_major = cx.current_version.is_none_or(|v| v.major < target_major);
    let Some(l) = cx.facts.license.as_ref() else {
        if upgrade_major {
            out.push(unknown("LICENSE_KEY", Severity::Info, "license", "vim-cmd vimsvc/license --show"));
        }
        return;
    };
    let edition = l.edition.clone().unwrap_or_else(|| "?".into());
    if let Some(m) = l.product_major {
        if m < target_major {
            out.push(
                Finding::new("LICENSE_KEY", Severity::Warning, "check.license_major")
                    .arg("edition", &edition)
                    .arg("key_major", m)
                    .arg("target_major", target_major)
                    .evidence("license.product_major", m)
                    .source("VMware ESXi Upgrade 6.7, \"Applying Licenses After Upgrading to ESXi 6.7\": upgraded hosts run in a 60-day evaluation mode until a licence of the new version is applied")
                    .source("vCenter Server and Host Management 5.5, \"License and Evaluation Period Expiry\": on expiry the host disconnects from vCenter Server and powered-off VMs cannot be powered on: http://pubs.vmware.com/vsphere-55/topic/com.vmware.vsphere.vcenterhost.doc/GUID-34BEE18C-C026-4090-8E84-DFB19A6304E7.html"),
            );
        }
    } else if upgrade_major {
        out.push(unknown(
            "LICENSE_KEY",
            Severity::Info,
            "license.product_major",
            "vim-cmd vimsvc/license --show",
        ));
    }
    let free = esxup_facts::model::is_free_edition(&edition);
    if free && upgrade_major {
        out.push(license_free(cx, &edition));
    }
}

/// LICENSE_FREE: what the knowledge base's free-hypervisor notes say about
/// this exact target build ([`esxup_kb::Kb::free_hypervisor`]).
fn license_free(cx: &Ctx, edition: &str) -> Finding {
    let t = cx.target;
    let base = |key: &str| {
        Finding::new("LICENSE_FREE", Severity::Info, key)
            .arg("edition", edition)
            .arg("target_major", t.version.major)
            .arg("target", &t.name)
            .arg("branch", cx.target_branch())
            .evidence("license.edition", edition)
            .evidence("target.build", t.build)
            .source(SRC)
    };
    let since = |f: Finding, r: &esxup_kb::Release| {
        f.arg("since_name", &r.name).arg("since_build", r.build).arg("since_date", r.release_date)
    };
    match cx.kb.free_hypervisor(t, cx.today) {
        FreeHypervisor::Available { note, since: r } => {
            since(base("check.license_free_available"), r).sources(&note.sources)
        }
        FreeHypervisor::BeforeReturn { withdrawn, since: r } => since(base("check.license_free_not_yet"), r)
            .arg("withdrawn_date", withdrawn.date)
            .sources(&withdrawn.sources),
        FreeHypervisor::Withdrawn { note } => {
            base("check.license_free_withdrawn").arg("withdrawn_date", note.date).sources(&note.sources)
        }
        FreeHypervisor::NotRecorded => base("check.license_free_unknown"),
    }
}
