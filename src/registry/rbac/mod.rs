//! RBAC and ServiceAccount identity pieces shared by the API server's
//! authorizer (`server::authz`), the clusterrole-aggregation controller and
//! the kubelet: the stored RBAC resources, policy rules and how a request
//! matches them, and the ServiceAccount tokens the cluster issues.

pub mod rule;
pub mod sa_token;

use crate::store::ResKey;

const GROUP: &str = "rbac.authorization.k8s.io";
pub const ROLES: ResKey = ResKey {
    group: GROUP,
    resource: "roles",
};
pub const CLUSTER_ROLES: ResKey = ResKey {
    group: GROUP,
    resource: "clusterroles",
};
pub const ROLE_BINDINGS: ResKey = ResKey {
    group: GROUP,
    resource: "rolebindings",
};
pub const CLUSTER_ROLE_BINDINGS: ResKey = ResKey {
    group: GROUP,
    resource: "clusterrolebindings",
};
