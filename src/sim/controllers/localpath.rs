//! kind's dynamic provisioner, `rancher.io/local-path`
//! (rancher/local-path-provisioner on sig-storage-lib-external-provisioner),
//! for the `standard` StorageClass.
//!
//! It provisions a claim the PersistentVolume controller handed to it (the
//! `volume.kubernetes.io/storage-provisioner` annotation), once the
//! scheduler picked a node for a WaitForFirstConsumer claim
//! (`volume.kubernetes.io/selected-node`): a `pvc-<claim uid>` volume with a
//! hostPath under `/var/local-path-provisioner`, node affinity to that
//! node, the class's reclaim policy, and a claimRef the PV controller then
//! completes. Events are the library's: `Provisioning` (`External
//! provisioner is provisioning volume for claim "ns/name"`), then
//! `ProvisioningSucceeded` (`Successfully provisioned volume pvc-...`) or
//! `ProvisioningFailed` (`failed to provision volume with StorageClass
//! "standard": Only support ReadWriteOnce access mode`). A Released
//! volume it provisioned with reclaim policy Delete is deleted.
//!
//! It provisions and deletes only while its pod runs (the `local-path-provisioner`
//! Deployment in `local-path-storage`, as kind installs it): with it
//! scaled to 0 or crashing, claims stay Pending under the PV controller's
//! `ExternalProvisioning` events. Its events name that pod
//! (`rancher.io/local-path_<pod>_<uuid>`, the library's identity).
//!
//! Difference from upstream: no helper pods create or remove the
//! directories.

use super::volumeutil::{self as vu, res, s};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// The provisioner name StorageClasses use.
pub const PROVISIONER: &str = "rancher.io/local-path";
/// Where volumes live on the node.
pub const BASE_PATH: &str = "/var/local-path-provisioner";
/// The label the volume's node affinity uses.
const KEY_NODE: &str = "kubernetes.io/hostname";
/// Retry delay after a failed provisioning.
const RETRY: SignedDuration = SignedDuration::from_secs(15);

/// The namespace and label of the provisioner's pods.
pub const NAMESPACE: &str = "local-path-storage";
const APP: &str = "local-path-provisioner";

/// The provisioner; its identity comes from the pod it runs in.
pub struct LocalPathProvisioner {
    seed: u64,
}

/// The running provisioner pod, if any: Running and not being deleted.
fn running_pod(snap: &Snapshot) -> Option<&Value> {
    snap.list(res::PODS, Some(NAMESPACE))
        .map(|p| &**p)
        .find(|p| {
            s(p, "/metadata/labels/app") == APP
                && s(p, "/status/phase") == "Running"
                && !meta::is_deleting(p)
        })
}

impl LocalPathProvisioner {
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// The identity its events carry while it runs in `pod`
    /// (`rancher.io/local-path_<pod>_<uuid>`, a uuid per process).
    fn identity(&self, pod: &Value) -> String {
        let seed = crate::sim::workload::catalog::fnv(meta::uid(pod), self.seed);
        let uuid = crate::sim::rng::Rng::new(seed).uuid();
        format!("{PROVISIONER}_{}_{uuid}", meta::name(pod))
    }
}

fn event(
    identity: &str,
    claim: &Value,
    type_: EventType,
    reason: &str,
    message: String,
) -> EventSpec {
    EventSpec {
        involved: ObjectRef::to(claim),
        type_,
        reason: reason.into(),
        message,
        component: identity.to_string(),
        host: None,
    }
}

/// The volume name for a claim (`pvc-<uid>`).
pub fn volume_name(claim: &Value) -> String {
    format!("pvc-{}", meta::uid(claim))
}

/// `Provision`'s checks on the claim.
fn check(claim: &Value, node: Option<&str>) -> Result<(), &'static str> {
    if claim
        .get_in(&["spec", "selector"])
        .is_some_and(|v| !v.is_null())
    {
        return Err("claim.Spec.Selector is not supported");
    }
    if vu::access_modes(claim)
        .iter()
        .any(|m| *m != "ReadWriteOnce")
    {
        return Err("Only support ReadWriteOnce access mode");
    }
    if node.is_none() {
        return Err("configuration error, no node was specified");
    }
    Ok(())
}

/// The volume the provisioner creates for the claim on the node.
pub fn volume_for(claim: &Value, class: &Value, node: &str) -> Value {
    let name = volume_name(claim);
    let path = format!(
        "{BASE_PATH}/{name}_{}_{}",
        meta::namespace(claim),
        meta::name(claim)
    );
    let reclaim = match s(class, "/reclaimPolicy") {
        "" => "Delete",
        p => p,
    };
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "annotations": {
                "local.path.provisioner/selected-node": node,
                vu::ANN_DYNAMICALLY_PROVISIONED: PROVISIONER,
            },
        },
        "spec": {
            "accessModes": claim.get_in(&["spec", "accessModes"]).cloned().unwrap_or(json!([])),
            "capacity": {"storage": claim.get_in(&["spec", "resources", "requests", "storage"]).cloned().unwrap_or(Value::Null)},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": meta::name(claim),
                "namespace": meta::namespace(claim),
                "resourceVersion": s(claim, "/metadata/resourceVersion"),
                "uid": meta::uid(claim),
            },
            "hostPath": {"path": path, "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": KEY_NODE, "operator": "In", "values": [node]}]}]}},
            "persistentVolumeReclaimPolicy": reclaim,
            "storageClassName": meta::name(class),
            "volumeMode": "Filesystem",
        },
    })
}

impl LocalPathProvisioner {
    fn sync_claim(&self, snap: &Snapshot, claim: &Value) -> Reconciled {
        if vu::bind_completed(claim) || !s(claim, "/spec/volumeName").is_empty() {
            return Reconciled::none();
        }
        let ours = [
            vu::ANN_STORAGE_PROVISIONER,
            vu::ANN_BETA_STORAGE_PROVISIONER,
        ]
        .iter()
        .any(|k| vu::annotation(claim, k) == Some(PROVISIONER));
        let Some(class) = vu::class_of(snap, claim) else {
            return Reconciled::none();
        };
        if !ours || s(class, "/provisioner") != PROVISIONER {
            return Reconciled::none();
        }
        let node = vu::annotation(claim, vu::ANN_SELECTED_NODE);
        if vu::is_delay_binding(snap, claim) && node.is_none() {
            return Reconciled::none();
        }
        if snap.get(res::PVS, "", &volume_name(claim)).is_some() {
            return Reconciled::none();
        }
        // Not running: nothing provisions; its pod's start brings the
        // claim back (`keys_for`).
        let Some(pod) = running_pod(snap) else {
            return Reconciled::none();
        };
        let identity = self.identity(pod);
        let provisioning = event(
            &identity,
            claim,
            EventType::Normal,
            "Provisioning",
            format!(
                "External provisioner is provisioning volume for claim \"{}/{}\"",
                meta::namespace(claim),
                meta::name(claim)
            ),
        );
        let (Ok(()), Some(node)) = (check(claim, node), node) else {
            let why = check(claim, node)
                .err()
                .unwrap_or("configuration error, no node was specified");
            return Reconciled {
                actions: vec![
                    Action::Event(provisioning),
                    Action::Event(event(
                        &identity,
                        claim,
                        EventType::Warning,
                        "ProvisioningFailed",
                        format!(
                            "failed to provision volume with StorageClass {:?}: {why}",
                            meta::name(class)
                        ),
                    )),
                ],
                requeue_after: Some(RETRY),
            };
        };
        Reconciled {
            actions: vec![
                Action::Event(provisioning),
                Action::Create {
                    res: res::PVS,
                    namespace: String::new(),
                    object: volume_for(claim, class, node),
                    on_created: Some(event(
                        &identity,
                        claim,
                        EventType::Normal,
                        "ProvisioningSucceeded",
                        "Successfully provisioned volume ".into(),
                    )),
                    on_failed: None,
                },
            ],
            requeue_after: None,
        }
    }

    fn sync_volume(&self, snap: &Snapshot, pv: &Value) -> Reconciled {
        let ours = vu::annotation(pv, vu::ANN_DYNAMICALLY_PROVISIONED) == Some(PROVISIONER);
        if ours
            && running_pod(snap).is_some()
            && s(pv, "/status/phase") == "Released"
            && s(pv, "/spec/persistentVolumeReclaimPolicy") == "Delete"
            && !meta::is_deleting(pv)
        {
            return Reconciled {
                actions: vec![Action::Delete {
                    res: res::PVS,
                    key: ObjectKey::new("", meta::name(pv)),
                    uid: meta::uid(pv).to_string(),
                    on_deleted: None,
                }],
                requeue_after: None,
            };
        }
        Reconciled::none()
    }
}

impl Controller for LocalPathProvisioner {
    fn name(&self) -> &'static str {
        "local-path-provisioner"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::PVCS, res::PVS, res::STORAGECLASSES, res::PODS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::PODS {
            // The provisioner's own pod: the claims waiting for it.
            if meta::namespace(obj) != NAMESPACE || s(obj, "/metadata/labels/app") != APP {
                return Vec::new();
            }
            let claims = snap
                .list(res::PVCS, None)
                .filter(|c| !vu::bind_completed(c))
                .map(|c| ObjectKey::of(c));
            let released = snap
                .list(res::PVS, None)
                .filter(|v| s(v, "/status/phase") == "Released")
                .map(|v| ObjectKey::new("", meta::name(v)));
            return claims.chain(released).collect();
        }
        if r == res::PVCS {
            vec![ObjectKey::of(obj)]
        } else if r == res::PVS {
            vec![ObjectKey::new("", meta::name(obj))]
        } else {
            snap.list(res::PVCS, None)
                .filter(|c| !vu::bind_completed(c) && vu::claim_class(c) == meta::name(obj))
                .map(|c| ObjectKey::of(c))
                .collect()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, _now: Timestamp) -> Reconciled {
        if key.namespace.is_empty() {
            return snap
                .get(res::PVS, "", &key.name)
                .map(|pv| self.sync_volume(snap, pv))
                .unwrap_or_default();
        }
        snap.get(res::PVCS, &key.namespace, &key.name)
            .map(|c| self.sync_claim(snap, c))
            .unwrap_or_default()
    }
}

/// A running provisioner pod, for tests that provision.
#[cfg(test)]
pub fn provisioner_pod() -> (ResKey, Value) {
    (
        res::PODS,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "local-path-provisioner-7c8d44b885-xqdtt", "namespace": NAMESPACE,
                "uid": "uid-provisioner", "labels": {"app": APP}},
            "spec": {"nodeName": "kdrill-worker", "containers": [{"name": APP, "image": "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a"}]},
            "status": {"phase": "Running"}}),
    )
}

#[cfg(test)]
mod tests;
