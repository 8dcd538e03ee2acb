//! Routing a request as the generated nginx.conf does.
//!
//! Servers: one per rule host across all owned Ingresses, plus the
//! catch-all `_` for rules without a host and for unknown hosts. A request
//! picks the server whose name equals its host (case-insensitively), else
//! the longest matching `*.` wildcard (nginx wildcards match one *or more*
//! labels), else `_`.
//!
//! Locations inside a server, as `updateServerLocations` and the template
//! write them:
//! - `Exact /p` → `location = /p`;
//! - `Prefix /p` → `location /p/` plus `location = /p` (element-wise: `/p`,
//!   `/p/`, `/p/x` match, `/px` does not); `Prefix /p/` → `location /p/`
//!   and `location = /p/` only, so `/p` falls through (nginx would answer
//!   it with a 301 to `/p/`, not modelled); `Prefix /` → `location /`;
//! - `ImplementationSpecific /p` → `location /p`, a plain string prefix
//!   (`/px` matches); an empty path is `/`.
//!
//! nginx takes an exact location first, else the longest prefix. A path
//! configured twice keeps the first (oldest) Ingress's backend. With no
//! `/` location the server's root goes to the default backend: the
//! `spec.defaultBackend` of the Ingress that created the server, else the
//! controller's own (404). The catch-all takes the `defaultBackend` of the
//! first Ingress that has one and no rules.
//!
//! A backend resolves like `serviceEndpoints`: the Service in the
//! Ingress's namespace, the first Service port whose `port`, `targetPort`
//! or `name` equals the backend port (number or name), and that port's
//! ready endpoints; any step failing leaves an empty upstream, which nginx
//! answers with 503.

use super::pages::{NOT_FOUND_PAGE, SERVICE_UNAVAILABLE_PAGE, permanent_redirect_page};
use super::{IngressView, str_at};
use crate::api::pointer::Pointer;
use serde_json::Value;

/// A request reaching the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRequest {
    /// The `Host` header (a `:port` suffix is ignored).
    pub host: String,
    /// The request target (a `?query` is ignored).
    pub path: String,
    /// Whether it came in on 443.
    pub https: bool,
}

impl IngressRequest {
    pub fn http(host: &str, path: &str) -> Self {
        Self {
            host: host.into(),
            path: path.into(),
            https: false,
        }
    }

    pub fn https(host: &str, path: &str) -> Self {
        Self {
            host: host.into(),
            path: path.into(),
            https: true,
        }
    }
}

/// One ready address behind a Service port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: String,
    pub port: u16,
    /// The pod behind it (`targetRef.name`), if known.
    pub pod: Option<String>,
}

/// A matched backend with somewhere to send the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub namespace: String,
    /// The Ingress whose rule (or defaultBackend) matched.
    pub ingress: String,
    pub service: String,
    /// The Service port's `port`.
    pub service_port: i64,
    pub endpoints: Vec<Endpoint>,
}

/// Why a matched backend cannot serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// `Error obtaining Service endpoints: no object matching key ...`
    ServiceMissing { namespace: String, service: String },
    /// No Service port matches the backend's port.
    PortMissing {
        namespace: String,
        service: String,
        port: String,
    },
    /// `Service "ns/name" does not have any active Endpoint.`
    NoEndpoints { namespace: String, service: String },
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Backend(Backend),
    /// No location matched and no defaultBackend: 404 from the controller.
    NotFound,
    /// 503 from the controller.
    Unavailable(Unavailable),
    /// Plain HTTP to a host with TLS: 308 to the same URL over https.
    Redirect {
        location: String,
    },
}

impl Route {
    /// The status the client sees when the controller answers itself
    /// (`None` when the request is proxied).
    pub fn status(&self) -> Option<u16> {
        match self {
            Route::Backend(_) => None,
            Route::NotFound => Some(404),
            Route::Unavailable(_) => Some(503),
            Route::Redirect { .. } => Some(308),
        }
    }

    /// The body of the controller's own answer.
    pub fn body(&self) -> Option<&'static str> {
        match self {
            Route::Backend(_) => None,
            Route::NotFound => Some(NOT_FOUND_PAGE),
            Route::Unavailable(_) => Some(SERVICE_UNAVAILABLE_PAGE),
            Route::Redirect { .. } => Some(permanent_redirect_page()),
        }
    }
}

/// A backend reference: the Ingress it comes from and its `service`.
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    ingress: &'a Value,
    service: &'a Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exact,
    /// The `location = /p` added for `Prefix /p`; a real Exact location of
    /// the same path takes precedence.
    PrefixExact,
    Prefix,
}

#[derive(Debug, Clone)]
struct Location<'a> {
    kind: Kind,
    path: String,
    target: Target<'a>,
}

#[derive(Debug, Default)]
struct Server<'a> {
    root: Option<Target<'a>>,
    locations: Vec<Location<'a>>,
}

impl<'a> Server<'a> {
    fn add(&mut self, kind: Kind, path: String, target: Target<'a>) {
        if !self
            .locations
            .iter()
            .any(|l| l.kind == kind && l.path == path)
        {
            self.locations.push(Location { kind, path, target });
        }
    }

    fn pick(&self, path: &str) -> Option<Target<'a>> {
        for kind in [Kind::Exact, Kind::PrefixExact] {
            if let Some(l) = self
                .locations
                .iter()
                .find(|l| l.kind == kind && l.path == path)
            {
                return Some(l.target);
            }
        }
        self.locations
            .iter()
            .filter(|l| l.kind == Kind::Prefix && path.starts_with(l.path.as_str()))
            .max_by_key(|l| l.path.len())
            .map(|l| l.target)
            .or(self.root)
    }
}

const CATCH_ALL: &str = "_";

fn service_of(backend: &Value) -> Option<&Value> {
    backend.get("service").filter(|s| s.is_object())
}

/// The servers nginx would be configured with, in ingress order.
fn servers<'a>(view: &IngressView<'a>) -> Vec<(String, Server<'a>)> {
    let mut servers: Vec<(String, Server<'a>)> = vec![(CATCH_ALL.into(), Server::default())];
    let index =
        |servers: &[(String, Server<'a>)], host: &str| servers.iter().position(|(h, _)| h == host);
    for ing in view.owned() {
        let default = ing
            .get_in(&["spec", "defaultBackend"])
            .and_then(service_of)
            .map(|service| Target {
                ingress: ing,
                service,
            });
        let rules = ing
            .get_in(&["spec", "rules"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if rules.is_empty() {
            if let Some(t) = default
                && servers[0].1.root.is_none()
            {
                servers[0].1.root = Some(t);
            }
            continue;
        }
        for rule in rules {
            let host = match str_at(rule, "/host") {
                "" => CATCH_ALL.to_string(),
                h => h.to_ascii_lowercase(),
            };
            let i = match index(&servers, &host) {
                Some(i) => i,
                None => {
                    servers.push((
                        host.clone(),
                        Server {
                            root: default,
                            locations: Vec::new(),
                        },
                    ));
                    servers.len() - 1
                }
            };
            let paths = rule
                .get_in(&["http", "paths"])
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for p in paths {
                let Some(service) = p.get("backend").and_then(service_of) else {
                    continue;
                };
                let target = Target {
                    ingress: ing,
                    service,
                };
                let path = match str_at(p, "/path") {
                    "" => "/".to_string(),
                    x => x.to_string(),
                };
                let server = &mut servers[i].1;
                match str_at(p, "/pathType") {
                    "Exact" => server.add(Kind::Exact, path, target),
                    "Prefix" if path == "/" => server.add(Kind::Prefix, path, target),
                    "Prefix" => {
                        let dir = if path.ends_with('/') {
                            path.clone()
                        } else {
                            format!("{path}/")
                        };
                        server.add(Kind::Prefix, dir, target);
                        server.add(Kind::PrefixExact, path, target);
                    }
                    _ => server.add(Kind::Prefix, path, target),
                }
            }
        }
    }
    servers
}

/// The server a host lands on.
fn server_for<'s, 'a>(servers: &'s [(String, Server<'a>)], host: &str) -> &'s Server<'a> {
    if let Some((_, s)) = servers.iter().find(|(h, _)| h == host) {
        return s;
    }
    servers
        .iter()
        .filter_map(|(h, s)| {
            let suffix = h.strip_prefix('*')?;
            (suffix.starts_with('.') && host.ends_with(suffix) && host.len() > suffix.len())
                .then_some((suffix.len(), s))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, s)| s)
        .unwrap_or(&servers[0].1)
}

/// Whether an owned Ingress lists `host` under `spec.tls` (then ingress-nginx
/// redirects plain HTTP to HTTPS).
pub(super) fn tls_host(view: &IngressView, host: &str) -> bool {
    view.owned().iter().any(|ing| {
        ing.get_in(&["spec", "tls"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("hosts").and_then(Value::as_array))
            .flatten()
            .any(|h| h.as_str().is_some_and(|h| h.eq_ignore_ascii_case(host)))
    })
}

fn normalize(req: &IngressRequest) -> (String, String) {
    let host = req
        .host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(req.host.as_str(), |(h, _)| h)
        .to_ascii_lowercase();
    let path = req.path.split(['?', '#']).next().unwrap_or("");
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    (host, path)
}

/// Where ingress-nginx sends `req`.
pub fn route(view: &IngressView, req: &IngressRequest) -> Route {
    let (host, path) = normalize(req);
    if !req.https && tls_host(view, &host) {
        return Route::Redirect {
            location: format!("https://{host}{}", req.path),
        };
    }
    let servers = servers(view);
    match server_for(&servers, &host).pick(&path) {
        None => Route::NotFound,
        Some(t) => resolve(view, t),
    }
}

fn resolve(view: &IngressView, t: Target) -> Route {
    let namespace = str_at(t.ingress, "/metadata/namespace").to_string();
    let service = str_at(t.service, "/name").to_string();
    let Some(svc) = IngressView::find(&view.services, &namespace, &service) else {
        return Route::Unavailable(Unavailable::ServiceMissing { namespace, service });
    };
    let wanted = match t
        .service
        .get_in(&["port", "number"])
        .and_then(Value::as_i64)
    {
        Some(n) if n != 0 => n.to_string(),
        _ => str_at(t.service, "/port/name").to_string(),
    };
    let ports = svc
        .get_in(&["spec", "ports"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let matched = ports.iter().find(|sp| {
        let target = match sp.get("targetPort") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        sp.get("port")
            .and_then(Value::as_i64)
            .map(|p| p.to_string())
            == Some(wanted.clone())
            || (!target.is_empty() && target == wanted)
            || (!wanted.is_empty() && str_at(sp, "/name") == wanted)
    });
    let Some(sp) = matched else {
        return Route::Unavailable(Unavailable::PortMissing {
            namespace,
            service,
            port: wanted,
        });
    };
    let endpoints = ready_endpoints(view, &namespace, &service, str_at(sp, "/name"));
    if endpoints.is_empty() {
        return Route::Unavailable(Unavailable::NoEndpoints { namespace, service });
    }
    Route::Backend(Backend {
        namespace,
        ingress: str_at(t.ingress, "/metadata/name").to_string(),
        service,
        service_port: sp.get("port").and_then(Value::as_i64).unwrap_or(0),
        endpoints,
    })
}

/// The ready addresses of the Endpoints port named like the Service port.
fn ready_endpoints(view: &IngressView, ns: &str, svc: &str, port_name: &str) -> Vec<Endpoint> {
    let Some(ep) = IngressView::find(&view.endpoints, ns, svc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for subset in ep
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let port = subset
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| str_at(p, "/name") == port_name)
            .and_then(|p| p.get("port").and_then(Value::as_u64))
            .and_then(|p| u16::try_from(p).ok());
        let Some(port) = port else { continue };
        for a in subset
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(Endpoint {
                ip: str_at(a, "/ip").to_string(),
                port,
                pod: a
                    .get_in(&["targetRef", "name"])
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    out
}
