//! Owner-reference garbage collection, done in line with the delete that
//! triggers it (upstream runs it in the garbage-collector controller; the
//! observable result for a lab — dependents deleted or orphaned — is the
//! same).

use crate::store::{ResKey, Store};
use serde_json::Value;
use std::sync::Arc;

/// A stored object that names `owner_uid` in its ownerReferences.
pub struct Dependent {
    pub res: ResKey,
    pub object: Arc<Value>,
}

/// Every object owned by `owner_uid` (from the store's owner index),
/// ordered by resource, namespace and name.
pub fn dependents(store: &Store, owner_uid: &str) -> Vec<Dependent> {
    if owner_uid.is_empty() {
        return Vec::new();
    }
    store
        .dependents(owner_uid)
        .into_iter()
        .map(|(res, object)| Dependent { res, object })
        .collect()
}

/// Removes the owner reference to `owner_uid` from `obj`.
pub fn without_owner(obj: &Value, owner_uid: &str) -> Value {
    let mut obj = obj.clone();
    if let Some(refs) = obj
        .pointer_mut("/metadata/ownerReferences")
        .and_then(Value::as_array_mut)
    {
        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
        if refs.is_empty()
            && let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut)
        {
            md.remove("ownerReferences");
        }
    }
    obj
}
