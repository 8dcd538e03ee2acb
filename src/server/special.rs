//! Subresources and virtual resources that are not plain stored objects:
//! the scale subresource, access and identity reviews, ServiceAccount
//! tokens and pod eviction.

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
            return response::status(&Status::method_not_supported(
                GroupResource {
                    group: info.group,
                    resource: info.plural,
                },
                &ctx.method,
            ));
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

/// The reason RBAC gives when kind's admin group allows a request.
const ADMIN_REASON: &str = "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\"";

/// POST of a review (access reviews, SelfSubjectReview): answered, not stored.
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
    let user = &ctx.user;
    let admin = user
        .groups
        .iter()
        .any(|g| g == "kubeadm:cluster-admins" || g == "system:masters");
    match ctx.info.plural {
        "selfsubjectreviews" => {
            let mut ui = json!({"username": user.username, "groups": user.groups});
            if !user.uid.is_empty() {
                ui["uid"] = json!(user.uid);
            }
            obj["status"] = json!({"userInfo": ui});
        }
        "selfsubjectrulesreviews" => {
            let rules = if admin {
                json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}])
            } else {
                json!([{"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}])
            };
            let non_resource = if admin {
                json!([{"verbs": ["*"], "nonResourceURLs": ["*"]}])
            } else {
                json!([])
            };
            obj["status"] = json!({"resourceRules": rules, "nonResourceRules": non_resource, "incomplete": false});
        }
        _ => {
            obj["status"] = if admin {
                json!({"allowed": true, "reason": ADMIN_REASON})
            } else {
                json!({"allowed": false})
            };
        }
    }
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
    let token = format!("kdrill-sa-{}", ctx.server.registry.rng.name_suffix(32));
    ctx.server.auth.add_token(
        token.clone(),
        super::auth::UserInfo {
            username: format!("system:serviceaccount:{ns}:{name}"),
            uid: String::new(),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
            ..Default::default()
        },
    );
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

/// POST `pods/<name>/eviction`: deletes the pod (disruption budgets are
/// checked by the policy layer once it exists).
pub fn eviction(ctx: &Ctx<'_>) -> Response<Body> {
    let body = match decode(ctx) {
        Ok(v) => v,
        Err(s) => return response::status(&s),
    };
    let opts = body
        .get("deleteOptions")
        .map(crate::registry::options::DeleteOptions::from_json)
        .transpose()
        .unwrap_or_default()
        .unwrap_or_default();
    match ctx
        .server
        .registry
        .delete(ctx.info, &ctx.req.namespace, &ctx.req.name, &opts)
    {
        Ok(_) => response::json(
            201,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            &[],
        ),
        Err(s) => response::status(&s),
    }
}
