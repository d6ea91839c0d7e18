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
