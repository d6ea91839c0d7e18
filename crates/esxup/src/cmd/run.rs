//! `esxup run`, `esxup journal show` and `esxup verify`: the upgrade of one
//! host, carried out step by step with a journal (crates/esxup-run).
//!
//! This module parses the arguments, connects (the same connection and
//! credential rules as `esxup collect`), asks `esxup check`/`plan` for the
//! decisions on a new run, shows the preview or runs the steps, and picks
//! the renderer (crates/esxup-render/src/run.rs). `--inventory` hands the
//! run of many hosts to [`super::run_fleet`], which calls [`run_host`] for
//! each.

use super::collect::{ssh_options, SshTarget};
use super::collect_vim::{api_options, ApiTarget};
use super::input::{self, For};
use super::{hinted, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::TargetSpec;
use esxup_i18n::Lang;
use esxup_run::engine::{sha256_file, Host, Options, RunError, Selection};
use esxup_run::journal::{Journal, RunMeta, JOURNAL_SCHEMA_VERSION};
use esxup_run::plan::{target_ref, DepotPlan, RunPlan};
use esxup_run::transport::api::ApiTransport;
use esxup_run::transport::ssh::SshTransport;
use esxup_run::transport::{datastore_path, Secret, TransportError};
use esxup_run::verify::{self, Stage, Verdict};
use esxup_run::{HostState, RunStep};
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Output format of `journal show` and `verify`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// How to reach the host: the vSphere API (`--host`), SSH (`--ssh`), or
/// both (a free-licence host refuses API writes; the run then goes on over SSH).
#[derive(Clone, Debug, clap::Args)]
pub struct ConnArgs {
    /// The ESXi host's vSphere API (`host`, `host:port`, `https://host`); bare `--host` reads GOVC_URL.
    #[arg(long = "host", value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub host: Option<String>,
    /// API user name [default: from the URL or GOVC_USERNAME].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Pin the host's certificate by its SHA-256 thumbprint (`AA:BB:...`).
    #[arg(long, value_name = "SHA256", conflicts_with = "insecure")]
    pub thumbprint: Option<String>,
    /// Do not check the host's certificate at all (prints a warning).
    #[arg(long)]
    pub insecure: bool,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Read the password (API and SSH) from the first line of this file
    /// [default: ESXUP_PASSWORD / GOVC_PASSWORD, ESXUP_SSH_PASSWORD, or a prompt].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Timeout of each request or command, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// The host's ESXi Shell over SSH (esxcli, vim-cmd).
    #[arg(long, value_name = "USER@HOST[:PORT]")]
    pub ssh: Option<String>,
    /// known_hosts file to check the SSH host key against [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE", requires = "ssh")]
    pub known_hosts: Option<PathBuf>,
    /// Accept exactly this SSH host key (`SHA256:...`).
    #[arg(long, value_name = "SHA256:...", requires = "ssh", conflicts_with = "known_hosts")]
    pub ssh_fingerprint: Option<String>,
    /// SSH private key file [default: the ssh-agent, then a password].
    #[arg(long, value_name = "FILE", requires = "ssh")]
    pub identity: Option<PathBuf>,
    /// The password, already read (a rolling run reads every host's first).
    #[arg(skip)]
    pub password: Option<Secret>,
    /// The host's name in a rolling run (the inventory's `name`), which
    /// the journal and the messages use instead of the URL's host.
    #[arg(skip)]
    pub label: Option<String>,
}

thread_local! {
    /// The host a rolling run's worker thread narrates (`[esx01] ` before
    /// each of its stderr lines); `None` for a run of one host.
    static PREFIX: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Names the host of this thread's stderr lines (a rolling run's worker).
pub(super) fn set_prefix(host: Option<&str>) {
    PREFIX.with(|p| *p.borrow_mut() = host.map(|h| format!("[{}] ", super::out::visible(h))));
}

/// One or more lines of the run's narration on stderr. Host and VM names
/// come from the host: control characters are escaped (a name holding
/// `ESC[2J` must not clear the admin's terminal). In a rolling run every
/// line starts with its host's name, since hosts run side by side.
pub(super) fn say(text: &str) {
    let prefix = PREFIX.with(|p| p.borrow().clone()).unwrap_or_default();
    let mut err = std::io::stderr().lock();
    for line in text.lines() {
        let _ = writeln!(err, "{prefix}{}", super::out::visible(line));
    }
}

/// Carry out the upgrade on one host, step by step, with a journal.
///
/// Without --yes nothing changes: it prints the steps it would run, what
/// each does, its calls or commands and why, and which steps the host
/// already satisfies. With --yes it runs them, writing every change to the
/// journal before making it; the same command (or --resume) continues an
/// interrupted run without repeating a change.
///
/// Exit codes: 0 every selected step is done (or, without --yes, the
/// preview was printed); 1 the run stopped on purpose before a change it
/// must not make (a blocker, a dry run that differs, a failed verify, the
/// ISO installer or another step by hand comes next) — fix it and resume;
/// 2 it could not go on (bad input, unreachable host, refused certificate
/// or key, a host that did not come back, a backup or checksum that failed,
/// a locked or corrupt journal, the host name not confirmed at the prompt):
/// the journal says where it stopped.
#[derive(Clone, Debug, clap::Args)]
#[command(
    after_help = "Steps, in order: config-backup, vm-backup, workarounds, vm-shutdown, maintenance-on, \
bundle-upload, image-update, reboot, verify, license, maintenance-off, vm-start, tools-upgrade, \
vm-hardware-upgrade (esxup run --list-steps). Secrets: passwords and the licence key come from the \
environment (ESXUP_PASSWORD, ESXUP_SSH_PASSWORD, ESXUP_LICENSE_KEY), a file or a prompt, never from \
the command line. Many hosts: --inventory FILE (a rolling run, one host per cluster in maintenance mode at a time; docs/run.md \"Rolling runs\"). See docs/run.md."
)]
pub struct RunArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Upgrade every [[host]] of this TOML inventory, in waves: at most one host per cluster at a time.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["host", "ssh", "resume", "list_steps"])]
    pub inventory: Option<PathBuf>,
    /// Rolling run: how many hosts to upgrade at once (never two of one cluster).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "inventory")]
    pub concurrency: usize,
    /// Rolling run: go on starting hosts after one failed (its cluster stays held).
    #[arg(long, requires = "inventory")]
    pub keep_going: bool,
    /// Target: a build, `7.0U3g`, an image profile, `latest-8.0` [default on --resume: the journal's].
    #[arg(long, value_name = "T")]
    pub target: Option<String>,
    /// Offline bundle (path) or online depot (URL, `broadcom:`) of the target, for the esxcli route
    #[arg(long, value_name = "DEPOT", value_parser = super::broadcom::DepotArg)]
    pub depot: Option<String>,
    /// Image profile in the depot [default: the `-standard` one of the target build].
    #[arg(long, value_name = "NAME", requires = "depot")]
    pub profile: Option<String>,
    /// Datastore the bundle goes to [default: the runbook's backup datastore].
    #[arg(long, value_name = "NAME", requires = "depot")]
    pub datastore: Option<String>,
    /// Journal folder [default: ./esxup-journal/<host>; with --inventory, the folder of every host's journal folder].
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Continue the run the journal records (the journal must exist).
    #[arg(long, requires = "journal")]
    pub resume: bool,
    /// Run only these steps (comma-separated names).
    #[arg(long, value_name = "STEP,...", value_delimiter = ',', conflicts_with = "skip")]
    pub only: Vec<RunStep>,
    /// Leave these steps out.
    #[arg(long, value_name = "STEP,...", value_delimiter = ',')]
    pub skip: Vec<RunStep>,
    /// Also run these opt-in steps (vm-backup).
    #[arg(long, value_name = "STEP,...", value_delimiter = ',')]
    pub with: Vec<RunStep>,
    /// Make the changes (without it, only the preview). On a terminal, asks for the host name first.
    #[arg(long)]
    pub yes: bool,
    /// Print the steps' names in order, each with what it does, and exit.
    #[arg(long)]
    pub list_steps: bool,
    /// How long the host may take to come back after the reboot, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub reboot_timeout: u64,
    /// How long a guest may take to shut down or power on, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub shutdown_timeout: u64,
    /// Power off running VMs that have no VMware Tools (otherwise the run refuses and names them).
    #[arg(long)]
    pub power_off_without_tools: bool,
    /// A VM for tools-upgrade (narrows it) and vm-hardware-upgrade (required); repeat for more.
    #[arg(long = "vm", value_name = "NAME")]
    pub vms: Vec<String>,
    /// Upgrade the virtual hardware of every VM whose Tools are current.
    #[arg(long, conflicts_with = "vms")]
    pub all_vms: bool,
    /// Take a snapshot before a VM's hardware upgrade; removed after the upgrade once the VM is back in its power state.
    #[arg(long)]
    pub snapshot_before_hardware: bool,
    /// Read the licence key from the first line of this file [default: ESXUP_LICENSE_KEY, or a prompt].
    #[arg(long, value_name = "FILE")]
    pub license_file: Option<PathBuf>,
    /// Output format of the preview.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Language of the messages [default: from LC_ALL / LC_MESSAGES / LANG].
    #[arg(long, value_name = "en|ja")]
    pub lang: Option<Lang>,
    /// Interval of the waits, in milliseconds (tests).
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    pub poll_ms: u64,
    /// On resume of an interrupted reboot: how long a host still answering
    /// with its old boot time may take to go down before the reboot is
    /// sent (seconds; tests).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, hide = true)]
    pub reboot_grace: u64,
    /// The licence key, already read (a rolling run reads it once).
    #[arg(skip)]
    pub license: Option<Secret>,
}

#[derive(Debug, clap::Subcommand)]
pub enum JournalCommand {
    /// Print a run journal: one line a record, or JSON.
    Show {
        /// The journal folder (`esxup-journal/<host>`).
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long, value_name = "en|ja")]
        lang: Option<Lang>,
    },
}

/// Check that the host runs the target and is otherwise as before the run.
///
/// Compares the build, the image profile, maintenance mode, the licence,
/// the workaround state, Secure Boot (over SSH) and the VMs' power states
/// with the journal's record of the host before the run.
///
/// Exit codes: 0 everything matches; 1 something differs; 2 it cannot
/// tell (no journal, host unreachable, build unreadable).
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Target [default: the journal's].
    #[arg(long, value_name = "T")]
    pub target: Option<String>,
    /// Journal folder [default: ./esxup-journal/<host>].
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[arg(long, value_name = "en|ja")]
    pub lang: Option<Lang>,
}

fn host_label(c: &ConnArgs) -> anyhow::Result<String> {
    if let Some(l) = &c.label {
        return Ok(l.clone());
    }
    if let Some(s) = &c.ssh {
        let t: esxup_collect::ssh::Target =
            s.parse().map_err(|e: String| hinted(format!("--ssh {s}: {e}"), "write it as root@esx01"))?;
        return Ok(t.host);
    }
    match &c.host {
        Some(h) => {
            let raw = if h.is_empty() { std::env::var("GOVC_URL").unwrap_or_default() } else { h.clone() };
            Ok(esxup_vim::parse_url(&raw).map(|u| u.host).unwrap_or(raw))
        }
        None => Err(hinted("no host given", "give --host URL (vSphere API), --ssh root@HOST, or both")),
    }
}

fn transport_hint(e: TransportError) -> anyhow::Error {
    match &e {
        TransportError::Access { hint: Some(h), .. } => hinted(e.to_string(), h.clone()),
        TransportError::Unreachable { .. } => {
            hinted(e.to_string(), "check the host name, the port and that the host is up; --timeout SECONDS")
        }
        TransportError::Unsupported { .. } => {
            hinted(e.to_string(), "give the ESXi host itself with --host, or use --ssh")
        }
        _ => anyhow::Error::new(e),
    }
}

/// Connects the transports the arguments name.
fn connect(c: &ConnArgs) -> anyhow::Result<Host> {
    connect_raw(c)?.map_err(transport_hint)
}

/// Connects and reads the host's state; on a resume whose journal ends
/// with the reboot's intent the host may be down for its reboot: then
/// waits for it (up to `--reboot-timeout`) instead of failing. Refused
/// credentials and host keys are errors at once.
fn connect_observe(
    c: &ConnArgs,
    rebooting: bool,
    timeout: Duration,
    poll: Duration,
) -> anyhow::Result<(Host, HostState)> {
    let deadline = std::time::Instant::now() + timeout;
    let mut said = false;
    loop {
        let r = connect_raw(c)?.and_then(|mut h| h.observe().map(|st| (h, st)));
        match r {
            Ok(x) => return Ok(x),
            Err(e @ (TransportError::Unreachable { .. } | TransportError::Answer { .. }))
                if rebooting && std::time::Instant::now() < deadline =>
            {
                if !said {
                    say(&format!("the journal ends with the reboot: waiting for the host to answer ({e})"));
                    said = true;
                }
                std::thread::sleep(poll);
            }
            Err(e) => return Err(transport_hint(e)),
        }
    }
}

fn connect_raw(c: &ConnArgs) -> anyhow::Result<Result<Host, TransportError>> {
    let api = match &c.host {
        Some(h) => {
            let (opts, _) = api_options(&ApiTarget {
                host: h,
                user: c.user.as_deref(),
                thumbprint: c.thumbprint.as_deref(),
                insecure: c.insecure,
                ca_file: c.ca_file.as_deref(),
                password_file: c.password_file.as_deref(),
                password: c.password.as_ref().map(Secret::expose),
                timeout: c.timeout,
            })?;
            match ApiTransport::connect(opts) {
                Ok(t) => Some(t),
                Err(e) => return Ok(Err(e)),
            }
        }
        None => None,
    };
    let ssh = match &c.ssh {
        Some(s) => {
            let opts = ssh_options(&SshTarget {
                target: s,
                known_hosts: c.known_hosts.as_deref(),
                fingerprint: c.ssh_fingerprint.as_deref(),
                identity: c.identity.as_deref(),
                password_file: c.password_file.as_deref(),
                password: c.password.as_ref().map(Secret::expose),
                timeout: c.timeout,
            })?;
            match SshTransport::connect(opts) {
                Ok(t) => Some(t),
                Err(e) => return Ok(Err(e)),
            }
        }
        None => None,
    };
    if api.is_none() && ssh.is_none() {
        return Err(hinted("no host given", "give --host URL (vSphere API), --ssh root@HOST, or both"));
    }
    Ok(Ok(Host::new(api, ssh)))
}

fn journal_dir(a: Option<&PathBuf>, host: &str) -> PathBuf {
    a.cloned().unwrap_or_else(|| Path::new("esxup-journal").join(host))
}

fn read_first_line(p: &Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(p).with_context(|| format!("read {what} {}", p.display()))?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        anyhow::bail!("read {what} {}: the first line is empty", p.display());
    }
    Ok(line)
}

/// The licence key: `--license-file`, ESXUP_LICENSE_KEY, or (on a terminal,
/// when the license step will run) a prompt that does not echo.
pub(super) fn license_key(a: &RunArgs, will_run: bool) -> anyhow::Result<Option<Secret>> {
    if let Some(k) = &a.license {
        return Ok(Some(k.clone()));
    }
    if let Some(p) = &a.license_file {
        return Ok(Some(Secret::new(read_first_line(p, "licence key file")?)));
    }
    if let Some(k) =
        std::env::var("ESXUP_LICENSE_KEY").ok().map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
    {
        return Ok(Some(Secret::new(k)));
    }
    if will_run && a.yes && std::io::stdin().is_terminal() {
        let k = esxup_collect::vim::prompt_password("Licence key (empty: leave the licence as it is): ")
            .map_err(|e| anyhow::anyhow!("read the licence key from the terminal: {e}"))?;
        let k = k.trim().to_string();
        return Ok((!k.is_empty()).then(|| Secret::new(k)));
    }
    Ok(None)
}

fn lang_of(l: Option<Lang>) -> Lang {
    l.unwrap_or_else(Lang::from_env)
}

/// The run's decisions for a new journal: `esxup check` and `esxup plan` on
/// the host's live facts. Refuses a target the check blocks or that the
/// runbook would reach by another route.
fn plan_run(
    g: &Global,
    a: &RunArgs,
    host: &mut Host,
    lang: Lang,
) -> anyhow::Result<(RunPlan, esxup_kb::Release, Option<esxup_kb::Release>)> {
    let text = a.target.as_deref().ok_or_else(|| {
        hinted("no target given", "name one with --target, e.g. --target 7.0U3g or --target latest-8.0")
    })?;
    if let Some(d) = a.depot.as_deref().filter(|d| d.starts_with("/vmfs/")) {
        return Err(hinted(
            format!("--depot {d}: esxup run reads the bundle on this computer (it checks and simulates it, then uploads it and compares checksums), not on the host"),
            "give the path of the offline bundle zip on this computer, or an online depot URL",
        ));
    }
    let spec: TargetSpec = text.parse().map_err(|e: esxup_check::TargetSpecError| {
        hinted(e.to_string(), "e.g. --target 7.0U3g, --target 20328353 or --target latest-8.0")
    })?;
    if spec == TargetSpec::Auto {
        return Err(hinted(
            "esxup run needs a definite target, not auto",
            "see which one `esxup check --target auto` recommends, then give it with --target",
        ));
    }
    let (kb, tables) = input::load_kb(g, For::Plan)?;
    let today = input::today()?;
    let resolved = esxup_check::Target::resolve(kb, &spec)
        .map_err(|e| hinted(format!("target {text:?}: {e}"), "list known releases with `esxup releases`"))?
        .ok_or_else(|| hinted("esxup run needs a definite target", "give --target"))?;
    say(&format!(
        "collecting the host's facts over {}",
        if host.has_ssh() { "ssh" } else { "the vSphere API" }
    ));
    let facts = host.facts().map_err(transport_hint)?;
    let loaded = match &a.depot {
        Some(d) => Some(input::load_image(d, a.profile.as_deref(), Some(resolved.release.build), For::Plan)?),
        None => None,
    };
    let image = loaded.as_ref().map(|l| l.for_host(&facts));
    let report = esxup_check::check_with(kb, tables, &facts, &spec, image.as_ref(), today)
        .map_err(|e| hinted(e.to_string(), "see `esxup check --help`"))?;
    let input = esxup_plan::from_check::plan_input(&report, &facts, kb, a.depot.clone())?;
    let plan = esxup_plan::build_plan(&input, lang);
    let requested = input.requested.clone();
    if plan.status == esxup_plan::PlanStatus::Blocked
        || !plan.route.is_requested
        || !plan.route.via.is_empty()
    {
        let mut msg =
            format!("the check blocks {} (build {}) for this host", requested.name, requested.build);
        for b in &plan.blockers {
            msg.push_str(&format!("\n  - {}: {}", b.id, b.title));
        }
        if !plan.route.via.is_empty() {
            msg.push_str(&format!("\n  - the route needs intermediate upgrades: {}", plan.route.label));
        }
        let hint = if plan.route.is_requested {
            "see the way out in `esxup plan` (same --target); esxup run goes only where the check allows"
                .to_string()
        } else {
            format!(
                "the runbook's route goes to {} (build {}); run with --target {} or see `esxup plan`",
                plan.route.target.name, plan.route.target.build, plan.route.target.build
            )
        };
        say(&format!("error: {msg}"));
        say(&format!("hint: {hint}"));
        return Err(Blocked {
            first: format!("the check blocks {} (build {})", requested.name, requested.build),
            blockers: plan.blockers.iter().map(|b| b.id.clone()).collect(),
        }
        .into());
    }
    let depot = match &a.depot {
        None => None,
        Some(d) => {
            let profile = match (&a.profile, loaded.as_ref().and_then(|l| l.profile_name())) {
                (Some(p), _) => p.clone(),
                (None, Some(p)) => p.to_string(),
                (None, None) => esxup_plan::steps::standard_profile(&requested).ok_or_else(|| {
                    hinted(format!("depot {d}: which image profile?"), "give --profile NAME")
                })?,
            };
            let kind = esxup_plan::runnable::DepotKind::of(Some(d));
            if kind == esxup_plan::runnable::DepotKind::Local {
                let path = Path::new(d);
                let (sha, size) = sha256_file(path).with_context(|| format!("read depot {d}"))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| anyhow::anyhow!("depot {d}: not a file name"))?;
                let ds =
                    a.datastore.clone().or_else(|| esxup_plan::steps::backup_datastore(&input)).ok_or_else(
                        || hinted("no datastore for the bundle is known", "name one with --datastore NAME"),
                    )?;
                Some(DepotPlan {
                    given: d.clone(),
                    local: true,
                    sha256: Some(sha),
                    size: Some(size),
                    host_path: datastore_path(&ds, &name),
                    file_name: Some(name),
                    datastore: Some(ds),
                    profile,
                })
            } else {
                Some(DepotPlan {
                    given: d.clone(),
                    local: false,
                    sha256: None,
                    size: None,
                    file_name: None,
                    datastore: None,
                    host_path: d.clone(),
                    profile,
                })
            }
        }
    };
    let warnings: Vec<String> = plan.warnings.iter().map(|w| format!("{}: {}", w.id, w.title)).collect();
    let run_plan = RunPlan::from_input(&input, depot, warnings, plan.method.reasons.clone());
    if run_plan.method == esxup_run::plan::Method::Esxcli && run_plan.depot.is_none() {
        return Err(hinted(
            format!("the runbook upgrades {} with esxcli, which needs the target's depot", requested.name),
            "give the offline bundle with --depot FILE.zip (or an online depot URL)",
        ));
    }
    Ok((run_plan, requested, input.current.clone()))
}

/// The check blocked the target: already explained on stderr, exit 1.
#[derive(Debug)]
struct Blocked {
    /// What was blocked, for a rolling run's summary row.
    first: String,
    /// The blocking findings' ids.
    blockers: Vec<String>,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("blocked")
    }
}

impl std::error::Error for Blocked {}

/// The journal's host must be this host, and the target the journal's.
fn check_journal(meta: &RunMeta, st: &HostState, target: Option<&str>, g: &Global) -> anyhow::Result<()> {
    if !st.uuid.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&meta.uuid)) {
        return Err(hinted(
            format!(
                "the journal is of host {} (UUID {}), this host reports UUID {}",
                meta.host,
                meta.uuid,
                st.uuid.as_deref().unwrap_or("unknown")
            ),
            "give the journal of this host with --journal DIR, or a new folder to start anew",
        ));
    }
    if let Some(b) = st.build {
        if b != meta.build && b != meta.target.build {
            return Err(hinted(
                format!(
                    "the host runs build {b}, neither the run's start ({}) nor its target ({})",
                    meta.build, meta.target.build
                ),
                "someone changed the host outside the run: check it by hand, then start anew with a new journal",
            ));
        }
    }
    if let Some(t) = target {
        let (kb, _) = input::load_kb(g, For::Plan)?;
        let spec: TargetSpec = t
            .parse()
            .map_err(|e: esxup_check::TargetSpecError| hinted(e.to_string(), "e.g. --target 7.0U3g"))?;
        let build = esxup_check::Target::resolve(kb, &spec).ok().flatten().map(|r| r.release.build);
        if build != Some(meta.target.build) {
            return Err(hinted(
                format!(
                    "the journal's run goes to build {} ({}), not to {t}",
                    meta.target.build, meta.target.name
                ),
                "drop --target to continue that run, or use another --journal folder for a new one",
            ));
        }
    }
    Ok(())
}

fn confirm(host: &str, lang: Lang) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    let prompt = esxup_i18n::t(
        lang,
        "run.ui.confirm",
        &[("host".to_string(), host.to_string())].into_iter().collect(),
    );
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("read the confirmation")?;
    Ok(line.trim() == host)
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).context("write to standard output")?;
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v).context("serialise JSON")? + "\n")
}

pub fn run_run(g: &Global, a: RunArgs) -> anyhow::Result<u8> {
    let lang = lang_of(a.lang);
    if a.list_steps {
        print(&esxup_render::run::list_steps(lang))?;
        return Ok(EXIT_OK);
    }
    if a.inventory.is_some() {
        return super::run_fleet::run_inventory(g, a);
    }
    let end = run_host(g, &a, false)?;
    if let Some(p) = &end.preview {
        // Host and VM names come from the host (JSON escapes them itself).
        print(&super::out::visible(p))?;
    }
    Ok(end.code)
}

/// How one host's run ended (a rolling run's summary row says it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum EndKind {
    /// Without --yes: the preview (nothing changed).
    Previewed,
    /// Every selected step is done.
    Done,
    /// The check blocks the target: nothing was changed.
    Blocked { what: String, blockers: Vec<String> },
    /// The run stopped before a change it must not make; `manual`: a human
    /// step comes next (the ISO installer), as planned.
    Stopped { step: RunStep, manual: bool, reason: String },
    /// The host name was not confirmed at the prompt.
    NotConfirmed,
}

/// What [`run_host`] hands back: the exit code a run of this one host has,
/// and what the rolling run needs for its schedule and summary.
#[derive(Clone, Debug)]
pub(super) struct HostEnd {
    pub code: u8,
    pub kind: EndKind,
    /// The build the host ran when this invocation started.
    pub from: Option<u32>,
    /// The run's target (the journal's on a resume).
    pub target: Option<esxup_run::journal::TargetRef>,
    /// The preview, rendered in `--format` (only without --yes).
    pub preview: Option<String>,
}

/// The run of one host: connect, decide (or read the journal), preview or
/// run the steps. `fleet`: part of a rolling run, which confirmed the run
/// for every host at once and prints the previews itself.
pub(super) fn run_host(g: &Global, a: &RunArgs, fleet: bool) -> anyhow::Result<HostEnd> {
    let lang = lang_of(a.lang);
    let label = host_label(&a.conn)?;
    let dir = journal_dir(a.journal.as_ref(), &label);
    let existing = if Journal::exists(&dir) {
        Some(Journal::read(&dir).map_err(|e| {
            hinted(e.to_string(), "the journal is left as it is: look at the line it names; move the folder away to start a new run")
        })?)
    } else if a.resume {
        return Err(hinted(
            format!("no journal in {} to resume", dir.display()),
            "give the folder of the earlier run with --journal DIR, or drop --resume to start",
        ));
    } else {
        None
    };
    let rebooting = existing.as_ref().is_some_and(|(_, recs)| {
        recs.last().is_some_and(|r| r.step == RunStep::Reboot && r.phase == esxup_run::Phase::Intent)
    });
    let (mut host, state) = connect_observe(
        &a.conn,
        rebooting,
        Duration::from_secs(a.reboot_timeout.max(1)),
        Duration::from_millis(a.poll_ms.max(10)),
    )?;
    if host.has_ssh() && host.active_kind() == esxup_run::TransportKind::Api {
        // --host and --ssh must be one machine: the run reads one and may
        // change the other.
        if let (Some(a), Some(s)) = host.uuids().map_err(transport_hint)? {
            if !a.eq_ignore_ascii_case(&s) {
                return Err(hinted(
                    format!(
                        "--host and --ssh are two machines: the API reports UUID {a}, SSH reports UUID {s}"
                    ),
                    "give the same ESXi host to both",
                ));
            }
        }
    }
    let from = state.build;
    let (plan, target, current_name, records, before_run) = match &existing {
        Some((meta, records)) => {
            check_journal(meta, &state, a.target.as_deref(), g)?;
            let (kb, _) = input::load_kb(g, For::Plan)?;
            // The header names what the host runs now (beside its build).
            let current = state.build.and_then(|b| kb.release(b)).map(|r| r.name.clone());
            (meta.plan.clone(), meta.target.clone(), current, records.clone(), None)
        }
        None => {
            let (plan, requested, current) = match plan_run(g, a, &mut host, lang) {
                Ok(x) => x,
                Err(e) => match e.downcast::<Blocked>() {
                    Ok(b) => {
                        return Ok(HostEnd {
                            code: EXIT_FINDINGS,
                            kind: EndKind::Blocked { what: b.first, blockers: b.blockers },
                            from,
                            target: None,
                            preview: None,
                        })
                    }
                    Err(e) => return Err(e),
                },
            };
            (plan, target_ref(&requested), current.map(|c| c.name), Vec::new(), Some(state.clone()))
        }
    };
    let selection = Selection { only: a.only.clone(), skip: a.skip.clone(), with: a.with.clone() };
    let license_will_run = selection.selected(RunStep::License)
        && !records
            .iter()
            .any(|r| r.step == RunStep::License && r.item.is_none() && r.phase == esxup_run::Phase::Done);
    let opts = Options {
        selection,
        reboot_timeout: Duration::from_secs(a.reboot_timeout.max(1)),
        reboot_grace: Duration::from_secs(a.reboot_grace),
        shutdown_timeout: Duration::from_secs(a.shutdown_timeout.max(1)),
        poll: Duration::from_millis(a.poll_ms.max(10)),
        power_off_without_tools: a.power_off_without_tools,
        vms: a.vms.clone(),
        all_vms: a.all_vms,
        snapshot_before_hardware: a.snapshot_before_hardware,
        license_key: license_key(a, license_will_run)?,
        today: input::today()?.to_string(),
    };
    if let Some(name) = a.vms.iter().find(|n| state.vm(n).is_none()) {
        let names: Vec<&str> = state.vms.iter().flatten().map(|v| v.name.as_str()).collect();
        return Err(hinted(
            format!("--vm {name}: the host has no VM of that name"),
            format!("VMs on the host: {}", names.join(", ")),
        ));
    }
    // The free licence makes the host's API read-only (RestrictedVersion
    // on every change): without SSH nothing could be done, so refuse before
    // the journal is started rather than at the first change.
    let free =
        state.license.as_ref().and_then(|l| l.edition.as_deref()).filter(|e| esxup_facts::is_free_edition(e));
    if let Some(edition) = free {
        if !host.prefer_ssh() {
            let msg = format!(
                "the host has the free licence ({edition}): its vSphere API refuses every change esxup run makes"
            );
            let hint = "give --ssh root@HOST as well (enable SSH on the host): esxup run then works in the ESXi Shell";
            if a.yes {
                return Err(hinted(msg, hint));
            }
            say(&format!("warning: {msg}"));
            say(&format!("hint: {hint}"));
        }
    }
    // A step that needs SSH, on a run without it: refuse before the first
    // change rather than stop half-way.
    for s in RunStep::ALL {
        if opts.selection.selected(s)
            && plan.automation(s) == esxup_run::Automation::NeedsSsh
            && !host.has_ssh()
        {
            let done = records.iter().any(|r| {
                r.step == s
                    && r.item.is_none()
                    && matches!(r.phase, esxup_run::Phase::Done | esxup_run::Phase::SkippedAlreadySatisfied)
            });
            let satisfied = esxup_run::engine::satisfied(s, &state, &plan, target.build) == Some(true);
            if !done && !satisfied {
                return Err(hinted(
                    format!(
                        "the {} step runs in the ESXi Shell and this run has no SSH connection",
                        s.name()
                    ),
                    "give --ssh root@HOST as well (or --skip it)",
                ));
            }
        }
    }
    let preview = esxup_run::preview::preview(
        &label,
        &mut host,
        &state,
        &plan,
        &target,
        current_name,
        &records,
        &opts,
        &dir,
    );
    let end = |code: u8, kind: EndKind, preview: Option<String>| HostEnd {
        code,
        kind,
        from,
        target: Some(target.clone()),
        preview,
    };
    if !a.yes {
        let text = match a.format {
            Format::Text => esxup_render::run::preview_text(&preview, lang),
            Format::Json => json(&preview)?,
        };
        return Ok(end(EXIT_OK, EndKind::Previewed, Some(text)));
    }
    if a.format == Format::Text {
        // The preview's head (host, build, target) before the prompt.
        let text = esxup_render::run::preview_text(&preview, lang);
        let head: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        say(&head.join("\n"));
    }
    if !fleet && !confirm(&label, lang)? {
        say(&esxup_i18n::t(lang, "run.ui.not_confirmed", &Default::default()));
        return Ok(end(EXIT_ERROR, EndKind::NotConfirmed, None));
    }
    let journal = match (existing, before_run) {
        (Some(_), _) => Journal::open(&dir).map_err(journal_err)?,
        (None, Some(before)) => {
            let meta = RunMeta {
                schema_version: JOURNAL_SCHEMA_VERSION,
                host: label.clone(),
                uuid: before
                    .uuid
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("the host reports no UUID: cannot start a journal"))?,
                build: before
                    .build
                    .ok_or_else(|| anyhow::anyhow!("the host reports no build: cannot start a journal"))?,
                version: before.version.clone().unwrap_or_default(),
                target: target.clone(),
                created: esxup_run::time::utc_now(),
                esxup: env!("CARGO_PKG_VERSION").to_string(),
                plan,
                before_run: before,
            };
            Journal::create(&dir, meta).map_err(journal_err)?
        }
        (None, None) => unreachable!("a new run has the state before it"),
    };
    say(&format!("{}: {}", esxup_i18n::t(lang, "run.ui.journal", &Default::default()), dir.display()));
    let mut events = |e: esxup_run::Event| {
        if let Some(l) = esxup_render::run::event_line(&e, lang) {
            say(&l);
        }
    };
    // A bar for the bundle upload; not in a rolling run, whose hosts'
    // lines interleave on one stderr.
    if !fleet {
        host.set_transfer_progress(super::out::upload_progress());
    }
    let mut runner = esxup_run::Runner::new(host, journal, opts, &mut events);
    let result = runner.run();
    drop(runner);
    match result {
        Ok(report) => {
            let summary = esxup_render::run::summary_text(&report, &dir.display().to_string(), lang);
            say(&summary);
            Ok(match &report.stopped {
                Some((step, stop)) => end(
                    EXIT_FINDINGS,
                    EndKind::Stopped {
                        step: *step,
                        manual: matches!(stop, esxup_run::engine::Stop::Manual { .. }),
                        reason: summary.lines().next().unwrap_or_default().to_string(),
                    },
                    None,
                ),
                None => end(EXIT_OK, EndKind::Done, None),
            })
        }
        Err(e) => Err(run_err(e, &dir)),
    }
}

/// Reads a host's maintenance mode once more after its run (a rolling run
/// frees the host's cluster only when it is out of maintenance mode).
/// `None`: it could not be read.
pub(super) fn maintenance_after(c: &ConnArgs) -> Option<bool> {
    let mut host = connect_raw(c).ok()?.ok()?;
    host.observe().ok()?.maintenance_mode
}

fn journal_err(e: esxup_run::JournalError) -> anyhow::Error {
    let hint = match &e {
        esxup_run::JournalError::Locked { .. } => "wait for the other run to end; two runs on one journal are refused",
        esxup_run::JournalError::Corrupt { .. } => {
            "the journal is left as it is: look at the line named above in journal.jsonl, check the host's state by hand, then move the folder away to start anew"
        }
        _ => "check the journal folder (esxup journal show DIR)",
    };
    hinted(e.to_string(), hint)
}

fn run_err(e: RunError, dir: &Path) -> anyhow::Error {
    let msg = format!("{e} (journal: {})", dir.display());
    match e.hint() {
        Some(h) => hinted(msg, h),
        None => anyhow::anyhow!(msg),
    }
}

pub fn run_journal(_g: &Global, c: JournalCommand) -> anyhow::Result<u8> {
    match c {
        JournalCommand::Show { dir, format, lang } => {
            let (meta, records) = Journal::read(&dir).map_err(journal_err)?;
            match format {
                Format::Text => print(&super::out::visible(&esxup_render::run::journal_table(
                    &meta,
                    &records,
                    lang_of(lang),
                )))?,
                Format::Json => {
                    let v =
                        esxup_run::JournalShow { schema_version: JOURNAL_SCHEMA_VERSION, run: meta, records };
                    print(&json(&v)?)?
                }
            }
            Ok(EXIT_OK)
        }
    }
}

pub fn run_verify(g: &Global, a: VerifyArgs) -> anyhow::Result<u8> {
    let lang = lang_of(a.lang);
    let label = host_label(&a.conn)?;
    let dir = journal_dir(a.journal.as_ref(), &label);
    let (meta, records) = Journal::read(&dir).map_err(|e| {
        hinted(
            format!("{e}: verify compares the host with the journal of its run"),
            "give the run's journal with --journal DIR",
        )
    })?;
    let mut host = connect(&a.conn)?;
    let state = host.observe().map_err(transport_hint)?;
    // Another host or target: nothing to compare with.
    check_journal(&meta, &state, a.target.as_deref(), g)?;
    let expect = esxup_run::Runner::expectations(&records, &meta.plan);
    let report = verify::verify(&meta, &state, Stage::Final, &expect);
    match a.format {
        Format::Text => print(&super::out::visible(&esxup_render::run::verify_text(&report, lang)))?,
        Format::Json => print(&json(&report)?)?,
    }
    Ok(match report.verdict() {
        Verdict::Pass => EXIT_OK,
        Verdict::Fail => EXIT_FINDINGS,
        Verdict::Unknown => EXIT_ERROR,
    })
}
