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

#[test]
fn downloads_draw_a_bar_on_a_terminal_and_quiet_silences_it() {
    let tmp = tempfile::tempdir().unwrap();
    let depot = tmp.path().join("depot");
    common::write_synthetic_depot(&depot);
    let (_server, port) = serve(&depot);
    let url = format!("http://127.0.0.1:{port}/index.xml");
    let bin = env!("CARGO_BIN_EXE_esxup");
    // Under a pseudo-terminal (util-linux `script`), each run with an empty
    // cache, so every file is downloaded.
    let run = |n: u32, extra: &str| {
        let cache = tmp.path().join(format!("cache-{n}"));
        let o = std::process::Command::new("script")
            .args(["-qec"])
            .arg(format!("'{bin}' {extra} depot profiles '{url}' >/dev/null"))
            .arg("/dev/null")
            .env("ESXUP_CACHE_DIR", &cache)
            .env("ESXUP_TODAY", "2026-01-15")
            .env("TERM", "xterm")
            .output()
            .expect("run script (util-linux)");
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = run(1, "");
    assert!(shown.contains("downloading index.xml"), "a bar per download: {shown:?}");
    assert!(shown.contains("B/s"), "with the rate: {shown:?}");
    let quiet = run(2, "--quiet");
    assert!(!quiet.contains("downloading"), "--quiet draws no bar: {quiet:?}");
    // Not a terminal: nothing on stderr.
    let o = esxup_on("2026-01-15")
        .env("ESXUP_CACHE_DIR", tmp.path().join("cache-3"))
        .args(["depot", "profiles", &url])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("downloading"));
}
