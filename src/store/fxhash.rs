//! FxHash (rustc's hasher): a multiply and a rotate per word, for maps
//! keyed by the simulator's own data (the event recorder's caches, the
//! packed form's tables), where SipHash's flooding resistance buys nothing
//! and costs most of a short key's lookup. Equal hashes still compare the
//! whole key.

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

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
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
