//! Patch failures and how the apiserver reports them.
//!
//! Upstream truth: apiserver `pkg/endpoints/handlers/patch.go`
//! (`interpretStrategicMergePatchError`, `applyJSPatch`), apimachinery
//! `pkg/api/errors/errors.go` (`NewBadRequest`, `NewGenericServerResponse`,
//! `NewRequestEntityTooLargeError`), `pkg/util/mergepatch/errors.go` (the
//! sentinel messages) and apiserver `responsewriters/status.go`
//! (`ErrorToAPIStatus`: a plain Go error becomes a 500 with an empty reason).
//!
//! Also holds the Go `fmt` renderings (`%v`, `%s`, `reflect.TypeOf`) that
//! upstream's messages embed.

use serde_json::{Map, Value, json};

/// `mergepatch.ErrBadJSONDoc`.
pub const ERR_BAD_JSON_DOC: &str = "invalid JSON document";
/// `mergepatch.ErrNoListOfLists`.
pub const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";
/// `mergepatch.ErrBadPatchFormatForPrimitiveList`.
pub const ERR_BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
/// `mergepatch.ErrBadPatchFormatForRetainKeys`.
pub const ERR_BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
/// `mergepatch.ErrBadPatchFormatForSetElementOrderList`.
pub const ERR_BAD_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";
/// evanphx/json-patch `ErrBadJSONPatch` (merge patch of `null`, scalars).
pub const ERR_BAD_JSON_PATCH: &str = "Invalid JSON Patch";
/// The message `NewGenericServerResponse` puts on every 422 it builds; the
/// underlying error text is dropped by upstream.
pub const GENERIC_422_MESSAGE: &str =
    "the server rejected our request due to an error in our request";
/// `maxJSONPatchOperations` in handlers/patch.go.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10000;

/// Why a patch could not be applied, classified the way the apiserver
/// turns it into a `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// `errors.NewBadRequest(msg)`: 400, reason `BadRequest`, the message as is.
    #[error("{0}")]
    BadRequest(String),
    /// `errors.NewGenericServerResponse(422, …)`: reason `Invalid`, a fixed
    /// message and an empty `details`. `detail` is upstream's underlying
    /// error text, kept for logs only (the client never sees it).
    #[error("{detail}")]
    Unprocessable { detail: String },
    /// `errors.NewRequestEntityTooLargeError`: a JSON patch with too many operations.
    #[error(
        "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {count}"
    )]
    TooManyOperations { count: usize },
    /// A plain Go error that reached `ErrorToAPIStatus`: 500, empty reason,
    /// the error text as message.
    #[error("{0}")]
    Internal(String),
}

impl PatchError {
    /// HTTP status code the apiserver answers with.
    pub fn code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unprocessable { .. } => 422,
            Self::TooManyOperations { .. } => 413,
            Self::Internal(_) => 500,
        }
    }

    /// `Status.reason`; empty (`StatusReasonUnknown`, omitted on the wire) for 500s.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BadRequest",
            Self::Unprocessable { .. } => "Invalid",
            Self::TooManyOperations { .. } => "RequestEntityTooLarge",
            Self::Internal(_) => "",
        }
    }

    /// `Status.message` exactly as the apiserver sends it.
    pub fn message(&self) -> String {
        match self {
            Self::BadRequest(m) | Self::Internal(m) => m.clone(),
            Self::Unprocessable { .. } => GENERIC_422_MESSAGE.to_string(),
            Self::TooManyOperations { .. } => format!("Request entity too large: {self}"),
        }
    }

    /// The whole `Status` body (`metav1.Status`, JSON field order as Go's encoder).
    pub fn to_status(&self) -> Value {
        let mut s = Map::new();
        s.insert("kind".into(), json!("Status"));
        s.insert("apiVersion".into(), json!("v1"));
        s.insert("metadata".into(), json!({}));
        s.insert("status".into(), json!("Failure"));
        s.insert("message".into(), json!(self.message()));
        if !self.reason().is_empty() {
            s.insert("reason".into(), json!(self.reason()));
        }
        if let Self::Unprocessable { .. } = self {
            // NewGenericServerResponse always sets a (here empty) Details.
            s.insert("details".into(), json!({}));
        }
        s.insert("code".into(), json!(self.code()));
        Value::Object(s)
    }

    pub(crate) fn internal(msg: impl Into<String>) -> Self {
        Self::Internal(msg.into())
    }
}

/// `mergepatch.ErrNoMergeKey`.
pub(crate) fn no_merge_key(m: &Map<String, Value>, key: &str) -> PatchError {
    PatchError::internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_v_map(m)
    ))
}

/// `mergepatch.ErrBadArgType(expected, actual)`.
pub(crate) fn bad_arg_type(expected: &str, actual: Option<&Value>) -> PatchError {
    let actual = actual.map_or("%!s(<nil>)", go_type);
    PatchError::internal(format!("expected a {expected}, but received a {actual}"))
}

/// `mergepatch.ErrBadPatchType(t, m)`.
pub(crate) fn bad_patch_type(t: &Value, m: &Map<String, Value>) -> PatchError {
    PatchError::internal(format!(
        "unknown patch type: {} in map: {}",
        go_s(t),
        go_v_map(m)
    ))
}

/// Go type name (`reflect.TypeOf`) of a value decoded the apiserver's way
/// (integers as int64, other numbers as float64).
pub(crate) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.as_i64().is_some() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go `%s` of an interface value.
pub(crate) fn go_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".into(),
        other => format!("%!s({}={})", go_type(other), go_v(other)),
    }
}

/// Go `%v` of an interface value: maps as `map[k:v]` with sorted keys,
/// slices as `[a b]`, nil as `<nil>`.
pub(crate) fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => go_v_list(a),
        Value::Object(m) => go_v_map(m),
    }
}

pub(crate) fn go_v_list(a: &[Value]) -> String {
    let parts: Vec<String> = a.iter().map(go_v).collect();
    format!("[{}]", parts.join(" "))
}

pub(crate) fn go_v_map(m: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{k}:{}", m.get(*k).map_or_else(|| "<nil>".into(), go_v)))
        .collect();
    format!("map[{}]", parts.join(" "))
}

/// `%v` of a float64: shortest form, exponent outside [1e-4, 1e21).
fn go_float(f: f64) -> String {
    if f == 0.0 || (f.abs() >= 1e-4 && f.abs() < 1e21) {
        return format!("{f}");
    }
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mant, exp)) => {
            let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
            format!("{mant}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_422_status_matches_apiserver_body() {
        let e = PatchError::Unprocessable {
            detail: "testing value /a failed: test failed".into(),
        };
        assert_eq!(
            serde_json::to_string(&e.to_status()).ok(),
            Some(
                r#"{"apiVersion":"v1","code":422,"details":{},"kind":"Status","message":"the server rejected our request due to an error in our request","metadata":{},"reason":"Invalid","status":"Failure"}"#
                    .to_string()
            )
        );
    }

    #[test]
    fn internal_error_has_no_reason() {
        let s = PatchError::internal("boom").to_status();
        assert_eq!(s["code"], 500);
        assert!(s.get("reason").is_none());
        assert!(s.get("details").is_none());
        assert_eq!(s["message"], "boom");
    }

    #[test]
    fn too_many_operations_message() {
        let e = PatchError::TooManyOperations { count: 10001 };
        assert_eq!(e.code(), 413);
        assert_eq!(
            e.message(),
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
    }

    #[test]
    fn go_formatting() {
        let v = json!({"name": "c", "ports": [80, 1.5], "x": null, "$patch": "merge"});
        assert_eq!(go_v(&v), "map[$patch:merge name:c ports:[80 1.5] x:<nil>]");
        assert_eq!(go_v(&json!(1e21)), "1e+21");
        assert_eq!(go_v(&json!(0.00001)), "1e-05");
        assert_eq!(go_s(&json!(5)), "%!s(int64=5)");
        assert_eq!(
            bad_arg_type("map[string]interface {}", Some(&json!("x"))).message(),
            "expected a map[string]interface {}, but received a string"
        );
    }
}
