//! `esxup run --inventory FILE`: the rolling upgrade of many hosts, in
//! waves, each host run exactly as `esxup run` runs one
//! ([`super::run::run_host`]), with a journal of its own.
//!
//! The rules, and why:
//! - **One host per cluster at a time.** A host of a cluster is started only
//!   when no other host of that cluster is being upgraded or was left in
//!   maintenance mode, and (with a `[[vcenter]]` in the inventory) when the
//!   vCenter, asked again just before, reports no host of the cluster in
//!   maintenance mode that is not part of this run. The capacity of a
//!   cluster is sized for one host away (N+1); two away can stop VMs.
//! - **A cluster stays held while its host may be in maintenance mode.**
//!   After each host the run reads the host's maintenance mode once more;
//!   only "not in maintenance mode" frees the cluster. A host that stopped
//!   for the ISO installer, failed, or could not be read holds it until a
//!   later run (the same command) finishes it: hosts with a journal are
//!   taken first.
//! - **Stop after the first failure** (`--keep-going` goes on with the
//!   other clusters). A host the check blocks changed nothing: it is a row,
//!   not a failure. A host waiting for the ISO installer is planned, not a
//!   failure.
//! - Every password is read before the first host starts (the inventory's
//!   `password_env` / `password_file`, or ESXUP_PASSWORD; on a terminal a
//!   prompt per host), the licence key once: worker threads never prompt.
//!
//! Output: each host's narration on stderr, every line prefixed
//! `[host] `; the summary table on stdout (`--format json`: rows).
//! Exit codes: 0 every host done (or, without --yes, every preview
//! printed); 1 some host blocked, stopped on purpose (the ISO installer
//! comes next) or not started; 2 some host failed, or the inventory
//! cannot be used.

use super::collect_vim::{explain, inventory_options, inventory_password};
use super::run::{self, ConnArgs, EndKind, Format, HostEnd, RunArgs};
use super::{hinted, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_collect::fleet::inventory::{self, Target, TargetKind};
use esxup_collect::fleet::safe_stem;
use esxup_collect::vim::ClusterMember;
use esxup_run::journal::Journal;
use esxup_run::rolling::{
    Blocked, PreviewHost, RollingPreview, RollingReport, RollingRow, ROLLING_SCHEMA_VERSION,
};
use esxup_run::transport::Secret;
use esxup_run::RunStep;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// A host of the rolling run, ready to start.
struct Member {
    label: String,
    /// `None`: standalone (no other host waits for it).
    cluster: Option<String>,
    /// The `[[vcenter]]` that reported the cluster (asked again before each start).
    vcenter: Option<usize>,
    args: RunArgs,
    /// A journal existed when the run started (an earlier run's host).
    resumed: bool,
    /// Its position in the cluster's order (1 = first), for the wave plan.
    wave: usize,
}

/// How a host's row ends.
#[derive(Clone, Debug)]
enum Row {
    Ended { end: HostEnd, mm_after: Option<bool> },
    Failed { error: String, mm_after: Option<bool> },
    NotStarted { why: String },
}

/// Why a cluster cannot take another host now.
#[derive(Clone, Debug)]
struct Hold {
    host: String,
    why: String,
}

fn err_text(e: &anyhow::Error) -> String {
    let mut s = e.to_string();
    for c in e.chain().skip(1) {
        s.push_str(": ");
        s.push_str(&c.to_string());
    }
    if let Some(h) = super::hint_of(e) {
        s.push_str(" (hint: ");
        s.push_str(h);
        s.push(')');
    }
    s
}

/// The rolling run.
pub fn run_inventory(g: &Global, mut a: RunArgs) -> anyhow::Result<u8> {
    let path = a.inventory.clone().expect("called with --inventory");
    let targets = inventory::load(&path).map_err(|e| {
        hinted(
            e.to_string(),
            "the format is `esxup collect --help`'s inventory; see docs/run.md \"Rolling runs\"",
        )
    })?;
    if a.concurrency == 0 {
        return Err(hinted("--concurrency 0 would start no host", "give --concurrency 1 or more"));
    }
    // The cluster is freed once its host is out of maintenance mode: a
    // selection that enters it but never leaves would hold every cluster.
    let sel =
        esxup_run::engine::Selection { only: a.only.clone(), skip: a.skip.clone(), with: a.with.clone() };
    if sel.selected(RunStep::MaintenanceOn) && !sel.selected(RunStep::MaintenanceOff) {
        return Err(hinted(
            "a rolling run must take each host out of maintenance mode again: maintenance-off is not selected",
            "select maintenance-off too (or leave --only/--skip out): the next host of the cluster waits for it",
        ));
    }
    let (vcenters, hosts): (Vec<Target>, Vec<Target>) =
        targets.into_iter().partition(|t| t.kind == TargetKind::VCenter);
    if hosts.is_empty() {
        return Err(hinted(
            format!("inventory {} lists no [[host]] to upgrade", path.display()),
            "a rolling run upgrades the [[host]] entries; a [[vcenter]] only says their clusters",
        ));
    }
    let base = a.journal.clone().unwrap_or_else(|| PathBuf::from("esxup-journal"));
    // The licence key once, before any thread starts.
    let license_runs = sel.selected(RunStep::License);
    a.license = run::license_key(&a, license_runs)?;
    let mut rows: Vec<Option<Row>> = vec![None; hosts.len()];
    let vc_opts: Vec<Result<esxup_vim::ConnectOptions, String>> = vcenters
        .iter()
        .map(|t| inventory_options(t, a.conn.user.as_deref(), a.conn.ca_file.as_deref(), a.conn.timeout))
        .collect();
    // Which cluster each host is in, from every vCenter of the inventory.
    let mut topology: Vec<Vec<ClusterMember>> = Vec::new();
    for (t, o) in vcenters.iter().zip(&vc_opts) {
        let o = o.as_ref().map_err(|e| hinted(format!("{}: {e}", t.label), "fix the [[vcenter]] entry"))?;
        eprintln!("reading the clusters of {}", t.label);
        let m = esxup_collect::vim::cluster_members(o)
            .map_err(explain)
            .with_context(|| format!("read the clusters and hosts of {}", t.label))?;
        topology.push(m);
    }
    let mut members: Vec<Option<Member>> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut cluster_count: HashMap<String, usize> = HashMap::new();
    for (i, t) in hosts.iter().enumerate() {
        let dir = base.join(safe_stem(&t.label));
        let fail = |error: String| Row::Failed { error, mm_after: None };
        if let Some(prev) = seen.insert(safe_stem(&t.label), t.label.clone()) {
            rows[i] = Some(fail(format!(
                "a second [[host]] with the journal folder of {prev}: give it another `name`"
            )));
            members.push(None);
            continue;
        }
        let (cluster, vcenter) = match resolve_cluster(t, &vcenters, &topology) {
            Ok(x) => x,
            Err(e) => {
                rows[i] = Some(fail(e));
                members.push(None);
                continue;
            }
        };
        let password = match read_password(t) {
            Ok(p) => p,
            Err(e) => {
                rows[i] = Some(fail(e));
                members.push(None);
                continue;
            }
        };
        let mut args = a.clone();
        args.inventory = None;
        args.journal = Some(dir.clone());
        args.conn = ConnArgs {
            host: Some(t.url.clone()),
            user: t.user.clone().or_else(|| a.conn.user.clone()),
            thumbprint: t.thumbprint.as_ref().map(|p| p.to_string()),
            insecure: t.insecure,
            ca_file: t.ca_file.clone().or_else(|| a.conn.ca_file.clone()),
            password_file: None,
            timeout: t.timeout.map(|d| d.as_secs()).unwrap_or(a.conn.timeout),
            ssh: t.run.ssh.clone(),
            known_hosts: t.run.known_hosts.clone().or_else(|| a.conn.known_hosts.clone()),
            ssh_fingerprint: t.run.ssh_fingerprint.clone(),
            identity: t.run.identity.clone().or_else(|| a.conn.identity.clone()),
            password: Some(Secret::new(password)),
            label: Some(t.label.clone()),
        };
        let wave = match &cluster {
            Some(c) => {
                let n = cluster_count.entry(c.clone()).or_insert(0);
                *n += 1;
                *n
            }
            None => 1,
        };
        members.push(Some(Member {
            label: t.label.clone(),
            cluster,
            vcenter,
            args,
            resumed: Journal::exists(&dir),
            wave,
        }));
    }
    if !a.yes {
        return preview_all(g, &a, &members, rows);
    }
    let n = members.iter().flatten().count();
    if n > 0 && !confirm_fleet(n)? {
        eprintln!("not confirmed: nothing was changed");
        return Ok(EXIT_ERROR);
    }
    schedule(g, &a, &members, &mut rows, &vc_opts);
    let rows: Vec<Row> =
        rows.into_iter().map(|r| r.unwrap_or(Row::NotStarted { why: "not started".into() })).collect();
    print_summary(&a, &hosts, &members, &rows)
}

/// The host's cluster: its own `cluster` field, else the vCenter that
/// manages a host of its name. With a vCenter in the inventory, a host none
/// of them knows is refused: its cluster cannot be checked.
fn resolve_cluster(
    t: &Target,
    vcenters: &[Target],
    topology: &[Vec<ClusterMember>],
) -> Result<(Option<String>, Option<usize>), String> {
    if let Some(c) = &t.run.cluster {
        return Ok(((!c.is_empty()).then(|| c.clone()), None));
    }
    if vcenters.is_empty() {
        return Ok((None, None));
    }
    let url_host = esxup_vim::parse_url(&t.url).map(|u| u.host).unwrap_or_default();
    for (vi, hosts) in topology.iter().enumerate() {
        if let Some(m) = hosts
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(&t.label) || m.name.eq_ignore_ascii_case(&url_host))
        {
            return Ok((m.cluster.as_ref().map(|c| format!("{}/{c}", vcenters[vi].label)), Some(vi)));
        }
    }
    Err(format!(
        "no [[vcenter]] of the inventory manages a host named {} (or {url_host}): its cluster is unknown; \
         set `cluster = \"NAME\"` on the [[host]] (\"\" for a standalone host) or name it as the vCenter does",
        t.label
    ))
}

/// A host's password, read before any host starts: the inventory's
/// sources, then GOVC_PASSWORD, then (on a terminal) a prompt.
fn read_password(t: &Target) -> Result<String, String> {
    match inventory_password(t) {
        Ok(p) => Ok(p),
        Err(e) => {
            if let Some(p) = std::env::var("GOVC_PASSWORD").ok().filter(|p| !p.is_empty()) {
                return Ok(p);
            }
            if std::io::stdin().is_terminal() {
                let user = t.user.as_deref().unwrap_or("root");
                return esxup_collect::vim::prompt_password(&format!("Password for {user} at {}: ", t.label))
                    .map_err(|e| format!("read the password from the terminal: {e}"));
            }
            Err(e)
        }
    }
}

/// On a terminal, the admin types the number of hosts (one prompt for the
/// whole run); otherwise --yes is the confirmation, as for one host.
fn confirm_fleet(n: usize) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    eprint!("Upgrade {n} host(s), one per cluster at a time? Type {n} to go on: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("read the confirmation")?;
    Ok(line.trim() == n.to_string())
}

/// Without --yes: every host's preview, in inventory order, then the wave
/// plan. Nothing is changed.
fn preview_all(
    g: &Global,
    a: &RunArgs,
    members: &[Option<Member>],
    mut rows: Vec<Option<Row>>,
) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    let mut json_hosts = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let Some(m) = m else { continue };
        run::set_prefix(Some(&m.label));
        let r = run::run_host(g, &m.args, true);
        run::set_prefix(None);
        match r {
            Ok(end) => {
                if a.format == Format::Text {
                    writeln!(out, "== {} ({}, wave {}) ==", m.label, cluster_text(&m.cluster), m.wave)?;
                    if let Some(p) = &end.preview {
                        out.write_all(p.as_bytes())?;
                    }
                    if let EndKind::Blocked { what, blockers } = &end.kind {
                        writeln!(out, "blocked: {what}: {}", blockers.join(", "))?;
                    }
                    writeln!(out)?;
                } else {
                    let preview = end
                        .preview
                        .as_deref()
                        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok());
                    json_hosts.push(PreviewHost {
                        host: Some(m.label.clone()),
                        cluster: m.cluster.clone(),
                        wave: Some(m.wave),
                        preview,
                        blocked: match &end.kind {
                            EndKind::Blocked { what, blockers } => {
                                Some(Blocked { what: what.clone(), blockers: blockers.clone() })
                            }
                            _ => None,
                        },
                        error: None,
                    });
                }
                rows[i] = Some(Row::Ended { end, mm_after: None });
            }
            Err(e) => {
                let error = err_text(&e);
                eprintln!("[{}] error: {}", super::out::visible(&m.label), super::out::visible(&error));
                if a.format == Format::Json {
                    json_hosts.push(PreviewHost {
                        host: Some(m.label.clone()),
                        cluster: m.cluster.clone(),
                        wave: Some(m.wave),
                        preview: None,
                        blocked: None,
                        error: Some(error.clone()),
                    });
                }
                rows[i] = Some(Row::Failed { error, mm_after: None });
            }
        }
    }
    for (i, r) in rows.iter().enumerate() {
        if let (Some(Row::Failed { error, .. }), None) = (r, &members[i]) {
            if a.format == Format::Json {
                json_hosts.push(PreviewHost {
                    host: None,
                    cluster: None,
                    wave: None,
                    preview: None,
                    blocked: None,
                    error: Some(format!("[[host]] #{}: {error}", i + 1)),
                });
            } else {
                eprintln!("error: [[host]] #{}: {}", i + 1, super::out::visible(error));
            }
        }
    }
    if a.format == Format::Json {
        let v = RollingPreview {
            schema_version: ROLLING_SCHEMA_VERSION,
            concurrency: a.concurrency,
            hosts: json_hosts,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&v).context("serialise JSON")?)?;
    } else {
        writeln!(out, "Waves (at most one host per cluster at a time, up to {} at once):", a.concurrency)?;
        let mut table = vec![["HOST".to_string(), "CLUSTER".into(), "WAVE".into(), "JOURNAL".into()]];
        for m in members.iter().flatten() {
            table.push([
                m.label.clone(),
                cluster_text(&m.cluster),
                m.wave.to_string(),
                format!(
                    "{}{}",
                    m.args.journal.as_deref().unwrap_or(Path::new("")).display(),
                    if m.resumed { " (resumes)" } else { "" }
                ),
            ]);
        }
        out.write_all(super::out::visible(&columns(&table)).as_bytes())?;
        writeln!(out, "Nothing was changed: add --yes to run.")?;
    }
    let any_failed = rows.iter().any(|r| matches!(r, Some(Row::Failed { .. })));
    let any_blocked = rows
        .iter()
        .any(|r| matches!(r, Some(Row::Ended { end, .. }) if matches!(end.kind, EndKind::Blocked { .. })));
    Ok(if any_failed {
        EXIT_ERROR
    } else if any_blocked {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn cluster_text(c: &Option<String>) -> String {
    c.clone().unwrap_or_else(|| "-".into())
}

/// Left-aligned columns, two spaces apart.
fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut w = [0usize; N];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| if i + 1 == N { c.clone() } else { format!("{c:<width$}", width = w[i]) })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Hosts of this run's clusters that the vCenter reports in maintenance
/// mode and that are not part of the run: their cluster is held.
fn outside_holds(
    vc_opts: &[Result<esxup_vim::ConnectOptions, String>],
    vc: usize,
    cluster: &str,
    ours: &HashSet<String>,
) -> Result<Option<Hold>, String> {
    let Some(Ok(o)) = vc_opts.get(vc) else { return Ok(None) };
    let members = esxup_collect::vim::cluster_members(o).map_err(|e| e.to_string())?;
    // Cluster labels are `<vcenter label>/<cluster>`.
    let name = cluster.split_once('/').map(|(_, c)| c).unwrap_or(cluster);
    Ok(members
        .into_iter()
        .find(|m| {
            m.cluster.as_deref() == Some(name)
                && m.in_maintenance_mode == Some(true)
                && !ours.iter().any(|o| o.eq_ignore_ascii_case(&m.name))
        })
        .map(|m| Hold { host: m.name, why: "is in maintenance mode and not part of this run".into() }))
}

/// Starts hosts as slots and clusters free up, until none can start.
fn schedule(
    g: &Global,
    a: &RunArgs,
    members: &[Option<Member>],
    rows: &mut [Option<Row>],
    vc_opts: &[Result<esxup_vim::ConnectOptions, String>],
) {
    // Hosts an earlier run left with a journal first: they may hold their
    // cluster (in maintenance mode, waiting for the installer).
    let mut queue: Vec<usize> = (0..members.len()).filter(|&i| members[i].is_some()).collect();
    queue.sort_by_key(|&i| !members[i].as_ref().is_some_and(|m| m.resumed));
    let ours: HashSet<String> = members.iter().flatten().map(|m| m.label.clone()).collect();
    let mut held: HashMap<String, Hold> = HashMap::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut active = 0usize;
    let mut stop: Option<String> = None;
    let (tx, rx) = mpsc::channel::<(usize, anyhow::Result<HostEnd>, Option<bool>)>();
    std::thread::scope(|s| {
        loop {
            // Start what may start.
            let mut k = 0;
            while active < a.concurrency && stop.is_none() && k < queue.len() {
                let i = queue[k];
                let m = members[i].as_ref().expect("queued hosts are members");
                if let Some(c) = &m.cluster {
                    if running.contains(c) || held.contains_key(c) {
                        k += 1;
                        continue;
                    }
                    if let Some(vc) = m.vcenter {
                        match outside_holds(vc_opts, vc, c, &ours) {
                            Ok(Some(h)) => {
                                eprintln!(
                                    "[{}] not started: {} {} (cluster {c})",
                                    super::out::visible(&m.label),
                                    super::out::visible(&h.host),
                                    h.why
                                );
                                held.insert(c.clone(), h);
                                k += 1;
                                continue;
                            }
                            Ok(None) => {}
                            Err(e) => {
                                // Without the vCenter's answer the cluster
                                // cannot be checked: it is not entered.
                                let h = Hold {
                                    host: "the vCenter".into(),
                                    why: format!("could not be asked ({e})"),
                                };
                                eprintln!(
                                    "[{}] not started: {} {}",
                                    super::out::visible(&m.label),
                                    h.host,
                                    h.why
                                );
                                held.insert(c.clone(), h);
                                k += 1;
                                continue;
                            }
                        }
                    }
                    running.insert(c.clone());
                }
                queue.remove(k);
                active += 1;
                let tx = tx.clone();
                let args = &m.args;
                let label = m.label.clone();
                s.spawn(move || {
                    run::set_prefix(Some(&label));
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run::run_host(g, args, true)
                    }))
                    .unwrap_or_else(|_| {
                        Err(anyhow::anyhow!(
                            "internal error while running this host (a bug: please report it)"
                        ))
                    });
                    if let Err(e) = &r {
                        run::say(&format!("error: {}", err_text(e)));
                    }
                    // Read the host back: only "out of maintenance mode"
                    // frees its cluster.
                    let journal = args.journal.as_deref().unwrap_or(Path::new(""));
                    let mm = if Journal::exists(journal) {
                        run::maintenance_after(&args.conn)
                    } else {
                        Some(false)
                    };
                    run::set_prefix(None);
                    let _ = tx.send((i, r, mm));
                });
            }
            if active == 0 {
                break;
            }
            let Ok((i, r, mm)) = rx.recv() else { break };
            active -= 1;
            let m = members[i].as_ref().expect("finished hosts are members");
            let (failed, hold) = match &r {
                Ok(end) => match &end.kind {
                    EndKind::Done | EndKind::Previewed => (
                        false,
                        (mm != Some(false)).then(|| Hold {
                            host: m.label.clone(),
                            why: if mm.is_none() {
                                "could not be read back after its run".into()
                            } else {
                                "is still in maintenance mode".into()
                            },
                        }),
                    ),
                    EndKind::Blocked { .. } => (false, None),
                    EndKind::NotConfirmed => (true, None),
                    EndKind::Stopped { manual, .. } => (
                        !manual,
                        (mm != Some(false)).then(|| Hold {
                            host: m.label.clone(),
                            why: if *manual {
                                "waits in maintenance mode for a step by hand (the ISO installer)".into()
                            } else {
                                "stopped in maintenance mode".into()
                            },
                        }),
                    ),
                },
                Err(_) => (
                    true,
                    (mm != Some(false)).then(|| Hold {
                        host: m.label.clone(),
                        why: if mm.is_none() {
                            "failed and could not be read back".into()
                        } else {
                            "failed in maintenance mode".into()
                        },
                    }),
                ),
            };
            if let Some(c) = &m.cluster {
                running.remove(c);
                if let Some(h) = hold {
                    held.insert(c.clone(), h);
                }
            }
            if failed && !a.keep_going && stop.is_none() {
                stop = Some(m.label.clone());
                eprintln!(
                    "[{}] failed: no further host is started (--keep-going goes on with the other clusters)",
                    super::out::visible(&m.label)
                );
            }
            rows[i] = Some(match r {
                Ok(end) => Row::Ended { end, mm_after: mm },
                Err(e) => Row::Failed { error: err_text(&e), mm_after: mm },
            });
        }
    });
    for i in queue {
        let m = members[i].as_ref().expect("queued hosts are members");
        let why = match (&stop, m.cluster.as_ref().and_then(|c| held.get(c).map(|h| (c, h)))) {
            (_, Some((c, h))) => format!("not started: cluster {c} is held: {} {}", h.host, h.why),
            (Some(f), None) => {
                format!("not started: the run stopped after {f} failed (--keep-going goes on)")
            }
            (None, None) => "not started".into(),
        };
        rows[i] = Some(Row::NotStarted { why });
    }
}

/// The summary table (stdout) and the exit code.
fn print_summary(
    a: &RunArgs,
    hosts: &[Target],
    members: &[Option<Member>],
    rows: &[Row],
) -> anyhow::Result<u8> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut table = vec![[
        "HOST".to_string(),
        "CLUSTER".into(),
        "BUILD".into(),
        "TARGET".into(),
        "RESULT".into(),
        "JOURNAL".into(),
    ]];
    let mut json_rows = Vec::new();
    let mut worst = EXIT_OK;
    for (i, r) in rows.iter().enumerate() {
        let label = hosts[i].label.clone();
        let m = members[i].as_ref();
        let cluster = m.and_then(|m| m.cluster.clone());
        let journal = m.and_then(|m| m.args.journal.clone());
        let (result, word, from, target): (String, &str, Option<u32>, Option<String>) = match r {
            Row::Ended { end, mm_after } => {
                let t = end.target.as_ref().map(|t| format!("{} ({})", t.build, t.name));
                let still = if *mm_after == Some(true) { "; still in maintenance mode" } else { "" };
                match &end.kind {
                    EndKind::Done | EndKind::Previewed => (format!("done{still}"), "done", end.from, t),
                    EndKind::Blocked { what, blockers } => {
                        (format!("blocked: {what}: {}", blockers.join(", ")), "blocked", end.from, t)
                    }
                    EndKind::Stopped { step, manual: true, reason } => {
                        (format!("waiting at {}: {reason}", step.name()), "waiting", end.from, t)
                    }
                    EndKind::Stopped { step, manual: false, reason } => {
                        (format!("stopped at {}: {reason}", step.name()), "stopped", end.from, t)
                    }
                    EndKind::NotConfirmed => ("not confirmed".into(), "failed", end.from, t),
                }
            }
            Row::Failed { error, mm_after, .. } => {
                let still = match mm_after {
                    Some(true) => " (in maintenance mode)",
                    None if journal.as_deref().is_some_and(Journal::exists) => " (state unknown)",
                    _ => "",
                };
                (format!("failed{still}: {error}"), "failed", None, None)
            }
            Row::NotStarted { why } => (why.clone(), "not started", None, None),
        };
        *counts.entry(word).or_default() += 1;
        worst = worst.max(match word {
            "done" => EXIT_OK,
            "failed" => EXIT_ERROR,
            _ => EXIT_FINDINGS,
        });
        let journal_text = match (&journal, r) {
            (Some(j), _) if Journal::exists(j) => j.display().to_string(),
            _ => "-".into(),
        };
        json_rows.push(RollingRow {
            host: label.clone(),
            cluster: cluster.clone(),
            build: from,
            target: target.clone(),
            result: word.to_string(),
            detail: result.clone(),
            journal: (journal_text != "-").then(|| journal_text.clone()),
        });
        table.push([
            label,
            cluster_text(&cluster),
            from.map(|b| b.to_string()).unwrap_or_else(|| "-".into()),
            target.unwrap_or_else(|| "-".into()),
            result,
            journal_text,
        ]);
    }
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Text => out.write_all(super::out::visible(&columns(&table)).as_bytes())?,
        Format::Json => {
            let totals = counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            let v = RollingReport { schema_version: ROLLING_SCHEMA_VERSION, hosts: json_rows, totals };
            writeln!(out, "{}", serde_json::to_string_pretty(&v).context("serialise JSON")?)?;
        }
    }
    let totals: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    eprintln!("rolling run: {}", totals.join(", "));
    Ok(worst)
}
