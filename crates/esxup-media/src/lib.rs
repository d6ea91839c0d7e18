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

/// Version of the layout of `iso inspect` and `media` JSON documents.
pub const OUTPUT_SCHEMA_VERSION: u32 = 1;

/// What `esxup media --format json` prints.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct MediaReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub iso: inspect::IsoReport,
    pub layout: image::Layout,
    /// The KS.CFG written, if any (it never holds a clear-text password).
    pub kickstart: Option<String>,
    /// `None` with `--dry-run`.
    pub written: Option<image::Written>,
    pub verified: Option<image::Verified>,
    pub warnings: Vec<String>,
}

/// The JSON Schemas of this crate's outputs: (file name in `schema/`, text).
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn s<T: schemars::JsonSchema>() -> String {
        let mut t = serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default();
        t.push('\n');
        t
    }
    vec![("iso-inspect.schema.json", s::<inspect::IsoReport>()), ("media.schema.json", s::<MediaReport>())]
}
