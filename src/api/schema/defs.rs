//! The OpenAPI definitions of every served built-in type, generated once at
//! run time from k8s-openapi's `schemars` impls (definition names are
//! k8s-openapi's, e.g. `io.k8s.api.core.v1.Pod`), then decorated the way
//! kube-openapi decorates upstream's `api/openapi-spec/v3/*.json`:
//! `x-kubernetes-group-version-kind` on roots and lists, the patch and
//! list-type markers of `patch_keys.rs`, list kinds, and the int-or-string
//! types.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use k8s_openapi::api::{
    admissionregistration::v1 as admreg, apps::v1 as apps, authentication::v1 as authn,
    authorization::v1 as authz, autoscaling::v1 as as1, autoscaling::v2 as as2, batch::v1 as batch,
    coordination::v1 as coord, core::v1 as core, discovery::v1 as disc, events::v1 as events,
    networking::v1 as net, policy::v1 as policy, rbac::v1 as rbac, storage::v1 as storage,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::{ListableResource, Resource};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::patch_keys;

/// Prefix of every `$ref` in the definitions.
pub const REF_PREFIX: &str = "#/components/schemas/";

/// A type with a group/version/kind of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub name: String,
    /// Definition name of the list kind (`io.k8s.api.core.v1.PodList`), if listable.
    pub list: Option<String>,
}

/// All definitions plus the index of root kinds.
#[derive(Debug)]
pub struct Definitions {
    pub schemas: Map<String, Value>,
    pub roots: Vec<Root>,
}

impl Definitions {
    /// The definition name of a root or list kind.
    pub fn name_of(&self, group: &str, version: &str, kind: &str) -> Option<&str> {
        self.roots
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .find_map(|r| {
                if r.kind == kind {
                    Some(r.name.as_str())
                } else {
                    r.list
                        .as_deref()
                        .filter(|l| l.rsplit('.').next() == Some(kind))
                }
            })
    }

    /// The schema of a definition by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.schemas.get(name)
    }

    /// Follows `$ref` and single-element `allOf` wrappers to the schema they name.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..8 {
            let target = match ref_target(schema) {
                Some(name) => self.schemas.get(name),
                None => None,
            };
            match target {
                Some(t) => schema = t,
                None => return schema,
            }
        }
        schema
    }
}

/// The definition a schema node points to through `$ref` or `allOf: [{$ref}]`.
pub fn ref_target(schema: &Value) -> Option<&str> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.strip_prefix(REF_PREFIX);
    }
    match schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([one]) => one
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(REF_PREFIX)),
        _ => None,
    }
}

static DEFS: OnceLock<Definitions> = OnceLock::new();

/// The definitions, built on first use.
pub fn definitions() -> &'static Definitions {
    DEFS.get_or_init(build)
}

/// Starts building the definitions on a thread of their own, once per
/// process, as kube-apiserver builds its OpenAPI models while it starts:
/// the first write a client sends (strict field validation), the first
/// strategic merge patch and the first `/openapi/v3` request then find them
/// ready instead of spending some 15 million instructions (about 5 ms)
/// building them. A caller that needs them sooner just builds them itself
/// (or waits for the build under way).
pub fn prepare_in_background() {
    static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DEFS.get().is_some() || STARTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("openapi-definitions".into())
        .spawn(|| {
            definitions();
        });
    if let Err(e) = spawned {
        tracing::debug!("building the OpenAPI definitions on first use instead: {e}");
    }
}

struct Builder {
    generator: SchemaGenerator,
    roots: Vec<Root>,
}

impl Builder {
    fn root<T: Resource + JsonSchema>(&mut self) {
        self.generator.subschema_for::<T>();
        self.roots.push(Root {
            group: T::GROUP,
            version: T::VERSION,
            kind: T::KIND,
            name: T::schema_name().into_owned(),
            list: None,
        });
    }

    fn listable<T: ListableResource + JsonSchema>(&mut self) {
        self.root::<T>();
        if let Some(last) = self.roots.last_mut() {
            let name = last.name.clone();
            let prefix = name.strip_suffix(T::KIND).unwrap_or(&name);
            last.list = Some(format!("{prefix}{}", T::LIST_KIND));
        }
    }

    fn plain<T: JsonSchema>(&mut self) {
        self.generator.subschema_for::<T>();
    }
}

fn build() -> Definitions {
    let mut b = Builder {
        generator: SchemaSettings::openapi3().into_generator(),
        roots: Vec::new(),
    };
    // core/v1
    b.listable::<core::ConfigMap>();
    b.listable::<core::Endpoints>();
    b.listable::<core::Event>();
    b.listable::<core::LimitRange>();
    b.listable::<core::Namespace>();
    b.listable::<core::Node>();
    b.listable::<core::PersistentVolumeClaim>();
    b.listable::<core::PersistentVolume>();
    b.listable::<core::Pod>();
    b.listable::<core::ResourceQuota>();
    b.listable::<core::Secret>();
    b.listable::<core::ServiceAccount>();
    b.listable::<core::Service>();
    b.root::<core::Binding>();
    // apps/v1
    b.listable::<apps::ControllerRevision>();
    b.listable::<apps::DaemonSet>();
    b.listable::<apps::Deployment>();
    b.listable::<apps::ReplicaSet>();
    b.listable::<apps::StatefulSet>();
    // reviews and subresource bodies
    b.root::<authn::SelfSubjectReview>();
    b.root::<authn::TokenReview>();
    b.root::<authn::TokenRequest>();
    b.root::<authz::LocalSubjectAccessReview>();
    b.root::<authz::SelfSubjectAccessReview>();
    b.root::<authz::SelfSubjectRulesReview>();
    b.root::<authz::SubjectAccessReview>();
    b.root::<as1::Scale>();
    b.root::<policy::Eviction>();
    // the other groups
    b.listable::<admreg::MutatingWebhookConfiguration>();
    b.listable::<admreg::ValidatingWebhookConfiguration>();
    b.listable::<as2::HorizontalPodAutoscaler>();
    b.listable::<as1::HorizontalPodAutoscaler>();
    b.listable::<batch::CronJob>();
    b.listable::<batch::Job>();
    b.listable::<coord::Lease>();
    b.listable::<disc::EndpointSlice>();
    b.listable::<events::Event>();
    b.listable::<net::IngressClass>();
    b.listable::<net::Ingress>();
    b.listable::<net::NetworkPolicy>();
    b.listable::<policy::PodDisruptionBudget>();
    b.listable::<rbac::ClusterRoleBinding>();
    b.listable::<rbac::ClusterRole>();
    b.listable::<rbac::RoleBinding>();
    b.listable::<rbac::Role>();
    b.listable::<storage::StorageClass>();
    // meta types every group-version document refers to
    b.root::<meta::Status>();
    b.root::<meta::APIResourceList>();
    b.plain::<meta::DeleteOptions>();
    b.plain::<meta::WatchEvent<()>>();
    b.plain::<meta::ListMeta>();
    b.plain::<meta::Patch>();

    let Builder {
        mut generator,
        roots,
    } = b;
    let mut schemas = generator.take_definitions(true);
    decorate(&mut schemas, &roots);
    Definitions { schemas, roots }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

fn decorate(schemas: &mut Map<String, Value>, roots: &[Root]) {
    for root in roots {
        if let Some(Value::Object(s)) = schemas.get_mut(&root.name) {
            s.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([gvk(root.group, root.version, root.kind)]),
            );
            // k8s-openapi marks `metadata` required; upstream does not.
            if let Some(Value::Array(req)) = s.get_mut("required") {
                req.retain(|r| r != "metadata");
                if req.is_empty() {
                    s.remove("required");
                }
            }
        }
        if let Some(list) = &root.list {
            let list_kind = list.rsplit('.').next().unwrap_or_default();
            schemas.insert(list.clone(), list_schema(root, list_kind));
        }
    }
    // Types shared by every group-version carry one GVK per served group-version
    // (kube-openapi does the same for DeleteOptions and WatchEvent).
    let mut gvs: BTreeMap<(&str, &str), ()> = BTreeMap::new();
    for r in roots {
        gvs.insert((r.group, r.version), ());
    }
    for (name, kind) in [
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            "DeleteOptions",
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
            "WatchEvent",
        ),
    ] {
        let list: Vec<Value> = gvs.keys().map(|(g, v)| gvk(g, v, kind)).collect();
        if let Some(Value::Object(s)) = schemas.get_mut(name) {
            s.insert("x-kubernetes-group-version-kind".into(), Value::Array(list));
        }
    }
    if let Some(Value::Object(s)) =
        schemas.get_mut("io.k8s.apimachinery.pkg.util.intstr.IntOrString")
    {
        s.insert("type".into(), "string".into());
        s.insert("format".into(), "int-or-string".into());
    }
    if let Some(Value::Object(s)) = schemas.get_mut("io.k8s.apimachinery.pkg.api.resource.Quantity")
    {
        s.insert(
            "oneOf".into(),
            json!([{"type": "string"}, {"type": "number"}]),
        );
    }
    patch_keys::apply(schemas);
}

fn list_schema(root: &Root, list_kind: &str) -> Value {
    let mut s = json!({
        "description": format!("{list_kind} is a list of {} objects.", root.kind),
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                "type": "string"
            },
            "items": {
                "description": format!("List of {}.", root.kind),
                "items": {"allOf": [{"$ref": format!("{REF_PREFIX}{}", root.name)}], "default": {}},
                "type": "array"
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "type": "string"
            },
            "metadata": {
                "allOf": [{"$ref": format!("{REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")}],
                "default": {},
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
            }
        },
        "required": ["items"],
        "type": "object"
    });
    if let Value::Object(m) = &mut s {
        m.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([gvk(root.group, root.version, list_kind)]),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_background_build_yields_the_one_set_of_definitions() {
        // However many registries start (and race the build), everyone
        // gets the same definitions, built once.
        let starters: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(prepare_in_background))
            .collect();
        let defs = definitions();
        for s in starters {
            s.join().expect("starter");
        }
        prepare_in_background();
        assert!(std::ptr::eq(defs, definitions()));
        assert_eq!(
            defs.name_of("apps", "v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
    }

    #[test]
    fn pod_definition_has_gvk_and_refs() {
        let defs = definitions();
        let pod = defs.get("io.k8s.api.core.v1.Pod").expect("pod");
        assert_eq!(
            pod["x-kubernetes-group-version-kind"],
            json!([{"group": "", "kind": "Pod", "version": "v1"}])
        );
        assert_eq!(
            pod["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.PodSpec"
        );
        assert!(pod.get("required").is_none());
        assert!(defs.get("io.k8s.api.core.v1.Container").is_some());
        assert!(defs.get("io.k8s.api.autoscaling.v1.Scale").is_some());
    }

    #[test]
    fn lists_are_synthesised() {
        let defs = definitions();
        assert_eq!(
            defs.name_of("apps", "v1", "DeploymentList"),
            Some("io.k8s.api.apps.v1.DeploymentList")
        );
        assert_eq!(
            defs.name_of("apps", "v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
        let list = defs.get("io.k8s.api.apps.v1.DeploymentList").expect("list");
        assert_eq!(
            list["properties"]["items"]["items"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.Deployment"
        );
        assert_eq!(
            defs.name_of("metrics.k8s.io", "v1beta1", "PodMetrics"),
            None
        );
    }

    #[test]
    fn every_ref_resolves() {
        let defs = definitions();
        fn walk(v: &Value, defs: &Definitions) {
            match v {
                Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                        let name = r.strip_prefix(REF_PREFIX).expect("prefix");
                        assert!(defs.get(name).is_some(), "dangling {r}");
                    }
                    m.values().for_each(|x| walk(x, defs));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, defs)),
                _ => {}
            }
        }
        defs.schemas.values().for_each(|s| walk(s, defs));
    }
}
