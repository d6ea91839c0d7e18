//! Temporary regression oracle (deleted before hand-off).
use esxup_depot::*;
use std::io::Write;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let d = Depot::open(&a[1]).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&a[2]).unwrap());
    let mode = a.get(3).map(String::as_str).unwrap_or("all");
    if mode != "sim" {
        writeln!(out, "{}", serde_json::to_string(d.vibs()).unwrap()).unwrap();
        writeln!(out, "{}", serde_json::to_string(d.bulletins()).unwrap()).unwrap();
        writeln!(out, "{}", serde_json::to_string(d.components()).unwrap()).unwrap();
        writeln!(out, "{}", serde_json::to_string(d.profiles()).unwrap()).unwrap();
        writeln!(out, "{}", serde_json::to_string(d.warnings()).unwrap()).unwrap();
    }
    for hf in ["6.7-P06-like.viblist", "6.7-P01.viblist"] {
        let t = std::fs::read_to_string(format!("{}/hosts/{hf}", a[1])).unwrap();
        let h = HostImage::from_vib_list(&t).unwrap();
        for o in [
            TxOptions::default(),
            TxOptions { allow_downgrades: true, ..Default::default() },
            TxOptions { mode: Mode::Install, ..Default::default() },
            TxOptions { mode: Mode::Install, ok_to_remove: true, ..Default::default() },
        ] {
            for p in d.profiles() {
                writeln!(out, "{}", serde_json::to_string(&simulate(&h, &d, p, &o)).unwrap()).unwrap();
            }
        }
    }
    // Profiles as hosts, against a few profiles.
    let ps = d.profiles();
    for hp in ps.iter().step_by(97) {
        let h = HostImage::from_profile(&d, hp);
        for p in ps.iter().step_by(13) {
            writeln!(out, "{}", serde_json::to_string(&simulate(&h, &d, p, &TxOptions::default())).unwrap()).unwrap();
            writeln!(out, "{}", serde_json::to_string(&simulate(&h, &d, p, &TxOptions { mode: Mode::Install, ..Default::default() })).unwrap()).unwrap();
        }
    }
}
