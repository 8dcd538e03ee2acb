//! The scheduler's VolumeBinding plugin (`pkg/scheduler/framework/plugins/volumebinding`
//! upstream): PreFilter, Filter and PreBind for a pod's PersistentVolumeClaims.
//!
//! PreFilter rejects the pod outright (UnschedulableAndUnresolvable, so the
//! message is the plugin's alone) when a claim is missing (`persistentvolumeclaim
//! "x" not found`), being deleted, lost, or unbound with an immediate class
//! (`pod has unbound immediate PersistentVolumeClaims`). Filter checks per
//! node that bound claims' volumes admit the node (`node(s) had volume node
//! affinity conflict`) and that every WaitForFirstConsumer claim can get a
//! volume there, by a free matching volume or by provisioning
//! (`node(s) didn't find available persistent volumes to bind`). PreBind,
//! once a node is chosen, pre-binds the matching volumes (claimRef) and
//! marks the claims to provision with `volume.kubernetes.io/selected-node`;
//! the pod is bound only once all its claims are.

use crate::api::meta;
use crate::sim::controllers::volumeutil::{self as vu, res, s};
use crate::sim::runtime::Action;
use crate::sim::snapshot::{ObjectKey, Snapshot};
use serde_json::{Value, json};

pub const NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
pub const BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
pub const PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
pub const UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// The pod's claims, sorted by state.
#[derive(Debug, Default)]
pub struct PodClaims<'a> {
    /// Fully bound claims.
    pub bound: Vec<&'a Value>,
    /// Unbound WaitForFirstConsumer claims.
    pub delayed: Vec<&'a Value>,
}

impl PodClaims<'_> {
    pub fn is_empty(&self) -> bool {
        self.bound.is_empty() && self.delayed.is_empty()
    }
}

/// `isPVCFullyBound`.
fn fully_bound(claim: &Value) -> bool {
    !s(claim, "/spec/volumeName").is_empty() && vu::bind_completed(claim)
}

/// PreFilter (`podHasPVCs` and `GetPodVolumeClaims`): the claims, or the
/// message of the rejection.
pub fn pre_filter<'a>(snap: &'a Snapshot, pod: &Value) -> Result<PodClaims<'a>, String> {
    let ns = meta::namespace(pod);
    let mut out = PodClaims::default();
    let mut immediate = false;
    for name in vu::pod_claims(pod) {
        let Some(claim) = snap.get(res::PVCS, ns, name) else {
            return Err(format!("persistentvolumeclaim {name:?} not found"));
        };
        if s(claim, "/status/phase") == "Lost" {
            return Err(format!(
                "persistentvolumeclaim {name:?} bound to non-existent persistentvolume {:?}",
                s(claim, "/spec/volumeName")
            ));
        }
        if meta::is_deleting(claim) {
            return Err(format!("persistentvolumeclaim {name:?} is being deleted"));
        }
        if fully_bound(claim) {
            out.bound.push(claim);
        } else if vu::is_delay_binding(snap, claim) {
            out.delayed.push(claim);
        } else {
            immediate = true;
        }
    }
    if immediate {
        return Err(UNBOUND_IMMEDIATE.into());
    }
    Ok(out)
}

/// Whether the claim's class can provision on the node (`checkVolumeProvisions`).
fn can_provision(snap: &Snapshot, claim: &Value) -> bool {
    vu::class_of(snap, claim)
        .is_some_and(|c| s(c, "/provisioner") != "kubernetes.io/no-provisioner")
}

/// Filter: the reasons the node does not suit the pod's volumes.
pub fn filter(snap: &Snapshot, claims: &PodClaims, node: &Value) -> Vec<String> {
    let mut reasons = Vec::new();
    let mut bound_ok = true;
    for c in &claims.bound {
        match snap.get(res::PVS, "", s(c, "/spec/volumeName")) {
            None => return vec![PV_NOT_EXIST.into()],
            Some(pv) => bound_ok &= vu::volume_fits_node(pv, node),
        }
    }
    if !bound_ok {
        reasons.push(NODE_CONFLICT.to_string());
    }
    let mut unbound_ok = true;
    let mut chosen: Vec<&str> = Vec::new();
    for c in &claims.delayed {
        if let Some(sel) = vu::annotation(c, vu::ANN_SELECTED_NODE) {
            unbound_ok &= sel == meta::name(node);
            continue;
        }
        let pvs = snap
            .list(res::PVS, None)
            .map(|p| &**p)
            .filter(|p| !chosen.contains(&meta::name(p)));
        match vu::find_matching_volume(c, pvs, Some(node), true) {
            Some(pv) => chosen.push(meta::name(pv)),
            None => unbound_ok &= can_provision(snap, c),
        }
    }
    if !unbound_ok {
        reasons.push(BIND_CONFLICT.to_string());
    }
    reasons
}

/// What PreBind decides for the chosen node.
#[derive(Debug, PartialEq)]
pub enum PreBind {
    /// Every claim is bound: bind the pod.
    Ready,
    /// Writes that start binding the claims; the pod waits for them.
    Start(Vec<Action>),
    /// Binding is under way: wait.
    Wait,
}

/// PreBind (`BindPodVolumes`) on the chosen node.
pub fn pre_bind(snap: &Snapshot, claims: &PodClaims, node: &Value) -> PreBind {
    if claims.delayed.is_empty() {
        return PreBind::Ready;
    }
    let node_name = meta::name(node);
    let mut actions = Vec::new();
    let mut chosen: Vec<&str> = Vec::new();
    for c in &claims.delayed {
        if vu::annotation(c, vu::ANN_SELECTED_NODE).is_some() {
            continue;
        }
        let pvs = snap
            .list(res::PVS, None)
            .map(|p| &**p)
            .filter(|p| !chosen.contains(&meta::name(p)));
        match vu::find_matching_volume(c, pvs, Some(node), true) {
            Some(pv) if vu::is_volume_bound_to_claim(pv, c) => chosen.push(meta::name(pv)),
            Some(pv) => {
                chosen.push(meta::name(pv));
                // GetBindVolumeToClaim
                actions.push(Action::Patch {
                    res: res::PVS,
                    key: ObjectKey::new("", meta::name(pv)),
                    patch: json!({
                        "metadata": {"annotations": {vu::ANN_BOUND_BY_CONTROLLER: "yes"}},
                        "spec": {"claimRef": {
                            "kind": "PersistentVolumeClaim",
                            "namespace": meta::namespace(c),
                            "name": meta::name(c),
                            "uid": meta::uid(c),
                            "apiVersion": "v1",
                            "resourceVersion": s(c, "/metadata/resourceVersion"),
                        }},
                    }),
                    status: false,
                });
            }
            None => actions.push(Action::Patch {
                res: res::PVCS,
                key: ObjectKey::of(c),
                patch: json!({"metadata": {"annotations": {vu::ANN_SELECTED_NODE: node_name}}}),
                status: false,
            }),
        }
    }
    if actions.is_empty() {
        PreBind::Wait
    } else {
        PreBind::Start(actions)
    }
}

/// The pending pods in `ns` that use the claim `name`.
pub fn pods_using<'a>(snap: &'a Snapshot, ns: &'a str, name: &'a str) -> Vec<ObjectKey> {
    snap.unbound_pods()
        .filter(|p| meta::namespace(p) == ns && vu::pod_claims(p).contains(&name))
        .map(|p| ObjectKey::of(p))
        .collect()
}

#[cfg(test)]
mod tests;
