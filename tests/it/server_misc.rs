//! Server features beyond plain CRUD: watch expiry, OpenAPI-driven explain,
//! metrics for `kubectl top`, the audit log, protobuf error handling.

use super::harness::{Sim, rows};

#[test]
fn watch_from_a_compacted_version_gets_410_expired() {
    let sim = Sim::start_with(&["--watch-history", "5"]);
    for i in 0..10 {
        sim.kubectl(&["create", "configmap", &format!("c{i}")]).ok();
    }
    let out = sim
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=3",
        ])
        .ok();
    let ev: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(
        ev["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version: 3 ("),
        "{ev}"
    );
}

#[test]
fn watch_list_sends_initial_events_then_the_bookmark() {
    let sim = Sim::start();
    sim.kubectl(&["create", "configmap", "a"]).ok();
    let out = sim
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1",
        ])
        .ok();
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "ADDED", "BOOKMARK"], "{out}");
    assert_eq!(
        events[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[test]
fn wait_and_delete_follow_the_watch() {
    let sim = Sim::start();
    sim.kubectl(&["create", "configmap", "w", "--from-literal=state=ready"])
        .ok();
    let out = sim
        .kubectl(&[
            "wait",
            "--for=jsonpath={.data.state}=ready",
            "configmap/w",
            "--timeout=10s",
        ])
        .ok();
    assert_eq!(out, "configmap/w condition met\n");
    let out = sim
        .kubectl(&["delete", "configmap", "w", "--wait=true"])
        .ok();
    assert!(out.starts_with("configmap \"w\" deleted"), "{out}");
}

#[test]
fn explain_reads_the_served_openapi() {
    let sim = Sim::start();
    let out = sim.kubectl(&["explain", "deployment.spec.replicas"]).ok();
    assert!(out.contains("GROUP:      apps"), "{out}");
    assert!(out.contains("KIND:       Deployment"), "{out}");
    assert!(out.contains("FIELD: replicas <integer>"), "{out}");
    assert!(out.contains("Number of desired pods."), "{out}");
    let out = sim
        .kubectl(&["explain", "pod.spec.containers.livenessProbe.httpGet"])
        .ok();
    assert!(out.contains("FIELD: httpGet <HTTPGetAction>"), "{out}");
    let err = sim.kubectl(&["explain", "pod.spec.bogus"]).err();
    assert!(err.contains("field \"bogus\" does not exist"), "{err}");
}

#[test]
fn top_nodes_reads_metrics() {
    let sim = Sim::start();
    let out = sim.kubectl(&["top", "nodes"]).ok();
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    );
    assert_eq!(table.len(), 4, "{out}");
    assert_eq!(table[1][0], "kdrill-control-plane");
    // Its daemons' 100m, the control plane's static pods' 73m (etcd 17m,
    // kube-apiserver 41m, kube-controller-manager 13m, kube-scheduler 2m),
    // 1m each for kube-proxy, kindnet, the two CoreDNS replicas and
    // local-path-provisioner (scheduled there before the workers joined),
    // of 8 CPUs.
    assert_eq!(table[1][1], "178m");
    assert_eq!(table[1][2], "2%");
    let out = sim.kubectl(&["top", "pods"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "No resources found in default namespace.\n");
}

#[test]
fn audit_log_records_who_did_what() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let sim = Sim::start_with(&["--audit-log", log.to_str().unwrap()]);
    sim.kubectl(&["create", "configmap", "audited"]).ok();
    sim.kubectl(&["delete", "configmap", "audited"]).ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let create = records
        .iter()
        .find(|r| r["verb"] == "create" && r["resource"] == "configmaps")
        .expect("create recorded");
    assert_eq!(create["user"], "kubernetes-admin");
    assert_eq!(create["namespace"], "default");
    assert_eq!(create["code"], 201);
    let delete = records
        .iter()
        .find(|r| r["verb"] == "delete")
        .expect("delete recorded");
    assert_eq!(delete["name"], "audited");
    assert_eq!(delete["code"], 200);
}

#[tokio::test]
async fn garbage_protobuf_bodies_are_bad_requests() {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let sim = Sim::start();
    let kc = Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    for body in [
        b"k8s\x00\x0a\xff\xff".to_vec(),
        b"not protobuf at all".to_vec(),
        Vec::new(),
    ] {
        let req = http::Request::post("/api/v1/namespaces/default/configmaps")
            .header("Content-Type", "application/vnd.kubernetes.protobuf")
            .body(body)
            .unwrap();
        let err = client.request::<serde_json::Value>(req).await.unwrap_err();
        match err {
            kube::Error::Api(s) => {
                assert_eq!(s.code, 400, "{s:?}");
                assert_eq!(s.reason, "BadRequest");
            }
            other => panic!("unexpected {other}"),
        }
    }
    let req = http::Request::post("/api/v1/namespaces/default/configmaps")
        .header("Content-Type", "text/csv")
        .body(b"a,b".to_vec())
        .unwrap();
    match client.request::<serde_json::Value>(req).await.unwrap_err() {
        kube::Error::Api(s) => assert_eq!(s.code, 415),
        other => panic!("unexpected {other}"),
    }
}
