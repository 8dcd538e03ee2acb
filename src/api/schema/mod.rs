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

/// Placeholder cursor: knows no fields, so strategic merge behaves like a JSON merge.
pub struct NoSchema;
impl crate::api::patch::meta::PatchSchema for NoSchema {
    fn field(&self, _name: &str) -> Option<Self> {
        None
    }
    fn map_values(&self) -> Option<Self> {
        None
    }
    fn items(&self) -> Option<Self> {
        None
    }
    fn list_merge(&self) -> crate::api::patch::meta::ListMerge {
        crate::api::patch::meta::ListMerge::Atomic
    }
    fn retain_keys(&self) -> bool {
        false
    }
}
pub fn patch_schema_for(_group: &str, _version: &str, _kind: &str) -> Option<NoSchema> {
    None
}
pub fn openapi_v3_root() -> Value {
    serde_json::json!({"paths": {}})
}
pub fn openapi_v3_document(_path: &str) -> Option<(&'static [u8], &'static str)> {
    None
}
