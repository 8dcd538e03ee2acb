//! Bad input gets the apiserver's status code and message, never a crash.

use super::harness::Sim;

#[test]
fn not_found_names_the_resource() {
    let sim = Sim::start();
    assert_eq!(
        sim.kubectl(&["get", "pod", "nope"]).err(),
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    assert_eq!(
        sim.kubectl(&["get", "deploy", "nope"]).err(),
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    // kubectl looks the namespace up after a 404 and reports that instead.
    assert_eq!(
        sim.kubectl(&["get", "cm", "-n", "missing-ns", "x"]).err(),
        "Error from server (NotFound): namespaces \"missing-ns\" not found\n"
    );
}

#[test]
fn unknown_fields_are_rejected_under_strict_validation() {
    let sim = Sim::start();
    let f = sim.file(
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    image: busybox\n    bogusField: 1\n",
    );
    let err = sim.kubectl(&["apply", "-f", &f]).err();
    assert_eq!(
        err,
        format!(
            "Error from server (BadRequest): error when creating \"{f}\": Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].bogusField\"\n"
        )
    );
}

#[test]
fn wrong_types_get_the_go_decoder_message() {
    let sim = Sim::start();
    let f = sim.file("bad.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: \"three\"\n  selector: {}\n  template: {}\n");
    let err = sim.kubectl(&["create", "-f", &f, "--validate=false"]).err();
    assert!(
        err.contains("Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"),
        "{err}"
    );
}

#[test]
fn malformed_bodies_are_bad_requests() {
    let sim = Sim::start();
    let f = sim.file("bad.json", "{\"metadata\": {\"name\": ");
    let err = sim
        .kubectl(&[
            "create",
            "--raw",
            "/api/v1/namespaces/default/configmaps",
            "-f",
            &f,
        ])
        .err();
    assert!(err.starts_with("Error from server (BadRequest): "), "{err}");
    let f = sim.file("list.json", "[1,2,3]");
    let err = sim
        .kubectl(&[
            "create",
            "--raw",
            "/api/v1/namespaces/default/configmaps",
            "-f",
            &f,
        ])
        .err();
    assert!(err.starts_with("Error from server (BadRequest): "), "{err}");
}

#[test]
fn oversized_bodies_are_rejected() {
    let sim = Sim::start();
    let big = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"a\":\"{}\"}}}}",
        "x".repeat(4 * 1024 * 1024)
    );
    let f = sim.file("big.json", &big);
    let err = sim
        .kubectl(&[
            "create",
            "--raw",
            "/api/v1/namespaces/default/configmaps",
            "-f",
            &f,
        ])
        .err();
    assert!(
        err.contains("Request entity too large: limit is 3145728"),
        "{err}"
    );
}

#[test]
fn bad_label_selectors_are_bad_requests() {
    let sim = Sim::start();
    let err = sim.kubectl(&["get", "pods", "-l", "app in (a"]).err();
    assert!(
        err.contains("unable to parse requirement") || err.contains("found '', expected: ')'"),
        "{err}"
    );
}

#[test]
fn unknown_resources_are_not_found() {
    let sim = Sim::start();
    let err = sim.kubectl(&["get", "widgets"]).err();
    assert_eq!(
        err,
        "error: the server doesn't have a resource type \"widgets\"\n"
    );
    let err = sim
        .kubectl(&["get", "--raw", "/apis/example.com/v1/widgets"])
        .err();
    assert_eq!(
        err,
        "Error from server (NotFound): the server could not find the requested resource\n"
    );
}

// A verb a resource does not have has no route in the apiserver:
// go-restful's 405 becomes NewGenericServerResponse's fixed message
// (apimachinery pkg/api/errors/errors.go), as `kubectl get tokenreviews`
// shows on a real cluster.
#[test]
fn a_verb_the_resource_lacks_is_method_not_allowed() {
    let sim = Sim::start();
    for create_only in ["tokenreviews", "selfsubjectaccessreviews"] {
        assert_eq!(
            sim.kubectl(&["get", create_only]).err(),
            "Error from server (MethodNotAllowed): the server does not allow this method on the requested resource\n",
            "{create_only}"
        );
    }
}

#[test]
fn stale_resource_version_is_a_conflict() {
    let sim = Sim::start();
    sim.kubectl(&["create", "configmap", "c", "--from-literal=a=1"])
        .ok();
    let old = sim.kubectl(&["get", "cm", "c", "-o", "json"]).ok();
    sim.kubectl(&[
        "patch",
        "cm",
        "c",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ])
    .ok();
    let f = sim.file("old.json", &old.replace("\"a\": \"1\"", "\"a\": \"3\""));
    let err = sim.kubectl(&["replace", "-f", &f]).err();
    assert_eq!(
        err,
        format!(
            "Error from server (Conflict): error when replacing \"{f}\": Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again\n"
        )
    );
}

#[test]
fn unauthenticated_requests_are_refused() {
    let sim = Sim::start();
    let cfg = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let mut cfg = kdrill::api::yaml::from_str(&cfg).unwrap();
    // A wrong token instead of the admin's client certificate.
    *cfg.pointer_mut("/users/0/user").unwrap() = serde_json::json!({"token": "wrong"});
    let bad = sim.file("bad-kubeconfig", &cfg.to_string());
    let out = std::process::Command::new(super::harness::kubectl_binary())
        .args(["get", "pods", "--kubeconfig", &bad])
        .env("HOME", sim.dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.ends_with("error: You must be logged in to the server (the server has asked for the client to provide credentials)\n"), "{err}");
}

#[test]
fn invalid_objects_get_422_with_field_causes() {
    let sim = Sim::start();
    let f = sim.file(
        "bad-name.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Web_App\ndata:\n  a: b\n",
    );
    let err = sim.kubectl(&["create", "-f", &f]).err();
    assert_eq!(
        err,
        "The ConfigMap \"Web_App\" is invalid: metadata.name: Invalid value: \"Web_App\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
    );
    let f = sim.file(
        "no-image.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n",
    );
    let err = sim.kubectl(&["create", "-f", &f]).err();
    assert_eq!(
        err,
        "The Pod \"p\" is invalid: spec.containers[0].image: Required value\n"
    );
    let f = sim.file(
        "selector.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n        app: b\n    spec:\n      containers:\n      - name: c\n        image: nginx\n",
    );
    let err = sim.kubectl(&["apply", "-f", &f]).err();
    assert_eq!(
        err,
        format!(
            "The Deployment \"d\" is invalid: spec.template.metadata.labels: Invalid value: {{\"app\":\"b\"}}: `selector` does not match template `labels`\n"
        )
    );
}

#[test]
fn missing_service_account_is_forbidden() {
    let sim = Sim::start();
    let err = sim
        .kubectl(&[
            "run",
            "x",
            "--image=nginx",
            "--overrides={\"spec\":{\"serviceAccountName\":\"nope\"}}",
        ])
        .err();
    assert_eq!(
        err,
        "Error from server (Forbidden): pods \"x\" is forbidden: error looking up service account default/nope: serviceaccount \"nope\" not found\n"
    );
}

#[test]
fn dry_run_server_validates_without_storing() {
    let sim = Sim::start();
    let out = sim
        .kubectl(&[
            "create",
            "configmap",
            "dry",
            "--from-literal=a=b",
            "--dry-run=server",
        ])
        .ok();
    assert_eq!(out, "configmap/dry created (server dry run)\n");
    assert_eq!(
        sim.kubectl(&["get", "cm", "dry"]).err(),
        "Error from server (NotFound): configmaps \"dry\" not found\n"
    );
}

#[test]
fn delete_all_uses_deletecollection_or_lists() {
    let sim = Sim::start();
    for n in ["a", "b", "c"] {
        sim.kubectl(&["create", "configmap", n, "--from-literal=k=v"])
            .ok();
    }
    sim.kubectl(&["label", "cm", "a", "b", "tier=x"]).ok();
    let out = sim.kubectl(&["delete", "cm", "-l", "tier=x"]).ok();
    assert!(
        out.contains("configmap \"a\" deleted") && out.contains("configmap \"b\" deleted"),
        "{out}"
    );
    let left = sim.kubectl(&["get", "cm", "-o", "name"]).ok();
    assert!(
        left.contains("configmap/c") && !left.contains("configmap/a"),
        "{left}"
    );
    let raw = sim
        .kubectl(&[
            "delete",
            "--raw",
            "/api/v1/namespaces/default/configmaps?labelSelector=k%21%3Dnone",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["kind"], "ConfigMapList");
    assert!(sim.kubectl(&["get", "cm", "c"]).code != 0);
}
