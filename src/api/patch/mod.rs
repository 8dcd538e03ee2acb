//! Patch application: strategic merge, JSON merge (RFC 7386), JSON patch
//! (RFC 6902) and server-side apply, dispatched by content type.
pub mod error;
pub mod json;
pub mod meta;
pub mod strategic;

use crate::api::resource::ResourceInfo;
use crate::api::status::Status;
pub use error::PatchError;
use serde_json::Value;

/// The four patch content types the apiserver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    /// From a `Content-Type` header value.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" => Some(Self::Apply),
            _ => None,
        }
    }
}

impl PatchError {
    /// The Status the apiserver answers a failed patch with.
    pub fn to_api_status(&self) -> Status {
        Status {
            code: self.code(),
            reason: self.reason(),
            message: self.message(),
            details: matches!(self, PatchError::Unprocessable { .. })
                .then(|| serde_json::json!({})),
        }
    }
}

/// Applies a patch of the given type to `original`. Server-side apply is
/// treated as a strategic merge of the applied configuration (no
/// managedFields ownership: fields another manager set are not removed).
pub fn apply(
    ty: PatchType,
    original: &Value,
    patch: &Value,
    info: &ResourceInfo,
) -> Result<Value, PatchError> {
    match ty {
        PatchType::Json => json::apply_json_patch(original, patch),
        PatchType::Merge => json::apply_merge_checked(original, patch),
        PatchType::Strategic | PatchType::Apply => {
            match crate::api::schema::patch_schema_for(info.group, info.version, info.kind) {
                Some(cursor) => strategic::apply_strategic(original, patch, &cursor),
                None => json::apply_merge_checked(original, patch),
            }
        }
    }
}
