//! The control plane's static pods and their mirror pods, on the virtual
//! clock of a fresh cluster.

use super::tests::{cluster, run_for};
use super::*;
use serde_json::json;

const NS: &str = "kube-system";
const COMPONENTS: [&str; 4] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

fn mirror(registry: &Registry, component: &str) -> Arc<Value> {
    let name = format!("{component}-kdrill-control-plane");
    registry
        .store
        .get(res::PODS, NS, &name)
        .unwrap_or_else(|| panic!("{name} exists"))
}

fn time(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

fn ready(pod: &Value) -> bool {
    crate::sim::controllers::podutil::is_ready(pod)
}

#[test]
fn the_control_plane_runs_as_mirror_pods_ready_when_the_cluster_is() {
    let (registry, clock, mut rt, _) = cluster();
    rt.run_until_idle();
    let node = registry
        .store
        .get(res::NODES, "", "kdrill-control-plane")
        .unwrap();
    for component in COMPONENTS {
        let pod = mirror(&registry, component);
        let annotations = &pod["metadata"]["annotations"];
        assert_eq!(
            annotations[static_pods::MIRROR_ANNOTATION],
            annotations[static_pods::CONFIG_HASH]
        );
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["uid"],
            node["metadata"]["uid"]
        );
        assert_eq!(pod["spec"]["nodeName"], "kdrill-control-plane");
        // A mirror pod keeps its spec: no ServiceAccount, no token volume.
        assert!(pod["spec"].get("serviceAccountName").is_none());
        assert_eq!(pod["spec"]["priority"], 2_000_001_000);
        // Started from the manifest before the API server served; Ready by
        // the time its mirror pod exists (startup probe after 10 s).
        let created = time(&pod["metadata"]["creationTimestamp"]);
        assert!(time(&pod["status"]["startTime"]) < created);
        assert_eq!(pod["status"]["phase"], "Running");
        assert!(ready(&pod), "{component} is Ready");
        assert_eq!(pod["status"]["podIP"], "172.18.0.2");
        assert_eq!(pod["status"]["hostIP"], "172.18.0.2");
        assert_eq!(pod["status"]["qosClass"], "Burstable");
        assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 0);
    }
    // What happened before the mirror pods existed reached no API server.
    let (events, _) = registry.store.list(res::EVENTS, Some(NS));
    let about_control_plane = events
        .iter()
        .filter(|e| {
            e["involvedObject"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-kdrill-control-plane"))
        })
        .count();
    assert_eq!(about_control_plane, 0);
    // Their probes keep passing.
    run_for(&mut rt, &clock, 120);
    for component in COMPONENTS {
        let pod = mirror(&registry, component);
        assert!(ready(&pod), "{component} stays Ready");
        assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 0);
    }
    let (events, _) = registry.store.list(res::EVENTS, Some(NS));
    assert!(events.iter().all(|e| e["reason"] != "Unhealthy"));
}

#[test]
fn a_deleted_mirror_pod_comes_back_and_its_containers_run_on() {
    let (registry, clock, mut rt, _) = cluster();
    run_for(&mut rt, &clock, 30);
    let info = lookup_res(res::PODS).unwrap();
    for (component, opts) in [
        ("kube-apiserver", DeleteOptions::default()),
        (
            "etcd",
            DeleteOptions {
                grace_period_seconds: Some(0),
                ..Default::default()
            },
        ),
    ] {
        let before = mirror(&registry, component);
        let name = meta::name(&before).to_string();
        clock.advance(jiff::SignedDuration::from_secs(5));
        registry.delete(info, NS, &name, &opts).unwrap();
        rt.run_until_idle();
        let after = mirror(&registry, component);
        assert_ne!(
            meta::uid(&after),
            meta::uid(&before),
            "{component}: a new pod"
        );
        assert!(!meta::is_deleting(&after));
        assert!(
            time(&after["metadata"]["creationTimestamp"])
                > time(&before["metadata"]["creationTimestamp"])
        );
        // The static pod never stopped: same container, same start.
        let status = |p: &Value, f: &str| p["status"]["containerStatuses"][0][f].clone();
        assert_eq!(
            status(&after, "containerID"),
            status(&before, "containerID")
        );
        assert_eq!(status(&after, "state"), status(&before, "state"));
        assert_eq!(status(&after, "restartCount"), 0);
        assert_eq!(after["status"]["startTime"], before["status"]["startTime"]);
        assert!(ready(&after), "{component} is Ready again");
    }
}

#[test]
fn a_mirror_pod_no_static_pod_stands_behind_is_deleted() {
    let (registry, clock, mut rt, _) = cluster();
    run_for(&mut rt, &clock, 5);
    let info = lookup_res(res::PODS).unwrap();
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "impostor", "namespace": "default",
            "annotations": {static_pods::MIRROR_ANNOTATION: "0123"}},
        "spec": {"nodeName": "kdrill-worker",
            "containers": [{"name": "app", "image": "nginx:1.27"}]},
    });
    registry
        .create(info, "default", pod, &WriteOptions::default())
        .unwrap();
    rt.run_until_idle();
    assert!(
        registry
            .store
            .get(res::PODS, "default", "impostor")
            .is_none()
    );
}

#[test]
fn a_worker_has_no_static_pods_and_a_deleted_node_none_recreated() {
    let (registry, clock, mut rt, _) = cluster();
    run_for(&mut rt, &clock, 5);
    let (pods, _) = registry.store.list(res::PODS, Some(NS));
    let mirrors: Vec<&str> = pods
        .iter()
        .filter(|p| crate::registry::admission::service_account::is_mirror(p))
        .map(|p| p["spec"]["nodeName"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(mirrors, ["kdrill-control-plane"; 4]);
    // The node goes: its mirror pods go with it (the garbage collector
    // follows their owner reference) and nothing creates them again.
    let nodes = lookup_res(res::NODES).unwrap();
    registry
        .delete(nodes, "", "kdrill-control-plane", &DeleteOptions::default())
        .unwrap();
    run_for(&mut rt, &clock, 60);
    let (pods, _) = registry.store.list(res::PODS, Some(NS));
    assert!(
        pods.iter()
            .all(|p| !crate::registry::admission::service_account::is_mirror(p)),
        "no mirror pods without their node"
    );
}
