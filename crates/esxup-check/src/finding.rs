//! Findings: what a rule says about a host (the contract with plan/render).

use serde::Serialize;
use std::collections::BTreeMap;

/// How much a finding matters for the upgrade.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
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
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// Dotted path into HostFacts or the KB (`product.build`, `cpu.model`).
    pub fact: String,
    /// The value seen, as text (`unknown` when not collected).
    pub value: String,
}

/// One result of one rule.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
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

// --- Builders (additive, used by the rules) ---------------------------------

impl Finding {
    /// A finding with id, severity and message key (`check.<rule>`).
    pub fn new(id: &str, severity: Severity, key: &str) -> Finding {
        Finding {
            id: id.to_string(),
            severity,
            key: key.to_string(),
            args: BTreeMap::new(),
            evidence: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Adds a message placeholder value.
    pub fn arg(mut self, name: &str, value: impl ToString) -> Finding {
        self.args.insert(name.to_string(), value.to_string());
        self
    }

    /// Adds a fact the finding rests on.
    pub fn evidence(mut self, fact: &str, value: impl ToString) -> Finding {
        self.evidence.push(Evidence { fact: fact.to_string(), value: value.to_string() });
        self
    }

    /// Adds a reference (KB, VMSA, documentation URL).
    pub fn source(mut self, s: &str) -> Finding {
        self.sources.push(s.to_string());
        self
    }

    /// Adds several references.
    pub fn sources<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, it: I) -> Finding {
        self.sources.extend(it.into_iter().map(|s| s.as_ref().to_string()));
        self
    }

    /// Message keys of the three texts.
    pub fn title_key(&self) -> String {
        format!("{}.title", self.key)
    }
    pub fn detail_key(&self) -> String {
        format!("{}.detail", self.key)
    }
    pub fn remedy_key(&self) -> String {
        format!("{}.remedy", self.key)
    }
}

impl Severity {
    /// `blocker`, `warning`, `info` (also the message key under `common.`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}
