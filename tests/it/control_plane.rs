//! The pods kind runs for the cluster itself, seen through the real
//! kubectl: the control plane's mirror pods in `kube-system` with their
//! kubeadm command lines (and a deleted one coming back while its
//! container runs on), kindnet and local-path-provisioner.

use super::harness::{Sim, rows};

const COMPONENTS: [&str; 4] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

#[test]
fn kube_system_lists_the_control_plane_running_on_the_node_s_address() {
    let sim = Sim::start_virtual();
    sim.advance("1s");
    let out = sim
        .kubectl(&["get", "pods", "-n", "kube-system", "-o", "wide"])
        .ok();
    let table = rows(&out);
    for component in COMPONENTS {
        let name = format!("{component}-kdrill-control-plane");
        let row = table
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} listed:\n{out}"));
        // NAME READY STATUS RESTARTS AGE IP NODE
        assert_eq!(row[1..4], ["1/1", "Running", "0"], "{out}");
        assert_eq!(row[5..7], ["172.18.0.2", "kdrill-control-plane"], "{out}");
    }
    // kind's CNI on every node, on its address.
    let kindnet: Vec<&Vec<String>> = table
        .iter()
        .filter(|r| r[0].starts_with("kindnet-"))
        .collect();
    assert_eq!(kindnet.len(), 3, "{out}");
    assert!(
        kindnet
            .iter()
            .all(|r| r[1] == "1/1" && r[5].starts_with("172.18.0."))
    );
    // And its storage provisioner.
    let out = sim
        .kubectl(&["get", "deploy", "-n", "local-path-storage"])
        .ok();
    assert_eq!(
        rows(&out)[1][..2],
        ["local-path-provisioner", "1/1"],
        "{out}"
    );
    // The images came with the node: `kubectl get node -o yaml` lists them.
    let images = sim
        .kubectl(&[
            "get",
            "node",
            "kdrill-control-plane",
            "-o",
            "jsonpath={.status.images[*].names[*]}",
        ])
        .ok();
    for image in [
        "registry.k8s.io/etcd:3.5.21-0",
        "registry.k8s.io/kube-apiserver:v1.33.1",
        "registry.k8s.io/coredns/coredns:v1.12.0",
    ] {
        assert!(images.split(' ').any(|i| i == image), "{image} in {images}");
    }
}

#[test]
fn describe_shows_kubeadm_s_flags_and_the_node_as_controller() {
    let sim = Sim::start_virtual();
    sim.advance("1s");
    let out = sim
        .kubectl(&[
            "describe",
            "pod",
            "-n",
            "kube-system",
            "kube-apiserver-kdrill-control-plane",
        ])
        .ok();
    for line in [
        "Priority:             2000001000",
        "Priority Class Name:  system-node-critical",
        "Controlled By:  Node/kdrill-control-plane",
        "      --service-cluster-ip-range=10.96.0.0/16",
        "      --etcd-servers=https://127.0.0.1:2379",
        "    Liveness:     http-get https://172.18.0.2:6443/livez delay=10s timeout=15s period=10s #success=1 #failure=8",
        "QoS Class:         Burstable",
        "Tolerations:       :NoExecute op=Exists",
        // The kubelet names the static pod in its events, not the mirror.
        "Events:            <none>",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} in:\n{out}");
    }
    let flags = sim
        .kubectl(&[
            "get",
            "pod",
            "-n",
            "kube-system",
            "etcd-kdrill-control-plane",
            "-o",
            "jsonpath={.spec.containers[0].command}",
        ])
        .ok();
    assert!(flags.contains("\"--data-dir=/var/lib/etcd\""), "{flags}");
    assert!(
        flags.contains("\"--cert-file=/etc/kubernetes/pki/etcd/server.crt\""),
        "{flags}"
    );
}

#[test]
fn a_deleted_mirror_pod_comes_back_with_its_container_still_running() {
    let sim = Sim::start_virtual();
    sim.advance("30s");
    let get = |field: &str| {
        sim.kubectl(&[
            "get",
            "pod",
            "-n",
            "kube-system",
            "kube-scheduler-kdrill-control-plane",
            "-o",
            &format!("jsonpath={field}"),
        ])
        .ok()
    };
    let uid = get("{.metadata.uid}");
    let container = get("{.status.containerStatuses[0].containerID}");
    let out = sim
        .kubectl(&[
            "delete",
            "pod",
            "-n",
            "kube-system",
            "kube-scheduler-kdrill-control-plane",
            "--wait=false",
        ])
        .ok();
    assert_eq!(out, "pod \"kube-scheduler-kdrill-control-plane\" deleted\n");
    sim.advance("1s");
    assert_ne!(get("{.metadata.uid}"), uid, "a new mirror pod");
    assert_eq!(get("{.status.containerStatuses[0].containerID}"), container);
    assert_eq!(get("{.status.containerStatuses[0].restartCount}"), "0");
    assert_eq!(
        get("{.status.conditions[?(@.type==\"Ready\")].status}"),
        "True"
    );
}

/// The controller manager and the scheduler hold their leader-election
/// Leases in `kube-system` as the control-plane node's `<hostname>_<uuid>`,
/// renewed every 2 seconds, and each said "became leader" about its Lease;
/// kube-apiserver keeps its identity Lease beside them.
#[test]
fn the_control_plane_components_hold_their_leases_and_said_so() {
    let sim = Sim::start_virtual();
    sim.advance("5s");
    let out = sim.kubectl(&["get", "leases", "-n", "kube-system"]).ok();
    let table = rows(&out);
    // NAME HOLDER AGE
    assert_eq!(table[0][..2], ["NAME", "HOLDER"], "{out}");
    let holders: Vec<(&str, &str)> = table[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(holders.len(), 3, "{out}");
    // kube-apiserver's identity Lease first (`apiserver-<base32>`), held
    // as `<its name>_<uuid>`.
    let (identity, holder) = holders[0];
    assert!(
        identity.starts_with("apiserver-") && identity.len() == 36,
        "{out}"
    );
    assert_eq!(holder.split_once('_').map(|h| h.0), Some(identity), "{out}");
    let holders = &holders[1..];
    for ((name, holder), want) in holders
        .iter()
        .zip(["kube-controller-manager", "kube-scheduler"])
    {
        assert_eq!(*name, want, "{out}");
        let (host, uuid) = holder.split_once('_').expect("<hostname>_<uuid>");
        assert_eq!(host, "kdrill-control-plane", "{out}");
        assert_eq!(uuid.len(), 36, "{out}");
    }
    let spec = |field: &str| {
        sim.kubectl(&[
            "get",
            "lease",
            "-n",
            "kube-system",
            "kube-scheduler",
            "-o",
            &format!("jsonpath={{.spec.{field}}}"),
        ])
        .ok()
    };
    assert_eq!(spec("leaseDurationSeconds"), "15");
    let renewed = spec("renewTime");
    sim.advance("3s");
    assert_ne!(spec("renewTime"), renewed, "renewed within 2 seconds");
    // The events, as `kubectl get events` shows them.
    let out = sim
        .kubectl(&[
            "get",
            "events",
            "-n",
            "kube-system",
            "--field-selector",
            "reason=LeaderElection",
            "-o",
            "custom-columns=OBJECT:.involvedObject.kind,NAME:.involvedObject.name,SOURCE:.source.component,MESSAGE:.message",
            "--sort-by=.involvedObject.name",
        ])
        .ok();
    let events = rows(&out);
    assert_eq!(events.len(), 3, "{out}");
    for (row, (name, source)) in events[1..].iter().zip([
        ("kube-controller-manager", "kube-controller-manager"),
        ("kube-scheduler", "default-scheduler"),
    ]) {
        assert_eq!(row[..3], ["Lease", name, source], "{out}");
        let holder = holders.iter().find(|(n, _)| *n == name).map(|h| h.1);
        assert_eq!(
            row[3..].join(" "),
            format!("{} became leader", holder.unwrap_or_default()),
            "{out}"
        );
    }
}
