//! Jobs and CronJobs with the real kubectl: the Job controller runs pods
//! to completion or gives up at the backoff limit, the CronJob controller
//! creates Jobs on the clock (virtual here: the tests move it).

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout, moving the
/// virtual clock five seconds between polls (at most ten simulated minutes).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.advancing("5s", 120, args, pred)
}

/// Whether `kubectl describe` output lists an event (type, reason, message).
fn has_event(describe: &str, type_: &str, reason: &str, message: &str) -> bool {
    describe.lines().any(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.len() > 4 && cols[0] == type_ && cols[1] == reason && cols[4..].join(" ") == message
    })
}

#[test]
fn a_job_runs_its_pod_to_completion() {
    let sim = Sim::start_virtual();
    let out = sim
        .kubectl(&[
            "create",
            "job",
            "once",
            "--image=busybox",
            "--",
            "sh",
            "-c",
            "echo hi",
        ])
        .ok();
    assert_eq!(out, "job.batch/once created\n");
    let jobs = eventually(&sim, &["get", "jobs", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r.get(1).map(String::as_str) == Some("Complete"))
    });
    let row = &rows(&jobs)[0];
    assert_eq!(&row[..3], ["once", "Complete", "1/1"]);
    assert_eq!(sim.kubectl(&["logs", "job/once"]).ok(), "hi\n");
    let pods = sim
        .kubectl(&["get", "pods", "-l", "job-name=once", "--no-headers"])
        .ok();
    let pods = rows(&pods);
    assert_eq!(pods.len(), 1);
    assert!(pods[0][0].starts_with("once-"), "{pods:?}");
    assert_eq!(pods[0][2], "Completed");
    let describe = sim.kubectl(&["describe", "job", "once"]).ok();
    assert!(
        describe.contains("Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed"),
        "{describe}"
    );
    let created = format!("Created pod: {}", pods[0][0]);
    assert!(
        has_event(&describe, "Normal", "SuccessfulCreate", &created),
        "{describe}"
    );
    assert!(
        has_event(&describe, "Normal", "Completed", "Job completed"),
        "{describe}"
    );
    let conds = sim
        .kubectl(&[
            "get",
            "job",
            "once",
            "-o",
            "jsonpath={.status.conditions[*].type}",
        ])
        .ok();
    assert_eq!(conds, "SuccessCriteriaMet Complete");
}

#[test]
fn a_failing_job_stops_at_its_backoff_limit() {
    let sim = Sim::start_virtual();
    let manifest = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo failing; exit 1"]
"#;
    sim.kubectl_stdin(&["apply", "-f", "-"], manifest).ok();
    eventually(&sim, &["get", "jobs", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r.get(1).map(String::as_str) == Some("Failed"))
    });
    let describe = sim.kubectl(&["describe", "job", "broken"]).ok();
    assert!(
        describe.contains("Pods Statuses:    0 Active (0 Ready) / 0 Succeeded / 2 Failed"),
        "{describe}"
    );
    assert!(
        has_event(
            &describe,
            "Warning",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit"
        ),
        "{describe}"
    );
    let pods = sim
        .kubectl(&["get", "pods", "-l", "job-name=broken", "--no-headers"])
        .ok();
    let pods = rows(&pods);
    assert_eq!(pods.len(), 2, "{pods:?}");
    assert!(pods.iter().all(|p| p[2] == "Error"), "{pods:?}");
}

#[test]
fn a_cronjob_creates_jobs_on_its_schedule() {
    let sim = Sim::start_virtual();
    sim.kubectl(&[
        "create",
        "cronjob",
        "hello",
        "--image=busybox",
        "--schedule=* * * * *",
        "--",
        "sh",
        "-c",
        "echo tick",
    ])
    .ok();
    let jobs = eventually(&sim, &["get", "jobs", "--no-headers"], |o| {
        !rows(o).is_empty()
    });
    let name = rows(&jobs)[0][0].clone();
    let minute: i64 = name
        .strip_prefix("hello-")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("job name {name}"));
    assert!(minute > 29_000_000, "{name}");
    let cj = eventually(&sim, &["get", "cronjob", "hello", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r.get(5).is_some_and(|s| s != "<none>"))
    });
    // NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST-SCHEDULE AGE
    assert_eq!(&rows(&cj)[0][1..4], ["* * * * *", "<none>", "False"]);
    eventually(&sim, &["describe", "cronjob", "hello"], |o| {
        o.contains(&format!("Created job {name}"))
            && o.contains(&format!("Saw completed job: {name}, condition: Complete"))
    });
    let last_success = sim
        .kubectl(&[
            "get",
            "cronjob",
            "hello",
            "-o",
            "jsonpath={.status.lastSuccessfulTime}",
        ])
        .ok();
    assert!(last_success.ends_with('Z'), "{last_success:?}");
}

#[test]
fn a_job_past_its_deadline_fails_and_stops_its_pod() {
    let sim = Sim::start_virtual();
    let manifest = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 5
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "sleep 3600"]
"#;
    sim.kubectl_stdin(&["apply", "-f", "-"], manifest).ok();
    eventually(&sim, &["get", "jobs", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r.get(1).map(String::as_str) == Some("Failed"))
    });
    let describe = sim.kubectl(&["describe", "job", "slow"]).ok();
    assert!(
        has_event(
            &describe,
            "Warning",
            "DeadlineExceeded",
            "Job was active longer than specified deadline"
        ),
        "{describe}"
    );
    assert!(
        describe
            .lines()
            .any(|l| l.contains("SuccessfulDelete") && l.contains("Deleted pod: slow-")),
        "{describe}"
    );
    let reason = sim
        .kubectl(&[
            "get",
            "job",
            "slow",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
        ])
        .ok();
    assert_eq!(reason, "DeadlineExceeded");
}
