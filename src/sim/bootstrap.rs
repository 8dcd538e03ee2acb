//! The shape of a fresh simulated cluster: what a new kind cluster shows at
//! the API level (namespaces, the `kubernetes` and `kube-dns` Services, the
//! `standard` StorageClass, the RBAC bootstrap policy (`bootstrap_rbac.yaml`),
//! CoreDNS (`bootstrap_coredns.yaml`), kube-proxy
//! (`bootstrap_kube_proxy.yaml`), kindnet (`bootstrap_kindnet.yaml`),
//! local-path-provisioner (`bootstrap_local_path.yaml`), and Ready nodes
//! with kind's preloaded images; the control plane's static pods are the
//! kubelet's, `sim::kubelet::static_pods`). The workers join after CoreDNS
//! and local-path-provisioner were scheduled, as kind's do, so those run
//! on the control plane.

use crate::api::pointer::Pointer;
use crate::api::resource;
use crate::registry::Registry;
use crate::registry::options::WriteOptions;
use crate::sim::clock::{Clock, VirtualClock, format_time};
use crate::sim::controllers::deployment::DeploymentController;
use crate::sim::controllers::podutil;
use crate::sim::controllers::replicaset::ReplicaSetController;
use crate::sim::controllers::scheduler::Scheduler;
use crate::sim::recorder::Recorder;
use crate::sim::runtime::Runtime;
use serde_json::{Value, json};
use std::sync::Arc;

/// The Kubernetes version the simulated cluster reports everywhere.
pub const KUBE_VERSION: &str = "v1.33.1";

/// How many nodes, and the cluster name used in node names.
#[derive(Debug, Clone)]
pub struct ClusterShape {
    pub name: String,
    pub workers: usize,
}

impl Default for ClusterShape {
    fn default() -> Self {
        Self {
            name: "kdrill".into(),
            workers: 2,
        }
    }
}

impl ClusterShape {
    /// Node names as kind gives them: `<name>-control-plane`, `<name>-worker`, `<name>-worker2`, ...
    pub fn node_names(&self) -> Vec<String> {
        let mut names = vec![format!("{}-control-plane", self.name)];
        for i in 0..self.workers {
            names.push(if i == 0 {
                format!("{}-worker", self.name)
            } else {
                format!("{}-worker{}", self.name, i + 1)
            });
        }
        names
    }
}

/// A Ready node as kubelet registers it on kind.
fn node(name: &str, index: usize, control_plane: bool, now: &str) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    });
    let mut taints = json!([]);
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
        taints = json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    }
    let condition = |ty: &str, status: &str, reason: &str, message: &str| json!({"type": ty, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now});
    let mut spec = json!({"podCIDR": format!("10.244.{index}.0/24"), "podCIDRs": [format!("10.244.{index}.0/24")], "providerID": format!("kind://docker/kdrill/{name}")});
    if control_plane {
        spec["taints"] = taints;
    }
    let capacity = json!({"cpu": "8", "ephemeral-storage": "263174212Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "16365720Ki", "pods": "110"});
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {
            "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }},
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": format!("172.18.0.{}", index + 2)}, {"type": "Hostname", "address": name}],
            "allocatable": capacity.clone(),
            "capacity": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": preloaded_images(),
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": format!("{:08x}-0000-4000-8000-{:012x}", index + 1, index + 1),
                "containerRuntimeVersion": "containerd://2.1.1",
                "kernelVersion": "6.8.0-1029-gcp",
                "kubeProxyVersion": "",
                "kubeletVersion": KUBE_VERSION,
                "machineID": format!("{:032x}", index + 1),
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": format!("{:08x}-0000-4000-8000-{:012x}", index + 101, index + 101),
            },
        },
    })
}

/// The images a kind v0.29.0 node image (kindest/node:v1.33.1) comes with,
/// as the kubelet lists them in `status.images` (largest first): kind
/// loads the release tarballs of the Kubernetes components under their
/// `-amd64` names and tags them again without, and imports the rest, so
/// none has a repository digest. Pods started from them find the image
/// "already present on machine".
pub const PRELOADED_IMAGES: &[(&[&str], u64)] = &[
    (&["registry.k8s.io/etcd:3.5.21-0"], 58_938_593),
    (
        &["docker.io/kindest/kindnetd:v20250512-df8de77b"],
        44_375_501,
    ),
    (
        &[
            "registry.k8s.io/kube-proxy-amd64:v1.33.1",
            "registry.k8s.io/kube-proxy:v1.33.1",
        ],
        30_816_543,
    ),
    (
        &[
            "registry.k8s.io/kube-apiserver-amd64:v1.33.1",
            "registry.k8s.io/kube-apiserver:v1.33.1",
        ],
        30_071_307,
    ),
    (
        &[
            "registry.k8s.io/kube-controller-manager-amd64:v1.33.1",
            "registry.k8s.io/kube-controller-manager:v1.33.1",
        ],
        27_646_507,
    ),
    (
        &["docker.io/kindest/local-path-provisioner:v20250214-acbabc1a"],
        22_541_737,
    ),
    (&["registry.k8s.io/coredns/coredns:v1.12.0"], 22_384_805),
    (
        &[
            "registry.k8s.io/kube-scheduler-amd64:v1.33.1",
            "registry.k8s.io/kube-scheduler:v1.33.1",
        ],
        21_785_428,
    ),
    (
        &["docker.io/kindest/local-path-helper:v20241212-8ac705d0"],
        3_084_671,
    ),
    (&["registry.k8s.io/pause:3.10"], 320_368),
];

/// `status.images` of a fresh node: [`PRELOADED_IMAGES`].
fn preloaded_images() -> Value {
    PRELOADED_IMAGES
        .iter()
        .map(|(names, size)| json!({"names": names, "sizeBytes": size}))
        .collect()
}

/// Whether the cluster's own pods (`kube-system`: the control plane,
/// CoreDNS, kube-proxy, kindnet; `local-path-storage`) are all Running and
/// Ready, as a fresh kind cluster's are by the time
/// `kind create cluster` returns.
pub fn system_pods_ready(registry: &Registry) -> bool {
    use crate::sim::snapshot::res::{DAEMONSETS, DEPLOYMENTS, PODS};
    let int = |v: &Value, p: &[&str]| v.get_in(p).and_then(Value::as_i64).unwrap_or(0);
    ["kube-system", "local-path-storage"].iter().all(|ns| {
        let store = &registry.store;
        let (pods, _) = store.list(PODS, Some(ns));
        // Every DaemonSet with its pod on every node, every Deployment
        // with all its replicas, as well as every pod there Ready.
        let (daemons, _) = store.list(DAEMONSETS, Some(ns));
        let (deployments, _) = store.list(DEPLOYMENTS, Some(ns));
        !pods.is_empty()
            && pods
                .iter()
                .all(|p| podutil::phase(p) == "Running" && podutil::is_ready(p))
            && daemons.iter().all(|d| {
                let desired = int(d, &["status", "desiredNumberScheduled"]);
                desired > 0 && int(d, &["status", "numberReady"]) == desired
            })
            && deployments
                .iter()
                .all(|d| int(d, &["status", "readyReplicas"]) == int(d, &["spec", "replicas"]))
    })
}

/// Runs the virtual clock until the cluster's own pods are Ready (at most
/// ten minutes of it), so what a benchmark then times is its workload, not
/// their pulls and starts.
pub fn settle(rt: &mut Runtime, clock: &VirtualClock, registry: &Registry) {
    let by = clock.now() + jiff::SignedDuration::from_secs(600);
    while !system_pods_ready(registry) && clock.now() < by && rt.advance_to_next_timer(clock) {}
}

/// Creates the objects of a fresh cluster through the registry.
pub fn seed(registry: &Arc<Registry>, shape: &ClusterShape) -> Result<(), String> {
    let opts = WriteOptions::default();
    let mut docs = crate::api::yaml::from_multiple(include_str!("bootstrap.yaml"))
        .map_err(|e| format!("bootstrap.yaml: {e}"))?;
    docs.extend(
        crate::api::yaml::from_multiple(include_str!("bootstrap_rbac.yaml"))
            .map_err(|e| format!("bootstrap_rbac.yaml: {e}"))?,
    );
    docs.extend(
        crate::api::yaml::from_multiple(include_str!("bootstrap_coredns.yaml"))
            .map_err(|e| format!("bootstrap_coredns.yaml: {e}"))?,
    );
    docs.extend(
        crate::api::yaml::from_multiple(include_str!("bootstrap_kube_proxy.yaml"))
            .map_err(|e| format!("bootstrap_kube_proxy.yaml: {e}"))?,
    );
    let kindnet = include_str!("bootstrap_kindnet.yaml").replace("CLUSTER", &shape.name);
    docs.extend(
        crate::api::yaml::from_multiple(&kindnet)
            .map_err(|e| format!("bootstrap_kindnet.yaml: {e}"))?,
    );
    docs.extend(
        crate::api::yaml::from_multiple(include_str!("bootstrap_local_path.yaml"))
            .map_err(|e| format!("bootstrap_local_path.yaml: {e}"))?,
    );
    aggregate_roles(&mut docs);
    let now = format_time(registry.clock.now());
    let mut nodes = shape
        .node_names()
        .iter()
        .enumerate()
        .map(|(i, n)| node(n, i, i == 0, &now))
        .collect::<Vec<_>>();
    let workers = nodes.split_off(1.min(nodes.len()));
    let mut recorder = Recorder::new();
    let created = create_all(registry, docs.into_iter().chain(nodes), &opts)?;
    record_registrations(registry, &mut recorder, &created);
    // kind joins the workers only after `kubeadm init` on the control
    // plane, installing its CNI and its StorageClass: CoreDNS and
    // local-path-provisioner (which tolerate the control plane's taint)
    // have been scheduled by then, with the control plane the only node,
    // and stay there.
    let mut init = Runtime::new(
        registry.clone(),
        vec![
            Box::new(DeploymentController),
            Box::new(ReplicaSetController),
            // One node: no tie for the seed to break.
            Box::new(Scheduler::new(0)),
        ],
    );
    init.run_until_idle();
    drop(init);
    let created = create_all(registry, workers, &opts)?;
    record_registrations(registry, &mut recorder, &created);
    Ok(())
}

/// The events of nodes joining: their kubelets' start a second before
/// the Node is created (the kubelet registers its node once it runs),
/// then the node lifecycle controller's `RegisteredNode` and, as the
/// simulated nodes are Ready from the start, the kubelet's `NodeReady`.
fn record_registrations(registry: &Registry, recorder: &mut Recorder, nodes: &[Arc<Value>]) {
    use crate::sim::controllers::{nodeheartbeat, nodelifecycle};
    let now = registry.clock.now();
    let before = now - jiff::SignedDuration::from_secs(1);
    for node in nodes {
        let name = crate::api::meta::name(node);
        for e in nodeheartbeat::registration_events(name) {
            recorder.record_at(registry, &e, before);
        }
        recorder.record_at(registry, &nodelifecycle::registered_event(node), now);
        recorder.record_at(registry, &nodeheartbeat::ready_event(name), now);
    }
}

/// Creates `docs` through the registry (a Node with its heartbeat Lease);
/// returns the Nodes created.
fn create_all(
    registry: &Registry,
    docs: impl IntoIterator<Item = Value>,
    opts: &WriteOptions,
) -> Result<Vec<Arc<Value>>, String> {
    let mut nodes = Vec::new();
    for doc in docs {
        let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let info = resource::lookup_kind(group, version, kind)
            .ok_or_else(|| format!("bootstrap: unknown kind {api_version} {kind}"))?;
        let ns = doc
            .get_in(&["metadata", "namespace"])
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let is_node = info.kind == "Node";
        let created = registry
            .create(info, &ns, doc, opts)
            .map_err(|s| format!("bootstrap: {s}"))?;
        if is_node {
            create_node_lease(registry, &created.object)?;
            nodes.push(created.object);
        }
    }
    Ok(nodes)
}

/// Fills the rules of aggregating ClusterRoles as the aggregation
/// controller would, so a fresh cluster starts with `admin`, `edit` and
/// `view` complete (nested aggregation converges within a few passes).
fn aggregate_roles(docs: &mut [Value]) {
    use crate::sim::controllers::clusterrole_aggregation::aggregated_rules;
    let is_role = |d: &Value| d.get("kind").and_then(Value::as_str) == Some("ClusterRole");
    for _ in 0..3 {
        let mut roles: Vec<Value> = docs.iter().filter(|d| is_role(d)).cloned().collect();
        roles.sort_by(|a, b| crate::api::meta::name(a).cmp(crate::api::meta::name(b)));
        for d in docs.iter_mut().filter(|d| is_role(d)) {
            if let Some(rules) = aggregated_rules(d, roles.iter()) {
                d["rules"] = Value::from(rules);
            }
        }
    }
}

/// The kubelet's heartbeat Lease in `kube-node-lease`, owned by its Node.
fn create_node_lease(registry: &Registry, node: &Value) -> Result<(), String> {
    let name = crate::api::meta::name(node);
    let lease = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": crate::api::meta::uid(node)}],
        },
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": 40,
            "renewTime": crate::sim::clock::format_micro_time(registry.clock.now()),
        },
    });
    let info = resource::lookup("coordination.k8s.io", "v1", "leases")
        .ok_or("bootstrap: leases are not served")?;
    registry
        .create(info, "kube-node-lease", lease, &WriteOptions::default())
        .map(|_| ())
        .map_err(|s| format!("bootstrap: {s}"))
}
