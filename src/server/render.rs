//! Server-side printing: turns objects into `meta.k8s.io/v1` Tables when
//! the client asks for `as=Table` (apiserver `endpoints/handlers/response.go`).

use super::table;
use crate::api::resource::ResourceInfo;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// What each Table row carries as `object` (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(v: Option<&str>) -> Self {
        match v {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let p = part.replace(' ', "");
        p.contains("as=Table")
            && p.contains("g=meta.k8s.io")
            && (p.contains("v=v1") || p.contains("v=v1beta1"))
    })
}

/// The Table version the client asked for first.
pub fn table_version(accept: &str) -> &'static str {
    for part in accept.split(',') {
        let p = part.replace(' ', "");
        if p.contains("as=Table") {
            return if p.contains("v=v1beta1") {
                "meta.k8s.io/v1beta1"
            } else {
                "meta.k8s.io/v1"
            };
        }
    }
    "meta.k8s.io/v1"
}

fn row_object(obj: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => obj.clone(),
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
    }
}

/// A Table of `objects`. `headers` is false for watch events after the
/// first, which carry rows only.
pub fn table(
    info: &ResourceInfo,
    objects: &[Arc<Value>],
    list_meta: Value,
    include: IncludeObject,
    now: jiff::Timestamp,
    headers: bool,
    api_version: &str,
) -> Value {
    let columns: Vec<Value> = if headers {
        table::column_definitions(info.group, info.plural)
            .iter()
            .map(table::ColumnDefinition::to_json)
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let r = table::row(info.group, info.plural, o, now);
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array(r.cells));
            if let Some(c) = r.conditions {
                row.insert("conditions".into(), c);
            }
            if include != IncludeObject::None {
                row.insert("object".into(), row_object(o, include));
            }
            Value::Object(row)
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": list_meta,
        "columnDefinitions": if headers { Value::Array(columns) } else { Value::Null },
        "rows": rows,
    })
}
