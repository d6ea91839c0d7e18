//! A small, strict, non-validating XML reader for depot metadata: one pass
//! over the bytes into a flat arena of elements (names, attributes and the
//! first text run borrowed from the input; unescaped copies only where an
//! entity or a carriage return occurs).
//!
//! Refused, with an error: DTDs (`<!DOCTYPE`, and so entity definitions and
//! entity expansion), entities other than the five predefined ones and
//! character references, mismatched or unclosed tags, text or a second
//! element outside the root element, `<` in attribute values, duplicate
//! attributes, nesting deeper than 256 elements. Comments, processing
//! instructions and CDATA are read.
//! Namespace prefixes are ignored (names are matched on their local part).
//!
//! Why hand-written rather than quick-xml (issue 14): measured against
//! quick-xml 0.42 on the full-size synthetic depot (64.7 MB of metadata XML
//! in 34,957 documents: index, vendor index, `vibs/`, `bulletins/`,
//! `profiles/`, `vmware.xml`), in memory, one thread; 2026-12-08, 2-core
//! AMD EPYC VM shared with other jobs (load 4-7), rustc 1.95;
//! instructions from callgrind (repeatable), wall MB/s best of 7 (moves
//! with the load: two runs gave 538 and 945 MB/s for the first row):
//!
//! | reader | instructions/byte | MB/s |
//! |---|---|---|
//! | minixml, the tree of every document | 19.7 | 538-945 |
//! | quick-xml event loop, attributes and text unescaped, references resolved (builds nothing) | 38.9 | 242-440 |
//! | quick-xml tokenizer alone (end names unchecked, nothing unescaped) | 34.0 | 504 |
//! | `vibs/*.xml` to `Vib`s: minixml + `xml.rs` | 31.8 | 297-505 |
//! | the same `Vib`s from a streaming quick-xml reader (checked equal) | 52.2 | 173-239 |
//!
//! minixml builds its tree in about half the instructions quick-xml's bare
//! event loop needs (and less than its tokenizer alone), so it is kept.
//! quick-xml would also refuse none of the DTD cases by itself: it reports
//! `<!DOCTYPE` as an `Event::DocType` and `&name;` in text as an
//! `Event::GeneralRef`, accepts an unclosed root or a second root, and only
//! attribute normalization errors on unknown entities; a reader on it must
//! refuse those itself. Rerun: `scripts/bench-parsers.sh`
//! (`examples/xml_bench.rs`; `--refusals` prints the hostile cases).

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub message: String,
    /// Byte offset in the input.
    pub offset: usize,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

/// Where a string is: in the input, or in the parser's scratch buffer
/// (unescaped or merged text).
#[derive(Clone, Copy)]
enum Str {
    Src(u32, u32),
    Scratch(u32, u32),
}

struct NodeData {
    /// Local name (prefix removed), in the input.
    name: (u32, u32),
    attrs: (u32, u32),
    text: Option<Str>,
    first_child: u32,
    next_sibling: u32,
}

struct Open {
    id: u32,
    /// Qualified name as written, for the end-tag check.
    qname: (u32, u32),
    last_child: u32,
    /// Whether text may still be recorded (no child or comment seen yet).
    text_open: bool,
}

/// Reusable buffers: parsing many small documents with one parser
/// allocates nothing once the buffers have grown.
#[derive(Default)]
pub struct Parser {
    nodes: Vec<NodeData>,
    attrs: Vec<((u32, u32), Str)>,
    scratch: String,
    stack: Vec<Open>,
}

/// A parsed document, borrowing the input and the parser's buffers.
pub struct Document<'s> {
    src: &'s str,
    p: &'s Parser,
}

/// An element of a parsed document.
#[derive(Clone, Copy)]
pub struct Node<'a, 's> {
    doc: &'a Document<'s>,
    id: u32,
}

/// The name of an element (local part).
#[derive(Clone, Copy)]
pub struct TagName<'s>(&'s str);

impl<'s> TagName<'s> {
    pub fn name(&self) -> &'s str {
        self.0
    }
}

const NONE: u32 = u32::MAX;

/// Deepest element nesting accepted (depot metadata nests a few levels;
/// the readers recurse over containers).
const MAX_DEPTH: usize = 256;

impl<'s> Document<'s> {
    /// The root element.
    pub fn root_element<'a>(&'a self) -> Node<'a, 's> {
        Node { doc: self, id: 0 }
    }
    fn range(&self, r: (u32, u32)) -> &'s str {
        &self.src[r.0 as usize..r.1 as usize]
    }
    fn str(&self, s: Str) -> &'s str {
        match s {
            Str::Src(a, b) => &self.src[a as usize..b as usize],
            Str::Scratch(a, b) => &self.p.scratch[a as usize..b as usize],
        }
    }
}

impl<'a, 's> Node<'a, 's> {
    fn data(&self) -> &'s NodeData {
        &self.doc.p.nodes[self.id as usize]
    }
    pub fn tag_name(&self) -> TagName<'s> {
        TagName(self.doc.range(self.data().name))
    }
    pub fn has_tag_name(&self, name: &str) -> bool {
        self.doc.range(self.data().name) == name
    }
    /// An attribute's value (matched on its local name).
    pub fn attribute(&self, name: &str) -> Option<&'s str> {
        let (s, e) = self.data().attrs;
        self.doc.p.attrs[s as usize..e as usize]
            .iter()
            .find(|(n, _)| self.doc.range(*n) == name)
            .map(|(_, v)| self.doc.str(*v))
    }
    /// The first text run of the element, if it starts with text.
    pub fn text(&self) -> Option<&'s str> {
        self.data().text.map(|t| self.doc.str(t))
    }
    /// Child elements, in document order.
    pub fn elements(&self) -> Children<'a, 's> {
        Children { doc: self.doc, next: self.data().first_child }
    }
}

/// Iterator over child elements.
pub struct Children<'a, 's> {
    doc: &'a Document<'s>,
    next: u32,
}

impl<'a, 's> Iterator for Children<'a, 's> {
    type Item = Node<'a, 's>;
    fn next(&mut self) -> Option<Node<'a, 's>> {
        if self.next == NONE {
            return None;
        }
        let n = Node { doc: self.doc, id: self.next };
        self.next = self.doc.p.nodes[self.next as usize].next_sibling;
        Some(n)
    }
}

fn err<T>(message: impl Into<String>, offset: usize) -> Result<T, XmlError> {
    Err(XmlError { message: message.into(), offset })
}

/// The local part of a name at `start..end`.
fn local(src: &str, start: usize, end: usize) -> (u32, u32) {
    let s = &src.as_bytes()[start..end];
    match memchr::memrchr(b':', s) {
        Some(i) => ((start + i + 1) as u32, end as u32),
        None => (start as u32, end as u32),
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_byte(b: u8) -> bool {
    !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>' | b'<' | b'=' | b'"' | b'\'' | b'&' | b'!' | b'?')
}

/// Resolves entity and character references (and normalises `\r\n`) of
/// `src[start..end]`, refusing unknown entities; `attr` also turns tabs and
/// newlines into spaces. Returns where the resolved text is.
fn unescape(src: &str, start: usize, end: usize, attr: bool, scratch: &mut String) -> Result<Str, XmlError> {
    let b = &src.as_bytes()[start..end];
    let special = |c: u8| c == b'&' || c == b'\r' || (attr && (c == b'\t' || c == b'\n'));
    let plain = if attr {
        memchr::memchr3(b'&', b'\r', b'\t', b).is_none() && memchr::memchr(b'\n', b).is_none()
    } else {
        memchr::memchr2(b'&', b'\r', b).is_none()
    };
    if plain {
        return Ok(Str::Src(start as u32, end as u32));
    }
    let s = &src[start..end];
    let out0 = scratch.len();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'&' {
            let Some(e) = memchr::memchr(b';', &b[i..]).map(|e| i + e) else {
                return err("unterminated entity reference", start + i);
            };
            let ent = &s[i + 1..e];
            match ent {
                "lt" => scratch.push('<'),
                "gt" => scratch.push('>'),
                "amp" => scratch.push('&'),
                "apos" => scratch.push('\''),
                "quot" => scratch.push('"'),
                _ if ent.starts_with('#') => {
                    let n = if let Some(h) = ent.strip_prefix("#x") {
                        u32::from_str_radix(h, 16).ok()
                    } else {
                        ent[1..].parse::<u32>().ok()
                    };
                    match n.and_then(char::from_u32).filter(|&ch| ch != '\0') {
                        Some(ch) => scratch.push(ch),
                        None => return err(format!("invalid character reference &{ent};"), start + i),
                    }
                }
                _ => {
                    return err(
                        format!("unknown entity &{ent}; (entities are not expanded; DTDs are refused)"),
                        start + i,
                    )
                }
            }
            i = e + 1;
        } else if c == b'\r' {
            scratch.push(if attr { ' ' } else { '\n' });
            i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
        } else if attr && (c == b'\t' || c == b'\n') {
            scratch.push(' ');
            i += 1;
        } else {
            // Copy the run up to the next special byte.
            let run = i;
            while i < b.len() && !special(b[i]) {
                i += 1;
            }
            scratch.push_str(&s[run..i]);
        }
    }
    Ok(Str::Scratch(out0 as u32, scratch.len() as u32))
}

/// Appends `t` to the text of `node` (text interrupted by CDATA).
fn add_text(p: &mut Parser, src: &str, node: u32, t: Str) {
    let n = &mut p.nodes[node as usize];
    n.text = Some(match n.text {
        None => t,
        Some(prev) => {
            let get = |s: Str, scratch: &str| -> String {
                match s {
                    Str::Src(a, b) => src[a as usize..b as usize].to_string(),
                    Str::Scratch(a, b) => scratch[a as usize..b as usize].to_string(),
                }
            };
            let joined = get(prev, &p.scratch) + &get(t, &p.scratch);
            let a = p.scratch.len();
            p.scratch.push_str(&joined);
            Str::Scratch(a as u32, p.scratch.len() as u32)
        }
    });
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Parses `src` (already UTF-8 checked, BOM removed).
    pub fn parse<'s>(&'s mut self, src: &'s str) -> Result<Document<'s>, XmlError> {
        if src.len() >= u32::MAX as usize {
            return err("document too large", 0);
        }
        self.nodes.clear();
        self.attrs.clear();
        self.scratch.clear();
        self.stack.clear();
        self.run(src)?;
        Ok(Document { src, p: self })
    }

    fn run(&mut self, src: &str) -> Result<(), XmlError> {
        let b = src.as_bytes();
        let mut seen_root = false;
        let mut pos = 0usize;
        while pos < b.len() {
            let lt = memchr::memchr(b'<', &b[pos..]).map(|i| pos + i).unwrap_or(b.len());
            if lt > pos {
                match self.stack.last() {
                    None => {
                        if !b[pos..lt].iter().all(|&c| is_ws(c)) {
                            return err("text outside the root element", pos);
                        }
                    }
                    Some(top) => {
                        let (id, open) = (top.id, top.text_open);
                        let t = unescape(src, pos, lt, false, &mut self.scratch)?;
                        if open {
                            add_text(self, src, id, t);
                        }
                    }
                }
            }
            if lt >= b.len() {
                break;
            }
            let rest = &b[lt..];
            if rest.starts_with(b"</") {
                let Some(gt) = memchr::memchr(b'>', rest).map(|i| lt + i) else {
                    return err("unterminated end tag", lt);
                };
                let name = src[lt + 2..gt].trim_end_matches(is_ws_char);
                let Some(top) = self.stack.pop() else {
                    return err(format!("end tag </{name}> without a start tag"), lt);
                };
                let open = &src[top.qname.0 as usize..top.qname.1 as usize];
                if open != name {
                    return err(format!("expected </{open}>, found </{name}>"), lt);
                }
                pos = gt + 1;
            } else if rest.starts_with(b"<!--") {
                let Some(e) = memchr::memmem::find(&rest[4..], b"-->") else {
                    return err("unterminated comment", lt);
                };
                if let Some(top) = self.stack.last_mut() {
                    top.text_open = false;
                }
                pos = lt + 4 + e + 3;
            } else if rest.starts_with(b"<![CDATA[") {
                let Some(e) = memchr::memmem::find(&rest[9..], b"]]>") else {
                    return err("unterminated CDATA section", lt);
                };
                let Some(top) = self.stack.last() else {
                    return err("CDATA outside the root element", lt);
                };
                if top.text_open {
                    let id = top.id;
                    add_text(self, src, id, Str::Src((lt + 9) as u32, (lt + 9 + e) as u32));
                }
                pos = lt + 9 + e + 3;
            } else if rest.starts_with(b"<!") {
                let what = if rest.len() >= 9 && rest[2..9].eq_ignore_ascii_case(b"DOCTYPE") {
                    "a DTD (<!DOCTYPE>) is not allowed: DTDs and entity definitions are refused"
                } else {
                    "unexpected markup declaration (DTDs and entity definitions are refused)"
                };
                return err(what, lt);
            } else if rest.starts_with(b"<?") {
                let Some(e) = memchr::memmem::find(&rest[2..], b"?>") else {
                    return err("unterminated processing instruction", lt);
                };
                if let Some(top) = self.stack.last_mut() {
                    top.text_open = false;
                }
                pos = lt + 2 + e + 2;
            } else {
                pos = self.start_tag(src, lt, &mut seen_root)?;
            }
        }
        if let Some(top) = self.stack.last() {
            let open = &src[top.qname.0 as usize..top.qname.1 as usize];
            return err(format!("unexpected end of document: <{open}> is not closed"), b.len());
        }
        if !seen_root {
            return err("no root element", 0);
        }
        Ok(())
    }

    /// Reads the start tag at `lt`; returns the position after it.
    fn start_tag(&mut self, src: &str, lt: usize, seen_root: &mut bool) -> Result<usize, XmlError> {
        let b = src.as_bytes();
        let mut i = lt + 1;
        while i < b.len() && is_name_byte(b[i]) {
            i += 1;
        }
        let qname = &src[lt + 1..i];
        let qrange = ((lt + 1) as u32, i as u32);
        if qname.is_empty() {
            return err("invalid element name", lt);
        }
        if self.stack.is_empty() && *seen_root {
            return err("a second root element", lt);
        }
        let a0 = self.attrs.len() as u32;
        let empty;
        loop {
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            match b.get(i) {
                None => return err(format!("unterminated start tag <{qname}>"), lt),
                Some(b'>') => {
                    empty = false;
                    i += 1;
                    break;
                }
                Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                    empty = true;
                    i += 2;
                    break;
                }
                _ => {}
            }
            let ns = i;
            while i < b.len() && is_name_byte(b[i]) {
                i += 1;
            }
            let aname = &src[ns..i];
            if aname.is_empty() {
                return err(format!("malformed attribute in <{qname}>"), i);
            }
            let lname = local(src, ns, i);
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            if b.get(i) != Some(&b'=') {
                return err(format!("attribute {aname} of <{qname}> has no value"), i);
            }
            i += 1;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            let q = match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => return err(format!("attribute {aname} of <{qname}> is not quoted"), i),
            };
            let vs = i + 1;
            let Some(ve) = memchr::memchr(q, &b[vs..]).map(|e| vs + e) else {
                return err(format!("unterminated attribute {aname} of <{qname}>"), i);
            };
            if memchr::memchr(b'<', &b[vs..ve]).is_some() {
                return err(format!("'<' in the value of attribute {aname}"), vs);
            }
            let lstr = &src[lname.0 as usize..lname.1 as usize];
            if self.attrs[a0 as usize..].iter().any(|(n, _)| &src[n.0 as usize..n.1 as usize] == lstr) {
                return err(format!("duplicate attribute {aname} in <{qname}>"), ns);
            }
            let v = unescape(src, vs, ve, true, &mut self.scratch)?;
            self.attrs.push((lname, v));
            i = ve + 1;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(NodeData {
            name: local(src, lt + 1, qrange.1 as usize),
            attrs: (a0, self.attrs.len() as u32),
            text: None,
            first_child: NONE,
            next_sibling: NONE,
        });
        if let Some(top) = self.stack.last_mut() {
            if top.last_child == NONE {
                self.nodes[top.id as usize].first_child = id;
            } else {
                self.nodes[top.last_child as usize].next_sibling = id;
            }
            top.last_child = id;
            top.text_open = false;
        }
        *seen_root = true;
        if !empty {
            if self.stack.len() >= MAX_DEPTH {
                return err(format!("elements nested more than {MAX_DEPTH} deep"), lt);
            }
            self.stack.push(Open { id, qname: qrange, last_child: NONE, text_open: true });
        }
        Ok(i)
    }
}

fn is_ws_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_attributes_and_text() {
        let mut p = Parser::new();
        let d = p.parse(
            "<?xml version=\"1.0\"?><!-- c --><a x='1' y=\"a&amp;b\"><b>t&lt;1</b><c/><![CDATA[z]]><d>u<!-- c -->v</d></a>",
        )
        .unwrap();
        let r = d.root_element();
        assert_eq!(r.tag_name().name(), "a");
        assert_eq!(r.attribute("y"), Some("a&b"));
        let kids: Vec<&str> = r.elements().map(|n| n.tag_name().name()).collect();
        assert_eq!(kids, ["b", "c", "d"]);
        assert_eq!(r.elements().next().unwrap().text(), Some("t<1"));
        assert_eq!(r.elements().nth(2).unwrap().text(), Some("u"));
        let mut p = Parser::new();
        let d = p.parse("<a><!-- c -->v</a>").unwrap();
        assert_eq!(d.root_element().text(), None);
        assert_eq!(r.text(), None);
    }

    #[test]
    fn refuses_malformed_documents() {
        for bad in [
            "<!DOCTYPE a><a/>",
            "<a>&foo;</a>",
            "<a><b></a>",
            "<a>",
            "<a/><b/>",
            "x<a/>",
            "<a x=1/>",
            "<a x='<'/>",
            "<a x='1' x='2'/>",
            "",
            "<a>&#0;</a>",
        ] {
            assert!(Parser::new().parse(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(300) + &"</a>".repeat(300);
        assert!(Parser::new().parse(&deep).err().unwrap().message.contains("nested"));
        let e =
            Parser::new().parse("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x/>").err().unwrap();
        assert!(e.to_string().contains("DTD"), "{e}");
    }
}
