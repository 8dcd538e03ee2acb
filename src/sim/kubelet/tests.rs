//! Golden tests on a virtual timeline: a pod is synced repeatedly with a
//! moving `now`, and statuses, events and logs are checked against
//! upstream's wording.

use super::*;
use crate::sim::workload::{AppBehaviour, NoNetwork, PrivateRepo, behaviour::PathStatus};
use serde_json::json;

const UID: &str = "0b9f5e3c-1111-4222-8333-444455556666";

struct Sim {
    pod: Value,
    node: NodeView,
    world: World,
    catalog: Catalog,
    mem: PodMemory,
    now: Timestamp,
    rng: Rng,
    events: Vec<TimedEvent>,
    status: Value,
    gone: bool,
}

fn t0() -> Timestamp {
    "2025-06-01T10:00:00Z".parse().expect("ts")
}

fn pod(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": UID}, "spec": spec,
           "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-06-01T10:00:00Z"}]}})
}

impl Sim {
    fn new(pod: Value) -> Self {
        let node = NodeView {
            name: "kdrill-worker".into(),
            host_ip: "172.18.0.3".into(),
            pod_cidr: "10.244.1.0/24".into(),
            ..Default::default()
        };
        Self {
            pod,
            node,
            world: World::default(),
            catalog: Catalog::default(),
            mem: PodMemory::default(),
            now: t0(),
            rng: Rng::new(1),
            events: Vec::new(),
            status: Value::Null,
            gone: false,
        }
    }
    fn sync(&mut self) -> Option<Timestamp> {
        let out = sync_pod(
            &PodInput {
                pod: &self.pod,
                parsed: None,
                node: &self.node,
                world: &self.world,
                memory: &self.mem,
                catalog: &self.catalog,
                network: &NoNetwork,
            },
            self.now,
            &self.rng,
        );
        self.mem = out.memory;
        self.events.extend(out.events);
        self.status = out.status.clone();
        self.pod["status"] = out.status;
        self.gone = out.gone;
        std::sync::Arc::make_mut(&mut self.node.images).extend(out.pulled_images);
        out.wake_at
    }
    /// Runs to `secs` after t0, waking at every timer on the way.
    fn run_to(&mut self, secs: f64) {
        let end = t0() + SignedDuration::from_secs_f64(secs);
        for _ in 0..100_000 {
            let wake = self.sync();
            match wake {
                Some(w) if w <= end && !self.gone => self.now = w.max(self.now),
                _ => break,
            }
        }
        self.now = end;
        self.sync();
    }
    fn messages(&self, reason: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.event.reason == reason)
            .map(|e| e.event.message.clone())
            .collect()
    }
    fn cs(&self, i: usize) -> &Value {
        &self.status["containerStatuses"][i]
    }
    fn cond(&self, ty: &str) -> &Value {
        self.status["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == ty))
            .unwrap_or(&Value::Null)
    }
}

use jiff::SignedDuration;

fn one(image: &str, extra: Value) -> Value {
    let mut c = json!({"name": "app", "image": image});
    if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    json!({"containers": [c]})
}

#[test]
fn healthy_nginx_pulls_starts_and_becomes_ready() {
    let mut s = Sim::new(pod("web", one("nginx:1.27", json!({}))));
    s.run_to(10.0);
    assert_eq!(s.status["phase"], "Running");
    assert_eq!(s.status["podIP"], "10.244.1.2");
    assert_eq!(s.status["hostIP"], "172.18.0.3");
    assert_eq!(s.status["qosClass"], "BestEffort");
    assert_eq!(s.cs(0)["ready"], true);
    assert_eq!(s.cs(0)["started"], true);
    assert_eq!(s.cs(0)["image"], "docker.io/library/nginx:1.27");
    assert!(
        s.cs(0)["imageID"]
            .as_str()
            .is_some_and(|i| i.starts_with("docker.io/library/nginx@sha256:"))
    );
    assert!(
        s.cs(0)["containerID"]
            .as_str()
            .is_some_and(|i| i.starts_with("containerd://") && i.len() == 13 + 64)
    );
    assert_eq!(s.cond("Ready")["status"], "True");
    assert_eq!(s.cond("PodReadyToStartContainers")["status"], "True");
    assert_eq!(s.messages("Pulling"), ["Pulling image \"nginx:1.27\""]);
    let pulled = &s.messages("Pulled")[0];
    assert!(
        pulled.starts_with("Successfully pulled image \"nginx:1.27\" in "),
        "{pulled}"
    );
    assert!(
        pulled.ends_with(" including waiting). Image size: 72099410 bytes."),
        "{pulled}"
    );
    assert_eq!(s.messages("Created"), ["Created container: app"]);
    assert_eq!(s.messages("Started"), ["Started container app"]);
    let e = &s.events[0].event;
    assert_eq!(
        (
            e.component.as_str(),
            e.host.as_deref(),
            e.involved.field_path.as_deref()
        ),
        (
            "kubelet",
            Some("kdrill-worker"),
            Some("spec.containers{app}")
        )
    );
    assert!(
        s.mem
            .logs("app", false)
            .iter()
            .any(|(_, l)| l == "/docker-entrypoint.sh: Configuration complete; ready for start up")
    );
    assert!(
        s.mem
            .logs("app", false)
            .iter()
            .any(|(_, l)| l.ends_with("[notice] 1#1: start worker processes")
                && l.starts_with("2025/06/01 10:00:"))
    );
    // A second pod on the same node finds the image present.
    let mut s2 = Sim::new(pod("web2", one("nginx:1.27", json!({}))));
    s2.node.images = s.node.images.clone();
    s2.run_to(2.0);
    assert_eq!(
        s2.messages("Pulled"),
        ["Container image \"nginx:1.27\" already present on machine"]
    );
}

#[test]
fn missing_tag_gives_err_image_pull_then_image_pull_back_off() {
    let mut s = Sim::new(pod("web", one("nginx:1.999", json!({}))));
    let err = "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.999\": failed to resolve reference \"docker.io/library/nginx:1.999\": docker.io/library/nginx:1.999: not found";
    s.run_to(1.05);
    assert_eq!(
        s.cs(0)["state"]["waiting"],
        json!({"reason": "ErrImagePull", "message": err})
    );
    assert_eq!(s.status["phase"], "Pending");
    assert_eq!(
        s.messages("Failed"),
        [
            format!("Failed to pull image \"nginx:1.999\": {err}"),
            "Error: ErrImagePull".into()
        ]
    );
    s.run_to(5.0);
    assert_eq!(
        s.cs(0)["state"]["waiting"],
        json!({"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"nginx:1.999\": ErrImagePull: {err}")})
    );
    assert_eq!(
        s.messages("BackOff"),
        ["Back-off pulling image \"nginx:1.999\""]
    );
    assert!(
        s.messages("Failed")
            .contains(&"Error: ImagePullBackOff".to_string())
    );
    // Retries at 10s, then 20s later: three pulls within ~45s.
    s.run_to(45.0);
    assert_eq!(s.messages("Pulling").len(), 3);
    assert_eq!(s.cs(0)["image"], "nginx:1.999");
    assert_eq!(s.cs(0)["imageID"], "");
}

#[test]
fn a_pull_retried_after_its_back_off_keeps_showing_the_last_error() {
    let mut s = Sim::new(pod("web", one("nginx:1.999", json!({}))));
    s.run_to(0.01);
    assert_eq!(s.cs(0)["state"]["waiting"]["reason"], "ContainerCreating");
    s.run_to(1.05);
    // Every 50 ms through two more pulls: upstream's kubelet shows the last
    // sync's error while the next pull runs, never ContainerCreating again.
    let mut seen = std::collections::BTreeSet::new();
    for step in 22..900 {
        s.run_to(f64::from(step) * 0.05);
        seen.insert(
            s.cs(0)["state"]["waiting"]["reason"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    assert_eq!(s.messages("Pulling").len(), 3);
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["ErrImagePull", "ImagePullBackOff"]
    );
}

#[test]
fn private_registry_needs_a_pull_secret() {
    let spec = json!({"containers": [{"name": "api", "image": "registry.example.com/team/api:1.0"}], "imagePullSecrets": [{"name": "regcred"}]});
    let mut s = Sim::new(pod("api", spec));
    s.catalog.add_private(
        "registry.example.com/team/api",
        PrivateRepo {
            tags: vec!["1.0".into()],
            size: 5_000_000,
            ..Default::default()
        },
    );
    s.run_to(3.0);
    assert_eq!(
        s.messages("FailedToRetrieveImagePullSecret"),
        [
            "Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed."
        ]
    );
    assert!(s.messages("Failed")[0].ends_with("unexpected status from HEAD request to https://registry.example.com/v2/team/api/manifests/1.0: 401 Unauthorized"));
    use base64::Engine;
    let cfg = base64::engine::general_purpose::STANDARD
        .encode(r#"{"auths":{"registry.example.com":{"username":"u","password":"p"}}}"#);
    s.world.secrets.insert(
        "regcred".into(),
        std::sync::Arc::new(
            json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": cfg}}),
        ),
    );
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Running");
}

#[test]
fn crash_loop_backs_off_10s_doubling_with_upstream_messages() {
    let mut s = Sim::new(pod(
        "api",
        one(
            "busybox:1.36",
            json!({"command": ["sh", "-c", "echo connecting to db; sleep 2; echo fatal: db unreachable; exit 1"]}),
        ),
    ));
    s.run_to(3.0);
    // First exit at ~2.x s: terminated Error, shown until the runtime notices.
    assert_eq!(s.cs(0)["state"]["terminated"]["reason"], "Error");
    assert_eq!(s.cs(0)["state"]["terminated"]["exitCode"], 1);
    s.run_to(8.0);
    // Restarted at once (no back-off yet), crashed again: CrashLoopBackOff.
    assert_eq!(s.cs(0)["restartCount"], 1);
    assert_eq!(s.cs(0)["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(
        s.cs(0)["state"]["waiting"]["message"],
        format!("back-off 10s restarting failed container=app pod=api_default({UID})")
    );
    assert_eq!(s.cs(0)["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(s.cs(0)["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(s.status["phase"], "Running");
    assert_eq!(s.cs(0)["ready"], false);
    assert_eq!(
        s.messages("BackOff"),
        [format!(
            "Back-off restarting failed container app in pod api_default({UID})"
        )]
    );
    assert_eq!(
        s.cond("ContainersReady")["message"],
        "containers with unready status: [app]"
    );
    let prev: Vec<String> = s
        .mem
        .logs("app", true)
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(prev, ["connecting to db", "fatal: db unreachable"]);
    // Starts: t≈1, ≈4, then +10s, +20s, +40s back-offs after each exit.
    s.run_to(120.0);
    let starts: Vec<i64> = s
        .events
        .iter()
        .filter(|e| e.event.reason == "Started")
        .map(|e| e.at.duration_since(t0()).as_secs())
        .collect();
    let gaps: Vec<i64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps[1..], [12, 22, 42], "starts {starts:?}");
    assert_eq!(
        s.cs(0)["state"]["waiting"]["message"],
        format!("back-off 1m20s restarting failed container=app pod=api_default({UID})")
    );
}

#[test]
fn missing_config_map_key_and_secret_give_create_container_config_error() {
    let env = json!({"env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "mode"}}}]});
    let mut s = Sim::new(pod("api", one("nginx:1.27", env)));
    s.run_to(10.0);
    assert_eq!(
        s.cs(0)["state"]["waiting"],
        json!({"reason": "CreateContainerConfigError", "message": "configmap \"app-config\" not found"})
    );
    assert!(
        s.messages("Failed")
            .contains(&"Error: configmap \"app-config\" not found".to_string())
    );
    s.world.config_maps.insert(
        "app-config".into(),
        std::sync::Arc::new(json!({"data": {"other": "x"}})),
    );
    s.run_to(25.0);
    assert_eq!(
        s.cs(0)["state"]["waiting"]["message"],
        "couldn't find key mode in ConfigMap default/app-config"
    );
    assert!(
        s.messages("Pulled")
            .iter()
            .skip(1)
            .all(|m| m == "Container image \"nginx:1.27\" already present on machine")
    );
    s.world.config_maps.insert(
        "app-config".into(),
        std::sync::Arc::new(json!({"data": {"mode": "prod"}})),
    );
    s.run_to(40.0);
    assert_eq!(s.status["phase"], "Running");
    let sec = json!({"envFrom": [{"secretRef": {"name": "db"}}]});
    let mut s = Sim::new(pod("api", one("nginx:1.27", sec)));
    s.run_to(5.0);
    assert_eq!(
        s.cs(0)["state"]["waiting"]["message"],
        "secret \"db\" not found"
    );
}

#[test]
fn missing_volume_source_keeps_the_pod_container_creating_with_failed_mount() {
    let spec = json!({"containers": [{"name": "app", "image": "nginx:1.27", "volumeMounts": [{"name": "config", "mountPath": "/etc/nginx/conf.d"}]}],
                      "volumes": [{"name": "config", "configMap": {"name": "nginx-conf"}}]});
    let mut s = Sim::new(pod("web", spec));
    s.run_to(130.0);
    assert_eq!(s.cs(0)["state"]["waiting"]["reason"], "ContainerCreating");
    assert_eq!(s.cond("PodReadyToStartContainers")["status"], "False");
    assert_eq!(s.status["phase"], "Pending");
    assert!(s.status.get("podIP").is_none());
    let fm = s.messages("FailedMount");
    assert_eq!(
        fm[0],
        "MountVolume.SetUp failed for volume \"config\" : configmap \"nginx-conf\" not found"
    );
    assert!(fm.contains(&"Unable to attach or mount volumes: unmounted volumes=[config], unattached volumes=[], failed to process volumes=[]: context deadline exceeded".to_string()));
    assert!(fm.len() < 15, "retries back off: {}", fm.len());
    // A broken mounted config makes nginx exit with its [emerg] line.
    s.world.config_maps.insert(
        "nginx-conf".into(),
        std::sync::Arc::new(
            json!({"data": {"default.conf": "server {\n  listen 80;\n  locaton / { }\n}\n"}}),
        ),
    );
    s.run_to(260.0);
    assert_eq!(s.cs(0)["lastState"]["terminated"]["reason"], "Error");
    assert!(s.mem.logs("app", true).iter().any(|(_, l)| l
        == "nginx: [emerg] unknown directive \"locaton\" in /etc/nginx/conf.d/default.conf:3"));
}

#[test]
fn unbound_claim_keeps_the_pod_container_creating_until_bound() {
    let spec = json!({"containers": [{"name": "app", "image": "nginx:1.27", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]});
    let mut s = Sim::new(pod("web", spec));
    s.run_to(5.0);
    assert_eq!(s.cs(0)["state"]["waiting"]["reason"], "ContainerCreating");
    assert_eq!(
        s.messages("FailedMount")[0],
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/data: failed to fetch PVC from API server: persistentvolumeclaims \"data\" not found"
    );
    s.world.pvcs.insert(
        "data".into(),
        std::sync::Arc::new(
            json!({"spec": {"accessModes": ["ReadWriteOnce"]}, "status": {"phase": "Pending"}}),
        ),
    );
    s.run_to(130.0);
    assert_eq!(s.cs(0)["state"]["waiting"]["reason"], "ContainerCreating");
    let fm = s.messages("FailedMount");
    assert_eq!(
        fm.last().map(String::as_str),
        Some(
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/data: PVC is not bound"
        )
    );
    assert!(fm.len() < 15, "retries back off: {}", fm.len());
    s.world.pvcs.insert(
        "data".into(),
        std::sync::Arc::new(json!({"spec": {"volumeName": "pvc-1"}, "status": {"phase": "Bound"}})),
    );
    s.run_to(400.0);
    assert!(s.cs(0)["state"]["running"].is_object(), "{}", s.cs(0));
}

#[test]
fn memory_over_the_limit_is_oom_killed_with_137() {
    let c = json!({"command": ["stress"], "args": ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"], "resources": {"limits": {"memory": "100Mi"}, "requests": {"memory": "50Mi"}}});
    let mut s = Sim::new(pod("memory-demo", one("polinux/stress", c)));
    s.run_to(20.0);
    assert_eq!(s.cs(0)["lastState"]["terminated"]["reason"], "OOMKilled");
    assert_eq!(s.cs(0)["lastState"]["terminated"]["exitCode"], 137);
    assert_eq!(s.status["qosClass"], "Burstable");
}

#[test]
fn failing_readiness_probe_keeps_the_pod_unready() {
    let c = json!({"readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 5}});
    let mut s = Sim::new(pod("web", one("nginx:1.27", c)));
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Running");
    assert_eq!(s.cs(0)["ready"], false);
    assert_eq!(s.cond("Ready")["status"], "False");
    assert_eq!(s.cond("Ready")["reason"], "ContainersNotReady");
    let u = s.messages("Unhealthy");
    assert!(u.len() >= 5);
    assert!(
        u.iter()
            .all(|m| m == "Readiness probe failed: HTTP probe failed with statuscode: 404")
    );
}

#[test]
fn failing_liveness_exec_probe_restarts_the_container() {
    // The liveness example from the Kubernetes docs.
    let c = json!({"args": ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
                   "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5}});
    let mut s = Sim::new(pod(
        "liveness-exec",
        json!({"containers": [{"name": "liveness", "image": "registry.k8s.io/busybox", "args": c["args"], "livenessProbe": c["livenessProbe"]}]}),
    ));
    s.run_to(50.0);
    assert_eq!(
        s.messages("Unhealthy")[0],
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"
    );
    assert_eq!(
        s.messages("Killing"),
        ["Container liveness failed liveness probe, will be restarted"]
    );
    s.run_to(90.0);
    // sh ignores SIGTERM: killed at the 30s grace period.
    assert_eq!(s.cs(0)["restartCount"], 1);
    assert_eq!(s.cs(0)["lastState"]["terminated"]["exitCode"], 137);
    assert_eq!(s.cs(0)["lastState"]["terminated"]["reason"], "Error");
}

#[test]
fn slow_start_with_aggressive_liveness_never_becomes_ready() {
    let mut s = Sim::new(pod(
        "slow",
        one(
            "registry.example.com/shop/api:2.1",
            json!({
        "ports": [{"name": "http", "containerPort": 8080}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 3}}),
        ),
    ));
    s.catalog.declare(
        "registry.example.com/shop/api",
        AppBehaviour {
            ports: vec![8080],
            paths: vec![PathStatus {
                path: "/healthz".into(),
                status: 200,
            }],
            startup_seconds: 60.0,
            ..Default::default()
        },
    );
    s.run_to(120.0);
    assert_eq!(
        s.messages("Unhealthy")[0],
        "Liveness probe failed: Get \"http://10.244.1.2:8080/healthz\": dial tcp 10.244.1.2:8080: connect: connection refused"
    );
    assert!(s.messages("Killing").len() >= 2);
    assert!(s.cs(0)["restartCount"].as_u64().is_some_and(|n| n >= 2));
    // A startup probe fixes it.
    let mut s = Sim::new(pod(
        "slow",
        one(
            "registry.example.com/shop/api:2.1",
            json!({
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5},
        "startupProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 30}}),
        ),
    ));
    s.catalog.declare(
        "registry.example.com/shop/api",
        AppBehaviour {
            ports: vec![8080],
            paths: vec![PathStatus {
                path: "/healthz".into(),
                status: 200,
            }],
            startup_seconds: 60.0,
            ..Default::default()
        },
    );
    s.run_to(120.0);
    assert_eq!(s.cs(0)["restartCount"], 0);
    assert_eq!(s.cs(0)["ready"], true);
    assert_eq!(s.cs(0)["started"], true);
}

#[test]
fn tcp_and_grpc_probes_check_what_is_served() {
    let c = json!({"readinessProbe": {"tcpSocket": {"port": 6380}, "periodSeconds": 10}});
    let mut s = Sim::new(pod("cache", one("redis:7.4", c)));
    s.run_to(15.0);
    assert_eq!(
        s.messages("Unhealthy")[0],
        "Readiness probe failed: dial tcp 10.244.1.2:6380: connect: connection refused"
    );
    let c = json!({"args": ["grpc-health-checking"], "livenessProbe": {"grpc": {"port": 5000}}, "readinessProbe": {"grpc": {"port": 5001}}});
    let mut s = Sim::new(pod(
        "grpc",
        one("registry.k8s.io/e2e-test-images/agnhost:2.53", c),
    ));
    s.run_to(15.0);
    assert_eq!(
        s.messages("Unhealthy")[0],
        "Readiness probe failed: timeout: failed to connect service \"10.244.1.2:5001\" within 1s: context deadline exceeded"
    );
    assert!(s.messages("Killing").is_empty());
}

#[test]
fn init_containers_run_in_order_before_the_app() {
    let spec = json!({"initContainers": [{"name": "wait-db", "image": "busybox:1.36", "command": ["sh", "-c", "until nslookup db; do echo waiting for db; sleep 2; done"]}],
                      "containers": [{"name": "app", "image": "nginx:1.27"}]});
    let mut s = Sim::new(pod("app", spec));
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Pending");
    assert_eq!(
        s.cond("Initialized")["message"],
        "containers with incomplete status: [wait-db]"
    );
    assert_eq!(s.cs(0)["state"]["waiting"]["reason"], "PodInitializing");
    assert!(s.status["initContainerStatuses"][0]["state"]["running"].is_object());
    assert!(
        s.mem
            .logs("wait-db", false)
            .iter()
            .any(|(_, l)| l == ";; connection timed out; no servers could be reached")
    );
    let spec = json!({"initContainers": [{"name": "setup", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 2"]},
                                         {"name": "proxy", "image": "busybox:1.36", "restartPolicy": "Always", "command": ["sh", "-c", "sleep 3600"]}],
                      "containers": [{"name": "app", "image": "nginx:1.27"}]});
    let mut s = Sim::new(pod("app", spec));
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Running");
    assert_eq!(
        s.status["initContainerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    assert!(s.status["initContainerStatuses"][1]["state"]["running"].is_object());
    assert_eq!(s.cond("Initialized")["status"], "True");
    assert_eq!(s.cond("Ready")["status"], "True");
}

#[test]
fn restart_policy_never_ends_in_succeeded_or_failed() {
    let mut s = Sim::new(pod(
        "job",
        json!({"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "echo done"]}]}),
    ));
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Succeeded");
    assert_eq!(s.cs(0)["state"]["terminated"]["reason"], "Completed");
    assert_eq!(s.cond("Ready")["reason"], "PodCompleted");
    let mut s = Sim::new(pod(
        "job",
        json!({"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "exit 2"]}]}),
    ));
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Failed");
    assert_eq!(s.cs(0)["state"]["terminated"]["exitCode"], 2);
    let mut s = Sim::new(pod(
        "job",
        json!({"restartPolicy": "OnFailure", "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "exit 2"]}]}),
    ));
    s.run_to(30.0);
    assert_eq!(s.status["phase"], "Running");
    assert!(s.cs(0)["restartCount"].as_u64().is_some_and(|n| n >= 2));
}

#[test]
fn unknown_binary_is_a_start_error_with_exit_128() {
    let mut s = Sim::new(pod(
        "bad",
        one("busybox:1.36", json!({"command": ["pyhton", "app.py"]})),
    ));
    s.run_to(1.5);
    let msg = "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: \"pyhton\": executable file not found in $PATH: unknown";
    let term = &s.cs(0)["state"]["terminated"];
    assert_eq!(term["reason"], "StartError");
    assert_eq!(term["exitCode"], 128);
    assert_eq!(term["message"], msg);
    assert_eq!(term["startedAt"], "1970-01-01T00:00:00Z");
    assert!(s.messages("Failed").contains(&format!("Error: {msg}")));
    // Inside `sh -c`, an unknown command is the shell's 127.
    let mut s = Sim::new(pod(
        "bad",
        one(
            "busybox:1.36",
            json!({"command": ["sh", "-c", "curl http://api"]}),
        ),
    ));
    s.run_to(1.5);
    assert_eq!(s.cs(0)["state"]["terminated"]["exitCode"], 127);
    assert_eq!(s.mem.logs("app", false)[0].1, "sh: curl: not found");
}

#[test]
fn deletion_stops_containers_gracefully_then_the_pod_is_gone() {
    let mut s = Sim::new(pod(
        "web",
        json!({"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "sleeper", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}),
    ));
    s.run_to(10.0);
    s.pod["metadata"]["deletionTimestamp"] = json!("2025-06-01T10:00:10Z");
    s.pod["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    s.run_to(11.0);
    assert_eq!(
        s.messages("Killing"),
        ["Stopping container web", "Stopping container sleeper"]
    );
    assert!(!s.gone);
    s.run_to(45.0);
    assert!(s.gone);
    assert_eq!(s.cs(1)["state"]["terminated"]["exitCode"], 137);
    assert_eq!(s.cs(0)["state"]["terminated"]["exitCode"], 0);
}

#[test]
fn back_off_resets_after_ten_minutes_of_running() {
    let mut s = Sim::new(pod(
        "batch",
        one(
            "busybox:1.36",
            json!({"command": ["sh", "-c", "sleep 660; exit 1"]}),
        ),
    ));
    s.run_to(2000.0);
    assert!(
        s.messages("BackOff").is_empty(),
        "{:?}",
        s.messages("BackOff")
    );
    assert_eq!(s.cs(0)["restartCount"], 3);
}

#[test]
fn garbage_never_panics() {
    let pods = [
        json!(null),
        json!({}),
        json!({"spec": {"containers": 5}}),
        json!({"spec": {"containers": [{}]}}),
        json!({"spec": {"containers": [{"name": "x", "image": "NGINX:!!"}]}}),
        json!({"spec": {"containers": [{"name": "x", "image": "busybox", "resources": {"limits": {"memory": "1e30", "cpu": "-5"}}}]}}),
        json!({"spec": {"containers": [{"name": "x", "image": "busybox", "command": ["sh", "-c", "while true; do echo spam spam spam; done"]}]}}),
        json!({"spec": {"containers": [{"name": "x", "image": "busybox", "command": ["sh", "-c", "yes"], "livenessProbe": {"exec": {}}, "readinessProbe": {"httpGet": {"port": "nope"}, "periodSeconds": -4}}]}}),
        json!({"spec": {"containers": [{"name": "x", "image": "busybox", "command": [1, 2], "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['x']"}}}]}]}}),
        json!({"metadata": {"deletionTimestamp": "x"}, "spec": {"terminationGracePeriodSeconds": -1, "containers": [{"name": "x", "image": ""}]}}),
        json!({"spec": {"volumes": [{"name": "v", "projected": {"sources": [{"secret": {}}]}}], "containers": [{"name": "x", "image": "alpine", "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "a"}]}]}}),
    ];
    for p in pods {
        let mut s = Sim::new(p);
        s.run_to(700.0);
        assert!(s.status["phase"].is_string());
    }
    let huge = format!("echo {}", "x".repeat(100_000));
    let mut s = Sim::new(pod(
        "big",
        one(
            "busybox",
            json!({"command": ["sh", "-c", format!("while true; do {huge}; sleep 1; done")]}),
        ),
    ));
    s.run_to(20_000.0);
    assert!(s.mem.logs("app", false).len() <= crate::sim::workload::MAX_LOG_LINES);
    assert!(
        s.mem
            .logs("app", false)
            .iter()
            .all(|(_, l)| l.len() <= crate::sim::workload::MAX_LINE_LEN)
    );
}

#[test]
fn a_deletion_seen_long_after_the_last_sync_gets_its_full_grace_period() {
    let mut s = Sim::new(pod(
        "box",
        one("busybox:1.36", json!({"args": ["sleep", "3600"]})),
    ));
    s.run_to(10.0);
    // Deleted long after the last sync: the grace period runs from the
    // deletion, not from the last sync.
    s.pod["metadata"]["deletionTimestamp"] = json!("2025-06-01T10:05:00Z");
    s.pod["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    // The first sync after the last one at 10s (a sleeping pod has no
    // timer) happens when the deletion arrives, at 300s.
    s.now = t0() + SignedDuration::from_secs(300);
    s.sync();
    assert!(!s.gone);
    s.run_to(329.0);
    assert!(!s.gone);
    s.run_to(331.0);
    assert!(s.gone);
    assert_eq!(s.messages("Killing"), ["Stopping container app"]);
}
