//! Table tests of the Job controller: snapshot in, actions out.

use super::*;
use crate::sim::controllers::testutil::{put, reasons, settle, t0};

fn job(spec: Value) -> Value {
    let mut s = json!({"completions": 1, "parallelism": 1, "backoffLimit": 6, "suspend": false,
        "template": {"metadata": {"labels": {"job-name": "once"}},
                     "spec": {"restartPolicy": "Never", "containers": [{"name": "once", "image": "busybox"}]}}});
    json_patch::merge(&mut s, &spec);
    json!({"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "once", "namespace": "default", "uid": "job-uid", "resourceVersion": "1"},
           "spec": s})
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "once")
}

/// A pod of the Job in `phase`, finished at `finished` (for ended pods).
fn pod(name: &str, phase: &str, finished: &str) -> Value {
    let mut p = pod_from_template(&job(json!({})));
    p["metadata"]["name"] = json!(name);
    p["metadata"]["uid"] = json!(format!("uid-{name}"));
    p["metadata"]["resourceVersion"] = json!("5");
    p["metadata"]["creationTimestamp"] = json!("2025-05-01T09:00:00Z");
    p["status"] = json!({"phase": phase});
    if matches!(phase, "Succeeded" | "Failed") {
        p["status"]["containerStatuses"] = json!([{"name": "once",
            "state": {"terminated": {"exitCode": if phase == "Failed" {1} else {0}, "finishedAt": finished}}}]);
    }
    p
}

fn snap(job: Value, pods: Vec<Value>) -> Snapshot {
    let mut objs = vec![(res::JOBS, job)];
    objs.extend(pods.into_iter().map(|p| (res::PODS, p)));
    Snapshot::from_objects(objs)
}

fn creates(out: &Reconciled) -> usize {
    out.actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .count()
}

fn cond_types(job: &Value) -> Vec<(String, String)> {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["type"].as_str().unwrap_or("").to_string(),
                c["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn pods_carry_the_job_owner_and_template_labels() {
    let p = pod_from_template(&job(json!({})));
    assert_eq!(p["metadata"]["generateName"], "once-");
    assert_eq!(p["metadata"]["labels"]["job-name"], "once");
    let owner = &p["metadata"]["ownerReferences"][0];
    assert_eq!(
        (&owner["kind"], &owner["apiVersion"], &owner["controller"]),
        (&json!("Job"), &json!("batch/v1"), &json!(true))
    );
}

#[test]
fn how_many_pods_to_create() {
    // (spec, pods, creates, requeue)
    let cases: Vec<(Value, Vec<Value>, usize, Option<i64>)> = vec![
        (json!({}), vec![], 1, None),
        (json!({"completions": 5, "parallelism": 2}), vec![], 2, None),
        (
            json!({"completions": 3, "parallelism": 3}),
            vec![
                pod("a", "Succeeded", "2025-05-01T09:59:00Z"),
                pod("b", "Succeeded", "2025-05-01T09:59:00Z"),
            ],
            1,
            None,
        ),
        (
            json!({"completions": 2}),
            vec![pod("a", "Running", "")],
            0,
            None,
        ),
        // One failure 4s ago: wait the remaining 6s of the 10s back-off.
        (
            json!({}),
            vec![pod("a", "Failed", "2025-05-01T09:59:56Z")],
            0,
            Some(6),
        ),
        // Two failures: 20s after the last one.
        (
            json!({}),
            vec![
                pod("a", "Failed", "2025-05-01T09:59:00Z"),
                pod("b", "Failed", "2025-05-01T09:59:50Z"),
            ],
            0,
            Some(10),
        ),
        // Back-off passed.
        (
            json!({}),
            vec![pod("a", "Failed", "2025-05-01T09:59:00Z")],
            1,
            None,
        ),
        (json!({"suspend": true}), vec![], 0, None),
    ];
    for (spec, pods, want, requeue) in cases {
        let out = JobController.reconcile(&snap(job(spec.clone()), pods), &key(), t0());
        assert_eq!(creates(&out), want, "{spec}");
        assert_eq!(
            out.requeue_after,
            requeue.map(SignedDuration::from_secs),
            "{spec}"
        );
    }
}

#[test]
fn a_job_whose_pod_succeeded_completes_once() {
    let mut s = snap(
        job(json!({})),
        vec![pod("once-a", "Succeeded", "2025-05-01T09:59:00Z")],
    );
    let events = settle(&JobController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&events),
        [("Completed".to_string(), "Job completed".to_string())]
    );
    let j = s.get(res::JOBS, "default", "once").unwrap();
    assert_eq!(
        cond_types(j),
        [
            (
                "SuccessCriteriaMet".to_string(),
                REASON_COMPLETIONS.to_string()
            ),
            ("Complete".to_string(), REASON_COMPLETIONS.to_string())
        ]
    );
    assert_eq!(j["status"]["conditions"][1]["message"], MSG_COMPLETIONS);
    assert_eq!(j["status"]["succeeded"], 1);
    assert_eq!(j["status"]["completionTime"], "2025-05-01T10:00:00Z");
    assert_eq!(j["status"]["startTime"], "2025-05-01T10:00:00Z");
    assert!(j["status"].get("active").is_none());
    // Finished: nothing more, ever.
    assert!(JobController.reconcile(&s, &key(), t0()).actions.is_empty());
}

#[test]
fn failures_beyond_the_backoff_limit_fail_the_job() {
    let pods = vec![
        pod("once-a", "Failed", "2025-05-01T09:58:00Z"),
        pod("once-b", "Failed", "2025-05-01T09:59:00Z"),
    ];
    let mut s = snap(job(json!({"backoffLimit": 1})), pods);
    let events = settle(&JobController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&events),
        [(REASON_BACKOFF.to_string(), MSG_BACKOFF.to_string())]
    );
    assert_eq!(events[0].type_, EventType::Warning);
    let j = s.get(res::JOBS, "default", "once").unwrap();
    assert_eq!(
        cond_types(j),
        [
            ("FailureTarget".to_string(), REASON_BACKOFF.to_string()),
            ("Failed".to_string(), REASON_BACKOFF.to_string())
        ]
    );
    assert_eq!(j["status"]["failed"], 2);
    assert!(j["status"].get("completionTime").is_none());
}

#[test]
fn the_deadline_stops_running_pods_then_fails_the_job() {
    let mut j = job(json!({"activeDeadlineSeconds": 30}));
    j["status"] = json!({"startTime": "2025-05-01T09:59:00Z", "active": 1});
    let s = snap(j.clone(), vec![pod("once-a", "Running", "")]);
    let out = JobController.reconcile(&s, &key(), t0());
    let r: Vec<_> = out
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { on_deleted, .. } => on_deleted.as_ref().map(|e| e.message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(r, ["Deleted pod: once-a"]);
    // Once the pod is gone, Failed follows with the same reason.
    let mut s = snap(j, vec![]);
    let mut j = (**s.get(res::JOBS, "default", "once").unwrap()).clone();
    j["status"]["conditions"] = json!([new_condition(
        "FailureTarget",
        "True",
        REASON_DEADLINE,
        MSG_DEADLINE,
        t0()
    )]);
    put(&mut s, res::JOBS, j);
    let events = settle(&JobController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&events),
        [(REASON_DEADLINE.to_string(), MSG_DEADLINE.to_string())]
    );
}

#[test]
fn a_deadline_in_the_future_requeues_for_it() {
    let mut j = job(json!({"activeDeadlineSeconds": 90}));
    j["status"] = json!({"startTime": "2025-05-01T09:59:00Z"});
    let out = JobController.reconcile(&snap(j, vec![pod("once-a", "Running", "")]), &key(), t0());
    assert_eq!(out.requeue_after, Some(SignedDuration::from_secs(30)));
}

#[test]
fn suspend_deletes_pods_and_resume_restarts() {
    let mut s = snap(
        job(json!({"suspend": true})),
        vec![pod("once-a", "Running", "")],
    );
    let events = settle(&JobController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&events),
        [
            (
                "SuccessfulDelete".to_string(),
                "Deleted pod: once-a".to_string()
            ),
            ("Suspended".to_string(), "Job suspended".to_string())
        ]
    );
    let mut j = (**s.get(res::JOBS, "default", "once").unwrap()).clone();
    j["spec"]["suspend"] = json!(false);
    put(&mut s, res::JOBS, j);
    let events = settle(&JobController, &mut s, &key(), t0());
    let r = reasons(&events);
    assert_eq!(r[0], ("Resumed".to_string(), "Job resumed".to_string()));
    assert_eq!(r[1].0, "SuccessfulCreate");
    assert!(r[1].1.starts_with("Created pod: once-"), "{r:?}");
}

#[test]
fn a_new_job_creates_its_pod_and_settles() {
    let mut s = snap(job(json!({"completions": 2, "parallelism": 2})), vec![]);
    let events = settle(&JobController, &mut s, &key(), t0());
    assert_eq!(events.len(), 2);
    let j = s.get(res::JOBS, "default", "once").unwrap();
    assert_eq!(j["status"]["active"], 2);
    assert_eq!(j["status"]["ready"], 0);
    assert_eq!(j["status"]["terminating"], 0);
    assert_eq!(j["status"]["uncountedTerminatedPods"], json!({}));
}

#[test]
fn on_failure_restarts_count_against_the_backoff_limit() {
    // (backoffLimit, restarts, fails)
    for (limit, restarts, fails) in [(2, 1, false), (2, 2, true), (0, 1, true), (0, 0, false)] {
        let mut j = job(json!({"backoffLimit": limit}));
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
        let mut p = pod("once-a", "Running", "");
        p["status"]["containerStatuses"] = json!([{"name": "once", "restartCount": restarts}]);
        let mut s = snap(j, vec![p]);
        let events = settle(&JobController, &mut s, &key(), t0());
        let failed = reasons(&events)
            .iter()
            .any(|(r, m)| r == REASON_BACKOFF && m == MSG_BACKOFF);
        assert_eq!(failed, fails, "limit {limit}, restarts {restarts}");
    }
}

#[test]
fn counts_do_not_drop_when_finished_pods_are_deleted() {
    let mut j = job(json!({"completions": 2}));
    j["status"] = json!({"succeeded": 1, "failed": 1, "startTime": "2025-05-01T09:00:00Z"});
    let mut s = snap(j, vec![]);
    settle(&JobController, &mut s, &key(), t0());
    let j = s.get(res::JOBS, "default", "once").unwrap();
    assert_eq!(
        (&j["status"]["succeeded"], &j["status"]["failed"]),
        (&json!(1), &json!(1))
    );
    // One more completion to go, and one pod for it.
    assert_eq!(j["status"]["active"], 1);
}
