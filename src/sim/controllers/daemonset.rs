//! The DaemonSet controller (`pkg/controller/daemon` upstream): one pod per
//! eligible node.
//!
//! A node is eligible (`NodeShouldRunDaemonPod`) when the pod, with the
//! tolerations upstream adds to every daemon pod
//! (`AddOrUpdateDaemonPodTolerations`: not-ready and unreachable NoExecute;
//! disk-pressure, memory-pressure, pid-pressure and unschedulable
//! NoSchedule; network-unavailable NoSchedule for hostNetwork pods),
//! tolerates the node's NoSchedule and NoExecute taints and matches its
//! nodeSelector and required node affinity. A pod already on a node with an
//! untolerated NoSchedule taint keeps running; an untolerated NoExecute
//! taint or a selector that no longer matches removes it.
//!
//! Pods are named `<ds>-<5 random chars>`, labelled
//! `controller-revision-hash` (the template hash, also the suffix of the
//! ControllerRevision `<ds>-<hash>`) and `pod-template-generation`, and are
//! pinned with a required node affinity
//! `matchFields: metadata.name In [<node>]` that replaces the template's
//! required terms (`ReplaceDaemonSetPodNodeNameNodeAffinity`); the
//! scheduler then binds them. RollingUpdate replaces old pods within
//! `maxUnavailable` (default 1); OnDelete leaves them.
//!
//! Events use upstream's wording: `SuccessfulCreate` "Created pod:
//! fluentd-x2k4z", `SuccessfulDelete` "Deleted pod: ...", `FailedCreate`
//! "Error creating: ...", and `FailedDaemonPod` "Found failed daemon pod
//! default/x on node n, will try to kill it".

use super::history::{self, REVISION_LABEL, res as hres};
use super::podutil::{self, int_at};
use super::replicaset::status_patch;
use super::scheduler::{PodTerms, required_node_terms, tolerates};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_key, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

const COMPONENT: &str = "daemonset-controller";
/// The deprecated generation label upstream still sets on daemon pods.
pub const GENERATION_LABEL: &str = "pod-template-generation";

/// The controller.
#[derive(Default)]
pub struct DaemonSetController {
    /// Each node's labels and taints as last seen. As upstream's
    /// `updateNode` (`shouldIgnoreNodeUpdate`), a node write that changes
    /// neither (a status post, a heartbeat, a new image) reconciles no
    /// DaemonSet: each such sync walks every node, and a cluster's nodes
    /// post status all the time.
    nodes: Mutex<HashMap<String, (Value, Value)>>,
}

fn event(ds: &Value, type_: EventType, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(ds),
        type_,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    }
}

/// Adds upstream's automatic daemon-pod tolerations to a pod spec.
pub fn add_daemon_tolerations(spec: &mut Map<String, Value>) {
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let mut wanted = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        wanted.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    let mut tolerations: Vec<Value> = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (key, effect) in wanted {
        let t = json!({"key": key, "operator": "Exists", "effect": effect});
        let same = |x: &Value| {
            x.get("key") == t.get("key")
                && x.get("effect") == t.get("effect")
                && x.get("operator").and_then(Value::as_str).unwrap_or("Equal") == "Exists"
                && x.get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
        };
        match tolerations.iter_mut().find(|x| same(x)) {
            Some(x) => *x = t,
            None => tolerations.push(t),
        }
    }
    spec.insert("tolerations".into(), json!(tolerations));
}

/// The pod for `node` (`NewPod` plus the controller's labels and the
/// node-name affinity).
pub fn new_pod(ds: &Value, node: &str, hash: &str) -> Value {
    let tmpl = ds
        .get_in(&["spec", "template"])
        .cloned()
        .unwrap_or(json!({}));
    let mut labels = history::template_labels(ds);
    labels.insert(REVISION_LABEL.into(), json!(hash));
    labels.insert(
        GENERATION_LABEL.into(),
        json!(int_at(ds, "/metadata/generation", 1).to_string()),
    );
    let mut md = Map::new();
    md.insert("generateName".into(), json!(format!("{}-", meta::name(ds))));
    md.insert("namespace".into(), json!(meta::namespace(ds)));
    md.insert("labels".into(), Value::Object(labels));
    if let Some(a) = tmpl.get_in(&["metadata", "annotations"]) {
        md.insert("annotations".into(), a.clone());
    }
    md.insert(
        "ownerReferences".into(),
        json!([history::owner_ref(ds, "DaemonSet")]),
    );
    let mut spec = tmpl
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    add_daemon_tolerations(&mut spec);
    let mut affinity = spec
        .get("affinity")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut node_affinity = affinity
        .get("nodeAffinity")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    node_affinity.insert(
        "requiredDuringSchedulingIgnoredDuringExecution".into(),
        json!({"nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": [node]}
        ]}]}),
    );
    affinity.insert("nodeAffinity".into(), Value::Object(node_affinity));
    spec.insert("affinity".into(), Value::Object(affinity));
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec})
}

/// The node a daemon pod is for: its `nodeName`, else the node its
/// affinity pins (`GetTargetNodeName`).
pub fn target_node(pod: &Value) -> Option<&str> {
    if let Some(n) = pod
        .get_in(&["spec", "nodeName"])
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        return Some(n);
    }
    required_node_terms(pod)?.iter().find_map(|t| {
        t.get("matchFields")
            .and_then(Value::as_array)?
            .iter()
            .find(|f| {
                f.get("key").and_then(Value::as_str) == Some("metadata.name")
                    && f.get("operator").and_then(Value::as_str) == Some("In")
            })?
            .at("/values/0")
            .and_then(Value::as_str)
    })
}

/// `NodeShouldRunDaemonPod`: (should run, should continue running).
pub fn should_run(ds: &Value, node: &Value) -> (bool, bool) {
    let daemon = DaemonPod::of(ds);
    daemon.should_run(&daemon.terms(), node)
}

/// A DaemonSet's pod as `NodeShouldRunDaemonPod` checks it against each
/// node: the template's spec with the daemon tolerations added, built once
/// per sync rather than once per node.
struct DaemonPod {
    pod: Value,
    tolerations: Vec<Value>,
}

impl DaemonPod {
    fn of(ds: &Value) -> Self {
        let mut pod =
            json!({"spec": ds.get_in(&["spec", "template", "spec"]).cloned().unwrap_or(json!({}))});
        if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            add_daemon_tolerations(spec);
        }
        let tolerations = pod
            .get_in(&["spec", "tolerations"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Self { pod, tolerations }
    }

    /// What the scheduler's node-affinity check reads from the pod, looked
    /// up once per sync rather than once per node.
    fn terms(&self) -> PodTerms<'_> {
        PodTerms::of(&self.pod)
    }

    /// (should run, should continue running) on `node`; `terms` are this
    /// pod's ([`DaemonPod::terms`]).
    fn should_run(&self, terms: &PodTerms<'_>, node: &Value) -> (bool, bool) {
        let node_name = self
            .pod
            .get_in(&["spec", "nodeName"])
            .and_then(Value::as_str)
            .unwrap_or("");
        if !node_name.is_empty() && node_name != meta::name(node) {
            return (false, false);
        }
        if !terms.matches_node(node) {
            return (false, false);
        }
        let taints = node
            .get_in(&["spec", "taints"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let untolerated = |effect: &str| {
            taints.iter().any(|t| {
                t.get("effect").and_then(Value::as_str) == Some(effect)
                    && !tolerates(&self.tolerations, t)
            })
        };
        if untolerated("NoExecute") {
            return (false, false);
        }
        if untolerated("NoSchedule") {
            return (false, true);
        }
        (true, true)
    }
}

fn pod_hash(p: &Value) -> &str {
    meta::labels(p)
        .and_then(|l| l.get(REVISION_LABEL))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `maxUnavailable` of a RollingUpdate, scaled against `desired` (rounded
/// up for percentages, at least 1 when both budgets are 0 is left to
/// validation).
fn max_unavailable(ds: &Value, desired: i64) -> i64 {
    match ds.get_in(&["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(1),
        Some(Value::String(s)) => s
            .strip_suffix('%')
            .and_then(|p| p.parse::<i64>().ok())
            .map_or(1, |p| (p * desired + 99) / 100),
        _ => 1,
    }
}

impl Controller for DaemonSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            hres::DAEMONSETS,
            res::PODS,
            res::NODES,
            hres::CONTROLLERREVISIONS,
        ]
    }

    fn keys_for_change(
        &self,
        snap: &Snapshot,
        r: ResKey,
        obj: &Value,
        deleted: bool,
    ) -> Vec<ObjectKey> {
        if r == res::NODES {
            let placement = |field: &[&str]| obj.get_in(field).cloned().unwrap_or(Value::Null);
            let facts = (
                placement(&["metadata", "labels"]),
                placement(&["spec", "taints"]),
            );
            let mut seen = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
            if deleted {
                seen.remove(meta::name(obj));
            } else if seen.get(meta::name(obj)) == Some(&facts) {
                return Vec::new();
            } else {
                seen.insert(meta::name(obj).to_string(), facts);
            }
        }
        self.keys_for(snap, r, obj)
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == hres::DAEMONSETS {
            return vec![ObjectKey::of(obj)];
        }
        if r == res::NODES {
            return snap
                .list(hres::DAEMONSETS, None)
                .map(|d| ObjectKey::of(d))
                .collect();
        }
        // With no DaemonSet held, an owner's reconcile would find none.
        if !snap.holds_any(hres::DAEMONSETS) {
            return Vec::new();
        }
        controller_key(obj, "DaemonSet")
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(ds) = snap.get(hres::DAEMONSETS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let ds: &Value = ds;
        let mut actions = Vec::new();
        let hash = history::template_hash(ds);
        let rev_name = format!("{}-{hash}", meta::name(ds));
        let revisions = history::owned(snap, ds);
        if !meta::is_deleting(ds) && !revisions.iter().any(|r| meta::name(r) == rev_name) {
            let next = revisions.last().map_or(0, |r| history::number(r)) + 1;
            let mut labels = history::template_labels(ds);
            labels.insert(REVISION_LABEL.into(), json!(hash));
            actions.push(Action::Create {
                res: hres::CONTROLLERREVISIONS,
                namespace: key.namespace.clone(),
                object: history::new_revision(ds, "DaemonSet", &rev_name, labels, next),
                on_created: None,
                on_failed: None,
            });
        }
        // Pods by target node (terminating ones only block a replacement).
        let mut by_node: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for p in snap.owned_by(res::PODS, &key.namespace, meta::uid(ds)) {
            if let Some(n) = target_node(p) {
                by_node.entry(n).or_default().push(p);
            }
        }
        for pods in by_node.values_mut() {
            pods.sort_by(|a, b| {
                podutil::created(a)
                    .cmp(&podutil::created(b))
                    .then(meta::name(a).cmp(meta::name(b)))
            });
        }
        let min_ready = int_at(ds, "/spec/minReadySeconds", 0);
        let rolling = ds
            .get_in(&["spec", "updateStrategy", "type"])
            .and_then(Value::as_str)
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        let deleting = meta::is_deleting(ds);
        let delete = |p: &Value| Action::Delete {
            res: res::PODS,
            key: ObjectKey::of(p),
            uid: meta::uid(p).to_string(),
            on_deleted: Some(event(
                ds,
                EventType::Normal,
                "SuccessfulDelete",
                format!("Deleted pod: {}", meta::name(p)),
            )),
        };
        let (mut desired, mut current, mut misscheduled) = (0i64, 0i64, 0i64);
        let (mut ready, mut available, mut updated) = (0i64, 0i64, 0i64);
        // Old pods on eligible nodes, for the rolling update: (pod, available).
        let mut old: Vec<(&Value, bool)> = Vec::new();
        let mut unavailable_nodes = 0i64;
        let empty = Vec::new();
        let daemon_pod = DaemonPod::of(ds);
        let daemon_terms = daemon_pod.terms();
        for node in snap.list(res::NODES, None) {
            let node_name = meta::name(node);
            let (run, keep) = daemon_pod.should_run(&daemon_terms, node);
            let pods = by_node.get(node_name).unwrap_or(&empty);
            // Walked where needed, not collected: a sync visits every node.
            let live = || pods.iter().copied().filter(|p| !meta::is_deleting(p));
            if run {
                desired += 1;
            }
            if !pods.iter().any(|p| podutil::is_active(p)) {
                if !run {
                    // Finished pods on a node that should not run one.
                    for p in live() {
                        if !deleting {
                            actions.push(delete(p));
                        }
                    }
                }
            } else if run {
                current += 1;
            } else {
                misscheduled += 1;
            }
            if deleting {
                continue;
            }
            if run {
                for p in live().filter(|p| podutil::phase(p) == "Failed") {
                    actions.push(Action::Event(event(
                        ds,
                        EventType::Warning,
                        "FailedDaemonPod",
                        format!(
                            "Found failed daemon pod {}/{} on node {node_name}, will try to kill it",
                            key.namespace,
                            meta::name(p)
                        ),
                    )));
                    actions.push(delete(p));
                }
                let mut running =
                    live().filter(|p| !matches!(podutil::phase(p), "Failed" | "Succeeded"));
                let Some(p) = running.next() else {
                    let any_terminating = pods.iter().any(|p| meta::is_deleting(p));
                    if !any_terminating {
                        actions.push(Action::Create {
                            res: res::PODS,
                            namespace: key.namespace.clone(),
                            object: new_pod(ds, node_name, &hash),
                            on_created: Some(event(
                                ds,
                                EventType::Normal,
                                "SuccessfulCreate",
                                "Created pod: ".into(),
                            )),
                            on_failed: Some(event(
                                ds,
                                EventType::Warning,
                                "FailedCreate",
                                "Error creating: ".into(),
                            )),
                        });
                    }
                    unavailable_nodes += 1;
                    continue;
                };
                // Keep the oldest; delete the extras.
                for extra in running {
                    actions.push(delete(extra));
                }
                let is_available = podutil::is_available(p, min_ready, now);
                if podutil::is_ready(p) {
                    ready += 1;
                }
                if is_available {
                    available += 1;
                } else {
                    unavailable_nodes += 1;
                }
                if pod_hash(p) == hash {
                    updated += 1;
                } else {
                    old.push((p, is_available));
                }
            } else if !keep {
                for p in live() {
                    actions.push(delete(p));
                }
            }
        }
        if rolling && !deleting {
            let budget = max_unavailable(ds, desired);
            // Unavailable old pods go at once; available ones within the budget.
            let mut unavailable = unavailable_nodes;
            for (p, avail) in &old {
                if !avail {
                    actions.push(delete(p));
                }
            }
            for (p, avail) in &old {
                if *avail && unavailable < budget {
                    actions.push(delete(p));
                    unavailable += 1;
                }
            }
        }
        // Status.
        let mut status = ds
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        status.insert("desiredNumberScheduled".into(), json!(desired));
        status.insert("currentNumberScheduled".into(), json!(current));
        status.insert("numberMisscheduled".into(), json!(misscheduled));
        status.insert("numberReady".into(), json!(ready));
        let mut set = |k: &str, v: i64| {
            if v == 0 {
                status.remove(k);
            } else {
                status.insert(k.into(), json!(v));
            }
        };
        set("numberAvailable", available);
        set("numberUnavailable", desired - available);
        set("updatedNumberScheduled", updated);
        set("observedGeneration", int_at(ds, "/metadata/generation", 0));
        if let Some(patch) = status_patch(ds.get("status"), &Value::Object(status)) {
            actions.push(Action::Patch {
                res: hres::DAEMONSETS,
                key: key.clone(),
                patch,
                status: true,
            });
        }
        let requeue_after =
            (min_ready > 0 && ready > available).then(|| SignedDuration::from_secs(min_ready));
        Reconciled {
            actions,
            requeue_after,
        }
    }
}

#[cfg(test)]
mod tests;
