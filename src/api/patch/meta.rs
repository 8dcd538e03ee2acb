//! What strategic merge patch needs to know about a type, as a cursor over
//! a schema. The schema module implements it from the OpenAPI definitions
//! plus the merge-key table (KUBECTL-CONTRACT.md §2.3); tests can implement
//! it by hand.

/// How a list field merges under strategic merge patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListMerge {
    /// The patch's list replaces the original (the default for lists).
    Atomic,
    /// `patchStrategy:"merge"` with `patchMergeKey`: elements match by that key.
    MergeByKey(String),
    /// `patchStrategy:"merge"` on a list of primitives (finalizers): a set union.
    Set,
}

/// A position in a type's schema.
pub trait PatchSchema: Sized {
    /// The schema of a named property of this object; `None` when unknown
    /// (the patch then merges it as plain JSON).
    fn field(&self, name: &str) -> Option<Self>;
    /// The value schema of a map (`additionalProperties`), e.g. labels.
    fn map_values(&self) -> Option<Self>;
    /// The element schema of a list.
    fn items(&self) -> Option<Self>;
    /// How this list merges.
    fn list_merge(&self) -> ListMerge;
    /// Whether this field carries `patchStrategy:"retainKeys"`.
    fn retain_keys(&self) -> bool;
}
