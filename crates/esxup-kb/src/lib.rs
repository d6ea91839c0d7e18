//! The esxup knowledge base.
//!
//! Data lives as TOML files under the repository's `data/` folder (see
//! `data/README.md` for the schema), is embedded in the binary at build time
//! (`build.rs` lists every file for `include_str!`), and can be replaced at
//! run time with `--kb DIR` ([`Kb::load_dir`]). Records are validated while
//! deserialising (`#[serde(try_from = ...)]` over `deny_unknown_fields` raw
//! types); [`lint`] applies the stricter rules of the data linter.
//!
//! [`Kb`] holds the query API: releases by build and branch, [`Kb::resolve_str`]
//! for anything an admin pastes, lifecycle status, advisory exposures,
//! upgrade paths and hops, VM hardware. [`store`] holds the bundles of
//! `esxup kb export` / `kb update` and the user data directory;
//! [`status`] what `esxup kb status` says and the one decision about an
//! unknown build ([`Kb::unknown_build`]).

mod kb;
pub mod lint;
pub mod model;
mod raw;
pub mod report;
mod resolve;
pub mod status;
pub mod store;
pub mod tables;

pub use kb::{embedded_files, update_line, Exposure, Kb, KbError, KNOWN_ROOT_FILES};
pub use lint::{lint, lint_embedded, lint_files, LintProblem, Severity};
pub use model::*;
pub use resolve::{Neighbour, ResolveError, Resolved};
pub use status::{DataSource, KbStatus, UnknownBuild};
