//! Readiness rules: host facts + knowledge base + target (+ optional depot)
//! -> findings. Pure: no network, no disk.
//!
//! OWNER: the checks helper (issue 5).

pub mod finding;

pub use finding::*;
