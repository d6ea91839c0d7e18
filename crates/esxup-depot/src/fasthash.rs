//! A small non-cryptographic hasher (FNV-1a over 8-byte words) for the
//! depot's internal maps keyed by VIB ids and names: the keys are not
//! attacker-chosen in a way that matters (a hostile depot can only slow its
//! own loading), and SipHash showed up in profiles of the full-size depot.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
        // Final avalanche so that hashbrown's top bits are well mixed.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

/// A HashMap with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

fn hash_str(s: &str) -> u64 {
    let mut h = FastHasher::default();
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
}
