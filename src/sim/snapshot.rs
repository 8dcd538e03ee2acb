//! What a controller sees: an immutable view of stored objects, held as
//! the store's own `Arc<Value>`s (an informer cache, in upstream terms).
//!
//! The runtime keeps one `Snapshot` up to date from store events and from
//! the objects its own writes return; tests build one by hand with
//! `Snapshot::from_objects`. Controllers only read it.
//!
//! Indexes kept in step with every write, so the hot paths of a large
//! cluster never scan everything: objects by controller uid (`owned_by`),
//! pods by node (`pods_on`), unbound pods (`unbound_pods`), and the
//! requests of the active pods placed on each node (`node_usage`), and
//! running totals of each controller's active pods (`owned_pod_counts`), so
//! a controller's status does not recount its pods on every transition.
//!
//! The objects themselves sit in a slab (`held`) that the indexes refer to
//! by number. What no controller has read for a whole sweep interval the
//! runtime packs (`pack_cold`) into the compact form the store keeps of it,
//! one copy for both; the next read decodes it again.

mod held;

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::controllers::podutil;
use crate::sim::controllers::scheduler::{Resources, pod_requests};
use crate::store::ResKey;
use crate::store::fxhash::FxMap;
use held::{Id, Slab};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Stored resources controllers read.
pub mod res {
    use crate::store::ResKey;

    pub const PODS: ResKey = ResKey {
        group: "",
        resource: "pods",
    };
    pub const NODES: ResKey = ResKey {
        group: "",
        resource: "nodes",
    };
    pub const EVENTS: ResKey = ResKey {
        group: "",
        resource: "events",
    };
    pub const REPLICASETS: ResKey = ResKey {
        group: "apps",
        resource: "replicasets",
    };
    pub const DEPLOYMENTS: ResKey = ResKey {
        group: "apps",
        resource: "deployments",
    };
    pub const JOBS: ResKey = ResKey {
        group: "batch",
        resource: "jobs",
    };
    pub const CRONJOBS: ResKey = ResKey {
        group: "batch",
        resource: "cronjobs",
    };
    pub const STATEFULSETS: ResKey = ResKey {
        group: "apps",
        resource: "statefulsets",
    };
    pub const DAEMONSETS: ResKey = ResKey {
        group: "apps",
        resource: "daemonsets",
    };
    pub const CONTROLLERREVISIONS: ResKey = ResKey {
        group: "apps",
        resource: "controllerrevisions",
    };
    pub const PVCS: ResKey = ResKey {
        group: "",
        resource: "persistentvolumeclaims",
    };
    pub const CONFIGMAPS: ResKey = ResKey {
        group: "",
        resource: "configmaps",
    };
    pub const SECRETS: ResKey = ResKey {
        group: "",
        resource: "secrets",
    };
    pub const SERVICES: ResKey = ResKey {
        group: "",
        resource: "services",
    };
    pub const ENDPOINTS: ResKey = ResKey {
        group: "",
        resource: "endpoints",
    };
    pub const ENDPOINTSLICES: ResKey = ResKey {
        group: "discovery.k8s.io",
        resource: "endpointslices",
    };
}

/// A namespace and a name (namespace "" for cluster-scoped objects).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of a stored object.
    pub fn of(obj: &Value) -> Self {
        Self::new(meta::namespace(obj), meta::name(obj))
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

type Name = (String, String);
/// Objects by namespace and name, as numbers in the slab.
type Objects = BTreeMap<Name, Id>;

/// A (namespace, name) pair, owned or borrowed: an [`Objects`] map is
/// searched by `&dyn NamePair`, so a lookup builds no `String`s. Both
/// forms order as the tuple of their two strings.
trait NamePair {
    fn pair(&self) -> (&str, &str);
}

impl NamePair for Name {
    fn pair(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl NamePair for (&str, &str) {
    fn pair(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> std::borrow::Borrow<dyn NamePair + 'a> for Name {
    fn borrow(&self) -> &(dyn NamePair + 'a) {
        self
    }
}

impl PartialEq for dyn NamePair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}

impl Eq for dyn NamePair + '_ {}

impl PartialOrd for dyn NamePair + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn NamePair + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.pair().cmp(&other.pair())
    }
}

/// Hashed as the tuple of its two strings (a `String` hashes as its `str`).
impl std::hash::Hash for dyn NamePair + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pair().hash(state);
    }
}

/// What the scheduler reads of a node for every pod, parsed once per node
/// version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeFacts {
    /// `status.allocatable`.
    pub alloc: Resources,
    /// `spec.unschedulable` is true.
    pub unschedulable: bool,
    /// `spec.taints` has an entry.
    pub tainted: bool,
    /// It has the `kubernetes.io/hostname` and the
    /// `topology.kubernetes.io/zone` labels (the default spread
    /// constraints' keys).
    pub hostname_label: bool,
    pub zone_label: bool,
}

impl NodeFacts {
    pub fn of(node: &Value) -> Self {
        let spec = node.get("spec");
        let labels = meta::labels(node);
        let has = |k: &str| labels.is_some_and(|l| l.contains_key(k));
        Self {
            hostname_label: has("kubernetes.io/hostname"),
            zone_label: has("topology.kubernetes.io/zone"),
            alloc: Resources::from_list(node.get_in(&["status", "allocatable"])),
            unschedulable: spec
                .and_then(|s| s.get("unschedulable"))
                .and_then(Value::as_bool)
                == Some(true),
            tainted: spec
                .and_then(|s| s.get("taints"))
                .and_then(Value::as_array)
                .is_some_and(|t| !t.is_empty()),
        }
    }
}

/// What the active pods bound to one node request (the scheduler's
/// `NodeInfo` sums): pods not Succeeded or Failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeUsage {
    /// Sum of the pods' requests.
    pub requested: Resources,
    /// The same with upstream's non-zero defaults (for scoring).
    pub non_zero: Resources,
    pub pods: usize,
    /// The pods by namespace and labels (a node holds a few such groups:
    /// one per workload), for the scheduler's counts of pods a selector
    /// matches on a node.
    pub groups: Vec<LabelGroup>,
}

/// A namespace and a set of labels, held once by the snapshot however
/// many nodes have pods with them.
#[derive(Debug, PartialEq)]
pub struct LabelSet {
    pub namespace: String,
    pub labels: Value,
}

/// The pods of one node with one [`LabelSet`].
#[derive(Debug, Clone, PartialEq)]
pub struct LabelGroup {
    pub set: Arc<LabelSet>,
    pub count: usize,
    /// How many of them are terminating (have a deletionTimestamp):
    /// PodTopologySpread leaves those out (`countPodsMatchSelector`),
    /// InterPodAffinity counts them.
    pub terminating: usize,
}

impl LabelGroup {
    /// The pods not terminating.
    pub fn live(&self) -> usize {
        self.count - self.terminating
    }
}

impl NodeUsage {
    /// Takes a pod with `set` into (`add`) or out of the node's groups.
    fn regroup(&mut self, set: &Arc<LabelSet>, add: bool, terminating: bool) {
        let at = self.groups.iter().position(|g| Arc::ptr_eq(&g.set, set));
        let t = usize::from(terminating);
        match at {
            Some(i) if add => {
                self.groups[i].count += 1;
                self.groups[i].terminating += t;
            }
            Some(i) => {
                let g = &mut self.groups[i];
                g.count = g.count.saturating_sub(1);
                g.terminating = g.terminating.saturating_sub(t).min(g.count);
                if g.count == 0 {
                    self.groups.swap_remove(i);
                }
            }
            None if add => self.groups.push(LabelGroup {
                set: set.clone(),
                count: 1,
                terminating: t,
            }),
            None => {}
        }
    }

    /// How many of the node's pods in `namespace`, not terminating, have
    /// labels `pred` accepts.
    pub fn count_in(&self, namespace: &str, pred: impl Fn(&Value) -> bool) -> usize {
        self.groups
            .iter()
            .filter(|g| g.set.namespace == namespace && pred(&g.set.labels))
            .map(LabelGroup::live)
            .sum()
    }
}

/// A node as `Snapshot::nodes_with_state` hands it out: its name, the
/// Node, its facts and its pods' usage (`None` when no active pod is on it).
/// Last, the generation of its index entry ([`NodeEntry::generation`]).
pub type NodeWithState<'a> = (
    &'a str,
    &'a Arc<Value>,
    &'a NodeFacts,
    Option<&'a NodeUsage>,
    u64,
);

/// What the snapshot knows of one node name: the Node's facts while it
/// holds the Node, and the requests of the active pods bound to it (pods
/// may name a node it does not hold).
#[derive(Debug, Clone, Default)]
struct NodeEntry {
    facts: Option<NodeFacts>,
    /// The Node itself while the snapshot holds it (set with `facts`,
    /// and kept current by every write of the Node).
    node: Option<Arc<Value>>,
    usage: NodeUsage,
    /// Changes with every change to the facts or the usage, to a number
    /// no entry of any snapshot in the process had before: what the
    /// scheduler computed from an entry holds while its generation does.
    generation: u64,
}

/// The generations [`NodeEntry::generation`] hands out (0 is never one).
static NODE_GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl NodeEntry {
    /// Marks a change to the entry.
    fn touch(&mut self) {
        self.generation = NODE_GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Running totals of the active pods (`controller.IsPodActive`) one
/// controller owns in one namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnedPods {
    pub active: usize,
    /// Active pods whose Ready condition is True (`IsPodReady`).
    pub ready: usize,
    /// Active pods grouped by their labels (usually one group), for
    /// label-matching counts.
    pub by_labels: Vec<(Value, usize)>,
}

impl OwnedPods {
    fn change(&mut self, pod: &Value, add: bool) {
        let step = |n: &mut usize| {
            if add {
                *n += 1;
            } else {
                *n = n.saturating_sub(1);
            }
        };
        step(&mut self.active);
        if podutil::is_ready(pod) {
            step(&mut self.ready);
        }
        let labels = pod
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .unwrap_or(&Value::Null);
        match self.by_labels.iter().position(|(l, _)| l == labels) {
            Some(i) => {
                step(&mut self.by_labels[i].1);
                if self.by_labels[i].1 == 0 {
                    self.by_labels.swap_remove(i);
                }
            }
            // Copied only for a new group.
            None if add => self.by_labels.push((labels.clone(), 1)),
            None => {}
        }
    }

    /// How many of the active pods have labels `pred` accepts.
    pub fn count_labels(&self, pred: impl Fn(&Value) -> bool) -> usize {
        self.by_labels
            .iter()
            .filter(|(l, _)| pred(l))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Objects by resource, namespace and name, plus the indexes.
#[derive(Debug, Default)]
pub struct Snapshot {
    slab: Slab,
    objects: FxMap<ResKey, Objects>,
    /// The same ids hashed, for lookups by name (`objects` keeps the
    /// order lists need; a search of it compares strings at every level).
    ids: FxMap<ResKey, FxMap<Name, Id>>,
    /// (resource, controller uid) to the objects it controls.
    by_owner: FxMap<(ResKey, String), Objects>,
    /// Node name to the pods bound to it.
    by_node: FxMap<String, Objects>,
    /// Pods without a node.
    unbound: Objects,
    /// Node name to its parsed allocatable and cordon/taint facts (the
    /// scheduler reads them for every node and every pod) and what its
    /// active pods request: one entry. In name order, as the nodes are, so
    /// the scheduler walks both side by side (`nodes_with_state`).
    node_index: BTreeMap<String, NodeEntry>,
    /// Namespace, then controller uid, to totals of its active pods.
    owned_pods: FxMap<String, FxMap<String, OwnedPods>>,
    /// Bound pods with pod affinity or anti-affinity (upstream's
    /// `PodsWithAffinity`): the scheduler's InterPodAffinity filter checks
    /// their required anti-affinity terms, and its score their terms,
    /// against every incoming pod.
    with_pod_affinity: Objects,
    /// Services with a selector (the Endpoints and EndpointSlice
    /// controllers reconcile them on every pod write in their namespace),
    /// in namespace then name order.
    selecting: Objects,
    /// (namespace, controller uid) to the apiserver's refusal of that
    /// controller's last create (the runtime records it; a controller's
    /// `manageReplicasErr`).
    create_failures: FxMap<(String, String), String>,
    /// The label sets of the pods on nodes, by a hash of namespace and
    /// labels (sets that collide share a bucket), each with the number of
    /// pods that have it.
    label_sets: FxMap<u64, Vec<(Arc<LabelSet>, usize)>>,
}

fn node_of(pod: &Value) -> &str {
    pod.get("spec")
        .and_then(|s| s.get("nodeName"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Whether a bound pod counts against its node's room.
fn uses_room(pod: &Value) -> bool {
    !node_of(pod).is_empty() && !matches!(podutil::phase(pod), "Succeeded" | "Failed")
}

/// Whether a pod has pod affinity or anti-affinity (the
/// `with_pod_affinity` index; upstream's `podWithAffinity`).
fn has_pod_affinity(pod: &Value) -> bool {
    pod.get_in(&["spec", "affinity"]).is_some_and(|a| {
        a.get("podAffinity").is_some_and(|t| !t.is_null())
            || a.get("podAntiAffinity").is_some_and(|t| !t.is_null())
    })
}

/// Whether `old` and `new` (two versions of one object, held under the
/// same number) put the same entries in every index, so replacing one with
/// the other needs no index update: the same controller, node, activity,
/// readiness and labels, the same parts of a pod's spec the indexes read
/// (`same_indexed_spec`) and, for nodes, the same allocatable.
fn same_index_entries(res: ResKey, old: &Value, new: &Value) -> bool {
    if controller_uid(old) != controller_uid(new) {
        return false;
    }
    if res == res::NODES {
        let spec = |n: &'_ Value, k: &str| n.get("spec").and_then(|s| s.get(k)).cloned();
        return old.get_in(&["status", "allocatable"]) == new.get_in(&["status", "allocatable"])
            && spec(old, "unschedulable") == spec(new, "unschedulable")
            && spec(old, "taints") == spec(new, "taints")
            && meta::labels(old) == meta::labels(new);
    }
    if res == res::SERVICES {
        return selects_pods(old) == selects_pods(new);
    }
    if res != res::PODS {
        return true;
    }
    node_of(old) == node_of(new)
        && uses_room(old) == uses_room(new)
        && podutil::is_active(old) == podutil::is_active(new)
        && podutil::is_ready(old) == podutil::is_ready(new)
        && meta::labels(old) == meta::labels(new)
        && same_indexed_spec(old, new)
}

/// Whether a Service has a selector the endpoint controllers act on.
fn selects_pods(svc: &Value) -> bool {
    crate::sim::controllers::endpointutil::selector(svc).is_some()
}

/// Whether two versions of a pod sit in the same place in every index but
/// the owner's pod totals: same controller, node, room use and indexed
/// spec. Then only those totals move (a pod turning Ready, say).
fn same_place(old: &Value, new: &Value) -> bool {
    controller_uid(old) == controller_uid(new)
        && node_of(old) == node_of(new)
        && uses_room(old) == uses_room(new)
        && same_indexed_spec(old, new)
}

/// Whether two versions of a pod agree on what the indexes read from its
/// spec besides the node: the containers' and init containers' resources,
/// the overhead and the required pod anti-affinity. Compared instead of the
/// whole spec, which every status write carries over unchanged.
fn same_indexed_spec(old: &Value, new: &Value) -> bool {
    fn field<'a>(pod: &'a Value, key: &str) -> Option<&'a Value> {
        pod.get("spec").and_then(|s| s.get(key))
    }
    fn resources<'a>(pod: &'a Value, list: &str) -> impl Iterator<Item = Option<&'a Value>> {
        field(pod, list)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|c| c.get("resources"))
    }
    // A status write carries the spec over as it was: nothing to compare.
    if let (Some(Value::Object(a)), Some(Value::Object(b))) = (old.get("spec"), new.get("spec"))
        && a.shares(b)
    {
        return true;
    }
    resources(old, "containers").eq(resources(new, "containers"))
        && resources(old, "initContainers").eq(resources(new, "initContainers"))
        && field(old, "overhead") == field(new, "overhead")
        && has_pod_affinity(old) == has_pod_affinity(new)
}

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// A snapshot holding `objects` (tests).
    pub fn from_objects(objects: impl IntoIterator<Item = (ResKey, Value)>) -> Self {
        let mut s = Self::new();
        for (res, obj) in objects {
            s.upsert(res, Arc::new(obj));
        }
        s
    }

    pub fn get(&self, res: ResKey, namespace: &str, name: &str) -> Option<&Arc<Value>> {
        self.slab.read(self.id_of(res, namespace, name)?)
    }

    /// The slab id of `namespace`/`name`, without building its `String`s.
    fn id_of(&self, res: ResKey, namespace: &str, name: &str) -> Option<Id> {
        self.ids
            .get(&res)?
            .get(&(namespace, name) as &dyn NamePair)
            .copied()
    }

    /// Whether the snapshot holds any object of `res` (most clusters have
    /// no PodDisruptionBudget, ResourceQuota, DaemonSet, StatefulSet or
    /// Job to route a pod write to).
    pub fn holds_any(&self, res: ResKey) -> bool {
        self.objects.get(&res).is_some_and(|o| !o.is_empty())
    }

    /// How many objects of `res` the snapshot holds.
    pub fn count(&self, res: ResKey) -> usize {
        self.objects.get(&res).map_or(0, |o| o.len())
    }

    /// Whether the snapshot holds `obj` (a version of this very object, not
    /// a new one of its name): after a store event is taken in, false only
    /// for a delete.
    pub fn holds_one_like(&self, res: ResKey, obj: &Value) -> bool {
        self.get(res, meta::namespace(obj), meta::name(obj))
            .is_some_and(|held| meta::uid(held) == meta::uid(obj))
    }

    /// An object for a passing look (a check that does not use it): it
    /// does not count as read, and if it is packed it is decoded for the
    /// caller alone, so a sweep of such looks over every pod (the
    /// kubelets' resync at each node status post) does not unpack the
    /// cluster.
    pub fn glance(&self, res: ResKey, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.slab.glance(self.id_of(res, namespace, name)?)
    }

    /// The objects a map of ids names, in its order.
    fn read<'a>(
        &'a self,
        ids: impl Iterator<Item = &'a Id> + 'a,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        ids.filter_map(|id| self.slab.read(*id))
    }

    /// How many of them are held packed only, not decoded since.
    pub fn packed(&self) -> usize {
        self.slab.packed()
    }

    /// Objects of a resource (in one namespace when given), ordered by
    /// namespace then name.
    pub fn list<'a>(
        &'a self,
        res: ResKey,
        namespace: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = &'a Arc<Value>> + 'a> {
        let Some(objs) = self.objects.get(&res) else {
            return Box::new(std::iter::empty());
        };
        match namespace {
            None => Box::new(self.read(objs.values())),
            Some(ns) => {
                // From the first name of `ns` on, found without building a key.
                let from = (ns, "");
                let start = std::ops::Bound::Included(&from as &dyn NamePair);
                Box::new(
                    self.read(
                        objs.range::<dyn NamePair, _>((start, std::ops::Bound::Unbounded))
                            .take_while(move |((n, _), _)| n == ns)
                            .map(|(_, v)| v),
                    ),
                )
            }
        }
    }

    /// Keys of the Services in `namespace` that have a selector, by name.
    pub fn selecting_services<'a>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = ObjectKey> + 'a {
        let from = (namespace, "");
        let start = std::ops::Bound::Included(&from as &dyn NamePair);
        self.selecting
            .range::<dyn NamePair, _>((start, std::ops::Bound::Unbounded))
            .take_while(move |((ns, _), _)| ns == namespace)
            .map(|((ns, name), _)| ObjectKey::new(ns.as_str(), name.as_str()))
    }

    /// The Nodes by name, each with its name from the snapshot's own key
    /// (the scheduler visits every node for every pod).
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &Arc<Value>)> + '_ {
        self.objects
            .get(&res::NODES)
            .into_iter()
            .flatten()
            .filter_map(|((_, name), id)| Some((name.as_str(), self.slab.read(*id)?)))
    }

    /// Objects in `namespace` whose controller ownerReference has `uid`,
    /// ordered by name.
    pub fn owned_by<'a>(
        &'a self,
        res: ResKey,
        namespace: &'a str,
        uid: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        self.read(
            self.by_owner
                .get(&(res, uid.to_string()))
                .into_iter()
                .flatten()
                .filter(move |((ns, _), _)| ns == namespace)
                .map(|(_, o)| o),
        )
    }

    /// The pods bound to `node`, ordered by namespace then name.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        self.read(self.by_node.get(node).into_iter().flat_map(|o| o.values()))
    }

    /// The keys of the pods bound to `node`, without reading the pods.
    pub fn pod_keys_on<'a>(&'a self, node: &str) -> impl Iterator<Item = ObjectKey> + 'a {
        self.by_node
            .get(node)
            .into_iter()
            .flat_map(|o| o.keys())
            .map(|(ns, name)| ObjectKey::new(ns.as_str(), name.as_str()))
    }

    /// The pods without a node (scheduled or not yet), ordered by
    /// namespace then name.
    pub fn unbound_pods(&self) -> impl Iterator<Item = &Arc<Value>> + '_ {
        self.read(self.unbound.values())
    }

    /// Totals of the active pods in `namespace` whose controller has `uid`
    /// (the same pods as `owned_by(res::PODS, ..)` filtered by
    /// `podutil::is_active`).
    pub fn owned_pod_counts(&self, namespace: &str, uid: &str) -> OwnedPods {
        self.owned_pods
            .get(namespace)
            .and_then(|by_uid| by_uid.get(uid))
            .cloned()
            .unwrap_or_default()
    }

    /// The parsed `status.allocatable` of the node named `node`, and what
    /// of its spec the scheduler's filters read.
    pub fn node_facts(&self, node: &str) -> Option<&NodeFacts> {
        self.node_index.get(node)?.facts.as_ref()
    }

    /// What the active pods bound to `node` request (None: no such pod).
    pub fn node_usage(&self, node: &str) -> Option<&NodeUsage> {
        self.node_index
            .get(node)
            .map(|e| &e.usage)
            .filter(|u| u.pods > 0)
    }

    /// The nodes in name order, each with its `node_facts` and
    /// `node_usage`, from the node index alone (entries of names without a
    /// node, the usage of pods bound to a node that is gone, are passed
    /// over).
    pub fn nodes_with_state(&self) -> impl Iterator<Item = NodeWithState<'_>> + '_ {
        self.node_index.iter().filter_map(|(name, e)| {
            Some((
                name.as_str(),
                e.node.as_ref()?,
                e.facts.as_ref()?,
                Some(&e.usage).filter(|u| u.pods > 0),
                e.generation,
            ))
        })
    }

    /// Why the last create for the controller with `uid` was refused, if it was.
    pub fn create_failure(&self, namespace: &str, uid: &str) -> Option<&str> {
        self.create_failures
            .get(&(namespace.to_string(), uid.to_string()))
            .map(String::as_str)
    }

    /// Records (`Some`) or clears (`None`) the outcome of a create for the
    /// controller of `obj`.
    pub fn note_create(&mut self, namespace: &str, obj: &Value, refusal: Option<String>) {
        let Some(uid) = controller_uid(obj) else {
            return;
        };
        let key = (namespace.to_string(), uid.to_string());
        match refusal {
            Some(m) => {
                self.create_failures.insert(key, m);
            }
            None => {
                self.create_failures.remove(&key);
            }
        }
    }

    /// Bound pods with pod affinity or anti-affinity terms.
    pub fn pod_affinity_pods(&self) -> impl Iterator<Item = &Arc<Value>> + '_ {
        self.read(self.with_pod_affinity.values())
    }

    /// Every pod bound to a node.
    pub fn bound_pods(&self) -> impl Iterator<Item = &Arc<Value>> + '_ {
        self.read(self.by_node.values().flat_map(|o| o.values()))
    }

    /// Moves a pod from `old` to `new` in its owner's pod totals: all
    /// that changes when the two differ only in readiness, activity or
    /// labels ([`same_place`]).
    fn recount_owned(&mut self, key: &Name, old: &Value, new: &Value) {
        self.count_owned(&key.0, old, false);
        self.count_owned(&key.0, new, true);
        if uses_room(new)
            && (meta::labels(old) != meta::labels(new)
                || meta::is_deleting(old) != meta::is_deleting(new))
        {
            self.regroup(&key.0, old, false);
            self.regroup(&key.0, new, true);
        }
    }

    /// Takes a pod of `namespace` into (`add`) or out of its node's label
    /// groups, through the snapshot's one copy of its label set.
    fn regroup(&mut self, namespace: &str, pod: &Value, add: bool) {
        use std::hash::{Hash, Hasher};
        let labels = meta::labels(pod).map_or(&Value::Null, |_| &pod["metadata"]["labels"]);
        let mut h = crate::store::fxhash::FxHasher::default();
        namespace.hash(&mut h);
        for (k, v) in labels.as_object().into_iter().flatten() {
            k.hash(&mut h);
            v.as_str().hash(&mut h);
        }
        let bucket = self.label_sets.entry(h.finish()).or_default();
        let at = bucket
            .iter()
            .position(|(set, _)| set.namespace == namespace && &set.labels == labels);
        let set = match at {
            Some(i) => {
                let set = bucket[i].0.clone();
                if add {
                    bucket[i].1 += 1;
                } else {
                    bucket[i].1 -= 1;
                    if bucket[i].1 == 0 {
                        bucket.swap_remove(i);
                    }
                }
                set
            }
            None if add => {
                let set = Arc::new(LabelSet {
                    namespace: namespace.to_string(),
                    labels: labels.clone(),
                });
                bucket.push((set.clone(), 1));
                set
            }
            None => return,
        };
        if bucket.is_empty() {
            self.label_sets.remove(&h.finish());
        }
        if let Some(e) = self.node_index.get_mut(node_of(pod)) {
            e.usage.regroup(&set, add, meta::is_deleting(pod));
            e.touch();
        }
    }

    /// Takes an active pod of `namespace` into (`add`) or out of its
    /// owner's pod totals.
    fn count_owned(&mut self, namespace: &str, pod: &Value, add: bool) {
        let Some(uid) = controller_uid(pod) else {
            return;
        };
        if !podutil::is_active(pod) {
            return;
        }
        // Looked up by the borrowed names; copied only for a new entry
        // (taking out of totals that are not there changes nothing).
        if !self.owned_pods.contains_key(namespace) {
            if !add {
                return;
            }
            self.owned_pods
                .insert(namespace.to_string(), FxMap::default());
        }
        let Some(by_uid) = self.owned_pods.get_mut(namespace) else {
            return;
        };
        if !by_uid.contains_key(uid) {
            if !add {
                return;
            }
            by_uid.insert(uid.to_string(), OwnedPods::default());
        }
        if let Some(totals) = by_uid.get_mut(uid) {
            totals.change(pod, add);
            if totals.active == 0 {
                by_uid.remove(uid);
            }
        }
        if by_uid.is_empty() {
            self.owned_pods.remove(namespace);
        }
    }

    /// Moves an object's entries in the indexes from what `old` put there
    /// to what `new` does (`None`: not held before, or not any more).
    /// Entries both versions share stay untouched: binding a pod moves it
    /// from `unbound` to its node's set and leaves its owner's set alone
    /// (two searches of a ReplicaSet's ordered names, cold at 10,000 pods).
    fn reindex(
        &mut self,
        res: ResKey,
        key: &Name,
        id: Id,
        old: Option<&Value>,
        new: Option<&Value>,
    ) {
        let (old_owner, new_owner) = (old.and_then(controller_uid), new.and_then(controller_uid));
        if old_owner != new_owner {
            if let Some(uid) = old_owner {
                let k = (res, uid.to_string());
                if let Some(set) = self.by_owner.get_mut(&k) {
                    set.remove(key);
                    if set.is_empty() {
                        self.by_owner.remove(&k);
                    }
                }
            }
            if let Some(uid) = new_owner {
                self.by_owner
                    .entry((res, uid.to_string()))
                    .or_default()
                    .insert(key.clone(), id);
            }
        }
        if res == res::SERVICES {
            let (was, is) = (old.is_some_and(selects_pods), new.is_some_and(selects_pods));
            if was && !is {
                self.selecting.remove(key);
            } else if is && !was {
                self.selecting.insert(key.clone(), id);
            }
        }
        if res == res::NODES {
            match new {
                Some(n) => {
                    let e = self.node_index.entry(key.1.clone()).or_default();
                    e.facts = Some(NodeFacts::of(n));
                    e.touch();
                }
                None => {
                    if let Some(e) = self.node_index.get_mut(&key.1) {
                        e.facts = None;
                        e.node = None;
                        e.touch();
                        if e.usage.pods == 0 {
                            self.node_index.remove(&key.1);
                        }
                    }
                }
            }
        }
        if res == res::PODS {
            self.reindex_pod(key, id, old, new);
        }
    }

    /// `reindex` for a pod: its owner's totals, its place among the
    /// unbound or on its node, the anti-affinity set and its node's usage.
    fn reindex_pod(&mut self, key: &Name, id: Id, old: Option<&Value>, new: Option<&Value>) {
        if let Some(o) = old {
            self.count_owned(&key.0, o, false);
        }
        if let Some(n) = new {
            self.count_owned(&key.0, n, true);
        }
        // "" for unbound, None for not held.
        let (old_node, new_node) = (old.map(node_of), new.map(node_of));
        if old_node != new_node {
            match old_node {
                Some("") => {
                    self.unbound.remove(key);
                }
                Some(node) => {
                    if let Some(set) = self.by_node.get_mut(node) {
                        set.remove(key);
                        if set.is_empty() {
                            self.by_node.remove(node);
                        }
                    }
                }
                None => {}
            }
            match new_node {
                Some("") => {
                    self.unbound.insert(key.clone(), id);
                }
                Some(node) => {
                    self.by_node
                        .entry(node.to_string())
                        .or_default()
                        .insert(key.clone(), id);
                }
                None => {}
            }
        }
        let with_affinity =
            |p: Option<&Value>| p.is_some_and(|p| !node_of(p).is_empty() && has_pod_affinity(p));
        match (with_affinity(old), with_affinity(new)) {
            (true, false) => {
                self.with_pod_affinity.remove(key);
            }
            (false, true) => {
                self.with_pod_affinity.insert(key.clone(), id);
            }
            _ => {}
        }
        if let Some(o) = old.filter(|o| uses_room(o)) {
            self.regroup(&key.0, o, false);
            let node = node_of(o);
            if let Some(e) = self.node_index.get_mut(node) {
                e.touch();
                let u = &mut e.usage;
                let (req, non_zero) = pod_requests(o);
                u.requested.sub(&req);
                u.non_zero.sub(&non_zero);
                u.pods = u.pods.saturating_sub(1);
                if u.pods == 0 {
                    *u = NodeUsage::default();
                    if e.facts.is_none() {
                        self.node_index.remove(node);
                    }
                }
            }
        }
        if let Some(n) = new.filter(|n| uses_room(n)) {
            let node = node_of(n);
            self.node_index.entry(node.to_string()).or_default();
            self.regroup(&key.0, n, true);
            let e = self.node_index.entry(node.to_string()).or_default();
            e.touch();
            let u = &mut e.usage;
            let (req, non_zero) = pod_requests(n);
            u.requested.add(&req);
            u.non_zero.add(&non_zero);
            u.pods += 1;
        }
    }

    /// Stores `obj` (found as `id`, when held already), keeping the
    /// indexes in step.
    fn put(&mut self, res: ResKey, id: Option<Id>, obj: Arc<Value>) {
        let key = || {
            (
                meta::namespace(&obj).to_string(),
                meta::name(&obj).to_string(),
            )
        };
        match id {
            Some(id) => {
                if self.slab.holds(id, &obj) {
                    return;
                }
                let old = self.slab.replace(id, obj.clone());
                // Most writes (status updates) change nothing the indexes
                // hold, and the object keeps its number: leave them be.
                if let Some(old) = old.filter(|old| !same_index_entries(res, old, &obj)) {
                    if res == res::PODS && same_place(&old, &obj) {
                        self.recount_owned(&key(), &old, &obj);
                    } else {
                        self.reindex(res, &key(), id, Some(&old), Some(&obj));
                    }
                }
            }
            None => {
                let key = key();
                let id = self.slab.insert(obj.clone());
                self.objects.entry(res).or_default().insert(key.clone(), id);
                self.ids.entry(res).or_default().insert(key.clone(), id);
                self.reindex(res, &key, id, None, Some(&obj));
            }
        }
        if res == res::NODES
            && let Some(e) = self.node_index.get_mut(meta::name(&obj))
        {
            e.node = Some(obj);
        }
    }

    /// Stores `obj` unless the snapshot already holds a newer version.
    pub fn upsert(&mut self, res: ResKey, obj: Arc<Value>) {
        let id = self.id_of(res, meta::namespace(&obj), meta::name(&obj));
        // The very tree held already (the store event of a write the
        // runtime applied itself): nothing to compare or index.
        if id.is_some_and(|id| self.slab.holds(id, &obj)) {
            return;
        }
        if let Some(old) = id.and_then(|id| self.slab.peek(id))
            && meta::uid(old) == meta::uid(&obj)
            && meta::resource_version(old) > meta::resource_version(&obj)
        {
            return;
        }
        self.put(res, id, obj);
    }

    /// Drops an object, unless the snapshot holds a newer incarnation
    /// (another uid, or a later version of the same one).
    pub fn remove(&mut self, res: ResKey, gone: &Value) {
        let key = (
            meta::namespace(gone).to_string(),
            meta::name(gone).to_string(),
        );
        let Some(id) = self.id_of(res, &key.0, &key.1) else {
            return;
        };
        let stale = self.slab.peek(id).is_none_or(|cur| {
            meta::uid(cur) != meta::uid(gone)
                || meta::resource_version(cur) > meta::resource_version(gone)
        });
        if stale {
            return;
        }
        if let Some(objs) = self.objects.get_mut(&res) {
            objs.remove(&key);
        }
        if let Some(ids) = self.ids.get_mut(&res) {
            ids.remove(&key);
        }
        if let Some(old) = self.slab.remove(id) {
            self.reindex(res, &key, id, Some(&old), None);
        }
    }

    /// Replaces everything held for one resource.
    pub fn replace(&mut self, res: ResKey, items: Vec<Arc<Value>>) {
        if let Some(old) = self.objects.remove(&res) {
            for (k, id) in &old {
                if let Some(o) = self.slab.remove(*id) {
                    self.reindex(res, k, *id, Some(&o), None);
                }
            }
        }
        self.objects.insert(res, Objects::new());
        self.ids.insert(res, FxMap::default());
        for o in items {
            let id = self.id_of(res, meta::namespace(&o), meta::name(&o));
            self.put(res, id, o);
        }
    }

    /// Packs every object no controller has read since the last call (see
    /// the module's header) and returns how many it packed. `pack` hands
    /// back the store's packed copy of exactly that tree, or `None` when
    /// the store holds another version (the tree then stays).
    ///
    /// Namespaces, Nodes, ConfigMaps and Secrets stay decoded: the apiserver
    /// reads a pod's Namespace on each write of it and of its Events, and a
    /// kubelet its Node and mounted ConfigMaps on each sync, straight from
    /// the store, which would decode a packed one every time. There are few
    /// of them next to the pods.
    pub fn pack_cold(
        &mut self,
        mut pack: impl FnMut(ResKey, &Arc<Value>) -> Option<Arc<[u8]>>,
    ) -> usize {
        const STAY_DECODED: [&str; 4] = ["namespaces", "nodes", "configmaps", "secrets"];
        let mut packed = 0;
        for (res, objs) in &self.objects {
            if res.group.is_empty() && STAY_DECODED.contains(&res.resource) {
                continue;
            }
            for id in objs.values() {
                if self.slab.sweep(*id, |tree| pack(*res, tree)) {
                    packed += 1;
                }
            }
        }
        packed
    }
}

/// The uid of an object's controller (`ownerReferences[controller=true]`).
pub fn controller_uid(obj: &Value) -> Option<&str> {
    controller_ref(obj)
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// An object's controller reference, if any.
pub fn controller_ref(obj: &Value) -> Option<&Value> {
    meta::owner_references(obj)
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// The key of `obj`'s controller when that controller is of `kind`: how a
/// controller maps a change to one of its pods back to itself.
pub fn controller_key(obj: &Value, kind: &str) -> Vec<ObjectKey> {
    match controller_ref(obj) {
        Some(owner) if owner.get("kind").and_then(Value::as_str) == Some(kind) => {
            let name = owner.get("name").and_then(Value::as_str).unwrap_or("");
            vec![ObjectKey::new(meta::namespace(obj), name)]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, uid: &str, rv: &str) -> Value {
        json!({"metadata": {"namespace": "default", "name": name, "uid": uid, "resourceVersion": rv}})
    }

    #[test]
    fn upsert_keeps_the_newer_version_of_the_same_object() {
        let mut s = Snapshot::new();
        s.upsert(res::PODS, Arc::new(pod("a", "u1", "5")));
        s.upsert(res::PODS, Arc::new(pod("a", "u1", "3")));
        let got = s
            .get(res::PODS, "default", "a")
            .map(|p| meta::resource_version(p));
        assert_eq!(got, Some(Some(5)));
        // A new incarnation (new uid) always replaces.
        s.upsert(res::PODS, Arc::new(pod("a", "u2", "2")));
        assert_eq!(
            s.get(res::PODS, "default", "a")
                .map(|p| meta::uid(p).to_string()),
            Some("u2".into())
        );
    }

    #[test]
    fn remove_ignores_a_stale_delete_of_an_older_incarnation() {
        let mut s = Snapshot::new();
        s.upsert(res::PODS, Arc::new(pod("a", "u2", "9")));
        s.remove(res::PODS, &pod("a", "u1", "8"));
        assert!(s.get(res::PODS, "default", "a").is_some());
        s.remove(res::PODS, &pod("a", "u2", "10"));
        assert!(s.get(res::PODS, "default", "a").is_none());
    }

    #[test]
    fn list_is_scoped_to_a_namespace() {
        let mut a = pod("a", "1", "1");
        a["metadata"]["namespace"] = json!("kube-system");
        let s = Snapshot::from_objects([(res::PODS, a), (res::PODS, pod("b", "2", "1"))]);
        let names: Vec<&str> = s
            .list(res::PODS, Some("default"))
            .map(|p| meta::name(p))
            .collect();
        assert_eq!(names, ["b"]);
        assert_eq!(s.list(res::PODS, None).count(), 2);
        // Namespaces before, after and between the held ones, and one
        // that is a prefix of another.
        let mut c = pod("c", "3", "1");
        c["metadata"]["namespace"] = json!("def");
        let mut d = pod("d", "4", "1");
        d["metadata"]["namespace"] = json!("kube-system");
        let s = Snapshot::from_objects([
            (res::PODS, pod("b", "2", "1")),
            (res::PODS, c),
            (res::PODS, d),
        ]);
        for (ns, want) in [
            ("default", vec!["b"]),
            ("def", vec!["c"]),
            ("kube-system", vec!["d"]),
            ("", vec![]),
            ("a", vec![]),
            ("defaults", vec![]),
            ("zzz", vec![]),
        ] {
            let names: Vec<&str> = s.list(res::PODS, Some(ns)).map(|p| meta::name(p)).collect();
            assert_eq!(names, want, "{ns}");
        }
    }

    fn owned_pod(name: &str, rv: &str, owner: &str, node: &str, phase: &str) -> Value {
        json!({"metadata": {"namespace": "default", "name": name, "uid": format!("uid-{name}"), "resourceVersion": rv,
                "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": owner, "controller": true}]},
               "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]},
               "status": {"phase": phase}})
    }

    fn names<'a>(it: impl Iterator<Item = &'a Arc<Value>>) -> Vec<&'a str> {
        it.map(|p| meta::name(p)).collect()
    }

    #[test]
    fn owned_by_follows_owner_changes_and_deletes() {
        let mut s = Snapshot::new();
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("b", "1", "rs-1", "", "Pending")),
        );
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("a", "1", "rs-1", "", "Pending")),
        );
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("c", "1", "rs-2", "", "Pending")),
        );
        assert_eq!(names(s.owned_by(res::PODS, "default", "rs-1")), ["a", "b"]);
        assert_eq!(
            names(s.owned_by(res::PODS, "other", "rs-1")),
            Vec::<&str>::new()
        );
        // Orphaned (the owner reference dropped): out of the index.
        let mut orphan = owned_pod("b", "2", "rs-1", "", "Pending");
        orphan["metadata"]["ownerReferences"] = json!([]);
        s.upsert(res::PODS, Arc::new(orphan));
        assert_eq!(names(s.owned_by(res::PODS, "default", "rs-1")), ["a"]);
        s.remove(res::PODS, &owned_pod("a", "2", "rs-1", "", "Pending"));
        assert_eq!(names(s.owned_by(res::PODS, "default", "rs-1")).len(), 0);
        assert_eq!(names(s.owned_by(res::PODS, "default", "rs-2")), ["c"]);
        // A stale update does not touch the index.
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("b", "1", "rs-1", "", "Pending")),
        );
        assert_eq!(names(s.owned_by(res::PODS, "default", "rs-1")).len(), 0);
    }

    #[test]
    fn binding_moves_a_pod_from_unbound_to_its_node_and_counts_its_requests() {
        let mut s = Snapshot::new();
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("a", "1", "rs", "", "Pending")),
        );
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("b", "1", "rs", "", "Pending")),
        );
        assert_eq!(names(s.unbound_pods()), ["a", "b"]);
        assert!(s.node_usage("n1").is_none());
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("a", "2", "rs", "n1", "Pending")),
        );
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("b", "2", "rs", "n1", "Running")),
        );
        assert_eq!(names(s.unbound_pods()).len(), 0);
        assert_eq!(names(s.pods_on("n1")), ["a", "b"]);
        let u = s.node_usage("n1").cloned().unwrap_or_default();
        assert_eq!(
            (u.requested.get("cpu"), u.requested.get("memory"), u.pods),
            (500, 128 * 1024 * 1024, 2)
        );
        // A finished pod stays on its node but frees its room.
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("b", "3", "rs", "n1", "Succeeded")),
        );
        assert_eq!(names(s.pods_on("n1")), ["a", "b"]);
        let u = s.node_usage("n1").cloned().unwrap_or_default();
        assert_eq!((u.requested.get("cpu"), u.pods), (250, 1));
        s.remove(res::PODS, &owned_pod("a", "3", "rs", "n1", "Pending"));
        assert!(s.node_usage("n1").is_none());
        assert_eq!(names(s.pods_on("n1")), ["b"]);
        let keys: Vec<String> = s.pod_keys_on("n1").map(|k| k.to_string()).collect();
        assert_eq!(keys, ["default/b"]);
    }

    #[test]
    fn owned_pod_counts_follow_readiness_labels_and_finished_pods() {
        let ready = |mut p: Value| {
            p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
            p
        };
        let mut s = Snapshot::new();
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("a", "1", "rs", "n1", "Running")),
        );
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("b", "1", "rs", "n1", "Pending")),
        );
        let c = s.owned_pod_counts("default", "rs");
        assert_eq!((c.active, c.ready), (2, 0));
        s.upsert(
            res::PODS,
            Arc::new(ready(owned_pod("a", "2", "rs", "n1", "Running"))),
        );
        let mut relabeled = owned_pod("b", "2", "rs", "n1", "Running");
        relabeled["metadata"]["labels"] = json!({"app": "web"});
        s.upsert(res::PODS, Arc::new(relabeled));
        let c = s.owned_pod_counts("default", "rs");
        assert_eq!((c.active, c.ready), (2, 1));
        assert_eq!(c.count_labels(|l| l.get("app") == Some(&json!("web"))), 1);
        // Finished or being deleted: no longer active.
        s.upsert(
            res::PODS,
            Arc::new(ready(owned_pod("a", "3", "rs", "n1", "Succeeded"))),
        );
        let mut deleting = owned_pod("b", "3", "rs", "n1", "Running");
        deleting["metadata"]["deletionTimestamp"] = json!("2025-05-01T10:00:00Z");
        s.upsert(res::PODS, Arc::new(deleting));
        assert_eq!(s.owned_pod_counts("default", "rs"), OwnedPods::default());
        assert_eq!(s.owned_pod_counts("other", "rs").active, 0);
        assert!(s.owned_pods.is_empty(), "no totals are kept for nobody");
    }

    /// Everything the indexes answer, to compare two snapshots.
    fn index_view(s: &Snapshot) -> String {
        let mut out = String::new();
        for node in ["", "n1", "n2"] {
            out += &format!("on {node}: {:?}\n", names(s.pods_on(node)));
            out += &format!("usage {node}: {:?}\n", s.node_usage(node));
        }
        for name in ["a", "b", "c", "d"] {
            let held = s.get(res::PODS, "default", name);
            out += &format!(
                "get {name}: {:?}\n",
                held.map(|p| meta::resource_version(p))
            );
        }
        out += &format!("unbound: {:?}\n", names(s.unbound_pods()));
        out += &format!("affinity: {:?}\n", names(s.pod_affinity_pods()));
        for uid in ["rs", "rs-2"] {
            out += &format!(
                "owned {uid}: {:?}\n",
                names(s.owned_by(res::PODS, "default", uid))
            );
            let c = s.owned_pod_counts("default", uid);
            // Label groups in any order: only their sums are read.
            let mut groups: Vec<String> = c
                .by_labels
                .iter()
                .map(|(l, n)| format!("{l}={n}"))
                .collect();
            groups.sort();
            out += &format!("counts {uid}: {} {} {groups:?}\n", c.active, c.ready);
        }
        out
    }

    #[test]
    fn indexes_after_any_updates_equal_those_built_from_the_final_objects() {
        let ready = |mut p: Value| {
            p["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
            p
        };
        let labeled = |mut p: Value| {
            p["metadata"]["labels"] = json!({"app": "web"});
            p
        };
        let anti = |mut p: Value| {
            p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "x"}]}});
            p
        };
        let preferred = |mut p: Value| {
            p["spec"]["affinity"] = json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 5, "podAffinityTerm": {"topologyKey": "x"}}]}});
            p
        };
        let bigger = |mut p: Value| {
            p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("1");
            p
        };
        let init = |mut p: Value| {
            p["spec"]["initContainers"] =
                json!([{"name": "i", "resources": {"requests": {"cpu": "3"}}}]);
            p
        };
        let overhead = |mut p: Value| {
            p["spec"]["overhead"] = json!({"cpu": "250m"});
            p
        };
        let deleting = |mut p: Value| {
            p["metadata"]["deletionTimestamp"] = json!("2025-05-01T10:00:00Z");
            p
        };
        let mut status_only = owned_pod("a", "4", "rs", "n1", "Running");
        status_only["status"]["podIP"] = json!("10.0.0.1");
        // Versions of pods a, b and c: each step changes one thing.
        let steps = [
            owned_pod("a", "1", "rs", "", "Pending"),
            owned_pod("b", "1", "rs", "", "Pending"),
            owned_pod("a", "2", "rs", "n1", "Pending"),
            owned_pod("a", "3", "rs", "n1", "Running"),
            status_only,
            ready(owned_pod("a", "5", "rs", "n1", "Running")),
            ready(labeled(owned_pod("a", "6", "rs", "n1", "Running"))),
            // Terminating: out of its owner's counts and spread's.
            deleting(ready(labeled(owned_pod("a", "7", "rs", "n1", "Running")))),
            owned_pod("b", "2", "rs", "n2", "Pending"),
            anti(owned_pod("b", "3", "rs", "n2", "Pending")),
            bigger(anti(owned_pod("b", "4", "rs", "n2", "Running"))),
            init(bigger(anti(owned_pod("b", "5", "rs", "n2", "Running")))),
            overhead(init(bigger(anti(owned_pod(
                "b", "6", "rs", "n2", "Running",
            ))))),
            owned_pod("c", "1", "rs-2", "n2", "Running"),
            owned_pod("c", "2", "rs", "n2", "Running"),
            owned_pod("c", "3", "rs", "n2", "Succeeded"),
            // Only preferred affinity: still among the pods with affinity.
            preferred(owned_pod("c", "4", "rs", "n2", "Running")),
            // Moved to another node with its anti-affinity (no API write
            // does that, but the indexes must not care), then unbound.
            anti(owned_pod("b", "7", "rs", "n1", "Running")),
            anti(owned_pod("b", "8", "rs", "", "Pending")),
            // No controller any more, then another.
            {
                let mut p = owned_pod("a", "8", "rs", "n1", "Running");
                p["metadata"]["ownerReferences"] = json!([]);
                p
            },
            owned_pod("a", "9", "rs-2", "n1", "Running"),
        ];
        let mut s = Snapshot::new();
        let mut last: BTreeMap<String, Value> = BTreeMap::new();
        let check = |s: &Snapshot, last: &BTreeMap<String, Value>| {
            let fresh = Snapshot::from_objects(last.values().map(|p| (res::PODS, p.clone())));
            assert_eq!(index_view(s), index_view(&fresh), "after {last:?}");
        };
        for p in steps {
            s.upsert(res::PODS, Arc::new(p.clone()));
            last.insert(meta::name(&p).to_string(), p);
            check(&s, &last);
        }
        for name in ["b", "a", "c"] {
            let Some(p) = last.remove(name) else {
                panic!("{name} was written")
            };
            s.remove(res::PODS, &p);
            check(&s, &last);
        }
    }

    #[test]
    fn a_carried_over_spec_is_the_same_without_a_compare() {
        let old = owned_pod("a", "1", "rs", "n1", "Running");
        // A status write: the spec map is shared with the old version.
        let mut status = old.clone();
        status["status"]["phase"] = json!("Succeeded");
        assert!(same_indexed_spec(&old, &status));
        // A changed request: the spec was copied, and differs.
        let mut bigger = old.clone();
        bigger["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "2"}});
        assert!(!same_indexed_spec(&old, &bigger));
        // An equal spec built anew compares equal the long way.
        let rebuilt: Value = serde_json::from_str(&old.to_string()).unwrap();
        assert!(same_indexed_spec(&old, &rebuilt));
    }

    #[test]
    fn selecting_services_follow_selectors_types_and_namespaces() {
        let svc = |ns: &str, name: &str, rv: &str, spec: Value| {
            json!({"metadata": {"namespace": ns, "name": name, "uid": format!("{ns}/{name}"),
                                "resourceVersion": rv}, "spec": spec})
        };
        let keys = |s: &Snapshot, ns: &str| -> Vec<String> {
            s.selecting_services(ns).map(|k| k.to_string()).collect()
        };
        let web = json!({"selector": {"app": "web"}});
        let mut s = Snapshot::new();
        for (ns, name, spec) in [
            ("default", "kubernetes", json!({})),
            ("default", "web", web.clone()),
            ("default", "api", json!({"selector": {"app": "api"}})),
            ("default-x", "other", web.clone()),
            ("de", "short", web.clone()),
            ("default", "empty", json!({"selector": {}})),
            (
                "default",
                "ext",
                json!({"type": "ExternalName", "selector": {"app": "web"}}),
            ),
        ] {
            s.upsert(res::SERVICES, Arc::new(svc(ns, name, "1", spec)));
        }
        assert_eq!(keys(&s, "default"), ["default/api", "default/web"]);
        assert_eq!(keys(&s, "default-x"), ["default-x/other"]);
        assert_eq!(keys(&s, "d"), Vec::<String>::new());
        // Losing and gaining a selector, and going away.
        s.upsert(
            res::SERVICES,
            Arc::new(svc("default", "web", "2", json!({}))),
        );
        s.upsert(
            res::SERVICES,
            Arc::new(svc("default", "kubernetes", "2", web.clone())),
        );
        assert_eq!(keys(&s, "default"), ["default/api", "default/kubernetes"]);
        s.remove(res::SERVICES, &svc("default", "api", "1", json!({})));
        assert_eq!(keys(&s, "default"), ["default/kubernetes"]);
    }

    #[test]
    fn holds_any_follows_the_first_and_last_object_of_a_resource() {
        let mut s = Snapshot::new();
        assert!(!s.holds_any(res::PODS));
        s.upsert(res::PODS, Arc::new(pod("a", "u1", "1")));
        s.upsert(res::PODS, Arc::new(pod("b", "u2", "1")));
        assert!(s.holds_any(res::PODS));
        assert_eq!((s.count(res::PODS), s.count(res::NODES)), (2, 0));
        assert!(!s.holds_any(res::NODES));
        s.remove(res::PODS, &pod("a", "u1", "1"));
        assert_eq!(s.count(res::PODS), 1);
        s.remove(res::PODS, &pod("b", "u2", "1"));
        assert!(!s.holds_any(res::PODS));
        assert_eq!(s.count(res::PODS), 0);
    }

    #[test]
    fn nodes_come_with_their_names_in_name_order() {
        let mut s = Snapshot::new();
        assert_eq!(s.nodes().count(), 0);
        for n in ["w2", "cp", "w10"] {
            s.upsert(
                res::NODES,
                Arc::new(json!({"metadata": {"name": n, "uid": n, "resourceVersion": "1"}})),
            );
        }
        let named: Vec<(&str, String)> = s
            .nodes()
            .map(|(n, o)| (n, meta::name(o).to_string()))
            .collect();
        assert_eq!(
            named,
            [
                ("cp", "cp".to_string()),
                ("w10", "w10".into()),
                ("w2", "w2".into())
            ]
        );
        let listed: Vec<&str> = s.list(res::NODES, None).map(|o| meta::name(o)).collect();
        assert_eq!(listed, ["cp", "w10", "w2"]);
        s.remove(
            res::NODES,
            &json!({"metadata": {"name": "w10", "uid": "w10", "resourceVersion": "1"}}),
        );
        assert_eq!(s.nodes().map(|(n, _)| n).collect::<Vec<_>>(), ["cp", "w2"]);
    }

    #[test]
    fn node_facts_follow_allocatable_cordon_and_taints() {
        let node = |rv: &str, spec: Value, cpu: &str| {
            json!({"metadata": {"name": "n1", "uid": "n", "resourceVersion": rv},
                   "spec": spec, "status": {"allocatable": {"cpu": cpu, "pods": "110"}}})
        };
        let mut s = Snapshot::new();
        let facts = |s: &Snapshot| {
            s.node_facts("n1").map(|f| {
                (
                    f.alloc.get("cpu"),
                    f.alloc.get("pods"),
                    f.unschedulable,
                    f.tainted,
                )
            })
        };
        // (version, spec, allocatable cpu, facts after it)
        let steps = [
            ("1", json!({}), "2", (2000, 110, false, false)),
            (
                "2",
                json!({"unschedulable": true}),
                "2",
                (2000, 110, true, false),
            ),
            (
                "3",
                json!({"unschedulable": false, "taints": []}),
                "2",
                (2000, 110, false, false),
            ),
            (
                "4",
                json!({"taints": [{"key": "k", "effect": "NoSchedule"}]}),
                "2",
                (2000, 110, false, true),
            ),
            (
                "5",
                json!({"taints": [{"key": "k", "effect": "NoSchedule"}]}),
                "3",
                (3000, 110, false, true),
            ),
            ("6", json!({}), "3", (3000, 110, false, false)),
        ];
        for (rv, spec, cpu, want) in steps {
            s.upsert(res::NODES, Arc::new(node(rv, spec, cpu)));
            assert_eq!(facts(&s), Some(want), "after version {rv}");
        }
        s.remove(res::NODES, &node("6", json!({}), "3"));
        assert_eq!(facts(&s), None);
    }

    #[test]
    fn nodes_are_walked_in_name_order_beside_their_facts_and_usage() {
        let node = |name: &str, cpu: &str| {
            Arc::new(
                json!({"metadata": {"name": name, "uid": name, "resourceVersion": "1"},
                            "status": {"allocatable": {"cpu": cpu, "pods": "110"}}}),
            )
        };
        let mut s = Snapshot::new();
        for (name, cpu) in [("e", "5"), ("a", "1"), ("c", "3")] {
            s.upsert(res::NODES, node(name, cpu));
        }
        // Pods on a node between the held ones, on two held ones (one
        // with two pods), and after the last.
        for (pod, on) in [
            ("p1", "b"),
            ("p2", "c"),
            ("p3", "e"),
            ("p4", "e"),
            ("p5", "z"),
        ] {
            s.upsert(
                res::PODS,
                Arc::new(owned_pod(pod, "1", "rs", on, "Running")),
            );
        }
        let walked: Vec<_> = s
            .nodes_with_state()
            .map(|(name, n, f, u, _)| {
                assert_eq!(meta::name(n), name);
                (name, Some(f.alloc.get("cpu")), u.map(|u| u.pods))
            })
            .collect();
        assert_eq!(
            walked,
            [
                ("a", Some(1000), None),
                ("c", Some(3000), Some(1)),
                ("e", Some(5000), Some(2)),
            ]
        );
        for (name, f, u) in walked {
            assert_eq!(s.node_facts(name).map(|f| f.alloc.get("cpu")), f);
            assert_eq!(s.node_usage(name).map(|u| u.pods), u);
        }
        assert_eq!(s.node_usage("b").map(|u| u.pods), Some(1));
    }

    #[test]
    fn node_index_is_facts_and_usage_whichever_comes_and_goes_first() {
        let node = json!({"metadata": {"name": "n1", "uid": "n", "resourceVersion": "1"},
                          "status": {"allocatable": {"cpu": "2", "pods": "110"}}});
        let pod = owned_pod("a", "1", "rs", "n1", "Running");
        // The generations the walk showed, each new one unlike all before.
        let seen = std::cell::RefCell::new(Vec::<u64>::new());
        let state = |s: &Snapshot| {
            let (f, u) = (s.node_facts("n1"), s.node_usage("n1"));
            // The walk beside the nodes finds the same while the Node is
            // held, and nothing of it otherwise.
            let walked: Vec<_> = s.nodes_with_state().collect();
            match walked.as_slice() {
                [] => assert!(f.is_none()),
                [(name, _, wf, wu, generation)] => {
                    assert_eq!(*name, "n1");
                    assert_eq!((Some(*wf), *wu), (f, u));
                    let mut seen = seen.borrow_mut();
                    if seen.last() != Some(generation) {
                        assert!(!seen.contains(generation), "{generation} again");
                        assert_ne!(*generation, 0);
                        seen.push(*generation);
                    }
                }
                more => panic!("one node at most: {}", more.len()),
            }
            (f.is_some(), u.map(|u| u.pods))
        };
        let generations = || seen.borrow().len();
        let mut s = Snapshot::new();
        assert_eq!(state(&s), (false, None));
        // A pod bound to a node the snapshot does not hold yet.
        s.upsert(res::PODS, Arc::new(pod.clone()));
        assert_eq!(state(&s), (false, Some(1)));
        s.upsert(res::NODES, Arc::new(node.clone()));
        assert_eq!(state(&s), (true, Some(1)));
        assert_eq!(generations(), 1);
        // A status write that changes nothing the entry holds keeps its
        // generation; a second pod on the node does not.
        let mut ready = pod.clone();
        ready["metadata"]["resourceVersion"] = json!("2");
        ready["status"]["podIP"] = json!("10.244.1.2");
        s.upsert(res::PODS, Arc::new(ready.clone()));
        assert_eq!(state(&s), (true, Some(1)));
        assert_eq!(generations(), 1);
        let second = owned_pod("b", "1", "rs", "n1", "Running");
        s.upsert(res::PODS, Arc::new(second.clone()));
        assert_eq!(state(&s), (true, Some(2)));
        assert_eq!(generations(), 2);
        s.remove(res::PODS, &second);
        assert_eq!(state(&s), (true, Some(1)));
        assert_eq!(generations(), 3, "back to one pod: a new generation still");
        // A new label on the Node: a new generation.
        let mut labelled = node.clone();
        labelled["metadata"]["resourceVersion"] = json!("2");
        labelled["metadata"]["labels"] = json!({"disk": "ssd"});
        s.upsert(res::NODES, Arc::new(labelled.clone()));
        assert_eq!(state(&s), (true, Some(1)));
        assert_eq!(generations(), 4);
        // The Node goes first: its pod's requests stay counted.
        s.remove(res::NODES, &labelled);
        assert_eq!(state(&s), (false, Some(1)));
        s.upsert(res::NODES, Arc::new(node.clone()));
        s.remove(res::PODS, &ready);
        assert_eq!(state(&s), (true, None));
        s.remove(res::NODES, &node);
        assert_eq!(state(&s), (false, None));
    }

    #[test]
    fn replace_rebuilds_the_indexes() {
        let mut s = Snapshot::new();
        s.upsert(
            res::PODS,
            Arc::new(owned_pod("a", "1", "rs", "n1", "Running")),
        );
        s.replace(
            res::PODS,
            vec![Arc::new(owned_pod("b", "5", "rs", "", "Pending"))],
        );
        assert_eq!(names(s.pods_on("n1")).len(), 0);
        assert!(s.node_usage("n1").is_none());
        assert_eq!(names(s.unbound_pods()), ["b"]);
        assert_eq!(names(s.owned_by(res::PODS, "default", "rs")), ["b"]);
    }
}
