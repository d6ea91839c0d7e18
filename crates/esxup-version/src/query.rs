//! Parsing of every way an admin names an ESXi release.
//!
//! Accepted forms (each covered by a test, on real strings with their source
//! wherever one was published):
//! a bare build (`17700523`), `7.0U3g`, `7.0 Update 3g`, `7.0.3`,
//! `ESXi 7.0 Update 3g`, `VMware ESXi 6.7.0 build-17700523`,
//! `Releasebuild-20328353`, the whole output of `esxcli system version get`
//! (also with `--formatter=json|xml`, or pasted on one line) or `vmware -vl`,
//! image profile names (`ESXi-7.0U3g-20328353-standard`,
//! `ESXi-6.7.0-20210304001-standard`), bulletin ids (`ESXi670-202103001`,
//! `ESXi70U1c-17325551`), 8.0-style version strings (`8.0.3-0.70.24674464`,
//! Broadcom KB 395110), patch names (`6.7 P05`, `6.7 EP 23`, `6.7 Patch 5`)
//! and `latest-7.0`.
//!
//! The parser only reads what the text says; the knowledge base decides what
//! it means (and reports inconsistencies between the parts).

use crate::{Branch, Version};
use std::fmt;

/// What could be read from a pasted string. Every field is optional: a bare
/// build number gives only `build`, `7.0U3g` gives version and update, the
/// whole `esxcli system version get` output gives all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParsedQuery {
    /// The text as given.
    pub raw: String,
    pub build: Option<u32>,
    pub version: Option<Version>,
    /// Update level as VMware writes it after "U": `3g` for 7.0 Update 3g,
    /// `3` for Update 3; `None` when not given, `Some("")`-free: GA is `None`
    /// together with `ga: true`.
    pub update: Option<String>,
    pub ga: bool,
    /// An image profile name, e.g. `ESXi-7.0U3g-20328353-standard`.
    pub profile: Option<String>,
    /// The branch (`x.y`), set whenever the text names one (also without a full version).
    pub branch: Option<Branch>,
    /// A 6.x patch name: `P05`, `EP 23`.
    pub patch: Option<PatchRef>,
    /// A bulletin / patch id, e.g. `ESXi670-202103001`.
    pub bulletin: Option<String>,
    /// `latest-7.0`: the newest build of `branch`.
    pub latest: bool,
    /// A re-spin letter on the GA line: `b` of `7.0b`, `bs` of its
    /// security-only build (`ESXi-7.0bs-16321839-standard`).
    pub letter: Option<String>,
    /// The `Patch:` line of `esxcli system version get` (an internal patch
    /// counter, not the `P05` of the release name).
    pub esxcli_patch: Option<u32>,
    /// Parts of the text that contradict each other (`Version: 7.0.2` with `Update: 3`).
    pub conflicts: Vec<String>,
}

/// A 6.x patch as VMware's build tables name it: `P05` (patch 5) or `EP 23`
/// (express patch 23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PatchRef {
    pub express: bool,
    pub number: u16,
}

impl fmt::Display for PatchRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.express {
            write!(f, "EP {}", self.number)
        } else {
            write!(f, "P{:02}", self.number)
        }
    }
}

impl serde::Serialize for PatchRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    /// The text, quoted by [`quote`] (one line at most).
    #[error("cannot read an ESXi version or build from {0}")]
    Unrecognised(String),
    #[error("the query is {bytes} bytes, more than the {max} a pasted command output can be")]
    TooLong { bytes: usize, max: usize },
}

/// Largest query read: pasted `esxcli system version get`, `vmware -vl` or
/// a boot.cfg are well under a kilobyte; this leaves room for whole logs.
pub const MAX_QUERY_BYTES: usize = 256 * 1024;

/// `text` for a message: its first non-empty line, at most 80 characters,
/// quoted, with how much was left out.
pub fn quote(text: &str) -> String {
    let t = text.trim();
    let line = t.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let short: String = line.chars().take(80).collect();
    if short.len() == t.len() {
        format!("{short:?}")
    } else {
        format!("{short:?} (and {} more bytes)", t.len() - short.len())
    }
}

impl ParsedQuery {
    /// The branch named by the text, from the version or a bare `x.y`.
    pub fn branch(&self) -> Option<Branch> {
        self.version.map(Version::branch).or(self.branch)
    }

    /// The numeric part of the update level (`3` for `3g`).
    pub fn update_number(&self) -> Option<u8> {
        self.update.as_deref().and_then(update_number)
    }

    fn is_empty(&self) -> bool {
        self.build.is_none()
            && self.version.is_none()
            && self.branch.is_none()
            && self.profile.is_none()
            && self.bulletin.is_none()
    }

    fn set_build(&mut self, b: u32, from: &str) {
        match self.build {
            Some(old) if old != b => {
                self.conflicts.push(format!("build {b} (from {from:?}) differs from build {old}"))
            }
            _ => self.build = Some(b),
        }
    }

    fn set_branch(&mut self, b: Branch, from: &str) {
        match self.branch() {
            Some(old) if old != b => {
                self.conflicts.push(format!("branch {b} (from {from:?}) differs from {old}"))
            }
            _ => self.branch = Some(b),
        }
    }

    fn set_version(&mut self, v: Version, from: &str) {
        match self.version {
            Some(old) if old != v => {
                self.conflicts.push(format!("version {v} (from {from:?}) differs from version {old}"))
            }
            Some(_) => {}
            None => {
                if let Some(b) = self.branch.filter(|b| *b != v.branch()) {
                    self.conflicts.push(format!("version {v} (from {from:?}) is not on branch {b}"));
                    return;
                }
                self.version = Some(v);
                self.branch = Some(v.branch());
            }
        }
    }

    fn set_update(&mut self, u: String, from: &str) {
        match &self.update {
            // `Update: 3` from esxcli and `Update 3g` from a name agree: keep the longer.
            Some(old) if old == &u => {}
            Some(old) if update_number(old) == update_number(&u) && (old.len() < u.len()) => {
                self.update = Some(u)
            }
            Some(old) if update_number(old) == update_number(&u) => {}
            Some(old) => self.conflicts.push(format!("update {u} (from {from:?}) differs from update {old}")),
            None => self.update = Some(u),
        }
    }

    fn set_profile(&mut self, p: &str) {
        if self.profile.is_none() {
            self.profile = Some(p.to_string());
        }
    }

    /// Fills `version` from branch and update where VMware's numbering makes
    /// it certain, and checks that the parts agree.
    fn finish(&mut self) {
        if self.version.is_none() {
            if let Some(b) = self.branch {
                if b.major < 7 {
                    // 6.x versions are always x.y.0; the update is a separate field.
                    self.version = Some(Version::new(b.major, b.minor, 0));
                } else if let Some(n) = self.update_number() {
                    self.version = Some(Version::new(b.major, b.minor, n));
                } else if self.ga || self.letter.is_some() {
                    self.version = Some(Version::new(b.major, b.minor, 0));
                }
            }
        }
        if let (Some(v), Some(n)) = (self.version, self.update_number()) {
            if v.major >= 7 && v.patch != n {
                let u = self.update.clone().unwrap_or_default();
                self.conflicts.push(format!(
                    "version {v} does not match Update {u} (expected {}.{}.{n})",
                    v.major, v.minor
                ));
            }
        }
        if self.update.as_deref() == Some("0") {
            self.update = None;
        }
        if self.branch.is_none() {
            self.branch = self.version.map(Version::branch);
        }
    }
}

/// The numeric part of an update level: `3` for `3g`, `2` for `2a`.
pub fn update_number(u: &str) -> Option<u8> {
    let digits: String = u.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether `given` (possibly only a number, as `esxcli` prints it) agrees with a
/// release's update level `actual`: `3` agrees with `3g`, `3g` only with `3g`.
pub fn update_agrees(given: &str, actual: Option<&str>) -> bool {
    let actual = actual.unwrap_or("0");
    if given.eq_ignore_ascii_case(actual) {
        return true;
    }
    given.chars().all(|c| c.is_ascii_digit()) && update_number(given) == update_number(actual)
}

/// Reads a patch reference (`P05`, `EP 23`, `Patch 5`, `Express Patch 23`)
/// from a release name such as `ESXi 6.7 P05`.
pub fn patch_ref_in(name: &str) -> Option<PatchRef> {
    let toks = tokenize(name);
    let mut i = 0;
    while i < toks.len() {
        if let Some((p, _)) = patch_at(&toks, i) {
            return Some(p);
        }
        i += 1;
    }
    None
}

/// Parses a release query.
pub fn parse_query(input: &str) -> Result<ParsedQuery, QueryError> {
    if input.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong { bytes: input.len(), max: MAX_QUERY_BYTES });
    }
    let mut q = ParsedQuery { raw: input.to_string(), ..Default::default() };
    let text = split_inline_keys(&structured_to_lines(input.trim()));
    if text.is_empty() {
        return Err(QueryError::Unrecognised(quote(input)));
    }
    let mut kv_seen = false;
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(':') {
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "version" => {
                    kv_seen = true;
                    scan(&mut q, value);
                }
                "build" => {
                    kv_seen = true;
                    scan_build_value(&mut q, value);
                }
                "update" => {
                    kv_seen = true;
                    if let Some(u) = parse_update(value) {
                        q.set_update(u, line.trim());
                    }
                }
                "patch" => {
                    kv_seen = true;
                    q.esxcli_patch = value.parse().ok();
                }
                "product" => kv_seen = true,
                // `esxcli software profile get`: `Name: ESXi-8.0U3b-24280767-standard`
                "name" => scan(&mut q, value),
                _ => scan(&mut q, line),
            }
        } else if !kv_seen || !line.trim().is_empty() {
            scan(&mut q, line);
        }
    }
    q.finish();
    if q.is_empty() {
        return Err(QueryError::Unrecognised(quote(input)));
    }
    Ok(q)
}

/// `esxcli --formatter=json|xml system version get` output, turned into the
/// `Key: value` lines of the plain formatter. Other text is returned as is.
///
/// JSON: `{"Build": "Releasebuild-17700523", "Update": 3, ...}`; XML:
/// `<field name="Build"><string>Releasebuild-17700523</string></field>`.
fn structured_to_lines(text: &str) -> String {
    if let Some(body) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let mut out = String::new();
        for pair in body.split(',') {
            if let Some((k, v)) = pair.split_once(':') {
                let k = k.trim().trim_matches('"');
                let v = v.trim().trim_matches('"');
                out.push_str(&format!("{k}: {v}\n"));
            }
        }
        return out;
    }
    if text.starts_with('<') && text.contains("name=\"") {
        let mut out = String::new();
        for part in text.split("name=\"").skip(1) {
            let Some((key, rest)) = part.split_once('"') else { continue };
            // The first non-empty text node after the field's opening tag.
            let value = rest
                .split('<')
                .filter_map(|seg| seg.split_once('>').map(|(_, t)| t.trim()))
                .find(|t| !t.is_empty())
                .unwrap_or("");
            out.push_str(&format!("{key}: {value}\n"));
        }
        return out;
    }
    text.to_string()
}

/// `esxcli system version get` pasted on one line (unquoted shell arguments
/// joined by spaces): puts each `Key:` of its layout on a line of its own.
///
/// One pass per key over the text (linear): every key found after the first
/// byte gets a line break before it.
fn split_inline_keys(text: &str) -> String {
    const KEYS: [&str; 5] = ["Product:", "Version:", "Build:", "Update:", "Patch:"];
    if !text.contains("Version:") && !text.contains("Build:") {
        return text.to_string();
    }
    let mut at: Vec<usize> =
        KEYS.iter().flat_map(|k| text.match_indices(k).map(|(i, _)| i)).filter(|&i| i > 0).collect();
    at.sort_unstable();
    at.dedup();
    let mut out = String::with_capacity(text.len() + at.len());
    let mut from = 0;
    for i in at {
        out.push_str(&text[from..i]);
        out.push('\n');
        from = i;
    }
    out.push_str(&text[from..]);
    out
}

fn tokenize(s: &str) -> Vec<String> {
    s.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '"' | '\'' | '`' | '[' | ']' | '\u{feff}')
    })
    .map(|t| t.trim_end_matches(['.', ':']).to_string())
    .filter(|t| !t.is_empty())
    .collect()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A build number: 5 to 9 digits (ESXi builds run from 5 to 8 digits).
fn as_build(s: &str) -> Option<u32> {
    if all_digits(s) && (5..=9).contains(&s.len()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `3g`, `3`, `U3g`, `Update3g` -> `3g` (lowercase).
fn parse_update(s: &str) -> Option<String> {
    let l = s.to_ascii_lowercase();
    let l = l.strip_prefix("update").or_else(|| l.strip_prefix('u')).unwrap_or(&l);
    let digits = l.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let rest = &l[digits..];
    if rest.len() <= 3 && rest.bytes().all(|b| b.is_ascii_lowercase()) {
        Some(l.to_string())
    } else {
        None
    }
}

/// What `parse_dotted` read: branch, version, update, GA-line letter.
type Dotted = (Branch, Option<Version>, Option<String>, Option<String>);

/// `x.y` or `x.y.z`, optionally followed by `U<update>` or a GA-line letter (`7.0b`).
fn parse_dotted(s: &str) -> Option<Dotted> {
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, rest) = s.split_at(end);
    let (update, letter) = if rest.is_empty() {
        (None, None)
    } else if rest.starts_with(['u', 'U']) {
        (Some(parse_update(rest)?), None)
    } else if rest.len() <= 3 && rest.bytes().all(|b| b.is_ascii_alphabetic()) && !num.ends_with('.') {
        (None, Some(rest.to_ascii_lowercase()))
    } else {
        return None;
    };
    let mut parts: Vec<&str> = num.split('.').collect();
    // 9.0 writes four parts (`9.0.0.0`), sometimes with the build appended
    // (`9.0.0.0.24755229`): the build is read elsewhere, the fourth part dropped.
    if parts.len() == 5 && as_build(parts[4]).is_some() {
        parts.truncate(4);
    }
    if parts.len() == 4 {
        parts.truncate(3);
    }
    let nums: Option<Vec<u8>> =
        parts.iter().map(|p| if p.is_empty() || p.len() > 2 { None } else { p.parse().ok() }).collect();
    let nums = nums?;
    // ESXi majors run 3..=9; this rejects IP addresses and most dates.
    if !(3..=9).contains(&nums[0]) {
        return None;
    }
    match nums.len() {
        2 => Some((Branch::new(nums[0], nums[1]), None, update, letter)),
        3 => {
            let v = Version::new(nums[0], nums[1], nums[2]);
            Some((v.branch(), Some(v), update, letter))
        }
        _ => None,
    }
}

/// The value of a `Build:` line: `Releasebuild-21495797`, `build-17700523`, `17700523`.
fn scan_build_value(q: &mut ParsedQuery, value: &str) {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let digits =
        lower.strip_prefix("releasebuild-").or_else(|| lower.strip_prefix("build-")).unwrap_or(&lower);
    if let Some(b) = as_build(digits) {
        q.set_build(b, v);
    } else {
        scan(q, v);
    }
}

/// `P05`, `EP 23`, `Patch 5`, `Express Patch 23` starting at token `i`;
/// returns the patch and how many tokens it used.
fn patch_at(toks: &[String], i: usize) -> Option<(PatchRef, usize)> {
    let t = toks[i].to_ascii_lowercase();
    let next_num = |j: usize| -> Option<u16> {
        toks.get(j).filter(|s| all_digits(s) && s.len() <= 3).and_then(|s| s.parse().ok())
    };
    let small = |s: &str| -> Option<u16> {
        if all_digits(s) && s.len() <= 3 {
            s.parse().ok()
        } else {
            None
        }
    };
    if t == "express" && toks.get(i + 1).is_some_and(|s| s.eq_ignore_ascii_case("patch")) {
        return next_num(i + 2).map(|n| (PatchRef { express: true, number: n }, 3));
    }
    if t == "ep" || t == "patch" || t == "p" {
        return next_num(i + 1).map(|n| (PatchRef { express: t == "ep", number: n }, 2));
    }
    if let Some(n) = t.strip_prefix("ep").and_then(small) {
        return Some((PatchRef { express: true, number: n }, 1));
    }
    if let Some(n) = t.strip_prefix('p').and_then(small) {
        return Some((PatchRef { express: false, number: n }, 1));
    }
    None
}

/// Image profile: `ESXi-7.0U3g-20328353-standard`, `ESXi-6.7.0-20210304001-no-tools`,
/// `ESXi-9.0.1-0.24957456-standard`.
fn scan_profile(q: &mut ParsedQuery, tok: &str) -> bool {
    let parts: Vec<&str> = tok.split('-').collect();
    if parts.len() < 4 || !parts[0].eq_ignore_ascii_case("esxi") {
        return false;
    }
    let Some((branch, version, update, letter)) = parse_dotted(parts[1]) else {
        return false;
    };
    // 6.x security-only profiles end the dated id with `s`: 20150701001s.
    // 9.x profiles write `<patch level>.<build>`: ESXi-9.0.1-0.24957456-standard
    // (ESX 9.0.1.0 release notes).
    let id = match parts[2].split_once('.') {
        Some((level, b)) if all_digits(level) && all_digits(b) => b,
        _ => parts[2].strip_suffix('s').unwrap_or(parts[2]),
    };
    if !all_digits(id) {
        return false;
    }
    if letter.is_some() {
        q.letter = letter;
    }
    q.set_profile(tok);
    q.set_branch(branch, tok);
    if let Some(v) = version {
        q.set_version(v, tok);
    }
    if let Some(u) = update {
        q.set_update(u, tok);
    }
    // 7.0+ profiles carry the build; 6.x profiles a dated patch id (YYYYMMDDNNN).
    if let Some(b) = as_build(id) {
        q.set_build(b, tok);
    }
    true
}

/// Bulletin ids: `ESXi670-202103001`, `ESXi650-202102101-SG`, `ESXi70U1c-17325551`.
fn scan_bulletin(q: &mut ParsedQuery, tok: &str) -> bool {
    let Some(rest) = tok.get(4..).filter(|_| tok[..4].eq_ignore_ascii_case("esxi")) else {
        return false;
    };
    let Some((head, tail)) = rest.split_once('-') else {
        return false;
    };
    // 6.x style: three digits, then a 9-digit dated id.
    if head.len() == 3 && all_digits(head) {
        let id = tail.split('-').next().unwrap_or("");
        if id.len() != 9 || !all_digits(id) {
            return false;
        }
        let b = head.as_bytes();
        let branch = Branch::new(b[0] - b'0', b[1] - b'0');
        q.bulletin = Some(tok.to_string());
        q.set_version(Version::new(branch.major, branch.minor, b[2] - b'0'), tok);
        return true;
    }
    // 7.0+ style: `ESXi70U1c-17325551`.
    if head.len() >= 4 && head.get(..2).is_some_and(all_digits) && head[2..].starts_with(['u', 'U']) {
        let Some(u) = parse_update(&head[2..]) else { return false };
        let b = head.as_bytes();
        let Some(build) = as_build(tail.split('-').next().unwrap_or("")) else { return false };
        q.bulletin = Some(tok.to_string());
        q.set_branch(Branch::new(b[0] - b'0', b[1] - b'0'), tok);
        q.set_update(u, tok);
        q.set_build(build, tok);
        return true;
    }
    false
}

/// Scans one line of free text.
fn scan(q: &mut ParsedQuery, text: &str) {
    let toks = tokenize(text);
    let mut i = 0;
    while i < toks.len() {
        let tok = toks[i].as_str();
        let lower = tok.to_ascii_lowercase();
        let next = toks.get(i + 1).map(String::as_str);
        // latest-7.0, latest 7.0
        if let Some(rest) = lower.strip_prefix("latest") {
            let rest = rest.trim_start_matches(['-', '_']);
            let (b, used) = if rest.is_empty() { (next, 2) } else { (Some(rest), 1) };
            if let Some((branch, ..)) = b.and_then(parse_dotted) {
                q.latest = true;
                q.set_branch(branch, tok);
                i += used;
                continue;
            }
        }
        if scan_profile(q, tok) || scan_bulletin(q, tok) {
            i += 1;
            continue;
        }
        // ESXi 670-202011002 (a typo in VMware's own table)
        if lower == "esxi" && next.is_some_and(|n| scan_bulletin(q, &format!("ESXi{n}"))) {
            i += 2;
            continue;
        }
        if let Some(d) = lower.strip_prefix("releasebuild-").or_else(|| lower.strip_prefix("build-")) {
            if let Some(b) = as_build(d) {
                q.set_build(b, tok);
            }
            i += 1;
            continue;
        }
        if lower == "build" || lower == "releasebuild" {
            if let Some(b) = next.and_then(as_build) {
                q.set_build(b, tok);
                i += 2;
                continue;
            }
        }
        if lower == "update" || lower == "u" {
            if let Some(u) = next.and_then(parse_update) {
                q.set_update(u, &format!("{tok} {}", next.unwrap_or("")));
                i += 2;
                continue;
            }
        }
        if lower.starts_with('u') {
            if let Some(u) = parse_update(&lower) {
                q.set_update(u, tok);
                i += 1;
                continue;
            }
        }
        if lower == "ga" {
            q.ga = true;
            i += 1;
            continue;
        }
        if let Some((p, used)) = patch_at(&toks, i) {
            q.patch = Some(p);
            i += used;
            continue;
        }
        if let Some(b) = as_build(tok) {
            q.set_build(b, tok);
            i += 1;
            continue;
        }
        // 8.0-style `8.0.3-0.70.24674464` (Broadcom KB 395110): version, then the build last.
        if let Some((v, tail)) = tok.split_once('-') {
            if let Some((branch, version, update, _)) = parse_dotted(v) {
                let build = tail.rsplit('.').next().and_then(as_build);
                if build.is_some() && tail.split('.').all(all_digits) {
                    q.set_branch(branch, tok);
                    if let Some(v) = version {
                        q.set_version(v, tok);
                    }
                    if let Some(u) = update {
                        q.set_update(u, tok);
                    }
                    if let Some(b) = build {
                        q.set_build(b, tok);
                    }
                    i += 1;
                    continue;
                }
            }
        }
        if let Some((branch, version, update, letter)) = parse_dotted(tok) {
            if letter.is_some() {
                q.letter = letter;
            }
            if let Some(b) = tok.split('.').nth(4).and_then(as_build) {
                q.set_build(b, tok);
            }
            q.set_branch(branch, tok);
            if let Some(v) = version {
                q.set_version(v, tok);
            }
            if let Some(u) = update {
                q.set_update(u, tok);
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests;
