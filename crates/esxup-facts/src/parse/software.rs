//! `esxcli software ...`: image profile, installed VIBs, host acceptance level.

use super::{no_records, non_placeholder, nonempty_records, records, ParseError};
use crate::model::{AcceptanceLevel, InstalledVib};
use esxup_version::Date;

pub const PROFILE_GET: &str = "esxcli software profile get";
pub const VIB_LIST: &str = "esxcli software vib list";
pub const ACCEPTANCE_GET: &str = "esxcli software acceptance get";

/// Acceptance level from its long (`VMwareCertified`) or short (`certified`) name.
pub fn acceptance_level(s: &str) -> Option<AcceptanceLevel> {
    match s.trim().to_ascii_lowercase().as_str() {
        "vmwarecertified" | "certified" => Some(AcceptanceLevel::VMwareCertified),
        "vmwareaccepted" | "accepted" => Some(AcceptanceLevel::VMwareAccepted),
        "partnersupported" | "partner" => Some(AcceptanceLevel::PartnerSupported),
        "communitysupported" | "community" => Some(AcceptanceLevel::CommunitySupported),
        _ => None,
    }
}

/// `esxcli software profile get`: the profile name as the host prints it
/// (an `(Updated) ` prefix, meaning VIBs changed since, is kept).
pub fn profile_get(text: &str) -> Result<String, ParseError> {
    let c = PROFILE_GET;
    let recs = records(c, text)?;
    let r = recs
        .iter()
        .find(|r| r.get("Name").is_some() || r.title.is_some())
        .ok_or_else(|| no_records(c, text))?;
    match r.get("Name").and_then(non_placeholder).or_else(|| r.title.clone()) {
        Some(n) => Ok(n),
        None => Err(ParseError::new(c, r.line, "no profile `Name`")),
    }
}

/// `esxcli software acceptance get`: one word.
pub fn acceptance_get(text: &str) -> Result<AcceptanceLevel, ParseError> {
    let c = ACCEPTANCE_GET;
    let recs = records(c, text)?;
    let (v, line) = super::system::scalar(c, text, &recs)?;
    acceptance_level(&v).ok_or_else(|| ParseError::new(c, line, format!("unknown acceptance level {v:?}")))
}

/// `esxcli software vib list`: every installed VIB. Accepts the table of
/// 6.x/7.0, the 8.0 table with its extra `Platforms` column, the XML layout,
/// and rows without a header (a `| grep` of the table).
pub fn vib_list(text: &str) -> Result<Vec<InstalledVib>, ParseError> {
    let c = VIB_LIST;
    let recs = nonempty_records(c, text)?;
    let tabular = recs.iter().any(|r| r.get("Name").is_some());
    if !tabular {
        return headerless(text);
    }
    let mut out = Vec::with_capacity(recs.len());
    for r in &recs {
        let [name, version, vendor, level] =
            r.require_cells(c, ["Name", "Version", "Vendor", "Acceptance Level"])?;
        out.push(vib(c, r.line, name, version, vendor, level, r.get("Install Date").unwrap_or(""))?);
    }
    Ok(out)
}

fn vib(
    c: &str,
    line: usize,
    name: &str,
    version: &str,
    vendor: &str,
    level: &str,
    date: &str,
) -> Result<InstalledVib, ParseError> {
    let acceptance_level = acceptance_level(level);
    if acceptance_level.is_none() {
        return Err(ParseError::new(c, line, format!("unknown acceptance level {level:?}")));
    }
    let d = date.trim();
    let install_date = if d.is_empty() {
        None
    } else {
        // XML may carry a full timestamp; the date is its first 10 characters.
        let day: String = d.chars().take(10).collect();
        Some(day.parse::<Date>().map_err(|e| ParseError::new(c, line, format!("install date: {e}")))?)
    };
    Ok(InstalledVib {
        name: name.to_string(),
        version: version.to_string(),
        vendor: vendor.to_string(),
        acceptance_level,
        install_date,
    })
}

fn headerless(text: &str) -> Result<Vec<InstalledVib>, ParseError> {
    let c = VIB_LIST;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let t: Vec<&str> = l.split_whitespace().collect();
        if !(5..=6).contains(&t.len()) {
            return Err(ParseError::new(
                c,
                i + 1,
                format!("expected `Name Version Vendor AcceptanceLevel InstallDate`, found {:?}", l.trim()),
            ));
        }
        out.push(vib(c, i + 1, t[0], t[1], t[2], t[3], t[4])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_row_is_an_error() {
        let t = "Name      Version   Vendor  Acceptance Level  Install Date\n--------  --------  ------  ----------------  ------------\nesx-base  7.0.0-1   VMware  VMwareCertified   2020-04-03\nesx-ui    1.3";
        let e = vib_list(t).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
    }
}
