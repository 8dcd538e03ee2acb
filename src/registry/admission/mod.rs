//! Admission plugins that need the store, each in a file named for the
//! upstream plugin: ServiceAccount (`service_account`), LimitRanger
//! (`limit_ranger`), ResourceQuota (`resource_quota`, with the usage
//! evaluators in `quota_usage`) and PodSecurity (`pod_security`).
//!
//! Upstream runs mutating admission before object validation and
//! validating admission after it, in `AllOrderedPlugins` order
//! (LimitRanger, ServiceAccount, ..., PodSecurity, ..., ResourceQuota
//! last); the registry calls `mutate_create` and `validate_create` at
//! those two points.

pub mod limit_ranger;
pub mod pod_security;
pub mod quota_usage;
pub mod resource_quota;
pub mod service_account;

pub use service_account::{TOKEN_MOUNT_PATH, service_account};

use crate::api::resource::ResourceInfo;
use crate::api::status::Status;
use crate::store::{ResKey, Store};
use jiff::Timestamp;
use serde_json::Value;

const NAMESPACES: ResKey = ResKey {
    group: "",
    resource: "namespaces",
};
const PODS: ResKey = ResKey {
    group: "",
    resource: "pods",
};

/// PodSecurity on a namespace update: warnings about the pods already in
/// it when the enforce label got stricter.
pub fn namespace_update_warnings(store: &Store, old: &Value, new: &Value) -> Vec<String> {
    let (old_l, new_l) = (crate::api::meta::labels(old), crate::api::meta::labels(new));
    if old_l == new_l {
        return Vec::new();
    }
    let name = crate::api::meta::name(new);
    let (pods, _) = store.list(PODS, Some(name));
    pod_security::namespace_update_warnings(name, old_l, new_l, pods.iter().map(|p| p.as_ref()))
}

/// The validating plugins on a create, in upstream's order: LimitRanger,
/// PodSecurity, ResourceQuota. Returns the warnings to send.
pub fn validate_create(
    store: &Store,
    now: Timestamp,
    info: &ResourceInfo,
    ns: &str,
    obj: &Value,
) -> Result<Vec<String>, Status> {
    limit_ranger::validate_create(store, info, ns, obj)?;
    let mut warnings = Vec::new();
    if info.namespaced
        && (info.plural == "pods"
            || pod_security::template_spec(info.group, info.plural, obj).is_some())
    {
        let namespace = store.get(NAMESPACES, "", ns);
        let labels = namespace.as_deref().and_then(crate::api::meta::labels);
        warnings = pod_security::admit_create(labels, info.group, info.plural, obj)?;
    }
    resource_quota::admit_create(store, now, info, ns, obj)?;
    Ok(warnings)
}
