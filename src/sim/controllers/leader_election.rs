//! The control plane's leader election: kube-controller-manager and
//! kube-scheduler each hold a Lease in `kube-system` named after
//! themselves, as client-go's `leaderelection` with the `leases` lock
//! keeps it (kubeadm runs both with `--leader-elect=true`, the defaults: a
//! 15s lease renewed every 2s, `RetryPeriod`).
//!
//! The holder is `<hostname>_<uuid>` (the control-plane node's name, a
//! uuid per process); acquiring records `LeaderElection` "<holder> became
//! leader" about the Lease (`LeaseLock.RecordEvent`), from
//! `kube-controller-manager` and, for the scheduler, from its first
//! profile's name, `default-scheduler`. A renewal moves `renewTime` only.
//! A Lease deleted is created again at the next renewal (client-go's
//! `tryAcquireOrRenew` creates a missing lock) without a new event: only
//! `acquire` records one. Written without an upstream capture: the time
//! the leases are first taken (when the control-plane Node is there; on a
//! real cluster a few seconds after the static pods start).

use super::nodelifecycle::LEASES;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_micro_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::rng::Rng;
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::sim::workload::catalog::fnv;
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Mutex;

/// The Leases' namespace.
pub const NAMESPACE: &str = "kube-system";
/// `--leader-elect-lease-duration`.
const LEASE_DURATION_SECONDS: i64 = 15;
/// `--leader-elect-retry-period`: how often the leader renews.
pub const RETRY_PERIOD: SignedDuration = SignedDuration::from_secs(2);
/// The electing components: the Lease's name and the events' source.
const COMPONENTS: [(&str, &str); 2] = [
    ("kube-controller-manager", "kube-controller-manager"),
    ("kube-scheduler", "default-scheduler"),
];
const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";

/// Leader election of the control plane's components.
pub struct LeaderElection {
    seed: u64,
    /// The holders that have acquired their Lease (and said so) in this
    /// process: a Lease created again while renewing is not announced.
    announced: Mutex<HashSet<String>>,
}

impl LeaderElection {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            announced: Mutex::new(HashSet::new()),
        }
    }

    /// Whether `holder` acquires now (`acquire`, which records the event)
    /// rather than renews a Lease that went missing.
    fn first_acquisition(&self, holder: &str) -> bool {
        let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        announced.insert(holder.to_string())
    }

    /// `<hostname>_<uuid>`: the node's name and a uuid drawn once per
    /// component and node.
    fn identity(&self, component: &str, node: &Value) -> String {
        let seed = fnv(meta::uid(node), fnv(component, self.seed));
        format!("{}_{}", meta::name(node), Rng::new(seed).uuid())
    }
}

/// The control-plane node the components run on (the first by name).
fn control_plane(snap: &Snapshot) -> Option<&Value> {
    snap.nodes()
        .map(|(_, n)| &**n)
        .find(|n| meta::labels(n).is_some_and(|l| l.get(CONTROL_PLANE_LABEL).is_some()))
}

/// The Lease `LeaderElectionRecordToLeaseSpec` writes for a new leader.
fn lease(name: &str, holder: &str, now: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": LEASE_DURATION_SECONDS,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        },
    })
}

/// `LeaseLock.RecordEvent("became leader")`, about the Lease itself (its
/// uid filled in once created).
fn became_leader(name: &str, source: &str, holder: &str) -> EventSpec {
    EventSpec {
        involved: ObjectRef {
            api_version: "coordination.k8s.io/v1".into(),
            kind: "Lease".into(),
            namespace: NAMESPACE.into(),
            name: name.into(),
            uid: String::new(),
            field_path: None,
        },
        type_: EventType::Normal,
        reason: "LeaderElection".into(),
        message: format!("{holder} became leader"),
        component: source.into(),
        host: None,
    }
}

impl Controller for LeaderElection {
    fn name(&self) -> &'static str {
        "leader-election"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::NODES, LEASES]
    }

    fn keys_for(&self, _snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == LEASES {
            let name = meta::name(obj);
            return if meta::namespace(obj) == NAMESPACE
                && COMPONENTS.iter().any(|(lease, _)| *lease == name)
            {
                vec![ObjectKey::new(NAMESPACE, name)]
            } else {
                Vec::new()
            };
        }
        let control_plane = meta::labels(obj).is_some_and(|l| l.get(CONTROL_PLANE_LABEL).is_some());
        if r == res::NODES && control_plane {
            COMPONENTS
                .iter()
                .map(|(lease, _)| ObjectKey::new(NAMESPACE, *lease))
                .collect()
        } else {
            Vec::new()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some((name, source)) = COMPONENTS.iter().find(|(lease, _)| *lease == key.name) else {
            return Reconciled::none();
        };
        let Some(node) = control_plane(snap) else {
            return Reconciled::none();
        };
        let holder = self.identity(name, node);
        let stamp = format_micro_time(now);
        let Some(current) = snap.get(LEASES, NAMESPACE, name) else {
            return Reconciled {
                actions: vec![Action::Create {
                    res: LEASES,
                    namespace: NAMESPACE.into(),
                    object: lease(name, &holder, &stamp),
                    on_created: self
                        .first_acquisition(&holder)
                        .then(|| became_leader(name, source, &holder)),
                    on_failed: None,
                }],
                requeue_after: Some(RETRY_PERIOD),
            };
        };
        let renewed = current
            .get_in(&["spec", "renewTime"])
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<Timestamp>().ok());
        match renewed.and_then(|t| t.checked_add(RETRY_PERIOD).ok()) {
            Some(next) if next > now => Reconciled {
                actions: Vec::new(),
                requeue_after: Some(next.duration_since(now)),
            },
            _ => Reconciled {
                actions: vec![Action::Patch {
                    res: LEASES,
                    key: key.clone(),
                    patch: json!({"spec": {"holderIdentity": holder, "renewTime": stamp}}),
                    status: false,
                }],
                requeue_after: Some(RETRY_PERIOD),
            },
        }
    }
}

#[cfg(test)]
mod tests;
