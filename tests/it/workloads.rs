//! Workloads with the real kubectl: the Deployment and ReplicaSet
//! controllers and the scheduler at work (`pods.rs` covers what the
//! kubelet does with the pods).

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout (5s deadline).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.eventually(5, args, pred)
}

/// Data rows of `kubectl get ... --no-headers`.
fn data_rows(out: &str) -> Vec<Vec<String>> {
    rows(out)
}

#[test]
fn create_deployment_makes_a_hashed_replica_set_and_scheduled_pods() {
    let sim = Sim::start();
    let out = sim
        .kubectl(&[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=3",
        ])
        .ok();
    assert_eq!(out, "deployment.apps/web created\n");
    let pods = eventually(&sim, &["get", "pods", "-o", "wide", "--no-headers"], |o| {
        let r = data_rows(o);
        r.len() == 3
            && r.iter()
                .all(|c| c.get(6).is_some_and(|n| n.starts_with("kdrill-worker")))
    });
    let rs = sim.kubectl(&["get", "rs", "--no-headers"]).ok();
    let rs = data_rows(&rs);
    assert_eq!(rs.len(), 1);
    let name = &rs[0][0];
    let hash = name.strip_prefix("web-").expect("web-<hash>");
    assert!(
        (8..=10).contains(&hash.len()) && hash.chars().all(|c| "456789bcdf".contains(c)),
        "hash {hash}"
    );
    assert_eq!(&rs[0][1..3], ["3", "3"]);
    for row in data_rows(&pods) {
        assert!(row[0].starts_with(&format!("{name}-")), "{row:?}");
        assert!(
            ["Pending", "ContainerCreating", "Running"].contains(&row[2].as_str()),
            "{row:?}"
        );
    }
    let describe = sim.kubectl(&["describe", "deployment", "web"]).ok();
    assert!(
        describe.contains(&format!("NewReplicaSet:   {name} (3/3 replicas created)")),
        "{describe}"
    );
    let scaling = describe
        .lines()
        .find(|l| l.contains("ScalingReplicaSet"))
        .unwrap_or_default();
    assert!(scaling.contains("deployment-controller"), "{describe}");
    assert!(
        scaling.ends_with(&format!("Scaled up replica set {name} from 0 to 3")),
        "{describe}"
    );
    let events = sim
        .kubectl(&[
            "get",
            "events",
            "-o",
            "custom-columns=R:.reason,M:.message,F:.source.component",
            "--no-headers",
        ])
        .ok();
    assert!(events.contains("SuccessfulCreate"), "{events}");
    assert!(
        events.contains(&format!("Created pod: {name}-")),
        "{events}"
    );
    assert!(
        events.contains("Successfully assigned default/web-"),
        "{events}"
    );
    assert!(events.contains("default-scheduler"), "{events}");
    // The revision annotation did not move the generation.
    let gen_rev = sim
        .kubectl(&["get", "deploy", "web", "-o", "jsonpath={.metadata.generation} {.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.status.observedGeneration}"])
        .ok();
    assert_eq!(gen_rev, "1 1 1");
}

#[test]
fn unschedulable_pod_shows_failed_scheduling_in_describe() {
    let sim = Sim::start();
    let pod = r#"apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  containers:
  - name: app
    image: nginx
    resources:
      requests:
        cpu: "100"
"#;
    sim.kubectl_stdin(&["apply", "-f", "-"], pod).ok();
    let want = "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    let describe = eventually(&sim, &["describe", "pod", "big"], |o| {
        o.contains("FailedScheduling")
    });
    let line = describe
        .lines()
        .find(|l| l.contains("FailedScheduling"))
        .unwrap_or_default();
    assert!(line.contains("Warning"), "{line}");
    assert!(line.contains("default-scheduler"), "{line}");
    assert!(line.ends_with(want), "{line}");
    let cond = sim
        .kubectl(&["get", "pod", "big", "-o", "jsonpath={.status.conditions[0].type} {.status.conditions[0].status} {.status.conditions[0].reason}"])
        .ok();
    assert_eq!(cond, "PodScheduled False Unschedulable");
}

#[test]
fn scale_down_removes_pods() {
    let sim = Sim::start();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=3",
    ])
    .ok();
    eventually(&sim, &["get", "pods", "--no-headers"], |o| {
        data_rows(o).len() == 3
    });
    let out = sim
        .kubectl(&["scale", "deployment", "web", "--replicas=1"])
        .ok();
    assert_eq!(out, "deployment.apps/web scaled\n");
    // Bound pods are terminated by their kubelet, then gone.
    eventually(&sim, &["get", "pods", "--no-headers"], |o| {
        data_rows(o).len() == 1
    });
    let rs = sim.kubectl(&["get", "rs", "--no-headers"]).ok();
    assert_eq!(&data_rows(&rs)[0][1..3], ["1", "1"]);
    let describe = sim.kubectl(&["describe", "deployment", "web"]).ok();
    assert!(
        describe.contains("Scaled down replica set web-"),
        "{describe}"
    );
    assert!(describe.contains("from 3 to 1"), "{describe}");
}

/// client-go's event correlation, as `kubectl describe` shows it: the
/// ReplicaSet controller's tenth `Created pod:` event on is one combined
/// Event.
#[test]
fn a_replicaset_creating_twelve_pods_shows_a_combined_event() {
    let sim = Sim::start();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=12",
    ])
    .ok();
    let describe = eventually(&sim, &["describe", "rs"], |o| {
        o.contains("(combined from similar events)")
    });
    let events: Vec<&str> = describe
        .lines()
        .skip_while(|l| !l.starts_with("Events:"))
        .filter(|l| l.contains("SuccessfulCreate"))
        .collect();
    assert_eq!(events.len(), 10, "{describe}");
    let created = events
        .iter()
        .filter(|l| l.contains("replicaset-controller  Created pod: web-"))
        .count();
    assert_eq!(created, 9, "{describe}");
    let combined: Vec<&str> = events
        .iter()
        .copied()
        .filter(|l| l.contains("(combined from similar events): Created pod: web-"))
        .collect();
    assert_eq!(combined.len(), 1, "{describe}");
    // The tenth, eleventh and twelfth pods.
    assert!(combined[0].contains("(x3 over "), "{describe}");
}

#[test]
fn set_image_adds_a_revision_to_rollout_history() {
    let sim = Sim::start();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.26",
        "--replicas=2",
    ])
    .ok();
    eventually(&sim, &["get", "rs", "--no-headers"], |o| {
        data_rows(o).len() == 1
    });
    let out = sim
        .kubectl(&["set", "image", "deployment/web", "nginx=nginx:1.27"])
        .ok();
    assert_eq!(out, "deployment.apps/web image updated\n");
    eventually(&sim, &["get", "rs", "--no-headers"], |o| {
        data_rows(o).len() == 2
    });
    let history = eventually(&sim, &["rollout", "history", "deployment/web"], |o| {
        o.contains("\n2 ")
    });
    assert_eq!(
        history,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    );
    let rev2 = sim
        .kubectl(&["rollout", "history", "deployment/web", "--revision=2"])
        .ok();
    assert!(
        rev2.contains("Image:\tnginx:1.27") || rev2.contains("nginx:1.27"),
        "{rev2}"
    );
}
