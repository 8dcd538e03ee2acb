//! Core (v1) rows other than pods: nodes, services, endpoints, events (core and
//! events.k8s.io), namespaces, config maps, secrets, service accounts, persistent
//! volumes and claims, resource quotas.
//!
//! Upstream truth: `printNode`, `findNodeRoles`, `printService`, `getServiceExternalIP`,
//! `makePortString`, `formatEndpoints`, `printEvent`, `formatEventSource`,
//! `printPersistentVolume(Claim)`, `printResourceQuota` in
//! `pkg/printers/internalversion/printers.go`; `helper.GetAccessModesAsString` and
//! `GetPersistentVolume(Claim)Class` in `pkg/apis/core/helper/helpers.go`;
//! the events.k8s.io -> core conversion in `pkg/apis/events/v1/conversion.go`.

use super::docs;
use super::duration::since;
use super::value::{
    arr_at, created, deleting, format_labels, get, int_at, len_at, name, opt_str, scalar, str_at,
    ts_at,
};
use super::{AGE, ColumnDefinition, NAME, Row, col, wide};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

pub(crate) static NODE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", docs::NODE_KUBELET_VERSION),
    wide("Internal-IP", "string", docs::NODE_ADDRESSES),
    wide("External-IP", "string", docs::NODE_ADDRESSES),
    wide("OS-Image", "string", docs::NODE_OS_IMAGE),
    wide("Kernel-Version", "string", docs::NODE_KERNEL),
    wide("Container-Runtime", "string", docs::NODE_RUNTIME),
];

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role=<role>`, sorted.
fn node_roles(node: &Value) -> String {
    let mut roles = BTreeSet::new();
    if let Some(labels) = get(node, &["metadata", "labels"]).and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" && !scalar(v).is_empty() {
                roles.insert(scalar(v));
            }
        }
    }
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

fn node_address<'a>(node: &'a Value, type_: &str) -> &'a str {
    arr_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == type_)
        .map_or("<none>", |a| str_at(a, &["address"]))
}

pub(crate) fn node(node: &Value, now: Timestamp) -> Row {
    // Only the Ready condition counts; the last entry of a type wins (a Go map).
    let mut status: Vec<String> = Vec::new();
    if let Some(c) = arr_at(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready")
    {
        status.push(
            if str_at(c, &["status"]) == "True" {
                "Ready"
            } else {
                "NotReady"
            }
            .to_string(),
        );
    }
    if status.is_empty() {
        status.push("Unknown".to_string());
    }
    if get(node, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".to_string());
    }
    let info = |f: &str| {
        let s = str_at(node, &["status", "nodeInfo", f]);
        if s.is_empty() {
            "<unknown>".to_string()
        } else {
            s.to_string()
        }
    };
    Row::new(vec![
        json!(name(node)),
        json!(status.join(",")),
        json!(node_roles(node)),
        json!(since(created(node), now)),
        json!(str_at(node, &["status", "nodeInfo", "kubeletVersion"])),
        json!(node_address(node, "InternalIP")),
        json!(node_address(node, "ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ])
}

pub(crate) static SERVICE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Type", "string", docs::SVC_TYPE),
    col("Cluster-IP", "string", docs::SVC_CLUSTER_IP),
    col("External-IP", "string", docs::SVC_EXTERNAL_IPS),
    col("Port(s)", "string", docs::SVC_PORTS),
    AGE,
    wide("Selector", "string", docs::SVC_SELECTOR),
];

/// `loadBalancerStatusStringer` with `wide = true` (the server always prints wide):
/// the distinct IPs (else hostnames) of `status.loadBalancer.ingress`, sorted.
pub(crate) fn load_balancer_addresses(lb_ingress: &[Value]) -> String {
    let set: BTreeSet<&str> = lb_ingress
        .iter()
        .filter_map(|i| {
            let ip = str_at(i, &["ip"]);
            let host = str_at(i, &["hostname"]);
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

fn service_external_ip(svc: &Value) -> String {
    let external: Vec<String> = arr_at(svc, &["spec", "externalIPs"])
        .iter()
        .map(scalar)
        .collect();
    match str_at(svc, &["spec", "type"]) {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_addresses(arr_at(svc, &["status", "loadBalancer", "ingress"]));
            if !external.is_empty() {
                let mut all: Vec<String> = Vec::new();
                if !lb.is_empty() {
                    all.extend(lb.split(',').map(str::to_string));
                }
                all.extend(external);
                return all.join(",");
            }
            if lb.is_empty() {
                "<pending>".to_string()
            } else {
                lb
            }
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `makePortString`: `80/TCP`, or `80:30080/TCP` with a node port.
fn port_string(ports: &[Value]) -> String {
    let pieces: Vec<String> = ports
        .iter()
        .map(|p| {
            let port = int_at(p, &["port"]);
            let proto = opt_str(p, &["protocol"]).unwrap_or("TCP");
            match int_at(p, &["nodePort"]) {
                np if np > 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    pieces.join(",")
}

pub(crate) fn service(svc: &Value, now: Timestamp) -> Row {
    // clusterIPs[0]; a stored object with only clusterIP is read as upstream's
    // defaulting would have filled clusterIPs.
    let cluster_ip = arr_at(svc, &["spec", "clusterIPs"])
        .first()
        .map(scalar)
        .or_else(|| {
            opt_str(svc, &["spec", "clusterIP"])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "<none>".to_string());
    let mut ports = port_string(arr_at(svc, &["spec", "ports"]));
    if ports.is_empty() {
        ports = "<none>".to_string();
    }
    Row::new(vec![
        json!(name(svc)),
        json!(str_at(svc, &["spec", "type"])),
        json!(cluster_ip),
        json!(service_external_ip(svc)),
        json!(ports),
        json!(since(created(svc), now)),
        json!(format_labels(get(svc, &["spec", "selector"]))),
    ])
}

pub(crate) static ENDPOINTS_COLUMNS: &[ColumnDefinition] =
    &[NAME, col("Endpoints", "string", docs::EP_SUBSETS), AGE];

/// `net.JoinHostPort`: brackets around IPv6 hosts.
pub(crate) fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints(endpoints, nil)`: up to three `ip:port`, then ` + N more...`.
fn format_endpoints(ep: &Value) -> String {
    let subsets = arr_at(ep, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = arr_at(ss, &["addresses"]);
        let ports = arr_at(ss, &["ports"]);
        if ports.is_empty() {
            // Headless services may have no ports.
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(a, &["ip"]).to_string());
            }
            continue;
        }
        for p in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_at(a, &["ip"]), int_at(p, &["port"])));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX)
    } else {
        joined
    }
}

pub(crate) fn endpoints(ep: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(ep)),
        json!(format_endpoints(ep)),
        json!(since(created(ep), now)),
    ])
}

pub(crate) static EVENT_COLUMNS: &[ColumnDefinition] = &[
    col("Last Seen", "string", docs::EV_LAST),
    col("Type", "string", docs::EV_TYPE),
    col("Reason", "string", docs::EV_REASON),
    col("Object", "string", docs::EV_OBJECT),
    wide("Subobject", "string", docs::EV_FIELD_PATH),
    wide("Source", "string", docs::EV_SOURCE),
    col("Message", "string", docs::EV_MESSAGE),
    wide("First Seen", "string", docs::EV_FIRST),
    wide("Count", "string", docs::EV_COUNT),
    ColumnDefinition {
        name: "Name",
        type_: "string",
        format: "name",
        description: docs::META_NAME,
        priority: 1,
    },
];

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// `printEvent` over a core/v1 Event.
pub(crate) fn event(ev: &Value, now: Timestamp) -> Row {
    let first = match ts_at(ev, &["firstTimestamp"]) {
        Some(t) => since(Some(t), now),
        None => since(ts_at(ev, &["eventTime"]), now),
    };
    let mut last = match ts_at(ev, &["lastTimestamp"]) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(ev, &["count"]);
    if get(ev, &["series"]).is_some_and(Value::is_object) {
        last = since(ts_at(ev, &["series", "lastObservedTime"]), now);
        count = int_at(ev, &["series", "count"]);
    } else if count == 0 {
        // Singleton events don't have a count set in the new API.
        count = 1;
    }
    let kind = str_at(ev, &["involvedObject", "kind"]).to_lowercase();
    let obj_name = str_at(ev, &["involvedObject", "name"]);
    let target = if obj_name.is_empty() {
        kind
    } else {
        format!("{kind}/{obj_name}")
    };
    let component = first_non_empty(
        str_at(ev, &["source", "component"]),
        str_at(ev, &["reportingController"]),
    );
    let host = first_non_empty(
        str_at(ev, &["source", "host"]),
        str_at(ev, &["reportingInstance"]),
    );
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    Row::new(vec![
        json!(last),
        json!(str_at(ev, &["type"])),
        json!(str_at(ev, &["reason"])),
        json!(target),
        json!(str_at(ev, &["involvedObject", "fieldPath"])),
        json!(source),
        json!(str_at(ev, &["message"]).trim()),
        json!(first),
        json!(count),
        json!(name(ev)),
    ])
}

/// An events.k8s.io/v1 Event is served from the core event storage: convert it
/// (`regarding`, `note`, `deprecated*`) and print it as one.
pub(crate) fn events_k8s_io_event(ev: &Value, now: Timestamp) -> Row {
    let mut core = Map::new();
    let mut copy = |from: &str, to: &str| {
        if let Some(v) = ev.get(from) {
            core.insert(to.to_string(), v.clone());
        }
    };
    copy("metadata", "metadata");
    copy("regarding", "involvedObject");
    copy("note", "message");
    copy("type", "type");
    copy("reason", "reason");
    copy("deprecatedSource", "source");
    copy("deprecatedFirstTimestamp", "firstTimestamp");
    copy("deprecatedLastTimestamp", "lastTimestamp");
    copy("deprecatedCount", "count");
    copy("series", "series");
    copy("eventTime", "eventTime");
    copy("reportingController", "reportingController");
    copy("reportingInstance", "reportingInstance");
    event(&Value::Object(core), now)
}

pub(crate) static NAMESPACE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

pub(crate) fn namespace(ns: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(ns)),
        json!(str_at(ns, &["status", "phase"])),
        json!(since(created(ns), now)),
    ])
}

pub(crate) static CONFIGMAP_COLUMNS: &[ColumnDefinition] =
    &[NAME, col("Data", "string", docs::CM_DATA), AGE];

pub(crate) fn configmap(cm: &Value, now: Timestamp) -> Row {
    let data = len_at(cm, &["data"]) + len_at(cm, &["binaryData"]);
    Row::new(vec![
        json!(name(cm)),
        json!(data),
        json!(since(created(cm), now)),
    ])
}

pub(crate) static SECRET_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Type", "string", docs::SECRET_TYPE),
    col("Data", "string", docs::SECRET_DATA),
    AGE,
];

pub(crate) fn secret(s: &Value, now: Timestamp) -> Row {
    // Data counts `data` only: `stringData` is merged into it on write.
    Row::new(vec![
        json!(name(s)),
        json!(str_at(s, &["type"])),
        json!(len_at(s, &["data"])),
        json!(since(created(s), now)),
    ])
}

pub(crate) static SERVICEACCOUNT_COLUMNS: &[ColumnDefinition] =
    &[NAME, col("Secrets", "string", docs::SA_SECRETS), AGE];

pub(crate) fn serviceaccount(sa: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(sa)),
        json!(len_at(sa, &["secrets"])),
        json!(since(created(sa), now)),
    ])
}

pub(crate) static PV_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Capacity", "string", docs::PV_CAPACITY),
    col("Access Modes", "string", docs::PV_ACCESS_MODES),
    col("Reclaim Policy", "string", docs::PV_RECLAIM),
    col("Status", "string", docs::PV_PHASE),
    col("Claim", "string", docs::PV_CLAIM),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col("Reason", "string", docs::PV_REASON),
    AGE,
    wide("VolumeMode", "string", docs::PV_VOLUME_MODE),
];

/// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// `GetPersistentVolume(Claim)Class`: the beta annotation wins over `spec.storageClassName`.
fn storage_class(obj: &Value) -> String {
    match get(obj, &["metadata", "annotations", BETA_STORAGE_CLASS]).and_then(Value::as_str) {
        Some(class) => class.to_string(),
        None => str_at(obj, &["spec", "storageClassName"]).to_string(),
    }
}

/// A `resource.Quantity` cell; unset prints as the zero quantity "0".
fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(q) if !q.is_null() => scalar(q),
        _ => "0".to_string(),
    }
}

fn unset_or(v: Option<&str>) -> String {
    v.map_or_else(|| "<unset>".to_string(), str::to_string)
}

pub(crate) fn persistentvolume(pv: &Value, now: Timestamp) -> Row {
    let claim = match get(pv, &["spec", "claimRef"]).filter(|c| c.is_object()) {
        Some(c) => format!("{}/{}", str_at(c, &["namespace"]), str_at(c, &["name"])),
        None => String::new(),
    };
    let phase = if deleting(pv) {
        "Terminating"
    } else {
        str_at(pv, &["status", "phase"])
    };
    Row::new(vec![
        json!(name(pv)),
        json!(quantity(get(pv, &["spec", "capacity", "storage"]))),
        json!(access_modes(arr_at(pv, &["spec", "accessModes"]))),
        json!(str_at(pv, &["spec", "persistentVolumeReclaimPolicy"])),
        json!(phase),
        json!(claim),
        json!(storage_class(pv)),
        json!(unset_or(opt_str(
            pv,
            &["spec", "volumeAttributesClassName"]
        ))),
        json!(str_at(pv, &["status", "reason"])),
        json!(since(created(pv), now)),
        json!(unset_or(opt_str(pv, &["spec", "volumeMode"]))),
    ])
}

pub(crate) static PVC_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Status", "string", docs::PVC_PHASE),
    col("Volume", "string", docs::PVC_VOLUME),
    col("Capacity", "string", docs::PVC_CAPACITY),
    col("Access Modes", "string", docs::PVC_ACCESS_MODES),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide("VolumeMode", "string", docs::PVC_VOLUME_MODE),
];

pub(crate) fn persistentvolumeclaim(pvc: &Value, now: Timestamp) -> Row {
    let phase = if deleting(pvc) {
        "Terminating"
    } else {
        str_at(pvc, &["status", "phase"])
    };
    let volume = str_at(pvc, &["spec", "volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(get(pvc, &["status", "capacity", "storage"])),
            access_modes(arr_at(pvc, &["status", "accessModes"])),
        )
    };
    Row::new(vec![
        json!(name(pvc)),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(storage_class(pvc)),
        json!(unset_or(opt_str(
            pvc,
            &["spec", "volumeAttributesClassName"]
        ))),
        json!(since(created(pvc), now)),
        json!(unset_or(opt_str(pvc, &["spec", "volumeMode"]))),
    ])
}

pub(crate) static RESOURCEQUOTA_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

/// `printResourceQuota`: `name: used/hard` for every `status.hard` entry, sorted by name;
/// `limits.*` entries go to the Limit column, the rest to Request.
pub(crate) fn resourcequota(rq: &Value, now: Timestamp) -> Row {
    let mut request: Vec<String> = Vec::new();
    let mut limit: Vec<String> = Vec::new();
    if let Some(hard) = get(rq, &["status", "hard"]).and_then(Value::as_object) {
        let mut names: Vec<&String> = hard.keys().collect();
        names.sort();
        for res in names {
            let used = quantity(get(rq, &["status", "used", res.as_str()]));
            let text = format!("{res}: {used}/{}", quantity(hard.get(res.as_str())));
            let mut pieces = res.split('.');
            let is_limit = pieces.next() == Some("limits") && pieces.next().is_some();
            if is_limit {
                limit.push(text)
            } else {
                request.push(text)
            }
        }
    }
    Row::new(vec![
        json!(name(rq)),
        json!(request.join(", ")),
        json!(limit.join(", ")),
        json!(since(created(rq), now)),
    ])
}
