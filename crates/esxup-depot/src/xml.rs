//! XML parsers for depot metadata (`index.xml`, `vendor-index.xml`,
//! `vmware.xml`, `bulletins/`, `vibs/`, `profiles/`) and VIB descriptors.
//!
//! The XML reader (`src/minixml.rs`) refuses DTDs (and so entity
//! definitions and expansion) and unknown entities. Parsing is lenient where
//! real community VIBs deviate from the VMware schema (`vibauthor/schemas`),
//! and each deviation becomes a warning.

use crate::error::DepotError;
pub use crate::minixml::{Node, Parser};
use crate::model::*;
use esxup_version::vib::{Constraint, Relation, VibVersion};

/// Decodes bytes as UTF-8 (a BOM is skipped), naming the file on failure.
pub fn utf8<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, DepotError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        DepotError::invalid(path, format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))
    })
}

/// Parses an XML document (DTDs refused) with this thread's reusable
/// parser and hands its root element to `f`.
pub fn with_root<R>(
    path: &str,
    text: &str,
    f: impl FnOnce(Node<'_, '_>) -> Result<R, DepotError>,
) -> Result<R, DepotError> {
    thread_local! {
        static PARSER: std::cell::RefCell<Parser> = std::cell::RefCell::new(Parser::new());
    }
    let run = |p: &mut Parser| -> Result<R, DepotError> {
        let doc = p.parse(text).map_err(|e| DepotError::xml(path, e.to_string()))?;
        f(doc.root_element())
    };
    PARSER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut p) => {
            let r = run(&mut p);
            // Do not keep the buffers of an unusually large document.
            if text.len() > (4 << 20) {
                *p = Parser::new();
            }
            r
        }
        Err(_) => run(&mut Parser::new()),
    })
}

fn text<'a>(n: Node<'a, '_>) -> &'a str {
    n.text().map(str::trim).unwrap_or("")
}

fn opt_text(n: Node) -> Option<String> {
    let t = text(n);
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.elements()
}

/// `<vendorList><vendor><indexfile>..</indexfile><relativePath>..` of index.xml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VendorRef {
    pub name: Option<String>,
    pub index_file: String,
    pub relative_path: String,
}

pub fn parse_index(path: &str, bytes: &[u8]) -> Result<Vec<VendorRef>, DepotError> {
    let src = utf8(path, bytes)?;
    with_root(path, src, |root| parse_index_root(path, root))
}

fn parse_index_root(path: &str, root: Node) -> Result<Vec<VendorRef>, DepotError> {
    if root.tag_name().name() != "vendorList" {
        return Err(DepotError::xml(
            path,
            format!("expected <vendorList>, found <{}>", root.tag_name().name()),
        ));
    }
    let mut out = Vec::new();
    for v in elements(root).filter(|n| n.has_tag_name("vendor")) {
        let mut r = VendorRef { name: None, index_file: String::new(), relative_path: String::new() };
        for c in elements(v) {
            match c.tag_name().name() {
                "name" => r.name = opt_text(c),
                "indexfile" => r.index_file = text(c).to_string(),
                "relativePath" => r.relative_path = text(c).to_string(),
                _ => {}
            }
        }
        if r.index_file.is_empty() {
            return Err(DepotError::xml(path, "a <vendor> has no <indexfile>"));
        }
        out.push(r);
    }
    Ok(out)
}

pub fn parse_vendor_index(path: &str, bytes: &[u8]) -> Result<Vec<MetadataRef>, DepotError> {
    let src = utf8(path, bytes)?;
    with_root(path, src, |root| parse_vendor_index_root(path, root))
}

fn parse_vendor_index_root(path: &str, root: Node) -> Result<Vec<MetadataRef>, DepotError> {
    if root.tag_name().name() != "metaList" {
        return Err(DepotError::xml(
            path,
            format!("expected <metaList>, found <{}>", root.tag_name().name()),
        ));
    }
    let mut out = Vec::new();
    for m in elements(root).filter(|n| n.has_tag_name("metadata")) {
        let mut r = MetadataRef { product_id: None, version: None, url: String::new() };
        for c in elements(m) {
            match c.tag_name().name() {
                "productId" => r.product_id = opt_text(c),
                "version" => r.version = opt_text(c),
                "url" => r.url = text(c).to_string(),
                _ => {}
            }
        }
        if r.url.is_empty() {
            return Err(DepotError::xml(path, "a <metadata> entry has no <url>"));
        }
        out.push(r);
    }
    Ok(out)
}

fn parse_constraint(n: Node, path: &str, warnings: &mut Vec<String>) -> Option<Constraint> {
    let name = n.attribute("name")?.trim();
    if name.is_empty() {
        warnings.push(format!("{path}: <constraint> without a name ignored"));
        return None;
    }
    match (n.attribute("relation"), n.attribute("version")) {
        (Some(r), Some(v)) => match Relation::parse(r) {
            Some(rel) => Some(Constraint::new(name, rel, v)),
            None => {
                warnings.push(format!(
                    "{path}: constraint {name} has unknown relation {r:?}; read as unversioned"
                ));
                Some(Constraint::any(name))
            }
        },
        (None, None) => Some(Constraint::any(name)),
        _ => {
            warnings.push(format!(
                "{path}: constraint {name} has a relation or a version but not both; read as unversioned"
            ));
            Some(Constraint::any(name))
        }
    }
}

fn parse_relationships(n: Node, vib: &mut Vib, path: &str, warnings: &mut Vec<String>) {
    for group in elements(n) {
        let tag = group.tag_name().name();
        if tag == "provides" {
            vib.provides.reserve_exact(elements(group).count());
            for p in elements(group) {
                if let Some(name) = p.attribute("name") {
                    vib.provides.push(Provide {
                        name: name.trim().to_string(),
                        version: p.attribute("version").map(VibVersion::parse),
                    });
                }
            }
            continue;
        }
        let list = match tag {
            "depends" => &mut vib.depends,
            "conflicts" => &mut vib.conflicts,
            "replaces" => &mut vib.replaces,
            "compatibleWith" => &mut vib.compatible_with,
            other => {
                warnings.push(format!("{path}: unknown relationship <{other}> ignored"));
                continue;
            }
        };
        list.reserve_exact(elements(group).count());
        for c in elements(group) {
            if let Some(cons) = parse_constraint(c, path, warnings) {
                list.push(cons);
            }
        }
    }
}

fn parse_checksum_attr(n: Node) -> Checksum {
    Checksum {
        kind: n.attribute("checksum-type").unwrap_or("sha-256").trim().to_string(),
        verify_process: n.attribute("verify-process").map(|s| s.trim().to_string()),
        value: text(n).to_ascii_lowercase(),
    }
}

fn parse_sw_platform(n: Node) -> SwPlatform {
    SwPlatform {
        product_line: n.attribute("productLineID").unwrap_or("").to_string(),
        version: n.attribute("version").unwrap_or("").to_string(),
    }
}

fn parse_system_requires(n: Node, vib: &mut Vib, path: &str, warnings: &mut Vec<String>) {
    for c in elements(n) {
        match c.tag_name().name() {
            "maintenance-mode" => {
                // The element text is optional when on-install/on-remove are given.
                vib.maintenance_mode = parse_bool(text(c))
                    .or_else(|| c.attribute("on-install").and_then(parse_bool))
                    .or(vib.maintenance_mode);
            }
            "maintenanceMode" => {
                warnings.push(format!(
                    "{path}: non-standard <maintenanceMode> in <system-requires> read as <maintenance-mode>"
                ));
                vib.maintenance_mode = parse_bool(text(c));
            }
            "hwplatform" => vib.hw_platforms.push(HwPlatform {
                vendor: c.attribute("vendor").unwrap_or("").to_string(),
                model: c.attribute("model").map(str::to_string),
            }),
            "softwarePlatform" | "swplatform" | "swPlatform" => vib.sw_platforms.push(parse_sw_platform(c)),
            other => warnings.push(format!("{path}: unknown <system-requires> element <{other}> ignored")),
        }
    }
}

/// Parses a `<vib>` element: a VIB's `descriptor.xml` or a depot `vibs/*.xml`
/// entry. `keep_files` keeps the file list (else only its length).
pub fn parse_vib(
    n: Node,
    path: &str,
    keep_files: bool,
    warnings: &mut Vec<String>,
) -> Result<Vib, DepotError> {
    if !n.has_tag_name("vib") {
        return Err(DepotError::xml(path, format!("expected <vib>, found <{}>", n.tag_name().name())));
    }
    match n.attribute("version") {
        Some("5.0") => {}
        Some(v) => warnings.push(format!("{path}: descriptor version {v:?} (schema knows 5.0)")),
        None => warnings.push(format!("{path}: <vib> has no version attribute (schema wants 5.0)")),
    }
    let mut vib = Vib::default();
    let mut version = None;
    let mut files: Vec<&str> = Vec::new();
    for c in elements(n) {
        match c.tag_name().name() {
            "type" => vib.kind = text(c).to_string(),
            "name" => vib.name = text(c).to_string(),
            "version" => version = Some(text(c)),
            "vendor" => vib.vendor = text(c).to_string(),
            "summary" => vib.summary = opt_text(c),
            "description" => vib.description = opt_text(c),
            "release-date" => vib.release_date = opt_text(c),
            "urls" => {}
            "relationships" => parse_relationships(c, &mut vib, path, warnings),
            "software-tags" => {
                vib.software_tags.reserve_exact(elements(c).count());
                vib.software_tags.extend(elements(c).map(|t| text(t).to_string()))
            }
            "system-requires" => parse_system_requires(c, &mut vib, path, warnings),
            "file-list" => {
                for f in elements(c) {
                    vib.file_count += 1;
                    files.push(text(f));
                }
            }
            "acceptance-level" => {
                let t = text(c);
                vib.acceptance = parse_acceptance(t);
                if vib.acceptance.is_none() {
                    warnings.push(format!("{path}: unknown acceptance level {t:?}"));
                }
            }
            "live-install-allowed" => vib.live_install_allowed = parse_bool(text(c)),
            "live-remove-allowed" => vib.live_remove_allowed = parse_bool(text(c)),
            "stateless-ready" => vib.stateless_ready = parse_bool(text(c)),
            "overlay" => vib.overlay = parse_bool(text(c)),
            "cimom-restart" | "resources" | "install-date" | "signature" => {}
            "relative-path" => vib.relative_path = opt_text(c),
            "packed-size" => vib.packed_size = text(c).parse().ok(),
            "checksum" => vib.checksum = Some(parse_checksum_attr(c)),
            "payloads" => {
                vib.payloads.reserve_exact(elements(c).filter(|p| p.has_tag_name("payload")).count());
                for p in elements(c).filter(|p| p.has_tag_name("payload")) {
                    vib.payloads.push(Payload {
                        name: p.attribute("name").unwrap_or("").to_string(),
                        kind: p.attribute("type").unwrap_or("").to_string(),
                        size: p.attribute("size").and_then(|s| s.trim().parse().ok()),
                        checksums: elements(p)
                            .filter(|c| c.has_tag_name("checksum"))
                            .map(parse_checksum_attr)
                            .collect(),
                    });
                }
            }
            other => warnings.push(format!("{path}: unknown descriptor element <{other}> ignored")),
        }
    }
    let version: &str = version.unwrap_or_default();
    if vib.name.is_empty() || vib.vendor.is_empty() || version.is_empty() {
        return Err(DepotError::xml(path, "<vib> lacks one of <name>, <vendor>, <version>"));
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
    // Depot parsing keeps file lists only where the extensibility rules
    // look at them (community and partner VIBs).
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

/// `<vendor>_<type>_<name>_<version>`, allocated once at its final size.
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

/// Parses a VIB descriptor or depot VIB file from bytes.
pub fn parse_vib_bytes(
    path: &str,
    bytes: &[u8],
    keep_files: bool,
    warnings: &mut Vec<String>,
) -> Result<Vib, DepotError> {
    let src = utf8(path, bytes)?;
    with_root(path, src, |root| parse_vib(root, path, keep_files, warnings))
}

/// The inline VIB form of `vmware.xml` bulletins (`vibID`, `systemReqs`, ...).
fn parse_inline_vib(n: Node, path: &str, warnings: &mut Vec<String>) -> Option<Vib> {
    let mut vib = Vib::default();
    let mut id = None;
    let mut version = String::new();
    for c in elements(n) {
        match c.tag_name().name() {
            "vibID" => id = opt_text(c),
            "name" => vib.name = text(c).to_string(),
            "version" => version = text(c).to_string(),
            "vendor" => vib.vendor = text(c).to_string(),
            "vibType" => vib.kind = text(c).to_string(),
            "summary" => vib.summary = opt_text(c),
            "systemReqs" => {
                for r in elements(c) {
                    match r.tag_name().name() {
                        "maintenanceMode" => vib.maintenance_mode = parse_bool(text(r)),
                        "swPlatform" => vib.sw_platforms.push(parse_sw_platform(r)),
                        "hwPlatform" | "hwplatform" => vib.hw_platforms.push(HwPlatform {
                            vendor: r.attribute("vendor").unwrap_or("").to_string(),
                            model: r.attribute("model").map(str::to_string),
                        }),
                        _ => {}
                    }
                }
            }
            "relationships" => parse_relationships(c, &mut vib, path, warnings),
            "postInstall" => {
                for r in elements(c) {
                    if r.has_tag_name("rebootRequired") {
                        vib.reboot_required = parse_bool(text(r));
                    }
                }
            }
            "softwareTags" => vib.software_tags.extend(elements(c).map(|t| text(t).to_string())),
            "vibFile" => {
                for r in elements(c) {
                    match r.tag_name().name() {
                        "relativePath" => vib.relative_path = opt_text(r),
                        "packedSize" => vib.packed_size = text(r).parse().ok(),
                        "checksum" => {
                            let mut kind = "sha-256".to_string();
                            let mut value = String::new();
                            for k in elements(r) {
                                match k.tag_name().name() {
                                    "checksumType" => kind = text(k).to_string(),
                                    "checksum" => value = text(k).to_ascii_lowercase(),
                                    _ => {}
                                }
                            }
                            if !value.is_empty() {
                                vib.checksum = Some(Checksum { kind, verify_process: None, value });
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if vib.name.is_empty() || vib.vendor.is_empty() || version.is_empty() {
        warnings.push(format!("{path}: an inline <vib> lacks <name>, <vendor> or <version>; ignored"));
        return None;
    }
    if vib.kind.is_empty() {
        vib.kind = "bootbank".to_string();
    }
    vib.id = id.unwrap_or_else(|| format!("{}_{}_{}_{}", vib.vendor, vib.kind, vib.name, version));
    vib.version = VibVersion::parse(&version);
    Some(vib)
}

/// Parses a `<bulletin>` element; inline VIBs (vmware.xml form) go to `inline`.
pub fn parse_bulletin(
    n: Node,
    path: &str,
    inline: &mut Vec<Vib>,
    warnings: &mut Vec<String>,
) -> Result<Bulletin, DepotError> {
    let mut b = Bulletin {
        id: String::new(),
        vendor: None,
        summary: None,
        severity: None,
        category: None,
        urgency: None,
        release_type: None,
        release_date: None,
        kb_url: None,
        platforms: Vec::new(),
        vib_ids: Vec::new(),
        component: None,
    };
    let mut cname: Option<(String, Option<String>)> = None;
    let mut cver: Option<(String, Option<String>)> = None;
    for c in elements(n) {
        match c.tag_name().name() {
            "id" => b.id = text(c).to_string(),
            "vendor" => b.vendor = opt_text(c),
            "summary" => b.summary = opt_text(c),
            "severity" => b.severity = opt_text(c),
            "category" => b.category = opt_text(c),
            "urgency" => b.urgency = opt_text(c),
            "releaseType" => b.release_type = opt_text(c),
            "releaseDate" => b.release_date = opt_text(c),
            "kbUrl" => b.kb_url = opt_text(c),
            "platforms" => {
                b.platforms.reserve_exact(elements(c).count());
                b.platforms.extend(elements(c).map(parse_sw_platform))
            }
            "componentNameSpec" => {
                cname =
                    c.attribute("name").map(|s| (s.to_string(), c.attribute("uiString").map(str::to_string)))
            }
            "componentVersionSpec" => {
                cver = c
                    .attribute("version")
                    .map(|s| (s.to_string(), c.attribute("uiString").map(str::to_string)))
            }
            "vibList" => {
                b.vib_ids.reserve_exact(elements(c).count());
                for v in elements(c) {
                    match v.tag_name().name() {
                        "vibID" => b.vib_ids.push(text(v).to_string()),
                        "vib" => {
                            if let Some(vib) = parse_inline_vib(v, path, warnings) {
                                b.vib_ids.push(vib.id.clone());
                                inline.push(vib);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if b.id.is_empty() {
        return Err(DepotError::xml(path, "<bulletin> has no <id>"));
    }
    b.vib_ids.shrink_to_fit();
    if let (Some((name, ui_name)), Some((version, ui_version))) = (cname, cver) {
        b.component = Some(ComponentSpec { name, ui_name, version: VibVersion::parse(&version), ui_version });
    }
    Ok(b)
}

/// Parses an image profile (`<imageprofile>` or `<imageProfile>`).
pub fn parse_profile(n: Node, path: &str, warnings: &mut Vec<String>) -> Result<ImageProfile, DepotError> {
    if !n.tag_name().name().eq_ignore_ascii_case("imageprofile") {
        return Err(DepotError::xml(
            path,
            format!("expected <imageprofile>, found <{}>", n.tag_name().name()),
        ));
    }
    let mut p = ImageProfile { source: path.to_string(), ..ImageProfile::default() };
    for c in elements(n) {
        match c.tag_name().name() {
            "name" => p.name = text(c).to_string(),
            "creator" => p.creator = opt_text(c),
            "profileID" => p.profile_id = opt_text(c),
            "description" => p.description = opt_text(c),
            "creationtime" => p.creation_time = opt_text(c),
            "modifiedtime" => p.modified_time = opt_text(c),
            "readonly" => p.readonly = parse_bool(text(c)),
            "acceptancelevel" => {
                p.acceptance = parse_acceptance(text(c));
                if p.acceptance.is_none() {
                    warnings.push(format!("{path}: unknown acceptance level {:?}", text(c)));
                }
            }
            "viblist" => {
                p.vib_ids.reserve_exact(elements(c).count());
                for v in elements(c) {
                    if let Some(id) = elements(v).find(|x| x.has_tag_name("vib-id")) {
                        p.vib_ids.push(text(id).to_string());
                    } else if v.has_tag_name("vib-id") {
                        p.vib_ids.push(text(v).to_string());
                    }
                }
            }
            "components" => {
                for comp in elements(c) {
                    let name = comp
                        .attribute("name")
                        .map(str::to_string)
                        .or_else(|| elements(comp).find(|x| x.has_tag_name("name")).and_then(opt_text));
                    let version = comp
                        .attribute("version")
                        .map(str::to_string)
                        .or_else(|| elements(comp).find(|x| x.has_tag_name("version")).and_then(opt_text));
                    if let (Some(n), Some(v)) = (name, version) {
                        p.components.push((n, v));
                    }
                }
            }
            _ => {}
        }
    }
    if p.name.is_empty() {
        return Err(DepotError::xml(path, "image profile has no <name>"));
    }
    p.vib_ids.shrink_to_fit();
    Ok(p)
}

/// What one metadata XML file held.
#[derive(Default)]
pub struct Parsed {
    pub vibs: Vec<Vib>,
    pub bulletins: Vec<Bulletin>,
    pub profiles: Vec<ImageProfile>,
    pub warnings: Vec<String>,
}

/// Parses any metadata XML file by its root element: `<vib>`, `<bulletin>`,
/// `<imageprofile>`, `<metadataResponse>` (vmware.xml), or lists of them.
pub fn parse_metadata_file(path: &str, bytes: &[u8], out: &mut Parsed) -> Result<(), DepotError> {
    let src = utf8(path, bytes)?;
    with_root(path, src, |root| parse_metadata_node(root, path, out))
}

fn parse_metadata_node(n: Node, path: &str, out: &mut Parsed) -> Result<(), DepotError> {
    let tag = n.tag_name().name();
    match tag {
        "vib" => {
            let vib = parse_vib(n, path, false, &mut out.warnings)?;
            out.vibs.push(vib);
        }
        "bulletin" => {
            let b = parse_bulletin(n, path, &mut out.vibs, &mut out.warnings)?;
            out.bulletins.push(b);
        }
        t if t.eq_ignore_ascii_case("imageprofile") => {
            let p = parse_profile(n, path, &mut out.warnings)?;
            out.profiles.push(p);
        }
        "metadataResponse" | "vibs" | "bulletins" | "profiles" | "imageprofiles" => {
            for c in elements(n) {
                match c.tag_name().name() {
                    "version" | "timestamp" => {}
                    _ => parse_metadata_node(c, path, out)?,
                }
            }
        }
        other => out.warnings.push(format!("{path}: unknown metadata element <{other}> ignored")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtd_and_entities_are_refused() {
        let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<vib version="5.0"><name>&lol2;</name></vib>"#;
        let err = parse_vib_bytes("descriptor.xml", bomb, true, &mut Vec::new()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("parse descriptor.xml:"), "{msg}");
        assert!(msg.to_lowercase().contains("dtd"), "{msg}");
    }

    #[test]
    fn non_utf8_is_refused_with_offset() {
        let err = parse_vib_bytes("vibs/x.xml", b"<vib>\xff\xfe</vib>", true, &mut Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "read vibs/x.xml: not UTF-8 text (invalid byte at offset 5)");
    }

    #[test]
    fn vib_id_parse() {
        let id = VibId::parse("ELX_bootbank_elx-esx-libelxima-8169922.so_12.0.1188.0-03").unwrap();
        assert_eq!(id.vendor, "ELX");
        assert_eq!(id.name, "elx-esx-libelxima-8169922.so");
        assert_eq!(id.version.as_str(), "12.0.1188.0-03");
        assert!(VibId::parse("nounderscore").is_none());
    }
}
