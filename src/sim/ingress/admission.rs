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

use super::{IngressObjects, IngressView, NAMESPACE, str_at};
use crate::api::pointer::Pointer;
use crate::api::status::Status;
use crate::registry::webhook::ValidatingHook;
use crate::store::{ResKey, Store};
use serde_json::Value;
use std::sync::Arc;

/// The Service kind's manifest points the `ingress-nginx-admission`
/// ValidatingWebhookConfiguration at; while it exists the webhook is
/// installed and Ingress writes go through [`review`].
pub const ADMISSION_SERVICE: &str = "ingress-nginx-controller-admission";

const INGRESSES: ResKey = ResKey {
    group: "networking.k8s.io",
    resource: "ingresses",
};
const SERVICES: ResKey = ResKey {
    group: "",
    resource: "services",
};

/// The webhook as the registry calls it: Ingress creates and updates are
/// reviewed against the Ingresses stored, once the add-on's admission
/// Service exists. A denial is ingress-nginx's `Result` (400 BadRequest)
/// passed on unchanged by the apiserver (`ToStatusErr` in v1.33).
pub fn hook() -> ValidatingHook {
    Arc::new(|store: &Store, now, res| {
        if res != INGRESSES || store.get(SERVICES, NAMESPACE, ADMISSION_SERVICE).is_none() {
            return None;
        }
        let objects = IngressObjects::from_store(store);
        Some(Box::new(move |ing: &Value| {
            review(&objects.view(now), ing).map_err(Status::bad_request)
        }))
    })
}

/// The webhook's name, as the denial message starts with it.
pub const WEBHOOK: &str = "validate.nginx.ingress.kubernetes.io";

/// The (host, path) pairs an Ingress's service paths occupy.
fn occupied(ing: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in ing
        .at("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host = match str_at(rule, "/host") {
            "" => "_".to_string(),
            h => h.to_string(),
        };
        for p in rule
            .at("/http/paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.at("/backend/service").is_none_or(Value::is_null) {
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
        .at("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host = match str_at(rule, "/host") {
            "" => "_",
            h => h,
        };
        for p in rule
            .at("/http/paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.at("/backend/service").is_none_or(Value::is_null) {
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
