//! The kubelets of the simulated nodes, wired to the store: one component
//! keyed by pod that drives the pure per-pod state machine
//! (`sim::kubelet::sync_pod`) and does its IO.
//!
//! For each pod bound to a node it keeps the container runtime's memory
//! (`PodMemory`); for each node the images pulled onto it and the pod IPs in
//! use. A sync reads the pod, its node and the ConfigMaps, Secrets and PVCs
//! the pod references straight from the store, then writes the new `status`
//! through the registry's status subresource (only when it changed),
//! records the kubelet's events at the time they happened, and deletes the
//! pod for good once graceful termination is over.
//!
//! The runtime drives it through [`KubeletController`]: pod, node,
//! ConfigMap, Secret and PVC changes map to the pods they concern, and the
//! state machine's `wake_at` becomes the controller's requeue timer. The
//! API server reaches it (logs, exec, metrics) through `Kubelets`'s own
//! methods, which sync the pod to the clock's `now` first.
//!
//! Where a second core is there, the pods the runtime says are due next
//! have their `sync_pod` computed ahead on it (`ahead`); a sync takes that
//! outcome only when it read the very same inputs, so results do not
//! depend on it. Each sync draws from its own random stream (the seed,
//! the pod's uid and its count of syncs), wherever it is computed.

use crate::api::meta;
use crate::api::object::{object, text};
use crate::api::pointer::Pointer;
use crate::registry::options::{DeleteOptions, WriteOptions};
use crate::registry::{Registry, lookup_res};
use crate::sim::ingress::IngressObjects;
use crate::sim::kubelet::api_client::InCluster;
use crate::sim::kubelet::service_env::service_env;
use crate::sim::kubelet::static_pods::{self, StaticPod};
use crate::sim::kubelet::view::{self, ExecError, ExecOutput, ExecRequest};
use crate::sim::kubelet::{
    self, CState, NodeView, PodInput, PodMemory, PodSpec, ServiceEnv, World,
};
use crate::sim::network::{self, Caller, ClusterView, PodInfo, PodNetwork, Serving};
use crate::sim::recorder::Recorder;
use crate::sim::rng::Rng;
use crate::sim::runtime::{Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::sim::workload::catalog::ImageInfo;
use crate::sim::workload::{AppBehaviour, Catalog, NoNetwork, Protocol};
use crate::store::ResKey;
use crate::store::fxhash::FxBuildHasher;
use jiff::Timestamp;
use serde_json::Value;
use serde_json::map::{Map, MapWeak};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::sim::controllers::kubelet_eviction;
use crate::sim::controllers::nodelifecycle::{LEASE_NAMESPACE, LEASES};
use crate::sim::snapshot::res::{CONFIGMAPS, PVCS, SECRETS, SERVICES};

const NAMESPACES: ResKey = ResKey {
    group: "",
    resource: "namespaces",
};
const NETWORKPOLICIES: ResKey = ResKey {
    group: "networking.k8s.io",
    resource: "networkpolicies",
};

/// What the kubelet remembers of one pod.
struct PodEntry {
    uid: String,
    node: String,
    /// Shared with a sync computed ahead (`ahead`), which reads it.
    memory: Arc<PodMemory>,
    /// The resourceVersion of the kubelet's own last status write, so the
    /// watch event it causes does not trigger another sync.
    written_rv: Option<u64>,
    /// The pod's spec as the last sync parsed it, while another sync is
    /// due (`KEEP_PARSES_BELOW`).
    parsed: Option<Box<Parsed>>,
    /// Changes with every write of `memory` (from `State::versions`), so a
    /// sync computed ahead can tell it read the memory as it still is.
    version: u64,
    /// The syncs of the pod so far (each draws its own random stream).
    syncs: u64,
}

/// Parses are kept only for a pod with another sync due, and only while
/// the kubelets know fewer pods than this: a kept parse holds the pod's
/// containers' and volumes' subtrees (and its own strings) after the store
/// and the snapshot have packed the pod, about 4.7 KB a pod of a
/// 150,000-pod cluster, most of whose pods settle and never sync again.
const KEEP_PARSES_BELOW: usize = 20_000;

/// At most this many syncs replay a static pod's life from its start to
/// the kubelet's first sync of it (its timers between the two; kubeadm's
/// pods need about twenty, one a second of their readiness probes).
const BOOT_SYNCS: usize = 1_000;

/// A pod's spec as the kubelet parsed it, and what it refers to: kept
/// while the pod's spec is the very same (a status write carries the
/// spec over unchanged, so a pod's second sync need not parse it again).
struct Parsed {
    /// The spec it was parsed from.
    spec: Option<MapWeak>,
    pod: PodSpec,
    refs: Arc<References>,
}

impl Parsed {
    /// `held` again, with the pod's deletion read anew, when `pod`'s spec
    /// is the one `held` was parsed from; else a fresh parse.
    fn of(pod: &Value, held: Option<&Parsed>) -> Parsed {
        let spec = pod.get("spec").and_then(Value::as_object);
        if let Some(held) = held
            && let (Some(weak), Some(spec)) = (&held.spec, spec)
            && weak.is(spec)
        {
            let mut again = held.pod.clone();
            again.read_deletion(pod);
            return Parsed {
                spec: held.spec.clone(),
                pod: again,
                refs: held.refs.clone(),
            };
        }
        Parsed {
            spec: spec.map(Map::downgrade),
            pod: PodSpec::parse(pod),
            refs: Arc::new(references(pod)),
        }
    }
}

/// What a pod's sync reads (`Kubelets::inputs`).
struct SyncReads {
    pod: Arc<Value>,
    node: NodeView,
    world: World,
    parsed: Parsed,
}

impl SyncReads {
    /// The sync's input with this memory, catalog and network.
    fn input<'a>(
        &'a self,
        memory: &'a PodMemory,
        catalog: &'a Catalog,
        network: &'a dyn crate::sim::workload::Network,
    ) -> PodInput<'a> {
        PodInput {
            pod: &self.pod,
            parsed: Some(&self.parsed.pod),
            node: &self.node,
            world: &self.world,
            memory,
            catalog,
            network,
        }
    }
}

/// What a node's kubelet and container runtime hold (shared with the
/// views a sync reads; changed copy-on-write once those are gone).
#[derive(Default)]
struct NodeState {
    images: Arc<BTreeSet<String>>,
    used_ips: Arc<BTreeSet<String>>,
    /// The host octet of the last pod IP handed out (`NodeView::last_ip_host`).
    last_ip_host: u8,
}

#[derive(Default)]
struct State {
    /// Boxed: a hash table keeps up to half its slots empty, and an entry
    /// is hundreds of bytes.
    pods: HashMap<ObjectKey, Box<PodEntry>, FxBuildHasher>,
    nodes: HashMap<String, NodeState, FxBuildHasher>,
    /// Service variables by namespace, then by enableServiceLinks (as an
    /// index: false, true).
    service_env: HashMap<String, [Option<ServiceEnv>; 2], FxBuildHasher>,
    /// One copy of each image's details, shared by the containers that
    /// run it, by image reference.
    image_infos: HashMap<String, Arc<ImageInfo>, FxBuildHasher>,
    /// The nodes whose kubelet a Lease switch stops.
    stopped_nodes: BTreeSet<String>,
    /// What each Node last said that a pod's sync reads (`node_inputs`).
    node_inputs: HashMap<String, (String, String), FxBuildHasher>,
    /// The static pods of each node's manifest directory, by the key of
    /// their mirror pods.
    static_pods: HashMap<ObjectKey, Arc<StaticPod>, FxBuildHasher>,
    recorder: Recorder,
    /// The last `PodEntry::version` handed out.
    versions: u64,
    /// Syncs computed ahead on another core.
    ahead: ahead::Ahead,
}

/// The ConfigMaps, Secrets and PVCs a pod refers to, by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct References {
    pub config_maps: BTreeSet<String>,
    pub secrets: BTreeSet<String>,
    pub pvcs: BTreeSet<String>,
}

fn str_at<'a>(v: &'a Value, p: &[&str]) -> Option<&'a str> {
    v.get_in(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn items<'a>(v: &'a Value, p: &[&str]) -> impl Iterator<Item = &'a Value> {
    v.get_in(p).and_then(Value::as_array).into_iter().flatten()
}

/// What a pod's sync reads from its Node object (`node_view`): the
/// InternalIP and the pod CIDR. A Node write that changes neither (the
/// periodic status posts) resyncs none of its pods; upstream's kubelet does
/// not resync pods on updates of its Node either.
fn node_inputs(node: &Value) -> (String, String) {
    let host_ip = items(node, &["status", "addresses"])
        .find(|a| str_at(a, &["type"]) == Some("InternalIP"))
        .and_then(|a| str_at(a, &["address"]))
        .unwrap_or("");
    let pod_cidr = str_at(node, &["spec", "podCIDR"]).unwrap_or("");
    (host_ip.to_string(), pod_cidr.to_string())
}

/// Everything a pod's volumes, env, envFrom and imagePullSecrets name.
pub fn references(pod: &Value) -> References {
    let mut r = References::default();
    let add = |set: &mut BTreeSet<String>, n: Option<&str>| {
        if let Some(n) = n {
            set.insert(n.to_string());
        }
    };
    for v in items(pod, &["spec", "volumes"]) {
        add(&mut r.config_maps, str_at(v, &["configMap", "name"]));
        add(&mut r.secrets, str_at(v, &["secret", "secretName"]));
        add(
            &mut r.pvcs,
            str_at(v, &["persistentVolumeClaim", "claimName"]),
        );
        for s in items(v, &["projected", "sources"]) {
            add(&mut r.config_maps, str_at(s, &["configMap", "name"]));
            add(&mut r.secrets, str_at(s, &["secret", "name"]));
        }
    }
    for c in items(pod, &["spec", "containers"]).chain(items(pod, &["spec", "initContainers"])) {
        for e in items(c, &["env"]) {
            add(
                &mut r.config_maps,
                str_at(e, &["valueFrom", "configMapKeyRef", "name"]),
            );
            add(
                &mut r.secrets,
                str_at(e, &["valueFrom", "secretKeyRef", "name"]),
            );
        }
        for e in items(c, &["envFrom"]) {
            add(&mut r.config_maps, str_at(e, &["configMapRef", "name"]));
            add(&mut r.secrets, str_at(e, &["secretRef", "name"]));
        }
    }
    for s in items(pod, &["spec", "imagePullSecrets"]) {
        add(&mut r.secrets, str_at(s, &["name"]));
    }
    r
}

/// Points `info` at the shared copy of equal details (or makes it that).
fn share_image(
    cache: &mut HashMap<String, Arc<ImageInfo>, FxBuildHasher>,
    info: &mut Arc<ImageInfo>,
) {
    match cache.get(&info.name) {
        Some(shared) if Arc::ptr_eq(shared, info) => {}
        Some(shared) if **shared == **info => *info = shared.clone(),
        _ => {
            cache.insert(info.name.clone(), info.clone());
        }
    }
}

/// The pod as the kubelet runs it: a mirror pod under its static pod's
/// UID (its events name that UID; its containers keep their IDs when the
/// mirror pod is replaced).
fn as_run(pod: Arc<Value>) -> Arc<Value> {
    let uid = static_pods::kubelet_uid(&pod);
    if uid == meta::uid(&pod) {
        return pod;
    }
    let uid = Value::from(uid);
    let mut run = (*pod).clone();
    run["metadata"]["uid"] = uid;
    Arc::new(run)
}

fn node_name(pod: &Value) -> Option<&str> {
    str_at(pod, &["spec", "nodeName"])
}

/// One container's log as the kubelet holds it.
#[derive(Debug, Clone)]
pub struct ContainerLog {
    pub lines: Vec<(Timestamp, String)>,
    /// The id of the container instance these lines belong to.
    pub container_id: String,
    pub running: bool,
}

/// A running container's use of resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUsage {
    pub name: String,
    /// CPU in millicores (at least 1 for a live process).
    pub cpu_millis: u64,
    /// Memory in bytes, when the workload declares it.
    pub memory: Option<u64>,
}

/// The kubelets of every node, keyed by pod.
pub struct Kubelets {
    registry: Arc<Registry>,
    /// The container runtime's image catalog; scenarios add their own images.
    catalog: std::sync::RwLock<Arc<Catalog>>,
    /// The draws of a static pod's boot replay (every other sync draws
    /// from a stream of its own, `ahead::sync_seed`).
    rng: Rng,
    /// Seeds the endpoint choice of simulated connections.
    seed: u64,
    state: Mutex<State>,
    /// Whether syncs are computed ahead (`ahead`): by default where a
    /// second core is there to compute them (and only on a virtual clock).
    look_ahead: std::sync::atomic::AtomicBool,
}

impl Kubelets {
    pub fn new(registry: Arc<Registry>, catalog: Catalog, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            registry,
            catalog: std::sync::RwLock::new(Arc::new(catalog)),
            rng: Rng::new(seed ^ 0x6b75_6265_6c65_7421),
            seed,
            state: Mutex::new(State::default()),
            look_ahead: ahead::Ahead::worthwhile().into(),
        })
    }

    /// Adds a scenario's image to the catalog: pods started from now on
    /// pull and run it as declared.
    pub fn declare_image(&self, repository: &str, behaviour: AppBehaviour) {
        let mut catalog = self.catalog.write().unwrap_or_else(|p| p.into_inner());
        Arc::make_mut(&mut catalog).declare(repository, behaviour);
    }

    /// The scenario images declared so far.
    pub fn declared_images(&self) -> Vec<(String, AppBehaviour)> {
        self.catalog()
            .declared
            .iter()
            .map(|(r, b)| (r.clone(), b.clone()))
            .collect()
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Syncs one pod to the clock's `now`; returns when it next needs a
    /// sync (None: only on change).
    pub fn sync(&self, key: &ObjectKey) -> Option<Timestamp> {
        let mut st = self.lock();
        self.sync_locked(&mut st, key)
    }

    fn forget(st: &mut State, key: &ObjectKey) {
        if let Some(e) = st.pods.remove(key)
            && let Some(ip) = &e.memory.pod_ip
            && let Some(n) = st.nodes.get_mut(&e.node)
            && n.used_ips.contains(ip)
        {
            Arc::make_mut(&mut n.used_ips).remove(ip);
        }
    }

    fn service_env_for(&self, st: &mut State, ns: &str, links: bool) -> ServiceEnv {
        if let Some(v) = st
            .service_env
            .get(ns)
            .and_then(|e| e[usize::from(links)].as_ref())
        {
            return v.clone();
        }
        let store = &self.registry.store;
        let (defaults, _) = store.list(SERVICES, Some("default"));
        let own = if links && ns != "default" {
            store.list(SERVICES, Some(ns)).0
        } else if links {
            defaults.clone()
        } else {
            Vec::new()
        };
        let v = Arc::new(service_env(
            ns,
            links,
            defaults.iter().map(|a| &**a),
            own.iter().map(|a| &**a),
        ));
        st.service_env.entry(ns.to_string()).or_default()[usize::from(links)] = Some(v.clone());
        v
    }

    fn world(&self, st: &mut State, pod: &Value, refs: &References) -> World {
        let links = pod
            .get_in(&["spec", "enableServiceLinks"])
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let env = self.service_env_for(st, meta::namespace(pod), links);
        self.fetch_world(pod, env, refs)
    }

    /// The objects a pod references, with these service variables.
    fn fetch_world(&self, pod: &Value, service_env: ServiceEnv, refs: &References) -> World {
        let ns = meta::namespace(pod);
        let store = &self.registry.store;
        let fetch = |res: ResKey, names: &BTreeSet<String>| {
            names
                .iter()
                .filter_map(|n| store.get(res, ns, n).map(|o| (n.clone(), o)))
                .collect()
        };
        World {
            config_maps: fetch(CONFIGMAPS, &refs.config_maps),
            secrets: fetch(SECRETS, &refs.secrets),
            pvcs: fetch(PVCS, &refs.pvcs),
            service_env,
        }
    }

    /// The node as its kubelet sees it (without the IPs in use, which only
    /// a pod still waiting for its sandbox needs).
    fn node_view(&self, st: &mut State, node: &Value, with_ips: bool) -> NodeView {
        let name = meta::name(node);
        // Looked up first: `entry` would copy the name on every call.
        if !st.nodes.contains_key(name) {
            let fresh = NodeState {
                // Images the node came with (a kind node image's preloads).
                images: Arc::new(
                    items(node, &["status", "images"])
                        .flat_map(|i| items(i, &["names"]))
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                ),
                used_ips: Arc::default(),
                last_ip_host: 0,
            };
            st.nodes.insert(name.to_string(), fresh);
        }
        let ns = &st.nodes[name];
        let (host_ip, pod_cidr) = node_inputs(node);
        NodeView {
            name: name.to_string(),
            host_ip,
            pod_cidr,
            used_ips: if with_ips {
                ns.used_ips.clone()
            } else {
                Arc::default()
            },
            last_ip_host: ns.last_ip_host,
            images: ns.images.clone(),
        }
    }

    /// The network `pod` sees at `now` (the cluster is read at its first
    /// call), with the API server behind it.
    fn network<'a>(
        &'a self,
        serving: &'a PodServing<'a>,
        pod: &'a Value,
        memory: &'a PodMemory,
    ) -> InCluster<'a, PodNetwork<'a>> {
        let ip = memory
            .pod_ip
            .as_deref()
            .or_else(|| str_at(pod, &["status", "podIP"]))
            .unwrap_or("");
        let store = &self.registry.store;
        let load = move || self.cluster_view();
        // The caller (the pod's address and resolv.conf) is read only if
        // the container's derivation makes a call.
        let caller = move || Caller::of(pod, ip);
        InCluster {
            net: PodNetwork::lazy(caller, load, serving, self.seed),
            store,
            now: self.registry.clock.now(),
        }
    }

    /// The cluster as the network sees it now.
    fn cluster_view(&self) -> ClusterView {
        let store = &self.registry.store;
        let list = |r: ResKey| store.list(r, None).0;
        let (svcs, slices, pods, nodes) = (
            list(SERVICES),
            list(res::ENDPOINTSLICES),
            list(res::PODS),
            list(res::NODES),
        );
        let mut view = ClusterView::build(
            svcs.iter().map(|a| &**a),
            slices.iter().map(|a| &**a),
            pods.iter().map(|a| &**a),
            nodes.iter().map(|a| &**a),
        );
        view.namespaces = list(NAMESPACES).iter().map(|a| (**a).clone()).collect();
        view.network_policies = list(NETWORKPOLICIES)
            .iter()
            .map(|a| (**a).clone())
            .collect();
        view.ingress = IngressObjects::from_store(store);
        view.now = self.registry.clock.now();
        view
    }

    /// A TCP connection (an HTTP request when `path` is given, with `host`
    /// as its Host) from `source`, an address outside the cluster, to
    /// `ip:port`, answered from the cluster as it is now (see
    /// [`crate::sim::network::Caller::outside`]).
    pub fn connect_from_outside(
        &self,
        source: &str,
        ip: &str,
        port: u16,
        host: &str,
        path: Option<&str>,
    ) -> crate::sim::workload::NetReply {
        let st = self.lock();
        let now = self.registry.clock.now();
        let serving = PodServing {
            kubelets: self,
            st: &st,
            now,
        };
        let net = PodNetwork::new(
            Caller::outside(source),
            || self.cluster_view(),
            &serving,
            self.seed,
        );
        let at = jiff::SignedDuration::from_nanos(
            i64::try_from(now.as_nanosecond()).unwrap_or_default(),
        );
        net.connect(ip, port, host, path, at)
    }

    /// The view and TLS objects read by the host port's certificate choice.
    pub fn ingress_objects(&self) -> (IngressObjects, jiff::Timestamp) {
        (
            IngressObjects::from_store(&self.registry.store),
            self.registry.clock.now(),
        )
    }

    /// The sim clock's now.
    pub fn now(&self) -> jiff::Timestamp {
        self.registry.clock.now()
    }

    /// The stored nodes.
    pub fn nodes(&self) -> Vec<Arc<Value>> {
        self.registry.store.list(res::NODES, None).0
    }

    /// A stored Secret.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.registry.store.get(SECRETS, namespace, name)
    }

    /// Reads what a pod's sync needs; None when the pod is not (or no
    /// longer) on a node that exists.
    fn inputs(&self, st: &mut State, key: &ObjectKey) -> Option<SyncReads> {
        let store = &self.registry.store;
        let Some(pod) = store.get(res::PODS, &key.namespace, &key.name) else {
            Self::forget(st, key);
            return None;
        };
        // A mirror pod no static pod of a node stands behind (its node's
        // gone too, or it was made by hand) is deleted, never run
        // (`deleteOrphanedMirrorPods`).
        if crate::registry::admission::service_account::is_mirror(&pod)
            && !st.static_pods.contains_key(key)
        {
            self.delete_now(
                key,
                Some(meta::uid(&pod).to_string()),
                "orphaned mirror pod ",
            );
            Self::forget(st, key);
            return None;
        }
        let pod = as_run(pod);
        let node_name = node_name(&pod)?.to_string();
        if st
            .pods
            .get(key)
            .is_some_and(|e| e.uid != meta::uid(&pod) || e.node != node_name)
        {
            Self::forget(st, key);
        }
        let node = store.get(res::NODES, "", &node_name)?;
        let has_ip = st.pods.get(key).is_some_and(|e| e.memory.pod_ip.is_some());
        let view = self.node_view(st, &node, !has_ip);
        let parsed = Parsed::of(&pod, st.pods.get(key).and_then(|e| e.parsed.as_deref()));
        let world = self.world(st, &pod, &parsed.refs);
        Some(SyncReads {
            pod,
            node: view,
            world,
            parsed,
        })
    }

    /// Turns computing syncs ahead on or off (results are the same).
    pub fn set_look_ahead(&self, on: bool) {
        self.look_ahead
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The syncs that took an outcome computed ahead, the outcomes
    /// computed or started in vain, and the syncs that waited for theirs.
    pub fn looked_ahead(&self) -> (u64, u64, u64) {
        let st = self.lock();
        (st.ahead.taken, st.ahead.wasted, st.ahead.waited)
    }

    /// Starts computing the syncs of `next` (pods and the times their syncs
    /// are due; `current` syncs first) on another core, from what they
    /// would read if nothing changed before (see `ahead`). Only plain
    /// pods: not a static or mirror pod, not an evicted one, none on a
    /// stopped kubelet, and only when the service variables of the pod's
    /// namespace are at hand. A pod still to get its IP waits for the
    /// syncs before it that take one on its node: its node's IPs in use
    /// change with theirs.
    pub fn look_ahead(&self, current: &ObjectKey, next: &[(&ObjectKey, Timestamp)]) {
        let mut st = self.lock();
        if !st.stopped_nodes.is_empty() {
            return;
        }
        let store = &self.registry.store;
        // The nodes where a sync before takes an IP, by their names'
        // hashes (no copies; two names of one hash only cost a sync its
        // computing ahead).
        let mut taking_ips: Vec<u64> = Vec::new();
        let mut claim = |node: &str| {
            let h = std::hash::BuildHasher::hash_one(&FxBuildHasher::default(), node);
            let free = !taking_ips.contains(&h);
            if free {
                taking_ips.push(h);
            }
            free
        };
        match st.ahead.taking_ip(current) {
            Some(node) => {
                if let Some(node) = node {
                    claim(node);
                }
            }
            None => {
                if st
                    .pods
                    .get(current)
                    .is_none_or(|e| e.memory.pod_ip.is_none())
                    && let Some(pod) = store.get(res::PODS, &current.namespace, &current.name)
                    && let Some(node) = node_name(&pod)
                {
                    claim(node);
                }
            }
        }
        for (key, at) in next {
            // Computed ahead already (its node claimed if it takes an IP).
            if let Some(node) = st.ahead.taking_ip(key) {
                if let Some(node) = node {
                    claim(node);
                }
                continue;
            }
            if st.static_pods.contains_key(key) {
                continue;
            }
            let Some(pod) = store.get(res::PODS, &key.namespace, &key.name) else {
                continue;
            };
            if crate::registry::admission::service_account::is_mirror(&pod)
                || kubelet_eviction::is_evicted(&pod)
            {
                continue;
            }
            let Some(node_name) = node_name(&pod) else {
                continue;
            };
            let takes_ip = st.pods.get(key).is_none_or(|e| e.memory.pod_ip.is_none());
            if takes_ip && !claim(node_name) {
                continue;
            }
            let entry = st.pods.get(key);
            if entry.is_some_and(|e| e.uid != meta::uid(&pod) || e.node != node_name) {
                continue;
            }
            let Some(node) = store.get(res::NODES, "", node_name) else {
                continue;
            };
            let links = pod
                .get_in(&["spec", "enableServiceLinks"])
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let Some(env) = st
                .service_env
                .get(meta::namespace(&pod))
                .and_then(|e| e[usize::from(links)].clone())
            else {
                continue;
            };
            let (memory, memory_version, syncs) = entry.map_or_else(
                || (Arc::default(), 0, 0),
                |e| (e.memory.clone(), e.version, e.syncs),
            );
            // The worker parses the pod (the kept parse of it is one).
            let refs = match entry.and_then(|e| e.parsed.as_deref()) {
                Some(held) => held.refs.clone(),
                None => Arc::new(references(&pod)),
            };
            let world = self.fetch_world(&pod, env, &refs);
            let view = self.node_view(&mut st, &node, takes_ip);
            let seed = ahead::sync_seed(self.seed, meta::uid(&pod), syncs);
            st.ahead.start(
                (*key).clone(),
                ahead::Inputs {
                    pod,
                    node: view,
                    world,
                    memory,
                    memory_version,
                    catalog: self.catalog(),
                    now: *at,
                    seed,
                },
                takes_ip,
            );
        }
    }

    /// The kubelet's memory of a pod, borrowed from `st` (no copy: the
    /// state machine copies it into its outcome), or `fresh` for a pod new
    /// to it.
    fn memory<'a>(st: &'a State, key: &ObjectKey, fresh: &'a PodMemory) -> &'a PodMemory {
        st.pods.get(key).map_or(fresh, |e| &e.memory)
    }

    fn sync_locked(&self, st: &mut State, key: &ObjectKey) -> Option<Timestamp> {
        let static_pod = st.static_pods.get(key).cloned();
        if let Some(sp) = &static_pod {
            self.ensure_mirror(key, sp);
        }
        let reads = self.inputs(st, key)?;
        let (pod, world, parsed) = (&reads.pod, &reads.world, &reads.parsed);
        // The pod's UID in the API, which deletes name as their
        // precondition (a mirror pod runs under its static pod's UID).
        let api_uid = || {
            self.registry
                .store
                .get(res::PODS, &key.namespace, &key.name)
                .map(|p| meta::uid(&p).to_string())
        };

        // Evicted by the eviction manager: its containers are gone; the
        // pod object stays (Failed, Evicted) until someone deletes it.
        if kubelet_eviction::is_evicted(pod) {
            if meta::is_deleting(pod) {
                self.delete_now(key, api_uid(), "");
            }
            Self::forget(st, key);
            return None;
        }
        let first_sync = !st.pods.contains_key(key);
        // A pod new to this kubelet passes the eviction manager's admission
        // check while its node is under pressure (a static pod is critical:
        // it always does).
        if first_sync
            && static_pod.is_none()
            && pod.get_in(&["status", "startTime"]).is_none()
            && let Some(message) = self.admission_rejection(pod, &reads.node.name)
        {
            self.reject(st, key, pod, &reads.node.name, &message);
            return None;
        }
        let now = self.registry.clock.now();
        let catalog = self.catalog();
        let (memory_version, syncs) = st.pods.get(key).map_or((0, 0), |e| (e.version, e.syncs));
        let seed = ahead::sync_seed(self.seed, meta::uid(pod), syncs);
        // The outcome computed ahead from these very inputs, if any (a
        // static pod's first sync replays its boot: never computed ahead).
        let early = if static_pod.is_none() {
            st.ahead.take(
                key,
                &ahead::Reads {
                    pod,
                    node: &reads.node,
                    world,
                    memory_version,
                    catalog: &catalog,
                    now,
                    seed,
                },
            )
        } else {
            None
        };
        let serving = PodServing {
            kubelets: self,
            st: &*st,
            now,
        };
        let fresh = PodMemory::default();
        // A static pod new to the kubelet was started when the kubelet read
        // its manifest, before the API server it may run served: its first
        // sync runs from then (what happened before its mirror pod existed
        // reached no API server, so its events are lost).
        // It is synced at each of its timers from then, as the runtime would
        // have (a condition's transition takes the time of the sync that
        // sees it).
        let boot = static_pod.as_ref().filter(|_| first_sync).map(|sp| {
            let mut memory = PodMemory::default();
            let mut at = sp.started.min(now);
            for _ in 0..BOOT_SYNCS {
                let net = self.network(&serving, pod, &memory);
                let out = kubelet::sync_pod(&reads.input(&memory, &catalog, &net), at, &self.rng);
                drop(net);
                memory = out.memory;
                match out.wake_at {
                    Some(w) if w < now => at = w,
                    _ => break,
                }
            }
            memory
        });
        let memory = match &boot {
            Some(m) => m,
            None => Self::memory(st, key, &fresh),
        };
        let in_place = || {
            let net = self.network(&serving, pod, memory);
            kubelet::sync_pod(&reads.input(memory, &catalog, &net), now, &Rng::new(seed))
        };
        let mut out = match early {
            Some(out) => {
                // Debug builds check that it is what the sync computes.
                if cfg!(debug_assertions) {
                    let here = in_place();
                    debug_assert_eq!(
                        format!("{here:?}"),
                        format!("{out:?}"),
                        "the sync of {key} computed ahead differs"
                    );
                }
                out
            }
            None => in_place(),
        };
        if boot.is_some() {
            let created = pod
                .get_in(&["metadata", "creationTimestamp"])
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<Timestamp>().ok())
                .unwrap_or(now);
            out.events.retain(|e| e.at >= created);
        }
        // The view (moved into a temporary) drops its shares of the node's
        // sets here, before they change.
        let host = { reads.node }.name;
        for c in out.memory.containers.values_mut() {
            if let Some(info) = &mut c.image {
                share_image(&mut st.image_infos, info);
            }
        }
        let node_state = st.nodes.entry(host.clone()).or_default();
        if out
            .pulled_images
            .iter()
            .any(|i| !node_state.images.contains(i))
        {
            Arc::make_mut(&mut node_state.images).extend(out.pulled_images.iter().cloned());
        }
        if let Some(ip) = &out.memory.pod_ip
            && !parsed.pod.host_network
            && !node_state.used_ips.contains(ip)
        {
            Arc::make_mut(&mut node_state.used_ips).insert(ip.clone());
            node_state.last_ip_host = kubelet::host_octet(ip);
        }
        for ev in &out.events {
            st.recorder.record_at(&self.registry, &ev.event, ev.at);
        }
        let pods = lookup_res(res::PODS)?;
        if out.gone {
            self.delete_now(key, api_uid(), "");
            Self::forget(st, key);
            return None;
        }
        let mut written_rv = st.pods.get(key).and_then(|e| e.written_rv);
        if out.status_changed {
            // The status subresource takes only `status` from the body (the
            // rest comes from the stored pod): no copy of the whole pod.
            // `status` moves in (`json!` would copy it through the serializer,
            // and grow each map one key at a time).
            let metadata = object([
                ("name", Some(text(&key.name))),
                ("namespace", Some(text(&key.namespace))),
            ]);
            let body = object([
                ("apiVersion", Some(text("v1"))),
                ("kind", Some(text("Pod"))),
                ("metadata", Some(metadata)),
                ("status", Some(out.status)),
            ]);
            match self.registry.update(
                pods,
                &key.namespace,
                &key.name,
                body,
                Some("status"),
                &WriteOptions::internal(),
            ) {
                Ok(w) => {
                    if let Some(rv) = meta::resource_version(&w.object) {
                        written_rv = Some(rv);
                    }
                }
                Err(e) => tracing::debug!("kubelet: status of {key}: {}", e.message),
            }
        }
        let keep_parse = out.wake_at.is_some() && st.pods.len() < KEEP_PARSES_BELOW;
        st.versions += 1;
        let version = st.versions;
        match st.pods.get_mut(key) {
            // The entry of the last sync, updated in place: no new key,
            // box or strings for a pod the kubelet knows (`inputs` forgot
            // an entry of another uid or node).
            Some(e) => {
                e.memory = Arc::new(out.memory);
                e.version = version;
                e.syncs += 1;
                e.written_rv = written_rv;
                match (keep_parse, e.parsed.as_deref_mut()) {
                    (true, Some(held)) => *held = reads.parsed,
                    (true, None) => e.parsed = Some(Box::new(reads.parsed)),
                    (false, _) => e.parsed = None,
                }
            }
            None => {
                st.pods.insert(
                    key.clone(),
                    Box::new(PodEntry {
                        uid: meta::uid(pod).to_string(),
                        node: host,
                        memory: Arc::new(out.memory),
                        written_rv,
                        parsed: keep_parse.then(|| Box::new(reads.parsed)),
                        version,
                        syncs: 1,
                    }),
                );
            }
        }
        out.wake_at
    }

    /// Deletes `key`'s pod for good (grace period 0), if it is still the
    /// one with `uid`: what the kubelet does once a pod's containers are
    /// gone, and to mirror pods. Whether it was deleted.
    fn delete_now(&self, key: &ObjectKey, uid: Option<String>, what: &str) -> bool {
        let Some(pods) = lookup_res(res::PODS) else {
            return false;
        };
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            precondition_uid: uid,
            ..Default::default()
        };
        match self.registry.delete(pods, &key.namespace, &key.name, &opts) {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!("kubelet: deleting {what}{key}: {}", e.message);
                false
            }
        }
    }

    /// The kubelet's mirror pod upkeep for a static pod (`SyncPod`): a
    /// mirror pod being deleted, or of another version of the static pod,
    /// is deleted for good, and a missing one created, unless the node is
    /// gone or going. The static pod's containers run on meanwhile.
    fn ensure_mirror(&self, key: &ObjectKey, sp: &StaticPod) {
        let store = &self.registry.store;
        let node_name = sp.pod["spec"]["nodeName"].as_str().unwrap_or("");
        let Some(node) = store.get(res::NODES, "", node_name) else {
            return;
        };
        let Some(pods) = lookup_res(res::PODS) else {
            return;
        };
        if meta::is_deleting(&node) {
            return;
        }
        let existing = store.get(res::PODS, &key.namespace, &key.name);
        let missing = match &existing {
            None => true,
            Some(p) if meta::is_deleting(p) || !static_pods::is_mirror_of(p, sp) => {
                self.delete_now(key, Some(meta::uid(p).to_string()), "mirror pod ")
            }
            Some(_) => false,
        };
        if missing {
            let mirror = static_pods::mirror_pod(sp, meta::uid(&node));
            if let Err(e) =
                self.registry
                    .create(pods, &key.namespace, mirror, &WriteOptions::internal())
            {
                tracing::debug!("kubelet: creating mirror pod {key}: {}", e.message);
            }
        }
    }

    /// Why the eviction manager would not admit `pod` on `node` now.
    fn admission_rejection(&self, pod: &Value, node: &str) -> Option<String> {
        let lease = self.registry.store.get(LEASES, LEASE_NAMESPACE, node)?;
        let conditions = kubelet_eviction::pressure_conditions(&lease);
        kubelet_eviction::admission_rejection(pod, &conditions)
    }

    /// `rejectPod`: the Warning event and the Failed status.
    fn reject(&self, st: &mut State, key: &ObjectKey, pod: &Value, node: &str, message: &str) {
        let event = crate::sim::event::EventSpec {
            involved: crate::sim::event::ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                uid: meta::uid(pod).to_string(),
                field_path: None,
            },
            type_: crate::sim::event::EventType::Warning,
            reason: kubelet_eviction::REASON.into(),
            message: message.to_string(),
            component: "kubelet".into(),
            host: Some(node.to_string()),
        };
        st.recorder.record(&self.registry, &event);
        let Some(pods) = lookup_res(res::PODS) else {
            return;
        };
        let body = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": key.name, "namespace": key.namespace},
            "status": kubelet_eviction::rejected_status(pod, message),
        });
        if let Err(e) = self.registry.update(
            pods,
            &key.namespace,
            &key.name,
            body,
            Some("status"),
            &WriteOptions::internal(),
        ) {
            tracing::debug!("kubelet: rejecting {key}: {}", e.message);
        }
    }

    /// The pods this kubelet runs on `node`, by namespace and name (the
    /// order they are queued in: seeded runs repeat).
    fn pods_on(&self, node: &str) -> Vec<ObjectKey> {
        let mut keys: Vec<ObjectKey> = self
            .lock()
            .pods
            .iter()
            .filter(|(_, e)| e.node == node)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Runs `f` on a pod's freshly synced inputs.
    fn with_pod<T>(
        &self,
        key: &ObjectKey,
        f: impl FnOnce(&PodInput<'_>, Timestamp) -> T,
    ) -> Option<T> {
        let mut st = self.lock();
        self.sync_locked(&mut st, key);
        let reads = self.inputs(&mut st, key)?;
        let now = self.registry.clock.now();
        let serving = PodServing {
            kubelets: self,
            st: &st,
            now,
        };
        let fresh = PodMemory::default();
        let memory = Self::memory(&st, key, &fresh);
        let net = self.network(&serving, &reads.pod, memory);
        Some(f(&reads.input(memory, &self.catalog(), &net), now))
    }

    /// Brings a pod's status up to the clock's `now`.
    pub fn refresh(&self, namespace: &str, pod: &str) {
        self.sync(&ObjectKey::new(namespace, pod));
    }

    /// A container's log, current run or previous (after a sync).
    pub fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Option<ContainerLog> {
        let key = ObjectKey::new(namespace, pod);
        let mut st = self.lock();
        self.sync_locked(&mut st, &key);
        let cm = st.pods.get(&key)?.memory.containers.get(container)?;
        let (container_id, running) = match &cm.state {
            CState::Running { id, .. } => (id.clone(), !previous),
            CState::Terminated(t) => (t.container_id.clone(), false),
            _ => (String::new(), false),
        };
        Some(ContainerLog {
            lines: if previous {
                cm.previous_logs.to_vec()
            } else {
                cm.logs.to_vec()
            },
            container_id: if previous {
                cm.last
                    .as_ref()
                    .map(|t| t.container_id.clone())
                    .unwrap_or_default()
            } else {
                container_id
            },
            running,
        })
    }

    /// Runs a command in a running container.
    pub fn exec(
        &self,
        namespace: &str,
        pod: &str,
        req: &ExecRequest<'_>,
    ) -> Result<ExecOutput, ExecError> {
        self.with_pod(&ObjectKey::new(namespace, pod), |input, now| {
            view::exec(input, req, now)
        })
        .unwrap_or(Err(ExecError::NotRunning))
    }

    /// Memory use of each running container of a pod (no sync: metrics are
    /// a sample anyway).
    pub fn usage(&self, namespace: &str, pod: &str) -> Vec<ContainerUsage> {
        let key = ObjectKey::new(namespace, pod);
        let mut st = self.lock();
        let Some(reads) = self.inputs(&mut st, &key) else {
            return Vec::new();
        };
        let now = self.registry.clock.now();
        let fresh = PodMemory::default();
        let memory = Self::memory(&st, &key, &fresh);
        let catalog = self.catalog();
        let input = reads.input(memory, &catalog, &NoNetwork);
        memory
            .containers
            .keys()
            .filter_map(|name| {
                let cpu = view::cpu_use(&input, name, now)?;
                view::memory_use(&input, name, now).map(|m| ContainerUsage {
                    name: name.clone(),
                    cpu_millis: cpu,
                    memory: (m > 0).then_some(m),
                })
            })
            .collect()
    }
}

/// What pods serve, from the kubelets' memory of them: the running
/// containers' timelines at `now`, as their probes see them.
struct PodServing<'a> {
    kubelets: &'a Kubelets,
    st: &'a State,
    now: Timestamp,
}

impl Serving for PodServing<'_> {
    fn serve(
        &self,
        pod: &PodInfo,
        port: u16,
        protocol: Protocol,
        path: Option<&str>,
    ) -> kubelet::Served {
        let key = ObjectKey::new(&pod.namespace, &pod.name);
        let store = &self.kubelets.registry.store;
        let (Some(entry), Some(obj)) = (
            self.st.pods.get(&key),
            store.get(res::PODS, &pod.namespace, &pod.name),
        ) else {
            return kubelet::Served::Closed;
        };
        let node = NodeView {
            name: entry.node.clone(),
            host_ip: store
                .get(res::NODES, "", &entry.node)
                .map(|n| network::view::NodeInfo::parse(&n).ip)
                .unwrap_or_default(),
            ..NodeView::default()
        };
        // The destination's own calls do not matter for what it serves.
        let world = self
            .kubelets
            .fetch_world(&obj, Arc::default(), &references(&obj));
        let input = PodInput {
            pod: &obj,
            parsed: None,
            node: &node,
            world: &world,
            memory: &entry.memory,
            catalog: &self.kubelets.catalog(),
            network: &NoNetwork,
        };
        view::serves(&input, port, protocol, path, self.now)
    }
}

/// Drives [`Kubelets`] from the runtime.
pub struct KubeletController(pub Arc<Kubelets>);

impl Controller for KubeletController {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            res::PODS,
            res::NODES,
            LEASES,
            CONFIGMAPS,
            SECRETS,
            PVCS,
            SERVICES,
        ]
    }

    fn keys_for(&self, snap: &Snapshot, res: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if res == res::PODS {
            let key = ObjectKey::of(obj);
            let mut st = self.0.lock();
            return match st.pods.get_mut(&key) {
                Some(e) => {
                    if e.written_rv.is_some() && e.written_rv == meta::resource_version(obj) {
                        // The event of the kubelet's own status write.
                        return Vec::new();
                    }
                    e.written_rv = None;
                    vec![key]
                }
                None if node_name(obj).is_some() => vec![key],
                None => Vec::new(),
            };
        }
        let ns = meta::namespace(obj);
        let name = meta::name(obj);
        match res {
            r if r == res::NODES => {
                // Gone from the snapshot: deleted, and its pods lose their node.
                let inputs = snap.get(res::NODES, "", name).map(|_| node_inputs(obj));
                let mut st = self.0.lock();
                let changed = match &inputs {
                    None => {
                        st.node_inputs.remove(name);
                        true
                    }
                    Some(i) => {
                        st.node_inputs.insert(name.to_string(), i.clone()).as_ref() != Some(i)
                    }
                };
                if !changed {
                    return Vec::new();
                }
                // The node's manifests, read again (they name its address).
                st.static_pods
                    .retain(|_, sp| sp.pod["spec"]["nodeName"].as_str() != Some(name));
                let mut keys: Vec<ObjectKey> = Vec::new();
                if inputs.is_some() {
                    for sp in static_pods::of_node(obj) {
                        let key = ObjectKey {
                            namespace: sp.namespace.clone(),
                            name: sp.name.clone(),
                        };
                        keys.push(key.clone());
                        st.static_pods.insert(key, Arc::new(sp));
                    }
                }
                drop(st);
                for key in self.0.pods_on(name) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                keys
            }
            // A kubelet stopped or restarted by its Lease switch: its pods
            // resync (renewals, which change nothing, do not).
            r if r == LEASES => {
                if ns != LEASE_NAMESPACE {
                    return Vec::new();
                }
                let stopped = crate::sim::controllers::nodeheartbeat::kubelet_stopped(obj);
                let changed = {
                    let mut st = self.0.lock();
                    if stopped {
                        st.stopped_nodes.insert(name.to_string())
                    } else {
                        st.stopped_nodes.remove(name)
                    }
                };
                if changed {
                    self.0.pods_on(name)
                } else {
                    Vec::new()
                }
            }
            r if r == SERVICES => {
                let mut st = self.0.lock();
                if ns == "default" {
                    st.service_env.clear();
                } else {
                    st.service_env.remove(ns);
                }
                Vec::new()
            }
            r => snap
                .list(res::PODS, Some(ns))
                .filter(|p| node_name(p).is_some())
                .filter(|p| {
                    let refs = references(p);
                    let set = if r == CONFIGMAPS {
                        &refs.config_maps
                    } else if r == SECRETS {
                        &refs.secrets
                    } else {
                        &refs.pvcs
                    };
                    set.contains(name)
                })
                .map(|p| ObjectKey::of(p))
                .collect(),
        }
    }

    /// Only on a virtual clock: a sync computed ahead holds for the time
    /// it was computed for, and a wall clock has moved on by then.
    fn looks_ahead(&self) -> bool {
        self.0.look_ahead.load(std::sync::atomic::Ordering::Relaxed)
            && self.0.registry.clock.stands_still()
    }

    fn upcoming(&self, _snap: &Snapshot, current: &ObjectKey, next: &[(&ObjectKey, Timestamp)]) {
        self.0.look_ahead(current, next);
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        // A stopped kubelet (`kdrill.io/kubelet: stopped` on its Lease)
        // does nothing.
        // Only while some Lease stops a kubelet (`keys_for` keeps the set
        // from every Lease event) does the pod's node need a look; a
        // glance, as the sync reads the pod from the store itself.
        let any_stopped = !self.0.lock().stopped_nodes.is_empty();
        if any_stopped
            && let Some(pod) = snap.glance(res::PODS, &key.namespace, &key.name)
            && let Some(node) = node_name(&pod)
            && crate::sim::controllers::nodeheartbeat::kubelet_stopped_on(snap, node)
        {
            return Reconciled::none();
        }
        let wake = self.0.sync(key);
        Reconciled {
            actions: Vec::new(),
            requeue_after: wake.map(|w| w.duration_since(now)),
        }
    }
}

/// metrics-server's view for the HorizontalPodAutoscaler: what the kubelet
/// reports, with the request (or 4Mi) for memory the workload does not
/// declare, as `metrics.k8s.io` serves it.
impl crate::sim::controllers::hpa::MetricsSource for Kubelets {
    fn pod_usage(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Option<Vec<crate::sim::controllers::hpa::ContainerMetric>> {
        let spec = self.registry.store.get(res::PODS, namespace, pod)?;
        if spec.get_in(&["status", "phase"]).and_then(Value::as_str) != Some("Running") {
            return None;
        }
        let usage = self.usage(namespace, pod);
        if usage.is_empty() {
            return None;
        }
        let request = |name: &str| {
            spec.get_in(&["spec", "containers"])
                .and_then(Value::as_array)
                .and_then(|cs| {
                    cs.iter()
                        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
                })
                .and_then(|c| c.get_in(&["resources", "requests", "memory"]))
                .and_then(Value::as_str)
                .and_then(|q| crate::api::quantity::Quantity::parse(q).ok())
                .map(|q| u64::try_from(q.value()).unwrap_or(0))
        };
        Some(
            usage
                .into_iter()
                .map(|u| crate::sim::controllers::hpa::ContainerMetric {
                    memory_bytes: u
                        .memory
                        .or_else(|| request(&u.name))
                        .unwrap_or(4 * 1024 * 1024),
                    cpu_millis: u.cpu_millis,
                    name: u.name,
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource;
    use crate::sim::bootstrap::{self, ClusterShape};
    use crate::sim::clock::{Clock, VirtualClock};
    use crate::sim::runtime::Runtime;
    use serde_json::json;

    #[test]
    fn containers_running_one_image_share_its_details() {
        let info = |name: &str, size| ImageInfo {
            name: name.into(),
            image_id: format!("{name}@sha256:0"),
            size,
        };
        let mut cache = HashMap::default();
        let mut a = Arc::new(info("docker.io/library/nginx:1.27", 7));
        share_image(&mut cache, &mut a);
        // (details, shares a's copy)
        let cases = [
            (info("docker.io/library/nginx:1.27", 7), true),
            (info("docker.io/library/nginx:1.27", 8), false),
            (info("docker.io/library/busybox:1.36", 7), false),
        ];
        for (details, shared) in cases {
            let mut b = Arc::new(details.clone());
            share_image(&mut cache, &mut b);
            assert_eq!(*b, details);
            assert_eq!(Arc::ptr_eq(&a, &b), shared, "{details:?}");
            cache.insert(a.name.clone(), a.clone());
        }
    }

    /// A seeded cluster with every controller and the kubelets, on a
    /// virtual clock.
    pub(super) fn cluster() -> (Arc<Registry>, Arc<VirtualClock>, Runtime, Arc<Kubelets>) {
        let clock = Arc::new(VirtualClock::new("2025-05-01T10:00:00Z".parse().unwrap()));
        let store = Arc::new(crate::store::Store::new());
        let registry = Arc::new(Registry::new(store, clock.clone(), 1));
        // Published as `kube-root-ca.crt`, which every pod's token volume mounts.
        let _ = registry
            .cluster_ca
            .set("-----BEGIN CERTIFICATE-----\n".into());
        bootstrap::seed(&registry, &ClusterShape::default()).unwrap();
        let kubelets = Kubelets::new(registry.clone(), Catalog::default(), 1);
        let mut controllers = crate::sim::controllers::all(1);
        controllers.push(Box::new(KubeletController(kubelets.clone())));
        let rt = Runtime::new(registry.clone(), controllers);
        (registry, clock, rt, kubelets)
    }

    fn deployment(registry: &Registry, replicas: i64, container: Value) {
        let info = resource::lookup("apps", "v1", "deployments").unwrap();
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}},
        });
        registry
            .create(info, "default", d, &WriteOptions::default())
            .unwrap();
    }

    /// Runs timers until `secs` of virtual time have passed.
    pub(super) fn run_for(rt: &mut Runtime, clock: &VirtualClock, secs: i64) {
        let end = clock.now() + jiff::SignedDuration::from_secs(secs);
        rt.run_until_idle();
        while rt.next_timer().is_some_and(|t| t <= end) {
            rt.advance_to_next_timer(clock);
        }
    }

    fn pods(registry: &Registry) -> Vec<Arc<Value>> {
        registry.store.list(res::PODS, Some("default")).0
    }

    #[test]
    fn a_pod_s_parse_is_kept_until_it_settles() {
        let (registry, clock, mut rt, kubelets) = cluster();
        deployment(&registry, 2, json!({"name": "web", "image": "nginx:1.27"}));
        let kept = |k: &Kubelets| -> Vec<bool> {
            let st = k.lock();
            let mut v: Vec<_> = st
                .pods
                .iter()
                .filter(|(key, _)| key.namespace == "default")
                .map(|(key, e)| (key.name.clone(), e.parsed.is_some()))
                .collect();
            v.sort();
            v.into_iter().map(|(_, kept)| kept).collect()
        };
        rt.run_until_idle();
        // Pulling the image: another sync is due.
        assert_eq!(kept(&kubelets), [true, true]);
        run_for(&mut rt, &clock, 60);
        assert!(
            pods(&registry)
                .iter()
                .all(|p| p["status"]["phase"] == "Running")
        );
        assert_eq!(
            kept(&kubelets),
            [false, false],
            "settled pods keep no parse"
        );
    }

    #[test]
    fn sweeps_pack_settled_pods_and_leave_those_a_timer_waits_for() {
        let (registry, clock, mut rt, _kubelets) = cluster();
        // Probed every 10 s: the kubelet always has a timer for it.
        deployment(
            &registry,
            2,
            json!({"name": "web", "image": "nginx:1.27",
                   "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 10}}),
        );
        let info = resource::lookup("apps", "v1", "deployments").unwrap();
        let idle = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "idle"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "idle"}},
                     "template": {"metadata": {"labels": {"app": "idle"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}});
        registry
            .create(info, "default", idle, &WriteOptions::default())
            .unwrap();
        // Several sweep intervals (60 s each) of nothing but probes.
        run_for(&mut rt, &clock, 400);
        let all = registry.store.list(res::PODS, None).0;
        assert!(all.iter().all(|p| p["status"]["phase"] == "Running"));
        let probed = all
            .iter()
            .filter(|p| {
                p["spec"]["containers"].as_array().is_some_and(|cs| {
                    cs.iter().any(|c| {
                        ["readinessProbe", "livenessProbe", "startupProbe"]
                            .iter()
                            .any(|k| c.get(*k).is_some())
                    })
                })
            })
            .count();
        assert!(probed >= 2, "{probed}");
        assert_eq!(registry.store.packed(res::PODS), all.len() - probed);
    }

    #[test]
    fn syncs_computed_ahead_are_taken_and_change_nothing() {
        let run = |ahead: bool| {
            let (registry, clock, mut rt, kubelets) = cluster();
            kubelets.set_look_ahead(ahead);
            rt.run_until_idle();
            deployment(
                &registry,
                12,
                json!({"name": "nginx", "image": "nginx:1.27",
                       "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}),
            );
            // A pod whose shell reaches the network: its syncs run in place.
            let client = json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                    "command": ["sh", "-c", "wget -T 2 -qO- http://10.96.0.1 || sleep 5"]}]},
            });
            let pods_info = resource::lookup("", "v1", "pods").unwrap();
            registry
                .create(pods_info, "default", client, &WriteOptions::default())
                .unwrap();
            run_for(&mut rt, &clock, 60);
            let objects = |r| {
                registry
                    .store
                    .list(r, None)
                    .0
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
            };
            let events = crate::store::ResKey {
                group: "",
                resource: "events",
            };
            (objects(res::PODS), objects(events), kubelets.looked_ahead())
        };
        let (pods, events, (taken, ..)) = run(true);
        let (pods_in_place, events_in_place, (none, ..)) = run(false);
        assert!(taken >= 12, "{taken} syncs took an outcome computed ahead");
        assert_eq!(none, 0);
        assert_eq!(pods.len(), 26, "13 system pods, 12 of web, the client");
        assert_eq!(pods, pods_in_place);
        assert_eq!(events, events_in_place);
    }

    #[test]
    fn syncs_are_computed_ahead_only_on_a_virtual_clock() {
        let (registry, ..) = cluster();
        let kubelets = Kubelets::new(registry, Catalog::default(), 1);
        kubelets.set_look_ahead(true);
        assert!(KubeletController(kubelets).looks_ahead());
        let wall = Arc::new(Registry::new(
            Arc::new(crate::store::Store::new()),
            Arc::new(crate::sim::clock::WallClock::new(1.0)),
            1,
        ));
        let kubelets = Kubelets::new(wall, Catalog::default(), 1);
        kubelets.set_look_ahead(true);
        assert!(!KubeletController(kubelets).looks_ahead());
    }

    #[test]
    fn a_deployment_runs_and_becomes_available_on_the_virtual_clock() {
        let (registry, clock, mut rt, _) = cluster();
        deployment(
            &registry,
            3,
            json!({"name": "nginx", "image": "nginx:1.27"}),
        );
        run_for(&mut rt, &clock, 30);
        let pods = pods(&registry);
        assert_eq!(pods.len(), 3);
        let mut ips = BTreeSet::new();
        for p in &pods {
            assert_eq!(p["status"]["phase"], "Running", "{}", p["status"]);
            assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
            ips.insert(p["status"]["podIP"].as_str().unwrap_or("").to_string());
        }
        assert_eq!(ips.len(), 3, "pod IPs are distinct: {ips:?}");
        let d = registry
            .store
            .get(res::DEPLOYMENTS, "default", "web")
            .unwrap();
        assert_eq!(d["status"]["availableReplicas"], 3, "{}", d["status"]);
        // Settled: nothing left to do but the next timer.
        assert_eq!(rt.run_until_idle(), 0);
    }

    #[test]
    fn node_writes_resync_its_pods_only_when_what_they_read_changes() {
        let (registry, clock, mut rt, kubelets) = cluster();
        deployment(
            &registry,
            2,
            json!({"name": "nginx", "image": "nginx:1.27"}),
        );
        run_for(&mut rt, &clock, 30);
        let pod = pods(&registry).remove(0);
        let node_name = pod["spec"]["nodeName"].as_str().unwrap().to_string();
        let mut node = (*registry.store.get(res::NODES, "", &node_name).unwrap()).clone();
        let controller = KubeletController(kubelets.clone());
        let snap = rt.snapshot();
        let keys = |snap: &Snapshot, node: &Value| {
            let mut k = controller.keys_for(snap, res::NODES, node);
            k.sort();
            k
        };
        let mut on_node = kubelets.pods_on(&node_name);
        on_node.sort();
        assert!(!on_node.is_empty());
        // A status post (heartbeat time, conditions) changes nothing a
        // pod's sync reads.
        node["status"]["conditions"][0]["lastHeartbeatTime"] = json!("2025-05-01T10:05:00Z");
        node["metadata"]["labels"]["extra"] = json!("x");
        assert_eq!(keys(snap, &node), Vec::<ObjectKey>::new());
        // A new InternalIP or pod CIDR does.
        let mut moved = node.clone();
        moved["status"]["addresses"] = json!([{"type": "InternalIP", "address": "172.18.0.99"}]);
        assert_eq!(keys(snap, &moved), on_node);
        assert_eq!(keys(snap, &moved), Vec::<ObjectKey>::new(), "noted");
        let mut recarved = moved.clone();
        recarved["spec"]["podCIDR"] = json!("10.244.99.0/24");
        assert_eq!(keys(snap, &recarved), on_node);
        // A deleted Node (gone from the snapshot) resyncs them too.
        assert_eq!(keys(&Snapshot::new(), &recarved), on_node);
    }

    #[test]
    fn a_crash_loop_backs_off_and_keeps_the_last_run_logs() {
        let (registry, clock, mut rt, kubelets) = cluster();
        deployment(
            &registry,
            1,
            json!({"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", "echo boom; exit 2"]}),
        );
        run_for(&mut rt, &clock, 120);
        let p = pods(&registry).remove(0);
        let cs = &p["status"]["containerStatuses"][0];
        assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff", "{cs}");
        assert_eq!(cs["lastState"]["terminated"]["exitCode"], 2, "{cs}");
        let backoffs: Vec<i64> = registry
            .store
            .list(res::EVENTS, Some("default"))
            .0
            .iter()
            .filter(|e| e["reason"] == "BackOff")
            .map(|e| e["count"].as_i64().unwrap_or(0))
            .collect();
        assert_eq!(backoffs.len(), 1, "one aggregated BackOff event");
        assert!(backoffs[0] >= 2, "{backoffs:?}");
        let log = kubelets
            .logs("default", meta::name(&p), "app", true)
            .unwrap();
        let lines: Vec<&str> = log.lines.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(lines, ["boom"]);
    }

    #[test]
    fn deleting_a_running_pod_waits_for_its_kubelet_then_frees_its_ip() {
        let (registry, clock, mut rt, kubelets) = cluster();
        deployment(
            &registry,
            1,
            json!({"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}),
        );
        run_for(&mut rt, &clock, 30);
        let p = pods(&registry).remove(0);
        let name = meta::name(&p).to_string();
        let info = lookup_res(res::PODS).unwrap();
        registry
            .delete(info, "default", &name, &DeleteOptions::default())
            .unwrap();
        rt.run_until_idle();
        // `sleep` as PID 1 ignores SIGTERM: killed at the 30s grace period.
        assert!(registry.store.get(res::PODS, "default", &name).is_some());
        run_for(&mut rt, &clock, 31);
        assert!(registry.store.get(res::PODS, "default", &name).is_none());
        let st = kubelets.lock();
        assert!(!st.pods.contains_key(&ObjectKey::new("default", &name)));
        let used: usize = st.nodes.values().map(|n| n.used_ips.len()).sum();
        // The ReplicaSet's replacement holds the only IP in use besides
        // CoreDNS's and local-path-provisioner's (kube-proxy, kindnet and
        // the control plane run on the host network: they hold none).
        let system = |ns: &str, prefix: &str| {
            st.pods
                .keys()
                .filter(|k| k.namespace == ns && k.name.starts_with(prefix))
                .count()
        };
        assert_eq!(
            system("kube-system", "coredns-"),
            2,
            "the two CoreDNS replicas run"
        );
        for daemon in ["kube-proxy-", "kindnet-"] {
            assert_eq!(
                system("kube-system", daemon),
                st.nodes.len(),
                "{daemon} runs on each node"
            );
        }
        let provisioner = system("local-path-storage", "local-path-provisioner-");
        assert_eq!(provisioner, 1);
        assert_eq!(used, 1 + system("kube-system", "coredns-") + provisioner);
    }

    #[test]
    fn the_system_pods_become_ready_on_the_virtual_clock() {
        let (registry, clock, mut rt, _) = cluster();
        let start = clock.now();
        bootstrap::settle(&mut rt, &clock, &registry);
        assert!(bootstrap::system_pods_ready(&registry));
        assert!(clock.now().duration_since(start) < jiff::SignedDuration::from_secs(30));
        // As on kind, CoreDNS and local-path-provisioner were scheduled
        // before the workers joined: on the control plane, with its pod
        // CIDR's first addresses.
        let mut placed: Vec<(String, String)> = registry
            .store
            .list(res::PODS, None)
            .0
            .iter()
            .filter(|p| {
                let name = meta::name(p);
                name.starts_with("coredns-") || name.starts_with("local-path-provisioner-")
            })
            .map(|p| {
                (
                    p["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                    p["status"]["podIP"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        placed.sort();
        let on = |ip: &str| ("kdrill-control-plane".to_string(), ip.to_string());
        assert_eq!(
            placed,
            [on("10.244.0.2"), on("10.244.0.3"), on("10.244.0.4")]
        );
        // Their images came with the node image: nothing is pulled.
        let (events, _) = registry.store.list(res::EVENTS, Some("kube-system"));
        let pulled: Vec<&str> = events
            .iter()
            .filter(|e| e["reason"] == "Pulled" || e["reason"] == "Pulling")
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert!(!pulled.is_empty());
        for m in pulled {
            assert!(m.ends_with("\" already present on machine"), "{m}");
        }
    }

    #[test]
    fn a_host_network_pod_reports_its_node_s_ip_and_takes_none_from_the_pod_cidr() {
        let (registry, clock, mut rt, kubelets) = cluster();
        let info = lookup_res(res::PODS).unwrap();
        let pod = |name: &str, host_network: bool| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                   "spec": {"hostNetwork": host_network, "nodeName": "kdrill-worker",
                            "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}})
        };
        for (name, host) in [("on-host", true), ("in-cidr", false)] {
            registry
                .create(info, "default", pod(name, host), &WriteOptions::default())
                .unwrap();
        }
        run_for(&mut rt, &clock, 30);
        let status = |name: &str| {
            let p = registry.store.get(res::PODS, "default", name).unwrap();
            (
                p["status"]["phase"].clone(),
                p["status"]["podIP"].clone(),
                p["status"]["podIPs"].clone(),
                p["status"]["hostIP"].clone(),
            )
        };
        assert_eq!(
            status("on-host"),
            (
                json!("Running"),
                json!("172.18.0.3"),
                json!([{"ip": "172.18.0.3"}]),
                json!("172.18.0.3")
            )
        );
        // The other pod gets an address of the node's range, held there
        // beside those of the system pods on the pod network (the
        // host-network pod holds none).
        let ip = status("in-cidr").1.as_str().unwrap().to_string();
        assert!(ip.starts_with("10.244.1."), "{ip}");
        let st = kubelets.lock();
        let node = &st.nodes["kdrill-worker"];
        let on_pod_network = st
            .pods
            .iter()
            .filter(|(_, e)| e.node == "kdrill-worker")
            .filter_map(|(_, e)| e.memory.pod_ip.clone())
            .filter(|ip| ip.starts_with("10.244."))
            .collect::<BTreeSet<String>>();
        assert!(on_pod_network.contains(&ip));
        assert_eq!(*node.used_ips, on_pod_network);
        assert!(!node.used_ips.contains("172.18.0.3"));
    }

    #[test]
    fn a_parse_is_kept_while_the_spec_is_the_very_same() {
        let pod = json!({"metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}],
                     "terminationGracePeriodSeconds": 20,
                     "volumes": [{"name": "cfg", "configMap": {"name": "cm"}}]},
            "status": {"phase": "Pending"}});
        let first = Parsed::of(&pod, None);
        assert_eq!(first.pod.containers[0].name, "c");
        assert!(first.refs.config_maps.contains("cm"));
        // A status write (a clone with other status) keeps the spec's
        // entries: the parse is kept, and a deletion is read anew.
        let mut written = pod.clone();
        written["status"]["phase"] = json!("Running");
        written["metadata"]["deletionTimestamp"] = json!("2025-05-01T10:00:00Z");
        written["metadata"]["deletionGracePeriodSeconds"] = json!(5);
        let again = Parsed::of(&written, Some(&first));
        assert!(Arc::ptr_eq(&again.refs, &first.refs), "kept");
        assert!(again.pod.deleting && !first.pod.deleting);
        assert_eq!((again.pod.grace, first.pod.grace), (5, 20));
        // A spec changed in place, or an equal spec built anew, is parsed.
        let mut changed = written.clone();
        changed["spec"]["containers"][0]["name"] = json!("d");
        let fresh = Parsed::of(&changed, Some(&again));
        assert!(!Arc::ptr_eq(&fresh.refs, &first.refs));
        assert_eq!(fresh.pod.containers[0].name, "d");
        let rebuilt: Value = serde_json::from_str(&pod.to_string()).unwrap();
        let fresh = Parsed::of(&rebuilt, Some(&first));
        assert!(!Arc::ptr_eq(&fresh.refs, &first.refs));
        // The kept parse does not keep the spec alive: once every copy is
        // gone, a new spec is never taken for it.
        drop((pod, written, changed, rebuilt));
        let next = json!({"spec": {"containers": [{"name": "x", "image": "busybox"}]}});
        assert_eq!(Parsed::of(&next, Some(&first)).pod.containers[0].name, "x");
    }

    #[test]
    fn references_cover_volumes_env_env_from_and_pull_secrets() {
        let pod = json!({"spec": {
            "volumes": [
                {"name": "a", "configMap": {"name": "cm-vol"}},
                {"name": "b", "secret": {"secretName": "sec-vol"}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "d", "projected": {"sources": [{"configMap": {"name": "cm-proj"}}, {"secret": {"name": "sec-proj"}}]}}
            ],
            "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "sec-init"}}]}],
            "containers": [{"name": "c", "env": [
                {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm-env", "key": "x"}}},
                {"name": "Y", "valueFrom": {"secretKeyRef": {"name": "sec-env", "key": "y"}}},
                {"name": "Z", "value": "plain"}
            ], "envFrom": [{"configMapRef": {"name": "cm-from"}}]}],
            "imagePullSecrets": [{"name": "regcred"}]
        }});
        let r = references(&pod);
        let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            r.config_maps,
            set(&["cm-env", "cm-from", "cm-proj", "cm-vol"])
        );
        assert_eq!(
            r.secrets,
            set(&["regcred", "sec-env", "sec-init", "sec-proj", "sec-vol"])
        );
        assert_eq!(r.pvcs, set(&["data"]));
    }

    /// Throughput on the virtual clock (`cargo test --release --lib
    /// kubelets_throughput -- --ignored --nocapture`).
    #[test]
    #[allow(clippy::disallowed_methods)] // measures real time
    #[ignore]
    fn kubelets_throughput() {
        for n in [100, 1000] {
            let (registry, clock, mut rt, _) = cluster();
            let start = std::time::Instant::now();
            deployment(
                &registry,
                n,
                json!({"name": "nginx", "image": "nginx:1.27"}),
            );
            run_for(&mut rt, &clock, 30);
            let running = pods(&registry)
                .iter()
                .filter(|p| p["status"]["phase"] == "Running")
                .count();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "{n} pods: {running} running in {secs:.2}s ({:.0} pods/s)",
                running as f64 / secs
            );
        }
    }
}

#[cfg(test)]
mod mirror_tests;

mod ahead;
