//! Pods that call the API server as their ServiceAccount, synced on a
//! virtual timeline against a real store and the server's RBAC authorizer:
//! the answers follow RoleBindings as they change.

use super::api_client::InCluster;
use super::*;
use crate::api::image_behaviour::{ApiCallSpec, Every};
use crate::sim::workload::{AppBehaviour, NoNetwork};
use crate::store::{ResKey, Store};
use jiff::SignedDuration;
use serde_json::json;

const FORBIDDEN: &str = "configmaps is forbidden: User \"system:serviceaccount:team-a:lister\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"";

fn t0() -> Timestamp {
    "2025-06-01T10:00:00Z".parse().expect("ts")
}

fn put(store: &Store, group: &'static str, resource: &'static str, obj: Value) {
    store
        .create(ResKey { group, resource }, obj)
        .expect("stored");
}

fn grant(store: &Store) {
    let g = "rbac.authorization.k8s.io";
    put(
        store,
        g,
        "roles",
        json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"cm-reader","namespace":"team-a"},
               "rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","watch"]}]}),
    );
    put(
        store,
        g,
        "rolebindings",
        json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"cm-reader","namespace":"team-a"},
               "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-reader"},
               "subjects":[{"kind":"ServiceAccount","name":"lister","namespace":"team-a"}]}),
    );
}

/// A pod as the ServiceAccount admission leaves it (kube-api-access-*).
fn pod(container: Value) -> Value {
    let mut c = container;
    c["volumeMounts"] = json!([{"name": "kube-api-access-abcde", "readOnly": true,
                                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]);
    c["env"] = json!([{"name": "KUBERNETES_SERVICE_HOST", "value": "10.96.0.1"},
                      {"name": "KUBERNETES_SERVICE_PORT", "value": "443"}]);
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "lister-1", "namespace": "team-a", "uid": "0b9f5e3c-1111-4222-8333-444455556666"},
           "spec": {"serviceAccountName": "lister", "containers": [c],
                    "volumes": [{"name": "kube-api-access-abcde", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]},
           "status": {"phase": "Pending"}})
}

struct Sim {
    pod: Value,
    node: NodeView,
    catalog: Catalog,
    store: Store,
    mem: PodMemory,
    now: Timestamp,
    rng: Rng,
    status: Value,
}

impl Sim {
    fn new(pod: Value, catalog: Catalog) -> Self {
        let store = Store::default();
        put(
            &store,
            "",
            "serviceaccounts",
            json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"lister","namespace":"team-a","uid":"sa-1"}}),
        );
        put(
            &store,
            "",
            "configmaps",
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app-config","namespace":"team-a","creationTimestamp":"2025-06-01T09:00:00Z"},"data":{"a":"1","b":"2"}}),
        );
        Self {
            pod,
            node: NodeView {
                name: "kdrill-worker".into(),
                host_ip: "172.18.0.3".into(),
                pod_cidr: "10.244.1.0/24".into(),
                images: std::sync::Arc::new(
                    ["docker.io/bitnami/kubectl:latest".to_string()].into(),
                ),
                ..Default::default()
            },
            catalog,
            store,
            mem: PodMemory::default(),
            now: t0(),
            rng: Rng::new(1),
            status: Value::Null,
        }
    }

    fn sync(&mut self) -> Option<Timestamp> {
        let net = InCluster {
            net: NoNetwork,
            store: &self.store,
            now: self.now,
        };
        let out = sync_pod(
            &PodInput {
                pod: &self.pod,
                parsed: None,
                node: &self.node,
                world: &World {
                    config_maps: [(
                        "kube-root-ca.crt".to_string(),
                        std::sync::Arc::new(json!({"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "CA"}})),
                    )]
                    .into(),
                    ..Default::default()
                },
                memory: &self.mem,
                catalog: &self.catalog,
                network: &net,
            },
            self.now,
            &self.rng,
        );
        self.mem = out.memory;
        self.status = out.status.clone();
        self.pod["status"] = out.status;
        std::sync::Arc::make_mut(&mut self.node.images).extend(out.pulled_images);
        out.wake_at
    }

    /// Runs to `secs` after t0, waking only when the kubelet asks to.
    fn run_to(&mut self, secs: f64) {
        let end = t0() + SignedDuration::from_secs_f64(secs);
        for _ in 0..100_000 {
            match self.sync() {
                Some(w) if w <= end => self.now = w.max(self.now),
                _ => break,
            }
        }
        self.now = end;
        self.sync();
    }

    fn logs(&self, previous: bool) -> Vec<(i64, String)> {
        self.mem
            .logs("app", previous)
            .iter()
            .map(|(at, l)| (at.duration_since(t0()).as_secs(), l.clone()))
            .collect()
    }
}

#[test]
fn a_kubectl_loop_logs_403s_until_a_role_binding_lets_it_list() {
    let mut s = Sim::new(
        pod(
            json!({"name": "app", "image": "bitnami/kubectl", "command": ["/bin/sh", "-c"],
                   "args": ["while true; do kubectl get configmaps; sleep 10; done"]}),
        ),
        Catalog::default(),
    );
    s.run_to(25.0);
    let logs = s.logs(false);
    assert_eq!(logs.len(), 3, "{logs:?}");
    assert!(
        logs.iter()
            .all(|(_, l)| *l == format!("Error from server (Forbidden): {FORBIDDEN}")),
        "{logs:?}"
    );
    grant(&s.store);
    s.run_to(45.0);
    let logs = s.logs(false);
    let start = logs[0].0;
    let after: Vec<&(i64, String)> = logs.iter().filter(|(at, _)| *at > start + 20).collect();
    // The calls after the fix list the ConfigMap (header and one row each).
    assert_eq!(after.len(), 4, "{logs:?}");
    assert_eq!(after[0].1, "NAME         DATA   AGE");
    assert_eq!(after[1].1, "app-config   2      60m");
    assert_eq!(s.status["containerStatuses"][0]["restartCount"], 0);
}

fn lister(exit_on_error: bool, startup_seconds: f64) -> Catalog {
    let mut c = Catalog::default();
    c.declare(
        "registry.example.com/team/lister",
        AppBehaviour {
            api_calls: vec![ApiCallSpec {
                resource: "configmaps".into(),
                every: Some(Every(10.0)),
                ..Default::default()
            }],
            exit_on_error,
            startup_seconds,
            ..Default::default()
        },
    );
    c
}

#[test]
fn an_app_that_exits_on_a_403_crash_loops_until_the_role_binding_exists() {
    let mut s = Sim::new(
        pod(json!({"name": "app", "image": "registry.example.com/team/lister:1.0"})),
        lister(true, 0.0),
    );
    s.run_to(60.0);
    let cs = &s.status["containerStatuses"][0];
    assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff", "{cs}");
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
    let restarts = cs["restartCount"].as_u64().unwrap_or(0);
    assert!(restarts >= 2, "{cs}");
    let previous = s.logs(true);
    assert_eq!(previous.len(), 1);
    assert!(
        previous[0]
            .1
            .ends_with(&format!(" failed to list configmaps: {FORBIDDEN}")),
        "{previous:?}"
    );
    grant(&s.store);
    // The next restart (back-off at most 40s by now) lists and keeps running.
    s.run_to(200.0);
    let cs = &s.status["containerStatuses"][0];
    assert!(cs["state"]["running"].is_object(), "{cs}");
    let logs = s.logs(false);
    assert!(
        logs.iter()
            .all(|(_, l)| l.ends_with(" list configmaps: 1 items")),
        "{logs:?}"
    );
    assert!(logs.len() >= 5, "{logs:?}");
    let restarts_after = cs["restartCount"].as_u64().unwrap_or(0);
    s.run_to(400.0);
    assert_eq!(
        s.status["containerStatuses"][0]["restartCount"].as_u64(),
        Some(restarts_after)
    );
}

#[test]
fn an_app_whose_role_binding_goes_away_exits_at_its_next_call() {
    let mut s = Sim::new(
        pod(json!({"name": "app", "image": "registry.example.com/team/lister:1.0"})),
        lister(true, 5.0),
    );
    grant(&s.store);
    s.run_to(30.0);
    assert_eq!(s.status["containerStatuses"][0]["restartCount"], 0);
    let ok = s.logs(false).len();
    s.store
        .delete(
            ResKey {
                group: "rbac.authorization.k8s.io",
                resource: "rolebindings",
            },
            "team-a",
            "cm-reader",
            None,
        )
        .expect("deleted");
    // The first call after that (at 35s and a bit: the pull, start-up 5s,
    // then every 10s) is refused: the app logs it and exits; its restart
    // starts at once.
    s.run_to(37.0);
    let cs = &s.status["containerStatuses"][0];
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1, "{cs}");
    assert_eq!(cs["restartCount"], 1, "{cs}");
    let previous = s.logs(true);
    assert_eq!(previous.len(), ok + 1, "{previous:?}");
    let (at, last) = previous.last().cloned().unwrap_or_default();
    assert!(last.ends_with(FORBIDDEN), "{last}");
    assert_eq!(at, 35);
}
