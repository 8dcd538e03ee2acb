//! What a person sees, as reviewed snapshots. Ages, timestamps and uids
//! are redacted; everything else must match upstream's printers.

use super::harness::Sim;

fn settle(text: &str) -> String {
    text.to_string()
}

/// A `kubectl get` table: the AGE column is redacted too.
macro_rules! snap_table {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"  \d+(s|m|h|d)(\d+(s|m|h))?( |$)", "  [age]$3"),
            (r"10\.96\.\d+\.\d+", "[cluster-ip]"),
            // The cell after an age is padded to the age's width.
            (r"\[age\] +", "[age]   "),
        ]}, {
            insta::assert_snapshot!($name, settle(&$value));
        });
    };
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r#"resourceVersion: "\d+""#, r#"resourceVersion: "[rv]""#),
            (r"kube-api-access-[a-z0-9]{5}", "kube-api-access-[suffix]"),
            (r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000", "[time]"),
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[time]"),
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uid]"),
            (r"10\.96\.\d+\.\d+", "[cluster-ip]"),
            // Event ages, and the node the scheduler picked (seeded, but the
            // seed's draws depend on request timing).
            (r"  \d+s( +)(default-scheduler|deployment-controller)", "  [age]$1$2"),
            (r"  \d+s( +)(kubelet|kube-proxy|node-controller)", "  [age]$1$2"),
            // What the kubelet draws from its seeded generator: pod IPs,
            // container ids, pull times.
            (r"(IP: +|podIP: |ip: )10\.244\.\d+\.\d+", "$1[pod-ip]"),
            (r"(hostIP: |ip: )172\.18\.0\.\d+", "$1[host-ip]"),
            (r"containerd://[0-9a-f]{64}", "containerd://[id]"),
            (r"in \d+(\.\d+)?m?s \(\d+(\.\d+)?m?s including waiting\)", "in [pull-time] ([pull-time] including waiting)"),
            (r"docker\.io/library/busybox@sha256:[0-9a-f]{64}", "docker.io/library/busybox@sha256:[digest]"),
            (r"(Node: +|nodeName: |assigned default/box to )kdrill-worker2?(/172\.18\.0\.\d+)?", "$1[node]"),
            (r"\[age\] +", "[age]   "),
            // The age closing a row of describe node's pod table.
            (r"(?m)(\(\d+%\) +)\d+(s|m|h|d)(\d+(s|m|h))?$", "$1[age]"),
        ]}, {
            insta::assert_snapshot!($name, settle(&$value));
        });
    };
}

/// Polls `kubectl args` until its output contains `want` (5s deadline).
fn wait_for(sim: &Sim, args: &[&str], want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !sim.kubectl(args).stdout.contains(want) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn get_and_describe_snapshots() {
    let sim = Sim::start();
    snap_table!("get_nodes", sim.kubectl(&["get", "nodes"]).ok());
    snap_table!(
        "get_nodes_wide",
        sim.kubectl(&["get", "nodes", "-o", "wide"]).ok()
    );
    snap!(
        "describe_node_worker",
        sim.kubectl(&["describe", "node", "kdrill-worker"]).ok()
    );
    snap_table!(
        "get_svc_all_namespaces",
        sim.kubectl(&["get", "svc", "-A", "-o", "wide"]).ok()
    );
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
        "--port=80",
    ])
    .ok();
    // Let the controllers, the scheduler and the kubelets settle: the
    // rollout completes.
    sim.kubectl(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .ok();
    wait_for(
        &sim,
        &[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.status.conditions[*].reason}",
        ],
        "MinimumReplicasAvailable NewReplicaSetAvailable",
    );
    snap_table!(
        "get_deploy_wide",
        sim.kubectl(&["get", "deploy", "-o", "wide"]).ok()
    );
    snap!(
        "describe_deployment",
        sim.kubectl(&["describe", "deployment", "web"]).ok()
    );
    sim.kubectl(&[
        "run",
        "box",
        "--image=busybox:1.36",
        "--labels=app=box",
        "--",
        "sleep",
        "3600",
    ])
    .ok();
    sim.kubectl(&["wait", "--for=condition=Ready", "pod/box", "--timeout=20s"])
        .ok();
    snap!(
        "describe_pod_running",
        sim.kubectl(&["describe", "pod", "box"]).ok()
    );
    snap!(
        "get_pod_yaml",
        sim.kubectl(&["get", "pod", "box", "-o", "yaml"]).ok()
    );
}
