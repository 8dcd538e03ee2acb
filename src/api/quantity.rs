//! Placeholder until quantity parsing lands.
pub fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    a == b
}
