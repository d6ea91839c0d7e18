//! The esxup knowledge base.
//!
//! Data lives as TOML files under the repository's `data/` folder (see
//! `data/README.md` for the schema), is embedded in the binary at build time,
//! and can be replaced at run time with `--kb DIR`. Records are validated
//! while deserialising; `lint` applies the stricter rules of the data linter.
//!
//! OWNER: the knowledge-base helper (issue 2).

pub mod model;
pub mod tables;

pub use model::*;
