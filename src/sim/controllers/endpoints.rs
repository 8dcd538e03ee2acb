//! The Endpoints controller (`pkg/controller/endpoint` upstream): one
//! Endpoints object per Service with a selector, named and labelled like
//! the Service (plus `service.kubernetes.io/headless` for headless ones).
//!
//! Each selected pod with an IP lands in `addresses` when Ready (or when
//! the Service sets `publishNotReadyAddresses`), else in
//! `notReadyAddresses`; terminating and finished pods are left out. Ports
//! come from each Service port's targetPort, resolved per pod (a named
//! targetPort the pod does not declare drops that pod from that port).
//! Subsets are repacked canonically (`RepackSubsets`): addresses sharing
//! the same ports form one subset. Services without a selector and
//! ExternalName Services are left alone; a deleted Service's Endpoints are
//! deleted. Every write carries `endpoints.kubernetes.io/last-change-trigger-time`.
//!
//! Differences from upstream: subsets and ports are ordered by address and
//! by (name, port, protocol) instead of by md5 hash, and the 1000-address
//! truncation (`endpoints.kubernetes.io/over-capacity`) is not modelled.

use super::endpointutil::{self as util, res as svcres};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const COMPONENT: &str = "endpoint-controller";

/// The controller.
pub struct EndpointsController;

/// An address with its readiness, keyed like upstream (IP and pod uid).
type AddrKey = (String, String);
/// An endpoint port by (name, port, protocol).
type PortKey = (String, i64, String);
/// Per port: the port and the readiness of each address offering it.
type ByPort = BTreeMap<PortKey, (Value, BTreeMap<AddrKey, bool>)>;

/// `RepackSubsets`: one subset per distinct set of (address, ready) that
/// shares ports; a not-ready entry wins over a ready one for the same port.
fn repack(entries: &[(Value, bool, Option<Value>)]) -> Vec<Value> {
    let key = |a: &Value| -> AddrKey {
        (
            a.get("ip")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            a.get_in(&["targetRef", "uid"])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    let port_key = |p: &Value| -> PortKey {
        (
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            p.get("port").and_then(Value::as_i64).unwrap_or(0),
            p.get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    let mut addrs: BTreeMap<AddrKey, Value> = BTreeMap::new();
    // port -> (address -> ready)
    let mut by_port: ByPort = BTreeMap::new();
    let mut portless: BTreeMap<AddrKey, bool> = BTreeMap::new();
    for (addr, ready, port) in entries {
        let k = key(addr);
        addrs.entry(k.clone()).or_insert_with(|| addr.clone());
        let set = match port {
            Some(p) => {
                &mut by_port
                    .entry(port_key(p))
                    .or_insert_with(|| (p.clone(), BTreeMap::new()))
                    .1
            }
            None => &mut portless,
        };
        let was = set.entry(k).or_insert(*ready);
        *was = *was && *ready;
    }
    // Ports grouped by identical address sets.
    let mut groups: Vec<(BTreeMap<AddrKey, bool>, Vec<Value>)> = Vec::new();
    for (_, (port, set)) in by_port {
        match groups.iter_mut().find(|(s, _)| *s == set) {
            Some((_, ports)) => ports.push(port),
            None => groups.push((set, vec![port])),
        }
    }
    if !portless.is_empty() {
        groups.push((portless, Vec::new()));
    }
    let mut subsets: Vec<Value> = groups
        .into_iter()
        .map(|(set, ports)| {
            let pick = |want: bool| -> Vec<Value> {
                set.iter()
                    .filter(|(_, r)| **r == want)
                    .filter_map(|(k, _)| addrs.get(k).cloned())
                    .collect()
            };
            let mut ss = Map::new();
            let ready = pick(true);
            let not_ready = pick(false);
            if !ready.is_empty() {
                ss.insert("addresses".into(), json!(ready));
            }
            if !not_ready.is_empty() {
                ss.insert("notReadyAddresses".into(), json!(not_ready));
            }
            if !ports.is_empty() {
                ss.insert("ports".into(), json!(ports));
            }
            Value::Object(ss)
        })
        .collect();
    let first = |s: &Value| -> String {
        s.at("/addresses/0/ip")
            .or_else(|| s.at("/notReadyAddresses/0/ip"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    subsets.sort_by_key(|s| (first(s), s.to_string()));
    subsets
}

/// The subsets the Service should have.
pub fn desired_subsets(svc: &Value, pods: &[&Value]) -> Vec<Value> {
    let publish = util::publish_not_ready(svc);
    let ports = svc
        .get_in(&["spec", "ports"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut entries = Vec::new();
    for pod in pods {
        if !util::should_pod_be_in_endpoints(pod, publish) {
            continue;
        }
        let Some(ip) = util::pod_ip_for(svc, pod) else {
            continue;
        };
        let mut addr = Map::new();
        addr.insert("ip".into(), json!(ip));
        if let Some(h) = util::hostname_for(pod, svc) {
            addr.insert("hostname".into(), json!(h));
        }
        let node = pod
            .get_in(&["spec", "nodeName"])
            .and_then(Value::as_str)
            .unwrap_or("");
        addr.insert("nodeName".into(), json!(node));
        addr.insert("targetRef".into(), util::target_ref(pod));
        let addr = Value::Object(addr);
        let ready = publish || super::podutil::is_ready(pod);
        if ports.is_empty() {
            // Headless Services may have no ports.
            if util::is_headless(svc) {
                entries.push((addr, ready, None));
            }
            continue;
        }
        for sp in &ports {
            let Some(num) = util::find_port(pod, sp) else {
                continue;
            };
            let mut p = Map::new();
            if let Some(n) = sp
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                p.insert("name".into(), json!(n));
            }
            p.insert("port".into(), json!(num));
            p.insert(
                "protocol".into(),
                sp.get("protocol").cloned().unwrap_or(json!("TCP")),
            );
            if let Some(ap) = sp.get("appProtocol") {
                p.insert("appProtocol".into(), ap.clone());
            }
            entries.push((addr.clone(), ready, Some(Value::Object(p))));
        }
    }
    repack(&entries)
}

/// The Endpoints' labels: the Service's, plus the headless marker.
fn desired_labels(svc: &Value) -> Map<String, Value> {
    let mut labels = util::meta_map(svc, "labels").cloned().unwrap_or_default();
    labels.remove(util::HEADLESS_LABEL);
    if !util::is_service_ip_set(svc) {
        labels.insert(util::HEADLESS_LABEL.into(), json!(""));
    }
    labels
}

/// Subsets as stored (absent and empty are the same).
fn subsets_of(ep: &Value) -> Vec<Value> {
    ep.get("subsets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn failed_event(ep_name: &str, ns: &str, reason: &str, message: String) -> EventSpec {
    EventSpec {
        involved: ObjectRef {
            api_version: "v1".into(),
            kind: "Endpoints".into(),
            namespace: ns.into(),
            name: ep_name.into(),
            uid: String::new(),
            field_path: None,
        },
        type_: EventType::Warning,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    }
}

impl Controller for EndpointsController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> &'static [ResKey] {
        &[svcres::SERVICES, res::PODS, svcres::ENDPOINTS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == svcres::SERVICES {
            vec![ObjectKey::of(obj)]
        } else if r == res::PODS {
            util::services_for_pod(snap, obj, |svc, pod| {
                snap.get(svcres::ENDPOINTS, &svc.namespace, &svc.name)
                    .and_then(|ep| ep.get("subsets"))
                    .and_then(Value::as_array)
                    .is_some_and(|subsets| {
                        subsets.iter().any(|s| {
                            ["addresses", "notReadyAddresses"].iter().any(|k| {
                                s.get(*k)
                                    .and_then(Value::as_array)
                                    .is_some_and(|a| util::targets_pod(a, pod))
                            })
                        })
                    })
            })
        } else {
            // An Endpoints object changed or went away: put it back in
            // line with its Service, if it has one.
            let key = ObjectKey::of(obj);
            let has_service = snap
                .get(svcres::SERVICES, &key.namespace, &key.name)
                .is_some();
            if has_service { vec![key] } else { Vec::new() }
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, _now: Timestamp) -> Reconciled {
        let current = snap.get(svcres::ENDPOINTS, &key.namespace, &key.name);
        let Some(svc) = snap.get(svcres::SERVICES, &key.namespace, &key.name) else {
            // The Service is gone: so are its Endpoints.
            return Reconciled {
                actions: current
                    .map(|ep| Action::Delete {
                        res: svcres::ENDPOINTS,
                        key: key.clone(),
                        uid: meta::uid(ep).to_string(),
                        on_deleted: None,
                    })
                    .into_iter()
                    .collect(),
                requeue_after: None,
            };
        };
        let Some(sel) = util::selector(svc) else {
            return Reconciled::none();
        };
        let pods = util::selected_pods(snap, svc, sel);
        let subsets = desired_subsets(svc, &pods);
        let labels = desired_labels(svc);
        if let Some(ep) = current
            && subsets_of(ep) == subsets
            && util::meta_map(ep, "labels").cloned().unwrap_or_default() == labels
        {
            return Reconciled::none();
        }
        let previous = current.map(|ep| util::Published::of(&[&**ep]));
        let trigger =
            util::trigger_time(svc, &pods, util::publish_not_ready(svc), previous.as_ref());
        let mut annotations = current
            .and_then(|ep| util::meta_map(ep, "annotations").cloned())
            .unwrap_or_default();
        match trigger {
            Some(t) => {
                annotations.insert(
                    util::TRIGGER_TIME.into(),
                    json!(util::format_rfc3339_nano(t)),
                );
            }
            None => {
                annotations.remove(util::TRIGGER_TIME);
            }
        }
        let action = match current {
            None => {
                let mut obj = json!({
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {"name": key.name, "namespace": key.namespace},
                });
                if !labels.is_empty() {
                    obj["metadata"]["labels"] = Value::Object(labels);
                }
                if !annotations.is_empty() {
                    obj["metadata"]["annotations"] = Value::Object(annotations);
                }
                if !subsets.is_empty() {
                    obj["subsets"] = json!(subsets);
                }
                Action::Create {
                    res: svcres::ENDPOINTS,
                    namespace: key.namespace.clone(),
                    object: obj,
                    on_created: None,
                    on_failed: Some(failed_event(
                        &key.name,
                        &key.namespace,
                        "FailedToCreateEndpoint",
                        format!(
                            "Failed to create endpoint for service {}/{}: ",
                            key.namespace, key.name
                        ),
                    )),
                }
            }
            Some(ep) => {
                let mut md = Map::new();
                if let Some(p) = util::map_patch(util::meta_map(ep, "labels"), &labels) {
                    md.insert("labels".into(), p);
                }
                if let Some(p) = util::map_patch(util::meta_map(ep, "annotations"), &annotations) {
                    md.insert("annotations".into(), p);
                }
                let mut patch = json!({
                    "subsets": if subsets.is_empty() { Value::Null } else { json!(subsets) },
                });
                if !md.is_empty() {
                    patch["metadata"] = Value::Object(md);
                }
                Action::Patch {
                    res: svcres::ENDPOINTS,
                    key: key.clone(),
                    patch,
                    status: false,
                }
            }
        };
        Reconciled {
            actions: vec![action],
            requeue_after: None,
        }
    }
}

#[cfg(test)]
mod tests;
