//! The VolumeBinding plugin's messages, and WaitForFirstConsumer binding
//! driven through the scheduler, the PV controller and the provisioner.

use super::*;
use crate::sim::controllers::localpath::LocalPathProvisioner;
use crate::sim::controllers::persistentvolume::PersistentVolumeController;
use crate::sim::controllers::persistentvolume::tests::{claim, class, volume};
use crate::sim::controllers::scheduler::Scheduler;
use crate::sim::controllers::testutil::{apply, t0};
use crate::sim::runtime::Controller;
use crate::store::ResKey;

type Objects = Vec<(ResKey, Value)>;

fn node(name: &str, control_plane: bool) -> Value {
    let mut n = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1",
                     "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"}},
    });
    if control_plane {
        n["spec"]["taints"] =
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    }
    n
}

fn cluster(extra: Vec<(ResKey, Value)>) -> Snapshot {
    let mut objs = vec![
        (res::NODES, node("kdrill-control-plane", true)),
        (res::NODES, node("kdrill-worker", false)),
        (res::NODES, node("kdrill-worker2", false)),
        (
            res::STORAGECLASSES,
            class("standard", "rancher.io/local-path", "WaitForFirstConsumer"),
        ),
        (
            res::STORAGECLASSES,
            class(
                "local",
                "kubernetes.io/no-provisioner",
                "WaitForFirstConsumer",
            ),
        ),
    ];
    objs.push(crate::sim::controllers::localpath::provisioner_pod());
    objs.extend(extra);
    Snapshot::from_objects(objs)
}

fn pod(claim: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "app", "namespace": "default", "uid": "uid-app", "resourceVersion": "2"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]},
        "status": {"phase": "Pending"}})
}

fn pinned(mut pv: Value, node: &str) -> Value {
    pv["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}});
    pv
}

fn bound(mut c: Value, pv: &str) -> Value {
    c["spec"]["volumeName"] = json!(pv);
    c["metadata"]["annotations"] = json!({vu::ANN_BIND_COMPLETED: "yes"});
    c["status"]["phase"] = json!("Bound");
    c
}

fn app_key() -> ObjectKey {
    ObjectKey::new("default", "app")
}

/// The scheduler's FailedScheduling message for the pod, if any.
fn failed_scheduling(snap: &Snapshot) -> Option<String> {
    Scheduler::new(1)
        .reconcile(snap, &app_key(), t0())
        .actions
        .iter()
        .find_map(|a| match a {
            Action::Event(e) if e.reason == "FailedScheduling" => Some(e.message.clone()),
            _ => None,
        })
}

#[test]
fn scheduling_failures_name_the_volume_problem() {
    let rwo = &["ReadWriteOnce"][..];
    let taint = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }";
    let unhelpful =
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    // (case, objects, expected message)
    let cases: Vec<(&str, Objects, String)> = vec![
        (
            "missing claim",
            vec![],
            format!(
                "0/3 nodes are available: persistentvolumeclaim \"data\" not found. {unhelpful}"
            ),
        ),
        (
            "unbound claim of a missing class",
            vec![(res::PVCS, claim("data", Some("fast"), rwo, "1Gi"))],
            format!(
                "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. {unhelpful}"
            ),
        ),
        (
            "claim without class and no volume",
            vec![(res::PVCS, claim("data", Some(""), rwo, "1Gi"))],
            format!(
                "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. {unhelpful}"
            ),
        ),
        (
            "bound volume pinned to the control plane",
            vec![
                (res::PVCS, bound(claim("data", Some(""), rwo, "1Gi"), "pv1")),
                (
                    res::PVS,
                    pinned(
                        volume("pv1", "", rwo, "1Gi", "Retain"),
                        "kdrill-control-plane",
                    ),
                ),
            ],
            format!(
                "0/3 nodes are available: {taint}, 2 node(s) had volume node affinity conflict. {unhelpful}"
            ),
        ),
        (
            "bound to a volume that is gone",
            vec![(res::PVCS, bound(claim("data", Some(""), rwo, "1Gi"), "pv1"))],
            format!(
                "0/3 nodes are available: {taint}, 2 node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s). {unhelpful}"
            ),
        ),
        (
            "no-provisioner class without a fitting volume",
            vec![
                (res::PVCS, claim("data", Some("local"), rwo, "1Gi")),
                (
                    res::PVS,
                    pinned(
                        volume("pv1", "local", rwo, "1Gi", "Retain"),
                        "kdrill-control-plane",
                    ),
                ),
                (
                    res::PVS,
                    pinned(
                        volume("pv2", "local", rwo, "100Mi", "Retain"),
                        "kdrill-worker",
                    ),
                ),
            ],
            format!(
                "0/3 nodes are available: {taint}, 2 node(s) didn't find available persistent volumes to bind. {unhelpful}"
            ),
        ),
    ];
    for (case, objs, want) in cases {
        let mut objs = objs;
        objs.push((res::PODS, pod("data")));
        assert_eq!(
            failed_scheduling(&cluster(objs)).as_deref(),
            Some(want.as_str()),
            "{case}"
        );
    }
}

/// Runs the scheduler, the PV controller and the provisioner over every
/// key until none of them writes anything more.
fn drive(snap: &mut Snapshot) {
    let controllers: Vec<Box<dyn Controller>> = vec![
        Box::new(Scheduler::new(1)),
        Box::new(PersistentVolumeController),
        Box::new(LocalPathProvisioner::new(1)),
    ];
    let mut seq = 0;
    for _ in 0..30 {
        let mut wrote = false;
        let mut keys = vec![app_key()];
        keys.extend(snap.list(res::PVCS, None).map(|c| ObjectKey::of(c)));
        keys.extend(
            snap.list(res::PVS, None)
                .map(|p| ObjectKey::new("", meta::name(p))),
        );
        for c in &controllers {
            for k in &keys {
                // The scheduler only handles pods; the others claims and volumes.
                let is_pod = *k == app_key() && snap.get(res::PVCS, "default", "app").is_none();
                let scheduler = c.name() == "default-scheduler";
                if is_pod != scheduler {
                    continue;
                }
                let out = c.reconcile(snap, k, t0());
                wrote |= out.actions.iter().any(|a| !matches!(a, Action::Event(_)));
                apply(snap, &out.actions, t0(), &mut seq);
            }
        }
        if !wrote {
            return;
        }
    }
    panic!("storage controllers never settled");
}

#[test]
fn wait_for_first_consumer_provisions_on_the_chosen_node() {
    let rwo = &["ReadWriteOnce"][..];
    let mut snap = cluster(vec![
        (res::PVCS, claim("data", Some("standard"), rwo, "1Gi")),
        (res::PODS, pod("data")),
    ]);
    drive(&mut snap);
    let pod = snap.get(res::PODS, "default", "app").unwrap();
    let node = s(pod, "/spec/nodeName").to_string();
    assert!(node.starts_with("kdrill-worker"), "{node}");
    let c = snap.get(res::PVCS, "default", "data").unwrap();
    assert_eq!(
        vu::annotation(c, vu::ANN_SELECTED_NODE),
        Some(node.as_str())
    );
    assert_eq!(c["status"]["phase"], "Bound");
    assert_eq!(c["spec"]["volumeName"], "pvc-uid-data");
    let pv = snap.get(res::PVS, "", "pvc-uid-data").unwrap();
    assert_eq!(pv["status"]["phase"], "Bound");
    assert_eq!(
        pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
            [0],
        node.as_str()
    );
}

#[test]
fn wait_for_first_consumer_binds_a_static_volume_on_its_node() {
    let rwo = &["ReadWriteOnce"][..];
    let mut snap = cluster(vec![
        (res::PVCS, claim("data", Some("local"), rwo, "1Gi")),
        (
            res::PVS,
            pinned(
                volume("pv2", "local", rwo, "1Gi", "Retain"),
                "kdrill-worker2",
            ),
        ),
        (res::PODS, pod("data")),
    ]);
    drive(&mut snap);
    let pod = snap.get(res::PODS, "default", "app").unwrap();
    assert_eq!(pod["spec"]["nodeName"], "kdrill-worker2");
    let c = snap.get(res::PVCS, "default", "data").unwrap();
    assert_eq!(c["spec"]["volumeName"], "pv2");
    assert_eq!(c["status"]["phase"], "Bound");
    assert_eq!(vu::annotation(c, vu::ANN_SELECTED_NODE), None);
    let pv = snap.get(res::PVS, "", "pv2").unwrap();
    assert_eq!(pv["spec"]["claimRef"]["uid"], "uid-data");
    assert_eq!(
        pv["metadata"]["annotations"][vu::ANN_BOUND_BY_CONTROLLER],
        "yes"
    );
}
