//! The static pods of a node: what its kubelet reads from the manifest
//! directory (`/etc/kubernetes/manifests`) and runs without the API server,
//! and the mirror pods it creates so that the API shows them.
//!
//! A kind control-plane node runs kubeadm's four (etcd, kube-apiserver,
//! kube-controller-manager and kube-scheduler, `static_pods.yaml`);
//! workers run none. The manifests are a function of the Node (its name,
//! InternalIP, and the cluster name in its `kind://docker/<cluster>/<node>`
//! providerID), as the files on a node are of the `kubeadm init` that
//! wrote them. The kubelet's side (creating a missing mirror pod, replacing
//! one that is being deleted, keeping the containers running meanwhile) is
//! in `sim::kubelets`.

use crate::api::pointer::Pointer;
use crate::sim::workload::catalog::{digest_hex, fnv};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

pub use crate::registry::admission::service_account::MIRROR_ANNOTATION;

/// `kubernetes.io/config.hash`: the kubelet's UID for a static pod.
pub const CONFIG_HASH: &str = "kubernetes.io/config.hash";
const CONFIG_SEEN: &str = "kubernetes.io/config.seen";
const CONFIG_SOURCE: &str = "kubernetes.io/config.source";
const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";

/// How long before its Node registered the kubelet read its manifests and
/// started their pods: on kind the kubelet starts the control plane from
/// them, and registers its Node (and creates the mirror pods) only once the
/// API server it started serves.
pub const BOOT_LEAD: SignedDuration = SignedDuration::from_secs(20);

/// One static pod of a node, as its kubelet holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticPod {
    pub namespace: String,
    /// `<manifest name>-<node>`.
    pub name: String,
    /// The kubelet's UID for the pod (`kubernetes.io/config.hash`); its
    /// mirror pod's `kubernetes.io/config.mirror`.
    pub hash: String,
    /// When the kubelet read the manifest and started the pod.
    pub started: Timestamp,
    /// The pod after the kubelet's defaults (`applyDefaults` in
    /// pkg/kubelet/config/common.go): its name, node, the config
    /// annotations and the toleration of every `NoExecute` taint.
    pub pod: Value,
}

/// The static pods `node` runs: kubeadm's control plane on a control-plane
/// node, none elsewhere.
pub fn of_node(node: &Value) -> Vec<StaticPod> {
    let labels = node.get_in(&["metadata", "labels"]);
    if labels.and_then(|l| l.get(CONTROL_PLANE_LABEL)).is_none() {
        return Vec::new();
    }
    let node_name = crate::api::meta::name(node);
    let Some(ip) = node
        .get_in(&["status", "addresses"])
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|a| a["type"] == "InternalIP"))
        .and_then(|a| a["address"].as_str())
    else {
        return Vec::new();
    };
    let cluster = cluster_name(node);
    let registered = node
        .get_in(&["metadata", "creationTimestamp"])
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or_default();
    let nanos = i64::try_from(fnv(node_name, 7) % 1_000_000_000).unwrap_or_default();
    let started = registered - BOOT_LEAD + SignedDuration::from_nanos(nanos);
    let text = include_str!("static_pods.yaml")
        .replace("NODE_IP", ip)
        .replace("CLUSTER", &cluster)
        .replace("NODE", node_name);
    let Ok(manifests) = crate::api::yaml::from_multiple(&text) else {
        return Vec::new();
    };
    manifests
        .into_iter()
        .map(|m| with_kubelet_defaults(m, node_name, started))
        .collect()
}

/// The cluster name kind put in the node's providerID
/// (`kind://docker/<cluster>/<node>`), else the node name before
/// `-control-plane`.
fn cluster_name(node: &Value) -> String {
    let name = crate::api::meta::name(node);
    node.get_in(&["spec", "providerID"])
        .and_then(Value::as_str)
        .and_then(|p| p.strip_prefix("kind://"))
        .and_then(|p| p.split('/').nth(1))
        .map(str::to_string)
        .unwrap_or_else(|| name.trim_end_matches("-control-plane").to_string())
}

/// The manifest as the kubelet's file source hands it on.
fn with_kubelet_defaults(mut pod: Value, node: &str, started: Timestamp) -> StaticPod {
    let file = crate::api::meta::name(&pod).to_string();
    let namespace = crate::api::meta::namespace(&pod).to_string();
    let name = format!("{file}-{node}");
    // The kubelet hashes the decoded pod with its node and file path; any
    // stable digest of the same inputs serves.
    let hash = digest_hex(&format!(
        "{node}\n/etc/kubernetes/manifests/{file}.yaml\n{pod}"
    ))[..32]
        .to_string();
    if let Some(obj) = pod.as_object_mut() {
        obj.remove("status");
    }
    let meta = &mut pod["metadata"];
    meta["name"] = json!(name);
    let annotations = &mut meta["annotations"];
    annotations[CONFIG_HASH] = json!(hash);
    annotations[CONFIG_SEEN] = json!(started.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string());
    annotations[CONFIG_SOURCE] = json!("file");
    pod["spec"]["nodeName"] = json!(node);
    pod["spec"]["tolerations"] = json!([{"effect": "NoExecute", "operator": "Exists"}]);
    StaticPod {
        namespace,
        name,
        hash,
        started,
        pod,
    }
}

/// The mirror pod the kubelet creates for `sp` (`CreateMirrorPod`): the
/// static pod with `kubernetes.io/config.mirror` set to its hash, owned by
/// its Node.
pub fn mirror_pod(sp: &StaticPod, node_uid: &str) -> Value {
    let mut pod = sp.pod.clone();
    let node = pod["spec"]["nodeName"].clone();
    let meta = &mut pod["metadata"];
    meta["annotations"][MIRROR_ANNOTATION] = json!(sp.hash);
    meta["ownerReferences"] = json!([{
        "apiVersion": "v1",
        "controller": true,
        "kind": "Node",
        "name": node,
        "uid": node_uid,
    }]);
    pod
}

/// Whether `pod` is the mirror pod of `sp` (`IsMirrorPodOf`: its
/// `kubernetes.io/config.mirror` is the static pod's hash).
pub fn is_mirror_of(pod: &Value, sp: &StaticPod) -> bool {
    pod.get_in(&["metadata", "annotations", MIRROR_ANNOTATION])
        .and_then(Value::as_str)
        == Some(sp.hash.as_str())
}

/// The UID the kubelet knows `pod` by: for a mirror pod, its static pod's
/// (the hash), else the pod's own.
pub fn kubelet_uid(pod: &Value) -> &str {
    pod.get_in(&["metadata", "annotations", MIRROR_ANNOTATION])
        .and_then(Value::as_str)
        .unwrap_or_else(|| crate::api::meta::uid(pod))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, control_plane: bool) -> Value {
        let mut labels = json!({"kubernetes.io/hostname": name});
        if control_plane {
            labels[CONTROL_PLANE_LABEL] = json!("");
        }
        json!({
            "metadata": {"name": name, "uid": "node-uid", "labels": labels,
                "creationTimestamp": "2025-05-01T10:00:00Z"},
            "spec": {"providerID": format!("kind://docker/lab/{name}")},
            "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                {"type": "Hostname", "address": name}]},
        })
    }

    fn command(sp: &StaticPod) -> Vec<&str> {
        sp.pod["spec"]["containers"][0]["command"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect()
    }

    #[test]
    fn a_control_plane_node_runs_kubeadm_s_four_and_a_worker_none() {
        let pods = of_node(&node("lab-control-plane", true));
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "etcd-lab-control-plane",
                "kube-apiserver-lab-control-plane",
                "kube-controller-manager-lab-control-plane",
                "kube-scheduler-lab-control-plane"
            ]
        );
        assert!(pods.iter().all(|p| p.namespace == "kube-system"));
        assert!(of_node(&node("lab-worker", false)).is_empty());
    }

    #[test]
    fn the_manifests_carry_the_node_s_address_and_the_cluster_s_name() {
        let pods = of_node(&node("lab-control-plane", true));
        let etcd = command(&pods[0]);
        assert!(etcd.contains(&"--initial-cluster=lab-control-plane=https://172.18.0.2:2380"));
        assert!(
            etcd.contains(&"--listen-client-urls=https://127.0.0.1:2379,https://172.18.0.2:2379")
        );
        assert!(etcd.contains(&"--name=lab-control-plane"));
        let apiserver = command(&pods[1]);
        assert!(apiserver.contains(&"--advertise-address=172.18.0.2"));
        assert!(apiserver.contains(&"--service-cluster-ip-range=10.96.0.0/16"));
        assert_eq!(
            pods[1].pod["spec"]["containers"][0]["livenessProbe"]["httpGet"]["host"],
            "172.18.0.2"
        );
        assert!(command(&pods[2]).contains(&"--cluster-name=lab"));
        assert_eq!(
            pods[1].pod["metadata"]["annotations"]["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"],
            "172.18.0.2:6443"
        );
    }

    #[test]
    fn the_kubelet_names_them_for_its_node_and_tolerates_every_no_execute_taint() {
        let pods = of_node(&node("lab-control-plane", true));
        let sp = &pods[3];
        assert_eq!(sp.pod["spec"]["nodeName"], "lab-control-plane");
        assert_eq!(
            sp.pod["spec"]["tolerations"],
            json!([{"effect": "NoExecute", "operator": "Exists"}])
        );
        let annotations = &sp.pod["metadata"]["annotations"];
        assert_eq!(annotations[CONFIG_HASH], sp.hash.as_str());
        assert_eq!(sp.hash.len(), 32);
        assert_eq!(annotations[CONFIG_SOURCE], "file");
        // Started before the Node registered, seen at that instant.
        let seen: Timestamp = annotations[CONFIG_SEEN].as_str().unwrap().parse().unwrap();
        assert_eq!(seen, sp.started);
        assert!(sp.started < "2025-05-01T10:00:00Z".parse().unwrap());
        // Four pods, four hashes; the same node gives the same ones.
        let again = of_node(&node("lab-control-plane", true));
        assert_eq!(pods, again);
        let mut hashes: Vec<&str> = pods.iter().map(|p| p.hash.as_str()).collect();
        hashes.dedup();
        assert_eq!(hashes.len(), 4);
    }

    #[test]
    fn a_mirror_pod_names_its_static_pod_and_is_owned_by_the_node() {
        let sp = &of_node(&node("lab-control-plane", true))[0];
        let mirror = mirror_pod(sp, "node-uid");
        assert!(is_mirror_of(&mirror, sp));
        assert_eq!(kubelet_uid(&mirror), sp.hash);
        assert_eq!(
            mirror["metadata"]["ownerReferences"],
            json!([{"apiVersion": "v1", "controller": true, "kind": "Node",
                "name": "lab-control-plane", "uid": "node-uid"}])
        );
        assert!(mirror.get("status").is_none());
        let plain = json!({"metadata": {"uid": "u-1"}});
        assert_eq!(kubelet_uid(&plain), "u-1");
        assert!(!is_mirror_of(&plain, sp));
    }
}
