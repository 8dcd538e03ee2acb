//! The snapshot's objects, held in a slab so the indexes refer to them by
//! number. Each is a shared `Value` tree while controllers read it; once it
//! has gone unread for a whole sweep interval it is packed to the compact
//! form the store keeps of it (one copy for both), and decoded again when
//! next read. A busy cluster's Running pods are read by nothing for long
//! stretches, and a tree takes three times its JSON size.

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Where an object sits in the slab.
pub(super) type Id = usize;

/// One object.
#[derive(Debug)]
struct Held {
    /// The object as a tree: set while it is in use, decoded from `packed`
    /// on the first read after it was packed.
    tree: OnceLock<Arc<Value>>,
    /// The object packed (`crate::store::pack`), once it was: the store's own copy.
    packed: Option<Arc<[u8]>>,
    /// Read since the last sweep. A new object counts as read, so it stays
    /// a tree for at least one whole interval.
    read: AtomicBool,
}

impl Held {
    fn new(obj: Arc<Value>) -> Self {
        Self {
            tree: OnceLock::from(obj),
            packed: None,
            read: AtomicBool::new(true),
        }
    }

    fn tree(&self) -> &Arc<Value> {
        self.tree.get_or_init(|| decode(self.packed.as_ref()))
    }
}

/// Decodes a packed object (`store::unpack_shared`: the bytes are the
/// store's, and the tree decoded last from them is shared). They are the
/// store's serialization of a `Value`, so they always parse; `Null` stands
/// in if they ever did not.
fn decode(bytes: Option<&Arc<[u8]>>) -> Arc<Value> {
    let Some(bytes) = bytes else {
        tracing::error!("a snapshot object has neither a tree nor packed bytes");
        return Arc::new(Value::Null);
    };
    crate::store::unpack_shared(bytes).unwrap_or_else(|e| {
        tracing::error!("a packed object in the snapshot does not decode: {e}");
        Arc::new(Value::Null)
    })
}

/// Objects by number; freed numbers are reused.
#[derive(Debug, Default)]
pub(super) struct Slab {
    items: Vec<Option<Held>>,
    free: Vec<Id>,
}

impl Slab {
    pub(super) fn insert(&mut self, obj: Arc<Value>) -> Id {
        let held = Some(Held::new(obj));
        match self.free.pop() {
            Some(id) => {
                self.items[id] = held;
                id
            }
            None => {
                self.items.push(held);
                self.items.len() - 1
            }
        }
    }

    /// How many objects are held packed only (not decoded since).
    pub(super) fn packed(&self) -> usize {
        self.items
            .iter()
            .flatten()
            .filter(|h| h.tree.get().is_none())
            .count()
    }

    /// The object at `id`, marked as read (decoded if it was packed).
    pub(super) fn read(&self, id: Id) -> Option<&Arc<Value>> {
        let held = self.items.get(id)?.as_ref()?;
        held.read.store(true, Ordering::Relaxed);
        Some(held.tree())
    }

    /// The object at `id` without marking it read (the snapshot's own
    /// bookkeeping: comparing versions, updating indexes).
    pub(super) fn peek(&self, id: Id) -> Option<&Arc<Value>> {
        Some(self.items.get(id)?.as_ref()?.tree())
    }

    /// The object at `id` for a passing look: neither marked read nor kept
    /// decoded (a packed one is decoded for the caller alone).
    pub(super) fn glance(&self, id: Id) -> Option<Arc<Value>> {
        let held = self.items.get(id)?.as_ref()?;
        Some(match held.tree.get() {
            Some(t) => t.clone(),
            None => decode(held.packed.as_ref()),
        })
    }

    /// Whether `id` holds exactly this tree (not an equal copy).
    pub(super) fn holds(&self, id: Id, obj: &Arc<Value>) -> bool {
        self.items
            .get(id)
            .and_then(Option::as_ref)
            .and_then(|h| h.tree.get())
            .is_some_and(|t| Arc::ptr_eq(t, obj))
    }

    /// Puts `obj` at `id` and returns what was there.
    pub(super) fn replace(&mut self, id: Id, obj: Arc<Value>) -> Option<Arc<Value>> {
        let slot = self.items.get_mut(id)?;
        let old = slot.take().map(|h| h.tree().clone());
        *slot = Some(Held::new(obj));
        old
    }

    /// Frees `id` and returns the object it held.
    pub(super) fn remove(&mut self, id: Id) -> Option<Arc<Value>> {
        let old = self.items.get_mut(id)?.take()?;
        self.free.push(id);
        Some(old.tree().clone())
    }

    /// Packs the object at `id` if nothing read it since the last sweep,
    /// and starts a new interval for it. `pack` returns the store's packed
    /// copy of exactly this tree, or `None` (the store holds another
    /// version), which keeps the tree. Returns whether it was packed now.
    pub(super) fn sweep(
        &mut self,
        id: Id,
        pack: impl FnOnce(&Arc<Value>) -> Option<Arc<[u8]>>,
    ) -> bool {
        let Some(Some(held)) = self.items.get_mut(id) else {
            return false;
        };
        if held.read.swap(false, Ordering::Relaxed) {
            return false;
        }
        let Some(tree) = held.tree.get() else {
            return false;
        };
        if held.packed.is_none() {
            held.packed = pack(tree);
        }
        if held.packed.is_none() {
            return false;
        }
        held.tree.take();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn packed(v: &Value) -> Option<Arc<[u8]>> {
        Some(crate::store::pack(v))
    }

    #[test]
    fn an_object_unread_for_a_whole_interval_is_packed_and_reads_back_equal() {
        let obj = Arc::new(json!({"metadata": {"name": "a"}, "status": {"phase": "Running"}}));
        let mut slab = Slab::default();
        let id = slab.insert(obj.clone());
        // New: counts as read during its first interval.
        assert!(!slab.sweep(id, |t| packed(t)));
        assert!(slab.holds(id, &obj));
        assert!(slab.sweep(id, |t| packed(t)));
        assert!(!slab.holds(id, &obj), "the tree was let go");
        assert_eq!(slab.read(id).map(|t| (**t).clone()), Some((*obj).clone()));
        // Read again: stays decoded through the next sweep, packed after.
        assert!(!slab.sweep(id, |_| panic!("already packed: no second pack")));
        assert!(slab.sweep(id, |_| panic!("already packed: no second pack")));
        assert_eq!(slab.peek(id).map(|t| (**t).clone()), Some((*obj).clone()));
    }

    #[test]
    fn peeking_does_not_keep_an_object_warm() {
        let mut slab = Slab::default();
        let id = slab.insert(Arc::new(json!({"a": 1})));
        slab.sweep(id, |t| packed(t));
        let _ = slab.peek(id);
        assert!(slab.sweep(id, |t| packed(t)));
    }

    #[test]
    fn a_glance_neither_warms_nor_decodes_for_keeps() {
        let obj = json!({"a": 1});
        let mut slab = Slab::default();
        let id = slab.insert(Arc::new(obj.clone()));
        slab.sweep(id, |t| packed(t));
        assert!(slab.sweep(id, |t| packed(t)));
        assert_eq!(slab.glance(id).map(|t| (*t).clone()), Some(obj));
        assert_eq!(slab.packed(), 1, "still packed only");
        assert!(slab.glance(7).is_none());
    }

    #[test]
    fn a_tree_the_store_will_not_pack_stays() {
        let obj = Arc::new(json!({"a": 1}));
        let mut slab = Slab::default();
        let id = slab.insert(obj.clone());
        slab.sweep(id, |_| None);
        assert!(!slab.sweep(id, |_| None));
        assert!(slab.holds(id, &obj));
    }

    #[test]
    fn freed_numbers_are_reused_and_replace_returns_the_old_object() {
        let mut slab = Slab::default();
        let a = slab.insert(Arc::new(json!("a")));
        let b = slab.insert(Arc::new(json!("b")));
        assert_eq!(slab.remove(a).map(|t| (*t).clone()), Some(json!("a")));
        assert!(slab.read(a).is_none());
        assert!(slab.remove(a).is_none(), "removing twice frees once");
        let c = slab.insert(Arc::new(json!("c")));
        assert_eq!(c, a);
        let old = slab.replace(b, Arc::new(json!("b2")));
        assert_eq!(old.map(|t| (*t).clone()), Some(json!("b")));
        assert_eq!(slab.read(b).map(|t| (**t).clone()), Some(json!("b2")));
        assert!(slab.read(99).is_none());
    }
}
