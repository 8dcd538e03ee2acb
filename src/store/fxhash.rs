//! FxHash (rustc's hasher): a multiply and a rotate per word, for maps
//! keyed by the simulator's own data (the store's, the snapshot's, the
//! runtime's and the event recorder's maps), where SipHash's flooding
//! resistance buys nothing and costs most of a short key's lookup. Equal
//! hashes still compare the whole key.

use std::hash::{BuildHasherDefault, Hasher};

/// `HashMap<K, V, FxBuildHasher>`.
pub type FxBuildHasher = BuildHasherDefault<FxHasher>;

/// A `HashMap` keyed by the simulator's own names.
pub type FxMap<K, V> = std::collections::HashMap<K, V, FxBuildHasher>;

#[derive(Default)]
pub struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The 1 to 7 bytes of `rest` as a little-endian word, zero above them,
/// read with two overlapping loads instead of a copy into a zeroed buffer
/// (a `memcpy` call of variable length for every short key hashed).
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    let byte = |i: usize| rest.get(i).map_or(0, |&b| u64::from(b));
    let half = |at: usize| {
        rest.get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    match n {
        // The two halves overlap where n < 8; the bytes they share are the
        // same in both, so `|` keeps them.
        4..=7 => half(0) | half(n - 4) << (8 * (n - 4)),
        1..=3 => byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
        0 => 0,
        // Not a tail (`write` passes 1 to 7 bytes): the first eight.
        _ => rest
            .first_chunk::<8>()
            .map_or(0, |w| u64::from_le_bytes(*w)),
    }
}

/// The first eight bytes of `bytes` as a little-endian word, zero-padded
/// when shorter: a cheap content-based hash input for short names.
#[inline]
pub fn head_word(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => tail_word(bytes),
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            self.add(tail_word(rest) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_tail_word_is_the_bytes_zero_padded() {
        for n in 0..8usize {
            let rest: Vec<u8> = (0..n).map(|i| 0x81 + (i as u8) * 17).collect();
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&rest);
            assert_eq!(tail_word(&rest), u64::from_le_bytes(w), "{n}");
        }
    }

    #[test]
    fn the_head_word_is_the_first_eight_bytes_zero_padded() {
        for n in 0..12usize {
            let b: Vec<u8> = (0..n).map(|i| 0x61 + i as u8).collect();
            let mut w = [0u8; 8];
            let k = n.min(8);
            w[..k].copy_from_slice(&b[..k]);
            assert_eq!(head_word(&b), u64::from_le_bytes(w), "{n}");
        }
    }

    #[test]
    fn texts_that_differ_only_in_trailing_zero_bytes_or_length_hash_apart() {
        let h = |b: &[u8]| {
            let mut s = FxBuildHasher::default().build_hasher();
            s.write(b);
            s.finish()
        };
        let inputs: [&[u8]; 6] = [
            b"",
            b"a",
            b"a\0",
            b"a\0\0\0\0\0\0\0",
            b"abcdefgh",
            b"abcdefgh\0",
        ];
        for (i, a) in inputs.iter().enumerate() {
            for b in &inputs[i + 1..] {
                assert_ne!(h(a), h(b), "{a:?} vs {b:?}");
            }
        }
    }
}
