//! The resourcequota controller (`pkg/controller/resourcequota` upstream):
//! keeps each ResourceQuota's `status.hard` equal to `spec.hard` and
//! `status.used` equal to what the namespace's objects charge, so `kubectl
//! get quota` and `describe quota` show usage.
//!
//! Usage comes from the same evaluators the admission plugin uses
//! (`registry::admission::quota_usage`); every hard name gets a used value,
//! `0` when nothing charges it (`CalculateUsage`). Counted kinds: pods,
//! services, PVCs, ConfigMaps, Secrets, ReplicationControllers,
//! ResourceQuotas and the workload kinds the runtime already holds
//! (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs).
//! Upstream also resyncs every 5 minutes; here a quota is recalculated
//! whenever something in its namespace changes, which covers it.

use crate::api::meta;
use crate::api::quantity::{Format, Quantity};
use crate::registry::admission::quota_usage::{self, ResourceList};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// The stored quotas.
pub const RESOURCEQUOTAS: ResKey = ResKey {
    group: "",
    resource: "resourcequotas",
};
const REPLICATIONCONTROLLERS: ResKey = ResKey {
    group: "",
    resource: "replicationcontrollers",
};

/// Every kind whose objects the controller counts.
const COUNTED: [ResKey; 13] = [
    res::PODS,
    res::SERVICES,
    res::PVCS,
    res::CONFIGMAPS,
    res::SECRETS,
    REPLICATIONCONTROLLERS,
    RESOURCEQUOTAS,
    res::DEPLOYMENTS,
    res::REPLICASETS,
    res::STATEFULSETS,
    res::DAEMONSETS,
    res::JOBS,
    res::CRONJOBS,
];

/// The controller.
pub struct ResourceQuotaController;

/// The status a quota should have given the objects of its namespace.
pub fn desired_status(snap: &Snapshot, quota: &Value, now: Timestamp) -> Value {
    let hard = quota_usage::hard(quota);
    let ns = meta::namespace(quota);
    let mut used = ResourceList::new();
    for r in COUNTED {
        let objects = snap.list(r, Some(ns)).map(|o| o.as_ref());
        let u = quota_usage::used_by(quota, r.group, r.resource, objects, now);
        used = quota_usage::add(&used, &u);
    }
    for k in hard.keys() {
        used.entry(k.clone())
            .or_insert(Quantity::from_units(0, Format::DecimalSI));
    }
    let render = |l: &ResourceList| -> Map<String, Value> {
        l.iter()
            .map(|(k, v)| (k.clone(), json!(v.to_string())))
            .collect()
    };
    json!({"hard": render(&hard), "used": render(&used)})
}

/// A merge patch turning `current` into `desired` (stale names nulled),
/// or None when they already agree.
fn status_patch(current: Option<&Value>, desired: &Value) -> Option<Value> {
    let mut patch = Map::new();
    for field in ["hard", "used"] {
        let want = desired.get(field).and_then(Value::as_object);
        let have = current
            .and_then(|s| s.get(field))
            .and_then(Value::as_object);
        let same = match (want, have) {
            (Some(w), Some(h)) => {
                w.len() == h.len()
                    && w.iter().all(|(k, v)| {
                        h.get(k)
                            .is_some_and(|hv| crate::api::quantity::same_value(v, hv))
                    })
            }
            (Some(w), None) => w.is_empty(),
            _ => true,
        };
        if same {
            continue;
        }
        let mut m = want.cloned().unwrap_or_default();
        for k in have.into_iter().flatten().map(|(k, _)| k) {
            m.entry(k.clone()).or_insert(Value::Null);
        }
        patch.insert(field.into(), Value::Object(m));
    }
    (!patch.is_empty()).then(|| json!({"status": patch}))
}

impl Controller for ResourceQuotaController {
    fn name(&self) -> &'static str {
        "resourcequota-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &COUNTED
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == RESOURCEQUOTAS {
            // A quota is counted by quotas too (`count/resourcequotas`).
            let mut keys: Vec<ObjectKey> = snap
                .list(RESOURCEQUOTAS, Some(meta::namespace(obj)))
                .map(|q| ObjectKey::of(q))
                .collect();
            let own = ObjectKey::of(obj);
            if !keys.contains(&own) {
                keys.push(own);
            }
            return keys;
        }
        if !snap.holds_any(RESOURCEQUOTAS) {
            return Vec::new();
        }
        snap.list(RESOURCEQUOTAS, Some(meta::namespace(obj)))
            .map(|q| ObjectKey::of(q))
            .collect()
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(quota) = snap.get(RESOURCEQUOTAS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if meta::is_deleting(quota) {
            return Reconciled::none();
        }
        let desired = desired_status(snap, quota, now);
        match status_patch(quota.get("status"), &desired) {
            Some(patch) => Reconciled {
                actions: vec![Action::Patch {
                    res: RESOURCEQUOTAS,
                    key: key.clone(),
                    patch,
                    status: true,
                }],
                requeue_after: None,
            },
            None => Reconciled::none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn quota(hard: Value, status: Option<Value>) -> Value {
        let mut q = json!({"metadata": {"name": "q", "namespace": "team"}, "spec": {"hard": hard}});
        if let Some(s) = status {
            q["status"] = s;
        }
        q
    }

    fn pod(name: &str, cpu: &str, phase: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "team"},
            "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}}]},
            "status": {"phase": phase}})
    }

    fn patch_of(out: &Reconciled) -> &Value {
        match out.actions.as_slice() {
            [Action::Patch { patch, status, .. }] => {
                assert!(*status);
                patch
            }
            other => panic!("expected one status patch: {other:?}"),
        }
    }

    #[test]
    fn counts_active_pods_and_objects_against_hard_names() {
        let hard = json!({"pods": "4", "requests.cpu": "2", "limits.memory": "1Gi",
            "configmaps": "5", "count/deployments.apps": "2", "services.nodeports": "1"});
        let snap = Snapshot::from_objects([
            (RESOURCEQUOTAS, quota(hard, None)),
            (res::PODS, pod("a", "250m", "Running")),
            (res::PODS, pod("b", "500m", "Pending")),
            (res::PODS, pod("done", "1", "Succeeded")),
            (
                res::CONFIGMAPS,
                json!({"metadata": {"name": "kube-root-ca.crt", "namespace": "team"}}),
            ),
            (
                res::DEPLOYMENTS,
                json!({"metadata": {"name": "web", "namespace": "team"}}),
            ),
            (
                res::SERVICES,
                json!({"metadata": {"name": "np", "namespace": "team"},
                "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
            ),
            // Another namespace does not count.
            (
                res::PODS,
                json!({"metadata": {"name": "x", "namespace": "other"}, "spec": {"containers": []}}),
            ),
        ]);
        let out = ResourceQuotaController.reconcile(&snap, &ObjectKey::new("team", "q"), t0());
        assert_eq!(
            patch_of(&out)["status"],
            json!({
                "hard": {"configmaps": "5", "count/deployments.apps": "2", "limits.memory": "1Gi",
                         "pods": "4", "requests.cpu": "2", "services.nodeports": "1"},
                "used": {"configmaps": "1", "count/deployments.apps": "1", "limits.memory": "0",
                         "pods": "2", "requests.cpu": "750m", "services.nodeports": "1"},
            })
        );
    }

    #[test]
    fn an_up_to_date_status_is_left_alone_and_stale_names_are_dropped() {
        let status = json!({"hard": {"pods": "2"}, "used": {"pods": "1"}});
        let snap = Snapshot::from_objects([
            (RESOURCEQUOTAS, quota(json!({"pods": "2"}), Some(status))),
            (res::PODS, pod("a", "100m", "Running")),
        ]);
        let key = ObjectKey::new("team", "q");
        assert!(
            ResourceQuotaController
                .reconcile(&snap, &key, t0())
                .actions
                .is_empty()
        );
        let stale =
            json!({"hard": {"pods": "2", "secrets": "1"}, "used": {"pods": "1", "secrets": "0"}});
        let snap = Snapshot::from_objects([
            (RESOURCEQUOTAS, quota(json!({"pods": "2"}), Some(stale))),
            (res::PODS, pod("a", "100m", "Running")),
        ]);
        let out = ResourceQuotaController.reconcile(&snap, &key, t0());
        assert_eq!(
            patch_of(&out)["status"],
            json!({"hard": {"pods": "2", "secrets": null}, "used": {"pods": "1", "secrets": null}})
        );
    }

    #[test]
    fn scoped_quotas_count_only_matching_pods() {
        let mut q = quota(json!({"pods": "5"}), None);
        q["spec"]["scopes"] = json!(["BestEffort"]);
        let snap = Snapshot::from_objects([
            (RESOURCEQUOTAS, q),
            (res::PODS, pod("burstable", "100m", "Running")),
            (
                res::PODS,
                json!({"metadata": {"name": "be", "namespace": "team"},
                "spec": {"containers": [{"name": "app"}]}}),
            ),
        ]);
        let out = ResourceQuotaController.reconcile(&snap, &ObjectKey::new("team", "q"), t0());
        assert_eq!(patch_of(&out)["status"]["used"], json!({"pods": "1"}));
    }

    #[test]
    fn any_change_in_the_namespace_requeues_its_quotas() {
        let snap = Snapshot::from_objects([(RESOURCEQUOTAS, quota(json!({"pods": "2"}), None))]);
        let keys = ResourceQuotaController.keys_for(
            &snap,
            res::SECRETS,
            &json!({"metadata": {"name": "s", "namespace": "team"}}),
        );
        assert_eq!(keys, [ObjectKey::new("team", "q")]);
        let none = ResourceQuotaController.keys_for(
            &snap,
            res::PODS,
            &json!({"metadata": {"name": "p", "namespace": "other"}}),
        );
        assert!(none.is_empty());
    }
}
