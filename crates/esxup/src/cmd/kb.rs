//! `esxup kb status|lint|update|export` (issue 13) and the one loader of
//! the data every other command uses when no `--kb DIR` is given: the user
//! data directory when it holds a bundle that passes its checks, else the
//! data built into esxup ([`default_data`]). A corrupt bundle is said on
//! stderr, once, and the built-in data used instead.
//!
//! The data-age warning ([`warn_age`]) is printed once per run, on stderr,
//! by every command that reads the knowledge base when the active data is
//! the built-in or the user data and its date is more than
//! [`esxup_kb::status::STALE_AFTER_DAYS`] days before today
//! (`ESXUP_TODAY`). Data the user named with `--kb DIR` gets no warning:
//! `esxup kb update` would not change it (`esxup kb status --kb DIR` shows
//! its age). `-q` silences the warning.

use crate::cli::Global;
use crate::cmd::build::{Format, KbLintArgs};
use crate::cmd::{hinted, out, EXIT_OK};
use anyhow::Context;
use esxup_kb::status::{stale_age, Coverage, KbStatus};
use esxup_kb::store::{self, BundleError, UserData};
use esxup_kb::tables::Tables;
use esxup_kb::{DataSource, Kb};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The knowledge-base data: where it is, what it is, how to update it.
#[derive(Debug, clap::Subcommand)]
pub enum KbCommand {
    /// Which data is active (built-in, user data directory, --kb DIR), its
    /// date, digest and newest build per branch.
    Status(StatusArgs),
    /// Lint knowledge-base data files (strict); same as `esxup kb-lint`.
    Lint(KbLintArgs),
    /// Install newer data (a bundle of `esxup kb export`) into the user data directory.
    Update(UpdateArgs),
    /// Write the active data (or --kb DIR) as a bundle for `esxup kb update`.
    Export(ExportArgs),
}

/// Show the active knowledge base. Exit codes: 0 shown, 2 unreadable data.
#[derive(Debug, clap::Args)]
#[command(after_help = "The data's date is the newest release date or advisory publication in it; \
the digest is the sha256 over its files sorted by path (data/README.md). Data older than 120 days \
gets a warning on every command that uses it (-q silences it).")]
pub struct StatusArgs {
    /// Also count, per branch, how many builds have each field (name, date,
    /// bulletin, -SG bulletin, image profiles, unsourced reasons).
    #[arg(long)]
    pub coverage: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Verify a bundle and make it the active data. Exit codes: 0 installed,
/// 2 refused (bad checksum, lint errors, older data, unreadable): the
/// active data is then unchanged.
#[derive(Debug, clap::Args)]
#[command(after_help = "The bundle (FILE.tar.zst, a folder, or an https:// URL) must carry \
manifest.json with the sha256 of every file; every checksum is verified, extra or missing files are \
refused, and the full strict linter runs on the unpacked copy before it replaces the active data \
(the replaced data is kept as previous/). The user data directory is ESXUP_DATA_DIR, else the \
platform's data directory (~/.local/share/esxup on Linux, %APPDATA%\\esxup\\data on Windows). \
Exit codes: 0 installed, 2 refused (the active data is unchanged).")]
pub struct UpdateArgs {
    /// The bundle: a `.tar.zst` written by `esxup kb export`, its unpacked folder, or an https:// URL.
    #[arg(long, value_name = "FILE|DIR|URL")]
    pub from: String,
    /// Install the bundle even when its data is older than the active data.
    #[arg(long)]
    pub allow_older: bool,
    /// Also trust the CA certificates in this PEM file for an https:// URL.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Timeout of the download, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

/// Write a knowledge-base bundle. Exit codes: 0 written, 2 unreadable data or unwritable file.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The bundle to write (`.tar.zst`).
    #[arg(short, long, value_name = "FILE.tar.zst")]
    pub output: PathBuf,
}

/// The data used when no `--kb DIR` is given.
pub struct Active {
    pub kb: &'static Kb,
    pub tables: &'static Tables,
    pub source: DataSource,
    /// The user data folder in use (`kb/current`), `None` when built in.
    pub path: Option<PathBuf>,
    /// What the loader said on stderr about the user data directory.
    pub notes: Vec<String>,
}

/// The user data directory's bundle when it passes its checks, else the
/// built-in data; loaded once per run.
pub fn default_data() -> anyhow::Result<&'static Active> {
    static ACTIVE: OnceLock<Result<Active, String>> = OnceLock::new();
    ACTIVE.get_or_init(load_default).as_ref().map_err(|e| {
        hinted(
            format!("load the built-in knowledge base: {e}"),
            "this esxup was built with invalid data; run `esxup kb-lint` or use --kb DIR",
        )
    })
}

fn load_default() -> Result<Active, String> {
    let mut notes = Vec::new();
    if let Some(dir) = store::user_data_dir() {
        match store::load_user(&dir) {
            UserData::None => {}
            UserData::Active { loaded, recovered } => {
                if recovered {
                    let n = format!(
                        "an update of the knowledge base in {} was interrupted; using the data it kept ({})",
                        store::kb_root(&dir).display(),
                        loaded.dir.display()
                    );
                    eprintln!("warning: {n}");
                    notes.push(n);
                }
                let loaded = Box::leak(loaded);
                return Ok(Active {
                    kb: &loaded.kb,
                    tables: &loaded.tables,
                    source: DataSource::UserData,
                    path: Some(loaded.dir.clone()),
                    notes,
                });
            }
            UserData::Corrupt { dir, error } => {
                let n = format!(
                    "ignoring the knowledge base in {}: {error}; using the built-in data",
                    dir.display()
                );
                eprintln!("warning: {n}");
                eprintln!("hint: install good data with `esxup kb update --from FILE.tar.zst|DIR|URL`");
                notes.push(n);
            }
        }
    }
    let kb = Kb::embedded().map_err(|e| e.to_string())?;
    let tables = Tables::embedded().map_err(|e| format!("CPU/device tables: {e}"))?;
    Ok(Active { kb, tables, source: DataSource::Embedded, path: None, notes })
}

/// The data-age warning, at most once per run (see the module doc).
pub fn warn_age(g: &Global, kb: &Kb, source: DataSource) {
    static SHOWN: AtomicBool = AtomicBool::new(false);
    if g.quiet || source == DataSource::KbDir {
        return;
    }
    let Ok(today) = super::input::today() else { return };
    let Some(age) = stale_age(kb.data_date(), today) else { return };
    if SHOWN.swap(true, Ordering::SeqCst) {
        return;
    }
    let date = kb.data_date().map(|d| d.to_string()).unwrap_or_default();
    eprintln!(
        "warning: the knowledge base is {age} days old (data of {date}): builds and advisories published since are unknown to esxup"
    );
    eprintln!("hint: esxup kb update --from FILE.tar.zst|DIR|https://... (-q hides this warning)");
}

pub fn run_kb(g: &Global, c: KbCommand) -> anyhow::Result<u8> {
    match c {
        KbCommand::Status(a) => run_status(g, a),
        KbCommand::Lint(a) => super::build::run_kb_lint(g, a),
        KbCommand::Update(a) => run_update(g, a),
        KbCommand::Export(a) => run_export(g, a),
    }
}

/// `--kb DIR` loaded, or the default data.
fn chosen(g: &Global) -> anyhow::Result<(&'static Kb, DataSource, Option<String>, Vec<String>)> {
    match &g.kb {
        Some(dir) => {
            let kb = Kb::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load knowledge base {}: {e}", dir.display()),
                    "check the folder with `esxup kb lint DIR`, or drop --kb",
                )
            })?;
            Ok((Box::leak(Box::new(kb)), DataSource::KbDir, Some(dir.display().to_string()), Vec::new()))
        }
        None => {
            let a = default_data()?;
            Ok((a.kb, a.source, a.path.as_ref().map(|p| p.display().to_string()), a.notes.clone()))
        }
    }
}

fn run_status(g: &Global, a: StatusArgs) -> anyhow::Result<u8> {
    let (kb, source, path, notes) = chosen(g)?;
    let mut status = KbStatus::new(kb, source, path, super::input::today()?, a.coverage);
    status.notes = notes;
    out::emit(a.format, &status, render_status)?;
    Ok(EXIT_OK)
}

fn render_status(s: &KbStatus) -> String {
    let mut o = String::new();
    let source = match s.source {
        DataSource::Embedded => "built into esxup".to_string(),
        DataSource::UserData => format!("user data directory ({})", s.path.as_deref().unwrap_or("")),
        DataSource::KbDir => format!("--kb {}", s.path.as_deref().unwrap_or("")),
    };
    o.push_str(&format!("Active data:  {source}\n"));
    let date = s.data_date.map(|d| d.to_string()).unwrap_or_else(|| "none (no dated record)".into());
    let age = match (s.age_days, s.stale) {
        (Some(d), true) => format!(" ({d} days before {}: older than 120 days, update it)", s.today),
        (Some(d), false) => format!(" ({d} days before {})", s.today),
        (None, _) => String::new(),
    };
    o.push_str(&format!("Data date:    {date}{age}\n"));
    o.push_str(&format!("Digest:       sha256:{}\n", s.digest));
    o.push_str(&format!(
        "Contents:     {} files, {} releases, {} advisories\n",
        s.files, s.releases, s.advisories
    ));
    for n in &s.notes {
        o.push_str(&format!("Note:         {n}\n"));
    }
    o.push_str("\nNewest build per branch:\n");
    for b in &s.branches {
        match &b.newest {
            Some(r) => o.push_str(&format!(
                "  {:<5} {:>9}  {} ({}), {} builds\n",
                b.branch.to_string(),
                r.build,
                r.name,
                r.release_date,
                b.builds
            )),
            None => o.push_str(&format!("  {}  none\n", b.branch)),
        }
    }
    if let Some(cov) = &s.coverage {
        o.push_str("\nCoverage (builds with each field; unsourced = a sourced reason why it is absent):\n");
        o.push_str(&format!(
            "  {:<6} {:>6} {:>5} {:>5} {:>8} {:>4} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10}\n",
            "branch",
            "builds",
            "name",
            "date",
            "bulletin",
            "-SG",
            "standard",
            "no-tools",
            "sec-only",
            "sec-prof",
            "unsrc-bul",
            "unsrc-prof"
        ));
        for c in cov {
            let Coverage {
                branch,
                builds,
                name,
                date,
                bulletin,
                sg_bulletin,
                profile_standard,
                profile_no_tools,
                security_only,
                security_only_profiles,
                unsourced_bulletin,
                unsourced_profiles,
            } = c;
            o.push_str(&format!(
                "  {branch:<6} {builds:>6} {name:>5} {date:>5} {bulletin:>8} {sg_bulletin:>4} {profile_standard:>8} \
                 {profile_no_tools:>8} {security_only:>8} {security_only_profiles:>8} {unsourced_bulletin:>10} \
                 {unsourced_profiles:>10}\n"
            ));
        }
    }
    o
}

fn bundle_hint(e: &BundleError) -> &'static str {
    match e {
        BundleError::Checksum { .. } | BundleError::Read { .. } => {
            "the bundle is damaged or incomplete: fetch it again (the active data is unchanged)"
        }
        BundleError::Lint { .. } | BundleError::Load { .. } => {
            "the bundle's data does not pass `esxup kb lint`; the active data is unchanged"
        }
        BundleError::Older { .. } => "pass --allow-older to install older data anyway",
        BundleError::Invalid { .. } => {
            "give a bundle written by `esxup kb export` (the active data is unchanged)"
        }
        BundleError::Write { .. } => "check the permissions of the user data directory (ESXUP_DATA_DIR)",
    }
}

fn refused(from: &str, e: BundleError) -> anyhow::Error {
    if let BundleError::Lint { errors, .. } = &e {
        // The first one is in the message; all of them here.
        for p in errors.iter().filter(|_| errors.len() > 1) {
            eprintln!("{p}");
        }
    }
    let hint = bundle_hint(&e);
    super::HintedWithCause {
        hinted: super::Hinted {
            message: format!("update the knowledge base from {from}"),
            hint: hint.into(),
        },
        cause: Box::new(e),
    }
    .into()
}

/// The bundle's files from `--from`.
fn read_from(a: &UpdateArgs) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let from = a.from.as_str();
    if from.starts_with("http://") {
        return Err(hinted(
            format!("update the knowledge base from {from}: plain http is not accepted"),
            "use an https:// URL, or download the bundle and give the file",
        ));
    }
    if from.starts_with("https://") {
        let bytes = esxup_depot::fetch_https(
            from,
            store::MAX_BUNDLE_BYTES,
            Duration::from_secs(a.timeout),
            a.ca_file.as_deref(),
        )
        .map_err(|e| super::HintedWithCause {
            hinted: super::Hinted {
                message: format!("update the knowledge base from {from}"),
                hint: "check the URL and the network (the active data is unchanged)".into(),
            },
            cause: Box::new(e),
        })?;
        return store::read_archive(from, &bytes).map_err(|e| refused(from, e));
    }
    let p = Path::new(from);
    if p.is_dir() {
        return store::read_folder(p).map_err(|e| refused(from, e));
    }
    let bytes = read_bounded(p).map_err(|e| refused(from, e))?;
    store::read_archive(from, &bytes).map_err(|e| refused(from, e))
}

fn read_bounded(p: &Path) -> Result<Vec<u8>, BundleError> {
    use std::io::Read;
    let err = |m: String| BundleError::Read { path: p.display().to_string(), message: m };
    let f = std::fs::File::open(p).map_err(|e| err(e.to_string()))?;
    let mut v = Vec::new();
    f.take(store::MAX_BUNDLE_BYTES + 1).read_to_end(&mut v).map_err(|e| err(e.to_string()))?;
    if v.len() as u64 > store::MAX_BUNDLE_BYTES {
        return Err(err(format!("larger than the {} bytes allowed", store::MAX_BUNDLE_BYTES)));
    }
    Ok(v)
}

fn run_update(_g: &Global, a: UpdateArgs) -> anyhow::Result<u8> {
    let data_dir = store::user_data_dir().ok_or_else(|| {
        hinted("update the knowledge base: no user data directory is known", "set ESXUP_DATA_DIR=DIR")
    })?;
    let files = read_from(&a)?;
    let active = default_data()?;
    let done = store::install(&a.from, files, &data_dir, active.kb.data_date(), a.allow_older)
        .map_err(|e| refused(&a.from, e))?;
    for w in &done.warnings {
        eprintln!("{w}");
    }
    let prev = match &done.previous {
        Some(p) => format!("; the data it replaced is kept in {}", p.display()),
        None => String::new(),
    };
    out::write_stdout_line(&format!(
        "updated the knowledge base in {}: data of {}, sha256:{} ({} files){prev}",
        done.dir.display(),
        done.manifest.data_date,
        done.manifest.digest,
        done.manifest.files.len()
    ))?;
    Ok(EXIT_OK)
}

fn run_export(g: &Global, a: ExportArgs) -> anyhow::Result<u8> {
    let (kb, _, _, _) = chosen(g)?;
    let bytes = kb.export_bundle().context("write the knowledge-base bundle")?;
    let out = &a.output;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Written beside the target, then renamed: a reader never sees half a bundle.
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        std::io::Write::write_all(&mut f, &bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, out)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::new(e).context(format!("write {}", out.display())));
    }
    let m = kb.manifest();
    eprintln!(
        "wrote {}: {} files, data of {}, sha256:{}",
        out.display(),
        m.files.len(),
        m.data_date,
        m.digest
    );
    Ok(EXIT_OK)
}
