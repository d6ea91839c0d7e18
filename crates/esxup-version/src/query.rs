//! Parsing of every way an admin names an ESXi release.
//!
//! OWNER: the knowledge-base helper fills this in (issue 2, item 6).

use crate::Version;

/// What could be read from a pasted string. Every field is optional: a bare
/// build number gives only `build`, `7.0U3g` gives version and update, the
/// whole `esxcli system version get` output gives all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParsedQuery {
    /// The text as given.
    pub raw: String,
    pub build: Option<u32>,
    pub version: Option<Version>,
    /// Update level as VMware writes it after "U": `3g` for 7.0 Update 3g,
    /// `3` for Update 3; `None` when not given, `Some("")`-free: GA is `None`
    /// together with `ga: true`.
    pub update: Option<String>,
    pub ga: bool,
    /// An image profile name, e.g. `ESXi-7.0U3g-20328353-standard`.
    pub profile: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("cannot read an ESXi version or build from {0:?}")]
    Unrecognised(String),
}

/// Parses a release query.
pub fn parse_query(input: &str) -> Result<ParsedQuery, QueryError> {
    let t = input.trim();
    if let Ok(b) = t.parse::<u32>() {
        return Ok(ParsedQuery { raw: input.to_string(), build: Some(b), ..Default::default() });
    }
    Err(QueryError::Unrecognised(input.to_string()))
}
