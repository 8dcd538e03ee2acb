//! `metav1.Status` error bodies, built the way apimachinery
//! `pkg/api/errors/errors.go` builds them, so kubectl prints what it
//! prints against a real cluster.

use super::field_error::{FieldError, aggregate_message};
use serde_json::{Value, json};

/// A failed request, ready to be sent as a Status body.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for Status {}

/// A resource named as Status messages name it: `pods`, `deployments.apps`.
#[derive(Debug, Clone, Copy)]
pub struct GroupResource<'a> {
    pub group: &'a str,
    pub resource: &'a str,
}

impl std::fmt::Display for GroupResource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

fn details(name: &str, group: &str, kind: &str) -> Value {
    let mut d = serde_json::Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    if !kind.is_empty() {
        d.insert("kind".into(), json!(kind));
    }
    Value::Object(d)
}

impl Status {
    pub fn not_found(gr: GroupResource<'_>, name: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("{gr} \"{name}\" not found"),
            details: Some(details(name, gr.group, gr.resource)),
        }
    }

    pub fn already_exists(gr: GroupResource<'_>, name: &str) -> Self {
        Self {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{gr} \"{name}\" already exists"),
            details: Some(details(name, gr.group, gr.resource)),
        }
    }

    pub fn conflict(gr: GroupResource<'_>, name: &str, why: &str) -> Self {
        Self {
            code: 409,
            reason: "Conflict",
            message: format!("Operation cannot be fulfilled on {gr} \"{name}\": {why}"),
            details: Some(details(name, gr.group, gr.resource)),
        }
    }

    /// The optimistic-concurrency conflict (`registry.OptimisticLockErrorMsg`).
    pub fn stale(gr: GroupResource<'_>, name: &str) -> Self {
        Self::conflict(
            gr,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 Invalid. `kind` is the Kind (`Pod`), qualified with the group in the message.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(
                |e| json!({"reason": e.kind.cause_reason(), "message": e.body(), "field": e.field}),
            )
            .collect();
        let mut d = details(name, group, kind);
        if let Some(o) = d.as_object_mut() {
            o.insert("causes".into(), Value::Array(causes));
        }
        Self {
            code: 422,
            reason: "Invalid",
            message: format!(
                "{qualified} \"{name}\" is invalid: {}",
                aggregate_message(errors)
            ),
            details: Some(d),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
            details: None,
        }
    }

    pub fn forbidden(gr: GroupResource<'_>, name: &str, why: &str) -> Self {
        let message = if name.is_empty() {
            format!("{gr} is forbidden: {why}")
        } else {
            format!("{gr} \"{name}\" is forbidden: {why}")
        };
        Self {
            code: 403,
            reason: "Forbidden",
            message,
            details: Some(details(name, gr.group, gr.resource)),
        }
    }

    pub fn unauthorized() -> Self {
        Self {
            code: 401,
            reason: "Unauthorized",
            message: "Unauthorized".into(),
            details: None,
        }
    }

    /// The apiserver's answer to a method no route serves (a verb the
    /// resource does not have, a kdrill endpoint asked the wrong way):
    /// go-restful's "405: Method Not Allowed" turned into a Status by the
    /// generic apiserver's `serviceErrorHandler` through
    /// `NewGenericServerResponse` (apimachinery pkg/api/errors/errors.go),
    /// whose message for 405 is fixed and whose details are empty. kubectl
    /// prints `Error from server (MethodNotAllowed): the server does not
    /// allow this method on the requested resource`.
    pub fn method_not_allowed() -> Self {
        Self {
            code: 405,
            reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource".into(),
            details: Some(json!({})),
        }
    }

    /// `NewMethodNotSupported`: what a storage answers for an action it
    /// does not implement.
    pub fn method_not_supported(gr: GroupResource<'_>, action: &str) -> Self {
        Self {
            code: 405,
            reason: "MethodNotAllowed",
            message: format!("{action} is not supported on resources of kind \"{gr}\""),
            details: Some(details("", gr.group, gr.resource)),
        }
    }

    /// 404 for a path that names no resource.
    pub fn not_found_path() -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource".into(),
            details: Some(json!({})),
        }
    }

    pub fn expired(message: impl Into<String>) -> Self {
        Self {
            code: 410,
            reason: "Expired",
            message: message.into(),
            details: None,
        }
    }

    /// 415 for a create/update body (`negotiation.NewUnsupportedMediaTypeError`).
    pub fn unsupported_media_type() -> Self {
        Self::unsupported_media_types(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ])
    }

    /// 415 for a patch whose content type is not a patch type the
    /// resource accepts (built-in kinds also take strategic merge).
    pub fn unsupported_patch_type() -> Self {
        Self::unsupported_media_types(&[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ])
    }

    fn unsupported_media_types(accepted: &[&str]) -> Self {
        Self {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            details: None,
        }
    }

    pub fn too_large(limit: usize) -> Self {
        Self {
            code: 413,
            reason: "RequestEntityTooLarge",
            message: format!("Request entity too large: limit is {limit}"),
            details: None,
        }
    }

    pub fn internal(why: impl std::fmt::Display) -> Self {
        let why = why.to_string();
        Self {
            code: 500,
            reason: "InternalError",
            message: format!("Internal error occurred: {why}"),
            details: Some(json!({"causes": [{"message": why}]})),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(o) = v.as_object_mut() {
            if let Some(d) = &self.details {
                o.insert("details".into(), d.clone());
            }
            if self.reason.is_empty() {
                o.remove("reason");
            }
        }
        v
    }
}

/// The `Success` Status returned by some deletes.
pub fn success(gr: GroupResource<'_>, name: &str, uid: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": gr.group, "kind": gr.resource, "uid": uid},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_group_qualified_resource() {
        let s = Status::not_found(
            GroupResource {
                group: "apps",
                resource: "deployments",
            },
            "web",
        );
        assert_eq!(s.message, "deployments.apps \"web\" not found");
        assert_eq!(
            s.to_json()["details"],
            json!({"name":"web","group":"apps","kind":"deployments"})
        );
    }

    #[test]
    fn invalid_builds_causes() {
        let e = FieldError::required("spec.containers[0].image", "");
        let s = Status::invalid("", "Pod", "p", &[e]);
        assert_eq!(
            s.message,
            "Pod \"p\" is invalid: spec.containers[0].image: Required value"
        );
        assert_eq!(
            s.to_json()["details"]["causes"][0]["reason"],
            "FieldValueRequired"
        );
    }
}
