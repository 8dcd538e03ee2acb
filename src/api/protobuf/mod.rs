//! Kubernetes protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`),
//! decoded into the JSON object the apiserver would have received as JSON.
//!
//! kubectl ≥ 1.32 (client-go typed clients) sends protobuf for `create <generator>`,
//! `auth can-i`/`whoami`, `create token`, drain's Eviction and more. The body is `k8s\0` followed
//! by a `runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}`; `raw` is
//! the object's message from k8s.io/api `*/generated.proto`.
//!
//! Upstream truth: apimachinery `pkg/runtime/serializer/protobuf/protobuf.go` (envelope and its
//! errors), `pkg/runtime/generated.proto` (Unknown), apiserver `pkg/endpoints/handlers/rest.go`
//! (`transformDecodeError`, `summarizeData`: the 400 message). The field table is generated:
//! see `schema.rs` and `tools/gen_protobuf_schema.py`.

mod decode;
#[rustfmt::skip]
mod schema;
mod table;
mod wire;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use table::Message;
use wire::{Reader, WIRE_LEN};

/// The Kubernetes protobuf media type.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The magic prefix of every Kubernetes protobuf body: `k8s\0`.
const PREFIX: &[u8] = b"k8s\0";

/// The scheme named in "no kind is registered" errors of kube-apiserver.
const SCHEME: &str = "pkg/api/legacyscheme/scheme.go:30";

/// Whether a `Content-Type` header names the Kubernetes protobuf media type (parameters ignored).
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(CONTENT_TYPE))
}

/// A body that could not be decoded. `Display` gives the apiserver's 400 BadRequest message;
/// call [`ProtobufError::expecting`] with the endpoint's kind to name it as upstream does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtobufError {
    /// `apiVersion` from the envelope (empty when the envelope was unreadable).
    pub api_version: String,
    /// `kind` from the envelope (empty when the envelope was unreadable).
    pub kind: String,
    /// The decoder's own error, e.g. `unexpected EOF`.
    pub reason: String,
    summary: String,
    expected_kind: Option<String>,
}

impl ProtobufError {
    fn new(api_version: &str, kind: &str, reason: impl Into<String>, body: &[u8]) -> Self {
        ProtobufError {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            reason: reason.into(),
            summary: summarize(body),
            expected_kind: None,
        }
    }

    /// Names the kind the endpoint expects (upstream's "cannot be handled as a <Kind>").
    pub fn expecting(mut self, kind: &str) -> Self {
        self.expected_kind = Some(kind.to_string());
        self
    }
}

impl std::fmt::Display for ProtobufError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = self
            .expected_kind
            .as_deref()
            .or((!self.kind.is_empty()).then_some(self.kind.as_str()))
            .unwrap_or("Object");
        if self.kind.is_empty() {
            write!(
                f,
                "the object provided is unrecognized (must be of type {target}): {} ({})",
                self.reason, self.summary
            )
        } else {
            let version = self.api_version.rsplit('/').next().unwrap_or_default();
            write!(
                f,
                "{} in version {version:?} cannot be handled as a {target}: {}",
                self.kind, self.reason
            )
        }
    }
}

impl std::error::Error for ProtobufError {}

/// apiserver `summarizeData(body, 30)`: the body's start, as text if JSON-looking, else hex.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let (head, more) = if body.len() > MAX {
        (&body[..MAX], " ...")
    } else {
        (body, "")
    };
    if body.is_empty() {
        "<empty>".to_string()
    } else if body.first() == Some(&b'{') {
        format!("{}{more}", String::from_utf8_lossy(head))
    } else {
        let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}{more}")
    }
}

/// Decodes a protobuf body into the full object, `apiVersion` and `kind` included.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    decode_as(body, "", "")
}

/// Like [`decode`], with the endpoint's apiVersion and kind filling an envelope that lacks them
/// (upstream's `copyKindDefaults`).
pub fn decode_as(
    body: &[u8],
    default_api_version: &str,
    default_kind: &str,
) -> Result<Value, ProtobufError> {
    let envelope = Envelope::parse(body).map_err(|e| ProtobufError::new("", "", e, body))?;
    let mut api_version = envelope.api_version;
    let mut kind = envelope.kind;
    if kind.is_empty() {
        kind = default_kind.to_string();
    }
    if api_version.is_empty() {
        api_version = default_api_version.to_string();
    }
    let type_meta = || format!("runtime.TypeMeta{{APIVersion:{api_version:?}, Kind:{kind:?}}}");
    if kind.is_empty() {
        let reason = format!("Object 'Kind' is missing in '{}'", type_meta());
        return Err(ProtobufError::new(&api_version, "", reason, body));
    }
    if api_version.is_empty() {
        let reason = format!("Object 'apiVersion' is missing in '{}'", type_meta());
        return Err(ProtobufError::new("", &kind, reason, body));
    }
    let object = object(&api_version, &kind, envelope.raw, 0)
        .map_err(|e| ProtobufError::new(&api_version, &kind, e, body))?;
    Ok(Value::Object(object))
}

/// A `k8s\0` body nested in a RawExtension.
fn decode_nested(body: &[u8], depth: usize) -> Result<Value, String> {
    let envelope = Envelope::parse(body)?;
    object(&envelope.api_version, &envelope.kind, envelope.raw, depth).map(Value::Object)
}

fn object(
    api_version: &str,
    kind: &str,
    raw: &[u8],
    depth: usize,
) -> Result<Map<String, Value>, String> {
    let msg = message_for(api_version, kind).ok_or_else(|| {
        format!("no kind {kind:?} is registered for version {api_version:?} in scheme {SCHEME:?}")
    })?;
    let mut object = Map::new();
    object.insert("kind".to_string(), Value::String(kind.to_string()));
    object.insert(
        "apiVersion".to_string(),
        Value::String(api_version.to_string()),
    );
    object.extend(decode::message(raw, msg, depth)?);
    Ok(object)
}

/// The message for a top-level (apiVersion, kind). `DeleteOptions` is registered in every version.
fn message_for(api_version: &str, kind: &str) -> Option<&'static Message> {
    if kind == "DeleteOptions" {
        return Some(&schema::META_V1_DELETE_OPTIONS);
    }
    schema::KINDS
        .binary_search_by(|(v, k, _)| (*v, *k).cmp(&(api_version, kind)))
        .ok()
        .and_then(|i| schema::KINDS.get(i))
        .map(|(_, _, msg)| *msg)
}

/// `runtime.Unknown` after the prefix: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2,
/// contentEncoding = 3, contentType = 4 (the last two are empty from client-go).
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
}

impl<'a> Envelope<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, String> {
        if body.is_empty() {
            return Err("empty data".to_string());
        }
        let Some(data) = body.strip_prefix(PREFIX) else {
            return Err(
                "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
                    .to_string(),
            );
        };
        if data.is_empty() {
            return Err("empty body".to_string());
        }
        let mut envelope = Envelope {
            api_version: String::new(),
            kind: String::new(),
            raw: &[],
        };
        let mut r = Reader::new(data);
        while !r.at_end() {
            let (number, wire) = r.key()?;
            if number == 0 || wire == wire::WIRE_END_GROUP {
                return Err(format!(
                    "proto: Unknown: illegal tag {number} (wire type {wire})"
                ));
            }
            match (number, wire) {
                (1, WIRE_LEN) => {
                    let mut tm = Reader::new(r.bytes()?);
                    while !tm.at_end() {
                        match tm.key()? {
                            (1, WIRE_LEN) => {
                                envelope.api_version =
                                    String::from_utf8_lossy(tm.bytes()?).into_owned()
                            }
                            (2, WIRE_LEN) => {
                                envelope.kind = String::from_utf8_lossy(tm.bytes()?).into_owned()
                            }
                            (0, w) => {
                                return Err(format!(
                                    "proto: TypeMeta: illegal tag 0 (wire type {w})"
                                ));
                            }
                            (1, w) => {
                                return Err(format!(
                                    "proto: wrong wireType = {w} for field APIVersion"
                                ));
                            }
                            (2, w) => {
                                return Err(format!("proto: wrong wireType = {w} for field Kind"));
                            }
                            (_, w) => tm.skip(w)?,
                        }
                    }
                }
                (2, WIRE_LEN) => envelope.raw = r.bytes()?,
                (3 | 4, WIRE_LEN) => {
                    r.bytes()?;
                }
                (1, w) => return Err(format!("proto: wrong wireType = {w} for field TypeMeta")),
                (2, w) => return Err(format!("proto: wrong wireType = {w} for field Raw")),
                (3, w) => {
                    return Err(format!(
                        "proto: wrong wireType = {w} for field ContentEncoding"
                    ));
                }
                (4, w) => return Err(format!("proto: wrong wireType = {w} for field ContentType")),
                (_, w) => r.skip(w)?,
            }
        }
        Ok(envelope)
    }
}
