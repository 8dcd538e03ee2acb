//! The versioned in-memory object store: one global monotonic
//! resourceVersion, objects held as immutable `Arc<Value>` snapshots
//! (packed to a compact binary form while nothing else holds them, `slot`,
//! `pack`), and watch fan-out with a bounded history (older versions answer
//! 410 Expired, like the apiserver's watch cache).
//!
//! The store knows nothing of Kubernetes semantics beyond keys and
//! resourceVersions; `registry` prepares objects before they get here.

mod error;
pub mod fxhash;
mod objects;
mod pack;
mod slot;
mod strtable;
mod watch;

pub use error::StoreError;
pub use pack::{Packer, UnpackError, pack, unpack, unpack_shared};
pub use watch::{EventType, WatchEvent, WatchStart};

use objects::Objects;
use serde_json::Value;
use slot::Slot;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::broadcast;

/// Which stored resource an object belongs to: API group and plural name.
#[derive(Debug, Clone, Copy, Eq, PartialOrd, Ord)]
pub struct ResKey {
    pub group: &'static str,
    pub resource: &'static str,
}

/// Equal names are nearly always the same constant: compared by address
/// and length first, by bytes only when those differ (every store write
/// and every event the runtime observes compares resource keys).
impl PartialEq for ResKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        fn same(a: &str, b: &str) -> bool {
            a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
        }
        same(self.resource, other.resource) && same(self.group, other.group)
    }
}

/// Hashed from the names' lengths and first eight bytes, not every byte:
/// the store's and the runtime's maps keyed by resource are looked up on
/// every write and every event. Names alike in all of those still compare
/// whole (`Eq`), so they only share a bucket.
impl std::hash::Hash for ResKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (g, r) = (self.group.as_bytes(), self.resource.as_bytes());
        state.write_u64(
            fxhash::head_word(r)
                ^ fxhash::head_word(g).rotate_left(29)
                ^ (r.len() as u64) << 56
                ^ (g.len() as u64) << 48,
        );
    }
}

/// Where a stored object lives: resource, namespace, name.
type Location = (ResKey, String, String);

/// The object before and after a write.
pub type Change = (Arc<Value>, Arc<Value>);

/// How many past events watches can resume from by default.
pub const HISTORY: usize = 20_000;
/// How far a slow watcher may fall behind before its watch is closed (the
/// controllers' runtime re-lists instead). The channel keeps the last this
/// many events, and so the object versions they carry, alive: no more than
/// the watch history keeps anyway, so superseded versions are not held
/// twice as long as a watch can resume from them.
pub const FANOUT_CAPACITY: usize = 16_384;

struct Inner {
    rv: u64,
    objects: HashMap<ResKey, Objects, fxhash::FxBuildHasher>,
    /// The last `capacity` events, their objects packed like the store's
    /// (`Slot`) once only the store and the history hold them.
    history: VecDeque<HistoryEntry>,
    /// Watches from a version below this one have lost events: 410.
    oldest_rv: u64,
    /// How many events `history` keeps.
    capacity: usize,
    /// Owner uid to the objects whose ownerReferences name it, so garbage
    /// collection finds dependents without scanning the store. Hashed, and
    /// ordered only when garbage collection asks (`Store::dependents`): an
    /// ordered set compared cold name strings at every level of each pod's
    /// insert (~3,000 instructions among a ReplicaSet's 10,000 pods).
    dependents: HashMap<String, HashSet<Location, fxhash::FxBuildHasher>, fxhash::FxBuildHasher>,
    /// Objects written since they were last packed, oldest first: once
    /// more than `keep_decoded` wait, each write looks at the front few and
    /// packs those only the store holds (`slot`), and sends the still-shared
    /// ones to the back.
    unpacked: VecDeque<Unpacked>,
    /// How many of the newest written objects stay decoded (`DECODED`).
    keep_decoded: usize,
}

/// An object waiting to be packed: where it is, the rv of its write, and
/// a weak handle on its tree, whose count tells without a lookup whether
/// anyone besides the store and the history entry still holds it.
struct Unpacked {
    at: Location,
    rv: u64,
    tree: std::sync::Weak<Value>,
}

/// One event in the watch history.
struct HistoryEntry {
    rv: u64,
    kind: EventType,
    res: ResKey,
    object: Slot,
}

/// Which resources are packed at rest: Events, written once or twice and
/// read rarely, and most of a busy cluster's objects. Other objects stay
/// decoded: `kubectl get` and the authorizer read them on every request,
/// and decoding a list of packed pods took longer (40 ms for 1,000) than
/// the 20 ms a Table `get pods` may take.
fn packs(res: ResKey) -> bool {
    res.resource == "events"
}

/// How many queued objects each write looks at for packing: more than one,
/// so the queue drains while objects are written.
const PACK_PER_WRITE: usize = 2;

/// How many of the newest Events written as trees stay decoded (the
/// simulator's own are stored packed from the start, `create_packed`;
/// these are the ones users and the recorder's count updates write): the
/// ones `kubectl describe` and `get events` read, and more than a lab's
/// cluster usually holds. Packing an Event and freeing the tree it replaces cost
/// about 10,000 instructions, as much as the rest of its write: a small
/// cluster does not pay that at all, a busy one packs all but these
/// (about 2.2 KB each as a tree: some 140 MB). The packing work costs more
/// than its instructions: the trees it reads and frees are cold by then.
/// With 16,384 a 10,000-pod rollout (60,000 Events) spent ~15% of its wall
/// time packing; 65,536 packs none there, and the 150,000-pod cluster
/// holds ~100 MB more (README, Performance).
const DECODED: usize = 65_536;

/// The uids an object's ownerReferences name.
fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    crate::api::meta::owner_references(obj)
        .iter()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

impl Inner {
    /// Stores `obj`, written at `rv`, at `key` and queues it for packing.
    fn put(&mut self, res: ResKey, key: (String, String), obj: Arc<Value>, rv: u64) {
        if packs(res) {
            self.unpacked.push_back(Unpacked {
                at: (res, key.0.clone(), key.1.clone()),
                rv,
                tree: Arc::downgrade(&obj),
            });
        }
        self.objects
            .entry(res)
            .or_default()
            .insert(&key.0, &key.1, Slot::Tree(obj));
        self.pack_some();
    }

    /// Packs up to `PACK_PER_WRITE` queued objects that only the store
    /// holds now; gone or replaced ones leave the queue, shared ones wait.
    fn pack_some(&mut self) {
        let over = self.unpacked.len().saturating_sub(self.keep_decoded);
        for _ in 0..PACK_PER_WRITE.min(over) {
            let Some(next) = self.unpacked.pop_front() else {
                return;
            };
            match next.tree.strong_count() {
                // Replaced or deleted since: the slot holds another tree.
                0 => continue,
                // Held by more than the store and its history entry.
                3.. => {
                    self.unpacked.push_back(next);
                    continue;
                }
                _ => {}
            }
            let Unpacked {
                at: (res, ns, name),
                rv,
                tree,
            } = next;
            let key = (ns, name);
            let front = self.history.front().map_or(0, |e| e.rv);
            let packed = match self
                .objects
                .get_mut(&res)
                .and_then(|o| o.get_mut(&key.0, &key.1))
            {
                None => true,
                Some(slot) => {
                    slot.pack() || {
                        // Else it may be shared with the history entry of
                        // the write that queued it only (`pack_with` checks
                        // it is the same tree): rvs in the history are
                        // consecutive, so its index is the rv's offset.
                        let at = rv.checked_sub(front).and_then(|i| usize::try_from(i).ok());
                        match at.and_then(|i| self.history.get_mut(i)) {
                            Some(entry) => slot.pack_with(&mut entry.object),
                            None => false,
                        }
                    }
                }
            };
            if !packed {
                self.unpacked.push_back(Unpacked {
                    at: (res, key.0, key.1),
                    rv,
                    tree,
                });
            }
        }
    }

    /// The object stored at `key` of `res`, decoded if it was packed.
    fn tree(&self, res: ResKey, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.objects.get(&res)?.get(namespace, name).map(Slot::tree)
    }

    /// Takes `obj` (stored at `key` of `res`) into or out of `dependents`.
    fn index_owners(&mut self, res: ResKey, key: &(String, String), obj: &Value, add: bool) {
        for uid in owner_uids(obj) {
            let at = (res, key.0.clone(), key.1.clone());
            if add {
                // The owner's entry is found without building its uid.
                match self.dependents.get_mut(uid) {
                    Some(set) => {
                        set.insert(at);
                    }
                    None => {
                        let mut set = HashSet::default();
                        set.insert(at);
                        self.dependents.insert(uid.to_string(), set);
                    }
                }
            } else if let Some(set) = self.dependents.get_mut(uid) {
                set.remove(&at);
                if set.is_empty() {
                    self.dependents.remove(uid);
                }
            }
        }
    }

    /// Re-indexes an object whose ownerReferences may have changed.
    fn reindex_owners(&mut self, res: ResKey, key: &(String, String), old: &Value, new: &Value) {
        fn refs(o: &Value) -> Option<&Value> {
            o.get("metadata").and_then(|m| m.get("ownerReferences"))
        }
        if refs(old) != refs(new) {
            self.index_owners(res, key, old, false);
            self.index_owners(res, key, new, true);
        }
    }
}

/// The object store shared by the API server and the simulator runtime.
pub struct Store {
    inner: RwLock<Inner>,
    events: broadcast::Sender<Arc<WatchEvent>>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn key_of(obj: &Value) -> (String, String) {
    (
        crate::api::meta::namespace(obj).to_string(),
        crate::api::meta::name(obj).to_string(),
    )
}

fn with_rv(mut obj: Value, rv: u64) -> Value {
    crate::api::meta::set_meta(&mut obj, "resourceVersion", rv.to_string());
    obj
}

impl Store {
    pub fn new() -> Self {
        Self::with_history(HISTORY)
    }

    /// A store whose watch history keeps `capacity` events.
    pub fn with_history(capacity: usize) -> Self {
        let (events, _) = broadcast::channel(FANOUT_CAPACITY);
        Self {
            inner: RwLock::new(Inner {
                rv: 1,
                objects: HashMap::default(),
                // Reserved up front (address space only until written):
                // grown by doubling, a 1,000-pod rollout copied it 15 times.
                // A history asked larger than the default (`--watch-history`)
                // grows past that as before rather than reserve any size.
                history: VecDeque::with_capacity(capacity.clamp(1, HISTORY)),
                oldest_rv: 1,
                capacity: capacity.max(1),
                dependents: HashMap::default(),
                unpacked: VecDeque::new(),
                keep_decoded: DECODED,
            }),
            events,
        }
    }

    /// Keeps only the newest `n` written Events decoded (`DECODED` by
    /// default); older ones are packed once nothing else holds them.
    pub fn keep_decoded(self, n: usize) -> Self {
        self.write().keep_decoded = n;
        self
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The newest resourceVersion handed out.
    pub fn current_rv(&self) -> u64 {
        self.read().rv
    }

    pub fn get(&self, res: ResKey, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.read().tree(res, namespace, name)
    }

    /// Whether an object is stored at this key (a packed one is not
    /// decoded to tell).
    pub fn contains(&self, res: ResKey, namespace: &str, name: &str) -> bool {
        self.read()
            .objects
            .get(&res)
            .is_some_and(|o| o.contains(namespace, name))
    }

    /// Every object of a resource (in one namespace when given), ordered by
    /// namespace then name, with the store's resourceVersion at that moment.
    pub fn list(&self, res: ResKey, namespace: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let inner = self.read();
        let items = match inner.objects.get(&res) {
            None => Vec::new(),
            Some(objs) => objs.sorted(namespace).into_iter().map(Slot::tree).collect(),
        };
        (items, inner.rv)
    }

    /// Number of objects of a resource.
    pub fn count(&self, res: ResKey) -> usize {
        self.read().objects.get(&res).map_or(0, Objects::len)
    }

    /// How many objects of a resource are held packed.
    pub fn packed(&self, res: ResKey) -> usize {
        self.read().objects.get(&res).map_or(0, |o| {
            o.slots().filter(|s| matches!(s, Slot::Packed(_))).count()
        })
    }

    /// Stores a new object, stamping its resourceVersion.
    pub fn create(&self, res: ResKey, obj: Value) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.write();
        let key = key_of(&obj);
        if inner
            .objects
            .get(&res)
            .is_some_and(|o| o.contains(&key.0, &key.1))
        {
            return Err(StoreError::AlreadyExists {
                namespace: key.0,
                name: key.1,
            });
        }
        let rv = inner.rv + 1;
        let obj = Arc::new(with_rv(obj, rv));
        inner.rv = rv;
        inner.index_owners(res, &key, &obj, true);
        inner.put(res, key, obj.clone(), rv);
        self.emit(&mut inner, EventType::Added, res, obj.clone());
        Ok(obj)
    }

    /// Atomically reads, transforms and writes one object. `f` sees the
    /// current object and returns the new one, or `None` to leave it
    /// unchanged (no new resourceVersion, no event). Returns (old, new).
    pub fn update_with<E>(
        &self,
        res: ResKey,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&Arc<Value>) -> Result<Option<Value>, E>,
    ) -> Result<Result<Change, E>, StoreError> {
        let mut inner = self.write();
        let key = (namespace.to_string(), name.to_string());
        let Some(old) = inner.tree(res, namespace, name) else {
            return Err(StoreError::NotFound {
                namespace: key.0,
                name: key.1,
            });
        };
        let new = match f(&old) {
            Err(e) => return Ok(Err(e)),
            Ok(None) => return Ok(Ok((old.clone(), old))),
            Ok(Some(new)) => new,
        };
        let rv = inner.rv + 1;
        let new = Arc::new(with_rv(new, rv));
        inner.rv = rv;
        inner.reindex_owners(res, &key, &old, &new);
        inner.put(res, key, new.clone(), rv);
        self.emit(&mut inner, EventType::Modified, res, new.clone());
        Ok(Ok((old, new)))
    }

    /// Replaces an object if its stored resourceVersion equals `expected`
    /// (when given).
    pub fn update(
        &self,
        res: ResKey,
        obj: Value,
        expected: Option<u64>,
    ) -> Result<Change, StoreError> {
        let (ns, name) = key_of(&obj);
        self.update_with(res, &ns, &name, |old| {
            let actual = crate::api::meta::resource_version(old).unwrap_or(0);
            match expected {
                Some(e) if e != actual => Err(StoreError::Conflict {
                    namespace: ns.clone(),
                    name: name.clone(),
                    expected: e,
                    actual,
                }),
                _ => Ok(Some(obj)),
            }
        })?
    }

    /// Removes an object; the DELETED event carries a new resourceVersion.
    pub fn delete(
        &self,
        res: ResKey,
        namespace: &str,
        name: &str,
        expected_uid: Option<&str>,
    ) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.write();
        let key = (namespace.to_string(), name.to_string());
        let found = inner.tree(res, namespace, name);
        let Some(old) = found else {
            return Err(StoreError::NotFound {
                namespace: key.0,
                name: key.1,
            });
        };
        if let Some(uid) = expected_uid
            && crate::api::meta::uid(&old) != uid
        {
            return Err(StoreError::NotFound {
                namespace: key.0,
                name: key.1,
            });
        }
        if let Some(objs) = inner.objects.get_mut(&res) {
            objs.remove(namespace, name);
        }
        inner.index_owners(res, &key, &old, false);
        let rv = inner.rv + 1;
        inner.rv = rv;
        let gone = Arc::new(with_rv((*old).clone(), rv));
        self.emit(&mut inner, EventType::Deleted, res, gone.clone());
        Ok(gone)
    }

    fn emit(&self, inner: &mut Inner, kind: EventType, res: ResKey, object: Arc<Value>) {
        let slot = Slot::Tree(object.clone());
        self.send(inner, WatchEvent::new(inner.rv, kind, res, object), slot);
    }

    /// Keeps `ev` in the watch history (as `slot`, the same object) and
    /// sends it to the live receivers.
    fn send(&self, inner: &mut Inner, ev: WatchEvent, slot: Slot) {
        if inner.history.len() >= inner.capacity
            && let Some(dropped) = inner.history.pop_front()
        {
            inner.oldest_rv = dropped.rv;
        }
        inner.history.push_back(HistoryEntry {
            rv: ev.rv,
            kind: ev.kind,
            res: ev.res,
            object: slot,
        });
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(Arc::new(ev));
    }

    /// Stores a new object in its packed form, which `encode` writes given
    /// the resourceVersion the object gets (it must write that version into
    /// the object's metadata): for objects the simulator assembles itself
    /// and nobody reads back as they are written (Events), so no tree is
    /// built, held or packed later. The object must have no
    /// ownerReferences (it is not indexed as a dependent). Returns the
    /// resourceVersion.
    pub fn create_packed(
        &self,
        res: ResKey,
        namespace: &str,
        name: &str,
        encode: impl FnOnce(u64) -> Arc<[u8]>,
    ) -> Result<u64, StoreError> {
        let mut inner = self.write();
        if inner
            .objects
            .get(&res)
            .is_some_and(|o| o.contains(namespace, name))
        {
            return Err(StoreError::AlreadyExists {
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        }
        let rv = inner.rv + 1;
        let bytes = encode(rv);
        inner.rv = rv;
        inner
            .objects
            .entry(res)
            .or_default()
            .insert(namespace, name, Slot::Packed(bytes.clone()));
        inner.pack_some();
        let ev = WatchEvent::packed(rv, EventType::Added, res, bytes.clone(), namespace, name);
        self.send(&mut inner, ev, Slot::Packed(bytes));
        Ok(rv)
    }

    /// Starts a watch on one resource from `from_rv` (exclusive): the
    /// events after it still in history, then a live receiver. Both are
    /// taken under one lock so nothing falls between them.
    pub fn watch(&self, res: ResKey, from_rv: u64) -> Result<WatchStart, StoreError> {
        let inner = self.read();
        if from_rv < inner.oldest_rv {
            return Err(StoreError::Expired {
                requested: from_rv,
                oldest: inner.oldest_rv,
            });
        }
        let backlog = inner
            .history
            .iter()
            .filter(|e| e.rv > from_rv && e.res == res)
            .map(|e| Arc::new(WatchEvent::new(e.rv, e.kind, e.res, e.object.tree())))
            .collect();
        Ok(WatchStart {
            backlog,
            live: self.events.subscribe(),
            start_rv: inner.rv,
        })
    }

    /// Packs the stored object `tree` (exactly that tree, not an equal
    /// copy) into its packed form and hands the bytes back, for a reader
    /// that lets its tree go and keeps the bytes instead (the controllers'
    /// snapshot, for objects nobody has read in a while): both then share
    /// one packed copy, and so does the watch history entry of the write
    /// that stored it. `None` when the store holds another version, or no
    /// such object, or holds it packed already (the caller keeps its tree).
    pub fn share_packed(&self, res: ResKey, tree: &Arc<Value>) -> Option<Arc<[u8]>> {
        let mut inner = self.write();
        let key = key_of(tree);
        let front = inner.history.front().map_or(0, |e| e.rv);
        let at = crate::api::meta::resource_version(tree)
            .and_then(|rv| usize::try_from(rv.checked_sub(front)?).ok());
        let slot = inner.objects.get_mut(&res)?.get_mut(&key.0, &key.1)?;
        let bytes = slot.pack_shared(tree)?;
        if let Some(entry) = at.and_then(|i| inner.history.get_mut(i)) {
            entry.object.adopt(tree, &bytes);
        }
        Some(bytes)
    }

    /// Every object whose ownerReferences name `owner_uid`, ordered by
    /// resource, namespace and name.
    pub fn dependents(&self, owner_uid: &str) -> Vec<(ResKey, Arc<Value>)> {
        let inner = self.read();
        let Some(set) = inner.dependents.get(owner_uid) else {
            return Vec::new();
        };
        let mut at: Vec<&Location> = set.iter().collect();
        at.sort_unstable();
        at.into_iter()
            .filter_map(|(res, ns, name)| {
                let obj = inner.tree(*res, ns, name)?;
                Some((*res, obj))
            })
            .collect()
    }

    /// A live receiver of every event, for controllers.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WatchEvent>> {
        self.events.subscribe()
    }

    /// Every resource that holds objects, for garbage collection and
    /// namespace deletion.
    pub fn resources(&self) -> Vec<ResKey> {
        let inner = self.read();
        let mut keys: Vec<ResKey> = inner
            .objects
            .iter()
            .filter(|(_, o)| !o.is_empty())
            .map(|(k, _)| *k)
            .collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests;
