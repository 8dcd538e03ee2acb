//! Subresources and virtual resources that are not plain stored objects:
//! the scale subresource, access and identity reviews, ServiceAccount
//! tokens and pod eviction.

use super::auth::UserInfo;
use super::authz::{self, rule::Attributes};
use super::body::{self, Format};
use super::{Ctx, response};
use crate::api::meta;
use crate::api::patch::PatchType;
use crate::api::status::{GroupResource, Status};
use crate::registry::options::WriteOptions;
use crate::sim::clock::format_time;
use axum::body::Body;
use axum::http::Response;
use serde_json::{Value, json};

fn decode(ctx: &Ctx<'_>) -> Result<Value, Status> {
    let format = Format::from_content_type(ctx.content_type.as_deref())
        .ok_or_else(Status::unsupported_media_type)?;
    body::decode(format, ctx.body)
}

/// The `autoscaling/v1` Scale view of a workload.
fn scale_of(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| crate::api::selector::LabelSelector::from_json(s).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta::name(obj),
            "namespace": meta::namespace(obj),
            "uid": meta::uid(obj),
            "resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null),
            "creationTimestamp": obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    })
}

/// GET/PUT/PATCH of `…/scale`.
pub fn scale(ctx: &Ctx<'_>) -> Response<Body> {
    let info = ctx.info;
    let reg = &ctx.server.registry;
    let Some(current) = reg.get(info, &ctx.req.namespace, &ctx.req.name) else {
        return response::status(&Status::not_found(
            GroupResource {
                group: info.group,
                resource: info.plural,
            },
            &ctx.req.name,
        ));
    };
    let desired = match ctx.method.as_str() {
        "GET" => return response::json(200, &scale_of(&current), &[]),
        "PUT" => decode(ctx),
        "PATCH" => (|| {
            let ct = ctx.content_type.as_deref().unwrap_or("");
            let ty = PatchType::from_content_type(ct).ok_or_else(Status::unsupported_patch_type)?;
            let patch = body::decode(
                Format::from_content_type(Some(ct)).unwrap_or(Format::Json),
                ctx.body,
            )?;
            let scale_info = crate::api::resource::ResourceInfo {
                group: "autoscaling",
                version: "v1",
                kind: "Scale",
                ..*info
            };
            crate::api::patch::apply(ty, &scale_of(&current), &patch, &scale_info)
                .map_err(|e| e.to_api_status())
        })(),
        _ => {
            return response::status(&Status::method_not_allowed());
        }
    };
    let replicas = match desired {
        Ok(v) => v.pointer("/spec/replicas").and_then(Value::as_i64),
        Err(s) => return response::status(&s),
    };
    let Some(replicas) = replicas else {
        return response::status(&Status::invalid(
            "autoscaling",
            "Scale",
            &ctx.req.name,
            &[crate::api::field_error::FieldError::required(
                "spec.replicas",
                "",
            )],
        ));
    };
    if replicas < 0 {
        return response::status(&Status::invalid(
            "autoscaling",
            "Scale",
            &ctx.req.name,
            &[crate::api::field_error::FieldError::invalid(
                "spec.replicas",
                json!(replicas),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let patch = json!({"spec": {"replicas": replicas}});
    match reg.patch(
        info,
        &ctx.req.namespace,
        &ctx.req.name,
        PatchType::Merge,
        &patch,
        None,
        &WriteOptions::default(),
    ) {
        Ok(w) => response::json(200, &scale_of(&w.object), &w.warnings),
        Err(s) => response::status(&s),
    }
}

/// The user a SubjectAccessReview's spec names.
fn review_subject(spec: &Value) -> UserInfo {
    let strings = |k: &str| -> Vec<String> {
        spec.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let extra = spec
        .get("extra")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    (k.clone(), vals)
                })
                .collect()
        })
        .unwrap_or_default();
    UserInfo {
        username: spec
            .get("user")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        uid: spec
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        groups: strings("groups"),
        extra,
    }
}

/// The authorizer attributes an access review's spec asks about.
fn review_attributes(spec: &Value) -> Attributes {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if let Some(nr) = spec.get("nonResourceAttributes").filter(|v| v.is_object()) {
        return Attributes::non_resource(&s(nr, "verb"), &s(nr, "path"));
    }
    let ra = spec
        .get("resourceAttributes")
        .cloned()
        .unwrap_or(Value::Null);
    Attributes {
        verb: s(&ra, "verb"),
        resource_request: true,
        group: s(&ra, "group"),
        version: s(&ra, "version"),
        resource: s(&ra, "resource"),
        subresource: s(&ra, "subresource"),
        namespace: s(&ra, "namespace"),
        name: s(&ra, "name"),
        path: String::new(),
    }
}

/// `status` of an access review: `allowed`, and `reason` when there is one.
fn access_status(ctx: &Ctx<'_>, user: &UserInfo, attrs: &Attributes) -> Value {
    let d = authz::authorize(&ctx.server.registry.store, user, attrs);
    let mut st = json!({"allowed": d.allowed});
    if !d.reason.is_empty() {
        st["reason"] = json!(d.reason);
    }
    st
}

/// `status` of a SelfSubjectRulesReview: every rule the user holds in the
/// namespace, split into resource and non-resource rules.
fn rules_status(ctx: &Ctx<'_>, user: &UserInfo, namespace: &str) -> Value {
    let (rules, err) = authz::rules_for(&ctx.server.registry.store, user, namespace);
    let list = |v: &[String]| Value::from(v.to_vec());
    let resource: Vec<Value> = rules
        .iter()
        .filter(|r| !r.resources.is_empty())
        .map(|r| {
            let mut o = json!({"verbs": list(&r.verbs)});
            if !r.api_groups.is_empty() {
                o["apiGroups"] = list(&r.api_groups);
            }
            o["resources"] = list(&r.resources);
            if !r.resource_names.is_empty() {
                o["resourceNames"] = list(&r.resource_names);
            }
            o
        })
        .collect();
    let non_resource: Vec<Value> = rules
        .iter()
        .filter(|r| !r.non_resource_urls.is_empty())
        .map(|r| json!({"verbs": list(&r.verbs), "nonResourceURLs": list(&r.non_resource_urls)}))
        .collect();
    let mut st =
        json!({"resourceRules": resource, "nonResourceRules": non_resource, "incomplete": false});
    if let Some(e) = err {
        st["evaluationError"] = json!(e);
    }
    st
}

/// POST of a review (access reviews, SelfSubjectReview, TokenReview):
/// answered from the authenticator and the RBAC authorizer, not stored.
pub fn review(ctx: &Ctx<'_>) -> Response<Body> {
    let mut obj = match decode(ctx) {
        Ok(v) => v,
        Err(s) => return response::status(&s),
    };
    if !obj.is_object() {
        return response::status(&Status::bad_request("request body must be an object"));
    }
    obj["apiVersion"] = json!(ctx.info.api_version());
    obj["kind"] = json!(ctx.info.kind);
    if obj.get("metadata").is_none_or(|m| !m.is_object()) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["creationTimestamp"] = Value::Null;
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let user = &ctx.user;
    obj["status"] = match ctx.info.plural {
        "selfsubjectreviews" => {
            let mut ui = json!({"username": user.username, "groups": user.groups});
            if !user.uid.is_empty() {
                ui["uid"] = json!(user.uid);
            }
            if !user.extra.is_empty() {
                ui["extra"] = json!(user.extra);
            }
            json!({"userInfo": ui})
        }
        "selfsubjectrulesreviews" => {
            let ns = spec.get("namespace").and_then(Value::as_str).unwrap_or("");
            rules_status(ctx, user, ns)
        }
        "selfsubjectaccessreviews" => access_status(ctx, user, &review_attributes(&spec)),
        "subjectaccessreviews" => {
            access_status(ctx, &review_subject(&spec), &review_attributes(&spec))
        }
        "localsubjectaccessreviews" => {
            let mut attrs = review_attributes(&spec);
            if attrs.resource_request && attrs.namespace != ctx.req.namespace {
                return response::status(&Status::bad_request(format!(
                    "spec.resourceAttributes.namespace must match namespace: {}",
                    ctx.req.namespace
                )));
            }
            attrs.namespace = ctx.req.namespace.clone();
            access_status(ctx, &review_subject(&spec), &attrs)
        }
        "tokenreviews" => {
            let token = spec.get("token").and_then(Value::as_str).unwrap_or("");
            match ctx.server.authenticate(Some(&format!("Bearer {token}"))) {
                Some(u) => {
                    json!({"authenticated": true, "user": {"username": u.username, "uid": u.uid, "groups": u.groups}, "audiences": ["https://kubernetes.default.svc.cluster.local"]})
                }
                None => json!({"user": {}, "error": "[invalid bearer token, token lookup failed]"}),
            }
        }
        _ => json!({}),
    };
    response::json(201, &obj, &[])
}

/// POST `serviceaccounts/<name>/token`: a bound token that authenticates as
/// the ServiceAccount.
pub fn token(ctx: &Ctx<'_>) -> Response<Body> {
    let ns = &ctx.req.namespace;
    let name = &ctx.req.name;
    if ctx.server.registry.get(ctx.info, ns, name).is_none() {
        return response::status(&Status::not_found(
            GroupResource {
                group: "",
                resource: "serviceaccounts",
            },
            name,
        ));
    }
    let mut req = match decode(ctx) {
        Ok(v) if v.is_object() => v,
        Ok(_) => json!({}),
        Err(s) => return response::status(&s),
    };
    let seconds = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    let now = ctx.server.registry.clock.now();
    let expires = now
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(now);
    let token = crate::server::auth::service_account_jwt(ns, name, Some(expires.as_second()));
    req["apiVersion"] = json!("authentication.k8s.io/v1");
    req["kind"] = json!("TokenRequest");
    req["metadata"] = json!({"name": name, "namespace": ns, "creationTimestamp": Value::Null});
    if req.get("spec").is_none() {
        req["spec"] = json!({});
    }
    req["spec"]["expirationSeconds"] = json!(seconds);
    req["status"] = json!({"token": token, "expirationTimestamp": format_time(expires)});
    response::json(201, &req, &[])
}

/// POST `pods/<name>/eviction`: the Eviction API, honouring
/// PodDisruptionBudgets (`Registry::evict`).
pub fn eviction(ctx: &Ctx<'_>) -> Response<Body> {
    let body = match decode(ctx) {
        Ok(v) => v,
        Err(s) => return response::status(&s),
    };
    let registry = &ctx.server.registry;
    match registry.evict(&ctx.req.namespace, &ctx.req.name, &body) {
        Ok(st) => {
            let code = st
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(201);
            response::json(code, &st, &[])
        }
        Err(s) => {
            let mut resp = response::status(&s);
            // As the apiserver's error writer: clients wait this long.
            if let Some(secs) = s
                .details
                .as_ref()
                .and_then(|d| d.get("retryAfterSeconds"))
                .and_then(Value::as_i64)
                && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert("Retry-After", v);
            }
            resp
        }
    }
}
