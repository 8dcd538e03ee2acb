//! Merge patch and JSON patch tests with the patches kubectl sends
//! (`label`, `annotate`, `scale`, `patch --type=merge|json`, `rollout undo`).

use serde_json::json;

use super::*;

fn deploy() -> Value {
    json!({"metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"},
            "annotations": {"note": "x"}},
           "spec": {"replicas": 2, "template": {"spec": {"containers": [
               {"name": "app", "image": "app:v1", "args": ["a", "b"]}]}}}})
}

#[test]
fn kubectl_label_and_annotate_merge_patch() {
    // `kubectl label deploy web tier- env=prod`
    let got = apply_merge(
        &deploy(),
        &json!({"metadata": {"labels": {"env": "prod", "tier": null}}}),
    );
    assert_eq!(
        got["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    // `kubectl annotate deploy web note-` on the last annotation leaves an empty map.
    let got = apply_merge(
        &deploy(),
        &json!({"metadata": {"annotations": {"note": null}}}),
    );
    assert_eq!(got["metadata"]["annotations"], json!({}));
}

#[test]
fn kubectl_scale_merge_patch() {
    let got = apply_merge(&deploy(), &json!({"spec": {"replicas": 5}}));
    let mut want = deploy();
    want["spec"]["replicas"] = json!(5);
    assert_eq!(got, want);
}

#[test]
fn merge_patch_rfc7386_appendix_a() {
    let cases = [
        (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
        (
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        ),
        (json!({"a": "b"}), json!({"a": null}), json!({})),
        (
            json!({"a": "b", "b": "c"}),
            json!({"a": null}),
            json!({"b": "c"}),
        ),
        (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
        (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
        (
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        ),
        (
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        ),
        (
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        ),
        (
            json!([1, 2]),
            json!({"a": "b", "c": null}),
            json!({"a": "b"}),
        ),
        (
            json!({}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        ),
    ];
    for (doc, patch, want) in cases {
        assert_eq!(apply_merge(&doc, &patch), want, "doc {doc} patch {patch}");
    }
}

#[test]
fn merge_patch_body_checks() {
    let e = apply_merge_checked(&deploy(), &json!(null)).err();
    assert_eq!(e, Some(PatchError::BadRequest("Invalid JSON Patch".into())));
    let e = apply_merge_checked(&deploy(), &json!([1]))
        .err()
        .map(|e| (e.code(), e.message()));
    assert_eq!(e, Some((400, "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}".into())));
}

#[test]
fn json_patch_ops() {
    let patch = json!([
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "c"},
        {"op": "add", "path": "/spec/template/spec/containers/0/args/0", "value": "z"},
        {"op": "remove", "path": "/metadata/labels/tier"},
        {"op": "add", "path": "/metadata/annotations/a~1b", "value": "slash"},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/name"},
        {"op": "move", "from": "/metadata/annotations/note", "path": "/metadata/labels/note"},
    ]);
    let got = apply_json_patch(&deploy(), &patch).unwrap_or_default();
    assert_eq!(got["spec"]["replicas"], 3);
    assert_eq!(
        got["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["z", "a", "b", "c"])
    );
    assert_eq!(
        got["metadata"]["labels"],
        json!({"app": "web", "name": "web", "note": "x"})
    );
    assert_eq!(got["metadata"]["annotations"], json!({"a/b": "slash"}));
}

#[test]
fn kubectl_rollout_undo_json_patch() {
    let patch = json!([
        {"op": "replace", "path": "/spec/template", "value": {"spec": {"containers": [{"name": "app", "image": "app:v0"}]}}},
        {"op": "replace", "path": "/metadata/annotations", "value": {"deployment.kubernetes.io/revision": "1"}},
    ]);
    let got = apply_json_patch(&deploy(), &patch).unwrap_or_default();
    assert_eq!(
        got["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:v0"
    );
    assert_eq!(
        got["metadata"]["annotations"],
        json!({"deployment.kubernetes.io/revision": "1"})
    );
}

#[test]
fn failing_test_op_is_a_generic_422_and_atomic() {
    let patch = json!([
        {"op": "replace", "path": "/spec/replicas", "value": 9},
        {"op": "test", "path": "/spec/replicas", "value": 2},
    ]);
    let e = apply_json_patch(&deploy(), &patch).err();
    assert_eq!(
        e,
        Some(PatchError::Unprocessable {
            detail: "testing value /spec/replicas failed: test failed".into()
        })
    );
    let status = e.map(|e| e.to_status()).unwrap_or_default();
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid", "details": {}, "code": 422})
    );
}

#[test]
fn bad_paths() {
    let cases = [
        (
            json!({"op": "replace", "path": "/spec/nope/x", "value": 1}),
            "replace operation does not apply: doc is missing path: /spec/nope/x: missing value",
        ),
        (
            json!({"op": "remove", "path": "/metadata/labels/nope"}),
            "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
        ),
        (
            json!({"op": "add", "path": "/spec/nope/x", "value": 1}),
            "add operation does not apply: doc is missing path: \"/spec/nope/x\": missing value",
        ),
        (
            json!({"op": "add", "path": "/spec/template/spec/containers/5", "value": {}}),
            "error in add for path: '/spec/template/spec/containers/5': Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            json!({"op": "replace", "path": "/spec/template/spec/containers/1", "value": {}}),
            "replace operation does not apply: doc is missing key: /spec/template/spec/containers/1: missing value",
        ),
        (
            json!({"op": "test", "path": "/spec/nope/x", "value": 1}),
            "test operation does not apply: is missing path: /spec/nope/x: missing value",
        ),
        (
            json!({"op": "frob", "path": "/spec"}),
            "Unexpected kind: frob",
        ),
    ];
    for (op, detail) in cases {
        let e = apply_json_patch(&deploy(), &json!([op])).err();
        assert_eq!(
            e,
            Some(PatchError::Unprocessable {
                detail: detail.into()
            }),
            "{op}"
        );
    }
}

#[test]
fn evanphx_v4_quirks() {
    // replace of a missing object key adds it; negative indices count from the end.
    let got = apply_json_patch(
        &deploy(),
        &json!([
            {"op": "replace", "path": "/spec/paused", "value": true},
            {"op": "remove", "path": "/spec/template/spec/containers/0/args/-1"},
            {"op": "test", "path": "/metadata/labels/missing", "value": null},
        ]),
    )
    .unwrap_or_default();
    assert_eq!(got["spec"]["paused"], true);
    assert_eq!(
        got["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["a"])
    );
}

#[test]
fn decode_errors_are_400_and_size_limit_413() {
    let e = apply_json_patch(&deploy(), &json!({"op": "add"}))
        .err()
        .map(|e| (e.code(), e.message()));
    assert_eq!(e, Some((400, "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp".into())));
    let e = apply_json_patch(&deploy(), &json!([{"op": 1}]))
        .err()
        .map(|e| e.message());
    assert_eq!(
        e.as_deref(),
        Some(
            "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string"
        )
    );
    let many = Value::Array(vec![
        json!({"op": "test", "path": "/spec/replicas", "value": 2});
        10001
    ]);
    let e = apply_json_patch(&deploy(), &many).err().map(|e| e.code());
    assert_eq!(e, Some(413));
}
