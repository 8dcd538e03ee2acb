//! The EndpointSlice controller (`pkg/controller/endpointslice` and
//! `k8s.io/endpointslice` upstream): EndpointSlices for every Service with
//! a selector, which `kubectl get endpointslices` lists and
//! `kubectl describe svc` reads for its `Endpoints:` lines.
//!
//! Slices are named `<svc>-<5 random chars>` (generateName), labelled with
//! the Service's labels plus `kubernetes.io/service-name` and
//! `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`
//! (and `service.kubernetes.io/headless` for headless Services), and owned
//! by the Service (the garbage collector removes them with it). Pods are
//! grouped by the ports their Service ports resolve to (a pod that lacks a
//! named targetPort lands in a slice without ports, as upstream), at most
//! 100 endpoints a slice. Each endpoint has the pod IP, conditions
//! ready/serving/terminating (terminating pods stay listed, not ready),
//! nodeName, zone (from the node's `topology.kubernetes.io/zone`) and a
//! targetRef. A Service that selects nothing keeps one placeholder slice
//! with no ports and no endpoints.
//!
//! Differences from upstream: endpoints are ordered by pod name, and slice
//! packing is first-fit rather than upstream's update-first heuristics.

use super::endpointutil::{self as util, res as svcres};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_uid, res};
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The controller's name in `managed-by`.
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// `maxEndpointsPerSlice` default.
const MAX_ENDPOINTS: usize = 100;
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The controller.
pub struct EndpointSliceController;

/// A JSON array field, with absent and `null` read as empty.
fn arr(obj: &Value, field: &str) -> Vec<Value> {
    obj.get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `getEndpointPorts`: the Service ports resolved for one pod.
fn endpoint_ports(svc: &Value, pod: &Value) -> Vec<Value> {
    let ports = arr(&svc["spec"], "ports");
    let mut out = Vec::new();
    for sp in &ports {
        let Some(num) = util::find_port(pod, sp) else {
            continue;
        };
        let mut p = Map::new();
        p.insert("name".into(), sp.get("name").cloned().unwrap_or(json!("")));
        p.insert("port".into(), json!(num));
        p.insert(
            "protocol".into(),
            sp.get("protocol").cloned().unwrap_or(json!("TCP")),
        );
        if let Some(ap) = sp.get("appProtocol") {
            p.insert("appProtocol".into(), ap.clone());
        }
        out.push(Value::Object(p));
    }
    out
}

/// `podToEndpoint`.
fn pod_to_endpoint(pod: &Value, node: Option<&Value>, svc: &Value, ip: String) -> Value {
    let serving = super::podutil::is_ready(pod);
    let terminating = meta::is_deleting(pod);
    let ready = util::publish_not_ready(svc) || (serving && !terminating);
    let mut ep = Map::new();
    ep.insert("addresses".into(), json!([ip]));
    ep.insert(
        "conditions".into(),
        json!({"ready": ready, "serving": serving, "terminating": terminating}),
    );
    if let Some(h) = util::hostname_for(pod, svc) {
        ep.insert("hostname".into(), json!(h));
    }
    if let Some(n) = pod
        .get_in(&["spec", "nodeName"])
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        ep.insert("nodeName".into(), json!(n));
    }
    ep.insert("targetRef".into(), util::target_ref(pod));
    if let Some(z) = node
        .and_then(|n| meta::labels(n))
        .and_then(|l| l.get(ZONE_LABEL))
        .and_then(Value::as_str)
        .filter(|z| !z.is_empty())
    {
        ep.insert("zone".into(), json!(z));
    }
    Value::Object(ep)
}

/// Desired endpoints grouped by their ports, in pod-name order.
fn desired_groups(snap: &Snapshot, svc: &Value, pods: &[&Value]) -> Vec<(Vec<Value>, Vec<Value>)> {
    let mut groups: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    for pod in pods {
        if !util::should_pod_be_in_endpoints(pod, true) {
            continue;
        }
        let node_name = pod
            .get_in(&["spec", "nodeName"])
            .and_then(Value::as_str)
            .unwrap_or("");
        let node = snap.get(res::NODES, "", node_name).map(|n| &**n);
        // A pod on a node that does not exist is skipped, unless the
        // Service publishes not-ready addresses.
        if node.is_none() && !util::publish_not_ready(svc) {
            continue;
        }
        let Some(ip) = util::pod_ip_for(svc, pod) else {
            continue;
        };
        let ports = endpoint_ports(svc, pod);
        let ep = pod_to_endpoint(pod, node, svc, ip);
        match groups.iter_mut().find(|(p, _)| *p == ports) {
            Some((_, eps)) => eps.push(ep),
            None => groups.push((ports, vec![ep])),
        }
    }
    groups
}

/// The slice labels (`setEndpointSliceLabels`).
fn desired_labels(svc: &Value) -> Map<String, Value> {
    let mut labels: Map<String, Value> = util::meta_map(svc, "labels").cloned().unwrap_or_default();
    for k in [LABEL_SERVICE_NAME, LABEL_MANAGED_BY, util::HEADLESS_LABEL] {
        labels.remove(k);
    }
    if !util::is_service_ip_set(svc) {
        labels.insert(util::HEADLESS_LABEL.into(), json!(""));
    }
    labels.insert(LABEL_SERVICE_NAME.into(), json!(meta::name(svc)));
    labels.insert(LABEL_MANAGED_BY.into(), json!(CONTROLLER_NAME));
    labels
}

/// The identity of an endpoint across updates: its address and pod.
fn endpoint_key(ep: &Value) -> (String, String) {
    (
        ep.at("/addresses/0")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        ep.get_in(&["targetRef", "uid"])
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    )
}

/// `null` for an empty list, as a stored slice shows it.
fn list_or_null(v: Vec<Value>) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Array(v)
    }
}

fn failed_event(svc: &Value) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(svc),
        type_: EventType::Warning,
        reason: "FailedToUpdateEndpointSlices".into(),
        message: format!(
            "Error updating Endpoint Slices for Service {}/{}: ",
            meta::namespace(svc),
            meta::name(svc)
        ),
        component: "endpoint-slice-controller".into(),
        host: None,
    }
}

/// What a slice should become.
enum Plan {
    Keep,
    Update(Vec<Value>),
    Delete,
}

impl Controller for EndpointSliceController {
    fn name(&self) -> &'static str {
        "endpointslice-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            svcres::SERVICES,
            res::PODS,
            res::NODES,
            svcres::ENDPOINTSLICES,
        ]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == svcres::SERVICES {
            return vec![ObjectKey::of(obj)];
        }
        if r == res::PODS {
            return util::services_for_pod(snap, obj, |svc, pod| {
                snap.list(svcres::ENDPOINTSLICES, Some(&svc.namespace))
                    .filter(|s| {
                        meta::labels(s)
                            .and_then(|l| l.get(LABEL_SERVICE_NAME))
                            .and_then(Value::as_str)
                            == Some(svc.name.as_str())
                    })
                    .any(|s| {
                        s.get("endpoints")
                            .and_then(Value::as_array)
                            .is_some_and(|e| util::targets_pod(e, pod))
                    })
            });
        }
        if r == res::NODES {
            // A node appearing or changing zone matters to Services with
            // pods on it.
            // The node index names its pods without reading them (a
            // node's status is posted every few minutes, and reading every
            // pod of the cluster for each node's post was quadratic).
            let mut namespaces: Vec<String> = snap
                .pod_keys_on(meta::name(obj))
                .map(|k| k.namespace)
                .collect();
            namespaces.dedup();
            let mut keys: Vec<ObjectKey> = namespaces
                .iter()
                .flat_map(|ns| util::services_in(snap, ns))
                .collect();
            keys.sort();
            keys.dedup();
            return keys;
        }
        let labels = meta::labels(obj);
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        match (label(LABEL_MANAGED_BY), label(LABEL_SERVICE_NAME)) {
            (Some(CONTROLLER_NAME), Some(svc)) => {
                vec![ObjectKey::new(meta::namespace(obj), svc)]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, _now: Timestamp) -> Reconciled {
        // A deleted Service's slices go with it (owner references).
        let Some(svc) = snap.get(svcres::SERVICES, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let Some(sel) = util::selector(svc) else {
            return Reconciled::none();
        };
        let svc = &**svc;
        let address_type = util::ip_family(svc);
        let labels = desired_labels(svc);
        let pods = util::selected_pods(snap, svc, sel);
        let groups = desired_groups(snap, svc, &pods);

        let existing: Vec<&Value> = snap
            .list(svcres::ENDPOINTSLICES, Some(&key.namespace))
            .map(|s| &**s)
            .filter(|s| {
                let l = meta::labels(s);
                let get = |k: &str| l.and_then(|l| l.get(k)).and_then(Value::as_str);
                get(LABEL_SERVICE_NAME) == Some(key.name.as_str())
                    && get(LABEL_MANAGED_BY) == Some(CONTROLLER_NAME)
            })
            .collect();

        let mut plans: Vec<Plan> = Vec::with_capacity(existing.len());
        // Desired endpoints still to place, by group.
        let mut pending: Vec<Vec<Value>> = groups.iter().map(|(_, eps)| eps.clone()).collect();
        for slice in &existing {
            let ours = controller_uid(slice) == Some(meta::uid(svc))
                && slice.get("addressType").and_then(Value::as_str) == Some(address_type);
            let ports = arr(slice, "ports");
            let group = groups.iter().position(|(p, _)| *p == ports);
            let (true, Some(g)) = (ours, group) else {
                plans.push(Plan::Delete);
                continue;
            };
            let current = arr(slice, "endpoints");
            let mut kept = Vec::new();
            for ep in &current {
                let k = endpoint_key(ep);
                if let Some(i) = pending[g].iter().position(|d| endpoint_key(d) == k) {
                    kept.push(pending[g].remove(i));
                }
            }
            if kept.is_empty() {
                plans.push(Plan::Delete);
            } else if kept == current {
                plans.push(Plan::Keep);
            } else {
                plans.push(Plan::Update(kept));
            }
        }
        // Fill slices with room first.
        for (i, slice) in existing.iter().enumerate() {
            let ports = arr(slice, "ports");
            let Some(g) = groups.iter().position(|(p, _)| *p == ports) else {
                continue;
            };
            let eps = match &plans[i] {
                Plan::Keep => arr(slice, "endpoints"),
                Plan::Update(eps) => eps.clone(),
                Plan::Delete => continue,
            };
            let room = MAX_ENDPOINTS.saturating_sub(eps.len());
            if room == 0 || pending[g].is_empty() {
                continue;
            }
            let take = room.min(pending[g].len());
            let mut eps = eps;
            eps.extend(pending[g].drain(..take));
            plans[i] = Plan::Update(eps);
        }
        // Then new slices.
        let mut creates: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
        for (g, rest) in pending.into_iter().enumerate() {
            for chunk in rest.chunks(MAX_ENDPOINTS) {
                creates.push((groups[g].0.clone(), chunk.to_vec()));
            }
        }
        // A Service with nothing to publish keeps one placeholder slice.
        let deleting = plans.iter().filter(|p| matches!(p, Plan::Delete)).count();
        if deleting == existing.len() && creates.is_empty() {
            let placeholder = existing.iter().position(|s| {
                controller_uid(s) == Some(meta::uid(svc))
                    && s.get("addressType").and_then(Value::as_str) == Some(address_type)
                    && arr(s, "ports").is_empty()
                    && arr(s, "endpoints").is_empty()
            });
            match placeholder {
                Some(i) => plans[i] = Plan::Keep,
                None => creates.push((Vec::new(), Vec::new())),
            }
        }

        let previous = (!existing.is_empty()).then(|| util::Published::of(&existing));
        let trigger = util::trigger_time(svc, &pods, true, previous.as_ref());
        let annotate = |annotations: &mut Map<String, Value>| match trigger {
            Some(t) => {
                annotations.insert(
                    util::TRIGGER_TIME.into(),
                    json!(util::format_rfc3339_nano(t)),
                );
            }
            None => {
                annotations.remove(util::TRIGGER_TIME);
            }
        };

        let mut actions = Vec::new();
        for (slice, plan) in existing.iter().zip(plans) {
            let skey = ObjectKey::of(slice);
            match plan {
                Plan::Delete => actions.push(Action::Delete {
                    res: svcres::ENDPOINTSLICES,
                    key: skey,
                    uid: meta::uid(slice).to_string(),
                    on_deleted: None,
                }),
                Plan::Keep => {
                    // Labels follow the Service even when endpoints do not change.
                    if let Some(p) = util::map_patch(util::meta_map(slice, "labels"), &labels) {
                        actions.push(Action::Patch {
                            res: svcres::ENDPOINTSLICES,
                            key: skey,
                            patch: json!({"metadata": {"labels": p}}),
                            status: false,
                        });
                    }
                }
                Plan::Update(eps) => {
                    let mut annotations = util::meta_map(slice, "annotations")
                        .cloned()
                        .unwrap_or_default();
                    annotate(&mut annotations);
                    let mut md = Map::new();
                    if let Some(p) = util::map_patch(util::meta_map(slice, "labels"), &labels) {
                        md.insert("labels".into(), p);
                    }
                    if let Some(p) =
                        util::map_patch(util::meta_map(slice, "annotations"), &annotations)
                    {
                        md.insert("annotations".into(), p);
                    }
                    let mut patch = json!({"endpoints": eps});
                    if !md.is_empty() {
                        patch["metadata"] = Value::Object(md);
                    }
                    actions.push(Action::Patch {
                        res: svcres::ENDPOINTSLICES,
                        key: skey,
                        patch,
                        status: false,
                    });
                }
            }
        }
        for (ports, eps) in creates {
            let mut annotations = Map::new();
            annotate(&mut annotations);
            let mut md = json!({
                "generateName": format!("{}-", key.name),
                "namespace": key.namespace,
                "labels": labels,
                "ownerReferences": [{
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": meta::name(svc),
                    "uid": meta::uid(svc),
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            });
            if !annotations.is_empty() {
                md["annotations"] = Value::Object(annotations);
            }
            actions.push(Action::Create {
                res: svcres::ENDPOINTSLICES,
                namespace: key.namespace.clone(),
                object: json!({
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": md,
                    "addressType": address_type,
                    "endpoints": list_or_null(eps),
                    "ports": list_or_null(ports),
                }),
                on_created: None,
                on_failed: Some(failed_event(svc)),
            });
        }
        Reconciled {
            actions,
            requeue_after: None,
        }
    }
}

#[cfg(test)]
mod tests;
