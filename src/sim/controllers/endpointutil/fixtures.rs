//! Hand-built Services, pods and nodes for the routing controllers' tests
//! (pods carry `status.podIP` and a Ready condition, as a kubelet sets them).

use super::res as svcres;
use crate::sim::snapshot::res;
use crate::store::ResKey;
use serde_json::{Value, json};

/// A ClusterIP Service `web` selecting `app=web`, port 80 → `target`.
pub fn svc(target: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid", "resourceVersion": "10",
                     "creationTimestamp": "2025-05-01T09:00:00Z", "labels": {"app": "web"}},
        "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.12.34", "type": "ClusterIP",
                 "ipFamilies": ["IPv4"],
                 "ports": [{"port": 80, "protocol": "TCP", "targetPort": target}]},
    })
}

/// A pod `name` labelled `app=web` on `kdrill-worker`; `ip` empty means
/// none yet; `ready` sets the Ready condition (transition at `since`).
pub fn pod(name: &str, ip: &str, ready: bool, since: &str) -> Value {
    let mut status = json!({"phase": if ip.is_empty() {"Pending"} else {"Running"},
        "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": since}]});
    if !ip.is_empty() {
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "5",
                     "labels": {"app": "web"}, "creationTimestamp": "2025-05-01T09:00:00Z"},
        "spec": {"nodeName": "kdrill-worker",
                 "containers": [{"name": "nginx", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
        "status": status,
    })
}

/// The worker node.
pub fn node() -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kdrill-worker", "uid": "node-uid", "resourceVersion": "1"}})
}

/// Objects for `Snapshot::from_objects`: the Service, the node and `pods`.
pub fn objects(svc: Value, pods: Vec<Value>) -> Vec<(ResKey, Value)> {
    let mut objs = vec![(svcres::SERVICES, svc), (res::NODES, node())];
    objs.extend(pods.into_iter().map(|p| (res::PODS, p)));
    objs
}
