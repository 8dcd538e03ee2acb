use super::*;
use crate::sim::controllers::testutil::{apply, put, reasons, settle, t0};

fn sts(replicas: i64, policy: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-uid", "generation": 1, "resourceVersion": "10"},
        "spec": {"replicas": replicas, "serviceName": "nginx", "podManagementPolicy": policy,
                 "selector": {"matchLabels": {"app": "web"}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
    })
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

fn pod_names(snap: &Snapshot) -> Vec<String> {
    snap.list(res::PODS, Some("default"))
        .map(|p| meta::name(p).to_string())
        .collect()
}

/// Marks every pod Running and Ready, as the kubelet would.
fn make_ready(snap: &mut Snapshot) {
    let pods: Vec<Value> = snap.list(res::PODS, None).map(|p| (**p).clone()).collect();
    for mut p in pods {
        p["status"] = json!({"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2025-05-01T09:00:00Z"}]});
        put(snap, res::PODS, p);
    }
}

fn deleted(out: &Reconciled) -> Vec<&str> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { key, .. } => Some(key.name.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn ordinals_parse_only_the_sets_own_names() {
    let p = |n: &str| json!({"metadata": {"name": n}});
    let cases = [
        ("web-0", Some(0)),
        ("web-12", Some(12)),
        ("web-01", None),
        ("web-", None),
        ("web-x", None),
        ("webby-1", None),
        ("web-1-2", None),
    ];
    for (name, want) in cases {
        assert_eq!(ordinal("web", &p(name)), want, "{name}");
    }
}

#[test]
fn ordered_ready_creates_one_ordinal_at_a_time() {
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(3, "OrderedReady"))]);
    let events = settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(
        reasons(&events),
        [(
            "SuccessfulCreate".to_string(),
            "create Pod web-0 in StatefulSet web successful".to_string()
        )]
    );
    assert_eq!(pod_names(&snap), ["web-0"]);
    make_ready(&mut snap);
    let events = settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(
        reasons(&events)[0].1,
        "create Pod web-1 in StatefulSet web successful"
    );
    assert_eq!(pod_names(&snap), ["web-0", "web-1"]);
    make_ready(&mut snap);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    make_ready(&mut snap);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(pod_names(&snap), ["web-0", "web-1", "web-2"]);
    let s = snap.get(hres::STATEFULSETS, "default", "web").unwrap();
    let rev = s["status"]["updateRevision"].as_str().unwrap().to_string();
    assert!(rev.starts_with("web-"), "{rev}");
    assert_eq!(
        s["status"],
        json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "currentReplicas": 3,
               "updatedReplicas": 3, "currentRevision": rev, "updateRevision": rev,
               "observedGeneration": 1, "collisionCount": 0})
    );
    assert!(
        snap.get(hres::CONTROLLERREVISIONS, "default", &rev)
            .is_some()
    );
}

#[test]
fn parallel_creates_every_ordinal_at_once() {
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(3, "Parallel"))]);
    let events = settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(events.len(), 3);
    assert_eq!(pod_names(&snap), ["web-0", "web-1", "web-2"]);
}

#[test]
fn pods_carry_stable_identity_labels_and_claims() {
    let mut s = sts(1, "OrderedReady");
    s["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "www"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]);
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, s)]);
    let events = settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(
        reasons(&events)[0].1,
        "create Claim www-web-0 Pod web-0 in StatefulSet web success"
    );
    let pvc = snap.get(hres::PVCS, "default", "www-web-0").unwrap();
    assert_eq!(pvc["metadata"]["labels"]["app"], "web");
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "1Gi");
    let p = snap.get(res::PODS, "default", "web-0").unwrap();
    let labels = &p["metadata"]["labels"];
    assert_eq!(labels[POD_NAME_LABEL], "web-0");
    assert_eq!(labels[POD_INDEX_LABEL], "0");
    let s = snap.get(hres::STATEFULSETS, "default", "web").unwrap();
    assert_eq!(labels[REVISION_LABEL], s["status"]["updateRevision"]);
    assert_eq!(p["spec"]["hostname"], "web-0");
    assert_eq!(p["spec"]["subdomain"], "nginx");
    assert_eq!(
        p["spec"]["volumes"],
        json!([{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}}])
    );
    assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
}

#[test]
fn scale_down_removes_the_highest_ordinal_first() {
    // (policy, replicas, deleted)
    let cases = [
        ("OrderedReady", 1, vec!["web-2"]),
        ("Parallel", 1, vec!["web-2", "web-1"]),
        ("OrderedReady", 3, vec![]),
    ];
    for (policy, replicas, want) in cases {
        let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(3, policy))]);
        settle(&StatefulSetController, &mut snap, &key(), t0());
        for _ in 0..3 {
            make_ready(&mut snap);
            settle(&StatefulSetController, &mut snap, &key(), t0());
        }
        let mut s = (**snap.get(hres::STATEFULSETS, "default", "web").unwrap()).clone();
        s["spec"]["replicas"] = json!(replicas);
        put(&mut snap, hres::STATEFULSETS, s);
        let out = StatefulSetController.reconcile(&snap, &key(), t0());
        assert_eq!(deleted(&out), want, "{policy} {replicas}");
        let mut seq = 0;
        let events = apply(&mut snap, &out.actions, t0(), &mut seq);
        if let Some(first) = want.first() {
            assert_eq!(
                reasons(&events)[0],
                (
                    "SuccessfulDelete".to_string(),
                    format!("delete Pod {first} in StatefulSet web successful")
                )
            );
        }
    }
}

#[test]
fn ordered_scale_down_waits_for_unhealthy_pods() {
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(3, "OrderedReady"))]);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    for _ in 0..3 {
        make_ready(&mut snap);
        settle(&StatefulSetController, &mut snap, &key(), t0());
    }
    let mut p1 = (**snap.get(res::PODS, "default", "web-1").unwrap()).clone();
    p1["status"]["conditions"][0]["status"] = json!("False");
    put(&mut snap, res::PODS, p1);
    let mut s = (**snap.get(hres::STATEFULSETS, "default", "web").unwrap()).clone();
    s["spec"]["replicas"] = json!(1);
    put(&mut snap, hres::STATEFULSETS, s);
    let out = StatefulSetController.reconcile(&snap, &key(), t0());
    assert!(deleted(&out).is_empty(), "{:?}", out.actions);
}

#[test]
fn rolling_update_replaces_from_the_highest_ordinal() {
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(3, "OrderedReady"))]);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    for _ in 0..3 {
        make_ready(&mut snap);
        settle(&StatefulSetController, &mut snap, &key(), t0());
    }
    let mut s = (**snap.get(hres::STATEFULSETS, "default", "web").unwrap()).clone();
    s["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    s["metadata"]["generation"] = json!(2);
    put(&mut snap, hres::STATEFULSETS, s);
    let out = StatefulSetController.reconcile(&snap, &key(), t0());
    assert_eq!(deleted(&out), ["web-2"]);
    assert!(
        out.actions
            .iter()
            .any(|a| matches!(a, Action::Create { res, .. } if *res == hres::CONTROLLERREVISIONS)),
        "a new revision: {:?}",
        out.actions
    );
    let mut seq = 0;
    apply(&mut snap, &out.actions, t0(), &mut seq);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    let p2 = snap.get(res::PODS, "default", "web-2").unwrap();
    assert_eq!(p2["spec"]["containers"][0]["image"], "nginx:1.27");
    let s = snap.get(hres::STATEFULSETS, "default", "web").unwrap();
    assert_eq!(s["status"]["updatedReplicas"], 1);
    assert_eq!(s["status"]["currentReplicas"], 2);
    assert_ne!(
        s["status"]["currentRevision"],
        s["status"]["updateRevision"]
    );
}

#[test]
fn failed_pods_are_deleted_and_recreated() {
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(1, "OrderedReady"))]);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    let mut p = (**snap.get(res::PODS, "default", "web-0").unwrap()).clone();
    p["status"]["phase"] = json!("Failed");
    put(&mut snap, res::PODS, p);
    let events = settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(
        reasons(&events),
        [
            (
                "SuccessfulDelete".to_string(),
                "delete Pod web-0 in StatefulSet web successful".to_string()
            ),
            (
                "SuccessfulCreate".to_string(),
                "create Pod web-0 in StatefulSet web successful".to_string()
            ),
        ]
    );
}

#[test]
fn a_partition_keeps_lower_ordinals_at_the_current_revision() {
    let mut snap = Snapshot::from_objects([(hres::STATEFULSETS, sts(3, "OrderedReady"))]);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    for _ in 0..3 {
        make_ready(&mut snap);
        settle(&StatefulSetController, &mut snap, &key(), t0());
    }
    let mut s = (**snap.get(hres::STATEFULSETS, "default", "web").unwrap()).clone();
    s["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    s["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(2);
    put(&mut snap, hres::STATEFULSETS, s);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    make_ready(&mut snap);
    let out = StatefulSetController.reconcile(&snap, &key(), t0());
    assert!(deleted(&out).is_empty(), "{:?}", out.actions);
    let image = |snap: &Snapshot, n: &str| {
        snap.get(res::PODS, "default", n).unwrap()["spec"]["containers"][0]["image"].clone()
    };
    assert_eq!(image(&snap, "web-2"), "nginx:1.27");
    assert_eq!(image(&snap, "web-1"), "nginx");
    // A lost pod below the partition comes back at the current revision.
    let gone = (**snap.get(res::PODS, "default", "web-1").unwrap()).clone();
    snap.remove(res::PODS, &gone);
    settle(&StatefulSetController, &mut snap, &key(), t0());
    assert_eq!(image(&snap, "web-1"), "nginx");
    let s = snap.get(hres::STATEFULSETS, "default", "web").unwrap();
    assert_eq!(s["status"]["updatedReplicas"], 1);
    assert_eq!(s["status"]["currentReplicas"], 2);
}
