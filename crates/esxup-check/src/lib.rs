//! Readiness rules: host facts + knowledge base + target (+ optional depot
//! image) -> a [`CheckReport`]. Pure: no network, no disk (the built-in
//! examples are embedded at build time).
//!
//! Entry point: [`check`] (embedded CPU/device tables) or [`check_with`]
//! (tables from `--kb DIR`): `check(kb, &facts, &spec, image, today)` where
//! `kb` is the knowledge base ([`esxup_kb::Kb`], the one owner of release,
//! lifecycle, path and advisory queries; tests use the built-in one or
//! `Kb::load_dir` on a fixture folder), `spec` a [`TargetSpec`] (`"7.0U3g".parse()`, `latest-8.0`,
//! `auto`) and `image` the target image from `--depot`, built with
//! [`TargetImage::from_depot`] (a depot profile), [`TargetImage::from_depot_vibs`]
//! (a driver bundle) or [`TargetImage::from_vib_ids`] (a VIB id list); for a
//! depot profile, [`TargetImage::simulated_on`] adds what the host's
//! `esxcli software profile update` would report (`esxup_depot::simulate`).
//! The result is a [`CheckReport`] (JSON layout: `docs/check-json.md`).
//!
//! Rules live in [`rules`], one module per family; each rule is a small pure
//! function of a [`Ctx`] that pushes findings. Data-driven parts live in
//! `data/cpu.toml` and `data/devices.toml` (`esxup_kb::tables`). Built-in
//! example hosts: [`examples`].
//!
//! OWNER: the checks helper (issue 5).

pub mod engine;
pub mod examples;
pub mod finding;
pub mod fleet;
pub mod image;
pub mod report;
pub mod rules;
pub mod target;

pub use engine::{check, check_with, check_with_options, CheckError, CheckOptions, Ctx};
pub use esxup_kb::LifecycleStatus;
pub use finding::*;
pub use fleet::{ExposureCounts, ExposureLevel, FleetRow, FleetSummary};
pub use image::{ImageVib, TargetImage};
pub use report::*;
pub use target::{ChosenBy, Target, TargetSpec, TargetSpecError};
