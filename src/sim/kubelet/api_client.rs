//! The API server as processes in pods reach it (in-cluster kubectl, a
//! declared app's client-go calls): the request is authenticated from the
//! ServiceAccount token the container read, exactly as the server does it
//! (a token of ours whose ServiceAccount still exists), and decided by the
//! server's own RBAC authorizer (`server::authz::authorize`), so a pod's
//! 403 is the one `kubectl --as=system:serviceaccount:...` would get.
//! Reads answer with the server-side Table cells kubectl prints.

use crate::api::resource::RESOURCES;
use crate::api::selector::LabelSelector;
use crate::api::status::GroupResource;
use crate::registry::rbac::rule::Attributes;
use crate::server::authz;
use crate::server::table;
use crate::sim::workload::{ApiCall, ApiReply, NetReply, NetRequest, Network};
use crate::store::{ResKey, Store};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// A pod's network plus the API server behind `kubernetes.default.svc`.
pub struct InCluster<'a, N: Network> {
    pub net: N,
    pub store: &'a Store,
    pub now: Timestamp,
}

impl<N: Network> Network for InCluster<'_, N> {
    fn call(&self, req: &NetRequest, at: SignedDuration) -> NetReply {
        self.net.call(req, at)
    }
    fn dns_server(&self) -> String {
        self.net.dns_server()
    }
    fn api(&self, call: &ApiCall, _at: SignedDuration) -> ApiReply {
        answer(self.store, call, self.now)
    }
}

/// The API server's answer to `call` at `now`.
pub fn answer(store: &Store, call: &ApiCall, now: Timestamp) -> ApiReply {
    let Some(user) = crate::server::auth::service_account_user(store, &call.token) else {
        return ApiReply::Unauthorized;
    };
    if call.review {
        let review = Attributes::resource(
            "create",
            "authorization.k8s.io",
            "selfsubjectaccessreviews",
            "",
            "",
        );
        let d = authz::authorize(store, &user, &review);
        if !d.allowed {
            return ApiReply::Forbidden(
                authz::forbidden(&user.username, &review, &d.reason).message,
            );
        }
        let attrs = Attributes::resource(
            &call.verb,
            &call.group,
            &call.resource,
            &call.namespace,
            &call.name,
        );
        let d = authz::authorize(store, &user, &attrs);
        return ApiReply::Review {
            allowed: d.allowed,
            reason: if d.allowed { String::new() } else { d.reason },
        };
    }
    let attrs = Attributes::resource(
        &call.verb,
        &call.group,
        &call.resource,
        &call.namespace,
        &call.name,
    );
    let d = authz::authorize(store, &user, &attrs);
    if !d.allowed {
        return ApiReply::Forbidden(authz::forbidden(&user.username, &attrs, &d.reason).message);
    }
    let Some(info) = RESOURCES
        .iter()
        .find(|r| r.group == call.group && r.plural == call.resource)
    else {
        return ApiReply::NotFound("the server could not find the requested resource".into());
    };
    let key = ResKey {
        group: info.group,
        resource: info.plural,
    };
    let objects: Vec<std::sync::Arc<Value>> = if call.name.is_empty() {
        let selector = match LabelSelector::parse(&call.label_selector) {
            Ok(s) => s,
            Err(e) => return ApiReply::BadRequest(e.to_string()),
        };
        let ns = (!call.namespace.is_empty()).then_some(call.namespace.as_str());
        store
            .list(key, ns)
            .0
            .into_iter()
            .filter(|o| selector.matches(o.pointer("/metadata/labels").and_then(Value::as_object)))
            .collect()
    } else {
        match store.get(key, &call.namespace, &call.name) {
            Some(o) => vec![o],
            None => {
                return ApiReply::NotFound(
                    crate::api::status::Status::not_found(
                        GroupResource {
                            group: info.group,
                            resource: info.plural,
                        },
                        &call.name,
                    )
                    .message,
                );
            }
        }
    };
    let columns = table::column_definitions(info.group, info.plural)
        .iter()
        .map(|c| (c.name.to_string(), c.priority))
        .collect();
    let rows = objects
        .iter()
        .map(|o| {
            let mut cells = vec![crate::api::meta::namespace(o).to_string()];
            cells.extend(
                table::row(info.group, info.plural, o, now)
                    .cells
                    .iter()
                    .map(cell),
            );
            cells
        })
        .collect();
    ApiReply::Table { columns, rows }
}

/// A Table cell as kubectl's printer shows it.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<none>".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::rbac::sa_token;
    use serde_json::json;

    fn put(store: &Store, group: &'static str, resource: &'static str, obj: Value) {
        store
            .create(ResKey { group, resource }, obj)
            .expect("stored");
    }

    fn cluster() -> Store {
        let store = Store::default();
        put(
            &store,
            "",
            "serviceaccounts",
            json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"team-a","uid":"u1"}}),
        );
        put(
            &store,
            "",
            "configmaps",
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"team-a","creationTimestamp":"2026-01-01T00:00:00Z"},"data":{"ca.crt":"x"}}),
        );
        store
    }

    fn list_cms(token: &str) -> ApiCall {
        ApiCall {
            token: token.into(),
            verb: "list".into(),
            resource: "configmaps".into(),
            namespace: "team-a".into(),
            ..Default::default()
        }
    }

    fn now() -> Timestamp {
        "2026-01-01T00:05:00Z".parse().expect("valid")
    }

    #[test]
    fn a_service_account_without_a_role_is_forbidden_with_the_apiservers_message() {
        let store = cluster();
        let token = sa_token::service_account_jwt("team-a", "default", None);
        assert_eq!(
            answer(&store, &list_cms(&token), now()),
            ApiReply::Forbidden(
                "configmaps is forbidden: User \"system:serviceaccount:team-a:default\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"".into()
            )
        );
        assert_eq!(
            answer(&store, &list_cms("not-a-token"), now()),
            ApiReply::Unauthorized
        );
        let gone = sa_token::service_account_jwt("team-a", "deleted", None);
        assert_eq!(
            answer(&store, &list_cms(&gone), now()),
            ApiReply::Unauthorized
        );
    }

    #[test]
    fn a_role_binding_lets_the_next_call_read_the_table() {
        let store = cluster();
        put(
            &store,
            "rbac.authorization.k8s.io",
            "roles",
            json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"cm-reader","namespace":"team-a"},
                   "rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]}),
        );
        put(
            &store,
            "rbac.authorization.k8s.io",
            "rolebindings",
            json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"cm-reader","namespace":"team-a"},
                   "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-reader"},
                   "subjects":[{"kind":"ServiceAccount","name":"default","namespace":"team-a"}]}),
        );
        let token = sa_token::service_account_jwt("team-a", "default", None);
        assert_eq!(
            answer(&store, &list_cms(&token), now()),
            ApiReply::Table {
                columns: vec![("Name".into(), 0), ("Data".into(), 0), ("Age".into(), 0)],
                rows: vec![vec![
                    "team-a".into(),
                    "kube-root-ca.crt".into(),
                    "1".into(),
                    "5m".into()
                ]],
            }
        );
        let mut get = list_cms(&token);
        get.verb = "get".into();
        get.name = "missing".into();
        assert_eq!(
            answer(&store, &get, now()),
            ApiReply::NotFound("configmaps \"missing\" not found".into())
        );
        let mut selected = list_cms(&token);
        selected.label_selector = "app=web".into();
        assert_eq!(
            answer(&store, &selected, now()),
            ApiReply::Table {
                columns: vec![("Name".into(), 0), ("Data".into(), 0), ("Age".into(), 0)],
                rows: vec![],
            }
        );
        selected.label_selector = "app in (".into();
        assert!(matches!(
            answer(&store, &selected, now()),
            ApiReply::BadRequest(_)
        ));
        // can-i: the review itself needs system:basic-user, absent here.
        let mut review = list_cms(&token);
        review.review = true;
        assert_eq!(
            answer(&store, &review, now()),
            ApiReply::Forbidden("selfsubjectaccessreviews.authorization.k8s.io is forbidden: User \"system:serviceaccount:team-a:default\" cannot create resource \"selfsubjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope".into())
        );
    }
}
