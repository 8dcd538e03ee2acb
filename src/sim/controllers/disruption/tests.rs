//! Table tests of the disruption controller: snapshot in, status out.

use super::*;
use crate::sim::clock::format_time;
use crate::sim::controllers::testutil::{reasons, settle, t0};

fn pdb(spec: Value) -> Value {
    let mut s = json!({"selector": {"matchLabels": {"app": "web"}}});
    json_patch::merge(&mut s, &spec);
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "web", "namespace": "default", "uid": "pdb-uid",
                        "resourceVersion": "1", "generation": 1},
           "spec": s})
}

fn deployment(replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "default", "uid": "d-uid"},
           "spec": {"replicas": replicas}})
}

fn replicaset(replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
           "metadata": {"name": "web-abc", "namespace": "default", "uid": "rs-uid",
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-uid", "controller": true}]},
           "spec": {"replicas": replicas}})
}

/// A pod of the Deployment's ReplicaSet (`owner` "rs"), a DaemonSet's
/// ("ds") or nobody's (""), ready or not.
fn pod(name: &str, ready: bool, owner: &str) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}});
    let refs = match owner {
        "rs" => {
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "rs-uid", "controller": true}])
        }
        "ds" => {
            json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "ds-uid", "controller": true}])
        }
        _ => json!([]),
    };
    p["metadata"]["ownerReferences"] = refs;
    p
}

fn snap(pdb: Value, replicas: i64, pods: Vec<Value>) -> Snapshot {
    let mut objs = vec![
        (PDBS, pdb),
        (res::DEPLOYMENTS, deployment(replicas)),
        (res::REPLICASETS, replicaset(replicas)),
    ];
    objs.extend(pods.into_iter().map(|p| (res::PODS, p)));
    Snapshot::from_objects(objs)
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

fn counts(s: &Snapshot) -> Counts {
    let st = &s.get(PDBS, "default", "web").expect("pdb")["status"];
    let n = |k: &str| st[k].as_i64().unwrap_or(-1);
    (
        n("currentHealthy"),
        n("desiredHealthy"),
        n("expectedPods"),
        n("disruptionsAllowed"),
    )
}

fn condition(s: &Snapshot) -> (String, String) {
    let c = &s.get(PDBS, "default", "web").expect("pdb")["status"]["conditions"][0];
    (
        c["status"].as_str().unwrap_or("").into(),
        c["reason"].as_str().unwrap_or("").into(),
    )
}

/// (current, desired, expected, allowed).
type Counts = (i64, i64, i64, i64);

#[test]
fn status_from_min_available_and_max_unavailable() {
    let ready = |n: usize| (0..n).map(|i| pod(&format!("p{i}"), true, "rs")).collect();
    // (spec, deployment replicas, pods, (current, desired, expected, allowed))
    let cases: Vec<(Value, i64, Vec<Value>, Counts)> = vec![
        (json!({"minAvailable": 2}), 2, ready(2), (2, 2, 2, 0)),
        (json!({"minAvailable": 2}), 3, ready(3), (3, 2, 3, 1)),
        // An integer minAvailable counts the selected pods, not the scale.
        (json!({"minAvailable": 1}), 5, ready(2), (2, 1, 2, 1)),
        // Percentages scale against the controller, rounding up.
        (json!({"minAvailable": "50%"}), 3, ready(3), (3, 2, 3, 1)),
        (json!({"maxUnavailable": 1}), 3, ready(3), (3, 2, 3, 1)),
        (json!({"maxUnavailable": "30%"}), 3, ready(3), (3, 2, 3, 1)),
        (json!({"maxUnavailable": 0}), 3, ready(3), (3, 3, 3, 0)),
        (
            json!({"maxUnavailable": 1}),
            3,
            vec![
                pod("a", true, "rs"),
                pod("b", false, "rs"),
                pod("c", true, "rs"),
            ],
            (2, 2, 3, 0),
        ),
        // No pods: nothing is allowed.
        (json!({"maxUnavailable": 1}), 3, vec![], (0, 0, 0, 0)),
    ];
    for (spec, replicas, pods, want) in cases {
        let mut s = snap(pdb(spec.clone()), replicas, pods);
        settle(&DisruptionController, &mut s, &key(), t0());
        assert_eq!(counts(&s), want, "{spec}");
        let (st, reason) = condition(&s);
        if want.3 > 0 {
            assert_eq!((st.as_str(), reason.as_str()), ("True", SUFFICIENT_PODS));
        } else {
            assert_eq!((st.as_str(), reason.as_str()), ("False", INSUFFICIENT_PODS));
        }
        let pdb = s.get(PDBS, "default", "web").expect("pdb");
        assert_eq!(pdb["status"]["observedGeneration"], 1);
        assert_eq!(pdb["status"]["conditions"][0]["observedGeneration"], 1);
    }
}

#[test]
fn events_as_upstream_words_them() {
    let mut s = snap(pdb(json!({"minAvailable": 1})), 1, vec![]);
    let ev = settle(&DisruptionController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&ev),
        [("NoPods".into(), "No matching pods found".into())]
    );

    let mut s = snap(
        pdb(json!({"maxUnavailable": 1})),
        1,
        vec![pod("a", true, "ds")],
    );
    let ev = settle(&DisruptionController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&ev),
        [(
            "CalculateExpectedPodCountFailed".into(),
            "Failed to calculate the number of expected pods: daemonsets.apps does not implement the scale subresource".into()
        )]
    );
    assert_eq!(condition(&s), ("False".into(), SYNC_FAILED.into()));
    assert_eq!(counts(&s).3, 0);

    let mut s = snap(
        pdb(json!({"maxUnavailable": 1})),
        1,
        vec![pod("a", true, "")],
    );
    let ev = settle(&DisruptionController, &mut s, &key(), t0());
    assert_eq!(ev[0].reason, "UnmanagedPods");
    assert_eq!(
        ev[0].message,
        "Pods selected by this PodDisruptionBudget (selector: &LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{},}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value."
    );
}

#[test]
fn an_empty_selector_selects_nothing() {
    let mut s = snap(
        pdb(json!({"selector": null, "minAvailable": 0})),
        2,
        vec![pod("a", true, "rs")],
    );
    s.upsert(
        PDBS,
        std::sync::Arc::new({
            let mut p = pdb(json!({"minAvailable": 0}));
            p["spec"]["selector"] = json!({});
            p
        }),
    );
    settle(&DisruptionController, &mut s, &key(), t0());
    assert_eq!(counts(&s), (0, 0, 0, 0));
}

#[test]
fn evicted_pods_do_not_count_until_the_deletion_timeout() {
    let mut p = pdb(json!({"minAvailable": 1}));
    p["status"] = json!({"disruptedPods": {"p0": format_time(t0())}, "disruptionsAllowed": 0,
                         "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 2, "observedGeneration": 1});
    let pods = vec![pod("p0", true, "rs"), pod("p1", true, "rs")];
    let mut s = snap(p.clone(), 2, pods.clone());
    let out = DisruptionController.reconcile(&s, &key(), t0());
    assert_eq!(
        out.requeue_after,
        Some(DELETION_TIMEOUT + SignedDuration::from_millis(1))
    );
    settle(&DisruptionController, &mut s, &key(), t0());
    assert_eq!(counts(&s), (1, 1, 2, 0));
    let later = t0() + SignedDuration::from_secs(121);
    let mut s = snap(p, 2, pods);
    let ev = settle(&DisruptionController, &mut s, &key(), later);
    assert_eq!(counts(&s), (2, 1, 2, 1));
    assert_eq!(
        reasons(&ev),
        [(
            "NotDeleted".into(),
            "Pod was expected by PDB default/default to be deleted but it wasn't".into()
        )]
    );
    assert!(
        s.get(PDBS, "default", "web").expect("pdb")["status"]
            .get("disruptedPods")
            .is_none()
    );
}

#[test]
fn a_settled_status_asks_for_nothing_and_keeps_its_transition_time() {
    let mut s = snap(
        pdb(json!({"minAvailable": 1})),
        2,
        vec![pod("a", true, "rs")],
    );
    settle(&DisruptionController, &mut s, &key(), t0());
    let later = t0() + SignedDuration::from_secs(60);
    assert!(
        DisruptionController
            .reconcile(&s, &key(), later)
            .actions
            .is_empty()
    );
    let ltt = |s: &Snapshot| {
        s.get(PDBS, "default", "web").expect("pdb")["status"]["conditions"][0]["lastTransitionTime"]
            .clone()
    };
    let before = ltt(&s);
    s.upsert(res::PODS, std::sync::Arc::new(pod("b", true, "rs")));
    settle(&DisruptionController, &mut s, &key(), later);
    assert_eq!(counts(&s), (2, 1, 2, 1));
    assert_ne!(ltt(&s), before, "False -> True moves the transition time");
}

#[test]
fn pods_map_to_the_budgets_that_select_them() {
    let s = snap(pdb(json!({"minAvailable": 1})), 1, vec![]);
    let keys = DisruptionController.keys_for(&s, res::PODS, &pod("a", true, "rs"));
    assert_eq!(keys, [key()]);
    let mut other = pod("b", true, "rs");
    other["metadata"]["labels"] = json!({"app": "db"});
    assert!(
        DisruptionController
            .keys_for(&s, res::PODS, &other)
            .is_empty()
    );
}
