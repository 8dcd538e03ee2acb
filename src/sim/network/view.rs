//! The cluster as the network sees it at one moment: Services, their
//! EndpointSlices, pods with their IPs, and nodes, parsed once from stored
//! JSON. Pure data; the kube-proxy and DNS code read it. Namespaces and
//! NetworkPolicies are kept as stored JSON for the policy evaluator, and
//! the objects ingress-nginx reads for its routing.

use crate::api::pointer::Pointer;
use crate::sim::ingress::IngressObjects;
use crate::sim::workload::Protocol;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// One port of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcPort {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
    pub node_port: Option<u16>,
}

/// A Service, reduced to what routing and DNS need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svc {
    pub namespace: String,
    pub name: String,
    /// `spec.type`.
    pub kind: String,
    /// The ClusterIP; None for a headless Service (`None`) or ExternalName.
    pub cluster_ip: Option<String>,
    pub headless: bool,
    pub external_name: Option<String>,
    pub publish_not_ready: bool,
    /// `spec.externalTrafficPolicy: Local` (the default `Cluster` is false).
    pub external_local: bool,
    pub ports: Vec<SvcPort>,
}

/// One endpoint of an EndpointSlice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: String,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    pub hostname: Option<String>,
    /// `targetRef` of kind Pod: (namespace, name).
    pub pod: Option<(String, String)>,
}

/// An EndpointSlice: its Service, ports (name → port, protocol) and endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub namespace: String,
    pub service: String,
    pub ports: Vec<(String, u16, Protocol)>,
    pub endpoints: Vec<Endpoint>,
}

/// A pod with an IP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub ip: String,
    pub node: String,
    pub labels: BTreeMap<String, String>,
    pub host_network: bool,
    /// The `ports` entries of its containers (NetworkPolicy named ports).
    pub ports: Vec<Value>,
}

/// A node and its InternalIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub ip: String,
}

/// Everything routing and name resolution read.
#[derive(Debug, Clone, Default)]
pub struct ClusterView {
    pub services: Vec<Svc>,
    pub slices: Vec<Slice>,
    pub pods: Vec<PodInfo>,
    pub nodes: Vec<NodeInfo>,
    /// Stored Namespaces and NetworkPolicies (for the policy evaluator).
    pub namespaces: Vec<Value>,
    pub network_policies: Vec<Value>,
    /// What the ingress-nginx controller's informers hold, and the time
    /// (certificate expiry).
    pub ingress: IngressObjects,
    pub now: Timestamp,
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.at(p).and_then(Value::as_str).unwrap_or("")
}

fn arr<'a>(v: &'a Value, p: &str) -> impl Iterator<Item = &'a Value> {
    v.at(p).and_then(Value::as_array).into_iter().flatten()
}

fn u16_at(v: &Value, p: &str) -> Option<u16> {
    v.at(p)
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok())
}

/// `TCP` (the default), `UDP`; SCTP is treated as TCP.
pub fn protocol(s: &str) -> Protocol {
    if s == "UDP" {
        Protocol::Udp
    } else {
        Protocol::Tcp
    }
}

impl Svc {
    pub fn parse(v: &Value) -> Self {
        let ip = s(v, "/spec/clusterIP");
        let kind = match s(v, "/spec/type") {
            "" => "ClusterIP",
            k => k,
        };
        Self {
            namespace: s(v, "/metadata/namespace").into(),
            name: s(v, "/metadata/name").into(),
            kind: kind.into(),
            cluster_ip: (!ip.is_empty() && ip != "None" && kind != "ExternalName")
                .then(|| ip.to_string()),
            headless: ip == "None",
            external_name: (kind == "ExternalName")
                .then(|| s(v, "/spec/externalName").to_string())
                .filter(|n| !n.is_empty()),
            publish_not_ready: v
                .get_in(&["spec", "publishNotReadyAddresses"])
                .and_then(Value::as_bool)
                .unwrap_or(false),
            external_local: s(v, "/spec/externalTrafficPolicy") == "Local",
            ports: arr(v, "/spec/ports")
                .filter_map(|p| {
                    Some(SvcPort {
                        name: s(p, "/name").into(),
                        port: u16_at(p, "/port")?,
                        protocol: protocol(s(p, "/protocol")),
                        node_port: u16_at(p, "/nodePort"),
                    })
                })
                .collect(),
        }
    }
}

impl Slice {
    pub fn parse(v: &Value) -> Option<Self> {
        let service = s(v, "/metadata/labels/kubernetes.io~1service-name");
        if service.is_empty() {
            return None;
        }
        let cond = |e: &Value, c: &str, default: bool| {
            e.at(&format!("/conditions/{c}"))
                .and_then(Value::as_bool)
                .unwrap_or(default)
        };
        Some(Self {
            namespace: s(v, "/metadata/namespace").into(),
            service: service.into(),
            ports: arr(v, "/ports")
                .filter_map(|p| {
                    Some((
                        s(p, "/name").to_string(),
                        u16_at(p, "/port")?,
                        protocol(s(p, "/protocol")),
                    ))
                })
                .collect(),
            endpoints: arr(v, "/endpoints")
                .flat_map(|e| {
                    let ready = cond(e, "ready", true);
                    let pod = (s(e, "/targetRef/kind") == "Pod").then(|| {
                        (
                            s(e, "/targetRef/namespace").to_string(),
                            s(e, "/targetRef/name").to_string(),
                        )
                    });
                    let hostname = Some(s(e, "/hostname").to_string()).filter(|h| !h.is_empty());
                    let (serving, terminating) =
                        (cond(e, "serving", ready), cond(e, "terminating", false));
                    arr(e, "/addresses")
                        .filter_map(Value::as_str)
                        .map(move |ip| Endpoint {
                            ip: ip.to_string(),
                            ready,
                            serving,
                            terminating,
                            hostname: hostname.clone(),
                            pod: pod.clone(),
                        })
                })
                .collect(),
        })
    }
}

impl PodInfo {
    /// A pod with an IP (`status.podIP`), or None.
    pub fn parse(v: &Value) -> Option<Self> {
        Some(Self::of(v)).filter(|p| !p.ip.is_empty())
    }

    /// A pod, with or without an IP yet.
    pub fn of(v: &Value) -> Self {
        let ip = s(v, "/status/podIP");
        Self {
            namespace: s(v, "/metadata/namespace").into(),
            name: s(v, "/metadata/name").into(),
            ip: ip.into(),
            node: s(v, "/spec/nodeName").into(),
            labels: v
                .get_in(&["metadata", "labels"])
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
            host_network: v
                .get_in(&["spec", "hostNetwork"])
                .and_then(Value::as_bool)
                .unwrap_or(false),
            ports: arr(v, "/spec/containers")
                .flat_map(|c| arr(c, "/ports"))
                .cloned()
                .collect(),
        }
    }

    /// The pod as the NetworkPolicy evaluator reads it: metadata, node,
    /// host network, container ports and IP.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "metadata": {"namespace": self.namespace, "name": self.name, "labels": self.labels},
            "spec": {"nodeName": self.node, "hostNetwork": self.host_network,
                "containers": [{"name": "c", "ports": self.ports}]},
            "status": {"podIP": self.ip},
        })
    }
}

impl NodeInfo {
    pub fn parse(v: &Value) -> Self {
        Self {
            name: s(v, "/metadata/name").into(),
            ip: arr(v, "/status/addresses")
                .find(|a| s(a, "/type") == "InternalIP")
                .map(|a| s(a, "/address").to_string())
                .unwrap_or_default(),
        }
    }
}

impl ClusterView {
    /// The view of these stored objects.
    pub fn build<'a>(
        services: impl IntoIterator<Item = &'a Value>,
        slices: impl IntoIterator<Item = &'a Value>,
        pods: impl IntoIterator<Item = &'a Value>,
        nodes: impl IntoIterator<Item = &'a Value>,
    ) -> Self {
        Self {
            services: services.into_iter().map(Svc::parse).collect(),
            slices: slices.into_iter().filter_map(Slice::parse).collect(),
            pods: pods.into_iter().filter_map(PodInfo::parse).collect(),
            nodes: nodes.into_iter().map(NodeInfo::parse).collect(),
            namespaces: Vec::new(),
            network_policies: Vec::new(),
            ingress: IngressObjects::default(),
            now: Timestamp::default(),
        }
    }

    pub fn service(&self, ns: &str, name: &str) -> Option<&Svc> {
        self.services
            .iter()
            .find(|s| s.namespace == ns && s.name == name)
    }

    /// The endpoints of a Service with the port each serves `port_name` on
    /// (`protocol`), over all its slices.
    pub fn endpoints_of<'a>(
        &'a self,
        svc: &'a Svc,
        port_name: &'a str,
        protocol: Protocol,
    ) -> impl Iterator<Item = (&'a Endpoint, u16)> + 'a {
        self.slices
            .iter()
            .filter(move |s| s.namespace == svc.namespace && s.service == svc.name)
            .filter_map(move |s| {
                s.ports
                    .iter()
                    .find(|(n, _, p)| n == port_name && *p == protocol)
                    .map(|(_, port, _)| (s, *port))
            })
            .flat_map(|(s, port)| s.endpoints.iter().map(move |e| (e, port)))
    }

    /// Every endpoint of a Service regardless of ports (for DNS).
    pub fn all_endpoints<'a>(&'a self, svc: &'a Svc) -> impl Iterator<Item = &'a Endpoint> + 'a {
        self.slices
            .iter()
            .filter(move |s| s.namespace == svc.namespace && s.service == svc.name)
            .flat_map(|s| s.endpoints.iter())
    }

    /// The pod with this IP (pods on the host network share their node's).
    pub fn pod_by_ip(&self, ip: &str) -> Option<&PodInfo> {
        self.pods.iter().find(|p| p.ip == ip && !p.host_network)
    }

    pub fn pod(&self, ns: &str, name: &str) -> Option<&PodInfo> {
        self.pods
            .iter()
            .find(|p| p.namespace == ns && p.name == name)
    }

    pub fn node_by_ip(&self, ip: &str) -> Option<&NodeInfo> {
        self.nodes.iter().find(|n| n.ip == ip)
    }
}
