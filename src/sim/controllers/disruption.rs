//! The disruption controller (`pkg/controller/disruption` upstream): keeps
//! each PodDisruptionBudget's `status` (currentHealthy, desiredHealthy,
//! expectedPods, disruptionsAllowed, disruptedPods, observedGeneration and
//! the `DisruptionAllowed` condition) in step with its pods.
//!
//! `minAvailable` as an integer counts the selected pods; a percentage, or
//! any `maxUnavailable`, is scaled against the sum of the owning
//! controllers' `spec.replicas` (a ReplicaSet owned by a Deployment counts
//! as the Deployment). A pod evicted through the Eviction API sits in
//! `disruptedPods` for `DeletionTimeout` (2 minutes) and does not count as
//! healthy meanwhile; when it was not deleted by then the pod gets
//! `NotDeleted` (with upstream's `<ns>/<ns>` typo).
//!
//! Events as upstream: `NoPods` "No matching pods found", `UnmanagedPods`,
//! `CalculateExpectedPodCountFailed` "Failed to calculate the number of
//! expected pods: ..." (then the fail-safe: 0 allowed, reason
//! `SyncFailed`). Upstream records `NoPods` on every sync; here it is
//! recorded when the status changes, so a reconcile settles.

use super::deployment::util::scaled;
use super::podutil::{self, int_at, parse_time};
use crate::api::meta;
use crate::api::pointer::Pointer;
pub use crate::registry::pdb::{
    CONDITION, INSUFFICIENT_PODS, PDBS, SUFFICIENT_PODS, SYNC_FAILED, selector, selects,
    set_condition, update_allowed_condition,
};
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_ref, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const RCS: ResKey = ResKey {
    group: "",
    resource: "replicationcontrollers",
};
const COMPONENT: &str = "controllermanager";
/// `DeletionTimeout`: how long an evicted pod is expected to take to go.
pub const DELETION_TIMEOUT: SignedDuration = SignedDuration::from_secs(120);

/// The controller.
pub struct DisruptionController;

fn event(obj: &Value, type_: EventType, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(obj),
        type_,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    }
}

/// `getPodsForPdb`.
fn pods_for<'a>(snap: &'a Snapshot, pdb: &'a Value) -> Vec<&'a Value> {
    let Some(sel) = selector(pdb) else {
        return Vec::new();
    };
    snap.list(res::PODS, Some(meta::namespace(pdb)))
        .map(|p| &**p)
        .filter(|p| sel.matches(meta::labels(p)))
        .collect()
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// An object of `res` named by `owner` with the owner's uid.
fn owned<'a>(snap: &'a Snapshot, r: ResKey, ns: &str, owner: &Value) -> Option<&'a Value> {
    snap.get(r, ns, str_of(owner, "name"))
        .map(|o| &**o)
        .filter(|o| meta::uid(o) == str_of(owner, "uid"))
}

/// The controller of a pod and its scale (`dc.finders()`), or upstream's
/// error.
fn controller_scale(snap: &Snapshot, pod: &Value, owner: &Value) -> Result<(String, i64), String> {
    let ns = meta::namespace(pod);
    let group = str_of(owner, "apiVersion")
        .split_once('/')
        .map_or("", |(g, _)| g);
    let kind = str_of(owner, "kind");
    let scale = |o: &Value| (meta::uid(o).to_string(), int_at(o, "/spec/replicas", 1));
    let found = match (group, kind) {
        ("", "ReplicationController") => owned(snap, RCS, ns, owner).map(scale),
        ("apps" | "extensions", "ReplicaSet") => {
            owned(snap, res::REPLICASETS, ns, owner).and_then(|rs| {
                match controller_ref(rs).filter(|r| str_of(r, "kind") == "Deployment") {
                    Some(d) => owned(snap, res::DEPLOYMENTS, ns, d).map(scale),
                    None => Some(scale(rs)),
                }
            })
        }
        ("apps", "StatefulSet") => owned(snap, res::STATEFULSETS, ns, owner).map(scale),
        ("apps", "Deployment") => owned(snap, res::DEPLOYMENTS, ns, owner).map(scale),
        _ => {
            let version = str_of(owner, "apiVersion").rsplit('/').next().unwrap_or("");
            let scalable = crate::api::resource::lookup_kind(group, version, kind);
            return Err(match scalable {
                Some(info) if info.subresource("scale").is_some() => {
                    format!("found no controllers for pod {:?}", meta::name(pod))
                }
                Some(info) if info.group.is_empty() => {
                    format!("{} does not implement the scale subresource", info.plural)
                }
                Some(info) => format!(
                    "{}.{} does not implement the scale subresource",
                    info.plural, info.group
                ),
                None => format!("no matches for kind {kind:?} in group {group:?}"),
            });
        }
    };
    found.ok_or_else(|| format!("found no controllers for pod {:?}", meta::name(pod)))
}

/// `getExpectedScale`: the sum of the pods' controllers' scales, and the
/// pods without a controller.
fn expected_scale(snap: &Snapshot, pods: &[&Value]) -> Result<(i64, Vec<String>), String> {
    let mut scales: BTreeMap<String, i64> = BTreeMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let Some(owner) = controller_ref(pod) else {
            unmanaged.push(meta::name(pod).to_string());
            continue;
        };
        if scales.contains_key(str_of(owner, "uid")) {
            continue;
        }
        let (uid, n) = controller_scale(snap, pod, owner)?;
        scales.insert(uid, n);
    }
    Ok((scales.values().sum(), unmanaged))
}

/// `getExpectedPodCount`: (expectedCount, desiredHealthy, unmanaged pods).
pub fn expected_pod_count(
    snap: &Snapshot,
    pdb: &Value,
    pods: &[&Value],
) -> Result<(i64, i64, Vec<String>), String> {
    let spec = |f: &str| pdb.at(&format!("/spec/{f}")).filter(|v| !v.is_null());
    if let Some(max) = spec("maxUnavailable") {
        let (expected, unmanaged) = expected_scale(snap, pods)?;
        let max = scaled(Some(max), expected, true);
        return Ok((expected, (expected - max).max(0), unmanaged));
    }
    match spec("minAvailable") {
        Some(Value::String(s)) => {
            let (expected, unmanaged) = expected_scale(snap, pods)?;
            let min = scaled(Some(&Value::String(s.clone())), expected, true);
            Ok((expected, min, unmanaged))
        }
        Some(v) => Ok((pods.len() as i64, v.as_i64().unwrap_or(0), Vec::new())),
        None => Ok((0, 0, Vec::new())),
    }
}

/// Go's `%v` of a `*metav1.LabelSelector` (its generated `String()`).
fn go_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return "nil".into();
    };
    let mut labels: Vec<(String, String)> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    let labels: String = labels.iter().map(|(k, v)| format!("{k}: {v},")).collect();
    let exprs: String = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    let values: Vec<&str> = e
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|v| v.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    format!(
                        "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                        str_of(e, "key"),
                        str_of(e, "operator"),
                        values.join(" ")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )
}

/// A merge patch turning status `old` into `new`, nulling map entries
/// (`disruptedPods`) and fields that went away.
fn status_patch(old: Option<&Value>, new: &Value) -> Option<Value> {
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.as_object()?;
    let mut patch = Map::new();
    for (k, v) in new {
        let before = old.get(k);
        if before == Some(v) {
            continue;
        }
        if let (Some(Value::Object(b)), Value::Object(n)) = (before, v) {
            let mut m = n.clone();
            for key in b.keys().filter(|key| !n.contains_key(*key)) {
                m.insert(key.clone(), Value::Null);
            }
            patch.insert(k.clone(), Value::Object(m));
        } else {
            patch.insert(k.clone(), v.clone());
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        patch.insert(k.clone(), Value::Null);
    }
    (!patch.is_empty()).then(|| json!({"status": patch}))
}

/// The status `trySync` (or `failSafe`) writes, the events it records and
/// when to look again.
pub fn desired_status(
    snap: &Snapshot,
    pdb: &Value,
    now: Timestamp,
) -> (Value, Vec<EventSpec>, Option<Timestamp>) {
    let old = pdb.get("status");
    let generation = int_at(pdb, "/metadata/generation", 0);
    let pods = pods_for(snap, pdb);
    let mut events = Vec::new();
    if pods.is_empty() {
        events.push(event(
            pdb,
            EventType::Normal,
            "NoPods",
            "No matching pods found".into(),
        ));
    }
    let (expected, desired, unmanaged) = match expected_pod_count(snap, pdb, &pods) {
        Ok(v) => v,
        Err(e) => {
            events.push(event(
                pdb,
                EventType::Warning,
                "CalculateExpectedPodCountFailed",
                format!("Failed to calculate the number of expected pods: {e}"),
            ));
            // failSafe: the old status with nothing allowed.
            let mut status = old.cloned().filter(Value::is_object).unwrap_or(json!({}));
            status["disruptionsAllowed"] = json!(0);
            let og = int_at(&status, "/observedGeneration", 0);
            status["conditions"] = set_condition(old, false, SYNC_FAILED, &e, og, now);
            for k in ["currentHealthy", "desiredHealthy", "expectedPods"] {
                if status.get(k).is_none() {
                    status[k] = json!(0);
                }
            }
            return (status, events, None);
        }
    };
    if !unmanaged.is_empty() {
        events.push(event(
            pdb,
            EventType::Warning,
            "UnmanagedPods",
            format!(
                "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                go_selector(pdb.get_in(&["spec", "selector"]))
            ),
        ));
    }
    // buildDisruptedPodMap
    let listed = old
        .and_then(|s| s.get("disruptedPods"))
        .and_then(Value::as_object);
    let mut disrupted = Map::new();
    let mut recheck: Option<Timestamp> = None;
    for pod in &pods {
        if meta::is_deleting(pod) {
            continue;
        }
        let Some(at) = listed.and_then(|m| m.get(meta::name(pod))) else {
            continue;
        };
        let Some(expected_deletion) =
            parse_time(Some(at)).and_then(|t| t.checked_add(DELETION_TIMEOUT).ok())
        else {
            continue;
        };
        if expected_deletion < now {
            events.push(event(
                pod,
                EventType::Warning,
                "NotDeleted",
                format!(
                    "Pod was expected by PDB {0}/{0} to be deleted but it wasn't",
                    meta::namespace(pdb)
                ),
            ));
        } else {
            recheck = Some(recheck.map_or(expected_deletion, |r| r.min(expected_deletion)));
            disrupted.insert(meta::name(pod).to_string(), at.clone());
        }
    }
    // countHealthyPods
    let healthy = pods
        .iter()
        .filter(|p| !meta::is_deleting(p))
        .filter(|p| !disrupted.contains_key(meta::name(p)))
        .filter(|p| podutil::is_ready(p))
        .count() as i64;
    let mut allowed = healthy - desired;
    if expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    let mut status = json!({
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "disruptionsAllowed": allowed,
    });
    if generation != 0 {
        status["observedGeneration"] = json!(generation);
    }
    if !disrupted.is_empty() {
        status["disruptedPods"] = Value::Object(disrupted);
    }
    if let Some(c) = old.and_then(|s| s.get("conditions")) {
        status["conditions"] = c.clone();
    }
    update_allowed_condition(&mut status, now);
    (status, events, recheck)
}

impl Controller for DisruptionController {
    fn name(&self) -> &'static str {
        "disruption-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            PDBS,
            res::PODS,
            res::REPLICASETS,
            res::DEPLOYMENTS,
            res::STATEFULSETS,
        ]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == PDBS {
            return vec![ObjectKey::of(obj)];
        }
        if !snap.holds_any(PDBS) {
            return Vec::new();
        }
        let ns = meta::namespace(obj);
        snap.list(PDBS, Some(ns))
            .filter(|pdb| r != res::PODS || selects(pdb, obj))
            .map(|pdb| ObjectKey::of(pdb))
            .collect()
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(pdb) = snap.get(PDBS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let (status, events, recheck) = desired_status(snap, pdb, now);
        let requeue_after = recheck.map(|t| t.duration_since(now) + SignedDuration::from_millis(1));
        let Some(mut patch) = status_patch(pdb.get("status"), &status) else {
            return Reconciled {
                actions: Vec::new(),
                requeue_after,
            };
        };
        // UpdateStatus with the version read: a concurrent eviction wins.
        if let Some(rv) = pdb.get_in(&["metadata", "resourceVersion"]) {
            patch["metadata"] = json!({"resourceVersion": rv});
        }
        let mut actions = vec![Action::Patch {
            res: PDBS,
            key: key.clone(),
            patch,
            status: true,
        }];
        actions.extend(events.into_iter().map(Action::Event));
        Reconciled {
            actions,
            requeue_after,
        }
    }
}

#[cfg(test)]
mod tests;
