//! The hook where an HTTP request that reached an ingress-nginx controller
//! pod is routed by the cluster's Ingresses: [`route_http`] asks
//! [`crate::sim::ingress::route`] (host and path matching, 404 for no
//! rule, 503 for a missing Service, port or endpoint) over the objects the
//! controller's informers hold.
//!
//! A matched backend is proxied the way ingress-nginx does it: straight to
//! one of the Service's ready endpoints (its Lua balancer skips
//! kube-proxy), from the controller pod, so NetworkPolicies of the backend
//! apply to the controller's traffic. A backend that refuses the
//! connection gives nginx's 502 page.
//!
//! On 443 the controller presents a certificate ([`presented_certificate`]):
//! the one ingress-nginx picks for the TLS server name, or its fake one.
//! The server name is taken from the request's Host (curl sends the URL's
//! host as both; a Host header that differs from the URL's host is not
//! told apart from the SNI), and a client that connects to an address
//! sends none, which gets the fake certificate.

use super::view::{ClusterView, PodInfo};
use crate::sim::ingress::{self, IngressRequest, Route};
use crate::sim::workload::tls::ServerCert;

/// nginx's page when every upstream refused (`ngx_http_special_response.c`,
/// `server_tokens off`).
pub const BAD_GATEWAY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The reason nginx writes in the status line of its own answers
/// (`ngx_http_status_lines` in `ngx_http_header_filter_module.c`). Where
/// nginx has a line it reads as the standard one except for these; for a
/// code it has no line for (418, 422, anything unknown) it writes `"%03ui "`,
/// the code and a space: an empty reason.
pub fn nginx_reason(status: u16) -> &'static str {
    match status {
        302 => "Moved Temporarily",
        405 => "Not Allowed",
        408 => "Request Time-out",
        414 => "Request-URI Too Large",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        418 | 422 => "",
        s => crate::sim::workload::shell::reason_phrase(s),
    }
}

/// What the controller does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngressAnswer {
    /// The controller answers itself (default backend 404, 503, the 308
    /// to HTTPS with its `Location`, ...).
    Respond {
        status: u16,
        body: String,
        location: Option<String>,
    },
    /// The controller proxies to one of these ready endpoints (ip, port)
    /// of the Service `namespace/service`.
    Backend {
        namespace: String,
        service: String,
        endpoints: Vec<(String, u16)>,
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

/// How the controller routes `http://host:port/path` received on its
/// container port `port`: 80 is plain HTTP, 443 HTTPS. None for other
/// ports (metrics, webhook: the pod answers from its own behaviour).
pub fn route_http(
    view: &ClusterView,
    controller: &PodInfo,
    host: &str,
    port: u16,
    path: &str,
) -> Option<IngressAnswer> {
    let _ = controller;
    let req = match port {
        80 => IngressRequest::http(host, path),
        443 => IngressRequest::https(host, path),
        _ => return None,
    };
    let route = ingress::route(&view.ingress.view(view.now), &req);
    Some(match route {
        Route::Backend(b) => IngressAnswer::Backend {
            namespace: b.namespace,
            service: b.service,
            endpoints: b.endpoints.into_iter().map(|e| (e.ip, e.port)).collect(),
        },
        other => IngressAnswer::Respond {
            status: other.status().unwrap_or(404),
            body: other.body().unwrap_or_default().to_string(),
            location: match &other {
                Route::Redirect { location } => Some(location.clone()),
                _ => None,
            },
        },
    })
}

/// The certificate the controller presents on its container port `port`
/// for a request whose Host is `host`: None except on 443.
pub fn presented_certificate(view: &ClusterView, host: &str, port: u16) -> Option<ServerCert> {
    if port != 443 {
        return None;
    }
    let ing = view.ingress.view(view.now);
    // `host[:port]`, `[v6]:port`, or a bare address.
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or("")
    } else {
        host
    };
    if name.is_empty() || name.parse::<std::net::IpAddr>().is_ok() {
        return Some(ingress::fake_certificate(&ing));
    }
    Some(ingress::certificate(&ing, name).presented(&ing))
}
