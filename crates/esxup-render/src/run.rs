//! Rendering of `esxup run` (the preview, progress lines, the summary),
//! `esxup journal show` and `esxup verify`, in English or Japanese. Data
//! for JSON is the typed structs of `esxup-run` as they are.

use esxup_i18n::{t, Lang};
use esxup_run::engine::{Event, RunReport, StepOutcome, Stop};
use esxup_run::journal::{Record, RunMeta};
use esxup_run::preview::{Preview, PreviewStatus};
use esxup_run::verify::{CheckStatus, Verdict, VerifyReport};
use esxup_run::RunStep;
use std::collections::BTreeMap;
use std::fmt::Write;

fn ui(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let a: BTreeMap<String, String> = args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    t(lang, &format!("run.ui.{key}"), &a)
}

/// Message `run.<group>.<key>` filled with `args`.
fn keyed(lang: Lang, group: &str, key: &str, args: &[(&'static str, String)]) -> String {
    let a: BTreeMap<String, String> = args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    t(lang, &format!("run.{group}.{key}"), &a)
}

fn key(lang: Lang, key: &str) -> String {
    t(lang, key, &BTreeMap::new())
}

fn status(lang: Lang, s: &str) -> String {
    key(lang, &format!("run.status.{s}"))
}

/// What a step does and why (catalog `run.step.<key>.what/why`).
pub fn step_texts(lang: Lang, step: RunStep) -> (String, String) {
    (key(lang, &format!("run.step.{}.what", step.key())), key(lang, &format!("run.step.{}.why", step.key())))
}

/// `esxup run --list-steps`: the names in order, each with what it does.
pub fn list_steps(lang: Lang) -> String {
    let mut out = String::new();
    for (i, s) in RunStep::ALL.iter().enumerate() {
        let _ = writeln!(out, "{:>2}. {:<20} {}", i + 1, s.name(), step_texts(lang, *s).0);
    }
    out
}

/// Why a run stopped, in words.
pub fn stop_text(lang: Lang, stop: &Stop) -> String {
    let mut a = BTreeMap::new();
    let k = match stop {
        Stop::Manual { key: k } => return key(lang, &format!("run.manual.{k}")),
        Stop::NeedsSsh => "needs_ssh",
        Stop::NoBackup => "no_backup",
        Stop::ToolsMissing { vms } => {
            a.insert("vms".to_string(), vms.join(", "));
            "tools_missing"
        }
        Stop::SimulationFails { problems } => {
            a.insert("count".to_string(), problems.len().to_string());
            "simulation_fails"
        }
        Stop::DryRunMismatch { .. } => "dry_run_mismatch",
        Stop::VerifyFailed { mismatches } => {
            a.insert("mismatches".to_string(), mismatches.join("; "));
            "verify_failed"
        }
        Stop::NoGhettoVcb => "no_ghettovcb",
        Stop::BackupFailed { final_line } => {
            a.insert("line".to_string(), final_line.clone());
            "backup_failed"
        }
    };
    t(lang, &format!("run.stop.{k}"), &a)
}

/// Details worth a line of their own under a stop (the problems, the VIBs
/// that differ).
pub fn stop_details(stop: &Stop) -> Vec<String> {
    match stop {
        Stop::SimulationFails { problems } => problems.clone(),
        Stop::DryRunMismatch { difference: d } => {
            let mut v = Vec::new();
            for (label, list) in [
                ("esxcli installs, esxup does not", &d.installed_only_esxcli),
                ("esxup installs, esxcli does not", &d.installed_only_esxup),
                ("esxcli removes, esxup does not", &d.removed_only_esxcli),
                ("esxup removes, esxcli does not", &d.removed_only_esxup),
            ] {
                if !list.is_empty() {
                    v.push(format!("{label}: {}", list.join(", ")));
                }
            }
            v
        }
        _ => Vec::new(),
    }
}

/// A step's outcome in words.
pub fn outcome_text(lang: Lang, o: &StepOutcome) -> String {
    match o {
        StepOutcome::Done => status(lang, "done"),
        StepOutcome::AlreadySatisfied => status(lang, "already_satisfied"),
        StepOutcome::AlreadyDone => status(lang, "already_done"),
        StepOutcome::NotSelected => status(lang, "not_selected"),
        StepOutcome::NotNeeded { key: k } => {
            format!("{}: {}", status(lang, "not_needed"), key(lang, &format!("run.not_needed.{k}")))
        }
        StepOutcome::NoInput { key: k } => {
            format!("{}: {}", status(lang, "no_input"), key(lang, &format!("run.no_input.{k}")))
        }
        StepOutcome::Stopped { stop } => format!("{}: {}", status(lang, "stopped"), stop_text(lang, stop)),
    }
}

/// The preview of `esxup run` without `--yes`.
pub fn preview_text(p: &Preview, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", ui(lang, "preview", &[("host", p.host.clone())]));
    let _ = writeln!(
        out,
        "  {}",
        ui(
            lang,
            "from_to",
            &[
                ("cur_name", p.current_name.clone().unwrap_or_else(|| "ESXi".into())),
                ("cur_build", p.current_build.map(|b| b.to_string()).unwrap_or_else(|| "?".into())),
                ("tgt_name", p.target.name.clone()),
                ("tgt_build", p.target.build.to_string()),
            ],
        )
    );
    let method = match p.method {
        esxup_run::plan::Method::Esxcli => ui(lang, "method_esxcli", &[]),
        esxup_run::plan::Method::Iso => ui(lang, "method_iso", &[]),
    };
    let _ = writeln!(out, "  {}: {method}", ui(lang, "method", &[]));
    for r in &p.method_reasons {
        let _ = writeln!(out, "    - {r}");
    }
    let transport = if p.ssh && p.transport.name() == "api" {
        "api (+ ssh)".to_string()
    } else {
        p.transport.name().to_string()
    };
    let _ = writeln!(out, "  {}: {transport}", ui(lang, "transport", &[]));
    let _ = writeln!(out, "  {}: {}", ui(lang, "journal", &[]), p.journal);
    if p.journal_records > 0 {
        let _ = writeln!(
            out,
            "  {}",
            ui(lang, "resuming", &[("dir", p.journal.clone()), ("count", p.journal_records.to_string())])
        );
    }
    if !p.warnings.is_empty() {
        let _ = writeln!(out, "  {}:", ui(lang, "warnings", &[]));
        for w in &p.warnings {
            let _ = writeln!(out, "    - {w}");
        }
    }
    out.push('\n');
    for (i, s) in p.steps.iter().enumerate() {
        let word = match s.status {
            PreviewStatus::WillRun => status(lang, "will_run"),
            PreviewStatus::AlreadySatisfied => status(lang, "already_satisfied"),
            PreviewStatus::AlreadyDone => status(lang, "already_done"),
            PreviewStatus::NotSelected => status(lang, "not_selected"),
            PreviewStatus::NotNeeded => status(lang, "not_needed"),
            PreviewStatus::NoInput => status(lang, "no_input"),
            PreviewStatus::NeedsSsh => status(lang, "needs_ssh"),
            PreviewStatus::Manual => status(lang, "manual"),
            PreviewStatus::WillStop => status(lang, "stopped"),
        };
        let reason = s
            .reason
            .as_ref()
            .map(|k| t(lang, k, &s.reason_args))
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(out, "{:>2}. {} — {word}{reason}", i + 1, s.step.name());
        if matches!(s.status, PreviewStatus::WillRun | PreviewStatus::WillStop) {
            let (what, why) = step_texts(lang, s.step);
            let _ = writeln!(out, "    {}: {what}", ui(lang, "what", &[]));
            for a in &s.actions {
                let _ = writeln!(out, "    {}: {a}", ui(lang, "how", &[]));
            }
            let _ = writeln!(out, "    {}: {why}", ui(lang, "why", &[]));
        }
    }
    out.push('\n');
    let _ = writeln!(out, "{}", ui(lang, "dry_hint", &[]));
    out
}

/// A progress line of the run (stderr); `None` for events not worth one.
pub fn event_line(e: &Event, lang: Lang) -> Option<String> {
    Some(match e {
        Event::Step { step, outcome } => {
            let n = RunStep::ALL.iter().position(|s| s == step).map(|i| i + 1).unwrap_or(0);
            format!("[{n:>2}/14] {}: {}", step.name(), outcome_text(lang, outcome))
        }
        Event::Change { step, item, action, transport } => match item {
            Some(i) => format!("        {} ({i}): {action} [{transport}]", step.name()),
            None => format!("        {}: {action} [{transport}]", step.name()),
        },
        Event::Note { step, key, args } => {
            format!("        {}: {}", step.name(), keyed(lang, "note", key, args))
        }
        Event::Waiting { step, key, args } => {
            format!("        {}: {}", step.name(), keyed(lang, "wait", key, args))
        }
        Event::Switched { step, .. } => format!("        {}: {}", step.name(), ui(lang, "switched", &[])),
    })
}

/// The end of a run: finished, or where it stopped and how to go on.
pub fn summary_text(r: &RunReport, journal: &str, lang: Lang) -> String {
    let mut out = String::new();
    match &r.stopped {
        Some((step, stop)) => {
            let _ = writeln!(
                out,
                "{}",
                ui(lang, "stopped_at", &[("step", step.name().into()), ("reason", stop_text(lang, stop))])
            );
            for d in stop_details(stop) {
                let _ = writeln!(out, "  {d}");
            }
            let _ = writeln!(out, "{}", ui(lang, "resume", &[("dir", journal.to_string())]));
        }
        None => {
            let _ = writeln!(out, "{}", ui(lang, "finished", &[]));
        }
    }
    out
}

/// `esxup journal show`: one line a record.
pub fn journal_table(meta: &RunMeta, records: &[Record], lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({}): {} -> {} ({})",
        ui(lang, "journal", &[]),
        meta.host,
        meta.uuid,
        meta.build,
        meta.target.build,
        meta.target.name
    );
    let head = [
        ui(lang, "time", &[]),
        ui(lang, "step", &[]),
        ui(lang, "phase", &[]),
        ui(lang, "item", &[]),
        ui(lang, "action", &[]),
    ];
    let rows: Vec<[String; 5]> = records
        .iter()
        .map(|r| {
            let what = r
                .error
                .clone()
                .map(|e| format!("error: {e}"))
                .or(r.action.clone())
                .or(r.note.clone())
                .unwrap_or_default();
            [
                format!("{:>3} {}", r.seq, r.time),
                r.step.name().to_string(),
                r.phase.name().to_string(),
                r.item.clone().unwrap_or_default(),
                match &r.transport {
                    Some(t) if !what.is_empty() => format!("{what} [{t}]"),
                    _ => what,
                },
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter().map(|r| r[i].chars().count()).chain([head[i].chars().count()]).max().unwrap_or(0)
    };
    let w: Vec<usize> = (0..4).map(width).collect();
    let line = |c: &[String; 5]| {
        format!(
            "{:<a$}  {:<b$}  {:<c$}  {:<d$}  {}",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            a = w[0],
            b = w[1],
            c = w[2],
            d = w[3]
        )
        .trim_end()
        .to_string()
    };
    let _ = writeln!(out, "{}", line(&head));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    out
}

/// `esxup verify`: one line a comparison, then the verdict.
pub fn verify_text(r: &VerifyReport, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        ui(
            lang,
            "verify_title",
            &[
                ("host", r.host.clone().unwrap_or_else(|| "host".into())),
                ("tgt_name", r.target.name.clone()),
                ("tgt_build", r.target.build.to_string()),
            ],
        )
    );
    for c in &r.checks {
        let mark = match c.status {
            CheckStatus::Match => "ok  ",
            CheckStatus::Mismatch => "FAIL",
            CheckStatus::Unknown => "?   ",
        };
        let what = match &c.item {
            Some(i) => format!("{} {i}", c.what),
            None => c.what.clone(),
        };
        let _ = writeln!(
            out,
            "  {mark} {what}: {} {}, {} {}",
            ui(lang, "expected", &[]),
            c.expected,
            ui(lang, "found", &[]),
            c.found
        );
    }
    let v = match r.verdict() {
        Verdict::Pass => ui(lang, "verify_pass", &[]),
        Verdict::Fail => ui(lang, "verify_fail", &[]),
        Verdict::Unknown => ui(lang, "verify_unknown", &[]),
    };
    let _ = writeln!(out, "{v}");
    out
}
