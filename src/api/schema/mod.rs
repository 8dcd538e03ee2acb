//! Placeholder until the schema layer lands.
use serde_json::Value;

#[derive(Debug, Default)]
pub struct FieldCheck {
    pub unknown: Vec<String>,
    pub type_errors: Vec<String>,
}

pub fn check_fields(_group: &str, _version: &str, _kind: &str, _obj: &Value) -> FieldCheck {
    FieldCheck::default()
}

pub fn prune_unknown(_group: &str, _version: &str, _kind: &str, _obj: &mut Value) {}
