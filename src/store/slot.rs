//! One stored object. While anything besides the store holds the object
//! (the controllers' snapshot, a watch history entry, a reader) it stays a
//! shared `Value` tree; once only the store holds it, it is packed to its
//! compact binary form (`pack`), as etcd keeps objects serialized at rest. A packed object
//! is decoded again on each read.
//!
//! A `Value` tree takes three to four times its JSON size, so packing what
//! nobody is looking at (Events, and every object of a cluster no
//! controller watches) is most of the store's memory.

use super::pack::pack;
use serde_json::Value;
use std::sync::Arc;

pub(super) enum Slot {
    Tree(Arc<Value>),
    /// Shared between the object's slot and its watch history entry.
    Packed(Arc<[u8]>),
}

impl Slot {
    /// The object as a shared tree: the held one, or a fresh decode.
    pub(super) fn tree(&self) -> Arc<Value> {
        match self {
            Slot::Tree(t) => t.clone(),
            Slot::Packed(bytes) => unpack(bytes),
        }
    }

    /// Packs a tree that only the store holds. Returns whether the slot is
    /// packed now: `false` means someone still shares the tree.
    pub(super) fn pack(&mut self) -> bool {
        match self {
            Slot::Packed(_) => true,
            // Nobody can take a new reference without the store's lock,
            // which the caller holds, so a count of one stays one.
            Slot::Tree(t) if Arc::strong_count(t) == 1 => {
                *self = Slot::Packed(pack(t));
                true
            }
            Slot::Tree(_) => false,
        }
    }

    /// Packs this slot and `other` together when they hold the same tree
    /// and nobody else does (an object and the watch history entry of its
    /// last write): both then share one packed copy.
    pub(super) fn pack_with(&mut self, other: &mut Slot) -> bool {
        let (Slot::Tree(a), Slot::Tree(b)) = (&*self, &*other) else {
            return false;
        };
        if !Arc::ptr_eq(a, b) || Arc::strong_count(a) != 2 {
            return false;
        }
        let bytes = pack(a);
        *self = Slot::Packed(bytes.clone());
        *other = Slot::Packed(bytes);
        true
    }

    /// Packs this slot if it holds exactly `tree`, however many others
    /// share it (they keep their tree), and returns the bytes.
    pub(super) fn pack_shared(&mut self, tree: &Arc<Value>) -> Option<Arc<[u8]>> {
        match self {
            Slot::Tree(t) if Arc::ptr_eq(t, tree) => {
                let bytes: Arc<[u8]> = pack(t);
                *self = Slot::Packed(bytes.clone());
                Some(bytes)
            }
            _ => None,
        }
    }

    /// Holds `bytes` instead of `tree` when it holds exactly `tree`.
    pub(super) fn adopt(&mut self, tree: &Arc<Value>, bytes: &Arc<[u8]>) {
        if matches!(self, Slot::Tree(t) if Arc::ptr_eq(t, tree)) {
            *self = Slot::Packed(bytes.clone());
        }
    }
}

/// Decodes a packed object (`pack::unpack_shared`: the tree decoded last
/// from the same bytes is handed out again). The bytes are the store's own
/// serialization of a `Value`, so they always parse; `Null` stands in if
/// they ever did not.
fn unpack(bytes: &Arc<[u8]>) -> Arc<Value> {
    super::pack::unpack_shared(bytes).unwrap_or_else(|e| {
        tracing::error!("a packed object in the store does not decode: {e}");
        Arc::new(Value::Null)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tree_only_the_store_holds_packs_and_reads_back_the_same() {
        let obj = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"n": [1, 2.5, null, true]}});
        let mut slot = Slot::Tree(Arc::new(obj.clone()));
        assert!(slot.pack());
        assert!(matches!(slot, Slot::Packed(_)));
        assert_eq!(*slot.tree(), obj);
        assert!(slot.pack(), "packing twice is a no-op");
    }

    #[test]
    fn an_object_and_its_history_entry_pack_together_and_only_together() {
        let tree = Arc::new(json!({"kind": "Pod"}));
        let mut stored = Slot::Tree(tree.clone());
        let mut entry = Slot::Tree(tree.clone());
        assert!(
            !stored.pack_with(&mut entry),
            "a third holder keeps it a tree"
        );
        drop(tree);
        assert!(stored.pack_with(&mut entry));
        match (&stored, &entry) {
            (Slot::Packed(a), Slot::Packed(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!("both should be packed"),
        }
        assert_eq!(*entry.tree(), json!({"kind": "Pod"}));
        let mut other = Slot::Tree(Arc::new(json!({"kind": "Pod"})));
        let mut lone = Slot::Tree(Arc::new(json!({"kind": "Pod"})));
        assert!(
            !other.pack_with(&mut lone),
            "equal trees that are not the same are not paired"
        );
    }

    #[test]
    fn a_shared_tree_stays_a_tree() {
        let tree = Arc::new(json!({"a": 1}));
        let mut slot = Slot::Tree(tree.clone());
        assert!(!slot.pack());
        assert!(Arc::ptr_eq(&slot.tree(), &tree));
        drop(tree);
        assert!(slot.pack(), "packs once the other holder lets go");
    }
}
