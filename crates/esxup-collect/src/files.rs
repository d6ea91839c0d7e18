//! Collector of saved outputs: a folder holding one file per command of
//! [`crate::commands::COMMANDS`], named `<id>.txt` (see
//! `docs/collect-commands.md` for the names and the one-line snippet that
//! saves them on the host). A missing file leaves its facts unknown and adds
//! a note saying which file to save.
//!
//! [`ArchiveSource`] reads the same files out of the `.tgz` that the snippet
//! of docs/collect-commands.md packs (`esxup-outputs.tgz`), without unpacking it.

use crate::commands::{Output, Source};
use crate::error::CollectError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest saved output read (a full `vib list` in XML is well under 1 MiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A folder of saved outputs.
pub struct DirSource {
    dir: PathBuf,
}

impl DirSource {
    /// Opens `dir`; fails if it is not a readable folder.
    pub fn open(dir: &Path) -> Result<DirSource, CollectError> {
        let meta =
            std::fs::metadata(dir).map_err(|source| CollectError::Dir { path: dir.to_path_buf(), source })?;
        if !meta.is_dir() {
            return Err(CollectError::Dir {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
            });
        }
        Ok(DirSource { dir: dir.to_path_buf() })
    }
}

impl Source for DirSource {
    fn label(&self) -> String {
        format!("dir:{}", self.dir.display())
    }

    fn fetch(
        &mut self,
        command: &str,
        file_name: &str,
        _vm_support: &[&str],
    ) -> Result<Output, CollectError> {
        let path = self.dir.join(file_name);
        // Look before opening: opening a FIFO blocks until a writer comes.
        match std::fs::metadata(&path) {
            Ok(m) if !m.is_file() => {
                return Ok(Output::Missing(format!(
                    "{file_name} is not a regular file (a folder, FIFO or device): not read"
                )))
            }
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                return Err(CollectError::TooLarge {
                    path,
                    message: format!(
                        "{} bytes, more than the {MAX_FILE_BYTES} a saved command output can be: is this the right folder?",
                        m.len()
                    ),
                })
            }
            _ => {}
        }
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Output::Missing(format!(
                    "file {file_name} is missing: save it on the host with `{command} > {file_name}`"
                )))
            }
            Err(source) => return Err(CollectError::Dir { path, source }),
        };
        let mut buf = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|source| CollectError::Dir { path: path.clone(), source })?;
        if buf.len() as u64 > MAX_FILE_BYTES {
            return Ok(Output::Missing(format!(
                "file {file_name} is larger than {MAX_FILE_BYTES} bytes; not read"
            )));
        }
        Ok(Output::Bytes(buf))
    }
}

/// The saved outputs packed in a `.tgz` (files at the top or one folder down).
pub struct ArchiveSource {
    path: PathBuf,
    files: std::collections::HashMap<String, Vec<u8>>,
    /// Skipped entries (unsafe paths, too large).
    pub warnings: Vec<String>,
}

impl ArchiveSource {
    pub fn open(path: &Path) -> Result<ArchiveSource, CollectError> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| CollectError::Archive { path: path.to_path_buf(), message: e.to_string() })?;
        let mut magic = [0u8; 2];
        let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        if !gzip {
            return Err(CollectError::Archive {
                path: path.to_path_buf(),
                message: "not a .tgz (no gzip header): give the folder of saved outputs, their .tgz, \
                          or a stick a trial install wrote"
                    .into(),
            });
        }
        use std::io::Seek;
        file.rewind()
            .map_err(|e| CollectError::Archive { path: path.to_path_buf(), message: e.to_string() })?;
        ArchiveSource::from_reader(path, file)
    }

    pub fn from_reader(path: &Path, reader: impl Read) -> Result<ArchiveSource, CollectError> {
        let select = |c: &[String]| c.len() <= 2 && c.last().is_some_and(|n| n.ends_with(".txt"));
        let (files, warnings) = crate::vmsupport::read_tgz(path, reader, &select).map_err(|e| match e {
            // The same reader serves vm-support bundles; name what this is.
            CollectError::Bundle { path, message } => CollectError::Archive { path, message },
            e => e,
        })?;
        if files.is_empty() {
            let skipped =
                if warnings.is_empty() { String::new() } else { format!(" ({})", warnings.join("; ")) };
            return Err(CollectError::Archive {
                path: path.to_path_buf(),
                message: format!("no saved outputs (*.txt) in it{skipped}; see docs/collect-commands.md"),
            });
        }
        Ok(ArchiveSource { path: path.to_path_buf(), files, warnings })
    }
}

impl Source for ArchiveSource {
    fn label(&self) -> String {
        format!("archive:{}", self.path.display())
    }

    fn fetch(
        &mut self,
        command: &str,
        file_name: &str,
        _vm_support: &[&str],
    ) -> Result<Output, CollectError> {
        Ok(match self.files.remove(file_name) {
            Some(b) => Output::Bytes(b),
            None => Output::Missing(format!(
                "file {file_name} is not in {}: save it on the host with `{command} > {file_name}`",
                self.path.display()
            )),
        })
    }
}
