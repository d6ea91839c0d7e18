//! The vSphere-API and fleet parts of `esxup collect` (`--host`, `--inventory`).
//!
//! OWNER: the vSphere helper (issue 3, items 2, 3, 6). `cmd/collect.rs`
//! flattens [`VimArgs`] into `CollectArgs` and calls [`collect_vim`].
//!
//! Credentials: the user from `--user`, the URL (`user@host`) or
//! `GOVC_USERNAME`; the password from `--password-file`, the URL,
//! `ESXUP_PASSWORD`, `GOVC_PASSWORD` or a prompt — never needed in argv.
//! Certificates: verified against the system roots (and `--ca-file` /
//! `GOVC_TLS_CA_CERTS`), or pinned with `--thumbprint` / a
//! `GOVC_TLS_KNOWN_HOSTS` line, or not checked with `--insecure` /
//! `GOVC_INSECURE=1` (with a warning).
//!
//! Exit codes of fleet runs (`--inventory`, or `--out-dir`): 0 every target
//! collected, 1 some targets failed while others were collected, 2 nothing
//! collected or a bad inventory.

use super::hinted;
use esxup_collect::fleet::{self, inventory};
use esxup_facts::HostFacts;
use esxup_vim::{parse_url, ConnectOptions, Thumbprint, TlsMode, TlsOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct VimArgs {
    /// Collect over the vSphere API from this ESXi host or vCenter
    /// (`host`, `host:port`, `https://host`); bare `--host` reads GOVC_URL.
    #[arg(long = "host", value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub host: Option<String>,
    /// API user name [default: from the URL or GOVC_USERNAME].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Pin the server certificate by its SHA-256 thumbprint (`AA:BB:...`).
    #[arg(long, value_name = "SHA256", conflicts_with = "insecure")]
    pub thumbprint: Option<String>,
    /// Do not check the server certificate at all (prints a warning).
    #[arg(long)]
    pub insecure: bool,
    /// Also trust the CA certificates in this PEM file (e.g. the vCenter VMCA root).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Timeout of each API request (connect, read, whole request), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Collect every vCenter and host listed in this TOML inventory (needs --out-dir).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// How many targets of an inventory to collect at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Write one facts file per host into DIR (fleet mode).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Draw the fleet progress bar (when stderr is a terminal); off with `--quiet`.
    #[arg(skip = true)]
    pub progress: bool,
}

/// What the API/fleet collection produced.
#[derive(Debug)]
pub enum VimOutcome {
    /// Facts to write or print the usual way (`-o`, `--format`).
    Facts(Vec<HostFacts>),
    /// Files were written to `--out-dir` and a summary printed: exit with this code.
    Done(u8),
}

/// Runs the API or fleet collection when the arguments ask for it; `None`
/// when they name another source.
pub fn collect_vim(a: &VimArgs) -> Option<anyhow::Result<VimOutcome>> {
    if let Some(inv) = &a.inventory {
        return Some(run_inventory(a, inv));
    }
    let host = a.host.as_ref()?;
    Some(run_single(a, host))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_true(name: &str) -> bool {
    env(name).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

fn read_password_file(p: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("read password file {}: {e}", p.display()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        anyhow::bail!("read password file {}: the first line is empty", p.display());
    }
    Ok(line)
}

/// Looks the host up in a govc known_hosts file (`host thumbprint` lines).
fn known_host(file: &Path, host: &str, host_port: &str) -> anyhow::Result<Option<Thumbprint>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("read GOVC_TLS_KNOWN_HOSTS {}: {e}", file.display()),
    };
    for (i, line) in text.lines().enumerate() {
        let mut parts = line.split_whitespace();
        let (Some(h), Some(t)) = (parts.next(), parts.next()) else { continue };
        if h.starts_with('#') || (h != host && h != host_port) {
            continue;
        }
        return Thumbprint::parse(t).map(Some).ok_or_else(|| {
            anyhow::anyhow!(
                "read GOVC_TLS_KNOWN_HOSTS {} line {}: bad thumbprint {t:?}",
                file.display(),
                i + 1
            )
        });
    }
    Ok(None)
}

fn warn_sha1(t: &Thumbprint, url: &str) {
    if t.is_sha1() {
        eprintln!("warning: pinning {url} by a SHA-1 thumbprint; prefer its SHA-256 thumbprint");
    }
}

/// What names one host's vSphere API and how to trust and log in to it:
/// the single-host options of `collect --host`, shared with `run --host`.
pub struct ApiTarget<'a> {
    /// The URL as given; empty for a bare `--host` (read GOVC_URL).
    pub host: &'a str,
    pub user: Option<&'a str>,
    pub thumbprint: Option<&'a str>,
    pub insecure: bool,
    pub ca_file: Option<&'a Path>,
    pub password_file: Option<&'a Path>,
    /// The password itself, already read (a rolling run reads every host's
    /// before it starts); wins over the other sources.
    pub password: Option<&'a str>,
    pub timeout: u64,
}

/// Connection options for one host: URL (or GOVC_URL), user (URL,
/// `--user`, GOVC_USERNAME), password (never from argv: `--password-file`,
/// the URL, ESXUP_PASSWORD, GOVC_PASSWORD or a prompt), certificate policy
/// (`--thumbprint`, GOVC_TLS_KNOWN_HOSTS, `--insecure` with a warning).
pub fn api_options(t: &ApiTarget<'_>) -> anyhow::Result<(ConnectOptions, esxup_vim::SdkUrl)> {
    let raw = if t.host.is_empty() {
        env("GOVC_URL").ok_or_else(|| {
            hinted("--host without a URL and GOVC_URL is not set", "give --host https://HOST")
        })?
    } else {
        t.host.to_string()
    };
    let u = parse_url(&raw)?;
    let user =
        t.user.map(str::to_string).or(u.user.clone()).or_else(|| env("GOVC_USERNAME")).ok_or_else(|| {
            hinted(format!("no user name for {}", u.url), "give --user USER or set GOVC_USERNAME")
        })?;
    let password = match (t.password, t.password_file) {
        (Some(p), _) => p.to_string(),
        (None, Some(p)) => read_password_file(p)?,
        (None, None) => match u.password.clone().or_else(|| env("ESXUP_PASSWORD")).or_else(|| env("GOVC_PASSWORD")) {
            Some(p) => p,
            None if std::io::stdin().is_terminal() => esxup_collect::vim::prompt_password(&format!("Password for {user} at {}: ", u.host))
                .map_err(|e| anyhow::anyhow!("read password from the terminal: {e}"))?,
            None => {
                return Err(hinted(
                    format!("no password for {user} at {}", u.url),
                    "set ESXUP_PASSWORD (or GOVC_PASSWORD), give --password-file FILE, or run on a terminal to be asked",
                ))
            }
        },
    };
    let mode = if t.insecure || (t.thumbprint.is_none() && env_true("GOVC_INSECURE")) {
        eprintln!("warning: --insecure: the certificate of {} is NOT checked; anyone on the path can read the password", u.url);
        TlsMode::Insecure
    } else if let Some(tp) = t.thumbprint {
        let pin = Thumbprint::parse(tp).ok_or_else(|| {
            hinted(
                format!("--thumbprint {tp:?} is not a SHA-256 thumbprint"),
                "give 32 hex bytes, e.g. AA:BB:...:FF",
            )
        })?;
        warn_sha1(&pin, &u.url);
        TlsMode::Pin(pin)
    } else if let Some(file) = env("GOVC_TLS_KNOWN_HOSTS") {
        match known_host(Path::new(&file), &u.host, &u.host_port)? {
            Some(pin) => {
                warn_sha1(&pin, &u.url);
                TlsMode::Pin(pin)
            }
            None => TlsMode::Verify,
        }
    } else {
        TlsMode::Verify
    };
    let ca_file = t.ca_file.map(Path::to_path_buf).or_else(|| env("GOVC_TLS_CA_CERTS").map(PathBuf::from));
    let opts = ConnectOptions {
        url: u.url.clone(),
        user,
        password,
        tls: TlsOptions { mode, ca_file },
        timeout: Duration::from_secs(t.timeout.max(1)),
    };
    Ok((opts, u))
}

fn run_single(a: &VimArgs, host: &str) -> anyhow::Result<VimOutcome> {
    let (opts, u) = api_options(&ApiTarget {
        host,
        user: a.user.as_deref(),
        thumbprint: a.thumbprint.as_deref(),
        insecure: a.insecure,
        ca_file: a.ca_file.as_deref(),
        password_file: a.password_file.as_deref(),
        password: None,
        timeout: a.timeout,
    })?;
    if let Some(dir) = &a.out_dir {
        let job = fleet::Job { label: u.host.clone(), opts: Ok(opts) };
        return finish_fleet(vec![job], 1, dir, a.progress);
    }
    let facts = esxup_collect::vim::collect(&opts).map_err(explain)?;
    Ok(VimOutcome::Facts(facts))
}

/// Adds the hint an admin needs to the client's errors.
pub fn explain(e: esxup_vim::Error) -> anyhow::Error {
    use esxup_vim::Error as E;
    match &e {
        E::UntrustedCertificate { thumbprint, pinned, .. } => {
            let hint = if *pinned {
                format!("the certificate changed or this is another server; if you trust it now, pin it: --thumbprint {thumbprint}")
            } else {
                format!("if you trust this server, pin its certificate: --thumbprint {thumbprint} (or give its CA with --ca-file)")
            };
            hinted(e.to_string(), hint)
        }
        E::InvalidLogin { .. } => {
            hinted(e.to_string(), "check --user and the password (ESXUP_PASSWORD, --password-file)")
        }
        E::Transport { .. } => {
            let message = e.to_string();
            // The hint follows the cause esxup-vim named in the message.
            let hint = if message.contains("timed out after") {
                "the host accepted the connection but did not answer in time: check that hostd is running, or raise --timeout SECONDS"
            } else if message.contains("did not answer TLS") {
                "that port does not speak HTTPS: the vSphere API is at https://HOST (port 443)"
            } else if message.contains("key too short") {
                "replace the host's certificate (Host Client: Manage > Security > Certificates), or collect over SSH with --ssh"
            } else {
                "check the host name, the port and that the host is up; --timeout SECONDS"
            };
            match e {
                E::Transport { source: Some(cause), .. } => anyhow::Error::new(super::HintedWithCause {
                    hinted: super::Hinted { message, hint: hint.into() },
                    cause,
                }),
                _ => hinted(message, hint),
            }
        }
        _ => anyhow::Error::new(e),
    }
}

fn run_inventory(a: &VimArgs, inv: &Path) -> anyhow::Result<VimOutcome> {
    let Some(dir) = &a.out_dir else {
        return Err(hinted("--inventory writes one facts file per host", "give --out-dir DIR"));
    };
    finish_fleet(inventory_jobs(a, inv)?, a.concurrency, dir, a.progress)
}

/// Collects every target of an inventory into `dir` (one facts file per
/// host) for `check`, `plan` and `report`: the summary table goes to
/// stderr, and each target's outcome comes back (a failed target is an
/// error of its own, not of the run).
pub fn collect_inventory(a: &VimArgs, inv: &Path, dir: &Path) -> anyhow::Result<Vec<fleet::JobReport>> {
    let reports = fleet::run(inventory_jobs(a, inv)?, a.concurrency, dir, a.progress)?;
    eprint!("{}", fleet::summary_table(&reports));
    Ok(reports)
}

fn inventory_jobs(a: &VimArgs, inv: &Path) -> anyhow::Result<Vec<fleet::Job>> {
    let targets = inventory::load(inv)?;
    let jobs = targets
        .into_iter()
        .map(|t| {
            let opts = inventory_options(&t, a.user.as_deref(), a.ca_file.as_deref(), a.timeout);
            fleet::Job { label: t.label.clone(), opts }
        })
        .collect();
    Ok(jobs)
}

/// The password of an inventory entry: its `password_file`, the variable
/// its `password_env` names, or ESXUP_PASSWORD (never a prompt: many
/// targets run at once). The error says which source is missing.
pub fn inventory_password(t: &inventory::Target) -> Result<String, String> {
    match (&t.password_file, &t.password_env) {
        (Some(p), _) => read_password_file(p).map_err(|e| e.to_string()),
        (None, Some(var)) => {
            env(var).ok_or_else(|| format!("no password: environment variable {var} is not set"))
        }
        (None, None) => env("ESXUP_PASSWORD")
            .ok_or_else(|| "no password: set password_env in the inventory or ESXUP_PASSWORD".to_string()),
    }
}

/// Connection options of an inventory entry (`user`, `ca_file` and the
/// timeout fall back to the command line's).
pub fn inventory_options(
    t: &inventory::Target,
    user: Option<&str>,
    ca_file: Option<&Path>,
    timeout: u64,
) -> Result<ConnectOptions, String> {
    let user = t
        .user
        .clone()
        .or_else(|| user.map(str::to_string))
        .ok_or_else(|| "no user: set `user` in the inventory".to_string())?;
    let password = inventory_password(t)?;
    let mode = match (&t.thumbprint, t.insecure) {
        (Some(tp), _) => TlsMode::Pin(tp.clone()),
        (None, true) => TlsMode::Insecure,
        (None, false) => TlsMode::Verify,
    };
    if mode == TlsMode::Insecure {
        eprintln!("warning: {}: insecure = true: the certificate of {} is NOT checked", t.label, t.url);
    }
    Ok(ConnectOptions {
        url: t.url.clone(),
        user,
        password,
        tls: TlsOptions { mode, ca_file: t.ca_file.clone().or_else(|| ca_file.map(Path::to_path_buf)) },
        timeout: t.timeout.unwrap_or(Duration::from_secs(timeout.max(1))),
    })
}

fn finish_fleet(
    jobs: Vec<fleet::Job>,
    concurrency: usize,
    dir: &Path,
    progress: bool,
) -> anyhow::Result<VimOutcome> {
    let reports = fleet::run(jobs, concurrency, dir, progress)?;
    for r in &reports {
        if let Ok(w) = &r.result {
            for h in w {
                println!("{}", h.path.display());
            }
        }
    }
    eprint!("{}", fleet::summary_table(&reports));
    let code = fleet::exit_code(&reports);
    if code != 0 {
        for r in &reports {
            if let Err(e) = &r.result {
                if e.contains("SHA-256 thumbprint is") {
                    eprintln!(
                        "hint: {}: pin a certificate you trust with `thumbprint = \"...\"` in the inventory",
                        r.label
                    );
                }
            }
        }
    }
    Ok(VimOutcome::Done(code))
}
