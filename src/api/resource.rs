//! The catalog of built-in resources the simulated API server serves:
//! group, version, kind, plural and singular names, scope, verbs,
//! short names, categories and subresources, as upstream's discovery
//! documents report them.
//!
//! Checked against Kubernetes 1.33: the storage providers
//! (`pkg/registry/core/rest/storage_core.go`, `pkg/registry/*/rest/storage_*.go`),
//! each store's `ShortNames()`/`Categories()` (`pkg/registry/**/storage/storage.go`),
//! the generated discovery fixtures (`api/discovery/api__v1.json`,
//! `api/discovery/aggregated_v2.json`) and, for metrics.k8s.io, metrics-server's
//! `pkg/api/{node,pod}.go` (get/list only, `GetSingularName()` returns "").
//! Verbs and subresources are kept sorted, as the apiserver's installer sorts them.
//! `pods/resize` exists because `InPlacePodVerticalScaling` is beta (on) in 1.33.

/// Verbs of a normal read-write resource.
pub const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Verbs of a create-only review resource.
pub const CREATE_ONLY: &[&str] = &["create"];
/// Verbs of a read-only metrics resource.
pub const READ_ONLY: &[&str] = &["get", "list"];

/// A subresource (`pods/log`, `deployments/scale`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    pub name: &'static str,
    /// Group/version/kind of the subresource's body, e.g. autoscaling/v1 Scale.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub verbs: &'static [&'static str],
}

/// One served resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub verbs: &'static [&'static str],
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub subresources: &'static [Subresource],
}

impl ResourceInfo {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// `pods` or `deployments.apps`: how Status messages name the resource.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

const fn sub(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    Subresource {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const STATUS_POD: Subresource = sub("status", "", "v1", "Pod", GET_PATCH_UPDATE);

#[allow(clippy::too_many_arguments)]
const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    verbs: &'static [&'static str],
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [Subresource],
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        verbs,
        short_names,
        categories,
        subresources,
    }
}

const ALL: &[&str] = &["all"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];
/// Namespaces have no `deletecollection` (the namespace REST wraps the store).
const NS_RW: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// Every served resource, in discovery order within each group.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    res(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        true,
        RW,
        &["cm"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        true,
        RW,
        &["ep"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "Event",
        "events",
        "event",
        true,
        RW,
        &["ev"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        "limitrange",
        true,
        RW,
        &["limits"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        false,
        NS_RW,
        &["ns"],
        &[],
        &[
            sub("finalize", "", "v1", "Namespace", &["update"]),
            sub("status", "", "v1", "Namespace", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        false,
        RW,
        &["no"],
        &[],
        &[
            sub(
                "proxy",
                "",
                "v1",
                "NodeProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            sub("status", "", "v1", "Node", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        true,
        RW,
        &["pvc"],
        &[],
        &[sub(
            "status",
            "",
            "v1",
            "PersistentVolumeClaim",
            GET_PATCH_UPDATE,
        )],
    ),
    res(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        false,
        RW,
        &["pv"],
        &[],
        &[sub(
            "status",
            "",
            "v1",
            "PersistentVolume",
            GET_PATCH_UPDATE,
        )],
    ),
    res(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        true,
        RW,
        &["po"],
        ALL,
        &[
            sub("attach", "", "v1", "PodAttachOptions", &["create", "get"]),
            sub("binding", "", "v1", "Binding", &["create"]),
            sub("ephemeralcontainers", "", "v1", "Pod", GET_PATCH_UPDATE),
            sub("eviction", "policy", "v1", "Eviction", &["create"]),
            sub("exec", "", "v1", "PodExecOptions", &["create", "get"]),
            sub("log", "", "v1", "Pod", &["get"]),
            sub(
                "portforward",
                "",
                "v1",
                "PodPortForwardOptions",
                &["create", "get"],
            ),
            sub(
                "proxy",
                "",
                "v1",
                "PodProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            sub("resize", "", "v1", "Pod", GET_PATCH_UPDATE),
            STATUS_POD,
        ],
    ),
    res(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        true,
        RW,
        &["quota"],
        &[],
        &[sub("status", "", "v1", "ResourceQuota", GET_PATCH_UPDATE)],
    ),
    res(
        "",
        "v1",
        "Secret",
        "secrets",
        "secret",
        true,
        RW,
        &[],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        true,
        RW,
        &["sa"],
        &[],
        &[sub(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            &["create"],
        )],
    ),
    res(
        "",
        "v1",
        "Service",
        "services",
        "service",
        true,
        RW,
        &["svc"],
        ALL,
        &[
            sub(
                "proxy",
                "",
                "v1",
                "ServiceProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            sub("status", "", "v1", "Service", GET_PATCH_UPDATE),
        ],
    ),
    // admissionregistration.k8s.io/v1 (the webhook configurations; no
    // short names in 1.33: `vwc`/`mwc` were added and reverted in 1.28)
    res(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        false,
        RW,
        &[],
        API_EXTENSIONS,
        &[],
    ),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        false,
        RW,
        &[],
        API_EXTENSIONS,
        &[],
    ),
    // apps/v1
    res(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        true,
        RW,
        &[],
        &[],
        &[],
    ),
    res(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        true,
        RW,
        &["ds"],
        ALL,
        &[sub("status", "apps", "v1", "DaemonSet", GET_PATCH_UPDATE)],
    ),
    res(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        RW,
        &["deploy"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub("status", "apps", "v1", "Deployment", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        RW,
        &["rs"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub("status", "apps", "v1", "ReplicaSet", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        true,
        RW,
        &["sts"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub("status", "apps", "v1", "StatefulSet", GET_PATCH_UPDATE),
        ],
    ),
    // authentication.k8s.io/v1
    res(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
        false,
        CREATE_ONLY,
        &[],
        &[],
        &[],
    ),
    res(
        "authentication.k8s.io",
        "v1",
        "TokenReview",
        "tokenreviews",
        "tokenreview",
        false,
        CREATE_ONLY,
        &[],
        &[],
        &[],
    ),
    // authorization.k8s.io/v1
    res(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        true,
        CREATE_ONLY,
        &[],
        &[],
        &[],
    ),
    res(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        false,
        CREATE_ONLY,
        &[],
        &[],
        &[],
    ),
    res(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        false,
        CREATE_ONLY,
        &[],
        &[],
        &[],
    ),
    res(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        false,
        CREATE_ONLY,
        &[],
        &[],
        &[],
    ),
    // autoscaling
    res(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        true,
        RW,
        &["hpa"],
        ALL,
        &[sub(
            "status",
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            GET_PATCH_UPDATE,
        )],
    ),
    res(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        true,
        RW,
        &["hpa"],
        ALL,
        &[sub(
            "status",
            "autoscaling",
            "v1",
            "HorizontalPodAutoscaler",
            GET_PATCH_UPDATE,
        )],
    ),
    // batch/v1
    res(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        true,
        RW,
        &["cj"],
        ALL,
        &[sub("status", "batch", "v1", "CronJob", GET_PATCH_UPDATE)],
    ),
    res(
        "batch",
        "v1",
        "Job",
        "jobs",
        "job",
        true,
        RW,
        &[],
        ALL,
        &[sub("status", "batch", "v1", "Job", GET_PATCH_UPDATE)],
    ),
    // coordination.k8s.io/v1
    res(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        true,
        RW,
        &[],
        &[],
        &[],
    ),
    // discovery.k8s.io/v1
    res(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        true,
        RW,
        &[],
        &[],
        &[],
    ),
    // events.k8s.io/v1
    res(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        "event",
        true,
        RW,
        &["ev"],
        &[],
        &[],
    ),
    // metrics.k8s.io/v1beta1
    res(
        "metrics.k8s.io",
        "v1beta1",
        "NodeMetrics",
        "nodes",
        "",
        false,
        READ_ONLY,
        &[],
        &[],
        &[],
    ),
    res(
        "metrics.k8s.io",
        "v1beta1",
        "PodMetrics",
        "pods",
        "",
        true,
        READ_ONLY,
        &[],
        &[],
        &[],
    ),
    // networking.k8s.io/v1
    res(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        "ingressclass",
        false,
        RW,
        &[],
        &[],
        &[],
    ),
    res(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        "ingress",
        true,
        RW,
        &["ing"],
        &[],
        &[sub(
            "status",
            "networking.k8s.io",
            "v1",
            "Ingress",
            GET_PATCH_UPDATE,
        )],
    ),
    res(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        "networkpolicy",
        true,
        RW,
        &["netpol"],
        &[],
        &[],
    ),
    // policy/v1
    res(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        true,
        RW,
        &["pdb"],
        &[],
        &[sub(
            "status",
            "policy",
            "v1",
            "PodDisruptionBudget",
            GET_PATCH_UPDATE,
        )],
    ),
    // rbac.authorization.k8s.io/v1
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        RW,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
        RW,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
        RW,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        true,
        RW,
        &[],
        &[],
        &[],
    ),
    // storage.k8s.io/v1
    res(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        "storageclass",
        false,
        RW,
        &["sc"],
        &[],
        &[],
    ),
];

/// API groups in the order discovery lists them, with their versions
/// (preferred version first). The order is the aggregator's group priority
/// (`pkg/controlplane/apiserver/aggregator.go`, `cmd/kube-apiserver/app/aggregator.go`):
/// "" 18000, apps 17800, events 17750, authentication 17700, authorization 17600,
/// autoscaling 17500 (v2 30 > v1 15), batch 17400, networking 17200, policy 17100,
/// rbac 17000, storage 16800, admissionregistration 16700, coordination 16500,
/// discovery 16200, and metrics-server's APIService `groupPriorityMinimum: 100` last.
pub static GROUPS: &[(&str, &[&str])] = &[
    ("", &["v1"]),
    ("apps", &["v1"]),
    ("events.k8s.io", &["v1"]),
    ("authentication.k8s.io", &["v1"]),
    ("authorization.k8s.io", &["v1"]),
    ("autoscaling", &["v2", "v1"]),
    ("batch", &["v1"]),
    ("networking.k8s.io", &["v1"]),
    ("policy", &["v1"]),
    ("rbac.authorization.k8s.io", &["v1"]),
    ("storage.k8s.io", &["v1"]),
    ("admissionregistration.k8s.io", &["v1"]),
    ("coordination.k8s.io", &["v1"]),
    ("discovery.k8s.io", &["v1"]),
    ("metrics.k8s.io", &["v1beta1"]),
];

/// The resource served at `group/version` under the plural name.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource for a group/version/kind.
pub fn lookup_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// All resources of one group/version, in catalog order.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_sorted(xs: &[&str]) -> bool {
        xs.windows(2).all(|w| w[0] < w[1])
    }

    #[test]
    fn verbs_and_subresources_are_sorted_like_the_installer_sorts_them() {
        for r in RESOURCES {
            assert!(is_sorted(r.verbs), "{} verbs", r.plural);
            let names: Vec<&str> = r.subresources.iter().map(|s| s.name).collect();
            assert!(is_sorted(&names), "{} subresources", r.plural);
            for s in r.subresources {
                assert!(is_sorted(s.verbs), "{}/{} verbs", r.plural, s.name);
            }
        }
    }

    #[test]
    fn every_group_version_is_listed_and_has_resources_in_plural_order() {
        for r in RESOURCES {
            let listed = GROUPS
                .iter()
                .any(|(g, vs)| *g == r.group && vs.contains(&r.version));
            assert!(listed, "{} not in GROUPS", r.api_version());
        }
        for (g, vs) in GROUPS {
            for v in *vs {
                let plurals: Vec<&str> = in_group_version(g, v).map(|r| r.plural).collect();
                assert!(!plurals.is_empty(), "{g}/{v} has no resources");
                assert!(is_sorted(&plurals), "{g}/{v} not sorted: {plurals:?}");
            }
        }
    }

    #[test]
    fn catalog_matches_upstream_for_the_resources_kubectl_leans_on() {
        let deploy = lookup("apps", "v1", "deployments").expect("deployments");
        assert_eq!(deploy.short_names, ["deploy"]);
        assert_eq!(deploy.categories, ["all"]);
        let scale = deploy.subresource("scale").expect("scale");
        assert_eq!(
            (scale.group, scale.version, scale.kind),
            ("autoscaling", "v1", "Scale")
        );
        let ns = lookup("", "v1", "namespaces").expect("namespaces");
        assert!(!ns.has_verb("deletecollection"));
        let svc = lookup("", "v1", "services").expect("services");
        assert!(svc.has_verb("deletecollection"));
        assert_eq!(svc.categories, ["all"]);
        let pods = lookup("", "v1", "pods").expect("pods");
        let eviction = pods.subresource("eviction").expect("eviction");
        assert_eq!((eviction.group, eviction.kind), ("policy", "Eviction"));
        assert_eq!(pods.subresource("log").map(|s| s.verbs), Some(&["get"][..]));
        let node_metrics = lookup("metrics.k8s.io", "v1beta1", "nodes").expect("node metrics");
        assert_eq!((node_metrics.singular, node_metrics.verbs), ("", READ_ONLY));
        assert_eq!(
            lookup_kind("events.k8s.io", "v1", "Event").map(|r| r.short_names),
            Some(&["ev"][..])
        );
        assert_eq!(GROUPS.first().map(|g| g.0), Some(""));
        assert_eq!(GROUPS.last().map(|g| g.0), Some("metrics.k8s.io"));
    }
}
