//! The Eviction API (`pods/<name>/eviction`, upstream
//! `pkg/registry/core/pod/storage/eviction.go`): deletes a pod unless a
//! PodDisruptionBudget forbids it.
//!
//! Terminal, Pending and terminating pods are deleted without looking at
//! budgets. Otherwise the one PDB selecting the pod must allow a
//! disruption: the handler decrements `disruptionsAllowed`, records the pod
//! in `disruptedPods` (so the disruption controller does not count it as
//! healthy while it goes) and deletes it, after giving it the
//! `DisruptionTarget` condition (`EvictionByEvictionAPI`). A budget with
//! nothing to spare answers 429 `Cannot evict pod as it would violate the
//! pod's disruption budget.` with a `DisruptionBudget` cause, which
//! `kubectl drain` retries every 5 seconds. An unready pod may go when the
//! budget is already met (or `unhealthyPodEvictionPolicy: AlwaysAllow`).

use super::options::DeleteOptions;
use super::pdb::{self, PDBS};
use super::{PatchType, Registry, lookup_res};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::status::{GroupResource, Status};
use crate::registry::options::WriteOptions;
use crate::sim::clock::format_time;
use crate::store::ResKey;
use serde_json::{Value, json};

/// `EvictionsRetry.Steps`: conflicts retried on the budget.
const RETRIES: usize = 20;
/// `MaxDisruptedPodSize`.
const MAX_DISRUPTED_PODS: usize = 2000;
pub const TOO_MANY_REQUESTS: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";
pub const MORE_THAN_ONE_PDB: &str = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";

const PODS_KEY: ResKey = ResKey {
    group: "",
    resource: "pods",
};

fn phase(pod: &Value) -> &str {
    pod.get_in(&["status", "phase"])
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `podutil.IsPodReady`.
fn is_ready(pod: &Value) -> bool {
    pod.get_in(&["status", "conditions"])
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

const PODS: GroupResource<'static> = GroupResource {
    group: "",
    resource: "pods",
};

/// `errors.NewTooManyRequests` with a `DisruptionBudget` cause.
fn too_many_requests(cause: String, retry_after: i64) -> Status {
    let mut details = json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]});
    if retry_after > 0 {
        details["retryAfterSeconds"] = json!(retry_after);
    }
    Status {
        code: 429,
        reason: "TooManyRequests",
        message: TOO_MANY_REQUESTS.into(),
        details: Some(details),
    }
}

/// `createTooManyRequestsError`.
fn still_processing(pdb: &str) -> Status {
    too_many_requests(
        format!("The disruption budget {pdb} is still being processed by the server."),
        10,
    )
}

/// `canIgnorePDB`.
fn can_ignore_pdb(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed" | "Pending") || meta::is_deleting(pod)
}

/// `shouldEnforceResourceVersion`.
fn should_enforce_rv(pod: &Value) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && !meta::is_deleting(pod)
}

fn int(v: &Value, p: &str) -> i64 {
    v.at(p).and_then(Value::as_i64).unwrap_or(0)
}

impl Registry {
    /// Evicts pod `ns/name` as `POST pods/<name>/eviction` with `body` (a
    /// policy/v1 or v1beta1 Eviction). `Ok` is the Status to send with 201.
    pub fn evict(&self, ns: &str, name: &str, body: &Value) -> Result<Value, Status> {
        let body_name = meta::name(body);
        if body_name != name {
            return Err(Status::bad_request(
                "name in URL does not match name in Eviction object",
            ));
        }
        let opts = match body.get("deleteOptions").filter(|o| !o.is_null()) {
            Some(o) => DeleteOptions::from_json(o).map_err(Status::bad_request)?,
            None => DeleteOptions::default(),
        };
        let success = Ok(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        );
        let Some(pod) = self.store.get(PODS_KEY, ns, name) else {
            return Err(Status::not_found(PODS, name));
        };
        if can_ignore_pdb(&pod) {
            let mut opts = opts.clone();
            if should_enforce_rv(&pod) && opts.precondition_rv.is_none() {
                opts.precondition_rv = meta::resource_version(&pod);
            }
            self.condition_and_delete(ns, name, opts)?;
            return success;
        }
        let pdbs: Vec<_> = self
            .store
            .list(PDBS, Some(ns))
            .0
            .into_iter()
            .filter(|p| pdb::selects(p, &pod))
            .collect();
        if pdbs.len() > 1 {
            return Ok(
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": MORE_THAN_ONE_PDB, "code": 500}),
            );
        }
        let mut delete_opts = opts.clone();
        let mut unready_precondition = false;
        if let Some(pdb) = pdbs.first() {
            let policy = pdb
                .get_in(&["spec", "unhealthyPodEvictionPolicy"])
                .and_then(Value::as_str);
            let (current, desired) = (
                int(pdb, "/status/currentHealthy"),
                int(pdb, "/status/desiredHealthy"),
            );
            if !is_ready(&pod)
                && (policy == Some("AlwaysAllow") || (current >= desired && desired > 0))
            {
                unready_precondition = true;
            } else {
                self.check_and_decrement(ns, name, meta::name(pdb), opts.dry_run)?;
            }
        }
        if unready_precondition && delete_opts.precondition_rv.is_none() {
            delete_opts.precondition_rv = meta::resource_version(&pod);
        }
        match self.condition_and_delete(ns, name, delete_opts) {
            Err(e) if e.code == 409 && unready_precondition && opts.precondition_rv.is_none() => {
                Err(still_processing(pdbs.first().map_or("", |p| meta::name(p))))
            }
            Err(e) => Err(e),
            Ok(()) => success,
        }
    }

    /// `checkAndDecrement`, retried on conflicts with a fresh budget.
    fn check_and_decrement(
        &self,
        ns: &str,
        pod: &str,
        pdb_name: &str,
        dry_run: bool,
    ) -> Result<(), Status> {
        let info = lookup_res(PDBS).ok_or_else(|| Status::internal("no PodDisruptionBudgets"))?;
        for _ in 0..RETRIES {
            let Some(pdb) = self.store.get(PDBS, ns, pdb_name) else {
                return Err(Status::not_found(
                    GroupResource {
                        group: "policy",
                        resource: "poddisruptionbudgets",
                    },
                    pdb_name,
                ));
            };
            if int(&pdb, "/status/observedGeneration") < int(&pdb, "/metadata/generation") {
                return Err(still_processing(pdb_name));
            }
            let allowed = int(&pdb, "/status/disruptionsAllowed");
            let forbidden = |why: &str| {
                Status::forbidden(
                    GroupResource {
                        group: "policy",
                        resource: "poddisruptionbudget",
                    },
                    pdb_name,
                    why,
                )
            };
            if allowed < 0 {
                return Err(forbidden("pdb disruptions allowed is negative"));
            }
            let disrupted = pdb
                .get_in(&["status", "disruptedPods"])
                .and_then(Value::as_object)
                .map_or(0, serde_json::Map::len);
            if disrupted > MAX_DISRUPTED_PODS {
                return Err(forbidden(
                    "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
                ));
            }
            if allowed == 0 {
                return Err(too_many_requests(
                    format!(
                        "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                        int(&pdb, "/status/desiredHealthy"),
                        int(&pdb, "/status/currentHealthy")
                    ),
                    0,
                ));
            }
            if dry_run {
                return Ok(());
            }
            let now = self.clock.now();
            let mut status = pdb.get("status").cloned().unwrap_or(json!({}));
            status["disruptionsAllowed"] = json!(allowed - 1);
            if allowed - 1 == 0 {
                pdb::update_allowed_condition(&mut status, now);
            }
            let patch = json!({
                "metadata": {"resourceVersion": pdb.get_in(&["metadata", "resourceVersion"])},
                "status": {
                    "disruptionsAllowed": status["disruptionsAllowed"],
                    "conditions": status.get("conditions").cloned().unwrap_or(Value::Null),
                    "disruptedPods": {pod: format_time(now)},
                },
            });
            match self.patch(
                info,
                ns,
                pdb_name,
                PatchType::Merge,
                &patch,
                Some("status"),
                &WriteOptions::default(),
            ) {
                Ok(_) => return Ok(()),
                Err(e) if e.code == 409 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Status {
            code: 504,
            reason: "Timeout",
            message: format!(
                "Timeout: couldn't update PodDisruptionBudget {pdb_name:?} due to conflicts"
            ),
            details: Some(json!({"retryAfterSeconds": 10})),
        })
    }

    /// `addConditionAndDeletePod`: the `DisruptionTarget` condition, then
    /// the delete (with the precondition moved to the updated version).
    fn condition_and_delete(
        &self,
        ns: &str,
        name: &str,
        mut opts: DeleteOptions,
    ) -> Result<(), Status> {
        let info = lookup_res(PODS_KEY).ok_or_else(|| Status::internal("no pods"))?;
        if !opts.dry_run {
            let Some(pod) = self.store.get(PODS_KEY, ns, name) else {
                return Err(Status::not_found(PODS, name));
            };
            if let Some(uid) = &opts.precondition_uid
                && !uid.is_empty()
                && uid != meta::uid(&pod)
            {
                return Err(Status::conflict(
                    PODS,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        meta::uid(&pod)
                    ),
                ));
            }
            if let Some(rv) = opts.precondition_rv
                && meta::resource_version(&pod) != Some(rv)
            {
                return Err(Status::conflict(
                    PODS,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        meta::resource_version(&pod).unwrap_or(0)
                    ),
                ));
            }
            let now = format_time(self.clock.now());
            let mut conditions: Vec<Value> = pod
                .get_in(&["status", "conditions"])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let cond = json!({"type": "DisruptionTarget", "status": "True", "lastProbeTime": null,
                              "lastTransitionTime": now, "reason": "EvictionByEvictionAPI",
                              "message": "Eviction API: evicting"});
            match conditions
                .iter_mut()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("DisruptionTarget"))
            {
                Some(c) => {
                    if c.get("status") == cond.get("status") {
                        let ltt = c["lastTransitionTime"].clone();
                        *c = cond;
                        c["lastTransitionTime"] = ltt;
                    } else {
                        *c = cond;
                    }
                }
                None => conditions.push(cond),
            }
            let patch = json!({"status": {"conditions": conditions}});
            let updated = self.patch(
                info,
                ns,
                name,
                PatchType::Merge,
                &patch,
                Some("status"),
                &WriteOptions::default(),
            )?;
            if opts.precondition_rv.is_some() {
                opts.precondition_rv = meta::resource_version(&updated.object);
            }
        }
        self.delete(info, ns, name, &opts).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
