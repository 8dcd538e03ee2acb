//! API validation: the field errors the real apiserver returns (422 Invalid)
//! for bad objects on create and update, with upstream's exact messages.
//!
//! Upstream truth: kubernetes/kubernetes `pkg/apis/core/validation/validation.go`,
//! `pkg/apis/apps/validation/validation.go`, `pkg/apis/batch/validation/validation.go`,
//! `pkg/apis/networking/validation/validation.go`, `pkg/apis/rbac/validation/validation.go`,
//! `pkg/apis/storage/validation/validation.go`, `pkg/apis/policy/validation/validation.go`,
//! `pkg/apis/admissionregistration/validation/validation.go`;
//! apimachinery `pkg/api/validation/objectmeta.go`,
//! `pkg/apis/meta/v1/validation/validation.go` and `pkg/util/validation`.
//! Objects are validated after defaulting, as upstream does. The metadata
//! namespace rule (required / forbidden) is left to the caller.

mod admissionregistration;
mod apps;
mod batch;
mod core;
pub mod cron;
mod meta;
mod networking;
mod pod;
mod rbac;

use serde_json::Value;

use crate::api::field_error::FieldError;
use crate::api::object::decimal;
use crate::api::quantity::{self, Quantity};

pub use core::{MAX_SECRET_SIZE, node_port_range_error};
pub use cron::parse_schedule;
pub use meta::name_rule;
pub use pod::{POD_UPDATE_FORBIDDEN, VOLUME_SOURCES};

/// Validation run on create (`Strategy.Validate`).
pub fn validate_create(group: &str, kind: &str, obj: &Value) -> Vec<FieldError> {
    let mut errs = meta::object_meta(obj, name_rule(group, kind), "metadata");
    errs.extend(body(group, kind, obj));
    errs.extend(webhook_configuration(group, kind, obj, None).unwrap_or_default());
    if (group, kind) == ("networking.k8s.io", "Ingress") {
        errs.extend(networking::ingress_create(obj));
    }
    errs
}

/// The kind-specific rules shared by create and update.
fn body(group: &str, kind: &str, obj: &Value) -> Vec<FieldError> {
    match (group, kind) {
        ("", "Pod") => pod::pod(obj),
        ("", "PodTemplate") => {
            pod::template(obj.get("template").unwrap_or(&Value::Null), "template")
        }
        ("", "Service") => core::service(obj),
        ("", "ConfigMap") => core::config_map(obj),
        ("", "Secret") => core::secret(obj),
        ("", "Namespace") => Vec::new(),
        ("", "PersistentVolumeClaim") => core::pvc(obj),
        ("", "PersistentVolume") => core::pv(obj),
        ("", "ResourceQuota") => core::resource_quota(obj),
        ("", "LimitRange") => core::limit_range(obj),
        ("", "ServiceAccount") => Vec::new(),
        ("apps", "Deployment") => apps::deployment(obj),
        ("apps", "ReplicaSet") => apps::replica_set(obj),
        ("apps", "StatefulSet") => apps::stateful_set(obj),
        ("apps", "DaemonSet") => apps::daemon_set(obj),
        ("batch", "Job") => batch::job(obj),
        ("batch", "CronJob") => batch::cron_job(obj),
        ("networking.k8s.io", "Ingress") => networking::ingress(obj),
        ("networking.k8s.io", "NetworkPolicy") => networking::network_policy(obj),
        ("rbac.authorization.k8s.io", "Role") => rbac::role(obj, true),
        ("rbac.authorization.k8s.io", "ClusterRole") => rbac::role(obj, false),
        ("rbac.authorization.k8s.io", "RoleBinding") => rbac::binding(obj, true),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => rbac::binding(obj, false),
        ("storage.k8s.io", "StorageClass") => core::storage_class(obj),
        ("policy", "PodDisruptionBudget") => apps::pdb(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => apps::hpa(obj),
        _ => Vec::new(),
    }
}

/// The webhook configurations' rules (create and update differ in what an
/// old object lets through), or `None` for other kinds.
fn webhook_configuration(
    group: &str,
    kind: &str,
    new: &Value,
    old: Option<&Value>,
) -> Option<Vec<FieldError>> {
    let mutating = match (group, kind) {
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => false,
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => true,
        _ => return None,
    };
    Some(match old {
        None => admissionregistration::webhook_configuration(new, mutating),
        Some(old) => admissionregistration::webhook_configuration_update(new, old, mutating),
    })
}

/// Validation run on update (`Strategy.ValidateUpdate`): the object's own
/// rules plus immutability against `old`.
pub fn validate_update(group: &str, kind: &str, new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = meta::object_meta_update(new, old, "metadata");
    // Upstream re-runs the spec rules on the new object for most kinds.
    errs.extend(body(group, kind, new));
    errs.extend(webhook_configuration(group, kind, new, Some(old)).unwrap_or_default());
    errs.extend(match (group, kind) {
        ("", "Pod") => pod::pod_update(new, old),
        ("", "Service") => core::service_update(new, old),
        ("", "ConfigMap") => core::config_map_update(new, old),
        ("", "Secret") => core::secret_update(new, old),
        ("", "PersistentVolumeClaim") => core::pvc_update(new, old),
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => apps::selector_update(new, old),
        ("apps", "StatefulSet") => apps::stateful_set_update(new, old),
        ("batch", "Job") => batch::job_update(new, old),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            rbac::binding_update(new, old)
        }
        ("storage.k8s.io", "StorageClass") => core::storage_class_update(new, old),
        _ => Vec::new(),
    });
    errs
}

/// Validation of a `status` subresource write. The strategy keeps
/// everything but `status` (and a Deployment's annotations) from the stored
/// object, so only metadata can change; upstream's `Validate*StatusUpdate`
/// likewise leaves the spec alone, and checks no status field kdrill does not.
pub fn validate_status_update(new: &Value, old: &Value) -> Vec<FieldError> {
    meta::object_meta_update(new, old, "metadata")
}

// ---- field paths -------------------------------------------------------

// Built with `concat` rather than `format!`: a pod's validation builds a
// dozen of these (each volume, container and toleration), and the
// formatting machinery cost several times the copy.

/// `path.Child(name)`.
pub(crate) fn ch(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        concat(&[path, ".", name])
    }
}
/// `path.Index(i)`.
pub(crate) fn idx(path: &str, i: usize) -> String {
    let mut digits = [0; 20];
    concat(&[path, "[", decimal(i as u64, &mut digits), "]"])
}
/// `path.Key(k)`.
pub(crate) fn key(path: &str, k: &str) -> String {
    concat(&[path, "[", k, "]"])
}

/// The parts one after another, in one allocation of their total size.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

// ---- JSON accessors ----------------------------------------------------

pub(crate) const NULL: Value = Value::Null;

pub(crate) fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k).unwrap_or(&NULL)
}
pub(crate) fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}
pub(crate) fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}
pub(crate) fn obj_entries<'a>(v: &'a Value, k: &str) -> Vec<(&'a String, &'a Value)> {
    v.get(k)
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}
pub(crate) fn int(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_i64)
}
pub(crate) fn present(v: &Value, k: &str) -> bool {
    v.get(k).is_some_and(|x| !x.is_null())
}

// ---- common checks -----------------------------------------------------

pub(crate) const IS_NEGATIVE: &str = "must be greater than or equal to 0";
pub(crate) const FIELD_IMMUTABLE: &str = "field is immutable";

/// `ValidateNonnegativeField`.
pub(crate) fn nonnegative(v: &Value, k: &str, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(n) = int(v, k)
        && n < 0
    {
        errs.push(FieldError::invalid(
            ch(path, k),
            Value::from(n),
            IS_NEGATIVE,
        ));
    }
}

/// `ValidateImmutableField` on a JSON sub-value (null = absent).
pub(crate) fn immutable(new: &Value, old: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if !semantic_eq(new, old) {
        errs.push(FieldError::invalid(path, new.clone(), FIELD_IMMUTABLE));
    }
}

/// Deep equality that treats null, missing, `{}` and `[]` alike (Go's
/// nil-vs-empty is invisible after a JSON round trip in most places).
pub(crate) fn semantic_eq(a: &Value, b: &Value) -> bool {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Object(m) => m.values().all(empty),
            Value::Array(a) => a.is_empty(),
            _ => false,
        }
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.iter()
                .all(|(k, v)| semantic_eq(v, y.get(k).unwrap_or(&NULL)))
                && y.iter().all(|(k, v)| x.contains_key(k) || empty(v))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| semantic_eq(p, q))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ if empty(a) && empty(b) => true,
        _ => a == b,
    }
}

/// `ValidateLabels`: keys are qualified names, values label values.
pub(crate) fn labels(v: &Value, parent: &str, name: &str, errs: &mut Vec<FieldError>) {
    let Some(m) = v.as_object() else { return };
    // The path is built for an error only: every write of every object
    // passes here.
    let path = || ch(parent, name);
    for (k, val) in m {
        for msg in crate::api::name::is_qualified_name(k) {
            errs.push(FieldError::invalid(path(), Value::from(k.as_str()), msg));
        }
        let val = val.as_str().unwrap_or("");
        for msg in crate::api::name::is_valid_label_value(val) {
            errs.push(FieldError::invalid(key(&path(), k), Value::from(val), msg));
        }
    }
}

/// `ValidateLabelSelector` (metav1 validation, default options).
pub(crate) fn label_selector(sel: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if sel.is_null() {
        return;
    }
    for (i, req) in arr(sel, "matchExpressions").iter().enumerate() {
        let rp = idx(&ch(path, "matchExpressions"), i);
        let values = arr(req, "values");
        match s(req, "operator") {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(FieldError::required(
                        ch(&rp, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(FieldError::forbidden(
                        ch(&rp, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            op => errs.push(FieldError::invalid(
                ch(&rp, "operator"),
                Value::from(op),
                "not a valid selector operator",
            )),
        }
        for msg in crate::api::name::is_qualified_name(s(req, "key")) {
            errs.push(FieldError::invalid(
                ch(&rp, "key"),
                Value::from(s(req, "key")),
                msg,
            ));
        }
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            for msg in crate::api::name::is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    idx(&ch(&rp, "values"), j),
                    Value::from(v),
                    msg,
                ));
            }
        }
    }
    labels(get(sel, "matchLabels"), path, "matchLabels", errs);
}

/// Does a LabelSelector (`matchLabels` + `matchExpressions`) select `labels`?
pub(crate) fn selector_matches(sel: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let ml_ok = obj_entries(sel, "matchLabels")
        .iter()
        .all(|(k, v)| label(k) == v.as_str());
    let me_ok = arr(sel, "matchExpressions").iter().all(|r| {
        let vals: Vec<&str> = arr(r, "values").iter().filter_map(Value::as_str).collect();
        let l = label(s(r, "key"));
        match s(r, "operator") {
            "In" => l.is_some_and(|x| vals.contains(&x)),
            "NotIn" => l.is_none_or(|x| !vals.contains(&x)),
            "Exists" => l.is_some(),
            "DoesNotExist" => l.is_none(),
            _ => false,
        }
    });
    ml_ok && me_ok
}

/// True when a selector has neither matchLabels nor matchExpressions.
pub(crate) fn selector_empty(sel: &Value) -> bool {
    obj_entries(sel, "matchLabels").is_empty() && arr(sel, "matchExpressions").is_empty()
}

/// Parses a quantity field; an unparsable one is reported as upstream's
/// decoder would word it (the real server rejects it at decode time).
pub(crate) fn quantity_at(v: &Value, path: &str, errs: &mut Vec<FieldError>) -> Option<Quantity> {
    match quantity::parse_value(v) {
        Ok(q) => Some(q),
        Err(e) => {
            errs.push(FieldError::invalid(path, v.clone(), e.to_string()));
            None
        }
    }
}

/// `ValidateResourceQuantityValue` for non-negative quantities.
pub(crate) fn nonnegative_quantity(
    v: &Value,
    path: &str,
    errs: &mut Vec<FieldError>,
) -> Option<Quantity> {
    let q = quantity_at(v, path, errs)?;
    if q.is_negative() {
        errs.push(FieldError::invalid(
            path,
            Value::from(q.canonical()),
            IS_NEGATIVE,
        ));
    }
    Some(q)
}

/// Port given as int or named string (`ValidatePortNumOrName`).
pub(crate) fn port_num_or_name(v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    match v {
        Value::Number(n) => {
            let n = n.as_i64().unwrap_or(0);
            for msg in crate::api::name::is_valid_port_num(n) {
                errs.push(FieldError::invalid(path, Value::from(n), msg));
            }
        }
        Value::String(name) => {
            for msg in crate::api::name::is_valid_port_name(name) {
                errs.push(FieldError::invalid(path, Value::from(name.as_str()), msg));
            }
        }
        other => errs.push(FieldError::invalid(
            path,
            other.clone(),
            "must be an int or string",
        )),
    }
}

#[cfg(test)]
mod tests;
