use super::*;
use crate::sim::controllers::testutil::{put, reasons, settle, t0};

fn ds(tolerations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "fluentd", "namespace": "kube-system", "uid": "ds-uid", "generation": 1, "resourceVersion": "10"},
        "spec": {"selector": {"matchLabels": {"app": "fluentd"}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {"app": "fluentd"}},
                              "spec": {"tolerations": tolerations, "containers": [{"name": "f", "image": "fluentd"}]}}},
    })
}

fn node(name: &str, taints: Value, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1", "labels": labels},
           "spec": {"taints": taints}})
}

fn cluster(d: Value) -> Snapshot {
    Snapshot::from_objects([
        (hres::DAEMONSETS, d),
        (
            res::NODES,
            node(
                "kdrill-control-plane",
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
                json!({"kubernetes.io/hostname": "kdrill-control-plane"}),
            ),
        ),
        (
            res::NODES,
            node("kdrill-worker", json!([]), json!({"disk": "ssd"})),
        ),
        (res::NODES, node("kdrill-worker2", json!([]), json!({}))),
    ])
}

fn key() -> ObjectKey {
    ObjectKey::new("kube-system", "fluentd")
}

fn targets(snap: &Snapshot) -> Vec<String> {
    let mut t: Vec<String> = snap
        .list(res::PODS, None)
        .filter(|p| !meta::is_deleting(p))
        .filter_map(|p| target_node(p).map(str::to_string))
        .collect();
    t.sort();
    t
}

fn make_ready(snap: &mut Snapshot) {
    let pods: Vec<Value> = snap.list(res::PODS, None).map(|p| (**p).clone()).collect();
    for mut p in pods {
        p["status"] = json!({"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2025-05-01T09:00:00Z"}]});
        put(snap, res::PODS, p);
    }
}

#[test]
fn one_pod_per_eligible_node() {
    let cp_toleration = json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]);
    let mut selected = ds(json!([]));
    selected["spec"]["template"]["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    let mut affinity = ds(json!([]));
    affinity["spec"]["template"]["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "DoesNotExist"}]}]}}});
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (ds(json!([])), vec!["kdrill-worker", "kdrill-worker2"]),
        (
            ds(cp_toleration),
            vec!["kdrill-control-plane", "kdrill-worker", "kdrill-worker2"],
        ),
        (selected, vec!["kdrill-worker"]),
        (affinity, vec!["kdrill-worker2"]),
    ];
    for (d, want) in cases {
        let mut snap = cluster(d);
        let events = settle(&DaemonSetController::default(), &mut snap, &key(), t0());
        assert_eq!(targets(&snap), want);
        assert_eq!(events.len(), want.len());
        assert_eq!(events[0].reason, "SuccessfulCreate");
        assert!(
            events[0].message.starts_with("Created pod: fluentd-"),
            "{:?}",
            reasons(&events)
        );
        let d = snap
            .get(hres::DAEMONSETS, "kube-system", "fluentd")
            .unwrap();
        assert_eq!(d["status"]["desiredNumberScheduled"], want.len());
        assert_eq!(d["status"]["currentNumberScheduled"], want.len());
        assert_eq!(d["status"]["numberReady"], 0);
    }
}

#[test]
fn pods_are_pinned_and_tolerate_node_conditions() {
    let mut d = ds(json!([]));
    d["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    let p = new_pod(&d, "kdrill-worker", "abc");
    assert_eq!(
        p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"],
        json!({"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["kdrill-worker"]}]}]})
    );
    let keys: Vec<(&str, &str)> = p["spec"]["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["effect"].as_str().unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
            ("node.kubernetes.io/network-unavailable", "NoSchedule"),
        ]
    );
    assert_eq!(p["metadata"]["labels"][REVISION_LABEL], "abc");
    assert_eq!(p["metadata"]["labels"][GENERATION_LABEL], "1");
    assert_eq!(p["metadata"]["generateName"], "fluentd-");
    // Without hostNetwork, no network-unavailable toleration.
    let p = new_pod(&ds(json!([])), "n", "abc");
    assert_eq!(p["spec"]["tolerations"].as_array().unwrap().len(), 6);
}

#[test]
fn not_ready_nodes_still_get_a_pod_but_no_execute_taints_evict() {
    let not_ready = node(
        "n1",
        json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
        json!({}),
    );
    assert_eq!(should_run(&ds(json!([])), &not_ready), (true, true));
    let dedicated = node(
        "n2",
        json!([{"key": "dedicated", "value": "db", "effect": "NoExecute"}]),
        json!({}),
    );
    assert_eq!(should_run(&ds(json!([])), &dedicated), (false, false));
    let cordoned = node(
        "n3",
        json!([{"key": "dedicated", "effect": "NoSchedule"}]),
        json!({}),
    );
    assert_eq!(should_run(&ds(json!([])), &cordoned), (false, true));
}

#[test]
fn status_counts_ready_pods_and_settles() {
    let mut snap = cluster(ds(json!([])));
    settle(&DaemonSetController::default(), &mut snap, &key(), t0());
    make_ready(&mut snap);
    let events = settle(&DaemonSetController::default(), &mut snap, &key(), t0());
    assert!(events.is_empty());
    let d = snap
        .get(hres::DAEMONSETS, "kube-system", "fluentd")
        .unwrap();
    assert_eq!(
        d["status"],
        json!({"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberMisscheduled": 0,
               "numberReady": 2, "numberAvailable": 2, "updatedNumberScheduled": 2, "observedGeneration": 1})
    );
    let rev = format!("fluentd-{}", history::template_hash(d));
    assert!(
        snap.get(hres::CONTROLLERREVISIONS, "kube-system", &rev)
            .is_some()
    );
}

#[test]
fn pods_leave_nodes_that_stop_matching() {
    let mut d = ds(json!([]));
    d["spec"]["template"]["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    let mut snap = cluster(d);
    settle(&DaemonSetController::default(), &mut snap, &key(), t0());
    let mut n = (**snap.get(res::NODES, "", "kdrill-worker").unwrap()).clone();
    n["metadata"]["labels"] = json!({});
    put(&mut snap, res::NODES, n);
    let events = settle(&DaemonSetController::default(), &mut snap, &key(), t0());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason, "SuccessfulDelete");
    assert!(targets(&snap).is_empty());
}

#[test]
fn rolling_update_stays_within_max_unavailable() {
    let mut snap = cluster(ds(json!([])));
    settle(&DaemonSetController::default(), &mut snap, &key(), t0());
    make_ready(&mut snap);
    settle(&DaemonSetController::default(), &mut snap, &key(), t0());
    let mut d = (**snap
        .get(hres::DAEMONSETS, "kube-system", "fluentd")
        .unwrap())
    .clone();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("fluentd:v2");
    put(&mut snap, hres::DAEMONSETS, d);
    let out = DaemonSetController::default().reconcile(&snap, &key(), t0());
    let deletes = out
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Delete { .. }))
        .count();
    assert_eq!(deletes, 1);
}

#[test]
fn node_writes_reconcile_daemon_sets_only_when_labels_or_taints_change() {
    let c = DaemonSetController::default();
    let snap = cluster(ds(json!([])));
    let keys = |n: &Value, deleted: bool| c.keys_for_change(&snap, res::NODES, n, deleted);
    let mut n = node("kdrill-worker", json!([]), json!({"disk": "ssd"}));
    // A node first seen: every DaemonSet may place a pod there.
    assert_eq!(keys(&n, false), [key()]);
    // A status post (conditions, images, a new resourceVersion): ignored,
    // as upstream's shouldIgnoreNodeUpdate ignores it.
    n["metadata"]["resourceVersion"] = json!("2");
    n["status"] = json!({"images": [{"names": ["nginx:1.27"]}],
        "conditions": [{"type": "Ready", "status": "False"}]});
    assert_eq!(keys(&n, false), []);
    // A label or a taint changes where daemon pods run.
    n["metadata"]["labels"]["disk"] = json!("hdd");
    assert_eq!(keys(&n, false), [key()]);
    assert_eq!(keys(&n, false), []);
    n["spec"]["taints"] = json!([{"key": "dedicated", "effect": "NoSchedule"}]);
    assert_eq!(keys(&n, false), [key()]);
    // Gone, then back: seen afresh.
    assert_eq!(keys(&n, true), [key()]);
    assert_eq!(keys(&n, false), [key()]);
}
