//! The one translatable message catalog of esxup (English and Japanese).
//!
//! Messages are TOML tables in `messages/<area>.<lang>.toml` (embedded at
//! build time), keyed by a dotted id (`check.back_in_time.title`);
//! `{name}` placeholders are filled from the arguments a finding or step
//! carries. A test asserts that every key exists in every language with the
//! same placeholders, so a missing translation fails the build's tests, not
//! an admin's upgrade night.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// Output language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// Picks the language from a POSIX locale value (`LC_ALL`, `LC_MESSAGES`,
    /// `LANG`): `ja_JP.UTF-8` -> Japanese, anything else -> English.
    pub fn from_locale(value: &str) -> Lang {
        if value.to_ascii_lowercase().starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The language of the environment's locale, as `setlocale` would pick it.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if !v.is_empty() {
                    return Lang::from_locale(&v);
                }
            }
        }
        Lang::En
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "ja" | "jp" | "japanese" => Ok(Lang::Ja),
            _ => Err(format!("unknown language {s:?}: expected en or ja")),
        }
    }
}

/// The embedded catalog files: (file name, text).
const FILES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/messages.rs"));

/// A loaded catalog: language -> key -> template.
#[derive(Debug, Default)]
pub struct Catalog {
    messages: BTreeMap<Lang, BTreeMap<String, String>>,
}

impl PartialOrd for Lang {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Lang {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

/// Why a catalog file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("parse message file {file}: {source}")]
    Parse { file: String, source: toml::de::Error },
    #[error("message file {file}: expected <area>.<lang>.toml")]
    Name { file: String },
    #[error("message file {file}: key {key} is defined twice")]
    Duplicate { file: String, key: String },
}

impl Catalog {
    /// The catalog built into the binary. Loaded once.
    pub fn embedded() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::from_files(FILES.iter().copied())
                .unwrap_or_else(|e| panic!("embedded message catalog is invalid (a test catches this): {e}"))
        })
    }

    /// Builds a catalog from `(file name, TOML text)` pairs.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalog, CatalogError> {
        let mut cat = Catalog::default();
        for (file, text) in files {
            let stem = file.strip_suffix(".toml").ok_or_else(|| CatalogError::Name { file: file.into() })?;
            let lang: Lang = stem
                .rsplit('.')
                .next()
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| CatalogError::Name { file: file.into() })?;
            let value: toml::Table =
                toml::from_str(text).map_err(|source| CatalogError::Parse { file: file.into(), source })?;
            let map = cat.messages.entry(lang).or_default();
            let mut flat = Vec::new();
            flatten("", &toml::Value::Table(value), &mut flat);
            for (k, v) in flat {
                if map.insert(k.clone(), v).is_some() {
                    return Err(CatalogError::Duplicate { file: file.into(), key: k });
                }
            }
        }
        Ok(cat)
    }

    /// The raw template of `key`, if present.
    pub fn template(&self, lang: Lang, key: &str) -> Option<&str> {
        self.messages.get(&lang).and_then(|m| m.get(key)).map(String::as_str)
    }

    /// Renders `key` in `lang` with `args`. A missing key renders as the key
    /// itself in brackets (and the catalog test fails), never as a panic.
    pub fn render(&self, lang: Lang, key: &str, args: &BTreeMap<String, String>) -> String {
        match self.template(lang, key).or_else(|| self.template(Lang::En, key)) {
            Some(t) => fill(t, args),
            None => format!("[{key}]"),
        }
    }

    /// Whether `key` exists in `lang`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.template(lang, key).is_some()
    }

    /// All keys of a language.
    pub fn keys(&self, lang: Lang) -> BTreeSet<&str> {
        self.messages.get(&lang).map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default()
    }

    /// Differences between languages: keys missing in one, or templates
    /// whose placeholders differ. Empty when the catalog is complete.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let all: BTreeSet<&str> = Lang::ALL.iter().flat_map(|l| self.keys(*l)).collect();
        for key in all {
            let mut seen: Option<(Lang, BTreeSet<String>)> = None;
            for lang in Lang::ALL {
                match self.template(lang, key) {
                    None => out.push(format!("{key}: missing in {lang}")),
                    Some(t) => {
                        let ph = placeholders(t);
                        match &seen {
                            Some((l0, p0)) if *p0 != ph => out.push(format!(
                                "{key}: placeholders differ between {l0} {p0:?} and {lang} {ph:?}"
                            )),
                            Some(_) => {}
                            None => seen = Some((lang, ph)),
                        }
                    }
                }
            }
        }
        out
    }
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The `{name}` placeholders of a template (`{{` escapes a brace).
pub fn placeholders(t: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        if rest[i..].starts_with("{{") {
            rest = &rest[i + 2..];
            continue;
        }
        match rest[i + 1..].find('}') {
            Some(j) => {
                out.insert(rest[i + 1..i + 1 + j].to_string());
                rest = &rest[i + 2 + j..];
            }
            None => break,
        }
    }
    out
}

/// Fills `{name}` placeholders; unknown names stay visible as `{name}`.
pub fn fill(t: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(t.len() + 16);
    let mut rest = t;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if r.starts_with("{{") || r.starts_with("}}") {
            out.push_str(&r[..1]);
            rest = &r[2..];
        } else if let Some(after) = r.strip_prefix('{') {
            match after.find('}') {
                Some(j) => {
                    let name = &after[..j];
                    match args.get(name) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&r[..j + 2]),
                    }
                    rest = &after[j + 1..];
                }
                None => {
                    out.push_str(r);
                    rest = "";
                }
            }
        } else {
            out.push('}');
            rest = &r[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Convenience: render from the embedded catalog.
pub fn t(lang: Lang, key: &str, args: &BTreeMap<String, String>) -> String {
    Catalog::embedded().render(lang, key, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn embedded_catalog_is_complete_in_every_language() {
        let problems = Catalog::embedded().problems();
        assert!(problems.is_empty(), "message catalog problems:\n{}", problems.join("\n"));
    }

    #[test]
    fn fills_placeholders_and_escapes() {
        let a = args(&[("build", "18828794"), ("date", "2021-11-23")]);
        assert_eq!(fill("build {build} ({date})", &a), "build 18828794 (2021-11-23)");
        assert_eq!(fill("{{literal}} {missing}", &a), "{literal} {missing}");
        assert_eq!(placeholders("a {x} {{y}} {z}"), ["x", "z"].iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn reports_missing_keys_and_placeholder_mismatch() {
        let cat = Catalog::from_files([
            ("t.en.toml", "[a]\nx = \"hello {name}\"\ny = \"only en\""),
            ("t.ja.toml", "[a]\nx = \"こんにちは {nom}\""),
        ])
        .unwrap();
        let p = cat.problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|s| s.starts_with("a.y: missing in ja")));
        assert!(p.iter().any(|s| s.starts_with("a.x: placeholders differ")));
        assert_eq!(cat.render(Lang::Ja, "a.y", &BTreeMap::new()), "only en");
        assert_eq!(cat.render(Lang::Ja, "nope", &BTreeMap::new()), "[nope]");
    }

    #[test]
    fn picks_language_from_locale() {
        assert_eq!(Lang::from_locale("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
        assert_eq!("JA".parse::<Lang>().unwrap(), Lang::Ja);
        assert!("de".parse::<Lang>().is_err());
    }
}
