//! Hasher benchmark for `scripts/bench-parsers.sh` (issue 14, "Library
//! parsers"): the hash tables of `src/fasthash.rs`, on the real key set of a
//! depot, with esxup's FNV-style `FastHasher` (and `name_hash`) against
//! rustc-hash's FxHasher, foldhash and std's SipHash-1-3.
//!
//! `cargo run --release -p esxup-depot --example hash_bench -- DEPOT --write-keys KEYS`
//! `cargo run --release -p esxup-depot --example hash_bench -- KEYS [--workload W] [--hasher H] [--runs N] [--reps R]`
//!
//! `--write-keys` opens the depot once (not timed) and writes its keys: the
//! VIB ids and names, and per image profile its VIB ids, the names a
//! dry-run interns (VIB names and provides) and the names it looks up
//! (depends, conflicts, replaces). Workloads, as `src/depot.rs` and
//! `src/simulate.rs` use the tables:
//!   ids     `StrIndex` (open addressing, u32 slots) over every VIB id,
//!           built twice (`listed`, `vib_index`), then every profile's VIB
//!           ids looked up twice (the missing-VIB check, `Depot::vib` in the
//!           dry-runs)
//!   names   `FastMap<&str, u32>` `entry()` per VIB name (`group_of`), a
//!           `StrIndex` over the names, every VIB's name looked up once
//!           (`vibs_named`)
//!   dryrun  `NameIndex` per profile: intern its names, look up the
//!           constraint names (`NameLists` of a dry-run)
//! Hashers: fnv (a copy of `fasthash::FastHasher`; for dryrun the crate's
//! `name_hash`, copied, and FastHasher as `fnv-words`), fx
//! (`rustc_hash::FxBuildHasher`), foldhash (`foldhash::fast::FixedState`),
//! foldhash-q (`foldhash::quality::FixedState`), sip (`std::hash::
//! DefaultHasher`, SipHash-1-3). The tables are the crate's, copied; only
//! the hash function changes, so this measures the hasher in its real use.
//! One JSON line per (workload, hasher): best/median wall time of `--runs`
//! (default 9) runs of `--reps` (default 10) repetitions, ns per operation
//! (an insert or a lookup). Under callgrind use `--runs 1 --reps 1` and
//! `--collect-atstart=no --toggle-collect=hash_bench::measured
//! --dump-after=hash_bench::measured` (exact name: a wildcard also matches
//! the closures inside `measured` and toggles collection off in them).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::hint::black_box;
use std::time::Instant;

// ---------------------------------------------------------------------------
// Copies of src/fasthash.rs (the module is private to the crate).

#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(23);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

const EMPTY: u32 = u32::MAX;

#[derive(Default)]
struct StrIndex {
    slots: Vec<u32>,
    mask: usize,
}

impl StrIndex {
    #[inline(always)]
    fn build<'a>(n: usize, key: impl Fn(usize) -> &'a str, hash: impl Fn(&str) -> u64) -> StrIndex {
        let cap = (n * 2).next_power_of_two().max(16);
        let mut t = StrIndex { slots: vec![EMPTY; cap], mask: cap - 1 };
        for i in 0..n {
            let k = key(i);
            let mut s = hash(k) as usize & t.mask;
            loop {
                let v = t.slots[s];
                if v == EMPTY {
                    t.slots[s] = i as u32;
                    break;
                }
                if key(v as usize) == k {
                    break;
                }
                s = (s + 1) & t.mask;
            }
        }
        t
    }

    #[inline(always)]
    fn get<'a>(&self, k: &str, key: impl Fn(usize) -> &'a str, hash: impl Fn(&str) -> u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut s = hash(k) as usize & self.mask;
        loop {
            let v = self.slots[s];
            if v == EMPTY {
                return None;
            }
            if key(v as usize) == k {
                return Some(v as usize);
            }
            s = (s + 1) & self.mask;
        }
    }
}

#[inline]
fn name_hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    let word = |i: usize| b[i..i + 8].try_into().map_or(0, u64::from_le_bytes);
    let (x, y) = if n >= 8 {
        (word(0) ^ word(n / 2 - 4).rotate_left(29), word(n - 8))
    } else if n >= 4 {
        let half = |i: usize| u64::from(b[i..i + 4].try_into().map_or(0, u32::from_le_bytes));
        (half(0), half(n - 4))
    } else if n > 0 {
        (u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16, 0)
    } else {
        (0, 0)
    };
    let h = (x ^ (n as u64).rotate_left(56)).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ y;
    let h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 32)
}

#[inline]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| s[i..i + 8].try_into().map_or(0, u64::from_le_bytes);
    if (8..=16).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else {
        a == b
    }
}

struct NameIndex<'a, H: Fn(&str) -> u64> {
    slots: Vec<u32>,
    mask: usize,
    names: Vec<(u64, &'a str)>,
    hash: H,
}

impl<'a, H: Fn(&str) -> u64> NameIndex<'a, H> {
    fn with_capacity(n: usize, hash: H) -> Self {
        let cap = (n * 2).next_power_of_two().max(16);
        NameIndex { slots: vec![0; cap], mask: cap - 1, names: Vec::with_capacity(n), hash }
    }
    #[inline(always)]
    fn find(&self, h: u64, name: &str) -> (usize, Option<u32>) {
        let mut s = h as usize & self.mask;
        loop {
            let v = self.slots[s];
            if v == 0 {
                return (s, None);
            }
            let (kh, k) = self.names[(v - 1) as usize];
            if kh == h && same_name(k, name) {
                return (s, Some(v - 1));
            }
            s = (s + 1) & self.mask;
        }
    }
    #[inline(always)]
    fn intern(&mut self, name: &'a str) -> u32 {
        let h = (self.hash)(name);
        match self.find(h, name) {
            (_, Some(id)) => id,
            (s, None) => {
                if (self.names.len() + 1) * 2 > self.slots.len() {
                    self.grow();
                    return self.intern(name);
                }
                let id = self.names.len() as u32;
                self.names.push((h, name));
                self.slots[s] = id + 1;
                id
            }
        }
    }
    fn grow(&mut self) {
        let cap = self.slots.len() * 2;
        self.slots = vec![0; cap];
        self.mask = cap - 1;
        for (i, &(h, _)) in self.names.iter().enumerate() {
            let mut s = h as usize & self.mask;
            while self.slots[s] != 0 {
                s = (s + 1) & self.mask;
            }
            self.slots[s] = i as u32 + 1;
        }
    }
    #[inline(always)]
    fn get(&self, name: &str) -> Option<u32> {
        self.find((self.hash)(name), name).1
    }
}

// ---------------------------------------------------------------------------

#[derive(Default)]
struct Profile {
    ids: Vec<String>,
    interned: Vec<String>,
    looked_up: Vec<String>,
}

#[derive(Default)]
struct Keys {
    ids: Vec<String>,
    names: Vec<String>,
    profiles: Vec<Profile>,
}

fn write_keys(depot: &str, out: &str) -> Result<(), String> {
    use std::io::Write;
    let d = esxup_depot::Depot::open(depot).map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?);
    let mut put = |tag: char, s: &str| writeln!(w, "{tag} {s}").map_err(|e| e.to_string());
    for v in d.vibs() {
        put('I', &v.id)?;
        put('N', &v.name)?;
    }
    for p in d.profiles() {
        put('P', &p.name)?;
        for id in &p.vib_ids {
            put('p', id)?;
            if let Some(v) = d.vib(id) {
                put('i', &v.name)?;
                for pr in &v.provides {
                    put('i', &pr.name)?;
                }
                for c in v.depends.iter().chain(&v.conflicts).chain(&v.replaces) {
                    put('l', &c.name)?;
                }
            }
        }
    }
    Ok(())
}

fn read_keys(path: &str) -> Result<Keys, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut k = Keys::default();
    for line in text.lines() {
        let (tag, s) = line.split_at(1);
        let s = s.strip_prefix(' ').unwrap_or(s).to_string();
        match tag {
            "I" => k.ids.push(s),
            "N" => k.names.push(s),
            "P" => k.profiles.push(Profile::default()),
            "p" => k.profiles.last_mut().ok_or("p before P")?.ids.push(s),
            "i" => k.profiles.last_mut().ok_or("i before P")?.interned.push(s),
            "l" => k.profiles.last_mut().ok_or("l before P")?.looked_up.push(s),
            _ => return Err(format!("{path}: bad line {line:?}")),
        }
    }
    Ok(k)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Ids,
    Names,
    DryRun,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum H {
    Fnv,
    FnvWords,
    Fx,
    Fold,
    FoldQ,
    Sip,
}

const HASHERS: [(&str, H); 6] = [
    ("fnv", H::Fnv),
    ("fnv-words", H::FnvWords),
    ("fx", H::Fx),
    ("foldhash", H::Fold),
    ("foldhash-q", H::FoldQ),
    ("sip", H::Sip),
];

/// Hashes the bytes of `s` (as `fasthash::hash_str` does: no length or
/// terminator written).
#[inline(always)]
fn bytes_hash<S: BuildHasher>(b: &S, s: &str) -> u64 {
    let mut h = b.build_hasher();
    h.write(s.as_bytes());
    h.finish()
}

/// Operations done (inserts + lookups) and a checksum.
fn ids_work(k: &Keys, hash: impl Fn(&str) -> u64 + Copy) -> (usize, usize) {
    let key = |i: usize| k.ids[i].as_str();
    let mut ops = 0;
    let mut found = 0;
    for _ in 0..2 {
        let t = StrIndex::build(k.ids.len(), key, hash);
        ops += k.ids.len();
        for p in &k.profiles {
            for id in &p.ids {
                found += usize::from(t.get(id, key, hash).is_some());
            }
            ops += p.ids.len();
        }
        black_box(&t);
    }
    (ops, found)
}

fn names_work<S: BuildHasher + Default>(k: &Keys, hash: impl Fn(&str) -> u64 + Copy) -> (usize, usize) {
    let mut group_of: HashMap<&str, u32, S> = HashMap::default();
    let mut firsts: Vec<u32> = Vec::new();
    for (i, n) in k.names.iter().enumerate() {
        group_of.entry(n.as_str()).or_insert_with(|| {
            firsts.push(i as u32);
            (firsts.len() - 1) as u32
        });
    }
    let key = |g: usize| k.names[firsts[g] as usize].as_str();
    let t = StrIndex::build(firsts.len(), key, hash);
    let mut found = 0;
    for n in &k.names {
        found += t.get(n, key, hash).unwrap_or(0);
    }
    (k.names.len() + firsts.len() + k.names.len(), found + group_of.len())
}

fn dryrun_work(k: &Keys, hash: impl Fn(&str) -> u64 + Copy) -> (usize, usize) {
    let mut ops = 0;
    let mut sum = 0usize;
    for p in &k.profiles {
        let mut idx = NameIndex::with_capacity(p.ids.len(), hash);
        for n in &p.interned {
            sum += idx.intern(n) as usize;
        }
        for n in &p.looked_up {
            sum += idx.get(n).map_or(0, |x| x as usize + 1);
        }
        ops += p.interned.len() + p.looked_up.len();
    }
    (ops, sum)
}

type Fx = rustc_hash::FxBuildHasher;
type Fold = foldhash::fast::FixedState;
type FoldQ = foldhash::quality::FixedState;
type Sip = BuildHasherDefault<std::hash::DefaultHasher>;
type Fnv = BuildHasherDefault<FastHasher>;

fn run_with<S: BuildHasher + Default>(
    w: Workload,
    k: &Keys,
    hash: impl Fn(&str) -> u64 + Copy,
) -> (usize, usize) {
    match w {
        Workload::Ids => ids_work(k, hash),
        Workload::Names => names_work::<S>(k, hash),
        Workload::DryRun => dryrun_work(k, hash),
    }
}

/// `reps` repetitions of (w, h). Not inlined: callgrind's
/// `--toggle-collect=hash_bench::measured` counts only this.
#[inline(never)]
fn measured(w: Workload, h: H, k: &Keys, reps: usize) -> (usize, usize) {
    let (fx, fold, foldq, sip, fnv) =
        (Fx::default(), Fold::default(), FoldQ::default(), Sip::default(), Fnv::default());
    let mut r: (usize, usize) = (0, 0);
    for _ in 0..reps {
        let x = match (h, w) {
            // For the dry-run tables the crate's hash is name_hash.
            (H::Fnv, Workload::DryRun) => run_with::<Fnv>(w, k, name_hash),
            (H::Fnv | H::FnvWords, _) => run_with::<Fnv>(w, k, |s| bytes_hash(&fnv, s)),
            (H::Fx, _) => run_with::<Fx>(w, k, |s| bytes_hash(&fx, s)),
            (H::Fold, _) => run_with::<Fold>(w, k, |s| bytes_hash(&fold, s)),
            (H::FoldQ, _) => run_with::<FoldQ>(w, k, |s| bytes_hash(&foldq, s)),
            (H::Sip, _) => run_with::<Sip>(w, k, |s| bytes_hash(&sip, s)),
        };
        r = (r.0 + x.0, r.1.wrapping_add(x.1));
    }
    r
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(first) = args.first().filter(|a| !a.starts_with("--")) else {
        eprintln!("usage: hash_bench DEPOT --write-keys KEYS | hash_bench KEYS [--workload W] [--hasher H] [--runs N] [--reps R]");
        return std::process::ExitCode::from(2);
    };
    if let Some(out) = opt("--write-keys") {
        return match write_keys(first, &out) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::from(2)
            }
        };
    }
    let keys = match read_keys(first) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runs: usize = opt("--runs").and_then(|s| s.parse().ok()).unwrap_or(9).max(1);
    let reps: usize = opt("--reps").and_then(|s| s.parse().ok()).unwrap_or(10).max(1);
    let workloads: Vec<(&str, Workload)> =
        [("ids", Workload::Ids), ("names", Workload::Names), ("dryrun", Workload::DryRun)]
            .into_iter()
            .filter(|(n, _)| opt("--workload").is_none_or(|w| w.split(',').any(|x| x == *n)))
            .collect();
    let hashers: Vec<(&str, H)> = HASHERS
        .into_iter()
        .filter(|(n, _)| opt("--hasher").is_none_or(|w| w.split(',').any(|x| x == *n)))
        .collect();
    let bytes = |v: &[String]| v.iter().map(String::len).sum::<usize>() as f64 / v.len().max(1) as f64;
    eprintln!(
        "keys: {} VIB ids (mean {:.1} bytes), {} names (mean {:.1} bytes), {} profiles",
        keys.ids.len(),
        bytes(&keys.ids),
        keys.names.len(),
        bytes(&keys.names),
        keys.profiles.len()
    );
    for &(wn, w) in &workloads {
        for &(hn, h) in &hashers {
            if hn == "fnv-words" && w != Workload::DryRun {
                continue; // the same as fnv there
            }
            let mut times = Vec::new();
            let mut res = (0, 0);
            for _ in 0..runs {
                let t = Instant::now();
                res = measured(w, h, &keys, reps);
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            let (best, median) = (times[0], times[times.len() / 2]);
            println!(
                "{{\"workload\": \"{wn}\", \"hasher\": \"{hn}\", \"ops\": {}, \"runs\": {runs}, \"reps\": {reps}, \"best_s\": {best:.5}, \"median_s\": {median:.5}, \"ns_per_op\": {:.2}, \"check\": {}}}",
                res.0,
                best * 1e9 / res.0.max(1) as f64,
                res.1
            );
        }
    }
    std::process::ExitCode::SUCCESS
}
