//! Helpers the Endpoints and EndpointSlice controllers share (upstream's
//! `k8s.io/endpointslice/util`, `pkg/api/v1/pod.FindPort` and the trigger
//! time tracker): which Services select a pod, whether a pod belongs in
//! endpoints, its address for a Service, the container port a Service port
//! targets, and the `endpoints.kubernetes.io/last-change-trigger-time`.

use super::podutil::{self, parse_time};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::snapshot::{ObjectKey, Snapshot};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// Resources of Service routing.
pub mod res {
    pub use crate::sim::snapshot::res::{ENDPOINTS, ENDPOINTSLICES, SERVICES};
}

/// `v1.EndpointsLastChangeTriggerTime`.
pub const TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
/// `v1.IsHeadlessService`.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// The selector the controllers act on: none for ExternalName Services
/// and for Services without one (their endpoints are managed out of
/// band). An empty map counts as none, as it does once stored upstream.
pub fn selector(svc: &Value) -> Option<&Map<String, Value>> {
    if svc.get_in(&["spec", "type"]).and_then(Value::as_str) == Some("ExternalName") {
        return None;
    }
    svc.get_in(&["spec", "selector"])
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
}

/// `labels.Set(selector).AsSelector().Matches(pod labels)`.
pub fn selects(sel: &Map<String, Value>, obj: &Value) -> bool {
    let labels = meta::labels(obj);
    sel.iter().all(|(k, v)| {
        labels
            .and_then(|l| l.get(k))
            .is_some_and(|lv| lv.as_str() == v.as_str())
    })
}

/// The pods a Service selects, by name.
pub fn selected_pods<'a>(
    snap: &'a Snapshot,
    svc: &'a Value,
    sel: &'a Map<String, Value>,
) -> Vec<&'a Value> {
    let mut pods: Vec<&Value> = snap
        .list(crate::sim::snapshot::res::PODS, Some(meta::namespace(svc)))
        .map(|p| &**p)
        .filter(|p| selects(sel, p))
        .collect();
    pods.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));
    pods
}

/// Keys of every Service with a selector in `namespace`: a pod change may
/// matter to any of them (its labels may have stopped matching, which the
/// new object alone cannot tell).
pub fn services_in(snap: &Snapshot, namespace: &str) -> Vec<ObjectKey> {
    snap.selecting_services(namespace).collect()
}

/// The Services a change to `pod` can matter to, as upstream's
/// `getPodServiceMemberships` over the pod's old and new labels: those
/// whose selector matches it now, and those whose endpoints `listed` it (a
/// pod that stopped matching, or is gone, still has to leave them). A
/// Service that neither selects the pod nor lists it cannot change.
pub fn services_for_pod(
    snap: &Snapshot,
    pod: &Value,
    listed: impl Fn(&ObjectKey, &str) -> bool,
) -> Vec<ObjectKey> {
    let name = meta::name(pod);
    snap.selecting_services(meta::namespace(pod))
        .filter(|key| {
            let selected = snap
                .get(res::SERVICES, &key.namespace, &key.name)
                .and_then(|svc| selector(svc))
                .is_some_and(|sel| selects(sel, pod));
            selected || listed(key, name)
        })
        .collect()
}

/// Whether `endpoints` (an address list holder: an Endpoints subset or an
/// EndpointSlice's endpoints) names the pod `name` as a target.
pub fn targets_pod(addresses: &[Value], name: &str) -> bool {
    addresses.iter().any(|a| {
        a.get_in(&["targetRef", "kind"]).and_then(Value::as_str) == Some("Pod")
            && a.get_in(&["targetRef", "name"]).and_then(Value::as_str) == Some(name)
    })
}

/// `ShouldPodBeInEndpoints`: not terminal, has an IP, and not terminating
/// unless `include_terminating`.
pub fn should_pod_be_in_endpoints(pod: &Value, include_terminating: bool) -> bool {
    if matches!(podutil::phase(pod), "Succeeded" | "Failed") {
        return false;
    }
    if pod_ips(pod).is_empty() {
        return false;
    }
    include_terminating || !meta::is_deleting(pod)
}

/// `status.podIPs`, or `status.podIP` alone when the list is missing.
fn pod_ips(pod: &Value) -> Vec<&str> {
    let list: Vec<&str> = pod
        .get_in(&["status", "podIPs"])
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("ip").and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !list.is_empty() {
        return list;
    }
    pod.get_in(&["status", "podIP"])
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .into_iter()
        .collect()
}

/// The Service's IP family (`spec.ipFamilies[0]`, else from the cluster IP).
pub fn ip_family(svc: &Value) -> &'static str {
    let first = svc
        .at("/spec/ipFamilies/0")
        .and_then(Value::as_str)
        .or_else(|| {
            let ip = svc.get_in(&["spec", "clusterIP"]).and_then(Value::as_str)?;
            (!ip.is_empty() && ip != "None").then(|| if ip.contains(':') { "IPv6" } else { "IPv4" })
        });
    match first {
        Some("IPv6") => "IPv6",
        _ => "IPv4",
    }
}

/// The pod IP of the Service's family (`podToEndpointAddressForService`).
pub fn pod_ip_for(svc: &Value, pod: &Value) -> Option<String> {
    let v6 = ip_family(svc) == "IPv6";
    pod_ips(pod)
        .into_iter()
        .find(|ip| ip.contains(':') == v6)
        .map(str::to_string)
}

/// `FindPort`: the container port a Service port targets on this pod; a
/// named targetPort is looked up in the pod's containers (and restartable
/// init containers) with the same protocol.
pub fn find_port(pod: &Value, svc_port: &Value) -> Option<i64> {
    let protocol = svc_port
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("TCP");
    match svc_port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => {
            // A numeric string is an int-or-string holding a number.
            if let Ok(n) = name.parse::<i64>() {
                return Some(n);
            }
            let containers = pod
                .get_in(&["spec", "containers"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            let sidecars = pod
                .get_in(&["spec", "initContainers"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|c| c.get("restartPolicy").and_then(Value::as_str) == Some("Always"));
            containers
                .chain(sidecars)
                .flat_map(|c| {
                    c.get("ports")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                })
                .find(|p| {
                    p.get("name").and_then(Value::as_str) == Some(name.as_str())
                        && p.get("protocol").and_then(Value::as_str).unwrap_or("TCP") == protocol
                })
                .and_then(|p| p.get("containerPort").and_then(Value::as_i64))
        }
        // Defaulting sets targetPort to port; be lenient with old objects.
        _ => svc_port.get("port").and_then(Value::as_i64),
    }
}

/// `ShouldSetHostname`: the pod asked for this Service as its subdomain.
pub fn hostname_for(pod: &Value, svc: &Value) -> Option<String> {
    let hostname = pod.get_in(&["spec", "hostname"]).and_then(Value::as_str)?;
    let subdomain = pod.get_in(&["spec", "subdomain"]).and_then(Value::as_str)?;
    (!hostname.is_empty()
        && subdomain == meta::name(svc)
        && meta::namespace(svc) == meta::namespace(pod))
    .then(|| hostname.to_string())
}

/// `helper.IsServiceIPSet`: a cluster IP other than `None`.
pub fn is_service_ip_set(svc: &Value) -> bool {
    svc.get_in(&["spec", "clusterIP"])
        .and_then(Value::as_str)
        .is_some_and(|ip| !ip.is_empty() && ip != "None")
}

/// Whether the Service is headless (`clusterIP: None`).
pub fn is_headless(svc: &Value) -> bool {
    svc.get_in(&["spec", "clusterIP"]).and_then(Value::as_str) == Some("None")
}

/// `spec.publishNotReadyAddresses`.
pub fn publish_not_ready(svc: &Value) -> bool {
    svc.get_in(&["spec", "publishNotReadyAddresses"])
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The `targetRef` of a pod's endpoint.
pub fn target_ref(pod: &Value) -> Value {
    json!({
        "kind": "Pod",
        "namespace": meta::namespace(pod),
        "name": meta::name(pod),
        "uid": meta::uid(pod),
    })
}

/// What was published before, for `trigger_time`: the last trigger time
/// and the pods already listed.
pub struct Published<'a> {
    pub at: Option<Timestamp>,
    pub pods: Vec<&'a str>,
}

impl<'a> Published<'a> {
    /// From the objects a controller wrote (Endpoints or slices): the
    /// latest trigger time (else the earliest creation) and every pod a
    /// `targetRef` names.
    pub fn of(objs: &[&'a Value]) -> Self {
        let at = objs
            .iter()
            .filter_map(|o| published_trigger_time(o))
            .max()
            .or_else(|| objs.iter().filter_map(|o| podutil::created(o)).min());
        let mut pods = Vec::new();
        for o in objs {
            collect_target_names(o, &mut pods);
        }
        Self { at, pods }
    }
}

fn collect_target_names<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("targetRef")
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str)
            {
                out.push(name);
            }
            for (k, child) in m {
                if k != "metadata" && k != "targetRef" {
                    collect_target_names(child, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_target_names(c, out)),
        _ => {}
    }
}

/// The trigger time to publish (upstream's `TriggerTimeTracker`, with what
/// was published standing in for its in-memory state): the Service's
/// creation time for a first write; afterwards the earliest Ready
/// transition among selected pods that changed since (a later transition,
/// or a pod not listed before that is listed now), or none.
pub fn trigger_time(
    svc: &Value,
    pods: &[&Value],
    include_terminating: bool,
    previous: Option<&Published>,
) -> Option<Timestamp> {
    let created = podutil::created(svc);
    let Some(previous) = previous else {
        return created;
    };
    let later = |t: Timestamp| previous.at.is_none_or(|p| t > p);
    let mut min: Option<Timestamp> = None;
    for p in pods {
        let Some(t) = podutil::ready_since(p) else {
            continue;
        };
        let new = !previous.pods.contains(&meta::name(p))
            && should_pod_be_in_endpoints(p, include_terminating);
        if new || later(t) {
            min = Some(min.map_or(t, |m| m.min(t)));
        }
    }
    if let Some(t) = created.filter(|t| later(*t)) {
        min = Some(min.map_or(t, |m| m.min(t)));
    }
    min
}

/// A published trigger time.
pub fn published_trigger_time(obj: &Value) -> Option<Timestamp> {
    parse_time(
        obj.get_in(&["metadata", "annotations"])
            .and_then(|a| a.get(TRIGGER_TIME)),
    )
}

/// Go's `time.RFC3339Nano` in UTC (trailing zeros of the fraction dropped).
pub fn format_rfc3339_nano(t: Timestamp) -> String {
    let secs = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.subsec_nanosecond();
    if nanos == 0 {
        return format!("{secs}Z");
    }
    let frac = format!("{nanos:09}");
    format!("{secs}.{}Z", frac.trim_end_matches('0'))
}

/// A merge patch of a string map: changed keys, and `null` for dropped ones.
/// `None` when nothing differs.
pub fn map_patch(old: Option<&Map<String, Value>>, new: &Map<String, Value>) -> Option<Value> {
    let empty = Map::new();
    let old = old.unwrap_or(&empty);
    let mut patch = Map::new();
    for (k, v) in new {
        if old.get(k) != Some(v) {
            patch.insert(k.clone(), v.clone());
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        }
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

/// A string map field of `metadata`.
pub fn meta_map<'a>(obj: &'a Value, field: &str) -> Option<&'a Map<String, Value>> {
    obj.get("metadata")?.get(field)?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_target_ports_resolve_per_pod_and_protocol() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}]},
            {"name": "b", "ports": [{"name": "http", "containerPort": 8080}]}],
            "initContainers": [
            {"name": "side", "restartPolicy": "Always", "ports": [{"name": "admin", "containerPort": 9000}]},
            {"name": "init", "ports": [{"name": "once", "containerPort": 9001}]}]}});
        let cases = [
            (json!({"port": 80, "targetPort": "http"}), Some(8080)),
            (
                json!({"port": 80, "targetPort": "http", "protocol": "UDP"}),
                None,
            ),
            (
                json!({"port": 53, "targetPort": "dns", "protocol": "UDP"}),
                Some(53),
            ),
            (
                json!({"port": 53, "targetPort": "dns", "protocol": "TCP"}),
                None,
            ),
            (json!({"port": 80, "targetPort": 9376}), Some(9376)),
            (json!({"port": 80, "targetPort": "admin"}), Some(9000)),
            (json!({"port": 80, "targetPort": "once"}), None),
            (json!({"port": 80, "targetPort": "nope"}), None),
        ];
        for (port, want) in cases {
            assert_eq!(find_port(&pod, &port), want, "{port}");
        }
    }

    #[test]
    fn pods_in_endpoints_need_an_ip_and_must_not_be_finished() {
        let with = |status: Value, deleting: bool| {
            let mut p = json!({"metadata": {"name": "p"}, "status": status});
            if deleting {
                p["metadata"]["deletionTimestamp"] = json!("2025-05-01T10:00:00Z");
            }
            p
        };
        let running = json!({"phase": "Running", "podIP": "10.244.1.2"});
        assert!(should_pod_be_in_endpoints(
            &with(running.clone(), false),
            false
        ));
        assert!(!should_pod_be_in_endpoints(
            &with(running.clone(), true),
            false
        ));
        assert!(should_pod_be_in_endpoints(&with(running, true), true));
        assert!(!should_pod_be_in_endpoints(
            &with(json!({"phase": "Pending"}), false),
            true
        ));
        assert!(!should_pod_be_in_endpoints(
            &with(json!({"phase": "Succeeded", "podIP": "10.244.1.2"}), false),
            true
        ));
    }

    #[test]
    fn rfc3339_nano_drops_trailing_zeros() {
        let t: Timestamp = "2025-05-01T10:00:00Z".parse().unwrap();
        assert_eq!(format_rfc3339_nano(t), "2025-05-01T10:00:00Z");
        let t: Timestamp = "2025-05-01T10:00:00.120Z".parse().unwrap();
        assert_eq!(format_rfc3339_nano(t), "2025-05-01T10:00:00.12Z");
    }
}

#[cfg(test)]
pub mod fixtures;
