//! XML reader benchmark for `scripts/bench-parsers.sh` (issue 14, "Library
//! parsers"): esxup's hand-written reader (`src/minixml.rs`) against
//! quick-xml on the metadata XML of a depot, all of it in memory, one thread.
//!
//! `cargo run --release -p esxup-depot --example xml_bench -- DEPOT [--variant V] [--kind K] [--runs N]`
//! `cargo run --release -p esxup-depot --example xml_bench -- DEPOT --check`
//! `cargo run --release -p esxup-depot --example xml_bench -- --refusals`
//!
//! The documents are the ones a cold `esxup depot` job parses: `index.xml`,
//! the vendor index, and every metadata zip's `vibs/`, `bulletins/`,
//! `profiles/` members and `vmware.xml` (read, inflated and UTF-8 checked
//! before anything is timed). Variants (each run over every document of
//! `--kind`: all, index, vib, bulletin, profile, vmware):
//!   load         nothing (the baseline; prints what was loaded)
//!   minixml      minixml builds its tree (the reusable `Parser`)
//!   qx-events    quick-xml's event loop with every attribute value
//!                normalized and unescaped, every text run EOL-normalized,
//!                every entity/character reference resolved (unknown ones and
//!                `<!DOCTYPE` refused): a lower bound for any quick-xml reader
//!                that refuses what minixml refuses
//!   qx-raw       quick-xml's tokenizer alone (end names unchecked,
//!                attributes split without the duplicate check, nothing
//!                unescaped): the floor under anything built on quick-xml
//!   minixml-vib  `vibs/*.xml` read into `Vib`s the way the depot does
//!                (`xml::parse_metadata_file`: minixml tree + `xml.rs`)
//!   qx-vib       the same `Vib`s (and warnings) from a streaming quick-xml
//!                reader written here (`qx_parse_vib`), refusing what
//!                minixml refuses
//! (`--variant a,b` runs several, in that order.) Each prints one JSON
//! line: best and median wall time of `--runs` runs (default 7), MB/s of
//! the best. For instruction counts run it under callgrind with `--runs 1`,
//! `--collect-atstart=no --toggle-collect=xml_bench::measured
//! --dump-after=xml_bench::measured`: one dump per variant, in order (the
//! exact name: a wildcard would also match closures inside `measured` and
//! toggle collection off in them).
//!
//! `--check` asserts that `qx-vib` gives exactly the `Vib`s and warnings of
//! `minixml-vib` on every `vibs/` document, and that minixml and the
//! quick-xml event loop accept the same documents. `--refusals` prints how
//! minixml, bare quick-xml and `qx_parse_vib` answer hostile inputs
//! (`<!DOCTYPE` with entities, unknown entities, ...).

use esxup_depot::xml::{self, Parsed, Parser};
use esxup_depot::{parse_acceptance, Constraint, Provide, Relation, Vib, VibVersion};
use esxup_depot::{Checksum, HwPlatform, Payload, SwPlatform};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;
use std::borrow::Cow;
use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Index,
    Vib,
    Bulletin,
    Profile,
    Vmware,
}

struct Doc {
    kind: Kind,
    path: String,
    text: String,
}

fn classify(name: &str) -> Option<Kind> {
    if name.eq_ignore_ascii_case("vmware.xml") {
        return Some(Kind::Vmware);
    }
    let (dir, file) = name.split_once('/')?;
    if !file.to_ascii_lowercase().ends_with(".xml") {
        return None;
    }
    match dir.to_ascii_lowercase().as_str() {
        "vibs" => Some(Kind::Vib),
        "bulletins" => Some(Kind::Bulletin),
        "profiles" => Some(Kind::Profile),
        _ => None,
    }
}

fn load(dir: &Path, out: &mut Vec<Doc>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("").to_ascii_lowercase();
        if p.is_dir() {
            load(&p, out)?;
        } else if ext == "xml" {
            let b = std::fs::read(&p).map_err(|e| format!("read {}: {e}", p.display()))?;
            let path = p.display().to_string();
            let text = xml::utf8(&path, &b).map_err(|e| e.to_string())?.to_string();
            out.push(Doc { kind: Kind::Index, path, text });
        } else if ext == "zip" {
            let f = std::fs::File::open(&p).map_err(|e| format!("open {}: {e}", p.display()))?;
            let mut z = zip::ZipArchive::new(f).map_err(|e| format!("{}: {e}", p.display()))?;
            for i in 0..z.len() {
                let mut m = z.by_index(i).map_err(|e| format!("{}: {e}", p.display()))?;
                let name = m.name().map_err(|e| format!("{}: {e}", p.display()))?.to_string();
                let Some(kind) = classify(&name) else { continue };
                let path = format!("{}!{name}", p.display());
                let mut b = Vec::with_capacity(m.size() as usize);
                m.read_to_end(&mut b).map_err(|e| format!("{path}: {e}"))?;
                let text = xml::utf8(&path, &b).map_err(|e| e.to_string())?.to_string();
                out.push(Doc { kind, path, text });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// quick-xml: the bare event loop (lower bound).

const MAX_DEPTH: usize = 256;

fn resolve_ref(r: &BytesRef<'_>) -> Result<Cow<'static, str>, String> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(Cow::Owned(c.to_string())),
        Ok(None) => match quick_xml::escape::resolve_xml_entity(r) {
            Some(s) => Ok(Cow::Borrowed(s)),
            None => Err(format!("unknown entity &{};(entities are not expanded; DTDs are refused)", &**r)),
        },
        Err(e) => Err(format!("invalid character reference &{};: {e}", &**r)),
    }
}

/// Every event, attribute value, text run and reference of `src`; returns a
/// sum of their lengths (so that nothing is optimised away).
fn qx_events(src: &str) -> Result<usize, String> {
    let mut r = Reader::from_str(src);
    let mut sum = 0usize;
    loop {
        let ev = r.read_event().map_err(|e| format!("{e} at byte {}", r.error_position()))?;
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                sum += e.local_name().as_ref().len();
                for a in e.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    let v = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
                    sum += a.key.local_name().as_ref().len() + v.len();
                }
            }
            Event::Text(t) => sum += t.xml10_content().len(),
            Event::CData(c) => sum += c.len(),
            Event::GeneralRef(g) => sum += resolve_ref(&g)?.len(),
            Event::DocType(_) => return Err("a DTD (<!DOCTYPE>) is not allowed".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(sum)
}

/// quick-xml's tokenizer alone: end names not checked, attributes split
/// without the duplicate check, nothing unescaped or normalized, DTDs and
/// references not even looked at. Not a usable reader (it refuses less than
/// minixml): the floor under anything built on quick-xml.
fn qx_raw(src: &str) -> Result<usize, String> {
    let mut r = Reader::from_str(src);
    r.config_mut().check_end_names = false;
    let mut sum = 0usize;
    loop {
        match r.read_event().map_err(|e| format!("{e} at byte {}", r.error_position()))? {
            Event::Start(e) | Event::Empty(e) => {
                sum += e.local_name().as_ref().len();
                for a in e.attributes().with_checks(false) {
                    let a = a.map_err(|e| e.to_string())?;
                    sum += a.key.as_ref().len() + a.value.len();
                }
            }
            Event::Text(t) => sum += t.len(),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(sum)
}

// ---------------------------------------------------------------------------
// quick-xml: a streaming reader for `vibs/*.xml`, the fields `xml.rs` reads.

type QResult<T> = Result<T, String>;

struct Qx<'i> {
    r: Reader<&'i [u8]>,
    depth: usize,
}

fn push_text<'i>(acc: &mut Option<Cow<'i, str>>, s: Cow<'i, str>) {
    match acc {
        None => *acc = Some(s),
        Some(a) => a.to_mut().push_str(&s),
    }
}

fn trim_cow(c: Cow<'_, str>) -> Cow<'_, str> {
    match c {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}

impl<'i> Qx<'i> {
    fn new(src: &'i str) -> Qx<'i> {
        // Defaults: end names checked, unmatched ends refused, no trimming,
        // `<a/>` reported as Empty.
        Qx { r: Reader::from_str(src), depth: 0 }
    }

    fn ev(&mut self) -> QResult<Event<'i>> {
        let e = self.r.read_event().map_err(|e| format!("{e} at byte {}", self.r.error_position()))?;
        match &e {
            Event::DocType(_) => {
                return Err(format!(
                    "a DTD (<!DOCTYPE>) is not allowed: DTDs and entity definitions are refused at byte {}",
                    self.r.buffer_position()
                ))
            }
            Event::Start(_) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(format!("elements nested more than {MAX_DEPTH} deep"));
                }
            }
            Event::End(_) => self.depth -= 1,
            _ => {}
        }
        Ok(e)
    }

    /// The root element (after the prolog).
    fn root(&mut self) -> QResult<(BytesStart<'i>, bool)> {
        loop {
            match self.ev()? {
                Event::Start(e) => return Ok((e, false)),
                Event::Empty(e) => return Ok((e, true)),
                Event::Text(t) if t.trim_ascii().is_empty() => {}
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Text(_) => return Err("text outside the root element".into()),
                Event::Eof => return Err("no root element".into()),
                _ => return Err("markup outside the root element".into()),
            }
        }
    }

    /// After the root element: only white space, comments and PIs.
    fn finish(&mut self) -> QResult<()> {
        loop {
            match self.ev()? {
                Event::Eof => return Ok(()),
                Event::Text(t) if t.trim_ascii().is_empty() => {}
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(_) | Event::Empty(_) => return Err("a second root element".into()),
                _ => return Err("text outside the root element".into()),
            }
        }
    }

    /// The next child element of the open element, or None at its end tag.
    fn child(&mut self) -> QResult<Option<(BytesStart<'i>, bool)>> {
        loop {
            match self.ev()? {
                Event::Start(e) => return Ok(Some((e, false))),
                Event::Empty(e) => return Ok(Some((e, true))),
                Event::End(_) => return Ok(None),
                Event::Eof => return Err("unexpected end of document".into()),
                Event::GeneralRef(r) => {
                    resolve_ref(&r)?;
                }
                _ => {}
            }
        }
    }

    /// Consumes the rest of the element just opened.
    fn skip(&mut self, empty: bool) -> QResult<()> {
        if empty {
            return Ok(());
        }
        let d = self.depth - 1;
        loop {
            match self.ev()? {
                Event::End(_) if self.depth == d => return Ok(()),
                Event::Eof => return Err("unexpected end of document".into()),
                Event::GeneralRef(r) => {
                    resolve_ref(&r)?;
                }
                _ => {}
            }
        }
    }

    /// The first text run of the element just opened (as minixml keeps it:
    /// up to its first child, comment or PI), trimmed; consumes the element.
    fn text(&mut self, empty: bool) -> QResult<Cow<'i, str>> {
        if empty {
            return Ok(Cow::Borrowed(""));
        }
        let mut acc: Option<Cow<'i, str>> = None;
        let mut open = true;
        loop {
            match self.ev()? {
                Event::Text(t) if open => push_text(&mut acc, t.xml10_content()),
                Event::CData(c) if open => push_text(&mut acc, c.into_inner()),
                Event::GeneralRef(r) => {
                    let s = resolve_ref(&r)?;
                    if open {
                        push_text(&mut acc, s);
                    }
                }
                Event::Start(_) => {
                    open = false;
                    self.skip(false)?;
                }
                Event::Empty(_) | Event::Comment(_) | Event::PI(_) => open = false,
                Event::End(_) => return Ok(trim_cow(acc.unwrap_or(Cow::Borrowed("")))),
                Event::Eof => return Err("unexpected end of document".into()),
                _ => {}
            }
        }
    }

    fn string(&mut self, empty: bool) -> QResult<String> {
        Ok(self.text(empty)?.into_owned())
    }

    fn opt_string(&mut self, empty: bool) -> QResult<Option<String>> {
        let t = self.text(empty)?;
        Ok(if t.is_empty() { None } else { Some(t.into_owned()) })
    }
}

/// Calls `f(local name, normalized value)` for each attribute of `e`
/// (duplicates and `<` in values refused, as minixml does).
fn attrs<'a>(e: &'a BytesStart<'_>, mut f: impl FnMut(&str, Cow<'a, str>)) -> QResult<()> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if memchr::memchr(b'<', a.value.as_bytes()).is_some() {
            return Err(format!("'<' in the value of attribute {}", a.key.as_ref()));
        }
        let v = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
        f(a.key.local_name().as_ref(), v);
    }
    Ok(())
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn qx_constraint(e: &BytesStart<'_>, path: &str, warnings: &mut Vec<String>) -> QResult<Option<Constraint>> {
    let (mut name, mut rel, mut ver) = (None, None, None);
    attrs(e, |k, v| match k {
        "name" => name = Some(v),
        "relation" => rel = Some(v),
        "version" => ver = Some(v),
        _ => {}
    })?;
    let Some(name) = name else { return Ok(None) };
    let name = name.trim();
    if name.is_empty() {
        warnings.push(format!("{path}: <constraint> without a name ignored"));
        return Ok(None);
    }
    Ok(Some(match (rel.as_deref(), ver.as_deref()) {
        (Some(r), Some(v)) => match Relation::parse(r) {
            Some(rel) => Constraint::new(name, rel, v),
            None => {
                warnings.push(format!(
                    "{path}: constraint {name} has unknown relation {r:?}; read as unversioned"
                ));
                Constraint::any(name)
            }
        },
        (None, None) => Constraint::any(name),
        _ => {
            warnings.push(format!(
                "{path}: constraint {name} has a relation or a version but not both; read as unversioned"
            ));
            Constraint::any(name)
        }
    }))
}

fn qx_relationships(
    q: &mut Qx<'_>,
    empty: bool,
    vib: &mut Vib,
    path: &str,
    warnings: &mut Vec<String>,
) -> QResult<()> {
    if empty {
        return Ok(());
    }
    while let Some((g, ge)) = q.child()? {
        let tag = g.local_name();
        if tag.as_ref() == "provides" {
            if !ge {
                while let Some((p, pe)) = q.child()? {
                    let (mut n, mut v) = (None, None);
                    attrs(&p, |k, val| match k {
                        "name" => n = Some(val),
                        "version" => v = Some(val),
                        _ => {}
                    })?;
                    if let Some(n) = n {
                        vib.provides.push(Provide {
                            name: n.trim().to_string(),
                            version: v.as_deref().map(VibVersion::parse),
                        });
                    }
                    q.skip(pe)?;
                }
            }
            continue;
        }
        let list = match tag.as_ref() {
            "depends" => &mut vib.depends,
            "conflicts" => &mut vib.conflicts,
            "replaces" => &mut vib.replaces,
            "compatibleWith" => &mut vib.compatible_with,
            other => {
                warnings.push(format!("{path}: unknown relationship <{other}> ignored"));
                q.skip(ge)?;
                continue;
            }
        };
        if !ge {
            while let Some((c, ce)) = q.child()? {
                if let Some(cons) = qx_constraint(&c, path, warnings)? {
                    list.push(cons);
                }
                q.skip(ce)?;
            }
        }
    }
    Ok(())
}

fn qx_checksum(q: &mut Qx<'_>, e: &BytesStart<'_>, empty: bool) -> QResult<Checksum> {
    let (mut kind, mut vp) = (None, None);
    attrs(e, |k, v| match k {
        "checksum-type" => kind = Some(v.trim().to_string()),
        "verify-process" => vp = Some(v.trim().to_string()),
        _ => {}
    })?;
    Ok(Checksum {
        kind: kind.unwrap_or_else(|| "sha-256".to_string()),
        verify_process: vp,
        value: q.text(empty)?.to_ascii_lowercase(),
    })
}

fn qx_system_requires(
    q: &mut Qx<'_>,
    empty: bool,
    vib: &mut Vib,
    path: &str,
    warnings: &mut Vec<String>,
) -> QResult<()> {
    if empty {
        return Ok(());
    }
    while let Some((c, ce)) = q.child()? {
        match c.local_name().as_ref() {
            "maintenance-mode" => {
                let mut oi = None;
                attrs(&c, |k, v| {
                    if k == "on-install" {
                        oi = Some(v)
                    }
                })?;
                let t = q.text(ce)?;
                vib.maintenance_mode =
                    parse_bool(&t).or_else(|| oi.as_deref().and_then(parse_bool)).or(vib.maintenance_mode);
            }
            "maintenanceMode" => {
                warnings.push(format!(
                    "{path}: non-standard <maintenanceMode> in <system-requires> read as <maintenance-mode>"
                ));
                vib.maintenance_mode = parse_bool(&q.text(ce)?);
            }
            "hwplatform" => {
                let (mut vendor, mut model) = (None, None);
                attrs(&c, |k, v| match k {
                    "vendor" => vendor = Some(v.into_owned()),
                    "model" => model = Some(v.into_owned()),
                    _ => {}
                })?;
                vib.hw_platforms.push(HwPlatform { vendor: vendor.unwrap_or_default(), model });
                q.skip(ce)?;
            }
            "softwarePlatform" | "swplatform" | "swPlatform" => {
                vib.sw_platforms.push(qx_sw_platform(&c)?);
                q.skip(ce)?;
            }
            other => {
                warnings.push(format!("{path}: unknown <system-requires> element <{other}> ignored"));
                q.skip(ce)?;
            }
        }
    }
    Ok(())
}

fn qx_sw_platform(e: &BytesStart<'_>) -> QResult<SwPlatform> {
    let (mut pl, mut v) = (None, None);
    attrs(e, |k, val| match k {
        "productLineID" => pl = Some(val.into_owned()),
        "version" => v = Some(val.into_owned()),
        _ => {}
    })?;
    Ok(SwPlatform { product_line: pl.unwrap_or_default(), version: v.unwrap_or_default() })
}

fn compose_id(vendor: &str, kind: &str, name: &str, version: &str) -> String {
    let mut id = String::with_capacity(vendor.len() + kind.len() + name.len() + version.len() + 3);
    for (i, part) in [vendor, kind, name, version].into_iter().enumerate() {
        if i > 0 {
            id.push('_');
        }
        id.push_str(part);
    }
    id
}

/// A `<vib>` document read into the `Vib` that `xml::parse_vib` builds
/// (with the same warnings), streaming over quick-xml events.
fn qx_parse_vib(path: &str, bytes: &[u8], keep_files: bool, warnings: &mut Vec<String>) -> QResult<Vib> {
    let src = xml::utf8(path, bytes).map_err(|e| e.to_string())?;
    let mut q = Qx::new(src);
    let (root, empty) = q.root()?;
    if root.local_name().as_ref() != "vib" {
        return Err(format!("{path}: expected <vib>, found <{}>", root.local_name().as_ref()));
    }
    let mut va = None;
    attrs(&root, |k, v| {
        if k == "version" {
            va = Some(v)
        }
    })?;
    match va.as_deref() {
        Some("5.0") => {}
        Some(v) => warnings.push(format!("{path}: descriptor version {v:?} (schema knows 5.0)")),
        None => warnings.push(format!("{path}: <vib> has no version attribute (schema wants 5.0)")),
    }
    let mut vib = Vib::default();
    let mut version: Option<Cow<'_, str>> = None;
    let mut files: Vec<Cow<'_, str>> = Vec::new();
    if !empty {
        while let Some((c, ce)) = q.child()? {
            match c.local_name().as_ref() {
                "type" => vib.kind = q.string(ce)?,
                "name" => vib.name = q.string(ce)?,
                "version" => version = Some(q.text(ce)?),
                "vendor" => vib.vendor = q.string(ce)?,
                "summary" => vib.summary = q.opt_string(ce)?,
                "description" => vib.description = q.opt_string(ce)?,
                "release-date" => vib.release_date = q.opt_string(ce)?,
                "relationships" => qx_relationships(&mut q, ce, &mut vib, path, warnings)?,
                "software-tags" => {
                    if !ce {
                        while let Some((_, te)) = q.child()? {
                            vib.software_tags.push(q.string(te)?);
                        }
                    }
                }
                "system-requires" => qx_system_requires(&mut q, ce, &mut vib, path, warnings)?,
                "file-list" => {
                    if !ce {
                        while let Some((_, fe)) = q.child()? {
                            vib.file_count += 1;
                            files.push(q.text(fe)?);
                        }
                    }
                }
                "acceptance-level" => {
                    let t = q.text(ce)?;
                    vib.acceptance = parse_acceptance(&t);
                    if vib.acceptance.is_none() {
                        warnings.push(format!("{path}: unknown acceptance level {:?}", &*t));
                    }
                }
                "live-install-allowed" => vib.live_install_allowed = parse_bool(&q.text(ce)?),
                "live-remove-allowed" => vib.live_remove_allowed = parse_bool(&q.text(ce)?),
                "stateless-ready" => vib.stateless_ready = parse_bool(&q.text(ce)?),
                "overlay" => vib.overlay = parse_bool(&q.text(ce)?),
                "urls" | "cimom-restart" | "resources" | "install-date" | "signature" => q.skip(ce)?,
                "relative-path" => vib.relative_path = q.opt_string(ce)?,
                "packed-size" => vib.packed_size = q.text(ce)?.parse().ok(),
                "checksum" => vib.checksum = Some(qx_checksum(&mut q, &c, ce)?),
                "payloads" => {
                    if !ce {
                        while let Some((p, pe)) = q.child()? {
                            if p.local_name().as_ref() != "payload" {
                                q.skip(pe)?;
                                continue;
                            }
                            let (mut name, mut kind, mut size) = (None, None, None);
                            attrs(&p, |k, v| match k {
                                "name" => name = Some(v.into_owned()),
                                "type" => kind = Some(v.into_owned()),
                                "size" => size = v.trim().parse().ok(),
                                _ => {}
                            })?;
                            let mut checksums = Vec::new();
                            if !pe {
                                while let Some((k, ke)) = q.child()? {
                                    if k.local_name().as_ref() == "checksum" {
                                        checksums.push(qx_checksum(&mut q, &k, ke)?);
                                    } else {
                                        q.skip(ke)?;
                                    }
                                }
                            }
                            vib.payloads.push(Payload {
                                name: name.unwrap_or_default(),
                                kind: kind.unwrap_or_default(),
                                size,
                                checksums,
                            });
                        }
                    }
                }
                other => {
                    warnings.push(format!("{path}: unknown descriptor element <{other}> ignored"));
                    q.skip(ce)?;
                }
            }
        }
    }
    q.finish()?;
    let version: &str = version.as_deref().unwrap_or_default();
    if vib.name.is_empty() || vib.vendor.is_empty() || version.is_empty() {
        return Err(format!("{path}: <vib> lacks one of <name>, <vendor>, <version>"));
    }
    if !version.contains('-') {
        warnings.push(format!(
            "{path}: VIB version {version:?} has no release part (schema wants version-release)"
        ));
    }
    if vib.kind.is_empty() {
        vib.kind = "bootbank".to_string();
    }
    vib.version = VibVersion::parse(version);
    vib.id = compose_id(&vib.vendor, &vib.kind, &vib.name, version);
    if keep_files
        || matches!(
            vib.acceptance,
            Some(
                esxup_facts::AcceptanceLevel::CommunitySupported
                    | esxup_facts::AcceptanceLevel::PartnerSupported
            )
        )
    {
        vib.files = files.iter().map(|f| f.to_string()).collect();
    }
    for l in [&mut vib.depends, &mut vib.conflicts, &mut vib.replaces, &mut vib.compatible_with] {
        l.shrink_to_fit();
    }
    vib.provides.shrink_to_fit();
    vib.software_tags.shrink_to_fit();
    vib.files.shrink_to_fit();
    vib.payloads.shrink_to_fit();
    Ok(vib)
}

// ---------------------------------------------------------------------------
// The measured work.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    Load,
    Minixml,
    QxEvents,
    QxRaw,
    MinixmlVib,
    QxVib,
}

const VARIANTS: [(&str, Variant); 6] = [
    ("load", Variant::Load),
    ("minixml", Variant::Minixml),
    ("qx-events", Variant::QxEvents),
    ("qx-raw", Variant::QxRaw),
    ("minixml-vib", Variant::MinixmlVib),
    ("qx-vib", Variant::QxVib),
];

/// What a run produced (dropped after the clock stops).
#[derive(Default)]
struct Output {
    sum: usize,
    parsed: Parsed,
    vibs: Vec<Vib>,
    warnings: Vec<String>,
}

/// One pass of `v` over `docs`. Not inlined: callgrind's
/// `--toggle-collect=xml_bench::measured` counts only this.
#[inline(never)]
fn measured(v: Variant, docs: &[&Doc]) -> Result<Output, String> {
    let mut out = Output::default();
    match v {
        Variant::Load => out.sum = docs.iter().map(|d| d.text.len()).sum(),
        Variant::Minixml => {
            let mut p = Parser::new();
            for d in docs {
                let doc = p.parse(&d.text).map_err(|e| format!("{}: {e}", d.path))?;
                out.sum += black_box(doc.root_element().tag_name().name().len());
            }
        }
        Variant::QxEvents => {
            for d in docs {
                out.sum += qx_events(&d.text).map_err(|e| format!("{}: {e}", d.path))?;
            }
        }
        Variant::QxRaw => {
            for d in docs {
                out.sum += qx_raw(&d.text).map_err(|e| format!("{}: {e}", d.path))?;
            }
        }
        Variant::MinixmlVib => {
            out.parsed.vibs.reserve_exact(docs.len());
            for d in docs {
                xml::parse_metadata_file(&d.path, d.text.as_bytes(), &mut out.parsed)
                    .map_err(|e| e.to_string())?;
            }
            out.sum = out.parsed.vibs.len();
        }
        Variant::QxVib => {
            out.vibs.reserve_exact(docs.len());
            for d in docs {
                let v = qx_parse_vib(&d.path, d.text.as_bytes(), false, &mut out.warnings)?;
                out.vibs.push(v);
            }
            out.sum = out.vibs.len();
        }
    }
    Ok(out)
}

fn kind_matches(filter: &str, k: Kind) -> bool {
    match filter {
        "all" => true,
        "index" => k == Kind::Index,
        "vib" => k == Kind::Vib,
        "bulletin" => k == Kind::Bulletin,
        "profile" => k == Kind::Profile,
        "vmware" => k == Kind::Vmware,
        _ => false,
    }
}

fn check(docs: &[Doc]) -> Result<(), String> {
    let vibs: Vec<&Doc> = docs.iter().filter(|d| d.kind == Kind::Vib).collect();
    let a = measured(Variant::MinixmlVib, &vibs)?;
    let b = measured(Variant::QxVib, &vibs)?;
    if a.parsed.vibs.len() != b.vibs.len() {
        return Err(format!("{} vs {} VIBs", a.parsed.vibs.len(), b.vibs.len()));
    }
    for (x, y) in a.parsed.vibs.iter().zip(&b.vibs) {
        if x != y {
            return Err(format!("VIB {} differs:\nminixml {x:?}\nqx      {y:?}", x.id));
        }
    }
    if a.parsed.warnings != b.warnings {
        return Err(format!("warnings differ: {} vs {}", a.parsed.warnings.len(), b.warnings.len()));
    }
    let mut p = Parser::new();
    for d in docs {
        let m = p.parse(&d.text).is_ok();
        let q = qx_events(&d.text).is_ok();
        if m != q {
            return Err(format!("{}: minixml ok={m}, quick-xml events ok={q}", d.path));
        }
    }
    let files: usize = a.parsed.vibs.iter().map(|v| v.file_count).sum();
    println!(
        "{{\"check\": \"ok\", \"vibs_equal\": {}, \"warnings_equal\": {}, \"file_entries\": {files}, \"docs_accepted_by_both\": {}}}",
        b.vibs.len(),
        b.warnings.len(),
        docs.len()
    );
    Ok(())
}

fn refusals() {
    let vib = r#"<vib version="5.0"><type>bootbank</type><name>n</name><version>1.0-1</version><vendor>V</vendor><summary>s</summary></vib>"#;
    let cases: Vec<(&str, String)> = vec![
        (
            "DOCTYPE + entity bomb",
            format!(
                "<?xml version=\"1.0\"?><!DOCTYPE vib [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>{}",
                vib.replace("<summary>", "<summary>&b;")
            ),
        ),
        ("DOCTYPE alone", format!("<!DOCTYPE vib>{vib}")),
        ("DOCTYPE SYSTEM (XXE)", format!("<!DOCTYPE vib SYSTEM \"file:///etc/passwd\">{vib}")),
        ("unknown entity in text", vib.replace("<summary>s", "<summary>&foo;")),
        ("unknown entity in attribute", vib.replace("version=\"5.0\"", "version=\"&foo;\"")),
        ("&#0;", vib.replace("<summary>s", "<summary>&#0;")),
        ("mismatched end tag", vib.replace("</summary>", "</summery>")),
        ("unclosed root", vib.replace("</vib>", "")),
        ("second root", format!("{vib}<vib/>")),
        ("text outside root", format!("x{vib}")),
        ("< in attribute", vib.replace("version=\"5.0\"", "version=\"<\"")),
        ("duplicate attribute", vib.replace("version=\"5.0\"", "version=\"5.0\" version=\"5.0\"")),
        ("300 levels deep", vib.replace("<summary>s", &format!("<summary>{}{}", "<a>".repeat(300), "</a>".repeat(300)))),
        ("predefined + char refs (valid)", vib.replace("<summary>s", "<summary>a&amp;b&#x41;&#66;")),
    ];
    println!("{:<32} {:<44} {:<44} qx_parse_vib", "case", "minixml", "quick-xml events (bare)");
    for (name, src) in &cases {
        let short = |r: Result<String, String>| -> String {
            let s = match r {
                Ok(s) => format!("ok {s}"),
                Err(e) => format!("refused: {e}"),
            };
            s.chars().take(42).collect()
        };
        let m = Parser::new().parse(src).map(|_| String::new()).map_err(|e| e.message);
        // Bare quick-xml: what its reader itself reports, nothing refused
        // by the caller (DocType and references are mere events).
        let mut r = Reader::from_str(src);
        let mut evs = Vec::new();
        let bare = loop {
            match r.read_event() {
                Ok(Event::Eof) => break Ok(evs.join(",")),
                Ok(Event::DocType(_)) => evs.push("DocType".to_string()),
                Ok(Event::GeneralRef(g)) => evs.push(format!("GeneralRef({})", &*g)),
                Ok(_) => {}
                Err(e) => break Err(e.to_string()),
            }
        };
        let bare = bare.map(|s| if s.is_empty() { "(no DocType/GeneralRef events)".into() } else { s });
        let q = qx_parse_vib("t.xml", src.as_bytes(), true, &mut Vec::new())
            .map(|v| format!("summary={:?}", v.summary.unwrap_or_default()));
        println!("{:<32} {:<44} {:<44} {}", name, short(m), short(bare), short(q));
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--refusals") {
        refusals();
        return std::process::ExitCode::SUCCESS;
    }
    let Some(dir) = args.first().filter(|a| !a.starts_with("--")) else {
        eprintln!("usage: xml_bench DEPOT [--variant V] [--kind K] [--runs N] | DEPOT --check | --refusals");
        return std::process::ExitCode::from(2);
    };
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize = opt("--runs").and_then(|s| s.parse().ok()).unwrap_or(7).max(1);
    let kind = opt("--kind").unwrap_or_else(|| "all".into());
    let mut variants: Vec<(&str, Variant)> = Vec::new();
    match opt("--variant") {
        Some(list) => {
            for v in list.split(',') {
                match VARIANTS.iter().find(|(n, _)| *n == v) {
                    Some(&x) => variants.push(x),
                    None => {
                        eprintln!("unknown variant {v}");
                        return std::process::ExitCode::from(2);
                    }
                }
            }
        }
        None => variants = VARIANTS.to_vec(),
    }
    let mut docs = Vec::new();
    if let Err(e) = load(Path::new(dir), &mut docs) {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(2);
    }
    if args.iter().any(|a| a == "--check") {
        return match check(&docs) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("check failed: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    for (name, v) in variants {
        // The VIB readers read vibs/ whatever --kind says.
        let k = if matches!(v, Variant::MinixmlVib | Variant::QxVib) { "vib" } else { kind.as_str() };
        let set: Vec<&Doc> = docs.iter().filter(|d| kind_matches(k, d.kind)).collect();
        let bytes: usize = set.iter().map(|d| d.text.len()).sum();
        let mut times = Vec::new();
        let mut sum = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let out = match measured(v, &set) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {name}: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            times.push(t.elapsed().as_secs_f64());
            sum = out.sum;
            drop(out);
        }
        times.sort_by(f64::total_cmp);
        let best = times[0];
        let median = times[times.len() / 2];
        println!(
            "{{\"variant\": \"{name}\", \"kind\": \"{k}\", \"docs\": {}, \"bytes\": {bytes}, \"runs\": {runs}, \"best_s\": {best:.4}, \"median_s\": {median:.4}, \"mb_s\": {:.1}, \"sum\": {sum}}}",
            set.len(),
            if best > 0.0 { bytes as f64 / 1e6 / best } else { 0.0 }
        );
    }
    std::process::ExitCode::SUCCESS
}
