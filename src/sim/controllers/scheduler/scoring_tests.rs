//! Where the Score plugins send a pod between nodes that all fit it.

use super::*;
use crate::sim::controllers::testutil::t0;

fn node(name: &str, labels: Value, taints: Value) -> (ResKey, Value) {
    let mut all = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"});
    for (k, v) in labels.as_object().into_iter().flatten() {
        all[k] = v.clone();
    }
    (
        res::NODES,
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1", "labels": all},
            "spec": {"taints": taints},
            "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"}},
        }),
    )
}

fn pod(name: &str, labels: Value, spec: Value, node: Option<&str>) -> Value {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "nginx",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]);
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "resourceVersion": "2", "labels": labels},
        "spec": spec,
        "status": {"phase": if node.is_some() { "Running" } else { "Pending" }},
    })
}

/// A heavy pod of no workload on `node`: least-allocated scoring alone
/// would send a newcomer elsewhere.
fn heavy(node: &str) -> (ResKey, Value) {
    let spec = json!({"containers": [{"name": "c", "image": "nginx",
        "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]});
    (
        res::PODS,
        pod(
            &format!("heavy-{node}"),
            json!({"app": "other"}),
            spec,
            Some(node),
        ),
    )
}

/// The node the scheduler binds `p` to among `objs`.
fn placed(objs: Vec<(ResKey, Value)>, p: Value) -> String {
    let key = ObjectKey::of(&p);
    let mut objs = objs;
    objs.push((res::PODS, p));
    let snap = Snapshot::from_objects(objs);
    let out = Scheduler::new(1).reconcile(&snap, &key, t0());
    match out.actions.as_slice() {
        [Action::Bind { node, .. }] => node.clone(),
        other => panic!("not bound: {other:?}"),
    }
}

fn two_nodes() -> Vec<(ResKey, Value)> {
    vec![
        node("a", json!({}), json!([])),
        node("b", json!({}), json!([])),
    ]
}

fn replica_set() -> (ResKey, Value) {
    (
        res::REPLICASETS,
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "namespace": "default", "uid": "rs-uid"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}}),
    )
}

fn replica(name: &str, node: Option<&str>) -> Value {
    let mut p = pod(name, json!({"app": "web"}), json!({}), node);
    p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "web-1", "uid": "rs-uid", "controller": true}]);
    p
}

#[test]
fn least_allocated_alone_prefers_the_emptier_node() {
    let mut objs = two_nodes();
    objs.push(heavy("a"));
    assert_eq!(placed(objs, pod("p", json!({}), json!({}), None)), "b");
}

#[test]
fn a_replica_set_s_pods_spread_over_the_nodes_by_the_system_default() {
    // The second replica goes where none is, though that node is fuller.
    let mut objs = two_nodes();
    objs.extend([heavy("b"), replica_set()]);
    objs.push((res::PODS, replica("web-1-x", Some("a"))));
    assert_eq!(placed(objs, replica("web-1-y", None)), "b");
    // Without an owner or a Service there is no default selector.
    let mut objs = two_nodes();
    objs.push(heavy("b"));
    objs.push((
        res::PODS,
        pod("x", json!({"app": "web"}), json!({}), Some("a")),
    ));
    assert_eq!(
        placed(objs, pod("y", json!({"app": "web"}), json!({}), None)),
        "a"
    );
}

#[test]
fn a_service_s_selector_also_spreads_the_pods_it_selects() {
    let mut objs = two_nodes();
    objs.push(heavy("b"));
    objs.push((
        res::SERVICES,
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    ));
    objs.push((
        res::PODS,
        pod("x", json!({"app": "web"}), json!({}), Some("a")),
    ));
    assert_eq!(
        placed(objs, pod("y", json!({"app": "web"}), json!({}), None)),
        "b"
    );
}

#[test]
fn preferred_node_affinity_outweighs_a_fuller_node() {
    let mut objs = vec![
        node("a", json!({}), json!([])),
        node("b", json!({"disktype": "ssd"}), json!([])),
    ];
    objs.push(heavy("b"));
    let affinity = json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}}
    ]}}});
    assert_eq!(
        placed(objs.clone(), pod("p", json!({}), affinity, None)),
        "b"
    );
    // A preference no node matches changes nothing.
    let nowhere = json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["nvme"]}]}}
    ]}}});
    assert_eq!(placed(objs, pod("q", json!({}), nowhere, None)), "a");
}

#[test]
fn a_prefer_no_schedule_taint_turns_pods_away_unless_tolerated() {
    let taint = json!([{"key": "dedicated", "value": "gpu", "effect": "PreferNoSchedule"}]);
    let mut objs = vec![node("a", json!({}), taint), node("b", json!({}), json!([]))];
    // Least allocated alone would pick the tainted node.
    objs.push(heavy("b"));
    assert_eq!(
        placed(objs.clone(), pod("p", json!({}), json!({}), None)),
        "b"
    );
    let tolerating = json!({"tolerations": [{"key": "dedicated", "operator": "Equal",
        "value": "gpu", "effect": "PreferNoSchedule"}]});
    assert_eq!(placed(objs, pod("q", json!({}), tolerating, None)), "a");
}

#[test]
fn preferred_pod_anti_affinity_keeps_pods_apart_and_affinity_together() {
    let mut objs = two_nodes();
    objs.push(heavy("b"));
    objs.push((
        res::PODS,
        pod("cache-0", json!({"app": "cache"}), json!({}), Some("a")),
    ));
    let term = |kind: &str| {
        json!({"affinity": {kind: {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "cache"}},
                "topologyKey": "kubernetes.io/hostname"}}
        ]}}})
    };
    assert_eq!(
        placed(
            objs.clone(),
            pod(
                "cache-1",
                json!({"app": "cache"}),
                term("podAntiAffinity"),
                None
            )
        ),
        "b"
    );
    // Affinity: next to the cache, even on the emptier side's rival.
    let mut objs = two_nodes();
    objs.push(heavy("a"));
    objs.push((
        res::PODS,
        pod("cache-0", json!({"app": "cache"}), json!({}), Some("a")),
    ));
    assert_eq!(
        placed(
            objs,
            pod("app", json!({"app": "api"}), term("podAffinity"), None)
        ),
        "a"
    );
}

#[test]
fn placed_pods_terms_draw_or_keep_off_a_pod_that_has_none() {
    // A web pod without affinity of its own; the cache on node a has
    // terms about web pods. Each case puts the heavy pod where least
    // allocation alone would send web away from the side the cache's term
    // decides.
    let cache = |affinity: Value| {
        (
            res::PODS,
            pod(
                "cache-0",
                json!({"app": "cache"}),
                json!({"affinity": affinity}),
                Some("a"),
            ),
        )
    };
    let about_web = json!({"labelSelector": {"matchLabels": {"app": "web"}},
        "topologyKey": "kubernetes.io/hostname"});
    let preferred = json!([{"weight": 100, "podAffinityTerm": about_web}]);
    let web = || pod("web", json!({"app": "web"}), json!({}), None);
    let cases = [
        // Required affinity of the placed pod: hardPodAffinityWeight.
        (
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [about_web]}}),
            "a",
            "a",
        ),
        (
            json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}),
            "a",
            "a",
        ),
        (
            json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}),
            "b",
            "b",
        ),
    ];
    for (affinity, heavy_on, expected) in cases {
        let mut objs = two_nodes();
        objs.push(heavy(heavy_on));
        objs.push(cache(affinity.clone()));
        assert_eq!(placed(objs, web()), expected, "{affinity}");
    }
    // Terms about other pods change nothing: least allocation decides.
    let mut objs = two_nodes();
    objs.push(heavy("a"));
    let about_api = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "api"}}, "topologyKey": "kubernetes.io/hostname"}]}});
    objs.push(cache(about_api));
    assert_eq!(placed(objs, web()), "b");
    // A placed pod's term looks in its own namespace unless it names
    // others: a cache in another namespace draws web only through a
    // namespaceSelector.
    let elsewhere = |term: Value| {
        let (r, mut p) = cache(
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}),
        );
        p["metadata"]["namespace"] = json!("other");
        (r, p)
    };
    let mut everywhere = about_web.clone();
    everywhere["namespaceSelector"] = json!({});
    for (term, expected) in [(about_web.clone(), "b"), (everywhere, "a")] {
        let mut objs = two_nodes();
        objs.push(heavy("a"));
        objs.push(elsewhere(term.clone()));
        assert_eq!(placed(objs, web()), expected, "{term}");
    }
}

#[test]
fn explicit_schedule_anyway_constraints_replace_the_defaults() {
    let zone = |n: &str, z: &str| node(n, json!({"topology.kubernetes.io/zone": z}), json!([]));
    let mut objs = vec![zone("a1", "east"), zone("a2", "east"), zone("b1", "west")];
    objs.push(heavy("b1"));
    for (i, n) in ["a1", "a2"].iter().enumerate() {
        objs.push((
            res::PODS,
            pod(&format!("w{i}"), json!({"app": "w"}), json!({}), Some(n)),
        ));
    }
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "w"}}}]});
    // East holds two, west none: west, though its node is the fullest.
    assert_eq!(
        placed(objs, pod("w2", json!({"app": "w"}), spread, None)),
        "b1"
    );
}
