//! Table tests of the CronJob controller: snapshot in, actions out.

use super::*;
use crate::sim::controllers::testutil::{reasons, settle, t0};

fn cj(spec: Value, status: Value) -> Value {
    let mut s = json!({"schedule": "*/5 * * * *", "concurrencyPolicy": "Allow", "suspend": false,
        "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
        "jobTemplate": {"metadata": {"labels": {"app": "hello"}},
                        "spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "hello", "image": "busybox"}]}}}}});
    json_patch::merge(&mut s, &spec);
    json!({"apiVersion": "batch/v1", "kind": "CronJob",
           "metadata": {"name": "hello", "namespace": "default", "uid": "cj-uid", "resourceVersion": "1",
                        "creationTimestamp": "2025-05-01T09:52:00Z"},
           "spec": s, "status": status})
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "hello")
}

/// A child Job scheduled at `minute` (since the epoch), finished as `cond`.
fn child(minute: i64, cond: Option<&str>, start: &str) -> Value {
    let t = Timestamp::from_second(minute * 60).unwrap();
    let mut j = job_from_template(&cj(json!({}), json!({})), t);
    j["metadata"]["uid"] = json!(format!("uid-{minute}"));
    j["metadata"]["resourceVersion"] = json!("3");
    j["status"] = json!({"startTime": start});
    if let Some(c) = cond {
        j["status"]["conditions"] = json!([{"type": c, "status": "True"}]);
        j["status"]["completionTime"] = json!("2025-05-01T09:56:00Z");
    }
    j
}

fn snap(cj: Value, jobs: Vec<Value>) -> Snapshot {
    let mut objs = vec![(res::CRONJOBS, cj)];
    objs.extend(jobs.into_iter().map(|j| (res::JOBS, j)));
    Snapshot::from_objects(objs)
}

fn created(out: &Reconciled) -> Vec<String> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { object, .. } => Some(meta::name(object).to_string()),
            _ => None,
        })
        .collect()
}

fn deleted(out: &Reconciled) -> Vec<String> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { key, .. } => Some(key.name.clone()),
            _ => None,
        })
        .collect()
}

// 2025-05-01T10:00:00Z is minute 29101560 since the epoch.
const T0_MIN: i64 = 29_101_560;

#[test]
fn jobs_are_named_for_their_scheduled_minute() {
    let j = job_from_template(&cj(json!({}), json!({})), t0());
    assert_eq!(meta::name(&j), format!("hello-{T0_MIN}"));
    assert_eq!(
        j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"],
        "2025-05-01T10:00:00Z"
    );
    assert_eq!(j["metadata"]["labels"]["app"], "hello");
    assert_eq!(j["metadata"]["ownerReferences"][0]["kind"], "CronJob");
}

/// spec, status, child Jobs, Jobs created, Jobs deleted.
type Case = (Value, Value, Vec<Value>, Vec<String>, Vec<String>);

#[test]
fn scheduling_decisions() {
    let running = || child(T0_MIN - 5, None, "2025-05-01T09:55:00Z");
    let active_ref =
        || json!({"active": [job_ref(&running())], "lastScheduleTime": "2025-05-01T09:55:00Z"});
    let name = format!("hello-{T0_MIN}");
    // (spec, status, jobs, created, deleted)
    let cases: Vec<Case> = vec![
        (json!({}), json!({}), vec![], vec![name.clone()], vec![]),
        // Already scheduled at 10:00.
        (
            json!({}),
            json!({"lastScheduleTime": "2025-05-01T10:00:00Z"}),
            vec![],
            vec![],
            vec![],
        ),
        (json!({"suspend": true}), json!({}), vec![], vec![], vec![]),
        (
            json!({"concurrencyPolicy": "Forbid"}),
            active_ref(),
            vec![running()],
            vec![],
            vec![],
        ),
        (
            json!({"concurrencyPolicy": "Allow"}),
            active_ref(),
            vec![running()],
            vec![name.clone()],
            vec![],
        ),
        (
            json!({"concurrencyPolicy": "Replace"}),
            active_ref(),
            vec![running()],
            vec![name.clone()],
            vec![format!("hello-{}", T0_MIN - 5)],
        ),
        // The 10:00 start is more than 10s late: missed.
        (
            json!({"startingDeadlineSeconds": 10}),
            json!({}),
            vec![],
            vec![],
            vec![],
        ),
    ];
    let now = t0().checked_add(SignedDuration::from_secs(30)).unwrap();
    for (spec, status, jobs, want_created, want_deleted) in cases {
        let out = CronJobController.reconcile(&snap(cj(spec.clone(), status), jobs), &key(), now);
        assert_eq!(created(&out), want_created, "{spec}");
        assert_eq!(deleted(&out), want_deleted, "{spec}");
        // Looks again just after the next time (10:05), unless suspended.
        let suspended = spec.get("suspend").is_some();
        assert_eq!(
            out.requeue_after,
            (!suspended).then(|| SignedDuration::from_millis(270_100)),
            "{spec}"
        );
    }
}

#[test]
fn forbid_says_why_it_skips() {
    let running = child(T0_MIN - 5, None, "2025-05-01T09:55:00Z");
    let status = json!({"active": [job_ref(&running)], "lastScheduleTime": "2025-05-01T09:55:00Z"});
    let out = CronJobController.reconcile(
        &snap(
            cj(json!({"concurrencyPolicy": "Forbid"}), status),
            vec![running],
        ),
        &key(),
        t0(),
    );
    assert!(out.actions.iter().any(|a| matches!(a, Action::Event(e)
        if e.reason == "JobAlreadyActive"
        && e.message == "Not starting job because prior execution is running and concurrency policy is Forbid")));
}

#[test]
fn creates_then_lists_the_job_as_active_and_settles() {
    let mut s = snap(cj(json!({}), json!({})), vec![]);
    let events = settle(&CronJobController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&events),
        [(
            "SuccessfulCreate".to_string(),
            format!("Created job hello-{T0_MIN}")
        )]
    );
    let c = s.get(res::CRONJOBS, "default", "hello").unwrap();
    assert_eq!(c["status"]["lastScheduleTime"], "2025-05-01T10:00:00Z");
    assert_eq!(c["status"]["active"][0]["name"], format!("hello-{T0_MIN}"));
    assert_eq!(c["status"]["active"][0]["kind"], "Job");
}

#[test]
fn a_finished_child_is_seen_recorded_and_history_is_trimmed() {
    let done = |m: i64, start: &str| child(m, Some("Complete"), start);
    let newest = done(T0_MIN - 5, "2025-05-01T09:55:00Z");
    let status = json!({"active": [job_ref(&newest)], "lastScheduleTime": "2025-05-01T10:00:00Z"});
    let mut s = snap(
        cj(json!({"successfulJobsHistoryLimit": 2}), status),
        vec![
            done(T0_MIN - 15, "2025-05-01T09:45:00Z"),
            done(T0_MIN - 10, "2025-05-01T09:50:00Z"),
            newest,
        ],
    );
    let events = settle(&CronJobController, &mut s, &key(), t0());
    assert_eq!(
        reasons(&events),
        [
            (
                "SawCompletedJob".to_string(),
                format!(
                    "Saw completed job: hello-{}, condition: Complete",
                    T0_MIN - 5
                )
            ),
            (
                "SuccessfulDelete".to_string(),
                format!("Deleted job hello-{}", T0_MIN - 15)
            ),
        ]
    );
    let c = s.get(res::CRONJOBS, "default", "hello").unwrap();
    assert_eq!(c["status"]["lastSuccessfulTime"], "2025-05-01T09:56:00Z");
    assert!(c["status"].get("active").is_none());
}
