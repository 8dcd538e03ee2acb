//! batch/v1 rows: jobs (STATUS, COMPLETIONS, DURATION) and cron jobs.
//!
//! Upstream truth: `printJob`, `hasJobCondition`, `printCronJob`, `printBoolPtr` in
//! `pkg/printers/internalversion/printers.go` (1.33: the Job STATUS column is one of
//! Complete, Failed, Terminating, Suspended, FailureTarget, Running).

use super::docs;
use super::duration::{human_duration, since};
use super::value::{
    arr_at, created, deleting, format_label_selector, get, int_at, layout_containers, name,
    opt_int, str_at, ts_at,
};
use super::{AGE, ColumnDefinition, NAME, Row, col, wide};
use jiff::Timestamp;
use serde_json::{Value, json};

const CONTAINERS_DESC: &str = "Names of each container in the template.";
const IMAGES_DESC: &str = "Images referenced by each container in the template.";

pub(crate) static JOB_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col("Completions", "string", docs::JOB_SUCCEEDED),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", docs::JOB_SELECTOR),
];

/// `hasJobCondition`: the first condition of that type decides.
fn has_condition(job: &Value, type_: &str) -> bool {
    arr_at(job, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == type_)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

pub(crate) fn job(job: &Value, now: Timestamp) -> Row {
    let succeeded = int_at(job, &["status", "succeeded"]);
    let completions = match opt_int(job, &["spec", "completions"]) {
        Some(c) => format!("{succeeded}/{c}"),
        None => match opt_int(job, &["spec", "parallelism"]).unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (
        ts_at(job, &["status", "startTime"]),
        ts_at(job, &["status", "completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(done)) => human_duration(done.duration_since(start)),
    };
    let status = if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if deleting(job) {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) =
        layout_containers(arr_at(job, &["spec", "template", "spec", "containers"]));
    Row::new(vec![
        json!(name(job)),
        json!(status),
        json!(completions),
        json!(duration),
        json!(since(created(job), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(get(job, &["spec", "selector"]))),
    ])
}

pub(crate) static CRONJOB_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Schedule", "string", docs::CJ_SCHEDULE),
    col("Timezone", "string", docs::CJ_TIME_ZONE),
    col("Suspend", "boolean", docs::CJ_SUSPEND),
    col("Active", "integer", docs::CJ_ACTIVE),
    col("Last Schedule", "string", docs::CJ_LAST_SCHEDULE),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", docs::JOB_SELECTOR),
];

pub(crate) fn cronjob(cj: &Value, now: Timestamp) -> Row {
    let last_schedule = match ts_at(cj, &["status", "lastScheduleTime"]) {
        Some(t) => since(Some(t), now),
        None => "<none>".to_string(),
    };
    let time_zone = get(cj, &["spec", "timeZone"])
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    // printBoolPtr: "True", "False" or "<unset>" (a string, though the column says boolean).
    let suspend = match get(cj, &["spec", "suspend"]).and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let template = get(cj, &["spec", "jobTemplate", "spec"]).unwrap_or(&Value::Null);
    let (names, images) = layout_containers(arr_at(template, &["template", "spec", "containers"]));
    Row::new(vec![
        json!(name(cj)),
        json!(str_at(cj, &["spec", "schedule"])),
        json!(time_zone),
        json!(suspend),
        json!(arr_at(cj, &["status", "active"]).len()),
        json!(last_schedule),
        json!(since(created(cj), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(get(template, &["selector"]))),
    ])
}
