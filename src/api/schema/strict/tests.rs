use serde_json::json;

use super::*;

#[test]
fn unknown_container_field_is_reported_with_index() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "bogusField": 1}]}
    });
    let check = check_fields("", "v1", "Pod", &pod);
    assert_eq!(
        check.unknown,
        vec!["spec.containers[0].bogusField".to_string()]
    );
    assert_eq!(check.type_error, None);
    assert_eq!(
        check.bad_request_message("Pod", "v1", true).as_deref(),
        Some(
            r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].bogusField""#
        )
    );
    assert_eq!(check.bad_request_message("Pod", "v1", false), None);
}

#[test]
fn several_unknown_fields_are_joined_with_commas() {
    let svc = json!({"metadata": {"name": "s", "app": "x"}, "spec": {"ports": [{"port": 80, "nodeport": 30000}]}});
    let check = check_fields("", "v1", "Service", &svc);
    assert_eq!(
        check.strict_error().as_deref(),
        Some(
            r#"strict decoding error: unknown field "metadata.app", unknown field "spec.ports[0].nodeport""#
        )
    );
    assert_eq!(
        check.warnings(),
        vec![
            r#"unknown field "metadata.app""#,
            r#"unknown field "spec.ports[0].nodeport""#
        ]
    );
}

#[test]
fn field_names_are_case_sensitive() {
    let check = check_fields(
        "",
        "v1",
        "Service",
        &json!({"spec": {"ports": [{"nodePort": 1, "NodePort": 2}]}}),
    );
    assert_eq!(check.unknown, vec!["spec.ports[0].NodePort".to_string()]);
}

#[test]
fn string_replicas_is_a_go_type_error() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "3", "bogus": true}});
    let check = check_fields("apps", "v1", "Deployment", &d);
    assert_eq!(
        check
            .bad_request_message("Deployment", "v1", true)
            .as_deref(),
        Some(
            r#"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#
        )
    );
    assert_eq!(check.unknown, vec!["spec.bogus".to_string()]);
}

#[test]
fn type_errors_name_the_innermost_struct_and_skip_indices() {
    let d = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}}});
    let check = check_fields("apps", "v1", "Deployment", &d);
    assert_eq!(
        check.type_error.as_deref(),
        Some(
            "json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32"
        )
    );
    let p = json!({"spec": {"containers": {"name": "c"}}});
    assert_eq!(
        check_fields("", "v1", "Pod", &p).type_error.as_deref(),
        Some(
            "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container"
        )
    );
    let l = json!({"metadata": {"labels": {"a": 1}}});
    assert_eq!(
        check_fields("", "v1", "ConfigMap", &l)
            .type_error
            .as_deref(),
        Some(
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
        )
    );
    let s = json!({"spec": "x"});
    assert_eq!(
        check_fields("apps", "v1", "Deployment", &s)
            .type_error
            .as_deref(),
        Some(
            "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec"
        )
    );
    let policy = json!({"spec": {"containers": [{"name": "c", "imagePullPolicy": 1}]}});
    assert_eq!(
        check_fields("", "v1", "Pod", &policy).type_error.as_deref(),
        Some(
            "json: cannot unmarshal number into Go struct field Container.spec.containers.imagePullPolicy of type v1.PullPolicy"
        )
    );
}

#[test]
fn int_or_string_quantity_and_open_fields_accept_their_forms() {
    let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}});
    assert!(check_fields("", "v1", "Service", &svc).is_clean());
    let pod = json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]},
        "metadata": {"managedFields": [{"fieldsV1": {"f:metadata": {"f:x": {}}}}], "creationTimestamp": null}});
    assert!(check_fields("", "v1", "Pod", &pod).is_clean());
    let cr = json!({"data": {"anything": {"goes": [1]}}, "revision": 1});
    assert!(check_fields("apps", "v1", "ControllerRevision", &cr).is_clean());
    let bad = json!({"spec": {"ports": [{"port": 80, "targetPort": true}]}});
    assert_eq!(
        check_fields("", "v1", "Service", &bad)
            .type_error
            .as_deref(),
        Some("json: cannot unmarshal bool into Go value of type int32")
    );
}

#[test]
fn unknown_kinds_check_clean() {
    assert!(check_fields("example.com", "v1", "Widget", &json!({"spec": {"x": 1}})).is_clean());
    assert!(
        check_fields(
            "metrics.k8s.io",
            "v1beta1",
            "PodMetrics",
            &json!({"bogus": 1})
        )
        .is_clean()
    );
}

#[test]
fn prune_removes_unknown_fields_and_reports_warnings() {
    let mut d = json!({"metadata": {"name": "d", "bogus": 1},
        "spec": {"foo": 2, "template": {"spec": {"containers": [{"name": "a", "x": 1}, {"name": "b", "y": 2}]}}}});
    let check = prune_unknown("apps", "v1", "Deployment", &mut d);
    assert_eq!(
        check.warnings(),
        vec![
            r#"unknown field "metadata.bogus""#,
            r#"unknown field "spec.foo""#,
            r#"unknown field "spec.template.spec.containers[0].x""#,
            r#"unknown field "spec.template.spec.containers[1].y""#,
        ]
    );
    assert_eq!(
        d,
        json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}})
    );
    assert!(check_fields("apps", "v1", "Deployment", &d).is_clean());
}

#[test]
fn lists_and_subresource_bodies_are_checked() {
    let scale = json!({"spec": {"replicas": 2, "extra": 1}});
    assert_eq!(
        check_fields("autoscaling", "v1", "Scale", &scale).unknown,
        vec!["spec.extra".to_string()]
    );
    let list = json!({"items": [{"metadata": {"name": "a"}, "oops": 1}]});
    assert_eq!(
        check_fields("", "v1", "ConfigMapList", &list).unknown,
        vec!["items[0].oops".to_string()]
    );
    assert_eq!(
        check_fields("", "v1", "Pod", &json!([1]))
            .type_error
            .as_deref(),
        Some("json: cannot unmarshal array into Go value of type v1.Pod")
    );
}
