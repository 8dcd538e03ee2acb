//! Placeholder until per-kind defaulting lands.
pub fn apply_defaults(_group: &str, _kind: &str, _obj: &mut serde_json::Value) {}
