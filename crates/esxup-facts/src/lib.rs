//! What esxup knows about one ESXi host: the [`HostFacts`] model, and the
//! parsers that turn `esxcli` / `vim-cmd` / `vmware -vl` output into it.
//!
//! Rule of the model: **unknown stays unknown**. Every fact a collector may
//! fail to see is an `Option` (serialised as `null`), and checks must treat
//! `None` as "not collected", never as "false" or "zero".
//!
//! The model is versioned ([`SCHEMA_VERSION`]); its JSON Schema is generated
//! into `schema/host-facts.schema.json` and a test keeps it current.

pub mod model;

pub use model::*;
