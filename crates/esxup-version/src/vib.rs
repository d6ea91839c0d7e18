//! VIB version order exactly as VMware's esximage sorts it, and the
//! relationship constraints (`<< <= = >= >>`) VIB descriptors use.
//!
//! Rules (research README, "VIB version order (from VMware's esximage)"):
//! - a VIB version is `version-release`, split on the `-`; no `-` means an
//!   empty release;
//! - each half is split on `.`; fields are compared left to right, a missing
//!   field sorts lowest (`4 < 4.0`);
//! - each field is compared as (leading integer, trailing text): no leading
//!   integer sorts below any integer (`4.a < 4.0a`), integers numerically
//!   (`4.2 < 4.10`, `1.01 == 1.1`), text bytewise with a prefix lower
//!   (`4.0 < 4.0a`);
//! - the version halves decide first, then the release halves;
//! - a constraint without a release compares only the version half.
//!
//! This is why `0.1-4vmw.670.3.159.18828794` (6.7 P06's vmkusb) sorts newer
//! than `0.1-1vmw.702.0.0.17867351` (7.0 U2a's): same version `0.1`, and in
//! the release `4vmw` beats `1vmw` before the build numbers are reached.

use std::cmp::Ordering;
use std::fmt;

/// One VIB version string, kept verbatim and compared the esximage way.
/// Equality follows the order: `1.01-1` equals `1.1-1`.
#[derive(Clone, Debug)]
pub struct VibVersion {
    raw: String,
    /// Byte index of the `-` separating version and release, if any.
    dash: Option<usize>,
}

impl VibVersion {
    /// Parses a version. Never fails: esximage accepts any string and so do
    /// we. A string with several `-` is split at the first one (the schema
    /// forbids more; real depots do not have them).
    pub fn parse(s: &str) -> VibVersion {
        let raw = s.trim().to_string();
        let dash = raw.find('-');
        VibVersion { raw, dash }
    }

    /// The whole string as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The version half (before the `-`).
    pub fn version(&self) -> &str {
        match self.dash {
            Some(i) => &self.raw[..i],
            None => &self.raw,
        }
    }

    /// The release half (after the `-`), empty when there is none.
    pub fn release(&self) -> &str {
        match self.dash {
            Some(i) => &self.raw[i + 1..],
            None => "",
        }
    }

    /// Whether the string had a release half at all.
    pub fn has_release(&self) -> bool {
        self.dash.is_some()
    }

    /// Compares only the version halves.
    pub fn cmp_version_only(&self, other: &VibVersion) -> Ordering {
        compare_dotted(self.version(), other.version())
    }
}

impl Default for VibVersion {
    fn default() -> Self {
        VibVersion::parse("")
    }
}

impl fmt::Display for VibVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl From<&str> for VibVersion {
    fn from(s: &str) -> Self {
        VibVersion::parse(s)
    }
}

impl PartialEq for VibVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for VibVersion {}

impl PartialOrd for VibVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for VibVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // Equal strings are the common case in a dry-run (a VIB already
        // installed): no field walk.
        if self.raw == other.raw {
            return Ordering::Equal;
        }
        compare_dotted(self.version(), other.version())
            .then_with(|| compare_dotted(self.release(), other.release()))
    }
}

impl serde::Serialize for VibVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for VibVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(VibVersion::parse(&s))
    }
}

/// Compares two dotted strings field by field (one half of a VIB version).
/// Splitting follows Python's `str.split('.')`: `""` is one empty field.
/// (One pass over the bytes, no iterator state: dry-runs compare versions
/// millions of times; the tests check it against a plain split.)
pub fn compare_dotted(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        let ea = memchr_dot(&a[i..]).map_or(a.len(), |p| i + p);
        let eb = memchr_dot(&b[j..]).map_or(b.len(), |p| j + p);
        match compare_field_bytes(&a[i..ea], &b[j..eb]) {
            Ordering::Equal => {}
            o => return o,
        }
        match (ea == a.len(), eb == b.len()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => (i, j) = (ea + 1, eb + 1),
        }
    }
}

fn memchr_dot(s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b'.')
}

/// Compares one field as (leading integer, trailing text).
pub fn compare_field(a: &str, b: &str) -> Ordering {
    compare_field_bytes(a.as_bytes(), b.as_bytes())
}

/// [`compare_field`] on bytes: no integer sorts below any integer,
/// integers numerically (any length, no overflow), then the rest bytewise.
fn compare_field_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
    let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let by_number = match (na, nb) {
        (0, 0) => Ordering::Equal,
        (0, _) => Ordering::Less,
        (_, 0) => Ordering::Greater,
        _ => compare_digits(&a[..na], &b[..nb]),
    };
    by_number.then_with(|| a[na..].cmp(&b[nb..]))
}

/// Numeric comparison of two digit strings of any length (no overflow).
fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = &a[a.iter().take_while(|&&c| c == b'0').count()..];
    let b = &b[b.iter().take_while(|&&c| c == b'0').count()..];
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A relation of a versioned constraint.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum Relation {
    #[serde(rename = "<<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">>")]
    Gt,
}

impl Relation {
    /// Parses `<< <= = >= >>` (also `<`/`>` as some old descriptors write them,
    /// meaning the strict forms as in Debian's heritage of this syntax).
    pub fn parse(s: &str) -> Option<Relation> {
        Some(match s.trim() {
            "<<" | "<" => Relation::Lt,
            "<=" => Relation::Le,
            "=" | "==" => Relation::Eq,
            ">=" => Relation::Ge,
            ">>" | ">" => Relation::Gt,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Lt => "<<",
            Relation::Le => "<=",
            Relation::Eq => "=",
            Relation::Ge => ">=",
            Relation::Gt => ">>",
        }
    }

    /// Whether `ordering` (candidate compared to the constraint's version)
    /// satisfies this relation.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Relation::Lt => ordering == Ordering::Less,
            Relation::Le => ordering != Ordering::Greater,
            Relation::Eq => ordering == Ordering::Equal,
            Relation::Ge => ordering != Ordering::Less,
            Relation::Gt => ordering == Ordering::Greater,
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A relationship constraint: `name`, optionally `relation version`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Constraint {
    pub name: String,
    /// `None` = any version satisfies.
    pub relation: Option<Relation>,
    pub version: Option<VibVersion>,
}

impl Constraint {
    /// An unversioned constraint on `name`.
    pub fn any(name: &str) -> Constraint {
        Constraint { name: name.to_string(), relation: None, version: None }
    }

    /// A versioned constraint.
    pub fn new(name: &str, relation: Relation, version: &str) -> Constraint {
        Constraint {
            name: name.to_string(),
            relation: Some(relation),
            version: Some(VibVersion::parse(version)),
        }
    }

    /// Whether a candidate version satisfies the constraint's version part.
    /// `None` candidate = something provided without a version: it only
    /// satisfies unversioned constraints.
    pub fn version_matches(&self, candidate: Option<&VibVersion>) -> bool {
        let (rel, want) = match (self.relation, &self.version) {
            (Some(r), Some(v)) => (r, v),
            _ => return true,
        };
        let Some(have) = candidate else { return false };
        let ord = if want.has_release() { have.cmp(want) } else { have.cmp_version_only(want) };
        rel.holds(ord)
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.relation, &self.version) {
            (Some(r), Some(v)) => write!(f, "{} {} {}", self.name, r, v),
            _ => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> VibVersion {
        VibVersion::parse(s)
    }

    fn half(a: &str, b: &str) -> Ordering {
        compare_dotted(a, b)
    }

    #[test]
    fn readme_examples_for_one_half() {
        // research README: 4.2<4.10, 4.0<4.0a, 4<4.0, 4.a<4.0a, 4.0<4a, 1.01==1.1
        assert_eq!(half("4.2", "4.10"), Ordering::Less);
        assert_eq!(half("4.0", "4.0a"), Ordering::Less);
        assert_eq!(half("4", "4.0"), Ordering::Less);
        assert_eq!(half("4.a", "4.0a"), Ordering::Less);
        assert_eq!(half("4.0", "4a"), Ordering::Less);
        assert_eq!(half("1.01", "1.1"), Ordering::Equal);
        assert_eq!(half("4.10", "4.2"), Ordering::Greater);
    }

    #[test]
    fn seed_vmkusb_case() {
        // 6.7 P06 (ESXi670-202111001) vmkusb vs 7.0 U2a vmkusb.
        let p06 = v("0.1-4vmw.670.3.159.18828794");
        let u2a = v("0.1-1vmw.702.0.0.17867351");
        assert!(p06 > u2a);
        // 7.0 U2c sorts above P06 (research vibsets README).
        let u2c = v("0.1-4vmw.702.0.20.18426014");
        assert!(u2c > p06);
        // 6.7 P01 sorts below 7.0 U2a.
        assert!(v("0.1-1vmw.670.3.89.15160138") < u2a);
    }

    #[test]
    fn version_half_decides_before_release() {
        assert!(v("219.0.29.0-1OEM.670.0.0.8169922") > v("216.0.50.0-34vmw.702.0.0.17867351"));
        assert!(v("1.0-100") < v("1.0.0-1"));
        assert_eq!(v("1.01-1vmw"), v("1.1-1vmw"));
        assert!(v("1.1") < v("1.1-0"));
    }

    #[test]
    fn big_numbers_do_not_overflow() {
        assert!(v("1.99999999999999999999999999-1") > v("1.99999999999999999999999998-1"));
        assert_eq!(compare_field("007", "7"), Ordering::Equal);
    }

    #[test]
    fn halves_are_exposed() {
        let x = v("8.045a-napi");
        assert_eq!(x.version(), "8.045a");
        assert_eq!(x.release(), "napi");
        let y = v("5.*");
        assert_eq!(y.release(), "");
        assert!(!y.has_release());
    }

    #[test]
    fn constraints() {
        let c = Constraint::new("vmkapi", Relation::Ge, "2.2");
        assert!(c.version_matches(Some(&v("2.2.0.0"))));
        assert!(c.version_matches(Some(&v("2.2-1"))));
        assert!(!c.version_matches(Some(&v("2.1"))));
        assert!(!c.version_matches(None));
        assert!(Constraint::any("vmkapi_2_2_0_0").version_matches(None));

        // Without a release only the version half is compared.
        let eq = Constraint::new("esx-base", Relation::Eq, "6.7.0");
        assert!(eq.version_matches(Some(&v("6.7.0-3.159.18828794"))));
        let lt = Constraint::new("vmkusb", Relation::Lt, "0.1");
        assert!(!lt.version_matches(Some(&v("0.1-4vmw.670.3.159.18828794"))));
        // With a release, the whole version counts.
        let lt_full = Constraint::new("vmkusb", Relation::Lt, "0.1-1vmw.702.0.0.17867351");
        assert!(!lt_full.version_matches(Some(&v("0.1-4vmw.670.3.159.18828794"))));
        assert!(lt_full.version_matches(Some(&v("0.1-1vmw.670.3.89.15160138"))));
        let gt = Constraint::new("x", Relation::Gt, "1.0-1");
        assert!(gt.version_matches(Some(&v("1.0-2"))));
        assert!(!gt.version_matches(Some(&v("1.0-1"))));
        let le = Constraint::new("x", Relation::Le, "1.0-1");
        assert!(le.version_matches(Some(&v("1.0-1"))));
        assert!(!le.version_matches(Some(&v("1.0-1a"))));
    }

    #[test]
    fn relations_parse_and_print() {
        for s in ["<<", "<=", "=", ">=", ">>"] {
            assert_eq!(Relation::parse(s).map(Relation::as_str), Some(s));
        }
        assert_eq!(Relation::parse("~"), None);
        assert_eq!(Constraint::new("a", Relation::Ge, "1.0").to_string(), "a >= 1.0");
    }

    #[test]
    fn sort_is_total_on_fling_versions() {
        // USB NIC fling releases from the research fixtures, in publication order.
        let mut vs: Vec<VibVersion> = [
            "1.14-7vmw.803.0.95.93415869",
            "2.1-6vmw.670.2.48.39203948",
            "1.10-1vmw.703.0.50.55634242",
            "1.12-1vmw.800.1.20.64098182",
            "1.12-1vmw.801.0.0.64098092",
            "1.14-1vmw.803.0.0.75399077",
            "1.14-2vmw.803.0.0.76444229",
        ]
        .iter()
        .map(|s| v(s))
        .collect();
        vs.sort();
        let got: Vec<&str> = vs.iter().map(VibVersion::as_str).collect();
        // The 6.7 fling (2.1) sorts above every 7.0/8.0 one: versions do not track releases.
        assert_eq!(
            got,
            [
                "1.10-1vmw.703.0.50.55634242",
                "1.12-1vmw.800.1.20.64098182",
                "1.12-1vmw.801.0.0.64098092",
                "1.14-1vmw.803.0.0.75399077",
                "1.14-2vmw.803.0.0.76444229",
                "1.14-7vmw.803.0.95.93415869",
                "2.1-6vmw.670.2.48.39203948",
            ]
        );
    }

    /// The esximage rules written the plain way (split on '.', each field
    /// split into digits and rest): the one-pass [`compare_dotted`] must
    /// agree with it on real versions and thousands of generated strings.
    fn reference_dotted(a: &str, b: &str) -> Ordering {
        fn field(f: &str) -> (Option<&str>, &str) {
            let n = f.bytes().take_while(u8::is_ascii_digit).count();
            ((n > 0).then(|| &f[..n]), &f[n..])
        }
        fn num(x: &str) -> &str {
            x.trim_start_matches('0')
        }
        let (mut fa, mut fb) = (a.split('.'), b.split('.'));
        loop {
            match (fa.next(), fb.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => {
                    let ((nx, tx), (ny, ty)) = (field(x), field(y));
                    let o = match (nx, ny) {
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => Ordering::Less,
                        (Some(_), None) => Ordering::Greater,
                        (Some(p), Some(q)) => {
                            num(p).len().cmp(&num(q).len()).then_with(|| num(p).cmp(num(q)))
                        }
                    };
                    match o.then_with(|| tx.cmp(ty)) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
            }
        }
    }

    fn versions() -> Vec<VibVersion> {
        let mut out: Vec<String> = [
            "",
            ".",
            "-",
            "0.1-4vmw.670.3.159.18828794",
            "0.1-1vmw.702.0.0.17867351",
            "219.0.29.0-1OEM.670.0.0.8169922",
            "216.0.50.0-34vmw.702.0.0.17867351",
            "1.0-100",
            "1.0.0-1",
            "1.01-1vmw",
            "1.1-1vmw",
            "1.1",
            "1.1-0",
            "4.a",
            "4.0a",
            "4",
            "4.0",
            "007",
            "7",
            "1.99999999999999999999999999-1",
            "6.7.0-3.159.18828794",
            "8.045a-napi",
            "5.*",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let alphabet = b"0012789..-ab";
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 9) as usize;
            let s: String = (0..len)
                .map(|k| alphabet[((x >> (8 + 4 * k)) % alphabet.len() as u64) as usize] as char)
                .collect();
            out.push(s);
        }
        out.iter().map(|s| VibVersion::parse(s)).collect()
    }

    #[test]
    fn one_pass_order_agrees_with_the_plain_split() {
        let vs = versions();
        for a in &vs {
            for b in vs.iter().step_by(7) {
                let want = reference_dotted(a.version(), b.version())
                    .then_with(|| reference_dotted(a.release(), b.release()));
                assert_eq!(a.cmp(b), want, "{a} vs {b}");
                assert_eq!(b.cmp(a), want.reverse(), "{b} vs {a}");
                assert_eq!(
                    compare_dotted(a.version(), b.version()),
                    reference_dotted(a.version(), b.version()),
                    "{a} vs {b}"
                );
            }
        }
    }
}

crate::string_json_schema!(
    VibVersion,
    "VibVersion",
    "VIB version `version-release` (`0.1-4vmw.670.3.159.18828794`)"
);
