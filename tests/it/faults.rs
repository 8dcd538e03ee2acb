//! Golden tests, one per fault a drill injects: the real kubectl against
//! `kdrill sim serve --clock virtual`, with time moved by `kdrill sim
//! advance` (no sleeps, no polling). Each test checks what a learner reads:
//! `kubectl get`, `describe` (State / Last State / Reason / Exit Code /
//! Events) and `logs --previous`, with upstream's wording.
//!
//! Upstream sources of the strings checked here:
//! - kubelet events: `pkg/kubelet/events/event.go` (`BackOff`, `Failed`,
//!   `Unhealthy`, `Killing`, `Pulling`, `Pulled`), messages from
//!   `pkg/kubelet/kuberuntime/kuberuntime_container.go` and
//!   `pkg/kubelet/images/image_manager.go` (`Back-off pulling image %q`,
//!   `Failed to pull image %q: %v`, `Error: ErrImagePull`),
//!   `pkg/kubelet/prober/prober.go` (`%s probe failed: %s`) and
//!   `kuberuntime_manager.go` (`Container %s failed %s probe, will be
//!   restarted`).
//! - `kubectl describe`: `staging/src/k8s.io/kubectl/pkg/describe/describe.go`
//!   (`describeContainerState`, `DescribeEvents`).
//! - scheduler: `pkg/scheduler/framework/types.go` (`FitError.Error`),
//!   the plugins' reasons (`Insufficient cpu`, `node(s) had untolerated
//!   taint {k: v}`, `node(s) didn't match Pod's node affinity/selector`).
//!
//! Ages are relative to the real clock kubectl reads, so they are redacted;
//! everything else (timestamps, event counts and spans) is exact because
//! the simulated clock starts at a fixed instant and only moves when told.

use super::harness::Sim;

/// Whether a word is an age kubectl computes itself against the real
/// clock (`HumanDuration` of 2 days and more: `330d`, `3d4h`, `2y30d`,
/// `9y`): describe's event ages. (`kubectl get` tables come rendered by
/// the server, on the simulated clock, so their ages are exact.)
fn is_age(w: &str) -> bool {
    let mut rest = w;
    let mut units = String::new();
    while !rest.is_empty() {
        let d = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
        let Some(unit) = rest[d..].chars().next().filter(|_| d > 0) else {
            return false;
        };
        if !matches!(unit, 'y' | 'd' | 'h') {
            return false;
        }
        units.push(unit);
        rest = &rest[d + 1..];
    }
    (1..=2).contains(&units.len()) && (units.starts_with('y') || units.starts_with('d'))
}

/// Redacts real-clock ages in a table cell.
fn redact_cell(cell: &str) -> String {
    cell.split(' ')
        .map(|w| {
            let (open, core) = match w.strip_prefix('(') {
                Some(c) => ("(", c),
                None => ("", w),
            };
            let (core, close) = match core.strip_suffix(')') {
                Some(c) => (c, ")"),
                None => (core, ""),
            };
            if is_age(core) {
                format!("{open}[age]{close}")
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Columns of a table line joined by three spaces (alignment depends on
/// the redacted ages' widths), ages redacted.
fn redact_row(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let cells: Vec<String> = line
        .trim()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(redact_cell)
        .collect();
    format!("{}{}", " ".repeat(indent), cells.join("   "))
}

/// Container ids are random per run of the runtime; redact them.
fn redact_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("containerd://") {
        let (head, tail) = rest.split_at(i + "containerd://".len());
        out.push_str(head);
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push_str("[id]");
            rest = &tail[64..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Seeded names and uids that any change to what a fresh cluster creates
/// reshuffles: the token volume's suffix and object uids (8-4-4-4-12 hex).
fn redact_generated(text: &str) -> String {
    const VOLUME: &str = "kube-api-access-";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(VOLUME) {
        let (head, tail) = rest.split_at(i + VOLUME.len());
        out.push_str(head);
        let n = tail
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .count();
        if n == 5 {
            out.push_str("[rand]");
            rest = &tail[5..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    let is_uuid = |w: &str| {
        let parts: Vec<&str> = w.split('-').collect();
        parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
            && parts
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let mut done = String::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if i + 36 <= out.len() && out.is_char_boundary(i + 36) && is_uuid(&out[i..i + 36]) {
            done.push_str("[uid]");
            i += 36;
            continue;
        }
        let ch = out[i..].chars().next().unwrap_or(' ');
        done.push(ch);
        i += ch.len_utf8();
    }
    done
}

/// A `kubectl get` table, ages redacted.
fn table(text: &str) -> String {
    text.lines().map(redact_row).collect::<Vec<_>>().join("\n") + "\n"
}

/// A `kubectl describe`: ages in the events table redacted, ids too.
fn described(text: &str) -> String {
    let text = redact_generated(&redact_ids(text));
    let mut out = Vec::new();
    let mut in_events = false;
    for line in text.lines() {
        if line.starts_with("Events:") {
            in_events = true;
            out.push(line.to_string());
            continue;
        }
        out.push(if in_events {
            redact_row(line)
        } else {
            line.to_string()
        });
    }
    out.join("\n") + "\n"
}

/// A cluster on the virtual clock with `manifest` applied and time moved
/// by `by`.
fn with(manifest: &str, by: &str) -> Sim {
    let sim = Sim::start_virtual();
    let f = sim.file("manifest.yaml", manifest);
    sim.kubectl(&["apply", "-f", &f]).ok();
    sim.advance(by);
    sim
}

fn get_pod(sim: &Sim, name: &str) -> String {
    table(&sim.kubectl(&["get", "pod", name]).ok())
}

fn describe(sim: &Sim, kind: &str, name: &str) -> String {
    described(&sim.kubectl(&["describe", kind, name]).ok())
}

#[track_caller]
fn contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "missing {needle:?} in:\n{haystack}"
    );
}

#[test]
fn the_virtual_clock_moves_only_when_advanced() {
    let sim = Sim::start_virtual();
    assert_eq!(sim.advance("0s"), "2026-01-01T00:00:00Z");
    sim.kubectl(&["run", "box", "--image=busybox:1.36", "--", "sleep", "3600"])
        .ok();
    // Nothing reacts until the next advance: the pod is not even scheduled.
    let node = sim
        .kubectl(&["get", "pod", "box", "-o", "jsonpath={.spec.nodeName}"])
        .ok();
    assert_eq!(node, "");
    assert_eq!(sim.advance("1m30s"), "2026-01-01T00:01:30Z");
    sim.kubectl(&["wait", "--for=condition=Ready", "pod/box", "--timeout=5s"])
        .ok();
    let created = sim
        .kubectl(&[
            "get",
            "pod",
            "box",
            "-o",
            "jsonpath={.metadata.creationTimestamp} {.status.startTime}",
        ])
        .ok();
    assert_eq!(created, "2026-01-01T00:00:00Z 2026-01-01T00:00:00Z");
    // A delete that waits for the kubelet would wait forever for time that
    // stands still: delete without waiting, then move time. `sleep` as PID
    // 1 ignores SIGTERM, so the pod goes after its 30s grace period.
    sim.kubectl(&["delete", "pod", "box", "--wait=false"]).ok();
    sim.advance("29s");
    sim.kubectl(&["get", "pod", "box"]).ok();
    sim.advance("2s");
    assert_eq!(
        sim.kubectl(&["get", "pod", "box"]).err(),
        "Error from server (NotFound): pods \"box\" not found\n"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_kdrill"))
        .args(["sim", "advance", "soon", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .output()
        .expect("run kdrill");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn crash_loop_from_a_missing_env_var_shows_the_apps_last_words() {
    let sim = with(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: api}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "echo starting api; if [ -z \"$DATABASE_URL\" ]; then echo 'error: DATABASE_URL is not set'; exit 1; fi; sleep 3600"]
"#,
        "2m",
    );
    let get = get_pod(&sim, "api");
    contains(&get, "api   0/1   CrashLoopBackOff");
    let d = describe(&sim, "pod", "api");
    contains(
        &d,
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n",
    );
    contains(
        &d,
        "Back-off restarting failed container app in pod api_default(",
    );
    assert_eq!(
        sim.kubectl(&["logs", "api", "--previous"]).ok(),
        "starting api\nerror: DATABASE_URL is not set\n"
    );
    insta::assert_snapshot!("crashloop_get", get);
    insta::assert_snapshot!("crashloop_describe", d);
}

#[test]
fn a_command_that_is_not_on_path_is_a_start_error() {
    // containerd + runc on a kind node: the task cannot be created, the
    // container ends with reason StartError and exit code 128 (not 127:
    // 127 is a shell's "not found", below), and a start time of the epoch.
    let sim = with(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["pyhton", "app.py"]
---
apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "curl http://api:8080/"]
"#,
        "1m",
    );
    let d = describe(&sim, "pod", "bad");
    let msg = "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: \"pyhton\": executable file not found in $PATH: unknown";
    contains(
        &d,
        &format!(
            "    Last State:     Terminated\n      Reason:       StartError\n      Message:      {msg}\n      Exit Code:    128\n      Started:      Thu, 01 Jan 1970 00:00:00 +0000\n"
        ),
    );
    contains(&d, &format!("kubelet   Error: {msg}"));
    insta::assert_snapshot!("start_error_describe", d);
    // Inside `sh -c` the shell itself reports the missing command: 127.
    let d = describe(&sim, "pod", "shell");
    contains(
        &d,
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    127\n",
    );
    assert_eq!(
        sim.kubectl(&["logs", "shell", "--previous"]).ok(),
        "sh: curl: not found\n"
    );
}

#[test]
fn missing_configmap_key_and_secret_block_container_creation() {
    let sim = with(
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {present: "yes"}
---
apiVersion: v1
kind: Pod
metadata: {name: nocm}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: app-config, key: mode}}
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
metadata: {name: nosecret}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
    env:
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: db-creds, key: password}}
"#,
        "1m",
    );
    for (pod, err) in [
        ("nocm", "Error: configmap \"app-config\" not found"),
        (
            "nokey",
            "Error: couldn't find key mode in ConfigMap default/cfg",
        ),
        ("nosecret", "Error: secret \"db-creds\" not found"),
    ] {
        let get = get_pod(&sim, pod);
        contains(
            &get,
            &format!("{pod}   0/1   CreateContainerConfigError   0"),
        );
        let d = describe(&sim, "pod", pod);
        contains(
            &d,
            "    State:          Waiting\n      Reason:       CreateContainerConfigError\n",
        );
        contains(&d, "Warning   Failed   [age] (x");
        contains(&d, &format!("kubelet   {err}\n"));
        let logs = sim.kubectl(&["logs", pod]).err();
        assert_eq!(
            logs,
            format!(
                "Error from server (BadRequest): container \"app\" in pod \"{pod}\" is waiting to start: CreateContainerConfigError\n"
            )
        );
        insta::assert_snapshot!(format!("config_error_describe_{pod}"), d);
    }
}

#[test]
fn image_typo_and_missing_tag_back_off_pulling() {
    let sim = with(
        r#"
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
metadata: {name: notag}
spec:
  containers:
  - name: app
    image: nginx:1.99
---
apiVersion: v1
kind: Pod
metadata: {name: private}
spec:
  containers:
  - name: app
    image: acme/payments-api:2.3
"#,
        "2m",
    );
    for (pod, image, why) in [
        (
            "typo",
            "ngnix:1.27",
            "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/ngnix:1.27\": failed to resolve reference \"docker.io/library/ngnix:1.27\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        ),
        (
            "notag",
            "nginx:1.99",
            "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.99\": failed to resolve reference \"docker.io/library/nginx:1.99\": docker.io/library/nginx:1.99: not found",
        ),
        (
            // A private Docker Hub repository pulled without an
            // imagePullSecret reads exactly like a typo.
            "private",
            "acme/payments-api:2.3",
            "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/acme/payments-api:2.3\": failed to resolve reference \"docker.io/acme/payments-api:2.3\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        ),
    ] {
        let get = get_pod(&sim, pod);
        contains(&get, &format!("{pod}   0/1   ImagePullBackOff   0"));
        let d = describe(&sim, "pod", pod);
        contains(
            &d,
            "    State:          Waiting\n      Reason:       ImagePullBackOff\n",
        );
        contains(&d, &format!("Failed to pull image \"{image}\": {why}\n"));
        contains(&d, "kubelet   Error: ErrImagePull\n");
        contains(
            &d,
            &format!("kubelet   Back-off pulling image \"{image}\"\n"),
        );
        contains(&d, "kubelet   Error: ImagePullBackOff\n");
        assert_eq!(
            sim.kubectl(&["logs", pod]).err(),
            format!(
                "Error from server (BadRequest): container \"app\" in pod \"{pod}\" is waiting to start: trying and failing to pull image\n"
            )
        );
        insta::assert_snapshot!(format!("pull_describe_{pod}"), d);
    }
}

#[test]
fn memory_over_the_limit_is_oom_killed() {
    let sim = with(
        r#"
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
"#,
        "1m",
    );
    let get = get_pod(&sim, "oom");
    let d = describe(&sim, "pod", "oom");
    contains(
        &d,
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n",
    );
    insta::assert_snapshot!("oom_get", get);
    insta::assert_snapshot!("oom_describe", d);
}

#[test]
fn failing_probes_keep_pods_unready_or_restart_them() {
    let sim = with(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: notready}
spec:
  containers:
  - name: app
    image: nginx:1.27
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 5
---
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  containers:
  - name: app
    image: nginx:1.27
    livenessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 10
      failureThreshold: 3
"#,
        "2m",
    );
    let get = get_pod(&sim, "notready");
    contains(&get, "notready   0/1   Running   0");
    let d = describe(&sim, "pod", "notready");
    contains(
        &d,
        "kubelet   Readiness probe failed: HTTP probe failed with statuscode: 404\n",
    );
    assert_eq!(
        sim.kubectl(&["logs", "notready", "--previous"]).err(),
        "Error from server (BadRequest): previous terminated container \"app\" in pod \"notready\" not found\n"
    );
    insta::assert_snapshot!("readiness_describe", d);

    let d = describe(&sim, "pod", "unhealthy");
    contains(
        &d,
        "kubelet   Liveness probe failed: HTTP probe failed with statuscode: 404\n",
    );
    contains(
        &d,
        "kubelet   Container app failed liveness probe, will be restarted\n",
    );
    contains(
        &d,
        "    Last State:     Terminated\n      Reason:       Completed\n      Exit Code:    0\n",
    );
    insta::assert_snapshot!("liveness_get", get_pod(&sim, "unhealthy"));
    insta::assert_snapshot!("liveness_describe", d);
}

const SLOW_START: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "echo warming up; sleep 40; touch /tmp/ready; echo ready; sleep 3600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 5
      failureThreshold: 2
"#;

#[test]
fn slow_start_is_killed_by_an_aggressive_liveness_probe_until_a_startup_probe_covers_it() {
    let sim = with(SLOW_START, "3m10s");
    let d = describe(&sim, "pod", "slow");
    // `sh` as PID 1 ignores SIGTERM: the kill waits out the 30s grace
    // period, then SIGKILL (137).
    contains(
        &d,
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    137\n",
    );
    contains(
        &d,
        "kubelet   Liveness probe failed: cat: can't open '/tmp/ready': No such file or directory\n",
    );
    contains(
        &d,
        "kubelet   Container app failed liveness probe, will be restarted\n",
    );
    assert_eq!(
        sim.kubectl(&["logs", "slow", "--previous"]).ok(),
        "warming up\n"
    );
    insta::assert_snapshot!("slow_start_describe", d);

    // The fix: a startup probe holds the liveness probe off until the app
    // is up (12 x 5s covers the 40s warm-up).
    let fixed = SLOW_START.replace(
        "    livenessProbe:",
        "    startupProbe:\n      exec: {command: [\"cat\", \"/tmp/ready\"]}\n      periodSeconds: 5\n      failureThreshold: 12\n    livenessProbe:",
    );
    let sim = with(&fixed, "2m");
    let get = get_pod(&sim, "slow");
    contains(&get, "slow   1/1   Running   0");
    assert_eq!(sim.kubectl(&["logs", "slow"]).ok(), "warming up\nready\n");
}

#[test]
fn scheduling_failures_name_every_node() {
    let sim = Sim::start_virtual();
    sim.advance("0s");
    sim.kubectl(&[
        "taint",
        "nodes",
        "kdrill-worker",
        "kdrill-worker2",
        "dedicated=gpu:NoSchedule",
    ])
    .ok();
    let f = sim.file(
        "pods.yaml",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  tolerations: [{key: dedicated, operator: Exists}]
  containers:
  - name: app
    image: nginx:1.27
    resources: {requests: {cpu: "64"}}
---
apiVersion: v1
kind: Pod
metadata: {name: tainted}
spec:
  containers:
  - name: app
    image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata: {name: selector}
spec:
  tolerations: [{key: dedicated, operator: Exists}]
  nodeSelector: {disktype: sdd}
  containers:
  - name: app
    image: nginx:1.27
"#,
    );
    sim.kubectl(&["apply", "-f", &f]).ok();
    sim.advance("30s");
    for (pod, why) in [
        (
            "big",
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        ),
        (
            "tainted",
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        ),
        (
            "selector",
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        ),
    ] {
        let get = get_pod(&sim, pod);
        contains(&get, &format!("{pod}   0/1   Pending   0"));
        let d = describe(&sim, "pod", pod);
        contains(
            &d,
            &format!("Warning   FailedScheduling   [age]   default-scheduler   {why}\n"),
        );
        contains(&d, "  PodScheduled   False \n");
        insta::assert_snapshot!(format!("scheduling_describe_{pod}"), d);
    }
}

#[test]
fn a_rollout_past_its_deadline_fails_and_undo_restores_it() {
    let sim = with(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  progressDeadlineSeconds: 60
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#,
        "30s",
    );
    assert_eq!(
        sim.kubectl(&["rollout", "status", "deployment/web", "--timeout=5s"])
            .ok(),
        "deployment \"web\" successfully rolled out\n"
    );
    sim.kubectl(&["set", "image", "deployment/web", "web=nginx:1.99"])
        .ok();
    sim.advance("2m");
    let status = sim.kubectl(&["rollout", "status", "deployment/web", "--timeout=5s"]);
    assert_eq!(status.code, 1, "{status:?}");
    assert_eq!(
        status.stderr,
        "error: deployment \"web\" exceeded its progress deadline\n"
    );
    let d = describe(&sim, "deployment", "web");
    contains(&d, "  Progressing    False   ProgressDeadlineExceeded\n");
    insta::assert_snapshot!("rollout_failed_describe", d);
    insta::assert_snapshot!(
        "rollout_failed_get",
        table(&sim.kubectl(&["get", "deploy,rs"]).ok())
    );
    assert_eq!(
        sim.kubectl(&["rollout", "undo", "deployment/web"]).ok(),
        "deployment.apps/web rolled back\n"
    );
    sim.advance("1m");
    assert_eq!(
        sim.kubectl(&["rollout", "status", "deployment/web", "--timeout=5s"])
            .ok(),
        "deployment \"web\" successfully rolled out\n"
    );
    let image = sim
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .ok();
    assert_eq!(image, "nginx:1.27");
}

#[test]
fn a_job_over_its_backoff_limit_fails() {
    let sim = with(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: busybox:1.36
        command: ["sh", "-c", "echo connecting to db; exit 3"]
"#,
        "5m",
    );
    let d = describe(&sim, "job", "migrate");
    contains(
        &d,
        "Warning   BackoffLimitExceeded   [age]   job-controller   Job has reached the specified backoff limit\n",
    );
    insta::assert_snapshot!("job_describe", d);
    insta::assert_snapshot!("job_get", table(&sim.kubectl(&["get", "job,pods"]).ok()));
}

#[test]
fn a_private_registry_needs_an_image_pull_secret() {
    let sim = Sim::start_with(&[
        "--clock",
        "virtual",
        "--private-image",
        "registry.example.com/team/api:1.0",
    ]);
    let pod = |name: &str, secret: bool| {
        let pull = if secret {
            "\n  imagePullSecrets: [{name: regcred}]"
        } else {
            ""
        };
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:{pull}\n  containers:\n  - name: api\n    image: registry.example.com/team/api:1.0\n"
        )
    };
    let f = sim.file("nosecret.yaml", &pod("nosecret", false));
    sim.kubectl(&["apply", "-f", &f]).ok();
    sim.advance("1m");
    contains(
        &get_pod(&sim, "nosecret"),
        "nosecret   0/1   ImagePullBackOff   0",
    );
    let d = describe(&sim, "pod", "nosecret");
    contains(
        &d,
        "kubelet   Failed to pull image \"registry.example.com/team/api:1.0\": rpc error: code = Unknown desc = failed to pull and unpack image \"registry.example.com/team/api:1.0\": failed to resolve reference \"registry.example.com/team/api:1.0\": unexpected status from HEAD request to https://registry.example.com/v2/team/api/manifests/1.0: 401 Unauthorized\n",
    );
    insta::assert_snapshot!("private_registry_describe", d);

    sim.kubectl(&[
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--docker-server=registry.example.com",
        "--docker-username=ci",
        "--docker-password=s3cret",
    ])
    .ok();
    let f = sim.file("withsecret.yaml", &pod("withsecret", true));
    sim.kubectl(&["apply", "-f", &f]).ok();
    sim.advance("30s");
    contains(
        &get_pod(&sim, "withsecret"),
        "withsecret   1/1   Running   0",
    );
    let d = describe(&sim, "pod", "withsecret");
    contains(
        &d,
        "kubelet   Successfully pulled image \"registry.example.com/team/api:1.0\" in ",
    );
}

#[test]
fn a_missing_configmap_volume_keeps_the_pod_container_creating() {
    let sim = with(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: nginx:1.27
    volumeMounts: [{name: config, mountPath: /etc/nginx/conf.d}]
  volumes:
  - name: config
    configMap: {name: nginx-conf}
"#,
        "3m",
    );
    contains(&get_pod(&sim, "web"), "web   0/1   ContainerCreating   0");
    let d = describe(&sim, "pod", "web");
    contains(
        &d,
        "    State:          Waiting\n      Reason:       ContainerCreating\n",
    );
    contains(
        &d,
        "kubelet   MountVolume.SetUp failed for volume \"config\" : configmap \"nginx-conf\" not found\n",
    );
    // The volume manager waits 2m3s, then gives up on this sync.
    contains(
        &d,
        "kubelet   Unable to attach or mount volumes: unmounted volumes=[config], unattached volumes=[], failed to process volumes=[]: context deadline exceeded\n",
    );
    insta::assert_snapshot!("failed_mount_describe", d);
    // Creating the ConfigMap lets the next mount attempt succeed.
    sim.kubectl(&[
        "create",
        "configmap",
        "nginx-conf",
        "--from-literal=default.conf=server {}",
    ])
    .ok();
    sim.advance("3m");
    contains(&get_pod(&sim, "web"), "web   1/1   Running   0");
}

#[test]
fn deleting_a_namespace_needs_no_advance() {
    let sim = Sim::start_virtual();
    sim.kubectl(&["create", "namespace", "team"]).ok();
    sim.kubectl(&["-n", "team", "create", "configmap", "c"])
        .ok();
    // `kubectl delete` waits for the namespace to go: the namespace
    // controller runs on its own, outside the virtual clock's runtime.
    assert_eq!(
        sim.kubectl(&["delete", "namespace", "team", "--timeout=10s"])
            .ok(),
        "namespace \"team\" deleted\n"
    );
    sim.kubectl(&["get", "namespace", "team"]).err();
}

const SPREAD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata: {name: sidecar, labels: {app: helper}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: cache}}
        topologyKey: kubernetes.io/hostname
  containers:
  - name: helper
    image: busybox:1.36
    command: ["sleep", "3600"]
"#;

/// InterPodAffinity: one replica per worker, the third has nowhere to go;
/// a pod whose affinity names pods that do not exist never schedules.
#[test]
fn pod_anti_affinity_spreads_replicas_and_affinity_waits_for_its_peer() {
    let sim = with(SPREAD, "30s");
    let pods = sim
        .kubectl(&["get", "pods", "-l", "app=web", "--no-headers"])
        .ok();
    assert_eq!(pods.matches("Running").count(), 2, "{pods}");
    assert_eq!(pods.matches("Pending").count(), 1, "{pods}");
    let pending = pods
        .lines()
        .find(|l| l.contains("Pending"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let d = describe(&sim, "pod", &pending);
    contains(
        &d,
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
    let d = describe(&sim, "pod", "sidecar");
    contains(
        &d,
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
}
