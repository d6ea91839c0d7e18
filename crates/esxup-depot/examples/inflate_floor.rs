//! Benchmark floor for `scripts/bench-depot.sh`: how long merely inflating
//! the metadata members of a depot takes on this machine, with nothing
//! parsed. Any cold reading of the depot (esxup's, esxcli's, anyone's) pays
//! at least this, so it bounds how fast a cold `esxup depot` job can be.
//!
//! `cargo run --release -p esxup-depot --example inflate_floor -- DEPOT_DIR`
//!
//! Reads every `*.zip` under DEPOT_DIR (the synthetic depot keeps its
//! metadata zips under `vmw/metadata/`), then inflates the same members
//! esxup parses (`vibs/`, `bulletins/`, `profiles/` XML; `vmware.xml` is
//! skipped, as esxup and the Python side of the benchmark skip it) with
//! libdeflate, the inflater esxup uses, on every core. Prints one JSON line.

use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn zips_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            zips_under(&p, out)?;
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("zip")) {
            out.push(p);
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: inflate_floor DEPOT_DIR");
        return std::process::ExitCode::from(2);
    };
    let t0 = Instant::now();
    let mut paths = Vec::new();
    if let Err(e) = zips_under(Path::new(&dir), &mut paths) {
        eprintln!("error: read {dir}: {e}");
        return std::process::ExitCode::from(2);
    }
    paths.sort();
    let mut zips = Vec::new();
    for p in &paths {
        match std::fs::read(p) {
            Ok(b) => zips.push(b),
            Err(e) => {
                eprintln!("error: read {}: {e}", p.display());
                return std::process::ExitCode::from(2);
            }
        }
    }
    // (zip, member offset of the compressed data, compressed size, size)
    let mut members: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (z, bytes) in zips.iter().enumerate() {
        let mut archive = match zip::ZipArchive::new(Cursor::new(&bytes[..])) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {}: {e}", paths[z].display());
                return std::process::ExitCode::from(2);
            }
        };
        for i in 0..archive.len() {
            let Ok(f) = archive.by_index_raw(i) else { continue };
            let Ok(name) = f.name() else { continue };
            let wanted = name.ends_with(".xml")
                && name != "vmware.xml"
                && f.compression() == zip::CompressionMethod::Deflated;
            if let (true, Some(start)) = (wanted, f.data_start()) {
                members.push((z, start as usize, f.compressed_size() as usize, f.size() as usize));
            }
        }
    }
    let t_read = t0.elapsed();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let next = AtomicUsize::new(0);
    let t1 = Instant::now();
    let total: usize = std::thread::scope(|s| {
        let work = || {
            let mut d = libdeflater::Decompressor::new();
            let mut out = Vec::new();
            let mut n = 0usize;
            loop {
                // Chunks of 64 members, handed out as threads come free.
                let c = next.fetch_add(64, Ordering::Relaxed);
                if c >= members.len() {
                    break;
                }
                for &(z, start, csize, size) in &members[c..(c + 64).min(members.len())] {
                    out.resize(size, 0);
                    match d.deflate_decompress(&zips[z][start..start + csize], &mut out) {
                        Ok(k) => n += k,
                        Err(e) => eprintln!("warning: {}: member at {start}: {e:?}", paths[z].display()),
                    }
                }
            }
            n
        };
        let hs: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mine = work();
        mine + hs.into_iter().map(|h| h.join().unwrap_or(0)).sum::<usize>()
    });
    let t_inflate = t1.elapsed();
    println!(
        "{{\"zips\": {}, \"members\": {}, \"inflated_bytes\": {}, \"threads\": {threads}, \"read_s\": {:.3}, \"inflate_s\": {:.3}, \"total_s\": {:.3}}}",
        zips.len(),
        members.len(),
        total,
        t_read.as_secs_f64(),
        t_inflate.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    std::process::ExitCode::SUCCESS
}
