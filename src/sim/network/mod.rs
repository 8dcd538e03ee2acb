//! In-cluster networking as a pod sees it: kube-proxy's Service routing,
//! CoreDNS name resolution through the pod's `/etc/resolv.conf`, and what
//! the destination pod serves at that moment, behind the
//! [`workload::Network`](crate::sim::workload::Network) trait that the
//! busybox `wget`, `nslookup` and `nc` applets call.
//!
//! - `view`: the Services, EndpointSlices, pods and nodes read once per
//!   network (lazily, at the first call).
//! - `proxy`: where a packet to `ip:port` goes (kube-proxy iptables rules).
//! - `dns`: the pod's resolver configuration and CoreDNS's records.
//! - `policy`: NetworkPolicy evaluation of every connection (after DNAT).
//! - `ingress`: Ingress routing in ingress-nginx controller pods.
//!
//! What a destination pod serves comes from a [`Serving`] (the kubelets
//! implement it with the same timelines their probes use).
//!
//! DNS works when the pod's first nameserver routes to a pod that serves
//! UDP 53 and the policy lets the query through; that pod answers the
//! `cluster.local` records from the view. With no ready kube-dns endpoint
//! (CoreDNS scaled to 0, crash-looping on a bad Corefile) kube-proxy
//! rejects the query and the resolver gives up after its retries:
//! `nslookup` times out, `wget` and `nc` report a bad address.
//!
//! Time: every call is answered from the cluster as it is when the network
//! is built (an exec: the moment of the exec). A container's own command
//! is re-derived by the kubelet at each sync of its pod with the cluster of
//! that moment, so a `until nslookup db; do sleep 2; done` loop keeps
//! waiting while `db` is missing; once `db` exists, the pod's next sync
//! (its own timers, a change to the pod, or a `kubectl logs`/`exec`)
//! derives the loop as ending at its first iteration, so the lines printed
//! after the loop fall before what was already logged and are not
//! replayed. Nothing re-syncs a pod when Services change.

pub mod dns;
pub mod ingress;
pub mod policy;
pub mod proxy;
pub mod view;

use crate::sim::kubelet::Served;
use crate::sim::workload::{NetReply, NetRequest, Network, Protocol};
use dns::Resolv;
use jiff::SignedDuration;
use proxy::Route;
use serde_json::Value;
use std::cell::OnceCell;
use std::net::Ipv4Addr;
pub use view::{ClusterView, PodInfo};

/// What pods serve at the moment of the call.
pub trait Serving {
    fn serve(&self, pod: &PodInfo, port: u16, protocol: Protocol, path: Option<&str>) -> Served;
}

/// The pod making the calls, or a machine outside the cluster (`outside`:
/// then `pod` holds only its IP, and it has no resolver).
#[derive(Debug, Clone)]
pub struct Caller {
    pub pod: PodInfo,
    pub resolv: Resolv,
    pub outside: bool,
}

impl Caller {
    /// The caller for a stored pod with IP `ip` (its IP may not be in its
    /// status yet).
    pub fn of(pod: &Value, ip: &str) -> Self {
        let mut info = PodInfo::of(pod);
        if !ip.is_empty() {
            info.ip = ip.to_string();
        }
        Self {
            pod: info,
            resolv: dns::resolv_for(pod),
            outside: false,
        }
    }

    /// A machine outside the cluster with address `ip` (the learner's
    /// machine behind kind's docker bridge). Only `ipBlock` rules of
    /// NetworkPolicies match it; it resolves no cluster names.
    pub fn outside(ip: &str) -> Self {
        Self {
            pod: PodInfo {
                ip: ip.to_string(),
                ..PodInfo::default()
            },
            resolv: Resolv {
                nameservers: Vec::new(),
                search: Vec::new(),
                options: Vec::new(),
            },
            outside: true,
        }
    }

    /// The caller as a NetworkPolicy source.
    fn source(&self) -> policy::Source<'_> {
        if self.outside {
            policy::Source::Address(&self.pod.ip)
        } else {
            policy::Source::Pod(&self.pod)
        }
    }
}

/// Why a name did not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsFailure {
    NxDomain,
    /// No server answered.
    Timeout,
}

/// The network one pod sees.
pub struct PodNetwork<'a> {
    /// Who calls: given, or made on the first call that needs it (most
    /// kubelet syncs derive a container that never touches the network).
    caller: OnceCell<Caller>,
    make_caller: Option<Box<dyn Fn() -> Caller + 'a>>,
    view: OnceCell<ClusterView>,
    load: Box<dyn Fn() -> ClusterView + 'a>,
    serving: &'a dyn Serving,
    seed: u64,
}

/// FNV-1a over the parts, for a deterministic endpoint choice.
fn mix(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl<'a> PodNetwork<'a> {
    /// The network of `caller`; `load` reads the cluster on the first call.
    pub fn new(
        caller: Caller,
        load: impl Fn() -> ClusterView + 'a,
        serving: &'a dyn Serving,
        seed: u64,
    ) -> Self {
        Self {
            caller: OnceCell::from(caller),
            make_caller: None,
            view: OnceCell::new(),
            load: Box::new(load),
            serving,
            seed,
        }
    }

    /// The network of the caller `make` builds when first needed.
    pub fn lazy(
        make: impl Fn() -> Caller + 'a,
        load: impl Fn() -> ClusterView + 'a,
        serving: &'a dyn Serving,
        seed: u64,
    ) -> Self {
        Self {
            caller: OnceCell::new(),
            make_caller: Some(Box::new(make)),
            view: OnceCell::new(),
            load: Box::new(load),
            serving,
            seed,
        }
    }

    fn caller(&self) -> &Caller {
        self.caller.get_or_init(|| match &self.make_caller {
            Some(make) => make(),
            // Not reached: `new` fills the cell, `lazy` gives the maker.
            None => Caller::outside(""),
        })
    }

    fn view(&self) -> &ClusterView {
        self.view.get_or_init(|| (self.load)())
    }

    fn pick(&self, ip: &str, port: u16, at: SignedDuration) -> u64 {
        mix(
            self.seed,
            &[
                self.caller().pod.ip.as_bytes(),
                ip.as_bytes(),
                &port.to_le_bytes(),
                &at.as_nanos().to_le_bytes(),
            ],
        )
    }

    /// Is the nameserver `server` a cluster DNS server this pod reaches?
    /// Some(true): yes; Some(false): an outside resolver (which the
    /// simulated cluster cannot reach beyond); None: no answer.
    fn dns_server(&self, server: &str, at: SignedDuration) -> Option<bool> {
        let view = self.view();
        match proxy::route(view, server, 53, Protocol::Udp, self.pick(server, 53, at)) {
            Route::Endpoint {
                pod: Some(p), port, ..
            } => {
                let ok = policy::allows_from(view, self.caller().source(), p, port, Protocol::Udp)
                    && self.serving.serve(p, port, Protocol::Udp, None) != Served::Closed;
                ok.then_some(true)
            }
            Route::Drop
                if view.node_by_ip(server).is_none()
                    && !view
                        .services
                        .iter()
                        .any(|s| s.cluster_ip.as_deref() == Some(server)) =>
            {
                Some(false)
            }
            _ => None,
        }
    }

    /// Resolves `name` as the pod's resolver does: the FQDN found and its
    /// addresses.
    pub fn resolve(
        &self,
        name: &str,
        at: SignedDuration,
    ) -> Result<(String, Vec<String>), DnsFailure> {
        if name.parse::<Ipv4Addr>().is_ok() {
            return Ok((name.to_string(), vec![name.to_string()]));
        }
        if name == "localhost" {
            return Ok((name.to_string(), vec!["127.0.0.1".into()]));
        }
        let server = self
            .caller()
            .resolv
            .nameservers
            .first()
            .ok_or(DnsFailure::Timeout)?;
        let cluster = self.dns_server(server, at).ok_or(DnsFailure::Timeout)?;
        if !cluster {
            return Err(DnsFailure::NxDomain);
        }
        let view = self.view();
        for cand in self.caller().resolv.candidates(name) {
            if let Some(addrs) = dns::cluster_records(view, &cand) {
                return Ok((cand, addrs));
            }
        }
        Err(DnsFailure::NxDomain)
    }

    /// A TCP connection (and an HTTP request when `path` is given) from the
    /// caller to `ip:port`; `host` is the request's `Host` header, which an
    /// ingress-nginx controller routes by.
    pub fn connect(
        &self,
        ip: &str,
        port: u16,
        host: &str,
        path: Option<&str>,
        at: SignedDuration,
    ) -> NetReply {
        let view = self.view();
        if !self.caller().outside && (ip == "127.0.0.1" || ip == self.caller().pod.ip) {
            return reply(
                ip,
                self.serving
                    .serve(&self.caller().pod, port, Protocol::Tcp, path),
            );
        }
        let pick = self.pick(ip, port, at);
        match proxy::route_from(view, !self.caller().outside, ip, port, Protocol::Tcp, pick) {
            Route::Endpoint {
                pod: Some(p),
                port: to_port,
                snat,
                ..
            } => {
                let source = match &snat {
                    Some(node_ip) => policy::Source::Address(node_ip),
                    None => self.caller().source(),
                };
                if !policy::allows_from(view, source, p, to_port, Protocol::Tcp) {
                    return NetReply::Dropped { ip: ip.into() };
                }
                let served = self.serving.serve(p, to_port, Protocol::Tcp, path);
                if let Some(path) = path
                    && served != Served::Closed
                    && ingress::is_controller(p)
                    && let Some(answer) = ingress::route_http(view, p, host, to_port, path)
                {
                    return self
                        .through_ingress(ip, p, answer, path, at)
                        .with_cert(ingress::presented_certificate(view, host, to_port));
                }
                reply(ip, served)
            }
            Route::Endpoint { pod: None, .. } | Route::Drop => NetReply::Dropped { ip: ip.into() },
            Route::Reject | Route::Refused => NetReply::Refused { ip: ip.into() },
        }
    }

    /// The controller `ctl` answers a request it received on `ip`, or
    /// proxies it to one of the backend's endpoints (from its own pod, so
    /// policies apply). A backend that refuses or does not speak HTTP
    /// gives 502; one whose packets are dropped leaves the client waiting
    /// (nginx would answer 504 after its 5s connect timeout and retries,
    /// later than a `wget -T 2` gives up).
    fn through_ingress(
        &self,
        ip: &str,
        ctl: &PodInfo,
        answer: ingress::IngressAnswer,
        path: &str,
        at: SignedDuration,
    ) -> NetReply {
        let endpoints = match answer {
            ingress::IngressAnswer::Respond {
                status,
                body,
                location,
            } => {
                return NetReply::Http {
                    ip: ip.into(),
                    status,
                    body,
                    location,
                    reason: Some(ingress::nginx_reason(status)),
                    cert: None,
                };
            }
            ingress::IngressAnswer::Backend { endpoints, .. } => endpoints,
        };
        let view = self.view();
        let n = endpoints.len() as u64;
        let Some((eip, eport)) = (n > 0)
            .then(|| usize::try_from(self.pick(ip, 80, at) % n).ok())
            .flatten()
            .and_then(|i| endpoints.get(i))
        else {
            return NetReply::Http {
                ip: ip.into(),
                status: 503,
                body: crate::sim::ingress::SERVICE_UNAVAILABLE_PAGE.into(),
                location: None,
                reason: Some(ingress::nginx_reason(503)),
                cert: None,
            };
        };
        let Some(backend) = view.pod_by_ip(eip) else {
            return NetReply::Unanswered { ip: ip.into() };
        };
        if !policy::policy_allows(view, ctl, backend, *eport, Protocol::Tcp) {
            return NetReply::Unanswered { ip: ip.into() };
        }
        match self
            .serving
            .serve(backend, *eport, Protocol::Tcp, Some(path))
        {
            // The backend's status line is proxied as the backend wrote it
            // (`proxy_pass` keeps the upstream's status line).
            Served::Http { status, body } => NetReply::Http {
                ip: ip.into(),
                status,
                body,
                location: None,
                reason: None,
                cert: None,
            },
            Served::Open | Served::Closed => bad_gateway(ip),
        }
    }
}

/// ingress-nginx's answer when the backend does not answer.
fn bad_gateway(ip: &str) -> NetReply {
    NetReply::Http {
        ip: ip.into(),
        status: 502,
        body: ingress::BAD_GATEWAY_PAGE.into(),
        location: None,
        reason: Some(ingress::nginx_reason(502)),
        cert: None,
    }
}

fn reply(ip: &str, served: Served) -> NetReply {
    match served {
        Served::Closed => NetReply::Refused { ip: ip.into() },
        Served::Open => NetReply::Open { ip: ip.into() },
        Served::Http { status, body } => NetReply::Http {
            ip: ip.into(),
            status,
            body,
            location: None,
            reason: None,
            cert: None,
        },
    }
}

impl Network for PodNetwork<'_> {
    fn call(&self, req: &NetRequest, at: SignedDuration) -> NetReply {
        match req {
            NetRequest::Dns { name } => match self.resolve(name, at) {
                Ok((name, addresses)) => NetReply::Dns { name, addresses },
                Err(DnsFailure::NxDomain) => NetReply::NxDomain,
                Err(DnsFailure::Timeout) => NetReply::Timeout,
            },
            NetRequest::Http {
                host,
                port,
                path,
                host_header,
            } => match self.resolve(host, at) {
                Ok((_, addrs)) => match addrs.first() {
                    Some(ip) => {
                        let header = host_header.as_deref().unwrap_or(host);
                        self.connect(ip, *port, header, Some(path), at)
                    }
                    None => NetReply::BadAddress,
                },
                Err(_) => NetReply::BadAddress,
            },
            NetRequest::Tcp { host, port } => match self.resolve(host, at) {
                Ok((_, addrs)) => match addrs.first() {
                    Some(ip) => self.connect(ip, *port, host, None, at),
                    None => NetReply::BadAddress,
                },
                Err(_) => NetReply::BadAddress,
            },
        }
    }

    fn dns_server(&self) -> String {
        self.caller()
            .resolv
            .nameservers
            .first()
            .cloned()
            .unwrap_or_else(|| dns::CLUSTER_DNS.into())
    }
}

#[cfg(test)]
mod tests;
