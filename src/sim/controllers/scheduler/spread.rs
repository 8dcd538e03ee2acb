//! The PodTopologySpread filter (`pkg/scheduler/framework/plugins/
//! podtopologyspread/filtering.go`): a pod's `DoNotSchedule` constraints.
//! A node passes a constraint when the matching pods in its domain, plus
//! the pod itself if it matches, exceed the fewest in any domain by no more
//! than `maxSkew` (the fewest counts as 0 while fewer domains than
//! `minDomains` exist). The domains are those of the nodes that carry
//! every constraint's key and that the constraint's inclusion policies
//! admit: by default those the pod's node selection admits, tainted or not
//! (so a tainted control-plane node is a domain that never gets a pod); a
//! node without a key fails outright.

use super::PodTerms;
use super::interpod::label;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::selector::{LabelSelector, Op, Requirement};
use crate::sim::snapshot::Snapshot;
use serde_json::Value;
use std::collections::BTreeMap;

/// `ErrReasonConstraintsNotMatch`.
pub const NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch`.
pub const MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// One constraint of the pod.
pub(super) struct Constraint {
    pub topology_key: String,
    pub max_skew: i64,
    pub selector: LabelSelector,
    min_domains: usize,
    /// `nodeAffinityPolicy: Honor` (the default): only nodes the pod's
    /// node selection admits make domains.
    honor_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default Ignore): only nodes whose taints
    /// the pod tolerates make domains.
    honor_taints: bool,
}

impl Constraint {
    /// Whether `node` makes a domain of this constraint
    /// (`matchNodeInclusionPolicies`).
    fn includes(&self, terms: &PodTerms<'_>, node: &Value) -> bool {
        if self.honor_affinity && !terms.matches_node(node) {
            return false;
        }
        !self.honor_taints
            || node
                .get_in(&["spec", "taints"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|t| {
                    matches!(
                        t.get("effect").and_then(Value::as_str),
                        Some("NoSchedule" | "NoExecute")
                    )
                })
                .all(|t| super::tolerates(terms.tolerations, t))
    }
}

/// The pod's constraints of one `whenUnsatisfiable` kind, their selectors
/// narrowed by `matchLabelKeys` (the pod's own values of those keys).
pub(super) fn constraints(pod: &Value, when: &str) -> Vec<Constraint> {
    let labels = meta::labels(pod);
    pod.get_in(&["spec", "topologySpreadConstraints"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("whenUnsatisfiable").and_then(Value::as_str) == Some(when))
        .filter_map(|c| {
            let mut selector = LabelSelector::from_json(c.get("labelSelector")?).ok()?;
            for key in c
                .get("matchLabelKeys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(v) = labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
                    selector.requirements.push(Requirement {
                        key: key.to_string(),
                        op: Op::In,
                        values: vec![v.to_string()],
                    });
                }
            }
            Some(Constraint {
                topology_key: c.get("topologyKey")?.as_str()?.to_string(),
                max_skew: c.get("maxSkew").and_then(Value::as_i64).unwrap_or(1),
                selector,
                min_domains: c
                    .get("minDomains")
                    .and_then(Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(1),
                honor_affinity: c.get("nodeAffinityPolicy").and_then(Value::as_str)
                    != Some("Ignore"),
                honor_taints: c.get("nodeTaintsPolicy").and_then(Value::as_str) == Some("Honor"),
            })
        })
        .collect()
}

/// PreFilter's state: per constraint, the matching pods in each domain and
/// the fewest.
pub(super) struct Filter {
    constraints: Vec<Constraint>,
    /// Whether the incoming pod matches each constraint's selector.
    self_match: Vec<bool>,
    counts: Vec<BTreeMap<String, usize>>,
    minimum: Vec<usize>,
}

impl Filter {
    /// None when the pod has no `DoNotSchedule` constraint.
    pub(super) fn of(snap: &Snapshot, pod: &Value, terms: &PodTerms<'_>) -> Option<Self> {
        let constraints = constraints(pod, "DoNotSchedule");
        if constraints.is_empty() {
            return None;
        }
        let ns = meta::namespace(pod);
        let mut counts = vec![BTreeMap::new(); constraints.len()];
        for (_, node, _, usage, _) in snap.nodes_with_state() {
            if constraints
                .iter()
                .any(|c| label(node, &c.topology_key).is_none())
            {
                continue;
            }
            for (c, domains) in constraints.iter().zip(&mut counts) {
                if !c.includes(terms, node) {
                    continue;
                }
                let value = label(node, &c.topology_key).unwrap_or_default();
                let n = usage.map_or(0, |u| u.count_in(ns, |l| c.selector.matches(l.as_object())));
                *domains.entry(value.to_string()).or_insert(0) += n;
            }
        }
        let minimum = constraints
            .iter()
            .zip(&counts)
            .map(|(c, domains)| {
                if domains.len() < c.min_domains {
                    0
                } else {
                    domains.values().copied().min().unwrap_or(0)
                }
            })
            .collect();
        let self_match = constraints
            .iter()
            .map(|c| c.selector.matches(meta::labels(pod)))
            .collect();
        Some(Self {
            constraints,
            self_match,
            counts,
            minimum,
        })
    }

    /// Why `node` fails (and whether preemption could not help), if it does.
    pub(super) fn filter(&self, node: &Value) -> Option<(&'static str, bool)> {
        for (i, c) in self.constraints.iter().enumerate() {
            let Some(value) = label(node, &c.topology_key) else {
                return Some((MISSING_LABEL, true));
            };
            let matching = self.counts[i].get(value).copied().unwrap_or(0);
            let skew = (matching + usize::from(self.self_match[i])) as i64 - self.minimum[i] as i64;
            if skew > c.max_skew {
                return Some((NOT_MATCH, false));
            }
        }
        None
    }
}
