//! The StatefulSet controller (`pkg/controller/statefulset` upstream).
//!
//! Pods get stable names `<sts>-<ordinal>` (from `spec.ordinals.start`),
//! the labels `statefulset.kubernetes.io/pod-name`,
//! `apps.kubernetes.io/pod-index` and `controller-revision-hash` (the
//! revision's name, `<sts>-<hash>`), `hostname` = the pod name and
//! `subdomain` = `spec.serviceName`, and one PVC per volumeClaimTemplate,
//! `<template>-<sts>-<ordinal>`, created before the pod.
//!
//! With `podManagementPolicy: OrderedReady` (the default) the next ordinal
//! is created only once every lower one is Running and Ready, and scale
//! down removes the highest ordinal first, one at a time, waiting while
//! any pod is unhealthy or terminating; `Parallel` creates and deletes
//! without waiting. RollingUpdate replaces pods whose revision is not the
//! update revision from the highest ordinal down to `partition`, one at a
//! time. Failed pods are deleted and recreated.
//!
//! Events use upstream's wording (`recordPodEvent`, `recordClaimEvent`):
//! `SuccessfulCreate` "create Pod web-0 in StatefulSet web successful",
//! "create Claim www-web-0 Pod web-0 in StatefulSet web success",
//! `SuccessfulDelete` "delete Pod web-2 in StatefulSet web successful",
//! `FailedCreate` "create Pod web-0 in StatefulSet web failed error: ...".

use super::history::{self, REVISION_LABEL, res as hres};
use super::podutil::{self, int_at};
use super::replicaset::status_patch;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_key, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const COMPONENT: &str = "statefulset-controller";
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The controller.
pub struct StatefulSetController;

fn event(sts: &Value, type_: EventType, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(sts),
        type_,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    }
}

/// The ordinal of a pod named `<sts>-<n>`, if it is one of the set's.
pub fn ordinal(sts_name: &str, pod: &Value) -> Option<i64> {
    let rest = meta::name(pod).strip_prefix(sts_name)?.strip_prefix('-')?;
    if rest.is_empty()
        || !rest.bytes().all(|b| b.is_ascii_digit())
        || (rest.len() > 1 && rest.starts_with('0'))
    {
        return None;
    }
    rest.parse().ok()
}

/// The claim name for template `tmpl` and ordinal `i`.
fn claim_name(tmpl: &Value, sts: &Value, i: i64) -> String {
    format!("{}-{}-{i}", meta::name(tmpl), meta::name(sts))
}

fn claim_templates(sts: &Value) -> Vec<Value> {
    sts.get_in(&["spec", "volumeClaimTemplates"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A PVC for ordinal `i` from a volumeClaimTemplate (`getPersistentVolumeClaims`):
/// the template's labels plus the set's selector labels.
fn claim(sts: &Value, tmpl: &Value, i: i64) -> Value {
    let mut labels = meta::labels(tmpl).cloned().unwrap_or_default();
    if let Some(sel) = sts
        .get_in(&["spec", "selector", "matchLabels"])
        .and_then(Value::as_object)
    {
        for (k, v) in sel {
            labels.insert(k.clone(), v.clone());
        }
    }
    let mut md = Map::new();
    md.insert("name".into(), json!(claim_name(tmpl, sts, i)));
    md.insert("namespace".into(), json!(meta::namespace(sts)));
    if !labels.is_empty() {
        md.insert("labels".into(), Value::Object(labels));
    }
    if let Some(a) = tmpl.get_in(&["metadata", "annotations"]) {
        md.insert("annotations".into(), a.clone());
    }
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": md,
        "spec": tmpl.get("spec").cloned().unwrap_or(json!({})),
    })
}

/// The pod for ordinal `i` from `template` at revision `revision`
/// (`newVersionedStatefulSetPod`).
pub fn new_pod(sts: &Value, template: &Value, i: i64, revision: &str) -> Value {
    let name = format!("{}-{i}", meta::name(sts));
    let mut labels = template
        .get_in(&["metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(POD_NAME_LABEL.into(), json!(name));
    labels.insert(POD_INDEX_LABEL.into(), json!(i.to_string()));
    labels.insert(REVISION_LABEL.into(), json!(revision));
    let mut md = Map::new();
    md.insert("name".into(), json!(name));
    md.insert("namespace".into(), json!(meta::namespace(sts)));
    md.insert("labels".into(), Value::Object(labels));
    if let Some(a) = template.get_in(&["metadata", "annotations"]) {
        md.insert("annotations".into(), a.clone());
    }
    md.insert(
        "ownerReferences".into(),
        json!([history::owner_ref(sts, "StatefulSet")]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    if let Some(s) = spec.as_object_mut() {
        s.insert("hostname".into(), json!(name));
        let svc = sts
            .get_in(&["spec", "serviceName"])
            .and_then(Value::as_str)
            .unwrap_or("");
        if !svc.is_empty() {
            s.insert("subdomain".into(), json!(svc));
        }
        let claims = claim_templates(sts);
        if !claims.is_empty() {
            let mut volumes: Vec<Value> = s
                .get("volumes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for t in &claims {
                let v = json!({"name": meta::name(t), "persistentVolumeClaim": {"claimName": claim_name(t, sts, i)}});
                match volumes.iter_mut().find(|x| x.get("name") == v.get("name")) {
                    Some(x) => *x = v,
                    None => volumes.push(v),
                }
            }
            s.insert("volumes".into(), json!(volumes));
        }
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec})
}

fn is_running_and_ready(p: &Value) -> bool {
    podutil::phase(p) == "Running" && podutil::is_ready(p)
}

fn is_healthy(p: &Value) -> bool {
    is_running_and_ready(p) && !meta::is_deleting(p)
}

fn revision_of(p: &Value) -> &str {
    meta::labels(p)
        .and_then(|l| l.get(REVISION_LABEL))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// What one sync decided, before the status.
struct Plan {
    actions: Vec<Action>,
}

impl Plan {
    fn delete(&mut self, sts: &Value, p: &Value) {
        self.actions.push(Action::Delete {
            res: res::PODS,
            key: ObjectKey::of(p),
            uid: meta::uid(p).to_string(),
            on_deleted: Some(event(
                sts,
                EventType::Normal,
                "SuccessfulDelete",
                format!(
                    "delete Pod {} in StatefulSet {} successful",
                    meta::name(p),
                    meta::name(sts)
                ),
            )),
        });
    }
}

impl Controller for StatefulSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            hres::STATEFULSETS,
            res::PODS,
            hres::CONTROLLERREVISIONS,
            hres::PVCS,
        ]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == hres::STATEFULSETS {
            return vec![ObjectKey::of(obj)];
        }
        // With no StatefulSet held, an owner's reconcile would find none.
        if r == hres::PVCS || !snap.holds_any(hres::STATEFULSETS) {
            return Vec::new();
        }
        controller_key(obj, "StatefulSet")
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(sts) = snap.get(hres::STATEFULSETS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let sts: &Value = sts;
        let name = meta::name(sts);
        let mut plan = Plan {
            actions: Vec::new(),
        };

        // Revisions.
        let revisions = history::owned(snap, sts);
        let hash = history::template_hash(sts);
        let update_rev = format!("{name}-{hash}");
        if !revisions.iter().any(|r| meta::name(r) == update_rev) && !meta::is_deleting(sts) {
            let next = revisions.last().map_or(0, |r| history::number(r)) + 1;
            let mut labels = history::template_labels(sts);
            // The revision is labelled with the bare hash; its pods with its name.
            labels.insert(REVISION_LABEL.into(), json!(hash));
            plan.actions.push(Action::Create {
                res: hres::CONTROLLERREVISIONS,
                namespace: key.namespace.clone(),
                object: history::new_revision(sts, "StatefulSet", &update_rev, labels, next),
                on_created: None,
                on_failed: None,
            });
        }
        let status_current = sts
            .get_in(&["status", "currentRevision"])
            .and_then(Value::as_str)
            .unwrap_or("");
        let current_rev_obj = revisions.iter().find(|r| meta::name(r) == status_current);
        let current_rev = if current_rev_obj.is_some() {
            status_current.to_string()
        } else {
            update_rev.clone()
        };

        // Pods by ordinal.
        let mut pods: BTreeMap<i64, &Value> = BTreeMap::new();
        for p in snap.owned_by(res::PODS, &key.namespace, meta::uid(sts)) {
            if let Some(i) = ordinal(name, p) {
                pods.insert(i, p);
            }
        }
        let start = int_at(sts, "/spec/ordinals/start", 0).max(0);
        let replicas = int_at(sts, "/spec/replicas", 1).max(0);
        let end = start + replicas;
        let monotonic = sts
            .get_in(&["spec", "podManagementPolicy"])
            .and_then(Value::as_str)
            != Some("Parallel");
        let rolling = sts
            .get_in(&["spec", "updateStrategy", "type"])
            .and_then(Value::as_str)
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        let partition = int_at(sts, "/spec/updateStrategy/rollingUpdate/partition", 0).max(0);
        let update_template = sts
            .get_in(&["spec", "template"])
            .cloned()
            .unwrap_or(json!({}));
        let current_template = current_rev_obj.and_then(|r| history::template_of(r));

        if !meta::is_deleting(sts) {
            let sync = Sync {
                sts,
                snap,
                pods: &pods,
                range: (start, end),
                monotonic,
                rolling,
                partition,
                update: (&update_template, &update_rev),
                current: current_template.as_ref().map(|t| (t, current_rev.as_str())),
            };
            sync.run(&mut plan);
        }

        // Status.
        let min_ready = int_at(sts, "/spec/minReadySeconds", 0);
        let all: Vec<&Value> = pods.values().copied().collect();
        let count = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|p| f(p)).count() as i64;
        let n = all.len() as i64;
        let ready = count(&|p| is_running_and_ready(p));
        let available =
            count(&|p| is_running_and_ready(p) && podutil::is_available(p, min_ready, now));
        let mut current_replicas = count(&|p| revision_of(p) == current_rev);
        let updated = count(&|p| revision_of(p) == update_rev);
        let mut current_revision = current_rev.clone();
        if rolling && updated == n && ready == n {
            current_revision = update_rev.clone();
            current_replicas = updated;
        }
        let mut status = sts
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        status.insert("replicas".into(), json!(n));
        status.insert("availableReplicas".into(), json!(available));
        status.insert(
            "collisionCount".into(),
            json!(int_at(sts, "/status/collisionCount", 0)),
        );
        let mut set = |k: &str, v: Value| {
            if v == json!(0) || v == json!("") {
                status.remove(k);
            } else {
                status.insert(k.into(), v);
            }
        };
        set("readyReplicas", json!(ready));
        set("currentReplicas", json!(current_replicas));
        set("updatedReplicas", json!(updated));
        set("currentRevision", json!(current_revision));
        set("updateRevision", json!(update_rev));
        set(
            "observedGeneration",
            json!(int_at(sts, "/metadata/generation", 0)),
        );
        if let Some(patch) = status_patch(sts.get("status"), &Value::Object(status)) {
            plan.actions.push(Action::Patch {
                res: hres::STATEFULSETS,
                key: key.clone(),
                patch,
                status: true,
            });
        }
        let requeue_after =
            (min_ready > 0 && ready > available).then(|| SignedDuration::from_secs(min_ready));
        Reconciled {
            actions: plan.actions,
            requeue_after,
        }
    }
}

/// What one sync of a set's pods works from.
struct Sync<'a> {
    sts: &'a Value,
    snap: &'a Snapshot,
    /// The set's pods by ordinal.
    pods: &'a BTreeMap<i64, &'a Value>,
    /// The ordinals wanted: `start..end`.
    range: (i64, i64),
    monotonic: bool,
    rolling: bool,
    partition: i64,
    /// Template and revision name of the update revision.
    update: (&'a Value, &'a str),
    /// Template and revision name of the current revision, when known.
    current: Option<(&'a Value, &'a str)>,
}

impl Sync<'_> {
    /// The template and revision for ordinal `i`: ordinals below the
    /// partition stay at the current revision.
    fn template_for(&self, i: i64) -> (&Value, &str) {
        match self.current {
            Some(current) if i - self.range.0 < self.partition => current,
            _ => self.update,
        }
    }

    /// Creation, condemned-pod deletion and rolling update
    /// (`StatefulSetControl.updateStatefulSet`).
    fn run(&self, plan: &mut Plan) {
        let Sync {
            sts,
            snap,
            pods,
            range: (start, end),
            monotonic,
            rolling,
            partition,
            ..
        } = *self;
        let update_rev = self.update.1;
        let name = meta::name(sts);
        let ns = meta::namespace(sts);
        // Replicas in range, ascending.
        for i in start..end {
            match pods.get(&i) {
                None => {
                    let pod_name = format!("{name}-{i}");
                    for t in claim_templates(sts) {
                        let claim_n = claim_name(&t, sts, i);
                        if snap.get(hres::PVCS, ns, &claim_n).is_some() {
                            continue;
                        }
                        plan.actions.push(Action::Create {
                            res: hres::PVCS,
                            namespace: ns.to_string(),
                            object: claim(sts, &t, i),
                            on_created: Some(event(
                                sts,
                                EventType::Normal,
                                "SuccessfulCreate",
                                format!("create Claim {{name}} Pod {pod_name} in StatefulSet {name} success"),
                            )),
                            on_failed: Some(event(
                                sts,
                                EventType::Warning,
                                "FailedCreate",
                                format!("create Claim {claim_n} for Pod {pod_name} in StatefulSet {name} failed error: "),
                            )),
                        });
                    }
                    let (template, rev) = self.template_for(i);
                    plan.actions.push(Action::Create {
                        res: res::PODS,
                        namespace: ns.to_string(),
                        object: new_pod(sts, template, i, rev),
                        on_created: Some(event(
                            sts,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("create Pod {{name}} in StatefulSet {name} successful"),
                        )),
                        on_failed: Some(event(
                            sts,
                            EventType::Warning,
                            "FailedCreate",
                            format!("create Pod {pod_name} in StatefulSet {name} failed error: "),
                        )),
                    });
                    if monotonic {
                        return;
                    }
                }
                Some(p) => {
                    if !meta::is_deleting(p) && matches!(podutil::phase(p), "Failed" | "Succeeded")
                    {
                        plan.delete(sts, p);
                        if monotonic {
                            return;
                        }
                    } else if monotonic && !is_healthy(p) {
                        return;
                    }
                }
            }
        }
        // Condemned pods, highest ordinal first.
        let condemned: Vec<&Value> = pods
            .iter()
            .rev()
            .filter(|(i, _)| **i < start || **i >= end)
            .map(|(_, p)| *p)
            .collect();
        for (k, p) in condemned.iter().enumerate() {
            if meta::is_deleting(p) {
                if monotonic {
                    return;
                }
                continue;
            }
            // OrderedReady waits while another pod is unhealthy.
            if monotonic && condemned[k + 1..].iter().any(|q| !is_healthy(q)) {
                return;
            }
            plan.delete(sts, p);
            if monotonic {
                return;
            }
        }
        if !condemned.is_empty() && monotonic {
            return;
        }
        // RollingUpdate from the highest ordinal down to the partition.
        if !rolling {
            return;
        }
        for i in (start + partition..end).rev() {
            let Some(p) = pods.get(&i) else { return };
            if revision_of(p) != update_rev && !meta::is_deleting(p) {
                plan.delete(sts, p);
                return;
            }
            if !is_healthy(p) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
