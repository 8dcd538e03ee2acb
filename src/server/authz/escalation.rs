//! RBAC's escalation prevention (`pkg/registry/rbac/validation/rule.go`
//! `ConfirmNoEscalation` and the policy-based role and binding storages):
//! a user may write a Role only with rules they already hold (or with the
//! `escalate` verb on it), and bind a role only when they hold its rules
//! (or have `bind` on it). `system:masters` skips both checks.

use crate::api::status::{GroupResource, Status};
use crate::registry::rbac::rule::{Attributes, PolicyRule};
use crate::server::auth::UserInfo;
use crate::store::Store;
use serde_json::{Value, json};

/// Breaks a rule into one rule per (group, resource, name, verb) or
/// (url, verb), as `BreakdownRule` does.
pub fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let atom = |names: Vec<String>| PolicyRule {
                    api_groups: vec![group.clone()],
                    resources: vec![resource.clone()],
                    verbs: vec![verb.clone()],
                    resource_names: names,
                    non_resource_urls: Vec::new(),
                };
                if rule.resource_names.is_empty() {
                    out.push(atom(Vec::new()));
                } else {
                    for name in &rule.resource_names {
                        out.push(atom(vec![name.clone()]));
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                non_resource_urls: vec![url.clone()],
                verbs: vec![verb.clone()],
                ..Default::default()
            });
        }
    }
    out
}

fn has_all(owner: &[String], wanted: &[String], wildcard: bool) -> bool {
    (wildcard && owner.iter().any(|o| o == "*")) || wanted.iter().all(|w| owner.contains(w))
}

fn resource_covers(owner: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| {
        owner.iter().any(|o| {
            o == "*"
                || o == w
                || o.strip_prefix("*/")
                    .is_some_and(|sub| w.split_once('/').is_some_and(|(_, s)| s == sub))
        })
    })
}

fn url_covers(owner: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| {
        owner
            .iter()
            .any(|o| o == "*" || o == w || o.strip_suffix('*').is_some_and(|p| w.starts_with(p)))
    })
}

/// `ruleCovers`: whether one owner rule grants every atom of `sub`.
fn covers_one(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    has_all(&owner.verbs, &sub.verbs, true)
        && has_all(&owner.api_groups, &sub.api_groups, true)
        && resource_covers(&owner.resources, &sub.resources)
        && url_covers(&owner.non_resource_urls, &sub.non_resource_urls)
        && (owner.resource_names.is_empty()
            || has_all(&owner.resource_names, &sub.resource_names, false))
}

/// The atoms of `wanted` that `owner` does not cover (`Covers`).
pub fn missing(owner: &[PolicyRule], wanted: &[PolicyRule]) -> Vec<PolicyRule> {
    wanted
        .iter()
        .flat_map(breakdown)
        .filter(|atom| !owner.iter().any(|o| covers_one(o, atom)))
        .collect()
}

/// `CompactRules`: atoms for the same single group and resource (and no
/// names) merged into one rule with all their verbs.
fn compact(rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::new();
    for r in rules {
        let simple = r.resource_names.is_empty() && r.non_resource_urls.is_empty();
        if simple
            && let Some(existing) = out.iter_mut().find(|e| {
                e.resource_names.is_empty()
                    && e.non_resource_urls.is_empty()
                    && e.api_groups == r.api_groups
                    && e.resources == r.resources
            })
        {
            for v in r.verbs {
                if !existing.verbs.contains(&v) {
                    existing.verbs.push(v);
                }
            }
            continue;
        }
        out.push(r);
    }
    out
}

fn go_quoted(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(" "))
}

/// `CompactString`: `{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}`.
pub fn compact_string(r: &PolicyRule) -> String {
    let mut parts = Vec::new();
    for (label, list) in [
        ("APIGroups", &r.api_groups),
        ("Resources", &r.resources),
        ("NonResourceURLs", &r.non_resource_urls),
        ("ResourceNames", &r.resource_names),
        ("Verbs", &r.verbs),
    ] {
        if !list.is_empty() {
            parts.push(format!("{label}:{}", go_quoted(list)));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

/// The error `ConfirmNoEscalation` gives when `owner` lacks some of
/// `wanted`, or `None` when the owner holds them all.
pub fn confirm_no_escalation(
    username: &str,
    groups: &[String],
    owner: &[PolicyRule],
    resolution_error: Option<&str>,
    wanted: &[PolicyRule],
) -> Option<String> {
    let lacking = missing(owner, wanted);
    if lacking.is_empty() {
        return None;
    }
    let mut lines: Vec<String> = compact(lacking).iter().map(compact_string).collect();
    lines.sort();
    lines.dedup();
    let mut msg = format!(
        "user {username:?} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quoted(groups),
        lines.join("\n")
    );
    if let Some(e) = resolution_error {
        msg.push_str(&format!("; resolution errors: [{e}]"));
    }
    Some(msg)
}

/// What an RBAC write grants.
fn granted_rules(
    store: &Store,
    plural: &str,
    namespace: &str,
    obj: &Value,
) -> Result<Vec<PolicyRule>, String> {
    match plural {
        "roles" | "clusterroles" => Ok(PolicyRule::list_of(obj)),
        _ => super::role_rules(store, obj.get("roleRef").unwrap_or(&Value::Null), namespace),
    }
}

/// The escalation checks of the policy-based RBAC storages for a write of
/// `new` (replacing `old`, if any) by `user`; `Err` is the 403 to answer.
pub fn check(
    store: &Store,
    user: &UserInfo,
    plural: &str,
    namespace: &str,
    new: &Value,
    old: Option<&Value>,
) -> Result<(), Status> {
    if !matches!(
        plural,
        "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings"
    ) || user.groups.iter().any(|g| g == super::SYSTEM_MASTERS)
    {
        return Ok(());
    }
    let name = crate::api::meta::name(new);
    let gr = GroupResource {
        group: super::CLUSTER_ROLES.group,
        resource: plural,
    };
    let forbid = |why: &str| Status::forbidden(gr, name, why);
    let binding = plural.ends_with("bindings");
    if binding {
        // roleRef is immutable; an update that keeps it grants nothing new.
        if old.is_some_and(|o| o.get("roleRef") == new.get("roleRef")) {
            return Ok(());
        }
        let role_ref = new.get("roleRef").unwrap_or(&Value::Null);
        let role_kind = role_ref.get("kind").and_then(Value::as_str).unwrap_or("");
        let role_name = role_ref.get("name").and_then(Value::as_str).unwrap_or("");
        let resource = if role_kind == "Role" {
            "roles"
        } else {
            "clusterroles"
        };
        let bind = Attributes::resource(
            "bind",
            super::CLUSTER_ROLES.group,
            resource,
            namespace,
            role_name,
        );
        if super::authorize(store, user, &bind).allowed {
            return Ok(());
        }
    } else {
        if old.is_some_and(|o| PolicyRule::list_of(o) == PolicyRule::list_of(new)) {
            return Ok(());
        }
        let escalate = Attributes::resource(
            "escalate",
            super::CLUSTER_ROLES.group,
            plural,
            namespace,
            name,
        );
        if super::authorize(store, user, &escalate).allowed {
            return Ok(());
        }
    }
    let wanted = granted_rules(store, plural, namespace, new).map_err(|e| forbid(&e))?;
    let (owner, err) = super::rules_for(store, user, namespace);
    if let Some(msg) = confirm_no_escalation(
        &user.username,
        &user.groups,
        &owner,
        err.as_deref(),
        &wanted,
    ) {
        return Err(forbid(&msg));
    }
    // An aggregationRule can gather anything: it takes `*` on `*.*`.
    if plural == "clusterroles" && new.get("aggregationRule").is_some_and(|a| !a.is_null()) {
        let full = [
            PolicyRule::from_json(&json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})),
            PolicyRule::from_json(&json!({"nonResourceURLs": ["*"], "verbs": ["*"]})),
        ];
        if !missing(&owner, &full).is_empty() {
            return Err(forbid(
                "must have cluster-admin privileges to use the aggregationRule",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: serde_json::Value) -> PolicyRule {
        PolicyRule::from_json(&v)
    }

    #[test]
    fn owners_cover_what_they_hold_and_nothing_more() {
        let owner = [
            rule(
                json!({"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}),
            ),
            rule(json!({"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]})),
            rule(json!({"nonResourceURLs": ["/api/*"], "verbs": ["get"]})),
        ];
        let cases = [
            (
                json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}),
                0,
            ),
            (
                json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete", "create"]}),
                2,
            ),
            (
                json!({"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["update"]}),
                0,
            ),
            (
                json!({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}),
                1,
            ),
            (
                json!({"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a", "b"], "verbs": ["list"]}),
                0,
            ),
            (json!({"nonResourceURLs": ["/api/v1"], "verbs": ["get"]}), 0),
            (
                json!({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}),
                1,
            ),
        ];
        for (wanted, lacking) in cases {
            assert_eq!(
                missing(&owner, &[rule(wanted.clone())]).len(),
                lacking,
                "{wanted}"
            );
        }
    }

    #[test]
    fn escalation_message_is_upstreams() {
        let owner = [rule(
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}),
        )];
        let wanted = [rule(
            json!({"apiGroups": ["", "apps"], "resources": ["pods"], "verbs": ["get", "delete", "create"]}),
        )];
        let msg = confirm_no_escalation(
            "alice",
            &["devs".into(), "system:authenticated".into()],
            &owner,
            None,
            &wanted,
        );
        assert_eq!(
            msg.as_deref(),
            Some(
                "user \"alice\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
                 {APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\" \"create\"]}\n\
                 {APIGroups:[\"apps\"], Resources:[\"pods\"], Verbs:[\"get\" \"delete\" \"create\"]}"
            )
        );
        assert_eq!(
            confirm_no_escalation("alice", &[], &owner, None, &owner),
            None
        );
    }
}
