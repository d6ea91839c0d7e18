//! Benchmark driver for `scripts/bench-depot.sh`: open a depot, then dry-run
//! one host image against every image profile in it. Prints one JSON line.
//!
//! `cargo run --release -p esxup-depot --example bench_depot -- DEPOT HOST_VIB_LIST [SNAPSHOT_DIR]`
//!
//! With SNAPSHOT_DIR, parsed metadata snapshots are kept there (the second
//! run over the same depot loads them instead of parsing XML).
//!
//! Each dry-run decides every VIB and reports every problem ([`dry_run`]);
//! the per-VIB reason texts are rendered only with `ESXUP_BENCH_RENDER=1`
//! (then every transaction is rendered in full, as [`simulate`] returns it).

use esxup_depot::{dry_run, simulate, Depot, HostImage, OpenOptions, TxOptions};
use std::time::Instant;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 && args.len() != 4 {
        eprintln!("usage: bench_depot DEPOT HOST_VIB_LIST [SNAPSHOT_DIR]");
        return std::process::ExitCode::from(2);
    }
    let t0 = Instant::now();
    let opts = match args.get(3) {
        Some(dir) => OpenOptions { cache_dir: Some(dir.into()), snapshots: true, ..OpenOptions::default() },
        None => OpenOptions::default(),
    };
    let depot = match Depot::open_with(&args[1], &opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let t_open = t0.elapsed();
    let text = match std::fs::read_to_string(&args[2]) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: read {}: {e}", args[2]);
            return std::process::ExitCode::from(2);
        }
    };
    let host = match HostImage::from_vib_list(&text) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let render = std::env::var_os("ESXUP_BENCH_RENDER").is_some_and(|v| v == "1");
    let t1 = Instant::now();
    // One dry-run per profile, spread over the cores; each transaction is
    // summarised and dropped (holding 1,500 of them would dominate memory).
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let profiles = depot.profiles();
    let chunk = profiles.len().div_ceil(threads).max(1);
    let (failing, problems) = std::thread::scope(|s| {
        let hs: Vec<_> = profiles
            .chunks(chunk)
            .map(|part| {
                let (host, depot) = (&host, &depot);
                s.spawn(move || {
                    part.iter().fold((0usize, 0usize), |(f, p), prof| {
                        if render {
                            let tx = simulate(host, depot, prof, &TxOptions::default());
                            (f + usize::from(!tx.succeeds()), p + tx.problems.len())
                        } else {
                            let tx = dry_run(host, depot, prof, &TxOptions::default());
                            (f + usize::from(!tx.succeeds()), p + tx.problems.len())
                        }
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or((0, 0))).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let t_sim = t1.elapsed();
    println!(
        "{{\"vibs\": {}, \"profiles\": {}, \"open_s\": {:.3}, \"dry_runs_s\": {:.3}, \"total_s\": {:.3}, \"failing_profiles\": {}, \"problems\": {}, \"reasons_rendered\": {}}}",
        depot.vibs().len(),
        depot.profiles().len(),
        t_open.as_secs_f64(),
        t_sim.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        failing,
        problems,
        render
    );
    std::process::ExitCode::SUCCESS
}
