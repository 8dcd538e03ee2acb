//! The Job controller (`pkg/controller/job` upstream, NonIndexed mode):
//! runs pods from the template until `completions` succeed, at most
//! `parallelism` at a time, and gives up after `backoffLimit` failures or
//! `activeDeadlineSeconds`.
//!
//! As in 1.33 (JobSuccessPolicy and JobManagedBy on), a finishing Job first
//! gets `SuccessCriteriaMet` (or `FailureTarget`), and `Complete` (or
//! `Failed`) with the same reason and message once no pod is left running.
//! A failed pod is replaced after the pod-failure back-off (10s doubling,
//! capped at 6m, counted from the last failure after the last success).
//! Events: `SuccessfulCreate` "Created pod: once-x2k4z", `SuccessfulDelete`,
//! `Completed` "Job completed", `BackoffLimitExceeded` / `DeadlineExceeded`
//! (Warning, the condition's message), `Suspended` / `Resumed`.
//!
//! Not modelled: Indexed mode, podFailurePolicy, successPolicy,
//! backoffLimitPerIndex, the `batch.kubernetes.io/job-tracking` finalizer
//! and `uncountedTerminatedPods` bookkeeping: finished pods are counted
//! from the pods themselves, and the counts in status never go down (so a
//! deleted finished pod still counts, as upstream).

use super::podutil::{self, int_at, parse_time};
use super::replicaset::status_patch;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_key, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

const COMPONENT: &str = "job-controller";
/// `DefaultJobPodFailureBackOff` and `MaxJobPodFailureBackOff`.
const BACKOFF_BASE_SECS: i64 = 10;
const BACKOFF_MAX_SECS: i64 = 360;

pub const REASON_BACKOFF: &str = "BackoffLimitExceeded";
pub const MSG_BACKOFF: &str = "Job has reached the specified backoff limit";
pub const REASON_DEADLINE: &str = "DeadlineExceeded";
pub const MSG_DEADLINE: &str = "Job was active longer than specified deadline";
pub const REASON_COMPLETIONS: &str = "CompletionsReached";
pub const MSG_COMPLETIONS: &str = "Reached expected number of succeeded pods";

/// The controller.
pub struct JobController;

fn event(job: &Value, type_: EventType, reason: &str, message: impl Into<String>) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(job),
        type_,
        reason: reason.into(),
        message: message.into(),
        component: COMPONENT.into(),
        host: None,
    }
}

/// A pod stamped from the Job's template, owned by the Job.
pub fn pod_from_template(job: &Value) -> Value {
    let tmpl = job
        .get_in(&["spec", "template"])
        .cloned()
        .unwrap_or(json!({}));
    let mut md = Map::new();
    md.insert(
        "generateName".into(),
        json!(format!("{}-", meta::name(job))),
    );
    md.insert("namespace".into(), json!(meta::namespace(job)));
    for f in ["labels", "annotations"] {
        if let Some(v) = tmpl.at(&format!("/metadata/{f}")) {
            md.insert(f.into(), v.clone());
        }
    }
    md.insert(
        "ownerReferences".into(),
        json!([{
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": meta::name(job),
            "uid": meta::uid(job),
            "controller": true,
            "blockOwnerDeletion": true,
        }]),
    );
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": tmpl.get("spec").cloned().unwrap_or(json!({})),
    })
}

/// A Job condition of type `ty` with status True.
pub fn has_condition(job: &Value, ty: &str) -> bool {
    condition(job, ty)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

fn condition<'a>(job: &'a Value, ty: &str) -> Option<&'a Value> {
    job.get_in(&["status", "conditions"])
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
}

/// `IsJobFinished`: `Complete` or `Failed` is True; returns which.
pub fn finished(job: &Value) -> Option<&'static str> {
    ["Complete", "Failed"]
        .into_iter()
        .find(|t| has_condition(job, t))
}

fn new_condition(ty: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> Value {
    let t = format_time(now);
    json!({"type": ty, "status": status, "lastProbeTime": t, "lastTransitionTime": t,
           "reason": reason, "message": message})
}

/// When a finished pod finished: its last container's `finishedAt`, else
/// its creation.
fn finish_time(pod: &Value) -> Option<Timestamp> {
    let fin = pod
        .get_in(&["status", "containerStatuses"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| parse_time(c.get_in(&["state", "terminated", "finishedAt"])))
        .max();
    fin.or_else(|| podutil::created(pod))
}

/// The pod-failure back-off still to wait before a replacement pod:
/// `10s * 2^(n-1)` (at most 6m) after the last of the `n` failures that
/// followed the last success.
fn backoff_remaining(pods: &[&Value], now: Timestamp) -> Option<SignedDuration> {
    let last_success = pods
        .iter()
        .filter(|p| podutil::phase(p) == "Succeeded")
        .filter_map(|p| finish_time(p))
        .max();
    let failures: Vec<Timestamp> = pods
        .iter()
        .filter(|p| podutil::phase(p) == "Failed")
        .filter_map(|p| finish_time(p))
        .filter(|t| last_success.is_none_or(|s| *t > s))
        .collect();
    let last = failures.iter().max()?;
    let n = u32::try_from(failures.len()).unwrap_or(u32::MAX);
    let secs = BACKOFF_BASE_SECS
        .saturating_mul(1i64 << (n - 1).min(20))
        .min(BACKOFF_MAX_SECS);
    let due = last.checked_add(SignedDuration::from_secs(secs)).ok()?;
    (due > now).then(|| due.duration_since(now))
}

impl Controller for JobController {
    fn name(&self) -> &'static str {
        "job-controller"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::JOBS, res::PODS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::JOBS {
            return vec![ObjectKey::of(obj)];
        }
        // With no Job held, an owner's reconcile would find none.
        if !snap.holds_any(res::JOBS) {
            return Vec::new();
        }
        controller_key(obj, "Job")
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(job) = snap.get(res::JOBS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if meta::is_deleting(job) || finished(job).is_some() {
            return Reconciled::none();
        }
        sync(job, snap, key, now)
    }
}

fn sync(job: &Value, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
    let pods: Vec<&Value> = snap
        .owned_by(res::PODS, &key.namespace, meta::uid(job))
        .map(|p| &**p)
        .collect();
    let mut active: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| podutil::is_active(p))
        .collect();
    let finished_phase = |p: &&Value| matches!(podutil::phase(p), "Succeeded" | "Failed");
    let terminating = pods
        .iter()
        .filter(|p| meta::is_deleting(p) && !finished_phase(p))
        .count();
    let succeeded = pods
        .iter()
        .filter(|p| podutil::phase(p) == "Succeeded")
        .count() as i64;
    let failed = pods
        .iter()
        .filter(|p| podutil::phase(p) == "Failed")
        .count() as i64;
    // Upstream's counts live in status (pods are tracked with a finalizer
    // until counted), so a finished pod deleted later still counts.
    let succeeded = succeeded.max(int_at(job, "/status/succeeded", 0));
    let failed = failed.max(int_at(job, "/status/failed", 0));
    let completions = job.get_in(&["spec", "completions"]).and_then(Value::as_i64);
    let parallelism = int_at(job, "/spec/parallelism", 1).max(0);
    let backoff_limit = int_at(job, "/spec/backoffLimit", 6);
    let suspended = job.get_in(&["spec", "suspend"]).and_then(Value::as_bool) == Some(true);

    let mut actions = Vec::new();
    let mut requeue: Option<SignedDuration> = None;
    let mut conditions: Vec<Value> = job
        .get_in(&["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut status = job
        .get("status")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    let start_time = parse_time(status.get("startTime")).or((!suspended).then_some(now));

    // Was a finish already decided? Else is one due now?
    let target = ["FailureTarget", "SuccessCriteriaMet"]
        .into_iter()
        .find_map(|t| {
            condition(job, t)
                .filter(|c| c.get("status").and_then(Value::as_str) == Some("True"))
                .map(|c| {
                    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (t, s("reason"), s("message"))
                })
        })
        .or_else(|| {
            let deadline = job
                .get_in(&["spec", "activeDeadlineSeconds"])
                .and_then(Value::as_i64);
            let past_deadline = match (deadline, start_time) {
                (Some(d), Some(st)) if !suspended => {
                    let due = st.checked_add(SignedDuration::from_secs(d)).unwrap_or(st);
                    if due <= now {
                        true
                    } else {
                        requeue = Some(due.duration_since(now));
                        false
                    }
                }
                _ => false,
            };
            let complete = match completions {
                Some(c) => succeeded >= c,
                None => succeeded > 0,
            };
            let t = if failed > backoff_limit || past_backoff_limit_on_failure(job, &pods) {
                ("FailureTarget", REASON_BACKOFF, MSG_BACKOFF)
            } else if past_deadline {
                ("FailureTarget", REASON_DEADLINE, MSG_DEADLINE)
            } else if complete {
                ("SuccessCriteriaMet", REASON_COMPLETIONS, MSG_COMPLETIONS)
            } else {
                return None;
            };
            conditions.push(new_condition(t.0, "True", t.1, t.2, now));
            Some((t.0, t.1.to_string(), t.2.to_string()))
        });

    let delete = |p: &Value| Action::Delete {
        res: res::PODS,
        key: ObjectKey::of(p),
        uid: meta::uid(p).to_string(),
        on_deleted: Some(event(
            job,
            EventType::Normal,
            "SuccessfulDelete",
            format!("Deleted pod: {}", meta::name(p)),
        )),
    };

    let mut remaining_active = active.len();
    if let Some((ty, reason, message)) = &target {
        // A failing Job stops its pods; a succeeding one lets them end.
        if *ty == "FailureTarget" {
            actions.extend(active.iter().map(|p| delete(p)));
            remaining_active = 0;
        }
        if remaining_active == 0 && terminating == 0 {
            if *ty == "FailureTarget" {
                conditions.push(new_condition("Failed", "True", reason, message, now));
                actions.push(Action::Event(event(
                    job,
                    EventType::Warning,
                    reason,
                    message.clone(),
                )));
            } else {
                conditions.push(new_condition("Complete", "True", reason, message, now));
                status.insert("completionTime".into(), json!(format_time(now)));
                actions.push(Action::Event(event(
                    job,
                    EventType::Normal,
                    "Completed",
                    "Job completed",
                )));
            }
        }
    } else if suspended {
        actions.extend(active.iter().map(|p| delete(p)));
        remaining_active = 0;
        if !has_condition(job, "Suspended") {
            set_condition(
                &mut conditions,
                new_condition("Suspended", "True", "JobSuspended", "Job suspended", now),
            );
            actions.push(Action::Event(event(
                job,
                EventType::Normal,
                "Suspended",
                "Job suspended",
            )));
        }
    } else {
        if has_condition(job, "Suspended") {
            set_condition(
                &mut conditions,
                new_condition("Suspended", "False", "JobResumed", "Job resumed", now),
            );
            actions.push(Action::Event(event(
                job,
                EventType::Normal,
                "Resumed",
                "Job resumed",
            )));
            // A resumed Job's clock starts again.
            status.insert("startTime".into(), json!(format_time(now)));
        }
        let want = match completions {
            Some(c) => parallelism.min((c - succeeded).max(0)),
            None => parallelism,
        };
        let want = usize::try_from(want).unwrap_or(0);
        if active.len() > want {
            active.sort_by(|a, b| {
                podutil::created(b)
                    .cmp(&podutil::created(a))
                    .then(meta::name(b).cmp(meta::name(a)))
            });
            let extra = active.len() - want;
            actions.extend(active.iter().take(extra).map(|p| delete(p)));
            remaining_active = want;
        } else if active.len() < want {
            match backoff_remaining(&pods, now) {
                Some(wait) => {
                    requeue = Some(requeue.map_or(wait, |r| r.min(wait)));
                }
                None => {
                    for _ in active.len()..want {
                        actions.push(Action::Create {
                            res: res::PODS,
                            namespace: key.namespace.clone(),
                            object: pod_from_template(job),
                            on_created: Some(event(
                                job,
                                EventType::Normal,
                                "SuccessfulCreate",
                                "Created pod: ",
                            )),
                            on_failed: Some(event(
                                job,
                                EventType::Warning,
                                "FailedCreate",
                                "Error creating: ",
                            )),
                        });
                    }
                    remaining_active = want;
                }
            }
        }
    }

    let finished_now = conditions.iter().any(|c| {
        matches!(
            c.get("type").and_then(Value::as_str),
            Some("Complete" | "Failed")
        )
    });
    let mut set = |k: &str, v: i64| {
        if v == 0 {
            status.remove(k);
        } else {
            status.insert(k.into(), json!(v));
        }
    };
    set(
        "active",
        if finished_now {
            0
        } else {
            remaining_active as i64
        },
    );
    set("succeeded", succeeded);
    set("failed", failed);
    let ready = if finished_now {
        0
    } else {
        active.iter().filter(|p| podutil::is_ready(p)).count()
    };
    status.insert("ready".into(), json!(ready));
    status.insert("terminating".into(), json!(terminating));
    status.insert("uncountedTerminatedPods".into(), json!({}));
    if !status.contains_key("startTime")
        && let Some(st) = start_time
    {
        status.insert("startTime".into(), json!(format_time(st)));
    }
    if conditions.is_empty() {
        status.remove("conditions");
    } else {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    if let Some(patch) = status_patch(job.get("status"), &Value::Object(status)) {
        actions.push(Action::Patch {
            res: res::JOBS,
            key: key.clone(),
            patch,
            status: true,
        });
    }
    Reconciled {
        actions,
        requeue_after: if finished_now { None } else { requeue },
    }
}

/// `pastBackoffLimitOnFailure`: with `restartPolicy: OnFailure`, container
/// restarts of running and pending pods count against the backoff limit.
fn past_backoff_limit_on_failure(job: &Value, pods: &[&Value]) -> bool {
    if job
        .get_in(&["spec", "template", "spec", "restartPolicy"])
        .and_then(Value::as_str)
        != Some("OnFailure")
    {
        return false;
    }
    let restarts: i64 = pods
        .iter()
        .filter(|p| matches!(podutil::phase(p), "Running" | "Pending"))
        .flat_map(|p| {
            ["/status/initContainerStatuses", "/status/containerStatuses"]
                .into_iter()
                .filter_map(|f| p.at(f).and_then(Value::as_array))
                .flatten()
        })
        .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
        .sum();
    let limit = int_at(job, "/spec/backoffLimit", 6);
    if limit == 0 {
        restarts > 0
    } else {
        restarts >= limit
    }
}

/// Replaces the condition of the same type, or appends.
fn set_condition(conditions: &mut Vec<Value>, c: Value) {
    let ty = c.get("type").cloned();
    match conditions.iter_mut().find(|x| x.get("type") == ty.as_ref()) {
        Some(x) => *x = c,
        None => conditions.push(c),
    }
}

#[cfg(test)]
mod tests;
