//! Storage errors, each carrying what the apiserver's storage layer reports.

/// A storage operation that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("object {namespace}/{name} not found")]
    NotFound { namespace: String, name: String },
    #[error("object {namespace}/{name} already exists")]
    AlreadyExists { namespace: String, name: String },
    #[error("resource version conflict on {namespace}/{name}: expected {expected}, have {actual}")]
    Conflict {
        namespace: String,
        name: String,
        expected: u64,
        actual: u64,
    },
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
}
