//! ControllerRevisions for StatefulSets and DaemonSets
//! (`pkg/controller/history` upstream), and the resources the two set
//! controllers read.
//!
//! A revision is named `<owner>-<hash>` where the hash is
//! `controller.ComputeHash` of the pod template and the owner's
//! `status.collisionCount` (when above 0); it carries the template as
//! `data: {"spec": {"template": {..., "$patch": "replace"}}}` (the
//! strategic-merge patch upstream stores) and a `revision` number one above
//! the owner's highest.

use super::deployment::util::compute_hash;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::snapshot::Snapshot;
use serde_json::{Map, Value, json};

/// Stored resources the set controllers read.
pub mod res {
    pub use crate::sim::snapshot::res::{CONTROLLERREVISIONS, DAEMONSETS, PVCS, STATEFULSETS};
}

/// The label every pod of a set carries, naming its revision.
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// The hash of the owner's current pod template.
pub fn template_hash(owner: &Value) -> String {
    let template = owner
        .get_in(&["spec", "template"])
        .cloned()
        .unwrap_or(json!({}));
    // A zero count hashes as no count, so the status write that records
    // `collisionCount: 0` does not change the hash.
    let collisions = owner
        .get_in(&["status", "collisionCount"])
        .and_then(Value::as_i64)
        .filter(|c| *c > 0);
    compute_hash(&template, collisions)
}

/// A controller ownerReference to `owner` of kind `kind` (apps/v1).
pub fn owner_ref(owner: &Value, kind: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": meta::name(owner),
        "uid": meta::uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// The revisions `owner` controls.
pub fn owned<'a>(snap: &'a Snapshot, owner: &'a Value) -> Vec<&'a Value> {
    let mut revs: Vec<&Value> = snap
        .owned_by(
            res::CONTROLLERREVISIONS,
            meta::namespace(owner),
            meta::uid(owner),
        )
        .map(|r| &**r)
        .collect();
    revs.sort_by_key(|r| number(r));
    revs
}

/// A revision's `revision` number.
pub fn number(rev: &Value) -> i64 {
    rev.get("revision").and_then(Value::as_i64).unwrap_or(0)
}

/// The pod template a revision records.
pub fn template_of(rev: &Value) -> Option<Value> {
    let mut t = rev.get_in(&["data", "spec", "template"])?.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    Some(t)
}

/// A new revision of `owner` (kind `kind`) named `name`, with `labels`.
pub fn new_revision(
    owner: &Value,
    kind: &str,
    name: &str,
    labels: Map<String, Value>,
    revision: i64,
) -> Value {
    let mut template = owner
        .get_in(&["spec", "template"])
        .cloned()
        .unwrap_or(json!({}));
    if let Some(m) = template.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": meta::namespace(owner),
            "labels": labels,
            "ownerReferences": [owner_ref(owner, kind)],
        },
        "data": {"spec": {"template": template}},
        "revision": revision,
    })
}

/// The set's template labels, as a map to extend.
pub fn template_labels(owner: &Value) -> Map<String, Value> {
    owner
        .get_in(&["spec", "template", "metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
