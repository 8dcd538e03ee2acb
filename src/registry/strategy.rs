//! Per-kind rules of the apiserver's registry strategies
//! (`pkg/registry/<group>/<kind>/strategy.go` upstream): what a create
//! resets, what an update keeps, when `metadata.generation` moves.

use crate::api::pointer::Pointer;
use crate::api::resource::ResourceInfo;
use serde_json::{Map, Value, json};

/// Kinds whose `metadata.generation` tracks spec changes.
pub fn tracks_generation(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.plural),
        ("apps", _)
            | ("batch", _)
            | ("autoscaling", _)
            | ("policy", "poddisruptionbudgets")
            | ("networking.k8s.io", "ingresses" | "networkpolicies")
            | ("", "replicationcontrollers")
            | ("admissionregistration.k8s.io", _)
    ) && info.plural != "controllerrevisions"
}

/// Kinds whose status can only be written through `/status`.
pub fn has_status_subresource(info: &ResourceInfo) -> bool {
    info.subresource("status").is_some()
}

fn object_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    obj.as_object_mut()
}

/// Resets what a create may not set (`PrepareForCreate`).
pub fn prepare_create(info: &ResourceInfo, obj: &mut Value) {
    let Some(root) = object_mut(obj) else { return };
    match (info.group, info.plural) {
        ("", "pods") => {
            let qos = root
                .get("spec")
                .map_or("BestEffort", crate::api::qos::compute);
            root.insert(
                "status".into(),
                json!({"phase": "Pending", "qosClass": qos}),
            );
        }
        ("", "namespaces") => {
            root.insert("status".into(), json!({"phase": "Active"}));
        }
        ("", "services") => {
            root.insert("status".into(), json!({"loadBalancer": {}}));
        }
        ("", "persistentvolumeclaims" | "persistentvolumes") => {
            root.insert("status".into(), json!({"phase": "Pending"}));
        }
        ("", "nodes") => {}
        _ if has_status_subresource(info) => {
            root.insert("status".into(), json!({}));
        }
        _ => {}
    }
}

/// Carries over what a main-resource update may not change
/// (`PrepareForUpdate`), and bumps generation on spec changes.
pub fn prepare_update(info: &ResourceInfo, new: &mut Value, old: &Value) {
    if has_status_subresource(info)
        && let Some(root) = object_mut(new)
    {
        match old.get("status") {
            Some(s) => root.insert("status".into(), s.clone()),
            None => root.remove("status"),
        };
    }
    bump_generation(info, new, old);
}

/// Keeps everything but `status` on a `/status` update
/// (`PrepareForUpdate` of the status strategies plus
/// `ResetObjectMetaForStatus`). A Deployment's status update also carries
/// its annotations (upstream resets only spec and labels): that is how the
/// controller sets `deployment.kubernetes.io/revision` without bumping
/// `metadata.generation`.
pub fn prepare_status_update(info: &ResourceInfo, new: &mut Value, old: &Value) {
    // Taken, not cloned: `new` is replaced below. The old status is not
    // copied either (it is dropped from the merge anyway).
    let status = new.as_object_mut().and_then(|r| r.remove("status"));
    let annotations = new
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("annotations"));
    let mut merged = match old.as_object() {
        Some(root) => Value::Object(
            root.iter()
                .filter(|(k, _)| *k != "status")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => old.clone(),
    };
    if let Some(root) = object_mut(&mut merged) {
        match status {
            Some(s) => root.insert("status".into(), s),
            None => root.remove("status"),
        };
    }
    if (info.group, info.plural) == ("apps", "deployments")
        && let Some(md) = crate::api::meta::metadata_mut(&mut merged)
    {
        match annotations {
            Some(a) => md.insert("annotations".into(), a),
            None => md.remove("annotations"),
        };
    }
    *new = merged;
}

fn bump_generation(info: &ResourceInfo, new: &mut Value, old: &Value) {
    let old_gen = old
        .get_in(&["metadata", "generation"])
        .and_then(Value::as_i64)
        .unwrap_or(0);
    // the webhook configurations have no spec: their `webhooks` count
    let spec_changed = new.get("spec") != old.get("spec")
        || new.get("webhooks") != old.get("webhooks")
        || (info.plural == "deployments"
            && new.get_in(&["metadata", "annotations"])
                != old.get_in(&["metadata", "annotations"]));
    let generation = if tracks_generation(info) && spec_changed {
        old_gen + 1
    } else {
        old_gen
    };
    if generation > 0 {
        crate::api::meta::set_meta(new, "generation", generation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_change_bumps_generation_status_does_not() {
        let info = crate::api::resource::lookup("apps", "v1", "deployments").unwrap();
        let old =
            json!({"metadata":{"generation":3},"spec":{"replicas":1},"status":{"replicas":1}});
        let mut new =
            json!({"metadata":{"generation":3},"spec":{"replicas":2},"status":{"replicas":9}});
        prepare_update(info, &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 4);
        assert_eq!(new["status"]["replicas"], 1);
        let mut same = json!({"metadata":{"generation":3},"spec":{"replicas":1}});
        prepare_update(info, &mut same, &old);
        assert_eq!(same["metadata"]["generation"], 3);
    }

    #[test]
    fn webhook_configurations_count_generations_of_their_webhooks() {
        let info = crate::api::resource::lookup(
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
        )
        .unwrap();
        let old = json!({"metadata":{"generation":1},"webhooks":[{"failurePolicy":"Fail"}]});
        let mut new = json!({"metadata":{"generation":1},"webhooks":[{"failurePolicy":"Ignore"}]});
        prepare_update(info, &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 2);
        let mut relabelled = json!({"metadata":{"generation":1,"labels":{"a":"b"}},"webhooks":[{"failurePolicy":"Fail"}]});
        prepare_update(info, &mut relabelled, &old);
        assert_eq!(relabelled["metadata"]["generation"], 1);
    }
}
