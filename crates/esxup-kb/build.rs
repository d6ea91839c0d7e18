//! Embeds the repository's `data/` folder: writes `$OUT_DIR/embedded.rs`, a
//! table of `(relative path, include_str!(file))` for every `.toml` file, and
//! asks cargo to rerun when anything under `data/` changes.

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
    let data = manifest.join("../../data");
    let data = data.canonicalize().unwrap_or(data);
    let mut files = Vec::new();
    walk(&data, &mut files);
    files.sort();
    let mut src =
        String::from("/// Every `.toml` file of `data/` at build time: (path relative to `data/`, text).\n");
    src.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&data).unwrap_or(f);
        let rel: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        src.push_str(&format!("    ({:?}, include_str!({:?})),\n", rel.join("/"), f.display().to_string()));
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(&out, src).expect("write embedded.rs");
}
