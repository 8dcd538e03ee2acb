//! Pod helpers controllers share (`k8s.io/kubectl/pkg/util/podutils` and
//! `pkg/api/v1/pod` upstream): active, ready, available.

use crate::api::meta;
use crate::api::pointer::Pointer;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// `status.phase`.
pub fn phase(pod: &Value) -> &str {
    // `get` chains, not `pointer`: these run for every pod on hot paths.
    pod.get("status")
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `controller.IsPodActive`: not finished and not being deleted.
pub fn is_active(pod: &Value) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && !meta::is_deleting(pod)
}

/// A pod condition of type `ty`.
pub fn condition<'a>(pod: &'a Value, ty: &str) -> Option<&'a Value> {
    pod.get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
}

/// `IsPodReady`: the Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    condition(pod, "Ready")
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// Parses a `metav1.Time`.
pub fn parse_time(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// When the pod became ready (the Ready condition's transition time).
pub fn ready_since(pod: &Value) -> Option<Timestamp> {
    parse_time(condition(pod, "Ready").and_then(|c| c.get("lastTransitionTime")))
}

/// `IsPodAvailable`: ready for longer than `min_ready_seconds`.
pub fn is_available(pod: &Value, min_ready_seconds: i64, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since(pod)
        .and_then(|t| {
            t.checked_add(SignedDuration::from_secs(min_ready_seconds))
                .ok()
        })
        .is_some_and(|t| t < now)
}

/// `metadata.creationTimestamp`.
pub fn created(obj: &Value) -> Option<Timestamp> {
    parse_time(obj.get_in(&["metadata", "creationTimestamp"]))
}

/// An integer field, defaulting to `default`.
pub fn int_at(obj: &Value, pointer: &str, default: i64) -> i64 {
    obj.at(pointer).and_then(Value::as_i64).unwrap_or(default)
}
