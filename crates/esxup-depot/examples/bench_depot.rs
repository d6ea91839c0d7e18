//! Benchmark driver for `scripts/bench-depot.sh`: open a depot, then dry-run
//! one host image against every image profile in it. Prints one JSON line.
//!
//! `cargo run --release -p esxup-depot --example bench_depot -- DEPOT HOST_VIB_LIST`

use esxup_depot::{simulate, Depot, HostImage, TxOptions};
use std::time::Instant;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: bench_depot DEPOT HOST_VIB_LIST");
        return std::process::ExitCode::from(2);
    }
    let t0 = Instant::now();
    let depot = match Depot::open(&args[1]) {
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
    let t1 = Instant::now();
    let mut failing = 0usize;
    let mut problems = 0usize;
    for p in depot.profiles() {
        let tx = simulate(&host, &depot, p, &TxOptions::default());
        if !tx.succeeds() {
            failing += 1;
        }
        problems += tx.problems.len();
    }
    let t_sim = t1.elapsed();
    println!(
        "{{\"vibs\": {}, \"profiles\": {}, \"open_s\": {:.3}, \"dry_runs_s\": {:.3}, \"total_s\": {:.3}, \"failing_profiles\": {}, \"problems\": {}}}",
        depot.vibs().len(),
        depot.profiles().len(),
        t_open.as_secs_f64(),
        t_sim.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        failing,
        problems
    );
    std::process::ExitCode::SUCCESS
}
