//! The control plane's Leases in `kube-system`. Leader election:
//! kube-controller-manager and
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
//!
//! And kube-apiserver's identity Lease (`APIServerIdentity`): named
//! `apiserver-` and the first 16 bytes of the SHA-256 of its hostname and
//! `kube-apiserver` (each with a 2-byte length before it) in lowercase
//! base32, held by `<name>_<uuid>`, labelled with the identity and the
//! hostname, 3,600 s long and renewed every 10 s by the generic lease
//! controller, which writes no `acquireTime` and records no event.

use super::nodeheartbeat::until_renewal;
use super::nodelifecycle::LEASES;
use crate::api::meta;
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
/// `IdentityLeaseDurationSeconds`.
const IDENTITY_LEASE_SECONDS: i64 = 3600;
/// `IdentityLeaseRenewIntervalPeriod`.
pub const IDENTITY_RENEW_INTERVAL: SignedDuration = SignedDuration::from_secs(10);
/// `IdentityLeaseComponentLabelKey`.
const IDENTITY_LABEL: &str = "apiserver.kubernetes.io/identity";

/// kube-apiserver's identity on `hostname` (genericapiserver's
/// `APIServerID`): `apiserver-` and the lowercase, unpadded base32 of the
/// first 16 bytes of SHA-256 over the length-prefixed hostname and
/// `kube-apiserver`.
pub fn apiserver_id(hostname: &str) -> String {
    let mut data = Vec::with_capacity(hostname.len() + 18);
    for part in [hostname.as_bytes(), b"kube-apiserver"] {
        let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
        data.extend_from_slice(&len.to_be_bytes());
        data.extend_from_slice(&part[..usize::from(len).min(part.len())]);
    }
    let hash = ring::digest::digest(&ring::digest::SHA256, &data);
    let mut id = String::from("apiserver-");
    base32_lower(&hash.as_ref()[..16], &mut id);
    id
}

/// RFC 4648 base32 of `bytes`, lowercase, without padding.
fn base32_lower(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
}

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

    /// The apiserver's identity Lease, when `key` names it: created, then
    /// renewed every 10 s.
    fn apiserver_identity(
        &self,
        snap: &Snapshot,
        node: &Value,
        key: &ObjectKey,
        now: Timestamp,
    ) -> Reconciled {
        let hostname = meta::name(node);
        let id = apiserver_id(hostname);
        if key.name != id {
            return Reconciled::none();
        }
        let stamp = format_micro_time(now);
        let Some(current) = snap.get(LEASES, NAMESPACE, &id) else {
            let holder = format!("{id}_{}", self.uuid("kube-apiserver", node));
            return Reconciled {
                actions: vec![Action::Create {
                    res: LEASES,
                    namespace: NAMESPACE.into(),
                    object: identity_lease(&id, &holder, hostname, &stamp),
                    on_created: None,
                    on_failed: None,
                }],
                requeue_after: Some(IDENTITY_RENEW_INTERVAL),
            };
        };
        renew(current, key, &stamp, now, IDENTITY_RENEW_INTERVAL, None)
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
        format!("{}_{}", meta::name(node), self.uuid(component, node))
    }

    /// The uuid a component on `node` draws when it starts.
    fn uuid(&self, component: &str, node: &Value) -> String {
        let seed = fnv(meta::uid(node), fnv(component, self.seed));
        Rng::new(seed).uuid()
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

/// The identity Lease the apiserver's lease controller writes first.
fn identity_lease(name: &str, holder: &str, hostname: &str, now: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": NAMESPACE,
            "labels": {IDENTITY_LABEL: "kube-apiserver", "kubernetes.io/hostname": hostname}},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": IDENTITY_LEASE_SECONDS,
            "renewTime": now,
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
                && (COMPONENTS.iter().any(|(lease, _)| *lease == name)
                    || name.starts_with("apiserver-"))
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
                .chain([ObjectKey::new(NAMESPACE, apiserver_id(meta::name(obj)))])
                .collect()
        } else {
            Vec::new()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(node) = control_plane(snap) else {
            return Reconciled::none();
        };
        let Some((name, source)) = COMPONENTS.iter().find(|(lease, _)| *lease == key.name) else {
            return self.apiserver_identity(snap, node, key, now);
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
        renew(current, key, &stamp, now, RETRY_PERIOD, Some(&holder))
    }
}

/// Moves the Lease's `renewTime` to now (and its holder back to `holder`,
/// when given) once `every` has passed since the last renewal.
fn renew(
    current: &Value,
    key: &ObjectKey,
    stamp: &str,
    now: Timestamp,
    every: SignedDuration,
    holder: Option<&str>,
) -> Reconciled {
    match until_renewal(current, every, now) {
        Some(wait) => Reconciled {
            actions: Vec::new(),
            requeue_after: Some(wait),
        },
        None => {
            let mut spec = json!({"renewTime": stamp});
            if let Some(holder) = holder {
                spec["holderIdentity"] = json!(holder);
            }
            Reconciled {
                actions: vec![Action::Patch {
                    res: LEASES,
                    key: key.clone(),
                    patch: json!({ "spec": spec }),
                    status: false,
                }],
                requeue_after: Some(every),
            }
        }
    }
}

#[cfg(test)]
mod tests;
