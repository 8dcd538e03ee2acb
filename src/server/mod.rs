//! The simulated API server over HTTP(S): routing, authentication,
//! discovery, OpenAPI, list/get/watch, writes, subresources and the audit
//! log. Handlers are thin: the rules live in `registry`.

pub mod audit;
pub mod auth;
pub mod authz;
pub mod body;
pub mod client_cert;
pub mod clock_api;
pub mod discovery;
mod exec;
pub mod images_api;
pub mod kubelet_api;
mod logs;
mod metrics;
mod options;
mod query;
mod read;
pub mod render;
pub mod request_info;
mod response;
mod special;
pub mod table;
pub mod tls;
mod watch;
mod write;

use crate::api::resource::{self, ResourceInfo};
use crate::api::status::Status;
use crate::registry::Registry;
use audit::{AuditLog, AuditRecord};
use auth::{Authenticator, UserInfo};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::{HeaderMap, Method, Request, Response, Uri};
use query::Query;
use request_info::RequestInfo;
use std::sync::Arc;

/// The server's shared state.
pub struct ApiServer {
    pub registry: Arc<Registry>,
    pub auth: Authenticator,
    pub audit: AuditLog,
    /// The nodes' kubelets (logs, exec, metrics), once a cluster runs them.
    pub kubelet: std::sync::OnceLock<Arc<dyn kubelet_api::KubeletApi>>,
    /// What moves time, when the cluster runs on a virtual clock.
    pub clock_control: std::sync::OnceLock<Arc<dyn clock_api::ClockControl>>,
}

/// Everything a handler needs about one request.
pub struct Ctx<'a> {
    pub server: &'a Arc<ApiServer>,
    pub method: String,
    pub req: RequestInfo,
    pub info: &'static ResourceInfo,
    pub query: Query,
    pub accept: String,
    pub content_type: Option<String>,
    pub body: &'a [u8],
    pub user: UserInfo,
}

impl ApiServer {
    pub fn new(registry: Arc<Registry>, audit: AuditLog) -> Arc<Self> {
        Arc::new(Self {
            registry,
            auth: Authenticator::default(),
            audit,
            kubelet: std::sync::OnceLock::new(),
            clock_control: std::sync::OnceLock::new(),
        })
    }

    /// The user a bearer token authenticates: a token the server issued or
    /// listed in the token file, or the JWT of an existing ServiceAccount.
    /// A request without credentials is `system:anonymous` (kubeadm leaves
    /// anonymous auth on; RBAC then lets it read only public info).
    pub fn authenticate(&self, authorization: Option<&str>) -> Option<UserInfo> {
        if authorization.is_none() {
            return Some(UserInfo::anonymous());
        }
        if let Some(u) = self.auth.authenticate(authorization) {
            return Some(u);
        }
        auth::service_account_user(&self.registry.store, auth::bearer(authorization)?)
    }

    /// The union authenticator, in the apiserver's order: the connection's
    /// client certificate (x509) first, then the bearer token; a request
    /// with neither is `system:anonymous`. A certificate that does not
    /// verify fails the request (401) unless the token authenticates.
    pub fn authenticate_request(
        &self,
        authorization: Option<&str>,
        client_certs: &[Vec<u8>],
    ) -> Option<UserInfo> {
        use client_cert::X509;
        let x509 = self
            .auth
            .authenticate_certificate(client_certs, self.registry.clock.now());
        match x509 {
            X509::User(u) => Some(u),
            _ if authorization.is_some() => self.authenticate(authorization),
            X509::Invalid(e) => {
                tracing::debug!("client certificate refused: {e}");
                None
            }
            X509::NoUser => Some(UserInfo::anonymous()),
        }
    }

    /// Impersonation, then authorization of `attrs`, for an authenticated
    /// `requestor`: the user the request acts as, or the 403 (or the
    /// impersonation filter's error) to answer with.
    pub fn authorize(
        &self,
        requestor: &UserInfo,
        headers: &HeaderMap,
        attrs: &authz::rule::Attributes,
    ) -> Result<UserInfo, Status> {
        let store = &self.registry.store;
        let impersonation: Vec<(String, String)> = headers
            .iter()
            .filter(|(n, _)| n.as_str().starts_with("impersonate-"))
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let user = authz::impersonate::impersonate(&impersonation, requestor, |u, a| {
            authz::authorize(store, u, a)
        })?;
        let decision = authz::authorize(store, &user, attrs);
        if decision.allowed {
            Ok(user)
        } else {
            Err(authz::forbidden(&user.username, attrs, &decision.reason))
        }
    }

    /// The axum router: one fallback that parses paths itself, as the
    /// apiserver's request-info resolution does.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .fallback(handle)
            .with_state(self.clone())
            .layer(axum::extract::DefaultBodyLimit::max(body::MAX_BODY + 1024))
    }
}

/// The client certificates of the request's TLS connection (leaf first).
fn client_certs(extensions: &axum::http::Extensions) -> &[Vec<u8>] {
    extensions
        .get::<Arc<axum_server::tls::TlsInfo>>()
        .map_or(&[], |info| info.peer_certificates.as_slice())
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(
    State(server): State<Arc<ApiServer>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    request: Request<Body>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    // kdrill's own control surface (admin-only): the clock and the images.
    let path = parts.uri.path();
    if path == clock_api::PATH || path.starts_with(images_api::PATH) {
        let Some(user) = server
            .authenticate_request(
                header(&parts.headers, "authorization").as_deref(),
                client_certs(&parts.extensions),
            )
            .filter(|u| u.username != UserInfo::anonymous().username)
        else {
            return response::status(&Status::unauthorized());
        };
        let verb = method_verb(&parts.method);
        let attrs = authz::rule::Attributes::non_resource(verb, path);
        let decision = authz::authorize(&server.registry.store, &user, &attrs);
        if !decision.allowed {
            return response::status(&authz::forbidden(&user.username, &attrs, &decision.reason));
        }
        if path == clock_api::PATH {
            let control = server.clock_control.get().cloned();
            return clock_api::serve(control, &parts.method, &user, parts.uri.query()).await;
        }
        let Ok(bytes) = axum::body::to_bytes(body, body::MAX_BODY).await else {
            return response::status(&Status::too_large(body::MAX_BODY));
        };
        return images_api::serve(server.kubelet.get(), &parts.method, path, &bytes);
    }
    if let Ok(ws) = ws {
        // exec/attach streams: the only upgrades the API serves.
        let certs = client_certs(&parts.extensions);
        return exec::upgrade(&server, ws, &parts.uri, &parts.headers, certs);
    }
    let bytes = match axum::body::to_bytes(body, body::MAX_BODY + 1).await {
        Ok(b) => b,
        Err(_) => return response::status(&Status::too_large(body::MAX_BODY)),
    };
    if bytes.len() > body::MAX_BODY {
        return response::status(&Status::too_large(body::MAX_BODY));
    }
    let certs = client_certs(&parts.extensions);
    serve_request(
        &server,
        &parts.method,
        &parts.uri,
        &parts.headers,
        certs,
        &bytes,
    )
}

fn serve_request(
    server: &Arc<ApiServer>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    client_certs: &[Vec<u8>],
    bytes: &Bytes,
) -> Response<Body> {
    let path = uri.path();
    let query = Query::parse(uri.query());
    let accept = header(headers, "accept").unwrap_or_default();
    if auth::is_public(path) {
        return public(path, &accept);
    }
    let Some(requestor) =
        server.authenticate_request(header(headers, "authorization").as_deref(), client_certs)
    else {
        return response::status(&Status::unauthorized());
    };
    let req = RequestInfo::parse(method.as_str(), path, query.flag("watch"));
    let user = match server.authorize(&requestor, headers, &authz::attributes_of(&req)) {
        Ok(u) => u,
        Err(denied) => {
            let resp = response::status(&denied);
            server.audit.record(AuditRecord {
                time: crate::sim::clock::format_micro_time(server.registry.clock.now()),
                user: requestor.username,
                verb: req.verb,
                group: req.group,
                resource: req.resource,
                subresource: req.subresource,
                namespace: req.namespace,
                name: req.name,
                uri: uri.to_string(),
                code: resp.status().as_u16(),
            });
            return resp;
        }
    };
    let resp = if req.is_resource {
        resource_request(
            server,
            method,
            req.clone(),
            query,
            accept,
            header(headers, "content-type"),
            bytes,
            user.clone(),
        )
    } else {
        discovery_request(path, &accept)
    };
    server.audit.record(AuditRecord {
        time: crate::sim::clock::format_micro_time(server.registry.clock.now()),
        user: user.username,
        verb: req.verb,
        group: req.group,
        resource: req.resource,
        subresource: req.subresource,
        namespace: req.namespace,
        name: req.name,
        uri: uri.to_string(),
        code: resp.status().as_u16(),
    });
    resp
}

/// The verb RBAC checks for a non-resource request (`RequestInfo`).
fn method_verb(method: &Method) -> &'static str {
    match method.as_str() {
        "POST" => "post",
        "PUT" => "put",
        "PATCH" => "patch",
        "DELETE" => "delete",
        "HEAD" => "head",
        _ => "get",
    }
}

/// Unauthenticated endpoints.
fn public(path: &str, _accept: &str) -> Response<Body> {
    match path {
        "/version" => response::json(200, &discovery::version_info(), &[]),
        "/healthz" | "/livez" | "/readyz" => response::text(200, "ok"),
        "/openapi/v3" => response::json(200, &crate::api::schema::openapi_v3_root(), &[]),
        p => match p
            .strip_prefix("/openapi/v3/")
            .and_then(crate::api::schema::openapi_v3_document)
        {
            Some((doc, _hash)) => {
                let mut resp = Response::new(Body::from(doc));
                resp.headers_mut().insert(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                );
                resp
            }
            None => response::status(&Status::not_found_path()),
        },
    }
}

/// `/api`, `/apis` and the per-group documents.
fn discovery_request(path: &str, accept: &str) -> Response<Body> {
    let path = path.trim_end_matches('/');
    match path {
        "/api" => match discovery::wants_aggregated(accept) {
            Some(v) => response::json_as(
                200,
                &discovery::aggregated_core_as(v),
                discovery::aggregated_content_type(v),
            ),
            None => response::json(200, &discovery::api_versions(), &[]),
        },
        "/apis" => match discovery::wants_aggregated(accept) {
            Some(v) => response::json_as(
                200,
                &discovery::aggregated_apis_as(v),
                discovery::aggregated_content_type(v),
            ),
            None => response::json(200, &discovery::api_group_list(), &[]),
        },
        "/api/v1" => discovery::api_resource_list("", "v1").map_or_else(
            || response::status(&Status::not_found_path()),
            |v| response::json(200, &v, &[]),
        ),
        _ => {
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let doc = match parts.as_slice() {
                ["apis", g] => discovery::api_group(g),
                ["apis", g, v] => discovery::api_resource_list(g, v),
                _ => None,
            };
            doc.map_or_else(
                || response::status(&Status::not_found_path()),
                |v| response::json(200, &v, &[]),
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn resource_request(
    server: &Arc<ApiServer>,
    method: &Method,
    req: RequestInfo,
    query: Query,
    accept: String,
    content_type: Option<String>,
    body: &[u8],
    user: UserInfo,
) -> Response<Body> {
    let Some(info) = resource::lookup(&req.group, &req.version, &req.resource) else {
        return response::status(&Status::not_found_path());
    };
    if info.namespaced
        && req.namespace.is_empty()
        && !matches!(req.verb.as_str(), "list" | "watch")
        && info.plural != "namespaces"
    {
        // Namespaced objects are addressed inside a namespace.
        if !req.name.is_empty() || req.verb == "create" {
            return response::status(&Status::not_found_path());
        }
    }
    let ctx = Ctx {
        server,
        method: method.to_string(),
        req,
        info,
        query,
        accept,
        content_type,
        body,
        user,
    };
    let sub = ctx.req.subresource.as_str();
    if !sub.is_empty() {
        if info.subresource(sub).is_none() {
            return response::status(&Status::not_found_path());
        }
        return match (sub, ctx.req.verb.as_str()) {
            ("scale", _) => special::scale(&ctx),
            ("status", "get") => read::get(&ctx),
            ("status", "update") => write::update(&ctx),
            ("status", "patch") => write::patch(&ctx),
            ("token", "create") => special::token(&ctx),
            ("eviction", "create") => special::eviction(&ctx),
            ("log", "get") => logs::serve(&ctx),
            ("exec" | "attach", _) => exec::not_upgraded(ctx.server, &ctx.req, &ctx.query),
            _ => response::status(&Status::method_not_allowed()),
        };
    }
    // A verb the resource lacks has no route upstream: go-restful's 405.
    if !info.has_verb(&ctx.req.verb) {
        return response::status(&Status::method_not_allowed());
    }
    if info.group == "metrics.k8s.io" {
        return metrics::serve(&ctx);
    }
    if info.verbs == resource::CREATE_ONLY {
        return special::review(&ctx);
    }
    if info.group == authz::CLUSTER_ROLES.group
        && let Err(denied) = rbac_escalation(&ctx)
    {
        return response::status(&denied);
    }
    match ctx.req.verb.as_str() {
        "get" => read::get(&ctx),
        "list" => read::list(&ctx),
        "watch" => watch::watch(&ctx),
        "create" => write::create(&ctx),
        "update" => write::update(&ctx),
        "patch" => write::patch(&ctx),
        "delete" => write::delete(&ctx),
        "deletecollection" => write::delete_collection(&ctx),
        _ => response::status(&Status::method_not_allowed()),
    }
}

/// RBAC's escalation checks for a create, update or patch of a role or
/// binding, on the object the write would store. A body that does not
/// decode is left to the write itself to refuse.
fn rbac_escalation(ctx: &Ctx<'_>) -> Result<(), Status> {
    let ns = ctx.req.namespace.as_str();
    let current = (!ctx.req.name.is_empty())
        .then(|| ctx.server.registry.get(ctx.info, ns, &ctx.req.name))
        .flatten();
    let decoded = |ct: Option<&str>| {
        body::Format::from_content_type(ct).and_then(|f| body::decode(f, ctx.body).ok())
    };
    let new = match ctx.req.verb.as_str() {
        "create" | "update" => decoded(ctx.content_type.as_deref()),
        "patch" => {
            let ct = ctx.content_type.as_deref().unwrap_or("");
            let patch = decoded(Some(ct));
            match (
                crate::api::patch::PatchType::from_content_type(ct),
                patch,
                &current,
            ) {
                (Some(ty), Some(p), Some(cur)) => {
                    crate::api::patch::apply(ty, cur, &p, ctx.info).ok()
                }
                (Some(crate::api::patch::PatchType::Apply), Some(p), None) => Some(p),
                _ => None,
            }
        }
        _ => None,
    };
    let Some(mut new) = new else {
        return Ok(());
    };
    if crate::api::meta::name(&new).is_empty() && !ctx.req.name.is_empty() {
        crate::api::meta::set_meta(&mut new, "name", ctx.req.name.clone());
    }
    authz::escalation::check(
        &ctx.server.registry.store,
        &ctx.user,
        ctx.info.plural,
        ns,
        &new,
        current.as_deref(),
    )
}
