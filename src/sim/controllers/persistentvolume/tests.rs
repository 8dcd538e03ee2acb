use super::*;
use crate::sim::controllers::testutil::{apply, reasons, settle, t0};

type Objects = Vec<(ResKey, Value)>;
type Events = Vec<(String, String, EventType)>;
/// (volume, phase after, events, deleted)
type ReclaimCase<'a> = (Value, &'a str, Vec<(String, String)>, bool);

pub fn class(name: &str, provisioner: &str, mode: &str) -> Value {
    json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
           "metadata": {"name": name, "uid": format!("uid-sc-{name}")},
           "provisioner": provisioner, "reclaimPolicy": "Delete", "volumeBindingMode": mode})
}

pub fn claim(name: &str, class: Option<&str>, modes: &[&str], size: &str) -> Value {
    let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "1"},
        "spec": {"accessModes": modes, "resources": {"requests": {"storage": size}}, "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"}});
    if let Some(cl) = class {
        c["spec"]["storageClassName"] = json!(cl);
    }
    c
}

pub fn volume(name: &str, class: &str, modes: &[&str], size: &str, policy: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "uid": format!("uid-{name}")},
        "spec": {"accessModes": modes, "capacity": {"storage": size}, "storageClassName": class,
                 "persistentVolumeReclaimPolicy": policy, "hostPath": {"path": format!("/mnt/{name}")},
                 "volumeMode": "Filesystem"},
        "status": {"phase": "Available"}})
}

fn pod(name: &str, claim: &str, node: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]},
        "status": {"phase": "Pending"}})
}

fn snap(objs: Vec<(ResKey, Value)>) -> Snapshot {
    Snapshot::from_objects(objs)
}

fn ckey(name: &str) -> ObjectKey {
    ObjectKey::new("default", name)
}

fn standard() -> (ResKey, Value) {
    (
        res::STORAGECLASSES,
        class("standard", "rancher.io/local-path", "WaitForFirstConsumer"),
    )
}

/// One reconcile of a claim that cannot bind: its events (reason,
/// message, type) and that it stays Pending, looked at again in 15s.
fn pending_events(objs: Vec<(ResKey, Value)>, name: &str) -> Vec<(String, String, EventType)> {
    let s = snap(objs);
    let out = PersistentVolumeController.reconcile(&s, &ckey(name), t0());
    assert_eq!(out.requeue_after, Some(RESYNC), "{name}");
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Event(e) => Some((e.reason.clone(), e.message.clone(), e.type_)),
            _ => None,
        })
        .collect()
}

#[test]
fn claims_that_cannot_bind_say_why() {
    let rwo = &["ReadWriteOnce"][..];
    let ev = |r: &str, m: &str, t: EventType| vec![(r.to_string(), m.to_string(), t)];
    // (case, objects, expected events)
    let cases: Vec<(&str, Objects, Events)> = vec![
        (
            "wait for first consumer",
            vec![
                standard(),
                (res::PVCS, claim("data", Some("standard"), rwo, "1Gi")),
            ],
            ev(
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
                EventType::Normal,
            ),
        ),
        (
            "a pod waits to be scheduled",
            vec![
                standard(),
                (res::PVCS, claim("data", Some("standard"), rwo, "1Gi")),
                (res::PODS, pod("web", "data", "")),
            ],
            ev(
                "WaitForPodScheduled",
                "waiting for pod web to be scheduled",
                EventType::Normal,
            ),
        ),
        (
            "no class, no volume",
            vec![(res::PVCS, claim("data", Some(""), rwo, "1Gi"))],
            ev(
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                EventType::Normal,
            ),
        ),
        (
            "missing class",
            vec![
                standard(),
                (res::PVCS, claim("data", Some("fast"), rwo, "1Gi")),
            ],
            ev(
                "ProvisioningFailed",
                "storageclass.storage.k8s.io \"fast\" not found",
                EventType::Warning,
            ),
        ),
        (
            "access mode mismatch with the only volume",
            vec![
                (
                    res::PVCS,
                    claim("data", Some(""), &["ReadWriteMany"], "1Gi"),
                ),
                (res::PVS, volume("pv1", "", rwo, "5Gi", "Retain")),
            ],
            ev(
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                EventType::Normal,
            ),
        ),
        (
            "volume too small",
            vec![
                (res::PVCS, claim("data", Some(""), rwo, "10Gi")),
                (res::PVS, volume("pv1", "", rwo, "5Gi", "Retain")),
            ],
            ev(
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                EventType::Normal,
            ),
        ),
        (
            "in-tree no-provisioner with immediate binding",
            vec![
                (
                    res::STORAGECLASSES,
                    class("local", "kubernetes.io/no-provisioner", "Immediate"),
                ),
                (res::PVCS, claim("data", Some("local"), rwo, "1Gi")),
            ],
            ev(
                "ProvisioningFailed",
                "no volume plugin matched name: kubernetes.io/no-provisioner",
                EventType::Warning,
            ),
        ),
        (
            "requested volume does not fit",
            vec![
                (res::PVCS, {
                    let mut c = claim("data", Some(""), &["ReadWriteMany"], "1Gi");
                    c["spec"]["volumeName"] = json!("pv1");
                    c
                }),
                (res::PVS, volume("pv1", "", rwo, "5Gi", "Retain")),
            ],
            ev(
                "VolumeMismatch",
                "Cannot bind to requested volume \"pv1\": incompatible accessMode",
                EventType::Warning,
            ),
        ),
        (
            "requested volume bound elsewhere",
            vec![
                (res::PVCS, {
                    let mut c = claim("data", Some(""), rwo, "1Gi");
                    c["spec"]["volumeName"] = json!("pv1");
                    c
                }),
                (res::PVS, {
                    let mut v = volume("pv1", "", rwo, "5Gi", "Retain");
                    v["spec"]["claimRef"] =
                        json!({"namespace": "default", "name": "other", "uid": "uid-other"});
                    v
                }),
            ],
            ev(
                "FailedBinding",
                "volume \"pv1\" already bound to a different claim.",
                EventType::Warning,
            ),
        ),
    ];
    for (case, objs, want) in cases {
        assert_eq!(pending_events(objs, "data"), want, "{case}");
    }
}

#[test]
fn external_provisioning_is_requested_once_a_node_is_selected() {
    let mut c = claim("data", Some("standard"), &["ReadWriteOnce"], "1Gi");
    c["metadata"]["annotations"] = json!({vu::ANN_SELECTED_NODE: "kdrill-worker"});
    let mut s = snap(vec![standard(), (res::PVCS, c)]);
    let out = PersistentVolumeController.reconcile(&s, &ckey("data"), t0());
    let mut seq = 0;
    let events = apply(&mut s, &out.actions, t0(), &mut seq);
    assert_eq!(
        reasons(&events),
        vec![(
            "ExternalProvisioning".to_string(),
            "Waiting for a volume to be created either by the external provisioner 'rancher.io/local-path' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.".to_string()
        )]
    );
    let c = s.get(res::PVCS, "default", "data").unwrap();
    assert_eq!(
        c["metadata"]["annotations"][vu::ANN_STORAGE_PROVISIONER],
        "rancher.io/local-path"
    );
    assert_eq!(
        c["metadata"]["annotations"][vu::ANN_BETA_STORAGE_PROVISIONER],
        "rancher.io/local-path"
    );
}

#[test]
fn binds_the_smallest_matching_static_volume() {
    let rwo = &["ReadWriteOnce"][..];
    let mut s = snap(vec![
        (res::PVCS, claim("data", Some("manual"), rwo, "1Gi")),
        (res::PVS, volume("big", "manual", rwo, "10Gi", "Retain")),
        (res::PVS, volume("small", "manual", rwo, "2Gi", "Retain")),
        (res::PVS, volume("tiny", "manual", rwo, "500Mi", "Retain")),
        (res::PVS, volume("other-class", "", rwo, "1Gi", "Retain")),
        (
            res::PVS,
            volume("rwx-only", "manual", &["ReadWriteMany"], "1Gi", "Retain"),
        ),
    ]);
    let events = settle(&PersistentVolumeController, &mut s, &ckey("data"), t0());
    assert_eq!(events, vec![]);
    let c = s.get(res::PVCS, "default", "data").unwrap();
    assert_eq!(c["spec"]["volumeName"], "small");
    assert_eq!(c["metadata"]["annotations"][vu::ANN_BIND_COMPLETED], "yes");
    assert_eq!(
        c["metadata"]["annotations"][vu::ANN_BOUND_BY_CONTROLLER],
        "yes"
    );
    assert_eq!(
        c["status"],
        json!({"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}})
    );
    let pv = s.get(res::PVS, "", "small").unwrap();
    assert_eq!(pv["status"]["phase"], "Bound");
    assert_eq!(pv["spec"]["claimRef"]["uid"], "uid-data");
    assert_eq!(pv["spec"]["claimRef"]["kind"], "PersistentVolumeClaim");
    assert_eq!(
        pv["metadata"]["annotations"][vu::ANN_BOUND_BY_CONTROLLER],
        "yes"
    );
    // The volume's own sync agrees.
    assert_eq!(
        PersistentVolumeController
            .reconcile(&s, &ObjectKey::new("", "small"), t0())
            .actions,
        []
    );
}

#[test]
fn selector_and_prebinding_pick_the_volume() {
    let rwo = &["ReadWriteOnce"][..];
    let mut c = claim("data", Some(""), rwo, "1Gi");
    c["spec"]["selector"] = json!({"matchLabels": {"tier": "gold"}});
    let mut gold = volume("gold", "", rwo, "5Gi", "Retain");
    gold["metadata"]["labels"] = json!({"tier": "gold"});
    let mut s = snap(vec![
        (res::PVCS, c),
        (res::PVS, volume("plain", "", rwo, "1Gi", "Retain")),
        (res::PVS, gold),
    ]);
    settle(&PersistentVolumeController, &mut s, &ckey("data"), t0());
    assert_eq!(
        s.get(res::PVCS, "default", "data").unwrap()["spec"]["volumeName"],
        "gold"
    );

    // A volume pre-bound to the claim by name (no uid) wins, and is not
    // marked bound-by-controller.
    let mut pre = volume("pre", "", rwo, "9Gi", "Retain");
    pre["spec"]["claimRef"] = json!({"namespace": "default", "name": "data"});
    let mut s = snap(vec![
        (res::PVCS, claim("data", Some(""), rwo, "1Gi")),
        (res::PVS, volume("plain", "", rwo, "1Gi", "Retain")),
        (res::PVS, pre),
    ]);
    settle(&PersistentVolumeController, &mut s, &ckey("data"), t0());
    assert_eq!(
        s.get(res::PVCS, "default", "data").unwrap()["spec"]["volumeName"],
        "pre"
    );
    let pv = s.get(res::PVS, "", "pre").unwrap();
    assert_eq!(pv["spec"]["claimRef"]["uid"], "uid-data");
    assert!(pv["metadata"]["annotations"][vu::ANN_BOUND_BY_CONTROLLER].is_null());
}

#[test]
fn volumes_whose_claim_is_gone_are_released_and_reclaimed() {
    let rwo = &["ReadWriteOnce"][..];
    let bound = |mut v: Value| {
        v["spec"]["claimRef"] = json!({"namespace": "default", "name": "gone", "uid": "uid-gone"});
        v["status"]["phase"] = json!("Bound");
        v
    };
    let mut provisioned = bound(volume("pvc-1", "standard", rwo, "1Gi", "Delete"));
    provisioned["metadata"]["annotations"] =
        json!({vu::ANN_DYNAMICALLY_PROVISIONED: "rancher.io/local-path"});
    let mut tmp = bound(volume("tmp", "", rwo, "1Gi", "Delete"));
    tmp["spec"]["hostPath"]["path"] = json!("/tmp/data");
    // (volume, phase after, events, deleted)
    let cases: Vec<ReclaimCase> = vec![
        (
            bound(volume("kept", "", rwo, "1Gi", "Retain")),
            "Released",
            vec![],
            false,
        ),
        (provisioned, "Released", vec![], false),
        (tmp, "", vec![], true),
        (
            bound(volume("mnt", "", rwo, "1Gi", "Delete")),
            "Failed",
            vec![(
                "VolumeFailedDelete".to_string(),
                "host_path deleter only supports /tmp/.+ but received provided /mnt/mnt"
                    .to_string(),
            )],
            false,
        ),
    ];
    for (pv, phase, want, deleted) in cases {
        let name = meta::name(&pv).to_string();
        let mut s = snap(vec![(res::PVS, pv)]);
        let events = settle(
            &PersistentVolumeController,
            &mut s,
            &ObjectKey::new("", &name),
            t0(),
        );
        assert_eq!(reasons(&events), want, "{name}");
        match s.get(res::PVS, "", &name) {
            Some(pv) => {
                assert!(!deleted, "{name} should be deleted");
                assert_eq!(pv["status"]["phase"], phase, "{name}");
            }
            None => assert!(deleted, "{name} was deleted"),
        }
    }
}

#[test]
fn a_claim_that_lost_its_volume_is_lost() {
    let mut c = claim("data", Some(""), &["ReadWriteOnce"], "1Gi");
    c["spec"]["volumeName"] = json!("pv1");
    c["metadata"]["annotations"] = json!({vu::ANN_BIND_COMPLETED: "yes"});
    c["status"]["phase"] = json!("Bound");
    let mut s = snap(vec![(res::PVCS, c)]);
    let events = settle(&PersistentVolumeController, &mut s, &ckey("data"), t0());
    assert_eq!(
        reasons(&events),
        vec![(
            "ClaimLost".to_string(),
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!".to_string()
        )]
    );
    assert_eq!(
        s.get(res::PVCS, "default", "data").unwrap()["status"]["phase"],
        "Lost"
    );
}

#[test]
fn a_pod_write_wakes_the_claims_it_waits_for_and_only_those() {
    let c = PersistentVolumeController;
    let p = pod("app", "data", "node-1");
    let keys = |objs: Objects| c.keys_for(&snap(objs), res::PODS, &p);
    // No claim held at all, or not the pod's: nothing to wake.
    assert!(keys(vec![standard()]).is_empty());
    let other = claim("other", Some("standard"), &["ReadWriteOnce"], "1Gi");
    assert!(keys(vec![standard(), (res::PVCS, other.clone())]).is_empty());
    // The pod's pending claim is woken; once bound it no longer waits.
    let pending = claim("data", Some("standard"), &["ReadWriteOnce"], "1Gi");
    assert_eq!(
        keys(vec![(res::PVCS, other), (res::PVCS, pending.clone())]),
        [ckey("data")]
    );
    let mut bound = pending;
    bound["metadata"]["annotations"] = json!({"pv.kubernetes.io/bind-completed": "yes"});
    assert!(keys(vec![(res::PVCS, bound)]).is_empty());
}
