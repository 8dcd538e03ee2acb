//! Rows of the remaining printed types: HorizontalPodAutoscalers (autoscaling v2 and
//! v1 shapes), PodDisruptionBudgets, StorageClasses, Leases and the
//! admission webhook configurations.
//!
//! Upstream truth: `printHorizontalPodAutoscaler`, `formatHPAMetrics`,
//! `printPodDisruptionBudget`, `printStorageClass`, `printLease`,
//! `printValidatingWebhook`, `printMutatingWebhook` in
//! `pkg/printers/internalversion/printers.go`; the autoscaling/v1 -> internal
//! conversion in `pkg/apis/autoscaling/v1/conversion.go` (targetCPUUtilizationPercentage
//! becomes a cpu Utilization metric); `storageutil.IsDefaultAnnotation`.

use super::docs;
use super::duration::since;
use super::value::{
    arr_at, bool_at, created, get, int_at, int_or_string, name, opt_int, scalar, str_at,
};
use super::{AGE, ColumnDefinition, NAME, Row, col};
use jiff::Timestamp;
use serde_json::{Value, json};

pub(crate) static HPA_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Reference", "string", docs::HPA_REF),
    col("Targets", "string", docs::HPA_METRICS),
    col("MinPods", "string", docs::HPA_MIN),
    col("MaxPods", "string", docs::HPA_MAX),
    col("Replicas", "string", docs::HPA_CURRENT),
    AGE,
];

/// `Quantity.String()` of an optional quantity (a nil pointer prints "<nil>").
fn qty(v: Option<&Value>) -> String {
    match v {
        Some(q) if !q.is_null() => scalar(q),
        _ => "<nil>".to_string(),
    }
}

/// `spec.metrics` and `status.currentMetrics` in the v2 shape; an autoscaling/v1
/// object's CPU percentages are converted the way the internal conversion does.
fn hpa_metrics(hpa: &Value) -> (Vec<Value>, Vec<Value>) {
    if let Some(specs) = get(hpa, &["spec", "metrics"]).and_then(Value::as_array) {
        return (
            specs.clone(),
            arr_at(hpa, &["status", "currentMetrics"]).to_vec(),
        );
    }
    let mut specs = Vec::new();
    let mut statuses = Vec::new();
    if let Some(target) = opt_int(hpa, &["spec", "targetCPUUtilizationPercentage"]) {
        specs.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": target}}}));
    }
    if let Some(current) = opt_int(hpa, &["status", "currentCPUUtilizationPercentage"]) {
        statuses.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": current}}}));
    }
    (specs, statuses)
}

/// `formatHPAMetrics`: at most two targets, then ` + N more...`.
fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 2;
    let status_of = |i: usize, key: &str| -> Option<&Value> {
        statuses
            .get(i)
            .and_then(|s| s.get(key))
            .filter(|v| v.is_object())
    };
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let text = match str_at(spec, &["type"]) {
            kind @ ("External" | "Object") => {
                let key = if kind == "External" {
                    "external"
                } else {
                    "object"
                };
                let target = get(spec, &[key, "target"]).unwrap_or(&Value::Null);
                if let Some(avg) = get(target, &["averageValue"]).filter(|v| !v.is_null()) {
                    let current = status_of(i, key)
                        .and_then(|s| get(s, &["current", "averageValue"]))
                        .filter(|v| !v.is_null())
                        .map_or_else(|| "<unknown>".to_string(), scalar);
                    format!("{current}/{} (avg)", scalar(avg))
                } else {
                    let current = status_of(i, key).map_or_else(
                        || "<unknown>".to_string(),
                        |s| qty(get(s, &["current", "value"])),
                    );
                    format!("{current}/{}", qty(get(target, &["value"])))
                }
            }
            "Pods" => {
                let current = status_of(i, "pods").map_or_else(
                    || "<unknown>".to_string(),
                    |s| qty(get(s, &["current", "averageValue"])),
                );
                format!(
                    "{current}/{}",
                    qty(get(spec, &["pods", "target", "averageValue"]))
                )
            }
            kind @ ("Resource" | "ContainerResource") => {
                let key = if kind == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let res = get(spec, &[key]).unwrap_or(&Value::Null);
                let res_name = str_at(res, &["name"]);
                if let Some(avg) = get(res, &["target", "averageValue"]).filter(|v| !v.is_null()) {
                    let current = status_of(i, key).map_or_else(
                        || "<unknown>".to_string(),
                        |s| qty(get(s, &["current", "averageValue"])),
                    );
                    format!("{res_name}: {current}/{}", scalar(avg))
                } else {
                    let current = status_of(i, key)
                        .and_then(|s| opt_int(s, &["current", "averageUtilization"]))
                        .map_or_else(|| "<unknown>".to_string(), |u| format!("{u}%"));
                    let target = opt_int(res, &["target", "averageUtilization"])
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    format!("{res_name}: {current}/{target}")
                }
            }
            _ => "<unknown type>".to_string(),
        };
        list.push(text);
    }
    let count = list.len();
    if count > MAX {
        list.truncate(MAX);
        return format!("{} + {} more...", list.join(", "), count - MAX);
    }
    list.join(", ")
}

pub(crate) fn hpa(hpa: &Value, now: Timestamp) -> Row {
    let reference = format!(
        "{}/{}",
        str_at(hpa, &["spec", "scaleTargetRef", "kind"]),
        str_at(hpa, &["spec", "scaleTargetRef", "name"])
    );
    let (specs, statuses) = hpa_metrics(hpa);
    let min_pods = opt_int(hpa, &["spec", "minReplicas"])
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    Row::new(vec![
        json!(name(hpa)),
        json!(reference),
        json!(format_hpa_metrics(&specs, &statuses)),
        json!(min_pods),
        json!(int_at(hpa, &["spec", "maxReplicas"])),
        json!(int_at(hpa, &["status", "currentReplicas"])),
        json!(since(created(hpa), now)),
    ])
}

pub(crate) static PDB_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

pub(crate) fn pdb(pdb: &Value, now: Timestamp) -> Row {
    let field = |f: &str| match get(pdb, &["spec", f]).filter(|v| !v.is_null()) {
        Some(v) => int_or_string(v),
        None => "N/A".to_string(),
    };
    Row::new(vec![
        json!(name(pdb)),
        json!(field("minAvailable")),
        json!(field("maxUnavailable")),
        json!(int_at(pdb, &["status", "disruptionsAllowed"])),
        json!(since(created(pdb), now)),
    ])
}

pub(crate) static STORAGECLASS_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Provisioner", "string", docs::SC_PROVISIONER),
    col("ReclaimPolicy", "string", docs::SC_RECLAIM),
    col("VolumeBindingMode", "string", docs::SC_BINDING),
    col("AllowVolumeExpansion", "string", docs::SC_EXPANSION),
    AGE,
];

/// `storageutil.IsDefaultAnnotation`: the GA or beta default-class annotation is "true".
fn is_default_class(sc: &Value) -> bool {
    let ann = |k: &str| str_at(sc, &["metadata", "annotations", k]) == "true";
    ann("storageclass.kubernetes.io/is-default-class")
        || ann("storageclass.beta.kubernetes.io/is-default-class")
}

pub(crate) fn storageclass(sc: &Value, now: Timestamp) -> Row {
    let mut display = name(sc).to_string();
    if is_default_class(sc) {
        display.push_str(" (default)");
    }
    let reclaim = get(sc, &["reclaimPolicy"])
        .and_then(Value::as_str)
        .unwrap_or("Delete");
    let binding = get(sc, &["volumeBindingMode"])
        .and_then(Value::as_str)
        .unwrap_or("Immediate");
    Row::new(vec![
        json!(display),
        json!(str_at(sc, &["provisioner"])),
        json!(reclaim),
        json!(binding),
        // A bool cell, though the column says string.
        json!(bool_at(sc, &["allowVolumeExpansion"])),
        json!(since(created(sc), now)),
    ])
}

pub(crate) static LEASE_COLUMNS: &[ColumnDefinition] =
    &[NAME, col("Holder", "string", docs::LEASE_HOLDER), AGE];

pub(crate) fn lease(lease: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(lease)),
        json!(str_at(lease, &["spec", "holderIdentity"])),
        json!(since(created(lease), now)),
    ])
}

/// Columns of ValidatingWebhookConfigurations and MutatingWebhookConfigurations.
pub(crate) static WEBHOOK_CONFIGURATION_COLUMNS: &[ColumnDefinition] =
    &[NAME, col("Webhooks", "integer", docs::WEBHOOKS_COUNT), AGE];

/// `printValidatingWebhook` / `printMutatingWebhook`: the number of webhooks.
pub(crate) fn webhook_configuration(cfg: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(cfg)),
        json!(arr_at(cfg, &["webhooks"]).len()),
        json!(since(created(cfg), now)),
    ])
}
