//! `metadata` validation on create and update.
//!
//! Upstream truth: apimachinery `pkg/api/validation/objectmeta.go`
//! (`ValidateObjectMetaAccessor`, `ValidateObjectMetaAccessorUpdate`,
//! `ValidateAnnotations`, `ValidateFinalizers`), per-kind name functions in
//! `pkg/apis/*/validation` (`ValidateServiceName` = DNS-1035 label,
//! `ValidateNamespaceName` = DNS label, RBAC `ValidateRBACName` = path
//! segment, ...). The namespace required/forbidden rule is the caller's.

use serde_json::Value;

use super::{arr, ch, get, immutable, int, labels, s, semantic_eq};
use crate::api::field_error::FieldError;
use crate::api::name::{NameRule, is_qualified_name};

/// Total annotation size limit (256 KiB).
const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

/// Which name syntax a kind's `metadata.name` must follow.
pub fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Service") => NameRule::Dns1035Label,
        ("", "Namespace") => NameRule::Dns1123Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        ("autoscaling", "HorizontalPodAutoscaler") => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

/// `ValidateObjectMeta` on create (without the namespace rule).
pub fn object_meta(obj: &Value, rule: NameRule, path: &str) -> Vec<FieldError> {
    let meta = get(obj, "metadata");
    let mut errs = Vec::new();
    let gen_name = s(meta, "generateName");
    if !gen_name.is_empty() {
        for msg in rule.check(gen_name, true) {
            errs.push(FieldError::invalid(
                ch(path, "generateName"),
                Value::from(gen_name),
                msg,
            ));
        }
    }
    let name = s(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            ch(path, "name"),
            "name or generateName is required",
        ));
    } else {
        for msg in rule.check(name, false) {
            errs.push(FieldError::invalid(
                ch(path, "name"),
                Value::from(name),
                msg,
            ));
        }
    }
    common(meta, path, &mut errs);
    errs
}

fn common(meta: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(g) = int(meta, "generation")
        && g < 0
    {
        errs.push(FieldError::invalid(
            ch(path, "generation"),
            Value::from(g),
            super::IS_NEGATIVE,
        ));
    }
    labels(get(meta, "labels"), path, "labels", errs);
    annotations(get(meta, "annotations"), path, errs);
    // Paths are built for an error only: every write passes here.
    let fin_path = || ch(path, "finalizers");
    let finalizers: Vec<&str> = arr(meta, "finalizers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in &finalizers {
        for msg in is_qualified_name(f) {
            errs.push(FieldError::invalid(fin_path(), Value::from(*f), msg));
        }
    }
    if finalizers.contains(&"orphan") && finalizers.contains(&"foregroundDeletion") {
        errs.push(FieldError::invalid(
            fin_path(),
            Value::from(finalizers.clone()),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    let refs_path = || ch(path, "ownerReferences");
    let mut first_controller: Option<&Value> = None;
    let kind_name = |r: &Value| format!("{}/{}", s(r, "kind"), s(r, "name"));
    for r in arr(meta, "ownerReferences") {
        let api_version = s(r, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errs.push(FieldError::invalid(
                ch(&refs_path(), "apiVersion"),
                Value::from(api_version),
                "version must not be empty",
            ));
        }
        for k in ["kind", "name", "uid"] {
            if s(r, k).is_empty() {
                errs.push(FieldError::invalid(
                    ch(&refs_path(), k),
                    Value::from(""),
                    "must not be empty",
                ));
            }
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            match first_controller {
                None => first_controller = Some(r),
                Some(first) => errs.push(FieldError::invalid(
                    refs_path(),
                    get(meta, "ownerReferences").clone(),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {} and {}",
                        kind_name(first),
                        kind_name(r)
                    ),
                )),
            }
        }
    }
}

/// `ValidateAnnotations`: keys are (case-insensitive) qualified names; the
/// total size is limited.
fn annotations(v: &Value, parent: &str, errs: &mut Vec<FieldError>) {
    let Some(m) = v.as_object() else { return };
    let path = &ch(parent, "annotations");
    let mut total = 0;
    for (k, val) in m {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, Value::from(k.as_str()), msg));
        }
        total += k.len() + val.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE as i64));
    }
}

/// `ValidateObjectMetaUpdate`.
pub fn object_meta_update(new: &Value, old: &Value, path: &str) -> Vec<FieldError> {
    let (nm, om) = (get(new, "metadata"), get(old, "metadata"));
    // The new version carries the old metadata over untouched (a status
    // write: the strategy takes it from the stored object). Every check
    // below then holds: nothing changed, and the old metadata passed the
    // same checks when it was written.
    if let (Value::Object(n), Value::Object(o)) = (nm, om)
        && n.shares(o)
    {
        return Vec::new();
    }
    let mut errs = Vec::new();
    if !get(om, "deletionTimestamp").is_null() {
        let old_f: Vec<&str> = arr(om, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut extra: Vec<&str> = arr(nm, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            let list: Vec<String> = extra.iter().map(|f| format!("{f:?}")).collect();
            errs.push(FieldError::forbidden(
                ch(path, "finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    list.join(", ")
                ),
            ));
        }
    }
    if let (Some(n), Some(o)) = (int(nm, "generation"), int(om, "generation"))
        && n < o
    {
        errs.push(FieldError::invalid(
            ch(path, "generation"),
            Value::from(n),
            "must not be decremented",
        ));
    }
    for k in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        let (n, o) = (get(nm, k), get(om, k));
        let n_cmp = if n.is_null() && matches!(k, "name" | "namespace" | "uid") {
            &Value::String(String::new())
        } else {
            n
        };
        let o_cmp = if o.is_null() && matches!(k, "name" | "namespace" | "uid") {
            &Value::String(String::new())
        } else {
            o
        };
        // `immutable`, with the path built for an error only.
        if !semantic_eq(n_cmp, o_cmp) {
            immutable(n_cmp, o_cmp, &ch(path, k), &mut errs);
        }
    }
    common(nm, path, &mut errs);
    errs
}
