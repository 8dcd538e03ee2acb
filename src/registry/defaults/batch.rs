//! batch/v1 defaults.
//!
//! Upstream truth: `pkg/apis/batch/v1/defaults.go` (`SetDefaults_Job`,
//! `SetDefaults_CronJob`) and `pkg/registry/batch/job/strategy.go`
//! (`generateSelector`, `manualSelector`).

use crate::api::pointer::Pointer;
use serde_json::{Value, json};

use super::{child, existing, pod, set_default};

pub fn job(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        let completions_unset = spec.get("completions").is_none_or(Value::is_null);
        let parallelism_unset = spec.get("parallelism").is_none_or(Value::is_null);
        if completions_unset && parallelism_unset {
            set_default(spec, "completions", json!(1));
        }
        set_default(spec, "parallelism", json!(1));
        let per_index = spec
            .get("backoffLimitPerIndex")
            .is_some_and(|v| !v.is_null());
        set_default(
            spec,
            "backoffLimit",
            json!(if per_index { i32::MAX as i64 } else { 6 }),
        );
        set_default(spec, "completionMode", json!("NonIndexed"));
        set_default(spec, "suspend", json!(false));
        set_default(spec, "manualSelector", json!(false));
        let has_pfp = spec.get("podFailurePolicy").is_some_and(|v| !v.is_null());
        set_default(
            spec,
            "podReplacementPolicy",
            json!(if has_pfp {
                "Failed"
            } else {
                "TerminatingOrFailed"
            }),
        );
        if let Some(Value::Array(rules)) = existing(spec, &["podFailurePolicy", "rules"]) {
            for r in rules.iter_mut() {
                if let Some(Value::Array(conds)) = existing(r, &["onPodConditions"]) {
                    for c in conds.iter_mut().filter(|c| c.is_object()) {
                        set_default(c, "status", json!("True"));
                    }
                }
            }
        }
    }
    // Job metadata.labels default to the template's labels.
    let tpl_labels = obj
        .get_in(&["spec", "template", "metadata", "labels"])
        .cloned();
    if let Some(labels) = tpl_labels.filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        && let Some(meta) = child(obj, "metadata")
        && meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(|m| m.is_empty())
        && let Some(m) = meta.as_object_mut()
    {
        m.insert("labels".into(), labels);
    }
    pod::template_at(obj, &["spec", "template"]);
}

pub fn cron_job(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "concurrencyPolicy", json!("Allow"));
        set_default(spec, "suspend", json!(false));
        set_default(spec, "successfulJobsHistoryLimit", json!(3));
        set_default(spec, "failedJobsHistoryLimit", json!(1));
    }
    pod::template_at(obj, &["spec", "jobTemplate", "spec", "template"]);
}

/// The Job strategy's generated selector (when `manualSelector` is not
/// true): selector `batch.kubernetes.io/controller-uid=<uid>`, and the
/// template gets `batch.kubernetes.io/controller-uid`,
/// `batch.kubernetes.io/job-name`, `controller-uid` and `job-name` labels.
/// Call on create, after the uid is assigned and before validation.
pub fn set_job_generated_selector(obj: &mut Value, uid: &str) {
    if obj
        .get_in(&["spec", "manualSelector"])
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    let name = obj
        .get_in(&["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    if let Some(sel) = child(spec, "selector")
        && sel.get("matchLabels").is_none_or(Value::is_null)
        && sel.get("matchExpressions").is_none_or(Value::is_null)
        && let Some(m) = sel.as_object_mut()
    {
        m.insert(
            "matchLabels".into(),
            json!({"batch.kubernetes.io/controller-uid": uid}),
        );
    }
    let labels = child(spec, "template")
        .and_then(|t| child(t, "metadata"))
        .and_then(|m| child(m, "labels"));
    if let Some(labels) = labels {
        set_default(labels, "batch.kubernetes.io/controller-uid", json!(uid));
        set_default(labels, "batch.kubernetes.io/job-name", json!(name));
        set_default(labels, "controller-uid", json!(uid));
        set_default(labels, "job-name", json!(name));
    }
}
