//! API defaulting: fills in the fields the real apiserver sets on create and
//! update, so `kubectl get -o yaml` shows what a real cluster shows.
//!
//! Upstream truth: kubernetes/kubernetes `pkg/apis/core/v1/defaults.go`,
//! `pkg/apis/apps/v1/defaults.go`, `pkg/apis/batch/v1/defaults.go`,
//! `pkg/apis/networking/v1/defaults.go`, `pkg/apis/rbac/v1/defaults.go`,
//! `pkg/apis/storage/v1/defaults.go`, `pkg/apis/autoscaling/v2/defaults.go`,
//! `pkg/apis/admissionregistration/v1/defaults.go`,
//! plus the few strategy/admission defaults a `-o yaml` shows (namespace
//! finalizers, Priority and ServiceAccount admission: see [`apply_pod_admission`]).
//! Objects are `serde_json::Value`s in their stored (camelCase JSON) form.
//! Allocation (ClusterIP, nodePort, generated names, uids) is not done here.

mod admissionregistration;
mod apps;
mod batch;
mod core;
mod other;
mod pod;

use serde_json::{Map, Value};

pub use batch::set_job_generated_selector;
pub use pod::apply_pod_admission;

/// Applies upstream's defaults for `group`/`kind` (group "" is core) in place.
/// Unknown kinds are left alone.
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (group, kind) {
        ("", "Pod") => pod::pod(obj),
        ("", "PodTemplate") => pod::template_at(obj, &["template"]),
        ("", "ReplicationController") => core::replication_controller(obj),
        ("", "Service") => core::service(obj),
        ("", "Secret") => core::secret(obj),
        ("", "PersistentVolumeClaim") => core::pvc(obj),
        ("", "PersistentVolume") => core::pv(obj),
        ("", "Namespace") => core::namespace(obj),
        ("", "Endpoints") => core::endpoints(obj),
        ("", "LimitRange") => core::limit_range(obj),
        ("apps", "Deployment") => apps::deployment(obj),
        ("apps", "ReplicaSet") => apps::replica_set(obj),
        ("apps", "StatefulSet") => apps::stateful_set(obj),
        ("apps", "DaemonSet") => apps::daemon_set(obj),
        ("batch", "Job") => batch::job(obj),
        ("batch", "CronJob") => batch::cron_job(obj),
        ("networking.k8s.io", "NetworkPolicy") => other::network_policy(obj),
        ("networking.k8s.io", "Ingress") => other::ingress(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => other::hpa(obj),
        ("storage.k8s.io", "StorageClass") => other::storage_class(obj),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            other::role_binding(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            admissionregistration::webhook_configuration(obj, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            admissionregistration::webhook_configuration(obj, true)
        }
        _ => {}
    }
}

/// Sets `obj[key] = value` when the key is missing or null.
pub(crate) fn set_default(obj: &mut Value, key: &str, value: Value) {
    if let Some(m) = obj.as_object_mut() {
        match m.get(key) {
            None | Some(Value::Null) => {
                m.insert(key.to_string(), value);
            }
            Some(_) => {}
        }
    }
}

/// The object at `obj[key]`, created (as `{}`) when missing or null.
/// Returns `None` when `obj` is not an object or `obj[key]` is a non-object.
pub(crate) fn child<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    let m = obj.as_object_mut()?;
    let slot = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.is_object().then_some(slot)
}

/// The existing value at a path of object keys, if every step is an object.
pub(crate) fn existing<'a>(obj: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = obj;
    for k in path {
        cur = cur.as_object_mut()?.get_mut(*k)?;
        if cur.is_null() {
            return None;
        }
    }
    Some(cur)
}

/// Runs `f` on each object element of the array at `obj[key]`.
pub(crate) fn each_item(obj: &mut Value, key: &str, mut f: impl FnMut(&mut Value)) {
    if let Some(Value::Array(items)) = obj.get_mut(key) {
        for it in items.iter_mut().filter(|i| i.is_object()) {
            f(it);
        }
    }
}

pub(crate) fn str_of<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
