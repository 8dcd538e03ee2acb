//! Accessors for `metadata` of objects held as JSON.

use serde_json::{Map, Value};

/// `metadata.name`, or "" when absent.
pub fn name(obj: &Value) -> &str {
    metadata_field(obj, "name").unwrap_or("")
}

/// A text field of `metadata`, looked up key by key (`Value::get` scans
/// a small map comparing lengths first): cheaper than a pointer lookup,
/// which matches every key against the rest of its path.
fn metadata_field<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    metadata_value(obj, field)?.as_str()
}

/// A field of `metadata`, as [`metadata_field`] finds it.
fn metadata_value<'a>(obj: &'a Value, field: &str) -> Option<&'a Value> {
    obj.get("metadata")?.get(field)
}

/// `metadata.namespace`, or "" when absent.
pub fn namespace(obj: &Value) -> &str {
    metadata_field(obj, "namespace").unwrap_or("")
}

/// `metadata.uid`, or "".
pub fn uid(obj: &Value) -> &str {
    metadata_field(obj, "uid").unwrap_or("")
}

/// `metadata.resourceVersion` parsed as a number.
pub fn resource_version(obj: &Value) -> Option<u64> {
    metadata_field(obj, "resourceVersion").and_then(|s| s.parse().ok())
}

/// `metadata.labels` as a map (empty when absent).
pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    metadata_value(obj, "labels").and_then(Value::as_object)
}

/// `metadata.ownerReferences` entries.
pub fn owner_references(obj: &Value) -> &[Value] {
    metadata_value(obj, "ownerReferences")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `metadata.finalizers` entries.
pub fn finalizers(obj: &Value) -> Vec<String> {
    metadata_value(obj, "finalizers")
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
    metadata_value(obj, "deletionTimestamp").is_some_and(|v| !v.is_null())
}

/// The `metadata` object, created if missing. Returns None when `obj` is not an object.
pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let root = obj.as_object_mut()?;
    // Looked up first: `entry` would build the key's `String` on every call.
    if !root.get("metadata").is_some_and(Value::is_object) {
        root.insert("metadata".into(), Value::Object(Map::new()));
    }
    root.get_mut("metadata")?.as_object_mut()
}

/// Sets a string field of `metadata`.
pub fn set_meta(obj: &mut Value, field: &str, value: impl Into<Value>) {
    if let Some(md) = metadata_mut(obj) {
        let value = value.into();
        match md.get_mut(field) {
            Some(slot) => *slot = value,
            None => {
                md.insert(field.to_string(), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_meta_creates_replaces_and_repairs_metadata() {
        // No metadata yet: it is created.
        let mut o = json!({"kind": "Pod"});
        set_meta(&mut o, "name", "a");
        assert_eq!(o, json!({"kind": "Pod", "metadata": {"name": "a"}}));
        // A field already there is replaced where it stands.
        set_meta(&mut o, "name", "b");
        set_meta(&mut o, "generation", 2);
        assert_eq!(
            o,
            json!({"kind": "Pod", "metadata": {"generation": 2, "name": "b"}})
        );
        // metadata that is not an object is replaced by one.
        let mut o = json!({"metadata": "x"});
        set_meta(&mut o, "uid", "u");
        assert_eq!(o, json!({"metadata": {"uid": "u"}}));
        // Not an object at all: nothing to set.
        let mut o = json!([1]);
        set_meta(&mut o, "uid", "u");
        assert_eq!(o, json!([1]));
        assert!(metadata_mut(&mut o).is_none());
    }
}
