//! The learner's machine reaching the simulated cluster's Ingress: two real
//! TCP listeners on 127.0.0.1 that stand for kind's `extraPortMappings`
//! (host 80 → node 80, host 443 → node 443 on the control-plane node, as
//! kind's ingress guide configures), so `curl localhost:PORT/shop -H
//! 'Host: shop.example.com'` goes through the simulated ingress-nginx
//! controller that publishes `hostPort` 80/443 on that node.
//!
//! - `http`: reading requests and writing responses as nginx does.
//! - `certs`: the certificate the HTTPS port presents for the SNI name.
//! - `listener`: the sockets, TLS and the per-connection loop.
//!
//! Each connection becomes simulated traffic from OUTSIDE the cluster:
//! source [`HOST_GATEWAY`] (docker's userland proxy, which serves published
//! ports on 127.0.0.1, dials the node container from the bridge gateway
//! address of kind's `kind` network, 172.18.0.0/16, where the simulated
//! nodes have 172.18.0.2 and up), destination the node's IP and port 80 or
//! 443. Routing follows the simulated kube-proxy and CNI rules
//! (`sim::network::proxy`: the portmap DNAT keeps the source), so
//! NetworkPolicies on the controller see 172.18.0.1 and only an `ipBlock`
//! admits it. Each request is answered from the cluster as it is at that
//! moment (the sim clock's now).
//!
//! What the laptop sees when nothing answers inside (docker-proxy's
//! `clientLoop`: it accepts, dials the container, and on a failed dial
//! closes the client connection): with nothing listening on the node's
//! port (no controller pod, not yet running) the dial is refused and the
//! connection is closed with nothing written: curl reports `(52) Empty
//! reply from server` (kind issues #1618, #2635, #3181 show exactly that
//! for a port mapping with no ingress controller behind it). The request is
//! read first so that the close is a FIN, not the reset Linux sends when
//! unread data is discarded (`(56) Recv failure: Connection reset by
//! peer`). When the packets are dropped (a NetworkPolicy), docker-proxy's
//! dial hangs until the kernel gives up (about 127 s of SYN retries) and
//! then closes: the client hangs; here the connection is held for
//! [`Options::hold`] at most, then closed.

pub mod certs;
pub mod http;
pub mod listener;

use crate::sim::network::view::NodeInfo;
use crate::sim::workload::NetReply;
use serde_json::Value;
use std::time::Duration;

/// The address connections from the host come from: the gateway of kind's
/// docker network.
pub const HOST_GATEWAY: &str = "172.18.0.1";

/// How long a connection whose packets the simulation drops is held open
/// (the kernel's SYN retries of docker-proxy's dial: 1+2+4+...+64 s).
pub const DROPPED_HOLD: Duration = Duration::from_secs(127);

/// How long nginx waits for a backend that does not answer before its 504
/// (`proxy-connect-timeout`, 5 s by default).
pub const PROXY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// nginx's `keepalive_timeout` in ingress-nginx (`keep-alive: 75`).
pub const KEEPALIVE: Duration = Duration::from_secs(75);

/// The host ports to open.
#[derive(Debug, Clone)]
pub struct Options {
    /// 0 picks a free port.
    pub http_port: u16,
    pub https_port: u16,
    /// How long a dropped connection is held (tests shorten it).
    pub hold: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            http_port: 0,
            https_port: 0,
            hold: DROPPED_HOLD,
        }
    }
}

/// The line that says where the host ports are, in the words of kind's
/// ingress guide (`curl localhost/foo/hostname`).
pub fn hint(http: u16, https: u16) -> String {
    format!(
        "Ingress (kind's host ports 80/443): curl http://localhost:{http}/ -H 'Host: <host>'; HTTPS on localhost:{https}"
    )
}

/// The node the host ports map to: kind puts `extraPortMappings` on the
/// control-plane node's container, so the first control-plane node by
/// name; without one, the first node. Its InternalIP.
pub fn mapped_node_ip<'a>(nodes: impl IntoIterator<Item = &'a Value>) -> Option<String> {
    let mut nodes: Vec<(bool, NodeInfo)> = nodes
        .into_iter()
        .map(|n| {
            let cp = n
                .pointer("/metadata/labels")
                .and_then(|l| l.get("node-role.kubernetes.io/control-plane"))
                .is_some();
            (!cp, NodeInfo::parse(n))
        })
        .filter(|(_, n)| !n.ip.is_empty())
        .collect();
    nodes.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    nodes.into_iter().next().map(|(_, n)| n.ip)
}

/// What the host port does with a connection or a request, from the
/// simulated reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Write this HTTP answer.
    Respond(http::Response),
    /// Close with nothing written (docker-proxy's dial was refused, or the
    /// backend connection went away).
    Close,
    /// Nothing comes back: hold the connection, bounded.
    Hang,
    /// nginx waits for a backend whose packets are dropped, then answers
    /// 504 (after [`PROXY_CONNECT_TIMEOUT`]).
    GatewayTimeout,
}

/// The connection-level outcome of the probe made at accept time (no HTTP
/// yet): None when the connection goes through.
pub fn on_accept(reply: &NetReply) -> Option<Outcome> {
    match reply {
        NetReply::Open { .. } | NetReply::Http { .. } => None,
        NetReply::Dropped { .. } | NetReply::Unanswered { .. } => Some(Outcome::Hang),
        _ => Some(Outcome::Close),
    }
}

/// The outcome of one request; `https` adds the HSTS header ingress-nginx
/// sends for servers with their own certificate (`hsts: true`,
/// `max-age=31536000; includeSubDomains`).
pub fn on_request(reply: NetReply, https: bool) -> Outcome {
    match reply {
        NetReply::Http {
            status,
            body,
            location,
            reason,
            cert,
            ..
        } => {
            // nginx's own answers carry its reason and `text/html`; a
            // backend's status line is proxied (Go's / the standard reason).
            let content_type = match reason {
                Some(_) => "text/html",
                None if body.trim_start().starts_with('<') => "text/html",
                None => "text/plain; charset=utf-8",
            };
            let reason = reason
                .unwrap_or_else(|| crate::sim::workload::shell::reason_phrase(status))
                .to_string();
            let own_cert =
                cert.is_some_and(|c| c.subject != crate::sim::ingress::FAKE_CERTIFICATE_SUBJECT);
            let extra = if https && own_cert {
                vec![(
                    "Strict-Transport-Security".to_string(),
                    "max-age=31536000; includeSubDomains".to_string(),
                )]
            } else {
                Vec::new()
            };
            Outcome::Respond(http::Response {
                status,
                reason,
                content_type: content_type.into(),
                location,
                extra,
                body,
            })
        }
        NetReply::Unanswered { .. } => Outcome::GatewayTimeout,
        NetReply::Dropped { .. } | NetReply::Open { .. } => Outcome::Hang,
        _ => Outcome::Close,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_ports_map_to_the_control_plane() {
        let node = |name: &str, ip: &str, cp: bool| {
            let labels = if cp {
                json!({"node-role.kubernetes.io/control-plane": ""})
            } else {
                json!({})
            };
            json!({"metadata": {"name": name, "labels": labels},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}]}})
        };
        let nodes = [
            node("kdrill-worker", "172.18.0.3", false),
            node("kdrill-control-plane", "172.18.0.2", true),
        ];
        assert_eq!(mapped_node_ip(&nodes).as_deref(), Some("172.18.0.2"));
        let workers = [
            node("kdrill-worker2", "172.18.0.4", false),
            node("kdrill-worker", "172.18.0.3", false),
        ];
        assert_eq!(mapped_node_ip(&workers).as_deref(), Some("172.18.0.3"));
        assert_eq!(mapped_node_ip(&[]), None);
    }

    #[test]
    fn replies_map_to_what_the_laptop_sees() {
        let ip = || "172.18.0.2".to_string();
        assert_eq!(on_accept(&NetReply::Open { ip: ip() }), None);
        assert_eq!(
            on_accept(&NetReply::Refused { ip: ip() }),
            Some(Outcome::Close)
        );
        assert_eq!(
            on_accept(&NetReply::Dropped { ip: ip() }),
            Some(Outcome::Hang)
        );
        let http = |status, reason: Option<&'static str>, body: &str| NetReply::Http {
            ip: ip(),
            status,
            body: body.into(),
            location: None,
            reason,
            cert: None,
        };
        let Outcome::Respond(r) = on_request(
            http(404, Some("Not Found"), crate::sim::ingress::NOT_FOUND_PAGE),
            false,
        ) else {
            panic!()
        };
        assert_eq!((r.status, r.reason.as_str()), (404, "Not Found"));
        assert_eq!(r.content_type, "text/html");
        let Outcome::Respond(r) = on_request(http(200, None, "hello\n"), true) else {
            panic!()
        };
        assert_eq!(
            (r.reason.as_str(), r.content_type.as_str()),
            ("OK", "text/plain; charset=utf-8")
        );
        assert!(
            r.extra.is_empty(),
            "no HSTS without the host's own certificate"
        );
        assert_eq!(
            on_request(NetReply::Unanswered { ip: ip() }, false),
            Outcome::GatewayTimeout
        );
        assert_eq!(
            on_request(NetReply::Refused { ip: ip() }, false),
            Outcome::Close
        );
    }
}
