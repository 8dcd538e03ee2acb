//! The simulated kubelet, as a pure state machine over one pod.
//!
//! # Wiring (for the runtime)
//!
//! For each pod bound to a node (`spec.nodeName` set), the runtime keeps a
//! [`PodMemory`] (the container runtime's state for that pod: container
//! states, restart counts, back-off timers, logs) and calls
//!
//! ```ignore
//! let out = kubelet::sync_pod(&PodInput { pod, parsed: None, node, world, memory: &mem, catalog, network }, clock.now(), &rng);
//! ```
//!
//! whenever the pod, its ConfigMaps/Secrets, or the node change, and at
//! `out.wake_at` at the latest. Then it
//! - writes `out.status` as the pod's `status` (status subresource),
//! - records `out.events` (each with the time it happened; `involved` and
//!   `host` are filled in; `component` is `kubelet`),
//! - stores `out.memory` for the next call,
//! - adds `out.pulled_images` to the node's image set ([`NodeView::images`]),
//! - deletes the pod for good (grace 0) when `out.gone` is true (graceful
//!   termination after `deletionTimestamp` is done),
//! - serves `kubectl logs` from [`PodMemory::logs`] (`current`/`previous`
//!   per container); calling `sync_pod` first brings logs up to `now`.
//!
//! Nothing here reads a clock, the store, or does IO: `now` and `rng` are
//! inputs, so a test drives a pod through its life by calling `sync_pod`
//! with a moving `now` (see `tests.rs`). A call at a time later than
//! `wake_at` catches up: every timer that expired in between fires in order.
//!
//! `world` holds, by name, the objects of the pod's namespace the kubelet
//! reads: ConfigMaps, Secrets, PersistentVolumeClaims (as stored JSON).
//!
//! `network` also answers the calls containers make to the API server
//! ([`api_client::InCluster`] puts the store and the server's authorizer
//! behind it). Such containers are re-derived at each call (`wake_at`), so
//! a RoleBinding created meanwhile changes the next answer.

pub mod api_client;
#[cfg(test)]
mod api_tests;
mod containers;
mod memory;
mod probe;
pub mod service_env;
mod spec;
pub mod static_pods;
mod status;
#[cfg(test)]
mod tests;
pub mod view;

use crate::sim::event::EventSpec;
use crate::sim::rng::Rng;
use crate::sim::workload::{Catalog, Network};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use containers::{Backoff, CState, ContainerMemory, Probes, Retry, Terminated};
pub use memory::{
    Conditions, ContainerMap, Empty, LogBuf, LogIter, LogWriter, Mount, ProbeState, Sparse,
};
pub use probe::{Served, serve};
pub use spec::PodSpec;
pub use status::host_octet;

/// The node the pod runs on, as the kubelet sees it.
#[derive(Debug, Clone, Default)]
pub struct NodeView {
    pub name: String,
    /// The node's InternalIP (`status.hostIP`).
    pub host_ip: String,
    /// `spec.podCIDR` (`10.244.1.0/24`).
    pub pod_cidr: String,
    /// Pod IPs already in use on this node (shared with the node's state:
    /// a view costs no copy).
    pub used_ips: Arc<BTreeSet<String>>,
    /// The host octet of the pod IP this node handed out last (0: none
    /// yet), where host-local IPAM's round-robin search goes on from.
    pub last_ip_host: u8,
    /// Images already present on the node (full references,
    /// `docker.io/library/nginx:1.27`; shared like `used_ips`).
    pub images: Arc<BTreeSet<String>>,
}

/// Service-link variables, `(name, value)` in order, shared.
pub type ServiceEnv = Arc<Vec<(String, String)>>;

/// Objects in the pod's namespace, by name, as stored JSON (shared with
/// the store: no copy).
#[derive(Debug, Clone, Default)]
pub struct World {
    pub config_maps: BTreeMap<String, Arc<Value>>,
    pub secrets: BTreeMap<String, Arc<Value>>,
    pub pvcs: BTreeMap<String, Arc<Value>>,
    /// Service-link variables the pod's containers get after their own
    /// env (see [`service_env::service_env`]), shared with the kubelets'
    /// cache of them per namespace.
    pub service_env: ServiceEnv,
}

/// Everything `sync_pod` reads.
pub struct PodInput<'a> {
    /// The pod as stored (JSON).
    pub pod: &'a Value,
    /// `pod` parsed already, if the caller has it (the kubelets keep each
    /// pod's parse while its spec stays the same).
    pub parsed: Option<&'a spec::PodSpec>,
    pub node: &'a NodeView,
    pub world: &'a World,
    pub memory: &'a PodMemory,
    pub catalog: &'a Catalog,
    /// Answers `wget`/`nslookup`/`nc` from container shells.
    pub network: &'a dyn Network,
}

/// An event with the time it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEvent {
    pub at: Timestamp,
    pub event: EventSpec,
}

/// The kubelet's per-pod memory (the container runtime's state).
#[derive(Debug, Clone, Default)]
pub struct PodMemory {
    /// When the kubelet first saw the pod (`status.startTime`).
    pub start_time: Option<Timestamp>,
    /// Pod IP, once the sandbox exists.
    pub pod_ip: Option<String>,
    pub sandbox_at: Option<Timestamp>,
    pub containers: ContainerMap,
    /// Volume mount retries (boxed only while a mount fails).
    pub mount: Sparse<Mount>,
    /// Condition type → (status, lastTransitionTime).
    pub conditions: Conditions,
    /// Graceful termination: when it started.
    pub terminating_since: Option<Timestamp>,
    pub gone: bool,
    /// The time of the last sync (timers between it and `now` are replayed).
    pub last_sync: Option<Timestamp>,
    /// Pull secrets already reported missing.
    pub warned_pull_secrets: bool,
}

impl PodMemory {
    /// Log lines of a container: `(time, line)`, current run or previous.
    pub fn logs(&self, container: &str, previous: bool) -> Vec<(Timestamp, String)> {
        match self.containers.get(container) {
            Some(c) if previous => c.previous_logs.to_vec(),
            Some(c) => c.logs.to_vec(),
            None => Vec::new(),
        }
    }
}

/// What `sync_pod` decided.
#[derive(Debug, Clone)]
pub struct PodOutcome {
    /// The pod's new `status`.
    pub status: Value,
    /// Whether it differs from the `status` the pod had (the write it
    /// needs).
    pub status_changed: bool,
    pub events: Vec<TimedEvent>,
    pub memory: PodMemory,
    /// Call again at this time at the latest (None: only on change).
    pub wake_at: Option<Timestamp>,
    /// Graceful termination finished: delete the pod now.
    pub gone: bool,
    /// Images this sync pulled onto the node.
    pub pulled_images: Vec<String>,
}

/// Syncs one pod at `now`; see the module documentation.
pub fn sync_pod(input: &PodInput<'_>, now: Timestamp, rng: &Rng) -> PodOutcome {
    containers::sync(input, now, rng)
}
