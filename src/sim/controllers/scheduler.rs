//! The scheduler (`pkg/scheduler` upstream, default profile), as a pure
//! reconciler over one pending pod.
//!
//! Filters run per node in upstream's plugin order and stop at the first
//! that fails (NodeUnschedulable, TaintToleration, NodeAffinity,
//! NodeResourcesFit); the failure reasons are counted into the
//! `FailedScheduling` message exactly as `FitError.Error()` renders it for
//! v1.33:
//!
//! ```text
//! 0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.
//! ```
//!
//! Taint, affinity and unschedulable failures are UnschedulableAndUnresolvable
//! ("Preemption is not helpful"); resource shortages are Unschedulable and,
//! with every pod at priority 0, preemption finds no victims. (From v1.34 a
//! request larger than the node's whole allocatable is unresolvable too.)
//!
//! Feasible nodes are scored by least-allocated cpu and memory (with
//! upstream's non-zero defaults of 100m and 200Mi for containers without
//! requests); ties are broken by a seeded hash, so runs repeat.

use super::podutil;
use super::volumeutil::res as vres;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::quantity::parse_value;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{NodeFacts, NodeUsage, ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const COMPONENT: &str = "default-scheduler";
/// ReplicationControllers, whose selectors the spreading score reads.
const RCS: ResKey = ResKey {
    group: "",
    resource: "replicationcontrollers",
};
const DEFAULT_MILLI_CPU: i64 = 100;
const DEFAULT_MEMORY: i64 = 200 * 1024 * 1024;

/// The scheduler, with the seed for tie-breaks.
pub struct Scheduler {
    pub seed: u64,
    /// What the last pods' filters and scores found per node, for the
    /// next pod that reads the same from its spec ([`NodeCache`]).
    cache: std::sync::Mutex<NodeCache>,
}

impl Scheduler {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            cache: Default::default(),
        }
    }
}

/// The filter verdict and raw scores of each node, in the order the nodes
/// are walked, as computed for pods with `key`, each stamped with the
/// generation of the node's snapshot entry it was computed from. A
/// ReplicaSet's pods are alike: after one is bound only its node's entry
/// changes, and the next pod computes only that node again. Kept only for
/// pods that no PreFilter narrows (no claims, no `metadata.name` node
/// terms, no pod affinity terms of their own or placed pods' required
/// anti-affinity, no hard spread constraints); debug builds check each
/// reuse against a fresh computation.
#[derive(Default)]
struct NodeCache {
    key: Option<(FilterKey, scoring::RawKey)>,
    nodes: Vec<(u64, Option<Rejection>, scoring::Raw)>,
    /// Nodes served from the cache so far (tests read it).
    hits: u64,
}

/// What `filter` reads from a pod.
#[derive(Debug, Clone, PartialEq)]
struct FilterKey {
    tolerations: Vec<Value>,
    node_selector: Option<serde_json::Map<String, Value>>,
    required: Option<Vec<Value>>,
    req: Resources,
}

impl FilterKey {
    fn of(terms: &PodTerms<'_>, req: &Resources) -> Self {
        Self {
            tolerations: terms.tolerations.to_vec(),
            node_selector: terms.node_selector.cloned(),
            required: terms.required.map(<[Value]>::to_vec),
            req: req.clone(),
        }
    }

    fn is_of(&self, terms: &PodTerms<'_>, req: &Resources) -> bool {
        self.tolerations == terms.tolerations
            && self.node_selector.as_ref() == terms.node_selector
            && self.required.as_deref() == terms.required
            && self.req == *req
    }
}

/// Resource amounts: cpu in millicores, everything else in units. The
/// four the filters read for every node are fields; extended resources
/// are kept by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    /// cpu, memory, ephemeral-storage and pods, in `WELL_KNOWN` order.
    known: [i64; 4],
    other: BTreeMap<String, i64>,
}

const WELL_KNOWN: [&str; 4] = ["cpu", "memory", "ephemeral-storage", "pods"];
/// Their slots (the filters read them once per node for every pod).
const CPU: usize = 0;
const MEMORY: usize = 1;
const PODS: usize = 3;

fn known_slot(k: &str) -> Option<usize> {
    WELL_KNOWN.iter().position(|w| *w == k)
}

impl Resources {
    pub fn get(&self, k: &str) -> i64 {
        match known_slot(k) {
            Some(i) => self.known[i],
            None => self.other.get(k).copied().unwrap_or(0),
        }
    }

    fn set(&mut self, k: &str, v: i64) {
        match known_slot(k) {
            Some(i) => self.known[i] = v,
            None => {
                self.other.insert(k.to_string(), v);
            }
        }
    }

    pub fn add(&mut self, other: &Resources) {
        for (a, b) in self.known.iter_mut().zip(other.known) {
            *a += b;
        }
        for (k, v) in &other.other {
            *self.other.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Takes `other` away again (the inverse of `add`).
    pub fn sub(&mut self, other: &Resources) {
        for (a, b) in self.known.iter_mut().zip(other.known) {
            *a -= b;
        }
        for (k, v) in &other.other {
            let e = self.other.entry(k.clone()).or_insert(0);
            *e -= v;
            if *e == 0 {
                self.other.remove(k);
            }
        }
    }

    fn max_with(&mut self, other: &Resources) {
        for (a, b) in self.known.iter_mut().zip(other.known) {
            *a = (*a).max(b);
        }
        for (k, v) in &other.other {
            let e = self.other.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// The extended resources (everything but the well-known four).
    fn extended(&self) -> impl Iterator<Item = (&str, i64)> {
        self.other.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// From a `ResourceList` JSON object.
    pub fn from_list(list: Option<&Value>) -> Self {
        let mut r = Resources::default();
        if let Some(m) = list.and_then(Value::as_object) {
            for (k, v) in m {
                let Ok(q) = parse_value(v) else { continue };
                let amount = if k == "cpu" {
                    q.milli_value()
                } else {
                    q.value()
                };
                r.set(k, amount);
            }
        }
        r
    }
}

/// `resourcehelper.PodRequests`: the sum over containers, at least the
/// largest init container, plus overhead; and the same with upstream's
/// scoring defaults for containers that request no cpu or memory (not
/// those that request 0). Both from one read of the pod's quantities.
pub fn pod_requests(pod: &Value) -> (Resources, Resources) {
    let container = |c: &Value| {
        let requests = c.get("resources").and_then(|r| r.get("requests"));
        let r = Resources::from_list(requests);
        let mut non_zero = r.clone();
        for (k, default) in [("cpu", DEFAULT_MILLI_CPU), ("memory", DEFAULT_MEMORY)] {
            if requests.and_then(|r| r.get(k)).is_none() {
                non_zero.set(k, default);
            }
        }
        (r, non_zero)
    };
    let spec = pod.get("spec");
    let list = |f: &str| {
        spec.and_then(|s| s.get(f))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let (mut sum, mut sum_non_zero) = (Resources::default(), Resources::default());
    for c in list("containers") {
        let (r, nz) = container(c);
        sum.add(&r);
        sum_non_zero.add(&nz);
    }
    for c in list("initContainers") {
        let (r, nz) = container(c);
        sum.max_with(&r);
        sum_non_zero.max_with(&nz);
    }
    let overhead = Resources::from_list(spec.and_then(|s| s.get("overhead")));
    sum.add(&overhead);
    sum_non_zero.add(&overhead);
    (sum, sum_non_zero)
}

/// Whether the pod waits for this scheduler.
fn is_pending_for_us(pod: &Value) -> bool {
    let spec = |k: &str| pod.get("spec").and_then(|s| s.get(k));
    let unbound = spec("nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if !unbound {
        return false;
    }
    let ours = spec("schedulerName")
        .and_then(Value::as_str)
        .is_none_or(|s| s == COMPONENT);
    let gated = spec("schedulingGates")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty());
    ours && !gated && podutil::is_active(pod)
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `v1helper.TolerationsTolerateTaint`.
pub fn tolerates(tolerations: &[Value], taint: &Value) -> bool {
    tolerations.iter().any(|t| {
        let effect = str_at(t, "effect");
        if !effect.is_empty() && effect != str_at(taint, "effect") {
            return false;
        }
        let key = str_at(t, "key");
        let op = match str_at(t, "operator") {
            "" => "Equal",
            o => o,
        };
        if key.is_empty() {
            return op == "Exists";
        }
        if key != str_at(taint, "key") {
            return false;
        }
        match op {
            "Exists" => true,
            "Equal" => str_at(t, "value") == str_at(taint, "value"),
            _ => false,
        }
    })
}

/// One node selector requirement against a node's labels (or fields).
fn requirement_matches(req: &Value, value: Option<&str>) -> bool {
    let values: Vec<&str> = req
        .get("values")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let num = |s: &str| s.parse::<i64>().ok();
    match str_at(req, "operator") {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (value.and_then(num), values.first().and_then(|b| num(b)))
            else {
                return false;
            };
            if str_at(req, "operator") == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// `nodeSelector` and required node affinity (`NodeAffinity.Filter`).
pub fn matches_node_affinity(pod: &Value, node: &Value) -> bool {
    PodTerms::of(pod).matches_node(node)
}

/// What the filters read from the pod being scheduled, looked up once per
/// attempt instead of once per node.
pub(crate) struct PodTerms<'a> {
    tolerations: &'a [Value],
    node_selector: Option<&'a serde_json::Map<String, Value>>,
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`.
    required: Option<&'a [Value]>,
}

impl<'a> PodTerms<'a> {
    pub(crate) fn of(pod: &'a Value) -> Self {
        let spec = pod.get("spec");
        Self {
            tolerations: spec
                .and_then(|s| s.get("tolerations"))
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice),
            node_selector: spec
                .and_then(|s| s.get("nodeSelector"))
                .and_then(Value::as_object),
            required: required_node_terms(pod),
        }
    }

    /// Whether the pod's nodeSelector and required node affinity let it
    /// onto `node`. Most pods have neither, and need no look at the
    /// node's labels: that check inlines into the walk over the nodes.
    #[inline]
    pub(crate) fn matches_node(&self, node: &Value) -> bool {
        if self.node_selector.is_none_or(|s| s.is_empty()) && self.required.is_none() {
            return true;
        }
        self.matches_node_labels(node)
    }

    #[inline(never)]
    fn matches_node_labels(&self, node: &Value) -> bool {
        let labels = meta::labels(node);
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        if let Some(sel) = self.node_selector
            && !sel.iter().all(|(k, v)| label(k) == v.as_str())
        {
            return false;
        }
        let Some(terms) = self.required else {
            return true;
        };
        terms.iter().any(|term| node_term_matches(term, node))
    }
}

/// One `NodeSelectorTerm` against a node: every `matchExpressions`
/// requirement on its labels and `matchFields` on its name; a term with
/// neither matches nothing.
fn node_term_matches(term: &Value, node: &Value) -> bool {
    let labels = meta::labels(node);
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let exprs = term.get("matchExpressions").and_then(Value::as_array);
    let fields = term.get("matchFields").and_then(Value::as_array);
    if exprs.is_none_or(Vec::is_empty) && fields.is_none_or(Vec::is_empty) {
        return false;
    }
    exprs
        .into_iter()
        .flatten()
        .all(|r| requirement_matches(r, label(str_at(r, "key"))))
        && fields.into_iter().flatten().all(|r| {
            let v = (str_at(r, "key") == "metadata.name").then(|| meta::name(node));
            requirement_matches(r, v)
        })
}

/// The status of the nodes NodeAffinity's PreFilter left out, as
/// `findNodesThatFitPod` words it (`sets.List` of the plugins that
/// narrowed the nodes: here only NodeAffinity).
const ABSENT_NODE_AFFINITY: &str = "node(s) didn't satisfy plugin(s) [NodeAffinity]";

/// NodeAffinity's PreFilter: when every required term names nodes through
/// `matchFields` `metadata.name In [...]` (as the DaemonSet controller pins
/// its pods), the scheduler filters only those nodes (`PreFilterResult`'s
/// `NodeNames`): the terms' names, each term's requirements intersected,
/// the terms united. `None`: every node is a candidate (a term without
/// such a requirement matches any node name). A conflict inside a term
/// (an empty intersection) is left to the filter.
fn pre_filter_node_names(pod: &Value) -> Option<BTreeSet<&str>> {
    let terms = required_node_terms(pod)?;
    let mut names: Option<BTreeSet<&str>> = None;
    for term in terms {
        let mut term_names: Option<BTreeSet<&str>> = None;
        for r in term
            .get("matchFields")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if r.get("key").and_then(Value::as_str) != Some("metadata.name")
                || r.get("operator").and_then(Value::as_str) != Some("In")
            {
                continue;
            }
            let values: BTreeSet<&str> = r
                .get("values")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            term_names = Some(match term_names {
                None => values,
                Some(t) => t.intersection(&values).copied().collect(),
            });
        }
        names.get_or_insert_default().extend(term_names?);
    }
    names.filter(|n| !n.is_empty())
}

/// A field of the pod's `spec.affinity.nodeAffinity`, as a list.
fn node_affinity_list<'a>(pod: &'a Value, path: &[&str]) -> Option<&'a [Value]> {
    let mut v = pod.get_in(&["spec", "affinity", "nodeAffinity"])?;
    for k in path {
        v = v.get(k)?;
    }
    v.as_array().map(Vec::as_slice)
}

/// A pod's required node affinity terms
/// (`requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`).
pub fn required_node_terms(pod: &Value) -> Option<&[Value]> {
    node_affinity_list(
        pod,
        &[
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    )
}

/// A pod's preferred node affinity terms, if it has any.
pub(crate) fn preferred_node_terms(pod: &Value) -> Option<&[Value]> {
    node_affinity_list(pod, &["preferredDuringSchedulingIgnoredDuringExecution"])
        .filter(|t| !t.is_empty())
}

/// Why a node does not fit, and whether preemption could change that.
#[derive(Debug, Clone, PartialEq)]
struct Rejection {
    reasons: Vec<String>,
    unresolvable: bool,
}

impl Rejection {
    fn unresolvable(reason: impl Into<String>) -> Self {
        Self {
            reasons: vec![reason.into()],
            unresolvable: true,
        }
    }
}

/// Runs the filters for one node.
fn filter(
    pod: &PodTerms,
    req: &Resources,
    node: &Value,
    facts: &NodeFacts,
    used: &Resources,
    pods_on_node: usize,
) -> Option<Rejection> {
    let tolerations = pod.tolerations;
    let alloc = &facts.alloc;
    // NodeUnschedulable
    if facts.unschedulable
        && !tolerates(
            tolerations,
            &json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}),
        )
    {
        return Some(Rejection::unresolvable("node(s) were unschedulable"));
    }
    // TaintToleration
    let taints = Some(node)
        .filter(|_| facts.tainted)
        .and_then(|n| n.get("spec"))
        .and_then(|s| s.get("taints"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if let Some(t) = taints.iter().find(|t| {
        matches!(str_at(t, "effect"), "NoSchedule" | "NoExecute") && !tolerates(tolerations, t)
    }) {
        return Some(Rejection::unresolvable(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            str_at(t, "key"),
            str_at(t, "value")
        )));
    }
    // NodeAffinity
    if !pod.matches_node(node) {
        return Some(Rejection::unresolvable(
            "node(s) didn't match Pod's node affinity/selector",
        ));
    }
    // NodeResourcesFit
    let mut reasons = Vec::new();
    if pods_on_node as i64 + 1 > alloc.known[PODS] {
        reasons.push("Too many pods".to_string());
    }
    for (i, r) in WELL_KNOWN.iter().enumerate().take(PODS) {
        let want = req.known[i];
        if want > 0 && want > alloc.known[i] - used.known[i] {
            reasons.push(format!("Insufficient {r}"));
        }
    }
    for (r, want) in req.extended() {
        if want == 0 {
            continue;
        }
        if want > alloc.get(r) - used.get(r) {
            reasons.push(format!("Insufficient {r}"));
        }
    }
    (!reasons.is_empty()).then_some(Rejection {
        reasons,
        unresolvable: false,
    })
}

/// `FitError.Error()` with the default preemption plugin's message; a
/// PreFilter rejection's message stands for every node's.
fn fit_error(
    pod: &Value,
    n_nodes: usize,
    rejections: &[Rejection],
    pre_filter: Option<&str>,
) -> String {
    fn histogram<'a>(items: impl Iterator<Item = &'a str>) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for i in items {
            *counts.entry(i).or_insert(0) += 1;
        }
        let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
        parts.sort();
        parts.join(", ")
    }
    let reasons = match pre_filter {
        Some(m) => m.to_string(),
        None => histogram(
            rejections
                .iter()
                .flat_map(|r| r.reasons.iter().map(String::as_str)),
        ),
    };
    let preemption = if pod
        .get_in(&["spec", "preemptionPolicy"])
        .and_then(Value::as_str)
        == Some("Never")
    {
        "not eligible due to preemptionPolicy=Never.".to_string()
    } else {
        let why = histogram(rejections.iter().map(|r| {
            if r.unresolvable {
                "Preemption is not helpful for scheduling"
            } else {
                "No preemption victims found for incoming pod"
            }
        }));
        format!("0/{n_nodes} nodes are available: {why}.")
    };
    format!("0/{n_nodes} nodes are available: {reasons}. preemption: {preemption}")
}

/// FNV-1a of `bytes`, continuing from `h`.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The FNV-1a state after the seed and the pod's uid: `tie_break`
/// continues it with each node's name.
fn tie_break_prefix(seed: u64, pod_uid: &str) -> u64 {
    fnv(
        fnv(0xcbf2_9ce4_8422_2325, &seed.to_le_bytes()),
        pod_uid.as_bytes(),
    )
}

/// FNV-1a over seed, pod uid and node name, for seeded tie-breaks.
fn tie_break(prefix: u64, node: &str) -> u64 {
    fnv(prefix, node.as_bytes())
}

/// The feasible node to bind to: the highest score, and among equal
/// scores the lowest seeded tie-break hash (the later node when two hash
/// the same, as `max_by` would pick). Only nodes that tie with the best
/// so far are hashed; scores of a busy cluster's nodes tie often, but not
/// all of them.
struct Pick<'a> {
    prefix: u64,
    /// Score, tie-break hash once computed, name, node.
    best: Option<(i64, Option<u64>, &'a str, &'a Value)>,
}

impl<'a> Pick<'a> {
    fn new(prefix: u64) -> Self {
        Self { prefix, best: None }
    }

    fn offer(&mut self, score: i64, name: &'a str, node: &'a Value) {
        let prefix = self.prefix;
        match &mut self.best {
            Some((best, ..)) if score < *best => {}
            Some((best, tie, best_name, _)) if score == *best => {
                let best_tie = *tie.get_or_insert_with(|| tie_break(prefix, best_name));
                let t = tie_break(prefix, name);
                if t <= best_tie {
                    self.best = Some((score, Some(t), name, node));
                }
            }
            _ => self.best = Some((score, None, name, node)),
        }
    }

    fn best(&self) -> Option<(&'a str, &'a Value)> {
        self.best.map(|(_, _, name, node)| (name, node))
    }
}

fn pod_event(pod: &Value, type_: EventType, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(pod),
        type_,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    }
}

impl Controller for Scheduler {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            res::PODS,
            res::NODES,
            vres::PVCS,
            vres::PVS,
            vres::STORAGECLASSES,
            interpod::NAMESPACES,
        ]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        self.keys_for_change(snap, r, obj, !snap.holds_one_like(r, obj))
    }

    fn keys_for_change(
        &self,
        snap: &Snapshot,
        r: ResKey,
        obj: &Value,
        deleted: bool,
    ) -> Vec<ObjectKey> {
        // A claim or volume changed: the pods waiting on that claim.
        if r == vres::PVCS {
            return volumes::pods_using(snap, meta::namespace(obj), meta::name(obj));
        }
        if r == vres::PVS {
            let ns = obj
                .get_in(&["spec", "claimRef", "namespace"])
                .and_then(Value::as_str)
                .unwrap_or("");
            let name = obj
                .get_in(&["spec", "claimRef", "name"])
                .and_then(Value::as_str)
                .unwrap_or("");
            let mut keys = volumes::pods_using(snap, ns, name);
            if obj.get_in(&["spec", "claimRef"]).is_none() {
                // A free volume may let a waiting pod fit.
                keys.extend(
                    snap.unbound_pods()
                        .filter(|p| is_pending_for_us(p))
                        .filter(|p| !super::volumeutil::pod_claims(p).is_empty())
                        .map(|p| ObjectKey::of(p)),
                );
            }
            return keys;
        }
        if r == res::PODS {
            if is_pending_for_us(obj) {
                return if !deleted {
                    vec![ObjectKey::of(obj)]
                } else {
                    Vec::new()
                };
            }
            // Only a pod that leaves its node, by going away or finishing,
            // makes room; a pod being bound or changing status does not
            // change any decision.
            let bound = obj
                .get_in(&["spec", "nodeName"])
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            if !bound {
                return Vec::new();
            }
            let finished = matches!(podutil::phase(obj), "Succeeded" | "Failed");
            if !finished && !deleted {
                return Vec::new();
            }
        }
        // A node changed, or a pod left its node: room may have appeared
        // for every pending pod.
        snap.unbound_pods()
            .filter(|p| is_pending_for_us(p))
            .map(|p| ObjectKey::of(p))
            .collect()
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(pod) = snap.get(res::PODS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if !is_pending_for_us(pod) {
            return Reconciled::none();
        }
        let claims = volumes::pre_filter(snap, pod);
        let (req, req_non_zero) = pod_requests(pod);
        let empty = NodeUsage::default();
        // The placed pods the InterPodAffinity filter needs: all of them
        // when the incoming pod has terms, else those with required
        // anti-affinity (upstream's `HavePodsWithRequiredAntiAffinityList`).
        let own_terms = pod.get_in(&["spec", "affinity", "podAffinity"]).is_some()
            || pod
                .get_in(&["spec", "affinity", "podAntiAffinity"])
                .is_some();
        let placed: Vec<&Value> = if own_terms {
            snap.bound_pods().map(|p| p.as_ref()).collect()
        } else {
            snap.pod_affinity_pods()
                .map(|p| p.as_ref())
                .filter(|p| interpod::has_required_anti_affinity(p))
                .collect()
        };
        // InterPodAffinity's PreFilter, once for all nodes.
        let interpod_state =
            (own_terms || !placed.is_empty()).then(|| interpod::PreFilter::of(snap, pod, &placed));
        let terms = PodTerms::of(pod);
        // PodTopologySpread's PreFilter, once for all nodes.
        let spread_state = spread::Filter::of(snap, pod, &terms);
        let only = pre_filter_node_names(pod);
        let incoming = scoring::Incoming::new(snap, pod, &terms, &req, &req_non_zero);
        // The per-node cache serves pods whose verdict on a node is
        // `filter`'s alone.
        let cacheable = matches!(&claims, Ok(c) if c.is_empty())
            && only.is_none()
            && interpod_state.is_none()
            && spread_state.is_none();
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cacheable
            && !cache
                .key
                .as_ref()
                .is_some_and(|(f, r)| f.is_of(&terms, &req) && r.is_of(&incoming))
        {
            cache.key = Some((FilterKey::of(&terms, &req), incoming.key()));
            cache.nodes.clear();
        }
        let mut pick = Pick::new(tie_break_prefix(self.seed, meta::uid(pod)));
        let mut rejections = Vec::new();
        // Room for every node at once: grown by doubling, the list was
        // copied seven times a pod at 94 nodes.
        let mut candidates = Vec::with_capacity(snap.count(res::NODES));
        // The nodes are walked once, in name order, without collecting
        // them: at 91 nodes the list built per pod was 15% of the
        // scheduler's instructions.
        let mut n_nodes = 0;
        for (node_name, node, facts, usage, generation) in snap.nodes_with_state() {
            let at = n_nodes;
            n_nodes += 1;
            if claims.is_err() {
                continue;
            }
            // Outside NodeAffinity's PreFilter result: not filtered at all
            // (`SetAbsentNodesStatus`).
            if only
                .as_ref()
                .is_some_and(|names| !names.contains(node_name))
            {
                rejections.push(Rejection::unresolvable(ABSENT_NODE_AFFINITY));
                continue;
            }
            let node = &**node;
            // What is already placed on the node.
            let u = usage.unwrap_or(&empty);
            let volume_reasons = || match &claims {
                Ok(c) if !c.is_empty() => volumes::filter(snap, c, node),
                _ => Vec::new(),
            };
            let alloc = &facts.alloc;
            let raw = || scoring::raw(&incoming, node, alloc, facts.tainted, u);
            // What the cache holds for this node, if it still holds (a
            // walked node's generation is never 0, the placeholders').
            let kept = cache
                .nodes
                .get(at)
                .filter(|e| cacheable && e.0 == generation);
            let hit = kept.is_some();
            let (verdict, raw) = match kept {
                Some((_, verdict, kept_raw)) => {
                    if cfg!(debug_assertions) {
                        let fresh = filter(&terms, &req, node, facts, &u.requested, u.pods);
                        debug_assert_eq!(&fresh, verdict, "cached verdict on {node_name}");
                        if fresh.is_none() {
                            debug_assert_eq!(raw(), *kept_raw, "cached scores on {node_name}");
                        }
                    }
                    (verdict.clone(), *kept_raw)
                }
                None => {
                    let verdict = filter(&terms, &req, node, facts, &u.requested, u.pods);
                    let raw = if verdict.is_none() {
                        raw()
                    } else {
                        scoring::Raw::default()
                    };
                    if cacheable {
                        if cache.nodes.len() <= at {
                            cache
                                .nodes
                                .resize(at + 1, (0, None, scoring::Raw::default()));
                        }
                        cache.nodes[at] = (generation, verdict.clone(), raw);
                    }
                    (verdict, raw)
                }
            };
            cache.hits += u64::from(hit);
            // Without terms of its own and no placed pod with
            // anti-affinity, the InterPodAffinity filter has nothing to check.
            let affinity = || interpod_state.as_ref()?.filter(node);
            let spread = || spread_state.as_ref()?.filter(node);
            match verdict {
                Some(r) => rejections.push(r),
                None if spread().is_some() => {
                    if let Some((reason, unresolvable)) = spread() {
                        rejections.push(Rejection {
                            reasons: vec![reason.to_string()],
                            unresolvable,
                        });
                    }
                }
                None if affinity().is_some() => {
                    if let Some((reason, unresolvable)) = affinity() {
                        rejections.push(Rejection {
                            reasons: vec![reason.to_string()],
                            unresolvable,
                        });
                    }
                }
                None if !volume_reasons().is_empty() => rejections.push(Rejection {
                    reasons: volume_reasons(),
                    unresolvable: true,
                }),
                None => candidates.push(scoring::Candidate {
                    name: node_name,
                    node,
                    tainted: facts.tainted,
                    hostname_label: facts.hostname_label,
                    zone_label: facts.zone_label,
                    usage: u,
                    raw,
                }),
            }
        }
        drop(cache);
        // Scored only when there is a choice (`prioritizeNodes` is skipped
        // for a single feasible node).
        let totals = if candidates.len() > 1 {
            scoring::totals(snap, &incoming, &candidates)
        } else {
            vec![0; candidates.len()]
        };
        for (c, total) in candidates.iter().zip(totals) {
            pick.offer(total, c.name, c.node);
        }
        if let Some((node, n)) = pick.best() {
            if let Ok(c) = &claims {
                match volumes::pre_bind(snap, c, n) {
                    volumes::PreBind::Ready => {}
                    volumes::PreBind::Wait => return Reconciled::none(),
                    volumes::PreBind::Start(actions) => {
                        return Reconciled {
                            actions,
                            requeue_after: None,
                        };
                    }
                }
            }
            return Reconciled {
                actions: vec![Action::Bind {
                    key: key.clone(),
                    uid: meta::uid(pod).to_string(),
                    node: node.to_string(),
                    on_bound: Some(pod_event(
                        pod,
                        EventType::Normal,
                        "Scheduled",
                        format!(
                            "Successfully assigned {}/{} to {node}",
                            key.namespace, key.name
                        ),
                    )),
                }],
                requeue_after: None,
            };
        }
        let message = if n_nodes == 0 {
            "no nodes available to schedule pods".to_string()
        } else {
            match &claims {
                Err(m) => {
                    let all: Vec<Rejection> = (0..n_nodes)
                        .map(|_| Rejection::unresolvable(m.clone()))
                        .collect();
                    fit_error(pod, n_nodes, &all, Some(m))
                }
                Ok(_) => fit_error(pod, n_nodes, &rejections, None),
            }
        };
        let current = podutil::condition(pod, "PodScheduled");
        let same = current.is_some_and(|c| {
            str_at(c, "status") == "False"
                && str_at(c, "reason") == "Unschedulable"
                && str_at(c, "message") == message
        });
        if same {
            return Reconciled::none();
        }
        let transition = match current {
            Some(c) if str_at(c, "status") == "False" => {
                c.get("lastTransitionTime").cloned().unwrap_or(Value::Null)
            }
            _ => json!(crate::sim::clock::format_time(now)),
        };
        let mut conditions: Vec<Value> = pod
            .get_in(&["status", "conditions"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let fresh = json!({"type": "PodScheduled", "status": "False", "lastProbeTime": null,
            "lastTransitionTime": transition, "reason": "Unschedulable", "message": message});
        match conditions
            .iter_mut()
            .find(|c| str_at(c, "type") == "PodScheduled")
        {
            Some(c) => *c = fresh,
            None => conditions.push(fresh),
        }
        Reconciled {
            actions: vec![
                Action::Patch {
                    res: res::PODS,
                    key: key.clone(),
                    patch: json!({"status": {"conditions": conditions}}),
                    status: true,
                },
                Action::Event(pod_event(
                    pod,
                    EventType::Warning,
                    "FailedScheduling",
                    message,
                )),
            ],
            requeue_after: None,
        }
    }
}

pub mod interpod;
mod scoring;
mod spread;
pub mod volumes;

#[cfg(test)]
mod scoring_tests;
#[cfg(test)]
mod tests;
