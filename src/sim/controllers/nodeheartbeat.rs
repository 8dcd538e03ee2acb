//! The kubelet's side of node health: every 10 seconds it renews its
//! node's Lease in `kube-node-lease` (`nodeLeaseRenewIntervalFraction`
//! of the 40s lease), and it posts the node's conditions when they are not
//! what it would report, or every 5 minutes (`nodeStatusReportFrequency`)
//! to move their `lastHeartbeatTime` (after the node lifecycle controller
//! marked them Unknown, it posts Ready again). Each condition that changes
//! gets the kubelet's event: "Node x status is now: NodeHasSufficientMemory",
//! `NodeHasInsufficientMemory`, ..., `NodeReady`.
//!
//! The simulator's control surface for node faults is annotations on the
//! node's Lease in `kube-node-lease` (not on the Node, where `kubectl
//! describe node` would show them and give a drill away; the Lease still
//! goes through the API, so a fault stays a change to an object). A
//! scenario's fault script (or `kubectl annotate lease -n kube-node-lease`)
//! sets them; the kubelet's renewals patch only `spec` and keep them:
//!
//! - `kdrill.io/kubelet: stopped`: the kubelet is down. It stops renewing
//!   its Lease and posting status, and stops acting on its pods (they keep
//!   their last status; deleted pods stay Terminating). 40s later the node
//!   lifecycle controller marks the node NotReady (Ready Unknown) and
//!   taints it unreachable; pods are evicted after their toleration.
//!   Removing the annotation restarts the kubelet: Ready again.
//! - `kdrill.io/pressure: memory|disk|pid` (comma-separated): the kubelet
//!   reports that pressure condition True (e.g. MemoryPressure
//!   `KubeletHasInsufficientMemory` "kubelet has insufficient memory
//!   available"), which the lifecycle controller turns into the
//!   `node.kubernetes.io/memory-pressure:NoSchedule` taint.
//!   Under memory or disk pressure the kubelet's eviction manager also
//!   evicts pods and rejects new ones (`kubelet_eviction`).

use super::nodelifecycle::{LEASE_NAMESPACE, LEASES};
use super::podutil::parse_time;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::{format_micro_time, format_time};
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// The Lease annotation that stops a node's kubelet.
pub const KUBELET_ANNOTATION: &str = "kdrill.io/kubelet";
/// The Lease annotation that puts a node under resource pressure.
pub const PRESSURE_ANNOTATION: &str = "kdrill.io/pressure";
/// How often the kubelet renews its Lease.
pub const RENEW_INTERVAL: SignedDuration = SignedDuration::from_secs(10);
/// `nodeStatusReportFrequency`: status is posted at least this often.
pub const REPORT_FREQUENCY: SignedDuration = SignedDuration::from_secs(300);

/// The kubelets' heartbeat.
pub struct NodeHeartbeat;

fn annotation<'a>(lease: &'a Value, key: &str) -> Option<&'a str> {
    lease
        .get_in(&["metadata", "annotations"])
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// Whether the kubelet whose node Lease is `lease` is stopped.
pub fn kubelet_stopped(lease: &Value) -> bool {
    annotation(lease, KUBELET_ANNOTATION) == Some("stopped")
}

/// The switches of the node named `name`: its Lease (Null without one).
pub fn switches<'a>(snap: &'a Snapshot, name: &str) -> &'a Value {
    snap.get(LEASES, LEASE_NAMESPACE, name)
        .map_or(&Value::Null, |l| &**l)
}

/// Whether the kubelet of the node named `name` is stopped.
pub fn kubelet_stopped_on(snap: &Snapshot, name: &str) -> bool {
    kubelet_stopped(switches(snap, name))
}

/// Whether the node Lease `lease` puts its node under `what` pressure
/// (`memory`, `disk` or `pid`).
pub fn under_pressure(lease: &Value, what: &str) -> bool {
    annotation(lease, PRESSURE_ANNOTATION).is_some_and(|v| v.split(',').any(|p| p.trim() == what))
}

/// The conditions the kubelet reports (`setNodeMemoryPressureCondition`
/// and friends, `setNodeReadyCondition`) with the switches of `lease`:
/// (type, status, reason, message).
pub fn reported_conditions(
    lease: &Value,
) -> [(&'static str, &'static str, &'static str, &'static str); 4] {
    let memory = if under_pressure(lease, "memory") {
        (
            "True",
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        )
    } else {
        (
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        )
    };
    let disk = if under_pressure(lease, "disk") {
        (
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
        )
    } else {
        (
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        )
    };
    let pid = if under_pressure(lease, "pid") {
        (
            "True",
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
        )
    } else {
        (
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        )
    };
    [
        ("MemoryPressure", memory.0, memory.1, memory.2),
        ("DiskPressure", disk.0, disk.1, disk.2),
        ("PIDPressure", pid.0, pid.1, pid.2),
        (
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ]
}

/// How long until a Lease renewed every `every` is due for its next
/// renewal; None when it is due now (or was never renewed).
pub fn until_renewal(
    lease: &Value,
    every: SignedDuration,
    now: Timestamp,
) -> Option<SignedDuration> {
    let next = parse_time(lease.get_in(&["spec", "renewTime"]))?
        .checked_add(every)
        .ok()?;
    (next > now).then(|| next.duration_since(now))
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// When the kubelet last posted node status (the Ready heartbeat).
fn last_report(node: &Value) -> Option<Timestamp> {
    super::nodelifecycle::node_condition(node, "Ready")
        .and_then(|c| parse_time(c.get("lastHeartbeatTime")))
}

/// The node's conditions as the kubelet would post them now, or None when
/// the stored ones already say that and the last report is recent.
fn posted_conditions(node: &Value, lease: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let current: Vec<Value> = node
        .get_in(&["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let wanted = reported_conditions(lease);
    let same = wanted.iter().all(|(ty, status, reason, _)| {
        current.iter().any(|c| {
            str_of(c, "type") == *ty
                && str_of(c, "status") == *status
                && str_of(c, "reason") == *reason
        })
    });
    let due = last_report(node)
        .and_then(|t| t.checked_add(REPORT_FREQUENCY).ok())
        .is_none_or(|t| t <= now);
    if same && !due {
        return None;
    }
    let stamp = format_time(now);
    let mut out: Vec<Value> = current
        .iter()
        .filter(|c| !wanted.iter().any(|w| w.0 == str_of(c, "type")))
        .cloned()
        .collect();
    for (ty, status, reason, message) in wanted {
        let old = current.iter().find(|c| str_of(c, "type") == ty);
        let transition = match old {
            Some(c) if str_of(c, "status") == status => c
                .get("lastTransitionTime")
                .cloned()
                .unwrap_or_else(|| json!(stamp)),
            _ => json!(stamp),
        };
        out.push(
            json!({"type": ty, "status": status, "reason": reason, "message": message,
                        "lastHeartbeatTime": stamp, "lastTransitionTime": transition}),
        );
    }
    Some(out)
}

/// An event the kubelet records about its node (`kl.nodeRef`: no
/// apiVersion, the node's name for its uid).
fn kubelet_event(name: &str, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef::node(name),
        type_: EventType::Normal,
        reason: reason.into(),
        message,
        component: "kubelet".into(),
        host: Some(name.into()),
    }
}

/// The kubelet's `recordNodeStatusEvent`s for conditions that change
/// (setters.go): "Node x status is now: NodeHasInsufficientMemory", ...,
/// "NodeReady", in the order the setters run (`lease` carries the switches).
pub fn status_events(node: &Value, lease: &Value) -> Vec<EventSpec> {
    let name = meta::name(node);
    status_events_of(name, node, lease)
}

/// [`status_events`] for the node named `name`, whose conditions `node`
/// holds (Null for a node being registered: an event for each).
fn status_events_of(name: &str, node: &Value, lease: &Value) -> Vec<EventSpec> {
    reported_conditions(lease)
        .iter()
        .filter(|(ty, status, _, _)| {
            super::nodelifecycle::node_condition(node, ty).map(|c| str_of(c, "status"))
                != Some(*status)
        })
        .filter_map(|(ty, status, _, _)| {
            let event = match (*ty, *status) {
                ("MemoryPressure", "True") => "NodeHasInsufficientMemory",
                ("MemoryPressure", _) => "NodeHasSufficientMemory",
                ("DiskPressure", "True") => "NodeHasDiskPressure",
                ("DiskPressure", _) => "NodeHasNoDiskPressure",
                ("PIDPressure", "True") => "NodeHasInsufficientPID",
                ("PIDPressure", _) => "NodeHasSufficientPID",
                ("Ready", "True") => "NodeReady",
                _ => return None,
            };
            Some(kubelet_event(
                name,
                event,
                format!("Node {name} status is now: {event}"),
            ))
        })
        .collect()
}

/// What a kubelet records as it starts: `Starting kubelet.` (kubelet.go)
/// and, once its container manager has set up the pods' cgroup,
/// `NodeAllocatableEnforced` (`enforceNodeAllocatableCgroups`).
pub fn start_events(name: &str) -> Vec<EventSpec> {
    vec![
        kubelet_event(name, "Starting", "Starting kubelet.".into()),
        kubelet_event(
            name,
            "NodeAllocatableEnforced",
            "Updated Node Allocatable limit across pods".into(),
        ),
    ]
}

/// What the kubelet of a new node named `name` records before it is Ready:
/// its start, then the status events of the first status it computes for
/// registration (`initialNode` runs the setters against no conditions), the
/// pressure conditions' (Ready comes once the network is up).
pub fn registration_events(name: &str) -> Vec<EventSpec> {
    let mut events = start_events(name);
    events.extend(
        status_events_of(name, &Value::Null, &Value::Null)
            .into_iter()
            .filter(|e| e.reason != "NodeReady"),
    );
    events
}

/// The kubelet's `NodeReady` event for the node named `name`.
pub fn ready_event(name: &str) -> EventSpec {
    kubelet_event(
        name,
        "NodeReady",
        format!("Node {name} status is now: NodeReady"),
    )
}

/// Whether a kubelet that is not stopped is starting again: the node
/// lifecycle controller found it silent and marked its node's Ready
/// condition Unknown. (A kubelet stopped for less than the 40s grace
/// period comes back without these events.)
fn restarting(node: &Value) -> bool {
    super::nodelifecycle::node_condition(node, "Ready")
        .is_some_and(|c| str_of(c, "status") == "Unknown")
}

impl Controller for NodeHeartbeat {
    fn name(&self) -> &'static str {
        "kubelet-heartbeat"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::NODES, LEASES]
    }

    fn keys_for(&self, _snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::NODES || meta::namespace(obj) == LEASE_NAMESPACE {
            vec![ObjectKey::new("", meta::name(obj))]
        } else {
            Vec::new()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(node) = snap.get(res::NODES, "", &key.name) else {
            return Reconciled::none();
        };
        let lease = switches(snap, &key.name);
        if kubelet_stopped(lease) {
            return Reconciled::none();
        }
        let mut actions = Vec::new();
        if restarting(node) {
            actions.extend(start_events(&key.name).into_iter().map(Action::Event));
        }
        let mut requeue_after = Some(RENEW_INTERVAL);
        if !lease.is_null() {
            match until_renewal(lease, RENEW_INTERVAL, now) {
                Some(wait) => requeue_after = Some(wait),
                None => actions.push(Action::Patch {
                    res: LEASES,
                    key: ObjectKey::new(LEASE_NAMESPACE, &key.name),
                    patch: json!({"spec": {"renewTime": format_micro_time(now)}}),
                    status: false,
                }),
            }
        }
        if let Some(next) = last_report(node).and_then(|t| t.checked_add(REPORT_FREQUENCY).ok())
            && next > now
        {
            let wait = next.duration_since(now);
            requeue_after = requeue_after.map(|r| r.min(wait));
        }
        if let Some(conditions) = posted_conditions(node, lease, now) {
            actions.push(Action::Patch {
                res: res::NODES,
                key: key.clone(),
                patch: json!({"status": {"conditions": conditions}}),
                status: true,
            });
            actions.extend(status_events(node, lease).into_iter().map(Action::Event));
        }
        Reconciled {
            actions,
            requeue_after,
        }
    }
}
