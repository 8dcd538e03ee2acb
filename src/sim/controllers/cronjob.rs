//! The CronJob controller (`pkg/controller/cronjob`, the v2 controller
//! upstream): creates a Job named `<cronjob>-<scheduled minute since the
//! epoch>` at each scheduled time on the clock, keeps `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime`, applies concurrencyPolicy
//! (Allow, Forbid, Replace), suspend, startingDeadlineSeconds and the
//! successful/failed history limits.
//!
//! Schedules are read by `registry::validation::cron` (robfig/cron v3
//! semantics) in UTC; `spec.timeZone` is not applied. Events:
//! `SuccessfulCreate` "Created job hello-29112345", `SawCompletedJob`
//! "Saw completed job: hello-29112345, condition: Complete",
//! `SuccessfulDelete` "Deleted job hello-29112345", `JobAlreadyActive`,
//! `MissingJob`, `MissSchedule`, `UnparseableSchedule`.

use super::job::finished;
use super::podutil::parse_time;
use super::replicaset::status_patch;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::registry::validation::cron::{self, Schedule};
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_ref, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

const COMPONENT: &str = "cronjob-controller";
/// Upstream's `nextScheduleDelta`: look again just after the next time.
const NEXT_DELTA: SignedDuration = SignedDuration::from_millis(100);
/// Missed times looked at before giving up on catching up.
const MAX_MISSED: usize = 100_000;

/// The controller.
pub struct CronJobController;

fn event(cj: &Value, type_: EventType, reason: &str, message: impl Into<String>) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(cj),
        type_,
        reason: reason.into(),
        message: message.into(),
        component: COMPONENT.into(),
        host: None,
    }
}

/// `getJobFromTemplate2`: the Job for the time `scheduled`.
pub fn job_from_template(cj: &Value, scheduled: Timestamp) -> Value {
    let tmpl = cj
        .get_in(&["spec", "jobTemplate"])
        .cloned()
        .unwrap_or(json!({}));
    let name = format!(
        "{}-{}",
        meta::name(cj),
        scheduled.as_second().div_euclid(60)
    );
    let mut md = Map::new();
    md.insert("name".into(), json!(name));
    md.insert("namespace".into(), json!(meta::namespace(cj)));
    if let Some(v) = tmpl.get_in(&["metadata", "labels"]) {
        md.insert("labels".into(), v.clone());
    }
    let mut annotations = tmpl
        .get_in(&["metadata", "annotations"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        "batch.kubernetes.io/cronjob-scheduled-timestamp".into(),
        json!(format_time(scheduled)),
    );
    md.insert("annotations".into(), Value::Object(annotations));
    md.insert(
        "ownerReferences".into(),
        json!([{
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": meta::name(cj),
            "uid": meta::uid(cj),
            "controller": true,
            "blockOwnerDeletion": true,
        }]),
    );
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": md,
        "spec": tmpl.get("spec").cloned().unwrap_or(json!({})),
    })
}

/// `mostRecentScheduleTime`: the latest scheduled time in `(earliest, now]`.
fn most_recent(s: &Schedule, earliest: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let mut t = s.next_after(earliest).filter(|t| *t <= now)?;
    for _ in 0..MAX_MISSED {
        match s.next_after(t) {
            Some(n) if n <= now => t = n,
            _ => return Some(t),
        }
    }
    Some(t)
}

fn job_ref(j: &Value) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "namespace": meta::namespace(j),
        "name": meta::name(j),
        "uid": meta::uid(j),
        "resourceVersion": j.get_in(&["metadata", "resourceVersion"]).cloned().unwrap_or(Value::Null),
    })
}

impl Controller for CronJobController {
    fn name(&self) -> &'static str {
        "cronjob-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::CRONJOBS, res::JOBS]
    }

    fn keys_for(&self, _snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::CRONJOBS {
            return vec![ObjectKey::of(obj)];
        }
        match controller_ref(obj) {
            Some(owner) if owner.get("kind").and_then(Value::as_str) == Some("CronJob") => {
                let name = owner.get("name").and_then(Value::as_str).unwrap_or("");
                vec![ObjectKey::new(meta::namespace(obj), name)]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(cj) = snap.get(res::CRONJOBS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if meta::is_deleting(cj) {
            return Reconciled::none();
        }
        sync(cj, snap, key, now)
    }
}

fn sync(cj: &Value, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
    let mut actions = Vec::new();
    let jobs: Vec<&Value> = snap
        .owned_by(res::JOBS, &key.namespace, meta::uid(cj))
        .map(|j| &**j)
        .collect();
    let mut status = cj
        .get("status")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let old_active: Vec<Value> = status
        .get("active")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let in_old_active = |j: &Value| {
        old_active
            .iter()
            .any(|r| r.get("uid").and_then(Value::as_str) == Some(meta::uid(j)))
    };
    let mut last_success = parse_time(status.get("lastSuccessfulTime"));

    // The active list: unfinished children. A child seen finishing while
    // listed gets `SawCompletedJob`.
    let mut active: Vec<&Value> = Vec::new();
    for j in &jobs {
        match finished(j) {
            None if !meta::is_deleting(j) => active.push(j),
            None => {}
            Some(cond) => {
                if in_old_active(j) {
                    actions.push(Action::Event(event(
                        cj,
                        EventType::Normal,
                        "SawCompletedJob",
                        format!("Saw completed job: {}, condition: {cond}", meta::name(j)),
                    )));
                }
                // Any succeeded child counts, listed or not.
                if cond == "Complete"
                    && let Some(t) = parse_time(j.get_in(&["status", "completionTime"]))
                    && last_success.is_none_or(|l| t > l)
                {
                    last_success = Some(t);
                }
            }
        }
    }
    for r in &old_active {
        let uid = r.get("uid").and_then(Value::as_str).unwrap_or("");
        if !jobs.iter().any(|j| meta::uid(j) == uid) {
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            actions.push(Action::Event(event(
                cj,
                EventType::Normal,
                "MissingJob",
                format!("Active job went missing: {name}"),
            )));
        }
    }

    // History limits: delete the oldest finished Jobs beyond them.
    let delete_job = |j: &Value| Action::Delete {
        res: res::JOBS,
        key: ObjectKey::of(j),
        uid: meta::uid(j).to_string(),
        on_deleted: Some(event(
            cj,
            EventType::Normal,
            "SuccessfulDelete",
            format!("Deleted job {}", meta::name(j)),
        )),
    };
    for (cond, limit) in [
        ("Complete", "/spec/successfulJobsHistoryLimit"),
        ("Failed", "/spec/failedJobsHistoryLimit"),
    ] {
        let Some(limit) = cj.at(limit).and_then(Value::as_i64) else {
            continue;
        };
        let mut done: Vec<&Value> = jobs
            .iter()
            .copied()
            .filter(|j| finished(j) == Some(cond) && !meta::is_deleting(j))
            .collect();
        let limit = usize::try_from(limit).unwrap_or(0);
        if done.len() > limit {
            // `byJobStartTime`: no start time last, then by name.
            done.sort_by(|a, b| {
                let st = |j: &Value| parse_time(j.get_in(&["status", "startTime"]));
                match (st(a), st(b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
                .then(meta::name(a).cmp(meta::name(b)))
            });
            let n = done.len() - limit;
            actions.extend(done.iter().take(n).map(|j| delete_job(j)));
        }
    }

    let mut requeue = None;
    let suspended = cj.get_in(&["spec", "suspend"]).and_then(Value::as_bool) == Some(true);
    let spec = cj
        .get_in(&["spec", "schedule"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let schedule = match cron::parse(spec) {
        Ok(s) => Some(s),
        Err(e) => {
            actions.push(Action::Event(event(
                cj,
                EventType::Warning,
                "UnparseableSchedule",
                format!("unparseable schedule: {spec:?} : {e}"),
            )));
            None
        }
    };
    if let Some(s) = schedule.filter(|_| !suspended) {
        let last = parse_time(status.get("lastScheduleTime"));
        let mut earliest = last.or_else(|| super::podutil::created(cj)).unwrap_or(now);
        let deadline = cj
            .get_in(&["spec", "startingDeadlineSeconds"])
            .and_then(Value::as_i64);
        if let Some(d) = deadline
            && let Ok(floor) = now.checked_sub(SignedDuration::from_secs(d))
            && floor > earliest
        {
            earliest = floor;
        }
        if let Some(next) = s.next_after(now) {
            requeue = Some(next.duration_since(now) + NEXT_DELTA);
        }
        if let Some(scheduled) = most_recent(&s, earliest, now)
            && last.is_none_or(|l| scheduled > l)
        {
            let policy = cj
                .get_in(&["spec", "concurrencyPolicy"])
                .and_then(Value::as_str)
                .unwrap_or("Allow");
            let name = format!(
                "{}-{}",
                meta::name(cj),
                scheduled.as_second().div_euclid(60)
            );
            let exists = jobs.iter().any(|j| meta::name(j) == name);
            if exists {
                // Already made (the status write may have been lost).
                status.insert("lastScheduleTime".into(), json!(format_time(scheduled)));
            } else if policy == "Forbid" && !active.is_empty() {
                actions.push(Action::Event(event(
                    cj,
                    EventType::Normal,
                    "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid",
                )));
            } else {
                if policy == "Replace" {
                    actions.extend(active.iter().map(|j| delete_job(j)));
                    active.clear();
                }
                actions.push(Action::Create {
                    res: res::JOBS,
                    namespace: key.namespace.clone(),
                    object: job_from_template(cj, scheduled),
                    on_created: Some(event(
                        cj,
                        EventType::Normal,
                        "SuccessfulCreate",
                        "Created job ",
                    )),
                    on_failed: Some(event(
                        cj,
                        EventType::Warning,
                        "FailedCreate",
                        "Error creating job: ",
                    )),
                });
                status.insert("lastScheduleTime".into(), json!(format_time(scheduled)));
            }
        }
    }

    // `status.active` lists the running children the controller has seen
    // (a Job just created joins on the next sync, once it has a uid).
    active.sort_by_key(|j| meta::name(j).to_string());
    if active.is_empty() {
        status.remove("active");
    } else {
        let refs: Vec<Value> = active
            .iter()
            .map(|j| {
                // Keep the listed reference as it was, so resourceVersion
                // changes of the child do not churn the status.
                old_active
                    .iter()
                    .find(|r| r.get("uid").and_then(Value::as_str) == Some(meta::uid(j)))
                    .cloned()
                    .unwrap_or_else(|| job_ref(j))
            })
            .collect();
        status.insert("active".into(), Value::Array(refs));
    }
    if let Some(t) = last_success {
        status.insert("lastSuccessfulTime".into(), json!(format_time(t)));
    }
    if let Some(patch) = status_patch(cj.get("status"), &Value::Object(status)) {
        actions.push(Action::Patch {
            res: res::CRONJOBS,
            key: key.clone(),
            patch,
            status: true,
        });
    }
    Reconciled {
        actions,
        requeue_after: requeue,
    }
}

#[cfg(test)]
mod tests;
