//! What the PersistentVolume controller, the local-path provisioner and the
//! scheduler's volume plugins share (`pkg/controller/volume/persistentvolume/util`,
//! `component-helpers/storage/volume` upstream): the annotations, the class
//! of a claim, delayed binding, and matching a claim to a volume
//! (`FindMatchingVolume`, `checkVolumeSatisfyClaim`).

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::quantity::{Quantity, parse_value};
use crate::api::selector::LabelSelector;
use crate::sim::snapshot::Snapshot;
use serde_json::{Value, json};

/// Stored resources the storage controllers read.
pub mod res {
    use crate::store::ResKey;

    pub use crate::sim::snapshot::res::{NODES, PODS, PVCS};
    pub const PVS: ResKey = ResKey {
        group: "",
        resource: "persistentvolumes",
    };
    pub const STORAGECLASSES: ResKey = ResKey {
        group: "storage.k8s.io",
        resource: "storageclasses",
    };
}

pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
pub const ANN_DYNAMICALLY_PROVISIONED: &str = "pv.kubernetes.io/provisioned-by";
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
pub const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// A string at a JSON pointer, or "".
pub fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.at(ptr).and_then(Value::as_str).unwrap_or("")
}

/// An annotation's value.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get_in(&["metadata", "annotations"])
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// `GetPersistentVolumeClaimClass` (the beta annotation wins).
pub fn claim_class(claim: &Value) -> &str {
    annotation(claim, ANN_BETA_STORAGE_CLASS).unwrap_or_else(|| s(claim, "/spec/storageClassName"))
}

/// `GetPersistentVolumeClass`.
pub fn volume_class(pv: &Value) -> &str {
    annotation(pv, ANN_BETA_STORAGE_CLASS).unwrap_or_else(|| s(pv, "/spec/storageClassName"))
}

/// The claim's StorageClass, if it names one that exists.
pub fn class_of<'a>(snap: &'a Snapshot, claim: &Value) -> Option<&'a Value> {
    let name = claim_class(claim);
    if name.is_empty() {
        return None;
    }
    snap.get(res::STORAGECLASSES, "", name).map(|c| &**c)
}

/// `IsDelayBindingMode`: the class exists and waits for a consumer (a
/// missing class counts as immediate, as upstream).
pub fn is_delay_binding(snap: &Snapshot, claim: &Value) -> bool {
    class_of(snap, claim).is_some_and(|c| s(c, "/volumeBindingMode") == "WaitForFirstConsumer")
}

/// `IsDelayBindingProvisioning`: the scheduler picked a node for it.
pub fn is_delay_binding_provisioning(claim: &Value) -> bool {
    annotation(claim, ANN_SELECTED_NODE).is_some()
}

/// Whether the claim has completed binding once (`bind-completed`).
pub fn bind_completed(claim: &Value) -> bool {
    annotation(claim, ANN_BIND_COMPLETED).is_some()
}

/// The access modes of a spec.
pub fn access_modes(obj: &Value) -> Vec<&str> {
    obj.get_in(&["spec", "accessModes"])
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `CheckAccessModes`: the volume offers every mode the claim asks for.
pub fn check_access_modes(claim: &Value, pv: &Value) -> bool {
    let offered = access_modes(pv);
    access_modes(claim).iter().all(|m| offered.contains(m))
}

fn volume_mode(obj: &Value) -> &str {
    match s(obj, "/spec/volumeMode") {
        "" => "Filesystem",
        m => m,
    }
}

/// `CheckVolumeModeMismatches`.
pub fn volume_mode_mismatch(claim: &Value, pv: &Value) -> bool {
    volume_mode(claim) != volume_mode(pv)
}

/// The storage a claim requests.
pub fn requested(claim: &Value) -> Option<Quantity> {
    claim
        .get_in(&["spec", "resources", "requests", "storage"])
        .and_then(|q| parse_value(q).ok())
}

/// The storage a volume offers.
pub fn capacity(pv: &Value) -> Option<Quantity> {
    pv.get_in(&["spec", "capacity", "storage"])
        .and_then(|q| parse_value(q).ok())
}

/// `IsVolumeBoundToClaim`: the volume's claimRef names this claim (and its
/// uid, when the claimRef has one).
pub fn is_volume_bound_to_claim(pv: &Value, claim: &Value) -> bool {
    let Some(cr) = pv.get_in(&["spec", "claimRef"]) else {
        return false;
    };
    if s(cr, "/name") != meta::name(claim) || s(cr, "/namespace") != meta::namespace(claim) {
        return false;
    }
    let uid = s(cr, "/uid");
    uid.is_empty() || uid == meta::uid(claim)
}

/// Whether a volume's required node affinity admits the node.
pub fn volume_fits_node(pv: &Value, node: &Value) -> bool {
    let Some(required) = pv.get_in(&["spec", "nodeAffinity", "required"]) else {
        return true;
    };
    let as_pod = json!({"spec": {"affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": required}}}});
    crate::sim::controllers::scheduler::matches_node_affinity(&as_pod, node)
}

/// `checkVolumeSatisfyClaim`: why a requested volume cannot serve the claim.
pub fn check_volume_satisfy_claim(pv: &Value, claim: &Value) -> Result<(), String> {
    if meta::is_deleting(pv) {
        return Err(format!(
            "the volume is marked for deletion {:?}",
            meta::name(pv)
        ));
    }
    if capacity(pv) < requested(claim) {
        return Err("requested PV is too small".into());
    }
    if volume_class(pv) != claim_class(claim) {
        return Err("storageClassName does not match".into());
    }
    if volume_mode_mismatch(claim, pv) {
        return Err("incompatible volumeMode".into());
    }
    if !check_access_modes(claim, pv) {
        return Err("incompatible accessMode".into());
    }
    Ok(())
}

/// `FindMatchingVolume`: the best volume for the claim among `pvs`. The
/// PV controller passes no node (and skips delayed claims' free volumes);
/// the scheduler passes the node it considers. A volume pre-bound to the
/// claim wins; otherwise the smallest Available one of the claim's class,
/// selector and access modes (fewest extra access modes first, as the
/// controller's access-mode index orders them).
pub fn find_matching_volume<'a>(
    claim: &Value,
    pvs: impl Iterator<Item = &'a Value>,
    node: Option<&Value>,
    delay_binding: bool,
) -> Option<&'a Value> {
    let want = requested(claim);
    let selector = claim
        .get_in(&["spec", "selector"])
        .filter(|v| !v.is_null())
        .map(|v| LabelSelector::from_json(v).ok());
    let class = claim_class(claim);
    let mut best: Option<(&Value, usize, Option<Quantity>)> = None;
    for pv in pvs {
        let cap = capacity(pv);
        if cap < want || volume_mode_mismatch(claim, pv) || meta::is_deleting(pv) {
            continue;
        }
        let fits = node.is_none_or(|n| volume_fits_node(pv, n));
        if is_volume_bound_to_claim(pv, claim) {
            return fits.then_some(pv);
        }
        if node.is_none() && delay_binding {
            continue;
        }
        if s(pv, "/status/phase") != "Available" || pv.get_in(&["spec", "claimRef"]).is_some() {
            continue;
        }
        match &selector {
            Some(Some(sel)) if !sel.matches(meta::labels(pv)) => continue,
            Some(None) => continue,
            _ => {}
        }
        if volume_class(pv) != class || !fits || !check_access_modes(claim, pv) {
            continue;
        }
        let extra = access_modes(pv).len();
        let better = match &best {
            None => true,
            Some((_, e, c)) => (extra, &cap) < (*e, c),
        };
        if better {
            best = Some((pv, extra, cap));
        }
    }
    best.map(|(pv, _, _)| pv)
}

/// The claims a pod's volumes name, in order.
pub fn pod_claims(pod: &Value) -> Vec<&str> {
    pod.get_in(&["spec", "volumes"])
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.get_in(&["persistentVolumeClaim", "claimName"]))
                .filter_map(Value::as_str)
                .collect()
        })
        .unwrap_or_default()
}

/// `IsPodTerminated`, as the PV controller uses it.
pub fn pod_terminated(pod: &Value) -> bool {
    matches!(s(pod, "/status/phase"), "Succeeded" | "Failed")
}
