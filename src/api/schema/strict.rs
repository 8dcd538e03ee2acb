//! Field validation of request bodies the way the apiserver decodes built-in
//! types: unknown fields (`fieldValidation=Strict|Warn|Ignore`) and JSON type
//! mismatches.
//!
//! Upstream truth:
//! - sigs.k8s.io/json `internal/golang/encoding/json/decode.go` and
//!   `kubernetes_patch.go`: case-sensitive decoding, strict errors
//!   `unknown field "spec.containers[0].bogusField"` (path built from struct
//!   field names, map keys and `[i]` list indices), and Go's
//!   `UnmarshalTypeError` text `json: cannot unmarshal <what> into Go struct
//!   field <Struct>.<field.path> of type <go type>` (the path there holds struct
//!   field names only; the first type error wins).
//! - apimachinery `pkg/runtime/error.go` (`strictDecodingError`: `strict
//!   decoding error: ` + errors joined by `, `) and
//!   `pkg/runtime/serializer/json/json.go` (a type error beats strict errors).
//! - apiserver `pkg/endpoints/handlers/rest.go` `transformDecodeError`:
//!   `<Kind> in version "<v>" cannot be handled as a <Kind>: <err>` (400).

use crate::api::field_error::go_quote;
use serde_json::Value;

use super::defs::{Definitions, definitions, ref_target};

/// What decoding a body against its type found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldCheck {
    /// Unknown field paths in walk order, e.g. `spec.containers[0].bogusField`.
    pub unknown: Vec<String>,
    /// The first type mismatch, in Go's words
    /// (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`).
    pub type_error: Option<String>,
}

impl FieldCheck {
    /// No unknown fields and no type errors.
    pub fn is_clean(&self) -> bool {
        self.unknown.is_empty() && self.type_error.is_none()
    }

    /// Each unknown field as upstream's strict error / warning text: `unknown field "spec.foo"`.
    pub fn warnings(&self) -> Vec<String> {
        self.unknown
            .iter()
            .map(|p| format!("unknown field {}", go_quote(p)))
            .collect()
    }

    /// `strict decoding error: unknown field "a", unknown field "b"`, if any field is unknown.
    pub fn strict_error(&self) -> Option<String> {
        if self.unknown.is_empty() {
            return None;
        }
        Some(format!(
            "strict decoding error: {}",
            self.warnings().join(", ")
        ))
    }

    /// The decode error the apiserver reports: the type error if there is one,
    /// else (when `strict`) the strict decoding error.
    pub fn decode_error(&self, strict: bool) -> Option<String> {
        match &self.type_error {
            Some(t) => Some(t.clone()),
            None if strict => self.strict_error(),
            None => None,
        }
    }

    /// The 400 BadRequest message for create/update:
    /// `Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "…"`.
    pub fn bad_request_message(&self, kind: &str, version: &str, strict: bool) -> Option<String> {
        let err = self.decode_error(strict)?;
        Some(format!(
            "{kind} in version {} cannot be handled as a {kind}: {err}",
            go_quote(version)
        ))
    }
}

/// Checks `obj` against the schema of group/version/kind. Kinds without a
/// schema (metrics, custom resources) check clean.
pub fn check_fields(group: &str, version: &str, kind: &str, obj: &Value) -> FieldCheck {
    let mut w = Walker::new(definitions());
    w.root_value(group, version, kind, obj);
    w.check
}

/// Removes unknown fields from `obj` (`fieldValidation=Ignore|Warn`) and
/// reports what it removed; `FieldCheck::warnings` gives the Warn texts. A
/// type error is still fatal in those modes (`decode_error(false)`).
pub fn prune_unknown(group: &str, version: &str, kind: &str, obj: &mut Value) -> FieldCheck {
    let mut w = Walker::new(definitions());
    w.root_value(group, version, kind, obj);
    for loc in w.removals.iter().rev() {
        remove_at(obj, loc);
    }
    w.check
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn remove_at(obj: &mut Value, loc: &[Seg]) {
    let Some((last, parents)) = loc.split_last() else {
        return;
    };
    let mut cur = obj;
    for seg in parents {
        let next = match seg {
            Seg::Key(k) => cur.get_mut(k.as_str()),
            Seg::Index(i) => cur.get_mut(*i),
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let (Seg::Key(k), Value::Object(m)) = (last, cur) {
        m.remove(k);
    }
}

/// Go's error context: the innermost struct and the struct field names so far.
#[derive(Debug, Clone, Default)]
struct GoContext {
    struct_name: String,
    fields: Vec<String>,
}

struct Walker<'a> {
    defs: &'a Definitions,
    check: FieldCheck,
    removals: Vec<Vec<Seg>>,
    go: GoContext,
}

/// How Go decodes into a schema node.
enum Shape<'a> {
    /// Anything goes (RawExtension, FieldsV1, preserve-unknown-fields).
    Open,
    IntOrString,
    Quantity,
    Time,
    Struct(&'a serde_json::Map<String, Value>),
    Map(&'a Value),
    List(&'a Value),
    Str,
    Bytes,
    Int(&'static str),
    Float,
    Bool,
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

impl<'a> Walker<'a> {
    fn new(defs: &'a Definitions) -> Self {
        Self {
            defs,
            check: FieldCheck::default(),
            removals: Vec::new(),
            go: GoContext::default(),
        }
    }

    /// Decodes a whole body into the kind's root struct.
    fn root_value(&mut self, group: &str, version: &str, kind: &str, obj: &Value) {
        let defs = self.defs;
        let Some(name) = defs.name_of(group, version, kind) else {
            return;
        };
        let Some(Value::Object(props)) = defs.get(name).and_then(|d| d.get("properties")) else {
            return;
        };
        let mut parts = name.rsplit('.');
        let ty = parts.next().unwrap_or_default();
        let pkg = parts.next().unwrap_or_default();
        match obj {
            Value::Object(m) => self.object(ty, props, m, &mut Vec::new()),
            Value::Null => {}
            other => self.type_error(describe(other), &format!("{pkg}.{ty}")),
        }
    }

    fn shape(&self, node: &'a Value) -> Shape<'a> {
        let name = ref_target(node);
        match name {
            Some("io.k8s.apimachinery.pkg.util.intstr.IntOrString") => return Shape::IntOrString,
            Some("io.k8s.apimachinery.pkg.api.resource.Quantity") => return Shape::Quantity,
            Some(
                "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
                | "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
            ) => {
                return Shape::Time;
            }
            _ => {}
        }
        let s = self.defs.resolve(node);
        if s.get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Shape::Open;
        }
        if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            return Shape::IntOrString;
        }
        match s.get("type").and_then(Value::as_str) {
            Some("object") => {
                if let Some(Value::Object(props)) = s.get("properties") {
                    Shape::Struct(props)
                } else if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                    Shape::Map(ap)
                } else {
                    Shape::Open
                }
            }
            Some("array") => s.get("items").map_or(Shape::Open, Shape::List),
            Some("string") => match s.get("format").and_then(Value::as_str) {
                Some("byte") => Shape::Bytes,
                Some("date-time") => Shape::Time,
                _ => Shape::Str,
            },
            Some("integer") => match s.get("format").and_then(Value::as_str) {
                Some("int32") => Shape::Int("int32"),
                _ => Shape::Int("int64"),
            },
            Some("number") => Shape::Float,
            Some("boolean") => Shape::Bool,
            _ => Shape::Open,
        }
    }

    /// Go's `reflect.Type.String()` for a schema node.
    fn go_type(&self, node: &'a Value) -> String {
        if let Some(name) = ref_target(node) {
            let mut parts = name.rsplit('.');
            let ty = parts.next().unwrap_or_default();
            let pkg = parts.next().unwrap_or_default();
            return format!("{pkg}.{ty}");
        }
        match self.shape(node) {
            Shape::List(items) => format!("[]{}", self.go_type(items)),
            Shape::Map(values) => format!("map[string]{}", self.go_type(values)),
            Shape::Str | Shape::Time => "string".into(),
            Shape::Bytes => "[]uint8".into(),
            Shape::Int(t) => t.into(),
            Shape::Float => "float64".into(),
            Shape::Bool => "bool".into(),
            Shape::IntOrString => "intstr.IntOrString".into(),
            Shape::Quantity => "resource.Quantity".into(),
            Shape::Open | Shape::Struct(_) => "map[string]interface {}".into(),
        }
    }

    fn type_error(&mut self, what: &str, go_type: &str) {
        if self.check.type_error.is_some() {
            return;
        }
        let msg = if self.go.fields.is_empty() {
            format!("json: cannot unmarshal {what} into Go value of type {go_type}")
        } else {
            format!(
                "json: cannot unmarshal {what} into Go struct field {}.{} of type {go_type}",
                self.go.struct_name,
                self.go.fields.join(".")
            )
        };
        self.check.type_error = Some(msg);
    }

    /// A failure returned by a type's own `UnmarshalJSON` (no struct context).
    fn unmarshaler_error(&mut self, msg: String) {
        if self.check.type_error.is_none() {
            self.check.type_error = Some(msg);
        }
    }

    fn value(&mut self, node: &'a Value, v: &Value, loc: &mut Vec<Seg>) {
        self.value_typed(node, v, loc, None);
    }

    /// `named` overrides the Go type name of the node (named string types and
    /// ResourceList, which the schema cannot tell).
    fn value_typed(&mut self, node: &'a Value, v: &Value, loc: &mut Vec<Seg>, named: Option<&str>) {
        if v.is_null() {
            return;
        }
        let go_type = || named.map(str::to_string);
        match self.shape(node) {
            Shape::Open => {}
            Shape::IntOrString => match v {
                Value::String(_) => {}
                Value::Number(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => {}
                Value::Number(n) => self.unmarshaler_error(format!("json: cannot unmarshal number {n} into Go value of type int32")),
                other => {
                    self.unmarshaler_error(format!("json: cannot unmarshal {} into Go value of type int32", describe(other)))
                }
            },
            Shape::Quantity => match v {
                Value::String(_) | Value::Number(_) => {}
                _ => self.unmarshaler_error(
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".into(),
                ),
            },
            Shape::Time => {
                if !v.is_string() {
                    self.unmarshaler_error(format!("json: cannot unmarshal {} into Go value of type string", describe(v)));
                }
            }
            Shape::Struct(props) => match v {
                Value::Object(m) => {
                    let struct_name = ref_target(node)
                        .and_then(|n| n.rsplit('.').next())
                        .unwrap_or_default()
                        .to_string();
                    self.object(&struct_name, props, m, loc);
                }
                other => {
                    let t = go_type().unwrap_or_else(|| self.go_type(node));
                    self.type_error(describe(other), &t);
                }
            },
            Shape::Map(values) => match v {
                Value::Object(m) => {
                    let value_type = named.and_then(|n| (n == "v1.ResourceList").then_some("resource.Quantity"));
                    for (k, item) in m {
                        loc.push(Seg::Key(k.clone()));
                        self.value_typed(values, item, loc, value_type);
                        loc.pop();
                    }
                }
                other => {
                    let t = go_type().unwrap_or_else(|| self.go_type(node));
                    self.type_error(describe(other), &t);
                }
            },
            Shape::List(items) => match v {
                Value::Array(a) => {
                    for (i, item) in a.iter().enumerate() {
                        loc.push(Seg::Index(i));
                        self.value(items, item, loc);
                        loc.pop();
                    }
                }
                other => {
                    let t = go_type().unwrap_or_else(|| self.go_type(node));
                    self.type_error(describe(other), &t);
                }
            },
            Shape::Str => {
                if !v.is_string() {
                    self.type_error(describe(v), named.unwrap_or("string"));
                }
            }
            Shape::Bytes => {
                if !v.is_string() {
                    self.type_error(describe(v), "[]uint8");
                }
            }
            Shape::Int(t) => match v {
                Value::Number(n) => {
                    let fits = match t {
                        "int32" => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
                        _ => n.as_i64().is_some(),
                    };
                    if !fits {
                        self.type_error(&format!("number {n}"), t);
                    }
                }
                other => self.type_error(describe(other), t),
            },
            Shape::Float => {
                if !v.is_number() {
                    self.type_error(describe(v), "float64");
                }
            }
            Shape::Bool => {
                if !v.is_boolean() {
                    self.type_error(describe(v), "bool");
                }
            }
        }
    }

    fn object(
        &mut self,
        struct_name: &str,
        props: &'a serde_json::Map<String, Value>,
        m: &serde_json::Map<String, Value>,
        loc: &mut Vec<Seg>,
    ) {
        for (k, item) in m {
            loc.push(Seg::Key(k.clone()));
            match props.get(k) {
                Some(node) => {
                    let saved =
                        std::mem::replace(&mut self.go.struct_name, struct_name.to_string());
                    self.go.fields.push(k.clone());
                    let named = named_go_type(struct_name, k);
                    self.value_typed(node, item, loc, named);
                    self.go.fields.pop();
                    self.go.struct_name = saved;
                }
                None => {
                    self.check.unknown.push(strict_path(loc));
                    self.removals.push(loc.clone());
                }
            }
            loc.pop();
        }
    }
}

/// sigs.k8s.io/json's strict field path: keys joined by `.`, indices as `[i]`.
fn strict_path(loc: &[Seg]) -> String {
    let mut out = String::new();
    for seg in loc {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Go named types the OpenAPI schema does not carry (k8s.io/api `core/v1/types.go`,
/// `apps/v1/types.go`); they appear in type errors.
fn named_go_type(struct_name: &str, field: &str) -> Option<&'static str> {
    Some(match (struct_name, field) {
        ("Container" | "EphemeralContainer", "imagePullPolicy") => "v1.PullPolicy",
        ("Container" | "EphemeralContainer", "terminationMessagePolicy") => {
            "v1.TerminationMessagePolicy"
        }
        ("ContainerPort" | "ServicePort" | "EndpointPort", "protocol") => "v1.Protocol",
        ("PodSpec", "restartPolicy") => "v1.RestartPolicy",
        ("PodSpec", "dnsPolicy") => "v1.DNSPolicy",
        ("PodSpec", "preemptionPolicy") => "v1.PreemptionPolicy",
        ("ResourceRequirements", "limits" | "requests") => "v1.ResourceList",
        ("ServiceSpec", "type") => "v1.ServiceType",
        ("ServiceSpec", "sessionAffinity") => "v1.ServiceAffinity",
        ("ServiceSpec", "externalTrafficPolicy") => "v1.ServiceExternalTrafficPolicy",
        ("ServiceSpec", "internalTrafficPolicy") => "v1.ServiceInternalTrafficPolicy",
        ("ServiceSpec", "ipFamilyPolicy") => "v1.IPFamilyPolicy",
        ("Secret", "type") => "v1.SecretType",
        ("DeploymentStrategy", "type") => "v1.DeploymentStrategyType",
        ("StatefulSetSpec", "podManagementPolicy") => "v1.PodManagementPolicyType",
        ("PodStatus", "phase") => "v1.PodPhase",
        ("PodStatus", "qosClass") => "v1.PodQOSClass",
        ("JobSpec", "completionMode") => "v1.CompletionMode",
        ("CronJobSpec", "concurrencyPolicy") => "v1.ConcurrencyPolicy",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
