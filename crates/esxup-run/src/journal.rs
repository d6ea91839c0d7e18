//! The run journal: one folder per host, so that an interrupted run (even
//! by `kill -9` or a power cut on the workstation) resumes without
//! repeating a change.
//!
//! ```text
//! esxup-journal/esx01/
//!   run.json        who and what: host, UUID, build at start, target, the
//!                   run's decisions and the host's state before the run
//!   journal.jsonl   append-only records, one JSON object per line
//!   lock            held (flock) while a run works on this folder
//!   config-backup/  configBundle-<host>-<build>.tgz, before and after
//!   image-update/   the full esxcli outputs
//! ```
//!
//! Rules, and why:
//! - A record is written and `fsync`ed **before** the change it announces
//!   (`intent`), and another after the change was read back (`done`), so
//!   that after a crash the journal says which change may have happened.
//! - The file is never rewritten: a corrupt or truncated line is an error
//!   naming the line, not something to repair silently (the admin decides).
//! - `run.json` is written once, atomically (temporary file, fsync, rename,
//!   fsync of the folder); a journal from another host, UUID or target is
//!   refused by the runner.

use crate::state::HostState;
use esxup_plan::runnable::RunStep;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Version of the journal layout (records and `run.json`). Bump on any
/// incompatible change; the reader refuses other versions.
pub const JOURNAL_SCHEMA_VERSION: u32 = 1;

const RECORDS: &str = "journal.jsonl";
/// The run's description in the journal folder.
pub const META_FILE: &str = "run.json";
const META: &str = META_FILE;
const LOCK: &str = "lock";

/// Errors of the journal; each names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("journal {path}, line {line}: {message}")]
    Corrupt { path: PathBuf, line: usize, message: String },
    #[error("journal {path}: {message}")]
    Meta { path: PathBuf, message: String },
    #[error("journal {dir}: another esxup run is working on this host (lock {lock} is held{holder})")]
    Locked { dir: PathBuf, lock: PathBuf, holder: String },
    #[error("journal {dir}: no journal here (no {META})")]
    Missing { dir: PathBuf },
}

/// Where a record stands in a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The change is about to be made (written before it).
    Intent,
    /// The change was made and read back.
    Done,
    /// The change failed; the error says why.
    Failed,
    /// The host already was in the state the step leads to: nothing changed.
    SkippedAlreadySatisfied,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Intent => "intent",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::SkippedAlreadySatisfied => "skipped-already-satisfied",
        }
    }
}

/// One line of `journal.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub schema_version: u32,
    /// 1, 2, 3, ... (the line number).
    pub seq: u64,
    /// UTC, RFC 3339.
    pub time: String,
    pub step: RunStep,
    pub phase: Phase,
    /// The VM (by name) or advisory a per-item record is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The call or command (`EnterMaintenanceMode_Task`,
    /// `esxcli system maintenanceMode set --enable true`), secrets masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `api` or `ssh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The host's state read before the change (the part the step is about).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// The host's state read back after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// What the step produced (backup file and sha256, esxcli output file...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Record {
    /// A record of `step` in `phase`; `seq`, `time` and `schema_version` are
    /// set by [`Journal::append`].
    pub fn new(step: RunStep, phase: Phase) -> Record {
        Record {
            schema_version: JOURNAL_SCHEMA_VERSION,
            seq: 0,
            time: String::new(),
            step,
            phase,
            item: None,
            action: None,
            transport: None,
            before: None,
            after: None,
            detail: None,
            note: None,
            error: None,
        }
    }

    pub fn item(mut self, item: impl Into<String>) -> Record {
        self.item = Some(item.into());
        self
    }

    pub fn action(mut self, a: impl Into<String>) -> Record {
        self.action = Some(a.into());
        self
    }

    pub fn transport(mut self, t: crate::state::TransportKind) -> Record {
        self.transport = Some(t.name().to_string());
        self
    }

    pub fn before(mut self, v: impl Serialize) -> Record {
        self.before = serde_json::to_value(v).ok();
        self
    }

    pub fn after(mut self, v: impl Serialize) -> Record {
        self.after = serde_json::to_value(v).ok();
        self
    }

    pub fn detail(mut self, v: impl Serialize) -> Record {
        self.detail = serde_json::to_value(v).ok();
        self
    }

    pub fn note(mut self, n: impl Into<String>) -> Record {
        self.note = Some(n.into());
        self
    }

    pub fn error(mut self, e: impl Into<String>) -> Record {
        self.error = Some(e.into());
        self
    }
}

/// The release a run goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRef {
    pub build: u32,
    pub version: String,
    pub name: String,
    pub release_date: String,
    /// The image profile `image-update` applies / `verify` expects.
    pub profile: Option<String>,
}

/// `run.json`: the run's identity and the decisions taken before its first
/// change. Written once; the runner refuses a journal whose host, UUID or
/// target differ from the host it is talking to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    pub schema_version: u32,
    /// The host as the admin named it (`--host`/`--ssh`).
    pub host: String,
    pub uuid: String,
    /// The build the host ran when the run started.
    pub build: u32,
    pub version: String,
    pub target: TargetRef,
    /// UTC, RFC 3339.
    pub created: String,
    /// esxup's version that wrote it.
    pub esxup: String,
    /// The run's decisions (method, depot, workarounds, what each step does).
    pub plan: crate::plan::RunPlan,
    /// The host's state before the run: what `verify` compares with.
    pub before_run: HostState,
}

/// An open journal, locked for this process.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    file: File,
    // Held for the lifetime of the journal: the flock is released when the
    // process ends, however it ends (kill -9 included).
    _lock: File,
    meta: RunMeta,
    records: Vec<Record>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// folder, fsync, rename, fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    write_file_atomic(path, bytes).map_err(io(path))
}

/// [`write_atomic`] for any file (reports, runbooks): an interrupted run
/// leaves the old file or the new one, never half of one.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    File::open(dir).and_then(|d| d.sync_all())
}

fn lock(dir: &Path) -> Result<File, JournalError> {
    let path = dir.join(LOCK);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .map(|pid| format!(" by process {pid}"))
                .unwrap_or_default();
            return Err(JournalError::Locked { dir: dir.to_path_buf(), lock: path, holder });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(JournalError::Io { path, source: e }),
    }
    // Who holds it, for the message a second run prints.
    f.set_len(0).map_err(io(&path))?;
    writeln!(f, "{}", std::process::id()).map_err(io(&path))?;
    Ok(f)
}

impl Journal {
    /// Whether `dir` holds a journal.
    pub fn exists(dir: &Path) -> bool {
        dir.join(META).is_file()
    }

    /// Creates a new journal in `dir` (made if missing) for `meta`. Refuses
    /// a folder that already holds one.
    pub fn create(dir: &Path, meta: RunMeta) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = lock(dir)?;
        let meta_path = dir.join(META);
        if meta_path.exists() {
            return Err(JournalError::Meta {
                path: meta_path,
                message: "a journal already exists here: resume it with --resume".into(),
            });
        }
        let records_path = dir.join(RECORDS);
        let file =
            OpenOptions::new().create(true).append(true).open(&records_path).map_err(io(&records_path))?;
        file.sync_all().map_err(io(&records_path))?;
        let mut text = serde_json::to_string_pretty(&meta).map_err(|e| JournalError::Meta {
            path: meta_path.clone(),
            message: format!("serialise: {e}"),
        })?;
        text.push('\n');
        write_atomic(&meta_path, text.as_bytes())?;
        Ok(Journal { dir: dir.to_path_buf(), file, _lock: lock, meta, records: Vec::new() })
    }

    /// Opens an existing journal for a run: takes the lock, reads and checks
    /// every record.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        if !Journal::exists(dir) {
            return Err(JournalError::Missing { dir: dir.to_path_buf() });
        }
        let lock = lock(dir)?;
        let (meta, records) = Journal::read(dir)?;
        let path = dir.join(RECORDS);
        let file = OpenOptions::new().append(true).open(&path).map_err(io(&path))?;
        Ok(Journal { dir: dir.to_path_buf(), file, _lock: lock, meta, records })
    }

    /// Reads a journal without locking it (`esxup journal show`, `verify`).
    pub fn read(dir: &Path) -> Result<(RunMeta, Vec<Record>), JournalError> {
        let meta_path = dir.join(META);
        let text = match std::fs::read_to_string(&meta_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Missing { dir: dir.to_path_buf() })
            }
            Err(e) => return Err(JournalError::Io { path: meta_path, source: e }),
        };
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| JournalError::Meta { path: meta_path.clone(), message: format!("not JSON: {e}") })?;
        match v.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == u64::from(JOURNAL_SCHEMA_VERSION) => {}
            Some(n) => {
                return Err(JournalError::Meta {
                    path: meta_path,
                    message: format!(
                        "schema_version {n} is not the one this esxup writes ({JOURNAL_SCHEMA_VERSION})"
                    ),
                })
            }
            None => return Err(JournalError::Meta { path: meta_path, message: "no schema_version".into() }),
        }
        let meta: RunMeta = serde_json::from_value(v)
            .map_err(|e| JournalError::Meta { path: meta_path.clone(), message: e.to_string() })?;
        let records = read_records(&dir.join(RECORDS))?;
        Ok((meta, records))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn meta(&self) -> &RunMeta {
        &self.meta
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Appends a record and makes it durable (fsync) before returning: the
    /// caller makes the change it announces only after this.
    pub fn append(&mut self, mut r: Record) -> Result<&Record, JournalError> {
        let path = self.dir.join(RECORDS);
        r.schema_version = JOURNAL_SCHEMA_VERSION;
        r.seq = self.records.len() as u64 + 1;
        r.time = crate::time::utc_now();
        let mut line = serde_json::to_string(&r).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            line: r.seq as usize,
            message: format!("serialise: {e}"),
        })?;
        line.push('\n');
        // One write of the whole line: a crash leaves it whole or (on a power
        // cut) truncated, which the reader reports, never half-merged.
        self.file.write_all(line.as_bytes()).map_err(io(&path))?;
        self.file.sync_data().map_err(io(&path))?;
        self.records.push(r);
        Ok(self.records.last().expect("just pushed"))
    }

    /// The last record of `step` (and `item`, when given).
    pub fn last(&self, step: RunStep, item: Option<&str>) -> Option<&Record> {
        self.records.iter().rev().find(|r| r.step == step && (item.is_none() || r.item.as_deref() == item))
    }

    /// The last step-level record (no item) of `step`.
    pub fn last_of_step(&self, step: RunStep) -> Option<&Record> {
        self.records.iter().rev().find(|r| r.step == step && r.item.is_none())
    }

    /// A file inside the journal folder (`config-backup/...`), its folder made.
    pub fn file_path(&self, sub: &str, name: &str) -> Result<PathBuf, JournalError> {
        let d = self.dir.join(sub);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
        Ok(d.join(name))
    }
}

/// Reads and checks `journal.jsonl`: every line whole (ends with a line
/// feed), JSON of this schema, numbered 1, 2, 3, ...
fn read_records(path: &Path) -> Result<Vec<Record>, JournalError> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(JournalError::Io { path: path.to_path_buf(), source: e }),
    };
    let mut out = Vec::new();
    let mut reader = BufReader::new(f);
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        line += 1;
        let bad = |message: String| JournalError::Corrupt { path: path.to_path_buf(), line, message };
        if buf.last() != Some(&b'\n') {
            return Err(bad(
                "the line is truncated (no line end): the journal was cut while being written; \
                 check the host by hand before resuming"
                    .into(),
            ));
        }
        let text = std::str::from_utf8(&buf).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        match v.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == u64::from(JOURNAL_SCHEMA_VERSION) => {}
            other => {
                return Err(bad(format!(
                    "schema_version {} is not {JOURNAL_SCHEMA_VERSION}",
                    other.map(|n| n.to_string()).unwrap_or_else(|| "missing".into())
                )))
            }
        }
        let r: Record = serde_json::from_value(v).map_err(|e| bad(format!("not a journal record: {e}")))?;
        if r.seq != line as u64 {
            return Err(bad(format!("sequence number {} where {line} was expected", r.seq)));
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn meta() -> RunMeta {
        RunMeta {
            schema_version: JOURNAL_SCHEMA_VERSION,
            host: "esx01".into(),
            uuid: "4c4c4544-0042".into(),
            build: 17700523,
            version: "6.7.0".into(),
            target: TargetRef {
                build: 20328353,
                version: "7.0.3".into(),
                name: "ESXi 7.0 Update 3g".into(),
                release_date: "2022-09-01".into(),
                profile: Some("ESXi-7.0U3g-20328353-standard".into()),
            },
            created: "2026-12-03T08:00:00Z".into(),
            esxup: "0.1.0".into(),
            plan: crate::plan::RunPlan::empty_for_tests(),
            before_run: HostState::default(),
        }
    }

    #[test]
    fn appends_reads_back_and_refuses_a_second_lock() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("esx01");
        let mut j = Journal::create(&dir, meta()).unwrap();
        j.append(Record::new(RunStep::MaintenanceOn, Phase::Intent).action("EnterMaintenanceMode_Task"))
            .unwrap();
        j.append(Record::new(RunStep::MaintenanceOn, Phase::Done)).unwrap();
        assert!(matches!(Journal::open(&dir), Err(JournalError::Locked { .. })));
        assert!(matches!(Journal::create(&dir, meta()), Err(JournalError::Locked { .. })));
        drop(j);
        let j = Journal::open(&dir).unwrap();
        assert_eq!(j.records().len(), 2);
        assert_eq!(j.records()[1].seq, 2);
        assert_eq!(j.last(RunStep::MaintenanceOn, None).unwrap().phase, Phase::Done);
        assert_eq!(j.meta().target.build, 20328353);
        drop(j);
        assert!(matches!(Journal::create(&dir, meta()), Err(JournalError::Meta { .. })));
    }

    #[test]
    fn truncated_and_corrupt_lines_name_the_line_and_are_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("esx01");
        let mut j = Journal::create(&dir, meta()).unwrap();
        j.append(Record::new(RunStep::ConfigBackup, Phase::Intent)).unwrap();
        drop(j);
        let path = dir.join(RECORDS);
        let good = std::fs::read(&path).unwrap();
        let mut cut = good.clone();
        cut.extend_from_slice(b"{\"schema_version\":1,\"seq\":2,\"ti");
        std::fs::write(&path, &cut).unwrap();
        let e = Journal::open(&dir).unwrap_err().to_string();
        assert!(e.contains("line 2: the line is truncated"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), cut, "never rewritten");
        let mut junk = good.clone();
        junk.extend_from_slice(b"not json\n");
        std::fs::write(&path, &junk).unwrap();
        assert!(Journal::open(&dir).unwrap_err().to_string().contains("line 2: not JSON"));
        let mut gap = good;
        gap.extend_from_slice(
            b"{\"schema_version\":1,\"seq\":5,\"time\":\"x\",\"step\":\"reboot\",\"phase\":\"done\"}\n",
        );
        std::fs::write(&path, &gap).unwrap();
        let e = Journal::open(&dir).unwrap_err().to_string();
        assert!(e.contains("line 2: sequence number 5 where 2 was expected"), "{e}");
        std::fs::write(
            &path,
            b"{\"schema_version\":1,\"seq\":1,\"time\":\"x\",\"step\":\"nap\",\"phase\":\"done\"}\n",
        )
        .unwrap();
        assert!(Journal::open(&dir).unwrap_err().to_string().contains("line 1: not a journal record"));
    }
}
