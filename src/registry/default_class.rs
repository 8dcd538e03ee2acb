//! Storage admission. The DefaultStorageClass plugin
//! (`plugin/pkg/admission/storage/storageclass/setdefault` upstream): a
//! claim created without `spec.storageClassName` (and without the beta
//! class annotation) gets the default StorageClass, the newest one when
//! several are marked default. An explicit `""` is left alone. The
//! PersistentVolumeClaimResize plugin (`.../storage/persistentvolume/resize`)
//! lets a claim grow only when it is bound and its class allows expansion.

use crate::api::pointer::Pointer;
use crate::api::quantity::parse_value;
use crate::api::status::{GroupResource, Status};
use crate::store::{ResKey, Store};
use serde_json::{Value, json};
use std::sync::Arc;

const STORAGE_CLASSES: ResKey = ResKey {
    group: "storage.k8s.io",
    resource: "storageclasses",
};

/// Every StorageClass (read before taking the store's write lock).
pub fn storage_classes(store: &Store) -> Vec<Arc<Value>> {
    store.list(STORAGE_CLASSES, None).0
}

/// `GetDefaultClass`: the default class's name, if any.
pub fn default_class(store: &Store) -> Option<String> {
    let (classes, _) = store.list(STORAGE_CLASSES, None);
    let is_default = |c: &Value| {
        [
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        ]
        .iter()
        .any(|k| {
            c.get_in(&["metadata", "annotations"])
                .and_then(|a| a.get(*k))
                .and_then(Value::as_str)
                == Some("true")
        })
    };
    let s = |c: &Value, p: &str| c.at(p).and_then(Value::as_str).unwrap_or("").to_string();
    classes
        .iter()
        .filter(|c| is_default(c))
        // Newest first; then by name.
        .max_by(|a, b| {
            s(a, "/metadata/creationTimestamp")
                .cmp(&s(b, "/metadata/creationTimestamp"))
                .then_with(|| s(b, "/metadata/name").cmp(&s(a, "/metadata/name")))
        })
        .map(|c| s(c, "/metadata/name"))
}

/// Sets the default class on a new claim that names none.
pub fn admit_claim(store: &Store, claim: &mut Value) {
    let has_class = claim
        .get_in(&["spec", "storageClassName"])
        .is_some_and(|v| !v.is_null())
        || claim
            .at("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
            .is_some();
    if has_class {
        return;
    }
    if let (Some(name), Some(spec)) = (
        default_class(store),
        claim.get_mut("spec").and_then(Value::as_object_mut),
    ) {
        spec.insert("storageClassName".into(), json!(name));
    }
}

/// `persistentVolumeClaimResize.Validate`: growing a claim needs a bound
/// claim whose StorageClass sets `allowVolumeExpansion`.
pub fn admit_resize(
    classes: &[Arc<Value>],
    name: &str,
    new: &Value,
    old: &Value,
) -> Result<(), Status> {
    let size = |c: &Value| {
        c.get_in(&["spec", "resources", "requests", "storage"])
            .and_then(|q| parse_value(q).ok())
    };
    if size(new) <= size(old) {
        return Ok(());
    }
    let forbidden = |msg: &str| {
        Err(Status::forbidden(
            GroupResource {
                group: "",
                resource: "persistentvolumeclaims",
            },
            name,
            msg,
        ))
    };
    if old.get_in(&["status", "phase"]).and_then(Value::as_str) != Some("Bound") {
        return forbidden("Only bound persistent volume claims can be resized");
    }
    // `GetPersistentVolumeClaimClass`: the beta annotation wins.
    let class = new
        .at("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .or_else(|| new.get_in(&["spec", "storageClassName"]))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let allowed = !class.is_empty()
        && classes.iter().any(|c| {
            c.get_in(&["metadata", "name"]).and_then(Value::as_str) == Some(class.as_str())
                && c.get("allowVolumeExpansion").and_then(Value::as_bool) == Some(true)
        });
    if !allowed {
        return forbidden(
            "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
        );
    }
    Ok(())
}
