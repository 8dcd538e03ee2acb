//! batch/v1 validation (Job, CronJob).
//!
//! Upstream truth: `pkg/apis/batch/validation/validation.go` (`ValidateJob`,
//! `validateJobSpec`, `ValidateJobSpecUpdate`, `ValidateCronJobCreate`,
//! `validateCronJobSpec`, `validateScheduleFormat`,
//! `validateConcurrencyPolicy`, `ValidateJobTemplateSpec`).

use serde_json::Value;

use super::{
    ch, cron, get, immutable, label_selector, nonnegative, pod, present, s, selector_matches,
};
use crate::api::field_error::FieldError;

/// `validateJobSpec` (without the selector) at `path`.
fn job_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for k in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        nonnegative(spec, k, path, errs);
    }
    match s(spec, "completionMode") {
        "" | "NonIndexed" => {}
        "Indexed" => {
            if !present(spec, "completions") {
                errs.push(FieldError::required(
                    ch(path, "completions"),
                    "when completion mode is Indexed",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            ch(path, "completionMode"),
            Value::from(other),
            &["NonIndexed", "Indexed"],
        )),
    }
    let tpl = get(spec, "template");
    let tp = ch(path, "template");
    errs.extend(pod::template(tpl, &tp));
    let rp = s(get(tpl, "spec"), "restartPolicy");
    if rp != "OnFailure" && rp != "Never" {
        errs.push(FieldError::not_supported(
            ch(&ch(&tp, "spec"), "restartPolicy"),
            Value::from(rp),
            &["OnFailure", "Never"],
        ));
    }
}

/// `ValidateJob`: the selector must exist and match the template (the Job
/// strategy generates it unless `manualSelector` is true; see
/// `registry::defaults::set_job_generated_selector`).
pub fn job(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    let sel = get(spec, "selector");
    if sel.is_null() {
        errs.push(FieldError::required("spec.selector", ""));
    } else {
        label_selector(sel, "spec.selector", &mut errs);
        let labels = get(get(get(spec, "template"), "metadata"), "labels");
        if !selector_matches(sel, labels) {
            errs.push(FieldError::invalid(
                "spec.template.metadata.labels",
                labels.clone(),
                "`selector` does not match template `labels`",
            ));
        }
    }
    job_spec(spec, "spec", &mut errs);
    errs
}

/// `ValidateJobSpecUpdate`: selector, template, completions and
/// completionMode are immutable.
pub fn job_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    for k in ["selector", "template", "completionMode"] {
        immutable(get(ns, k), get(os, k), &ch("spec", k), &mut errs);
    }
    if s(ns, "completionMode") != "Indexed" {
        immutable(
            get(ns, "completions"),
            get(os, "completions"),
            "spec.completions",
            &mut errs,
        );
    }
    errs
}

pub fn cron_job(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = s(get(obj, "metadata"), "name");
    if name.len() > 52 {
        errs.push(FieldError::invalid(
            "metadata.name",
            Value::from(name),
            "must be no more than 52 characters",
        ));
    }
    let spec = get(obj, "spec");
    let schedule = s(spec, "schedule");
    if schedule.is_empty() {
        errs.push(FieldError::required("spec.schedule", ""));
    } else {
        if let Err(e) = cron::parse_schedule(schedule) {
            errs.push(FieldError::invalid(
                "spec.schedule",
                Value::from(schedule),
                e,
            ));
        }
        if present(spec, "timeZone") && schedule.contains("TZ") {
            errs.push(FieldError::invalid(
                "spec.schedule",
                Value::from(schedule),
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if schedule.contains("TZ") {
            errs.push(FieldError::invalid(
                "spec.schedule",
                Value::from(schedule),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    nonnegative(spec, "startingDeadlineSeconds", "spec", &mut errs);
    match s(spec, "concurrencyPolicy") {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(FieldError::required("spec.concurrencyPolicy", "")),
        other => errs.push(FieldError::not_supported(
            "spec.concurrencyPolicy",
            Value::from(other),
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = get(get(spec, "jobTemplate"), "spec");
    job_spec(jt, "spec.jobTemplate.spec", &mut errs);
    if present(jt, "selector") {
        errs.push(FieldError::invalid(
            "spec.jobTemplate.spec.selector",
            get(jt, "selector").clone(),
            "`selector` will be auto-generated",
        ));
    }
    if get(jt, "manualSelector").as_bool() == Some(true) {
        errs.push(FieldError::not_supported(
            "spec.jobTemplate.spec.manualSelector",
            Value::Bool(true),
            &["nil", "false"],
        ));
    }
    nonnegative(spec, "successfulJobsHistoryLimit", "spec", &mut errs);
    nonnegative(spec, "failedJobsHistoryLimit", "spec", &mut errs);
    errs
}
