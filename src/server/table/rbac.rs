//! rbac.authorization.k8s.io rows: role bindings and cluster role bindings.
//! Roles and cluster roles have no printer and use the default Name/Created At columns.
//!
//! Upstream truth: `printRoleBinding`, `printClusterRoleBinding` in
//! `pkg/printers/internalversion/printers.go`; `SubjectsStrings` in
//! `pkg/apis/rbac/helpers.go`.

use super::docs;
use super::duration::since;
use super::value::{arr_at, created, name, str_at};
use super::{AGE, ColumnDefinition, NAME, Row, col, wide};
use jiff::Timestamp;
use serde_json::{Value, json};

pub(crate) static ROLEBINDING_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Role", "string", docs::RB_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

pub(crate) static CLUSTERROLEBINDING_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Role", "string", docs::CRB_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

/// A RoleBinding or ClusterRoleBinding: `Kind/name` of the role, then the subjects
/// split into users, groups and `namespace/name` service accounts.
pub(crate) fn binding(b: &Value, now: Timestamp) -> Row {
    let role = format!(
        "{}/{}",
        str_at(b, &["roleRef", "kind"]),
        str_at(b, &["roleRef", "name"])
    );
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for s in arr_at(b, &["subjects"]) {
        let subject_name = str_at(s, &["name"]);
        match str_at(s, &["kind"]) {
            "ServiceAccount" => sas.push(format!("{}/{subject_name}", str_at(s, &["namespace"]))),
            "User" => users.push(subject_name.to_string()),
            "Group" => groups.push(subject_name.to_string()),
            _ => {}
        }
    }
    Row::new(vec![
        json!(name(b)),
        json!(role),
        json!(since(created(b), now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ])
}
