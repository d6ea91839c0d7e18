//! Findings: what a rule says about a host (the contract with plan/render).

use serde::Serialize;
use std::collections::BTreeMap;

/// How much a finding matters for the upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The upgrade must not go ahead until this is resolved.
    Blocker,
    /// Risky or needs an action, but does not stop the upgrade.
    Warning,
    /// Worth knowing.
    Info,
}

/// One fact a finding rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// Dotted path into HostFacts or the KB (`product.build`, `cpu.model`).
    pub fact: String,
    /// The value seen, as text (`unknown` when not collected).
    pub value: String,
}

/// One result of one rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id: the installer's precheck code where one exists
    /// (`UPGRADE_PATH`, `MEMORY_SIZE`...), else esxup's own (`BACK_IN_TIME`).
    pub id: String,
    pub severity: Severity,
    /// Message catalog key of the title/detail/remedy (`check.back_in_time`),
    /// rendered as `<key>.title`, `<key>.detail`, `<key>.remedy`.
    pub key: String,
    /// Placeholder values for the messages.
    pub args: BTreeMap<String, String>,
    pub evidence: Vec<Evidence>,
    /// KB / VMSA / doc references.
    pub sources: Vec<String>,
}
