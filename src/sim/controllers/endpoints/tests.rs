use super::*;
use crate::sim::controllers::endpointutil::fixtures::{objects, pod, svc};
use crate::sim::controllers::testutil::{put, settle, t0};

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

/// Settles the controller and returns the stored Endpoints.
fn settled(snap: &mut Snapshot) -> Value {
    settle(&EndpointsController, snap, &key(), t0());
    let ep = snap
        .get(svcres::ENDPOINTS, "default", "web")
        .map(|e| (**e).clone())
        .expect("endpoints created");
    // Idempotence: nothing more to do.
    assert_eq!(
        EndpointsController.reconcile(snap, &key(), t0()).actions,
        []
    );
    ep
}

fn addr(name: &str, ip: &str) -> Value {
    json!({"ip": ip, "nodeName": "kdrill-worker",
           "targetRef": {"kind": "Pod", "namespace": "default", "name": name, "uid": format!("uid-{name}")}})
}

const T: &str = "2025-05-01T09:30:00Z";

#[test]
fn subsets_from_pods() {
    let not_ready_p = pod("web-b", "10.244.1.3", false, T);
    let mut terminating = pod("web-c", "10.244.1.4", true, T);
    terminating["metadata"]["deletionTimestamp"] = json!("2025-05-01T09:59:00Z");
    let mut other = pod("other", "10.244.1.9", true, T);
    other["metadata"]["labels"] = json!({"app": "other"});
    let mut finished = pod("web-d", "10.244.1.5", false, T);
    finished["status"]["phase"] = json!("Succeeded");
    // (case, service targetPort, pods, expected subsets)
    let cases: Vec<(&str, Value, Vec<Value>, Value)> = vec![
        (
            "nothing selected",
            json!(80),
            vec![other.clone()],
            json!(null),
        ),
        (
            "no IP yet",
            json!(80),
            vec![pod("web-a", "", false, T)],
            json!(null),
        ),
        (
            "ready pod",
            json!(80),
            vec![pod("web-a", "10.244.1.2", true, T), other],
            json!([{"addresses": [addr("web-a", "10.244.1.2")], "ports": [{"port": 80, "protocol": "TCP"}]}]),
        ),
        (
            "ready and not ready share a subset",
            json!(80),
            vec![pod("web-a", "10.244.1.2", true, T), not_ready_p.clone()],
            json!([{"addresses": [addr("web-a", "10.244.1.2")],
                    "notReadyAddresses": [addr("web-b", "10.244.1.3")],
                    "ports": [{"port": 80, "protocol": "TCP"}]}]),
        ),
        (
            "terminating and finished pods are left out",
            json!(80),
            vec![terminating, finished],
            json!(null),
        ),
        (
            "named targetPort resolves to the container port",
            json!("http"),
            vec![pod("web-a", "10.244.1.2", true, T)],
            json!([{"addresses": [addr("web-a", "10.244.1.2")], "ports": [{"port": 8080, "protocol": "TCP"}]}]),
        ),
        (
            "a named targetPort nobody declares publishes nothing",
            json!("web"),
            vec![pod("web-a", "10.244.1.2", true, T)],
            json!(null),
        ),
    ];
    for (case, target, pods, want) in cases {
        let mut snap = Snapshot::from_objects(objects(svc(target), pods));
        let ep = settled(&mut snap);
        assert_eq!(ep["subsets"], want, "{case}");
        assert_eq!(ep["metadata"]["labels"], json!({"app": "web"}), "{case}");
        assert_eq!(
            ep["metadata"]["annotations"][util::TRIGGER_TIME],
            "2025-05-01T09:00:00Z",
            "{case}: a first write carries the Service's creation time"
        );
    }
}

#[test]
fn named_ports_resolve_per_pod() {
    let a = pod("web-a", "10.244.1.2", true, T);
    let mut b = pod("web-b", "10.244.1.3", true, T);
    b["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(9090);
    let mut snap = Snapshot::from_objects(objects(svc(json!("http")), vec![b, a]));
    let ep = settled(&mut snap);
    assert_eq!(
        ep["subsets"],
        json!([
            {"addresses": [addr("web-a", "10.244.1.2")], "ports": [{"port": 8080, "protocol": "TCP"}]},
            {"addresses": [addr("web-b", "10.244.1.3")], "ports": [{"port": 9090, "protocol": "TCP"}]},
        ])
    );
}

#[test]
fn publish_not_ready_addresses_lists_every_pod_as_ready() {
    let mut s = svc(json!(80));
    s["spec"]["publishNotReadyAddresses"] = json!(true);
    let mut terminating = pod("web-c", "10.244.1.4", true, T);
    terminating["metadata"]["deletionTimestamp"] = json!("2025-05-01T09:59:00Z");
    let mut snap = Snapshot::from_objects(objects(
        s,
        vec![pod("web-b", "10.244.1.3", false, T), terminating],
    ));
    let ep = settled(&mut snap);
    assert_eq!(
        ep["subsets"],
        json!([{"addresses": [addr("web-b", "10.244.1.3"), addr("web-c", "10.244.1.4")],
                "ports": [{"port": 80, "protocol": "TCP"}]}])
    );
}

#[test]
fn headless_services_without_ports_and_hostnames() {
    let mut s = svc(json!(80));
    s["spec"]["clusterIP"] = json!("None");
    s["spec"]["ports"] = json!([]);
    let mut p = pod("web-0", "10.244.1.2", true, T);
    p["spec"]["hostname"] = json!("web-0");
    p["spec"]["subdomain"] = json!("web");
    let mut snap = Snapshot::from_objects(objects(s, vec![p]));
    let ep = settled(&mut snap);
    let mut a = addr("web-0", "10.244.1.2");
    a["hostname"] = json!("web-0");
    assert_eq!(ep["subsets"], json!([{"addresses": [a]}]));
    assert_eq!(
        ep["metadata"]["labels"],
        json!({"app": "web", "service.kubernetes.io/headless": ""})
    );
}

#[test]
fn services_without_selector_or_external_name_are_left_alone() {
    let mut no_selector = svc(json!(80));
    no_selector["spec"]
        .as_object_mut()
        .map(|m| m.remove("selector"));
    let mut external = svc(json!(80));
    external["spec"]["type"] = json!("ExternalName");
    for s in [no_selector, external] {
        let snap = Snapshot::from_objects(objects(s, vec![pod("web-a", "10.244.1.2", true, T)]));
        assert_eq!(
            EndpointsController.reconcile(&snap, &key(), t0()).actions,
            []
        );
    }
}

#[test]
fn endpoints_of_a_deleted_service_are_deleted() {
    let ep = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default", "uid": "ep-uid", "resourceVersion": "3"}});
    let snap = Snapshot::from_objects([(svcres::ENDPOINTS, ep)]);
    let out = EndpointsController.reconcile(&snap, &key(), t0());
    assert_eq!(
        out.actions,
        [Action::Delete {
            res: svcres::ENDPOINTS,
            key: key(),
            uid: "ep-uid".into(),
            on_deleted: None
        }]
    );
}

#[test]
fn a_pod_turning_ready_moves_and_stamps_its_transition_time() {
    let mut snap = Snapshot::from_objects(objects(
        svc(json!(80)),
        vec![pod("web-a", "10.244.1.2", false, T)],
    ));
    let ep = settled(&mut snap);
    assert_eq!(ep["subsets"][0]["notReadyAddresses"][0]["ip"], "10.244.1.2");
    put(
        &mut snap,
        res::PODS,
        pod("web-a", "10.244.1.2", true, "2025-05-01T09:45:00Z"),
    );
    let ep = settled(&mut snap);
    assert_eq!(ep["subsets"][0]["addresses"][0]["ip"], "10.244.1.2");
    assert!(ep["subsets"][0].get("notReadyAddresses").is_none());
    assert_eq!(
        ep["metadata"]["annotations"][util::TRIGGER_TIME],
        "2025-05-01T09:45:00Z"
    );
    // A label change on the Service is mirrored.
    let mut s = svc(json!(80));
    s["metadata"]["labels"] = json!({"tier": "front"});
    put(&mut snap, svcres::SERVICES, s);
    let ep = settled(&mut snap);
    assert_eq!(ep["metadata"]["labels"], json!({"tier": "front"}));
}

#[test]
fn keys_for_pods_cover_every_selecting_service_in_the_namespace() {
    let mut snap = Snapshot::from_objects(objects(svc(json!(80)), vec![]));
    let mut no_sel = svc(json!(80));
    no_sel["metadata"]["name"] = json!("manual");
    no_sel["spec"].as_object_mut().map(|m| m.remove("selector"));
    put(&mut snap, svcres::SERVICES, no_sel);
    let keys = EndpointsController.keys_for(&snap, res::PODS, &pod("x", "", false, T));
    assert_eq!(keys, [key()]);
    // A pod the selector does not match and the Endpoints do not list
    // cannot change them (kube-system's kube-proxy pods and kube-dns).
    let mut other = pod("other", "10.244.1.9", true, T);
    other["metadata"]["labels"] = json!({"app": "other"});
    assert_eq!(EndpointsController.keys_for(&snap, res::PODS, &other), []);
    // A listed pod relabelled away still has to leave them.
    put(&mut snap, res::PODS, pod("web-a", "10.244.1.2", true, T));
    settled(&mut snap);
    let mut left = pod("web-a", "10.244.1.2", true, T);
    left["metadata"]["labels"] = json!({"app": "other"});
    assert_eq!(
        EndpointsController.keys_for(&snap, res::PODS, &left),
        [key()]
    );
    put(&mut snap, res::PODS, left);
    assert_eq!(settled(&mut snap)["subsets"], json!(null));
    // Endpoints events only matter when their Service exists.
    let orphan = json!({"metadata": {"name": "gone", "namespace": "default"}});
    assert_eq!(
        EndpointsController.keys_for(&snap, svcres::ENDPOINTS, &orphan),
        []
    );
}
