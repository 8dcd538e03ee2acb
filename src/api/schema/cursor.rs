//! `PatchSchema` over the generated definitions: a cursor at one schema node
//! that follows `$ref`/`allOf` wrappers when stepping into fields, map values
//! and list items. Patch strategy comes from the `x-kubernetes-patch-*`
//! extensions the way apimachinery `pkg/util/strategicpatch/meta.go`
//! (`PatchMetaFromOpenAPIV3`) reads them.

use serde_json::Value;

use super::defs::{Definitions, definitions, ref_target};
use crate::api::patch::meta::{ListMerge, PatchSchema};

/// A position in a type's schema.
#[derive(Debug, Clone, Copy)]
pub struct SchemaCursor<'a> {
    defs: &'a Definitions,
    node: &'a Value,
}

impl<'a> SchemaCursor<'a> {
    /// A cursor at `node`, resolving references through `defs`.
    pub fn new(defs: &'a Definitions, node: &'a Value) -> Self {
        Self { defs, node }
    }

    /// The node as written (a property schema keeps its own extensions here).
    pub fn node(&self) -> &'a Value {
        self.node
    }

    /// The node with `$ref`/`allOf` wrappers followed.
    pub fn resolved(&self) -> &'a Value {
        self.defs.resolve(self.node)
    }

    /// The definition this node refers to, e.g. `io.k8s.api.core.v1.PodSpec`.
    pub fn definition(&self) -> Option<&'a str> {
        ref_target(self.node)
    }

    fn step(&self, next: Option<&'a Value>) -> Option<Self> {
        next.map(|node| Self {
            defs: self.defs,
            node,
        })
    }

    fn strategy(&self) -> &'a str {
        self.node
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

impl PatchSchema for SchemaCursor<'_> {
    fn field(&self, name: &str) -> Option<Self> {
        self.step(self.resolved().get("properties").and_then(|p| p.get(name)))
    }

    fn map_values(&self) -> Option<Self> {
        self.step(
            self.resolved()
                .get("additionalProperties")
                .filter(|v| v.is_object()),
        )
    }

    fn items(&self) -> Option<Self> {
        self.step(self.resolved().get("items"))
    }

    fn list_merge(&self) -> ListMerge {
        if !self.strategy().split(',').any(|s| s == "merge") {
            return ListMerge::Atomic;
        }
        match self
            .node
            .get("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
        {
            Some(key) if !key.is_empty() => ListMerge::MergeByKey(key.to_string()),
            _ => ListMerge::Set,
        }
    }

    fn retain_keys(&self) -> bool {
        self.strategy().split(',').any(|s| s == "retainKeys")
    }
}

/// The schema of a served kind (or its list kind), for strategic merge patch.
pub fn patch_schema_for(group: &str, version: &str, kind: &str) -> Option<SchemaCursor<'static>> {
    let defs = definitions();
    let name = defs.name_of(group, version, kind)?;
    defs.get(name).map(|node| SchemaCursor::new(defs, node))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_spec() -> SchemaCursor<'static> {
        patch_schema_for("", "v1", "Pod")
            .and_then(|p| p.field("spec"))
            .expect("spec")
    }

    #[test]
    fn containers_merge_by_name() {
        let containers = pod_spec().field("containers").expect("containers");
        assert_eq!(
            containers.list_merge(),
            ListMerge::MergeByKey("name".into())
        );
        let c = containers.items().expect("items");
        assert_eq!(c.definition(), Some("io.k8s.api.core.v1.Container"));
        assert_eq!(
            c.field("ports").map(|p| p.list_merge()),
            Some(ListMerge::MergeByKey("containerPort".into()))
        );
        assert_eq!(
            c.field("args").map(|p| p.list_merge()),
            Some(ListMerge::Atomic)
        );
        assert!(c.field("bogus").is_none());
    }

    #[test]
    fn volumes_retain_keys_and_finalizers_are_sets() {
        let volumes = pod_spec().field("volumes").expect("volumes");
        assert!(volumes.retain_keys());
        assert_eq!(volumes.list_merge(), ListMerge::MergeByKey("name".into()));
        let meta = patch_schema_for("", "v1", "Pod")
            .and_then(|p| p.field("metadata"))
            .expect("metadata");
        assert_eq!(
            meta.field("finalizers").map(|f| f.list_merge()),
            Some(ListMerge::Set)
        );
        assert!(meta.field("labels").and_then(|l| l.map_values()).is_some());
        let strategy = patch_schema_for("apps", "v1", "Deployment")
            .and_then(|d| d.field("spec"))
            .and_then(|s| s.field("strategy"))
            .expect("strategy");
        assert!(strategy.retain_keys());
        assert_eq!(strategy.list_merge(), ListMerge::Atomic);
        assert!(strategy.field("rollingUpdate").is_some());
    }

    #[test]
    fn unknown_kinds_have_no_schema() {
        assert!(patch_schema_for("metrics.k8s.io", "v1beta1", "PodMetrics").is_none());
        assert!(patch_schema_for("", "v1", "Bogus").is_none());
        assert!(patch_schema_for("autoscaling", "v1", "Scale").is_some());
    }
}
