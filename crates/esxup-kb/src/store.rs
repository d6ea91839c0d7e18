//! Knowledge-base bundles and the user data directory (issue 13): `esxup kb
//! export` writes a bundle, `esxup kb update` verifies one and makes it the
//! active data, and every command loads the active data in this order:
//! `--kb DIR`, then the user data directory ([`load_user`]), then the data
//! embedded at build time.
//!
//! A **bundle** is a tar compressed with zstd (`.tar.zst`), or a folder with
//! the same content: `manifest.json` ([`Manifest`]: format version, data
//! date, digest, the sha256 of every file) and the data files of the
//! `data/` layout (`releases/*.toml`, `advisories/*.toml`, ...). Reading one
//! is bounded ([`MAX_BUNDLE_BYTES`] packed, [`MAX_UNPACKED_BYTES`] unpacked,
//! [`MAX_FILES`] files); absolute paths, `..`, symlinks, hard links and
//! device entries are refused, as is any file the manifest does not list
//! or a listed file that is missing.
//!
//! The **data date** ([`Kb::data_date`]) is the newest `date` of a release
//! or `published` of an advisory: the newest fact the data records. The
//! **digest** ([`digest`]) is the sha256 over the data files sorted by path,
//! so the same data gives the same digest embedded, from a folder or from
//! a bundle.
//!
//! The **user data directory** is `$ESXUP_DATA_DIR`, else the platform's
//! data directory of esxup (`$XDG_DATA_HOME/esxup` or
//! `~/.local/share/esxup` on Linux, `%APPDATA%\esxup\data` on Windows).
//! The knowledge base lives in its `kb/` folder: `current/` is the active
//! bundle, unpacked; `previous/` the one it replaced; `.staging-*` an
//! update in progress. An update unpacks, verifies and lints in a staging
//! folder next to `current/`, then renames `current/` to `previous/` and
//! the staging folder to `current/`. Until the first rename nothing active
//! changed; between the two renames (a crash) the loader and the next
//! update take `previous/` back as the active data.

use crate::kb::{Kb, KbError};
use crate::lint::{LintProblem, Severity};
use crate::tables::Tables;
use esxup_version::Date;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// Version of the bundle layout ([`Manifest::format`]).
pub const BUNDLE_FORMAT: u32 = 1;
/// The manifest's name inside a bundle.
pub const MANIFEST: &str = "manifest.json";
/// Largest bundle read, packed (a file or a download).
pub const MAX_BUNDLE_BYTES: u64 = 32 << 20;
/// Largest total of the unpacked files of a bundle.
pub const MAX_UNPACKED_BYTES: u64 = 128 << 20;
/// Largest single file of a bundle.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// Most files in a bundle.
pub const MAX_FILES: usize = 10_000;
/// Environment variable naming the user data directory (tests, portable installs).
pub const DATA_DIR_ENV: &str = "ESXUP_DATA_DIR";
/// Test-only fault injection of `kb update`: `before-rename` or
/// `between-renames` aborts the process at that point, as a crash would.
pub const FAULT_ENV: &str = "ESXUP_KB_FAULT";

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Why a bundle could not be read, verified or installed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("read knowledge-base bundle {path}: {message}")]
    Read { path: String, message: String },
    #[error("knowledge-base bundle {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("knowledge-base bundle {path}: {file} has sha256 {actual}, the manifest says {expected}")]
    Checksum { path: String, file: String, expected: String, actual: String },
    #[error("knowledge-base bundle {path}: the strict linter found {} error(s), first: {}", errors.len(), errors[0])]
    Lint { path: String, errors: Vec<LintProblem> },
    #[error("knowledge-base bundle {path}: {source}")]
    Load { path: String, source: KbError },
    #[error("knowledge-base bundle {path} has data of {bundle}, older than the active data of {active}")]
    Older { path: String, bundle: Date, active: Date },
    #[error("write knowledge base {path}: {message}")]
    Write { path: String, message: String },
}

/// The files of a bundle: (path relative to it, `/`-separated; bytes).
pub type BundleFiles = Vec<(String, Vec<u8>)>;

/// `manifest.json` of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`BUNDLE_FORMAT`].
    pub format: u32,
    /// The data's date ([`Kb::data_date`]).
    pub data_date: Date,
    /// [`digest`] of the data files.
    pub digest: String,
    /// Every data file (path relative to the bundle, `/`-separated) and its sha256, hex.
    pub files: BTreeMap<String, String>,
}

/// The sha256, hex, of the data files sorted by path: for each file its
/// path, a NUL, its length in decimal, a NUL, then its bytes.
pub fn digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut v: Vec<(&str, &[u8])> = files.into_iter().collect();
    v.sort();
    let mut h = Sha256::new();
    for (p, b) in v {
        h.update(p.as_bytes());
        h.update([0]);
        h.update(b.len().to_string().as_bytes());
        h.update([0]);
        h.update(b);
    }
    hex::encode(h.finalize())
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

impl Kb {
    /// The date of the data: the newest release `date` or advisory
    /// `published` (`None` for empty data).
    pub fn data_date(&self) -> Option<Date> {
        let r = self.releases().iter().map(|r| r.release_date);
        r.chain(self.advisories().iter().map(|a| a.published)).max()
    }

    /// [`digest`] of the files this knowledge base was loaded from.
    pub fn digest(&self) -> String {
        digest(self.files_iter().map(|(p, t)| (p, t.as_bytes())))
    }

    /// The manifest of a bundle of this data.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            format: BUNDLE_FORMAT,
            data_date: self.data_date().unwrap_or(Date::from_days(0)),
            digest: self.digest(),
            files: self.files_iter().map(|(p, t)| (p.to_string(), sha256(t.as_bytes()))).collect(),
        }
    }

    /// The bundle of this data: a zstd-compressed tar of `manifest.json`
    /// and the data files.
    pub fn export_bundle(&self) -> Result<Vec<u8>, BundleError> {
        let err = |e: std::io::Error| BundleError::Write { path: "bundle".into(), message: e.to_string() };
        let manifest = serde_json::to_vec_pretty(&self.manifest())
            .map_err(|e| BundleError::Write { path: MANIFEST.into(), message: e.to_string() })?;
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |path: &str, data: &[u8]| -> Result<(), BundleError> {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut h, path, data).map_err(err)
        };
        add(MANIFEST, &manifest)?;
        for (p, t) in self.files_iter() {
            add(p, t.as_bytes())?;
        }
        let raw = tar.into_inner().map_err(err)?;
        Ok(ruzstd::encoding::compress_to_vec(raw.as_slice(), ruzstd::encoding::CompressionLevel::Fastest))
    }
}

/// A relative, `/`-separated path of plain components, or why not.
fn safe_rel(p: &Path) -> Result<String, String> {
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => {
                let s = s.to_str().ok_or("a path that is not UTF-8")?;
                if s.contains('\\') || s.contains(':') {
                    return Err(format!("path {:?} has a backslash or colon", p.display().to_string()));
                }
                parts.push(s.to_string());
            }
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!("path {:?} climbs out with ..", p.display().to_string()))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("absolute path {:?}", p.display().to_string()))
            }
        }
    }
    if parts.is_empty() {
        return Err("an empty path".into());
    }
    Ok(parts.join("/"))
}

/// The files of a bundle (path, bytes), read from a `.tar.zst` (or plain
/// tar) in memory; `label` names it in errors.
pub fn read_archive(label: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, BundleError> {
    let invalid = |m: String| BundleError::Invalid { path: label.to_string(), message: m };
    let read = |m: String| BundleError::Read { path: label.to_string(), message: m };
    if bytes.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(invalid(format!("larger than the {MAX_BUNDLE_BYTES} bytes allowed")));
    }
    let tar_bytes = if bytes.starts_with(&ZSTD_MAGIC) {
        let dec = ruzstd::decoding::StreamingDecoder::new(bytes)
            .map_err(|e| read(format!("zstd: {e} (truncated or not a bundle?)")))?;
        let mut out = Vec::new();
        dec.take(MAX_UNPACKED_BYTES + (1 << 20) + 1)
            .read_to_end(&mut out)
            .map_err(|e| read(format!("zstd: {e} (truncated or interrupted download?)")))?;
        if out.len() as u64 > MAX_UNPACKED_BYTES + (1 << 20) {
            return Err(invalid(format!("unpacks to more than the {MAX_UNPACKED_BYTES} bytes allowed")));
        }
        out
    } else {
        bytes.to_vec()
    };
    let mut ar = tar::Archive::new(tar_bytes.as_slice());
    let entries = ar.entries().map_err(|e| read(format!("tar: {e}")))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0u64;
    for e in entries {
        let mut e = e.map_err(|e| read(format!("tar: {e} (truncated archive?)")))?;
        let path = e.path().map_err(|e| read(format!("tar entry name: {e}")))?.into_owned();
        let rel = safe_rel(&path).map_err(|m| invalid(format!("refused entry: {m}")))?;
        match e.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => continue,
            t => {
                return Err(invalid(format!(
                    "refused entry {rel:?}: {t:?} entries (links, devices) are not allowed"
                )))
            }
        }
        let size = e.size();
        if size > MAX_FILE_BYTES {
            return Err(invalid(format!("{rel} is larger than the {MAX_FILE_BYTES} bytes allowed")));
        }
        total += size;
        if total > MAX_UNPACKED_BYTES {
            return Err(invalid(format!("unpacks to more than the {MAX_UNPACKED_BYTES} bytes allowed")));
        }
        if files.len() >= MAX_FILES {
            return Err(invalid(format!("more than {MAX_FILES} files")));
        }
        let mut data = Vec::with_capacity(size as usize);
        e.read_to_end(&mut data).map_err(|e| read(format!("{rel}: {e} (truncated archive?)")))?;
        if data.len() as u64 != size {
            return Err(read(format!("{rel}: {} of {size} bytes (truncated archive?)", data.len())));
        }
        files.push((rel, data));
    }
    Ok(files)
}

/// The files of a bundle folder (path, bytes). Symlinks are refused.
pub fn read_folder(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, BundleError> {
    let label = dir.display().to_string();
    let read = |p: &Path, m: String| BundleError::Read { path: p.display().to_string(), message: m };
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut Vec<(String, Vec<u8>)>,
        total: &mut u64,
        label: &str,
    ) -> Result<(), BundleError> {
        let read = |p: &Path, m: String| BundleError::Read { path: p.display().to_string(), message: m };
        let invalid = |m: String| BundleError::Invalid { path: label.to_string(), message: m };
        let rd = std::fs::read_dir(dir).map_err(|e| read(dir, e.to_string()))?;
        let mut entries: Vec<_> = rd.collect::<Result<_, _>>().map_err(|e| read(dir, e.to_string()))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let rel = safe_rel(p.strip_prefix(root).unwrap_or(&p)).map_err(invalid)?;
            let meta = std::fs::symlink_metadata(&p).map_err(|e| read(&p, e.to_string()))?;
            if meta.is_dir() {
                walk(root, &p, out, total, label)?;
            } else if meta.is_file() {
                if meta.len() > MAX_FILE_BYTES {
                    return Err(invalid(format!("{rel} is larger than the {MAX_FILE_BYTES} bytes allowed")));
                }
                *total += meta.len();
                if *total > MAX_UNPACKED_BYTES || out.len() >= MAX_FILES {
                    return Err(invalid(format!(
                        "more than {MAX_UNPACKED_BYTES} bytes or {MAX_FILES} files"
                    )));
                }
                let data = std::fs::read(&p).map_err(|e| read(&p, e.to_string()))?;
                out.push((rel, data));
            } else {
                return Err(invalid(format!("refused {rel}: symlinks and special files are not allowed")));
            }
        }
        Ok(())
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| read(dir, e.to_string()))?;
    if !meta.is_dir() {
        return Err(read(dir, "not a directory".into()));
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out, &mut 0, &label)?;
    Ok(out)
}

/// Checks a bundle's files against its manifest: every listed file present
/// with its sha256, no other file, the digest and format right. Returns
/// the manifest and the data files (without the manifest), sorted.
pub fn verify(label: &str, files: Vec<(String, Vec<u8>)>) -> Result<(Manifest, BundleFiles), BundleError> {
    let invalid = |m: String| BundleError::Invalid { path: label.to_string(), message: m };
    let mut manifest = None;
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (p, b) in files {
        if p == MANIFEST {
            let m: Manifest = serde_json::from_slice(&b).map_err(|e| invalid(format!("{MANIFEST}: {e}")))?;
            manifest = Some(m);
        } else if data.insert(p.clone(), b).is_some() {
            return Err(invalid(format!("{p} is in the bundle twice")));
        }
    }
    let m = manifest.ok_or_else(|| invalid(format!("no {MANIFEST}")))?;
    if m.format != BUNDLE_FORMAT {
        return Err(invalid(format!(
            "{MANIFEST} has format {}, this esxup reads format {BUNDLE_FORMAT}",
            m.format
        )));
    }
    if let Some(extra) = data.keys().find(|p| !m.files.contains_key(*p)) {
        return Err(invalid(format!("{extra} is not listed in {MANIFEST}")));
    }
    for (p, expected) in &m.files {
        let b = data.get(p).ok_or_else(|| invalid(format!("{p} is listed in {MANIFEST} but missing")))?;
        let actual = sha256(b);
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(BundleError::Checksum {
                path: label.to_string(),
                file: p.clone(),
                expected: expected.clone(),
                actual,
            });
        }
        if !p.ends_with(".toml") {
            return Err(invalid(format!("{p} is not a data file (.toml)")));
        }
    }
    let d = digest(data.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
    if !d.eq_ignore_ascii_case(&m.digest) {
        return Err(invalid(format!("the data's digest is {d}, {MANIFEST} says {}", m.digest)));
    }
    Ok((m, data.into_iter().collect()))
}

/// The user data directory: `$ESXUP_DATA_DIR`, else the platform's (see the module doc).
pub fn user_data_dir() -> Option<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => directories::ProjectDirs::from("", "", "esxup").map(|p| p.data_dir().to_path_buf()),
    }
}

/// The knowledge-base folder of a user data directory (`<dir>/kb`).
pub fn kb_root(data_dir: &Path) -> PathBuf {
    data_dir.join("kb")
}

/// A bundle folder checked and loaded.
#[derive(Debug)]
pub struct Loaded {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub kb: Kb,
    pub tables: Tables,
}

/// Verifies the unpacked bundle in `dir` against its manifest and loads it.
pub fn load_bundle_dir(dir: &Path) -> Result<Loaded, BundleError> {
    let label = dir.display().to_string();
    let (manifest, files) = verify(&label, read_folder(dir)?)?;
    let texts = files
        .into_iter()
        .map(|(p, b)| {
            String::from_utf8(b).map(|t| (p.clone(), Cow::Owned(t))).map_err(|_| BundleError::Invalid {
                path: label.clone(),
                message: format!("{p} is not UTF-8"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let kb =
        Kb::from_files(&label, texts).map_err(|source| BundleError::Load { path: label.clone(), source })?;
    let tables = Tables::load_dir(dir).map_err(|e| BundleError::Invalid {
        path: label.clone(),
        message: format!("cpu.toml / devices.toml: {e}"),
    })?;
    if kb.data_date() != Some(manifest.data_date) {
        return Err(BundleError::Invalid {
            path: label,
            message: format!(
                "{MANIFEST} says data of {}, the data's newest record is of {}",
                manifest.data_date,
                kb.data_date().map(|d| d.to_string()).unwrap_or_else(|| "no date".into())
            ),
        });
    }
    Ok(Loaded { dir: dir.to_path_buf(), manifest, kb, tables })
}

/// What the user data directory holds.
#[derive(Debug)]
pub enum UserData {
    /// No bundle was ever installed (or no data directory is known).
    None,
    /// The active bundle, checked; `recovered` when it is `previous/`
    /// taken back after an update was interrupted between its renames.
    Active { loaded: Box<Loaded>, recovered: bool },
    /// A bundle is there but fails its checks: the embedded data is used.
    Corrupt { dir: PathBuf, error: BundleError },
}

/// Loads the active bundle of a user data directory (see the module doc).
pub fn load_user(data_dir: &Path) -> UserData {
    let root = kb_root(data_dir);
    let (current, previous) = (root.join("current"), root.join("previous"));
    let (dir, recovered) = if current.exists() {
        (current, false)
    } else if previous.join(MANIFEST).is_file() {
        (previous, true)
    } else {
        return UserData::None;
    };
    match load_bundle_dir(&dir) {
        Ok(l) => UserData::Active { loaded: Box::new(l), recovered },
        Err(error) => UserData::Corrupt { dir, error },
    }
}

/// What an update did.
#[derive(Debug)]
pub struct Installed {
    /// The new active folder (`kb/current`).
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Where the data it replaced was kept (`kb/previous`), if there was one.
    pub previous: Option<PathBuf>,
    /// Lint warnings of the new data (errors refuse the update).
    pub warnings: Vec<LintProblem>,
}

fn fault(point: &str) {
    if std::env::var(FAULT_ENV).is_ok_and(|v| v == point) {
        // Test-only: what a crash or a kill at this point leaves behind.
        std::process::abort();
    }
}

/// Installs a bundle's files (from [`read_archive`] or [`read_folder`])
/// as the active data of `data_dir`: verifies every sha256, writes them
/// to a staging folder next to `kb/current`, runs the full strict linter
/// on that copy and loads it, refuses data older than `active_date`
/// unless `allow_older`, and only then swaps the folders by rename. On
/// any error the active data is untouched and the staging folder removed.
pub fn install(
    label: &str,
    files: Vec<(String, Vec<u8>)>,
    data_dir: &Path,
    active_date: Option<Date>,
    allow_older: bool,
) -> Result<Installed, BundleError> {
    let (manifest, data) = verify(label, files)?;
    let root = kb_root(data_dir);
    let werr = |p: &Path, e: std::io::Error| BundleError::Write {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&root).map_err(|e| werr(&root, e))?;
    // One update at a time: a second one would remove the first's staging
    // folder below as a leftover. The lock goes with the process (a killed
    // update leaves no stale lock).
    let lock_path = root.join(".update.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| werr(&lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(BundleError::Write {
                path: root.display().to_string(),
                message: "another `esxup kb update` is running on this data directory".into(),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(werr(&lock_path, e)),
    }
    let (current, previous) = (root.join("current"), root.join("previous"));
    // An update interrupted between its two renames: take previous/ back first.
    if !current.exists() && previous.join(MANIFEST).is_file() {
        std::fs::rename(&previous, &current).map_err(|e| werr(&current, e))?;
    }
    // Leftovers of an update that was killed: never active, safe to remove.
    if let Ok(rd) = std::fs::read_dir(&root) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(".staging-") || n.starts_with(".old-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let staging =
        tempfile::Builder::new().prefix(".staging-").tempdir_in(&root).map_err(|e| werr(&root, e))?;
    let write = |rel: &str, bytes: &[u8]| -> Result<(), BundleError> {
        let p = staging.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| werr(parent, e))?;
        }
        let mut f = std::fs::File::create(&p).map_err(|e| werr(&p, e))?;
        f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| werr(&p, e))
    };
    for (p, b) in &data {
        write(p, b)?;
    }
    let mf = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BundleError::Write { path: MANIFEST.into(), message: e.to_string() })?;
    write(MANIFEST, &mf)?;
    // The full strict linter, on the copy that will become active.
    let problems = crate::lint::lint(staging.path());
    let (errors, warnings): (Vec<_>, Vec<_>) =
        problems.into_iter().partition(|p| p.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(BundleError::Lint { path: label.to_string(), errors });
    }
    let loaded = load_bundle_dir(staging.path()).map_err(|e| match e {
        BundleError::Load { source, .. } => BundleError::Load { path: label.to_string(), source },
        other => other,
    })?;
    if let Some(active) = active_date.filter(|a| !allow_older && loaded.manifest.data_date < *a) {
        return Err(BundleError::Older {
            path: label.to_string(),
            bundle: loaded.manifest.data_date,
            active,
        });
    }
    fault("before-rename");
    let kept = if current.exists() {
        if previous.exists() {
            let old = root.join(format!(".old-{}", std::process::id()));
            std::fs::rename(&previous, &old).map_err(|e| werr(&previous, e))?;
            std::fs::remove_dir_all(&old).map_err(|e| werr(&old, e))?;
        }
        std::fs::rename(&current, &previous).map_err(|e| werr(&current, e))?;
        Some(previous.clone())
    } else {
        None
    };
    fault("between-renames");
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, &current) {
        // Put the old data back before reporting.
        if kept.is_some() {
            let _ = std::fs::rename(&previous, &current);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(werr(&current, e));
    }
    if let Ok(d) = std::fs::File::open(&root) {
        let _ = d.sync_all();
    }
    Ok(Installed { dir: current, manifest, previous: kept, warnings })
}
