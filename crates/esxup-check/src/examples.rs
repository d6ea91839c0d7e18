//! Built-in example hosts (`esxup check --example NAME`): facts files from
//! the repository's `examples/` folder, embedded at build time.

use esxup_facts::HostFacts;

const EXAMPLES: &[(&str, &str)] = &[
    ("seed", include_str!("../../../examples/seed.json")),
    ("realtek-homelab", include_str!("../../../examples/realtek-homelab.json")),
    ("clean-70u3", include_str!("../../../examples/clean-70u3.json")),
    ("esxiargs", include_str!("../../../examples/esxiargs.json")),
];

/// Names of the built-in examples.
pub fn names() -> &'static [&'static str] {
    const NAMES: &[&str] = &["seed", "realtek-homelab", "clean-70u3", "esxiargs"];
    NAMES
}

/// One line about each example host, in [`names`] order (as in
/// `examples/README.md`).
pub fn summaries() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "seed",
            "ESXi 6.7 P06 (18828794, 2021-11-23), UEFI + Secure Boot, altbootbank 17700523; aims at 7.0U2a",
        ),
        ("realtek-homelab", "ESXi 6.7 P05 NUC with net55-r8168 on the management NIC"),
        ("clean-70u3", "healthy ESXi 7.0 U3i host"),
        ("esxiargs", "ESXi 6.7 P04 exposed to CVE-2021-21974, slpd running"),
    ]
}

/// The target an example host is aiming at, used when `--target` is not
/// given: the seed's admin was upgrading to 7.0 Update 2a (issue 5); the
/// others have no story of their own, so esxup recommends one (`auto`).
pub fn intended_target(name: &str) -> Option<&'static str> {
    match name {
        "seed" => Some("7.0U2a"),
        n if names().contains(&n) => Some("auto"),
        _ => None,
    }
}

/// Raw JSON of an example.
pub fn raw(name: &str) -> Option<&'static str> {
    EXAMPLES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The facts of an example (`None` for an unknown name).
pub fn get(name: &str) -> Option<HostFacts> {
    raw(name).and_then(|t| serde_json::from_str(t).ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_has_an_intended_target() {
        assert_eq!(super::intended_target("seed"), Some("7.0U2a"));
        for n in super::names() {
            assert!(super::intended_target(n).is_some(), "{n}");
        }
        assert_eq!(super::intended_target("nope"), None);
    }

    #[test]
    fn every_example_has_one_summary_line() {
        let names: Vec<&str> = super::summaries().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, super::names());
        assert!(super::summaries().iter().all(|(_, s)| !s.is_empty() && !s.contains('\n')));
    }

    #[test]
    fn every_example_parses() {
        for n in super::names() {
            let f = super::get(n).unwrap_or_else(|| {
                panic!(
                    "example {n} does not parse: {:?}",
                    serde_json::from_str::<esxup_facts::HostFacts>(super::raw(n).unwrap()).err()
                )
            });
            assert_eq!(f.schema_version, esxup_facts::SCHEMA_VERSION);
        }
    }
}
