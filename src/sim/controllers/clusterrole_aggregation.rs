//! The clusterrole-aggregation controller (`pkg/controller/clusterroleaggregation`
//! upstream): a ClusterRole with an `aggregationRule` gets, as its rules,
//! the rules of every other ClusterRole its selectors match, selector by
//! selector, roles by name, each distinct rule once. This is how `admin`,
//! `edit` and `view` come to hold `system:aggregate-to-*` and any custom
//! role labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"`.

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::selector::LabelSelector;
use crate::registry::rbac::CLUSTER_ROLES;
use crate::registry::rbac::rule::PolicyRule;
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot};
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// The controller.
pub struct ClusterRoleAggregationController;

fn selectors(role: &Value) -> Option<&Vec<Value>> {
    role.get_in(&["aggregationRule", "clusterRoleSelectors"])
        .and_then(Value::as_array)
}

/// The rules `role` should hold, or `None` when it does not aggregate.
/// `roles` is every ClusterRole, ordered by name.
pub fn aggregated_rules<'a>(
    role: &Value,
    roles: impl Iterator<Item = &'a Value> + Clone,
) -> Option<Vec<Value>> {
    let selectors = selectors(role)?;
    let mut rules: Vec<PolicyRule> = Vec::new();
    for sel in selectors {
        // An invalid selector matches nothing (validation rejects it first).
        let Ok(sel) = LabelSelector::from_json(sel) else {
            continue;
        };
        for other in roles.clone() {
            if meta::name(other) == meta::name(role) || !sel.matches(meta::labels(other)) {
                continue;
            }
            for r in PolicyRule::list_of(other) {
                if !rules.contains(&r) {
                    rules.push(r);
                }
            }
        }
    }
    Some(rules.iter().map(PolicyRule::to_json).collect())
}

fn current_rules(role: &Value) -> Vec<Value> {
    role.get("rules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| PolicyRule::from_json(r).to_json())
                .collect()
        })
        .unwrap_or_default()
}

impl Controller for ClusterRoleAggregationController {
    fn name(&self) -> &'static str {
        "clusterrole-aggregation"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[CLUSTER_ROLES]
    }

    /// Any ClusterRole change may change what an aggregating role selects.
    fn keys_for(&self, snap: &Snapshot, _res: ResKey, _obj: &Value) -> Vec<ObjectKey> {
        snap.list(CLUSTER_ROLES, None)
            .filter(|r| selectors(r).is_some())
            .map(|r| ObjectKey::new("", meta::name(r)))
            .collect()
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, _now: Timestamp) -> Reconciled {
        let Some(role) = snap.get(CLUSTER_ROLES, "", &key.name) else {
            return Reconciled::none();
        };
        let roles: Vec<&Value> = snap.list(CLUSTER_ROLES, None).map(Arc::as_ref).collect();
        let Some(rules) = aggregated_rules(role, roles.iter().copied()) else {
            return Reconciled::none();
        };
        if rules == current_rules(role) && role.get("rules").is_some_and(Value::is_array) {
            return Reconciled::none();
        }
        Reconciled {
            actions: vec![Action::Patch {
                res: CLUSTER_ROLES,
                key: key.clone(),
                patch: json!({"rules": rules}),
                status: false,
            }],
            requeue_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::controllers::testutil::{put, settle, t0};

    fn role(name: &str, labels: Value, body: Value) -> Value {
        let mut r = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name, "labels": labels}});
        if let (Some(m), Some(b)) = (r.as_object_mut(), body.as_object()) {
            m.extend(b.clone());
        }
        r
    }

    fn rules_of(snap: &Snapshot, name: &str) -> Vec<Value> {
        snap.get(CLUSTER_ROLES, "", name)
            .map(|r| current_rules(r))
            .unwrap_or_default()
    }

    #[test]
    fn aggregation_collects_selected_rules_once_and_follows_changes() {
        let c = ClusterRoleAggregationController;
        let mut snap = Snapshot::new();
        let pods = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]});
        let cms = json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]});
        put(
            &mut snap,
            CLUSTER_ROLES,
            role(
                "view",
                json!({}),
                json!({"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "view"}}]}}),
            ),
        );
        put(
            &mut snap,
            CLUSTER_ROLES,
            role("b-pods", json!({"agg": "view"}), json!({"rules": [pods]})),
        );
        put(
            &mut snap,
            CLUSTER_ROLES,
            role(
                "a-dup",
                json!({"agg": "view"}),
                json!({"rules": [cms, pods]}),
            ),
        );
        put(
            &mut snap,
            CLUSTER_ROLES,
            role(
                "other",
                json!({}),
                json!({"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
            ),
        );
        let key = ObjectKey::new("", "view");
        assert!(settle(&c, &mut snap, &key, t0()).is_empty());
        // Roles by name, each rule once.
        assert_eq!(rules_of(&snap, "view"), vec![cms.clone(), pods.clone()]);
        // A new labelled role joins; keys_for asks for the aggregating role.
        let secrets = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]});
        let extra = role(
            "c-secrets",
            json!({"agg": "view"}),
            json!({"rules": [secrets]}),
        );
        put(&mut snap, CLUSTER_ROLES, extra.clone());
        assert_eq!(c.keys_for(&snap, CLUSTER_ROLES, &extra), vec![key.clone()]);
        settle(&c, &mut snap, &key, t0());
        assert_eq!(rules_of(&snap, "view"), vec![cms, pods, secrets]);
        // A role that does not aggregate is left alone.
        let out = c.reconcile(&snap, &ObjectKey::new("", "other"), t0());
        assert!(out.actions.is_empty());
    }
}
