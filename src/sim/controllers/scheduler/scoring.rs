//! The Score plugins of the scheduler's default profile
//! (`pkg/scheduler/framework/plugins`, v1.33), each scoring the feasible
//! nodes 0 to 100 after its own normalization, summed with the profile's
//! weights (`apis/config/v1/default_plugins.go`):
//!
//! | plugin | weight | what it prefers |
//! |---|---|---|
//! | TaintToleration | 3 | fewer untolerated `PreferNoSchedule` taints |
//! | NodeAffinity | 2 | the pod's preferred node affinity terms |
//! | PodTopologySpread | 2 | fewer matching pods where its constraints (or the system defaults) look |
//! | InterPodAffinity | 2 | the pod's preferred pod (anti-)affinity terms, and placed pods' terms that the pod matches |
//! | NodeResourcesFit | 1 | the least allocated node (requests, with defaults for none) |
//! | NodeResourcesBalancedAllocation | 1 | cpu and memory used alike |
//!
//! Left out: ImageLocality (a node's `status.images` lists only what its
//! node image came with, the same on every node) and the node inclusion
//! policies of spread constraints (their defaults apply).

use super::interpod::{self, Term, label};
use super::spread;
use super::{CPU, MEMORY, PodTerms, Resources, node_term_matches, str_at, tolerates};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::selector::{LabelSelector, Op, Requirement};
use crate::sim::controllers::endpointutil;
use crate::sim::snapshot::{LabelSet, NodeUsage, Snapshot, controller_ref, res};
use serde_json::Value;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

const MAX: i64 = 100;
const HOSTNAME: &str = "kubernetes.io/hostname";
const ZONE: &str = "topology.kubernetes.io/zone";

/// A node that passed the filters.
pub(super) struct Candidate<'a> {
    pub name: &'a str,
    pub node: &'a Value,
    pub tainted: bool,
    pub hostname_label: bool,
    pub zone_label: bool,
    pub usage: &'a NodeUsage,
    /// What it scores by itself ([`raw`]).
    pub raw: Raw,
}

impl Candidate<'_> {
    /// Whether the node has the label `key` (the default constraints'
    /// keys from its facts, without a lookup).
    fn has_label(&self, key: &str) -> bool {
        match key {
            HOSTNAME => self.hostname_label,
            ZONE => self.zone_label,
            _ => label(self.node, key).is_some(),
        }
    }
}

/// What the pod asks of the scores, read once per attempt.
pub(super) struct Incoming<'a> {
    pub pod: &'a Value,
    pub terms: &'a PodTerms<'a>,
    pub req: &'a Resources,
    pub req_non_zero: &'a Resources,
    /// Its tolerations of `PreferNoSchedule` taints (those for that effect
    /// or any).
    prefer_tolerations: Vec<Value>,
    /// Its preferred node affinity terms.
    preferred: Option<&'a [Value]>,
    /// PodTopologySpread's soft constraints, and whether they are the
    /// system's.
    spread: (Vec<Spread>, bool),
    /// The label sets on nodes the system hostname constraint's selector
    /// matches, as they are met.
    host_memo: std::cell::RefCell<Vec<(*const LabelSet, bool)>>,
}

impl<'a> Incoming<'a> {
    pub(super) fn new(
        snap: &Snapshot,
        pod: &'a Value,
        terms: &'a PodTerms<'a>,
        req: &'a Resources,
        req_non_zero: &'a Resources,
    ) -> Self {
        Self {
            pod,
            terms,
            req,
            req_non_zero,
            prefer_tolerations: terms
                .tolerations
                .iter()
                .filter(|t| matches!(str_at(t, "effect"), "" | "PreferNoSchedule"))
                .cloned()
                .collect(),
            preferred: super::preferred_node_terms(pod),
            spread: spread_constraints(snap, pod),
            host_memo: Default::default(),
        }
    }

    /// Whether NodeResourcesBalancedAllocation scores the pod (it
    /// requests cpu or memory).
    fn balanced(&self) -> bool {
        self.req.known[CPU] != 0 || self.req.known[MEMORY] != 0
    }

    /// The system hostname constraint's selector, when the pod spreads by
    /// the system's constraints.
    fn host_selector(&self) -> Option<&LabelSelector> {
        let (constraints, system) = &self.spread;
        constraints
            .iter()
            .find(|s| *system && s.topology_key == HOSTNAME)
            .map(|s| &*s.selector)
    }

    /// What [`raw`] reads from this pod.
    pub(super) fn key(&self) -> RawKey {
        RawKey {
            namespace: meta::namespace(self.pod).to_string(),
            req: self.req.clone(),
            req_non_zero: self.req_non_zero.clone(),
            prefer_tolerations: self.prefer_tolerations.clone(),
            preferred: self.preferred.map(<[Value]>::to_vec),
            host_selector: self.host_selector().cloned(),
        }
    }
}

/// What [`raw`] reads from a pod: pods with equal keys get equal raw
/// scores on a node whose snapshot entry has not changed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RawKey {
    namespace: String,
    req: Resources,
    req_non_zero: Resources,
    prefer_tolerations: Vec<Value>,
    preferred: Option<Vec<Value>>,
    host_selector: Option<LabelSelector>,
}

impl RawKey {
    /// Whether `p` has this key (compared in place, without building its
    /// own).
    pub(super) fn is_of(&self, p: &Incoming<'_>) -> bool {
        self.namespace == meta::namespace(p.pod)
            && self.req == *p.req
            && self.req_non_zero == *p.req_non_zero
            && self.prefer_tolerations == p.prefer_tolerations
            && self.preferred.as_deref() == p.preferred
            && self.host_selector.as_ref() == p.host_selector()
    }
}

/// What one candidate scores by itself, before the plugins scale the
/// scores over all the candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Raw {
    /// NodeResourcesFit (`LeastAllocated`), final.
    pub least: i64,
    /// NodeResourcesBalancedAllocation, final (0 when it is skipped).
    pub balanced: i64,
    /// TaintToleration: the untolerated `PreferNoSchedule` taints.
    pub taints: i64,
    /// NodeAffinity: the weights of the preferred terms the node matches.
    pub affinity: i64,
    /// PodTopologySpread's system hostname constraint: the matching pods
    /// on the node.
    pub host_spread: f64,
}

/// A feasible node's raw scores for the pod.
pub(super) fn raw(
    p: &Incoming<'_>,
    node: &Value,
    alloc: &Resources,
    tainted: bool,
    usage: &NodeUsage,
) -> Raw {
    let balanced = if p.balanced() {
        balanced_allocation(p, alloc, usage)
    } else {
        0
    };
    let taints = if tainted {
        node.get_in(&["spec", "taints"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|t| str_at(t, "effect") == "PreferNoSchedule")
            .filter(|t| !tolerates(&p.prefer_tolerations, t))
            .count() as i64
    } else {
        0
    };
    let affinity = p.preferred.map_or(0, |terms| {
        terms
            .iter()
            .filter(|t| {
                t.get("preference")
                    .is_some_and(|pref| node_term_matches(pref, node))
            })
            .filter_map(|t| t.get("weight").and_then(Value::as_i64))
            .sum()
    });
    let host_spread = p.host_selector().map_or(0.0, |sel| {
        let ns = meta::namespace(p.pod);
        let mut memo = p.host_memo.borrow_mut();
        let mut n = 0;
        for g in usage.groups.iter().filter(|g| g.set.namespace == ns) {
            let ptr = Arc::as_ptr(&g.set);
            let matches = match memo.iter().find(|(q, _)| *q == ptr) {
                Some((_, m)) => *m,
                None => {
                    let m = sel.matches(g.set.labels.as_object());
                    memo.push((ptr, m));
                    m
                }
            };
            if matches {
                n += g.live();
            }
        }
        n as f64
    });
    Raw {
        least: least_allocated(alloc, &usage.non_zero, p.req_non_zero),
        balanced,
        taints,
        affinity,
        host_spread,
    }
}

/// The weighted sum of every plugin's normalized score, per candidate.
pub(super) fn totals(snap: &Snapshot, p: &Incoming<'_>, cands: &[Candidate<'_>]) -> Vec<i64> {
    let mut total: Vec<i64> = cands.iter().map(|c| c.raw.least).collect();
    let mut add = |weight: i64, scores: Option<Vec<i64>>| {
        if let Some(scores) = scores {
            for (t, s) in total.iter_mut().zip(scores) {
                *t += weight * s;
            }
        }
    };
    if p.balanced() {
        add(1, Some(cands.iter().map(|c| c.raw.balanced).collect()));
    }
    add(3, taint_toleration(cands));
    add(2, node_affinity(p, cands));
    add(2, topology_spread(snap, p, cands));
    add(2, inter_pod_affinity(snap, p.pod, cands));
    total
}

/// NodeResourcesFit, `LeastAllocated` over cpu and memory (weights 1 and
/// 1), counting what a pod without requests would use.
pub(super) fn least_allocated(alloc: &Resources, used: &Resources, pod: &Resources) -> i64 {
    let mut total = 0;
    for r in [CPU, MEMORY] {
        let cap = alloc.known[r];
        let req = used.known[r] + pod.known[r];
        total += if cap <= 0 || req > cap {
            0
        } else {
            (cap - req) * MAX / cap
        };
    }
    total / 2
}

/// NodeResourcesBalancedAllocation: one less the standard deviation of the
/// cpu and memory fractions requested (actual requests); skipped for a
/// pod that requests neither.
fn balanced_allocation(p: &Incoming<'_>, alloc: &Resources, usage: &NodeUsage) -> i64 {
    let fraction = |r: usize| {
        let cap = alloc.known[r];
        let used = usage.requested.known[r] + p.req.known[r];
        (cap > 0).then(|| (used as f64 / cap as f64).min(1.0))
    };
    let std = match (fraction(CPU), fraction(MEMORY)) {
        (Some(a), Some(b)) => ((a - b) / 2.0).abs(),
        _ => 0.0,
    };
    ((1.0 - std) * MAX as f64) as i64
}

/// `DefaultNormalizeScore`: scaled to the highest (reversed: the lowest
/// best); all the highest when every score is 0 and reversed.
fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX * *s / max;
        if reverse {
            *s = MAX - *s;
        }
    }
}

/// TaintToleration: the node's `PreferNoSchedule` taints the pod's
/// tolerations (those for that effect or any) leave, fewer better.
fn taint_toleration(cands: &[Candidate<'_>]) -> Option<Vec<i64>> {
    if !cands.iter().any(|c| c.tainted) {
        // No taints: every node scores the maximum alike.
        return None;
    }
    let mut scores: Vec<i64> = cands.iter().map(|c| c.raw.taints).collect();
    default_normalize(&mut scores, true);
    Some(scores)
}

/// NodeAffinity: the weights of the preferred terms the node matches.
fn node_affinity(p: &Incoming<'_>, cands: &[Candidate<'_>]) -> Option<Vec<i64>> {
    p.preferred?;
    let mut scores: Vec<i64> = cands.iter().map(|c| c.raw.affinity).collect();
    default_normalize(&mut scores, false);
    Some(scores)
}

/// One spread constraint as scoring reads it.
struct Spread {
    topology_key: String,
    max_skew: i64,
    /// Shared by the two system defaults.
    selector: Rc<LabelSelector>,
}

/// The pod's `ScheduleAnyway` constraints; without constraints of either
/// kind, the system defaults (hostname, skew 3; zone, skew 5) over the
/// selector of the Services and the controller that own it
/// (`DefaultSelector`). Whether they are the system's.
fn spread_constraints(snap: &Snapshot, pod: &Value) -> (Vec<Spread>, bool) {
    let explicit = pod
        .get_in(&["spec", "topologySpreadConstraints"])
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    if explicit.is_some() {
        let soft = spread::constraints(pod, "ScheduleAnyway")
            .into_iter()
            .map(|c| Spread {
                topology_key: c.topology_key,
                max_skew: c.max_skew,
                selector: Rc::new(c.selector),
            })
            .collect();
        return (soft, false);
    }
    let Some(selector) = default_selector(snap, pod) else {
        return (Vec::new(), true);
    };
    let selector = Rc::new(selector);
    let system = [(HOSTNAME, 3), (ZONE, 5)]
        .into_iter()
        .map(|(key, skew)| Spread {
            topology_key: key.to_string(),
            max_skew: skew,
            selector: selector.clone(),
        })
        .collect();
    (system, true)
}

/// `helper.DefaultSelector`: the selectors of the Services selecting the
/// pod, merged, and its ReplicaSet's, StatefulSet's or
/// ReplicationController's; None when that is empty.
fn default_selector(snap: &Snapshot, pod: &Value) -> Option<LabelSelector> {
    let ns = meta::namespace(pod);
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    for key in snap.selecting_services(ns) {
        if let Some(svc) = snap.get(res::SERVICES, ns, &key.name)
            && let Some(sel) = endpointutil::selector(svc)
            && endpointutil::selects(sel, pod)
        {
            for (k, v) in sel {
                set.insert(k.clone(), v.as_str().unwrap_or("").to_string());
            }
        }
    }
    let mut owner_reqs = Vec::new();
    if let Some(owner) = controller_ref(pod) {
        let name = str_at(owner, "name");
        match (str_at(owner, "apiVersion"), str_at(owner, "kind")) {
            ("apps/v1", "ReplicaSet") | ("apps/v1", "StatefulSet") => {
                let r = if str_at(owner, "kind") == "ReplicaSet" {
                    res::REPLICASETS
                } else {
                    res::STATEFULSETS
                };
                if let Some(sel) = snap
                    .get(r, ns, name)
                    .and_then(|o| o.get_in(&["spec", "selector"]))
                    .and_then(|s| LabelSelector::from_json(s).ok())
                {
                    owner_reqs = sel.requirements;
                }
            }
            ("v1", "ReplicationController") => {
                if let Some(sel) = snap
                    .get(super::RCS, ns, name)
                    .and_then(|o| o.get_in(&["spec", "selector"]))
                    .and_then(Value::as_object)
                {
                    for (k, v) in sel {
                        set.insert(k.clone(), v.as_str().unwrap_or("").to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let mut requirements: Vec<Requirement> = set
        .into_iter()
        .map(|(key, value)| Requirement {
            key,
            op: Op::Equals,
            values: vec![value],
        })
        .collect();
    requirements.extend(owner_reqs);
    (!requirements.is_empty()).then_some(LabelSelector { requirements })
}

/// PodTopologySpread: per constraint, the matching pods of the pod's
/// namespace in the node's domain, weighted by the log of the number of
/// domains, plus `maxSkew - 1`; fewer better (`(max + min - s) / max`).
/// Nodes without every key of explicit constraints score 0.
fn topology_spread(snap: &Snapshot, p: &Incoming<'_>, cands: &[Candidate<'_>]) -> Option<Vec<i64>> {
    let (constraints, system) = &p.spread;
    let system = *system;
    let mut constraints: Vec<&Spread> = constraints.iter().collect();
    if system {
        // A default constraint whose key no feasible node carries counts
        // nothing anywhere (kind's nodes have no zone).
        constraints.retain(|s| match s.topology_key.as_str() {
            HOSTNAME => cands.iter().any(|c| c.hostname_label),
            ZONE => cands.iter().any(|c| c.zone_label),
            key => cands.iter().any(|c| label(c.node, key).is_some()),
        });
    }
    if constraints.is_empty() {
        return None;
    }
    let ns = meta::namespace(p.pod);
    let ignored: Vec<bool> = cands
        .iter()
        .map(|c| !system && constraints.iter().any(|s| !c.has_label(&s.topology_key)))
        .collect();
    // Nodes share their label sets: each set is matched once a
    // constraint.
    let memo: std::cell::RefCell<Vec<(usize, *const LabelSet, bool)>> = Default::default();
    let counted = |i: usize, usage: &NodeUsage| {
        let mut memo = memo.borrow_mut();
        let mut n = 0;
        for g in usage.groups.iter().filter(|g| g.set.namespace == ns) {
            let ptr = Arc::as_ptr(&g.set);
            let hit = memo
                .iter()
                .find(|(j, p, _)| *j == i && *p == ptr)
                .map(|m| m.2);
            let matches = hit.unwrap_or_else(|| {
                let m = constraints[i].selector.matches(g.set.labels.as_object());
                memo.push((i, ptr, m));
                m
            });
            if matches {
                n += g.live();
            }
        }
        n as f64
    };
    // Per constraint: the domains' weight and, for keys other than the
    // hostname, the matching pods per domain over every node the pod's
    // node selection admits.
    let mut weights = Vec::new();
    let mut per_domain: Vec<BTreeMap<&str, f64>> = Vec::new();
    for (i, s) in constraints.iter().enumerate() {
        let mut domains: BTreeMap<&str, f64> = BTreeMap::new();
        if s.topology_key == HOSTNAME {
            // Every node its own domain, its own pods counted below.
            weights.push(((ignored.iter().filter(|ig| !**ig).count() + 2) as f64).ln());
            per_domain.push(domains);
            continue;
        }
        for (c, _) in cands.iter().zip(&ignored).filter(|(_, ig)| !**ig) {
            if let Some(v) = label(c.node, &s.topology_key) {
                domains.entry(v).or_insert(0.0);
            }
        }
        let size = domains.len();
        weights.push(((size + 2) as f64).ln());
        if !domains.is_empty() {
            for (_, node, _, usage, _) in snap.nodes_with_state() {
                if let (Some(v), Some(u)) = (label(node, &s.topology_key), usage)
                    && p.terms.matches_node(node)
                    && let Some(n) = domains.get_mut(v)
                {
                    *n += counted(i, u);
                }
            }
        }
        per_domain.push(domains);
    }
    // Which constraints spread by hostname, decided once, not per node.
    let by_host: Vec<bool> = constraints
        .iter()
        .map(|s| s.topology_key == HOSTNAME)
        .collect();
    let raw: Vec<Option<i64>> = cands
        .iter()
        .zip(&ignored)
        .map(|(c, ig)| {
            if *ig {
                return None;
            }
            let mut score = 0.0;
            for (i, s) in constraints.iter().enumerate() {
                let cnt = if by_host[i] {
                    if !c.hostname_label {
                        continue;
                    }
                    if system {
                        c.raw.host_spread
                    } else {
                        counted(i, c.usage)
                    }
                } else {
                    let Some(v) = label(c.node, &s.topology_key) else {
                        continue;
                    };
                    per_domain[i].get(v).copied().unwrap_or(0.0)
                };
                score += cnt * weights[i] + (s.max_skew - 1) as f64;
            }
            Some(score.round() as i64)
        })
        .collect();
    let valid = raw.iter().flatten();
    let min = valid.clone().copied().min().unwrap_or(0);
    let max = valid.copied().max().unwrap_or(0);
    Some(
        raw.iter()
            .map(|s| match s {
                None => 0,
                Some(_) if max == 0 => MAX,
                Some(s) => MAX * (max + min - s) / max,
            })
            .collect(),
    )
}

/// `hardPodAffinityWeight` of the InterPodAffinity plugin's default
/// arguments: what a placed pod's required affinity term that the
/// incoming pod matches adds to its domain.
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// InterPodAffinity (`interpodaffinity/scoring.go`): a score per topology
/// domain, from the incoming pod's preferred terms (their weight, negative
/// for anti-affinity, for every matching placed pod in the domain) and
/// from the terms of the placed pods with pod (anti-)affinity that the
/// incoming pod matches (`processExistingPod`: a required affinity term
/// adds `hardPodAffinityWeight`, a preferred one its weight, a preferred
/// anti-affinity term takes its weight off); a node scores the sum over
/// its domains, scaled between the lowest and the highest. Skipped (no
/// score) when no term matched at all.
fn inter_pod_affinity(snap: &Snapshot, pod: &Value, cands: &[Candidate<'_>]) -> Option<Vec<i64>> {
    let terms: Vec<(i64, Term<'_>)> = interpod::preferred_terms(pod, "podAffinity")
        .into_iter()
        .chain(
            interpod::preferred_terms(pod, "podAntiAffinity")
                .into_iter()
                .map(|(w, t)| (-w, t)),
        )
        .collect();
    // Topology key, then its value, to the domain's score (upstream's
    // `scoreMap`).
    let mut domains: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    let mut add = |key, value, weight| {
        *domains.entry(key).or_default().entry(value).or_insert(0) += weight;
    };
    if !terms.is_empty() {
        for (_, node, _, usage, _) in snap.nodes_with_state() {
            let Some(usage) = usage else { continue };
            for (weight, term) in &terms {
                let Some(v) = label(node, term.topology_key) else {
                    continue;
                };
                let n: usize = usage
                    .groups
                    .iter()
                    .filter(|g| {
                        term.matches_labels(snap, &g.set.namespace, g.set.labels.as_object())
                    })
                    .map(|g| g.count)
                    .sum();
                if n > 0 {
                    add(term.topology_key, v, weight * n as i64);
                }
            }
        }
    }
    // The placed pods' own terms, matched against the incoming pod: a
    // term's node and label selector are looked at only once its
    // namespaces let it count (CoreDNS's anti-affinity, looking in
    // kube-system, costs a workload's pods a few lookups).
    let ns = meta::namespace(pod);
    for placed in snap.pod_affinity_pods() {
        let owner_ns = meta::namespace(placed);
        let mut node = None;
        for (weight, t) in interpod::scoring_terms(placed, HARD_POD_AFFINITY_WEIGHT) {
            if !interpod::term_looks_in(snap, t, owner_ns, ns) {
                continue;
            }
            let Some(node) = *node.get_or_insert_with(|| interpod::node_of_placed(snap, placed))
            else {
                break;
            };
            let key = t.get("topologyKey").and_then(Value::as_str).unwrap_or("");
            if let Some(v) = label(node, key)
                && interpod::term(t, owner_ns).matches(snap, pod)
            {
                add(key, v, weight);
            }
        }
    }
    if domains.is_empty() {
        return None;
    }
    let raw: Vec<i64> = cands
        .iter()
        .map(|c| {
            domains
                .iter()
                .filter_map(|(key, scores)| scores.get(label(c.node, key)?))
                .sum()
        })
        .collect();
    let min = raw.iter().copied().min().unwrap_or(0);
    let max = raw.iter().copied().max().unwrap_or(0);
    Some(
        raw.iter()
            .map(|s| {
                if max > min {
                    // In floating point, as upstream's NormalizeScore: 29
                    // of 100 scales to 28, not 29.
                    (MAX as f64 * ((s - min) as f64 / (max - min) as f64)) as i64
                } else {
                    0
                }
            })
            .collect(),
    )
}
