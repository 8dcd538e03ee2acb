//! The simulator's own Events, created without building their tree.
//!
//! A cluster writes an Event for nearly every step of every pod (five for
//! a pod that starts), and nothing reads most of them back: building each
//! as a `Value` tree, passing it through `create` and holding it cost as
//! much as the rest of the pod's writes together. An Event has no
//! defaults, no kind-specific validation and no admission besides the
//! namespace's lifecycle and ResourceQuota, so what `create` would store
//! is known in advance: the recorder writes it straight to the store's
//! packed form (`Packer`), and a reader decodes it as it would an Event
//! packed later.

use super::admission::resource_quota::QUOTAS;
use super::{Registry, lookup_res, res_key, store_status};
use crate::api::name::is_valid_dns1123_subdomain;
use crate::api::status::Status;
use crate::store::ResKey;
use std::sync::Arc;

const EVENTS: ResKey = ResKey {
    group: "",
    resource: "events",
};

/// What the server sets on a new object, for the encoder to write.
pub struct ServerMeta<'a> {
    pub uid: &'a str,
    pub creation_timestamp: &'a str,
    pub resource_version: u64,
}

impl Registry {
    /// `POST` of an Event in `ns` named `name`, which `encode` writes in
    /// its packed form as `create` would store it (`apiVersion` and
    /// `kind` set, `metadata` holding exactly `creationTimestamp`, `name`,
    /// `namespace`, `resourceVersion` and `uid`, from `ServerMeta`; no
    /// ownerReferences). Returns its resourceVersion, or `Ok(None)` when the
    /// write needs `create`'s whole path (a ResourceQuota in the namespace
    /// may count Events; a name the API refuses gets `create`'s error).
    /// Fails as `create` does when the namespace is gone or terminating.
    /// Debug builds decode what was stored and validate it.
    pub fn create_event_packed(
        &self,
        ns: &str,
        name: &str,
        encode: impl FnOnce(&ServerMeta) -> Arc<[u8]>,
    ) -> Result<Option<u64>, Status> {
        let Some(info) = lookup_res(EVENTS) else {
            return Ok(None);
        };
        if ns.is_empty() || !is_valid_dns1123_subdomain(name) {
            return Ok(None);
        }
        if self.store.count(QUOTAS) > 0 && !self.store.list(QUOTAS, Some(ns)).0.is_empty() {
            return Ok(None);
        }
        self.check_namespace(info, ns, name)?;
        let uid = self.rng.uuid();
        let created = self.now();
        let rv = self
            .store
            .create_packed(res_key(info), ns, name, |rv| {
                encode(&ServerMeta {
                    uid: &uid,
                    creation_timestamp: &created,
                    resource_version: rv,
                })
            })
            .map_err(|e| store_status(info, e))?;
        #[cfg(debug_assertions)]
        self.check_packed_event(ns, name);
        Ok(Some(rv))
    }

    /// What `create` would have checked of an Event written packed.
    #[cfg(debug_assertions)]
    fn check_packed_event(&self, ns: &str, name: &str) {
        let Some(stored) = self.store.get(EVENTS, ns, name) else {
            return;
        };
        let errors = super::validation::validate_create("", "Event", &stored);
        debug_assert!(errors.is_empty(), "a packed Event is invalid: {errors:?}");
        debug_assert_eq!(stored["apiVersion"], "v1");
        debug_assert_eq!(stored["kind"], "Event");
        debug_assert_eq!(crate::api::meta::namespace(&stored), ns);
        debug_assert_eq!(crate::api::meta::name(&stored), name);
        debug_assert!(crate::api::meta::owner_references(&stored).is_empty());
    }
}
