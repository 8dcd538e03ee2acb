use super::*;
use crate::sim::controllers::persistentvolume::tests::{claim, class};
use crate::sim::controllers::testutil::{apply, reasons, t0};

/// (case, class binding mode, claim, expected events)
type Case<'a> = (&'a str, &'a str, Value, Vec<(String, String)>);

fn handed_over(mut c: Value, node: Option<&str>) -> Value {
    let mut ann = json!({vu::ANN_STORAGE_PROVISIONER: PROVISIONER, vu::ANN_BETA_STORAGE_PROVISIONER: PROVISIONER});
    if let Some(n) = node {
        ann[vu::ANN_SELECTED_NODE] = json!(n);
    }
    c["metadata"]["annotations"] = ann;
    c
}

fn standard(mode: &str) -> (ResKey, Value) {
    (res::STORAGECLASSES, class("standard", PROVISIONER, mode))
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "data")
}

#[test]
fn provisions_on_the_selected_node() {
    let p = LocalPathProvisioner::new(7);
    let c = handed_over(
        claim("data", Some("standard"), &["ReadWriteOnce"], "1Gi"),
        Some("kdrill-worker"),
    );
    let mut s = Snapshot::from_objects(vec![
        standard("WaitForFirstConsumer"),
        (res::PVCS, c),
        provisioner_pod(),
    ]);
    let out = p.reconcile(&s, &key(), t0());
    let mut seq = 0;
    let events = apply(&mut s, &out.actions, t0(), &mut seq);
    assert_eq!(
        reasons(&events),
        vec![
            (
                "Provisioning".to_string(),
                "External provisioner is provisioning volume for claim \"default/data\""
                    .to_string()
            ),
            (
                "ProvisioningSucceeded".to_string(),
                "Successfully provisioned volume pvc-uid-data".to_string()
            ),
        ]
    );
    assert!(
        events[0]
            .component
            .starts_with("rancher.io/local-path_local-path-provisioner-7c8d44b885-xqdtt_")
    );
    let pv = s.get(res::PVS, "", "pvc-uid-data").expect("volume created");
    assert_eq!(
        pv["spec"]["hostPath"]["path"],
        "/var/local-path-provisioner/pvc-uid-data_default_data"
    );
    assert_eq!(
        pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
        json!(["kdrill-worker"])
    );
    assert_eq!(pv["spec"]["claimRef"]["uid"], "uid-data");
    assert_eq!(pv["spec"]["capacity"]["storage"], "1Gi");
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
    assert_eq!(pv["spec"]["storageClassName"], "standard");
    assert_eq!(
        pv["metadata"]["annotations"][vu::ANN_DYNAMICALLY_PROVISIONED],
        PROVISIONER
    );
    // Once the volume exists there is nothing more to do.
    assert_eq!(p.reconcile(&s, &key(), t0()).actions, []);
}

#[test]
fn waits_or_fails_as_the_library_does() {
    let p = LocalPathProvisioner::new(7);
    let rwo = &["ReadWriteOnce"][..];
    let fail = |m: &str| {
        vec![
            (
                "Provisioning".to_string(),
                "External provisioner is provisioning volume for claim \"default/data\""
                    .to_string(),
            ),
            (
                "ProvisioningFailed".to_string(),
                format!("failed to provision volume with StorageClass \"standard\": {m}"),
            ),
        ]
    };
    // (case, class binding mode, claim, expected events)
    let cases: Vec<Case> = vec![
        (
            "no node selected yet",
            "WaitForFirstConsumer",
            handed_over(claim("data", Some("standard"), rwo, "1Gi"), None),
            vec![],
        ),
        (
            "not handed over by the PV controller",
            "WaitForFirstConsumer",
            claim("data", Some("standard"), rwo, "1Gi"),
            vec![],
        ),
        (
            "read-write-many",
            "WaitForFirstConsumer",
            handed_over(
                claim("data", Some("standard"), &["ReadWriteMany"], "1Gi"),
                Some("kdrill-worker"),
            ),
            fail("Only support ReadWriteOnce access mode"),
        ),
        (
            "immediate binding has no node",
            "Immediate",
            handed_over(claim("data", Some("standard"), rwo, "1Gi"), None),
            fail("configuration error, no node was specified"),
        ),
    ];
    for (case, mode, c, want) in cases {
        let mut s = Snapshot::from_objects(vec![standard(mode), (res::PVCS, c), provisioner_pod()]);
        let out = p.reconcile(&s, &key(), t0());
        let mut seq = 0;
        let events = apply(&mut s, &out.actions, t0(), &mut seq);
        assert_eq!(reasons(&events), want, "{case}");
        assert!(s.list(res::PVS, None).next().is_none(), "{case}");
    }
}

#[test]
fn deletes_released_volumes_it_provisioned() {
    let p = LocalPathProvisioner::new(7);
    let c = claim("data", Some("standard"), &["ReadWriteOnce"], "1Gi");
    let class = class("standard", PROVISIONER, "WaitForFirstConsumer");
    let mut pv = volume_for(&c, &class, "kdrill-worker");
    pv["status"] = json!({"phase": "Released"});
    let mut retained = pv.clone();
    retained["metadata"]["name"] = json!("kept");
    retained["spec"]["persistentVolumeReclaimPolicy"] = json!("Retain");
    let mut bound = pv.clone();
    bound["metadata"]["name"] = json!("bound");
    bound["status"]["phase"] = json!("Bound");
    let s = Snapshot::from_objects(vec![
        (res::PVS, pv),
        (res::PVS, retained),
        (res::PVS, bound),
        provisioner_pod(),
    ]);
    let deletes = |name: &str| {
        p.reconcile(&s, &ObjectKey::new("", name), t0())
            .actions
            .iter()
            .any(|a| matches!(a, Action::Delete { key, .. } if key.name == name))
    };
    assert!(deletes("pvc-uid-data"));
    assert!(!deletes("kept"));
    assert!(!deletes("bound"));
}

#[test]
fn nothing_is_provisioned_while_the_provisioner_pod_does_not_run() {
    let p = LocalPathProvisioner::new(7);
    let c = handed_over(
        claim("data", Some("standard"), &["ReadWriteOnce"], "1Gi"),
        Some("kdrill-worker"),
    );
    let (r, mut pod) = provisioner_pod();
    pod["status"]["phase"] = json!("Pending");
    let s = Snapshot::from_objects(vec![
        standard("WaitForFirstConsumer"),
        (res::PVCS, c.clone()),
        (r, pod.clone()),
    ]);
    assert_eq!(p.reconcile(&s, &key(), t0()).actions, []);
    // Its start brings the waiting claim back.
    pod["status"]["phase"] = json!("Running");
    assert_eq!(p.keys_for(&s, r, &pod), [key()]);
    let s = Snapshot::from_objects(vec![
        standard("WaitForFirstConsumer"),
        (res::PVCS, c),
        (r, pod),
    ]);
    assert!(!p.reconcile(&s, &key(), t0()).actions.is_empty());
}
