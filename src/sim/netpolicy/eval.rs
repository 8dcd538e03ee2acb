//! The decision: which policies isolate an endpoint, and whether any of
//! their rules admits the other end on the given port.

use super::{Peer, PeerSel, Policy, PolicyView, PortRef, PortSel, Protocol, Rule};
use crate::api::meta;
use crate::api::pointer::Pointer;
use serde_json::Value;

/// Why a connection passed or was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; `isolated` lists the `namespace/name` policies that were
    /// consulted (empty when neither end is isolated).
    Allowed { isolated: Vec<String> },
    /// The source pod is isolated for egress and no rule admits the
    /// destination; the policies that select it.
    DeniedEgress(Vec<String>),
    /// The destination pod is isolated for ingress and no rule admits the
    /// source.
    DeniedIngress(Vec<String>),
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }
}

/// Whether a connection from `from` to `to` on `port`/`protocol` passes
/// every NetworkPolicy.
pub fn allows(view: &PolicyView, from: &Peer, to: &Peer, port: u16, protocol: Protocol) -> bool {
    decide(view, from, to, port, protocol).allowed()
}

/// As [`allows`], saying which side's policies decided.
pub fn decide(view: &PolicyView, from: &Peer, to: &Peer, port: u16, protocol: Protocol) -> Verdict {
    let (src, dst) = (from.network_pod(), to.network_pod());
    // A pod cannot block itself, nor traffic with its own node.
    if let (Some(a), Some(b)) = (src, dst)
        && same_pod(a, b)
    {
        return Verdict::Allowed {
            isolated: Vec::new(),
        };
    }
    if node_local(from, dst) || node_local(to, src) {
        return Verdict::Allowed {
            isolated: Vec::new(),
        };
    }
    let mut consulted = Vec::new();
    if let Some(pod) = src {
        let selecting = selecting(view, pod, |p| p.egress.as_deref());
        if !selecting.is_empty() {
            let names = names(&selecting);
            let ok = selecting.iter().any(|(pol, rules)| {
                rules
                    .iter()
                    .any(|r| rule_admits(view, pol, r, to, to, port, protocol))
            });
            if !ok {
                return Verdict::DeniedEgress(names);
            }
            consulted.extend(names);
        }
    }
    if let Some(pod) = dst {
        let selecting = selecting(view, pod, |p| p.ingress.as_deref());
        if !selecting.is_empty() {
            let names = names(&selecting);
            let ok = selecting.iter().any(|(pol, rules)| {
                rules
                    .iter()
                    .any(|r| rule_admits(view, pol, r, from, to, port, protocol))
            });
            if !ok {
                return Verdict::DeniedIngress(names);
            }
            consulted.extend(names);
        }
    }
    Verdict::Allowed {
        isolated: consulted,
    }
}

fn same_pod(a: &Value, b: &Value) -> bool {
    meta::namespace(a) == meta::namespace(b) && meta::name(a) == meta::name(b)
}

/// `node` is the node `pod` runs on.
fn node_local(node: &Peer, pod: Option<&Value>) -> bool {
    match (node.node_name(), pod) {
        (Some(n), Some(p)) => p.get_in(&["spec", "nodeName"]).and_then(Value::as_str) == Some(n),
        _ => false,
    }
}

/// The policies in the pod's namespace that select it and isolate it in
/// the direction `rules` picks, with that direction's rules.
fn selecting<'v>(
    view: &'v PolicyView,
    pod: &Value,
    rules: impl Fn(&'v Policy) -> Option<&'v [Rule]>,
) -> Vec<(&'v Policy, &'v [Rule])> {
    let ns = meta::namespace(pod);
    let labels = pod
        .get_in(&["metadata", "labels"])
        .and_then(Value::as_object);
    view.policies
        .iter()
        .filter(|p| p.namespace == ns)
        .filter(|p| p.selector.as_ref().is_some_and(|s| s.matches(labels)))
        .filter_map(|p| rules(p).map(|r| (p, r)))
        .collect()
}

fn names(selecting: &[(&Policy, &[Rule])]) -> Vec<String> {
    selecting
        .iter()
        .map(|(p, _)| format!("{}/{}", p.namespace, p.name))
        .collect()
}

/// Whether `rule` of `policy` admits `peer` (the other end) on the port;
/// named ports resolve against `dest`.
fn rule_admits(
    view: &PolicyView,
    policy: &Policy,
    rule: &Rule,
    peer: &Peer,
    dest: &Peer,
    port: u16,
    protocol: Protocol,
) -> bool {
    let peer_ok = rule.peers.is_empty()
        || rule
            .peers
            .iter()
            .any(|s| peer_matches(view, policy, s, peer));
    let port_ok = rule.ports.is_empty()
        || rule
            .ports
            .iter()
            .any(|p| port_matches(p, dest, port, protocol));
    peer_ok && port_ok
}

fn peer_matches(view: &PolicyView, policy: &Policy, sel: &PeerSel, peer: &Peer) -> bool {
    match sel {
        PeerSel::Nothing => false,
        PeerSel::Block { cidr, except } => peer
            .ip()
            .is_some_and(|ip| cidr.contains(ip) && !except.iter().any(|e| e.contains(ip))),
        PeerSel::Pods { pods, namespaces } => {
            let Some(pod) = peer.network_pod() else {
                return false;
            };
            let ns = meta::namespace(pod);
            let ns_ok = match namespaces {
                None => ns == policy.namespace,
                Some(s) => s.matches(Some(&view.namespace_labels(ns))),
            };
            let pod_ok = pods.as_ref().is_none_or(|s| {
                s.matches(
                    pod.get_in(&["metadata", "labels"])
                        .and_then(Value::as_object),
                )
            });
            ns_ok && pod_ok
        }
    }
}

fn port_matches(sel: &PortSel, dest: &Peer, port: u16, protocol: Protocol) -> bool {
    if sel.protocol != Some(protocol) {
        return false;
    }
    let port = i64::from(port);
    match &sel.port {
        None => true,
        Some(PortRef::Number(n)) => match sel.end {
            Some(end) => (*n..=end).contains(&port),
            None => *n == port,
        },
        Some(PortRef::Name(name)) => dest
            .network_pod()
            .is_some_and(|pod| named_port(pod, name, protocol) == Some(port)),
    }
}

/// The container port called `name` with `protocol` in the pod's
/// containers.
fn named_port(pod: &Value, name: &str, protocol: Protocol) -> Option<i64> {
    let containers = pod
        .get_in(&["spec", "containers"])
        .and_then(Value::as_array)?;
    containers
        .iter()
        .filter_map(|c| c.get("ports").and_then(Value::as_array))
        .flatten()
        .find(|p| {
            p.get("name").and_then(Value::as_str) == Some(name)
                && Protocol::of(p.get("protocol")) == Some(protocol)
        })
        .and_then(|p| p.get("containerPort").and_then(Value::as_i64))
}
