//! Pod rows: READY, STATUS, RESTARTS, AGE and the wide IP/NODE/NOMINATED NODE/
//! READINESS GATES cells, plus the `Completed` row condition.
//!
//! Upstream truth: `printPod`, `hasPodReadyCondition`, `isPodInitializedConditionTrue`
//! in `pkg/printers/internalversion/printers.go` (1.33);
//! `podutil.IsRestartableInitContainer` (`restartPolicy: Always` init containers);
//! `node.NodeUnreachablePodReason` = "NodeLost".

use super::docs;
use super::duration::since;
use super::value::{
    arr_at, bool_at, condition_status, created, deleting, get, int_at, name, str_at, ts_at,
};
use super::{AGE, ColumnDefinition, NAME, Row, col, wide};
use jiff::Timestamp;
use serde_json::{Value, json};

pub(crate) static COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide("IP", "string", docs::POD_IP),
    wide("Node", "string", docs::POD_NODE_NAME),
    wide("Nominated Node", "string", docs::POD_NOMINATED_NODE),
    wide("Readiness Gates", "string", docs::POD_READINESS_GATES),
];

/// `podutil.IsRestartableInitContainer`: a sidecar (`restartPolicy: Always`).
fn is_restartable(init: Option<&Value>) -> bool {
    init.is_some_and(|c| str_at(c, &["restartPolicy"]) == "Always")
}

/// Later of two optional times (`lastRestartDate.Before(&terminatedDate)`).
fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn last_finished(status: &Value) -> Option<Timestamp> {
    ts_at(status, &["lastState", "terminated", "finishedAt"])
}

/// The reason of a terminated state with no `reason`: "Signal:N" or "ExitCode:N".
fn terminated_code(t: &Value) -> String {
    let signal = int_at(t, &["signal"]);
    if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int_at(t, &["exitCode"]))
    }
}

pub(crate) fn row(pod: &Value, now: Timestamp) -> Row {
    let spec_containers = arr_at(pod, &["spec", "containers"]);
    let init_specs = arr_at(pod, &["spec", "initContainers"]);
    let conditions = arr_at(pod, &["status", "conditions"]);
    let phase = str_at(pod, &["status", "phase"]);

    let mut restarts: i64 = 0;
    let mut restartable_init_restarts: i64 = 0;
    let mut total = spec_containers.len() as i64;
    let mut ready: i64 = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_init_restart: Option<Timestamp> = None;

    let mut reason = phase.to_string();
    let status_reason = str_at(pod, &["status", "reason"]);
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    if conditions.iter().any(|c| {
        str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated"
    }) {
        reason = "SchedulingGated".to_string();
    }

    let row_conditions = match phase {
        "Succeeded" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."
        }])),
        "Failed" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."
        }])),
        _ => None,
    };

    let init_by_name = |n: &str| init_specs.iter().find(|c| str_at(c, &["name"]) == n);
    total += init_specs
        .iter()
        .filter(|c| is_restartable(Some(c)))
        .count() as i64;

    let mut initializing = false;
    for (i, cs) in arr_at(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let count = int_at(cs, &["restartCount"]);
        restarts += count;
        last_restart = later(last_restart, last_finished(cs));
        let restartable = is_restartable(init_by_name(str_at(cs, &["name"])));
        if restartable {
            restartable_init_restarts += count;
            last_restartable_init_restart = later(last_restartable_init_restart, last_finished(cs));
        }
        let terminated = get(cs, &["state", "terminated"]).filter(|t| t.is_object());
        let waiting_reason = str_at(cs, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|t| int_at(t, &["exitCode"]) == 0) {
            continue;
        }
        if restartable && bool_at(cs, &["started"]) {
            if bool_at(cs, &["ready"]) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            let r = str_at(t, &["reason"]);
            reason = if r.is_empty() {
                format!("Init:{}", terminated_code(t))
            } else {
                format!("Init:{r}")
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_status(conditions, "Initialized") == Some("True") {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for cs in arr_at(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int_at(cs, &["restartCount"]);
            last_restart = later(last_restart, last_finished(cs));
            let waiting_reason = str_at(cs, &["state", "waiting", "reason"]);
            let terminated = get(cs, &["state", "terminated"]).filter(|t| t.is_object());
            let running = get(cs, &["state", "running"]).is_some_and(Value::is_object);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                let r = str_at(t, &["reason"]);
                reason = if r.is_empty() {
                    terminated_code(t)
                } else {
                    r.to_string()
                };
            } else if bool_at(cs, &["ready"]) && running {
                has_running = true;
                ready += 1;
            }
        }
        // A container still running turns "Completed" back into Running/NotReady.
        if reason == "Completed" && has_running {
            reason = if condition_status(conditions, "Ready") == Some("True") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    if deleting(pod) && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting(pod) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_cell = match last_restart {
        Some(at) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(at), now)),
        _ => restarts.to_string(),
    };

    let mut pod_ip = arr_at(pod, &["status", "podIPs"])
        .first()
        .map(|p| str_at(p, &["ip"]))
        .unwrap_or_else(|| str_at(pod, &["status", "podIP"]));
    if pod_ip.is_empty() {
        pod_ip = "<none>";
    }
    let node = non_empty(str_at(pod, &["spec", "nodeName"]));
    let nominated = non_empty(str_at(pod, &["status", "nominatedNodeName"]));
    let gates = arr_at(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| condition_status(conditions, str_at(g, &["conditionType"])) == Some("True"))
            .count();
        format!("{true_count}/{}", gates.len())
    };

    Row {
        cells: vec![
            json!(name(pod)),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_cell),
            json!(since(created(pod), now)),
            json!(pod_ip),
            json!(node),
            json!(nominated),
            json!(readiness_gates),
        ],
        conditions: row_conditions,
    }
}

fn non_empty(s: &str) -> &str {
    if s.is_empty() { "<none>" } else { s }
}
