//! The SLP daemon (CVE-2021-21974, workaround KB 76372): `/etc/init.d/slpd
//! status` (`slpd is running` / `slpd is not running`) and `chkconfig --list
//! slpd` (`slpd on` / `slpd off`).

use super::{empty, first_text_line, ParseError};

pub const SLPD_STATUS: &str = "/etc/init.d/slpd status";
pub const SLPD_CHKCONFIG: &str = "chkconfig --list slpd";

/// Running or not.
pub fn slpd_status(text: &str) -> Result<bool, ParseError> {
    let c = SLPD_STATUS;
    let (n, l) = first_text_line(text).ok_or_else(|| empty(c))?;
    let low = l.to_ascii_lowercase();
    if low.contains("is not running") || low.contains("stopped") {
        Ok(false)
    } else if low.contains("is running") {
        Ok(true)
    } else {
        Err(ParseError::new(
            c,
            n,
            format!("expected `slpd is running` or `slpd is not running`, found {l:?}"),
        ))
    }
}

/// Start policy: `on` or `off`.
pub fn slpd_chkconfig(text: &str) -> Result<String, ParseError> {
    let c = SLPD_CHKCONFIG;
    let (n, l) = first_text_line(text).ok_or_else(|| empty(c))?;
    let toks: Vec<&str> = l.split_whitespace().collect();
    match toks.as_slice() {
        [name, state] if *name == "slpd" && (*state == "on" || *state == "off") => Ok(state.to_string()),
        _ => Err(ParseError::new(c, n, format!("expected `slpd on` or `slpd off`, found {l:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        assert_eq!(slpd_status("slpd is not running\n"), Ok(false));
        assert_eq!(slpd_status("slpd is running\n"), Ok(true));
        assert_eq!(slpd_chkconfig("slpd                    off\n"), Ok("off".into()));
        assert!(slpd_chkconfig("slpd\n").is_err());
    }
}
