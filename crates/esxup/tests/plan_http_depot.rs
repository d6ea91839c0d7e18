//! `esxup plan --depot http://...`: an online depot, served by a real HTTP
//! server (Python's `http.server` on 127.0.0.1, random port) from the small
//! synthetic depot (`scripts/gen-synthetic-depot.py --small`), simulates the
//! image change exactly as the same depot read from its folder does.

mod common;

use common::{code, esxup_on, serve, stdout};

/// Finding ids of a plan JSON, by section.
fn ids(plan: &serde_json::Value, section: &str) -> Vec<String> {
    plan[section]
        .as_array()
        .unwrap_or_else(|| panic!("plan JSON has no {section}"))
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn plan_simulates_an_online_depot_like_the_same_depot_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let depot = tmp.path().join("depot");
    common::write_synthetic_depot(&depot);
    let (_server, port) = serve(&depot);
    let url = format!("http://127.0.0.1:{port}/index.xml");
    let cache = tmp.path().join("cache");

    let plan = |location: &str| {
        let o = esxup_on("2026-01-15")
            .env("ESXUP_CACHE_DIR", &cache)
            .args(["plan", "--example", "seed", "--target", "7.0U2a", "--depot", location])
            .args(["--profile", "ESXi-7.0U2a-17867351-standard", "--format", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdout(&o))
            .unwrap_or_else(|e| panic!("{location}: not JSON ({e}): {}", String::from_utf8_lossy(&o.stderr)));
        (code(&o), v)
    };
    let (local_code, local) = plan(depot.to_str().unwrap());
    let (http_code, online) = plan(&url);
    assert_eq!(local_code, 1, "blocked");
    assert_eq!(http_code, local_code);
    // The simulation ran on the online depot: the seed's vmkusb dependency
    // error comes from the transaction, not from the host facts.
    assert!(
        ids(&online, "blockers").contains(&"MISSING_DEPENDENCY_VIBS".to_string()),
        "{:?}",
        ids(&online, "blockers")
    );
    for section in ["blockers", "warnings", "notes"] {
        assert_eq!(ids(&online, section), ids(&local, section), "{section}");
    }
    // Fetched once into the cache, nowhere else.
    assert!(cache.read_dir().map(|mut d| d.next().is_some()).unwrap_or(false), "cache written");
}
