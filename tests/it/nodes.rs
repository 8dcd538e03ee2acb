//! Nodes with the real kubectl: `drain` against a PodDisruptionBudget, a
//! node whose kubelet stops (NotReady, taints, taint-based eviction) and
//! comes back. The kubelet and pressure tests follow the virtual clock.

use super::harness::{Sim, rows};
use std::time::{Duration, Instant};

/// Polls `kubectl args` until `pred` holds on its stdout.
#[track_caller]
fn eventually(sim: &Sim, secs: u64, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let out = sim.kubectl(args);
        if out.code == 0 && pred(&out.stdout) {
            return out.stdout;
        }
        if Instant::now() > deadline {
            panic!(
                "kubectl {args:?} never matched\nstdout:\n{}\nstderr:\n{}",
                out.stdout, out.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `get pods -o wide` rows of the web Deployment: (name, ready, status, node).
fn web_pods(sim: &Sim) -> Vec<(String, String, String, String)> {
    let out = sim
        .kubectl(&["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"])
        .ok();
    rows(&out)
        .into_iter()
        .map(|r| {
            let c = |i: usize| r.get(i).cloned().unwrap_or_default();
            (c(0), c(1), c(2), c(6))
        })
        .collect()
}

fn all_ready(sim: &Sim, n: usize) -> bool {
    let pods = web_pods(sim);
    pods.len() == n && pods.iter().all(|p| p.1 == "1/1" && p.2 == "Running")
}

#[track_caller]
fn wait_for(what: &str, secs: u64, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// On the virtual clock: moves time by `step` until `pred` holds, at most
/// `steps` times, so the test follows simulated time whatever the load.
#[track_caller]
fn advance_until(sim: &Sim, step: &str, steps: usize, what: &str, pred: impl Fn() -> bool) {
    for _ in 0..steps {
        if pred() {
            return;
        }
        sim.advance(step);
    }
    assert!(pred(), "{what}: not reached after {steps} steps of {step}");
}

/// `kubectl args` once `pred` holds on its stdout, moving the virtual
/// clock by `step` between tries (at most `steps` times).
#[track_caller]
fn advanced(
    sim: &Sim,
    step: &str,
    steps: usize,
    args: &[&str],
    pred: impl Fn(&str) -> bool,
) -> String {
    let ok = |o: &crate::harness::Run| o.code == 0 && pred(&o.stdout);
    for _ in 0..steps {
        let out = sim.kubectl(args);
        if ok(&out) {
            return out.stdout;
        }
        sim.advance(step);
    }
    let out = sim.kubectl(args);
    assert!(
        ok(&out),
        "kubectl {args:?} never matched\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    out.stdout
}

#[test]
fn drain_waits_for_the_disruption_budget() {
    let sim = Sim::start_with(&["--time-scale", "10"]);
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ])
    .ok();
    wait_for("2 ready pods", 20, || all_ready(&sim, 2));
    let out = sim
        .kubectl(&[
            "create",
            "pdb",
            "web",
            "--selector=app=web",
            "--min-available=2",
        ])
        .ok();
    assert_eq!(out, "poddisruptionbudget.policy/web created\n");
    let pdb = eventually(&sim, 10, &["get", "pdb", "web"], |o| {
        rows(o)
            .get(1)
            .is_some_and(|r| r.get(3).is_some_and(|a| a == "0"))
    });
    let table = rows(&pdb);
    assert_eq!(
        table[0],
        [
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE"
        ]
    );
    assert_eq!(&table[1][..4], ["web", "2", "N/A", "0"]);
    let yaml = sim.kubectl(&["get", "pdb", "web", "-o", "yaml"]).ok();
    for line in [
        "currentHealthy: 2",
        "desiredHealthy: 2",
        "expectedPods: 2",
        "disruptionsAllowed: 0",
        "reason: InsufficientPods",
        "type: DisruptionAllowed",
    ] {
        assert!(yaml.contains(line), "{line} in\n{yaml}");
    }

    let node = web_pods(&sim)[0].3.clone();
    let victim = web_pods(&sim)
        .into_iter()
        .find(|p| p.3 == node)
        .map(|p| p.0)
        .unwrap_or_default();
    let args = [
        "drain",
        node.as_str(),
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=7s",
    ];
    let blocked = sim.kubectl(&args);
    assert_ne!(blocked.code, 0);
    assert!(
        blocked.stdout.contains(&format!("node/{node} cordoned")),
        "{}",
        blocked.stdout
    );
    assert!(
        blocked.stderr.contains(&format!(
            "error when evicting pods/\"{victim}\" -n \"default\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        )),
        "{}",
        blocked.stderr
    );
    assert!(web_pods(&sim).iter().any(|p| p.0 == victim));

    // A third replica (on the other node: this one is cordoned) frees one
    // disruption, and the drain goes through.
    sim.kubectl(&["scale", "deployment", "web", "--replicas=3"])
        .ok();
    eventually(&sim, 20, &["get", "pdb", "web", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r.get(3).is_some_and(|a| a == "1"))
    });
    let args = [
        "drain",
        node.as_str(),
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=60s",
    ];
    let drained = sim.kubectl(&args).ok();
    assert!(
        drained.contains(&format!("node/{node} already cordoned")),
        "{drained}"
    );
    assert!(
        drained.contains(&format!("evicting pod default/{victim}")),
        "{drained}"
    );
    assert!(
        drained.contains(&format!("pod/{victim} evicted")),
        "{drained}"
    );
    assert!(
        drained.ends_with(&format!("node/{node} drained\n")),
        "{drained}"
    );
    assert!(web_pods(&sim).iter().all(|p| p.3 != node));
    let describe = sim.kubectl(&["describe", "node", &node]).ok();
    assert!(
        describe.contains("Taints:             node.kubernetes.io/unschedulable:NoSchedule"),
        "{describe}"
    );
    assert!(describe.contains("Unschedulable:      true"), "{describe}");
}

#[test]
fn a_node_whose_kubelet_stops_goes_not_ready_and_loses_its_pods() {
    let sim = Sim::start_virtual();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ])
    .ok();
    advance_until(&sim, "5s", 24, "2 ready pods", || all_ready(&sim, 2));
    let node = "kdrill-worker";
    let before: Vec<String> = web_pods(&sim)
        .into_iter()
        .filter(|p| p.3 == node)
        .map(|p| p.0)
        .collect();
    sim.kubectl(&[
        "annotate",
        "lease",
        "-n",
        "kube-node-lease",
        node,
        "kdrill.io/kubelet=stopped",
    ])
    .ok();
    // 40s of silence and the node is NotReady.
    advanced(
        &sim,
        "5s",
        24,
        &["get", "node", node, "--no-headers"],
        |o| rows(o).first().is_some_and(|r| r[1] == "NotReady"),
    );
    let describe = advanced(&sim, "5s", 24, &["describe", "node", node], |o| {
        o.contains("node.kubernetes.io/unreachable:NoSchedule")
    });
    assert!(
        describe.contains(
            "Taints:             node.kubernetes.io/unreachable:NoExecute\n                    node.kubernetes.io/unreachable:NoSchedule\n"
        ),
        "{describe}"
    );
    let ready = describe
        .lines()
        .find(|l| l.trim_start().starts_with("Ready "))
        .unwrap_or_default();
    assert!(ready.contains("Unknown"), "{ready}");
    assert!(ready.contains("NodeStatusUnknown"), "{ready}");
    assert!(
        ready.ends_with("Kubelet stopped posting node status."),
        "{ready}"
    );

    // After the 300s default toleration the pods are evicted: they stay
    // Terminating (their kubelet is gone) and are replaced elsewhere.
    advance_until(&sim, "10s", 60, "evicted pods", || {
        let pods = web_pods(&sim);
        before
            .iter()
            .all(|b| pods.iter().any(|p| &p.0 == b && p.2 == "Terminating"))
            && pods
                .iter()
                .filter(|p| p.3 != node && p.2 == "Running")
                .count()
                == 2
    });
    let events = sim
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "reason=TaintManagerEviction",
        ])
        .ok();
    for b in &before {
        assert!(
            events.contains(&format!("Marking for deletion Pod default/{b}")),
            "{events}"
        );
    }
    let node_events = sim
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.kind=Node",
        ])
        .ok();
    assert!(
        node_events.contains(&format!("Node {node} status is now: NodeNotReady")),
        "{node_events}"
    );

    // The kubelet comes back: Ready, untainted, and the terminating pods go.
    sim.kubectl(&[
        "annotate",
        "lease",
        "-n",
        "kube-node-lease",
        node,
        "kdrill.io/kubelet-",
    ])
    .ok();
    advanced(
        &sim,
        "5s",
        24,
        &["get", "node", node, "--no-headers"],
        |o| rows(o).first().is_some_and(|r| r[1] == "Ready"),
    );
    let describe = advanced(&sim, "5s", 24, &["describe", "node", node], |o| {
        o.contains("Taints:             <none>")
    });
    // Its events, as describe merges the node-controller's (the node's
    // uid) and the kubelet's (its name): the kubelet started once as the
    // node joined and again now, and reported each condition again after
    // the controller had made them Unknown.
    let events: Vec<(&str, &str, &str)> = describe
        .split_once("\nEvents:\n")
        .map_or("", |(_, e)| e)
        .lines()
        .skip(2)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // The age may read "5s (x2 over 2m)".
            let from = if cols.get(3)?.starts_with("(x") { 6 } else { 3 };
            Some((
                *cols.get(1)?,
                *cols.get(from)?,
                *cols.get(from + 1).unwrap_or(&""),
            ))
        })
        .collect();
    let count = |reason: &str, from: &str| {
        events
            .iter()
            .filter(|(r, f, _)| *r == reason && *f == from)
            .count()
    };
    assert_eq!(count("Starting", "kubelet"), 2, "{describe}");
    assert_eq!(count("NodeAllocatableEnforced", "kubelet"), 2, "{describe}");
    assert_eq!(count("RegisteredNode", "node-controller"), 1, "{describe}");
    assert_eq!(count("NodeNotReady", "node-controller"), 1, "{describe}");
    assert_eq!(count("NodeReady", "kubelet"), 2, "{describe}");
    assert_eq!(count("Starting", "kube-proxy"), 1, "{describe}");
    advance_until(&sim, "5s", 24, "terminated pods gone", || {
        let pods = web_pods(&sim);
        before.iter().all(|b| pods.iter().all(|p| &p.0 != b))
    });
}

#[test]
fn memory_pressure_shows_in_the_conditions_and_taints_the_node() {
    let sim = Sim::start_virtual();
    let node = "kdrill-worker2";
    sim.kubectl(&[
        "annotate",
        "lease",
        "-n",
        "kube-node-lease",
        node,
        "kdrill.io/pressure=memory",
    ])
    .ok();
    let describe = advanced(&sim, "5s", 24, &["describe", "node", node], |o| {
        o.contains("Taints:             node.kubernetes.io/memory-pressure:NoSchedule\n")
    });
    // The switch lives on the Lease: nothing on the Node gives it away.
    assert!(!describe.contains("kdrill.io"), "{describe}");
    let memory = describe
        .lines()
        .find(|l| l.trim_start().starts_with("MemoryPressure "))
        .unwrap_or_default();
    assert!(memory.contains(" True "), "{memory}");
    assert!(
        memory.contains("KubeletHasInsufficientMemory")
            && memory.ends_with("kubelet has insufficient memory available"),
        "{memory}"
    );
    sim.kubectl(&[
        "annotate",
        "lease",
        "-n",
        "kube-node-lease",
        node,
        "kdrill.io/pressure-",
    ])
    .ok();
    advanced(&sim, "5s", 24, &["describe", "node", node], |o| {
        o.contains("Taints:             <none>\n")
    });
}

#[test]
fn under_memory_pressure_the_kubelet_evicts_pods_one_at_a_time() {
    let sim = Sim::start_with(&["--time-scale", "10"]);
    let node = "kdrill-worker2";
    let pinned = |name: &str, requests: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  nodeName: {node}\n  containers:\n  - name: {name}\n    image: nginx\n    resources:\n      requests: {requests}\n"
        )
    };
    sim.kubectl_stdin(&["apply", "-f", "-"], &pinned("besteffort", "{}"))
        .ok();
    sim.kubectl_stdin(
        &["apply", "-f", "-"],
        &pinned("guaranteed", "{memory: 1Gi}"),
    )
    .ok();
    eventually(&sim, 20, &["get", "pods", "--no-headers"], |o| {
        let r = rows(o);
        r.len() == 2 && r.iter().all(|r| r[2] == "Running")
    });
    sim.kubectl(&[
        "annotate",
        "lease",
        "-n",
        "kube-node-lease",
        node,
        "kdrill.io/pressure=memory",
    ])
    .ok();
    // The pod using more than it requested goes first ...
    let first = eventually(&sim, 10, &["get", "pods", "--no-headers"], |o| {
        rows(o).iter().any(|r| r[2] == "Evicted")
    });
    let evicted: Vec<Vec<String>> = rows(&first)
        .into_iter()
        .filter(|r| r[2] == "Evicted")
        .collect();
    assert_eq!(evicted.len(), 1, "{first}");
    assert_eq!(evicted[0][0], "besteffort", "{first}");
    assert_eq!(evicted[0][1], "0/1", "{first}");
    let message = sim
        .kubectl(&[
            "get",
            "pod",
            "besteffort",
            "-o",
            "jsonpath={.status.message}",
        ])
        .ok();
    assert!(
        message.starts_with(
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89600Ki. Container besteffort was using "
        ) && message.ends_with(", request is 0, has larger consumption of memory. "),
        "{message:?}"
    );
    let condition = sim
        .kubectl(&[
            "get",
            "pod",
            "besteffort",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}",
        ])
        .ok();
    assert_eq!(condition, "TerminationByKubelet");
    let events = sim
        .kubectl(&["get", "events", "--field-selector", "reason=Evicted"])
        .ok();
    assert!(events.contains("Warning   Evicted"), "{events}");
    assert!(events.contains("pod/besteffort"), "{events}");
    let describe = sim.kubectl(&["describe", "pod", "besteffort"]).ok();
    assert!(describe.contains("Status:           Failed"), "{describe}");
    assert!(describe.contains("Reason:           Evicted"), "{describe}");
    // ... then, 10s later, the next one.
    eventually(&sim, 10, &["get", "pods", "--no-headers"], |o| {
        rows(o).iter().all(|r| r[2] == "Evicted")
    });
    // A BestEffort pod arriving now is rejected by the kubelet's admission.
    sim.kubectl_stdin(&["apply", "-f", "-"], &pinned("late", "{}"))
        .ok();
    eventually(&sim, 10, &["get", "pod", "late", "--no-headers"], |o| {
        rows(o).first().is_some_and(|r| r[2] == "Evicted")
    });
    let message = sim
        .kubectl(&["get", "pod", "late", "-o", "jsonpath={.status.message}"])
        .ok();
    assert_eq!(
        message,
        "Pod was rejected: The node had condition: [MemoryPressure]. "
    );
    sim.kubectl(&["delete", "pod", "late"]).ok();
    // The evicted pods stay until deleted, then go at once.
    sim.kubectl(&["delete", "pod", "besteffort", "guaranteed"])
        .ok();
    eventually(&sim, 10, &["get", "pods", "-o", "name"], str::is_empty);
}
