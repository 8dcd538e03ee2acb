//! Validating admission webhooks: checks the simulator registers once at
//! startup (the webhook servers' logic lives on the sim side, which the
//! registry must not import), called on create and update/patch after the
//! registry's own defaulting, validation and admission, as the apiserver's
//! `ValidatingAdmissionWebhook` plugin runs last. Dry-run writes are
//! checked too (upstream calls webhooks declaring `sideEffects: None` on
//! dry run); the simulator's own writes are not, as they stand for
//! controllers whose writes the add-on's webhook rules do not stop in the
//! drills modelled here. Subresources (`status`) are not intercepted.

use crate::api::status::Status;
use crate::store::{ResKey, Store};
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;

/// A webhook's verdict on one object: `Err` carries the Status the
/// apiserver answers with (the webhook's returned code, reason and the
/// message `admission webhook "<name>" denied the request: ...`).
pub type Check = Box<dyn Fn(&Value) -> Result<(), Status> + Send + Sync>;

/// A registered webhook: given the store (read outside the write lock) and
/// the time, returns the check for writes of `res`, or `None` when the
/// webhook does not intercept them (not installed, or another resource).
pub type ValidatingHook = Arc<dyn Fn(&Store, Timestamp, ResKey) -> Option<Check> + Send + Sync>;

/// The checks of every hook that intercepts writes of `res`.
pub(super) fn prepare(
    hooks: &[ValidatingHook],
    store: &Store,
    now: Timestamp,
    res: ResKey,
) -> Vec<Check> {
    hooks.iter().filter_map(|h| h(store, now, res)).collect()
}

/// Runs the checks in registration order; the first denial wins.
pub(super) fn run(checks: &[Check], obj: &Value) -> Result<(), Status> {
    checks.iter().try_for_each(|c| c(obj))
}
