//! Embeds every `messages/*.toml` file into the crate (see `src/lib.rs`).

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new("messages");
    println!("cargo:rerun-if-changed=messages");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read messages/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("[");
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let abs = std::fs::canonicalize(&p).expect("canonicalize message file");
        let name = p.file_name().and_then(|n| n.to_str()).expect("utf-8 file name");
        write!(out, "({name:?}, include_str!({:?})),", abs.display().to_string()).unwrap();
    }
    out.push(']');
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("messages.rs");
    std::fs::write(dest, out).expect("write messages.rs");
}
