//! Patch application: strategic merge, JSON merge (RFC 7386), JSON patch
//! (RFC 6902) and server-side apply, dispatched by content type.
pub mod meta;

use crate::api::resource::ResourceInfo;
use crate::api::status::Status;
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

/// A patch that could not be applied.
#[derive(Debug, Clone)]
pub struct PatchFailure(pub String);

impl PatchFailure {
    pub fn to_status(&self, _info: &ResourceInfo, _name: &str) -> Status {
        Status::bad_request(self.0.clone())
    }
}

/// Applies a patch of the given type to `original`.
pub fn apply(ty: PatchType, original: &Value, patch: &Value, _info: &ResourceInfo) -> Result<Value, PatchFailure> {
    match ty {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| PatchFailure(e.to_string()))?;
            let mut doc = original.clone();
            json_patch::patch(&mut doc, &ops).map_err(|e| PatchFailure(e.to_string()))?;
            Ok(doc)
        }
        PatchType::Merge | PatchType::Strategic | PatchType::Apply => {
            let mut doc = original.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
    }
}
