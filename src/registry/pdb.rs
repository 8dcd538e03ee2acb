//! PodDisruptionBudget rules shared by the Eviction API and the
//! disruption controller: which pods a budget selects, and the
//! `DisruptionAllowed` condition (`pdbhelper.UpdateDisruptionAllowedCondition`
//! in `k8s.io/component-helpers/apps/poddisruptionbudget`).

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::selector::LabelSelector;
use crate::sim::clock::format_time;
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Value, json};

/// `policy/v1` PodDisruptionBudgets.
pub const PDBS: ResKey = ResKey {
    group: "policy",
    resource: "poddisruptionbudgets",
};
/// `policy.DisruptionAllowedCondition` and its reasons.
pub const CONDITION: &str = "DisruptionAllowed";
pub const SUFFICIENT_PODS: &str = "SufficientPods";
pub const INSUFFICIENT_PODS: &str = "InsufficientPods";
pub const SYNC_FAILED: &str = "SyncFailed";

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn int_at(v: &Value, p: &str) -> i64 {
    v.at(p).and_then(Value::as_i64).unwrap_or(0)
}

/// The PDB's selector; `None` when it selects nothing (absent, empty or
/// invalid: upstream's "nil or empty selector matches nothing").
pub fn selector(pdb: &Value) -> Option<LabelSelector> {
    let sel = pdb.get_in(&["spec", "selector"])?;
    LabelSelector::from_json(sel).ok().filter(|s| !s.is_empty())
}

/// Whether `pdb` covers `pod` (same namespace, selector matches).
pub fn selects(pdb: &Value, pod: &Value) -> bool {
    meta::namespace(pdb) == meta::namespace(pod)
        && selector(pdb).is_some_and(|s| s.matches(meta::labels(pod)))
}

/// `apimeta.SetStatusCondition` for the `DisruptionAllowed` condition.
pub fn set_condition(
    old: Option<&Value>,
    status: bool,
    reason: &str,
    message: &str,
    generation: i64,
    now: Timestamp,
) -> Value {
    let mut conds: Vec<Value> = old
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let status = if status { "True" } else { "False" };
    let i = conds.iter().position(|c| str_of(c, "type") == CONDITION);
    let ltt = match i.map(|i| &conds[i]) {
        Some(c) if str_of(c, "status") == status => c
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| json!(format_time(now))),
        _ => json!(format_time(now)),
    };
    let mut c = json!({"type": CONDITION, "status": status, "lastTransitionTime": ltt, "reason": reason, "message": message});
    if generation != 0 {
        c["observedGeneration"] = json!(generation);
    }
    match i {
        Some(i) => conds[i] = c,
        None => conds.push(c),
    }
    Value::Array(conds)
}

/// `pdbhelper.UpdateDisruptionAllowedCondition` on a status object.
pub fn update_allowed_condition(status: &mut Value, now: Timestamp) {
    let allowed = int_at(status, "/disruptionsAllowed");
    let generation = int_at(status, "/observedGeneration");
    let (ok, reason) = if allowed > 0 {
        (true, SUFFICIENT_PODS)
    } else {
        (false, INSUFFICIENT_PODS)
    };
    status["conditions"] = set_condition(Some(status), ok, reason, "", generation, now);
}
