//! UTC timestamps for journal records (`2026-12-03T08:15:02Z`), without a
//! date-time crate: the civil-date arithmetic lives in `esxup_version::Date`.

use esxup_version::Date;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as RFC 3339 UTC with whole seconds.
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    utc(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    format!("{}T{h:02}:{m:02}:{s:02}Z", Date::from_days(days))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        // 2021-11-23 (ESXi670-202111001's release date) 12:34:56 UTC.
        assert_eq!(super::utc(1_637_670_896), "2021-11-23T12:34:56Z");
    }
}
