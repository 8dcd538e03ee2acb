//! ingress-nginx's validating webhook (`validate.nginx.ingress.kubernetes.io`,
//! `checkOverlap` in `internal/ingress/controller/controller.go`): an owned
//! Ingress may not claim a host and path that another owned Ingress already
//! serves, in any namespace. A rule without a host is the catch-all `_`; an
//! empty path is `/`. Path types are not compared: `Prefix /p` occupies
//! the locations `/p/` and `/p`, anything else its own path. Ingresses the
//! controller does not own are allowed untouched, and so is an update of
//! the Ingress that already holds the path.
//!
//! The apiserver answers a denial with 400 BadRequest, and kubectl prints
//! `Error from server (BadRequest): error when creating "x.yaml": admission
//! webhook "validate.nginx.ingress.kubernetes.io" denied the request: host
//! "a.example.com" and path "/" is already defined in ingress default/web`.
//!
//! The webhook is reached the way the apiserver reaches it: the add-on's
//! `ingress-nginx-admission` ValidatingWebhookConfiguration names the
//! Service `ingress-nginx-controller-admission`, the registry resolves it
//! to its ClusterIP (see [`crate::registry::webhook`]) and [`network`]
//! answers what dialing that address from the control-plane reaches, by
//! kube-proxy's rules ([`crate::sim::network::proxy`]): a ready controller
//! pod's webhook port (8443) runs [`review`]; a Service without ready
//! endpoints is REJECTed (`dial tcp 10.96.x.y:443: connect: connection
//! refused`), and so is a connection to a pod that serves no webhook
//! there. Requests for other resources are allowed.

use super::{IngressObjects, IngressView, str_at};
use crate::api::pointer::Pointer;
use crate::api::status::Status;
use crate::registry::webhook::{Call, Network, Reach};
use crate::sim::network::ClusterView;
use crate::sim::network::ingress::is_controller;
use crate::sim::network::proxy::{self, Route};
use crate::sim::workload::Protocol;
use crate::store::{ResKey, Store};
use serde_json::Value;
use std::sync::Arc;

/// The Service the manifest's `ingress-nginx-admission`
/// ValidatingWebhookConfiguration points at.
pub const ADMISSION_SERVICE: &str = "ingress-nginx-controller-admission";

/// The controller's `--validating-webhook=:8443` container port.
pub const WEBHOOK_PORT: u16 = 8443;

const INGRESSES: ResKey = ResKey {
    group: "networking.k8s.io",
    resource: "ingresses",
};

fn list(store: &Store, group: &'static str, resource: &'static str, ns: &str) -> Vec<Arc<Value>> {
    store.list(ResKey { group, resource }, Some(ns)).0
}

/// What a webhook call from the apiserver to `call`'s ClusterIP and port
/// reaches: the Service's namespace is enough to route it (the
/// Service, its EndpointSlices and the pods behind them).
pub fn network() -> Network {
    Arc::new(|store: &Store, now, call: &Call<'_>| {
        let ns = call.namespace;
        let (services, slices, pods) = (
            list(store, "", "services", ns),
            list(store, "discovery.k8s.io", "endpointslices", ns),
            list(store, "", "pods", ns),
        );
        let view = ClusterView::build(
            services.iter().map(|v| &**v),
            slices.iter().map(|v| &**v),
            pods.iter().map(|v| &**v),
            std::iter::empty(),
        );
        let refused = || {
            Reach::Failed(format!(
                "dial tcp {}:{}: connect: connection refused",
                call.cluster_ip, call.port
            ))
        };
        let Ok(port) = u16::try_from(call.port) else {
            return refused();
        };
        match proxy::route(&view, call.cluster_ip, port, Protocol::Tcp, 0) {
            Route::Endpoint {
                pod: Some(pod),
                port: WEBHOOK_PORT,
                ..
            } if is_controller(pod) => {
                if call.res != INGRESSES {
                    return Reach::Served(Box::new(|_| Ok(())));
                }
                let objects = IngressObjects::from_store(store);
                Reach::Served(Box::new(move |ing: &Value| {
                    review(&objects.view(now), ing).map_err(Status::bad_request)
                }))
            }
            Route::Drop => Reach::Failed("context deadline exceeded".to_string()),
            _ => refused(),
        }
    })
}

/// The webhook's name, as the denial message starts with it.
pub const WEBHOOK: &str = "validate.nginx.ingress.kubernetes.io";

/// The (host, path) pairs an Ingress's service paths occupy.
fn occupied(ing: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in ing
        .get_in(&["spec", "rules"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host = match str_at(rule, "/host") {
            "" => "_".to_string(),
            h => h.to_string(),
        };
        for p in rule
            .get_in(&["http", "paths"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get_in(&["backend", "service"]).is_none_or(Value::is_null) {
                continue;
            }
            let path = match str_at(p, "/path") {
                "" => "/".to_string(),
                x => x.to_string(),
            };
            if str_at(p, "/pathType") == "Prefix" && path != "/" && !path.ends_with('/') {
                out.push((host.clone(), format!("{path}/")));
            }
            out.push((host.clone(), path));
        }
    }
    out
}

/// The webhook's verdict on creating or updating `ing`: `Err` carries the
/// whole denial message.
pub fn review(view: &IngressView, ing: &Value) -> Result<(), String> {
    if !view.owns(ing) {
        return Ok(());
    }
    let key = |i: &Value| {
        (
            str_at(i, "/metadata/namespace").to_string(),
            str_at(i, "/metadata/name").to_string(),
        )
    };
    let me = key(ing);
    let others: Vec<&Value> = view.owned().into_iter().filter(|o| key(o) != me).collect();
    for rule in ing
        .get_in(&["spec", "rules"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host = match str_at(rule, "/host") {
            "" => "_",
            h => h,
        };
        for p in rule
            .get_in(&["http", "paths"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get_in(&["backend", "service"]).is_none_or(Value::is_null) {
                continue;
            }
            let path = match str_at(p, "/path") {
                "" => "/",
                x => x,
            };
            if let Some(holder) = others
                .iter()
                .find(|o| occupied(o).iter().any(|(h, q)| h == host && q == path))
            {
                let (ns, name) = key(holder);
                return Err(format!(
                    "admission webhook \"{WEBHOOK}\" denied the request: host \"{host}\" and path \"{path}\" is already defined in ingress {ns}/{name}"
                ));
            }
        }
    }
    Ok(())
}
