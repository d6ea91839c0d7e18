//! MEMORY_SIZE: 4 GiB for 7.0 (3.125% tolerance, 8 GB recommended), 8 GB for 8.0.

use super::{gib, unknown, Rule};
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_version::Branch;

pub const RULES: &[(&str, Rule)] = &[("memory_size", memory_size)];

const GIB: u64 = 1 << 30;

/// Bytes below which the installer refuses: `need * (1 - 3.125%)`.
pub fn hard_minimum(need: u64) -> u64 {
    need - need / 32
}

/// MEMORY_SIZE.
pub fn memory_size(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(mem) = cx.facts.memory_bytes else {
        out.push(unknown("MEMORY_SIZE", Severity::Warning, "memory_bytes", "esxcli hardware memory get"));
        return;
    };
    let tb = cx.target_branch();
    let (need, recommended, src) = if tb >= Branch::new(8, 0) {
        (8 * GIB, None, "VMware ESXi Installation and Setup 8.0, ESXi hardware requirements: ESXi 8.0 requires at least 8 GB of physical RAM (Chinese edition: https://docs.vmware.com/cn/VMware-vSphere/8.0/vsphere-esxi-installation/GUID-DEB8086A-306B-4239-BF76-E354679202FC.html); 3.125% tolerance as in the installer precheck (shared/research/README.md)")
    } else if tb >= Branch::new(7, 0) {
        (4 * GIB, Some(8 * GIB), "ESXi 7.0 installer precheck MEMORY_SIZE: 4 GiB with 3.125% tolerance; 7.0 docs: 8 GB for production")
    } else {
        (4 * GIB, None, "ESXi 6.x installer precheck MEMORY_SIZE: 4 GiB")
    };
    let base = |sev, key| {
        Finding::new("MEMORY_SIZE", sev, key)
            .arg("memory", gib(mem))
            .arg("branch", tb)
            .evidence("memory_bytes", mem)
            .source(src)
    };
    if mem < hard_minimum(need) {
        out.push(base(Severity::Blocker, "check.memory_size").arg("need", gib(need)));
    } else if let Some(r) = recommended.filter(|r| mem < hard_minimum(*r)) {
        out.push(base(Severity::Warning, "check.memory_recommended").arg("need", gib(r)));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tolerance_is_three_and_an_eighth_percent() {
        assert_eq!(super::hard_minimum(4 << 30), 4_160_749_568);
    }
}
