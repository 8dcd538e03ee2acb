//! What an object charges against a ResourceQuota: upstream's quota
//! evaluators (`pkg/quota/v1/evaluator/core`: pods, services, PVCs, and
//! the generic object-count evaluator for everything else) and the scope
//! matching of `pods.go` (Terminating, NotTerminating, BestEffort,
//! NotBestEffort, PriorityClass).
//!
//! Pure functions over JSON objects, shared by the ResourceQuota admission
//! plugin and the resourcequota controller that writes `status.used`.

use crate::api::pointer::Pointer;
use crate::api::quantity::{Format, Quantity, parse_value};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// A resource list (`corev1.ResourceList`), ordered by name.
pub type ResourceList = BTreeMap<String, Quantity>;

fn one() -> Quantity {
    Quantity::from_units(1, Format::DecimalSI)
}

/// `quota.Add`: sums per name; the left operand's format wins.
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        out.entry(k.clone())
            .and_modify(|q| *q = q.add(v))
            .or_insert(*v);
    }
    out
}

/// `quota.Max`: the larger quantity per name.
fn max(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        match out.get(k) {
            Some(q) if q >= v => {}
            _ => {
                out.insert(k.clone(), *v);
            }
        }
    }
    out
}

/// A `ResourceList` read from JSON (unparsable quantities are skipped:
/// validation has refused them already).
pub fn resource_list(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, q)| parse_value(q).ok().map(|q| (k.clone(), q)))
        .collect()
}

fn containers<'a>(pod: &'a Value, list: &str) -> impl Iterator<Item = &'a Value> {
    pod.at(&format!("/spec/{list}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The pod's effective requests and limits: app containers summed, each
/// init container taken as a floor, plus the overhead (`PodRequests`).
pub fn pod_requests_limits(pod: &Value) -> (ResourceList, ResourceList) {
    let mut requests = ResourceList::new();
    let mut limits = ResourceList::new();
    for c in containers(pod, "containers") {
        requests = add(
            &requests,
            &resource_list(c.get_in(&["resources", "requests"])),
        );
        limits = add(&limits, &resource_list(c.get_in(&["resources", "limits"])));
    }
    for c in containers(pod, "initContainers") {
        requests = max(
            &requests,
            &resource_list(c.get_in(&["resources", "requests"])),
        );
        limits = max(&limits, &resource_list(c.get_in(&["resources", "limits"])));
    }
    let overhead = resource_list(pod.get_in(&["spec", "overhead"]));
    (add(&requests, &overhead), add(&limits, &overhead))
}

/// `podComputeUsageHelper`: the compute names a set of requests and
/// limits charges (`cpu` and `requests.cpu` for a cpu request, ...).
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".into(), one());
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(r) {
            out.insert(r.into(), *q);
            out.insert(format!("requests.{r}"), *q);
        }
        if let Some(q) = limits.get(r) {
            out.insert(format!("limits.{r}"), *q);
        }
    }
    for (r, q) in requests {
        if r.starts_with("hugepages-") || r.contains('/') {
            out.insert(format!("requests.{r}"), *q);
        }
    }
    out
}

/// `QuotaV1Pod`: a pod is charged unless it has finished or its deletion
/// grace period has run out.
fn pod_is_charged(pod: &Value, now: Timestamp) -> bool {
    let phase = pod
        .get_in(&["status", "phase"])
        .and_then(Value::as_str)
        .unwrap_or("");
    if phase == "Succeeded" || phase == "Failed" {
        return false;
    }
    let deleted_at = pod
        .get_in(&["metadata", "deletionTimestamp"])
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok());
    let grace = pod
        .get_in(&["metadata", "deletionGracePeriodSeconds"])
        .and_then(Value::as_i64);
    if let (Some(at), Some(grace)) = (deleted_at, grace) {
        let end = at
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or(at);
        if now > end {
            return false;
        }
    }
    true
}

/// `PodUsageFunc`: `count/pods` always, compute resources while charged.
fn pod_usage(pod: &Value, now: Timestamp) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/pods".into(), one());
    if !pod_is_charged(pod, now) {
        return out;
    }
    let (requests, limits) = pod_requests_limits(pod);
    add(&out, &compute_usage(&requests, &limits))
}

/// The service evaluator: `services`, `services.loadbalancers` and one
/// `services.nodeports` per port of a NodePort or LoadBalancer Service.
fn service_usage(svc: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/services".into(), one());
    out.insert("services".into(), one());
    let ty = svc
        .get_in(&["spec", "type"])
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    let ports = svc
        .get_in(&["spec", "ports"])
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as i64;
    let zero = Quantity::from_units(0, Format::DecimalSI);
    out.insert("services.loadbalancers".into(), zero);
    out.insert("services.nodeports".into(), zero);
    match ty {
        "NodePort" => {
            out.insert(
                "services.nodeports".into(),
                Quantity::from_units(ports, Format::DecimalSI),
            );
        }
        "LoadBalancer" => {
            out.insert("services.loadbalancers".into(), one());
            let node_ports = svc
                .get_in(&["spec", "allocateLoadBalancerNodePorts"])
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if node_ports {
                out.insert(
                    "services.nodeports".into(),
                    Quantity::from_units(ports, Format::DecimalSI),
                );
            }
        }
        _ => {}
    }
    out
}

/// The PVC evaluator: the claim count and its storage request, overall and
/// per StorageClass (`<class>.storageclass.storage.k8s.io/requests.storage`).
fn pvc_usage(pvc: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/persistentvolumeclaims".into(), one());
    out.insert("persistentvolumeclaims".into(), one());
    let class = pvc
        .get_in(&["spec", "storageClassName"])
        .and_then(Value::as_str)
        .unwrap_or("");
    if !class.is_empty() {
        out.insert(
            format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            one(),
        );
    }
    if let Some(q) = pvc
        .get_in(&["spec", "resources", "requests", "storage"])
        .and_then(|v| parse_value(v).ok())
    {
        out.insert("requests.storage".into(), q);
        if !class.is_empty() {
            out.insert(
                format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                q,
            );
        }
    }
    out
}

/// The object-count name of a resource (`count/deployments.apps`).
pub fn count_name(group: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("count/{plural}")
    } else {
        format!("count/{plural}.{group}")
    }
}

/// The usage one object of `group`/`plural` charges.
pub fn usage(group: &str, plural: &str, obj: &Value, now: Timestamp) -> ResourceList {
    match (group, plural) {
        ("", "pods") => pod_usage(obj, now),
        ("", "services") => service_usage(obj),
        ("", "persistentvolumeclaims") => pvc_usage(obj),
        _ => {
            let mut out = ResourceList::new();
            out.insert(count_name(group, plural), one());
            // The legacy names the core object-count evaluators also charge.
            if group.is_empty()
                && matches!(
                    plural,
                    "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas"
                )
            {
                out.insert(plural.to_string(), one());
            }
            out
        }
    }
}

/// `qos.GetPodQOS(pod) == BestEffort`: no container requests or limits
/// cpu or memory.
pub fn is_best_effort(pod: &Value) -> bool {
    ["containers", "initContainers"].iter().all(|list| {
        containers(pod, list).all(|c| {
            ["requests", "limits"].iter().all(|kind| {
                let l = resource_list(c.at(&format!("/resources/{kind}")));
                !l.keys().any(|k| k == "cpu" || k == "memory")
            })
        })
    })
}

fn is_terminating(pod: &Value) -> bool {
    pod.get_in(&["spec", "activeDeadlineSeconds"])
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0)
}

/// One scope requirement: `spec.scopes` entries read as `Exists`.
fn pod_matches_scope(pod: &Value, scope: &str, operator: &str, values: &[&str]) -> bool {
    match scope {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = pod
                .get_in(&["spec", "priorityClassName"])
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty());
            match operator {
                "Exists" => class.is_some(),
                "DoesNotExist" => class.is_none(),
                "In" => class.is_some_and(|c| values.contains(&c)),
                "NotIn" => class.is_none_or(|c| !values.contains(&c)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether the quota's scopes (and scopeSelector) select the object; only
/// pods match a scoped quota (`generic.Matches` with `MatchesNoScopeFunc`).
pub fn matches_scopes(quota: &Value, group: &str, plural: &str, obj: &Value) -> bool {
    let mut reqs: Vec<(String, String, Vec<&str>)> = quota
        .get_in(&["spec", "scopes"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| (s.to_string(), "Exists".to_string(), Vec::new()))
        .collect();
    for e in quota
        .get_in(&["spec", "scopeSelector", "matchExpressions"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |f: &str| e.get(f).and_then(Value::as_str).unwrap_or("").to_string();
        let values = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        reqs.push((field("scopeName"), field("operator"), values));
    }
    if reqs.is_empty() {
        return true;
    }
    if (group, plural) != ("", "pods") {
        return false;
    }
    reqs.iter()
        .all(|(scope, op, values)| pod_matches_scope(obj, scope, op, values))
}

/// The quota's hard limits (`spec.hard`).
pub fn hard(quota: &Value) -> ResourceList {
    resource_list(quota.get_in(&["spec", "hard"]))
}

/// The usage of `objects` (all of one kind) against `quota`: every hard
/// name the kind can charge, starting from zero (`CalculateUsage`).
pub fn used_by<'a>(
    quota: &Value,
    group: &str,
    plural: &str,
    objects: impl IntoIterator<Item = &'a Value>,
    now: Timestamp,
) -> ResourceList {
    let hard = hard(quota);
    let mut total = ResourceList::new();
    for obj in objects {
        if matches_scopes(quota, group, plural, obj) {
            total = add(&total, &usage(group, plural, obj, now));
        }
    }
    total.retain(|k, _| hard.contains_key(k));
    total
}

/// Formats a resource list as upstream's `prettyPrint`: `name=value`
/// sorted by name, joined by commas.
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn pod(requests: Value, limits: Value) -> Value {
        json!({"spec": {"containers": [
            {"name": "a", "resources": {"requests": requests, "limits": limits}},
            {"name": "b", "resources": {"requests": requests, "limits": limits}},
        ]}})
    }

    fn strings(l: &ResourceList) -> Vec<(String, String)> {
        l.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
    }

    #[test]
    fn pod_usage_sums_containers_and_keeps_formats() {
        let p = pod(
            json!({"cpu": "250m", "memory": "64Mi"}),
            json!({"cpu": "500m"}),
        );
        let u = strings(&usage("", "pods", &p, now()));
        let want: Vec<(String, String)> = [
            ("count/pods", "1"),
            ("cpu", "500m"),
            ("limits.cpu", "1"),
            ("memory", "128Mi"),
            ("pods", "1"),
            ("requests.cpu", "500m"),
            ("requests.memory", "128Mi"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(u, want);
    }

    #[test]
    fn finished_and_expired_pods_charge_only_their_count() {
        let cases = [
            (json!({"status": {"phase": "Succeeded"}}), false),
            (json!({"status": {"phase": "Failed"}}), false),
            (json!({"status": {"phase": "Running"}}), true),
            (
                json!({"metadata": {"deletionTimestamp": "2025-12-31T23:59:00Z", "deletionGracePeriodSeconds": 30}}),
                false,
            ),
            (
                json!({"metadata": {"deletionTimestamp": "2025-12-31T23:59:50Z", "deletionGracePeriodSeconds": 30}}),
                true,
            ),
        ];
        for (p, charged) in cases {
            let u = usage("", "pods", &p, now());
            assert_eq!(u.contains_key("pods"), charged, "{p}");
            assert!(u.contains_key("count/pods"));
        }
    }

    #[test]
    fn init_containers_are_a_floor() {
        let p = json!({"spec": {
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "300m"}}}],
        }});
        assert_eq!(
            usage("", "pods", &p, now())["requests.cpu"].to_string(),
            "300m"
        );
    }

    #[test]
    fn services_charge_node_ports_and_load_balancers() {
        let lb = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        let u = usage("", "services", &lb, now());
        assert_eq!(u["services.nodeports"].to_string(), "2");
        assert_eq!(u["services.loadbalancers"].to_string(), "1");
        let np = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        let u = usage("", "services", &np, now());
        assert_eq!(u["services.nodeports"].to_string(), "1");
        assert_eq!(u["services.loadbalancers"].to_string(), "0");
    }

    #[test]
    fn pvcs_charge_storage_per_class() {
        let pvc = json!({"spec": {"storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}}});
        let u = strings(&usage("", "persistentvolumeclaims", &pvc, now()));
        assert!(u.contains(&("requests.storage".into(), "1Gi".into())));
        assert!(u.contains(&(
            "standard.storageclass.storage.k8s.io/requests.storage".into(),
            "1Gi".into()
        )));
        assert!(u.contains(&("persistentvolumeclaims".into(), "1".into())));
    }

    #[test]
    fn other_kinds_charge_their_count_names() {
        let u = usage("apps", "deployments", &json!({}), now());
        assert_eq!(u.keys().collect::<Vec<_>>(), ["count/deployments.apps"]);
        let u = usage("", "configmaps", &json!({}), now());
        assert_eq!(
            u.keys().collect::<Vec<_>>(),
            ["configmaps", "count/configmaps"]
        );
    }

    #[test]
    fn scopes_select_pods() {
        let best_effort = json!({"spec": {"containers": [{"name": "a"}]}});
        let burstable = pod(json!({"cpu": "1"}), json!({}));
        let terminating =
            json!({"spec": {"activeDeadlineSeconds": 10, "containers": [{"name": "a"}]}});
        let high = json!({"spec": {"priorityClassName": "high", "containers": [{"name": "a"}]}});
        let q = |scopes: Value| json!({"spec": {"scopes": scopes}});
        let sel = |op: &str, values: Value| {
            json!({"spec": {"scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": op, "values": values}]}}})
        };
        let cases = [
            (q(json!(["BestEffort"])), &best_effort, true),
            (q(json!(["BestEffort"])), &burstable, false),
            (q(json!(["NotBestEffort"])), &burstable, true),
            (q(json!(["Terminating"])), &terminating, true),
            (q(json!(["Terminating"])), &best_effort, false),
            (q(json!(["NotTerminating"])), &best_effort, true),
            (sel("In", json!(["high"])), &high, true),
            (sel("In", json!(["high"])), &best_effort, false),
            (sel("NotIn", json!(["high"])), &best_effort, true),
            (sel("Exists", json!([])), &high, true),
        ];
        for (quota, p, want) in cases {
            assert_eq!(matches_scopes(&quota, "", "pods", p), want, "{quota} {p}");
        }
        assert!(!matches_scopes(
            &q(json!(["BestEffort"])),
            "",
            "services",
            &json!({})
        ));
    }

    #[test]
    fn used_by_masks_to_hard_names() {
        let quota = json!({"spec": {"hard": {"pods": "3", "requests.cpu": "1"}}});
        let pods = [
            pod(json!({"cpu": "100m"}), json!({})),
            pod(json!({"cpu": "200m"}), json!({})),
        ];
        let used = used_by(&quota, "", "pods", pods.iter(), now());
        assert_eq!(pretty(&used), "pods=2,requests.cpu=600m");
    }
}
