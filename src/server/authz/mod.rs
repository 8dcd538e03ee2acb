//! Authorization: the RBAC authorizer every request passes after
//! authentication (and impersonation), as kube-apiserver runs it with
//! `--authorization-mode=Node,RBAC` on a kubeadm/kind cluster.
//!
//! `system:masters` is allowed before RBAC (the privileged-group
//! authorizer, no reason); the Node authorizer has no opinion on anyone the
//! simulator authenticates. RBAC walks ClusterRoleBindings, then the
//! RoleBindings of the request's namespace (`VisitRulesFor` in
//! `pkg/registry/rbac/validation/rule.go`); a binding whose role is missing
//! contributes its error to the denial's reason (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`).

pub mod escalation;
pub mod impersonate;

use super::auth::UserInfo;
use crate::api::status::{GroupResource, Status};
use crate::store::Store;
use rule::{Attributes, PolicyRule};
use serde_json::{Value, json};

pub use crate::registry::rbac::{CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLE_BINDINGS, ROLES, rule};

const GROUP: &str = "rbac.authorization.k8s.io";

/// The group whose members may do anything, before RBAC is asked.
pub const SYSTEM_MASTERS: &str = "system:masters";

/// An authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// `RBAC: allowed by ...` when allowed; on a denial, the resolution
    /// errors RBAC met (often empty).
    pub reason: String,
}

/// A binding subject as RBAC describes it in reasons.
fn describe_subject(subject: &Value, binding_ns: &str) -> String {
    let kind = str_of(subject, "kind");
    let name = str_of(subject, "name");
    if kind == "ServiceAccount" {
        let ns = match str_of(subject, "namespace") {
            "" => binding_ns,
            ns => ns,
        };
        return format!("{kind} {:?}", format!("{name}/{ns}"));
    }
    format!("{kind} {name:?}")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `appliesToUser`: whether a binding subject names this user.
fn applies_to(user: &UserInfo, subject: &Value, binding_ns: &str) -> bool {
    let name = str_of(subject, "name");
    match str_of(subject, "kind") {
        "User" => user.username == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = match str_of(subject, "namespace") {
                "" => binding_ns,
                ns => ns,
            };
            !ns.is_empty() && user.username == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// Rules granted to a user by one binding, or why they could not be read.
struct Grant {
    source: String,
    rules: Result<Vec<PolicyRule>, String>,
}

/// The rules a role reference names (`GetRoleReferenceRules`).
fn role_rules(
    store: &Store,
    role_ref: &Value,
    binding_ns: &str,
) -> Result<Vec<PolicyRule>, String> {
    let name = str_of(role_ref, "name");
    let role = match str_of(role_ref, "kind") {
        "Role" => store
            .get(ROLES, binding_ns, name)
            .ok_or_else(|| format!("role.{GROUP} {name:?} not found"))?,
        "ClusterRole" => store
            .get(CLUSTER_ROLES, "", name)
            .ok_or_else(|| format!("clusterrole.{GROUP} {name:?} not found"))?,
        other => return Err(format!("unsupported role reference kind: {other:?}")),
    };
    Ok(PolicyRule::list_of(&role))
}

/// Every binding that applies to `user` for a request in `namespace`:
/// ClusterRoleBindings first, then the namespace's RoleBindings.
fn grants(store: &Store, user: &UserInfo, namespace: &str) -> Vec<Grant> {
    let mut out = Vec::new();
    let (crbs, _) = store.list(CLUSTER_ROLE_BINDINGS, None);
    for b in &crbs {
        let Some(subject) = subjects(b).iter().find(|s| applies_to(user, s, "")) else {
            continue;
        };
        let role_ref = b.get("roleRef").cloned().unwrap_or(Value::Null);
        out.push(Grant {
            source: format!(
                "ClusterRoleBinding {:?} of {} {:?} to {}",
                crate::api::meta::name(b),
                str_of(&role_ref, "kind"),
                str_of(&role_ref, "name"),
                describe_subject(subject, "")
            ),
            rules: role_rules(store, &role_ref, ""),
        });
    }
    if !namespace.is_empty() {
        let (rbs, _) = store.list(ROLE_BINDINGS, Some(namespace));
        for b in &rbs {
            let Some(subject) = subjects(b).iter().find(|s| applies_to(user, s, namespace)) else {
                continue;
            };
            let role_ref = b.get("roleRef").cloned().unwrap_or(Value::Null);
            out.push(Grant {
                source: format!(
                    "RoleBinding {:?} of {} {:?} to {}",
                    format!("{}/{namespace}", crate::api::meta::name(b)),
                    str_of(&role_ref, "kind"),
                    str_of(&role_ref, "name"),
                    describe_subject(subject, namespace)
                ),
                rules: role_rules(store, &role_ref, namespace),
            });
        }
    }
    out
}

fn subjects(binding: &Value) -> &[Value] {
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several
/// (deduplicated) in brackets.
fn aggregate(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => (*one).to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Decides one request (`Node,RBAC` behind the privileged-group authorizer).
pub fn authorize(store: &Store, user: &UserInfo, attrs: &Attributes) -> Decision {
    if user.groups.iter().any(|g| g == SYSTEM_MASTERS) {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let mut errors = Vec::new();
    for grant in grants(store, user, &attrs.namespace) {
        match grant.rules {
            Ok(rules) => {
                if rules.iter().any(|r| r.allows(attrs)) {
                    return Decision {
                        allowed: true,
                        reason: format!("RBAC: allowed by {}", grant.source),
                    };
                }
            }
            Err(e) => errors.push(e),
        }
    }
    Decision {
        allowed: false,
        reason: if errors.is_empty() {
            String::new()
        } else {
            format!("RBAC: {}", aggregate(&errors))
        },
    }
}

/// Every rule the user holds in `namespace` (cluster-wide ones included)
/// and the aggregated resolution error, if any (`RulesFor`).
pub fn rules_for(
    store: &Store,
    user: &UserInfo,
    namespace: &str,
) -> (Vec<PolicyRule>, Option<String>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    if user.groups.iter().any(|g| g == SYSTEM_MASTERS) {
        // The privileged-group authorizer enumerates everything.
        rules.push(PolicyRule::from_json(
            &json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
        ));
        rules.push(PolicyRule::from_json(
            &json!({"verbs": ["*"], "nonResourceURLs": ["*"]}),
        ));
    }
    for grant in grants(store, user, namespace) {
        match grant.rules {
            Ok(r) => rules.extend(r),
            Err(e) => errors.push(e),
        }
    }
    let err = (!errors.is_empty()).then(|| aggregate(&errors));
    (rules, err)
}

/// The 403 a denied request gets (`responsewriters.Forbidden`).
pub fn forbidden(user: &str, attrs: &Attributes, reason: &str) -> Status {
    let msg = if !attrs.resource_request {
        format!("User {user:?} cannot {} path {:?}", attrs.verb, attrs.path)
    } else if attrs.namespace.is_empty() {
        format!(
            "User {user:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
            attrs.verb,
            attrs.combined_resource(),
            attrs.group
        )
    } else {
        format!(
            "User {user:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
            attrs.verb,
            attrs.combined_resource(),
            attrs.group,
            attrs.namespace
        )
    };
    let why = if reason.is_empty() {
        msg
    } else {
        format!("{msg}: {reason}")
    };
    if !attrs.resource_request {
        return Status {
            code: 403,
            reason: "Forbidden",
            message: format!("forbidden: {why}"),
            details: Some(json!({})),
        };
    }
    Status::forbidden(
        GroupResource {
            group: &attrs.group,
            resource: &attrs.resource,
        },
        &attrs.name,
        &why,
    )
}

/// The authorization attributes of an HTTP request (`RequestInfo` as the
/// authorizer sees it: a `namespaces/<name>` request is in that namespace).
pub fn attributes_of(req: &super::request_info::RequestInfo) -> Attributes {
    if !req.is_resource {
        return Attributes::non_resource(&req.verb, &req.path);
    }
    let mut a = Attributes::resource(
        &req.verb,
        &req.group,
        &req.resource,
        &req.namespace,
        &req.name,
    );
    a.version = req.version.clone();
    a.subresource = req.subresource.clone();
    if req.resource == "namespaces" && !req.name.is_empty() {
        a.namespace = req.name.clone();
    }
    a
}

#[cfg(test)]
mod tests;
