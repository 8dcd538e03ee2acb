//! One stored object. While anything besides the store holds the object
//! (the controllers' snapshot, a watch history entry, a reader) it stays a
//! shared `Value` tree; once only the store holds it, it is packed to its
//! compact JSON, as etcd keeps objects serialized at rest. A packed object
//! is decoded again on each read.
//!
//! A `Value` tree takes three to four times its JSON size, so packing what
//! nobody is looking at (Events, and every object of a cluster no
//! controller watches) is most of the store's memory.

use serde_json::Value;
use std::sync::Arc;

pub(super) enum Slot {
    Tree(Arc<Value>),
    Packed(Box<[u8]>),
}

impl Slot {
    /// The object as a shared tree: the held one, or a fresh decode.
    pub(super) fn tree(&self) -> Arc<Value> {
        match self {
            Slot::Tree(t) => t.clone(),
            Slot::Packed(bytes) => Arc::new(unpack(bytes)),
        }
    }

    /// Packs a tree that only the store holds. Returns whether the slot is
    /// packed now: `false` means someone still shares the tree.
    pub(super) fn pack(&mut self) -> bool {
        match self {
            Slot::Packed(_) => true,
            // Nobody can take a new reference without the store's lock,
            // which the caller holds, so a count of one stays one.
            Slot::Tree(t) if Arc::strong_count(t) == 1 => match serde_json::to_vec(&**t) {
                Ok(bytes) => {
                    *self = Slot::Packed(bytes.into_boxed_slice());
                    true
                }
                Err(_) => false,
            },
            Slot::Tree(_) => false,
        }
    }
}

/// Decodes a packed object. The bytes are the store's own serialization of
/// a `Value`, so they always parse; `Null` stands in if they ever did not.
fn unpack(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        tracing::error!("a packed object in the store does not decode: {e}");
        Value::Null
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
    fn a_shared_tree_stays_a_tree() {
        let tree = Arc::new(json!({"a": 1}));
        let mut slot = Slot::Tree(tree.clone());
        assert!(!slot.pack());
        assert!(Arc::ptr_eq(&slot.tree(), &tree));
        drop(tree);
        assert!(slot.pack(), "packs once the other holder lets go");
    }
}
