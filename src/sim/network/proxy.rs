//! kube-proxy (iptables mode) semantics for one connection from a pod:
//! where a packet to `ip:port` ends up.
//!
//! - A Service ClusterIP and one of its ports: DNAT to a ready endpoint
//!   (falling back to serving-and-terminating ones, as kube-proxy does);
//!   with none, kube-proxy installs `-j REJECT` in the filter table
//!   (pkg/proxy/iptables/proxier.go: `internalTrafficFilterTarget =
//!   "REJECT"`, comment `"<ns>/<svc>:<port> has no endpoints"`; the
//!   nftables proxier's `reject` verdict likewise). REJECT's default
//!   `--reject-with icmp-port-unreachable` makes the client's connect()
//!   fail with ECONNREFUSED: busybox wget prints `wget: can't connect to
//!   remote host (<ClusterIP>): Connection refused` (libbb/xconnect.c).
//!   (`internalTrafficPolicy: Local` without a local endpoint is a DROP
//!   upstream; not modelled.)
//! - A ClusterIP with a port the Service does not have: no rule matches, the
//!   packet is routed off and dropped (the client times out).
//! - A node IP and a Service's nodePort: as for a ClusterIP, and the source
//!   is masqueraded to the node's IP with the default
//!   `externalTrafficPolicy: Cluster` (proxier.go: the `KUBE-EXT-*` chain
//!   starts with `"masquerade traffic for <svc> external destinations" -j
//!   KUBE-MARK-MASQ`, "in case we cross nodes"), so the backend and its
//!   NetworkPolicies see the node, not the client. With `Local` the
//!   client's address is kept and only endpoints on that node are used;
//!   with none there, traffic from outside the cluster is dropped
//!   (`externalTrafficFilterTarget = "DROP"`, `"<svc> has no local
//!   endpoints"`), while a pod's traffic is short-circuited to the
//!   cluster-wide endpoints (`"pod traffic for <svc> external
//!   destinations"`, source kept). (MASQUERADE takes the address of the
//!   interface the packet leaves by: the node's InternalIP when the
//!   endpoint is on another node; for one on the same node kindnet's veth
//!   side is used, which the simulation does not tell apart.)
//! - A port a pod on that node publishes (`hostPort`, or a host-network
//!   pod's port): that pod. The CNI `portmap` plugin only DNATs (its
//!   `CNI-DN-*` chains), so the client's source address is kept; it
//!   masquerades only hairpin traffic (a pod reaching its own hostPort)
//!   and connections from 127.0.0.1 on the node, neither of which the
//!   simulation produces. Another port on a node: the node answers with a
//!   reset (refused).
//! - A pod IP: straight to the pod. An unknown address: dropped.

use super::view::{ClusterView, Endpoint, PodInfo, Svc};
use crate::sim::workload::Protocol;

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// To this pod IP and port (after DNAT when through a Service).
    Endpoint {
        pod: Option<&'a PodInfo>,
        ip: String,
        port: u16,
        /// The node IP kube-proxy masqueraded the source to (a NodePort
        /// with `externalTrafficPolicy: Cluster`); None: the source is kept.
        snat: Option<String>,
    },
    /// REJECTed (a Service without endpoints): connection refused.
    Reject,
    /// The host itself answers with a reset: connection refused.
    Refused,
    /// Nothing answers: the client times out.
    Drop,
}

/// The endpoints kube-proxy uses for a Service port: the ready ones, or
/// when none is ready the serving terminating ones
/// (`CategorizeEndpoints`).
fn usable<'a>(
    view: &'a ClusterView,
    svc: &'a Svc,
    port_name: &'a str,
    proto: Protocol,
) -> Vec<(&'a Endpoint, u16)> {
    let all: Vec<(&Endpoint, u16)> = view.endpoints_of(svc, port_name, proto).collect();
    let ready: Vec<_> = all.iter().filter(|(e, _)| e.ready).cloned().collect();
    if !ready.is_empty() {
        return ready;
    }
    all.into_iter()
        .filter(|(e, _)| e.serving && e.terminating)
        .collect()
}

fn to_endpoint<'a>(
    view: &'a ClusterView,
    svc: &'a Svc,
    port_name: &str,
    proto: Protocol,
    pick: u64,
) -> Route<'a> {
    to_endpoint_on(view, svc, port_name, proto, pick, None)
}

/// The pod an endpoint belongs to.
fn endpoint_pod<'a>(view: &'a ClusterView, e: &Endpoint) -> Option<&'a PodInfo> {
    match &e.pod {
        Some((ns, name)) => view.pod(ns, name),
        None => view.pod_by_ip(&e.ip),
    }
}

/// As [`to_endpoint`]; with `node`, only endpoints on that node count
/// (`externalTrafficPolicy: Local`) and none there drops the packet.
fn to_endpoint_on<'a>(
    view: &'a ClusterView,
    svc: &'a Svc,
    port_name: &str,
    proto: Protocol,
    pick: u64,
    node: Option<&str>,
) -> Route<'a> {
    let mut eps = usable(view, svc, port_name, proto);
    if let Some(node) = node {
        let any = !eps.is_empty();
        eps.retain(|(e, _)| endpoint_pod(view, e).is_some_and(|p| p.node == node));
        if any && eps.is_empty() {
            return Route::Drop;
        }
    }
    eps.sort_by(|a, b| a.0.ip.cmp(&b.0.ip));
    eps.dedup_by(|a, b| a.0.ip == b.0.ip);
    if eps.is_empty() {
        return Route::Reject;
    }
    let (e, port) = eps[(pick % eps.len() as u64) as usize];
    Route::Endpoint {
        pod: endpoint_pod(view, e),
        ip: e.ip.clone(),
        port,
        snat: None,
    }
}

/// The pod on the node with address `node_ip` that publishes `port`: a
/// container `hostPort` (the CNI portmap plugin DNATs it to the pod's
/// `containerPort`, as kind's ingress-ready controller uses), or a
/// host-network pod's `containerPort`.
fn host_port<'a>(
    view: &'a ClusterView,
    node_ip: &str,
    port: u16,
    proto: Protocol,
) -> Option<(&'a PodInfo, u16)> {
    let node = view.node_by_ip(node_ip)?;
    let num = |p: &serde_json::Value, k: &str| {
        p.get(k)
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    view.pods
        .iter()
        .filter(|p| p.node == node.name)
        .find_map(|pod| {
            pod.ports.iter().find_map(|p| {
                let proto_ok = super::view::protocol(
                    p.get("protocol")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or(""),
                ) == proto;
                let container = num(p, "containerPort")?;
                let published = if pod.host_network {
                    Some(container)
                } else {
                    num(p, "hostPort")
                };
                (proto_ok && published == Some(port)).then_some((pod, container))
            })
        })
}

/// Where a connection from a pod to `ip:port` goes; `pick` chooses among
/// endpoints (iptables picks at random; the caller passes a deterministic
/// number).
pub fn route<'a>(
    view: &'a ClusterView,
    ip: &str,
    port: u16,
    proto: Protocol,
    pick: u64,
) -> Route<'a> {
    route_from(view, true, ip, port, proto, pick)
}

/// As [`route`], from a pod (`from_pod`) or from an address outside the
/// pod network (the learner's machine), which `externalTrafficPolicy:
/// Local` treats differently.
pub fn route_from<'a>(
    view: &'a ClusterView,
    from_pod: bool,
    ip: &str,
    port: u16,
    proto: Protocol,
    pick: u64,
) -> Route<'a> {
    if let Some(svc) = view
        .services
        .iter()
        .find(|s| s.cluster_ip.as_deref() == Some(ip))
    {
        return match svc
            .ports
            .iter()
            .find(|p| p.port == port && p.protocol == proto)
        {
            Some(p) => to_endpoint(view, svc, &p.name, proto, pick),
            None => Route::Drop,
        };
    }
    if let Some(node) = view.node_by_ip(ip) {
        for svc in &view.services {
            if let Some(p) = svc
                .ports
                .iter()
                .find(|p| p.node_port == Some(port) && p.protocol == proto)
            {
                if !svc.external_local {
                    return match to_endpoint(view, svc, &p.name, proto, pick) {
                        Route::Endpoint { pod, ip, port, .. } => Route::Endpoint {
                            pod,
                            ip,
                            port,
                            snat: Some(node.ip.clone()),
                        },
                        other => other,
                    };
                }
                let local = (!from_pod).then_some(node.name.as_str());
                return to_endpoint_on(view, svc, &p.name, proto, pick, local);
            }
        }
        if let Some((pod, port)) = host_port(view, ip, port, proto) {
            return Route::Endpoint {
                pod: Some(pod),
                ip: pod.ip.clone(),
                port,
                snat: None,
            };
        }
        return Route::Refused;
    }
    if let Some(pod) = view.pod_by_ip(ip) {
        return Route::Endpoint {
            pod: Some(pod),
            ip: ip.to_string(),
            port,
            snat: None,
        };
    }
    Route::Drop
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    pub(crate) fn svc(name: &str, ip: &str, port: u16, target: u16) -> Value {
        json!({"metadata": {"name": name, "namespace": "default"},
            "spec": {"clusterIP": ip, "type": "NodePort", "ports": [
                {"name": "http", "port": port, "targetPort": target, "protocol": "TCP", "nodePort": 30080}]}})
    }

    pub(crate) fn slice(svc: &str, port: u16, eps: &[(&str, &str, bool)]) -> Value {
        json!({"metadata": {"name": format!("{svc}-abcde"), "namespace": "default",
                "labels": {"kubernetes.io/service-name": svc}},
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
            "endpoints": eps.iter().map(|(pod, ip, ready)| json!({
                "addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "targetRef": {"kind": "Pod", "namespace": "default", "name": pod}})).collect::<Vec<_>>()})
    }

    pub(crate) fn pod(name: &str, ip: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "spec": {"nodeName": "kdrill-worker"}, "status": {"podIP": ip}})
    }

    fn node() -> Value {
        json!({"metadata": {"name": "kdrill-worker"},
            "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.3"}]}})
    }

    fn view(eps: &[(&str, &str, bool)]) -> ClusterView {
        let pods: Vec<Value> = eps.iter().map(|(n, ip, _)| pod(n, ip)).collect();
        ClusterView::build(
            &[svc("web", "10.96.100.1", 80, 8080)],
            &[slice("web", 8080, eps)],
            &pods,
            &[node()],
        )
    }

    #[test]
    fn routes_follow_kube_proxy_rules() {
        let two = [("a", "10.244.1.2", true), ("b", "10.244.2.2", true)];
        let v = view(&two);
        let target = |pick| match route(&v, "10.96.100.1", 80, Protocol::Tcp, pick) {
            Route::Endpoint { pod, ip, port, .. } => (pod.map(|p| p.name.clone()), ip, port),
            other => panic!("{other:?}"),
        };
        assert_eq!(target(0), (Some("a".into()), "10.244.1.2".into(), 8080));
        assert_eq!(target(1).0.as_deref(), Some("b"));
        // A port the Service lacks: no iptables rule, dropped.
        assert_eq!(
            route(&v, "10.96.100.1", 8080, Protocol::Tcp, 0),
            Route::Drop
        );
        assert_eq!(route(&v, "10.96.100.1", 80, Protocol::Udp, 0), Route::Drop);
        // NodePort on any node IP; other node ports are reset.
        assert!(matches!(
            route(&v, "172.18.0.3", 30080, Protocol::Tcp, 0),
            Route::Endpoint { port: 8080, .. }
        ));
        assert_eq!(
            route(&v, "172.18.0.3", 30081, Protocol::Tcp, 0),
            Route::Refused
        );
        // Direct pod IP; unknown addresses are dropped.
        assert!(matches!(
            route(&v, "10.244.2.2", 9999, Protocol::Tcp, 0),
            Route::Endpoint { port: 9999, .. }
        ));
        assert_eq!(route(&v, "10.1.2.3", 80, Protocol::Tcp, 0), Route::Drop);
    }

    #[test]
    fn nodeport_sources_follow_external_traffic_policy() {
        let two = [("a", "10.244.1.2", true), ("b", "10.244.2.2", true)];
        let node2 = json!({"metadata": {"name": "kdrill-worker2"},
            "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.4"}]}});
        let build = |etp: &str| {
            let mut s = svc("web", "10.96.100.1", 80, 8080);
            s["spec"]["externalTrafficPolicy"] = json!(etp);
            let pods: Vec<Value> = two.iter().map(|(n, ip, _)| pod(n, ip)).collect();
            ClusterView::build(
                &[s],
                &[slice("web", 8080, &two)],
                &pods,
                &[node(), node2.clone()],
            )
        };
        fn snat<'a>(
            v: &'a ClusterView,
            from_pod: bool,
            node_ip: &str,
        ) -> Result<Option<String>, Route<'a>> {
            match route_from(v, from_pod, node_ip, 30080, Protocol::Tcp, 0) {
                Route::Endpoint { snat, .. } => Ok(snat),
                other => Err(other),
            }
        }
        // (policy, from a pod, node, want: the masqueraded source or the route)
        let cluster = build("Cluster");
        let local = build("Local");
        type Case<'a> = (
            &'a ClusterView,
            bool,
            &'a str,
            Result<Option<String>, Route<'a>>,
        );
        let cases: Vec<Case> = vec![
            (&cluster, true, "172.18.0.3", Ok(Some("172.18.0.3".into()))),
            (&cluster, false, "172.18.0.4", Ok(Some("172.18.0.4".into()))),
            // Local: the source is kept; both pods are on kdrill-worker.
            (&local, false, "172.18.0.3", Ok(None)),
            (&local, false, "172.18.0.4", Err(Route::Drop)),
            (&local, true, "172.18.0.4", Ok(None)),
        ];
        for (v, from_pod, ip, want) in cases {
            assert_eq!(snat(v, from_pod, ip), want, "{from_pod} {ip}");
        }
        // The ClusterIP and hostPort paths never masquerade.
        assert!(matches!(
            route(&cluster, "10.96.100.1", 80, Protocol::Tcp, 0),
            Route::Endpoint { snat: None, .. }
        ));
        // Local without any endpoint: REJECT, as for Cluster.
        let empty = {
            let mut s = svc("web", "10.96.100.1", 80, 8080);
            s["spec"]["externalTrafficPolicy"] = json!("Local");
            ClusterView::build(&[s], &[slice("web", 8080, &[])], &[], &[node()])
        };
        assert_eq!(snat(&empty, false, "172.18.0.3"), Err(Route::Reject));
    }

    #[test]
    fn no_ready_endpoints_is_rejected() {
        for eps in [vec![], vec![("a", "10.244.1.2", false)]] {
            let v = view(&eps);
            assert_eq!(
                route(&v, "10.96.100.1", 80, Protocol::Tcp, 3),
                Route::Reject
            );
        }
        // Only ready endpoints are picked.
        let v = view(&[("a", "10.244.1.2", false), ("b", "10.244.2.2", true)]);
        for pick in 0..4 {
            assert!(matches!(
                route(&v, "10.96.100.1", 80, Protocol::Tcp, pick),
                Route::Endpoint { pod: Some(p), .. } if p.name == "b"
            ));
        }
    }
}
