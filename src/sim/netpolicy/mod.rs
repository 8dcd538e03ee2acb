//! NetworkPolicy evaluation: may this connection pass? (networking.k8s.io/v1
//! semantics as the API reference and kubernetes.io "Network Policies"
//! describe them, enforced the way Calico and kube-router do).
//!
//! A connection from `from` to `to` passes when **both** ends allow it:
//!
//! - *egress* of the source pod: if no policy in its namespace selects it
//!   with policyType `Egress` it is not isolated for egress and may send
//!   anywhere; otherwise some `egress` rule of a selecting policy must match
//!   the destination and the port;
//! - *ingress* of the destination pod, likewise with `Ingress` and the
//!   `ingress` rules matching the source.
//!
//! Rules are additive (any rule of any selecting policy allows). In a rule,
//! an absent or empty `from`/`to` matches every peer and an absent or empty
//! `ports` every port. A peer with both `podSelector` and
//! `namespaceSelector` selects those pods *in* those namespaces; a lone
//! `podSelector` looks in the policy's own namespace; a lone
//! `namespaceSelector` takes every pod of the selected namespaces. An
//! `ipBlock` matches any endpoint whose IP is in `cidr` and in no `except`
//! (Calico also applies it to pod IPs). Ports match by protocol (default
//! TCP), number, `port..=endPort` range, or by name, resolved against the
//! *destination* pod's container ports (an endpoint that is not a pod has no
//! named ports).
//!
//! `policyTypes`, when omitted, is `[Ingress]` plus `Egress` if the policy
//! has egress rules (the apiserver stores it defaulted; this module defaults
//! it again for hand-built objects).
//!
//! Policies only isolate pods on the pod network: a host-network pod or a
//! node has no policies of its own (its traffic to an isolated pod is still
//! checked against that pod's ingress rules, where only an `ipBlock` can
//! match it). Always allowed: a pod talking to itself, and traffic between
//! a pod and the node it runs on (kubelet probes). Callers evaluate the connection
//! *after* kube-proxy's DNAT: `to` is the backend pod, not the Service IP,
//! so DNS egress is allowed by rules that select the CoreDNS pods (namespace
//! `kube-system`, `k8s-app: kube-dns`) on UDP/TCP 53.
//!
//! A denied connection is dropped (the client times out), as with the
//! iptables-based plugins.

mod eval;

use crate::api::cidr::{Cidr, parse_ip_sloppy};
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::selector::LabelSelector;
use crate::store::{ResKey, Store};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub use eval::{Verdict, allows, decide};

const NETWORKPOLICIES: ResKey = ResKey {
    group: "networking.k8s.io",
    resource: "networkpolicies",
};
const NAMESPACES: ResKey = ResKey {
    group: "",
    resource: "namespaces",
};

/// The label the apiserver puts on every namespace (NamespaceDefaultLabelName).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A transport protocol a NetworkPolicy port can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// `TCP`, `UDP`, `SCTP` as the API spells them.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TCP" => Some(Self::Tcp),
            "UDP" => Some(Self::Udp),
            "SCTP" => Some(Self::Sctp),
            _ => None,
        }
    }

    fn of(v: Option<&Value>) -> Option<Self> {
        v.and_then(Value::as_str)
            .map_or(Some(Self::Tcp), Self::parse)
    }
}

/// One end of a connection.
#[derive(Debug, Clone, Copy)]
pub enum Peer<'a> {
    /// A pod object (labels, namespace, `status.podIP`, `spec.nodeName`,
    /// `spec.hostNetwork`, container ports are read from it).
    Pod(&'a Value),
    /// A node, by name and address.
    Node { name: &'a str, ip: IpAddr },
    /// An address outside the cluster.
    External(IpAddr),
}

impl Peer<'_> {
    /// The pod, if this is a pod on the pod network (host-network pods
    /// count as their node).
    fn network_pod(&self) -> Option<&Value> {
        match self {
            Peer::Pod(p)
                if !p
                    .get_in(&["spec", "hostNetwork"])
                    .and_then(Value::as_bool)
                    .unwrap_or(false) =>
            {
                Some(p)
            }
            _ => None,
        }
    }

    /// The node this endpoint is (for nodes and host-network pods).
    fn node_name(&self) -> Option<&str> {
        match self {
            Peer::Node { name, .. } => Some(name),
            Peer::Pod(p) if self.network_pod().is_none() => {
                p.get_in(&["spec", "nodeName"]).and_then(Value::as_str)
            }
            _ => None,
        }
    }

    fn ip(&self) -> Option<IpAddr> {
        match self {
            Peer::Pod(p) => p
                .get_in(&["status", "podIP"])
                .and_then(Value::as_str)
                .and_then(parse_ip_sloppy),
            Peer::Node { ip, .. } | Peer::External(ip) => Some(*ip),
        }
    }
}

/// Which pods a peer entry selects.
#[derive(Debug, Clone)]
enum PeerSel {
    /// `podSelector` and/or `namespaceSelector`; `None` for an absent one.
    Pods {
        pods: Option<LabelSelector>,
        namespaces: Option<LabelSelector>,
    },
    Block {
        cidr: Cidr,
        except: Vec<Cidr>,
    },
    /// Unparseable (validation rejects these): matches nothing.
    Nothing,
}

#[derive(Debug, Clone)]
enum PortRef {
    Number(i64),
    Name(String),
}

#[derive(Debug, Clone)]
struct PortSel {
    /// `None` for an unknown protocol: matches nothing.
    protocol: Option<Protocol>,
    port: Option<PortRef>,
    end: Option<i64>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// Empty: every peer.
    peers: Vec<PeerSel>,
    /// Empty: every port.
    ports: Vec<PortSel>,
}

#[derive(Debug, Clone)]
struct Policy {
    namespace: String,
    name: String,
    /// `None` when the selector does not parse: selects nothing.
    selector: Option<LabelSelector>,
    /// `Some` when the policy isolates for ingress.
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
}

/// Everything evaluation needs besides the two endpoints: the policies and
/// the namespaces' labels.
#[derive(Debug, Clone, Default)]
pub struct PolicyView {
    policies: Vec<Policy>,
    namespaces: BTreeMap<String, Map<String, Value>>,
}

impl PolicyView {
    /// A view over stored NetworkPolicy and Namespace objects.
    pub fn new<'a>(
        policies: impl IntoIterator<Item = &'a Value>,
        namespaces: impl IntoIterator<Item = &'a Value>,
    ) -> Self {
        let namespaces = namespaces
            .into_iter()
            .map(|ns| {
                let name = meta::name(ns).to_string();
                let mut labels = ns
                    .get_in(&["metadata", "labels"])
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                labels
                    .entry(NAMESPACE_NAME_LABEL)
                    .or_insert_with(|| Value::from(name.clone()));
                (name, labels)
            })
            .collect();
        Self {
            policies: policies.into_iter().map(parse_policy).collect(),
            namespaces,
        }
    }

    /// A view over the NetworkPolicies and Namespaces in `store`.
    pub fn from_store(store: &Store) -> Self {
        let (policies, _) = store.list(NETWORKPOLICIES, None);
        let (namespaces, _) = store.list(NAMESPACES, None);
        Self::new(
            policies.iter().map(|a| &**a),
            namespaces.iter().map(|a| &**a),
        )
    }

    /// A namespace's labels (with `kubernetes.io/metadata.name` even if the
    /// object lacks it; an unknown namespace has only that label).
    fn namespace_labels(&self, ns: &str) -> Map<String, Value> {
        self.namespaces.get(ns).cloned().unwrap_or_else(|| {
            let mut m = Map::new();
            m.insert(NAMESPACE_NAME_LABEL.into(), Value::from(ns));
            m
        })
    }
}

fn selector(v: &Value) -> Option<LabelSelector> {
    LabelSelector::from_json(v).ok()
}

fn parse_peer(p: &Value) -> PeerSel {
    if let Some(b) = p.get("ipBlock").filter(|b| !b.is_null()) {
        let cidr = b
            .get("cidr")
            .and_then(Value::as_str)
            .and_then(Cidr::parse_sloppy);
        let except: Option<Vec<Cidr>> = b
            .get("except")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| e.as_str().and_then(Cidr::parse_sloppy))
                    .collect()
            })
            .unwrap_or(Some(Vec::new()));
        return match (cidr, except) {
            (Some(cidr), Some(except)) => PeerSel::Block { cidr, except },
            _ => PeerSel::Nothing,
        };
    }
    let sel = |k: &str| p.get(k).filter(|v| !v.is_null()).map(selector);
    match (sel("podSelector"), sel("namespaceSelector")) {
        (None, None) | (Some(None), _) | (_, Some(None)) => PeerSel::Nothing,
        (pods, namespaces) => PeerSel::Pods {
            pods: pods.flatten(),
            namespaces: namespaces.flatten(),
        },
    }
}

fn parse_port(p: &Value) -> PortSel {
    PortSel {
        protocol: Protocol::of(p.get("protocol")),
        port: match p.get("port") {
            Some(Value::Number(n)) => n.as_i64().map(PortRef::Number),
            Some(Value::String(s)) => Some(PortRef::Name(s.clone())),
            _ => None,
        },
        end: p.get("endPort").and_then(Value::as_i64),
    }
}

fn parse_rules(spec: &Value, dir: &str, peers: &str) -> Vec<Rule> {
    let list = |v: &Value, k: &str| -> Vec<Value> {
        v.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    list(spec, dir)
        .iter()
        .map(|r| Rule {
            peers: list(r, peers).iter().map(parse_peer).collect(),
            ports: list(r, "ports").iter().map(parse_port).collect(),
        })
        .collect()
}

fn parse_policy(np: &Value) -> Policy {
    let spec = np.get("spec").unwrap_or(&Value::Null);
    let has_egress = spec
        .get("egress")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    // SetDefaults_NetworkPolicySpec: Ingress always, Egress when there are
    // egress rules.
    let types: Vec<String> = match spec.get("policyTypes").and_then(Value::as_array) {
        Some(t) if !t.is_empty() => t
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => {
            let mut t = vec!["Ingress".to_string()];
            if has_egress {
                t.push("Egress".into());
            }
            t
        }
    };
    let has = |t: &str| types.iter().any(|x| x == t);
    Policy {
        namespace: meta::namespace(np).to_string(),
        name: meta::name(np).to_string(),
        selector: selector(spec.get("podSelector").unwrap_or(&Value::Null)),
        ingress: has("Ingress").then(|| parse_rules(spec, "ingress", "from")),
        egress: has("Egress").then(|| parse_rules(spec, "egress", "to")),
    }
}

#[cfg(test)]
mod tests;
