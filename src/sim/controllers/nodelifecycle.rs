//! The node lifecycle controller (`pkg/controller/nodelifecycle`
//! upstream): watches each node's heartbeat (its Lease in
//! `kube-node-lease` and the Ready condition's `lastHeartbeatTime`) and,
//! `NodeMonitorGracePeriod` (40s) after the last one, marks the node's
//! conditions `Unknown` (`NodeStatusUnknown`, "Kubelet stopped posting node
//! status."), records `NodeNotReady` on the node ("Node x status is now:
//! NodeNotReady") and marks its pods not ready (`NodeNotReady` "Node is not
//! ready" on each pod).
//!
//! It also keeps the node's condition taints: `node.kubernetes.io/
//! unreachable` or `not-ready` as NoExecute (with `timeAdded`, which the
//! taint eviction controller counts tolerations from) and NoSchedule, and
//! NoSchedule taints for memory, disk and PID pressure, network
//! unavailability and cordoning (`unschedulable`). Other taints are left
//! alone.

use super::podutil::parse_time;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// Node heartbeat Leases.
pub const LEASES: ResKey = ResKey {
    group: "coordination.k8s.io",
    resource: "leases",
};
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// `--node-monitor-grace-period`.
pub const GRACE_PERIOD: SignedDuration = SignedDuration::from_secs(40);
const COMPONENT: &str = "node-controller";

pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The conditions the controller turns Unknown, in upstream's order.
const MONITORED: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
/// `nodeConditionToTaintKeyStatusMap` plus the unschedulable taint: the
/// NoSchedule taints this controller owns.
const NO_SCHEDULE_KEYS: [&str; 7] = [
    NOT_READY,
    UNREACHABLE,
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/unschedulable",
];

/// The controller.
pub struct NodeLifecycleController;

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// A node condition of type `ty`.
pub fn node_condition<'a>(node: &'a Value, ty: &str) -> Option<&'a Value> {
    node.get_in(&["status", "conditions"])
        .and_then(Value::as_array)?
        .iter()
        .find(|c| str_of(c, "type") == ty)
}

fn condition_status<'a>(node: &'a Value, ty: &str) -> &'a str {
    node_condition(node, ty).map_or("", |c| str_of(c, "status"))
}

/// When the node's kubelet was last heard from: its Lease renewal or its
/// Ready heartbeat, whichever is later (`nodeHealth.probeTimestamp`).
pub fn last_heard(snap: &Snapshot, node: &Value) -> Option<Timestamp> {
    let lease = snap
        .get(LEASES, LEASE_NAMESPACE, meta::name(node))
        .and_then(|l| parse_time(l.get_in(&["spec", "renewTime"])));
    let ready = node_condition(node, "Ready").and_then(|c| parse_time(c.get("lastHeartbeatTime")));
    let created = parse_time(node.get_in(&["metadata", "creationTimestamp"]));
    lease.max(ready).or(created)
}

/// The conditions once the grace period has passed without a heartbeat.
fn unknown_conditions(node: &Value, now: Timestamp) -> Vec<Value> {
    let mut conds: Vec<Value> = node
        .get_in(&["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let stamp = format_time(now);
    for ty in MONITORED {
        match conds.iter_mut().find(|c| str_of(c, "type") == ty) {
            Some(c) if str_of(c, "status") != "Unknown" => {
                c["status"] = json!("Unknown");
                c["reason"] = json!("NodeStatusUnknown");
                c["message"] = json!("Kubelet stopped posting node status.");
                c["lastTransitionTime"] = json!(stamp);
            }
            Some(_) => {}
            None => conds.push(json!({
                "type": ty, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                "message": "Kubelet never posted node status.",
                "lastHeartbeatTime": node.get_in(&["metadata", "creationTimestamp"]).cloned().unwrap_or(Value::Null),
                "lastTransitionTime": stamp,
            })),
        }
    }
    conds
}

/// The taints a node should carry given its conditions (`status` holds
/// the conditions as they will be) and `spec.unschedulable`: the
/// controller's taints in place, others untouched.
pub fn desired_taints(node: &Value, conditions: &[Value], now: Timestamp) -> Vec<Value> {
    let cond = |ty: &str| {
        conditions
            .iter()
            .find(|c| str_of(c, "type") == ty)
            .map_or("", |c| str_of(c, "status"))
    };
    let ready_key = match cond("Ready") {
        "False" => Some(NOT_READY),
        "Unknown" => Some(UNREACHABLE),
        _ => None,
    };
    let mut no_schedule: Vec<&str> = ready_key.into_iter().collect();
    for (ty, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        (
            "NetworkUnavailable",
            "node.kubernetes.io/network-unavailable",
        ),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
    ] {
        if cond(ty) == "True" {
            no_schedule.push(key);
        }
    }
    if node
        .get_in(&["spec", "unschedulable"])
        .and_then(Value::as_bool)
        == Some(true)
    {
        no_schedule.push("node.kubernetes.io/unschedulable");
    }
    let current: Vec<Value> = node
        .get_in(&["spec", "taints"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ours_no_execute = |t: &Value| {
        str_of(t, "effect") == "NoExecute" && [NOT_READY, UNREACHABLE].contains(&str_of(t, "key"))
    };
    let ours_no_schedule = |t: &Value| {
        str_of(t, "effect") == "NoSchedule" && NO_SCHEDULE_KEYS.contains(&str_of(t, "key"))
    };
    let mut out: Vec<Value> = current
        .iter()
        .filter(|t| {
            (!ours_no_execute(t) || Some(str_of(t, "key")) == ready_key)
                && (!ours_no_schedule(t) || no_schedule.contains(&str_of(t, "key")))
        })
        .cloned()
        .collect();
    let has = |out: &[Value], key: &str, effect: &str| {
        out.iter()
            .any(|t| str_of(t, "key") == key && str_of(t, "effect") == effect)
    };
    if let Some(key) = ready_key
        && !has(&out, key, "NoExecute")
    {
        out.push(json!({"key": key, "effect": "NoExecute", "timeAdded": format_time(now)}));
    }
    for key in no_schedule {
        if !has(&out, key, "NoSchedule") {
            out.push(json!({"key": key, "effect": "NoSchedule"}));
        }
    }
    out
}

/// The controller's reference to a node (`RecordNodeStatusChange`,
/// `RecordNodeEvent`): unlike the kubelet's, it carries the node's uid,
/// and `kubectl describe node` asks for both.
fn node_ref(node: &Value) -> ObjectRef {
    ObjectRef {
        api_version: "v1".into(),
        kind: "Node".into(),
        namespace: String::new(),
        name: meta::name(node).into(),
        uid: meta::uid(node).into(),
        field_path: None,
    }
}

/// `RecordNodeStatusChange`: "Node x status is now: NodeNotReady".
fn node_event(node: &Value, status: &str) -> EventSpec {
    let name = meta::name(node);
    EventSpec {
        involved: node_ref(node),
        type_: EventType::Normal,
        reason: status.into(),
        message: format!("Node {name} status is now: {status}"),
        component: COMPONENT.into(),
        host: None,
    }
}

/// `RegisteredNode`, which the controller records for each node it
/// starts to watch (`RecordNodeEvent`: "Node x event: Registered Node x in
/// Controller").
pub fn registered_event(node: &Value) -> EventSpec {
    let name = meta::name(node);
    EventSpec {
        involved: node_ref(node),
        type_: EventType::Normal,
        reason: "RegisteredNode".into(),
        message: format!("Node {name} event: Registered Node {name} in Controller"),
        component: COMPONENT.into(),
        host: None,
    }
}

/// `MarkPodsNotReady`: Ready=False on the node's ready pods, each with a
/// `NodeNotReady` event.
fn mark_pods_not_ready(snap: &Snapshot, node: &str, now: Timestamp) -> Vec<Action> {
    let mut actions = Vec::new();
    for pod in snap.pods_on(node) {
        let Some(conds) = pod
            .get_in(&["status", "conditions"])
            .and_then(Value::as_array)
        else {
            continue;
        };
        if !conds
            .iter()
            .any(|c| str_of(c, "type") == "Ready" && str_of(c, "status") != "False")
        {
            continue;
        }
        let conds: Vec<Value> = conds
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if str_of(&c, "type") == "Ready" {
                    c["status"] = json!("False");
                    c["lastTransitionTime"] = json!(format_time(now));
                }
                c
            })
            .collect();
        actions.push(Action::Patch {
            res: res::PODS,
            key: ObjectKey::of(pod),
            patch: json!({"status": {"conditions": conds}}),
            status: true,
        });
        actions.push(Action::Event(EventSpec {
            involved: ObjectRef::to(pod),
            type_: EventType::Warning,
            reason: "NodeNotReady".into(),
            message: "Node is not ready".into(),
            component: COMPONENT.into(),
            host: None,
        }));
    }
    actions
}

impl Controller for NodeLifecycleController {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::NODES, LEASES, res::PODS]
    }

    fn keys_for(&self, _snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::NODES || (r == LEASES && meta::namespace(obj) == LEASE_NAMESPACE) {
            vec![ObjectKey::new("", meta::name(obj))]
        } else {
            Vec::new()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(node) = snap.get(res::NODES, "", &key.name) else {
            return Reconciled::none();
        };
        let mut actions = Vec::new();
        let mut requeue_after = None;
        let deadline = last_heard(snap, node).and_then(|t| t.checked_add(GRACE_PERIOD).ok());
        let mut conditions: Vec<Value> = node
            .get_in(&["status", "conditions"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match deadline {
            Some(d) if now > d => {
                let updated = unknown_conditions(node, now);
                if updated != conditions {
                    actions.push(Action::Patch {
                        res: res::NODES,
                        key: key.clone(),
                        patch: json!({"status": {"conditions": updated}}),
                        status: true,
                    });
                    if condition_status(node, "Ready") == "True" {
                        actions.push(Action::Event(node_event(node, "NodeNotReady")));
                        actions.extend(mark_pods_not_ready(snap, &key.name, now));
                    }
                    conditions = updated;
                }
            }
            Some(d) => {
                requeue_after = Some(d.duration_since(now) + SignedDuration::from_millis(1));
            }
            None => {}
        }
        let taints = desired_taints(node, &conditions, now);
        let current = node
            .get_in(&["spec", "taints"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if taints != current {
            let value = if taints.is_empty() {
                Value::Null
            } else {
                Value::Array(taints)
            };
            actions.push(Action::Patch {
                res: res::NODES,
                key: key.clone(),
                patch: json!({"spec": {"taints": value}}),
                status: false,
            });
        }
        Reconciled {
            actions,
            requeue_after,
        }
    }
}

#[cfg(test)]
mod tests;
