//! kdrill's patch: a map kept as a vector of entries sorted by key.
//!
//! It stands in for `BTreeMap` behind `serde_json::Map`, with the same
//! ordering (keys in `Ord` order), so every `Value` serializes exactly as
//! before. A Kubernetes object is a tree of small maps (metadata, labels,
//! resources, each condition and port); a `BTreeMap` spends a whole node
//! (over 600 bytes for `String` to `Value`) on each of them, where a sorted
//! vector spends 56 bytes per entry. Lookups are a binary search; inserts
//! in key order (as parsed JSON from Kubernetes mostly is) append.

use alloc::vec::{self, Vec};
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::slice;

/// A map of keys to values held as a vector sorted by key.
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
    /// While the map has at most `SCAN` entries: the [`Tagged::tag`] of
    /// entry `i`'s key in bits `4i..4i + 4`, and 0xf (no key's tag) past
    /// the last entry. A lookup compares the key it looks for only with
    /// the entries whose tag matches, found in this word, instead of
    /// reading every entry on the way (each entry is 56 bytes: nearly a
    /// cache line apiece, and cold in a big cluster). Meaningless (and not
    /// read) while the map is larger.
    tags: u64,
}

/// A key's tag, 0 to 14: its length, first and last bytes, mixed. Keys
/// of a Kubernetes object's map mostly differ in one of those. A lookup of
/// a literal key works its tag out while compiling.
pub trait Tagged {
    fn tag(&self) -> u64;
}

#[inline]
fn str_tag(s: &str) -> u64 {
    let b = s.as_bytes();
    let (first, last) = match (b.first(), b.last()) {
        (Some(f), Some(l)) => (u64::from(*f), u64::from(*l)),
        _ => (0, 0),
    };
    (b.len() as u64 + first * 3 + last * 5) % 15
}

/// The tags of a map without entries: every nibble 0xf.
const NO_TAGS: u64 = u64::MAX;

impl Tagged for alloc::string::String {
    #[inline]
    fn tag(&self) -> u64 {
        str_tag(self)
    }
}

/// Every nibble set to 1.
const NIBBLE_ONES: u64 = 0x1111_1111_1111_1111;

/// The tags word with `tag` put in as entry `i`, the entries from `i` on
/// moving one up (the last nibble, past the entries, drops out).
#[inline]
fn tags_inserted(tags: u64, i: usize, tag: u64) -> u64 {
    let low = tags & low_nibbles(i);
    let high = (tags & !low_nibbles(i)) << 4;
    low | (tag << (4 * i)) | high
}

/// The tags word without entry `i`, the entries after it moving down and
/// an unused nibble coming in at the top.
#[inline]
fn tags_removed(tags: u64, i: usize) -> u64 {
    let low = tags & low_nibbles(i);
    let high = tags.checked_shr(4 * (i as u32 + 1)).unwrap_or(0) << (4 * i);
    // `high` reaches nibble 14 at most: the top one is free.
    low | high | (0xf << 60)
}

/// The bits of the first `n` nibbles (n at most 16).
#[inline]
fn low_nibbles(n: usize) -> u64 {
    1u64.checked_shl(4 * n as u32).map_or(u64::MAX, |b| b - 1)
}

/// The tags of `entries` (`NO_TAGS` for more than `SCAN`).
fn fresh_tags<K: Tagged, V>(entries: &[(K, V)]) -> u64 {
    let mut tags = NO_TAGS;
    if entries.len() <= SCAN {
        for (i, (k, _)) in entries.iter().enumerate() {
            tags = (tags & !(0xf << (4 * i))) | (k.tag() << (4 * i));
        }
    }
    tags
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
            tags: NO_TAGS,
        }
    }
}

impl<K: Clone, V: Clone> Clone for VecMap<K, V> {
    fn clone(&self) -> Self {
        VecMap {
            entries: self.entries.clone(),
            tags: self.tags,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
        self.tags = source.tags;
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for VecMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<K: Hash, V: Hash> Hash for VecMap<K, V> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As BTreeMap hashes: the length, then each entry in order.
        state.write_usize(self.entries.len());
        for (k, v) in &self.entries {
            k.hash(state);
            v.hash(state);
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// Maps up to this many entries are scanned by `get` and `get_mut` instead
/// of searched (a Pod's `spec` has about 14 keys).
const SCAN: usize = 16;

impl<K: Tagged, V> VecMap<K, V> {
    /// A map of `entries`, already in key order and without duplicates.
    fn of_sorted(entries: Vec<(K, V)>) -> Self {
        let mut map = VecMap {
            entries,
            tags: NO_TAGS,
        };
        map.retag();
        map
    }

    /// The tags worked out afresh (after a change of many entries).
    fn retag(&mut self) {
        self.tags = fresh_tags(&self.entries);
    }

    /// Keeps the tags after an entry was put in at `i`.
    #[inline]
    fn tag_inserted(&mut self, i: usize) {
        if self.entries.len() <= SCAN {
            self.tags = tags_inserted(self.tags, i, self.entries[i].0.tag());
        }
        self.check_tags();
    }

    /// Keeps the tags after the entry at `i` was taken out.
    #[inline]
    fn tag_removed(&mut self, i: usize) {
        let len = self.entries.len();
        if len == SCAN {
            // The map was too large to keep tags until now.
            self.retag();
        } else if len < SCAN {
            self.tags = tags_removed(self.tags, i);
        }
        self.check_tags();
    }

    /// Debug builds check the tags against the keys after every change.
    #[inline]
    fn check_tags(&self) {
        #[cfg(debug_assertions)]
        if self.entries.len() <= SCAN {
            debug_assert_eq!(
                self.tags,
                fresh_tags(&self.entries),
                "tags out of step with the keys"
            );
        }
    }
}

impl<K: Ord + Tagged, V> VecMap<K, V> {
    pub fn with_capacity(capacity: usize) -> Self {
        VecMap {
            entries: Vec::with_capacity(capacity),
            tags: NO_TAGS,
        }
    }

    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.find_by(|k| k.borrow().cmp(key))
    }

    /// Where the key that `order` places (it orders a stored key against
    /// it) is, or would go.
    #[inline]
    fn find_by(&self, order: impl Fn(&K) -> Ordering) -> Result<usize, usize> {
        // Parsed objects arrive in key order: check the end first.
        match self.entries.last() {
            None => return Err(0),
            Some((last, _)) => match order(last) {
                Ordering::Less => return Err(self.entries.len()),
                Ordering::Equal => return Ok(self.entries.len() - 1),
                Ordering::Greater => {}
            },
        }
        self.entries.binary_search_by(|(k, _)| order(k))
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.tags = NO_TAGS;
    }

    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.locate(key).map(|i| &self.entries[i].1)
    }

    /// The index of `key`. A small map is scanned: `==` on strings
    /// compares lengths before bytes, so most entries cost no byte compare
    /// at all, where a binary search orders every probe byte by byte.
    fn locate<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        if self.entries.len() <= SCAN {
            return self.entries.iter().position(|(k, _)| k.borrow() == key);
        }
        self.find(key).ok()
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.find(key).is_ok()
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.locate(key).map(|i| &mut self.entries[i].1)
    }

    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.find(key).ok().map(|i| {
            let (k, v) = &self.entries[i];
            (k, v)
        })
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let at = self.find(&key);
        self.insert_at(at, key, value)
    }

    /// Sets the value at `at` (found), or puts the entry there (not).
    fn insert_at(&mut self, at: Result<usize, usize>, key: K, value: V) -> Option<V> {
        match at {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.reserve_one();
                self.entries.insert(i, (key, value));
                self.tag_inserted(i);
                None
            }
        }
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Ord,
    {
        match self.find(key) {
            Ok(i) => {
                let entry = self.entries.remove(i);
                self.tag_removed(i);
                Some(entry)
            }
            Err(_) => None,
        }
    }

    pub fn append(&mut self, other: &mut Self) {
        for (k, v) in other.entries.drain(..) {
            self.insert(k, v);
        }
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.find(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry {
                map: self,
                index,
                key,
            }),
        }
    }

    pub fn retain<F>(&mut self, mut f: F)
    where
        F: FnMut(&K, &mut V) -> bool,
    {
        self.entries.retain_mut(|(k, v)| f(k, v));
        self.retag();
    }
}

/// Whether two keys are equal, without a `memcmp` call: for keys of up to
/// 16 bytes (nearly all of a Kubernetes object's) two overlapping loads
/// from each end cover the bytes, longer ones go by words. A key of the
/// right length is usually the one looked for, so the compare rarely
/// stops at its first byte, and the call cost more than the compare did.
#[inline]
pub fn key_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_ne_bytes)
    };
    let half = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_ne_bytes)
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        // Longer: eight bytes at a time, the last word overlapping. No
        // call either, so a scan with `key_eq` needs no saved registers.
        _ => {
            let mut at = 0;
            while at + 8 < n {
                if word(a, at) != word(b, at) {
                    return false;
                }
                at += 8;
            }
            word(a, n - 8) == word(b, n - 8)
        }
    }
}

/// The order of two keys (`str`'s own): by their first bytes where those
/// differ, which needs no call, and by `Ord` (a `memcmp`) otherwise. Most
/// neighbouring keys of an object differ in their first byte.
#[inline]
pub fn key_cmp(a: &str, b: &str) -> Ordering {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

impl<V> VecMap<alloc::string::String, V> {
    /// `get` for a `str` key, scanning a small map with [`key_eq`].
    #[inline]
    pub fn get_str(&self, key: &str) -> Option<&V> {
        self.locate_str(key).map(|i| &self.entries[i].1)
    }

    /// `get_mut` for a `str` key.
    #[inline]
    pub fn get_str_mut(&mut self, key: &str) -> Option<&mut V> {
        self.locate_str(key).map(|i| &mut self.entries[i].1)
    }

    /// `insert` for a `String` key, ordering keys by [`key_cmp`].
    pub fn insert_string(&mut self, key: alloc::string::String, value: V) -> Option<V> {
        let at = self.find_by(|k| key_cmp(k, &key));
        self.insert_at(at, key, value)
    }

    /// `from_iter` for `String` keys: the order check uses [`key_cmp`].
    pub fn from_string_entries<T: IntoIterator<Item = (alloc::string::String, V)>>(
        iter: T,
    ) -> Self {
        let mut entries: Vec<(alloc::string::String, V)> = iter.into_iter().collect();
        if entries
            .windows(2)
            .all(|w| key_cmp(&w[0].0, &w[1].0) == Ordering::Less)
        {
            entries.shrink_to_fit();
            return VecMap::of_sorted(entries);
        }
        entries.into_iter().collect()
    }

    /// The index of `key`: a small map is scanned, a larger one searched.
    /// The two are separate functions, so the scan (nearly every lookup)
    /// runs without the binary search's saved registers: called over a
    /// million times in a 1,000-pod rollout, the pushes and pops had cost
    /// as much as the scans.
    /// The key's tag is worked out here, inlined where the key is known.
    #[inline]
    fn locate_str(&self, key: &str) -> Option<usize> {
        if self.entries.len() <= SCAN {
            return scan_str(&self.entries, self.tags ^ (str_tag(key) * NIBBLE_ONES), key);
        }
        self.search_str(key)
    }

    #[inline(never)]
    fn search_str(&self, key: &str) -> Option<usize> {
        self.find(key).ok()
    }
}

/// The position of `key` among the keys of `entries` (at most `SCAN`):
/// only entries whose tag is `key`'s are compared, lowest first. `diff`
/// is the map's tags with `key`'s tag taken out of every nibble (xor), so
/// zero where the tags match (never past the entries, which hold 0xf, no
/// key's tag); the borrow trick marks every zero nibble, and past a zero
/// one perhaps some others (those compare unequal, or are past the end).
#[inline(never)]
fn scan_str<V>(entries: &[(alloc::string::String, V)], diff: u64, key: &str) -> Option<usize> {
    let mut candidates = diff.wrapping_sub(NIBBLE_ONES) & !diff & (NIBBLE_ONES << 3);
    while candidates != 0 {
        let i = (candidates.trailing_zeros() / 4) as usize;
        if let Some((k, _)) = entries.get(i) {
            if key_eq(k, key) {
                return Some(i);
            }
        }
        candidates &= candidates - 1;
    }
    None
}

impl<K, V> VecMap<K, V> {
    /// Room for one more entry: exactly one while the map is small (most
    /// of a Kubernetes object's maps have a few keys, and doubling left a
    /// third of their slots empty), doubling beyond.
    fn reserve_one(&mut self) {
        let len = self.entries.len();
        if len == self.entries.capacity() && len < SMALL {
            self.entries.reserve_exact(1);
        }
    }

    /// Room for `additional` more entries, exactly.
    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve_exact(additional);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            inner: self.entries.iter_mut(),
        }
    }

    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys {
            inner: self.entries.iter(),
        }
    }

    pub fn values(&self) -> Values<'_, K, V> {
        Values {
            inner: self.entries.iter(),
        }
    }

    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.entries.iter_mut(),
        }
    }

    pub fn into_values(self) -> IntoValues<K, V> {
        IntoValues {
            inner: self.entries.into_iter(),
        }
    }
}

/// Maps up to this many entries grow one entry at a time.
const SMALL: usize = 16;

impl<K: Ord + Tagged, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Ord + Tagged, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// The entries as they come (a vector is taken over as it is, without
    /// a copy), sorted only if they are not in key order already; of
    /// entries with equal keys the last one stays, as `insert` keeps it.
    /// Spare room an iterator of unknown length left is given back, as
    /// `insert` grows a small map by one slot at a time.
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut entries: Vec<(K, V)> = iter.into_iter().collect();
        if entries.windows(2).all(|w| w[0].0 < w[1].0) {
            entries.shrink_to_fit();
            return VecMap::of_sorted(entries);
        }
        // Stable: equal keys keep the order they came in.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<(K, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match unique.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => unique.push(entry),
            }
        }
        unique.shrink_to_fit();
        VecMap::of_sorted(unique)
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    fn into_iter(self) -> IntoIter<K, V> {
        IntoIter {
            inner: self.entries.into_iter(),
        }
    }
}

/// A view into one entry of a `VecMap`.
pub enum Entry<'a, K, V> {
    Vacant(VacantEntry<'a, K, V>),
    Occupied(OccupiedEntry<'a, K, V>),
}

/// An entry whose key is not in the map yet.
pub struct VacantEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
    key: K,
}

/// An entry whose key is in the map.
pub struct OccupiedEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
}

impl<'a, K: Tagged, V> VacantEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.key
    }

    pub fn insert(self, value: V) -> &'a mut V {
        self.map.reserve_one();
        self.map.entries.insert(self.index, (self.key, value));
        self.map.tag_inserted(self.index);
        &mut self.map.entries[self.index].1
    }
}

impl<'a, K: Tagged, V> OccupiedEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.map.entries[self.index].0
    }

    pub fn get(&self) -> &V {
        &self.map.entries[self.index].1
    }

    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.entries[self.index].1
    }

    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.entries[self.index].1
    }

    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(&mut self.map.entries[self.index].1, value)
    }

    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    pub fn remove_entry(self) -> (K, V) {
        let entry = self.map.entries.remove(self.index);
        self.map.tag_removed(self.index);
        entry
    }
}

macro_rules! entry_iterator {
    ($name:ident, $inner:ty, $item:ty, $map:expr, $($lt:lifetime)?) => {
        pub struct $name<$($lt,)? K, V> {
            inner: $inner,
        }

        impl<$($lt,)? K, V> Iterator for $name<$($lt,)? K, V> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                self.inner.next().map($map)
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }
        }

        impl<$($lt,)? K, V> DoubleEndedIterator for $name<$($lt,)? K, V> {
            #[inline]
            fn next_back(&mut self) -> Option<Self::Item> {
                self.inner.next_back().map($map)
            }
        }

        impl<$($lt,)? K, V> ExactSizeIterator for $name<$($lt,)? K, V> {
            #[inline]
            fn len(&self) -> usize {
                self.inner.len()
            }
        }

        impl<$($lt,)? K, V> FusedIterator for $name<$($lt,)? K, V> {}

        impl<$($lt,)? K, V> fmt::Debug for $name<$($lt,)? K, V> {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

entry_iterator!(Iter, slice::Iter<'a, (K, V)>, (&'a K, &'a V), |(k, v)| (k, v), 'a);
entry_iterator!(IterMut, slice::IterMut<'a, (K, V)>, (&'a K, &'a mut V), |(k, v)| (&*k, v), 'a);
entry_iterator!(IntoIter, vec::IntoIter<(K, V)>, (K, V), |e| e,);
entry_iterator!(Keys, slice::Iter<'a, (K, V)>, &'a K, |(k, _)| k, 'a);
entry_iterator!(Values, slice::Iter<'a, (K, V)>, &'a V, |(_, v)| v, 'a);
entry_iterator!(ValuesMut, slice::IterMut<'a, (K, V)>, &'a mut V, |(_, v)| v, 'a);
entry_iterator!(IntoValues, vec::IntoIter<(K, V)>, V, |(_, v)| v,);

impl<'a, K, V> Clone for Iter<'a, K, V> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, K, V> Clone for Keys<'a, K, V> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, K, V> Clone for Values<'a, K, V> {
    fn clone(&self) -> Self {
        Values {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V, Q> core::ops::Index<&Q> for VecMap<K, V>
where
    K: Borrow<Q> + Ord + Tagged,
    Q: ?Sized + Ord,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}
