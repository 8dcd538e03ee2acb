//! Pods come alive: the simulated kubelet runs them, and the real kubectl
//! sees what it would see on a real cluster (`get`, `describe`, `logs`,
//! `exec`, `wait`, `rollout status`). Back-offs run on a sped-up clock
//! (`--time-scale 50`), so waiting is short polling with deadlines.

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout.
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.eventually(20, args, pred)
}

/// `kubectl get pod <name> --no-headers` columns once `pred` holds.
#[track_caller]
fn pod_row(sim: &Sim, name: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let out = eventually(sim, &["get", "pod", name, "--no-headers"], |o| {
        rows(o).first().is_some_and(|r| pred(r))
    });
    rows(&out).remove(0)
}

fn fast() -> Sim {
    Sim::start_with(&["--time-scale", "50"])
}

const FAULTS: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {present: "yes", app.conf: "greeting=hello"}
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "echo starting up; echo missing DATABASE_URL; exit 1"]
---
apiVersion: v1
kind: Pod
metadata: {name: typo}
spec:
  containers:
  - name: app
    image: ngnix:1.27
---
apiVersion: v1
kind: Pod
metadata: {name: nokey}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: cfg, key: mode}}
---
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  containers:
  - name: app
    image: polinux/stress
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]
    resources:
      limits: {memory: 100Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: notready}
spec:
  containers:
  - name: web
    image: nginx:1.27
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 5
"#;

#[test]
fn faults_show_upstream_states_events_and_logs() {
    let sim = fast();
    let f = sim.file("faults.yaml", FAULTS);
    sim.kubectl(&["apply", "-f", &f]).ok();

    // Bad command: CrashLoopBackOff, the back-off event, the last run's output.
    let row = pod_row(&sim, "crash", |r| r[2] == "CrashLoopBackOff");
    assert_eq!(row[1], "0/1", "{row:?}");
    let describe = sim.kubectl(&["describe", "pod", "crash"]).ok();
    assert!(
        describe.contains("Back-off restarting failed container app in pod crash_default("),
        "{describe}"
    );
    assert!(
        describe.contains(
            "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n"
        ),
        "{describe}"
    );
    assert_eq!(
        sim.kubectl(&["logs", "crash", "--previous"]).ok(),
        "starting up\nmissing DATABASE_URL\n"
    );

    // Image typo: ErrImagePull, then ImagePullBackOff.
    pod_row(&sim, "typo", |r| r[2] == "ImagePullBackOff");
    let describe = sim.kubectl(&["describe", "pod", "typo"]).ok();
    assert!(
        describe.contains("Failed to pull image \"ngnix:1.27\""),
        "{describe}"
    );
    assert!(describe.contains("Error: ErrImagePull"), "{describe}");
    assert!(
        describe.contains("Back-off pulling image \"ngnix:1.27\""),
        "{describe}"
    );
    // At this time scale a back-off runs out in a fraction of a second and
    // the kubelet pulls again (ErrImagePull, "image can't be pulled"), so
    // the reason can change, and come back, between two commands on a
    // loaded machine: take the answer of a `logs` during which the pod was
    // not written at all (same resourceVersion) and showed ImagePullBackOff.
    let waiting = || {
        sim.kubectl(&[
            "get",
            "pod",
            "typo",
            "-o",
            "jsonpath={.metadata.resourceVersion} {.status.containerStatuses[0].state.waiting.reason}",
        ])
        .ok()
    };
    let mut answer = None;
    for _ in 0..50 {
        let before = waiting();
        let err = sim.kubectl(&["logs", "typo"]).err();
        if before.ends_with(" ImagePullBackOff") && waiting() == before {
            answer = Some(err);
            break;
        }
    }
    assert_eq!(
        answer.as_deref(),
        Some(
            "Error from server (BadRequest): container \"app\" in pod \"typo\" is waiting to start: trying and failing to pull image\n"
        )
    );

    // Missing ConfigMap key: CreateContainerConfigError with the kubelet's message.
    pod_row(&sim, "nokey", |r| r[2] == "CreateContainerConfigError");
    let describe = sim.kubectl(&["describe", "pod", "nokey"]).ok();
    assert!(
        describe.contains("Error: couldn't find key mode in ConfigMap default/cfg"),
        "{describe}"
    );
    let err = sim.kubectl(&["logs", "nokey"]).err();
    assert_eq!(
        err,
        "Error from server (BadRequest): container \"app\" in pod \"nokey\" is waiting to start: CreateContainerConfigError\n"
    );

    // Memory over the limit: OOMKilled with exit code 137.
    eventually(&sim, &["describe", "pod", "oom"], |o| {
        o.contains("    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n")
    });

    // Failing readiness: Running but 0/1, with the prober's message.
    pod_row(&sim, "notready", |r| r[2] == "Running" && r[1] == "0/1");
    eventually(&sim, &["describe", "pod", "notready"], |o| {
        o.contains("Readiness probe failed: HTTP probe failed with statuscode: 404")
    });
    let err = sim.kubectl(&["logs", "notready", "--previous"]).err();
    assert_eq!(
        err,
        "Error from server (BadRequest): previous terminated container \"web\" in pod \"notready\" not found\n"
    );
}

#[test]
fn healthy_deployment_rolls_out_and_pods_become_ready() {
    let sim = fast();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
    ])
    .ok();
    let out = sim
        .kubectl(&["rollout", "status", "deployment/web", "--timeout=30s"])
        .ok();
    assert!(
        out.ends_with("deployment \"web\" successfully rolled out\n"),
        "{out}"
    );
    let pods = eventually(&sim, &["get", "pods", "--no-headers"], |o| {
        let r = rows(o);
        r.len() == 3 && r.iter().all(|c| c[1] == "1/1" && c[2] == "Running")
    });
    assert_eq!(rows(&pods).len(), 3);
    let deploy = sim.kubectl(&["get", "deploy", "web", "--no-headers"]).ok();
    assert_eq!(&rows(&deploy)[0][1..4], ["3/3", "3", "3"]);

    sim.kubectl(&["run", "box", "--image=busybox:1.36", "--", "sleep", "3600"])
        .ok();
    let out = sim
        .kubectl(&["wait", "--for=condition=Ready", "pod/box", "--timeout=30s"])
        .ok();
    assert_eq!(out, "pod/box condition met\n");

    // Graceful deletion: sleep ignores SIGTERM, the kubelet kills it at the
    // end of the grace period (30s, sped up) and the pod is gone.
    let out = sim.kubectl(&["delete", "pod", "box"]).ok();
    assert!(out.starts_with("pod \"box\" deleted"), "{out}");
    let err = sim.kubectl(&["get", "pod", "box"]).err();
    assert_eq!(
        err,
        "Error from server (NotFound): pods \"box\" not found\n"
    );
}

const EXEC: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: backend-api}
spec:
  selector: {app: backend}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {app.conf: "greeting=hello\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "echo ready; sleep 3600"]
    env: [{name: GREETING, value: hello}]
    volumeMounts: [{name: cfg, mountPath: /etc/config}]
  volumes: [{name: cfg, configMap: {name: settings}}]
"#;

#[test]
fn exec_runs_in_the_container_environment() {
    let sim = Sim::start();
    let f = sim.file("exec.yaml", EXEC);
    sim.kubectl(&["apply", "-f", &f]).ok();
    sim.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/shell",
        "--timeout=30s",
    ])
    .ok();

    let env = sim.kubectl(&["exec", "shell", "--", "env"]).ok();
    for want in [
        "GREETING=hello",
        "HOSTNAME=shell",
        "KUBERNETES_SERVICE_HOST=10.96.0.1",
        "KUBERNETES_SERVICE_PORT=443",
        "KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443",
        "BACKEND_API_SERVICE_PORT=8080",
        "BACKEND_API_SERVICE_PORT_HTTP=8080",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing from\n{env}");
    }
    assert!(
        env.lines()
            .any(|l| l.starts_with("BACKEND_API_SERVICE_HOST=10.96.")),
        "{env}"
    );

    assert_eq!(
        sim.kubectl(&["exec", "shell", "--", "cat", "/etc/config/app.conf"])
            .ok(),
        "greeting=hello\n"
    );

    let r = sim.kubectl(&["exec", "shell", "--", "sh", "-c", "echo out; exit 3"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stdout, "out\n");
    assert!(
        r.stderr.contains("command terminated with exit code 3"),
        "{}",
        r.stderr
    );

    let r = sim.kubectl_stdin(
        &["exec", "-it", "shell", "--", "sh"],
        "X=5\necho \"x is $X on $(hostname)\"\ncat /etc/config/app.conf\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "x is 5 on shell\ngreeting=hello\n");

    // Logs: the whole run, the tail with timestamps.
    assert_eq!(sim.kubectl(&["logs", "shell"]).ok(), "ready\n");
    let stamped = sim
        .kubectl(&["logs", "shell", "--timestamps", "--tail=1"])
        .ok();
    let (stamp, line) = stamped.trim_end().split_once(' ').unwrap_or_default();
    assert_eq!(line, "ready");
    assert_eq!(
        stamp.len(),
        "2025-06-01T10:00:00.000000000Z".len(),
        "{stamp}"
    );
}

#[test]
fn exec_into_a_container_that_is_not_running_is_refused() {
    let sim = fast();
    sim.kubectl(&[
        "run",
        "crash",
        "--image=busybox:1.36",
        "--command",
        "--",
        "sh",
        "-c",
        "exit 1",
    ])
    .ok();
    pod_row(&sim, "crash", |r| r[2] == "CrashLoopBackOff");
    let err = sim.kubectl(&["exec", "crash", "--", "ls"]).err();
    assert!(
        err.ends_with("error: unable to upgrade connection: container not found (\"crash\")\n"),
        "{err}"
    );
}

#[test]
fn logs_follow_ends_when_the_container_stops() {
    let sim = fast();
    sim.kubectl(&[
        "run",
        "job",
        "--image=busybox:1.36",
        "--restart=Never",
        "--command",
        "--",
        "sh",
        "-c",
        "echo one; sleep 20; echo two",
    ])
    .ok();
    pod_row(&sim, "job", |r| r[2] == "Running" || r[2] == "Completed");
    let out = sim.kubectl(&["logs", "-f", "job"]).ok();
    assert_eq!(out, "one\ntwo\n");
    pod_row(&sim, "job", |r| r[2] == "Completed");
}

// rest.BeforeDelete stamps deletionTimestamp at the end of the grace
// period, so during it kubectl describe's translateTimestampSince of a
// future time prints "<invalid>" (duration.HumanDuration), as on a real
// cluster; the period is deletionGracePeriodSeconds.
#[test]
fn a_terminating_pod_is_described_with_its_grace_period() {
    let sim = Sim::start();
    sim.kubectl(&["run", "slow", "--image=busybox:1.36", "--", "sleep", "3600"])
        .ok();
    sim.kubectl(&["wait", "--for=condition=Ready", "pod/slow", "--timeout=30s"])
        .ok();
    sim.kubectl(&[
        "delete",
        "pod",
        "slow",
        "--grace-period=600",
        "--wait=false",
    ])
    .ok();
    let out = sim.kubectl(&["describe", "pod", "slow"]).ok();
    assert!(
        out.contains(
            "\nStatus:                    Terminating (lasts <invalid>)\nTermination Grace Period:  600s\n"
        ),
        "{out}"
    );
    let grace = sim
        .kubectl(&[
            "get",
            "pod",
            "slow",
            "-o",
            "jsonpath={.metadata.deletionGracePeriodSeconds}",
        ])
        .ok();
    assert_eq!(grace, "600");
}
