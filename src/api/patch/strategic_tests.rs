//! Strategic merge patch tests: cases ported from upstream
//! `strategicpatch/patch_test.go` (MergeItem schema) and patches the real
//! kubectl sends (apply, set image, rollout restart, edit).

use serde_json::json;

use super::*;

/// Element schema of a list or map in the hand-written test schema.
#[derive(Clone, Copy, Debug)]
enum Lm {
    Atomic,
    Key(&'static str),
    Set,
}

/// A hand-written schema cursor: a named object type, a map of a type, a
/// list of a type, or a scalar.
#[derive(Clone, Debug)]
enum S {
    Obj(&'static str),
    Map(&'static str),
    List(Lm, &'static str),
    Leaf,
}

fn elem(ty: &'static str) -> S {
    if ty == "leaf" { S::Leaf } else { S::Obj(ty) }
}

fn fields(ty: &str, name: &str) -> Option<S> {
    use Lm::*;
    use S::*;
    let s = match (ty, name) {
        ("MergeItem", "mergingList" | "retainKeysMergingList") => List(Key("name"), "MergeItem"),
        ("MergeItem", "nonMergingList") => List(Atomic, "MergeItem"),
        ("MergeItem", "mergingIntList") => List(Set, "leaf"),
        ("MergeItem", "nonMergingIntList") => List(Atomic, "leaf"),
        ("MergeItem", "simpleMap") => Map("leaf"),
        ("MergeItem", "retainKeysMap") => Obj("RetainKeysMergeItem"),
        ("RetainKeysMergeItem", "simpleMap") => Map("leaf"),
        ("RetainKeysMergeItem", "mergingIntList") => List(Set, "leaf"),
        ("RetainKeysMergeItem", "mergingList") => List(Key("name"), "MergeItem"),
        ("Deployment" | "Pod" | "Service" | "PodTemplateSpec", "metadata") => Obj("ObjectMeta"),
        ("ObjectMeta", "labels" | "annotations") => Map("leaf"),
        ("ObjectMeta", "finalizers") => List(Set, "leaf"),
        ("ObjectMeta", "ownerReferences") => List(Key("uid"), "OwnerReference"),
        ("Deployment", "spec") => Obj("DeploymentSpec"),
        ("Deployment", "status") => Obj("DeploymentStatus"),
        ("DeploymentStatus" | "PodStatus", "conditions") => List(Key("type"), "Condition"),
        ("DeploymentSpec", "selector") => Obj("LabelSelector"),
        ("LabelSelector", "matchLabels") => Map("leaf"),
        ("DeploymentSpec", "strategy") => Obj("DeploymentStrategy"),
        ("DeploymentStrategy", "rollingUpdate") => Obj("RollingUpdate"),
        ("DeploymentSpec", "template") => Obj("PodTemplateSpec"),
        ("PodTemplateSpec" | "Pod", "spec") => Obj("PodSpec"),
        ("Pod", "status") => Obj("PodStatus"),
        ("PodSpec", "containers" | "initContainers") => List(Key("name"), "Container"),
        ("PodSpec", "volumes") => List(Key("name"), "Volume"),
        ("PodSpec", "nodeSelector") => Map("leaf"),
        ("PodSpec", "tolerations") => List(Atomic, "Toleration"),
        ("Volume", "configMap") => Obj("ConfigMapVolumeSource"),
        ("Volume", "emptyDir") => Obj("EmptyDirVolumeSource"),
        ("Container", "command" | "args") => List(Atomic, "leaf"),
        ("Container", "env") => List(Key("name"), "EnvVar"),
        ("Container", "ports") => List(Key("containerPort"), "ContainerPort"),
        ("Container", "volumeMounts") => List(Key("mountPath"), "VolumeMount"),
        ("Container", "resources") => Obj("ResourceRequirements"),
        ("ResourceRequirements", "limits" | "requests") => Map("leaf"),
        ("Service", "spec") => Obj("ServiceSpec"),
        ("ServiceSpec", "ports") => List(Key("port"), "ServicePort"),
        ("ServiceSpec", "selector") => Map("leaf"),
        _ => return None,
    };
    Some(s)
}

impl PatchSchema for S {
    fn field(&self, name: &str) -> Option<Self> {
        match self {
            S::Obj(ty) => fields(ty, name),
            _ => None,
        }
    }
    fn map_values(&self) -> Option<Self> {
        match self {
            S::Map(ty) => Some(elem(ty)),
            _ => None,
        }
    }
    fn items(&self) -> Option<Self> {
        match self {
            S::List(_, ty) => Some(elem(ty)),
            _ => None,
        }
    }
    fn list_merge(&self) -> ListMerge {
        match self {
            S::List(Lm::Key(k), _) => ListMerge::MergeByKey((*k).to_string()),
            S::List(Lm::Set, _) => ListMerge::Set,
            _ => ListMerge::Atomic,
        }
    }
    fn retain_keys(&self) -> bool {
        matches!(
            self,
            S::Obj("DeploymentStrategy" | "RetainKeysMergeItem") | S::List(_, "Volume")
        )
    }
}

fn smp(ty: &'static str, original: Value, patch: Value) -> Result<Value, PatchError> {
    apply_strategic(&original, &patch, &S::Obj(ty))
}

#[track_caller]
fn ok(ty: &'static str, original: Value, patch: Value, want: Value) {
    match smp(ty, original, patch) {
        Ok(got) => assert_eq!(got, want),
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

#[track_caller]
fn err(ty: &'static str, original: Value, patch: Value) -> PatchError {
    match smp(ty, original, patch) {
        Ok(got) => panic!("expected an error, got {got}"),
        Err(e) => e,
    }
}

// ---- upstream customStrategicMergePatchTestCaseData ----

#[test]
fn upstream_unique_scalars_when_merging_lists() {
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2]}),
        json!({"mergingIntList": [2, 3]}),
        json!({"mergingIntList": [1, 2, 3]}),
    );
}

#[test]
fn upstream_delete_map_from_nested_map() {
    ok(
        "MergeItem",
        json!({"simpleMap": {"key1": 1, "key2": 1}}),
        json!({"simpleMap": {"$patch": "delete"}}),
        json!({"simpleMap": {}}),
    );
}

#[test]
fn upstream_delete_all_items_from_merging_list() {
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": 1}, {"name": 2}]}),
        json!({"mergingList": [{"$patch": "replace"}]}),
        json!({"mergingList": []}),
    );
}

#[test]
fn upstream_merge_empty_merging_lists() {
    ok(
        "MergeItem",
        json!({"mergingList": []}),
        json!({"mergingList": []}),
        json!({"mergingList": []}),
    );
}

#[test]
fn upstream_replace_directive_on_whole_map() {
    ok(
        "MergeItem",
        json!({"name": 1, "value": 1}),
        json!({"$patch": "replace"}),
        json!({}),
    );
    ok(
        "MergeItem",
        json!({"name": 1, "value": 1}),
        json!({"other": "a", "$patch": "replace"}),
        json!({"other": "a"}),
    );
}

#[test]
fn upstream_delete_all_duplicate_entries_in_a_merging_list() {
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}]}),
        json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]}),
        json!({"mergingList": [{"name": 2, "value": "a"}]}),
    );
}

#[test]
fn upstream_retain_keys_map_without_directive_merges() {
    ok(
        "MergeItem",
        json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
        json!({"retainKeysMap": {"value": null}}),
        json!({"retainKeysMap": {"name": "foo"}}),
    );
    ok(
        "MergeItem",
        json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
        json!({"retainKeysMergingList": [{"name": "foo", "value": "b"}]}),
        json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "b"}]}),
    );
}

#[test]
fn upstream_preserve_the_order_from_the_patch() {
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
        json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}]}),
        json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "value": "b", "other": "x"}]}),
    );
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
        json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}),
        json!({"mergingList": [{"name": 2, "value": "b"}, {"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}),
    );
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2, 3]}),
        json!({"mergingIntList": [3, 1, 2]}),
        json!({"mergingIntList": [3, 1, 2]}),
    );
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2, 3]}),
        json!({"mergingIntList": [3, 1]}),
        json!({"mergingIntList": [2, 3, 1]}),
    );
}

#[test]
fn upstream_set_element_order_with_item_not_in_list() {
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": 1}, {"name": 3}]}),
        json!({"$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
               "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
        json!({"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
    );
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 3]}),
        json!({"$setElementOrder/mergingIntList": [3, 2, 1]}),
        json!({"mergingIntList": [3, 1]}),
    );
}

#[test]
fn upstream_set_element_order_must_match_patch_order() {
    let e = err(
        "MergeItem",
        json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
        json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
               "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
    );
    assert_eq!(e.code(), 500);
    assert_eq!(
        e.message(),
        "The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n doesn't match $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n"
    );
}

// ---- directives ----

#[test]
fn set_element_order_interleaves_server_only_items() {
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
        json!({"$setElementOrder/mergingList": [{"name": "c"}, {"name": "a"}]}),
        json!({"mergingList": [{"name": "b"}, {"name": "c"}, {"name": "a"}]}),
    );
}

#[test]
fn delete_from_primitive_list() {
    ok(
        "Pod",
        json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
        json!({"metadata": {"finalizers": ["a", "c"]}}),
    );
    let e = err(
        "Pod",
        json!({"metadata": {"finalizers": ["a"]}}),
        json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}),
    );
    assert_eq!(
        (e.code(), e.message().as_str()),
        (400, "invalid patch format of primitive list")
    );
}

#[test]
fn finalizers_merge_as_a_set_new_items_first() {
    // No anchor in the live list for "c": patch items go before server-only ones.
    ok(
        "Pod",
        json!({"metadata": {"finalizers": ["a", "b"]}}),
        json!({"metadata": {"finalizers": ["b", "c"]}}),
        json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
    );
    ok(
        "Pod",
        json!({"metadata": {"finalizers": ["a", "b"]}}),
        json!({"metadata": {"finalizers": ["c"]}}),
        json!({"metadata": {"finalizers": ["c", "a", "b"]}}),
    );
}

#[test]
fn retain_keys_clears_other_strategy_fields() {
    let original = json!({"spec": {"strategy": {"type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}});
    ok(
        "Deployment",
        original.clone(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        json!({"spec": {"strategy": {"type": "Recreate"}}}),
    );
    let e = err(
        "Deployment",
        original,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}}),
    );
    assert_eq!(
        (e.code(), e.message().as_str()),
        (400, "invalid patch format of retainKeys")
    );
}

#[test]
fn retain_keys_in_volume_elements() {
    ok(
        "Pod",
        json!({"spec": {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]}}),
        json!({"spec": {"$setElementOrder/volumes": [{"name": "data"}, {"name": "tmp"}],
            "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}, "name": "data"}]}}),
        json!({"spec": {"volumes": [{"name": "data", "configMap": {"name": "cm"}}, {"name": "tmp", "emptyDir": {}}]}}),
    );
}

#[test]
fn patch_merge_directive_is_rejected_like_upstream() {
    let e = err(
        "Deployment",
        json!({"spec": {"selector": {"matchLabels": {"a": "b"}}}}),
        json!({"spec": {"selector": {"$patch": "merge", "matchLabels": {"c": "d"}}}}),
    );
    assert_eq!(e.code(), 500);
    assert_eq!(
        e.message(),
        "unknown patch type: merge in map: map[$patch:merge matchLabels:map[c:d]]"
    );
    let e = err(
        "Pod",
        json!({"spec": {"containers": [{"name": "a"}]}}),
        json!({"spec": {"containers": [{"$patch": "merge", "name": "a"}]}}),
    );
    assert_eq!(
        (e.code(), e.message().as_str()),
        (500, "merging lists cannot yet be specified in the patch")
    );
}

#[test]
fn replace_and_delete_directives_on_maps_and_elements() {
    ok(
        "Deployment",
        json!({"spec": {"selector": {"matchLabels": {"a": "b"}}}}),
        json!({"spec": {"selector": {"$patch": "replace", "matchLabels": {"c": "d"}}}}),
        json!({"spec": {"selector": {"matchLabels": {"c": "d"}}}}),
    );
    ok(
        "Pod",
        json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
        json!({"spec": {"containers": [{"$patch": "delete", "name": "a"}]}}),
        json!({"spec": {"containers": [{"name": "b"}]}}),
    );
    ok(
        "Pod",
        json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
        json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": "x"}]}}),
        json!({"spec": {"containers": [{"name": "c", "image": "x"}]}}),
    );
    // A `$patch` map for a field the object lacks is dropped, not stored.
    ok(
        "Pod",
        json!({"spec": {}}),
        json!({"spec": {"nodeSelector": {"$patch": "delete"}}}),
        json!({"spec": {}}),
    );
}

#[test]
fn nulls_delete_and_unmatched_nulls_are_dropped() {
    ok(
        "Pod",
        json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
        json!({"metadata": {"labels": {"a": null, "c": "3"}, "annotations": {"x": null, "y": "z"}}}),
        json!({"metadata": {"labels": {"b": "2", "c": "3"}, "annotations": {"y": "z"}}}),
    );
}

#[test]
fn unknown_fields_merge_like_json_merge_patch() {
    ok(
        "Pod",
        json!({"spec": {"extra": {"a": 1, "list": [1, 2]}}}),
        json!({"spec": {"extra": {"b": 2, "list": [3]}}}),
        json!({"spec": {"extra": {"a": 1, "b": 2, "list": [3]}}}),
    );
}

#[test]
fn atomic_lists_are_replaced() {
    ok(
        "Pod",
        json!({"spec": {"containers": [{"name": "a", "command": ["sh", "-c", "x"]}]}}),
        json!({"spec": {"containers": [{"name": "a", "command": ["sleep"]}]}}),
        json!({"spec": {"containers": [{"name": "a", "command": ["sleep"]}]}}),
    );
}

#[test]
fn merge_keys_per_field() {
    // Service ports merge by port, container ports by containerPort.
    ok(
        "Service",
        json!({"spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}),
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9090, "protocol": "TCP"}]}}),
    );
    ok(
        "Pod",
        json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "volumeMounts": [{"mountPath": "/d", "name": "data"}]}]}}),
        json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}],
            "volumeMounts": [{"mountPath": "/d", "readOnly": true}]}]}}),
        json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}],
            "volumeMounts": [{"mountPath": "/d", "name": "data", "readOnly": true}]}]}}),
    );
    ok(
        "Pod",
        json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]}}),
        json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        json!({"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}]}}),
    );
}

#[test]
fn errors_and_their_http_mapping() {
    let e = err(
        "Pod",
        json!({"spec": {"containers": [{"name": "a"}]}}),
        json!({"spec": {"containers": [{"image": "x"}]}}),
    );
    assert_eq!((e.code(), e.reason()), (500, ""));
    assert_eq!(
        e.message(),
        "map: map[image:x] does not contain declared merge key: name"
    );
    let e = err(
        "MergeItem",
        json!({"mergingIntList": [[1]]}),
        json!({"mergingIntList": [[2]]}),
    );
    assert_eq!(
        (e.code(), e.reason(), e.message().as_str()),
        (
            422,
            "Invalid",
            "the server rejected our request due to an error in our request"
        )
    );
    let e = err("Pod", json!({}), json!([1]));
    assert_eq!(
        (e.code(), e.message().as_str()),
        (
            400,
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        )
    );
    let e = err(
        "MergeItem",
        json!({}),
        json!({"$setElementOrder/mergingList": "x"}),
    );
    assert_eq!(
        e.message(),
        "expected a []interface {}, but received a string"
    );
}

// ---- what kubectl sends ----

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "generation": 1,
            "annotations": {"deployment.kubernetes.io/revision": "1",
                "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "app", "image": "app:v1", "terminationMessagePath": "/dev/termination-log",
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "busybox", "command": ["sleep", "3600"]}],
                 "restartPolicy": "Always"}}}
    })
}

#[test]
fn kubectl_apply_three_way_patch() {
    // What kubectl apply computes when the manifest changes the image,
    // drops env B, adds env C and switches to Recreate.
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"new\":1}"}},
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                "containers": [{"$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                    "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "B"}],
                    "image": "app:v2", "name": "app"}]}}}
    });
    let got = smp("Deployment", deployment(), patch).unwrap_or_default();
    let mut want = deployment();
    want["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!("{\"new\":1}");
    want["spec"]["strategy"] = json!({"type": "Recreate"});
    let app = &mut want["spec"]["template"]["spec"]["containers"][0];
    app["image"] = json!("app:v2");
    app["env"] = json!([{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]);
    assert_eq!(got, want);
}

#[test]
fn kubectl_apply_reorders_and_adds_container() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "new"}, {"name": "app"}],
        "containers": [{"name": "new", "image": "new:1"}]}}}});
    let got = smp("Deployment", deployment(), patch).unwrap_or_default();
    let names: Vec<&str> = got["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["sidecar", "new", "app"]);
}

#[test]
fn kubectl_set_image() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
        "containers": [{"image": "app:v3", "name": "app"}]}}}});
    let got = smp("Deployment", deployment(), patch).unwrap_or_default();
    let mut want = deployment();
    want["spec"]["template"]["spec"]["containers"][0]["image"] = json!("app:v3");
    assert_eq!(got, want);
}

#[test]
fn kubectl_rollout_restart() {
    let patch = json!({"spec": {"template": {"metadata": {"annotations":
        {"kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z"}}}}});
    let got = smp("Deployment", deployment(), patch).unwrap_or_default();
    let mut want = deployment();
    want["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z"});
    assert_eq!(got, want);
}

#[test]
fn kubectl_edit_removes_container_and_env() {
    // kubectl edit: sidecar removed, env emptied (a two-way patch).
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"$patch": "delete", "name": "sidecar"}, {"env": null, "name": "app"}]}}}});
    let got = smp("Deployment", deployment(), patch).unwrap_or_default();
    let containers = &got["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers.as_array().map(Vec::len), Some(1));
    assert_eq!(containers[0]["name"], "app");
    assert!(containers[0].get("env").is_none());
    assert_eq!(
        containers[0]["ports"],
        json!([{"containerPort": 8080, "protocol": "TCP"}])
    );
}

// ---- upstream strategicMergePatchRawTestCases (three-way patch on current → result) ----

#[test]
fn upstream_nested_patch_merge_with_empty_list() {
    ok(
        "MergeItem",
        json!({"name": "hi", "mergingList": [{"name": "hello2"}]}),
        json!({"$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
               "mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]}),
        json!({"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]}),
    );
}

#[test]
fn upstream_delete_and_add_items_in_lists_of_scalars() {
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2, 3, 4]}),
        json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
        json!({"mergingIntList": [1, 2, 4]}),
    );
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2, 3, 3, 4]}),
        json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
        json!({"mergingIntList": [1, 2, 4]}),
    );
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2, 3, 4]}),
        json!({"$setElementOrder/mergingIntList": [1, 2, 4], "$deleteFromPrimitiveList/mergingIntList": [3],
               "mergingIntList": [4]}),
        json!({"mergingIntList": [1, 2, 4]}),
    );
}

#[test]
fn upstream_delete_from_primitive_list_edge_cases() {
    ok(
        "MergeItem",
        json!({"mergingIntList": [1, 2]}),
        json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
        json!({"mergingIntList": [1, 2]}),
    );
    ok(
        "MergeItem",
        json!({"foo": ["bar"]}),
        json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
        json!({"foo": ["bar"]}),
    );
    ok(
        "MergeItem",
        json!({"nonMergingIntList": [1, 2, 3]}),
        json!({"$deleteFromPrimitiveList/nonMergingIntList": [2]}),
        json!({"nonMergingIntList": [1, 3]}),
    );
}

#[test]
fn upstream_merge_lists_of_maps_three_way() {
    ok(
        "MergeItem",
        json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
        json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
               "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]}),
        json!({"mergingList": [{"name": 4, "value": 4}, {"name": 1, "other": "a"},
               {"name": 2, "value": 2, "other": "b"}, {"name": 3, "value": 3}]}),
    );
}

#[test]
fn upstream_defined_null_values_overwrite_current_fields() {
    ok(
        "MergeItem",
        json!({"name": "a", "other": "a"}),
        json!({"name": 1, "value": 1, "other": null}),
        json!({"name": 1, "value": 1}),
    );
}
