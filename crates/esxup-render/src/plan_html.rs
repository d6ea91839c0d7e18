//! A runbook as ONE self-contained HTML file: no external assets (inline
//! CSS and JS), printable (`@media print`), with a checklist whose ticks
//! persist in the browser's localStorage and a progress counter.
//! OWNER: plan helper (issue 6).
//!
//! The script marks `<body data-js="ready">` and keeps `data-done` /
//! `data-total` current, which the headless-Chromium test reads back.

use crate::plan::{release_line, run_on_label};
use esxup_plan::{Command, Plan, PlanFinding, PlanStatus, RunOn, Step};
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
:root{--fg:#1d232a;--muted:#5b6670;--line:#d6dbe0;--bg:#fff;--code:#f4f6f8;--ok:#1e7b34;--warn:#9a6200;--bad:#b3261e;--accent:#0b5cab}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP","Yu Gothic",Meiryo,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:980px;margin:0 auto;padding:24px 20px 60px}
h1{font-size:1.6em;margin:.2em 0 .6em}
h2{font-size:1.25em;margin:1.6em 0 .6em;padding-bottom:.25em;border-bottom:2px solid var(--line)}
h3{font-size:1.05em;margin:0;display:flex;gap:.6em;align-items:baseline;flex-wrap:wrap}
.status{padding:12px 14px;border-radius:6px;font-weight:600;border-left:6px solid}
.status.ready{background:#eaf6ec;border-color:var(--ok)}
.status.ready-with-warnings{background:#fff5e0;border-color:var(--warn)}
.status.blocked{background:#fdecea;border-color:var(--bad)}
table.facts{border-collapse:collapse;margin:12px 0;width:100%}
table.facts th{text-align:left;color:var(--muted);font-weight:500;padding:4px 12px 4px 0;white-space:nowrap;vertical-align:top;width:1%}
table.facts td{padding:4px 0}
.route{font-weight:600}
.toolbar{position:sticky;top:0;z-index:2;background:rgba(255,255,255,.95);border-bottom:1px solid var(--line);padding:8px 0;margin:8px 0 0;display:flex;gap:12px;align-items:center}
.toc{font-size:14px;margin:10px 0 0}
.toc a{color:var(--accent);text-decoration:none}
.bar{flex:1;height:8px;background:#e8ecef;border-radius:4px;overflow:hidden}
.bar span{display:block;height:100%;width:0;background:var(--ok);transition:width .2s}
button{font:inherit;padding:4px 10px;border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
.finding{border:1px solid var(--line);border-left:5px solid var(--bad);border-radius:6px;padding:10px 14px;margin:10px 0}
.finding.warning{border-left-color:var(--warn)}
.finding h3 code{font-size:.85em;color:var(--muted)}
ol.ways li{margin:.4em 0}
article.step{border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin:12px 0;break-inside:avoid}
article.step.done{background:#f3faf4;border-color:#b9dcc0}
article.step.done h3 .title{text-decoration:line-through;text-decoration-color:#7fb58b}
input.tick{width:1.2em;height:1.2em;margin:0;flex:none;transform:translateY(.15em)}
.sid{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--muted)}
.badge{font-size:12px;padding:1px 8px;border-radius:10px;border:1px solid var(--line);color:var(--muted)}
.badge.auto{border-color:#9cc3e8;color:var(--accent)}
.lbl{font-weight:600}
ul.notes{margin:.4em 0 .6em;padding-left:1.3em}
.where{font-size:12px;color:var(--muted);margin:.6em 0 .1em}
pre{background:var(--code);border:1px solid var(--line);border-radius:4px;padding:8px 10px;margin:.2em 0;overflow-x:auto;position:relative}
pre code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre}
.cmt{color:var(--muted)}
.ph{background:#fff3c4;border-radius:3px;padding:0 2px;color:#7a4b00}
pre .copy{position:absolute;top:4px;right:4px;font-size:11px;padding:1px 6px;opacity:.7}
.expect code{background:var(--code);padding:0 4px;border-radius:3px}
.fail{color:#5c1d18}
.src{font-size:12px;color:var(--muted)}
footer{margin-top:2em;font-size:13px;color:var(--muted)}
@media print{
 .no-print,.copy{display:none!important}
 body{font-size:10.5pt}
 main{max-width:none;padding:0}
 .toolbar{position:static}
 article.step,.finding{break-inside:avoid;page-break-inside:avoid}
 h2{break-after:avoid}
 pre{white-space:pre-wrap;word-break:break-all}
 pre code{white-space:pre-wrap}
 article.step.done{background:none}
}
"#;

const JS: &str = r#"
(function () {
  var body = document.body;
  var key = 'esxup-plan:' + body.getAttribute('data-plan-key');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input.tick'));
  var progress = document.getElementById('progress');
  var fill = document.getElementById('bar-fill');
  var label = progress ? progress.getAttribute('data-label') : '';
  var store = null;
  try { store = window.localStorage; store.getItem(key); } catch (e) { store = null; }
  var state = {};
  try { state = JSON.parse((store && store.getItem(key)) || '{}') || {}; } catch (e) { state = {}; }
  function save() {
    if (!store) return;
    try { store.setItem(key, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ }
  }
  function update() {
    var done = 0;
    boxes.forEach(function (b) {
      if (b.checked) done++;
      var art = document.getElementById('step-' + b.getAttribute('data-step'));
      if (art) art.classList.toggle('done', b.checked);
    });
    if (progress) progress.textContent = done + ' / ' + boxes.length + ' ' + label;
    if (fill) fill.style.width = (boxes.length ? (100 * done / boxes.length) : 0) + '%';
    body.setAttribute('data-done', String(done));
    body.setAttribute('data-total', String(boxes.length));
  }
  boxes.forEach(function (b) {
    var id = b.getAttribute('data-step');
    b.checked = state[id] === true;
    b.addEventListener('change', function () {
      if (b.checked) { state[id] = true; } else { delete state[id]; }
      save();
      update();
    });
  });
  var reset = document.getElementById('reset');
  if (reset) reset.addEventListener('click', function () {
    state = {};
    boxes.forEach(function (b) { b.checked = false; });
    save();
    update();
  });
  var printBtn = document.getElementById('print');
  if (printBtn) printBtn.addEventListener('click', function () { window.print(); });
  Array.prototype.forEach.call(document.querySelectorAll('pre'), function (pre) {
    var code = pre.querySelector('code');
    if (!code) return;
    var btn = document.createElement('button');
    btn.className = 'copy';
    btn.type = 'button';
    btn.textContent = 'copy';
    btn.addEventListener('click', function () {
      var text = Array.prototype.filter.call(code.childNodes, function (n) {
        return !(n.nodeType === 1 && n.classList.contains('cmt'));
      }).map(function (n) { return n.textContent; }).join('').replace(/^\s*\n/gm, '');
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).catch(function () {});
      }
    });
    pre.appendChild(btn);
  });
  update();
  body.setAttribute('data-js', 'ready');
})();
"#;

fn code_block(out: &mut String, plan: &Plan, cmds: &[Command]) {
    if cmds.is_empty() {
        return;
    }
    let mut last: Option<RunOn> = None;
    let mut open = false;
    for c in cmds {
        if last != Some(c.run_on) {
            if open {
                out.push_str("</code></pre>\n");
            }
            let _ =
                write!(out, "<div class=\"where\">{}</div><pre><code>", esc(&run_on_label(plan, c.run_on)));
            open = true;
            last = Some(c.run_on);
        }
        if let Some(n) = &c.note {
            let _ = write!(out, "<span class=\"cmt\"># {}\n</span>", esc(n));
        }
        let mut line = esc(&c.line);
        for p in &c.inputs {
            let e = esc(p);
            line = line.replace(&e, &format!("<span class=\"ph\">{e}</span>"));
        }
        let _ = writeln!(out, "{line}");
    }
    if open {
        out.push_str("</code></pre>\n");
    }
}

fn finding_html(out: &mut String, plan: &Plan, f: &PlanFinding, class: &str) {
    let _ = writeln!(
        out,
        "<div class=\"finding {class}\"><h3><code>{}</code> {}</h3>",
        esc(&f.id),
        esc(&f.title)
    );
    if !f.detail.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(&f.detail));
    }
    if !f.remedy.is_empty() {
        let _ = writeln!(
            out,
            "<p><span class=\"lbl\">{}:</span> {}</p>",
            esc(&plan.ui("remedy")),
            esc(&f.remedy)
        );
    }
    if !f.sources.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"src\">{}: {}</p>",
            esc(&plan.ui("sources")),
            esc(&f.sources.join("; "))
        );
    }
    out.push_str("</div>\n");
}

fn step_html(out: &mut String, plan: &Plan, num: &str, s: &Step) {
    let (badge_class, badge) =
        if s.automatable { ("auto", plan.ui("automatable")) } else { ("manual", plan.ui("manual")) };
    let _ = writeln!(out, "<article class=\"step\" id=\"step-{id}\" data-step=\"{id}\">", id = esc(&s.id));
    let _ = writeln!(
        out,
        "<h3><input type=\"checkbox\" class=\"tick\" id=\"tick-{id}\" data-step=\"{id}\" aria-label=\"{t}\"><label for=\"tick-{id}\" class=\"title\">{num} {t}</label> <span class=\"badge {badge_class}\">{b}</span> <span class=\"sid\">{id}</span></h3>",
        id = esc(&s.id),
        t = esc(&s.title),
        b = esc(&badge),
    );
    let _ =
        writeln!(out, "<p><span class=\"lbl\">{}:</span> {}</p>", esc(&plan.ui("purpose")), esc(&s.purpose));
    if !s.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for n in &s.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
    code_block(out, plan, &s.commands);
    for f in &s.files {
        let _ = writeln!(
            out,
            "<div class=\"where\">{}: {}</div><pre><code>{}</code></pre>",
            esc(&plan.ui("files")),
            esc(&f.path),
            esc(&f.content)
        );
    }
    let _ = writeln!(
        out,
        "<p><span class=\"lbl\">{}:</span> {}</p>",
        esc(&plan.ui("verify")),
        esc(&s.verify.text)
    );
    code_block(out, plan, &s.verify.commands);
    if let Some(e) = &s.verify.expect {
        let _ = writeln!(out, "<p class=\"expect\">{}: <code>{}</code></p>", esc(&plan.ui("expect")), esc(e));
    }
    let _ = writeln!(
        out,
        "<p class=\"fail\"><span class=\"lbl\">{}:</span> {}</p>",
        esc(&plan.ui("on_failure")),
        esc(&s.on_failure)
    );
    if !s.sources.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"src\">{}: {}</p>",
            esc(&plan.ui("sources")),
            esc(&s.sources.join("; "))
        );
    }
    out.push_str("</article>\n");
}

/// The plan as one HTML document.
pub fn html(plan: &Plan) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let status_class = match plan.status {
        PlanStatus::Ready => "ready",
        PlanStatus::ReadyWithWarnings => "ready-with-warnings",
        PlanStatus::Blocked => "blocked",
    };
    // Ticks belong to the host and the route, whatever the language.
    let plan_key = format!("{}:{}", plan.host, plan.route.target.build);
    let _ = writeln!(out, "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">", plan.lang);
    let _ = writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = writeln!(out, "<meta name=\"generator\" content=\"esxup plan\">");
    let _ = writeln!(out, "<title>{}</title>\n<style>{CSS}</style>\n</head>", esc(&plan.title));
    let _ = writeln!(
        out,
        "<body data-plan-key=\"{}\" data-status=\"{status_class}\" data-js=\"off\">\n<main>",
        esc(&plan_key)
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&plan.title));
    let _ = writeln!(out, "<p class=\"status {status_class}\" id=\"status\">{}</p>", esc(&plan.status_text));
    out.push_str("<table class=\"facts\">\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(&plan.ui(k)), esc(&v));
    };
    row("host", plan.host.clone());
    if let Some(c) = &plan.current {
        row("installed", release_line(plan, c));
    }
    row("requested", release_line(plan, &plan.requested));
    let mut route = release_line(plan, &plan.route.target);
    if let Some(p) = &plan.route.target.image_profile {
        route.push_str(&format!(" {p}"));
    }
    row("route", route);
    if !plan.route.via.is_empty() {
        row("via", plan.route.via.iter().map(|r| release_line(plan, r)).collect::<Vec<_>>().join(" → "));
    }
    row("method", plan.ui(&format!("method_{}", plan.method.kind)));
    row("generated", plan.generated_on.clone());
    out.push_str("</table>\n");
    let _ = writeln!(out, "<p class=\"route\" id=\"route\">{}</p>", esc(&plan.route.label));
    let _ = writeln!(
        out,
        "<div class=\"toolbar no-print\"><span id=\"progress\" data-label=\"{l}\">0 / {n} {l}</span><div class=\"bar\"><span id=\"bar-fill\"></span></div><button type=\"button\" id=\"reset\">{r}</button><button type=\"button\" id=\"print\">{p}</button></div>",
        l = esc(&plan.ui("progress")),
        n = plan.steps().count(),
        r = esc(&plan.ui("reset")),
        p = esc(&plan.ui("print")),
    );
    out.push_str("<nav class=\"toc no-print\">");
    let _ = write!(out, "<span class=\"lbl\">{}:</span> ", esc(&plan.ui("toc")));
    if !plan.blockers.is_empty() {
        let _ = write!(out, "<a href=\"#blockers\">{}</a> · ", esc(&plan.ui("blockers")));
    }
    for (pi, phase) in plan.phases.iter().enumerate() {
        let sep = if pi + 1 < plan.phases.len() { " · " } else { "" };
        let _ =
            write!(out, "<a href=\"#phase-{}\">{}. {}</a>{sep}", esc(&phase.id), pi + 1, esc(&phase.title));
    }
    out.push_str("</nav>\n");
    if plan.status == PlanStatus::Blocked || !plan.blockers.is_empty() {
        let _ = writeln!(out, "<section id=\"blockers\"><h2>{}</h2>", esc(&plan.ui("blockers")));
        for f in &plan.blockers {
            finding_html(&mut out, plan, f, "blocker");
        }
        out.push_str("</section>\n");
    }
    if !plan.ways_out.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"ways-out\"><h2>{}</h2><ol class=\"ways\">",
            esc(&plan.ui("ways_out"))
        );
        for w in &plan.ways_out {
            let _ = writeln!(out, "<li data-kind=\"{}\">{}</li>", esc(&w.kind), esc(&w.text));
        }
        out.push_str("</ol></section>\n");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "<section id=\"warnings\"><h2>{}</h2>", esc(&plan.ui("warnings")));
        for f in &plan.warnings {
            finding_html(&mut out, plan, f, "warning");
        }
        out.push_str("</section>\n");
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"notes\"><h2>{}</h2><ul class=\"notes\">",
            esc(&plan.ui("info_findings"))
        );
        for f in &plan.notes {
            let _ = writeln!(
                out,
                "<li data-id=\"{}\"><code>{}</code> {} — {}</li>",
                esc(&f.id),
                esc(&f.id),
                esc(&f.title),
                esc(&f.remedy)
            );
        }
        out.push_str("</ul></section>\n");
    }
    for (pi, phase) in plan.phases.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section class=\"phase\" id=\"phase-{}\"><h2>{}. {}</h2>",
            esc(&phase.id),
            pi + 1,
            esc(&phase.title)
        );
        for (si, s) in phase.steps.iter().enumerate() {
            step_html(&mut out, plan, &format!("{}.{}", pi + 1, si + 1), s);
        }
        out.push_str("</section>\n");
    }
    if !plan.sources.is_empty() {
        let _ = writeln!(out, "<footer><h2>{}</h2><ul>", esc(&plan.ui("sources")));
        for s in &plan.sources {
            let _ = writeln!(out, "<li>{}</li>", esc(s));
        }
        out.push_str("</ul></footer>\n");
    }
    let _ = writeln!(out, "</main>\n<script>{JS}</script>\n</body>\n</html>");
    out
}
