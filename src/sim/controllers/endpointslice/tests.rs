use super::*;
use crate::sim::controllers::endpointutil::fixtures::{objects, pod, svc};
use crate::sim::controllers::testutil::{put, settle, t0};

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

/// Settles the controller and returns the Service's slices, by name.
fn settled(snap: &mut Snapshot) -> Vec<Value> {
    settle(&EndpointSliceController, snap, &key(), t0());
    assert_eq!(
        EndpointSliceController
            .reconcile(snap, &key(), t0())
            .actions,
        [],
        "reconcile is idempotent"
    );
    snap.list(svcres::ENDPOINTSLICES, Some("default"))
        .map(|s| (**s).clone())
        .collect()
}

fn endpoint(name: &str, ip: &str, ready: bool, serving: bool, terminating: bool) -> Value {
    json!({"addresses": [ip],
           "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
           "nodeName": "kdrill-worker",
           "targetRef": {"kind": "Pod", "namespace": "default", "name": name, "uid": format!("uid-{name}")}})
}

/// (case, targetPort, pods, (ports, endpoints) of each slice).
type Case = (&'static str, Value, Vec<Value>, Vec<(Value, Value)>);

const T: &str = "2025-05-01T09:30:00Z";

#[test]
fn slice_metadata_as_upstream() {
    let mut snap = Snapshot::from_objects(objects(
        svc(json!(80)),
        vec![pod("web-a", "10.244.1.2", true, T)],
    ));
    let slices = settled(&mut snap);
    assert_eq!(slices.len(), 1);
    let s = &slices[0];
    assert_eq!(s["metadata"]["generateName"], "web-");
    assert_eq!(
        s["metadata"]["labels"],
        json!({"app": "web", "kubernetes.io/service-name": "web",
               "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"})
    );
    assert_eq!(
        s["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "svc-uid",
                "controller": true, "blockOwnerDeletion": true}])
    );
    assert_eq!(
        s["metadata"]["annotations"][util::TRIGGER_TIME],
        "2025-05-01T09:00:00Z"
    );
    assert_eq!(s["addressType"], "IPv4");
    assert_eq!(
        s["ports"],
        json!([{"name": "", "port": 80, "protocol": "TCP"}])
    );
    assert_eq!(
        s["endpoints"],
        json!([endpoint("web-a", "10.244.1.2", true, true, false)])
    );
}

#[test]
fn endpoints_and_ports_from_pods() {
    let mut terminating = pod("web-c", "10.244.1.4", true, T);
    terminating["metadata"]["deletionTimestamp"] = json!("2025-05-01T09:59:00Z");
    let mut b9090 = pod("web-b", "10.244.1.3", true, T);
    b9090["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(9090);
    let cases: Vec<Case> = vec![
        (
            "nothing selected: a placeholder",
            json!(80),
            vec![],
            vec![(json!(null), json!(null))],
        ),
        (
            "pods without IPs: a placeholder",
            json!(80),
            vec![pod("web-a", "", false, T)],
            vec![(json!(null), json!(null))],
        ),
        (
            "not ready, and terminating (listed, serving, not ready)",
            json!(80),
            vec![pod("web-b", "10.244.1.3", false, T), terminating],
            vec![(
                json!([{"name": "", "port": 80, "protocol": "TCP"}]),
                json!([
                    endpoint("web-b", "10.244.1.3", false, false, false),
                    endpoint("web-c", "10.244.1.4", false, true, true)
                ]),
            )],
        ),
        (
            "named targetPort: one slice per resolved port",
            json!("http"),
            vec![pod("web-a", "10.244.1.2", true, T), b9090],
            vec![
                (
                    json!([{"name": "", "port": 8080, "protocol": "TCP"}]),
                    json!([endpoint("web-a", "10.244.1.2", true, true, false)]),
                ),
                (
                    json!([{"name": "", "port": 9090, "protocol": "TCP"}]),
                    json!([endpoint("web-b", "10.244.1.3", true, true, false)]),
                ),
            ],
        ),
        (
            "a named targetPort the pod lacks: endpoints without ports",
            json!("web"),
            vec![pod("web-a", "10.244.1.2", true, T)],
            vec![(
                json!(null),
                json!([endpoint("web-a", "10.244.1.2", true, true, false)]),
            )],
        ),
    ];
    for (case, target, pods, want) in cases {
        let mut snap = Snapshot::from_objects(objects(svc(target), pods));
        let mut got: Vec<(Value, Value)> = settled(&mut snap)
            .iter()
            .map(|s| (s["ports"].clone(), s["endpoints"].clone()))
            .collect();
        got.sort_by_key(|(p, _)| p.to_string());
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn pods_come_and_go_through_the_same_slice() {
    let mut snap = Snapshot::from_objects(objects(svc(json!(80)), vec![]));
    let slices = settled(&mut snap);
    let placeholder = slices[0]["metadata"]["name"].clone();
    assert_eq!(slices[0]["endpoints"], json!(null));
    // The first pod replaces the placeholder (its ports differ).
    put(&mut snap, res::PODS, pod("web-a", "10.244.1.2", false, T));
    let slices = settled(&mut snap);
    assert_eq!(slices.len(), 1);
    assert_ne!(slices[0]["metadata"]["name"], placeholder);
    let name = slices[0]["metadata"]["name"].clone();
    // Turning ready updates the endpoint in place, with a trigger time.
    put(
        &mut snap,
        res::PODS,
        pod("web-a", "10.244.1.2", true, "2025-05-01T09:45:00Z"),
    );
    put(&mut snap, res::PODS, pod("web-b", "10.244.1.3", true, T));
    let slices = settled(&mut snap);
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0]["metadata"]["name"], name);
    assert_eq!(
        slices[0]["endpoints"],
        json!([
            endpoint("web-a", "10.244.1.2", true, true, false),
            endpoint("web-b", "10.244.1.3", true, true, false)
        ])
    );
    assert_eq!(
        slices[0]["metadata"]["annotations"][util::TRIGGER_TIME],
        "2025-05-01T09:30:00Z"
    );
}

#[test]
fn publish_not_ready_and_headless() {
    let mut s = svc(json!(80));
    s["spec"]["publishNotReadyAddresses"] = json!(true);
    s["spec"]["clusterIP"] = json!("None");
    let mut snap = Snapshot::from_objects(objects(s, vec![pod("web-a", "10.244.1.2", false, T)]));
    let slices = settled(&mut snap);
    assert_eq!(
        slices[0]["endpoints"],
        json!([endpoint("web-a", "10.244.1.2", true, false, false)])
    );
    assert_eq!(
        slices[0]["metadata"]["labels"]["service.kubernetes.io/headless"],
        ""
    );
}

#[test]
fn too_many_endpoints_spill_into_more_slices() {
    let pods: Vec<Value> = (0..150)
        .map(|i| {
            pod(
                &format!("web-{i:03}"),
                &format!("10.244.{}.{}", i / 200 + 1, i % 200 + 2),
                true,
                T,
            )
        })
        .collect();
    let mut snap = Snapshot::from_objects(objects(svc(json!(80)), pods));
    let mut sizes: Vec<usize> = settled(&mut snap)
        .iter()
        .map(|s| s["endpoints"].as_array().map_or(0, Vec::len))
        .collect();
    sizes.sort();
    assert_eq!(sizes, [50, 100]);
}

#[test]
fn foreign_and_stale_slices() {
    let mut snap = Snapshot::from_objects(objects(
        svc(json!(80)),
        vec![pod("web-a", "10.244.1.2", true, T)],
    ));
    // A slice someone else manages is left alone; one owned by an old
    // incarnation of the Service is replaced.
    let foreign = json!({"metadata": {"name": "web-manual", "namespace": "default", "uid": "m",
        "labels": {"kubernetes.io/service-name": "web"}}, "addressType": "IPv4"});
    let stale = json!({"metadata": {"name": "web-old12", "namespace": "default", "uid": "o",
        "labels": {"kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": CONTROLLER_NAME},
        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "old", "controller": true}]},
        "addressType": "IPv4", "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
        "endpoints": [endpoint("web-a", "10.244.1.2", true, true, false)]});
    put(&mut snap, svcres::ENDPOINTSLICES, foreign);
    put(&mut snap, svcres::ENDPOINTSLICES, stale);
    let names: Vec<String> = settled(&mut snap)
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"web-manual".to_string()));
    assert!(!names.contains(&"web-old12".to_string()));
}

#[test]
fn keys_for_slices_follow_the_managed_by_label() {
    let snap = Snapshot::new();
    let ours = json!({"metadata": {"name": "web-abcde", "namespace": "default",
        "labels": {"kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": CONTROLLER_NAME}}});
    let theirs = json!({"metadata": {"name": "x", "namespace": "default",
        "labels": {"kubernetes.io/service-name": "web"}}});
    assert_eq!(
        EndpointSliceController.keys_for(&snap, svcres::ENDPOINTSLICES, &ours),
        [key()]
    );
    assert_eq!(
        EndpointSliceController.keys_for(&snap, svcres::ENDPOINTSLICES, &theirs),
        []
    );
}

#[test]
fn keys_for_pods_are_the_services_that_select_or_list_them() {
    const T: &str = "2025-05-01T09:30:00Z";
    let mut snap = Snapshot::from_objects(objects(svc(json!(80)), vec![]));
    assert_eq!(
        EndpointSliceController.keys_for(&snap, res::PODS, &pod("web-a", "", false, T)),
        [key()]
    );
    // Neither selected nor listed: no reconcile.
    let mut other = pod("other", "10.244.1.9", true, T);
    other["metadata"]["labels"] = json!({"app": "other"});
    assert_eq!(
        EndpointSliceController.keys_for(&snap, res::PODS, &other),
        []
    );
    // Listed in a slice, then relabelled away: reconciled, and dropped.
    put(&mut snap, res::PODS, pod("web-a", "10.244.1.2", true, T));
    settled(&mut snap);
    let mut left = pod("web-a", "10.244.1.2", true, T);
    left["metadata"]["labels"] = json!({"app": "other"});
    assert_eq!(
        EndpointSliceController.keys_for(&snap, res::PODS, &left),
        [key()]
    );
    put(&mut snap, res::PODS, left);
    let slices = settled(&mut snap);
    assert!(
        slices.iter().all(|s| s["endpoints"].is_null()),
        "{slices:?}"
    );
}
