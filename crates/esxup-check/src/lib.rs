//! Readiness rules: host facts + knowledge base + target (+ optional depot
//! image) -> a [`CheckReport`]. Pure: no network, no disk (the built-in
//! examples are embedded at build time).
//!
//! Entry point: [`check`]. Rules live in [`rules`], one module per family;
//! each rule is a small pure function of a [`Ctx`] that pushes findings.
//!
//! OWNER: the checks helper (issue 5).

pub mod engine;
pub mod examples;
pub mod finding;
pub mod image;
pub mod kbview;
pub mod report;
pub mod rules;
pub mod target;
mod vibver;

pub use engine::{check, check_with, check_with_options, CheckError, CheckOptions, Ctx};
pub use esxup_kb::LifecycleStatus;
pub use finding::*;
pub use image::{ImageVib, TargetImage};
pub use kbview::{KbView, MemKb};
pub use report::*;
pub use target::{ChosenBy, Target, TargetSpec, TargetSpecError};
