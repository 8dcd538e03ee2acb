//! `get` and `list`: selectors, paging, and Table output.

use super::render::{self, IncludeObject};
use super::{Ctx, response};
use crate::api::meta;
use crate::api::resource::ResourceInfo;
use crate::api::selector::{FieldSelector, LabelSelector, canonical_field, supported_field};
use crate::api::status::{GroupResource, Status};
use crate::registry::res_key;
use axum::body::Body;
use axum::http::Response;
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;

/// Label and field selectors of a list or watch.
pub struct Filter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub namespace: Option<String>,
}

impl Filter {
    pub fn from_query(ctx: &Ctx<'_>) -> Result<Self, Status> {
        let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or(""))
            .map_err(|e| Status::bad_request(e.to_string()))?;
        let mut fields = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or(""))
            .map_err(|e| Status::bad_request(e.to_string()))?;
        for (k, _, _) in &mut fields.terms {
            if !supported_field(ctx.info.group, ctx.info.plural, k) {
                return Err(Status::bad_request(format!(
                    "field label not supported: {k}"
                )));
            }
            *k = canonical_field(k).to_string();
        }
        let namespace = if ctx.info.namespaced && !ctx.req.namespace.is_empty() {
            Some(ctx.req.namespace.clone())
        } else {
            None
        };
        Ok(Self {
            labels,
            fields,
            namespace,
        })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && meta::namespace(obj) != ns
        {
            return false;
        }
        self.labels.matches(meta::labels(obj)) && self.fields.matches(obj)
    }
}

/// The `kind` of a list of `info`.
pub fn list_kind(info: &ResourceInfo) -> String {
    format!("{}List", info.kind)
}

/// An item as a list carries it: without its own apiVersion and kind.
pub fn list_item(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
    }
    o
}

/// `GET` of one object.
pub fn get(ctx: &Ctx<'_>) -> Response<Body> {
    let info = ctx.info;
    let Some(obj) = ctx
        .server
        .registry
        .get(info, &ctx.req.namespace, &ctx.req.name)
    else {
        return response::status(&Status::not_found(
            GroupResource {
                group: info.group,
                resource: info.plural,
            },
            &ctx.req.name,
        ));
    };
    respond_objects(
        ctx,
        std::slice::from_ref(&obj),
        true,
        json!({"resourceVersion": meta::resource_version(&obj).unwrap_or(0).to_string()}),
    )
}

/// Either a Table (when asked for) or the object itself.
fn respond_objects(
    ctx: &Ctx<'_>,
    objs: &[Arc<Value>],
    single: bool,
    list_meta: Value,
) -> Response<Body> {
    if render::wants_table(&ctx.accept) {
        let include = IncludeObject::parse(ctx.query.get("includeObject"));
        let t = render::table(
            ctx.info,
            objs,
            list_meta,
            include,
            ctx.server.registry.clock.now(),
            true,
            render::table_version(&ctx.accept),
        );
        return response::serialized(200, &t, &[]);
    }
    if single && let Some(o) = objs.first() {
        return response::json(200, o, &[]);
    }
    let list = render::List {
        kind: list_kind(ctx.info),
        api_version: ctx.info.api_version(),
        metadata: list_meta,
        items: objs,
    };
    response::serialized(200, &list, &[])
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    start: String,
}

/// `GET` of a collection, with `limit`/`continue` paging.
pub fn list(ctx: &Ctx<'_>) -> Response<Body> {
    let filter = match Filter::from_query(ctx) {
        Ok(f) => f,
        Err(s) => return response::status(&s),
    };
    let (all, rv) = ctx
        .server
        .registry
        .store
        .list(res_key(ctx.info), filter.namespace.as_deref());
    let mut items: Vec<Arc<Value>> = all.into_iter().filter(|o| filter.matches(o)).collect();
    let mut list_meta = json!({"resourceVersion": rv.to_string()});
    if let Some(token) = ctx.query.get("continue").filter(|t| !t.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| serde_json::from_slice::<ContinueToken>(&b).ok());
        let Some(tok) = decoded else {
            return response::status(&Status::bad_request(
                "continue key is not valid: illegal base64 data at input byte 0",
            ));
        };
        items.retain(|o| format!("{}/{}", meta::namespace(o), meta::name(o)) > tok.start);
        list_meta["resourceVersion"] = json!(tok.rv.to_string());
    }
    let limit = ctx
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    if limit > 0 && items.len() > limit {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some(last) = items.last() {
            let tok = ContinueToken {
                rv: list_meta["resourceVersion"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(rv),
                start: format!("{}/{}", meta::namespace(last), meta::name(last)),
            };
            let encoded = base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&tok).unwrap_or_default());
            list_meta["continue"] = json!(encoded);
            list_meta["remainingItemCount"] = json!(remaining);
        }
    }
    respond_objects(ctx, &items, false, list_meta)
}
