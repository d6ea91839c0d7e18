//! Embeds the repository's `data/` folder: writes `$OUT_DIR/embedded.rs`, a
//! table of `(relative path, TOML text, JSON text)` for every `.toml` file,
//! and asks cargo to rerun when anything under `data/` changes.
//!
//! The JSON is the same document converted at build time: `serde_json`
//! reads it several times faster than `toml` reads TOML, which keeps
//! `esxup build` well under its 10 ms budget. A file that is not valid TOML
//! gets no JSON, so the loader reports the TOML error at run time (and the
//! `kb_lint` test fails) instead of the build breaking.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            println!("cargo:rerun-if-changed={}", p.display());
            out.push(p);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let data = manifest.join("../../data");
    let data = data.canonicalize().unwrap_or(data);
    let mut files = Vec::new();
    walk(&data, &mut files);
    files.sort();
    let json_dir = out_dir.join("kb-json");
    let _ = std::fs::remove_dir_all(&json_dir);
    std::fs::create_dir_all(&json_dir).expect("create kb-json in OUT_DIR");
    let mut src = String::from(
        "/// Every `.toml` file of `data/` at build time: (path relative to `data/`, TOML, JSON if it parsed).\n",
    );
    src.push_str("pub static FILES: &[(&str, &str, Option<&str>)] = &[\n");
    for (i, f) in files.iter().enumerate() {
        let rel = f.strip_prefix(&data).unwrap_or(f);
        let rel: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let json = std::fs::read_to_string(f)
            .ok()
            .and_then(|t| toml::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| serde_json::to_string(&v).ok())
            .map(|j| {
                let p = json_dir.join(format!("{i}.json"));
                std::fs::write(&p, j).expect("write kb-json file");
                format!("Some(include_str!({:?}))", p.display().to_string())
            })
            .unwrap_or_else(|| "None".into());
        src.push_str(&format!(
            "    ({:?}, include_str!({:?}), {json}),\n",
            rel.join("/"),
            f.display().to_string()
        ));
    }
    src.push_str("];\n");
    std::fs::write(out_dir.join("embedded.rs"), src).expect("write embedded.rs");
}
