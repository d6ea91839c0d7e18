//! What esxup knows about one ESXi host: the [`HostFacts`] model, and the
//! parsers that turn `esxcli` / `vim-cmd` / `vmware -vl` output into it.
//!
//! Rule of the model: **unknown stays unknown**. Every fact a collector may
//! fail to see is an `Option` (serialised as `null`), and checks must treat
//! `None` as "not collected", never as "false" or "zero".
//!
//! The model is versioned ([`SCHEMA_VERSION`]); its JSON Schema is generated
//! into `schema/host-facts.schema.json` and a test keeps it current
//! (regenerate with `UPDATE_SCHEMA=1 cargo test -p esxup-facts --test schema`).

pub mod model;
pub mod parse;
pub mod summary;

pub use model::*;

use std::path::{Path, PathBuf};

/// Why a facts file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("read facts file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("read facts file {path}: not JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("read facts file {path}: no `schema_version` field: is this an esxup facts file?")]
    NoVersion { path: PathBuf },
    #[error("read facts file {path}: `schema_version` is {found}, not a number")]
    VersionType { path: PathBuf, found: String },
    #[error("read facts file {path}: {bytes} bytes, larger than the {max} a facts file can be")]
    TooLarge { path: PathBuf, bytes: u64, max: u64 },
    #[error("read facts file {path}: not a regular file")]
    NotAFile { path: PathBuf },
    #[error(
        "read facts file {path}: schema_version {found} is newer than this esxup understands ({SCHEMA_VERSION}); \
         upgrade esxup"
    )]
    Newer { path: PathBuf, found: u64 },
    #[error(
        "read facts file {path}: schema_version {found} is not supported (this esxup reads {SCHEMA_VERSION})"
    )]
    Unsupported { path: PathBuf, found: u64 },
    #[error("read facts file {path}: does not match schema version {SCHEMA_VERSION}: {source}")]
    Shape { path: PathBuf, source: serde_json::Error },
}

impl HostFacts {
    /// Empty facts (everything unknown) of the current schema version.
    pub fn new() -> HostFacts {
        HostFacts { schema_version: SCHEMA_VERSION, ..HostFacts::default() }
    }

    /// Loads facts from JSON text; `origin` names the file in errors.
    ///
    /// The `schema_version` is checked first, so that a file of another
    /// version gets a clear message rather than a field-by-field complaint.
    /// Version 1 is the first published layout: there is nothing older to
    /// migrate yet; a future version 2 loader migrates 1 here.
    pub fn from_json_str(text: &str, origin: &Path) -> Result<HostFacts, FactsError> {
        let path = origin.to_path_buf();
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| FactsError::Json { path: path.clone(), source })?;
        let found = match value.get("schema_version") {
            Some(v) => match v.as_u64() {
                Some(n) => n,
                None => {
                    let mut shown = v.to_string();
                    if shown.len() > 40 {
                        shown = format!("{}…", shown.chars().take(40).collect::<String>());
                    }
                    return Err(FactsError::VersionType { path, found: shown });
                }
            },
            None => return Err(FactsError::NoVersion { path }),
        };
        match found.cmp(&u64::from(SCHEMA_VERSION)) {
            std::cmp::Ordering::Greater => return Err(FactsError::Newer { path, found }),
            std::cmp::Ordering::Less => return Err(FactsError::Unsupported { path, found }),
            std::cmp::Ordering::Equal => {}
        }
        serde_json::from_value(value).map_err(|source| FactsError::Shape { path, source })
    }

    /// Reads and checks a facts file written by `esxup collect -o`.
    pub fn from_json_file(path: &Path) -> Result<HostFacts, FactsError> {
        HostFacts::from_json_str(&read_facts_text(path)?, path)
    }

    /// Pretty JSON, as `esxup collect -o` writes it.
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Largest facts file read. A host with 1,000 VMs and 500 VIBs writes about
/// 1 MiB; the cap keeps a damaged or hostile file from taking gigabytes of
/// memory before it fails (the same cap as `esxup collect`'s inputs).
pub const MAX_FACTS_BYTES: u64 = 64 << 20;

/// The text of a facts file: a regular file of at most [`MAX_FACTS_BYTES`].
pub fn read_facts_text(path: &Path) -> Result<String, FactsError> {
    use std::io::Read;
    let read = |source| FactsError::Read { path: path.to_path_buf(), source };
    let f = std::fs::File::open(path).map_err(read)?;
    let meta = f.metadata().map_err(read)?;
    if !meta.is_file() {
        return Err(FactsError::NotAFile { path: path.to_path_buf() });
    }
    if meta.len() > MAX_FACTS_BYTES {
        return Err(FactsError::TooLarge {
            path: path.to_path_buf(),
            bytes: meta.len(),
            max: MAX_FACTS_BYTES,
        });
    }
    let mut text = String::new();
    f.take(MAX_FACTS_BYTES + 1).read_to_string(&mut text).map_err(read)?;
    Ok(text)
}

/// The JSON Schema of [`HostFacts`], as checked in at `schema/host-facts.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(HostFacts);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
