//! The taint eviction controller (`pkg/controller/tainteviction`
//! upstream): deletes pods from nodes with `NoExecute` taints they do not
//! tolerate, at once, or when the shortest `tolerationSeconds` of the
//! tolerations used runs out (counted from the taint's `timeAdded`: pods
//! get 300s for not-ready/unreachable from the DefaultTolerationSeconds
//! admission). Each eviction records `TaintManagerEviction` "Marking for
//! deletion Pod <ns>/<name>" and gives the pod the `DisruptionTarget`
//! condition (`DeletionByTaintManager`) before the delete. On a node whose
//! kubelet is down the pod then stays Terminating.
//!
//! Not modelled: the "Cancelling deletion of Pod" event when a taint goes
//! away before its time (the controller keeps no memory of scheduled work).

use super::podutil::{self, parse_time};
use super::scheduler::tolerates;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

const COMPONENT: &str = "taint-eviction-controller";

/// The controller.
pub struct TaintEvictionController;

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// When a pod on a node with `taints` must go: `None` never, else the
/// instant (`processPodOnNode`).
pub fn eviction_time(tolerations: &[Value], taints: &[&Value]) -> Option<Option<Timestamp>> {
    if taints.is_empty() {
        return None;
    }
    // getMatchingTolerations: every taint needs a toleration (the first
    // that tolerates it); getMinTolerationTime over those.
    let mut min_secs: Option<i64> = None;
    let mut start: Option<Timestamp> = None;
    for taint in taints {
        let Some(used) = tolerations
            .iter()
            .find(|t| tolerates(std::slice::from_ref(*t), taint))
        else {
            return Some(None);
        };
        if let Some(s) = used.get("tolerationSeconds").and_then(Value::as_i64) {
            min_secs = Some(min_secs.map_or(s, |m| m.min(s)));
        }
        start = start.max(parse_time(taint.get("timeAdded")));
    }
    let secs = min_secs?;
    let start = start?;
    Some(
        start
            .checked_add(SignedDuration::from_secs(secs.max(0)))
            .ok(),
    )
}

impl Controller for TaintEvictionController {
    fn name(&self) -> &'static str {
        "taint-eviction-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::NODES, res::PODS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::PODS {
            // Upstream's pod handler looks no further at a pod without a
            // node; nor does `reconcile` (no node, nothing to evict from).
            let Some(node) = obj.get_in(&["spec", "nodeName"]).and_then(Value::as_str) else {
                return Vec::new();
            };
            // Nor at one on a node without taints (the snapshot's node
            // facts): `reconcile` would find nothing to tolerate. A taint
            // added later brings the node's pods through the node's event.
            if snap.node_facts(node).is_some_and(|f| !f.tainted) {
                return Vec::new();
            }
            return vec![ObjectKey::of(obj)];
        }
        // Only a NoExecute taint evicts. A node without one (most node
        // updates: heartbeats) needs no pod looked at: an eviction pending
        // from a taint since removed re-checks the node when its timer
        // fires, and finds nothing to do.
        let no_execute = obj
            .get_in(&["spec", "taints"])
            .and_then(Value::as_array)
            .is_some_and(|ts| ts.iter().any(|t| str_of(t, "effect") == "NoExecute"));
        if !no_execute {
            return Vec::new();
        }
        snap.pod_keys_on(meta::name(obj)).collect()
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(pod) = snap.get(res::PODS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if meta::is_deleting(pod) || matches!(podutil::phase(pod), "Succeeded" | "Failed") {
            return Reconciled::none();
        }
        let node_name = pod
            .get_in(&["spec", "nodeName"])
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(node) = snap.get(res::NODES, "", node_name) else {
            return Reconciled::none();
        };
        let taints: Vec<&Value> = node
            .get_in(&["spec", "taints"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|t| str_of(t, "effect") == "NoExecute")
            .collect();
        let tolerations: Vec<Value> = pod
            .get_in(&["spec", "tolerations"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let at = match eviction_time(&tolerations, &taints) {
            None => return Reconciled::none(),
            Some(None) => now,
            Some(Some(t)) => t,
        };
        if at > now {
            return Reconciled {
                actions: Vec::new(),
                requeue_after: Some(at.duration_since(now)),
            };
        }
        let mut conditions: Vec<Value> = pod
            .get_in(&["status", "conditions"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        conditions.retain(|c| str_of(c, "type") != "DisruptionTarget");
        conditions.push(
            json!({"type": "DisruptionTarget", "status": "True", "lastProbeTime": null,
            "lastTransitionTime": format_time(now), "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint"}),
        );
        Reconciled {
            actions: vec![
                Action::Event(EventSpec {
                    involved: ObjectRef::to(pod),
                    type_: EventType::Normal,
                    reason: "TaintManagerEviction".into(),
                    message: format!("Marking for deletion Pod {}/{}", key.namespace, key.name),
                    component: COMPONENT.into(),
                    host: None,
                }),
                Action::Patch {
                    res: res::PODS,
                    key: key.clone(),
                    patch: json!({"status": {"conditions": conditions}}),
                    status: true,
                },
                Action::Delete {
                    res: res::PODS,
                    key: key.clone(),
                    uid: meta::uid(pod).to_string(),
                    on_deleted: None,
                },
            ],
            requeue_after: None,
        }
    }
}

#[cfg(test)]
mod tests;
