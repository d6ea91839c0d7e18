//! A small owned XML tree for property values, built from a roxmltree
//! document, plus escaping for the request bodies we write.
//!
//! PropertyCollector answers carry typed values (`xsi:type`); [`Node`] keeps
//! the element name, the `xsi:type`, the attributes that matter (`type` of a
//! managed object reference) and the text, so callers can walk values with
//! dotted paths without a generated type for every vim25 data object.

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One element of a property value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// Local element name (`cpuInfo`, `val`, `pciDevice`).
    pub name: String,
    /// `xsi:type` without its prefix (`HostCpuInfo`, `ArrayOfHostPciDevice`, `string`).
    pub xsi_type: Option<String>,
    /// The `type` attribute of a managed object reference (`HostSystem`).
    pub mo_type: Option<String>,
    /// Text content (trimmed) of a leaf element; empty for structures.
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// Copies a roxmltree element (and its element children) into an owned tree.
    pub fn from_roxml(n: roxmltree::Node<'_, '_>) -> Node {
        let mut out = Node {
            name: n.tag_name().name().to_string(),
            xsi_type: n.attribute((XSI, "type")).map(|t| strip_prefix(t).to_string()),
            mo_type: n.attribute("type").map(str::to_string),
            text: String::new(),
            children: Vec::new(),
        };
        let mut has_elem = false;
        for c in n.children() {
            if c.is_element() {
                has_elem = true;
                out.children.push(Node::from_roxml(c));
            }
        }
        if !has_elem {
            out.text = n.text().unwrap_or("").trim().to_string();
        }
        out
    }

    /// First child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child element called `name` (array members repeat their element).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a dotted path of child names (`summary.config.product`).
    pub fn path(&self, dotted: &str) -> Option<&Node> {
        let mut cur = self;
        for part in dotted.split('.').filter(|p| !p.is_empty()) {
            cur = cur.child(part)?;
        }
        Some(cur)
    }

    /// Text of the element at a dotted path, if present and non-empty.
    pub fn text_at(&self, dotted: &str) -> Option<&str> {
        self.path(dotted).map(|n| n.text.as_str()).filter(|t| !t.is_empty())
    }

    /// Parses the text at a dotted path.
    pub fn parse_at<T: std::str::FromStr>(&self, dotted: &str) -> Option<T> {
        self.text_at(dotted).and_then(|t| t.parse().ok())
    }

    /// A boolean (`true`/`false`/`1`/`0`) at a dotted path.
    pub fn bool_at(&self, dotted: &str) -> Option<bool> {
        match self.text_at(dotted)? {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// This node's text, if non-empty.
    pub fn text(&self) -> Option<&str> {
        Some(self.text.as_str()).filter(|t| !t.is_empty())
    }
}

fn strip_prefix(t: &str) -> &str {
    t.rsplit_once(':').map(|(_, r)| r).unwrap_or(t)
}

/// Escapes text for an XML element or attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_paths_and_types() {
        let xml = r#"<val xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="HostCpuInfo">
            <numCpuPackages>2</numCpuPackages><hz>2399999000</hz>
            <obj type="HostSystem">host-21</obj></val>"#;
        let doc = roxmltree::Document::parse(xml).unwrap();
        let n = Node::from_roxml(doc.root_element());
        assert_eq!(n.xsi_type.as_deref(), Some("HostCpuInfo"));
        assert_eq!(n.parse_at::<u32>("numCpuPackages"), Some(2));
        assert_eq!(n.child("obj").unwrap().mo_type.as_deref(), Some("HostSystem"));
        assert_eq!(n.text_at("obj"), Some("host-21"));
        assert_eq!(n.text_at("missing"), None);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
