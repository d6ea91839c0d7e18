//! The fleet report of `esxup report`: one self-contained HTML page (inline
//! CSS, JS and SVG, a strict Content-Security-Policy with the hashes of its
//! one style and one script, nothing fetched) and the CSV with the same
//! columns. Both take their cells from [`cells`], so they cannot disagree.
//!
//! The page embeds the rows as JSON (`<script type="application/json">`,
//! which the CSP does not execute) and renders one page of rows at a time,
//! so 10,000 hosts open as fast as 100. Sorting, the text filter, the facet
//! filters and the page live in the URL fragment (`#q=…&verdict=blocked`).
//! Findings repeat across hosts (the same lifecycle or advisory sentence on
//! every 7.0 host); they are stored once and referenced by index.
//!
//! The script marks `<body data-js="ready">` and keeps `data-shown` (rows
//! after filtering) current, which the headless-Chromium test reads back;
//! `data-ready-ms` is when the table was drawn (scripts/bench-fleet.sh).

use crate::check::{finding_texts, lifecycle_word, msg, sev_word, verdict_word};
use crate::plan_html::esc;
use base64::Engine as _;
use esxup_check::fleet::boot_media_word;
use esxup_check::{ExposureLevel, Finding, FleetRow, MethodKind, Verdict};
use esxup_i18n::{t, Lang};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// One host of the report: its row and the findings its drill-down shows
/// (indexes into the [`FindingTable`]).
pub struct FleetEntry {
    pub row: FleetRow,
    pub findings: Vec<usize>,
}

/// Every finding of a fleet as the drill-down shows it (severity, id,
/// title, detail, remedy, evidence, sources, rendered in the report's
/// language), each stored once: the same sentence on a thousand 7.0 hosts
/// is one entry. Shared by the workers that check the hosts, so a host
/// keeps a few indexes instead of its findings.
pub struct FindingTable {
    lang: Lang,
    inner: std::sync::Mutex<(HashMap<String, usize>, Vec<String>)>,
}

impl FindingTable {
    pub fn new(lang: Lang) -> FindingTable {
        FindingTable { lang, inner: std::sync::Mutex::new((HashMap::new(), Vec::new())) }
    }

    /// The index of each finding in the table, adding the new ones.
    pub fn add(&self, findings: &[Finding]) -> Vec<usize> {
        let lang = self.lang;
        let rendered: Vec<String> = findings
            .iter()
            .map(|f| {
                let (title, detail, remedy) = finding_texts(lang, f);
                let evidence: Vec<String> =
                    f.evidence.iter().map(|x| format!("{} = {}", x.fact, x.value)).collect();
                serde_json::json!([
                    f.severity.as_str(),
                    sev_word(lang, f.severity),
                    f.id,
                    title,
                    detail,
                    remedy,
                    evidence.join("; "),
                    f.sources.join("; ")
                ])
                .to_string()
            })
            .collect();
        // A poisoned lock means a worker panicked while adding: its host is
        // already an error row; the table itself is still consistent.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (index, list) = &mut *g;
        rendered
            .into_iter()
            .map(|r| match index.get(&r) {
                Some(i) => *i,
                None => {
                    list.push(r.clone());
                    index.insert(r, list.len() - 1);
                    list.len() - 1
                }
            })
            .collect()
    }

    /// The findings, as JSON arrays, in index order.
    pub fn into_json(self) -> Vec<String> {
        self.inner.into_inner().unwrap_or_else(|e| e.into_inner()).1
    }
}

/// The report as a whole: rows plus what the heading says.
pub struct FleetDoc<'a> {
    pub entries: &'a [FleetEntry],
    /// [`FindingTable::into_json`] of the table the entries index.
    pub findings: &'a [String],
    /// The target as the user named it.
    pub target: &'a str,
    pub today: &'a str,
    pub lang: Lang,
}

/// The report's columns: (message key under `report.col`, numeric sort).
pub const COLUMNS: &[(&str, bool)] = &[
    ("host", false),
    ("cluster", false),
    ("build", true),
    ("release", false),
    ("date", false),
    ("lifecycle", false),
    ("exposure", true),
    ("verdict", true),
    ("method", false),
    ("boot", false),
    ("tools", true),
    ("hardware", true),
    ("snapshots", true),
    ("license", false),
];

/// One cell: the text shown (and written to CSV), and the number it sorts by.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub sort: Option<f64>,
}

fn s(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), sort: None }
}

fn n(v: Option<usize>) -> Cell {
    match v {
        Some(v) => Cell { text: v.to_string(), sort: Some(v as f64) },
        None => Cell { text: String::new(), sort: None },
    }
}

fn ui(lang: Lang, key: &str) -> String {
    t(lang, &format!("report.ui.{key}"), &BTreeMap::new())
}

fn ui1(lang: Lang, key: &str, k: &str, v: impl ToString) -> String {
    let mut a = BTreeMap::new();
    a.insert(k.to_string(), v.to_string());
    t(lang, &format!("report.ui.{key}"), &a)
}

/// Column heading.
pub fn heading(lang: Lang, key: &str) -> String {
    t(lang, &format!("report.col.{key}"), &BTreeMap::new())
}

/// The exposure cell: known-exploited first, then critical and high, then
/// the total; it sorts by the same order.
fn exposure_cell(lang: Lang, r: &FleetRow) -> Cell {
    let Some(e) = r.exposures else { return s("") };
    let mut parts = Vec::new();
    if e.known_exploited > 0 {
        parts.push(ui1(lang, "kev", "n", e.known_exploited));
    }
    if e.critical > 0 {
        parts.push(ui1(lang, "critical", "n", e.critical));
    }
    if e.high > 0 {
        parts.push(ui1(lang, "high", "n", e.high));
    }
    parts.push(ui1(lang, "total", "n", e.total));
    let score = (e.known_exploited * 1_000_000 + e.critical * 10_000 + e.high * 100 + e.total) as f64;
    Cell { text: parts.join(", "), sort: Some(score) }
}

fn verdict_cell(lang: Lang, r: &FleetRow) -> Cell {
    let Some(v) = r.verdict else {
        return Cell { text: ui(lang, "error"), sort: Some(3.0) };
    };
    let mut a = BTreeMap::new();
    a.insert("blockers".to_string(), r.blockers.unwrap_or(0).to_string());
    a.insert("warnings".to_string(), r.warnings.unwrap_or(0).to_string());
    let mut text = format!("{} ({})", verdict_word(lang, v), t(lang, "report.ui.blockers_warnings", &a));
    if !r.blocker_ids.is_empty() {
        let _ = write!(text, ": {}", r.blocker_ids.join(", "));
    }
    let rank = match v {
        Verdict::Ready => 0.0,
        Verdict::ReadyWithWarnings => 1.0,
        Verdict::Blocked => 2.0,
    };
    // Within a verdict, more blockers (then warnings) sort further.
    let sort = rank + (r.blockers.unwrap_or(0) as f64) / 1e3 + (r.warnings.unwrap_or(0) as f64) / 1e6;
    Cell { text, sort: Some(sort) }
}

fn method_cell(lang: Lang, r: &FleetRow) -> Cell {
    let Some(m) = r.method else { return s("") };
    let mut text = match m {
        MethodKind::Iso => t(lang, "check.ui.method_iso", &BTreeMap::new()),
        MethodKind::Esxcli => t(lang, "check.ui.method_esxcli", &BTreeMap::new()),
    };
    if r.method_required == Some(true) {
        let _ = write!(text, " ({})", t(lang, "check.ui.required", &BTreeMap::new()));
    }
    s(text)
}

/// Why that method: the first reason `check` gives (the drill-down and the
/// CSV's last-but-two column show it).
pub fn method_reason(lang: Lang, r: &FleetRow) -> String {
    r.method_reason.as_ref().map(|why| msg(lang, &why.key, &why.args)).unwrap_or_default()
}

/// The cells of one row, in [`COLUMNS`] order: what the HTML table shows
/// and what the CSV holds.
pub fn cells(lang: Lang, r: &FleetRow) -> Vec<Cell> {
    let boot = match (r.boot_media, &r.boot_device) {
        (Some(m), Some(d)) => format!("{} {d}", boot_media_word(m)),
        (Some(m), None) => boot_media_word(m).to_string(),
        (None, Some(d)) => d.clone(),
        (None, None) if r.error.is_none() => ui(lang, "not_collected"),
        (None, None) => String::new(),
    };
    let vm_count = |v: Option<usize>| {
        if r.vms.is_none() && r.error.is_none() {
            s(ui(lang, "not_collected"))
        } else {
            n(v)
        }
    };
    vec![
        s(&r.name),
        s(r.cluster.clone().unwrap_or_default()),
        Cell { text: r.build.map(|b| b.to_string()).unwrap_or_default(), sort: r.build.map(f64::from) },
        s(match (&r.release, r.build, &r.error) {
            (Some(x), _, _) => x.clone(),
            (None, Some(_), _) => t(lang, "check.ui.unknown_build", &BTreeMap::new()),
            (None, None, Some(e)) => format!("{}: {e}", ui(lang, "error")),
            _ => String::new(),
        }),
        s(r.release_date.clone().unwrap_or_default()),
        s(r.lifecycle.map(|l| lifecycle_word(lang, l)).unwrap_or_default()),
        exposure_cell(lang, r),
        verdict_cell(lang, r),
        method_cell(lang, r),
        s(boot),
        vm_count(r.vms_tools),
        vm_count(r.vms_hardware),
        vm_count(r.snapshots),
        s(r.license.clone().unwrap_or_default()),
    ]
}

/// Quotes one CSV field (RFC 4180): always quoted when it holds a comma, a
/// quote or a line break; a leading `=`, `+`, `-` or `@` is prefixed with
/// `'` so that a spreadsheet does not run a host-supplied name as a formula.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The CSV: a heading line, then one line per host, with the report's
/// columns plus the error and the facts file. Lines end in LF (which Excel
/// and LibreOffice read), so that the file prints unchanged on a terminal.
pub fn csv(lang: Lang, rows: &[FleetRow]) -> String {
    let (head, body) = table(lang, rows);
    let mut o = String::new();
    o.push_str(&head.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
    o.push('\n');
    for line in &body {
        o.push_str(&line.iter().map(|c| csv_field(&c.text)).collect::<Vec<_>>().join(","));
        o.push('\n');
    }
    o
}

/// The table the CSV and the workbook (`crate::fleet_xlsx`) hold: the
/// headings, then per host its [`cells`] plus the method's reason, the
/// error and the facts file.
pub fn table(lang: Lang, rows: &[FleetRow]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut head: Vec<String> = COLUMNS.iter().map(|(k, _)| heading(lang, k)).collect();
    head.push(heading(lang, "method_reason"));
    head.push(heading(lang, "error"));
    head.push("file".to_string());
    let body = rows
        .iter()
        .map(|r| {
            let mut line = cells(lang, r);
            line.push(s(method_reason(lang, r)));
            line.push(s(r.error.as_deref().unwrap_or("")));
            line.push(s(&r.file));
            line
        })
        .collect();
    (head, body)
}

/// The readiness facet of a row: its verdict, or `error`.
fn verdict_key(r: &FleetRow) -> &'static str {
    r.verdict.map(Verdict::as_str).unwrap_or("error")
}

/// The facets of a row: branch, verdict, exposure (keys, not words).
fn facets(r: &FleetRow) -> [String; 3] {
    [
        r.branch.clone().unwrap_or_else(|| "?".into()),
        verdict_key(r).to_string(),
        r.exposure.map(|e| e.as_str().to_string()).unwrap_or_else(|| "?".into()),
    ]
}

/// The readiness keys, in the order the chart shows them, with their
/// word and colour class.
fn verdict_words(lang: Lang) -> [(&'static str, String, &'static str); 4] {
    [
        (Verdict::Ready.as_str(), verdict_word(lang, Verdict::Ready), "ok"),
        (Verdict::ReadyWithWarnings.as_str(), verdict_word(lang, Verdict::ReadyWithWarnings), "warn"),
        (Verdict::Blocked.as_str(), verdict_word(lang, Verdict::Blocked), "bad"),
        ("error", ui(lang, "error"), "err"),
    ]
}

fn exposure_word(lang: Lang, l: ExposureLevel) -> String {
    t(lang, &format!("report.exposure.{}", l.as_str()), &BTreeMap::new())
}

fn exposure_class(l: ExposureLevel) -> &'static str {
    match l {
        ExposureLevel::KnownExploited | ExposureLevel::Critical => "bad",
        ExposureLevel::High => "warn",
        ExposureLevel::Other => "muted",
        ExposureLevel::None => "ok",
    }
}

const LEVELS: [ExposureLevel; 5] = [
    ExposureLevel::KnownExploited,
    ExposureLevel::Critical,
    ExposureLevel::High,
    ExposureLevel::Other,
    ExposureLevel::None,
];

/// A horizontal bar chart as inline SVG (presentation attributes only: the
/// CSP allows no inline style attributes).
fn bar_chart(title: &str, bars: &[(String, usize, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let h = 22 * bars.len() + 8;
    let mut o = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 460 {h}\" width=\"460\" height=\"{h}\">",
        esc(title),
        esc(title)
    );
    for (i, (label, count, class)) in bars.iter().enumerate() {
        let y = 4 + i * 22;
        let w = (*count as f64 / max as f64 * 170.0).round().max(1.0);
        let _ = write!(
            o,
            "<text x=\"0\" y=\"{}\" class=\"lbl\">{}</text><rect x=\"250\" y=\"{y}\" width=\"{w}\" height=\"16\" rx=\"2\" class=\"bar {class}\"/><text x=\"{}\" y=\"{}\" class=\"num\">{count}</text>",
            y + 12,
            esc(label),
            250.0 + w + 4.0,
            y + 12
        );
    }
    o.push_str("</svg></figure>");
    o
}

fn charts(doc: &FleetDoc<'_>) -> String {
    let lang = doc.lang;
    let mut branch: BTreeMap<String, usize> = BTreeMap::new();
    let mut build: BTreeMap<(String, u32), usize> = BTreeMap::new();
    let mut verdict: HashMap<&str, usize> = HashMap::new();
    let mut exposure: BTreeMap<ExposureLevel, usize> = BTreeMap::new();
    for e in doc.entries {
        let r = &e.row;
        if r.error.is_none() {
            *branch.entry(r.branch.clone().unwrap_or_else(|| "?".into())).or_default() += 1;
        }
        if let Some(b) = r.build {
            *build.entry((r.release.clone().unwrap_or_else(|| b.to_string()), b)).or_default() += 1;
        }
        *verdict.entry(verdict_key(r)).or_default() += 1;
        if let Some(x) = r.exposure {
            *exposure.entry(x).or_default() += 1;
        }
    }
    // The ten builds with the most hosts, by count, then build.
    let mut builds: Vec<((String, u32), usize)> = build.into_iter().collect();
    builds.sort_by(|a, b| b.1.cmp(&a.1).then(b.0 .1.cmp(&a.0 .1)));
    builds.truncate(10);
    let verdicts: Vec<(String, usize, &str)> = verdict_words(lang)
        .into_iter()
        .filter_map(|(k, w, class)| verdict.get(k).map(|n| (w, *n, class)))
        .collect();
    let exposures: Vec<(String, usize, &str)> =
        exposure.into_iter().map(|(l, n)| (exposure_word(lang, l), n, exposure_class(l))).collect();
    let mut o = String::from("<section class=\"charts\">");
    o.push_str(&bar_chart(
        &ui(lang, "per_branch"),
        &branch.into_iter().map(|(k, v)| (k, v, "accent")).collect::<Vec<_>>(),
    ));
    o.push_str(&bar_chart(
        &ui(lang, "per_build"),
        &builds.into_iter().map(|((name, b), v)| (format!("{name} ({b})"), v, "accent")).collect::<Vec<_>>(),
    ));
    o.push_str(&bar_chart(&ui(lang, "per_verdict"), &verdicts));
    o.push_str(&bar_chart(&ui(lang, "per_exposure"), &exposures));
    o.push_str("</section>");
    o
}

/// `</script` or `<!--` inside embedded JSON would end or derail the
/// script element: every `<` becomes `\u003c`, the same string to a JSON
/// parser (`<` only ever appears inside JSON strings).
fn json_in_html(json: &str) -> String {
    json.replace('<', "\\u003c")
}

fn sha256_b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
}

/// One row as the script reads it.
#[derive(serde::Serialize)]
struct RowOut<'a> {
    /// Cell texts, in [`COLUMNS`] order.
    c: Vec<&'a str>,
    /// Sort numbers, in the same order.
    s: Vec<Option<f64>>,
    /// Facets: branch, verdict, exposure.
    f: [String; 3],
    /// Finding indexes.
    x: &'a [usize],
    a: &'a [String],
    m: String,
    e: &'a Option<String>,
    file: &'a str,
}

/// The data the script reads: column headings, rows (cells, sort keys,
/// facets, finding indexes), findings (once each) and the facet words.
/// Written row by row into one string (no JSON tree of the whole fleet).
fn data(doc: &FleetDoc<'_>) -> String {
    use serde_json::json;
    let lang = doc.lang;
    let mut o = String::with_capacity(doc.entries.len() * 600);
    let cols: Vec<_> =
        COLUMNS.iter().map(|(k, num)| json!({"key": k, "label": heading(lang, k), "num": num})).collect();
    o.push_str("{\"cols\":");
    o.push_str(&serde_json::Value::from(cols).to_string());
    o.push_str(",\"rows\":[");
    for (i, e) in doc.entries.iter().enumerate() {
        let c = cells(lang, &e.row);
        let row = RowOut {
            c: c.iter().map(|x| x.text.as_str()).collect(),
            s: c.iter().map(|x| x.sort).collect(),
            f: facets(&e.row),
            x: &e.findings,
            a: &e.row.advisories,
            m: method_reason(lang, &e.row),
            e: &e.row.error,
            file: &e.row.file,
        };
        if i > 0 {
            o.push(',');
        }
        o.push_str(&serde_json::to_string(&row).unwrap_or_else(|_| "null".into()));
    }
    o.push_str("],\"finds\":[");
    o.push_str(&doc.findings.join(","));
    o.push(']');
    let mut words = serde_json::Map::new();
    for (k, w, _) in verdict_words(lang) {
        words.insert(k.into(), w.into());
    }
    for l in LEVELS {
        words.insert(l.as_str().into(), exposure_word(lang, l).into());
    }
    let tail = json!({
        "words": words,
        "ui": {
            "shown": t(lang, "report.ui.shown", &BTreeMap::new()),
            "page": t(lang, "report.ui.page", &BTreeMap::new()),
            "findings": ui(lang, "findings"),
            "advisories": ui(lang, "advisories"),
            "close": ui(lang, "close"),
            "error": ui(lang, "error"),
            "severity": t(lang, "check.ui.severity", &BTreeMap::new()),
            "id": t(lang, "check.ui.id", &BTreeMap::new()),
            "finding": t(lang, "check.ui.finding", &BTreeMap::new()),
            "remedy": t(lang, "check.ui.remedy", &BTreeMap::new()),
            "evidence": t(lang, "check.ui.evidence", &BTreeMap::new()),
            "sources": t(lang, "check.ui.sources", &BTreeMap::new()),
        }
    })
    .to_string();
    // `{"words":...}` joins the object: drop its opening brace.
    o.push(',');
    o.push_str(&tail[1..]);
    o
}

const CSS: &str = r#"
:root{--fg:#1d232a;--muted:#5b6670;--line:#d6dbe0;--bg:#fff;--alt:#f6f8fa;--ok:#1e7b34;--warn:#9a6200;--bad:#b3261e;--accent:#0b5cab}
@media (prefers-color-scheme:dark){:root{--fg:#e3e7eb;--muted:#9aa5b0;--line:#39424c;--bg:#14181c;--alt:#1b2026;--ok:#5cc275;--warn:#e0a43a;--bad:#f07167;--accent:#6aa9ff}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP","Yu Gothic",Meiryo,sans-serif;color:var(--fg);background:var(--bg)}
main{padding:16px 20px 40px}
h1{font-size:1.5em;margin:.1em 0 .2em}
.sub{color:var(--muted);margin:0 0 12px}
.charts{display:flex;flex-wrap:wrap;gap:18px;margin:8px 0 16px}
.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.chart figcaption{font-weight:600;margin-bottom:4px}
.chart text{fill:var(--fg);font-size:11px}
.chart text.num{fill:var(--muted)}
.chart .bar{fill:var(--accent)}.chart .bar.ok{fill:var(--ok)}.chart .bar.warn{fill:var(--warn)}.chart .bar.bad{fill:var(--bad)}.chart .bar.err{fill:var(--muted)}.chart .bar.muted{fill:var(--line)}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:end;position:sticky;top:0;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);z-index:2}
.controls label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select,button{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:4px 8px}
input[type=search]{min-width:22em}
button{cursor:pointer}
.count{margin-left:auto;color:var(--muted)}
table.hosts{border-collapse:collapse;width:100%;margin-top:8px}
table.hosts th{position:sticky;top:52px;background:var(--alt);text-align:left;font-weight:600;border-bottom:2px solid var(--line);padding:0;white-space:nowrap}
table.hosts th button{border:0;background:none;padding:6px 8px;width:100%;text-align:left;font-weight:600}
table.hosts th[aria-sort=ascending] button::after{content:" \25B2"}
table.hosts th[aria-sort=descending] button::after{content:" \25BC"}
table.hosts td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}
table.hosts tr:nth-child(even) td{background:var(--alt)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td .open{border:0;background:none;color:var(--accent);padding:0;text-decoration:underline;text-align:left}
tr.v-blocked td:nth-child(8){color:var(--bad);font-weight:600}
tr.v-ready-with-warnings td:nth-child(8){color:var(--warn)}
tr.v-ready td:nth-child(8){color:var(--ok)}
tr.v-error td{color:var(--bad)}
tr.x-known-exploited td:nth-child(7){color:var(--bad);font-weight:600}
.pager{display:flex;gap:8px;align-items:center;margin:10px 0}
#detail{border:2px solid var(--accent);border-radius:8px;padding:10px 14px;margin:14px 0;background:var(--bg)}
#detail[hidden]{display:none}
#detail h2{margin:.2em 0 .4em;font-size:1.2em;display:flex;gap:12px;align-items:baseline}
#detail table{border-collapse:collapse;width:100%}
#detail td,#detail th{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
#detail .blocker{color:var(--bad);font-weight:600}#detail .warning{color:var(--warn);font-weight:600}
.foot{color:var(--muted);font-size:12px;margin-top:18px}
@media print{.controls,.pager,td .open{display:none}table.hosts th{position:static}body{font-size:11px}main{padding:0}#detail{break-before:page}}
"#;

const JS: &str = r##"
(function(){
"use strict";
var D=JSON.parse(document.getElementById("fleet-data").textContent);
var PAGE=100,rows=D.rows,cols=D.cols,st={q:"",branch:"",verdict:"",exposure:"",sort:-1,dir:1,page:1,host:""};
rows.forEach(function(r,i){r._i=i});
var $=function(id){return document.getElementById(id)};
var body=$("rows"),q=$("q"),fb=$("f-branch"),fv=$("f-verdict"),fe=$("f-exposure");
function el(tag,text,cls){var e=document.createElement(tag);if(text!=null)e.textContent=text;if(cls)e.className=cls;return e}
function fill(sel,i,words){var seen={};rows.forEach(function(r){seen[r.f[i]]=(seen[r.f[i]]||0)+1});
 Object.keys(seen).sort().forEach(function(k){var o=el("option",(words&&words[k]?words[k]:k)+" ("+seen[k]+")");o.value=k;sel.appendChild(o)})}
fill(fb,0,null);fill(fv,1,D.words);fill(fe,2,D.words);
var head=$("head");
cols.forEach(function(c,i){var th=el("th");th.setAttribute("aria-sort","none");var b=el("button",c.label);b.type="button";b.setAttribute("data-col",String(i));
 b.addEventListener("click",function(){if(st.sort===i){st.dir=-st.dir}else{st.sort=i;st.dir=1}st.page=1;save();draw()});th.appendChild(b);head.appendChild(th)});
function load(){var h=location.hash.replace(/^#/,"");st={q:"",branch:"",verdict:"",exposure:"",sort:-1,dir:1,page:1,host:""};
 h.split("&").forEach(function(kv){if(!kv)return;var p=kv.split("=");var k=decodeURIComponent(p[0]),v=decodeURIComponent(p.slice(1).join("="));
  if(k==="sort"){st.sort=parseInt(v,10);if(isNaN(st.sort))st.sort=-1}else if(k==="dir"){st.dir=v==="desc"?-1:1}else if(k==="page"){st.page=Math.max(1,parseInt(v,10)||1)}else if(k in st){st[k]=v}});
 q.value=st.q;fb.value=st.branch;fv.value=st.verdict;fe.value=st.exposure}
function save(){var p=[];["q","branch","verdict","exposure","host"].forEach(function(k){if(st[k])p.push(k+"="+encodeURIComponent(st[k]))});
 if(st.sort>=0){p.push("sort="+st.sort);p.push("dir="+(st.dir<0?"desc":"asc"))}if(st.page>1)p.push("page="+st.page);
 var h=p.length?"#"+p.join("&"):" ";history.replaceState(null,"",h===" "?location.pathname+location.search:h)}
function text(r){if(!r._t){r._t=(r.c.join(" ")+" "+r.a.join(" ")+" "+(r.e||"")+" "+r.x.map(function(i){return D.finds[i][2]}).join(" ")).toLowerCase()}return r._t}
function view(){var needle=st.q.toLowerCase().trim(),terms=needle?needle.split(/\s+/):[];
 var v=rows.filter(function(r){if(st.branch&&r.f[0]!==st.branch)return false;if(st.verdict&&r.f[1]!==st.verdict)return false;if(st.exposure&&r.f[2]!==st.exposure)return false;
  if(terms.length){var t=text(r);for(var i=0;i<terms.length;i++){if(t.indexOf(terms[i])<0)return false}}return true});
 if(st.sort>=0&&st.sort<cols.length){var i=st.sort,num=cols[i].num,d=st.dir;v=v.map(function(r,k){return[r,k]});
  v.sort(function(a,b){var x,y;if(num){x=a[0].s[i];y=b[0].s[i];if(x==null&&y==null)return a[1]-b[1];if(x==null)return 1;if(y==null)return -1;if(x!==y)return(x-y)*d}
   else{x=a[0].c[i];y=b[0].c[i];if(x===""&&y!=="")return 1;if(y===""&&x!=="")return -1;var c=x.localeCompare(y,undefined,{numeric:true});if(c)return c*d}return a[1]-b[1]});
  v=v.map(function(p){return p[0]})}return v}
function fmt(t,a){return t.replace(/\{(\w+)\}/g,function(m,k){return k in a?String(a[k]):m})}
function draw(){var v=view(),pages=Math.max(1,Math.ceil(v.length/PAGE));if(st.page>pages)st.page=pages;
 var start=(st.page-1)*PAGE,frag=document.createDocumentFragment();
 v.slice(start,start+PAGE).forEach(function(r){var tr=el("tr");tr.className="v-"+r.f[1]+" x-"+r.f[2];tr.setAttribute("data-i",String(r._i));
  r.c.forEach(function(c,i){var td=el("td",null,cols[i].num&&/^[0-9]*$/.test(c)?"num":"");if(i===0){var b=el("button",c,"open");b.type="button";b.setAttribute("data-host",c);b.addEventListener("click",function(){st.host=c;save();detail()});td.appendChild(b)}else{td.textContent=c}tr.appendChild(td)});
  frag.appendChild(tr)});
 body.textContent="";body.appendChild(frag);
 Array.prototype.forEach.call(head.children,function(th,i){th.setAttribute("aria-sort",i===st.sort?(st.dir<0?"descending":"ascending"):"none")});
 $("count").textContent=fmt(D.ui.shown,{shown:v.length,total:rows.length});$("page").textContent=fmt(D.ui.page,{page:st.page,pages:pages});
 $("prev").disabled=st.page<=1;$("next").disabled=st.page>=pages;
 document.body.setAttribute("data-shown",String(v.length));document.body.setAttribute("data-page-rows",String(body.children.length))}
function detail(){var box=$("detail");var r=null;for(var i=0;i<rows.length;i++){if(rows[i].c[0]===st.host){r=rows[i];break}}
 if(!st.host||!r){box.hidden=true;box.textContent="";return}box.textContent="";
 var h=el("h2",r.c[0]);var c=el("button",D.ui.close);c.type="button";c.id="close";c.addEventListener("click",function(){st.host="";save();detail()});h.appendChild(c);box.appendChild(h);
 box.appendChild(el("p",r.c[3]+(r.c[2]?" ("+r.c[2]+")":"")+" \u2014 "+r.c[7]));
 if(r.m){box.appendChild(el("p",r.c[8]+": "+r.m))}
 if(r.e){box.appendChild(el("p",D.ui.error+": "+r.e,"blocker"))}
 if(r.a.length){box.appendChild(el("h3",D.ui.advisories));box.appendChild(el("p",r.a.join(", ")))}
 if(r.x.length){box.appendChild(el("h3",D.ui.findings));var t=el("table"),hr=el("tr");[D.ui.severity,D.ui.id,D.ui.finding,D.ui.evidence,D.ui.remedy,D.ui.sources].forEach(function(x){hr.appendChild(el("th",x))});t.appendChild(hr);
  r.x.forEach(function(i){var f=D.finds[i],tr=el("tr");tr.appendChild(el("td",f[1],f[0]));tr.appendChild(el("td",f[2]));var td=el("td");td.appendChild(el("strong",f[3]));if(f[4]){td.appendChild(el("div",f[4]))}tr.appendChild(td);tr.appendChild(el("td",f[6]));tr.appendChild(el("td",f[5]));tr.appendChild(el("td",f[7]));t.appendChild(tr)});box.appendChild(t)}
 box.hidden=false;document.body.setAttribute("data-detail",r.c[0])}
q.addEventListener("input",function(){st.q=q.value;st.page=1;save();draw()});
[[fb,"branch"],[fv,"verdict"],[fe,"exposure"]].forEach(function(p){p[0].addEventListener("change",function(){st[p[1]]=p[0].value;st.page=1;save();draw()})});
$("prev").addEventListener("click",function(){st.page--;save();draw()});$("next").addEventListener("click",function(){st.page++;save();draw()});
$("clear").addEventListener("click",function(){st={q:"",branch:"",verdict:"",exposure:"",sort:-1,dir:1,page:1,host:""};q.value="";fb.value="";fv.value="";fe.value="";save();draw();detail()});
window.addEventListener("hashchange",function(){load();draw();detail()});
var saved=null;window.addEventListener("beforeprint",function(){saved=PAGE;PAGE=1e9;draw()});window.addEventListener("afterprint",function(){if(saved){PAGE=saved;draw()}});
load();draw();detail();document.body.setAttribute("data-js","ready");
document.body.setAttribute("data-ready-ms",String(Math.round(performance.now())));
})();
"##;

/// The whole HTML page.
pub fn html(doc: &FleetDoc<'_>, version: &str) -> String {
    let lang = doc.lang;
    let data = json_in_html(&data(doc));
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        sha256_b64(CSS),
        sha256_b64(JS)
    );
    let mut sub = BTreeMap::new();
    sub.insert("hosts".to_string(), doc.entries.len().to_string());
    sub.insert("target".to_string(), doc.target.to_string());
    sub.insert("today".to_string(), doc.today.to_string());
    let title = t(lang, "report.title", &BTreeMap::new());
    let mut o = String::with_capacity(data.len() + 32 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"color-scheme\" content=\"light dark\">\n<title>{}</title>\n<style>{CSS}</style></head>\n<body data-js=\"no\"><main>\n<h1>{}</h1><p class=\"sub\">{}</p>\n",
        lang.code(),
        esc(&csp),
        esc(&title),
        esc(&title),
        esc(&t(lang, "report.subtitle", &sub))
    );
    let _ = writeln!(o, "<noscript><p>{}</p></noscript>", esc(&ui(lang, "no_script")));
    o.push_str(&charts(doc));
    let all = esc(&ui(lang, "all"));
    let _ = write!(
        o,
        "\n<div class=\"controls\"><label>{}<input type=\"search\" id=\"q\" placeholder=\"{}\" autocomplete=\"off\"></label>\
<label>{}<select id=\"f-branch\"><option value=\"\">{all}</option></select></label>\
<label>{}<select id=\"f-verdict\"><option value=\"\">{all}</option></select></label>\
<label>{}<select id=\"f-exposure\"><option value=\"\">{all}</option></select></label>\
<button type=\"button\" id=\"clear\">{}</button><span class=\"count\" id=\"count\"></span></div>\n",
        esc(&ui(lang, "filter")),
        esc(&ui(lang, "filter_placeholder")),
        esc(&ui(lang, "branch")),
        esc(&ui(lang, "verdict")),
        esc(&ui(lang, "exposure")),
        esc(&ui(lang, "clear")),
    );
    o.push_str("<section id=\"detail\" hidden></section>\n");
    o.push_str(
        "<table class=\"hosts\"><thead><tr id=\"head\"></tr></thead><tbody id=\"rows\"></tbody></table>\n",
    );
    let _ = writeln!(
        o,
        "<div class=\"pager\"><button type=\"button\" id=\"prev\">{}</button><span id=\"page\"></span><button type=\"button\" id=\"next\">{}</button></div>",
        esc(&ui(lang, "previous")),
        esc(&ui(lang, "next"))
    );
    let _ =
        write!(o, "<p class=\"foot\">{}</p>\n</main>\n", esc(&ui1(lang, "generated", "version", version)));
    let _ = write!(o, "<script type=\"application/json\" id=\"fleet-data\">{data}</script>\n<script>{JS}</script>\n</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_field("-1"), "'-1");
    }

    #[test]
    fn embedded_json_cannot_close_the_script() {
        let v = serde_json::json!({"name": "</script><script>alert(1)</script><!-- x"});
        let s = json_in_html(&v.to_string());
        assert!(!s.contains("</script") && !s.contains("<!--"), "{s}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }

    #[test]
    fn failed_hosts_have_an_error_row() {
        let r = FleetRow::failed("dir/bad.json", "bad", "read facts dir/bad.json: not JSON");
        let c = cells(Lang::En, &r);
        assert_eq!(c.len(), COLUMNS.len());
        assert_eq!(c[0].text, "bad");
        assert!(c[3].text.contains("not JSON"), "{:?}", c[3]);
        assert_eq!(c[7].sort, Some(3.0), "errors sort after blocked hosts");
        let csv = csv(Lang::En, &[r]);
        assert!(
            csv.lines().nth(1).unwrap().ends_with(",read facts dir/bad.json: not JSON,dir/bad.json"),
            "{csv}"
        );
    }
}
