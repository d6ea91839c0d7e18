//! Installer media for ESXi upgrades: reads an installer ISO (`iso inspect`),
//! writes a bootable UEFI USB stick or image from it (`esxup media`) with a
//! kickstart made from the host's facts, lints an admin's own kickstart,
//! refuses unsafe target devices, and reads a trial install's outputs back
//! from the stick.
//!
//! The ISO itself is read by `esxup_depot::iso`, and its image profile by
//! the depot engine (`Depot::open` on the ISO), so that `--iso` and
//! `--depot` give one answer.

pub mod bootcfg;
pub mod device;
pub mod error;
pub mod image;
pub mod inspect;
pub mod kickstart;
pub mod stick;

pub use error::MediaError;
