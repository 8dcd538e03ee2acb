use serde_json::{Value, json};

use super::*;
use crate::api::field_error::aggregate_message;
use crate::registry::defaults::apply_defaults;

/// Defaults then validates, returning `field: body` lines.
fn create(group: &str, kind: &str, mut obj: Value) -> Vec<String> {
    apply_defaults(group, kind, &mut obj);
    validate_create(group, kind, &obj)
        .iter()
        .map(FieldError::message)
        .collect()
}

fn update(group: &str, kind: &str, mut new: Value, mut old: Value) -> Vec<String> {
    apply_defaults(group, kind, &mut new);
    apply_defaults(group, kind, &mut old);
    validate_update(group, kind, &new, &old)
        .iter()
        .map(FieldError::message)
        .collect()
}

fn pod(spec: Value) -> Value {
    json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec})
}

fn deploy(name: &str, sel: Value, tpl_labels: Value) -> Value {
    json!({"metadata": {"name": name}, "spec": {"selector": sel,
        "template": {"metadata": {"labels": tpl_labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
}

#[test]
fn valid_objects_pass() {
    assert_eq!(
        create(
            "",
            "Pod",
            pod(
                json!({"containers": [{"name": "a", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]})
            )
        ),
        Vec::<String>::new()
    );
    assert!(
        create(
            "apps",
            "Deployment",
            deploy(
                "web",
                json!({"matchLabels": {"app": "web"}}),
                json!({"app": "web"})
            )
        )
        .is_empty()
    );
    assert!(create("", "Service", json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})).is_empty());
    assert!(create("", "Namespace", json!({"metadata": {"name": "dev"}})).is_empty());
}

#[test]
fn metadata_names() {
    let errs = create(
        "",
        "Pod",
        json!({"metadata": {"name": "My_Pod"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
    );
    assert_eq!(
        errs,
        vec![
            "metadata.name: Invalid value: \"My_Pod\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ]
    );
    let errs = create(
        "",
        "Service",
        json!({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}}),
    );
    assert_eq!(
        errs,
        vec![
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ]
    );
    let errs = create("", "Namespace", json!({"metadata": {"name": "a.b"}}));
    assert_eq!(
        errs,
        vec!["metadata.name: Invalid value: \"a.b\": must not contain dots"]
    );
    let errs = create("", "ConfigMap", json!({"metadata": {}}));
    assert_eq!(
        errs,
        vec!["metadata.name: Required value: name or generateName is required"]
    );
    let errs = create(
        "",
        "ConfigMap",
        json!({"metadata": {"name": "c", "labels": {"app": "bad value"}}}),
    );
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with(
        "metadata.labels[app]: Invalid value: \"bad value\": a valid label must be an empty string"
    ));
    let errs = create(
        "",
        "ConfigMap",
        json!({"metadata": {"name": "c", "generateName": "Bad-"}}),
    );
    assert!(errs[0].starts_with(
        "metadata.generateName: Invalid value: \"Bad-\": a lowercase RFC 1123 subdomain"
    ));
    let errs = create(
        "rbac.authorization.k8s.io",
        "Role",
        json!({"metadata": {"name": "a/b"}}),
    );
    assert_eq!(
        errs,
        vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
    );
}

#[test]
fn metadata_paths_of_labels_annotations_finalizers_and_owners() {
    let owner = |kind: &str, name: &str| json!({"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "u", "controller": true});
    let errs = create(
        "",
        "ConfigMap",
        json!({"metadata": {"name": "c",
            "labels": {"-bad": "x"},
            "annotations": {"Bad Key": "x"},
            "finalizers": ["orphan", "foregroundDeletion"],
            "ownerReferences": [owner("ReplicaSet", "a"), {"apiVersion": "v1", "kind": "Pod"}, owner("Deployment", "b")]}}),
    );
    let fields: Vec<&str> = errs
        .iter()
        .map(|e| e.split_once(": ").map_or("", |(f, _)| f))
        .collect();
    assert_eq!(
        fields,
        [
            "metadata.labels",
            "metadata.annotations",
            "metadata.finalizers",
            "metadata.ownerReferences.name",
            "metadata.ownerReferences.uid",
            "metadata.ownerReferences",
        ],
        "{errs:#?}"
    );
    assert!(errs[5].ends_with(
        "Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and Deployment/b"
    ), "{}", errs[5]);
    let errs = update(
        "",
        "ConfigMap",
        json!({"metadata": {"name": "c", "uid": "2"}}),
        json!({"metadata": {"name": "c", "uid": "1"}}),
    );
    assert_eq!(
        errs,
        ["metadata.uid: Invalid value: \"2\": field is immutable"]
    );
}

#[test]
fn pod_spec_errors() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"containers": []}),
            vec!["spec.containers: Required value"],
        ),
        (
            json!({"containers": [{"name": "a"}]}),
            vec!["spec.containers[0].image: Required value"],
        ),
        (
            json!({"containers": [{"image": "x"}]}),
            vec!["spec.containers[0].name: Required value"],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}),
            vec!["spec.containers[1].name: Duplicate value: \"a\""],
        ),
        (
            json!({"initContainers": [{"name": "a", "image": "x"}], "containers": [{"name": "a", "image": "y"}]}),
            vec!["spec.containers[0].name: Duplicate value: \"a\""],
        ),
        (
            json!({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}],
                   "containers": [{"name": "a", "image": "x"}]}),
            vec!["spec.volumes[1].name: Duplicate value: \"v\""],
        ),
        (
            json!({"volumes": [{"name": "v", "emptyDir": {}}],
                   "containers": [{"name": "a", "image": "x", "volumeMounts": [
                       {"name": "v", "mountPath": "/data"},
                       {"name": "v", "mountPath": "/data"},
                       {"name": "w", "mountPath": "/w"}]}]}),
            vec![
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data\": must be unique",
                "spec.containers[0].volumeMounts[2].name: Not found: \"w\"",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "ports": [
                {"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]}]}),
            vec!["spec.containers[0].ports[1].name: Duplicate value: \"http\""],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 70000}]}]}),
            vec![
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80, "protocol": "HTTP"}]}]}),
            vec![
                "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ],
        ),
        (
            json!({"restartPolicy": "Sometimes", "containers": [{"name": "a", "image": "x"}]}),
            vec![
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ],
        ),
        (
            json!({"dnsPolicy": "Cluster", "containers": [{"name": "a", "image": "x"}]}),
            vec![
                "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "resources": {"requests": {"memory": "600Mi"}, "limits": {"memory": "500Mi"}}}]}),
            vec![
                "spec.containers[0].resources.requests: Invalid value: \"600Mi\": must be less than or equal to memory limit of 500Mi",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "-1"}}}]}),
            vec![
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "1x"}}}]}),
            vec![
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"1x\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "livenessProbe": {"periodSeconds": 5}}]}),
            vec!["spec.containers[0].livenessProbe: Required value: must specify a handler type"],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}}]}),
            vec![
                "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            ],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]}),
            vec!["spec.containers[0].volumeMounts[0].name: Not found: \"data\""],
        ),
        (
            json!({"containers": [{"name": "a", "image": "x", "env": [{"name": "A=B", "value": "1"}]}]}),
            vec![
                "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            ],
        ),
        (
            json!({"volumes": [{"name": "v", "configMap": {}}], "containers": [{"name": "a", "image": "x"}]}),
            vec!["spec.volumes[0].configMap.name: Required value"],
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(create("", "Pod", pod(spec.clone())), want, "spec {spec}");
    }
}

#[test]
fn kubectl_style_aggregate() {
    let mut p = pod(json!({"containers": [{"name": "a"}, {"image": "x"}]}));
    apply_defaults("", "Pod", &mut p);
    let errs = validate_create("", "Pod", &p);
    assert_eq!(
        aggregate_message(&errs),
        "[spec.containers[0].image: Required value, spec.containers[1].name: Required value]"
    );
    assert_eq!(errs[0].kind.cause_reason(), "FieldValueRequired");
}

#[test]
fn pod_updates() {
    let old = pod(json!({"containers": [{"name": "a", "image": "nginx:1"}]}));
    let img = pod(json!({"containers": [{"name": "a", "image": "nginx:2"}]}));
    assert!(update("", "Pod", img, old.clone()).is_empty());
    let policy =
        pod(json!({"restartPolicy": "Never", "containers": [{"name": "a", "image": "nginx:1"}]}));
    let errs = update("", "Pod", policy, old.clone());
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(&format!(
            "spec: Forbidden: {POD_UPDATE_FORBIDDEN}\n  core.PodSpec{{"
        )),
        "{}",
        errs[0]
    );
    assert!(errs[0].contains("- \tRestartPolicy: \"Always\",\n+ \tRestartPolicy: \"Never\","));
    let more = pod(
        json!({"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "x"}]}),
    );
    assert_eq!(
        update("", "Pod", more, old),
        vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
}

#[test]
fn deployment_errors() {
    let errs = create(
        "apps",
        "Deployment",
        deploy(
            "web",
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "api"}),
        ),
    );
    assert_eq!(
        errs,
        vec![
            "spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"
        ]
    );
    let errs = create(
        "apps",
        "Deployment",
        deploy("web", Value::Null, json!({"app": "web"})),
    );
    assert_eq!(
        errs,
        vec![
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
        ]
    );
    let errs = create(
        "apps",
        "Deployment",
        deploy("web", json!({}), json!({"app": "web"})),
    );
    assert_eq!(
        errs,
        vec!["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]
    );
    let mut d = deploy(
        "web",
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
    );
    d["spec"]["replicas"] = json!(-1);
    d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    d["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
    assert_eq!(
        create("apps", "Deployment", d),
        vec![
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
        ]
    );
    let mut r = deploy(
        "web",
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
    );
    r["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": {}});
    assert_eq!(
        create("apps", "Deployment", r),
        vec![
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
        ]
    );
    let old = deploy(
        "web",
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web", "v": "2"}),
    );
    let new = deploy(
        "web",
        json!({"matchLabels": {"app": "web", "v": "2"}}),
        json!({"app": "web", "v": "2"}),
    );
    assert_eq!(
        update("apps", "Deployment", new, old),
        vec![
            "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"v\":\"2\"}}: field is immutable",
        ]
    );
}

#[test]
fn statefulset_update_forbidden() {
    let sts = |svc: &str| {
        json!({"metadata": {"name": "db"}, "spec": {"serviceName": svc, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    };
    assert!(create("apps", "StatefulSet", sts("db")).is_empty());
    assert_eq!(
        update("apps", "StatefulSet", sts("other"), sts("db")),
        vec![
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ]
    );
}

#[test]
fn job_and_cronjob() {
    let job = |rp: &str| {
        json!({"metadata": {"name": "j"}, "spec": {"selector": {"matchLabels": {"j": "1"}},
        "template": {"metadata": {"labels": {"j": "1"}}, "spec": {"restartPolicy": rp, "containers": [{"name": "c", "image": "x"}]}}}})
    };
    assert!(create("batch", "Job", job("Never")).is_empty());
    assert_eq!(
        create("batch", "Job", job("Always")),
        vec![
            "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
        ]
    );
    let cj = |sched: &str, policy: &str| {
        json!({"metadata": {"name": "c"}, "spec": {"schedule": sched, "concurrencyPolicy": policy,
        "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "x"}]}}}}}})
    };
    assert!(create("batch", "CronJob", cj("*/5 * * * *", "Allow")).is_empty());
    assert_eq!(
        create("batch", "CronJob", cj("* * * *", "Allow")),
        vec![
            "spec.schedule: Invalid value: \"* * * *\": expected exactly 5 fields, found 4: [* * * *]",
        ]
    );
    assert_eq!(
        create("batch", "CronJob", cj("*/5 * * * *", "Never")),
        vec![
            "spec.concurrencyPolicy: Unsupported value: \"Never\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
        ]
    );
    assert_eq!(
        create("batch", "CronJob", cj("TZ=UTC 0 * * * *", "Allow")),
        vec![
            "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ]
    );
}

#[test]
fn service_errors() {
    let svc = |spec: Value| json!({"metadata": {"name": "web"}, "spec": spec});
    assert_eq!(
        create("", "Service", svc(json!({"selector": {"app": "w"}}))),
        vec!["spec.ports: Required value"]
    );
    assert!(create("", "Service", svc(json!({"clusterIP": "None"}))).is_empty());
    assert_eq!(
        create(
            "",
            "Service",
            svc(json!({"type": "Cluster", "ports": [{"port": 80}]}))
        ),
        vec![
            "spec.type: Unsupported value: \"Cluster\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
        ]
    );
    assert_eq!(
        create(
            "",
            "Service",
            svc(json!({"ports": [{"port": 80}, {"port": 443}]}))
        ),
        vec![
            "spec.ports[0].name: Required value",
            "spec.ports[1].name: Required value",
        ]
    );
    assert_eq!(
        create(
            "",
            "Service",
            svc(json!({"ports": [{"port": 80, "nodePort": 30080}]}))
        ),
        vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",]
    );
    assert_eq!(
        create("", "Service", svc(json!({"ports": [{"port": 0}]}))),
        vec![
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            // targetPort was defaulted from port, as upstream does.
            "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        ]
    );
    assert_eq!(
        node_port_range_error("spec.ports[0].nodePort", 80, 30000, 32767).message(),
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
    );
    let old = svc(
        json!({"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}),
    );
    let new = svc(
        json!({"clusterIP": "10.96.0.11", "clusterIPs": ["10.96.0.11"], "ports": [{"port": 80}]}),
    );
    assert_eq!(
        update("", "Service", new, old),
        vec!["spec.clusterIPs[0]: Invalid value: [\"10.96.0.11\"]: may not change once set"]
    );
}

#[test]
fn configmap_and_secret() {
    let cm = json!({"metadata": {"name": "c"}, "data": {"bad key": "v", "ok.key": "v"}});
    assert_eq!(
        create("", "ConfigMap", cm),
        vec![
            "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ]
    );
    let big = "x".repeat(1024 * 1024 + 1);
    assert_eq!(
        create(
            "",
            "ConfigMap",
            json!({"metadata": {"name": "c"}, "data": {"k": big}})
        ),
        vec![": Too long: may not be more than 1048576 bytes"]
    );
    let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
    let new = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "2"}});
    assert_eq!(
        update("", "ConfigMap", new, old),
        vec!["data: Forbidden: field is immutable when `immutable` is set"]
    );
    let tls = json!({"metadata": {"name": "t"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}});
    assert_eq!(
        create("", "Secret", tls),
        vec!["data[tls.key]: Required value"]
    );
    let old = json!({"metadata": {"name": "s"}, "type": "Opaque"});
    let new = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        update("", "Secret", new, old),
        vec!["type: Invalid value: \"kubernetes.io/tls\": field is immutable"]
    );
}

#[test]
fn pvc_quota_limitrange() {
    let pvc = |spec: Value| json!({"metadata": {"name": "d"}, "spec": spec});
    assert_eq!(
        create("", "PersistentVolumeClaim", pvc(json!({}))),
        vec![
            "spec.accessModes: Required value: at least 1 access mode is required",
            "spec.resources[storage]: Required value",
        ]
    );
    assert_eq!(
        create(
            "",
            "PersistentVolumeClaim",
            pvc(
                json!({"accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "1Gi"}}})
            )
        ),
        vec![
            "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
        ]
    );
    let old = pvc(
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
    );
    let new = pvc(
        json!({"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}),
    );
    assert_eq!(
        update("", "PersistentVolumeClaim", new, old),
        vec![
            "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
        ]
    );
    // A bound claim may grow, and shrink back towards its capacity, not
    // down to it (a failed expansion can be undone).
    let bound = |size: &str| {
        let mut c = pvc(
            json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, "volumeName": "pv1"}),
        );
        c["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"}});
        c
    };
    assert_eq!(
        update("", "PersistentVolumeClaim", bound("2Gi"), bound("1Gi")),
        Vec::<String>::new()
    );
    assert_eq!(
        update("", "PersistentVolumeClaim", bound("2Gi"), bound("3Gi")),
        Vec::<String>::new()
    );
    assert_eq!(
        update("", "PersistentVolumeClaim", bound("1Gi"), bound("2Gi")),
        vec![
            "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
        ]
    );
    // The binder sets volumeName once.
    let unbound = pvc(
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
    );
    let mut named = unbound.clone();
    named["spec"]["volumeName"] = json!("pv1");
    assert_eq!(
        update("", "PersistentVolumeClaim", named, unbound),
        Vec::<String>::new()
    );
    let pv = json!({"metadata": {"name": "pv1"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}});
    assert_eq!(
        create("", "PersistentVolume", pv),
        vec!["spec: Required value: must specify a volume type"]
    );
    let q = json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1.5", "cpu": "-1", "widgets": "1"}}});
    let mut got = create("", "ResourceQuota", q);
    got.sort();
    assert_eq!(
        got,
        vec![
            "spec.hard[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
            "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
            "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource for quota",
        ]
    );
    let lr = json!({"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}, "default": {"cpu": "1"}, "defaultRequest": {"cpu": "1"}}]}});
    assert_eq!(
        create("", "LimitRange", lr),
        vec![
            "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
            "spec.limits[0].defaultRequest[cpu]: Invalid value: \"1\": min value 2 is greater than default request value 1",
            "spec.limits[0].default[cpu]: Invalid value: \"1\": min value 2 is greater than default value 1",
        ]
    );
}

#[test]
fn ingress_and_network_policy() {
    let ing = |path: Value| json!({"metadata": {"name": "i"}, "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [path]}}]}});
    let ok = json!({"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}});
    assert!(create("networking.k8s.io", "Ingress", ing(ok)).is_empty());
    assert_eq!(
        create(
            "networking.k8s.io",
            "Ingress",
            ing(
                json!({"path": "api", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}})
            )
        ),
        vec!["spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path",]
    );
    assert_eq!(
        create(
            "networking.k8s.io",
            "Ingress",
            ing(
                json!({"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}})
            )
        ),
        vec!["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",]
    );
    assert_eq!(
        create(
            "networking.k8s.io",
            "Ingress",
            ing(json!({"path": "/", "pathType": "Regex", "backend": {"service": {"name": "web"}}}))
        ),
        vec![
            "spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
            "spec.rules[0].http.paths[0].backend: Required value: port name or number is required",
        ]
    );
    assert_eq!(
        create(
            "networking.k8s.io",
            "Ingress",
            json!({"metadata": {"name": "i"}, "spec": {}})
        ),
        vec!["spec: Invalid value: null: either `defaultBackend` or `rules` must be specified",]
    );
    let np = json!({"metadata": {"name": "n"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Outbound"], "ingress": [{"ports": [{"protocol": "ICMP", "port": 80}]}]}});
    assert_eq!(
        create("networking.k8s.io", "NetworkPolicy", np),
        vec![
            "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
            "spec.policyTypes[1]: Unsupported value: \"Outbound\": supported values: \"Ingress\", \"Egress\"",
        ]
    );
}

#[test]
fn network_policy_ip_blocks_and_ports() {
    let np = |peer: Value, ports: Value| json!({"metadata": {"name": "n"}, "spec": {"podSelector": {}, "egress": [{"to": [peer], "ports": ports}]}});
    let block = |cidr: &str, except: Value| json!({"ipBlock": {"cidr": cidr, "except": except}});
    let valid = create(
        "networking.k8s.io",
        "NetworkPolicy",
        np(block("10.0.0.0/8", json!(["10.1.0.0/16"])), json!([])),
    );
    assert!(valid.is_empty(), "{valid:?}");
    let cases: &[(Value, Value, &[&str])] = &[
        (
            block("10.0.0.0/33", json!([])),
            json!([]),
            &[
                "spec.egress[0].to[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ],
        ),
        (
            block(
                "10.0.0.0/16",
                json!(["10.0.0.0/16", "192.168.0.0/24", "nope"]),
            ),
            json!([]),
            &[
                "spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"10.0.0.0/16\": must be a strict subset of `cidr`",
                "spec.egress[0].to[0].ipBlock.except[1]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`",
                "spec.egress[0].to[0].ipBlock.except[2]: Invalid value: \"nope\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ],
        ),
        (
            json!({"ipBlock": {"cidr": ""}}),
            json!([]),
            &["spec.egress[0].to[0].ipBlock.cidr: Required value"],
        ),
        (
            json!({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}),
            json!([]),
            &["spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"],
        ),
        (
            json!({}),
            json!([]),
            &["spec.egress[0].to[0]: Required value: must specify a peer"],
        ),
        (
            json!({"podSelector": {"matchLabels": {"app": "-bad-"}}}),
            json!([{"port": 0}, {"port": 8000, "endPort": 7000}, {"port": "http", "endPort": 90}, {"endPort": 90}]),
            &[
                "spec.egress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.egress[0].ports[1].endPort: Invalid value: 8000: must be greater than or equal to `port`",
                "spec.egress[0].ports[2].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
                "spec.egress[0].ports[3].endPort: Invalid value: 90: may not be specified when `port` is not specified",
                "spec.egress[0].to[0].podSelector.matchLabels[app]: Invalid value: \"-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ],
        ),
    ];
    for (peer, ports, want) in cases {
        assert_eq!(
            create(
                "networking.k8s.io",
                "NetworkPolicy",
                np(peer.clone(), ports.clone())
            ),
            want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{peer} {ports}"
        );
    }
}

#[test]
fn ingress_tls_and_class_annotation() {
    let ing = json!({"metadata": {"name": "i", "annotations": {"kubernetes.io/ingress.class": "traefik"}},
        "spec": {"ingressClassName": "nginx",
            "tls": [{"hosts": ["Bad_Host", "*.example.com"], "secretName": "Tls_Secret"}],
            "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}});
    assert_eq!(
        create("networking.k8s.io", "Ingress", ing),
        vec![
            "spec.tls[0].hosts[0]: Invalid value: \"Bad_Host\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "spec.tls[0].secretName: Invalid value: \"Tls_Secret\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "annotations.kubernetes.io/ingress.class: Invalid value: \"traefik\": must match `ingressClassName` when both are specified",
        ]
    );
}

#[test]
fn rbac_rules_and_bindings() {
    let role = json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"]}]});
    assert_eq!(
        create("rbac.authorization.k8s.io", "Role", role),
        vec![
            "rules[0].verbs: Required value: verbs must contain at least one value",
            "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
            "rules[1].resources: Required value: resource rules must supply at least one resource",
        ]
    );
    let rb = |kind: &str| {
        json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "x"}]})
    };
    assert!(create("rbac.authorization.k8s.io", "RoleBinding", rb("Role")).is_empty());
    assert_eq!(
        create("rbac.authorization.k8s.io", "RoleBinding", rb("Rolle")),
        vec![
            "roleRef.kind: Unsupported value: \"Rolle\": supported values: \"Role\", \"ClusterRole\"",
        ]
    );
    assert_eq!(
        update(
            "rbac.authorization.k8s.io",
            "RoleBinding",
            rb("ClusterRole"),
            rb("Role")
        ),
        vec![
            "roleRef: Invalid value: {\"APIGroup\":\"rbac.authorization.k8s.io\",\"Kind\":\"ClusterRole\",\"Name\":\"r\"}: cannot change roleRef",
        ]
    );
}

fn vwc(hook: Value) -> Value {
    json!({"metadata": {"name": "ingress-nginx-admission"}, "webhooks": [hook]})
}

fn nginx_hook() -> Value {
    json!({"name": "validate.nginx.ingress.kubernetes.io",
        "clientConfig": {"service": {"namespace": "ingress-nginx",
            "name": "ingress-nginx-controller-admission", "path": "/networking/v1/ingresses"}},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["networking.k8s.io"],
            "apiVersions": ["v1"], "resources": ["ingresses"]}],
        "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"]})
}

#[test]
fn webhook_configurations_follow_upstreams_rules() {
    const G: &str = "admissionregistration.k8s.io";
    const V: &str = "ValidatingWebhookConfiguration";
    assert_eq!(create(G, V, vwc(nginx_hook())), Vec::<String>::new());
    let with = |patch: Value| {
        let mut h = nginx_hook();
        if let (Some(h), Some(p)) = (h.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                if v.is_null() {
                    h.remove(k);
                } else {
                    h.insert(k.clone(), v.clone());
                }
            }
        }
        create(G, V, vwc(h))
    };
    let cases: &[(Value, &[&str])] = &[
        (
            json!({"name": "validate"}),
            &[
                "webhooks[0].name: Invalid value: \"validate\": should be a domain with at least three segments separated by dots",
            ],
        ),
        (json!({"name": null}), &["webhooks[0].name: Required value"]),
        (
            json!({"sideEffects": null}),
            &["webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"],
        ),
        (
            json!({"sideEffects": "Some"}),
            &[
                "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
            ],
        ),
        (
            json!({"admissionReviewVersions": null}),
            &[
                "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
            ],
        ),
        (
            json!({"failurePolicy": "Never"}),
            &[
                "webhooks[0].failurePolicy: Unsupported value: \"Never\": supported values: \"Fail\", \"Ignore\"",
            ],
        ),
        (
            json!({"timeoutSeconds": 31}),
            &[
                "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
            ],
        ),
        (
            json!({"clientConfig": {}}),
            &[
                "webhooks[0].clientConfig: Required value: exactly one of url or service is required",
            ],
        ),
        (
            json!({"clientConfig": {"url": "https://x.example.com", "service": {"namespace": "a", "name": "b"}}}),
            &[
                "webhooks[0].clientConfig: Required value: exactly one of url or service is required",
            ],
        ),
        (
            json!({"clientConfig": {"service": {"path": "validate"}}}),
            &[
                "webhooks[0].clientConfig.service.name: Required value",
                "webhooks[0].clientConfig.service.namespace: Required value",
                "webhooks[0].clientConfig.service.path: Invalid value: \"validate\": must start with a '/'",
            ],
        ),
        (
            json!({"rules": [{"operations": ["GET"], "apiGroups": [], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Everywhere"}]}),
            &[
                "webhooks[0].rules[0].operations[0]: Unsupported value: \"GET\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\"",
                "webhooks[0].rules[0].apiGroups: Required value",
                "webhooks[0].rules[0].scope: Unsupported value: \"Everywhere\": supported values: \"*\", \"Cluster\", \"Namespaced\"",
            ],
        ),
    ];
    for (patch, want) in cases {
        assert_eq!(with(patch.clone()), *want, "{patch}");
    }
    let twice = json!({"metadata": {"name": "x"}, "webhooks": [nginx_hook(), nginx_hook()]});
    assert_eq!(
        create(G, V, twice),
        ["webhooks[1].name: Duplicate value: \"validate.nginx.ingress.kubernetes.io\""]
    );
    // an update keeps what the old object already had
    let mut some = nginx_hook();
    some["sideEffects"] = json!("Some");
    assert_eq!(
        update(G, V, vwc(some.clone()), vwc(some)),
        Vec::<String>::new()
    );
    let mut m = nginx_hook();
    m["reinvocationPolicy"] = json!("Always");
    assert_eq!(
        create(G, "MutatingWebhookConfiguration", vwc(m)),
        [
            "webhooks[0].reinvocationPolicy: Unsupported value: \"Always\": supported values: \"IfNeeded\", \"Never\""
        ]
    );
}

#[test]
fn metadata_carried_over_unchanged_passes_without_a_check() {
    let old = json!({"metadata": {"name": "p", "namespace": "default", "uid": "u",
        "generation": 3, "labels": {"app": "web"}}, "status": {"phase": "Pending"}});
    // A status write: the stored metadata taken over (shared), status new.
    let mut status_write = old.clone();
    status_write["status"] = json!({"phase": "Running"});
    assert!(meta::object_meta_update(&status_write, &old, "metadata").is_empty());
    // The same metadata rebuilt (not shared) passes the long way.
    let rebuilt: Value = serde_json::from_str(&old.to_string()).unwrap();
    assert!(meta::object_meta_update(&rebuilt, &old, "metadata").is_empty());
    // A changed copy is checked: a new name and a decremented generation.
    let mut renamed = old.clone();
    renamed["metadata"]["name"] = json!("q");
    renamed["metadata"]["generation"] = json!(2);
    let errs = meta::object_meta_update(&renamed, &old, "metadata");
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["metadata.generation", "metadata.name"], "{errs:?}");
}

#[test]
fn field_paths_spell_as_upstream_path_does() {
    assert_eq!(ch("", "spec"), "spec");
    assert_eq!(ch("spec", "containers"), "spec.containers");
    for i in [0usize, 7, 10, 99, 1_000, 4_294_967_296, usize::MAX] {
        assert_eq!(idx("spec.containers", i), format!("spec.containers[{i}]"));
    }
    assert_eq!(idx("", 3), "[3]");
    assert_eq!(key("data", "app.conf"), "data[app.conf]");
    assert_eq!(key("data", ""), "data[]");
}
