//! Table tests of the RBAC authorizer over a store of roles and bindings.

use super::*;
use crate::store::ResKey;
use serde_json::json;

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo {
        username: name.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    }
}

fn store() -> Store {
    let s = Store::new();
    let put = |res: ResKey, v: Value| {
        s.create(res, v).ok();
    };
    put(
        CLUSTER_ROLES,
        json!({"metadata": {"name": "pod-reader"}, "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]}),
    );
    put(
        CLUSTER_ROLES,
        json!({"metadata": {"name": "discovery"}, "rules": [{"nonResourceURLs": ["/api", "/api/*"], "verbs": ["get"]}]}),
    );
    put(
        ROLES,
        json!({"metadata": {"name": "cm-app", "namespace": "dev"}, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app"], "verbs": ["get", "update"]}]}),
    );
    put(
        CLUSTER_ROLE_BINDINGS,
        json!({"metadata": {"name": "authenticated-discovery"}, "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "discovery"}, "subjects": [{"kind": "Group", "name": "system:authenticated"}]}),
    );
    put(
        ROLE_BINDINGS,
        json!({"metadata": {"name": "alice-pods", "namespace": "dev"}, "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "pod-reader"}, "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "app"}]}),
    );
    put(
        ROLE_BINDINGS,
        json!({"metadata": {"name": "cm", "namespace": "dev"}, "roleRef": {"apiGroup": GROUP, "kind": "Role", "name": "cm-app"}, "subjects": [{"kind": "Group", "name": "devs"}]}),
    );
    put(
        ROLE_BINDINGS,
        json!({"metadata": {"name": "dangling", "namespace": "prod"}, "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "gone"}, "subjects": [{"kind": "User", "name": "alice"}]}),
    );
    s
}

#[test]
fn rbac_decides_from_bindings_and_says_why() {
    let s = store();
    let alice = user("alice", &["system:authenticated"]);
    let carol = user("carol", &["devs", "system:authenticated"]);
    let sa = user(
        "system:serviceaccount:dev:app",
        &[
            "system:serviceaccounts",
            "system:serviceaccounts:dev",
            "system:authenticated",
        ],
    );
    let other_sa = user("system:serviceaccount:prod:app", &["system:authenticated"]);
    let masters = user("root", &["system:masters"]);
    let r = Attributes::resource;
    let cases: Vec<(&str, &UserInfo, Attributes, bool, &str)> = vec![
        (
            "rolebinding to a clusterrole",
            &alice,
            r("list", "", "pods", "dev", ""),
            true,
            "RBAC: allowed by RoleBinding \"alice-pods/dev\" of ClusterRole \"pod-reader\" to User \"alice\"",
        ),
        (
            "subresource",
            &alice,
            r("get", "", "pods/log", "dev", "web"),
            true,
            "RBAC: allowed by RoleBinding \"alice-pods/dev\" of ClusterRole \"pod-reader\" to User \"alice\"",
        ),
        (
            "verb not granted",
            &alice,
            r("delete", "", "pods", "dev", "web"),
            false,
            "",
        ),
        (
            "other namespace",
            &alice,
            r("list", "", "pods", "default", ""),
            false,
            "",
        ),
        (
            "cluster scope",
            &alice,
            r("list", "", "pods", "", ""),
            false,
            "",
        ),
        (
            "missing role is the reason",
            &alice,
            r("list", "", "pods", "prod", ""),
            false,
            "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found",
        ),
        (
            "group subject, named resource",
            &carol,
            r("update", "", "configmaps", "dev", "app"),
            true,
            "RBAC: allowed by RoleBinding \"cm/dev\" of Role \"cm-app\" to Group \"devs\"",
        ),
        (
            "named resource only",
            &carol,
            r("get", "", "configmaps", "dev", "other"),
            false,
            "",
        ),
        (
            "service account in the binding's namespace",
            &sa,
            r("watch", "", "pods", "dev", ""),
            true,
            "RBAC: allowed by RoleBinding \"alice-pods/dev\" of ClusterRole \"pod-reader\" to ServiceAccount \"app/dev\"",
        ),
        (
            "same-named service account elsewhere",
            &other_sa,
            r("watch", "", "pods", "dev", ""),
            false,
            "",
        ),
        (
            "non-resource url",
            &alice,
            Attributes::non_resource("get", "/api/v1"),
            true,
            "RBAC: allowed by ClusterRoleBinding \"authenticated-discovery\" of ClusterRole \"discovery\" to Group \"system:authenticated\"",
        ),
        (
            "system:masters",
            &masters,
            r("delete", "", "nodes", "", "n1"),
            true,
            "",
        ),
    ];
    for (name, u, attrs, allowed, reason) in cases {
        let d = authorize(&s, u, &attrs);
        assert_eq!((d.allowed, d.reason.as_str()), (allowed, reason), "{name}");
    }
}

#[test]
fn forbidden_messages_are_upstreams() {
    let r = Attributes::resource;
    let cases = [
        (
            r("list", "", "pods", "default", ""),
            "",
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
        ),
        (
            r("delete", "apps", "deployments", "dev", "web"),
            "",
            "deployments.apps \"web\" is forbidden: User \"alice\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"dev\"",
        ),
        (
            r("list", "", "nodes", "", ""),
            "",
            "nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
        ),
        (
            r("create", "", "pods/exec", "dev", "web"),
            "",
            "pods \"web\" is forbidden: User \"alice\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"dev\"",
        ),
        (
            r("get", "", "pods", "prod", ""),
            "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found",
            "pods is forbidden: User \"alice\" cannot get resource \"pods\" in API group \"\" in the namespace \"prod\": RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found",
        ),
        (
            Attributes::non_resource("get", "/metrics"),
            "",
            "forbidden: User \"alice\" cannot get path \"/metrics\"",
        ),
    ];
    for (attrs, reason, want) in cases {
        let st = forbidden("alice", &attrs, reason);
        assert_eq!(
            (st.code, st.reason, st.message.as_str()),
            (403, "Forbidden", want)
        );
    }
}

#[test]
fn rules_for_collects_cluster_and_namespace_rules() {
    let s = store();
    let carol = user("carol", &["devs", "system:authenticated"]);
    let (rules, err) = rules_for(&s, &carol, "dev");
    assert_eq!(err, None);
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].non_resource_urls, ["/api", "/api/*"]);
    assert_eq!(rules[1].resource_names, ["app"]);
    let (_, err) = rules_for(&s, &user("alice", &[]), "prod");
    assert_eq!(
        err.as_deref(),
        Some("clusterrole.rbac.authorization.k8s.io \"gone\" not found")
    );
}

#[test]
fn anonymous_requests_reach_only_what_unauthenticated_groups_hold() {
    let s = store();
    s.create(
        CLUSTER_ROLES,
        json!({"metadata": {"name": "public"}, "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
    )
    .ok();
    s.create(
        CLUSTER_ROLE_BINDINGS,
        json!({"metadata": {"name": "public"}, "roleRef": {"kind": "ClusterRole", "name": "public"}, "subjects": [{"kind": "Group", "name": "system:unauthenticated"}]}),
    )
    .ok();
    let anon = UserInfo::anonymous();
    assert!(authorize(&s, &anon, &Attributes::non_resource("get", "/healthz")).allowed);
    assert!(!authorize(&s, &anon, &Attributes::non_resource("get", "/api")).allowed);
    let pods = Attributes::resource("list", "", "pods", "default", "");
    assert!(!authorize(&s, &anon, &pods).allowed);
    assert_eq!(
        forbidden(&anon.username, &pods, "").message,
        "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
}
