//! A fixed list of strings looked up by text: the packed form's tables of
//! field names and common values (`pack`), asked about every key and
//! string of every object the store packs.
//!
//! Open addressing over a power-of-two array at most a quarter full,
//! hashed from the length and the first and last eight bytes only (two
//! loads, a multiply), and compared by `key_eq`'s overlapping loads: a
//! general `HashMap` hashed every byte and then called `memcmp`, most of a
//! packed Event's cost.

use serde_json::map::key_eq;

pub(super) struct StrTable {
    /// Position in `strings` plus one per slot; 0 is empty.
    slots: Box<[u16]>,
    /// `slots.len() - 1`.
    mask: usize,
    /// How far a hash moves right to leave the slot bits.
    shift: u32,
    strings: &'static [&'static str],
}

/// A little-endian word of the `N` bytes at `at` (`N` ≤ 8), zero when they
/// are out of range.
#[inline]
fn load<const N: usize>(b: &[u8], at: usize) -> u64 {
    b.get(at..at + N)
        .and_then(|w| <[u8; N]>::try_from(w).ok())
        .map_or(0, |w| {
            let mut word = [0u8; 8];
            word[..N].copy_from_slice(&w);
            u64::from_le_bytes(word)
        })
}

/// The hash of `s`: its length and its first and last (up to) eight bytes.
/// Strings that share all three collide and are told apart by comparing.
#[inline]
fn hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    let (first, last) = match n {
        8.. => (load::<8>(b, 0), load::<8>(b, n - 8)),
        4..=7 => (load::<4>(b, 0), load::<4>(b, n - 4)),
        1..=3 => (
            u64::from(b[0]) | u64::from(b[n / 2]) << 8,
            u64::from(b[n - 1]),
        ),
        0 => (0, 0),
    };
    (first ^ last.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl StrTable {
    /// The table of `strings` (distinct, fewer than 16,384).
    pub(super) fn new(strings: &'static [&'static str]) -> Self {
        let size = (strings.len() * 4).next_power_of_two().max(16);
        let mask = size - 1;
        let shift = 64 - size.trailing_zeros();
        let mut slots = vec![0u16; size].into_boxed_slice();
        for (i, s) in strings.iter().enumerate() {
            let mut at = (hash(s) >> shift) as usize;
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = u16::try_from(i + 1).unwrap_or(u16::MAX);
        }
        Self {
            slots,
            mask,
            shift,
            strings,
        }
    }

    /// The position of `s` in the list.
    #[inline]
    pub(super) fn get(&self, s: &str) -> Option<usize> {
        let mut at = (hash(s) >> self.shift) as usize;
        loop {
            let i = usize::from(*self.slots.get(at)?);
            let candidate = self.strings.get(i.checked_sub(1)?)?;
            if key_eq(candidate, s) {
                return Some(i - 1);
            }
            at = (at + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &[&str] = &[
        "",
        "a",
        "ab",
        "abc",
        "abcd",
        "name",
        "names",
        "namespace",
        "metadata",
        "resourceVersion",
        "a-string-much-longer-than-sixteen-bytes",
        "a-string-much-longer-than-sixteen-bytez",
    ];

    #[test]
    fn every_listed_string_finds_its_position() {
        let t = StrTable::new(WORDS);
        for (i, w) in WORDS.iter().enumerate() {
            assert_eq!(t.get(w), Some(i), "{w:?}");
        }
    }

    #[test]
    fn strings_not_listed_are_not_found() {
        let t = StrTable::new(WORDS);
        for w in [
            "b",
            "ba",
            "abd",
            "nam",
            "namespaces",
            "Name",
            "a-string-much-longer-than-sixteen-bytey",
            "a-string-much-lenger-than-sixteen-bytes",
        ] {
            assert_eq!(t.get(w), None, "{w:?}");
        }
    }

    #[test]
    fn strings_alike_at_both_ends_collide_and_are_still_told_apart() {
        static SAME_ENDS: &[&str] = &[
            "abcdefgh-1-abcdefgh",
            "abcdefgh-2-abcdefgh",
            "abcdefgh-3-abcdefgh",
        ];
        assert_eq!(hash(SAME_ENDS[0]), hash(SAME_ENDS[1]));
        let t = StrTable::new(SAME_ENDS);
        for (i, w) in SAME_ENDS.iter().enumerate() {
            assert_eq!(t.get(w), Some(i));
        }
        assert_eq!(t.get("abcdefgh-4-abcdefgh"), None);
    }
}
