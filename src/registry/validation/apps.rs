//! apps/v1 validation (Deployment, ReplicaSet, StatefulSet, DaemonSet), plus
//! policy/v1 PodDisruptionBudget and autoscaling HorizontalPodAutoscaler.
//!
//! Upstream truth: `pkg/apis/apps/validation/validation.go`
//! (`ValidateDeploymentSpec`, `ValidateDeploymentStrategy`,
//! `ValidateRollingUpdateDeployment`, `ValidatePositiveIntOrPercent`,
//! `IsNotMoreThan100Percent`, `ValidateReplicaSetSpec`,
//! `ValidatePodTemplateSpecForReplicaSet`, `ValidateStatefulSetSpec`,
//! `ValidateStatefulSetUpdate`, `ValidateDaemonSetSpec`), the apps/v1
//! strategies' immutable selector, `pkg/apis/policy/validation/validation.go`
//! and `pkg/apis/autoscaling/validation/validation.go`.

use serde_json::Value;

use super::{
    ch, get, immutable, int, label_selector, nonnegative, pod, present, s, selector_empty,
    selector_matches, semantic_eq,
};
use crate::api::field_error::FieldError;
use crate::api::name::regex_error;

/// Checks the selector (required, non-empty) and the template against it, as
/// `ValidatePodTemplateSpecForReplicaSet` does; `what` names the kind in the
/// "empty selector is invalid for ..." message.
fn selector_and_template(spec: &Value, what: &str, errs: &mut Vec<FieldError>) {
    let sel = get(spec, "selector");
    let sp = "spec.selector";
    if sel.is_null() {
        errs.push(FieldError::required(sp, ""));
    } else {
        label_selector(sel, sp, errs);
        if selector_empty(sel) {
            errs.push(FieldError::invalid(
                sp,
                sel.clone(),
                format!("empty selector is invalid for {what}"),
            ));
        }
    }
    let tpl = get(spec, "template");
    if tpl.is_null() {
        errs.push(FieldError::required("spec.template", ""));
        return;
    }
    let tpl_labels = get(get(tpl, "metadata"), "labels");
    // A nil selector selects nothing; an empty one selects everything.
    let mismatch = if sel.is_null() {
        true
    } else {
        !selector_empty(sel) && !selector_matches(sel, tpl_labels)
    };
    if mismatch {
        let shown = if tpl_labels.is_null() {
            Value::Null
        } else {
            tpl_labels.clone()
        };
        errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            shown,
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(pod::template(tpl, "spec.template"));
}

fn restart_always(spec: &Value, errs: &mut Vec<FieldError>) {
    let rp = s(get(get(spec, "template"), "spec"), "restartPolicy");
    if !rp.is_empty() && rp != "Always" {
        errs.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            Value::from(rp),
            &["Always"],
        ));
    }
}

/// `ValidatePositiveIntOrPercent` plus, when `max100`, `IsNotMoreThan100Percent`.
fn int_or_percent(v: &Value, path: &str, max100: bool, errs: &mut Vec<FieldError>) {
    match v {
        Value::String(p) => {
            let ok = p.len() > 1
                && p.ends_with('%')
                && p[..p.len() - 1].bytes().all(|b| b.is_ascii_digit());
            if !ok {
                errs.push(FieldError::invalid(
                    path,
                    v.clone(),
                    regex_error(
                        "a valid percent string must be a numeric string followed by an ending '%'",
                        "[0-9]+%",
                        &["1%", "93%"],
                    ),
                ));
            } else if max100 && p[..p.len() - 1].parse::<u64>().unwrap_or(u64::MAX) > 100 {
                errs.push(FieldError::invalid(
                    path,
                    v.clone(),
                    "must not be greater than 100%",
                ));
            }
        }
        Value::Number(n) if n.as_i64().is_some_and(|n| n < 0) => {
            errs.push(FieldError::invalid(path, v.clone(), super::IS_NEGATIVE));
        }
        _ => {}
    }
}

fn int_or_percent_is_zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.trim_end_matches('%').parse::<i64>().ok() == Some(0),
        _ => true,
    }
}

pub fn deployment(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    nonnegative(spec, "replicas", "spec", &mut errs);
    selector_and_template(spec, "deployment", &mut errs);
    restart_always(spec, &mut errs);
    let tpl_spec = get(get(spec, "template"), "spec");
    if present(tpl_spec, "activeDeadlineSeconds") {
        errs.push(FieldError::invalid(
            "spec.template.spec.activeDeadlineSeconds",
            get(tpl_spec, "activeDeadlineSeconds").clone(),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
    let strategy = get(spec, "strategy");
    let stp = "spec.strategy";
    match s(strategy, "type") {
        "Recreate" => {
            if present(strategy, "rollingUpdate") {
                errs.push(FieldError::forbidden(
                    ch(stp, "rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => {
            let ru = get(strategy, "rollingUpdate");
            if ru.is_null() {
                errs.push(FieldError::required(
                    ch(stp, "rollingUpdate"),
                    "this should be defaulted and never be nil",
                ));
            } else {
                let rp = ch(stp, "rollingUpdate");
                let (mu, ms) = (get(ru, "maxUnavailable"), get(ru, "maxSurge"));
                int_or_percent(mu, &ch(&rp, "maxUnavailable"), false, &mut errs);
                int_or_percent(ms, &ch(&rp, "maxSurge"), false, &mut errs);
                if int_or_percent_is_zero(mu) && int_or_percent_is_zero(ms) {
                    errs.push(FieldError::invalid(
                        ch(&rp, "maxUnavailable"),
                        mu.clone(),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                if let Value::String(p) = mu
                    && p.trim_end_matches('%')
                        .parse::<u64>()
                        .is_ok_and(|n| n > 100)
                {
                    errs.push(FieldError::invalid(
                        ch(&rp, "maxUnavailable"),
                        mu.clone(),
                        "must not be greater than 100%",
                    ));
                }
            }
        }
        other => {
            // Upstream passes the internal strategy struct (no json tags).
            let shown =
                serde_json::json!({"Type": other, "RollingUpdate": get(strategy, "rollingUpdate")});
            errs.push(FieldError::not_supported(
                stp,
                shown,
                &["Recreate", "RollingUpdate"],
            ));
        }
    }
    nonnegative(spec, "minReadySeconds", "spec", &mut errs);
    nonnegative(spec, "revisionHistoryLimit", "spec", &mut errs);
    if let Some(pds) = int(spec, "progressDeadlineSeconds") {
        nonnegative(spec, "progressDeadlineSeconds", "spec", &mut errs);
        if pds <= int(spec, "minReadySeconds").unwrap_or(0) {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                Value::from(pds),
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

pub fn replica_set(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    nonnegative(spec, "replicas", "spec", &mut errs);
    nonnegative(spec, "minReadySeconds", "spec", &mut errs);
    selector_and_template(spec, "deployment", &mut errs);
    restart_always(spec, &mut errs);
    errs
}

pub fn daemon_set(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    selector_and_template(spec, "daemonset", &mut errs);
    restart_always(spec, &mut errs);
    nonnegative(spec, "minReadySeconds", "spec", &mut errs);
    nonnegative(spec, "revisionHistoryLimit", "spec", &mut errs);
    let us = get(spec, "updateStrategy");
    let up = "spec.updateStrategy";
    match s(us, "type") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let ru = get(us, "rollingUpdate");
            if ru.is_null() {
                errs.push(FieldError::required(ch(up, "rollingUpdate"), ""));
            } else {
                let rp = ch(up, "rollingUpdate");
                let (mu, ms) = (get(ru, "maxUnavailable"), get(ru, "maxSurge"));
                int_or_percent(mu, &ch(&rp, "maxUnavailable"), true, &mut errs);
                int_or_percent(ms, &ch(&rp, "maxSurge"), true, &mut errs);
                if int_or_percent_is_zero(mu) && int_or_percent_is_zero(ms) {
                    errs.push(FieldError::invalid(
                        ch(&rp, "maxUnavailable"),
                        mu.clone(),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
            }
        }
        "" => errs.push(FieldError::required(ch(up, "type"), "")),
        other => errs.push(FieldError::not_supported(
            ch(up, "type"),
            Value::from(other),
            &["OnDelete", "RollingUpdate"],
        )),
    }
    errs
}

pub fn stateful_set(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    match s(spec, "podManagementPolicy") {
        "" => errs.push(FieldError::required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            "spec.podManagementPolicy",
            Value::from(other),
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let us = get(spec, "updateStrategy");
    match s(us, "type") {
        "" => errs.push(FieldError::required("spec.updateStrategy", "")),
        "OnDelete" => {
            if present(us, "rollingUpdate") {
                errs.push(FieldError::invalid(
                    "spec.updateStrategy.rollingUpdate",
                    get(us, "rollingUpdate").clone(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => nonnegative(
            get(us, "rollingUpdate"),
            "partition",
            "spec.updateStrategy.rollingUpdate",
            &mut errs,
        ),
        _ => errs.push(FieldError::invalid(
            "spec.updateStrategy",
            us.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    nonnegative(spec, "replicas", "spec", &mut errs);
    nonnegative(spec, "minReadySeconds", "spec", &mut errs);
    selector_and_template(spec, "statefulset", &mut errs);
    restart_always(spec, &mut errs);
    if present(get(get(spec, "template"), "spec"), "activeDeadlineSeconds") {
        errs.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
    errs
}

/// apps/v1 strategies: `spec.selector` is immutable.
pub fn selector_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    immutable(
        get(get(new, "spec"), "selector"),
        get(get(old, "spec"), "selector"),
        "spec.selector",
        &mut errs,
    );
    errs
}

/// `ValidateStatefulSetUpdate`.
pub fn stateful_set_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    let mut clone = ns.clone();
    if let Some(m) = clone.as_object_mut() {
        for k in [
            "replicas",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "ordinals",
            "revisionHistoryLimit",
            "persistentVolumeClaimRetentionPolicy",
        ] {
            match os.get(k) {
                Some(v) => m.insert(k.into(), v.clone()),
                None => m.remove(k),
            };
        }
    }
    if !semantic_eq(&clone, os) {
        errs.push(FieldError::forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
    errs
}

/// policy/v1 `ValidatePodDisruptionBudgetSpec`.
pub fn pdb(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    if present(spec, "minAvailable") && present(spec, "maxUnavailable") {
        errs.push(FieldError::invalid(
            "spec",
            spec.clone(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for k in ["minAvailable", "maxUnavailable"] {
        if present(spec, k) {
            int_or_percent(get(spec, k), &ch("spec", k), true, &mut errs);
        }
    }
    label_selector(get(spec, "selector"), "spec.selector", &mut errs);
    errs
}

/// autoscaling `ValidateHorizontalPodAutoscalerSpec` (the common part).
pub fn hpa(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    let min = int(spec, "minReplicas").unwrap_or(1);
    if min < 1 {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            Value::from(min),
            "must be greater than or equal to 1",
        ));
    }
    let max = int(spec, "maxReplicas").unwrap_or(0);
    if max < 1 {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            Value::from(max),
            "must be greater than 0",
        ));
    }
    if max < min {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            Value::from(max),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let target = get(spec, "scaleTargetRef");
    for k in ["kind", "name"] {
        if s(target, k).is_empty() {
            errs.push(FieldError::required(ch("spec.scaleTargetRef", k), ""));
        }
    }
    errs
}
