//! The ReplicaSet controller (`pkg/controller/replicaset` upstream): keeps
//! `spec.replicas` active pods stamped from the template, and reports
//! `status` (replicas, fullyLabeledReplicas, readyReplicas,
//! availableReplicas, observedGeneration).
//!
//! Pods are named `<rs>-<5 random chars>` (generateName) and carry a
//! controller ownerReference. Events use upstream's wording:
//! `SuccessfulCreate` "Created pod: web-7d4b9c-x2k4z", `SuccessfulDelete`
//! "Deleted pod: ...", and `FailedCreate` "Error creating: <apiserver
//! message>" when admission or quota refuses a pod.

use super::podutil::{self, int_at};
use crate::api::meta;
use crate::api::object::{object, text};
use crate::api::pointer::Pointer;
use crate::api::selector::LabelSelector;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_key, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use std::cmp::Ordering;

/// Upstream's `BurstReplicas`: the most pods created or deleted per sync.
const BURST_REPLICAS: usize = 500;
const COMPONENT: &str = "replicaset-controller";

/// The controller.
pub struct ReplicaSetController;

fn event(rs: &Value, type_: EventType, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(rs),
        type_,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    }
}

/// A pod stamped from the template (`controller.GetPodFromTemplate`).
pub fn pod_from_template(rs: &Value) -> Value {
    let tmpl = rs.get_in(&["spec", "template"]);
    let tmpl_meta = |f: &str| tmpl.and_then(|t| t.get("metadata")).and_then(|m| m.get(f));
    let owner = object([
        ("apiVersion", Some(text("apps/v1"))),
        ("blockOwnerDeletion", Some(Value::Bool(true))),
        ("controller", Some(Value::Bool(true))),
        ("kind", Some(text("ReplicaSet"))),
        ("name", Some(text(meta::name(rs)))),
        ("uid", Some(text(meta::uid(rs)))),
    ]);
    let md = object([
        ("annotations", tmpl_meta("annotations").cloned()),
        (
            "generateName",
            Some(Value::String(format!("{}-", meta::name(rs)))),
        ),
        ("labels", tmpl_meta("labels").cloned()),
        ("namespace", Some(text(meta::namespace(rs)))),
        ("ownerReferences", Some(Value::Array(vec![owner]))),
    ]);
    // Built in place: `json!` would copy the template through the
    // serializer (a clone of it shares its maps).
    object([
        ("apiVersion", Some(text("v1"))),
        ("kind", Some(text("Pod"))),
        ("metadata", Some(md)),
        (
            "spec",
            Some(
                tmpl.and_then(|t| t.get("spec"))
                    .cloned()
                    .unwrap_or_else(|| object([])),
            ),
        ),
    ])
}

/// Rank of a pod for deletion (`controller.ActivePods` less-than): pods
/// that are cheaper to lose sort first.
fn deletion_order(a: &Value, b: &Value) -> Ordering {
    let unassigned = |p: &Value| {
        p.get_in(&["spec", "nodeName"])
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    };
    let phase_rank = |p: &Value| match podutil::phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    };
    let restarts = |p: &Value| {
        p.get_in(&["status", "containerStatuses"])
            .and_then(Value::as_array)
            .map_or(0, |cs| {
                cs.iter()
                    .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                    .max()
                    .unwrap_or(0)
            })
    };
    unassigned(b)
        .cmp(&unassigned(a))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(podutil::is_ready(a).cmp(&podutil::is_ready(b)))
        // Recently ready before long ready.
        .then(podutil::ready_since(b).cmp(&podutil::ready_since(a)))
        .then(restarts(b).cmp(&restarts(a)))
        // Newer before older.
        .then(podutil::created(b).cmp(&podutil::created(a)))
        .then(meta::name(a).cmp(meta::name(b)))
}

/// The pod totals `calculateStatus` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    active: usize,
    fully_labeled: usize,
    ready: usize,
    available: usize,
}

/// The RS template's labels as a selector (`fullyLabeledReplicas`).
fn template_selector(rs: &Value) -> LabelSelector {
    LabelSelector {
        requirements: rs
            .get_in(&["spec", "template", "metadata", "labels"])
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .map(|(k, v)| crate::api::selector::Requirement {
                        key: k.clone(),
                        op: crate::api::selector::Op::Equals,
                        values: vec![v.as_str().unwrap_or("").to_string()],
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Counts the RS's active pods. With `minReadySeconds` 0 a ready pod is
/// available, and the snapshot's running totals answer without a scan;
/// otherwise availability depends on `now` and each pod is looked at.
fn count_pods(snap: &Snapshot, rs: &Value, now: Timestamp) -> Counts {
    let template_labels = template_selector(rs);
    let min_ready = int_at(rs, "/spec/minReadySeconds", 0);
    let ns = meta::namespace(rs);
    if min_ready <= 0 {
        let totals = snap.owned_pod_counts(ns, meta::uid(rs));
        let fully_labeled = totals.count_labels(|l| template_labels.matches(l.as_object()));
        return Counts {
            active: totals.active,
            fully_labeled,
            ready: totals.ready,
            available: totals.ready,
        };
    }
    let active: Vec<&Value> = snap
        .owned_by(res::PODS, ns, meta::uid(rs))
        .map(|p| &**p)
        .filter(|p| podutil::is_active(p))
        .collect();
    Counts {
        active: active.len(),
        fully_labeled: active
            .iter()
            .filter(|p| template_labels.matches(meta::labels(p)))
            .count(),
        ready: active.iter().filter(|p| podutil::is_ready(p)).count(),
        available: active
            .iter()
            .filter(|p| podutil::is_available(p, min_ready, now))
            .count(),
    }
}

/// `calculateStatus` of replica_set_utils.go, as the JSON fields it sets.
fn calculate_status(rs: &Value, c: Counts) -> (Value, bool) {
    let mut status = rs
        .get("status")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    status.insert("replicas".into(), json!(c.active));
    let mut set = |k: &str, v: i64| {
        if v == 0 {
            status.remove(k);
        } else {
            status.insert(k.into(), json!(v));
        }
    };
    set("fullyLabeledReplicas", c.fully_labeled as i64);
    set("readyReplicas", c.ready as i64);
    set("availableReplicas", c.available as i64);
    set("observedGeneration", int_at(rs, "/metadata/generation", 0));
    (Value::Object(status), c.ready > c.available)
}

/// `calculateStatus`'s ReplicaFailure handling: a refused create adds the
/// condition (reason `FailedCreate`, the apiserver's message) when none is
/// there; a sync without a refusal removes it.
fn replica_failure(status: &mut Value, refusal: Option<&str>, now: Timestamp) {
    let Some(map) = status.as_object_mut() else {
        return;
    };
    let mut conds: Vec<Value> = map
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let present = conds.iter().any(|c| c["type"] == "ReplicaFailure");
    match refusal {
        Some(message) if !present => conds.push(json!({
            "type": "ReplicaFailure",
            "status": "True",
            "lastTransitionTime": crate::sim::clock::format_time(now),
            "reason": "FailedCreate",
            "message": message,
        })),
        None if present => conds.retain(|c| c["type"] != "ReplicaFailure"),
        _ => return,
    }
    if conds.is_empty() {
        map.remove("conditions");
    } else {
        map.insert("conditions".into(), Value::Array(conds));
    }
}

/// A merge patch turning `old` into `new` at the top level of `status`.
pub fn status_patch(old: Option<&Value>, new: &Value) -> Option<Value> {
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new_map = new.as_object()?;
    let mut patch = Map::new();
    for (k, v) in new_map {
        if old.get(k) != Some(v) {
            patch.insert(k.clone(), v.clone());
        }
    }
    for k in old.keys() {
        if !new_map.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        }
    }
    (!patch.is_empty()).then(|| json!({"status": patch}))
}

impl Controller for ReplicaSetController {
    /// Its status patch changes nothing its next reconcile reads to decide
    /// (upstream's own update handler requeues it for a no-op sync).
    fn settles_own_writes(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "replicaset-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::REPLICASETS, res::PODS]
    }

    fn keys_for(&self, _snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::REPLICASETS {
            return vec![ObjectKey::of(obj)];
        }
        controller_key(obj, "ReplicaSet")
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(rs) = snap.get(res::REPLICASETS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let mut actions = Vec::new();
        let counts = count_pods(snap, rs, now);
        let want = usize::try_from(int_at(rs, "/spec/replicas", 1)).unwrap_or(0);
        if !meta::is_deleting(rs) {
            if counts.active < want {
                let n = (want - counts.active).min(BURST_REPLICAS);
                for _ in 0..n {
                    actions.push(Action::Create {
                        res: res::PODS,
                        namespace: key.namespace.clone(),
                        object: pod_from_template(rs),
                        on_created: Some(event(
                            rs,
                            EventType::Normal,
                            "SuccessfulCreate",
                            "Created pod: ".into(),
                        )),
                        on_failed: Some(event(
                            rs,
                            EventType::Warning,
                            "FailedCreate",
                            "Error creating: ".into(),
                        )),
                    });
                }
            } else if counts.active > want {
                let n = (counts.active - want).min(BURST_REPLICAS);
                let mut ranked: Vec<&Value> = snap
                    .owned_by(res::PODS, &key.namespace, meta::uid(rs))
                    .map(|p| &**p)
                    .filter(|p| podutil::is_active(p))
                    .collect();
                ranked.sort_by(|a, b| deletion_order(a, b));
                for p in ranked.into_iter().take(n) {
                    actions.push(Action::Delete {
                        res: res::PODS,
                        key: ObjectKey::of(p),
                        uid: meta::uid(p).to_string(),
                        on_deleted: Some(event(
                            rs,
                            EventType::Normal,
                            "SuccessfulDelete",
                            format!("Deleted pod: {}", meta::name(p)),
                        )),
                    });
                }
            }
        }
        let short = counts.active < want;
        let (mut status, waiting_for_min_ready) = calculate_status(rs, counts);
        replica_failure(
            &mut status,
            snap.create_failure(&key.namespace, meta::uid(rs))
                .filter(|_| short && !meta::is_deleting(rs)),
            now,
        );
        if let Some(patch) = status_patch(rs.get("status"), &status) {
            actions.push(Action::Patch {
                res: res::REPLICASETS,
                key: key.clone(),
                patch,
                status: true,
            });
        }
        // Ready pods become available once minReadySeconds have passed.
        let requeue_after = waiting_for_min_ready
            .then(|| SignedDuration::from_secs(int_at(rs, "/spec/minReadySeconds", 0).max(1)));
        Reconciled {
            actions,
            requeue_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testutil::{reasons, settle, t0};
    use crate::sim::snapshot::Snapshot;

    fn rs(replicas: i64) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-7d4b9c", "namespace": "default", "uid": "rs-uid", "generation": 2, "resourceVersion": "10"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
            "status": {"replicas": 0},
        })
    }

    fn pod(name: &str, node: &str, ready: bool) -> Value {
        let mut p = pod_from_template(&rs(1));
        p["metadata"]["name"] = json!(name);
        p["metadata"]["uid"] = json!(format!("uid-{name}"));
        p["metadata"]["resourceVersion"] = json!("5");
        p["metadata"]["creationTimestamp"] = json!("2025-05-01T09:00:00Z");
        p["spec"]["nodeName"] = json!(node);
        p["status"] = json!({"phase": if ready {"Running"} else {"Pending"},
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": "2025-05-01T09:00:00Z"}]});
        p
    }

    fn key() -> ObjectKey {
        ObjectKey::new("default", "web-7d4b9c")
    }

    #[test]
    fn pods_are_stamped_from_the_template_with_a_controller_reference() {
        let p = pod_from_template(&rs(1));
        assert_eq!(p["metadata"]["generateName"], "web-7d4b9c-");
        assert_eq!(p["metadata"]["labels"]["app"], "web");
        assert_eq!(p["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(p["metadata"]["ownerReferences"][0]["uid"], "rs-uid");
        assert_eq!(p["spec"]["containers"][0]["image"], "nginx");
        // The whole pod, annotations included, and nothing else.
        let mut with_annotations = rs(1);
        with_annotations["spec"]["template"]["metadata"]["annotations"] = json!({"a": "1"});
        assert_eq!(
            pod_from_template(&with_annotations),
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "generateName": "web-7d4b9c-", "namespace": "default",
                    "labels": {"app": "web"}, "annotations": {"a": "1"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "name": "web-7d4b9c", "uid": "rs-uid",
                        "controller": true, "blockOwnerDeletion": true}],
                },
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
            })
        );
        // No template: an empty spec (validation then says what is missing).
        let mut bare = rs(1);
        bare["spec"].as_object_mut().map(|s| s.remove("template"));
        let p = pod_from_template(&bare);
        assert_eq!(p["spec"], json!({}));
        assert!(p["metadata"].get("labels").is_none());
    }

    #[test]
    fn scaling_decisions() {
        // (replicas, existing pods, creates, deletes, pods deleted)
        let cases: Vec<(i64, Vec<Value>, usize, Vec<&str>)> = vec![
            (3, vec![], 3, vec![]),
            (3, vec![pod("a", "n1", true)], 2, vec![]),
            (
                1,
                vec![pod("a", "n1", true), pod("b", "", false)],
                0,
                vec!["b"],
            ),
            (
                1,
                vec![pod("a", "n1", true), pod("b", "n1", false)],
                0,
                vec!["b"],
            ),
            (
                2,
                vec![pod("a", "n1", true), pod("b", "n1", true)],
                0,
                vec![],
            ),
        ];
        for (replicas, pods, creates, deletes) in cases {
            let mut objs = vec![(res::REPLICASETS, rs(replicas))];
            objs.extend(pods.into_iter().map(|p| (res::PODS, p)));
            let snap = Snapshot::from_objects(objs);
            let out = ReplicaSetController.reconcile(&snap, &key(), t0());
            let n_create = out
                .actions
                .iter()
                .filter(|a| matches!(a, Action::Create { .. }))
                .count();
            let deleted: Vec<&str> = out
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Delete { key, .. } => Some(key.name.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(n_create, creates, "replicas {replicas}");
            assert_eq!(deleted, deletes, "replicas {replicas}");
        }
    }

    #[test]
    fn creates_then_reports_status_and_settles() {
        let mut snap = Snapshot::from_objects([(res::REPLICASETS, rs(3))]);
        let events = settle(&ReplicaSetController, &mut snap, &key(), t0());
        let r = reasons(&events);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].0, "SuccessfulCreate");
        assert!(r[0].1.starts_with("Created pod: web-7d4b9c-"), "{r:?}");
        let rs = snap.get(res::REPLICASETS, "default", "web-7d4b9c").unwrap();
        assert_eq!(
            rs["status"],
            json!({"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 2})
        );
    }

    #[test]
    fn scale_down_deletes_with_upstream_event_and_settles() {
        // Equal otherwise, the newer pod goes first.
        let mut newer = pod("web-7d4b9c-bbbbb", "kdrill-worker", true);
        newer["metadata"]["creationTimestamp"] = json!("2025-05-01T09:30:00Z");
        let mut snap = Snapshot::from_objects([
            (res::REPLICASETS, rs(1)),
            (res::PODS, pod("web-7d4b9c-aaaaa", "kdrill-worker", true)),
            (res::PODS, newer),
        ]);
        let events = settle(&ReplicaSetController, &mut snap, &key(), t0());
        assert_eq!(
            reasons(&events),
            [(
                "SuccessfulDelete".to_string(),
                "Deleted pod: web-7d4b9c-bbbbb".to_string()
            )]
        );
        let rs = snap.get(res::REPLICASETS, "default", "web-7d4b9c").unwrap();
        assert_eq!(rs["status"]["readyReplicas"], 1);
        assert_eq!(rs["status"]["availableReplicas"], 1);
    }

    #[test]
    fn ready_pods_wait_for_min_ready_seconds_to_be_available() {
        let mut r = rs(1);
        r["spec"]["minReadySeconds"] = json!(30);
        let mut p = pod("a", "n1", true);
        p["status"]["conditions"][0]["lastTransitionTime"] = json!("2025-05-01T09:59:50Z");
        let snap = Snapshot::from_objects([(res::REPLICASETS, r), (res::PODS, p)]);
        let out = ReplicaSetController.reconcile(&snap, &key(), t0());
        assert_eq!(out.requeue_after, Some(SignedDuration::from_secs(30)));
        let Some(Action::Patch { patch, .. }) = out.actions.last() else {
            panic!("expected a status patch: {:?}", out.actions);
        };
        assert_eq!(patch["status"]["readyReplicas"], 1);
        assert!(patch["status"].get("availableReplicas").is_none());
    }

    #[test]
    fn terminating_and_finished_pods_do_not_count() {
        let mut gone = pod("a", "n1", true);
        gone["metadata"]["deletionTimestamp"] = json!("2025-05-01T09:59:00Z");
        let mut done = pod("b", "n1", false);
        done["status"]["phase"] = json!("Succeeded");
        let snap = Snapshot::from_objects([
            (res::REPLICASETS, rs(1)),
            (res::PODS, gone),
            (res::PODS, done),
        ]);
        let out = ReplicaSetController.reconcile(&snap, &key(), t0());
        assert!(matches!(out.actions[0], Action::Create { .. }));
    }
}
