//! The PersistentVolume controller (`pkg/controller/volume/persistentvolume`
//! upstream, `pv_controller.go`): binds claims to volumes and keeps both
//! phases right.
//!
//! Keys are claims (`namespace/name`) and volumes (namespace "").
//!
//! A claim that never completed binding (`syncUnboundClaim`) gets the
//! volume it names, or the best match by class, size, access modes,
//! volumeMode and selector. Failing that: a WaitForFirstConsumer claim
//! waits (`WaitForFirstConsumer`, or `WaitForPodScheduled` while a pod
//! using it is not scheduled) until the scheduler picks a node
//! (`volume.kubernetes.io/selected-node`); a claim with a class is handed
//! to the class's external provisioner (`ExternalProvisioning`, with the
//! `storage-provisioner` annotations) or fails (`ProvisioningFailed`, e.g.
//! `storageclass.storage.k8s.io "fast" not found`); a claim without class
//! gets `FailedBinding`. Pending claims are looked at again every 15s (the
//! controller's resync period), so their events count up as upstream's do.
//!
//! Binding writes what `bind()` writes: the volume's `claimRef` (and
//! `pv.kubernetes.io/bound-by-controller`), its `Bound` phase, the claim's
//! `volumeName` with `pv.kubernetes.io/bind-completed` (and
//! `bound-by-controller` when the controller chose the volume), and the
//! claim's `Bound` status with the volume's access modes and capacity.
//!
//! A volume whose claim is gone is `Released`; `Retain` keeps it, `Delete`
//! leaves a dynamically provisioned volume to its external provisioner and
//! deletes a static `hostPath` volume under `/tmp/` (any other static
//! volume fails to delete with upstream's `VolumeFailedDelete` event).
//!
//! Differences from upstream: no pvc/pv-protection finalizers, no
//! Recycle, no volume expansion, no migration annotations.

use super::volumeutil::{self as vu, res, s};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

pub const COMPONENT: &str = "persistentvolume-controller";

/// The controller's resync period: pending claims are retried this often.
pub const RESYNC: SignedDuration = SignedDuration::from_secs(15);

/// The controller.
pub struct PersistentVolumeController;

fn event(obj: &Value, type_: EventType, reason: &str, message: String) -> Action {
    Action::Event(EventSpec {
        involved: ObjectRef::to(obj),
        type_,
        reason: reason.into(),
        message,
        component: COMPONENT.into(),
        host: None,
    })
}

fn key_of_claim_ref(pv: &Value) -> Option<ObjectKey> {
    let cr = pv.get_in(&["spec", "claimRef"])?;
    Some(ObjectKey::new(s(cr, "/namespace"), s(cr, "/name")))
}

/// `updateClaimStatus`: the phase, and the volume's modes and capacity
/// (cleared without a volume). None when nothing changes.
fn claim_status(claim: &Value, phase: &str, pv: Option<&Value>) -> Option<Action> {
    let status = claim.get("status").cloned().unwrap_or(json!({}));
    let (modes, cap) = match pv {
        Some(pv) => (
            pv.get_in(&["spec", "accessModes"])
                .cloned()
                .unwrap_or(Value::Null),
            pv.get_in(&["spec", "capacity"])
                .cloned()
                .unwrap_or(Value::Null),
        ),
        None => (Value::Null, Value::Null),
    };
    let cur = |k: &str| status.get(k).cloned().unwrap_or(Value::Null);
    let same_cap = match (cap.get("storage"), cur("capacity").get("storage")) {
        (Some(a), Some(b)) => crate::api::quantity::same_value(a, b),
        (None, None) => true,
        _ => false,
    };
    if s(&status, "/phase") == phase && cur("accessModes") == modes && same_cap {
        return None;
    }
    Some(Action::Patch {
        res: res::PVCS,
        key: ObjectKey::of(claim),
        patch: json!({"status": {"phase": phase, "accessModes": modes, "capacity": cap}}),
        status: true,
    })
}

/// `updateVolumePhase` (with `lastPhaseTransitionTime`). None when the
/// phase is already right.
fn volume_phase(pv: &Value, phase: &str, message: Option<&str>, now: Timestamp) -> Option<Action> {
    if s(pv, "/status/phase") == phase {
        return None;
    }
    let mut status = json!({"phase": phase, "lastPhaseTransitionTime": format_time(now)});
    if let Some(m) = message {
        status["message"] = json!(m);
    }
    Some(Action::Patch {
        res: res::PVS,
        key: ObjectKey::new("", meta::name(pv)),
        patch: json!({"status": status}),
        status: true,
    })
}

/// `bind()`: volume to claim, volume phase, claim to volume, claim status.
fn bind(pv: &Value, claim: &Value, now: Timestamp) -> Vec<Action> {
    let mut actions = Vec::new();
    let pv_key = ObjectKey::new("", meta::name(pv));
    // bindVolumeToClaim
    let cr = pv.get_in(&["spec", "claimRef"]);
    let ref_ok = cr.is_some_and(|cr| {
        s(cr, "/name") == meta::name(claim)
            && s(cr, "/namespace") == meta::namespace(claim)
            && s(cr, "/uid") == meta::uid(claim)
    });
    let mut patch = json!({});
    if !ref_ok {
        patch["spec"] = json!({"claimRef": {
            "kind": "PersistentVolumeClaim",
            "namespace": meta::namespace(claim),
            "name": meta::name(claim),
            "uid": meta::uid(claim),
            "apiVersion": "v1",
            "resourceVersion": s(claim, "/metadata/resourceVersion"),
        }});
    }
    if !vu::is_volume_bound_to_claim(pv, claim)
        && vu::annotation(pv, vu::ANN_BOUND_BY_CONTROLLER).is_none()
    {
        patch["metadata"] = json!({"annotations": {vu::ANN_BOUND_BY_CONTROLLER: "yes"}});
    }
    if patch.as_object().is_some_and(|m| !m.is_empty()) {
        actions.push(Action::Patch {
            res: res::PVS,
            key: pv_key,
            patch,
            status: false,
        });
    }
    actions.extend(volume_phase(pv, "Bound", None, now));
    // bindClaimToVolume
    let mut patch = json!({});
    let mut ann = serde_json::Map::new();
    if s(claim, "/spec/volumeName") != meta::name(pv) {
        patch["spec"] = json!({"volumeName": meta::name(pv)});
        if vu::annotation(claim, vu::ANN_BOUND_BY_CONTROLLER).is_none() {
            ann.insert(vu::ANN_BOUND_BY_CONTROLLER.into(), json!("yes"));
        }
    }
    if !vu::bind_completed(claim) {
        ann.insert(vu::ANN_BIND_COMPLETED.into(), json!("yes"));
    }
    if !ann.is_empty() {
        patch["metadata"] = json!({"annotations": ann});
    }
    if patch.as_object().is_some_and(|m| !m.is_empty()) {
        actions.push(Action::Patch {
            res: res::PVCS,
            key: ObjectKey::of(claim),
            patch,
            status: false,
        });
    }
    actions.extend(claim_status(claim, "Bound", Some(pv)));
    actions
}

/// Names of the active, unscheduled pods that use the claim.
fn unscheduled_pods<'a>(snap: &'a Snapshot, claim: &'a Value) -> Vec<&'a str> {
    let mut names: Vec<&str> = snap
        .list(res::PODS, Some(meta::namespace(claim)))
        .filter(|p| !vu::pod_terminated(p))
        .filter(|p| s(p, "/spec/nodeName").is_empty())
        .filter(|p| vu::pod_claims(p).contains(&meta::name(claim)))
        .map(|p| meta::name(p))
        .collect();
    names.sort_unstable();
    names
}

/// `emitEventForUnboundDelayBindingClaim`.
fn delay_binding_event(snap: &Snapshot, claim: &Value) -> Action {
    let pods = unscheduled_pods(snap, claim);
    let (reason, message) = match pods.as_slice() {
        [] => (
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding".to_string(),
        ),
        [one] => (
            "WaitForPodScheduled",
            format!("waiting for pod {one} to be scheduled"),
        ),
        many => (
            "WaitForPodScheduled",
            format!("waiting for pods {} to be scheduled", many.join(",")),
        ),
    };
    event(claim, EventType::Normal, reason, message)
}

/// `provisionClaim` / `provisionClaimOperationExternal`.
fn provision(snap: &Snapshot, claim: &Value) -> Vec<Action> {
    let class_name = vu::claim_class(claim);
    let Some(class) = vu::class_of(snap, claim) else {
        return vec![event(
            claim,
            EventType::Warning,
            "ProvisioningFailed",
            format!("storageclass.storage.k8s.io {class_name:?} not found"),
        )];
    };
    let provisioner = s(class, "/provisioner");
    if provisioner.starts_with("kubernetes.io/") {
        // No in-tree provisioning plugins in the simulation.
        return vec![event(
            claim,
            EventType::Warning,
            "ProvisioningFailed",
            format!("no volume plugin matched name: {provisioner}"),
        )];
    }
    let mut actions = Vec::new();
    let mut ann = serde_json::Map::new();
    for k in [
        vu::ANN_BETA_STORAGE_PROVISIONER,
        vu::ANN_STORAGE_PROVISIONER,
    ] {
        if vu::annotation(claim, k) != Some(provisioner) {
            ann.insert(k.into(), json!(provisioner));
        }
    }
    if !ann.is_empty() {
        actions.push(Action::Patch {
            res: res::PVCS,
            key: ObjectKey::of(claim),
            patch: json!({"metadata": {"annotations": ann}}),
            status: false,
        });
    }
    actions.push(event(
        claim,
        EventType::Normal,
        "ExternalProvisioning",
        format!(
            "Waiting for a volume to be created either by the external provisioner '{provisioner}' \
             or manually by the system administrator. If volume creation is delayed, please verify \
             that the provisioner is running and correctly registered."
        ),
    ));
    actions
}

fn pending(claim: &Value, mut actions: Vec<Action>) -> Reconciled {
    actions.extend(claim_status(claim, "Pending", None));
    Reconciled {
        actions,
        requeue_after: Some(RESYNC),
    }
}

/// `syncUnboundClaim`.
fn sync_unbound_claim(snap: &Snapshot, claim: &Value, now: Timestamp) -> Reconciled {
    let volume_name = s(claim, "/spec/volumeName");
    if volume_name.is_empty() {
        let delay = vu::is_delay_binding(snap, claim);
        let pvs = snap.list(res::PVS, None).map(|p| &**p);
        if let Some(pv) = vu::find_matching_volume(claim, pvs, None, delay) {
            return Reconciled {
                actions: bind(pv, claim, now),
                requeue_after: None,
            };
        }
        let actions = if delay && !vu::is_delay_binding_provisioning(claim) {
            vec![delay_binding_event(snap, claim)]
        } else if !vu::claim_class(claim).is_empty() {
            provision(snap, claim)
        } else {
            vec![event(
                claim,
                EventType::Normal,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set".into(),
            )]
        };
        return pending(claim, actions);
    }
    let Some(pv) = snap.get(res::PVS, "", volume_name) else {
        // The named volume does not exist (yet).
        return pending(claim, Vec::new());
    };
    if pv.get_in(&["spec", "claimRef"]).is_none() {
        return match vu::check_volume_satisfy_claim(pv, claim) {
            Ok(()) => Reconciled {
                actions: bind(pv, claim, now),
                requeue_after: None,
            },
            Err(why) => pending(
                claim,
                vec![event(
                    claim,
                    EventType::Warning,
                    "VolumeMismatch",
                    format!("Cannot bind to requested volume {volume_name:?}: {why}"),
                )],
            ),
        };
    }
    if vu::is_volume_bound_to_claim(pv, claim) {
        return Reconciled {
            actions: bind(pv, claim, now),
            requeue_after: None,
        };
    }
    pending(
        claim,
        vec![event(
            claim,
            EventType::Warning,
            "FailedBinding",
            format!("volume {volume_name:?} already bound to a different claim."),
        )],
    )
}

/// `updateClaimStatusWithEvent`: the event only when the phase changes.
fn lost(claim: &Value, reason: &str, message: &str) -> Reconciled {
    if s(claim, "/status/phase") == "Lost" {
        return Reconciled::none();
    }
    let mut actions: Vec<Action> = claim_status(claim, "Lost", None).into_iter().collect();
    actions.push(event(claim, EventType::Warning, reason, message.into()));
    Reconciled {
        actions,
        requeue_after: None,
    }
}

/// `syncBoundClaim`.
fn sync_bound_claim(snap: &Snapshot, claim: &Value, now: Timestamp) -> Reconciled {
    let volume_name = s(claim, "/spec/volumeName");
    if volume_name.is_empty() {
        return lost(
            claim,
            "ClaimLost",
            "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
        );
    }
    let Some(pv) = snap.get(res::PVS, "", volume_name) else {
        return lost(
            claim,
            "ClaimLost",
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        );
    };
    let ref_uid = pv
        .get_in(&["spec", "claimRef", "uid"])
        .and_then(Value::as_str);
    if ref_uid.is_none() || ref_uid == Some(meta::uid(claim)) {
        return Reconciled {
            actions: bind(pv, claim, now),
            requeue_after: None,
        };
    }
    lost(
        claim,
        "ClaimMisbound",
        "Two claims are bound to the same volume, this one is bound incorrectly",
    )
}

/// `reclaimVolume` for a Released volume.
fn reclaim(pv: &Value, now: Timestamp) -> Vec<Action> {
    if s(pv, "/spec/persistentVolumeReclaimPolicy") != "Delete" {
        // Retain (and the deprecated Recycle): the volume stays Released.
        return Vec::new();
    }
    if let Some(by) = vu::annotation(pv, vu::ANN_DYNAMICALLY_PROVISIONED)
        && !by.starts_with("kubernetes.io/")
    {
        // An external provisioner deletes what it provisioned.
        return Vec::new();
    }
    let path = s(pv, "/spec/hostPath/path");
    if pv.get_in(&["spec", "hostPath"]).is_some() && path.starts_with("/tmp/") && path.len() > 5 {
        return vec![Action::Delete {
            res: res::PVS,
            key: ObjectKey::new("", meta::name(pv)),
            uid: meta::uid(pv).to_string(),
            on_deleted: None,
        }];
    }
    let message = if pv.get_in(&["spec", "hostPath"]).is_some() {
        format!("host_path deleter only supports /tmp/.+ but received provided {path}")
    } else {
        format!(
            "error getting deleter volume plugin for volume {:?}: no deletable volume plugin matched",
            meta::name(pv)
        )
    };
    if s(pv, "/status/phase") == "Failed" {
        return Vec::new();
    }
    let mut actions: Vec<Action> = volume_phase(pv, "Failed", Some(&message), now)
        .into_iter()
        .collect();
    actions.push(event(pv, EventType::Warning, "VolumeFailedDelete", message));
    actions
}

/// `syncVolume`.
fn sync_volume(snap: &Snapshot, pv: &Value, now: Timestamp) -> Reconciled {
    let mut actions = Vec::new();
    let Some(cr) = pv.get_in(&["spec", "claimRef"]) else {
        actions.extend(volume_phase(pv, "Available", None, now));
        return Reconciled {
            actions,
            requeue_after: None,
        };
    };
    let ref_uid = s(cr, "/uid");
    if ref_uid.is_empty() {
        // Pre-bound to a claim that has not bound yet.
        actions.extend(volume_phase(pv, "Available", None, now));
        return Reconciled {
            actions,
            requeue_after: None,
        };
    }
    let claim = snap
        .get(res::PVCS, s(cr, "/namespace"), s(cr, "/name"))
        .filter(|c| meta::uid(c) == ref_uid);
    let released = |actions: &mut Vec<Action>| {
        let mut v = pv.clone();
        if !matches!(s(pv, "/status/phase"), "Released" | "Failed") {
            actions.extend(volume_phase(pv, "Released", None, now));
            v["status"]["phase"] = json!("Released");
        }
        actions.extend(reclaim(&v, now));
    };
    match claim {
        None => released(&mut actions),
        Some(c) if s(c, "/spec/volumeName").is_empty() => {
            // The claim's sync finishes the binding.
        }
        Some(c) if s(c, "/spec/volumeName") == meta::name(pv) => {
            actions.extend(volume_phase(pv, "Bound", None, now));
        }
        Some(_) => {
            let dynamic = vu::annotation(pv, vu::ANN_DYNAMICALLY_PROVISIONED).is_some()
                && s(pv, "/spec/persistentVolumeReclaimPolicy") == "Delete";
            if dynamic {
                released(&mut actions);
            } else {
                // unbindVolume: the controller's own binding goes away
                // entirely; a user's pre-binding keeps its name.
                let patch = if vu::annotation(pv, vu::ANN_BOUND_BY_CONTROLLER).is_some() {
                    json!({"metadata": {"annotations": {vu::ANN_BOUND_BY_CONTROLLER: null}},
                           "spec": {"claimRef": null}})
                } else {
                    json!({"spec": {"claimRef": {"uid": null, "resourceVersion": null}}})
                };
                actions.push(Action::Patch {
                    res: res::PVS,
                    key: ObjectKey::new("", meta::name(pv)),
                    patch,
                    status: false,
                });
                actions.extend(volume_phase(pv, "Available", None, now));
            }
        }
    }
    Reconciled {
        actions,
        requeue_after: None,
    }
}

impl Controller for PersistentVolumeController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::PVCS, res::PVS, res::STORAGECLASSES, res::PODS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::PVCS {
            let mut keys = vec![ObjectKey::of(obj)];
            // Volumes pointing at this claim (it may be gone).
            keys.extend(
                snap.list(res::PVS, None)
                    .filter(|pv| key_of_claim_ref(pv) == Some(ObjectKey::of(obj)))
                    .map(|pv| ObjectKey::new("", meta::name(pv))),
            );
            keys
        } else if r == res::PVS {
            let mut keys = vec![ObjectKey::new("", meta::name(obj))];
            keys.extend(key_of_claim_ref(obj));
            // A free volume may serve a pending claim.
            if obj.get_in(&["spec", "claimRef"]).is_none() {
                keys.extend(
                    snap.list(res::PVCS, None)
                        .filter(|c| !vu::bind_completed(c))
                        .map(|c| ObjectKey::of(c)),
                );
            }
            keys
        } else if r == res::STORAGECLASSES {
            snap.list(res::PVCS, None)
                .filter(|c| !vu::bind_completed(c) && vu::claim_class(c) == meta::name(obj))
                .map(|c| ObjectKey::of(c))
                .collect()
        } else if !snap.holds_any(res::PVCS) {
            // No claim to wait for (most pods of most clusters).
            Vec::new()
        } else {
            // A pod's claims, while they wait for it.
            let ns = meta::namespace(obj);
            vu::pod_claims(obj)
                .into_iter()
                .filter(|n| {
                    snap.get(res::PVCS, ns, n)
                        .is_some_and(|c| !vu::bind_completed(c))
                })
                .map(|n| ObjectKey::new(ns, n))
                .collect()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        if key.namespace.is_empty() {
            return match snap.get(res::PVS, "", &key.name) {
                Some(pv) => sync_volume(snap, pv, now),
                None => Reconciled::none(),
            };
        }
        let Some(claim) = snap.get(res::PVCS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if vu::bind_completed(claim) {
            sync_bound_claim(snap, claim, now)
        } else {
            sync_unbound_claim(snap, claim, now)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
