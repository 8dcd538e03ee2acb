//! ingress-nginx as kind installs it: which Ingresses the controller owns,
//! how it routes a request, which certificate it serves, the pages it
//! answers with itself, and the add-on objects.
//!
//! Upstream truth: kubernetes/ingress-nginx v1.11
//! (`internal/ingress/controller/store/store.go` `GetIngressClass`,
//! `controller.go` `createServers` / `serviceEndpoints` /
//! `updateServerLocations`, `rootfs/etc/nginx/template/nginx.tmpl`), the
//! kind provider manifest `deploy/static/provider/kind/deploy.yaml`, and
//! nginx's `ngx_http_special_response.c` for the error pages.
//!
//! Everything here is pure: the caller builds an [`IngressView`] from the
//! stored objects and asks [`route`] or [`certificate`].

mod addon;
pub mod admission;
mod pages;
mod route;
mod tls;

pub use addon::{CONTROLLER_IMAGE, NAMESPACE, addon_objects};
pub use pages::{NOT_FOUND_PAGE, SERVICE_UNAVAILABLE_PAGE, nginx_page, permanent_redirect_page};
pub use route::{Backend, Endpoint, IngressRequest, Route, Unavailable, route};
pub use tls::{Certificate, FAKE_CERTIFICATE_SUBJECT, certificate, fake_certificate};

use crate::api::pointer::Pointer;
use crate::store::{ResKey, Store};
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;

/// The legacy class annotation (`ingressclass.IngressKey`).
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The controller's flags that decide what it owns (kind's manifest:
/// `--controller-class=k8s.io/ingress-nginx --ingress-class=nginx
/// --watch-ingress-without-class=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerConfig {
    /// IngressClasses with this `spec.controller` are ours.
    pub controller: String,
    /// The value of the legacy annotation we answer to.
    pub annotation_value: String,
    /// Whether Ingresses with neither class nor annotation are ours.
    pub watch_without_class: bool,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            controller: "k8s.io/ingress-nginx".into(),
            annotation_value: "nginx".into(),
            watch_without_class: true,
        }
    }
}

/// What the controller sees: the objects its informers hold, and the time
/// (for certificate expiry).
#[derive(Debug, Clone)]
pub struct IngressView<'a> {
    pub config: ControllerConfig,
    pub ingresses: Vec<&'a Value>,
    pub ingress_classes: Vec<&'a Value>,
    pub services: Vec<&'a Value>,
    /// core/v1 Endpoints (the controller reads EndpointSlices; both carry
    /// the same ready addresses).
    pub endpoints: Vec<&'a Value>,
    pub secrets: Vec<&'a Value>,
    pub now: Timestamp,
}

fn str_at<'v>(v: &'v Value, ptr: &str) -> &'v str {
    v.at(ptr).and_then(Value::as_str).unwrap_or("")
}

impl<'a> IngressView<'a> {
    /// An empty view with kind's controller flags.
    pub fn new(now: Timestamp) -> Self {
        Self {
            config: ControllerConfig::default(),
            ingresses: Vec::new(),
            ingress_classes: Vec::new(),
            services: Vec::new(),
            endpoints: Vec::new(),
            secrets: Vec::new(),
            now,
        }
    }

    /// `GetIngressClass` succeeding: `spec.ingressClassName` names an
    /// IngressClass of our controller; else the legacy annotation equals
    /// our class; else, with `--watch-ingress-without-class`, anything
    /// without either.
    pub fn owns(&self, ing: &Value) -> bool {
        if let Some(class) = ing
            .get_in(&["spec", "ingressClassName"])
            .and_then(Value::as_str)
        {
            return self.ingress_classes.iter().any(|c| {
                str_at(c, "/metadata/name") == class
                    && str_at(c, "/spec/controller") == self.config.controller
            });
        }
        if let Some(a) = ing
            .get_in(&["metadata", "annotations"])
            .and_then(|a| a.get(CLASS_ANNOTATION))
        {
            return a.as_str() == Some(self.config.annotation_value.as_str());
        }
        self.config.watch_without_class
    }

    /// The owned Ingresses in the controller's order: oldest first, then by
    /// namespace/name (`sortIngressSlice`); the first one to configure a
    /// location keeps it.
    pub fn owned(&self) -> Vec<&'a Value> {
        let mut v: Vec<&'a Value> = self
            .ingresses
            .iter()
            .copied()
            .filter(|i| self.owns(i))
            .collect();
        v.sort_by(|a, b| {
            let key = |x: &Value| {
                (
                    str_at(x, "/metadata/creationTimestamp")
                        .parse::<Timestamp>()
                        .ok(),
                    format!(
                        "{}/{}",
                        str_at(x, "/metadata/namespace"),
                        str_at(x, "/metadata/name")
                    ),
                )
            };
            key(a).cmp(&key(b))
        });
        v
    }

    fn find(list: &[&'a Value], ns: &str, name: &str) -> Option<&'a Value> {
        list.iter()
            .copied()
            .find(|o| str_at(o, "/metadata/namespace") == ns && str_at(o, "/metadata/name") == name)
    }
}

/// The objects an [`IngressView`] borrows, read from a store.
#[derive(Debug, Clone, Default)]
pub struct IngressObjects {
    pub ingresses: Vec<Arc<Value>>,
    pub ingress_classes: Vec<Arc<Value>>,
    pub services: Vec<Arc<Value>>,
    pub endpoints: Vec<Arc<Value>>,
    pub secrets: Vec<Arc<Value>>,
}

impl IngressObjects {
    /// Lists what the controller's informers hold (every namespace).
    pub fn from_store(store: &Store) -> Self {
        let list = |group: &'static str, resource: &'static str| {
            store.list(ResKey { group, resource }, None).0
        };
        Self {
            ingresses: list("networking.k8s.io", "ingresses"),
            ingress_classes: list("networking.k8s.io", "ingressclasses"),
            services: list("", "services"),
            endpoints: list("", "endpoints"),
            secrets: list("", "secrets"),
        }
    }

    /// A view over these objects at `now`, with kind's controller flags.
    pub fn view(&self, now: Timestamp) -> IngressView<'_> {
        fn refs(v: &[Arc<Value>]) -> Vec<&Value> {
            v.iter().map(|a| &**a).collect()
        }
        let mut view = IngressView::new(now);
        view.ingresses = refs(&self.ingresses);
        view.ingress_classes = refs(&self.ingress_classes);
        view.services = refs(&self.services);
        view.endpoints = refs(&self.endpoints);
        view.secrets = refs(&self.secrets);
        view
    }
}

#[cfg(test)]
mod tests;
