//! The fleet report as an Excel workbook (`esxup report --format xlsx`):
//! one sheet with the CSV's columns and cells, taken from the same
//! [`crate::fleet::table`], so the two cannot disagree. A cell whose text
//! is a whole number the column sorts by (build, VM and snapshot counts) is
//! written as a number; every other cell as text (never as a formula, so a
//! host name starting with `=` stays text without the CSV's `'` guard). The
//! header row is bold and frozen, with an autofilter; columns are as wide
//! as their longest cell, within limits. Built in memory: no I/O.

use crate::fleet::{table, Cell};
use esxup_check::FleetRow;
use esxup_i18n::Lang;
use rust_xlsxwriter::{Format, Workbook};

/// Excel's longest cell text.
const MAX_CELL_CHARS: usize = 32_767;
/// Excel's last row (0-based), header included.
const MAX_ROWS: usize = 1_048_575;

/// Why the workbook could not be built.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    #[error("write fleet workbook: {hosts} hosts, more than the {max} rows a sheet holds")]
    TooManyRows { hosts: usize, max: usize },
    #[error("write fleet workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The number a cell is written as: its text, when that is a plain whole
/// number and the column sorts by it.
pub fn cell_number(c: &Cell) -> Option<f64> {
    let t = c.text.as_str();
    if c.sort.is_none() || t.is_empty() || t.len() > 15 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn clip(t: &str) -> &str {
    match t.char_indices().nth(MAX_CELL_CHARS) {
        Some((i, _)) => &t[..i],
        None => t,
    }
}

/// The workbook's bytes: sheet "fleet", the headings, one row per host.
pub fn xlsx(lang: Lang, rows: &[FleetRow]) -> Result<Vec<u8>, XlsxError> {
    if rows.len() > MAX_ROWS - 1 {
        return Err(XlsxError::TooManyRows { hosts: rows.len(), max: MAX_ROWS - 1 });
    }
    let (head, body) = table(lang, rows);
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("fleet")?;
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, clip(h), &bold)?;
    }
    for (r, line) in body.iter().enumerate() {
        let row = (r + 1) as u32;
        for (c, cell) in line.iter().enumerate() {
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(cell.text.chars().count());
            }
            match cell_number(cell) {
                Some(v) => ws.write_number(row, c as u16, v)?,
                None if cell.text.is_empty() => ws,
                None => ws.write_string(row, c as u16, clip(&cell.text))?,
            };
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w).clamp(8, 60) as f64 + 2.0)?;
    }
    ws.set_freeze_panes(1, 0)?;
    if !head.is_empty() {
        ws.autofilter(0, 0, body.len() as u32, (head.len() - 1) as u16)?;
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_only_where_the_column_sorts_by_the_text() {
        let c = |text: &str, sort: Option<f64>| Cell { text: text.into(), sort };
        assert_eq!(cell_number(&c("17700523", Some(17700523.0))), Some(17700523.0));
        assert_eq!(cell_number(&c("12345", None)), None);
        assert_eq!(cell_number(&c("critical 1, total 2", Some(10002.0))), None);
        assert_eq!(cell_number(&c("", Some(0.0))), None);
    }
}
