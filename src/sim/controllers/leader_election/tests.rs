use super::*;
use crate::sim::controllers::testutil::{put, reasons, settle, t0};
use crate::sim::event::EventSpec;

fn node(name: &str, control_plane: bool) -> Value {
    let labels = if control_plane {
        json!({"kubernetes.io/hostname": name, CONTROL_PLANE_LABEL: ""})
    } else {
        json!({"kubernetes.io/hostname": name})
    };
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("uid-{name}"), "labels": labels}})
}

fn cluster() -> Snapshot {
    let mut snap = Snapshot::new();
    put(&mut snap, res::NODES, node("kind-worker", false));
    put(&mut snap, res::NODES, node("kind-control-plane", true));
    snap
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new(NAMESPACE, name)
}

fn lease_of<'a>(snap: &'a Snapshot, name: &str) -> &'a Value {
    snap.get(LEASES, NAMESPACE, name).expect("the lease exists")
}

/// Each component takes its Lease as the control-plane node's
/// `<hostname>_<uuid>`, with client-go's spec, and records that it became
/// leader about that Lease, from its own event source.
#[test]
fn each_component_acquires_its_lease_and_says_so() {
    let c = LeaderElection::new(7);
    let mut snap = cluster();
    let mut all: Vec<EventSpec> = Vec::new();
    for (name, source) in COMPONENTS {
        let events = settle(&c, &mut snap, &key(name), t0());
        let lease = lease_of(&snap, name);
        let holder = lease["spec"]["holderIdentity"]
            .as_str()
            .unwrap()
            .to_string();
        let (host, uuid) = holder.split_once('_').unwrap();
        assert_eq!(host, "kind-control-plane");
        assert_eq!(uuid.len(), 36, "{uuid}");
        assert_eq!(lease["spec"]["leaseDurationSeconds"], 15);
        assert_eq!(lease["spec"]["leaseTransitions"], 0);
        assert_eq!(lease["spec"]["acquireTime"], "2025-05-01T10:00:00.000000Z");
        assert_eq!(lease["spec"]["renewTime"], lease["spec"]["acquireTime"]);
        assert_eq!(
            reasons(&events),
            [(
                "LeaderElection".to_string(),
                format!("{holder} became leader")
            )]
        );
        let ev = &events[0];
        assert_eq!(ev.component, source);
        assert_eq!(ev.type_, EventType::Normal);
        assert_eq!(
            (ev.involved.kind.as_str(), ev.involved.api_version.as_str()),
            ("Lease", "coordination.k8s.io/v1")
        );
        assert_eq!(ev.involved.name, name);
        assert_eq!(ev.involved.uid, meta::uid(lease), "the Lease's own uid");
        all.extend(events);
    }
    assert_ne!(all[0].message, all[1].message, "a uuid per component");
    // The same seed and cluster give the same holders.
    let again = LeaderElection::new(7).identity("kube-scheduler", lease_node(&snap));
    assert_eq!(
        again,
        lease_of(&snap, "kube-scheduler")["spec"]["holderIdentity"]
    );
}

fn lease_node(snap: &Snapshot) -> &Value {
    snap.get(res::NODES, "", "kind-control-plane").unwrap()
}

/// The leader renews every 2 seconds and only then; a Lease deleted is
/// taken again without another event.
#[test]
fn the_leader_renews_every_retry_period() {
    let c = LeaderElection::new(7);
    let mut snap = cluster();
    let k = key("kube-controller-manager");
    settle(&c, &mut snap, &k, t0());
    let soon = t0() + SignedDuration::from_millis(1500);
    let out = c.reconcile(&snap, &k, soon);
    assert!(out.actions.is_empty());
    assert_eq!(out.requeue_after, Some(SignedDuration::from_millis(500)));
    let due = t0() + RETRY_PERIOD;
    let out = c.reconcile(&snap, &k, due);
    assert_eq!(out.requeue_after, Some(RETRY_PERIOD));
    let [Action::Patch { patch, status, .. }] = out.actions.as_slice() else {
        panic!("one patch: {:?}", out.actions);
    };
    assert!(!status);
    assert_eq!(patch["spec"]["renewTime"], "2025-05-01T10:00:02.000000Z");
    assert!(patch["spec"].get("acquireTime").is_none(), "acquired once");
    let holder = lease_of(&snap, "kube-controller-manager")["spec"]["holderIdentity"].clone();
    assert_eq!(patch["spec"]["holderIdentity"], holder);
    // Deleted: created again, no second "became leader".
    let gone = lease_of(&snap, "kube-controller-manager").clone();
    snap.remove(LEASES, &gone);
    let events = settle(&c, &mut snap, &k, due);
    assert!(events.is_empty(), "taken again quietly: {events:?}");
    assert_eq!(
        lease_of(&snap, "kube-controller-manager")["spec"]["holderIdentity"],
        holder
    );
}

/// Other Leases, and a cluster without a control-plane node, are left alone.
#[test]
fn only_the_components_leases_on_a_control_plane() {
    let c = LeaderElection::new(7);
    let snap = cluster();
    assert!(c.reconcile(&snap, &key("other"), t0()).actions.is_empty());
    let mut workers_only = Snapshot::new();
    put(&mut workers_only, res::NODES, node("kind-worker", false));
    let out = c.reconcile(&workers_only, &key("kube-scheduler"), t0());
    assert!(out.actions.is_empty());
    let lease = json!({"metadata": {"name": "kind-worker", "namespace": "kube-node-lease"}});
    assert!(c.keys_for(&snap, LEASES, &lease).is_empty());
    let keys = c.keys_for(&snap, res::NODES, &node("kind-control-plane", true));
    assert_eq!(
        keys,
        vec![
            key("kube-controller-manager"),
            key("kube-scheduler"),
            key(&apiserver_id("kind-control-plane")),
        ]
    );
    assert!(
        c.keys_for(&snap, res::NODES, &node("kind-worker", false))
            .is_empty()
    );
}

/// The identity's name is upstream's: a public capture of a minikube
/// cluster's `kubectl get leases -n kube-system` lists
/// `apiserver-eqt674mfxb4j56mrjjkoe7b7ii` for the hostname `minikube`.
#[test]
fn the_apiserver_identity_is_named_as_upstream_names_it() {
    assert_eq!(
        apiserver_id("minikube"),
        "apiserver-eqt674mfxb4j56mrjjkoe7b7ii"
    );
    let id = apiserver_id("kind-control-plane");
    assert_eq!(id.len(), "apiserver-".len() + 26);
    assert!(
        id["apiserver-".len()..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    );
}

/// kube-apiserver's identity Lease: labelled, an hour long, held by
/// `<id>_<uuid>`, no acquireTime and no event, renewed every 10 seconds.
#[test]
fn the_apiserver_keeps_its_identity_lease() {
    let c = LeaderElection::new(7);
    let mut snap = cluster();
    let id = apiserver_id("kind-control-plane");
    let keys = c.keys_for(&snap, res::NODES, &node("kind-control-plane", true));
    assert!(keys.contains(&key(&id)), "{keys:?}");
    let events = settle(&c, &mut snap, &key(&id), t0());
    assert!(events.is_empty(), "{events:?}");
    let lease = lease_of(&snap, &id);
    assert_eq!(
        lease["metadata"]["labels"],
        json!({"apiserver.kubernetes.io/identity": "kube-apiserver", "kubernetes.io/hostname": "kind-control-plane"})
    );
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 3600);
    assert!(lease["spec"].get("acquireTime").is_none());
    assert!(lease["spec"].get("leaseTransitions").is_none());
    let holder = lease["spec"]["holderIdentity"].as_str().unwrap();
    let (prefix, uuid) = holder.split_once('_').unwrap();
    assert_eq!((prefix, uuid.len()), (id.as_str(), 36));
    assert_eq!(c.keys_for(&snap, LEASES, lease), vec![key(&id)]);
    let out = c.reconcile(&snap, &key(&id), t0() + SignedDuration::from_secs(9));
    assert!(out.actions.is_empty());
    let out = c.reconcile(&snap, &key(&id), t0() + IDENTITY_RENEW_INTERVAL);
    let [Action::Patch { patch, .. }] = out.actions.as_slice() else {
        panic!("one patch: {:?}", out.actions);
    };
    assert_eq!(
        patch,
        &json!({"spec": {"renewTime": "2025-05-01T10:00:10.000000Z"}})
    );
    // Another apiserver's Lease is not ours.
    let out = c.reconcile(&snap, &key("apiserver-other"), t0());
    assert!(out.actions.is_empty());
}
