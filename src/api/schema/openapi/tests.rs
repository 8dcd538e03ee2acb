use serde_json::Value;

use super::*;

fn doc(path: &str) -> Value {
    let (bytes, _) = openapi_v3_document(path).expect("document");
    serde_json::from_slice(bytes).expect("json")
}

#[test]
fn root_lists_every_group_version_with_its_hash() {
    let root = openapi_v3_root();
    let (_, hash) = openapi_v3_document("apis/apps/v1").expect("apps");
    assert_eq!(
        root["paths"]["apis/apps/v1"]["serverRelativeURL"],
        format!("/openapi/v3/apis/apps/v1?hash={hash}")
    );
    assert!(
        root["paths"]["api/v1"]["serverRelativeURL"]
            .as_str()
            .is_some_and(|u| u.starts_with("/openapi/v3/api/v1?hash="))
    );
    assert!(root["paths"].get("apis/autoscaling/v2").is_some());
    assert!(root["paths"].get("apis/metrics.k8s.io/v1beta1").is_none());
    assert!(openapi_v3_document("/api/v1").is_some());
    assert!(openapi_v3_document("apis/bogus/v1").is_none());
}

#[test]
fn every_patch_operation_has_field_validation_and_smp() {
    // query_param_verifier_v3.go stops at the first PATCH of the GVK it meets.
    for path in [
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/rbac.authorization.k8s.io/v1",
    ] {
        let d = doc(path);
        assert_eq!(d["openapi"], "3.0.0");
        let paths = d["paths"].as_object().expect("paths");
        let mut patches = 0;
        for item in paths.values() {
            let Some(op) = item.get("patch") else {
                continue;
            };
            patches += 1;
            assert!(op["x-kubernetes-group-version-kind"]["kind"].is_string());
            assert_eq!(op["x-kubernetes-action"], "patch");
            let params = op["parameters"].as_array().expect("params");
            assert!(params.iter().any(|p| p["name"] == "fieldValidation"));
            assert!(
                op["requestBody"]["content"]
                    .get("application/strategic-merge-patch+json")
                    .is_some()
            );
        }
        assert!(patches > 0, "{path}");
    }
}

#[test]
fn pod_paths_and_schemas() {
    let d = doc("api/v1");
    let item = &d["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"];
    for m in ["get", "put", "patch", "delete"] {
        assert_eq!(
            item[m]["x-kubernetes-group-version-kind"]["kind"], "Pod",
            "{m}"
        );
    }
    assert_eq!(item["patch"]["operationId"], "patchCoreV1NamespacedPod");
    let coll = &d["paths"]["/api/v1/namespaces/{namespace}/pods"];
    assert_eq!(coll["post"]["x-kubernetes-action"], "post");
    // kube-openapi puts the item kind on list operations too.
    assert_eq!(
        coll["get"]["x-kubernetes-group-version-kind"]["kind"],
        "Pod"
    );
    assert_eq!(coll["get"]["x-kubernetes-action"], "list");
    assert_eq!(
        d["paths"]["/api/v1/pods"]["get"]["operationId"],
        "listCoreV1PodForAllNamespaces"
    );
    assert_eq!(
        d["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]["x-kubernetes-group-version-kind"]
            ["group"],
        "policy"
    );
    assert!(
        d["paths"]
            .get("/api/v1/namespaces/{namespace}/pods/{name}/exec")
            .is_none()
    );
    assert_eq!(
        d["paths"]["/api/v1/nodes/{name}"]["get"]["operationId"],
        "readCoreV1Node"
    );
    let schemas = d["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "io.k8s.api.core.v1.Pod",
        "io.k8s.api.core.v1.PodList",
        "io.k8s.api.core.v1.Container",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.api.policy.v1.Eviction",
        "io.k8s.api.authentication.v1.TokenRequest",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    assert!(!schemas.contains_key("io.k8s.api.apps.v1.Deployment"));
    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
}

#[test]
fn apps_document_is_self_contained() {
    let d = doc("apis/apps/v1");
    let schemas = d["components"]["schemas"].as_object().expect("schemas");
    let mut refs = Vec::new();
    collect_refs(&d, &mut refs);
    for r in refs {
        assert!(schemas.contains_key(&r), "missing {r}");
    }
    assert!(schemas.contains_key("io.k8s.api.autoscaling.v1.Scale"));
    let scale = &d["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
    assert_eq!(
        scale["patch"]["x-kubernetes-group-version-kind"]["kind"],
        "Scale"
    );
    assert_eq!(
        scale["patch"]["operationId"],
        "patchAppsV1NamespacedDeploymentScale"
    );
    assert_eq!(
        schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0],
        serde_json::json!({"group": "apps", "kind": "Deployment", "version": "v1"})
    );
}

#[test]
fn tags_and_ids_follow_kube_openapi() {
    assert_eq!(
        op_infix("rbac.authorization.k8s.io", "v1"),
        "RbacAuthorizationV1"
    );
    assert_eq!(
        tag("rbac.authorization.k8s.io", "v1"),
        "rbacAuthorization_v1"
    );
    assert_eq!(tag("", "v1"), "core_v1");
}
