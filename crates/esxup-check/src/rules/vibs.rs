//! VIBs: HOST_ACCEPTANCE, MISSING_DEPENDENCY_VIBS (vmklinux VIBs on a move
//! into 7.0), CONFLICTING_VIBS / DOWNGRADE_VIBS against a `--depot` image,
//! third-party VIBs to re-check. With a depot image profile, the dependency
//! and conflict errors of the simulated `esxcli software profile update`
//! (`esxup_depot::simulate`) are reported in esxcli's words.

use super::{unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use crate::rules::dates::backwards_vibs;
use esxup_depot::ProblemKind;
use esxup_facts::AcceptanceLevel;

pub const RULES: &[(&str, Rule)] = &[
    ("vibs_known", vibs_known),
    ("host_acceptance", host_acceptance),
    ("simulated_transaction", simulated_transaction),
    ("missing_dependency", missing_dependency),
    ("downgrade_vibs", downgrade_vibs),
    ("third_party", third_party),
];

const SRC_VMKAPI_KB: &str = "VMware KB 78389 (text as mirrored at https://findbugzero.com/operational-defect-database/vendors/vmware/defects/78389): upgrading 6.5/6.7 to 7.0 with deprecated vmklinux driver VIBs that have no native replacement in the 7.0 image fails with vmkapi DependencyError, e.g. 'requires vmkapi_2_2_0_0, but the requirement cannot be satisfied within the ImageProfile'";
const SRC_VMKLINUX_BLOG: &str = "VMware vSphere blog, \"What is the Impact of the VMKlinux Driver Stack Deprecation?\" (2019): the vSphere 6.7 family is the last with the VMKlinux driver stack: https://blogs.vmware.com/vsphere/2019/04/what-is-the-impact-of-the-vmklinux-driver-stack-deprecation.html";
const SRC_VMKAPI: &str = "shared/research/README.md: 6.x vmklinux driver VIBs depend on vmkapi_2_2_0_0 / com.vmware.driverAPI-9.2.x, which 7.0 does not provide";

pub(crate) fn is_vmware(vendor: &str) -> bool {
    matches!(vendor, "VMW" | "VMware" | "vmw")
}

/// The VIB list itself must be known for the rules below.
pub fn vibs_known(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.facts.vibs.is_none() {
        out.push(unknown("CONFLICTING_VIBS", Severity::Warning, "vibs", "esxcli software vib list"));
    }
}

/// HOST_ACCEPTANCE: the host level must not be above the lowest level of the
/// VIBs that will be on it (target image + kept VIBs).
pub fn host_acceptance(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(level) = cx.facts.acceptance_level else {
        out.push(unknown(
            "HOST_ACCEPTANCE",
            Severity::Info,
            "acceptance_level",
            "esxcli software acceptance get",
        ));
        return;
    };
    let mut lowest: Option<(AcceptanceLevel, String)> = None;
    let mut consider = |l: Option<AcceptanceLevel>, what: String| {
        if let Some(l) = l {
            if lowest.as_ref().is_none_or(|(x, _)| l < *x) {
                lowest = Some((l, what));
            }
        }
    };
    if let Some(img) = cx.image {
        for v in &img.vibs {
            consider(v.acceptance_level, format!("{} {}", v.name, v.version));
        }
        consider(img.acceptance_level, img.profile.clone());
    }
    for v in cx.facts.vibs.iter().flatten() {
        consider(v.acceptance_level, format!("{} {}", v.name, v.version));
    }
    if let Some((l, what)) = lowest.filter(|(l, _)| *l < level) {
        out.push(
            Finding::new("HOST_ACCEPTANCE", Severity::Blocker, "check.host_acceptance")
                .arg("host_level", format!("{level:?}"))
                .arg("vib_level", format!("{l:?}"))
                .arg("vib", what)
                .evidence("acceptance_level", format!("{level:?}"))
                .source("VMware ESXi Upgrade 7.0, \"Change the Host Acceptance Level\": the acceptance level of all VIBs on a host must be at least as high as the host acceptance level: https://docs.vmware.com/en/VMware-vSphere/7.0/com.vmware.esxi.upgrade.doc/GUID-98CAEBD8-424E-4502-B4B4-500E24A0F461.html")
                .source("ESXi installer precheck HOST_ACCEPTANCE (shared/research/README.md)"),
        );
    }
}

/// Whether an installed VIB is a 6.x vmklinux driver that 7.0 cannot load.
pub(crate) fn vmklinux_vib(cx: &Ctx, name: &str, vendor: &str) -> bool {
    if is_vmware(vendor) {
        return false; // VMware's own vmklinux VIBs are replaced by the 7.0 image.
    }
    cx.tables.devices.iter().any(|r| r.vmklinux && r.vibs.iter().any(|v| v == name))
        || name.starts_with("net55-")
        || name.starts_with("net51-")
        || name.starts_with("scsi-")
        || name.starts_with("sata-")
}

const SRC_SIMULATE: &str = "esxup-depot transaction simulation of `esxcli software profile update` (esximage dependency/conflict rules, shared/research/README.md)";

/// The simulated transaction's problems of one kind, esxcli-worded.
fn simulated_problems<'a>(cx: &Ctx<'a>, kind: ProblemKind) -> Vec<&'a esxup_depot::Problem> {
    let Some(problems) = cx.image.and_then(|i| i.simulated.as_ref()) else {
        return Vec::new();
    };
    problems.iter().filter(|p| p.kind == kind).collect()
}

/// MISSING_DEPENDENCY_VIBS / CONFLICTING_VIBS from the simulated
/// `esxcli software profile update` of a `--depot` image profile: one
/// finding per kind listing every problem as esxcli words it
/// (`[DependencyError] VIB VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794 requires ...`).
pub fn simulated_transaction(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(img) = cx.image.filter(|i| i.simulated.is_some()) else { return };
    for (kind, id, key) in [
        (ProblemKind::DependencyError, "MISSING_DEPENDENCY_VIBS", "check.simulated_dependency"),
        (ProblemKind::Conflict, "CONFLICTING_VIBS", "check.simulated_conflict"),
    ] {
        let problems = simulated_problems(cx, kind);
        if problems.is_empty() {
            continue;
        }
        let list = problems.iter().map(|p| format!("[{}] {}", p.kind.tag(), p.message)).collect::<Vec<_>>();
        let mut f = Finding::new(id, Severity::Blocker, key)
            .arg("count", problems.len())
            .arg("profile", &img.profile)
            .arg("problems", list.join("; "))
            .source(SRC_SIMULATE);
        for p in &problems {
            for v in &p.vibs {
                f = f
                    .evidence(&format!("depot.simulate({v})"), p.constraint.as_deref().unwrap_or(kind.tag()));
            }
        }
        out.push(f);
    }
}

/// MISSING_DEPENDENCY_VIBS: third-party vmklinux VIBs block a move into 7.0.
pub fn missing_dependency(cx: &Ctx, out: &mut Vec<Finding>) {
    if !cx.crosses_into_70() {
        return;
    }
    let Some(vibs) = cx.facts.vibs.as_ref() else { return };
    let simulated = simulated_problems(cx, ProblemKind::DependencyError);
    for v in vibs.iter().filter(|v| vmklinux_vib(cx, &v.name, &v.vendor)) {
        if cx.image.is_some_and(|i| i.vib(&v.name).is_some()) {
            continue; // the image replaces it
        }
        // One finding per VIB: when the simulated transaction already names
        // this VIB (by name, whatever version string the facts carry), its
        // esxcli-worded error is the finding.
        let named = |id: &String| {
            esxup_depot::VibId::parse(id)
                .map_or_else(|| id.contains(&format!("_{}_", v.name)), |x| x.name == v.name)
        };
        if simulated.iter().any(|p| p.vibs.iter().any(named)) {
            continue;
        }
        out.push(
            Finding::new("MISSING_DEPENDENCY_VIBS", Severity::Blocker, "check.missing_dependency_vib")
                .arg("vib", format!("{}_{} {}", v.vendor, v.name, v.version))
                .arg("name", &v.name)
                .arg("branch", cx.target_branch())
                .arg("target", &cx.target.name)
                .evidence(&format!("vibs.{}", v.name), &v.version)
                .source(SRC_VMKAPI_KB)
                .source(SRC_VMKLINUX_BLOG)
                .source(SRC_VMKAPI),
        );
    }
}

/// DOWNGRADE_VIBS: with a depot image, host VIBs the image has at a lower
/// version (skipped by `profile update`, or a dependency error). Reported in
/// BACK_IN_TIME instead when the whole target is back in time.
pub fn downgrade_vibs(cx: &Ctx, out: &mut Vec<Finding>) {
    let back = backwards_vibs(cx);
    if back.is_empty() {
        return;
    }
    let bit = cx.current.is_some_and(|c| cx.target.release_date < c.release_date);
    if bit {
        return;
    }
    let mut f = Finding::new("DOWNGRADE_VIBS", Severity::Warning, "check.downgrade_vibs")
        .arg("count", back.len())
        .arg("vibs", back.iter().map(|(n, h, t)| format!("{n} {h} > {t}")).collect::<Vec<_>>().join("; "))
        .source("v-front.de, \"Why upgrading from ESXi 5.5 Update 3b to 6.0 fails\" (2015): a host VIB newer than the target image's (xhci-xhci 1.0-3 on 5.5 U3b vs 1.0-2 in 6.0) makes esxcli software profile update fail with a DependencyError: http://www.v-front.de/2015/12/why-upgrading-from-esxi-55-update-3b-to.html")
        .source("shared/research/README.md: profile update skips VIBs that would be downgrades, or fails on the dependencies they break");
    for (n, h, t) in &back {
        f = f.evidence(&format!("vibs.{n}"), format!("{h} (image {t})"));
    }
    out.push(f);
}

/// THIRD_PARTY_VIBS: non-VMware VIBs that must exist for the target branch.
pub fn third_party(cx: &Ctx, out: &mut Vec<Finding>) {
    let upgrade = cx.current_branch().is_some_and(|b| b < cx.target_branch());
    if !upgrade {
        return;
    }
    let Some(vibs) = cx.facts.vibs.as_ref() else { return };
    let others: Vec<_> = vibs
        .iter()
        .filter(|v| !is_vmware(&v.vendor) && !vmklinux_vib(cx, &v.name, &v.vendor))
        .filter(|v| cx.image.is_none_or(|i| i.vib(&v.name).is_none()))
        .collect();
    if others.is_empty() {
        return;
    }
    out.push(
        Finding::new("THIRD_PARTY_VIBS", Severity::Info, "check.third_party_vibs")
            .arg("count", others.len())
            .arg(
                "vibs",
                others.iter().map(|v| format!("{}_{}", v.vendor, v.name)).collect::<Vec<_>>().join(", "),
            )
            .arg("branch", cx.target_branch())
            .evidence("vibs", format!("{} non-VMware", others.len()))
            .source("vSphere Lifecycle Manager 7.0 docs: when you upgrade an ESXi 6.5 or 6.7 host to 7.0, all supported custom VIBs remain intact on the host, whether or not the installer ISO includes them: https://docs.vmware.com/en/VMware-vSphere/7.0/com.vmware.vsphere-lifecycle-manager.doc/GUID-F80E06EB-1CCB-4F5F-A949-5AD74FF8518F.html")
            .source("VMware ESXi Upgrade 8.0, \"Run the Secure Boot Validation Script on an Upgraded ESXi Host\": a third-party driver VIB the upgrade has no new version of remains on the system: https://docs.vmware.com/en/VMware-vSphere/8.0/vsphere-esxi-upgrade/GUID-DD075A38-8900-459F-BD9D-69DC87CCE11B.html")
            .source(
                "shared/research/README.md: profile update keeps host VIBs the target image does not replace",
            ),
    );
}
