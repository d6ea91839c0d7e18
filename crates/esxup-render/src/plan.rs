//! Rendering of runbooks (Markdown, JSON; HTML in [`crate::plan_html`]).
//! OWNER: plan helper (issue 6).
//!
//! Markdown is meant for the terminal and for wikis: one heading per phase,
//! one per step with a `[ ]` box, commands in `sh` blocks grouped by where
//! they run. JSON is the [`Plan`] structure itself, for a runner.

use esxup_plan::{Command, Plan, PlanFinding, PlanStatus, ReleaseRef, RunOn, Step};
use std::fmt::Write;

/// Output format of `esxup plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Markdown,
    Html,
    Json,
}

impl std::str::FromStr for PlanFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<PlanFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(PlanFormat::Markdown),
            "html" => Ok(PlanFormat::Html),
            "json" => Ok(PlanFormat::Json),
            _ => Err(format!("unknown plan format {s:?}: expected md, html or json")),
        }
    }
}

/// Renders `plan` in `format`.
pub fn render(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Markdown => markdown(plan),
        PlanFormat::Html => crate::plan_html::html(plan),
        PlanFormat::Json => json(plan),
    }
}

/// The plan as pretty JSON (the runner's input), with a final newline.
pub fn json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// `ESXi 7.0 Update 3c (build 19193900, 2022-01-27)`.
pub fn release_line(plan: &Plan, r: &ReleaseRef) -> String {
    match plan.lang {
        esxup_i18n::Lang::Ja => format!("{}（ビルド番号 {}、{} リリース）", r.name, r.build, r.release_date),
        esxup_i18n::Lang::En => format!("{} (build {}, {})", r.name, r.build, r.release_date),
    }
}

/// Label of where a command runs.
pub fn run_on_label(plan: &Plan, r: RunOn) -> String {
    let k = match r {
        RunOn::EsxiShell => "run_on_esxi-shell",
        RunOn::Workstation => "run_on_workstation",
        RunOn::Console => "run_on_console",
    };
    plan.ui(k)
}

fn status_marker(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::Ready => "✅",
        PlanStatus::ReadyWithWarnings => "⚠️",
        PlanStatus::Blocked => "⛔",
    }
}

/// Escapes table-cell text for Markdown.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn commands_block(out: &mut String, plan: &Plan, cmds: &[Command]) {
    if cmds.is_empty() {
        return;
    }
    out.push_str("```sh\n");
    let mut last: Option<RunOn> = None;
    for c in cmds {
        if last != Some(c.run_on) {
            let _ = writeln!(out, "# [{}]", run_on_label(plan, c.run_on));
            last = Some(c.run_on);
        }
        if let Some(n) = &c.note {
            let _ = writeln!(out, "# {n}");
        }
        let _ = writeln!(out, "{}", c.line);
    }
    out.push_str("```\n\n");
}

fn finding_md(out: &mut String, plan: &Plan, n: usize, f: &PlanFinding) {
    let _ = writeln!(out, "### {n}. `{}` {}\n", f.id, f.title);
    if !f.detail.is_empty() {
        let _ = writeln!(out, "{}\n", f.detail);
    }
    if !f.remedy.is_empty() {
        let _ = writeln!(out, "**{}:** {}\n", plan.ui("remedy"), f.remedy);
    }
    if !f.sources.is_empty() {
        let _ = writeln!(out, "_{}: {}_\n", plan.ui("sources"), f.sources.join("; "));
    }
}

fn step_md(out: &mut String, plan: &Plan, num: &str, s: &Step) {
    let kind = if s.automatable { plan.ui("automatable") } else { plan.ui("manual") };
    let _ = writeln!(out, "### [ ] {num} {}\n", s.title);
    let _ = writeln!(out, "`{}` · {kind}\n", s.id);
    let _ = writeln!(out, "**{}:** {}\n", plan.ui("purpose"), s.purpose);
    for n in &s.notes {
        let _ = writeln!(out, "- {n}");
    }
    if !s.notes.is_empty() {
        out.push('\n');
    }
    if !s.commands.is_empty() {
        let _ = writeln!(out, "**{}:**\n", plan.ui("commands"));
        commands_block(out, plan, &s.commands);
    }
    for f in &s.files {
        let _ = writeln!(out, "**{}:** `{}`\n", plan.ui("files"), f.path);
        let _ = writeln!(out, "```sh\n{}```\n", f.content);
    }
    let _ = writeln!(out, "**{}:** {}\n", plan.ui("verify"), s.verify.text);
    commands_block(out, plan, &s.verify.commands);
    if let Some(e) = &s.verify.expect {
        let _ = writeln!(out, "_{}:_ `{e}`\n", plan.ui("expect"));
    }
    let _ = writeln!(out, "**{}:** {}\n", plan.ui("on_failure"), s.on_failure);
    if !s.sources.is_empty() {
        let _ = writeln!(out, "_{}: {}_\n", plan.ui("sources"), s.sources.join("; "));
    }
}

/// The plan as Markdown.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", plan.title);
    let _ = writeln!(out, "> {} **{}**\n", status_marker(plan.status), plan.status_text);
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| {} | {} |", plan.ui("host"), cell(&plan.host));
    if let Some(c) = &plan.current {
        let _ = writeln!(out, "| {} | {} |", plan.ui("installed"), cell(&release_line(plan, c)));
    }
    let _ = writeln!(out, "| {} | {} |", plan.ui("requested"), cell(&release_line(plan, &plan.requested)));
    let mut route = release_line(plan, &plan.route.target);
    if let Some(p) = &plan.route.target.image_profile {
        route.push_str(&format!(" `{p}`"));
    }
    let _ = writeln!(out, "| {} | {} |", plan.ui("route"), cell(&route));
    if !plan.route.via.is_empty() {
        let via: Vec<String> = plan.route.via.iter().map(|r| release_line(plan, r)).collect();
        let _ = writeln!(out, "| {} | {} |", plan.ui("via"), cell(&via.join(" → ")));
    }
    let _ = writeln!(out, "| {} | {} |", plan.ui("method"), plan.ui(&format!("method_{}", plan.method.kind)));
    let _ = writeln!(out, "| {} | {} |\n", plan.ui("generated"), plan.generated_on);
    let _ = writeln!(out, "**{}**\n", plan.route.label);

    if plan.status == PlanStatus::Blocked || !plan.blockers.is_empty() {
        let _ = writeln!(out, "## {}\n", plan.ui("blockers"));
        for (i, f) in plan.blockers.iter().enumerate() {
            finding_md(&mut out, plan, i + 1, f);
        }
    }
    if !plan.ways_out.is_empty() {
        let _ = writeln!(out, "## {}\n", plan.ui("ways_out"));
        for (i, w) in plan.ways_out.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, w.text);
        }
        out.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "## {}\n", plan.ui("warnings"));
        for (i, f) in plan.warnings.iter().enumerate() {
            finding_md(&mut out, plan, i + 1, f);
        }
    }
    if !plan.notes.is_empty() {
        // One line each: what the check noted that needs no decision now.
        let _ = writeln!(out, "## {}\n", plan.ui("info_findings"));
        for f in &plan.notes {
            let _ = writeln!(out, "- `{}` {} — {}", f.id, f.title, f.remedy);
        }
        out.push('\n');
    }
    if !plan.method.reasons.is_empty() {
        let _ =
            writeln!(out, "## {}: {}\n", plan.ui("method"), plan.ui(&format!("method_{}", plan.method.kind)));
        for r in &plan.method.reasons {
            let _ = writeln!(out, "- {r}");
        }
        out.push('\n');
    }
    // A task list (GitHub/GitLab wikis render it as tickable boxes).
    let _ = writeln!(out, "## {}\n", plan.ui("checklist"));
    for (pi, phase) in plan.phases.iter().enumerate() {
        let _ = writeln!(out, "- **{}. {}**", pi + 1, phase.title);
        for (si, s) in phase.steps.iter().enumerate() {
            let _ = writeln!(out, "  - [ ] {}.{} {} (`{}`)", pi + 1, si + 1, s.title, s.id);
        }
    }
    out.push('\n');
    for (pi, phase) in plan.phases.iter().enumerate() {
        let _ = writeln!(out, "## {}. {}\n", pi + 1, phase.title);
        for (si, s) in phase.steps.iter().enumerate() {
            step_md(&mut out, plan, &format!("{}.{}", pi + 1, si + 1), s);
        }
    }
    if !plan.sources.is_empty() {
        let _ = writeln!(out, "## {}\n", plan.ui("sources"));
        for s in &plan.sources {
            let _ = writeln!(out, "- {s}");
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
