//! The InterPodAffinity filter (`pkg/scheduler/framework/plugins/
//! interpodaffinity/filtering.go`): the incoming pod's required pod
//! affinity and anti-affinity terms, and the required anti-affinity terms
//! of the pods already placed, evaluated per topology domain.
//!
//! A term selects pods by `labelSelector` in `namespaces` (default: the
//! term owner's namespace) or by `namespaceSelector` (`{}`: every
//! namespace; labels are read from the Namespace objects). A node without
//! the term's `topologyKey` label fails affinity and passes anti-affinity.
//! The first pod of a group may schedule when nothing matches its affinity
//! term yet but it matches the term itself, as upstream allows.

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::selector::LabelSelector;
use crate::sim::snapshot::Snapshot;
use crate::store::ResKey;
use serde_json::Value;

pub const NAMESPACES: ResKey = ResKey {
    group: "",
    resource: "namespaces",
};

/// `ErrReasonAffinityRulesNotMatch` (unresolvable by preemption).
pub const AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch`.
pub const ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

/// One term, resolved against its owner's namespace.
pub(super) struct Term<'a> {
    selector: Option<LabelSelector>,
    namespaces: Vec<&'a str>,
    /// `namespaceSelector`, when set.
    ns_selector: Option<LabelSelector>,
    pub(super) topology_key: &'a str,
}

fn terms<'a>(pod: &'a Value, kind: &str) -> Vec<Term<'a>> {
    let owner_ns = meta::namespace(pod);
    pod.at(&format!(
        "/spec/affinity/{kind}/requiredDuringSchedulingIgnoredDuringExecution"
    ))
    .and_then(Value::as_array)
    .into_iter()
    .flatten()
    .map(|t| term(t, owner_ns))
    .collect()
}

/// Whether a pod has required anti-affinity terms (upstream's
/// `podWithRequiredAntiAffinity`).
pub(super) fn has_required_anti_affinity(pod: &Value) -> bool {
    pod.get_in(&[
        "spec",
        "affinity",
        "podAntiAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
    ])
    .and_then(Value::as_array)
    .is_some_and(|t| !t.is_empty())
}

/// The pod's preferred terms of `kind` (`podAffinity`,
/// `podAntiAffinity`) with their weights.
pub(super) fn preferred_terms<'a>(pod: &'a Value, kind: &str) -> Vec<(i64, Term<'a>)> {
    let owner_ns = meta::namespace(pod);
    pod.get_in(&[
        "spec",
        "affinity",
        kind,
        "preferredDuringSchedulingIgnoredDuringExecution",
    ])
    .and_then(Value::as_array)
    .into_iter()
    .flatten()
    .filter_map(|w| {
        let weight = w.get("weight").and_then(Value::as_i64)?;
        Some((weight, term(w.get("podAffinityTerm")?, owner_ns)))
    })
    .collect()
}

/// A term as written, of a pod in `owner_ns`.
pub(super) fn term<'a>(t: &'a Value, owner_ns: &'a str) -> Term<'a> {
    let mut namespaces: Vec<&str> = t
        .get("namespaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let ns_selector = t
        .get("namespaceSelector")
        .filter(|s| !s.is_null())
        .and_then(|s| LabelSelector::from_json(s).ok());
    if namespaces.is_empty() && ns_selector.is_none() {
        namespaces.push(owner_ns);
    }
    Term {
        // A nil labelSelector matches nothing; `{}` matches everything.
        selector: t
            .get("labelSelector")
            .filter(|s| !s.is_null())
            .and_then(|s| LabelSelector::from_json(s).ok()),
        namespaces,
        ns_selector,
        topology_key: t.get("topologyKey").and_then(Value::as_str).unwrap_or(""),
    }
}

/// The terms of a placed pod that score an incoming pod it selects
/// (InterPodAffinity's `processExistingPod`), as written, with their
/// weights: each required affinity term at `hard_weight`, each preferred
/// affinity term at its weight and each preferred anti-affinity term at
/// its weight taken off.
pub(super) fn scoring_terms(
    pod: &Value,
    hard_weight: i64,
) -> impl Iterator<Item = (i64, &Value)> + '_ {
    let affinity = pod.get_in(&["spec", "affinity"]);
    let list = move |kind: &str, field: &str| {
        affinity
            .and_then(|a| a.get(kind))
            .and_then(|k| k.get(field))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let preferred = move |kind: &str, sign: i64| {
        list(kind, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .filter_map(move |w| {
                let weight = w.get("weight").and_then(Value::as_i64)?;
                Some((sign * weight, w.get("podAffinityTerm")?))
            })
    };
    list(
        "podAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
    )
    .iter()
    .map(move |t| (hard_weight, t))
    .chain(preferred("podAffinity", 1))
    .chain(preferred("podAntiAffinity", -1))
}

/// Whether a term as written, of a pod in `owner_ns`, looks at pods in
/// `ns` (its `namespaces`, its `namespaceSelector`, else its owner's
/// namespace): checked before its label selector is parsed.
pub(super) fn term_looks_in(snap: &Snapshot, t: &Value, owner_ns: &str, ns: &str) -> bool {
    let names = t.get("namespaces").and_then(Value::as_array);
    let selector = t.get("namespaceSelector").filter(|s| !s.is_null());
    if names.is_none_or(Vec::is_empty) && selector.is_none() {
        return ns == owner_ns;
    }
    names.into_iter().flatten().any(|n| n.as_str() == Some(ns))
        || selector
            .and_then(|s| LabelSelector::from_json(s).ok())
            .is_some_and(|sel| namespace_selected(snap, &sel, ns))
}

/// Whether a `namespaceSelector` selects namespace `ns` (`{}`: every one).
fn namespace_selected(snap: &Snapshot, sel: &LabelSelector, ns: &str) -> bool {
    sel.is_empty()
        || snap
            .get(NAMESPACES, "", ns)
            .is_some_and(|n| sel.matches(meta::labels(n)))
}

impl Term<'_> {
    pub(super) fn matches(&self, snap: &Snapshot, pod: &Value) -> bool {
        self.matches_labels(snap, meta::namespace(pod), meta::labels(pod))
    }

    /// Whether a pod of `ns` with `labels` matches the term.
    pub(super) fn matches_labels(
        &self,
        snap: &Snapshot,
        ns: &str,
        labels: Option<&serde_json::Map<String, Value>>,
    ) -> bool {
        let in_ns = self.namespaces.contains(&ns)
            || self
                .ns_selector
                .as_ref()
                .is_some_and(|sel| namespace_selected(snap, sel, ns));
        in_ns && self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }
}

/// The value of a node's label `key`.
pub(super) fn label<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    meta::labels(node)
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// The node a pod is placed on: none for a pod that has finished, or
/// whose node is gone.
pub(super) fn node_of_placed<'a>(snap: &'a Snapshot, pod: &Value) -> Option<&'a Value> {
    if matches!(
        pod.get_in(&["status", "phase"]).and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    ) {
        return None;
    }
    let node = pod.get_in(&["spec", "nodeName"]).and_then(Value::as_str)?;
    snap.get(crate::sim::snapshot::res::NODES, "", node)
        .map(|n| n.as_ref())
}

/// Pods already placed, with their nodes.
fn placed<'a>(snap: &'a Snapshot, pods: &[&'a Value]) -> Vec<(&'a Value, &'a Value)> {
    pods.iter()
        .filter_map(|p| Some((*p, node_of_placed(snap, p)?)))
        .collect()
}

/// What InterPodAffinity's PreFilter works out once per scheduling attempt
/// (upstream's `preFilterState`: topology pairs with matching pods), so
/// that the filter of each node only looks its own labels up: for each of
/// the incoming pod's affinity and anti-affinity terms, the domains (label
/// values of its topology key) holding a matching placed pod, and the
/// domains where a placed pod's required anti-affinity term matches the
/// incoming pod.
pub struct PreFilter<'a> {
    affinity: Vec<AffinityTerm<'a>>,
    anti: Vec<(&'a str, Vec<&'a str>)>,
    /// (topology key, value) of each placed pod's anti-affinity term that
    /// matches the incoming pod, on a node that has the key.
    existing_anti: Vec<(&'a str, &'a str)>,
}

/// One affinity term of the incoming pod, resolved against the placed pods.
struct AffinityTerm<'a> {
    topology_key: &'a str,
    /// Domains with a matching placed pod.
    domains: Vec<&'a str>,
    /// Whether any placed pod matches, in whatever domain.
    anywhere: bool,
    /// Whether the incoming pod matches its own term.
    matches_itself: bool,
}

impl<'a> PreFilter<'a> {
    /// The state for `pod` against `pods` (the placed pods to consider).
    pub fn of(snap: &'a Snapshot, pod: &'a Value, pods: &[&'a Value]) -> Self {
        let placed = placed(snap, pods);
        let domains = |t: &Term<'a>| -> Vec<&'a str> {
            let mut d: Vec<&'a str> = placed
                .iter()
                .filter(|(p, _)| t.matches(snap, p))
                .filter_map(|(_, n)| label(n, t.topology_key))
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        let affinity = terms(pod, "podAffinity")
            .iter()
            .map(|t| AffinityTerm {
                topology_key: t.topology_key,
                domains: domains(t),
                anywhere: placed.iter().any(|(p, _)| t.matches(snap, p)),
                matches_itself: t.matches(snap, pod),
            })
            .collect();
        let anti = terms(pod, "podAntiAffinity")
            .iter()
            .map(|t| (t.topology_key, domains(t)))
            .collect();
        let mut existing_anti = Vec::new();
        for (p, n) in &placed {
            for t in terms(p, "podAntiAffinity") {
                if t.matches(snap, pod)
                    && let Some(value) = label(n, t.topology_key)
                {
                    existing_anti.push((t.topology_key, value));
                }
            }
        }
        Self {
            affinity,
            anti,
            existing_anti,
        }
    }

    /// The filter for one candidate node: None when it passes, else the
    /// reason and whether preemption could not help.
    pub fn filter(&self, node: &Value) -> Option<(&'static str, bool)> {
        // The incoming pod's affinity: every term needs a matching pod in
        // the node's domain (or, for the first of a group, nothing matching
        // anywhere and the pod matching its own term).
        for t in &self.affinity {
            let Some(value) = label(node, t.topology_key) else {
                return Some((AFFINITY, true));
            };
            if !t.domains.contains(&value) && (t.anywhere || !t.matches_itself) {
                return Some((AFFINITY, true));
            }
        }
        // The incoming pod's anti-affinity.
        for (key, domains) in &self.anti {
            if label(node, key).is_some_and(|v| domains.contains(&v)) {
                return Some((ANTI_AFFINITY, false));
            }
        }
        // Placed pods' anti-affinity against the incoming pod.
        if self
            .existing_anti
            .iter()
            .any(|(key, value)| label(node, key) == Some(*value))
        {
            return Some((EXISTING_ANTI_AFFINITY, false));
        }
        None
    }
}

/// The filter for one candidate node (the PreFilter worked out for it
/// alone): None when it passes, else the reason and whether preemption
/// could not help.
#[cfg(test)]
fn filter(
    snap: &Snapshot,
    pod: &Value,
    node: &Value,
    pods: &[&Value],
) -> Option<(&'static str, bool)> {
    PreFilter::of(snap, pod, pods).filter(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::snapshot::res;
    use serde_json::json;

    fn node(name: &str, zone: &str) -> Value {
        json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "zone": zone}}})
    }

    fn pod(name: &str, app: &str, node: Option<&str>, affinity: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
            "spec": {"nodeName": node, "affinity": affinity}, "status": {"phase": "Running"}})
    }

    fn term(app: &str, key: &str) -> Value {
        json!([{"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}])
    }

    fn snap(objs: Vec<(ResKey, Value)>) -> Snapshot {
        Snapshot::from_objects(objs)
    }

    #[test]
    fn required_terms_decide_per_topology_domain() {
        let (a, b) = (node("a", "z1"), node("b", "z2"));
        let cache = pod("cache-1", "cache", Some("a"), json!({}));
        let s = snap(vec![
            (res::NODES, a.clone()),
            (res::NODES, b.clone()),
            (res::PODS, cache.clone()),
        ]);
        let pods = [&cache];
        // Affinity to the cache: only node a's zone qualifies.
        let web = pod(
            "web",
            "web",
            None,
            json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": term("cache", "zone")}}),
        );
        assert_eq!(filter(&s, &web, &a, &pods), None);
        assert_eq!(filter(&s, &web, &b, &pods), Some((AFFINITY, true)));
        // Anti-affinity to the cache: the other way round, and resolvable.
        let lone = pod(
            "lone",
            "web",
            None,
            json!({"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": term("cache", "kubernetes.io/hostname")}}),
        );
        assert_eq!(filter(&s, &lone, &a, &pods), Some((ANTI_AFFINITY, false)));
        assert_eq!(filter(&s, &lone, &b, &pods), None);
        // A term on a label the nodes lack: affinity fails, anti-affinity passes.
        let rack = pod(
            "rack",
            "web",
            None,
            json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": term("cache", "rack")}}),
        );
        assert_eq!(filter(&s, &rack, &a, &pods), Some((AFFINITY, true)));
    }

    #[test]
    fn placed_pods_anti_affinity_and_the_first_of_a_group() {
        let (a, b) = (node("a", "z1"), node("b", "z2"));
        let spread = json!({"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": term("web", "kubernetes.io/hostname")}});
        let first = pod("web-1", "web", Some("a"), spread.clone());
        let s = snap(vec![
            (res::NODES, a.clone()),
            (res::NODES, b.clone()),
            (res::PODS, first.clone()),
        ]);
        let pods = [&first];
        // A plain pod labelled app=web is kept off node a by web-1's term.
        let plain = pod("web-x", "web", None, json!({}));
        assert_eq!(
            filter(&s, &plain, &a, &pods),
            Some((EXISTING_ANTI_AFFINITY, false))
        );
        assert_eq!(filter(&s, &plain, &b, &pods), None);
        // The first pod of a self-affine group schedules anywhere.
        let s = snap(vec![(res::NODES, a.clone())]);
        let own = pod(
            "db-1",
            "db",
            None,
            json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": term("db", "zone")}}),
        );
        assert_eq!(filter(&s, &own, &a, &[]), None);
    }
}
