//! Validation of a request's options (`CreateOptions`, `UpdateOptions`,
//! `PatchOptions`, `DeleteOptions`, and the watch rules of `ListOptions`),
//! as apimachinery's `pkg/apis/meta/v1/validation` and
//! `pkg/apis/meta/internalversion/validation` check them. The handlers turn
//! the errors into a 422 on `<Kind>.meta.k8s.io ""`.

use super::query::Query;
use crate::api::field_error::FieldError;
use crate::api::status::Status;
use serde_json::Value;

/// `FieldManagerMaxLength`.
const FIELD_MANAGER_MAX: usize = 128;

/// Which options a write carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
    /// A patch; `true` for server-side apply.
    Patch {
        apply: bool,
    },
}

impl WriteKind {
    fn options_kind(self) -> &'static str {
        match self {
            Self::Create => "CreateOptions",
            Self::Update => "UpdateOptions",
            Self::Patch { .. } => "PatchOptions",
        }
    }
}

/// The 422 the handler answers for `errors`, if any.
fn refusal(kind: &str, errors: &[FieldError]) -> Result<(), Status> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Status::invalid("meta.k8s.io", kind, "", errors))
    }
}

/// `ValidateCreateOptions`, `ValidateUpdateOptions`, `ValidatePatchOptions`.
pub fn check_write(kind: WriteKind, q: &Query) -> Result<(), Status> {
    let manager = q.get("fieldManager").unwrap_or("");
    let mut errs = Vec::new();
    if let WriteKind::Patch { apply } = kind {
        if !apply && q.get("force").is_some() {
            errs.push(FieldError::forbidden(
                "force",
                "may not be specified for non-apply patch",
            ));
        }
        if apply && manager.is_empty() {
            errs.push(FieldError::required(
                "fieldManager",
                "is required for apply patch",
            ));
        }
    }
    errs.extend(field_manager(manager));
    errs.extend(dry_run(&q.all("dryRun")));
    let validation = q.get("fieldValidation").unwrap_or("");
    if !matches!(validation, "" | "Ignore" | "Strict" | "Warn") {
        errs.push(FieldError::not_supported(
            "fieldValidation",
            Value::from(validation),
            &["", "Ignore", "Strict", "Warn"],
        ));
    }
    refusal(kind.options_kind(), &errs)
}

/// `ValidateDeleteOptions`: the propagation policy and dry-run values the
/// query and the body's DeleteOptions carry together.
pub fn check_delete(policy: Option<&str>, dry_run_values: &[&str]) -> Result<(), Status> {
    let mut errs = Vec::new();
    if let Some(p) = policy
        && !matches!(p, "Foreground" | "Background" | "Orphan")
    {
        errs.push(FieldError::not_supported(
            "propagationPolicy",
            Value::from(p),
            &["Foreground", "Background", "Orphan", "nil"],
        ));
    }
    errs.extend(dry_run(dry_run_values));
    refusal("DeleteOptions", &errs)
}

/// `validateWatchOptions` with the WatchList feature on (the default since
/// 1.32): `sendInitialEvents` needs `resourceVersionMatch=NotOlderThan`, and
/// `resourceVersionMatch` needs `sendInitialEvents`.
pub fn check_watch(q: &Query) -> Result<(), Status> {
    let send_initial = q.get("sendInitialEvents").is_some();
    let matched = q.get("resourceVersionMatch").unwrap_or("");
    let mut errs = Vec::new();
    if send_initial && matched != "NotOlderThan" {
        errs.push(FieldError::forbidden(
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ));
    }
    if !matched.is_empty() {
        if !send_initial {
            errs.push(FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        if matched != "NotOlderThan" {
            errs.push(FieldError::not_supported(
                "resourceVersionMatch",
                Value::from(matched),
                &["NotOlderThan"],
            ));
        }
        if q.get("continue").is_some_and(|c| !c.is_empty()) {
            errs.push(FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
    }
    refusal("ListOptions", &errs)
}

/// `ValidateDryRun`: only `All` is allowed; the value is the whole list.
fn dry_run(values: &[&str]) -> Option<FieldError> {
    values.iter().any(|d| *d != "All").then(|| {
        FieldError::not_supported(
            "dryRun",
            Value::from(values.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
            &["All"],
        )
    })
}

/// `ValidateFieldManager`: at most 128 bytes of printable characters.
fn field_manager(manager: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX {
        errs.push(FieldError::too_long(
            "fieldManager",
            FIELD_MANAGER_MAX as i64,
        ));
    }
    for (i, c) in manager.char_indices() {
        if c.is_control() {
            errs.push(FieldError::invalid(
                "fieldManager",
                Value::from(manager),
                format!("invalid character U+{:04X} (at position {i})", u32::from(c)),
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), Status>) -> String {
        match r {
            Ok(()) => String::new(),
            Err(s) => s.message,
        }
    }

    #[test]
    fn write_options_follow_meta_v1_validation() {
        let q = Query::parse(Some(
            "dryRun=All&fieldValidation=Strict&fieldManager=kubectl",
        ));
        assert!(check_write(WriteKind::Create, &q).is_ok());
        assert_eq!(
            message(check_write(
                WriteKind::Create,
                &Query::parse(Some("dryRun=Server"))
            )),
            r#"CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Server"]: supported values: "All""#
        );
        assert_eq!(
            message(check_write(
                WriteKind::Update,
                &Query::parse(Some("fieldValidation=strict"))
            )),
            r#"UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn""#
        );
        assert_eq!(
            message(check_write(
                WriteKind::Patch { apply: true },
                &Query::parse(None)
            )),
            r#"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#
        );
        assert_eq!(
            message(check_write(
                WriteKind::Patch { apply: false },
                &Query::parse(Some("force=true"))
            )),
            r#"PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch"#
        );
        let long = format!("fieldManager={}", "m".repeat(129));
        assert_eq!(
            message(check_write(WriteKind::Create, &Query::parse(Some(&long)))),
            r#"CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes"#
        );
    }

    #[test]
    fn delete_options_name_the_supported_policies() {
        assert!(check_delete(Some("Orphan"), &["All"]).is_ok());
        assert_eq!(
            message(check_delete(Some("Cascade"), &[])),
            r#"DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Cascade": supported values: "Foreground", "Background", "Orphan", "nil""#
        );
    }

    #[test]
    fn watch_list_needs_not_older_than_and_the_other_way_round() {
        assert!(
            check_watch(&Query::parse(Some(
                "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
            )))
            .is_ok()
        );
        assert!(check_watch(&Query::parse(Some("watch=1"))).is_ok());
        assert_eq!(
            message(check_watch(&Query::parse(Some(
                "watch=1&sendInitialEvents=true"
            )))),
            r#"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"#
        );
        assert_eq!(
            message(check_watch(&Query::parse(Some(
                "watch=1&resourceVersionMatch=NotOlderThan"
            )))),
            r#"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"#
        );
        assert_eq!(
            message(check_watch(&Query::parse(Some(
                "watch=1&sendInitialEvents=true&resourceVersionMatch=Exact"
            )))),
            r#"ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]"#
        );
    }
}
