//! Parsers of ESXi command outputs: pure functions of text, one module per
//! command family.
//!
//! Every esxcli parser accepts both layouts an admin may have saved:
//! `esxcli --formatter=xml ...` (preferred, stable across releases) and the
//! default text layouts (`Key: Value` blocks, or a table with a dashed rule
//! under its header). Field names are compared after [`norm`]alisation, so
//! `Acceptance Level` (text) and `AcceptanceLevel` (XML) are the same field.
//!
//! Bad input never panics: truncated or unexpected output gives a
//! [`ParseError`] naming the command and the 1-based line.

pub mod boot;
pub mod hardware;
pub mod network;
pub mod records;
pub mod services;
pub mod software;
pub mod storage;
pub mod system;
pub mod vimcmd;
pub mod vmodl;

pub use records::{records, Rec};

/// Why a command output could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("parse output of `{command}`, line {line}: {message}")]
pub struct ParseError {
    /// The command whose output this was (`esxcli system version get`).
    pub command: String,
    /// 1-based line number in the output (0 when the output is empty).
    pub line: usize,
    pub message: String,
}

impl ParseError {
    pub fn new(command: &str, line: usize, message: impl Into<String>) -> ParseError {
        ParseError { command: command.to_string(), line, message: message.into() }
    }
}

/// Lower-case ASCII letters and digits only: `Acceptance Level` and
/// `AcceptanceLevel` both become `acceptancelevel`.
pub fn norm(key: &str) -> String {
    key.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// `true`/`false`/`yes`/`no`/`enabled`/`disabled`/`on`/`off`, any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "enabled" | "on" | "1" => Some(true),
        "false" | "no" | "disabled" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// An unsigned number written in decimal (`32902`, XML) or hex (`0x8086`, text).
pub fn parse_num(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        t.parse().ok()
    }
}

/// The first line with text, for error messages on outputs that have none.
pub(crate) fn first_text_line(text: &str) -> Option<(usize, &str)> {
    text.lines().enumerate().find(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i + 1, l.trim()))
}

/// Error for an output that had no text at all.
pub(crate) fn empty(command: &str) -> ParseError {
    ParseError::new(command, 0, "the output is empty")
}

/// Error for an output without the records a parser reads: "empty" only
/// when it really is; otherwise it names the first line found instead.
pub(crate) fn no_records(command: &str, text: &str) -> ParseError {
    match first_text_line(text) {
        None => empty(command),
        Some((n, l)) => {
            let shown: String = l.chars().take(80).collect();
            ParseError::new(
                command,
                n,
                format!("none of the fields this output has, found {shown:?} instead"),
            )
        }
    }
}

/// Records of an output that must have text at all (tables, XML lists).
pub(crate) fn nonempty_records(command: &str, text: &str) -> Result<Vec<Rec>, ParseError> {
    if first_text_line(text).is_none() {
        return Err(empty(command));
    }
    records(command, text)
}

/// Records that hold fields (`Key: Value` blocks, XML structures); an
/// output without any is an error.
pub(crate) fn field_records(command: &str, text: &str) -> Result<Vec<Rec>, ParseError> {
    let recs: Vec<_> = records(command, text)?.into_iter().filter(|r| !r.fields.is_empty()).collect();
    if recs.is_empty() {
        return Err(empty(command));
    }
    Ok(recs)
}

/// `None` for the placeholders esxcli prints for "nothing": empty, `N/A`, `None`, `-`.
pub(crate) fn non_placeholder(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("n/a") || t.eq_ignore_ascii_case("none") || t == "-" {
        None
    } else {
        Some(t.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_matches_text_and_xml_names() {
        assert_eq!(norm("Acceptance Level"), norm("AcceptanceLevel"));
        assert_eq!(norm("VMkernel Name"), "vmkernelname");
    }

    #[test]
    fn numbers_in_both_bases() {
        assert_eq!(parse_num("0x8086"), Some(0x8086));
        assert_eq!(parse_num("32902"), Some(32902));
        assert_eq!(parse_num("zz"), None);
    }
}
