//! The simulator runtime: runs controllers as level-triggered reconcilers.
//!
//! A controller is a pure function of a `Snapshot`, a key and the time,
//! returning `Action`s (kube-rs `reconcile`, without the IO). The runtime
//! owns everything else: it keeps the snapshot current from store events
//! and from its own writes, maps changes to keys with each controller's
//! `keys_for`, applies actions through the `Registry` (the code HTTP writes
//! use, so a controller obeys admission, validation and quota like
//! `kubectl`), records events with upstream's aggregation, and honours
//! `requeue_after` with timers on the clock.
//!
//! With a `WallClock` it runs as a task (`Runtime::run`); with a
//! `VirtualClock`, tests call `run_until_idle` and `advance_to_next_timer`
//! and nothing sleeps.

use super::clock::VirtualClock;
use super::event::EventSpec;
use super::event_ttl::EventTtl;
use super::recorder::Recorder;
use super::snapshot::{ObjectKey, Snapshot, res};
use crate::api::meta;
use crate::registry::options::{DeleteOptions, WriteOptions};
use crate::registry::{PatchType, Registry, lookup_res};
use crate::store::fxhash::{FxBuildHasher, FxMap};
use crate::store::{EventType, ResKey, WatchEvent};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// One write a controller asks for. (Actions live for one reconcile, so
/// the size of the `Create` variant does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `POST` an object. `on_created`'s message gets the new object's name
    /// appended (`Created pod: web-x2k4z`); `on_failed`'s gets the
    /// apiserver's error message (`Error creating: pods "x" is forbidden: ...`).
    /// A message holding `NAME_PLACEHOLDER` gets the name there instead
    /// (`create Pod web-0 in StatefulSet web successful`).
    Create {
        res: ResKey,
        namespace: String,
        object: Value,
        on_created: Option<EventSpec>,
        on_failed: Option<EventSpec>,
    },
    /// A JSON merge patch of the object, or of its `status` subresource.
    Patch {
        res: ResKey,
        key: ObjectKey,
        patch: Value,
        status: bool,
    },
    /// `DELETE` with a uid precondition; `on_deleted` is recorded after.
    Delete {
        res: ResKey,
        key: ObjectKey,
        uid: String,
        on_deleted: Option<EventSpec>,
    },
    /// `pods/binding`: assigns a pending pod to a node; `on_bound` is
    /// recorded once the binding succeeded.
    Bind {
        key: ObjectKey,
        uid: String,
        node: String,
        on_bound: Option<EventSpec>,
    },
    /// Records an event.
    Event(EventSpec),
}

/// Where an `on_created` message wants the new object's name.
pub const NAME_PLACEHOLDER: &str = "{name}";

/// Completes an `on_created` event with the object created: an event
/// about that very object (its kind, namespace and name, no uid yet) gets
/// its uid and keeps its message (a Lease's `LeaderElection`); any other
/// gets the object's name in its message (`complete_message`).
pub fn complete_created_event(ev: &mut EventSpec, created: &Value) {
    let about_it = ev.involved.uid.is_empty()
        && ev.involved.name == meta::name(created)
        && ev.involved.namespace == meta::namespace(created)
        && created.get("kind").and_then(Value::as_str) == Some(ev.involved.kind.as_str());
    if about_it {
        ev.involved.uid = meta::uid(created).to_string();
    } else {
        complete_message(&mut ev.message, meta::name(created));
    }
}

/// Puts the created object's name into an `on_created` message.
pub fn complete_message(message: &mut String, name: &str) {
    if message.contains(NAME_PLACEHOLDER) {
        *message = message.replace(NAME_PLACEHOLDER, name);
    } else {
        message.push_str(name);
    }
}

/// What a reconcile decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciled {
    pub actions: Vec<Action>,
    /// Look again after this long even if nothing changes.
    pub requeue_after: Option<SignedDuration>,
}

impl Reconciled {
    pub fn none() -> Self {
        Self::default()
    }
}

/// A level-triggered controller.
pub trait Controller: Send + Sync {
    /// For logs.
    fn name(&self) -> &'static str;
    /// The resources it reads (the runtime keeps them in the snapshot).
    fn watches(&self) -> &'static [ResKey];
    /// The keys to reconcile after `obj` of `res` changed (or was deleted).
    fn keys_for(&self, snap: &Snapshot, res: ResKey, obj: &Value) -> Vec<ObjectKey>;
    /// `keys_for`, told whether the change was a delete, as the runtime
    /// knows. A controller that would look the object up in the snapshot
    /// to tell (a deleted one is gone from it) answers from this instead.
    fn keys_for_change(
        &self,
        snap: &Snapshot,
        res: ResKey,
        obj: &Value,
        deleted: bool,
    ) -> Vec<ObjectKey> {
        let _ = deleted;
        self.keys_for(snap, res, obj)
    }
    /// Decides what to do for `key`. Pure: no IO, no locks.
    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled;
    /// Whether a reconcile of `key`, run right after this controller's own
    /// write to the object `key` names (its status), always finds nothing
    /// to do. The runtime then does not hand that write's event back to
    /// the same key, as the kubelet ignores its own status writes; debug
    /// builds run the skipped reconcile anyway and assert it is empty.
    fn settles_own_writes(&self) -> bool {
        false
    }
    /// Whether the controller wants to hear which of its keys are due
    /// next (`upcoming`).
    fn looks_ahead(&self) -> bool {
        false
    }
    /// Told, before its reconcile of `current`, which of its keys come
    /// next: queued ones (due now) and those of the earliest timers (due
    /// at their times), so it can start on them elsewhere (the kubelets
    /// compute pod syncs on another core). Advisory: no reconcile may
    /// return anything else for having been told.
    fn upcoming(&self, snap: &Snapshot, current: &ObjectKey, next: &[(&ObjectKey, Timestamp)]) {
        let _ = (snap, current, next);
    }
}

type Work = (usize, ObjectKey);

/// Retry delay after a failed write: 1s doubling to 5m.
fn backoff(failures: u32) -> SignedDuration {
    let secs = 1i64 << failures.min(9);
    SignedDuration::from_secs(secs.min(300))
}

/// How often, in the clock's time, the runtime packs what its controllers
/// have not read since the last time (`Snapshot::pack_cold`).
const SWEEP_EVERY: SignedDuration = SignedDuration::from_secs(60);
/// It also sweeps after observing this many store events, so a cluster
/// filled faster than its clock moves (a script creating thousands of pods
/// at one instant) is swept too. A sweep visits every object once (a flag
/// test for most): about ten visits per event at 150,000 objects.
const SWEEP_AFTER_EVENTS: usize = 16_384;
/// How many of a controller's next keys `upcoming` hears of, and how far
/// into the queue and the timers the runtime looks for them.
const LOOK_AHEAD: usize = 4;
const LOOK_AHEAD_SCAN: usize = 64;
/// Below this many pods a sweep leaves pods with a pending timer decoded
/// (`sweep_if_due`); a 150,000-pod cluster packs them as it creates them.
const KEEP_WAITING_PODS_BELOW: usize = 20_000;

/// Runs controllers over a registry.
pub struct Runtime {
    registry: Arc<Registry>,
    controllers: Vec<Box<dyn Controller>>,
    snapshot: Snapshot,
    /// The watched resources in order (`watchers`' keys), for a resync.
    watched: Vec<ResKey>,
    /// The controllers (by index) that watch each resource.
    watchers: FxMap<ResKey, Vec<usize>>,
    events: tokio::sync::broadcast::Receiver<Arc<WatchEvent>>,
    queue: VecDeque<Work>,
    queued: HashSet<Work, FxBuildHasher>,
    timers: BTreeMap<(Timestamp, u64), Work>,
    /// The pending timer of each key (one per key: the earliest).
    timer_of: FxMap<Work, (Timestamp, u64)>,
    timer_seq: u64,
    failures: FxMap<Work, u32>,
    recorder: Recorder,
    /// Store events observed since the last sweep, and when it was.
    observed: usize,
    swept_at: Timestamp,
    /// Event writes waiting for their hour (`--event-ttl`) to run out.
    event_ttl: EventTtl,
    /// The newest store version observed, so a resync can find the Event
    /// writes it did not see.
    seen_rv: u64,
    /// Writes a controller that `settles_own_writes` made to the object it
    /// was reconciling, until their store events are observed: resource,
    /// key, resourceVersion written and the controller. Rarely more than
    /// one (a status patch per reconcile).
    own_writes: Vec<(ResKey, ObjectKey, u64, usize)>,
    /// The work those writes' events were not handed back to, for
    /// `check_settled` (debug builds only).
    skipped: Vec<Work>,
}

impl Runtime {
    /// Subscribes to the store, lists what the controllers watch and
    /// queues every key once (the initial sync).
    pub fn new(registry: Arc<Registry>, controllers: Vec<Box<dyn Controller>>) -> Self {
        let events = registry.store.subscribe();
        let swept_at = registry.clock.now();
        let mut watchers: FxMap<ResKey, Vec<usize>> = FxMap::default();
        for (i, c) in controllers.iter().enumerate() {
            for &res in c.watches() {
                let list = watchers.entry(res).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        let mut watched: Vec<ResKey> = watchers.keys().copied().collect();
        watched.sort();
        let mut rt = Self {
            registry,
            controllers,
            snapshot: Snapshot::new(),
            watched,
            watchers,
            events,
            queue: VecDeque::new(),
            queued: HashSet::default(),
            timers: BTreeMap::new(),
            timer_of: FxMap::default(),
            timer_seq: 0,
            failures: FxMap::default(),
            recorder: Recorder::new(),
            observed: 0,
            swept_at,
            event_ttl: EventTtl::default(),
            seen_rv: 0,
            own_writes: Vec::new(),
            skipped: Vec::new(),
        };
        rt.resync();
        rt
    }

    /// The runtime's current view.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Re-lists every watched resource and queues every key.
    fn resync(&mut self) {
        // Everything is queued again, own writes too.
        self.own_writes.clear();
        for res in self.watched.clone() {
            let (items, _) = self.registry.store.list(res, None);
            self.snapshot.replace(res, items.clone());
            for obj in items {
                self.enqueue_for(res, &obj, false);
            }
        }
        self.note_unobserved_events();
    }

    /// Notes the Event writes the runtime did not observe (those before it
    /// started, or those a lagged receiver skipped), so they expire too:
    /// from the store's watch history, or from its list when the history no
    /// longer reaches back (and at start, when nothing was seen yet: a watch
    /// from version 0 answers Expired). Their hour counts from now.
    fn note_unobserved_events(&mut self) {
        let store = &self.registry.store;
        let missed = match store.watch(res::EVENTS, self.seen_rv) {
            Ok(start) => start.backlog,
            Err(_) => {
                let (items, _) = store.list(res::EVENTS, None);
                items
                    .into_iter()
                    .filter_map(|object| {
                        let rv = meta::resource_version(&object)?;
                        (rv > self.seen_rv).then(|| {
                            Arc::new(WatchEvent::new(rv, EventType::Added, res::EVENTS, object))
                        })
                    })
                    .collect()
            }
        };
        for ev in &missed {
            self.seen_rv = self.seen_rv.max(ev.rv);
            self.event_ttl.note(ev, &*self.registry.clock);
        }
    }

    fn enqueue(&mut self, work: Work) {
        if self.queued.insert(work.clone()) {
            self.queue.push_back(work);
        }
    }

    fn enqueue_for(&mut self, res: ResKey, obj: &Value, deleted: bool) {
        let own = self.take_own_write(res, obj);
        let mut keys = Vec::new();
        // In controller order, as before the per-resource lists.
        for &i in self.watchers.get(&res).into_iter().flatten() {
            if let Some(c) = self.controllers.get(i) {
                for k in c.keys_for_change(&self.snapshot, res, obj, deleted) {
                    if own.as_ref().is_some_and(|(c, key)| *c == i && *key == k) {
                        if cfg!(debug_assertions) {
                            self.skipped.push((i, k));
                        }
                        continue;
                    }
                    keys.push((i, k));
                }
            }
        }
        for k in keys {
            self.enqueue(k);
        }
    }

    /// The controller and key whose own write `obj` (as observed) is, if
    /// it is one.
    fn take_own_write(&mut self, res: ResKey, obj: &Value) -> Option<(usize, ObjectKey)> {
        if self.own_writes.is_empty() {
            return None;
        }
        let (ns, name) = (meta::namespace(obj), meta::name(obj));
        let at = self
            .own_writes
            .iter()
            .position(|(r, k, _, _)| *r == res && k.name == name && k.namespace == ns)?;
        let seen = meta::resource_version(obj);
        let rv = self.own_writes[at].2;
        if seen.is_some_and(|seen| seen < rv) {
            // An earlier write of the same object, observed late.
            return None;
        }
        let (_, key, _, controller) = self.own_writes.swap_remove(at);
        (seen == Some(rv)).then_some((controller, key))
    }

    /// Debug builds check what `settles_own_writes` promises, once the
    /// events pumped are all observed: a reconcile of a skipped key that
    /// nothing else queued finds nothing to do.
    fn check_settled(&mut self) {
        for (i, key) in std::mem::take(&mut self.skipped) {
            if self.queued.contains(&(i, key.clone())) {
                continue;
            }
            if let Some(c) = self.controllers.get(i) {
                let out = c.reconcile(&self.snapshot, &key, self.registry.clock.now());
                debug_assert!(
                    out.actions.is_empty(),
                    "{} does not settle after its own write to {key}: {:?}",
                    c.name(),
                    out.actions
                );
            }
        }
    }

    fn observe(&mut self, ev: &WatchEvent) {
        self.seen_rv = self.seen_rv.max(ev.rv);
        self.event_ttl.note(ev, &*self.registry.clock);
        if !self.watchers.contains_key(&ev.res) {
            return;
        }
        self.observed += 1;
        let object = ev.object();
        match ev.kind {
            EventType::Deleted => self.snapshot.remove(ev.res, object),
            EventType::Added | EventType::Modified => {
                self.snapshot.upsert(ev.res, object.clone());
            }
        }
        self.enqueue_for(ev.res, object, ev.kind == EventType::Deleted);
    }

    /// Takes in every store event received so far.
    fn pump(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(ev) => self.observe(&ev),
                Err(TryRecvError::Lagged(_)) => self.resync(),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if !self.skipped.is_empty() {
            self.check_settled();
        }
    }

    /// Packs the snapshot's cold objects (and the store's copies with
    /// them) every `SWEEP_EVERY` of clock time or `SWEEP_AFTER_EVENTS`
    /// events, and deletes the Events whose hour has run out.
    fn sweep_if_due(&mut self) {
        let now = self.registry.clock.now();
        let by_events = self.observed >= SWEEP_AFTER_EVENTS;
        if !by_events && now.duration_since(self.swept_at) < SWEEP_EVERY {
            return;
        }
        self.observed = 0;
        self.swept_at = now;
        let store = &self.registry.store;
        // A pod with a timer pending (a kubelet waiting out an image pull
        // or a start) is read again soon: packing it now costs a pack and a
        // decode. Such pods stay decoded unless the cluster is big enough
        // for their trees to matter.
        let waiting: HashSet<(&str, &str), FxBuildHasher> =
            if self.snapshot.count(res::PODS) < KEEP_WAITING_PODS_BELOW {
                self.timer_of
                    .keys()
                    .map(|(_, k)| (k.namespace.as_str(), k.name.as_str()))
                    .collect()
            } else {
                HashSet::default()
            };
        let packed = self.snapshot.pack_cold(|res, tree| {
            if res == res::PODS && waiting.contains(&(meta::namespace(tree), meta::name(tree))) {
                return None;
            }
            store.share_packed(res, tree)
        });
        let expired = self.event_ttl.expire(&self.registry, now);
        tracing::debug!(
            "simulator runtime: packed {packed} objects nobody read, {expired} Events expired"
        );
    }

    /// Moves timers that are due into the queue.
    fn fire_due_timers(&mut self) {
        let now = self.registry.clock.now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let work = entry.remove();
            self.timer_of.remove(&work);
            self.enqueue(work);
        }
    }

    fn schedule(&mut self, work: Work, after: SignedDuration) {
        let at = self
            .registry
            .clock
            .now()
            .checked_add(after)
            .unwrap_or(Timestamp::MAX);
        // One pending timer per key is enough: keep the earliest.
        if let Some(&k) = self.timer_of.get(&work) {
            if k.0 <= at {
                return;
            }
            self.timers.remove(&k);
        }
        self.timer_seq += 1;
        let k = (at, self.timer_seq);
        self.timer_of.insert(work.clone(), k);
        self.timers.insert(k, work);
    }

    /// Reconciles one queued key. False when there was nothing to do.
    pub fn step(&mut self) -> bool {
        self.pump();
        self.sweep_if_due();
        self.fire_due_timers();
        let Some(work) = self.queue.pop_front() else {
            return false;
        };
        self.queued.remove(&work);
        let now = self.registry.clock.now();
        let Some(controller) = self.controllers.get(work.0) else {
            return true;
        };
        if controller.looks_ahead() {
            let next = self.next_of(work.0, now);
            if !next.is_empty() {
                controller.upcoming(&self.snapshot, &work.1, &next);
            }
        }
        let out = controller.reconcile(&self.snapshot, &work.1, now);
        let own_before = self.own_writes.len();
        let mut failed = false;
        for action in out.actions {
            // Like upstream's slow-start batches: after one refused create,
            // the others of this sync are not tried.
            if failed && matches!(action, Action::Create { .. }) {
                continue;
            }
            failed |= !self.apply(&work, action);
        }
        if failed {
            // A reconcile that failed part-way is handed its own writes
            // back, as upstream's update handler would: the next pass may
            // retry at once (another FailedCreate) rather than after the
            // back-off.
            self.own_writes.truncate(own_before);
            let n = self.failures.entry(work.clone()).or_insert(0);
            let delay = backoff(*n);
            *n += 1;
            self.schedule(work, delay);
        } else {
            self.failures.remove(&work);
            if let Some(after) = out.requeue_after {
                self.schedule(work, after.max(SignedDuration::ZERO));
            }
        }
        true
    }

    /// Controller `c`'s keys that come next, with when: those queued (now),
    /// then those of the earliest timers (at their times). Borrowed: most
    /// are computed ahead already, and a copy of each key per reconcile
    /// cost two allocations.
    fn next_of(&self, c: usize, now: Timestamp) -> Vec<(&ObjectKey, Timestamp)> {
        let queued = self
            .queue
            .iter()
            .take(LOOK_AHEAD_SCAN)
            .filter(|w| w.0 == c)
            .map(|w| (&w.1, now));
        let timed = self
            .timers
            .iter()
            .take(LOOK_AHEAD_SCAN)
            .filter(|(_, w)| w.0 == c)
            .map(|((at, _), w)| (&w.1, *at));
        queued.chain(timed).take(LOOK_AHEAD).collect()
    }

    /// Reconciles until nothing is queued and no timer is due. Returns the
    /// number of reconciles run (bounded, so a controller that never
    /// settles cannot hang a test).
    pub fn run_until_idle(&mut self) -> usize {
        const LIMIT: usize = 1_000_000;
        let mut n = 0;
        while n < LIMIT && self.step() {
            n += 1;
        }
        if n == LIMIT {
            tracing::warn!("simulator runtime did not settle after {LIMIT} reconciles");
        }
        n
    }

    /// When the next timer fires.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.timers.keys().next().map(|k| k.0)
    }

    /// Moves a virtual clock to the next timer and runs until idle. False
    /// when no timer is pending.
    pub fn advance_to_next_timer(&mut self, clock: &VirtualClock) -> bool {
        self.run_until_idle();
        let Some(at) = self.next_timer() else {
            return false;
        };
        let now = self.registry.clock.now();
        clock.advance(at.duration_since(now));
        self.run_until_idle();
        true
    }

    /// Moves a virtual clock to `target`, stepping through every timer
    /// due on the way (back-offs, probes) and running until idle at each,
    /// so the result is what real time would have produced. Runs until
    /// idle first, so writes made since the last call are reacted to at
    /// the time they were made ("settle").
    pub fn advance_until(&mut self, clock: &VirtualClock, target: Timestamp) {
        self.run_until_idle();
        // Bounded: a controller that keeps requeueing at `now` must not
        // hang the caller.
        for _ in 0..10_000_000 {
            let now = self.registry.clock.now();
            match self.next_timer() {
                Some(at) if at <= target && at > now => {
                    clock.advance(at.duration_since(now));
                }
                Some(at) if at <= now => {
                    tracing::warn!("simulator runtime: a timer stays due at {now}");
                    break;
                }
                _ => break,
            }
            self.run_until_idle();
        }
        let now = self.registry.clock.now();
        if target > now {
            clock.advance(target.duration_since(now));
        }
        self.run_until_idle();
    }

    /// Runs forever against a real clock: reconciles on store events and
    /// when timers fall due.
    pub async fn run(mut self) {
        loop {
            self.run_until_idle();
            let wait = match self.next_timer() {
                Some(at) => {
                    let left = at.duration_since(self.registry.clock.now());
                    // Simulated time may run faster than real time: look
                    // again at least every 200ms.
                    std::time::Duration::try_from(left)
                        .unwrap_or_default()
                        .min(std::time::Duration::from_millis(200))
                }
                None => std::time::Duration::from_secs(3600),
            };
            tokio::select! {
                ev = self.events.recv() => match ev {
                    Ok(ev) => self.observe(&ev),
                    Err(RecvError::Lagged(_)) => self.resync(),
                    Err(RecvError::Closed) => return,
                },
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Applies one action; false when the write failed.
    fn apply(&mut self, work: &Work, action: Action) -> bool {
        let opts = WriteOptions::internal();
        match action {
            Action::Create {
                res,
                namespace,
                object,
                on_created,
                on_failed,
            } => {
                let Some(info) = lookup_res(res) else {
                    return false;
                };
                let owner = object.clone();
                match self.registry.create(info, &namespace, object, &opts) {
                    Ok(w) => {
                        self.snapshot.note_create(&namespace, &owner, None);
                        if let Some(mut ev) = on_created {
                            complete_created_event(&mut ev, &w.object);
                            self.recorder.record(&self.registry, &ev);
                        }
                        self.snapshot.upsert(res, w.object);
                        true
                    }
                    Err(e) => {
                        self.snapshot
                            .note_create(&namespace, &owner, Some(e.message.clone()));
                        if let Some(mut ev) = on_failed {
                            ev.message.push_str(&e.message);
                            self.recorder.record(&self.registry, &ev);
                        }
                        tracing::debug!("create {}: {}", info.plural, e.message);
                        false
                    }
                }
            }
            Action::Patch {
                res,
                key,
                patch,
                status,
            } => {
                let Some(info) = lookup_res(res) else {
                    return false;
                };
                let sub = status.then_some("status");
                match self.registry.patch(
                    info,
                    &key.namespace,
                    &key.name,
                    PatchType::Merge,
                    &patch,
                    sub,
                    &opts,
                ) {
                    Ok(w) => {
                        if key == work.1
                            && self
                                .controllers
                                .get(work.0)
                                .is_some_and(|c| c.settles_own_writes())
                            && let Some(rv) = meta::resource_version(&w.object)
                        {
                            self.own_writes.push((res, key, rv, work.0));
                        }
                        self.snapshot.upsert(res, w.object);
                        true
                    }
                    Err(e) => {
                        tracing::debug!("patch {} {key}: {}", info.plural, e.message);
                        // Gone is not a failure worth retrying.
                        e.code == 404
                    }
                }
            }
            Action::Delete {
                res,
                key,
                uid,
                on_deleted,
            } => {
                let Some(info) = lookup_res(res) else {
                    return false;
                };
                let opts = DeleteOptions {
                    precondition_uid: Some(uid),
                    ..Default::default()
                };
                match self.registry.delete(info, &key.namespace, &key.name, &opts) {
                    Ok(gone) => {
                        if let Some(ev) = on_deleted {
                            self.recorder.record(&self.registry, &ev);
                        }
                        if meta::is_deleting(&gone)
                            && self
                                .registry
                                .store
                                .get(res, &key.namespace, &key.name)
                                .is_some()
                        {
                            self.snapshot.upsert(res, gone);
                        } else {
                            self.snapshot.remove(res, &gone);
                        }
                        true
                    }
                    Err(e) => e.code == 404,
                }
            }
            Action::Bind {
                key,
                uid,
                node,
                on_bound,
            } => {
                match self
                    .registry
                    .bind_pod(&key.namespace, &key.name, Some(&uid), &node)
                {
                    Ok(pod) => {
                        if let Some(ev) = on_bound {
                            self.recorder.record(&self.registry, &ev);
                        }
                        self.snapshot.upsert(super::snapshot::res::PODS, pod);
                        true
                    }
                    Err(e) => {
                        tracing::debug!("bind {key}: {}", e.message);
                        e.code == 404
                    }
                }
            }
            Action::Event(spec) => {
                self.recorder.record(&self.registry, &spec);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests;
