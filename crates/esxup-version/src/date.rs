//! A plain calendar date, serialised as `YYYY-MM-DD`.
//!
//! Release dates and lifecycle milestones need nothing more than ordering,
//! day arithmetic and "today", so esxup keeps its own small type instead of
//! pulling a calendar crate into every layer.

use std::fmt;
use std::str::FromStr;

/// A proleptic Gregorian calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// Why a date string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DateError {
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    Format(String),
    #[error("invalid date {0:?}: no such day")]
    Range(String),
}

impl Date {
    /// Builds a date, checking that the day exists.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before), after Howard Hinnant's
    /// `days_from_civil`.
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of [`Date::to_days`].
    pub fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_days(secs.div_euclid(86_400))
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.to_days() - self.to_days()
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Accepts `YYYY-MM-DD` and, because vendor tables use it, `YYYY/MM/DD`.
    fn from_str(s: &str) -> Result<Date, DateError> {
        let t = s.trim();
        let mut parts = t.split(['-', '/']);
        let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(DateError::Format(s.to_string()));
        };
        if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
            return Err(DateError::Format(s.to_string()));
        }
        let parse = |x: &str| x.parse::<u32>().map_err(|_| DateError::Format(s.to_string()));
        let (y, m, d) = (parse(y)?, parse(m)?, parse(d)?);
        Date::new(y as i32, m as u8, d as u8).ok_or_else(|| DateError::Range(s.to_string()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days() {
        for s in ["1970-01-01", "2021-03-18", "2000-02-29", "2026-11-26", "1969-12-31"] {
            let d: Date = s.parse().unwrap();
            assert_eq!(Date::from_days(d.to_days()), d, "{s}");
            assert_eq!(d.to_string(), s);
        }
        assert_eq!("1970-01-02".parse::<Date>().unwrap().to_days(), 1);
    }

    #[test]
    fn refuses_bad_dates() {
        assert!(matches!("2021-02-29".parse::<Date>(), Err(DateError::Range(_))));
        assert!(matches!("21-02-01".parse::<Date>(), Err(DateError::Format(_))));
        assert!(matches!("2021-02".parse::<Date>(), Err(DateError::Format(_))));
        assert_eq!("2025/04/10".parse::<Date>().unwrap().to_string(), "2025-04-10");
    }

    #[test]
    fn seed_dates_are_ordered() {
        let p06: Date = "2021-11-23".parse().unwrap();
        let u2a: Date = "2021-04-29".parse().unwrap();
        assert!(u2a < p06);
        assert_eq!(u2a.days_until(p06), 208);
    }
}

crate::string_json_schema!(Date, "Date", "a day, YYYY-MM-DD", Some("date"));
