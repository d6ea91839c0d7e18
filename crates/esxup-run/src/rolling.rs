//! The JSON of a rolling run (`esxup run --inventory FILE --format json`):
//! without --yes each host's preview and its wave, with --yes a row per
//! host and the totals. The CLI's scheduler (crates/esxup/src/cmd/run_fleet.rs)
//! fills them; the table on a terminal prints the same rows.

use serde::Serialize;
use std::collections::BTreeMap;

/// The output's `schema_version`.
pub const ROLLING_SCHEMA_VERSION: u32 = 1;

/// `esxup run --inventory FILE --format json` without --yes.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RollingPreview {
    pub schema_version: u32,
    /// At most this many hosts at once (never two of one cluster).
    pub concurrency: usize,
    pub hosts: Vec<PreviewHost>,
}

/// One `[[host]]` of the inventory, before anything changes.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PreviewHost {
    /// The inventory's name of the host; `None` when the entry could not be
    /// used (then `error` says why).
    pub host: Option<String>,
    /// `<vCenter>/<cluster>`, the entry's own `cluster`, or `None` (standalone).
    pub cluster: Option<String>,
    /// Its place in its cluster's order (1 = first).
    pub wave: Option<usize>,
    /// The host's preview, as `esxup run --format json` prints it for one
    /// host (schema/run-preview.schema.json).
    pub preview: Option<serde_json::Value>,
    /// The check blocks the target: what, and the blocking findings.
    pub blocked: Option<Blocked>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Blocked {
    pub what: String,
    pub blockers: Vec<String>,
}

/// `esxup run --inventory FILE --yes --format json`.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RollingReport {
    pub schema_version: u32,
    pub hosts: Vec<RollingRow>,
    /// Hosts per result word.
    pub totals: BTreeMap<String, usize>,
}

/// One host's outcome.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RollingRow {
    pub host: String,
    pub cluster: Option<String>,
    /// The build the host ran when this run started.
    pub build: Option<u32>,
    /// `<build> (<release name>)`.
    pub target: Option<String>,
    /// `done`, `waiting` (a step by hand, the ISO installer, comes next),
    /// `stopped`, `blocked`, `failed` or `not started`.
    pub result: String,
    /// The same in words, as the table's RESULT column.
    pub detail: String,
    /// The host's journal folder, when it has one.
    pub journal: Option<String>,
}
