//! `esxup collect` (all sources) and `esxup facts`.
//!
//! OWNER: the facts/SSH helper (issue 3, items 1, 4, 5, 7). The vSphere API and
//! fleet sources live in `collect_vim.rs` (vSphere helper) and are flattened in here.
//!
//! Sources: `--ssh USER@HOST[:PORT]` (runs the read-only command list of
//! docs/collect-commands.md), `--from-dir DIR` (the same outputs saved by an
//! admin), `--vm-support FILE.tgz` (a vm-support bundle), `--rvtools
//! FILE.xlsx --out-dir DIR` (an RVTools export: one file per host), or the
//! vSphere API (`--host`, `--inventory`). `-o FILE` writes the facts as pretty JSON;
//! without it a summary (or JSON with `--format json`) goes to stdout.
//!
//! Exit codes: 0 collected (missing outputs are only notes), 2 an error, or an
//! output that could not be read (the facts are still written, that fact unknown).
//! `--rvtools` follows the fleet codes: 0 every host written, 1 some host rows
//! failed while others were written, 2 not an export or nothing written.

use super::collect_vim::{self, VimOutcome};
use super::{hinted, EXIT_ERROR, EXIT_OK};
use crate::cli::Global;
use esxup_collect::files::{ArchiveSource, DirSource};
use esxup_collect::ssh::{self, HostKeyPolicy, SshOptions, SshSource, Target};
use esxup_collect::vmsupport::BundleSource;
use esxup_collect::{CollectError, Collection};
use esxup_facts::HostFacts;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Output format of a summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FactsFormat {
    /// Readable summary.
    #[default]
    Text,
    /// The facts as pretty JSON.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub vim: super::collect_vim::VimArgs,
    /// Read the outputs an admin saved into DIR, or packed in a .tgz (file names: docs/collect-commands.md),
    /// or from a stick or disk image a trial install wrote (docs/media.md).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["vm_support", "ssh", "host", "inventory"])]
    pub from_dir: Option<PathBuf>,
    /// Read an RVTools export (.xlsx): one facts file per ESXi host of its vHost sheet (needs --out-dir).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from_dir", "vm_support", "ssh", "host", "inventory"])]
    pub rvtools: Option<PathBuf>,
    /// Read the command outputs of a vm-support bundle (.tgz).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ssh", "host", "inventory"])]
    pub vm_support: Option<PathBuf>,
    /// Run the read-only command list on the host over SSH.
    #[arg(long, value_name = "USER@HOST[:PORT]", conflicts_with_all = ["host", "inventory"])]
    pub ssh: Option<String>,
    /// known_hosts file to check the SSH host key against [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE", requires = "ssh")]
    pub known_hosts: Option<PathBuf>,
    /// Accept exactly this SSH host key (`SHA256:...`, as `ssh-keygen -lf` prints it).
    #[arg(long, value_name = "SHA256:...", requires = "ssh", conflicts_with = "known_hosts")]
    pub ssh_fingerprint: Option<String>,
    /// SSH private key file [default: the ssh-agent, then a password].
    #[arg(long, value_name = "FILE", requires = "ssh")]
    pub identity: Option<PathBuf>,
    /// Write the facts to FILE (pretty JSON).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Format of what goes to stdout when no -o is given.
    #[arg(long, value_enum, default_value_t = FactsFormat::Text)]
    pub format: FactsFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum FactsCommand {
    /// Print a readable summary of a facts file.
    Show {
        file: PathBuf,
        /// `text` (summary) or `json`.
        #[arg(long, value_enum, default_value_t = FactsFormat::Text)]
        format: FactsFormat,
    },
}

pub fn run_collect(g: &Global, mut a: CollectArgs) -> anyhow::Result<u8> {
    a.vim.progress = !g.quiet;
    if let Some(file) = &a.rvtools {
        return collect_rvtools(&a, file);
    }
    if let Some(r) = collect_vim::collect_vim(&a.vim) {
        return match r? {
            VimOutcome::Done(code) => Ok(code),
            VimOutcome::Facts(list) => emit_many(&a, list),
        };
    }
    let collection = if let Some(dir) = &a.from_dir {
        if esxup_media::stick::looks_like_disk(dir) {
            // A stick or disk a trial install wrote (docs/media.md): the
            // outputs are ESXUP.TGZ on its bootbank.
            let found = esxup_media::stick::read_outputs(dir).map_err(|e| {
                hinted(
                    e.to_string(),
                    "give the stick the trial install ran from, after its first boot (docs/media.md)",
                )
            })?;
            eprintln!(
                "{}: read {} from partition {}",
                dir.display(),
                esxup_media::stick::OUTPUT_ARCHIVE,
                found.partition
            );
            let mut src =
                ArchiveSource::from_reader(dir, std::io::Cursor::new(found.archive)).map_err(|e| {
                    hinted(e.to_string(), "the archive on the stick is damaged: run the trial install again")
                })?;
            for w in &src.warnings {
                eprintln!("warning: {}", super::out::visible(w));
            }
            esxup_collect::collect(&mut src)?
        } else if dir.is_file() {
            // The .tgz the snippet of docs/collect-commands.md packs.
            let mut src = ArchiveSource::open(dir).map_err(|e| {
                hinted(e.to_string(), "give the folder or the .tgz the outputs were saved in")
            })?;
            for w in &src.warnings {
                eprintln!("warning: {}", super::out::visible(w));
            }
            esxup_collect::collect(&mut src)?
        } else {
            let mut src = DirSource::open(dir)
                .map_err(|e| hinted(e.to_string(), "give the folder the outputs were saved in"))?;
            esxup_collect::collect(&mut src)?
        }
    } else if let Some(file) = &a.vm_support {
        let mut src = BundleSource::open(file).map_err(|e| {
            hinted(e.to_string(), "give the .tgz that `vm-support` wrote (Host Client: Monitor > Logs > Generate support bundle)")
        })?;
        for w in &src.warnings {
            eprintln!("warning: {}", super::out::visible(w));
        }
        esxup_collect::collect(&mut src)?
    } else if let Some(t) = &a.ssh {
        collect_ssh(&a, t)?
    } else {
        return Err(hinted(
            "no source to collect from",
            "give --ssh USER@HOST, --from-dir DIR, --vm-support FILE.tgz, --rvtools FILE.xlsx, --host URL or --inventory FILE",
        ));
    };
    emit(&a, collection)
}

/// What names one host's SSH server and how to trust and log in to it:
/// the options of `collect --ssh`, shared with `run --ssh`.
pub struct SshTarget<'a> {
    /// `USER@HOST[:PORT]`
    pub target: &'a str,
    pub known_hosts: Option<&'a Path>,
    pub fingerprint: Option<&'a str>,
    pub identity: Option<&'a Path>,
    pub password_file: Option<&'a Path>,
    /// The password itself, already read (a rolling run); wins over the others.
    pub password: Option<&'a str>,
    pub timeout: u64,
}

/// SSH options for one host: the host key checked against known_hosts or a
/// pinned fingerprint; a key file, the agent, then a password (never from
/// argv: ESXUP_SSH_PASSWORD, `--password-file` or a prompt).
pub fn ssh_options(t: &SshTarget<'_>) -> anyhow::Result<SshOptions> {
    let target: Target = t.target.parse().map_err(|e: String| {
        hinted(format!("--ssh {}: {e}", t.target), "write it as root@esx01 or root@esx01:2222")
    })?;
    let host_key = match (t.fingerprint, t.known_hosts) {
        (Some(fp), _) => HostKeyPolicy::Fingerprint(fp.to_string()),
        (None, Some(f)) => HostKeyPolicy::KnownHosts(f.to_path_buf()),
        (None, None) => HostKeyPolicy::KnownHosts(
            ssh::default_known_hosts().ok_or_else(|| hinted("HOME is not set", "give --known-hosts FILE"))?,
        ),
    };
    let mut password = std::env::var("ESXUP_SSH_PASSWORD").ok().filter(|p| !p.is_empty());
    if let Some(pf) = t.password_file {
        password = Some(ssh::read_password_file(pf)?);
    }
    if let Some(p) = t.password {
        password = Some(p.to_string());
    }
    if password.is_none()
        && t.identity.is_none()
        && std::env::var_os("SSH_AUTH_SOCK").is_none()
        && std::io::stdin().is_terminal()
    {
        password = ssh::prompt_password(&target);
    }
    Ok(SshOptions {
        target,
        host_key,
        identity: t.identity.map(Path::to_path_buf),
        use_agent: t.identity.is_none(),
        password,
        timeout: Duration::from_secs(t.timeout.max(1)),
    })
}

fn collect_ssh(a: &CollectArgs, t: &str) -> anyhow::Result<Collection> {
    let opts = ssh_options(&SshTarget {
        target: t,
        known_hosts: a.known_hosts.as_deref(),
        fingerprint: a.ssh_fingerprint.as_deref(),
        identity: a.identity.as_deref(),
        password_file: a.vim.password_file.as_deref(),
        password: None,
        timeout: a.vim.timeout,
    })?;
    let target = opts.target.clone();
    let mut src = SshSource::connect(&opts).map_err(|e| ssh_hint(e, &target))?;
    let mut c = esxup_collect::collect(&mut src).map_err(|e| ssh_hint(e, &target))?;
    // A live collection is dated; saved outputs are not (their date is unknown).
    c.facts.collected_on = Some(esxup_version::Date::today().to_string());
    if c.facts.hostname.is_none() {
        c.facts.hostname = Some(target.host.clone());
    }
    Ok(c)
}

pub fn ssh_hint(e: CollectError, t: &Target) -> anyhow::Error {
    match &e {
        CollectError::UnknownHostKey { fingerprint, .. } => hinted(
            e.to_string(),
            format!(
                "check the fingerprint on the host (`ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub` etc.), then pin it \
                 with --ssh-fingerprint {fingerprint}, or add the key to known_hosts (--known-hosts FILE)"
            ),
        ),
        CollectError::HostKeyMismatch { .. } => hinted(
            e.to_string(),
            "if the host was reinstalled, remove its old line from known_hosts (`ssh-keygen -R HOST`) and check the new key",
        ),
        CollectError::Auth { .. } => hinted(
            e.to_string(),
            format!(
                "give --identity FILE, load the key in ssh-agent, or set ESXUP_SSH_PASSWORD / --password-file for {}",
                t.user
            ),
        ),
        CollectError::Timeout { .. } => hinted(e.to_string(), "raise --timeout SECONDS if the host is slow"),
        _ => anyhow::Error::new(e),
    }
}

/// `--rvtools FILE --out-dir DIR`: one facts file per vHost row, with the
/// exit codes of a fleet collection (0 every host written, 1 some host rows
/// failed while others were written, 2 nothing written or not an export).
fn collect_rvtools(a: &CollectArgs, file: &Path) -> anyhow::Result<u8> {
    let Some(dir) = &a.vim.out_dir else {
        return Err(hinted("--rvtools writes one facts file per host", "give --out-dir DIR"));
    };
    let export = esxup_collect::rvtools::read(file).map_err(|e| {
        let hint = match &e {
            esxup_collect::rvtools::RvToolsError::MissingColumn { .. } => {
                "export again with RVTools (File > Export all to Excel), without renaming its sheets or columns"
            }
            _ => "give the .xlsx that RVTools writes (File > Export all to Excel); CSV exports are not read",
        };
        hinted(e.to_string(), hint)
    })?;
    if !export.missing.is_empty() {
        let sheets: Vec<&str> = export.missing.iter().map(|(s, _)| *s).collect();
        let facts: Vec<&str> = export.missing.iter().map(|(_, f)| *f).collect();
        eprintln!(
            "note: {}: no {} sheet(s): {} stay unknown",
            super::out::visible(&file.display().to_string()),
            sheets.join(", "),
            facts.join(", ")
        );
    }
    for n in &export.notes {
        eprintln!("note: {}", super::out::visible(n));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("create output directory {}: {e}", dir.display()))?;
    let names = std::sync::Mutex::new(std::collections::HashSet::new());
    let mut reports = Vec::new();
    for h in export.hosts {
        let result = h.result.and_then(|f| {
            esxup_collect::fleet::write_all(std::slice::from_ref(&f), dir, &names).map_err(|e| e.to_string())
        });
        if let Ok(w) = &result {
            for x in w {
                println!("{}", x.path.display());
            }
        }
        reports.push(esxup_collect::fleet::JobReport { label: h.label, url: String::new(), result });
    }
    eprint!("{}", super::out::visible(&esxup_collect::fleet::summary_table(&reports)));
    if reports.is_empty() {
        return Err(hinted(
            format!("{}: the vHost sheet lists no host", file.display()),
            "export a vCenter or host that has ESXi hosts",
        ));
    }
    Ok(esxup_collect::fleet::exit_code(&reports))
}

fn write_facts(path: &Path, facts: &HostFacts) -> anyhow::Result<()> {
    let mut text = facts.to_json_pretty();
    text.push('\n');
    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("write facts {}: {e}", path.display()))
}

fn emit(a: &CollectArgs, c: Collection) -> anyhow::Result<u8> {
    let host = c.facts.hostname.clone().or(c.facts.source.clone()).unwrap_or_else(|| "host".into());
    match &a.output {
        Some(path) => {
            write_facts(path, &c.facts)?;
            eprintln!("wrote the facts of {} to {}", super::out::visible(&host), path.display());
        }
        None => print_facts(&c.facts, a.format)?,
    }
    if c.missing > 0 {
        eprintln!(
            "note: {} outputs were not collected; the facts they give stay unknown (see collection notes)",
            c.missing
        );
    }
    if c.problems.is_empty() {
        return Ok(EXIT_OK);
    }
    for p in &c.problems {
        eprintln!("error: {}", super::out::visible(&p.to_string()));
    }
    eprintln!(
        "hint: the facts of these outputs stay unknown; save the full output again (or run with --ssh)"
    );
    Ok(EXIT_ERROR)
}

fn emit_many(a: &CollectArgs, list: Vec<HostFacts>) -> anyhow::Result<u8> {
    match (&a.output, list.as_slice()) {
        (Some(path), [one]) => {
            write_facts(path, one)?;
            eprintln!(
                "wrote the facts of {} to {}",
                super::out::visible(one.hostname.as_deref().unwrap_or("host")),
                path.display()
            );
        }
        (Some(_), _) => {
            return Err(hinted(
                format!("-o takes the facts of one host, but {} were collected", list.len()),
                "use --out-dir DIR to write one file per host",
            ))
        }
        (None, _) => {
            for f in &list {
                print_facts(f, a.format)?;
            }
        }
    }
    Ok(EXIT_OK)
}

fn print_facts(f: &HostFacts, format: FactsFormat) -> anyhow::Result<()> {
    match format {
        FactsFormat::Text => super::out::write_stdout(&esxup_facts::summary::render(f)),
        FactsFormat::Json => super::out::write_stdout_line(&f.to_json_pretty()),
    }
}

pub fn run_facts(_g: &Global, c: FactsCommand) -> anyhow::Result<u8> {
    match c {
        FactsCommand::Show { file, format } => {
            let facts = HostFacts::from_json_file(&file)
                .map_err(|e| hinted(e.to_string(), "give a file written by `esxup collect -o FILE`"))?;
            print_facts(&facts, format)?;
            Ok(EXIT_OK)
        }
    }
}
