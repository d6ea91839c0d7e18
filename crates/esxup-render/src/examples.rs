//! The list of built-in example hosts (`esxup check --example list`): one
//! line each, name and what the host is.

use std::fmt::Write;

/// `NAME  summary` lines, names padded to one column.
pub fn render_list() -> String {
    let rows = esxup_check::examples::summaries();
    let w = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut o = String::new();
    for (n, s) in rows {
        let _ = writeln!(o, "{n:<w$}  {s}");
    }
    o
}
