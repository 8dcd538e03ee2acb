//! The LimitRanger admission plugin (`plugin/pkg/admission/limitranger`).
//!
//! Mutating half, on pod creates: each `Container` item's `default` and
//! `defaultRequest` fill the limits and requests containers leave out, and
//! the pod is annotated `kubernetes.io/limit-ranger: LimitRanger plugin
//! set: cpu, memory request for container app; cpu limit for container app`.
//!
//! Validating half, on pod and PVC creates: `min`, `max` and
//! `maxLimitRequestRatio` of `Container` and `Pod` items (pods) and of
//! `PersistentVolumeClaim` items (claims), refused as `pods "x" is
//! forbidden: minimum cpu usage per Container is 100m, but request is 50m`;
//! several failures are joined like upstream's error aggregate
//! (`[a, b]`). Go iterates the limit maps in random order; here resource
//! names are taken in sorted order.

use super::quota_usage::{ResourceList, resource_list};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::quantity::Quantity;
use crate::api::resource::ResourceInfo;
use crate::api::status::{GroupResource, Status};
use crate::store::{ResKey, Store};
use serde_json::{Map, Value, json};
use std::sync::Arc;

const LIMIT_RANGES: ResKey = ResKey {
    group: "",
    resource: "limitranges",
};
/// The annotation naming what the plugin defaulted.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

fn ranges(store: &Store, ns: &str) -> Vec<Arc<Value>> {
    let (mut items, _) = store.list(LIMIT_RANGES, Some(ns));
    items.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));
    items
}

fn items_of<'a>(lr: &'a Value, ty: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    lr.get_in(&["spec", "limits"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |i| i.get("type").and_then(Value::as_str) == Some(ty))
}

/// `defaultContainerResourceRequirements`: the defaults of every Container
/// item, later items winning.
fn container_defaults(lr: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let mut requests = Map::new();
    let mut limits = Map::new();
    for item in items_of(lr, "Container") {
        for (field, into) in [("defaultRequest", &mut requests), ("default", &mut limits)] {
            for (k, v) in item
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                into.insert(k.clone(), v.clone());
            }
        }
    }
    (requests, limits)
}

/// Fills one container's missing requests or limits; returns the names set.
fn merge(container: &mut Value, kind: &str, defaults: &Map<String, Value>) -> Vec<String> {
    let Some(c) = container.as_object_mut() else {
        return Vec::new();
    };
    let resources = c.entry("resources").or_insert_with(|| json!({}));
    let Some(resources) = resources.as_object_mut() else {
        return Vec::new();
    };
    let list = resources.entry(kind).or_insert_with(|| json!({}));
    let Some(list) = list.as_object_mut() else {
        return Vec::new();
    };
    let mut set = Vec::new();
    for (k, v) in defaults {
        if !list.contains_key(k) {
            list.insert(k.clone(), v.clone());
            set.push(k.clone());
        }
    }
    set.sort();
    set
}

/// `PodMutateLimitFunc` for one LimitRange.
pub fn default_pod(lr: &Value, pod: &mut Value) {
    let (requests, limits) = container_defaults(lr);
    if requests.is_empty() && limits.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    for (list, label) in [
        ("containers", "container"),
        ("initContainers", "init container"),
    ] {
        let Some(cs) = pod
            .pointer_mut(&format!("/spec/{list}"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in cs {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let set_requests = merge(c, "requests", &requests);
            let set_limits = merge(c, "limits", &limits);
            if !set_requests.is_empty() {
                notes.push(format!(
                    "{} request for {label} {name}",
                    set_requests.join(", ")
                ));
            }
            if !set_limits.is_empty() {
                notes.push(format!(
                    "{} limit for {label} {name}",
                    set_limits.join(", ")
                ));
            }
        }
    }
    if notes.is_empty() {
        return;
    }
    if let Some(md) = meta::metadata_mut(pod) {
        let ann = md.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = ann.as_object_mut() {
            a.insert(
                ANNOTATION.into(),
                json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
            );
        }
    }
}

/// The mutating half for a pod create in `ns`.
pub fn mutate_pod(store: &Store, ns: &str, pod: &mut Value) {
    for lr in ranges(store, ns) {
        default_pod(&lr, pod);
    }
}

fn limit_map(item: &Value, field: &str) -> ResourceList {
    resource_list(item.get(field))
}

/// `minConstraint`.
fn min_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let Some(req) = request.get(name) else {
        return Some(format!(
            "minimum {name} usage per {ty} is {enforced}.  No request is specified"
        ));
    };
    if req < enforced {
        return Some(format!(
            "minimum {name} usage per {ty} is {enforced}, but request is {req}"
        ));
    }
    match limit.get(name) {
        Some(lim) if lim < enforced => Some(format!(
            "minimum {name} usage per {ty} is {enforced}, but limit is {lim}"
        )),
        _ => None,
    }
}

/// `maxConstraint`.
fn max_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let Some(lim) = limit.get(name) else {
        return Some(format!(
            "maximum {name} usage per {ty} is {enforced}.  No limit is specified"
        ));
    };
    if lim > enforced {
        return Some(format!(
            "maximum {name} usage per {ty} is {enforced}, but limit is {lim}"
        ));
    }
    match request.get(name) {
        Some(req) if req > enforced => Some(format!(
            "maximum {name} usage per {ty} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

/// `maxRequestConstraint` (claims, which have no limits).
fn max_request_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    request: &ResourceList,
) -> Option<String> {
    match request.get(name) {
        None => Some(format!(
            "maximum {name} usage per {ty} is {enforced}.  No request is specified"
        )),
        Some(req) if req > enforced => Some(format!(
            "maximum {name} usage per {ty} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

/// `limitRequestRatioConstraint`: the ratio printed with Go's `%f`.
fn ratio_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let req = request.get(name).map_or(0, Quantity::milli_value);
    if req == 0 {
        return Some(format!(
            "{name} max limit to request ratio per {ty} is {enforced}, but no request is specified or request is 0"
        ));
    }
    let lim = limit.get(name).map_or(0, Quantity::milli_value);
    if lim == 0 {
        return Some(format!(
            "{name} max limit to request ratio per {ty} is {enforced}, but no limit is specified or limit is 0"
        ));
    }
    let ratio = lim as f64 / req as f64;
    if ratio * 1000.0 > enforced.milli_value() as f64 {
        return Some(format!(
            "{name} max limit to request ratio per {ty} is {enforced}, but provided ratio is {ratio:.6}"
        ));
    }
    None
}

/// Min, max and ratio of one item against one set of requests and limits.
fn check_item(
    item: &Value,
    ty: &str,
    request: &ResourceList,
    limit: &ResourceList,
    errs: &mut Vec<String>,
) {
    for (k, v) in &limit_map(item, "min") {
        errs.extend(min_constraint(ty, k, v, request, limit));
    }
    for (k, v) in &limit_map(item, "max") {
        errs.extend(max_constraint(ty, k, v, request, limit));
    }
    for (k, v) in &limit_map(item, "maxLimitRequestRatio") {
        errs.extend(ratio_constraint(ty, k, v, request, limit));
    }
}

/// `PodValidateLimitFunc` for one LimitRange: the failures, in order.
pub fn validate_pod(lr: &Value, pod: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    for item in lr
        .get_in(&["spec", "limits"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item.get("type").and_then(Value::as_str) {
            Some("Container") => {
                for list in ["containers", "initContainers"] {
                    for c in pod
                        .at(&format!("/spec/{list}"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let req = resource_list(c.get_in(&["resources", "requests"]));
                        let lim = resource_list(c.get_in(&["resources", "limits"]));
                        check_item(item, "Container", &req, &lim, &mut errs);
                    }
                }
            }
            Some("Pod") => {
                let (req, lim) = super::quota_usage::pod_requests_limits(pod);
                check_item(item, "Pod", &req, &lim, &mut errs);
            }
            _ => {}
        }
    }
    errs
}

/// `PersistentVolumeClaimValidateLimitFunc` for one LimitRange.
pub fn validate_pvc(lr: &Value, pvc: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let request = resource_list(pvc.get_in(&["spec", "resources", "requests"]));
    let ty = "PersistentVolumeClaim";
    for item in items_of(lr, ty) {
        for (k, v) in &limit_map(item, "min") {
            errs.extend(min_constraint(ty, k, v, &request, &ResourceList::new()));
        }
        for (k, v) in &limit_map(item, "max") {
            errs.extend(max_request_constraint(ty, k, v, &request));
        }
    }
    errs
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several
/// (deduplicated) in brackets.
pub fn aggregate(errs: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errs {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    if seen.len() == 1 {
        seen[0].to_string()
    } else {
        format!("[{}]", seen.join(", "))
    }
}

/// The validating half: refuses a pod or claim create the first LimitRange
/// (by name) with failures does not allow.
pub fn validate_create(
    store: &Store,
    info: &ResourceInfo,
    ns: &str,
    obj: &Value,
) -> Result<(), Status> {
    let check: fn(&Value, &Value) -> Vec<String> = match (info.group, info.plural) {
        ("", "pods") => validate_pod,
        ("", "persistentvolumeclaims") => validate_pvc,
        _ => return Ok(()),
    };
    for lr in ranges(store, ns) {
        let errs = check(&lr, obj);
        if !errs.is_empty() {
            return Err(Status::forbidden(
                GroupResource {
                    group: info.group,
                    resource: info.plural,
                },
                meta::name(obj),
                &aggregate(&errs),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lr(limits: Value) -> Value {
        let mut lr = json!({"metadata": {"name": "lr"}, "spec": {"limits": limits}});
        crate::registry::defaults::apply_defaults("", "LimitRange", &mut lr);
        lr
    }

    fn pod(resources: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "resources": resources}]}})
    }

    #[test]
    fn defaults_fill_missing_values_and_annotate() {
        let range = lr(json!([{"type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"}}]));
        let cases = [
            (
                json!({}),
                json!({"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}),
                Some(
                    "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app",
                ),
            ),
            (
                json!({"requests": {"cpu": "200m"}, "limits": {"memory": "1Gi"}}),
                json!({"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}),
                Some(
                    "LimitRanger plugin set: memory request for container app; cpu limit for container app",
                ),
            ),
            (
                json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
                json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
                None,
            ),
        ];
        for (given, want, note) in cases {
            let mut p = pod(given);
            default_pod(&range, &mut p);
            assert_eq!(p["spec"]["containers"][0]["resources"], want);
            assert_eq!(
                p.at("/metadata/annotations/kubernetes.io~1limit-ranger")
                    .and_then(Value::as_str),
                note
            );
        }
    }

    #[test]
    fn init_containers_are_named_as_such() {
        let range = lr(json!([{"type": "Container", "defaultRequest": {"cpu": "100m"}}]));
        let mut p = json!({"metadata": {}, "spec": {
            "initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}});
        default_pod(&range, &mut p);
        assert_eq!(
            p["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu request for container app; cpu request for init container init"
        );
    }

    #[test]
    fn min_max_and_ratio_messages() {
        let cases = [
            (
                json!([{"type": "Container", "min": {"cpu": "100m"}}]),
                json!({"requests": {"cpu": "50m"}}),
                vec!["minimum cpu usage per Container is 100m, but request is 50m"],
            ),
            (
                json!([{"type": "Container", "min": {"cpu": "100m"}}]),
                json!({"requests": {"cpu": "200m"}, "limits": {"cpu": "50m"}}),
                vec!["minimum cpu usage per Container is 100m, but limit is 50m"],
            ),
            (
                json!([{"type": "Container", "max": {"memory": "1Gi"}}]),
                json!({"limits": {"memory": "2Gi"}}),
                vec!["maximum memory usage per Container is 1Gi, but limit is 2Gi"],
            ),
            (
                json!([{"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}]),
                json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "400m"}}),
                vec![
                    "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
                ],
            ),
            (
                json!([{"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}]),
                json!({"limits": {"cpu": "400m"}}),
                vec![
                    "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0",
                ],
            ),
            (
                json!([{"type": "Pod", "max": {"cpu": "1"}}]),
                json!({"requests": {"cpu": "2"}, "limits": {"cpu": "2"}}),
                vec!["maximum cpu usage per Pod is 1, but limit is 2"],
            ),
            (
                json!([{"type": "Pod", "min": {"memory": "1Gi"}}]),
                json!({}),
                vec!["minimum memory usage per Pod is 1Gi.  No request is specified"],
            ),
            (
                json!([{"type": "Container", "min": {"cpu": "100m"}, "max": {"cpu": "1"}}]),
                json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}),
                vec![],
            ),
        ];
        for (limits, resources, want) in cases {
            // Validation sees the pod after the mutating half ran.
            let range = json!({"spec": {"limits": limits}});
            assert_eq!(
                validate_pod(&range, &pod(resources.clone())),
                want,
                "{limits} {resources}"
            );
        }
    }

    #[test]
    fn pvc_limits_apply_to_requests() {
        let range = json!({"spec": {"limits": [{"type": "PersistentVolumeClaim",
            "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}]}});
        let claim = |s: &str| json!({"spec": {"resources": {"requests": {"storage": s}}}});
        assert_eq!(
            validate_pvc(&range, &claim("500Mi")),
            ["minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"]
        );
        assert_eq!(
            validate_pvc(&range, &claim("20Gi")),
            ["maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"]
        );
        assert!(validate_pvc(&range, &claim("5Gi")).is_empty());
    }

    #[test]
    fn several_failures_aggregate_in_brackets() {
        assert_eq!(aggregate(&["a".into()]), "a");
        assert_eq!(aggregate(&["a".into(), "b".into(), "a".into()]), "[a, b]");
    }
}
