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
//!
//! A connection's source is a pod, or an address that is not a pod: the
//! learner's machine (a connection through the host port, from kind's
//! docker bridge gateway) or a node (a NodePort connection that kube-proxy
//! masqueraded to the node's IP). Only `ipBlock` peers match an address;
//! pod and namespace selectors never do.

use super::view::{ClusterView, PodInfo};
use crate::sim::netpolicy::{self, Peer, PolicyView, Verdict};
use crate::sim::workload::Protocol;

/// Where a connection comes from, as the destination sees it (after any
/// source NAT).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Pod(&'a PodInfo),
    /// An address that is no pod's: a node's IP or one outside the cluster.
    Address(&'a str),
}

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

/// As [`policy_allows`], from any [`Source`].
pub fn allows_from(
    view: &ClusterView,
    from: Source<'_>,
    to: &PodInfo,
    port: u16,
    protocol: Protocol,
) -> bool {
    verdict_from(view, from, to, port, protocol).allowed()
}

/// As [`policy_allows`], saying which policies decided.
pub fn verdict(
    view: &ClusterView,
    from: &PodInfo,
    to: &PodInfo,
    port: u16,
    protocol: Protocol,
) -> Verdict {
    verdict_from(view, Source::Pod(from), to, port, protocol)
}

/// As [`verdict`], from any [`Source`].
pub fn verdict_from(
    view: &ClusterView,
    from: Source<'_>,
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
    let dst = to.to_json();
    let src_pod;
    let src = match from {
        Source::Pod(p) => {
            src_pod = p.to_json();
            Peer::Pod(&src_pod)
        }
        Source::Address(a) => {
            // Every address the simulation makes parses; anything else is
            // taken as 0.0.0.0.
            let ip = a
                .parse::<std::net::IpAddr>()
                .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
            match view.node_by_ip(a) {
                Some(n) => Peer::Node {
                    name: n.name.as_str(),
                    ip,
                },
                None => Peer::External(ip),
            }
        }
    };
    let protocol = match protocol {
        Protocol::Tcp => netpolicy::Protocol::Tcp,
        Protocol::Udp => netpolicy::Protocol::Udp,
    };
    netpolicy::decide(&policies, &src, &Peer::Pod(&dst), port, protocol)
}
