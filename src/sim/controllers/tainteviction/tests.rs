//! Table tests of the taint eviction controller.

use super::*;
use crate::sim::controllers::testutil::{reasons, t0};
use crate::sim::snapshot::Snapshot;

fn default_tolerations() -> Value {
    json!([
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ])
}

fn snap(taints: Value, tolerations: Value) -> Snapshot {
    Snapshot::from_objects([
        (
            res::NODES,
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w1"}, "spec": {"taints": taints}}),
        ),
        (
            res::PODS,
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "a", "namespace": "default", "uid": "uid-a"},
                   "spec": {"nodeName": "w1", "tolerations": tolerations},
                   "status": {"phase": "Running"}}),
        ),
    ])
}

fn unreachable() -> Value {
    json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": format_time(t0())},
           {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}])
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "a")
}

#[test]
fn pods_go_when_their_toleration_runs_out() {
    let forever = json!([{"operator": "Exists"}]);
    let short = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
                       {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]);
    // (taints, tolerations, seconds after the taint, evicts, requeue secs)
    let cases = [
        (unreachable(), default_tolerations(), 299, false, Some(1)),
        (unreachable(), default_tolerations(), 300, true, None),
        // The first matching toleration decides.
        (unreachable(), short, 30, true, None),
        (unreachable(), forever, 10_000, false, None),
        (unreachable(), json!([]), 0, true, None),
        (
            json!([{"key": "x", "effect": "NoSchedule"}]),
            json!([]),
            0,
            false,
            None,
        ),
    ];
    for (taints, tols, secs, evicts, requeue) in cases {
        let s = snap(taints.clone(), tols.clone());
        let now = t0() + SignedDuration::from_secs(secs);
        let out = TaintEvictionController.reconcile(&s, &key(), now);
        let deleted = out
            .actions
            .iter()
            .any(|a| matches!(a, Action::Delete { .. }));
        assert_eq!(deleted, evicts, "{taints} {tols} {secs}");
        assert_eq!(
            out.requeue_after,
            requeue.map(SignedDuration::from_secs),
            "{tols} {secs}"
        );
    }
}

#[test]
fn an_eviction_is_announced_and_marks_the_pod() {
    let s = snap(unreachable(), default_tolerations());
    let out = TaintEvictionController.reconcile(&s, &key(), t0() + SignedDuration::from_secs(300));
    let events: Vec<_> = out
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons(&events),
        [(
            "TaintManagerEviction".into(),
            "Marking for deletion Pod default/a".into()
        )]
    );
    assert_eq!(events[0].component, "taint-eviction-controller");
    let cond = out.actions.iter().find_map(|a| match a {
        Action::Patch { patch, .. } => Some(patch["status"]["conditions"][0].clone()),
        _ => None,
    });
    let cond = cond.expect("condition");
    assert_eq!(
        (&cond["type"], &cond["reason"], &cond["message"]),
        (
            &json!("DisruptionTarget"),
            &json!("DeletionByTaintManager"),
            &json!("Taint manager: deleting due to NoExecute taint")
        )
    );
}

#[test]
fn only_pods_on_a_node_are_looked_at() {
    let s = snap(unreachable(), json!([]));
    let bound = (**s.get(res::PODS, "default", "a").unwrap()).clone();
    let c = TaintEvictionController;
    assert_eq!(c.keys_for(&s, res::PODS, &bound), vec![key()]);
    let mut unbound = bound;
    unbound["spec"].as_object_mut().unwrap().remove("nodeName");
    assert_eq!(c.keys_for(&s, res::PODS, &unbound), Vec::<ObjectKey>::new());
}

#[test]
fn pods_on_a_node_without_taints_are_not_looked_at() {
    let clean = snap(json!([]), json!([]));
    let pod = (**clean.get(res::PODS, "default", "a").unwrap()).clone();
    let c = TaintEvictionController;
    assert_eq!(c.keys_for(&clean, res::PODS, &pod), Vec::<ObjectKey>::new());
    // Any taint, even one that evicts nothing, and a node the snapshot
    // does not hold yet, leave the decision to `reconcile`.
    let soft = snap(json!([{"key": "k", "effect": "NoSchedule"}]), json!([]));
    assert_eq!(c.keys_for(&soft, res::PODS, &pod), vec![key()]);
    let mut elsewhere = pod;
    elsewhere["spec"]["nodeName"] = json!("w9");
    assert_eq!(c.keys_for(&clean, res::PODS, &elsewhere), vec![key()]);
}
