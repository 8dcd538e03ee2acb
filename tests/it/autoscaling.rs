//! HorizontalPodAutoscalers with real kubectl: `kubectl autoscale`, the
//! TARGETS column, `describe hpa` conditions and events, and a rescale
//! driven by what the pods burn (on the virtual clock).

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout, moving the
/// virtual clock five seconds between polls (at most ten simulated minutes).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.advancing("5s", 120, args, pred)
}

const BURNER: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: burner}
spec:
  replicas: 1
  selector: {matchLabels: {app: burner}}
  template:
    metadata: {labels: {app: burner}}
    spec:
      containers:
      - name: stress
        image: polinux/stress
        command: ["stress", "--cpu", "1"]
        resources:
          requests: {cpu: 200m}
          limits: {cpu: 500m}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: norequests}
spec:
  replicas: 1
  selector: {matchLabels: {app: norequests}}
  template:
    metadata: {labels: {app: norequests}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

#[test]
fn autoscaler_targets_rescale_and_missing_requests() {
    let sim = Sim::start_virtual();
    let f = sim.file("burner.yaml", BURNER);
    sim.kubectl(&["apply", "-f", &f]).ok();
    eventually(&sim, &["get", "pods", "--no-headers"], |o| {
        rows(o).len() == 2 && rows(o).iter().all(|r| r[2] == "Running")
    });
    sim.kubectl(&[
        "autoscale",
        "deployment",
        "norequests",
        "--cpu-percent=50",
        "--min=1",
        "--max=3",
    ])
    .ok();
    sim.kubectl(&[
        "autoscale",
        "deployment",
        "burner",
        "--cpu-percent=50",
        "--min=1",
        "--max=5",
    ])
    .ok();

    // No CPU request: the target stays unknown, with upstream's reason
    // (once the pods report metrics; before that the first sync may say
    // "did not receive metrics for targeted pods", as metrics-server's
    // first scrape lags upstream too).
    let out = eventually(&sim, &["describe", "hpa", "norequests"], |o| {
        o.contains("missing request for cpu")
    });
    assert!(
        out.contains(
            "FailedGetResourceMetric  the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container web of Pod norequests-"
        ),
        "{out}"
    );
    let table = sim.kubectl(&["get", "hpa", "norequests"]).ok();
    let r = rows(&table);
    assert_eq!(
        r[0],
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    assert_eq!(r[1][1], "Deployment/norequests");
    assert_eq!(r[1][2], "cpu: <unknown>/50%");

    // A pod throttled at its 500m limit against a 200m request is at 250%:
    // the autoscaler doubles past it, then stops at maxReplicas.
    eventually(&sim, &["get", "hpa", "burner", "--no-headers"], |o| {
        rows(o).first().is_some_and(|r| r[5] == "5")
    });
    // Settle: once all five pods burn and report, the next syncs want 25
    // and are held at maxReplicas.
    sim.advance("2m");
    let table = sim.kubectl(&["get", "hpa", "burner", "--no-headers"]).ok();
    assert_eq!(rows(&table)[0][2], "cpu: 250%/50%", "{table}");
    let out = sim.kubectl(&["describe", "hpa", "burner"]).ok();
    assert!(
        out.contains(
            "New size: 4; reason: cpu resource utilization (percentage of request) above target"
        ),
        "{out}"
    );
    assert!(
        out.contains("ScalingLimited  True    TooManyReplicas"),
        "{out}"
    );
    let deploy = sim
        .kubectl(&["get", "deploy", "burner", "-o", "jsonpath={.spec.replicas}"])
        .ok();
    assert_eq!(deploy, "5");
}
