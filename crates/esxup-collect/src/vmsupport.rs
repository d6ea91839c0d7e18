//! Collector of a `vm-support` bundle (`esx-<host>-<date>.tgz`): a gzip'd tar
//! whose `commands/` folder holds the outputs of `localcli`/`esxcli` and
//! other commands (`commands/localcli_software-vib-list.txt`,
//! `commands/vmware_-vl.txt`, ...).
//!
//! The bundle is read once, streaming, and never extracted to disk: only the
//! `commands/` files of the command list are kept in memory. Reading is
//! bounded (entries, bytes per file, bytes in all); entries whose path is
//! absolute or climbs with `..` are skipped and reported.

use crate::commands::{Output, Source, COMMANDS};
use crate::error::CollectError;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Most tar entries looked at.
pub const MAX_ENTRIES: u64 = 2_000_000;
/// Largest single output kept.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes decompressed in all (bundles with cores can be large).
pub const MAX_TOTAL_BYTES: u64 = 32 * 1024 * 1024 * 1024;

/// The command outputs found in a bundle.
pub struct BundleSource {
    path: PathBuf,
    files: HashMap<String, Vec<u8>>,
    /// Problems met while reading (skipped entries).
    pub warnings: Vec<String>,
}

fn bad(path: &Path, message: impl Into<String>) -> CollectError {
    CollectError::Bundle { path: path.to_path_buf(), message: message.into() }
}

impl BundleSource {
    /// Reads the wanted `commands/` files out of `path`.
    pub fn open(path: &Path) -> Result<BundleSource, CollectError> {
        let file = std::fs::File::open(path).map_err(|e| bad(path, e.to_string()))?;
        BundleSource::from_reader(path, file)
    }

    /// Same as [`BundleSource::open`], from any reader of the `.tgz` bytes.
    pub fn from_reader(path: &Path, reader: impl Read) -> Result<BundleSource, CollectError> {
        let wanted: HashSet<&str> = COMMANDS.iter().flat_map(|c| c.vm_support.iter().copied()).collect();
        // `<top>/commands/<name>` (or `commands/<name>`).
        let select = |comps: &[String]| {
            comps.len() >= 2
                && comps.len() <= 3
                && comps[comps.len() - 2] == "commands"
                && comps.last().is_some_and(|n| wanted.contains(n.as_str()))
        };
        let (files, warnings) = read_tgz(path, reader, &select)?;
        if files.is_empty() {
            return Err(bad(
                path,
                "no `commands/` outputs esxup knows were found: is this a vm-support bundle?",
            ));
        }
        Ok(BundleSource { path: path.to_path_buf(), files, warnings })
    }
}

/// Files kept from a `.tgz`, by base name, and warnings about skipped entries.
pub type TgzFiles = (HashMap<String, Vec<u8>>, Vec<String>);

/// Reads a gzip'd tar once, keeping (in memory, by base name) the regular
/// files whose path components `select` accepts. Bounded by
/// [`MAX_ENTRIES`], [`MAX_FILE_BYTES`] and [`MAX_TOTAL_BYTES`]; absolute
/// paths and `..` are skipped with a warning; nothing is written to disk.
pub fn read_tgz(
    path: &Path,
    reader: impl Read,
    select: &dyn Fn(&[String]) -> bool,
) -> Result<TgzFiles, CollectError> {
    let gz = flate2::read::GzDecoder::new(reader);
    let mut ar = tar::Archive::new(gz);
    let mut files = HashMap::new();
    let mut warnings = Vec::new();
    let mut total: u64 = 0;
    let entries = ar.entries().map_err(|e| bad(path, format!("not a tar.gz: {e}")))?;
    for (n, entry) in entries.enumerate() {
        if n as u64 >= MAX_ENTRIES {
            return Err(bad(path, format!("more than {MAX_ENTRIES} entries; refusing")));
        }
        let mut entry = entry.map_err(|e| {
            if n == 0 {
                bad(path, format!("the gzip holds no tar archive ({e})"))
            } else {
                bad(path, format!("entry {}: {e} (truncated archive?)", n + 1))
            }
        })?;
        let size = entry.header().size().unwrap_or(0);
        total = total.saturating_add(size);
        if total > MAX_TOTAL_BYTES {
            return Err(bad(path, format!("more than {MAX_TOTAL_BYTES} bytes uncompressed; refusing")));
        }
        let epath = match entry.path() {
            Ok(p) => p.into_owned(),
            Err(e) => {
                warnings.push(format!("entry {}: unreadable path: {e}", n + 1));
                continue;
            }
        };
        if epath.is_absolute()
            || epath.components().any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            warnings.push(format!("skipped unsafe entry path {}", epath.display()));
            continue;
        }
        let comps: Vec<String> = epath
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        let Some(name) = comps.last().cloned() else { continue };
        if !select(&comps) || !entry.header().entry_type().is_file() {
            continue;
        }
        if size > MAX_FILE_BYTES {
            warnings.push(format!("skipped {}: larger than {MAX_FILE_BYTES} bytes", epath.display()));
            continue;
        }
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(MAX_FILE_BYTES)
            .read_to_end(&mut buf)
            .map_err(|e| bad(path, format!("{}: {e} (truncated archive?)", epath.display())))?;
        files.insert(name, buf);
    }
    Ok((files, warnings))
}

impl Source for BundleSource {
    fn label(&self) -> String {
        format!("vm-support:{}", self.path.display())
    }

    fn fetch(
        &mut self,
        command: &str,
        _file_name: &str,
        vm_support: &[&str],
    ) -> Result<Output, CollectError> {
        for name in vm_support {
            if let Some(b) = self.files.remove(*name) {
                return Ok(Output::Bytes(b));
            }
        }
        Ok(Output::Missing(if vm_support.is_empty() {
            format!("a vm-support bundle does not hold `{command}`; collect it with --ssh or --from-dir")
        } else {
            format!("commands/{} is not in the bundle", vm_support[0])
        }))
    }
}
