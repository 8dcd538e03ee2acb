//! The kubelet's eviction manager (`pkg/kubelet/eviction`) under node
//! pressure. While a node's Lease switch (`kdrill.io/pressure`, see
//! `nodeheartbeat`) says memory or disk is short, its kubelet evicts one pod
//! every `evictionMonitoringPeriod` (10 s), as a hard threshold does
//! (`memory.available<100Mi`, `nodefs.available<10%`: kind's defaults):
//!
//! - ranking (`rankMemoryPressure`, `rankDiskPressureFunc`): pods whose
//!   usage exceeds their request first, then lower priority, then the
//!   larger usage above request. Memory usage is what metrics-server
//!   reports (the workload's declared use, else the request, else 4Mi);
//!   the simulator has no disk usage, so under disk pressure usage is 0.
//! - the pod: phase `Failed`, reason `Evicted`, message from
//!   `evictionMessage` ("The node was low on resource: memory. Threshold
//!   quantity: 100Mi, available: 89600Ki. Container c was using 200Mi,
//!   request is 0, has larger consumption of memory. ", trailing space
//!   included), the `DisruptionTarget` condition (reason
//!   `TerminationByKubelet`, same message), containers killed; a Warning
//!   `Evicted` event from the kubelet with the message.
//! - what `kubectl get pods` shows: its printer puts `status.reason` in
//!   STATUS unless a container status is terminated (or waiting) with a
//!   reason. A real kubelet first writes the eviction status with the
//!   containers as they were (STATUS `Evicted`), then usually reports the
//!   killed containers (`Error` after SIGKILL, `Completed` when the process
//!   exits 0 on SIGTERM, `ContainerStatusUnknown`): kubernetes/kubernetes
//!   issue 105467 lists all four. The simulator keeps the first status
//!   (containers not ready, their state unchanged), the `Evicted` that
//!   drills and learners expect; the kubelet no longer runs them.
//! - exempt: critical pods (`IsCriticalPod`: static and mirror pods,
//!   priority at least `system-cluster-critical`'s 2000000000), as upstream.
//!   Also exempt here, unlike upstream: DaemonSet pods. Upstream evicts
//!   them too, but there the evictions relieve the pressure; the
//!   simulator's pressure stays on until the switch is removed, so an
//!   evicted DaemonSet pod (which tolerates the pressure taint and comes
//!   straight back) would be evicted every 10 s forever.
//!
//! The eviction manager's admission check runs in the kubelet (see
//! `sim::kubelets`): a pod arriving on a node under pressure is rejected
//! (`rejectPod`: Failed, `Evicted`, "Pod was rejected: The node had
//! condition: [MemoryPressure]. ") unless `admission_rejection` admits it.
//!
//! The "available" figure is fixed (7/8 of the threshold): the simulator
//! does not account node memory.

use super::hpa::MetricsSource;
use super::nodeheartbeat::{kubelet_stopped, switches, under_pressure};
use super::nodelifecycle::{LEASE_NAMESPACE, LEASES};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::quantity::{Format, Quantity};
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;

/// `evictionMonitoringPeriod`: at most one pod per period.
pub const MONITORING_PERIOD: SignedDuration = SignedDuration::from_secs(10);
/// `Reason` of an evicted pod and of its event.
pub const REASON: &str = "Evicted";
/// `scheduling.SystemCriticalPriority`.
pub const SYSTEM_CRITICAL_PRIORITY: i64 = 2_000_000_000;
/// kind's hard `memory.available` threshold.
pub const MEMORY_THRESHOLD: i64 = 100 * 1024 * 1024;
/// kind's hard `nodefs.available` threshold, in percent of capacity.
pub const NODEFS_THRESHOLD_PERCENT: i64 = 10;

/// The resource a node is short of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starved {
    Memory,
    Disk,
}

impl Starved {
    /// The resource name in messages (`resourceToReclaim`).
    pub fn resource(self) -> &'static str {
        match self {
            Starved::Memory => "memory",
            Starved::Disk => "ephemeral-storage",
        }
    }
}

/// One container's use against its request, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUse {
    pub name: String,
    pub usage: i64,
    pub request: i64,
}

/// A pod the eviction manager may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub key: ObjectKey,
    pub priority: i64,
    pub containers: Vec<ContainerUse>,
}

impl Candidate {
    fn usage(&self) -> i64 {
        self.containers.iter().map(|c| c.usage).sum()
    }
    fn request(&self) -> i64 {
        self.containers.iter().map(|c| c.request).sum()
    }
    fn exceeds(&self) -> bool {
        self.usage() > self.request()
    }
}

/// `rankMemoryPressure` / `rankDiskPressureFunc`: exceeding requests
/// first, then lower priority, then more usage above request (ties by
/// namespace and name, for a deterministic simulator).
pub fn rank(pods: &mut [Candidate]) {
    pods.sort_by(|a, b| {
        b.exceeds()
            .cmp(&a.exceeds())
            .then(a.priority.cmp(&b.priority))
            .then((b.usage() - b.request()).cmp(&(a.usage() - a.request())))
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// A byte count as `resource.NewQuantity(n, BinarySI).String()`.
pub fn bytes(n: i64) -> String {
    Quantity::from_units(n, Format::BinarySI).canonical()
}

/// `evictionMessage`: the node line, the threshold line, and one line per
/// container using more than it requested.
pub fn eviction_message(
    starved: Starved,
    threshold: i64,
    available: i64,
    containers: &[ContainerUse],
) -> String {
    let resource = starved.resource();
    let mut m = format!(
        "The node was low on resource: {resource}. Threshold quantity: {}, available: {}. ",
        bytes(threshold),
        bytes(available)
    );
    for c in containers.iter().filter(|c| c.usage > c.request) {
        m.push_str(&format!(
            "Container {} was using {}, request is {}, has larger consumption of {resource}. ",
            c.name,
            bytes(c.usage),
            bytes(c.request)
        ));
    }
    m
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.at(p).and_then(Value::as_str).unwrap_or("")
}

/// The pod's priority: `spec.priority`, else that of the built-in class it
/// names.
pub fn priority(pod: &Value) -> i64 {
    if let Some(p) = pod.get_in(&["spec", "priority"]).and_then(Value::as_i64) {
        return p;
    }
    match str_at(pod, "/spec/priorityClassName") {
        "system-node-critical" => SYSTEM_CRITICAL_PRIORITY + 1000,
        "system-cluster-critical" => SYSTEM_CRITICAL_PRIORITY,
        _ => 0,
    }
}

/// `kubelettypes.IsCriticalPod` (static, mirror, or system-critical
/// priority), plus the simulator's DaemonSet exemption (module docs).
pub fn exempt(pod: &Value) -> bool {
    let daemon = meta::owner_references(pod).iter().any(|o| {
        o.get("kind").and_then(Value::as_str) == Some("DaemonSet")
            && o.get("controller").and_then(Value::as_bool) == Some(true)
    });
    critical(pod) || daemon
}

/// `kubelettypes.IsCriticalPod`: static, mirror, or system-critical
/// priority.
pub fn critical(pod: &Value) -> bool {
    let annotations = pod.get_in(&["metadata", "annotations"]);
    let ann = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_str);
    let is_static = ann("kubernetes.io/config.source").is_some_and(|s| s != "api");
    let is_mirror = ann("kubernetes.io/config.mirror").is_some();
    is_static || is_mirror || priority(pod) >= SYSTEM_CRITICAL_PRIORITY
}

fn quantity_bytes(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_str)
        .and_then(|q| Quantity::parse(q).ok())
        .map_or(0, |q| q.value())
}

/// The containers of `pod` with their use (`usage` by name; 0 when
/// unknown) and their request of the starved resource.
pub fn container_uses(pod: &Value, starved: Starved, usage: &[(String, i64)]) -> Vec<ContainerUse> {
    pod.get_in(&["spec", "containers"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let name = str_at(c, "/name").to_string();
            ContainerUse {
                usage: usage
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(0, |(_, u)| *u),
                request: quantity_bytes(
                    c.get_in(&["resources", "requests"])
                        .and_then(|r| r.get(starved.resource())),
                ),
                name,
            }
        })
        .collect()
}

/// The status patch of an evicted pod (`killPodFunc` with the eviction's
/// status function): Failed, Evicted, the message, `DisruptionTarget`,
/// not ready. The container states stay as they were (module docs).
pub fn evicted_status(pod: &Value, message: &str, now: Timestamp) -> Value {
    let stamp = format_time(now);
    let mut conditions: Vec<Value> = pod
        .get_in(&["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    conditions.retain(|c| str_at(c, "/type") != "DisruptionTarget");
    for c in conditions.iter_mut() {
        let ty = str_at(c, "/type").to_string();
        if matches!(
            ty.as_str(),
            "PodReadyToStartContainers" | "Ready" | "ContainersReady"
        ) && str_at(c, "/status") != "False"
        {
            c["status"] = json!("False");
            c["lastTransitionTime"] = json!(stamp);
            if ty != "PodReadyToStartContainers" {
                c["reason"] = json!("PodCompleted");
            }
        }
    }
    conditions.push(
        json!({"type": "DisruptionTarget", "status": "True", "lastProbeTime": null,
        "lastTransitionTime": stamp, "reason": "TerminationByKubelet", "message": message}),
    );
    let unready = |list: Option<&Value>| -> Vec<Value> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|cs| {
                let mut cs = cs.clone();
                cs["ready"] = json!(false);
                cs["started"] = json!(false);
                cs
            })
            .collect()
    };
    json!({"status": {
        "phase": "Failed",
        "reason": REASON,
        "message": message,
        "conditions": conditions,
        "containerStatuses": unready(pod.get_in(&["status", "containerStatuses"])),
    }})
}

/// The pressure conditions the Lease switches give the node, in the
/// eviction manager's order (`m.nodeConditions`).
pub fn pressure_conditions(lease: &Value) -> Vec<&'static str> {
    [
        ("memory", "MemoryPressure"),
        ("disk", "DiskPressure"),
        ("pid", "PIDPressure"),
    ]
    .into_iter()
    .filter(|(what, _)| under_pressure(lease, what))
    .map(|(_, c)| c)
    .collect()
}

/// The eviction manager's `Admit` for a pod arriving on a node with
/// `conditions`: None to admit, else the rejection message ("The node had
/// condition: [MemoryPressure]. "). Critical pods are admitted; under
/// memory pressure alone, pods that are not BestEffort, and BestEffort
/// pods tolerating the `memory-pressure:NoSchedule` taint. DaemonSet pods
/// are admitted too (unlike upstream, where a DaemonSet pod rejected under
/// disk pressure is deleted and recreated with the DaemonSet controller's
/// failed-pod backoff, which the simulator's controller does not have).
pub fn admission_rejection(pod: &Value, conditions: &[&str]) -> Option<String> {
    if conditions.is_empty() || exempt(pod) {
        return None;
    }
    if conditions == ["MemoryPressure"] {
        if str_at(pod, "/status/qosClass") != "BestEffort" {
            return None;
        }
        let taint = json!({"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"});
        let tolerations = pod
            .get_in(&["spec", "tolerations"])
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if super::scheduler::tolerates(tolerations, &taint) {
            return None;
        }
    }
    Some(format!(
        "The node had condition: [{}]. ",
        conditions.join(" ")
    ))
}

/// The status `rejectPod` writes: Failed, `Evicted`, "Pod was rejected:
/// " and the message, the QoS class; conditions the kubelet does not own
/// (`PodScheduled`) stay.
pub fn rejected_status(pod: &Value, message: &str) -> Value {
    let kept: Vec<Value> = pod
        .get_in(&["status", "conditions"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| {
            !matches!(
                str_at(c, "/type"),
                "PodReadyToStartContainers" | "Initialized" | "Ready" | "ContainersReady"
            )
        })
        .cloned()
        .collect();
    let mut status = json!({
        "phase": "Failed",
        "reason": REASON,
        "message": format!("Pod was rejected: {message}"),
        "qosClass": str_at(pod, "/status/qosClass"),
    });
    if !kept.is_empty() {
        status["conditions"] = json!(kept);
    }
    status
}

/// Whether the kubelet evicted `pod` (it then only waits for deletion).
pub fn is_evicted(pod: &Value) -> bool {
    str_at(pod, "/status/phase") == "Failed" && str_at(pod, "/status/reason") == REASON
}

/// When the kubelet of `node` last evicted a pod still in the snapshot.
fn last_eviction(snap: &Snapshot, node: &str) -> Option<Timestamp> {
    snap.list(res::PODS, None)
        .filter(|p| str_at(p, "/spec/nodeName") == node && is_evicted(p))
        .filter_map(|p| {
            super::podutil::condition(p, "DisruptionTarget")
                .and_then(|c| super::podutil::parse_time(c.get("lastTransitionTime")))
        })
        .max()
}

/// The eviction manager of every node's kubelet.
pub struct EvictionManager {
    pub metrics: Arc<dyn MetricsSource>,
}

impl EvictionManager {
    fn usage(&self, pod: &Value, starved: Starved) -> Vec<(String, i64)> {
        if starved != Starved::Memory {
            return Vec::new();
        }
        self.metrics
            .pod_usage(meta::namespace(pod), meta::name(pod))
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.name, i64::try_from(m.memory_bytes).unwrap_or(i64::MAX)))
            .collect()
    }
}

/// The starved resource and the threshold and available bytes the
/// message shows.
fn signal(lease: &Value, node: &Value) -> Option<(Starved, i64, i64)> {
    if under_pressure(lease, "memory") {
        return Some((Starved::Memory, MEMORY_THRESHOLD, MEMORY_THRESHOLD / 8 * 7));
    }
    if under_pressure(lease, "disk") {
        let capacity = quantity_bytes(node.get_in(&["status", "capacity", "ephemeral-storage"]));
        let threshold = capacity / 100 * NODEFS_THRESHOLD_PERCENT;
        return Some((Starved::Disk, threshold, threshold / 8 * 7));
    }
    None
}

impl Controller for EvictionManager {
    fn name(&self) -> &'static str {
        "kubelet-eviction-manager"
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
        let lease = switches(snap, &key.name);
        if kubelet_stopped(lease) {
            return Reconciled::none();
        }
        let Some((starved, threshold, available)) = signal(lease, node) else {
            return Reconciled::none();
        };
        if let Some(next) =
            last_eviction(snap, &key.name).and_then(|t| t.checked_add(MONITORING_PERIOD).ok())
            && next > now
        {
            return Reconciled {
                actions: Vec::new(),
                requeue_after: Some(next.duration_since(now)),
            };
        }
        let mut candidates: Vec<(Candidate, &Arc<Value>)> = snap
            .list(res::PODS, None)
            .filter(|p| str_at(p, "/spec/nodeName") == key.name)
            .filter(|p| super::podutil::is_active(p) && !exempt(p))
            .map(|p| {
                let usage = self.usage(p, starved);
                (
                    Candidate {
                        key: ObjectKey::of(p),
                        priority: priority(p),
                        containers: container_uses(p, starved, &usage),
                    },
                    p,
                )
            })
            .collect();
        let mut ranked: Vec<Candidate> = candidates.iter().map(|(c, _)| c.clone()).collect();
        rank(&mut ranked);
        let mut actions = Vec::new();
        if let Some(first) = ranked.first()
            && let Some(i) = candidates.iter().position(|(c, _)| c.key == first.key)
        {
            let (cand, pod) = candidates.swap_remove(i);
            let message = eviction_message(starved, threshold, available, &cand.containers);
            actions.push(Action::Event(EventSpec {
                involved: ObjectRef {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    namespace: cand.key.namespace.clone(),
                    name: cand.key.name.clone(),
                    uid: meta::uid(pod).to_string(),
                    field_path: None,
                },
                type_: EventType::Warning,
                reason: REASON.into(),
                message: message.clone(),
                component: "kubelet".into(),
                host: Some(key.name.clone()),
            }));
            actions.push(Action::Patch {
                res: res::PODS,
                key: cand.key,
                patch: evicted_status(pod, &message, now),
                status: true,
            });
        }
        Reconciled {
            actions,
            requeue_after: Some(MONITORING_PERIOD),
        }
    }
}

#[cfg(test)]
mod tests;
