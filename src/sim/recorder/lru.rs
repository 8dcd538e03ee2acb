//! A map that keeps its `cap` most recently used entries, as client-go's
//! event correlator keeps the events it has seen. The use order is a list
//! linked through the entries' positions, so a hit moves an entry to the
//! front without allocating (a `BTreeMap` of use ticks cost a removal and
//! an insertion on every hit). A key (unsized: `[u8]`) is shared between
//! the map and its entry (`Arc`) and looked up by reference, so a hit
//! copies nothing.
//!
//! The table holds entry positions, found by the hash each entry keeps:
//! a key is hashed once per call, and the entry a full cache gives up
//! leaves the table without its key being read or hashed again (with the
//! cache full, every new key evicts one, and the evicted key's bytes were
//! long out of the processor's caches).

use crate::store::fxhash::FxBuildHasher;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// No entry (the end of the use order).
const NIL: usize = usize::MAX;

struct Entry<K: ?Sized, V> {
    key: Arc<K>,
    hash: u64,
    value: V,
    /// The entry used next after this one (`NIL` for the newest).
    newer: usize,
    /// The entry used last before this one (`NIL` for the oldest).
    older: usize,
}

pub(super) struct Lru<K: ?Sized, V> {
    cap: usize,
    /// Positions in `entries`, by their entries' hashes.
    table: HashTable<usize>,
    entries: Vec<Entry<K, V>>,
    newest: usize,
    oldest: usize,
}

impl<K: Eq + Hash + ?Sized, V> Lru<K, V> {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            table: HashTable::new(),
            entries: Vec::new(),
            newest: NIL,
            oldest: NIL,
        }
    }

    fn hash(k: &K) -> u64 {
        FxBuildHasher::default().hash_one(k)
    }

    /// The position of `k`'s entry (`hash` is `k`'s).
    fn find(&self, hash: u64, k: &K) -> Option<usize> {
        let entries = &self.entries;
        self.table
            .find(hash, |&i| entries[i].hash == hash && *entries[i].key == *k)
            .copied()
    }

    /// Takes entry `i` out of the use order.
    fn unlink(&mut self, i: usize) {
        let (newer, older) = (self.entries[i].newer, self.entries[i].older);
        match newer {
            NIL => self.newest = older,
            n => self.entries[n].older = older,
        }
        match older {
            NIL => self.oldest = newer,
            o => self.entries[o].newer = newer,
        }
    }

    /// Puts entry `i` (not in the use order) at its newest end.
    fn push_newest(&mut self, i: usize) {
        self.entries[i].newer = NIL;
        self.entries[i].older = self.newest;
        match self.newest {
            NIL => self.oldest = i,
            n => self.entries[n].newer = i,
        }
        self.newest = i;
    }

    /// Makes entry `i` the most recently used.
    fn use_now(&mut self, i: usize) -> &mut V {
        if self.newest != i {
            self.unlink(i);
            self.push_newest(i);
        }
        &mut self.entries[i].value
    }

    /// The value of `k`, now the most recently used entry.
    pub(super) fn touch(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(Self::hash(k), k)?;
        Some(self.use_now(i))
    }

    /// Sets `k`'s value (copying the key only when it is new), making it
    /// the most recently used entry; a new key beyond `cap` takes the place
    /// of the least recently used one.
    pub(super) fn insert(&mut self, k: &K, v: V)
    where
        Arc<K>: for<'a> From<&'a K>,
    {
        let hash = Self::hash(k);
        if let Some(i) = self.find(hash, k) {
            *self.use_now(i) = v;
            return;
        }
        let entry = Entry {
            key: Arc::from(k),
            hash,
            value: v,
            newer: NIL,
            older: NIL,
        };
        let i = if self.entries.len() >= self.cap {
            let i = self.oldest;
            self.unlink(i);
            let gone = self.entries[i].hash;
            if let Ok(slot) = self.table.find_entry(gone, |&j| j == i) {
                slot.remove();
            }
            self.entries[i] = entry;
            i
        } else {
            self.entries.push(entry);
            self.entries.len() - 1
        };
        let entries = &self.entries;
        self.table.insert_unique(hash, i, |&j| entries[j].hash);
        self.push_newest(i);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    /// The keys from the most to the least recently used.
    #[cfg(test)]
    fn order(&self) -> Vec<Arc<K>> {
        let mut out = Vec::new();
        let mut at = self.newest;
        while at != NIL {
            out.push(self.entries[at].key.clone());
            at = self.entries[at].older;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lru: &Lru<str, i32>) -> Vec<String> {
        lru.order().iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn the_cache_forgets_the_least_recently_used_entry() {
        let mut lru: Lru<str, i32> = Lru::new(2);
        lru.insert("a", 1);
        lru.insert("b", 2);
        // Using "a" makes "b" the oldest.
        assert_eq!(lru.touch("a").copied(), Some(1));
        lru.insert("c", 3);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.touch("b"), None);
        assert_eq!(lru.touch("a").copied(), Some(1));
        assert_eq!(lru.touch("c").copied(), Some(3));
        // Replacing a value keeps one entry.
        lru.insert("c", 4);
        assert_eq!((lru.len(), lru.touch("c").copied()), (2, Some(4)));
        assert_eq!(order(&lru), ["c", "a"]);
    }

    #[test]
    fn the_use_order_matches_a_plain_model_over_many_operations() {
        // A list of (key, value), most recent first, as the reference.
        let mut model: Vec<(String, i32)> = Vec::new();
        let mut lru: Lru<str, i32> = Lru::new(5);
        let mut seed = 7u64;
        for step in 0..2_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = format!("k{}", (seed >> 33) % 9);
            if (seed >> 20).is_multiple_of(3) {
                let got = lru.touch(&key).copied();
                let want = model.iter().position(|(k, _)| *k == key).map(|p| {
                    let e = model.remove(p);
                    let v = e.1;
                    model.insert(0, e);
                    v
                });
                assert_eq!(got, want, "step {step}");
            } else {
                lru.insert(&key, step);
                if let Some(p) = model.iter().position(|(k, _)| *k == key) {
                    model.remove(p);
                }
                model.insert(0, (key, step));
                model.truncate(5);
            }
            let keys: Vec<String> = model.iter().map(|(k, _)| k.clone()).collect();
            assert_eq!(order(&lru), keys, "step {step}");
            assert_eq!(lru.len(), model.len());
        }
    }
}
