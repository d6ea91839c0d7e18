//! CPU rules: CPU_SUPPORT (family/model table, allowLegacyCPU, 8.0 U2 XSAVE),
//! CPU_CORES, HARDWARE_VIRTUALIZATION, NXBIT_ENABLED.

use super::{hex, unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_facts::CpuVendor;
use esxup_kb::tables::{CpuSupport, CpuTableVendor};
use esxup_version::Version;

pub const RULES: &[(&str, Rule)] = &[
    ("cpu_support", cpu_support),
    ("cpu_xsave", cpu_xsave),
    ("cpu_cores", cpu_cores),
    ("hv", hardware_virtualization),
    ("nx", nx_bit),
];

const SRC_PRECHECK: &str = "ESXi installer precheck (precheck.py), shared/research/README.md precheck table";
/// The precheck codes CPU_CORES ("at least two cores") and
/// HARDWARE_VIRTUALIZATION (a warning) as VMware documents them.
const SRC_PRECHECK_DOC: &str = "vCenter Server Upgrade 6.7, \"Errors and Warnings Returned by the Installation and Upgrade Precheck Script\" (CPU_CORES: the host must have at least two cores; HARDWARE_VIRTUALIZATION: warning): https://docs.vmware.com/en/VMware-vSphere/6.7/com.vmware.vcenter.upgrade.doc/GUID-9FD7FB03-F6F2-4743-AA4E-A4169EC7DEA8.html";
/// Two cores, NX/XD enabled in the BIOS, hardware virtualization for 64-bit VMs.
const SRC_HW_REQ: &str = "VMware ESXi Installation and Setup 7.0, ESXi hardware requirements (two CPU cores; NX/XD bit enabled in the BIOS; Intel VT-x or AMD RVI enabled for 64-bit VMs): https://docs.vmware.com/en/VMware-vSphere/7.0/com.vmware.esxi.install.doc/GUID-DEB8086A-306B-4239-BF76-E354679202FC.html";
const SRC_XSAVE: &str =
    "https://williamlam.com/2023/10/heads-up-esxi-8-0-update-2-requires-xsave-cpu-instruction-even-with-allowlegacycputrue.html";
const COLLECT_CPU: &str = "esxcli hardware cpu list; esxcli hardware cpu global get";

/// CPU_SUPPORT from data/cpu.toml.
pub fn cpu_support(cx: &Ctx, out: &mut Vec<Finding>) {
    let cpu = cx.facts.cpu.as_ref();
    let (Some(vendor), Some(family), Some(model)) =
        (cpu.and_then(|c| c.vendor), cpu.and_then(|c| c.family), cpu.and_then(|c| c.model))
    else {
        out.push(unknown("CPU_SUPPORT", Severity::Warning, "cpu.vendor/family/model", COLLECT_CPU));
        return;
    };
    let tv = match vendor {
        CpuVendor::Intel => CpuTableVendor::Intel,
        CpuVendor::Amd => CpuTableVendor::Amd,
        CpuVendor::Other => return,
    };
    let Some(row) = cx.tables.cpu_row(tv, family, model, cx.target_branch()) else {
        return;
    };
    let legacy = cx.boot_option("allowLegacyCPU") == Some(true);
    let brand = cpu.and_then(|c| c.brand.clone()).unwrap_or_else(|| "-".into());
    let (sev, key) = match row.support {
        CpuSupport::Deprecated => (Severity::Warning, "check.cpu_deprecated"),
        CpuSupport::Unsupported if legacy && row.legacy_override => {
            (Severity::Warning, "check.cpu_legacy_override")
        }
        CpuSupport::Unsupported => (Severity::Blocker, "check.cpu_unsupported"),
    };
    out.push(
        Finding::new("CPU_SUPPORT", sev, key)
            .arg("brand", brand)
            .arg("family", hex(family))
            .arg("model", hex(model))
            .arg("generation", &row.name)
            .arg("branch", cx.target_branch())
            .evidence("cpu.family", hex(family))
            .evidence("cpu.model", hex(model))
            .evidence("boot_options.allowLegacyCPU", legacy)
            .sources(&row.sources),
    );
}

/// CPU_XSAVE: 8.0 U2 and later need XSAVE, even with allowLegacyCPU=true.
pub fn cpu_xsave(cx: &Ctx, out: &mut Vec<Finding>) {
    if cx.target.version < Version::new(8, 0, 2) {
        return;
    }
    match cx.facts.cpu.as_ref().and_then(|c| c.xsave) {
        Some(true) => {}
        Some(false) => out.push(
            Finding::new("CPU_XSAVE", Severity::Blocker, "check.cpu_xsave")
                .arg("name", &cx.target.name)
                .evidence("cpu.xsave", false)
                .source(SRC_XSAVE),
        ),
        None => {
            // Every CPU the 8.0 table accepts has XSAVE (Sandy Bridge / Bulldozer
            // and later); only a CPU let through by allowLegacyCPU may lack it.
            if cx.boot_option("allowLegacyCPU") == Some(true) {
                out.push(unknown(
                    "CPU_XSAVE",
                    Severity::Warning,
                    "cpu.xsave",
                    "esxcli hardware cpu global get; vim-cmd hostsvc/hosthardware (featureCapability XSAVE)",
                ));
            }
        }
    }
}

/// CPU_CORES: at least 2 physical cores.
pub fn cpu_cores(cx: &Ctx, out: &mut Vec<Finding>) {
    match cx.facts.cpu.as_ref().and_then(|c| c.cores) {
        None => out.push(unknown("CPU_CORES", Severity::Warning, "cpu.cores", COLLECT_CPU)),
        Some(n) if n < 2 => out.push(
            Finding::new("CPU_CORES", Severity::Blocker, "check.cpu_cores")
                .arg("cores", n)
                .evidence("cpu.cores", n)
                .source(SRC_PRECHECK_DOC)
                .source(SRC_HW_REQ)
                .source(SRC_PRECHECK),
        ),
        Some(_) => {}
    }
}

/// HARDWARE_VIRTUALIZATION: VT-x / AMD-V present and enabled (warning).
pub fn hardware_virtualization(cx: &Ctx, out: &mut Vec<Finding>) {
    match cx.facts.cpu.as_ref().and_then(|c| c.hv) {
        None => out.push(unknown(
            "HARDWARE_VIRTUALIZATION",
            Severity::Info,
            "cpu.hv",
            "esxcli hardware cpu global get (Hardware Virtualization)",
        )),
        Some(false) => out.push(
            Finding::new("HARDWARE_VIRTUALIZATION", Severity::Warning, "check.hardware_virtualization")
                .evidence("cpu.hv", false)
                .source(SRC_PRECHECK_DOC)
                .source(SRC_HW_REQ)
                .source(SRC_PRECHECK),
        ),
        Some(true) => {}
    }
}

/// NXBIT_ENABLED: NX/XD must be enabled.
pub fn nx_bit(cx: &Ctx, out: &mut Vec<Finding>) {
    match cx.facts.cpu.as_ref().and_then(|c| c.nx) {
        None => out.push(unknown(
            "NXBIT_ENABLED",
            Severity::Warning,
            "cpu.nx",
            "BIOS setup (Execute Disable / No-Execute); vim-cmd hostsvc/hosthardware",
        )),
        Some(false) => out.push(
            Finding::new("NXBIT_ENABLED", Severity::Blocker, "check.nxbit")
                .evidence("cpu.nx", false)
                .source(SRC_HW_REQ)
                .source(SRC_PRECHECK),
        ),
        Some(true) => {}
    }
}
