//! The rules, one module per family. Each rule is a small pure function of
//! the [`Ctx`] that pushes zero or more findings; a rule whose facts were not
//! collected pushes an `unknown` finding naming what to collect (never a
//! silent pass).

use crate::engine::Ctx;
use crate::finding::{Finding, Severity};

pub mod advisories;
pub mod boot;
pub mod cpu;
pub mod dates;
pub mod devices;
pub mod homelab;
pub mod licence;
pub mod lifecycle;
pub mod memory;
pub mod operations;
pub mod path;
pub mod secureboot;
pub mod storage;
pub mod vibs;
pub mod vms;

/// A rule: reads the context, pushes findings.
pub type Rule = fn(&Ctx, &mut Vec<Finding>);

/// Every family with its rules (rule name, function), in report order.
pub const FAMILIES: &[(&str, &[(&str, Rule)])] = &[
    ("path", path::RULES),
    ("dates", dates::RULES),
    ("cpu", cpu::RULES),
    ("memory", memory::RULES),
    ("devices", devices::RULES),
    ("boot", boot::RULES),
    ("secureboot", secureboot::RULES),
    ("vibs", vibs::RULES),
    ("storage", storage::RULES),
    ("advisories", advisories::RULES),
    ("lifecycle", lifecycle::RULES),
    ("vms", vms::RULES),
    ("licence", licence::RULES),
    ("operations", operations::RULES),
    ("homelab", homelab::RULES),
];

/// A fact the rule `id` needs was not collected: say so, and how to get it.
pub fn unknown(id: &str, severity: Severity, fact: &str, collect: &str) -> Finding {
    Finding::new(id, severity, "check.unknown")
        .arg("check", id)
        .arg("fact", fact)
        .arg("collect", collect)
        .evidence(fact, "unknown")
}

/// `1.5 GiB`-style sizes for messages.
pub fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    if g >= 10.0 {
        format!("{g:.0} GiB")
    } else {
        format!("{g:.1} GiB")
    }
}

/// `0x2A`
pub fn hex(v: u32) -> String {
    format!("0x{v:02X}")
}
