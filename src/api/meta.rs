//! Accessors for `metadata` of objects held as JSON.

use crate::api::pointer::Pointer;
use serde_json::{Map, Value};

/// `metadata.name`, or "" when absent.
pub fn name(obj: &Value) -> &str {
    obj.at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.namespace`, or "" when absent.
pub fn namespace(obj: &Value) -> &str {
    obj.at("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.uid`, or "".
pub fn uid(obj: &Value) -> &str {
    obj.at("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.resourceVersion` parsed as a number.
pub fn resource_version(obj: &Value) -> Option<u64> {
    obj.at("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

/// `metadata.labels` as a map (empty when absent).
pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    obj.at("/metadata/labels").and_then(Value::as_object)
}

/// `metadata.ownerReferences` entries.
pub fn owner_references(obj: &Value) -> &[Value] {
    obj.at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `metadata.finalizers` entries.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.at("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(obj: &Value) -> bool {
    obj.at("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// The `metadata` object, created if missing. Returns None when `obj` is not an object.
pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let root = obj.as_object_mut()?;
    let md = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !md.is_object() {
        *md = Value::Object(Map::new());
    }
    md.as_object_mut()
}

/// Sets a string field of `metadata`.
pub fn set_meta(obj: &mut Value, field: &str, value: impl Into<Value>) {
    if let Some(md) = metadata_mut(obj) {
        md.insert(field.to_string(), value.into());
    }
}
