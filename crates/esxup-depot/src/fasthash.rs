//! The depot's internal hash maps keyed by VIB ids and names, and the
//! open-addressing string tables ([`StrIndex`], and [`NameIndex`] for the
//! per-dry-run name tables), all hashed with rustc-hash's FxHasher. The keys
//! are not attacker-chosen in a way that matters (a hostile depot can only
//! slow its own loading), and SipHash showed up in profiles of the
//! full-size depot.
//!
//! Why FxHasher and no hasher of our own (issue 14 bench,
//! `scripts/bench-parsers.sh`, `examples/hash_bench.rs`; 2026-12-08, 2-core
//! AMD EPYC VM, callgrind instructions per insert or lookup on the
//! full-size synthetic depot's keys, these tables with only the hash
//! changed): the hand-written FNV-1a word hasher this module had cost 127
//! instructions per VIB id (53 bytes) against Fx's 99, 133 against 104 per
//! VIB name (wall 6.2 vs 4.5 ns), and its constant-time `name_hash` 90
//! against 86 in the dry-run tables (wall equal within noise); foldhash
//! was between them, SipHash about twice as dear. The tables stay: they
//! are indexes without key copies, not hashers.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// A HashMap with FxHasher.
pub type FastMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;

/// The hash of a key, as the tables below use it (the form benchmarked:
/// the bytes alone, no terminator).
#[inline]
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(s.as_bytes());
    h.finish()
}

const EMPTY: u32 = u32::MAX;

/// An index from a string key to positions in a slice, without copying the
/// keys: open addressing over `u32` slots; the caller supplies the key of a
/// position. The first position inserted for a key wins.
#[derive(Default)]
pub struct StrIndex {
    slots: Vec<u32>,
    mask: usize,
}

impl StrIndex {
    /// Indexes positions `0..n`, whose keys `key` gives.
    pub fn build<'a>(n: usize, key: impl Fn(usize) -> &'a str) -> StrIndex {
        let cap = (n * 2).next_power_of_two().max(16);
        let mut t = StrIndex { slots: vec![EMPTY; cap], mask: cap - 1 };
        for i in 0..n {
            let k = key(i);
            let mut s = hash_str(k) as usize & t.mask;
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

    /// The position of `k`, if indexed.
    pub fn get<'a>(&self, k: &str, key: impl Fn(usize) -> &'a str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut s = hash_str(k) as usize & self.mask;
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

/// `a == b` for names: most are under 16 bytes, where two overlapping
/// word loads per side beat a call to `memcmp`.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
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

/// Names -> dense ids `0, 1, ...`, for the few hundred names of one dry-run:
/// open addressing over `u32` slots (no per-name allocation), the hash kept
/// beside each name so that most mismatches cost no string comparison.
pub(crate) struct NameIndex<'a> {
    /// Dense id + 1; 0 = empty.
    slots: Vec<u32>,
    mask: usize,
    names: Vec<(u64, &'a str)>,
}

impl<'a> NameIndex<'a> {
    /// An index for up to `n` names.
    pub(crate) fn with_capacity(n: usize) -> NameIndex<'a> {
        let cap = (n * 2).next_power_of_two().max(16);
        NameIndex { slots: vec![0; cap], mask: cap - 1, names: Vec::with_capacity(n) }
    }

    /// The slot holding `name`, or the empty slot where it would go.
    pub(crate) fn find(&self, h: u64, name: &str) -> (usize, Option<u32>) {
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

    /// The id of `name`, added if new.
    pub(crate) fn intern(&mut self, name: &'a str) -> u32 {
        let h = hash_str(name);
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

    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.find(hash_str(name), name).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_index_finds_first_position_of_each_key() {
        let keys = ["b", "a", "c", "a", "", "VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794"];
        let t = StrIndex::build(keys.len(), |i| keys[i]);
        let get = |k: &str| t.get(k, |i| keys[i]);
        assert_eq!(get("a"), Some(1));
        assert_eq!(get("b"), Some(0));
        assert_eq!(get(""), Some(4));
        assert_eq!(get("VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794"), Some(5));
        assert_eq!(get("d"), None);
        assert_eq!(StrIndex::default().get("a", |_| ""), None);
    }

    #[test]
    fn name_index_interns_and_finds_names() {
        let names: Vec<String> = (0..300)
            .map(|i| match i % 4 {
                0 => format!("vmkapi_2_{i}_0_0"),
                1 => format!("n{i}"),
                2 => format!("esx-base-with-a-rather-long-name-{i}"),
                _ => "x".repeat(i % 20),
            })
            .collect();
        let mut idx = NameIndex::with_capacity(4);
        let ids: Vec<u32> = names.iter().map(|n| idx.intern(n)).collect();
        for (n, &id) in names.iter().zip(&ids) {
            assert_eq!(idx.get(n), Some(id), "{n}");
            assert_eq!(idx.names[id as usize].1, n.as_str());
            assert_eq!(names.iter().position(|m| m == n).map(|p| ids[p]), Some(id));
        }
        assert_eq!(idx.get("vmkapi_2_1_0_0"), None);
        assert_eq!(idx.get("esx-base-with-a-rather-long-name-3"), None);
        for (a, b) in [("abcdefgh", "abcdefgi"), ("abcdefghijkl", "abcdXfghijkl"), ("", ""), ("ab", "ab")] {
            assert_eq!(same_name(a, b), a == b, "{a} {b}");
        }
    }
}
