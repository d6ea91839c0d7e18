//! ESXi versions as admins write them, and the orders VMware uses to compare them.
//!
//! This crate is pure (no I/O) and is the one owner of version semantics in
//! esxup: the knowledge base, the depot engine and the checks all use it.
//!
//! - [`Date`]: a calendar date (`YYYY-MM-DD`), the unit of release dates and
//!   lifecycle milestones.
//! - [`Branch`] (`7.0`) and [`Version`] (`7.0.3`), with [`MoveKind`] to tell an
//!   update (same x.y) from an upgrade (x.y changes), as VMware does.
//! - [`query`]: parsing of everything admins paste (build numbers, `7.0U3g`,
//!   `esxcli system version get` output, image profile names, ...).
//! - [`vib`]: VIB version order exactly as VMware's esximage sorts it.

mod date;
pub mod query;
mod version;
pub mod vib;

pub use date::{Date, DateError};
pub use query::{parse_query, patch_ref_in, update_agrees, ParsedQuery, PatchRef, QueryError};
pub use version::{Branch, MoveKind, Version, VersionError};

/// JSON Schema of a type serialised as a string (`7.0.3`, `2021-03-18`).
#[macro_export]
#[doc(hidden)]
macro_rules! string_json_schema {
    ($t:ty, $name:expr, $desc:expr) => {
        $crate::string_json_schema!($t, $name, $desc, None);
    };
    ($t:ty, $name:expr, $desc:expr, $format:expr) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> String {
                $name.into()
            }
            fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
                let mut o = schemars::schema::SchemaObject {
                    instance_type: Some(schemars::schema::InstanceType::String.into()),
                    format: $format.map(|f: &str| f.to_string()),
                    ..Default::default()
                };
                o.metadata().description = Some($desc.into());
                o.into()
            }
        }
    };
}
