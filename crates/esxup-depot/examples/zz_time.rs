//! Temporary timing probe (deleted before hand-off).
use esxup_depot::*;
use std::time::Instant;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mut best_open = f64::MAX;
    let mut best_sim = f64::MAX;
    let mut best_drop = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let d = Depot::open(&a[1]).unwrap();
        best_open = best_open.min(t.elapsed().as_secs_f64());
        let h = HostImage::from_vib_list(&std::fs::read_to_string(&a[2]).unwrap()).unwrap();
        let t = Instant::now();
        let mut n = 0;
        for p in d.profiles() {
            let tx = simulate(&h, &d, p, &TxOptions::default());
            n += tx.problems.len();
        }
        best_sim = best_sim.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        drop(d);
        best_drop = best_drop.min(t.elapsed().as_secs_f64());
        assert_eq!(n, 3504);
    }
    println!("open {best_open:.3} (2 threads), sim {best_sim:.3} (1 thread), drop {best_drop:.3}");
}
