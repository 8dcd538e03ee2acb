//! Storage with the real kubectl: the PersistentVolume controller, kind's
//! local-path provisioner and the scheduler's VolumeBinding plugin.

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout, moving the
/// virtual clock one second between polls (at most two simulated minutes).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.advancing("1s", 120, args, pred)
}

fn pvc(name: &str, class: Option<&str>, mode: &str) -> String {
    let class = class
        .map(|c| format!("  storageClassName: \"{c}\"\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\nspec:\n{class}  accessModes: [{mode}]\n  resources:\n    requests:\n      storage: 1Gi\n"
    )
}

fn pod(name: &str, claim: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: busybox\n    command: [sleep, \"3600\"]\n    volumeMounts:\n    - name: data\n      mountPath: /data\n  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: {claim}\n"
    )
}

const STATIC_PV: &str = "apiVersion: v1
kind: PersistentVolume
metadata:
  name: manual-pv
spec:
  storageClassName: \"\"
  capacity:
    storage: 2Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: /mnt/data
";

#[test]
fn default_class_claim_binds_once_a_pod_uses_it() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pvc("data", None, "ReadWriteOnce"))
        .ok();
    let out = eventually(&sim, &["describe", "pvc", "data"], |o| {
        o.contains("WaitForFirstConsumer")
    });
    assert!(out.contains("StorageClass:  standard"), "{out}");
    assert!(
        out.contains("waiting for first consumer to be created before binding"),
        "{out}"
    );
    let table = sim.kubectl(&["get", "pvc", "data"]).ok();
    assert_eq!(rows(&table)[1][1], "Pending");

    sim.kubectl_stdin(&["apply", "-f", "-"], &pod("app", "data"))
        .ok();
    let table = eventually(&sim, &["get", "pvc", "data"], |o| o.contains("Bound"));
    let r = rows(&table);
    assert_eq!(
        r[0][..6],
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS"
        ]
    );
    assert_eq!(r[1][1], "Bound");
    assert!(r[1][2].starts_with("pvc-"), "{table}");
    assert_eq!(r[1][3..6], ["1Gi", "RWO", "standard"]);
    let volume = r[1][2].clone();

    let pv = sim.kubectl(&["get", "pv"]).ok();
    let r = rows(&pv);
    assert_eq!(r[1][0], volume);
    assert_eq!(
        r[1][1..7],
        ["1Gi", "RWO", "Delete", "Bound", "default/data", "standard"]
    );
    let out = sim.kubectl(&["describe", "pvc", "data"]).ok();
    for want in [
        "ExternalProvisioning",
        "Waiting for a volume to be created either by the external provisioner 'rancher.io/local-path' or manually by the system administrator.",
        "External provisioner is provisioning volume for claim \"default/data\"",
        &format!("Successfully provisioned volume {volume}"),
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
    // The pod lands on the node the volume lives on.
    let node = eventually(
        &sim,
        &["get", "pod", "app", "-o", "jsonpath={.spec.nodeName}"],
        |o| !o.is_empty(),
    );
    let affinity = sim
        .kubectl(&[
            "get",
            "pv",
            &volume,
            "-o",
            "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}",
        ])
        .ok();
    assert_eq!(node, affinity);

    // kind's class does not allow expansion.
    let err = sim
        .kubectl(&[
            "patch",
            "pvc",
            "data",
            "-p",
            r#"{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}"#,
        ])
        .err();
    assert!(
        err.contains("persistentvolumeclaims \"data\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"),
        "{err}"
    );
    // Deleting the pod and the claim deletes the provisioned volume.
    sim.kubectl(&["delete", "pod", "app", "--grace-period=0", "--force"]);
    sim.kubectl(&["delete", "pvc", "data"]).ok();
    eventually(&sim, &["get", "pv", "-o", "name"], |o| !o.contains(&volume));
}

#[test]
fn missing_class_stays_pending_and_blocks_the_pod_until_fixed() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(
        &["apply", "-f", "-"],
        &pvc("data", Some("fast"), "ReadWriteOnce"),
    )
    .ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod("app", "data"))
        .ok();
    let out = eventually(&sim, &["describe", "pvc", "data"], |o| {
        o.contains("ProvisioningFailed")
    });
    assert!(
        out.contains("storageclass.storage.k8s.io \"fast\" not found"),
        "{out}"
    );
    let out = eventually(&sim, &["describe", "pod", "app"], |o| {
        o.contains("FailedScheduling")
    });
    assert!(
        out.contains("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."),
        "{out}"
    );
    // The fix: the claim is immutable, so recreate it with the right class.
    sim.kubectl(&["delete", "pvc", "data"]).ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pvc("data", None, "ReadWriteOnce"))
        .ok();
    eventually(&sim, &["get", "pod", "app"], |o| o.contains("Running"));
    let table = sim.kubectl(&["get", "pvc", "data"]).ok();
    assert_eq!(rows(&table)[1][1], "Bound");
}

#[test]
fn missing_claim_is_a_scheduling_failure() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod("app", "nope"))
        .ok();
    let out = eventually(&sim, &["describe", "pod", "app"], |o| {
        o.contains("FailedScheduling")
    });
    assert!(
        out.contains("0/3 nodes are available: persistentvolumeclaim \"nope\" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."),
        "{out}"
    );
    sim.kubectl_stdin(&["apply", "-f", "-"], &pvc("nope", None, "ReadWriteOnce"))
        .ok();
    eventually(&sim, &["get", "pod", "app"], |o| o.contains("Running"));
}

#[test]
fn access_mode_mismatch_with_a_static_volume_stays_pending() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], STATIC_PV).ok();
    eventually(&sim, &["get", "pv", "manual-pv"], |o| {
        o.contains("Available")
    });
    sim.kubectl_stdin(
        &["apply", "-f", "-"],
        &pvc("data", Some(""), "ReadWriteMany"),
    )
    .ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod("app", "data"))
        .ok();
    let out = eventually(&sim, &["describe", "pvc", "data"], |o| {
        o.contains("FailedBinding")
    });
    assert!(
        out.contains("no persistent volumes available for this claim and no storage class is set"),
        "{out}"
    );
    let table = sim.kubectl(&["get", "pv", "manual-pv"]).ok();
    assert_eq!(rows(&table)[1][4], "Available");
    let out = eventually(&sim, &["describe", "pod", "app"], |o| {
        o.contains("FailedScheduling")
    });
    assert!(
        out.contains("pod has unbound immediate PersistentVolumeClaims"),
        "{out}"
    );
    // Fix the claim's access mode: it binds to the static volume.
    sim.kubectl(&["delete", "pvc", "data"]).ok();
    sim.kubectl_stdin(
        &["apply", "-f", "-"],
        &pvc("data", Some(""), "ReadWriteOnce"),
    )
    .ok();
    let table = eventually(&sim, &["get", "pvc", "data"], |o| o.contains("Bound"));
    let r = rows(&table);
    assert_eq!(r[1][2..5], ["manual-pv", "2Gi", "RWO"]);
    eventually(&sim, &["get", "pod", "app"], |o| o.contains("Running"));
    let pv = sim.kubectl(&["get", "pv", "manual-pv"]).ok();
    assert_eq!(rows(&pv)[1][4..6], ["Bound", "default/data"]);
}

#[test]
fn changing_a_claim_is_refused() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pvc("data", None, "ReadWriteOnce"))
        .ok();
    let smaller = pvc("data", None, "ReadWriteOnce").replace("1Gi", "500Mi");
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], &smaller).err();
    assert!(
        err.contains("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"),
        "{err}"
    );
    let rwx = pvc("data", None, "ReadWriteMany");
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], &rwx).err();
    assert!(
        err.contains("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"),
        "{err}"
    );
}

#[test]
fn claims_wait_while_the_local_path_provisioner_is_down() {
    let sim = Sim::start_virtual();
    let scale = |replicas: &str| {
        sim.kubectl(&[
            "scale",
            "deployment",
            "local-path-provisioner",
            "-n",
            "local-path-storage",
            &format!("--replicas={replicas}"),
        ])
        .ok()
    };
    sim.advance("5s");
    scale("0");
    sim.advance("60s");
    sim.kubectl_stdin(&["apply", "-f", "-"], &pvc("data", None, "ReadWriteOnce"))
        .ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod("app", "data"))
        .ok();
    sim.advance("30s");
    let table = sim.kubectl(&["get", "pvc", "data"]).ok();
    assert_eq!(rows(&table)[1][1], "Pending", "{table}");
    let out = sim.kubectl(&["describe", "pvc", "data"]).ok();
    assert!(
        out.contains("Waiting for a volume to be created either by the external provisioner 'rancher.io/local-path' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."),
        "{out}"
    );
    assert!(!out.contains("ProvisioningSucceeded"), "{out}");
    // Back up: the claim is provisioned, by the new pod.
    scale("1");
    eventually(&sim, &["get", "pvc", "data"], |o| o.contains("Bound"));
    let out = sim.kubectl(&["describe", "pvc", "data"]).ok();
    let pod = sim
        .kubectl(&["get", "pods", "-n", "local-path-storage", "-o", "name"])
        .ok();
    let pod = pod.trim().trim_start_matches("pod/");
    assert!(
        out.contains(&format!("rancher.io/local-path_{pod}_")),
        "the events name {pod}: {out}"
    );
}
