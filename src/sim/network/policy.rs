//! The NetworkPolicy hook: every simulated connection asks
//! [`policy_allows`] before it reaches its destination pod. A denied
//! connection's packets are dropped, so the client times out (what a CNI
//! enforcing NetworkPolicy does; kind's default kindnet enforces them
//! since v0.24).
//!
//! The decision is [`crate::sim::netpolicy::decide`] over the view's
//! stored NetworkPolicies and Namespaces, evaluated after kube-proxy's
//! DNAT: `to` is the backend pod and `port` its container port. DNS goes
//! through here too (caller → CoreDNS pod on UDP 53), so a default-deny
//! egress policy breaks name resolution unless it allows port 53 to
//! kube-system.

use super::view::{ClusterView, PodInfo};
use crate::sim::netpolicy::{self, Peer, PolicyView, Verdict};
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
    verdict(view, from, to, port, protocol).allowed()
}

/// As [`policy_allows`], saying which policies decided.
pub fn verdict(
    view: &ClusterView,
    from: &PodInfo,
    to: &PodInfo,
    port: u16,
    protocol: Protocol,
) -> Verdict {
    if view.network_policies.is_empty() {
        return Verdict::Allowed {
            isolated: Vec::new(),
        };
    }
    let policies = PolicyView::new(view.network_policies.iter(), view.namespaces.iter());
    let (src, dst) = (from.to_json(), to.to_json());
    let protocol = match protocol {
        Protocol::Tcp => netpolicy::Protocol::Tcp,
        Protocol::Udp => netpolicy::Protocol::Udp,
    };
    netpolicy::decide(
        &policies,
        &Peer::Pod(&src),
        &Peer::Pod(&dst),
        port,
        protocol,
    )
}
