//! Pod syncs computed ahead, on another core.
//!
//! `sync_pod` is a pure function of the stored pod, its node as the
//! kubelet sees it, the objects the pod refers to, the kubelet's memory of
//! the pod, the image catalog, the time, and a random stream drawn for
//! that one sync (`sync_seed`). When the runtime says which pods are due
//! next (`Controller::upcoming`), the kubelets hand those inputs to a
//! worker thread. When a pod's sync comes, its inputs are read as always,
//! and the worker's outcome is taken only if they are the very same: the
//! same stored pod and referenced objects (the same trees, or the same
//! resourceVersions of them), the same node view, the memory not written
//! since, the same time and catalog. So a run gives the same result
//! whether or not anything was computed ahead, on one core or two. (Only
//! on a virtual clock: under a wall clock the time a sync was computed
//! for has passed by its turn.)
//!
//! A sync that reaches the network (a shell's `wget`, an HTTP probe) or
//! the API server reads the cluster as it is at its own turn: the outcome
//! computed ahead is dropped and the sync runs in place.

use super::{NodeView, PodMemory, World};
use crate::api::meta;
use crate::sim::kubelet::{self, PodInput, PodOutcome};
use crate::sim::rng::Rng;
use crate::sim::snapshot::ObjectKey;
use crate::sim::workload::{ApiCall, ApiReply, Catalog, NetReply, NetRequest, Network};
use crate::store::fxhash::FxMap;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, mpsc};

/// A job's state: waiting for the worker, taken by it, done, or called
/// off by the sync that came first.
const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const DONE: u8 = 2;
const CALLED_OFF: u8 = 3;

/// At most this many outcomes are held; beyond, the oldest guesses (pods
/// whose sync never came) are dropped.
const HELD_AT_MOST: usize = 256;

/// How long a side waits busily before it sleeps: the worker for its next
/// job, a sync for the job the worker is computing (spins; a sync takes
/// tens of microseconds, and a sleep and a wake cost about as much).
const SPINS: u32 = 20_000;

/// Everything a sync reads, as read ahead.
pub(super) struct Inputs {
    pub pod: Arc<Value>,
    pub node: NodeView,
    pub world: World,
    pub memory: Arc<PodMemory>,
    /// The version of the kubelet's memory of the pod (0: none yet).
    pub memory_version: u64,
    pub catalog: Arc<Catalog>,
    pub now: Timestamp,
    pub seed: u64,
}

/// What a sync at its turn compares with what was read ahead.
pub(super) struct Reads<'a> {
    pub pod: &'a Arc<Value>,
    pub node: &'a NodeView,
    pub world: &'a World,
    pub memory_version: u64,
    pub catalog: &'a Arc<Catalog>,
    pub now: Timestamp,
    pub seed: u64,
}

/// The inputs a held outcome was computed from, less what only the worker
/// needed (the memory).
struct Basis {
    pod: Arc<Value>,
    node: NodeView,
    world: World,
    memory_version: u64,
    catalog: Arc<Catalog>,
    now: Timestamp,
    seed: u64,
}

impl Basis {
    fn matches(&self, r: &Reads<'_>) -> bool {
        same_object(&self.pod, r.pod)
            && self.now == r.now
            && self.seed == r.seed
            && self.memory_version == r.memory_version
            && Arc::ptr_eq(&self.catalog, r.catalog)
            && same_node(&self.node, r.node)
            && same_world(&self.world, r.world)
    }
}

/// The same view of the node: its sets the very same (or both empty).
fn same_node(a: &NodeView, b: &NodeView) -> bool {
    type Set = Arc<std::collections::BTreeSet<String>>;
    let same_set = |x: &Set, y: &Set| Arc::ptr_eq(x, y) || (x.is_empty() && y.is_empty());
    a.name == b.name
        && a.host_ip == b.host_ip
        && a.pod_cidr == b.pod_cidr
        && a.last_ip_host == b.last_ip_host
        && same_set(&a.used_ips, &b.used_ips)
        && same_set(&a.images, &b.images)
}

/// The same stored object: the very same tree, or the same version of it
/// (a store that packed the object decodes a new tree on each read; its
/// resourceVersion names its content).
fn same_object(a: &Arc<Value>, b: &Arc<Value>) -> bool {
    Arc::ptr_eq(a, b)
        || (meta::resource_version(a).is_some()
            && meta::resource_version(a) == meta::resource_version(b)
            && meta::uid(a) == meta::uid(b))
}

/// The same referenced objects under the same names.
fn same_world(a: &World, b: &World) -> bool {
    fn same(
        x: &std::collections::BTreeMap<String, Arc<Value>>,
        y: &std::collections::BTreeMap<String, Arc<Value>>,
    ) -> bool {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|((kx, vx), (ky, vy))| kx == ky && same_object(vx, vy))
    }
    same(&a.config_maps, &b.config_maps)
        && same(&a.secrets, &b.secrets)
        && same(&a.pvcs, &b.pvcs)
        && Arc::ptr_eq(&a.service_env, &b.service_env)
}

/// Where the worker leaves a job's outcome (None: the sync reached the
/// network).
struct Slot {
    state: AtomicU8,
    out: std::sync::Mutex<Option<Option<PodOutcome>>>,
}

struct Job {
    inputs: Inputs,
    slot: Arc<Slot>,
}

struct Held {
    id: u64,
    basis: Basis,
    slot: Arc<Slot>,
    /// Whether the sync takes an IP on its node.
    takes_ip: bool,
}

/// The worker thread and the outcomes it computed ahead.
#[derive(Default)]
pub(super) struct Ahead {
    jobs: Option<mpsc::Sender<Job>>,
    /// False once the worker has ended (it panicked on a job).
    alive: Arc<std::sync::atomic::AtomicBool>,
    held: FxMap<ObjectKey, Held>,
    /// Held keys in the order they were sent (for dropping the oldest).
    order: std::collections::VecDeque<(u64, ObjectKey)>,
    next_id: u64,
    /// Syncs that took an outcome computed ahead, outcomes started in
    /// vain, and syncs that waited for the worker (for tests and benches).
    pub taken: u64,
    pub wasted: u64,
    pub waited: u64,
}

/// A network that answers nothing and notes that it was asked.
#[derive(Default)]
struct Tripwire(std::cell::Cell<bool>);

impl Network for Tripwire {
    fn call(&self, _req: &NetRequest, _at: SignedDuration) -> NetReply {
        self.0.set(true);
        NetReply::Timeout
    }
    fn api(&self, _call: &ApiCall, _at: SignedDuration) -> ApiReply {
        self.0.set(true);
        ApiReply::Unreachable
    }
    fn dns_server(&self) -> String {
        self.0.set(true);
        String::new()
    }
}

/// The sync of `i`, on `network`.
fn compute(i: &Inputs, network: &dyn Network) -> PodOutcome {
    kubelet::sync_pod(
        &PodInput {
            pod: &i.pod,
            parsed: None,
            node: &i.node,
            world: &i.world,
            memory: &i.memory,
            catalog: &i.catalog,
            network,
        },
        i.now,
        &Rng::new(i.seed),
    )
}

/// Runs one job, unless its sync came first.
fn work(job: Job) {
    let slot = &job.slot;
    if slot
        .state
        .compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return;
    }
    let wire = Tripwire::default();
    let out = compute(&job.inputs, &wire);
    let out = (!wire.0.get()).then_some(out);
    *slot.out.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
    slot.state.store(DONE, Ordering::Release);
}

/// Notes the worker's end, however it ends.
struct Alive(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The worker: jobs in order, waiting busily a while for the next.
fn worker_loop(jobs: mpsc::Receiver<Job>, alive: Alive) {
    let _alive = alive;
    loop {
        let mut next = None;
        for _ in 0..SPINS {
            match jobs.try_recv() {
                Ok(job) => {
                    next = Some(job);
                    break;
                }
                Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
        let job = match next {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        work(job);
    }
}

impl Ahead {
    /// Whether another core is there to compute on.
    pub(super) fn worthwhile() -> bool {
        std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
    }

    /// Whether an outcome for `key` is held or on its way (None if not),
    /// and the node it takes an IP on, if it does.
    pub(super) fn taking_ip(&self, key: &ObjectKey) -> Option<Option<&str>> {
        let h = self.held.get(key)?;
        Some(h.takes_ip.then_some(h.basis.node.name.as_str()))
    }

    /// Starts the worker, the first time.
    fn worker(&mut self) -> Option<&mpsc::Sender<Job>> {
        if self.jobs.is_none() {
            let (tx, rx) = mpsc::channel::<Job>();
            self.alive = Arc::new(true.into());
            let alive = Alive(self.alive.clone());
            std::thread::Builder::new()
                .name("kdrill-kubelet-ahead".into())
                .spawn(move || worker_loop(rx, alive))
                .ok()?;
            self.jobs = Some(tx);
        }
        self.jobs.as_ref()
    }

    /// Hands `inputs` for `key`'s next sync (which takes an IP on its node
    /// if `takes_ip`) to the worker.
    pub(super) fn start(&mut self, key: ObjectKey, inputs: Inputs, takes_ip: bool) {
        self.next_id += 1;
        let id = self.next_id;
        let slot = Arc::new(Slot {
            state: AtomicU8::new(QUEUED),
            out: std::sync::Mutex::new(None),
        });
        let basis = Basis {
            pod: inputs.pod.clone(),
            node: inputs.node.clone(),
            world: inputs.world.clone(),
            memory_version: inputs.memory_version,
            catalog: inputs.catalog.clone(),
            now: inputs.now,
            seed: inputs.seed,
        };
        let job = Job {
            inputs,
            slot: slot.clone(),
        };
        let Some(jobs) = self.worker() else {
            return;
        };
        if jobs.send(job).is_err() {
            // The worker is gone (it panicked): syncs run in place.
            self.jobs = None;
            return;
        }
        while self.held.len() >= HELD_AT_MOST {
            let Some((old_id, old_key)) = self.order.pop_front() else {
                break;
            };
            if self.held.get(&old_key).is_some_and(|h| h.id == old_id) {
                self.drop_held(&old_key);
            }
        }
        if self.order.len() >= 4 * HELD_AT_MOST {
            // Forget the order of outcomes taken since.
            let held = &self.held;
            self.order
                .retain(|(id, k)| held.get(k).is_some_and(|h| h.id == *id));
        }
        self.order.push_back((id, key.clone()));
        let held = Held {
            id,
            basis,
            slot,
            takes_ip,
        };
        if let Some(old) = self.held.insert(key, held) {
            old.slot.state.store(CALLED_OFF, Ordering::Release);
        }
    }

    fn drop_held(&mut self, key: &ObjectKey) {
        if let Some(h) = self.held.remove(key) {
            h.slot.state.store(CALLED_OFF, Ordering::Release);
            self.wasted += 1;
        }
    }

    /// The outcome computed ahead for `key`'s sync reading `reads`, if
    /// there is one from the very same inputs (waiting for the worker if
    /// it is computing it now); else None, and the sync runs in place.
    pub(super) fn take(&mut self, key: &ObjectKey, reads: &Reads<'_>) -> Option<PodOutcome> {
        let held = self.held.remove(key)?;
        let state = &held.slot.state;
        if !held.basis.matches(reads) {
            state.store(CALLED_OFF, Ordering::Release);
            self.wasted += 1;
            return None;
        }
        // Not started yet: computing it here costs no more than waiting.
        if state
            .compare_exchange(QUEUED, CALLED_OFF, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.wasted += 1;
            return None;
        }
        // Taken by the worker: wait for it to be done.
        if state.load(Ordering::Acquire) != DONE {
            self.waited += 1;
            let mut spins = 0u32;
            while state.load(Ordering::Acquire) != DONE {
                if !self.alive.load(Ordering::Acquire) {
                    // The worker ended on a job: syncs run in place.
                    self.jobs = None;
                    return None;
                }
                spins += 1;
                if spins < SPINS {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        let out = held
            .slot
            .out
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .flatten();
        match &out {
            Some(_) => self.taken += 1,
            None => self.wasted += 1,
        }
        out
    }
}

/// The random stream of one sync: the kubelets' seed, the pod's uid and
/// how many syncs of it came before, so a sync draws the same numbers
/// wherever and whenever it is computed.
pub(super) fn sync_seed(seed: u64, uid: &str, syncs: u64) -> u64 {
    crate::sim::workload::catalog::fnv(uid, seed) ^ syncs.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t0() -> Timestamp {
        "2025-06-01T10:00:00Z".parse().expect("ts")
    }

    fn pod(command: &str) -> Arc<Value> {
        Arc::new(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "u-1",
                         "resourceVersion": "41"},
            "spec": {"nodeName": "kdrill-worker", "containers": [
                {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", command]}]},
            "status": {"phase": "Pending"},
        }))
    }

    fn node() -> NodeView {
        NodeView {
            name: "kdrill-worker".into(),
            host_ip: "172.18.0.3".into(),
            pod_cidr: "10.244.1.0/24".into(),
            ..Default::default()
        }
    }

    fn inputs(pod: &Arc<Value>, catalog: &Arc<Catalog>, world: &World) -> Inputs {
        Inputs {
            pod: pod.clone(),
            node: node(),
            world: world.clone(),
            memory: Arc::default(),
            memory_version: 3,
            catalog: catalog.clone(),
            now: t0(),
            seed: 7,
        }
    }

    /// What a sync reads when nothing changed since `inputs`.
    fn same_reads<'a>(
        pod: &'a Arc<Value>,
        node: &'a NodeView,
        world: &'a World,
        catalog: &'a Arc<Catalog>,
    ) -> Reads<'a> {
        Reads {
            pod,
            node,
            world,
            memory_version: 3,
            catalog,
            now: t0(),
            seed: 7,
        }
    }

    /// Waits until the worker is done with `key`'s job.
    fn answered(ahead: &mut Ahead, key: &ObjectKey) {
        for _ in 0..10_000 {
            if ahead
                .held
                .get(key)
                .is_none_or(|h| h.slot.state.load(Ordering::Acquire) == DONE)
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("no answer from the worker");
    }

    #[test]
    fn an_outcome_is_taken_only_for_the_very_inputs_it_was_computed_from() {
        let key = ObjectKey::new("default", "p");
        let p = pod("echo hi; sleep 3600");
        let catalog = Arc::new(Catalog::default());
        let world = World::default();
        let in_place = |pod: &Arc<Value>| {
            compute(
                &inputs(pod, &catalog, &world),
                &crate::sim::workload::NoNetwork,
            )
        };
        // The same version decoded again is the same pod; another is not.
        let decoded = Arc::new((*p).clone());
        let mut newer = (*p).clone();
        newer["metadata"]["resourceVersion"] = json!("42");
        let other_pod = Arc::new(newer);
        let other_catalog = Arc::new(Catalog::default());
        let mut other_world = World::default();
        other_world
            .config_maps
            .insert("cm".into(), Arc::new(json!({})));
        let other_node = NodeView {
            last_ip_host: 9,
            ..node()
        };
        let base = node();
        let reads = || same_reads(&p, &base, &world, &catalog);
        let changes: Vec<(&str, Reads<'_>)> = vec![
            (
                "another version of the pod",
                Reads {
                    pod: &other_pod,
                    ..reads()
                },
            ),
            (
                "another node view",
                Reads {
                    node: &other_node,
                    ..reads()
                },
            ),
            (
                "another world",
                Reads {
                    world: &other_world,
                    ..reads()
                },
            ),
            (
                "memory written since",
                Reads {
                    memory_version: 4,
                    ..reads()
                },
            ),
            (
                "another catalog",
                Reads {
                    catalog: &other_catalog,
                    ..reads()
                },
            ),
            (
                "another time",
                Reads {
                    now: t0() + SignedDuration::from_secs(1),
                    ..reads()
                },
            ),
            ("another random stream", Reads { seed: 8, ..reads() }),
        ];
        let mut ahead = Ahead::default();
        for (what, changed) in &changes {
            ahead.start(key.clone(), inputs(&p, &catalog, &world), false);
            answered(&mut ahead, &key);
            assert!(ahead.take(&key, changed).is_none(), "{what}");
        }
        for pod in [&p, &decoded] {
            ahead.start(key.clone(), inputs(&p, &catalog, &world), false);
            answered(&mut ahead, &key);
            let got = ahead
                .take(&key, &Reads { pod, ..reads() })
                .expect("the same inputs");
            assert_eq!(format!("{got:?}"), format!("{:?}", in_place(&p)));
        }
        assert_eq!((ahead.taken, ahead.wasted), (2, changes.len() as u64));
        // Taken once: the next sync computes in place.
        assert!(ahead.take(&key, &reads()).is_none());
    }

    #[test]
    fn a_sync_that_reaches_the_network_is_not_computed_ahead() {
        let key = ObjectKey::new("default", "p");
        let catalog = Arc::new(Catalog::default());
        let world = World::default();
        let p = pod("wget -qO- http://10.96.0.1; sleep 3600");
        let mut ahead = Ahead::default();
        let mut i = inputs(&p, &catalog, &world);
        // Running since a while: the shell makes its call in this sync.
        let first = compute(&i, &crate::sim::workload::NoNetwork);
        i.memory = Arc::new(first.memory);
        i.now = first.wake_at.unwrap_or(i.now) + SignedDuration::from_secs(60);
        let now = i.now;
        let base = node();
        ahead.start(key.clone(), i, false);
        answered(&mut ahead, &key);
        let reads = Reads {
            pod: &p,
            node: &base,
            world: &world,
            memory_version: 3,
            catalog: &catalog,
            now,
            seed: 7,
        };
        assert!(ahead.take(&key, &reads).is_none());
        assert_eq!(ahead.wasted, 1);
    }

    #[test]
    fn what_is_held_stays_bounded() {
        let catalog = Arc::new(Catalog::default());
        let world = World::default();
        let p = pod("sleep 3600");
        let mut ahead = Ahead::default();
        // Guesses whose syncs never come, and outcomes taken (or called
        // off) at once.
        for i in 0..1_500 {
            let key = ObjectKey::new("default", format!("p{i}"));
            ahead.start(key.clone(), inputs(&p, &catalog, &world), false);
            if i % 2 == 0 {
                let base = node();
                let _ = ahead.take(&key, &same_reads(&p, &base, &world, &catalog));
            }
        }
        assert!(ahead.held.len() <= HELD_AT_MOST, "{}", ahead.held.len());
        assert!(
            ahead.order.len() <= 4 * HELD_AT_MOST,
            "{}",
            ahead.order.len()
        );
    }

    #[test]
    fn a_sync_stream_depends_on_the_pod_and_its_count_of_syncs() {
        let a = sync_seed(1, "u-1", 0);
        assert_eq!(a, sync_seed(1, "u-1", 0));
        assert_ne!(a, sync_seed(1, "u-1", 1));
        assert_ne!(a, sync_seed(1, "u-2", 0));
        assert_ne!(a, sync_seed(2, "u-1", 0));
    }
}
