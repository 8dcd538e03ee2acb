//! One resource's stored objects, by namespace and then name. A lookup
//! hashes the two names once (FxHash) instead of comparing them, byte by
//! byte, against a dozen keys down a B-tree: most of a busy cluster's
//! names share long prefixes (`web-7d4b9c8f5-…`, and their Events'
//! `web-7d4b9c8f5-x2k9p.18a2…`), so each comparison was a `memcmp`. Lists
//! come out in (namespace, name) order, as etcd returns keys, by sorting
//! the names they take.

use super::fxhash::FxBuildHasher;
use super::slot::Slot;
use std::collections::HashMap;

type Names = HashMap<String, Slot, FxBuildHasher>;

#[derive(Default)]
pub(super) struct Objects {
    by_namespace: HashMap<String, Names, FxBuildHasher>,
}

impl Objects {
    pub(super) fn get(&self, namespace: &str, name: &str) -> Option<&Slot> {
        self.by_namespace.get(namespace)?.get(name)
    }

    pub(super) fn get_mut(&mut self, namespace: &str, name: &str) -> Option<&mut Slot> {
        self.by_namespace.get_mut(namespace)?.get_mut(name)
    }

    pub(super) fn contains(&self, namespace: &str, name: &str) -> bool {
        self.get(namespace, name).is_some()
    }

    /// Stores `slot` at (namespace, name), replacing what was there; the
    /// names are copied only for a new key.
    pub(super) fn insert(&mut self, namespace: &str, name: &str, slot: Slot) {
        if !self.by_namespace.contains_key(namespace) {
            self.by_namespace
                .insert(namespace.to_string(), Names::default());
        }
        let Some(names) = self.by_namespace.get_mut(namespace) else {
            return;
        };
        match names.get_mut(name) {
            Some(held) => *held = slot,
            None => {
                names.insert(name.to_string(), slot);
            }
        }
    }

    pub(super) fn remove(&mut self, namespace: &str, name: &str) -> Option<Slot> {
        let names = self.by_namespace.get_mut(namespace)?;
        let gone = names.remove(name);
        if names.is_empty() {
            self.by_namespace.remove(namespace);
        }
        gone
    }

    pub(super) fn len(&self) -> usize {
        self.by_namespace.values().map(HashMap::len).sum()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_namespace.is_empty()
    }

    /// Every slot, in no particular order.
    pub(super) fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.by_namespace.values().flat_map(HashMap::values)
    }

    /// The slots in (namespace, name) order, of one namespace when given.
    pub(super) fn sorted(&self, namespace: Option<&str>) -> Vec<&Slot> {
        let mut namespaces: Vec<(&String, &Names)> = match namespace {
            Some(ns) => self.by_namespace.get_key_value(ns).into_iter().collect(),
            None => self.by_namespace.iter().collect(),
        };
        namespaces.sort_unstable_by_key(|(ns, _)| *ns);
        let mut out = Vec::with_capacity(namespaces.iter().map(|(_, n)| n.len()).sum());
        for (_, names) in namespaces {
            let mut entries: Vec<(&String, &Slot)> = names.iter().collect();
            entries.sort_unstable_by_key(|(name, _)| *name);
            out.extend(entries.into_iter().map(|(_, slot)| slot));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn slot(n: i64) -> Slot {
        Slot::Tree(Arc::new(json!(n)))
    }

    fn values(slots: Vec<&Slot>) -> Vec<i64> {
        slots
            .into_iter()
            .filter_map(|s| s.tree().as_i64())
            .collect()
    }

    #[test]
    fn lists_in_namespace_then_name_order_and_forgets_empty_namespaces() {
        let mut o = Objects::default();
        for (ns, name, n) in [
            ("b", "x", 4),
            ("a", "z", 3),
            ("", "c", 0),
            ("a", "y", 2),
            ("a", "aa", 1),
        ] {
            o.insert(ns, name, slot(n));
        }
        assert_eq!(values(o.sorted(None)), [0, 1, 2, 3, 4]);
        assert_eq!(values(o.sorted(Some("a"))), [1, 2, 3]);
        assert!(o.sorted(Some("nope")).is_empty());
        assert_eq!(o.len(), 5);
        o.insert("a", "y", slot(9));
        assert_eq!(values(o.sorted(Some("a"))), [1, 9, 3], "replaced in place");
        assert!(o.contains("b", "x") && !o.contains("b", "y"));
        assert!(o.remove("b", "x").is_some());
        assert!(o.remove("b", "x").is_none());
        assert!(
            !o.by_namespace.contains_key("b"),
            "an emptied namespace goes"
        );
        for (ns, name) in [("", "c"), ("a", "aa"), ("a", "y"), ("a", "z")] {
            o.remove(ns, name);
        }
        assert!(o.is_empty());
        assert_eq!(o.len(), 0);
    }
}
