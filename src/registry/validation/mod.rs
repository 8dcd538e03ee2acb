//! Placeholder until per-kind validation lands.
use crate::api::field_error::FieldError;
pub fn validate_create(_group: &str, _kind: &str, _obj: &serde_json::Value) -> Vec<FieldError> {
    Vec::new()
}
pub fn validate_update(_group: &str, _kind: &str, _new: &serde_json::Value, _old: &serde_json::Value) -> Vec<FieldError> {
    Vec::new()
}
