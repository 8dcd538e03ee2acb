//! Writes: create, update, patch, delete and deletecollection.

use super::body::{self, Format};
use super::options::{self, WriteKind};
use super::read::{Filter, list_item, list_kind};
use super::{Ctx, response};
use crate::api::patch::PatchType;
use crate::api::status::Status;
use crate::registry::options::{DeleteOptions, FieldValidation, Propagation, WriteOptions};
use crate::registry::res_key;
use axum::body::Body;
use axum::http::Response;
use serde_json::{Value, json};

fn write_options(ctx: &Ctx<'_>, kind: WriteKind) -> Result<WriteOptions, Status> {
    options::check_write(kind, &ctx.query)?;
    Ok(WriteOptions {
        dry_run: !ctx.query.all("dryRun").is_empty(),
        field_validation: FieldValidation::parse(ctx.query.get("fieldValidation"))
            .map_err(Status::bad_request)?,
        field_manager: ctx.query.get("fieldManager").map(str::to_string),
        internal: false,
    })
}

fn decode_body(ctx: &Ctx<'_>) -> Result<Value, Status> {
    let format = Format::from_content_type(ctx.content_type.as_deref())
        .ok_or_else(Status::unsupported_media_type)?;
    body::decode(format, ctx.body)
}

/// `POST` to a collection.
pub fn create(ctx: &Ctx<'_>) -> Response<Body> {
    let result = write_options(ctx, WriteKind::Create).and_then(|opts| {
        let obj = decode_body(ctx)?;
        ctx.server
            .registry
            .create(ctx.info, &ctx.req.namespace, obj, &opts)
    });
    match result {
        Ok(w) => response::json(201, &w.object, &w.warnings),
        Err(s) => response::status(&s),
    }
}

/// `PUT` of an object or its status.
pub fn update(ctx: &Ctx<'_>) -> Response<Body> {
    let sub = (!ctx.req.subresource.is_empty()).then_some(ctx.req.subresource.as_str());
    let result = write_options(ctx, WriteKind::Update).and_then(|opts| {
        let obj = decode_body(ctx)?;
        ctx.server
            .registry
            .update(ctx.info, &ctx.req.namespace, &ctx.req.name, obj, sub, &opts)
    });
    match result {
        Ok(w) => response::json(200, &w.object, &w.warnings),
        Err(s) => response::status(&s),
    }
}

/// `PATCH` of an object or its status.
pub fn patch(ctx: &Ctx<'_>) -> Response<Body> {
    let sub = (!ctx.req.subresource.is_empty()).then_some(ctx.req.subresource.as_str());
    let ct = ctx.content_type.as_deref().unwrap_or("");
    let result = PatchType::from_content_type(ct)
        .ok_or_else(Status::unsupported_patch_type)
        .and_then(|ty| {
            let opts = write_options(
                ctx,
                WriteKind::Patch {
                    apply: ty == PatchType::Apply,
                },
            )?;
            Ok((ty, opts))
        })
        .and_then(|(ty, opts)| {
            let format = Format::from_content_type(Some(ct)).unwrap_or(Format::Json);
            let patch = body::decode(format, ctx.body)?;
            ctx.server.registry.patch(
                ctx.info,
                &ctx.req.namespace,
                &ctx.req.name,
                ty,
                &patch,
                sub,
                &opts,
            )
        });
    match result {
        Ok(w) => response::json(if w.created { 201 } else { 200 }, &w.object, &w.warnings),
        Err(s) => response::status(&s),
    }
}

fn delete_options(ctx: &Ctx<'_>) -> Result<DeleteOptions, Status> {
    let body = if ctx.body.is_empty() {
        Value::Null
    } else {
        decode_body(ctx)?
    };
    let policy = ctx
        .query
        .get("propagationPolicy")
        .or_else(|| body.get("propagationPolicy").and_then(Value::as_str));
    let mut dry_run = ctx.query.all("dryRun");
    if let Some(values) = body.get("dryRun").and_then(Value::as_array) {
        dry_run.extend(values.iter().filter_map(Value::as_str));
    }
    options::check_delete(policy, &dry_run)?;
    let mut opts = if body.is_null() {
        DeleteOptions::default()
    } else {
        DeleteOptions::from_json(&body).map_err(Status::bad_request)?
    };
    if let Some(p) = ctx.query.get("propagationPolicy") {
        opts.propagation = Some(Propagation::parse(p).map_err(Status::bad_request)?);
    }
    if let Some(g) = ctx
        .query
        .get("gracePeriodSeconds")
        .and_then(|g| g.parse().ok())
    {
        opts.grace_period_seconds = Some(g);
    }
    if !dry_run.is_empty() {
        opts.dry_run = true;
    }
    Ok(opts)
}

/// `DELETE` of one object: returns the object (with deletionTimestamp
/// while deletion is pending), as the apiserver does for most kinds.
pub fn delete(ctx: &Ctx<'_>) -> Response<Body> {
    let result = delete_options(ctx).and_then(|opts| {
        ctx.server
            .registry
            .delete(ctx.info, &ctx.req.namespace, &ctx.req.name, &opts)
    });
    match result {
        Ok(obj) => response::json(200, &obj, &[]),
        Err(s) => response::status(&s),
    }
}

/// `DELETE` of a collection with selectors: returns the deleted items.
pub fn delete_collection(ctx: &Ctx<'_>) -> Response<Body> {
    let result = delete_options(ctx).and_then(|opts| {
        let filter = Filter::from_query(ctx)?;
        let (items, rv) = ctx.server.registry.store.list(res_key(ctx.info), filter.namespace.as_deref());
        let mut deleted = Vec::new();
        for obj in items.iter().filter(|o| filter.matches(o)) {
            let ns = crate::api::meta::namespace(obj);
            let name = crate::api::meta::name(obj);
            match ctx.server.registry.delete(ctx.info, ns, name, &opts) {
                Ok(o) => deleted.push(list_item(&o)),
                Err(s) if s.code == 404 => {}
                Err(s) => return Err(s),
            }
        }
        Ok(json!({"kind": list_kind(ctx.info), "apiVersion": ctx.info.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": deleted}))
    });
    match result {
        Ok(v) => response::json(200, &v, &[]),
        Err(s) => response::status(&s),
    }
}
