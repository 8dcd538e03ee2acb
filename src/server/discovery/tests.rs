//! Discovery documents parsed back with k8s-openapi's and kube-rs's types.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions,
};
use k8s_openapi::apimachinery::pkg::version::Info;
use kube::core::discovery::v2::{
    APIGroupDiscovery, APIGroupDiscoveryList, APIResourceDiscovery, GroupVersionKind,
};
use serde_json::Value;

use super::*;

const KUBECTL_132_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const KUBECTL_137_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("parses")
}

fn group<'a>(list: &'a APIGroupDiscoveryList, name: &str) -> &'a APIGroupDiscovery {
    list.items
        .iter()
        .find(|g| {
            g.metadata
                .as_ref()
                .and_then(|m| m.name.as_deref())
                .unwrap_or("")
                == name
        })
        .expect("group present")
}

fn resource<'a>(g: &'a APIGroupDiscovery, version: &str, plural: &str) -> &'a APIResourceDiscovery {
    g.versions
        .iter()
        .find(|v| v.version.as_deref() == Some(version))
        .and_then(|v| {
            v.resources
                .iter()
                .find(|r| r.resource.as_deref() == Some(plural))
        })
        .expect("resource present")
}

fn gvk(group: &str, version: &str, kind: &str) -> Option<GroupVersionKind> {
    Some(GroupVersionKind {
        group: Some(group.into()),
        version: Some(version.into()),
        kind: Some(kind.into()),
    })
}

fn sub_names(r: &APIResourceDiscovery) -> Vec<&str> {
    r.subresources
        .iter()
        .filter_map(|s| s.subresource.as_deref())
        .collect()
}

#[test]
fn aggregated_apis_lists_deployments_like_upstream() {
    let doc = aggregated_apis();
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
    assert_eq!(
        doc["items"][0]["metadata"]["creationTimestamp"],
        Value::Null
    );
    let list: APIGroupDiscoveryList = parse(doc);
    let apps = group(&list, "apps");
    let deploy = resource(apps, "v1", "deployments");
    assert_eq!(deploy.short_names, ["deploy"]);
    assert_eq!(deploy.categories, ["all"]);
    assert_eq!(deploy.scope.as_deref(), Some("Namespaced"));
    assert_eq!(deploy.singular_resource.as_deref(), Some("deployment"));
    assert_eq!(deploy.response_kind, gvk("", "", "Deployment"));
    assert_eq!(deploy.verbs, RW_VERBS);
    assert_eq!(sub_names(deploy), ["scale", "status"]);
    assert_eq!(
        deploy.subresources[0].response_kind,
        gvk("autoscaling", "v1", "Scale")
    );
    assert_eq!(deploy.subresources[0].verbs, ["get", "patch", "update"]);
    assert_eq!(
        deploy.subresources[1].response_kind,
        gvk("", "", "Deployment")
    );
    assert_eq!(apps.versions[0].freshness.as_deref(), Some("Current"));
}

const RW_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

#[test]
fn aggregated_apis_orders_groups_by_priority_and_versions_by_preference() {
    let list: APIGroupDiscoveryList = parse(aggregated_apis());
    let names: Vec<&str> = list
        .items
        .iter()
        .filter_map(|g| g.metadata.as_ref()?.name.as_deref())
        .collect();
    assert_eq!(names.first(), Some(&"apps"));
    assert_eq!(names.get(1), Some(&"events.k8s.io"));
    assert_eq!(names.last(), Some(&"metrics.k8s.io"));
    assert!(!names.contains(&""));
    let autoscaling = group(&list, "autoscaling");
    let versions: Vec<&str> = autoscaling
        .versions
        .iter()
        .filter_map(|v| v.version.as_deref())
        .collect();
    assert_eq!(versions, ["v2", "v1"]);
    let metrics = group(&list, "metrics.k8s.io");
    let pods = resource(metrics, "v1beta1", "pods");
    assert_eq!(pods.verbs, ["get", "list"]);
    assert_eq!(pods.singular_resource.as_deref(), Some(""));
    assert_eq!(pods.response_kind, gvk("", "", "PodMetrics"));
    assert_eq!(
        resource(metrics, "v1beta1", "nodes").scope.as_deref(),
        Some("Cluster")
    );
}

#[test]
fn aggregated_core_holds_only_the_core_group_with_pod_subresources() {
    let doc = aggregated_core();
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        doc["items"][0]["metadata"],
        serde_json::json!({"creationTimestamp": null})
    );
    let list: APIGroupDiscoveryList = parse(doc);
    let core = group(&list, "");
    let pods = resource(core, "v1", "pods");
    assert_eq!(pods.short_names, ["po"]);
    assert_eq!(pods.categories, ["all"]);
    let subs = sub_names(pods);
    for wanted in [
        "attach",
        "eviction",
        "exec",
        "log",
        "portforward",
        "resize",
        "status",
    ] {
        assert!(subs.contains(&wanted), "pods/{wanted} missing");
    }
    let eviction = pods
        .subresources
        .iter()
        .find(|s| s.subresource.as_deref() == Some("eviction"));
    assert_eq!(
        eviction.and_then(|s| s.response_kind.clone()),
        gvk("policy", "v1", "Eviction")
    );
    let log = pods
        .subresources
        .iter()
        .find(|s| s.subresource.as_deref() == Some("log"));
    assert_eq!(log.map(|s| s.verbs.clone()), Some(vec!["get".to_string()]));
    let namespaces = resource(core, "v1", "namespaces");
    assert!(!namespaces.verbs.iter().any(|v| v == "deletecollection"));
    assert_eq!(namespaces.scope.as_deref(), Some("Cluster"));
    let secrets = resource(core, "v1", "secrets");
    assert!(secrets.short_names.is_empty() && secrets.subresources.is_empty());
}

#[test]
fn aggregated_v2beta1_differs_only_in_api_version() {
    let mut beta = aggregated_apis_as("v2beta1");
    assert_eq!(beta["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    beta["apiVersion"] = "apidiscovery.k8s.io/v2".into();
    assert_eq!(beta, aggregated_apis());
    assert_eq!(
        aggregated_content_type("v2beta1"),
        AGGREGATED_V2BETA1_CONTENT_TYPE
    );
    assert_eq!(
        aggregated_content_type("v2"),
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
}

#[test]
fn accept_headers_negotiate_like_the_discovery_wrapper() {
    assert_eq!(wants_aggregated(KUBECTL_132_ACCEPT), Some("v2"));
    assert_eq!(wants_aggregated(KUBECTL_137_ACCEPT), Some("v2"));
    let beta_only = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    assert_eq!(wants_aggregated(beta_only), Some("v2beta1"));
    assert_eq!(wants_aggregated(""), None);
    assert_eq!(wants_aggregated("application/json"), None);
    assert_eq!(wants_aggregated("application/json, */*"), None);
    assert_eq!(
        wants_aggregated("application/vnd.kubernetes.protobuf, */*"),
        None
    );
    // A plain JSON clause does not settle it; the aggregated clause after it still wins.
    let later =
        "application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    assert_eq!(wants_aggregated(later), Some("v2"));
    // q values reorder the clauses.
    let by_q = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList;q=0.5,application/json;v=v2;g=apidiscovery.k8s.io;as=APIGroupDiscoveryList";
    assert_eq!(wants_aggregated(by_q), Some("v2"));
    assert_eq!(
        wants_aggregated("*/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
        Some("v2")
    );
    assert_eq!(
        wants_aggregated("application/json;g=apidiscovery.k8s.io;v=v1;as=APIGroupDiscoveryList"),
        None
    );
    assert_eq!(
        wants_aggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupList"),
        None
    );
    assert_eq!(
        wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;sv=v1"
        ),
        None
    );
    assert_eq!(
        wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer"
        ),
        Some("v2")
    );
    assert_eq!(
        wants_aggregated(
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        ),
        None
    );
}

#[test]
fn legacy_api_versions_and_group_list_parse_as_k8s_openapi_types() {
    let versions: APIVersions = parse(api_versions_at("10.0.0.1:6443"));
    assert_eq!(versions.versions, ["v1"]);
    assert_eq!(
        versions.server_address_by_client_cidrs[0].client_cidr,
        "0.0.0.0/0"
    );
    assert_eq!(
        versions.server_address_by_client_cidrs[0].server_address,
        "10.0.0.1:6443"
    );
    assert_eq!(api_versions()["kind"], "APIVersions");
    assert!(api_versions().get("apiVersion").is_none());

    let doc = api_group_list();
    assert_eq!(
        (&doc["kind"], &doc["apiVersion"]),
        (&"APIGroupList".into(), &"v1".into())
    );
    let list: APIGroupList = parse(doc);
    assert_eq!(list.groups[0].name, "apps");
    assert!(list.groups.iter().all(|g| !g.name.is_empty()));
    let autoscaling = list
        .groups
        .iter()
        .find(|g| g.name == "autoscaling")
        .expect("autoscaling");
    assert_eq!(
        autoscaling
            .preferred_version
            .as_ref()
            .map(|p| p.group_version.as_str()),
        Some("autoscaling/v2")
    );
    let gvs: Vec<&str> = autoscaling
        .versions
        .iter()
        .map(|v| v.group_version.as_str())
        .collect();
    assert_eq!(gvs, ["autoscaling/v2", "autoscaling/v1"]);
    assert!(list.groups.iter().any(|g| g.name == "metrics.k8s.io"));
}

#[test]
fn api_group_answers_known_groups_only() {
    let doc = api_group("apps").expect("apps");
    assert_eq!(
        (&doc["kind"], &doc["apiVersion"]),
        (&"APIGroup".into(), &"v1".into())
    );
    let apps: APIGroup = parse(doc);
    assert_eq!(
        apps.preferred_version.map(|p| p.version),
        Some("v1".to_string())
    );
    assert_eq!(api_group(""), None);
    assert_eq!(api_group("extensions"), None);
}

#[test]
fn core_resource_list_has_subresources_as_slash_names_and_no_api_version() {
    let doc = api_resource_list("", "v1").expect("core");
    assert!(doc.get("apiVersion").is_none());
    let list: APIResourceList = parse(doc);
    assert_eq!(list.group_version, "v1");
    let find = |name: &str| -> &APIResource {
        list.resources
            .iter()
            .find(|r| r.name == name)
            .expect("resource listed")
    };
    let pods = find("pods");
    assert_eq!(
        (pods.singular_name.as_str(), pods.kind.as_str()),
        ("pod", "Pod")
    );
    assert_eq!(pods.short_names.as_deref(), Some(&["po".to_string()][..]));
    assert_eq!(pods.categories.as_deref(), Some(&["all".to_string()][..]));
    let log = find("pods/log");
    assert_eq!((log.singular_name.as_str(), log.kind.as_str()), ("", "Pod"));
    assert_eq!(log.verbs, ["get"]);
    assert!(log.group.is_none() && log.short_names.is_none());
    let eviction = find("pods/eviction");
    assert_eq!(
        (eviction.group.as_deref(), eviction.version.as_deref()),
        (Some("policy"), Some("v1"))
    );
    assert_eq!(find("pods/exec").kind, "PodExecOptions");
    assert_eq!(
        find("serviceaccounts/token").group.as_deref(),
        Some("authentication.k8s.io")
    );
    assert_eq!(find("namespaces/finalize").verbs, ["update"]);
    let names: Vec<&str> = list.resources.iter().map(|r| r.name.as_str()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n);
    assert!(pos("pods") < pos("pods/attach") && pos("pods/status") < pos("resourcequotas"));
}

#[test]
fn group_resource_lists_carry_api_version_and_foreign_kinds() {
    let doc = api_resource_list("apps", "v1").expect("apps/v1");
    assert_eq!(doc["apiVersion"], "v1");
    let list: APIResourceList = parse(doc);
    assert_eq!(list.group_version, "apps/v1");
    let scale = list
        .resources
        .iter()
        .find(|r| r.name == "deployments/scale")
        .expect("scale");
    assert_eq!(
        (
            scale.group.as_deref(),
            scale.version.as_deref(),
            scale.kind.as_str()
        ),
        (Some("autoscaling"), Some("v1"), "Scale")
    );
    let status = list
        .resources
        .iter()
        .find(|r| r.name == "deployments/status")
        .expect("status");
    assert!(status.group.is_none() && status.version.is_none());
    let metrics: APIResourceList =
        parse(api_resource_list("metrics.k8s.io", "v1beta1").expect("metrics"));
    let nodes = metrics
        .resources
        .iter()
        .find(|r| r.name == "nodes")
        .expect("nodes");
    assert_eq!(
        (
            nodes.kind.as_str(),
            nodes.namespaced,
            nodes.singular_name.as_str()
        ),
        ("NodeMetrics", false, "")
    );
    assert_eq!(api_resource_list("apps", "v1beta1"), None);
    assert_eq!(api_resource_list("", "v2"), None);
    assert_eq!(
        api_resource_list("autoscaling", "v1").map(|l| l["groupVersion"].clone()),
        Some("autoscaling/v1".into())
    );
}

#[test]
fn version_info_reports_kubernetes_1_33() {
    let info: Info = parse(version_info());
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", "33"));
    assert_eq!(info.git_version, "v1.33.1");
    assert_eq!(info.platform, "linux/amd64");
    assert_eq!(info.compiler, "gc");
    assert!(info.go_version.starts_with("go1.24"));
    assert_eq!(version_info()["minCompatibilityMinor"], "32");
}
