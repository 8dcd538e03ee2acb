//! Request bodies: JSON, YAML and Kubernetes protobuf, with the
//! apiserver's size limit and error texts.

use crate::api::status::Status;
use serde_json::Value;

/// The apiserver's default `--max-request-body-bytes` (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What the body of a write is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Protobuf,
}

impl Format {
    /// From a `Content-Type` header; patches are always JSON or YAML.
    pub fn from_content_type(ct: Option<&str>) -> Option<Self> {
        let base = ct
            .unwrap_or("application/json")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            ""
            | "application/json"
            | "application/json-patch+json"
            | "application/merge-patch+json"
            | "application/strategic-merge-patch+json" => Some(Self::Json),
            "application/yaml" | "application/apply-patch+yaml" => Some(Self::Yaml),
            "application/vnd.kubernetes.protobuf" => Some(Self::Protobuf),
            _ => None,
        }
    }
}

/// Decodes a body into JSON.
pub fn decode(format: Format, bytes: &[u8]) -> Result<Value, Status> {
    if bytes.len() > MAX_BODY {
        return Err(Status::too_large(MAX_BODY));
    }
    match format {
        Format::Json => serde_json::from_slice(bytes).map_err(|e| {
            Status::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        }),
        Format::Yaml => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| Status::bad_request(format!("error converting YAML to JSON: {e}")))?;
            // apply-patch+yaml bodies are usually JSON, which is YAML too.
            if let Ok(v) = serde_json::from_str::<Value>(text) {
                return Ok(v);
            }
            crate::api::yaml::from_str(text)
                .map_err(|e| Status::bad_request(format!("error converting YAML to JSON: {e}")))
        }
        Format::Protobuf => {
            crate::api::protobuf::decode(bytes).map_err(|e| Status::bad_request(e.to_string()))
        }
    }
}
