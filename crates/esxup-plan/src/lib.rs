//! Upgrade runbook steps built from check findings (`esxup plan`).
//!
//! [`PlanInput`] gathers the host's facts and the verdict of `esxup check`;
//! [`build_plan`] turns it into a [`Plan`]: blockers first with their way
//! out, then the phases Before / Media and method / Upgrade / After /
//! Rollback, each step with its purpose, exact commands for this host,
//! whether a runner can do it, how to verify it and what to do if it fails.
//! Every text comes from the message catalog (`plan.*` keys) in English or
//! Japanese. Renderers live in `esxup-render`.

pub mod from_check;
pub mod ghetto;
pub mod input;
pub mod media;
pub mod model;
pub mod runnable;
pub mod steps;

pub use input::*;
pub use model::*;
pub use steps::build_plan;
