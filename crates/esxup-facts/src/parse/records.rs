//! The three layouts esxcli prints, read into one shape: a list of records
//! of `(normalised field name, value)`.
//!
//! - XML (`--formatter=xml`): `<output><root>` holding a `<structure>`, a
//!   `<list>` of structures, or a scalar (`<string>`, `<boolean>`, ...).
//! - Tables: a header line, a rule of dashes, one row per record. Columns are
//!   cut at the positions of the dash groups; a table whose spacing was lost
//!   (pasted text) is split on whitespace instead, the last column taking the rest.
//! - `Key: Value` blocks: an unindented title line (a device name, `vmk0`,
//!   `CPU:0`) or a blank line starts a new record.

use super::{norm, ParseError};

/// One record (a structure, a table row, a block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rec {
    /// 1-based line where the record starts.
    pub line: usize,
    /// Title line of a block (`vmk0`, `mpx.vmhba32:C0:T0:L0`), if any.
    pub title: Option<String>,
    /// `(normalised name, value, line)`.
    pub fields: Vec<(String, String, usize)>,
}

impl Rec {
    /// Value of the field `name` (compared after normalisation).
    pub fn get(&self, name: &str) -> Option<&str> {
        let n = norm(name);
        self.fields.iter().find(|(k, _, _)| *k == n).map(|(_, v, _)| v.as_str())
    }

    /// Value of the first of `names` present.
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// Value of `name`, or an error naming the command and the record's line.
    pub fn require(&self, command: &str, name: &str) -> Result<&str, ParseError> {
        self.get(name).ok_or_else(|| {
            ParseError::new(command, self.line, format!("field `{name}` is missing (output truncated?)"))
        })
    }

    /// Values of the `names` columns of a table row, in order: an error if
    /// one is missing, or if one is empty (a truncated row).
    pub fn require_cells<const N: usize>(
        &self,
        command: &str,
        names: [&str; N],
    ) -> Result<[&str; N], ParseError> {
        let mut cells = [""; N];
        for (cell, name) in cells.iter_mut().zip(names) {
            *cell = self.require(command, name)?;
        }
        if cells.iter().any(|v| v.is_empty()) {
            return Err(ParseError::new(command, self.line, "row has empty columns (output truncated?)"));
        }
        Ok(cells)
    }

    /// Value of `name`, else the block's title line (`vmk0`, a device name).
    pub fn get_or_title(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string).or_else(|| self.title.clone())
    }
}

/// Reads any esxcli layout into records. `command` names the command in errors.
pub fn records(command: &str, text: &str) -> Result<Vec<Rec>, ParseError> {
    let t = text.trim_start();
    if t.starts_with('<') {
        return xml_records(command, text);
    }
    let lines: Vec<&str> = text.lines().collect();
    if let Some(h) = table_header(&lines) {
        return table_records(command, &lines, h);
    }
    Ok(block_records(&lines))
}

/// Index of the header line of a table: the line before the first rule of dashes.
fn table_header(lines: &[&str]) -> Option<usize> {
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let rule = lines.get(first + 1)?;
    if is_rule(rule) {
        Some(first)
    } else {
        None
    }
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.starts_with('-') && t.chars().all(|c| c == '-' || c == ' ')
}

/// `(start, end)` char positions of each dash group.
fn dash_groups(rule: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in rule.iter().enumerate() {
        match (c, start) {
            ('-', None) => start = Some(i),
            (' ', Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, rule.len()));
    }
    out
}

fn slice(chars: &[char], from: usize, to: usize) -> String {
    let to = to.min(chars.len());
    if from >= to {
        return String::new();
    }
    chars[from..to].iter().collect::<String>().trim().to_string()
}

fn table_records(command: &str, lines: &[&str], h: usize) -> Result<Vec<Rec>, ParseError> {
    let header: Vec<char> = lines[h].chars().collect();
    let rule: Vec<char> = lines[h + 1].chars().collect();
    let groups = dash_groups(&rule);
    // Aligned when every column's header text sits inside its dash group.
    let aligned = groups.iter().enumerate().all(|(i, &(s, e))| {
        let before_ok = s == 0 || s >= header.len() || header[s - 1] == ' ';
        let after_ok = i + 1 == groups.len() || e >= header.len() || header[e] == ' ';
        before_ok && after_ok
    });
    let names: Vec<String> = if aligned {
        groups
            .iter()
            .enumerate()
            .map(|(i, &(s, e))| {
                let end = if i + 1 == groups.len() { header.len() } else { e };
                slice(&header, s, end)
            })
            .collect()
    } else {
        split_header_words(lines[h], groups.len())
    };
    if names.iter().any(|n| n.is_empty()) || names.is_empty() {
        return Err(ParseError::new(command, h + 1, "table header does not match its rule of dashes"));
    }
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(h + 2) {
        if line.trim().is_empty() {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let values: Vec<String> = if aligned {
            // Cut each column at the end of its dash group; a value wider
            // than its group pushes the cut to the next space.
            let n = groups.len();
            let mut cuts = Vec::with_capacity(n + 1);
            cuts.push(0);
            for g in groups.iter().take(n - 1) {
                let mut cut = g.1.max(*cuts.last().unwrap_or(&0));
                while cut < chars.len() && chars[cut] != ' ' {
                    cut += 1;
                }
                cuts.push(cut);
            }
            cuts.push(chars.len().max(*cuts.last().unwrap_or(&0)));
            (0..n).map(|c| slice(&chars, cuts[c], cuts[c + 1])).collect()
        } else {
            let toks: Vec<&str> = line.split_whitespace().collect();
            let n = names.len();
            if toks.len() < n {
                return Err(ParseError::new(
                    command,
                    i + 1,
                    format!("row has {} of {} columns (output truncated?)", toks.len(), n),
                ));
            }
            let mut v: Vec<String> = toks[..n - 1].iter().map(|s| s.to_string()).collect();
            v.push(toks[n - 1..].join(" "));
            v
        };
        // A row cut short leaves its last columns empty although the header
        // promises them: the first column and the second must be there.
        if aligned && chars.len() <= groups.get(1).map(|g| g.0).unwrap_or(0) {
            return Err(ParseError::new(
                command,
                i + 1,
                "row ends before its second column (output truncated?)",
            ));
        }
        let fields = names.iter().zip(values).map(|(n, v)| (norm(n), v, i + 1)).collect();
        out.push(Rec { line: i + 1, title: None, fields });
    }
    Ok(out)
}

/// Header names of a table whose spacing was lost: known two-word names are
/// kept together, then words are merged from the right until the count matches.
fn split_header_words(header: &str, n: usize) -> Vec<String> {
    let mut words: Vec<String> = header.split_whitespace().map(str::to_string).collect();
    // Join from the left pairs that are known multi-word esxcli headers.
    const PAIRS: &[(&str, &str)] = &[
        ("PCI", "Device"),
        ("Admin", "Status"),
        ("Link", "Status"),
        ("Link", "State"),
        ("MAC", "Address"),
        ("HBA", "Name"),
        ("Acceptance", "Level"),
        ("Install", "Date"),
        ("Mount", "Point"),
        ("Volume", "Name"),
        ("Is", "Loaded"),
        ("Is", "Enabled"),
        ("Guest", "OS"),
    ];
    let mut i = 0;
    while i + 1 < words.len() && words.len() > n {
        if PAIRS.iter().any(|(a, b)| words[i] == *a && words[i + 1] == *b) {
            let w = format!("{} {}", words[i], words[i + 1]);
            words.splice(i..i + 2, [w]);
        }
        i += 1;
    }
    while words.len() > n && words.len() >= 2 {
        let last = words.pop().unwrap_or_default();
        if let Some(prev) = words.last_mut() {
            prev.push(' ');
            prev.push_str(&last);
        }
    }
    words
}

/// `Some((key, value))` for a `Key: Value` or `Key:` line.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if let Some(idx) = t.find(": ") {
        let k = &t[..idx];
        if !k.is_empty() {
            return Some((k, t[idx + 2..].trim()));
        }
    }
    if let Some(k) = t.strip_suffix(':') {
        if !k.is_empty() && !k.contains(": ") {
            return Some((k, ""));
        }
    }
    None
}

fn block_records(lines: &[&str]) -> Vec<Rec> {
    let mut out: Vec<Rec> = Vec::new();
    let mut cur: Option<Rec> = None;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            if let Some(r) = cur.take() {
                out.push(r);
            }
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        match key_value(line) {
            Some((k, v)) => {
                let r = cur.get_or_insert_with(|| Rec { line: n, ..Rec::default() });
                r.fields.push((norm(k), v.to_string(), n));
            }
            None if !indented => {
                if let Some(r) = cur.take() {
                    out.push(r);
                }
                cur = Some(Rec { line: n, title: Some(line.trim().to_string()), fields: Vec::new() });
            }
            None => {
                // Continuation of the previous value (wrapped descriptions).
                let r = cur.get_or_insert_with(|| Rec { line: n, ..Rec::default() });
                if let Some(last) = r.fields.last_mut() {
                    if !last.1.is_empty() {
                        last.1.push(' ');
                    }
                    last.1.push_str(line.trim());
                } else {
                    r.fields.push((String::new(), line.trim().to_string(), n));
                }
            }
        }
    }
    if let Some(r) = cur.take() {
        out.push(r);
    }
    out
}

fn xml_records(command: &str, text: &str) -> Result<Vec<Rec>, ParseError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let line = match e {
            roxmltree::Error::UnexpectedEndOfStream => text.lines().count(),
            _ => e.pos().row as usize,
        };
        ParseError::new(command, line, format!("invalid XML: {e} (output truncated?)"))
    })?;
    let line_of = |n: roxmltree::Node| doc.text_pos_at(n.range().start).row as usize;
    let out_el = doc.root_element();
    if out_el.tag_name().name() != "output" {
        return Err(ParseError::new(
            command,
            line_of(out_el),
            format!("expected esxcli <output>, found <{}>", out_el.tag_name().name()),
        ));
    }
    // `<output><root>...` on current releases; plug-ins and 5.x put the
    // values straight under `<output>` (5.x also says `struct`, `int`).
    let root = out_el.children().find(|c| c.is_element() && c.tag_name().name() == "root").unwrap_or(out_el);
    let mut recs = Vec::new();
    for child in root.children().filter(|c| c.is_element()) {
        match child.tag_name().name() {
            "structure" | "struct" => recs.push(structure_rec(child, &line_of)),
            "list" => {
                for item in child.children().filter(|c| c.is_element()) {
                    if matches!(item.tag_name().name(), "structure" | "struct") {
                        recs.push(structure_rec(item, &line_of));
                    } else {
                        recs.push(Rec {
                            line: line_of(item),
                            title: None,
                            fields: vec![("value".into(), scalar_text(item), line_of(item))],
                        });
                    }
                }
            }
            _ => recs.push(Rec {
                line: line_of(child),
                title: None,
                fields: vec![("value".into(), scalar_text(child), line_of(child))],
            }),
        }
    }
    Ok(recs)
}

fn structure_rec<'a, 'b>(s: roxmltree::Node<'a, 'b>, line_of: &dyn Fn(roxmltree::Node) -> usize) -> Rec {
    let mut rec = Rec { line: line_of(s), title: None, fields: Vec::new() };
    for f in s.children().filter(|c| c.is_element() && c.tag_name().name() == "field") {
        let name = f.attribute("name").unwrap_or_default();
        let value = f.children().find(|c| c.is_element()).map(scalar_text).unwrap_or_default();
        rec.fields.push((norm(name), value, line_of(f)));
    }
    rec
}

/// Text of a scalar element; a `<list>` of scalars becomes `a, b, c`.
fn scalar_text(n: roxmltree::Node) -> String {
    if n.tag_name().name() == "list" {
        return n
            .children()
            .filter(|c| c.is_element())
            .map(scalar_text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
    }
    if n.tag_name().name() == "structure" {
        return n
            .descendants()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    n.text().unwrap_or_default().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_table() {
        let t = "Name    Is Loaded  Is Enabled\n------  ---------  ----------\nvmkernel     true        true\nnfs41client  false  false\n";
        let r = records("x", t).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].get("Name"), Some("vmkernel"));
        assert_eq!(r[0].get("Is Loaded"), Some("true"));
    }

    #[test]
    fn blocks_with_titles() {
        let t = "vmk0\n   Name: vmk0\n   Portset: vSwitch0\n\nvmk1\n   Name: vmk1\n";
        let r = records("x", t).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].title.as_deref(), Some("vmk1"));
        assert_eq!(r[0].get("portset"), Some("vSwitch0"));
    }

    #[test]
    fn xml_scalar_and_structure() {
        let t = r#"<?xml version="1.0" encoding="utf-8"?>
<output xmlns="http://www.vmware.com/Products/ESX/5.0/esxcli">
<root>
   <structure typeName="VersionGet">
      <field name="Build"><string>Releasebuild-1</string></field>
      <field name="Names"><list type="string"><string>a</string><string>b</string></list></field>
   </structure>
</root>
</output>"#;
        let r = records("x", t).unwrap();
        assert_eq!(r[0].get("build"), Some("Releasebuild-1"));
        assert_eq!(r[0].get("names"), Some("a, b"));
    }

    #[test]
    fn truncated_xml_names_line() {
        let t = "<?xml version=\"1.0\"?>\n<output>\n<root>\n<structure>\n<field name=\"A\"><string>x</str";
        let e = records("esxcli foo", t).unwrap_err();
        assert!(e.line >= 5, "{e}");
        assert!(e.to_string().contains("esxcli foo"));
    }
}
