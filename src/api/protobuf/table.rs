//! Shape of the generated field table (`schema.rs`): for each protobuf message of k8s.io/api,
//! its fields by number with the JSON name Go's `encoding/json` would use.
//!
//! Upstream truth: k8s.io/api `*/generated.proto` (field numbers and wire kinds) and the json tags
//! in `*/types.go`; the special JSON forms are apimachinery's `meta/v1/time.go`, `micro_time.go`,
//! `api/resource/quantity.go`, `util/intstr/intstr.go` and `runtime/types.go` (RawExtension).

/// A protobuf message: its Go type name (used in error messages) and its fields sorted by number.
pub struct Message(pub &'static str, pub &'static [Field]);

/// One field: number, JSON name (empty for an embedded Go struct), value kind, cardinality.
pub struct Field(pub u32, pub &'static str, pub Kind, pub Card);

/// How a field's bytes become JSON.
pub enum Kind {
    Str,
    I32,
    I64,
    Bool,
    /// `double`: no k8s.io/api object kubectl sends has one today.
    #[allow(dead_code)]
    F64,
    /// `[]byte`: base64 in JSON.
    Bytes,
    Msg(&'static Message),
    /// `map<string, V>` (entries are messages with key = 1, value = 2).
    Map(&'static Kind),
    /// `metav1.Time`: RFC 3339 in seconds, `null` when zero.
    Time,
    /// `metav1.MicroTime`: RFC 3339 with microseconds, `null` when zero.
    MicroTime,
    /// `resource.Quantity`: its string form.
    Quantity,
    /// `intstr.IntOrString`: a number or a string.
    IntOrString,
    /// `runtime.RawExtension`, `metav1.FieldsV1`: raw JSON bytes embedded as JSON.
    RawJson,
    /// A named `[]string` (`ExtraValue`, `Verbs`), wrapped in `message { repeated string items = 1; }`.
    StrList,
}

/// Cardinality and zero-value handling of a field.
#[derive(PartialEq, Eq)]
pub enum Card {
    /// Non-pointer, `omitempty`: a zero scalar is left out of the JSON.
    One,
    /// A pointer or a field without `omitempty`: a zero scalar is kept.
    Keep,
    /// Repeated field or map.
    Rep,
    /// Embedded Go struct (`json:",inline"`): its fields go into the parent object.
    Inline,
}

impl Message {
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        self.1
            .binary_search_by_key(&number, |f| f.0)
            .ok()
            .and_then(|i| self.1.get(i))
    }
}
