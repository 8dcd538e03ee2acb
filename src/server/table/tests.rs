//! Row and column tests on realistic objects, with the cells upstream's printers
//! (and so `kubectl get`) produce; cases follow `printers_test.go`.

use super::*;
use serde_json::{Value, json};

const NOW: &str = "2024-05-01T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn cells(group: &str, resource: &str, obj: Value) -> Vec<Value> {
    row(group, resource, &obj, now()).cells
}

/// Creation time `secs` before NOW.
fn ago(secs: i64) -> String {
    (now() - jiff::SignedDuration::from_secs(secs)).to_string()
}

fn meta(name: &str, age_secs: i64) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": ago(age_secs)})
}

const ALL: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "nodes"),
    ("", "services"),
    ("", "endpoints"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "namespaces"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "networkpolicies"),
    ("discovery.k8s.io", "endpointslices"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("policy", "poddisruptionbudgets"),
    ("storage.k8s.io", "storageclasses"),
    ("coordination.k8s.io", "leases"),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
];

#[test]
fn every_row_has_one_cell_per_column_even_for_odd_objects() {
    let odd = [
        json!({}),
        json!(null),
        json!({"metadata": 5, "spec": [], "status": "x"}),
        json!({"spec": {"containers": 3}}),
    ];
    for (g, r) in ALL {
        let cols = column_definitions(g, r);
        for obj in &odd {
            let got = row(g, r, obj, now());
            assert_eq!(got.cells.len(), cols.len(), "{g}/{r} on {obj}");
        }
    }
}

#[test]
fn column_json_shape_and_default_columns() {
    let cols = column_definitions("rbac.authorization.k8s.io", "roles");
    let names: Vec<_> = cols.iter().map(|c| c.name).collect();
    assert_eq!(names, ["Name", "Created At"]);
    assert_eq!(cols[1].type_, "date");
    let j = cols[0].to_json();
    assert_eq!(j["name"], "Name");
    assert_eq!(j["format"], "name");
    assert_eq!(j["priority"], 0);
    assert!(
        j["description"]
            .as_str()
            .unwrap()
            .starts_with("Name must be unique within a namespace.")
    );
    assert_eq!(column_definitions("example.com", "widgets"), cols);
    let c = cells(
        "",
        "limitranges",
        json!({"metadata": {"name": "lr", "creationTimestamp": "2024-04-30T10:11:12.5+02:00"}}),
    );
    assert_eq!(c, [json!("lr"), json!("2024-04-30T08:11:12Z")]);
    assert_eq!(
        cells("", "limitranges", json!({"metadata": {"name": "lr"}}))[1],
        "0001-01-01T00:00:00Z"
    );
}

#[test]
fn pod_columns_are_upstreams() {
    let cols = column_definitions("", "pods");
    let shown: Vec<_> = cols.iter().map(|c| (c.name, c.type_, c.priority)).collect();
    assert_eq!(
        shown,
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ]
    );
}

#[test]
fn running_pod() {
    let pod = json!({
        "metadata": meta("web-7d4b9c8f5-abcde", 300),
        "spec": {"nodeName": "kind-worker", "containers": [{"name": "nginx", "image": "nginx:1.25"}]},
        "status": {
            "phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "nginx", "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": ago(290)}}}]
        }
    });
    let r = row("", "pods", &pod, now());
    assert_eq!(
        r.cells,
        [
            json!("web-7d4b9c8f5-abcde"),
            json!("1/1"),
            json!("Running"),
            json!("0"),
            json!("5m"),
            json!("10.244.1.5"),
            json!("kind-worker"),
            json!("<none>"),
            json!("<none>")
        ]
    );
    assert_eq!(r.conditions, None);
}

#[test]
fn crash_loop_pod_shows_restarts_with_last_termination_age() {
    let pod = json!({
        "metadata": meta("api", 900),
        "spec": {"containers": [{"name": "api"}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "api", "ready": false, "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(62)}}
        }]}
    });
    let c = cells("", "pods", pod);
    assert_eq!(
        &c[..5],
        [
            json!("api"),
            json!("0/1"),
            json!("CrashLoopBackOff"),
            json!("5 (62s ago)"),
            json!("15m")
        ]
    );
}

#[test]
fn container_statuses_follow_upstream_precedence() {
    // printers_test.go: the first container's waiting reason wins over later ones.
    let pod = json!({
        "metadata": {"name": "test3"},
        "spec": {"containers": [{}, {}]},
        "status": {"phase": "podPhase", "containerStatuses": [
            {"restartCount": 3, "state": {"waiting": {"reason": "ContainerWaitingReason"}}},
            {"restartCount": 3, "state": {"terminated": {"reason": "ContainerTerminatedReason"}}}
        ]}
    });
    assert_eq!(
        &cells("", "pods", pod)[..5],
        ["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"]
    );
    // Ready alone is not running.
    let pod = json!({
        "metadata": {"name": "test4"},
        "spec": {"containers": [{}, {}]},
        "status": {"phase": "podPhase", "containerStatuses": [
            {"ready": true, "restartCount": 3, "state": {"running": {}}},
            {"ready": true, "restartCount": 3}
        ]}
    });
    assert_eq!(
        &cells("", "pods", pod)[..4],
        ["test4", "1/2", "podPhase", "6"]
    );
}

#[test]
fn terminated_without_reason_prints_signal_or_exit_code() {
    let mk = |t: Value| {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{}]},
            "status": {"phase": "Running", "containerStatuses": [{"state": {"terminated": t}}]}})
    };
    assert_eq!(
        cells("", "pods", mk(json!({"exitCode": 137, "signal": 9})))[2],
        "Signal:9"
    );
    assert_eq!(
        cells("", "pods", mk(json!({"exitCode": 2})))[2],
        "ExitCode:2"
    );
    assert_eq!(
        cells(
            "",
            "pods",
            mk(json!({"exitCode": 137, "reason": "OOMKilled"}))
        )[2],
        "OOMKilled"
    );
}

#[test]
fn completed_container_with_a_running_sibling() {
    let mk = |ready_cond: &str| {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{}, {}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready_cond}],
        "containerStatuses": [
            {"ready": false, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
            {"ready": true, "restartCount": 0, "state": {"running": {}}}
        ]}})
    };
    assert_eq!(&cells("", "pods", mk("False"))[1..3], ["1/2", "NotReady"]);
    assert_eq!(&cells("", "pods", mk("True"))[1..3], ["1/2", "Running"]);
}

#[test]
fn succeeded_pod_is_completed_with_row_condition() {
    let pod = json!({"metadata": meta("job-x", 60), "spec": {"containers": [{}]},
        "status": {"phase": "Succeeded", "containerStatuses": [
            {"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}});
    let r = row("", "pods", &pod, now());
    assert_eq!(&r.cells[..4], ["job-x", "0/1", "Completed", "0"]);
    assert_eq!(
        r.conditions,
        Some(
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."}])
        )
    );
    let failed = json!({"metadata": {"name": "f"}, "status": {"phase": "Failed"}});
    assert_eq!(
        row("", "pods", &failed, now()).conditions.unwrap()[0]["message"],
        "The pod failed."
    );
}

#[test]
fn init_container_states() {
    let base = |statuses: Value, conds: Value| {
        json!({"metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "migrate"}, {"name": "warm"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Pending", "conditions": conds, "initContainerStatuses": statuses,
                "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}]}})
    };
    // First init container still running.
    let p = base(
        json!([{"name": "migrate", "state": {"running": {}}}, {"name": "warm", "state": {"waiting": {"reason": "PodInitializing"}}}]),
        json!([]),
    );
    assert_eq!(&cells("", "pods", p)[1..4], ["0/1", "Init:0/2", "0"]);
    // First done, second running.
    let p = base(
        json!([{"name": "migrate", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
               {"name": "warm", "state": {"running": {}}}]),
        json!([]),
    );
    assert_eq!(cells("", "pods", p)[2], "Init:1/2");
    // Crash-looping init container: its restarts count, with the age of its last exit.
    let p = base(
        json!([{"name": "migrate", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(26)}}}]),
        json!([]),
    );
    assert_eq!(
        &cells("", "pods", p)[1..4],
        ["0/1", "Init:CrashLoopBackOff", "2 (26s ago)"]
    );
    // Init container failed without a reason.
    let p = base(
        json!([{"name": "migrate", "state": {"terminated": {"exitCode": 3}}}]),
        json!([]),
    );
    assert_eq!(cells("", "pods", p)[2], "Init:ExitCode:3");
    let p = base(
        json!([{"name": "migrate", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]),
        json!([]),
    );
    assert_eq!(cells("", "pods", p)[2], "Init:Error");
}

#[test]
fn sidecar_init_containers_count_toward_ready_and_restarts() {
    let pod = json!({"metadata": {"name": "p"},
        "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 1,
                "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(3600)}}}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
    assert_eq!(
        &cells("", "pods", pod)[1..4],
        ["2/2", "Running", "1 (60m ago)"]
    );
}

#[test]
fn terminating_unknown_and_gated_pods() {
    let mut pod = json!({"metadata": {"name": "p", "deletionTimestamp": NOW}, "spec": {"containers": [{}]},
        "status": {"phase": "Running", "containerStatuses": [{"ready": true, "state": {"running": {}}}]}});
    assert_eq!(cells("", "pods", pod.clone())[2], "Terminating");
    pod["status"]["reason"] = json!("NodeLost");
    assert_eq!(cells("", "pods", pod.clone())[2], "Unknown");
    // A finished pod being deleted keeps its status.
    let done = json!({"metadata": {"name": "p", "deletionTimestamp": NOW},
        "status": {"phase": "Succeeded", "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}]}});
    assert_eq!(cells("", "pods", done)[2], "Completed");
    let gated = json!({"metadata": {"name": "p"}, "spec": {"containers": [{}], "schedulingGates": [{"name": "g"}]},
        "status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
    assert_eq!(cells("", "pods", gated)[2], "SchedulingGated");
    let evicted = json!({"metadata": {"name": "p"}, "spec": {"containers": [{}]},
        "status": {"phase": "Failed", "reason": "Evicted"}});
    assert_eq!(cells("", "pods", evicted)[2], "Evicted");
}

#[test]
fn pod_wide_cells() {
    let pod = json!({"metadata": {"name": "p"},
        "spec": {"containers": [{}], "readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}]},
        "status": {"podIPs": [{"ip": "fd00::5"}, {"ip": "10.0.0.5"}], "nominatedNodeName": "node-2",
            "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]}});
    assert_eq!(
        &cells("", "pods", pod)[5..],
        ["fd00::5", "<none>", "node-2", "1/2"]
    );
}
