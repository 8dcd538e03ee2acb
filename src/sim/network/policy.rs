//! The NetworkPolicy hook: every simulated connection asks
//! [`policy_allows`] before it reaches its destination pod. A denied
//! connection's packets are dropped, so the client times out (what a CNI
//! enforcing NetworkPolicy does; kind's default kindnet enforces them
//! since v0.24).
//!
//! For now everything is allowed; the NetworkPolicy evaluator replaces the
//! body. The view carries the stored Namespaces and NetworkPolicies it needs.

use super::view::{ClusterView, PodInfo};
use crate::sim::workload::Protocol;

/// Whether a connection from `from` to `to` on the destination port
/// `port` (after DNAT: the pod's port, not the Service's) is allowed by
/// the egress policies of `from` and the ingress policies of `to`.
pub fn policy_allows(
    view: &ClusterView,
    from: &PodInfo,
    to: &PodInfo,
    port: u16,
    protocol: Protocol,
) -> bool {
    let _ = (view, from, to, port, protocol);
    true
}
