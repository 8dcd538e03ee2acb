//! Table tests of the node lifecycle controller and the kubelet heartbeat.

use super::*;
use crate::sim::controllers::nodeheartbeat::NodeHeartbeat;
use crate::sim::controllers::testutil::{apply, reasons, settle, t0};

fn node(annotations: Value) -> Value {
    let cond = |ty: &str, status: &str, reason: &str| {
        json!({"type": ty, "status": status, "reason": reason,
        "message": "", "lastHeartbeatTime": "2025-05-01T09:59:50Z", "lastTransitionTime": "2025-05-01T09:00:00Z"})
    };
    json!({"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": "w1", "uid": "node-uid", "creationTimestamp": "2025-05-01T09:00:00Z",
                        "annotations": annotations},
           "spec": {},
           "status": {"conditions": [
               cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
               cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
               cond("PIDPressure", "False", "KubeletHasSufficientPID"),
               cond("Ready", "True", "KubeletReady")]}})
}

fn lease(renewed: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "w1", "namespace": "kube-node-lease"},
           "spec": {"holderIdentity": "w1", "leaseDurationSeconds": 40, "renewTime": renewed}})
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
           "spec": {"nodeName": "w1"},
           "status": {"phase": "Running", "conditions": [
               {"type": "Ready", "status": "True", "lastTransitionTime": "2025-05-01T09:00:00Z"}]}})
}

fn key() -> ObjectKey {
    ObjectKey::new("", "w1")
}

fn snap(node: Value, renewed: &str, pods: Vec<Value>) -> Snapshot {
    switched(node, json!({}), renewed, pods)
}

/// A snapshot whose node Lease carries the fault-switch annotations
/// `switches`.
fn switched(node: Value, switches: Value, renewed: &str, pods: Vec<Value>) -> Snapshot {
    let mut l = lease(renewed);
    l["metadata"]["annotations"] = switches;
    let mut objs = vec![(res::NODES, node), (LEASES, l)];
    objs.extend(pods.into_iter().map(|p| (res::PODS, p)));
    Snapshot::from_objects(objs)
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn taints(s: &Snapshot) -> Vec<(String, String)> {
    s.get(res::NODES, "", "w1").expect("node")["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["key"].as_str().unwrap_or("").into(),
                t["effect"].as_str().unwrap_or("").into(),
            )
        })
        .collect()
}

#[test]
fn a_silent_node_goes_unknown_after_the_grace_period() {
    // Last heard from at t0 (lease); (seconds later, Ready status, taints)
    let cases = [
        (40, "True", vec![]),
        (
            41,
            "Unknown",
            vec![(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")],
        ),
    ];
    for (secs, ready, want) in cases {
        let mut s = snap(node(json!({})), &format_time(t0()), vec![pod("a")]);
        let out = NodeLifecycleController.reconcile(&s, &key(), at(secs));
        if ready == "True" {
            assert_eq!(out.requeue_after, Some(SignedDuration::from_millis(1)));
        }
        let ev = settle(&NodeLifecycleController, &mut s, &key(), at(secs));
        let n = s.get(res::NODES, "", "w1").expect("node");
        let c = node_condition(n, "Ready").expect("ready");
        assert_eq!(c["status"], ready, "{secs}s");
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, e)| (k.to_string(), e.to_string()))
            .collect();
        assert_eq!(taints(&s), want, "{secs}s");
        if ready == "Unknown" {
            assert_eq!(
                (&c["reason"], &c["message"]),
                (
                    &json!("NodeStatusUnknown"),
                    &json!("Kubelet stopped posting node status.")
                )
            );
            assert_eq!(c["lastHeartbeatTime"], "2025-05-01T09:59:50Z");
            for ty in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
                assert_eq!(node_condition(n, ty).expect(ty)["status"], "Unknown");
            }
            assert_eq!(
                reasons(&ev),
                [
                    (
                        "NodeNotReady".into(),
                        "Node w1 status is now: NodeNotReady".into()
                    ),
                    ("NodeNotReady".into(), "Node is not ready".into()),
                ]
            );
            // The controller names the node by its uid (the kubelet by
            // its name): `kubectl describe node` asks for both.
            assert_eq!(
                (
                    ev[0].involved.api_version.as_str(),
                    ev[0].involved.uid.as_str()
                ),
                ("v1", "node-uid")
            );
            let p = s.get(res::PODS, "default", "a").expect("pod");
            assert!(!crate::sim::controllers::podutil::is_ready(p));
            let nt = &n["spec"]["taints"][0];
            assert_eq!(nt["timeAdded"], format_time(at(secs)));
        }
    }
}

#[test]
fn condition_taints_follow_conditions_and_cordoning() {
    let mut n = node(json!({}));
    n["spec"]["unschedulable"] = json!(true);
    n["spec"]["taints"] = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
    n["status"]["conditions"][0]["status"] = json!("True");
    n["status"]["conditions"][3]["status"] = json!("False");
    let conds = n["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let got: Vec<(String, String)> = desired_taints(&n, &conds, t0())
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap_or("").into(),
                t["effect"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let want = [
        ("dedicated", "NoSchedule"),
        (NOT_READY, "NoExecute"),
        (NOT_READY, "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    assert_eq!(
        got,
        want.iter()
            .map(|(k, e)| (k.to_string(), e.to_string()))
            .collect::<Vec<_>>()
    );
    // Ready again and uncordoned: only the user's taint stays.
    let mut back = n.clone();
    back["spec"]["taints"] = Value::Array(desired_taints(&n, &conds, t0()));
    back["spec"]["unschedulable"] = json!(false);
    let fresh = node(json!({}))["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(desired_taints(&back, &fresh, t0()).len(), 1);
}

#[test]
fn the_kubelet_renews_its_lease_unless_stopped() {
    // (Lease annotations, seconds since renewal, renews)
    let cases = [
        (json!({}), 5, false),
        (json!({}), 10, true),
        (json!({"kdrill.io/kubelet": "stopped"}), 60, false),
    ];
    for (ann, secs, renews) in cases {
        let s = switched(node(json!({})), ann.clone(), &format_time(t0()), vec![]);
        let out = NodeHeartbeat.reconcile(&s, &key(), at(secs));
        let lease_patched = out
            .actions
            .iter()
            .any(|a| matches!(a, Action::Patch { res, .. } if *res == LEASES));
        assert_eq!(lease_patched, renews, "{ann} {secs}s");
    }
}

#[test]
fn stop_then_restart_a_kubelet() {
    let mut s = switched(
        node(json!({})),
        json!({"kdrill.io/kubelet": "stopped"}),
        &format_time(t0()),
        vec![pod("a")],
    );
    let mut seq = 0;
    // Stopped: nothing renews, so 41s on the node is NotReady.
    assert!(
        NodeHeartbeat
            .reconcile(&s, &key(), at(41))
            .actions
            .is_empty()
    );
    settle(&NodeLifecycleController, &mut s, &key(), at(41));
    assert_eq!(taints(&s).len(), 2);
    // Restarted: the kubelet renews and posts Ready, the taints go.
    let mut l = (**s.get(LEASES, LEASE_NAMESPACE, "w1").expect("lease")).clone();
    l["metadata"]["annotations"] = json!({});
    s.upsert(LEASES, std::sync::Arc::new(l));
    let out = NodeHeartbeat.reconcile(&s, &key(), at(60));
    let ev = apply(&mut s, &out.actions, at(60), &mut seq);
    let status_is = |e: &str| (e.to_string(), format!("Node w1 status is now: {e}"));
    assert_eq!(
        reasons(&ev),
        [
            ("Starting".to_string(), "Starting kubelet.".to_string()),
            (
                "NodeAllocatableEnforced".to_string(),
                "Updated Node Allocatable limit across pods".to_string()
            ),
            status_is("NodeHasSufficientMemory"),
            status_is("NodeHasNoDiskPressure"),
            status_is("NodeHasSufficientPID"),
            status_is("NodeReady"),
        ]
    );
    for e in &ev {
        // `kl.nodeRef`: no apiVersion, the node's name for its uid.
        assert_eq!(
            (
                e.involved.api_version.as_str(),
                e.involved.uid.as_str(),
                e.component.as_str()
            ),
            ("", "w1", "kubelet"),
            "{}",
            e.reason
        );
    }
    let n = s.get(res::NODES, "", "w1").expect("node");
    let ready = node_condition(n, "Ready").expect("ready");
    assert_eq!(
        (
            &ready["status"],
            &ready["reason"],
            &ready["lastTransitionTime"]
        ),
        (
            &json!("True"),
            &json!("KubeletReady"),
            &json!(format_time(at(60)))
        )
    );
    settle(&NodeLifecycleController, &mut s, &key(), at(60));
    assert!(taints(&s).is_empty());
}

#[test]
fn memory_pressure_is_reported_and_tainted() {
    let mut s = switched(
        node(json!({})),
        json!({"kdrill.io/pressure": "memory"}),
        &format_time(t0()),
        vec![],
    );
    let ev = settle(&NodeHeartbeat, &mut s, &key(), at(1));
    assert_eq!(
        reasons(&ev),
        [(
            "NodeHasInsufficientMemory".into(),
            "Node w1 status is now: NodeHasInsufficientMemory".into()
        )]
    );
    let n = s.get(res::NODES, "", "w1").expect("node");
    let c = node_condition(n, "MemoryPressure").expect("memory");
    assert_eq!(
        (&c["status"], &c["reason"], &c["message"]),
        (
            &json!("True"),
            &json!("KubeletHasInsufficientMemory"),
            &json!("kubelet has insufficient memory available")
        )
    );
    settle(&NodeLifecycleController, &mut s, &key(), at(1));
    assert_eq!(
        taints(&s),
        [(
            "node.kubernetes.io/memory-pressure".to_string(),
            "NoSchedule".to_string()
        )]
    );
}

#[test]
fn the_kubelet_reports_status_every_five_minutes() {
    // The Ready heartbeat in `node()` is 09:59:50, 10s before t0.
    let mut s = snap(node(json!({})), &format_time(t0()), vec![]);
    let out = NodeHeartbeat.reconcile(&s, &key(), at(1));
    assert!(
        !out.actions
            .iter()
            .any(|a| matches!(a, Action::Patch { res, .. } if *res == res::NODES))
    );
    assert_eq!(out.requeue_after, Some(SignedDuration::from_secs(9)));
    let out = NodeHeartbeat.reconcile(&s, &key(), at(290));
    let mut seq = 0;
    let ev = apply(&mut s, &out.actions, at(290), &mut seq);
    assert!(ev.is_empty(), "no NodeReady for a node that stayed ready");
    let n = s.get(res::NODES, "", "w1").expect("node");
    let ready = node_condition(n, "Ready").expect("ready");
    assert_eq!(ready["lastHeartbeatTime"], format_time(at(290)));
    assert_eq!(ready["lastTransitionTime"], "2025-05-01T09:00:00Z");
}
