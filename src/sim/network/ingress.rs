//! The hook where an HTTP request that reached an ingress-nginx controller
//! pod is routed by the cluster's Ingresses. The routing itself (host and
//! path matching, 404 for no rule, 503 for a missing backend) is a pure
//! function written elsewhere; [`route_http`] is where it plugs in.

use super::view::{ClusterView, PodInfo};

/// What the controller does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngressAnswer {
    /// The controller answers itself (default backend 404, 503, ...).
    Respond { status: u16, body: String },
    /// The controller proxies to this Service port (the network then
    /// connects from the controller pod to the Service's ClusterIP).
    Backend {
        namespace: String,
        service: String,
        port: u16,
    },
}

/// Is `pod` an ingress-nginx controller (the labels of its manifests)?
pub fn is_controller(pod: &PodInfo) -> bool {
    pod.labels.get("app.kubernetes.io/name").map(String::as_str) == Some("ingress-nginx")
        && pod
            .labels
            .get("app.kubernetes.io/component")
            .map(String::as_str)
            == Some("controller")
}

/// How the controller `controller` routes `http://host:port/path`. None:
/// no routing yet (the controller pod answers from its own behaviour).
pub fn route_http(
    view: &ClusterView,
    controller: &PodInfo,
    host: &str,
    port: u16,
    path: &str,
) -> Option<IngressAnswer> {
    let _ = (view, controller, host, port, path);
    None
}
