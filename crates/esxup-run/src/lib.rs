//! `esxup run`: carries out the runbook's automatable steps on one ESXi
//! host, in order, with a journal that survives `kill -9`; and `verify`.
//!
//! Layers, outside in:
//! - [`engine`]: the steps ([`RunStep`], fixed names and order), each one
//!   read-state / intent / change / read-back / done;
//! - [`journal`]: the append-only, fsynced record of every change, the
//!   run's decisions (`run.json`) and the lock;
//! - [`transport`]: the vSphere API and the ESXi Shell over SSH, behind one
//!   trait, with [`state::HostState`] as what both read;
//! - [`plan`]: the decisions taken once, before the first change, from
//!   `esxup check` and `esxup plan` (the same [`automation`] function
//!   marks the runbook's steps);
//! - [`verify`], [`bundle`] (configuration backups), [`esxcli`] (esxcli's
//!   installation results against esxup's own simulation), [`rolling`]
//!   (the JSON of a rolling run over an inventory).

pub mod bundle;
pub mod engine;
pub mod esxcli;
pub mod journal;
pub mod plan;
pub mod preview;
pub mod rolling;
pub mod state;
pub mod time;
pub mod transport;
pub mod verify;

pub use engine::{Event, Host, Options, RunError, RunReport, Runner, Selection, StepOutcome, Stop};
pub use esxup_plan::runnable::{automation, Automation, RunStep};
pub use journal::{Journal, JournalError, Phase, Record, RunMeta, JOURNAL_SCHEMA_VERSION};
pub use state::{HostState, TransportKind};

/// `esxup journal show --format json`: the run's header and its records.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct JournalShow {
    /// [`JOURNAL_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub run: RunMeta,
    pub records: Vec<Record>,
}

/// The JSON Schemas of the runner's outputs (schema/, checked by the
/// esxup crate's json_schema test): the journal as `journal show` prints
/// it, `verify`, and the preview of `esxup run --format json`.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn s<T: schemars::JsonSchema>() -> String {
        let mut t = serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default();
        t.push('\n');
        t
    }
    vec![
        ("journal.schema.json", s::<JournalShow>()),
        ("verify.schema.json", s::<verify::VerifyReport>()),
        ("run-preview.schema.json", s::<preview::Preview>()),
        ("run-rolling-preview.schema.json", s::<rolling::RollingPreview>()),
        ("run-rolling.schema.json", s::<rolling::RollingReport>()),
    ]
}
