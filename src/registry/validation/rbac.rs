//! rbac.authorization.k8s.io/v1 validation.
//!
//! Upstream truth: `pkg/apis/rbac/validation/validation.go` (`ValidateRole`,
//! `ValidateClusterRole`, `ValidatePolicyRule`, `ValidateRoleBinding`,
//! `ValidateClusterRoleBinding`, `ValidateRoleBindingSubject`,
//! `ValidateRoleBindingUpdate`).

use serde_json::{Value, json};

use super::{arr, ch, get, idx, s, semantic_eq};
use crate::api::field_error::FieldError;
use crate::api::name::{is_dns1123_subdomain, is_valid_path_segment_name};

const GROUP: &str = "rbac.authorization.k8s.io";

pub fn role(obj: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, r) in arr(obj, "rules").iter().enumerate() {
        let rp = idx("rules", i);
        if arr(r, "verbs").is_empty() {
            errs.push(FieldError::required(
                ch(&rp, "verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = arr(r, "nonResourceURLs");
        if !urls.is_empty() {
            if namespaced {
                errs.push(FieldError::invalid(
                    ch(&rp, "nonResourceURLs"),
                    get(r, "nonResourceURLs").clone(),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !arr(r, "apiGroups").is_empty()
                || !arr(r, "resources").is_empty()
                || !arr(r, "resourceNames").is_empty()
            {
                errs.push(FieldError::invalid(
                    ch(&rp, "nonResourceURLs"),
                    get(r, "nonResourceURLs").clone(),
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if arr(r, "apiGroups").is_empty() {
            errs.push(FieldError::required(
                ch(&rp, "apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(r, "resources").is_empty() {
            errs.push(FieldError::required(
                ch(&rp, "resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    errs
}

pub fn binding(obj: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let rr = get(obj, "roleRef");
    let group = s(rr, "apiGroup");
    if group != GROUP {
        errs.push(FieldError::not_supported(
            "roleRef.apiGroup",
            Value::from(group),
            &[GROUP],
        ));
    }
    let kind = s(rr, "kind");
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported(
            "roleRef.kind",
            Value::from(kind),
            kinds,
        ));
    }
    let name = s(rr, "name");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        for msg in is_valid_path_segment_name(name) {
            errs.push(FieldError::invalid("roleRef.name", Value::from(name), msg));
        }
    }
    for (i, sub) in arr(obj, "subjects").iter().enumerate() {
        let sp = idx("subjects", i);
        let name = s(sub, "name");
        if name.is_empty() {
            errs.push(FieldError::required(ch(&sp, "name"), ""));
        }
        let api_group = s(sub, "apiGroup");
        match s(sub, "kind") {
            "ServiceAccount" => {
                if !name.is_empty() {
                    for msg in is_dns1123_subdomain(name) {
                        errs.push(FieldError::invalid(ch(&sp, "name"), Value::from(name), msg));
                    }
                }
                if !api_group.is_empty() {
                    errs.push(FieldError::not_supported(
                        ch(&sp, "apiGroup"),
                        Value::from(api_group),
                        &[""],
                    ));
                }
                if !namespaced && s(sub, "namespace").is_empty() {
                    errs.push(FieldError::required(ch(&sp, "namespace"), ""));
                }
            }
            "User" | "Group" => {
                if api_group != GROUP {
                    errs.push(FieldError::not_supported(
                        ch(&sp, "apiGroup"),
                        Value::from(api_group),
                        &[GROUP],
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                ch(&sp, "kind"),
                Value::from(other),
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
    errs
}

/// `roleRef` may not change.
pub fn binding_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let (n, o) = (get(new, "roleRef"), get(old, "roleRef"));
    if semantic_eq(n, o) {
        return Vec::new();
    }
    // Upstream passes the internal RoleRef struct (no json tags).
    let shown = json!({"APIGroup": s(n, "apiGroup"), "Kind": s(n, "kind"), "Name": s(n, "name")});
    vec![FieldError::invalid(
        "roleRef",
        shown,
        "cannot change roleRef",
    )]
}
