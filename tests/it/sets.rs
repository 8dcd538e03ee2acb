//! StatefulSets and DaemonSets with the real kubectl: ordered stable pods,
//! scale down from the highest ordinal, one daemon pod per eligible node.

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout (20s deadline).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.eventually(20, args, pred)
}

const STS: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
";

fn messages(sim: &Sim) -> Vec<String> {
    sim.kubectl(&[
        "get",
        "events",
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ])
    .ok()
    .lines()
    .map(str::to_string)
    .collect()
}

fn jsonpath(sim: &Sim, args: &[&str], path: &str) -> String {
    let mut a = args.to_vec();
    let p = format!("jsonpath={path}");
    a.extend(["-o", &p]);
    sim.kubectl(&a).ok()
}

#[test]
fn statefulset_starts_pods_in_order_and_scales_down_from_the_top() {
    let sim = Sim::start();
    let out = sim.kubectl_stdin(&["apply", "-f", "-"], STS).ok();
    assert_eq!(out, "statefulset.apps/web created\n");
    let sts = eventually(&sim, &["get", "sts", "web", "--no-headers"], |o| {
        rows(o).first().is_some_and(|r| r[1] == "3/3")
    });
    assert_eq!(rows(&sts)[0][0], "web");
    let pods = sim.kubectl(&["get", "pods", "--no-headers"]).ok();
    let names: Vec<String> = rows(&pods).iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["web-0", "web-1", "web-2"]);
    // Each ordinal was created only once the one before was Ready.
    for (prev, next) in [("web-0", "web-1"), ("web-1", "web-2")] {
        let ready = jsonpath(
            &sim,
            &["get", "pod", prev],
            "{.status.conditions[?(@.type==\"Ready\")].lastTransitionTime}",
        );
        let created = jsonpath(&sim, &["get", "pod", next], "{.metadata.creationTimestamp}");
        assert!(
            created >= ready,
            "{next} created {created}, {prev} ready {ready}"
        );
    }
    let ev = messages(&sim);
    for n in ["web-0", "web-1", "web-2"] {
        let want = format!("SuccessfulCreate: create Pod {n} in StatefulSet web successful");
        assert!(ev.contains(&want), "{ev:?}");
    }
    let labels = jsonpath(&sim, &["get", "pod", "web-1"], "{.metadata.labels}");
    assert!(
        labels.contains("\"statefulset.kubernetes.io/pod-name\":\"web-1\""),
        "{labels}"
    );
    assert!(
        labels.contains("\"apps.kubernetes.io/pod-index\":\"1\""),
        "{labels}"
    );
    let rev = jsonpath(&sim, &["get", "sts", "web"], "{.status.updateRevision}");
    assert!(
        labels.contains(&format!("\"controller-revision-hash\":\"{rev}\"")),
        "{labels}"
    );
    sim.kubectl(&["get", "controllerrevision", &rev]).ok();
    assert_eq!(
        jsonpath(
            &sim,
            &["get", "pod", "web-1"],
            "{.spec.hostname}/{.spec.subdomain}"
        ),
        "web-1/web"
    );

    // The defaulted `rollingUpdate.partition: 0` makes kubectl report a
    // partitioned roll out, as on a real cluster.
    assert_eq!(
        sim.kubectl(&["rollout", "status", "sts/web", "--timeout=20s"])
            .ok(),
        "partitioned roll out complete: 3 new pods have been updated...\n"
    );

    sim.kubectl(&["scale", "sts", "web", "--replicas=2"]).ok();
    eventually(&sim, &["get", "pods", "--no-headers"], |o| {
        let r = rows(o);
        r.len() == 2 && r[0][0] == "web-0" && r[1][0] == "web-1"
    });
    eventually(&sim, &["get", "sts", "web", "--no-headers"], |o| {
        rows(o).first().is_some_and(|r| r[1] == "2/2")
    });
    let ev = messages(&sim);
    let deletes: Vec<&String> = ev
        .iter()
        .filter(|m| m.starts_with("SuccessfulDelete"))
        .collect();
    assert_eq!(
        deletes,
        ["SuccessfulDelete: delete Pod web-2 in StatefulSet web successful"]
    );

    // A rolling update replaces web-1, then web-0, and ends on the new revision.
    sim.kubectl(&["set", "image", "sts/web", "nginx=nginx:1.26"])
        .ok();
    let out = sim
        .kubectl(&["rollout", "status", "sts/web", "--timeout=30s"])
        .ok();
    assert!(
        out.ends_with("partitioned roll out complete: 2 new pods have been updated...\n"),
        "{out}"
    );
    assert_eq!(
        jsonpath(&sim, &["get", "sts", "web"], "{.status.currentRevision}"),
        jsonpath(&sim, &["get", "sts", "web"], "{.status.updateRevision}"),
    );
    assert_eq!(
        jsonpath(
            &sim,
            &["get", "pods"],
            "{.items[*].spec.containers[0].image}"
        ),
        "nginx:1.26 nginx:1.26"
    );
    let ev = messages(&sim);
    let deletes: Vec<&String> = ev
        .iter()
        .filter(|m| m.starts_with("SuccessfulDelete"))
        .collect();
    assert_eq!(
        deletes,
        [
            "SuccessfulDelete: delete Pod web-2 in StatefulSet web successful",
            "SuccessfulDelete: delete Pod web-1 in StatefulSet web successful",
            "SuccessfulDelete: delete Pod web-0 in StatefulSet web successful",
        ]
    );
}

fn daemonset(name: &str, tolerate_control_plane: bool) -> String {
    let tolerations = if tolerate_control_plane {
        "      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
spec:
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
{tolerations}      containers:
      - name: agent
        image: nginx:1.27
"
    )
}

#[test]
fn daemonset_runs_one_pod_per_eligible_node() {
    let sim = Sim::start();
    sim.kubectl_stdin(&["apply", "-f", "-"], &daemonset("fluentd", false))
        .ok();
    let ds = eventually(&sim, &["get", "ds", "fluentd", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r[1..6] == ["2", "2", "2", "2", "2"])
    });
    assert_eq!(rows(&ds)[0][6], "<none>");
    let pods = sim
        .kubectl(&[
            "get",
            "pods",
            "-l",
            "app=fluentd",
            "-o",
            "wide",
            "--no-headers",
        ])
        .ok();
    let mut nodes: Vec<String> = rows(&pods).iter().map(|r| r[6].clone()).collect();
    nodes.sort();
    assert_eq!(nodes, ["kdrill-worker", "kdrill-worker2"]);
    for r in rows(&pods) {
        assert!(
            r[0].starts_with("fluentd-") && r[0].len() == "fluentd-".len() + 5,
            "{r:?}"
        );
        assert_eq!(r[2], "Running");
    }
    let ev = messages(&sim);
    assert!(
        ev.iter()
            .any(|m| m.starts_with("SuccessfulCreate: Created pod: fluentd-")),
        "{ev:?}"
    );

    assert_eq!(
        sim.kubectl(&["rollout", "status", "ds/fluentd", "--timeout=20s"])
            .ok(),
        "daemon set \"fluentd\" successfully rolled out\n"
    );

    sim.kubectl_stdin(&["apply", "-f", "-"], &daemonset("everywhere", true))
        .ok();
    eventually(&sim, &["get", "ds", "everywhere", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r[1..6] == ["3", "3", "3", "3", "3"])
    });
}
