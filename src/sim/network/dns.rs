//! Name resolution: the `/etc/resolv.conf` the kubelet writes for a pod
//! (`pkg/kubelet/network/dns`: dnsPolicy ClusterFirst / Default /
//! ClusterFirstWithHostNet / None merged with `dnsConfig`), the resolver's
//! search-path order, and the records CoreDNS's `kubernetes` plugin serves
//! for `cluster.local` (`pods insecure`).

use super::view::ClusterView;
use crate::api::pointer::Pointer;
use serde_json::Value;
use std::net::Ipv4Addr;

/// The cluster domain kind configures.
pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// The kube-dns Service's ClusterIP (the kubelet's `--cluster-dns`).
pub const CLUSTER_DNS: &str = "10.96.0.10";
/// The nameserver of a kind node's own `/etc/resolv.conf` (the docker
/// network's gateway, which kind's entrypoint puts in place of Docker's
/// embedded 127.0.0.11), which `dnsPolicy: Default` pods inherit.
pub const NODE_NAMESERVER: &str = "172.18.0.1";
/// The options of that file: Docker writes `options ndots:0` for a
/// container on a user-defined network (the `kind` network) that uses its
/// embedded resolver. (Its search line is the host machine's; the
/// simulated host has none.)
pub const NODE_OPTIONS: &str = "ndots:0";

/// A pod's resolver configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolv {
    pub nameservers: Vec<String>,
    pub search: Vec<String>,
    /// Options as written (`ndots:5`), in order.
    pub options: Vec<String>,
}

impl Resolv {
    /// The `ndots` option (resolver default 1).
    pub fn ndots(&self) -> usize {
        self.options
            .iter()
            .filter_map(|o| o.strip_prefix("ndots:"))
            .filter_map(|n| n.parse().ok())
            .next_back()
            .unwrap_or(1)
    }

    /// The file's text, as the kubelet writes it.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(128);
        let line = |out: &mut String, word: &str, items: &[String]| {
            out.push_str(word);
            for i in items {
                out.push(' ');
                out.push_str(i);
            }
            out.push('\n');
        };
        if !self.search.is_empty() {
            line(&mut out, "search", &self.search);
        }
        for n in &self.nameservers {
            line(&mut out, "nameserver", std::slice::from_ref(n));
        }
        if !self.options.is_empty() {
            line(&mut out, "options", &self.options);
        }
        out
    }

    /// The names the resolver tries for `name`, in order: with fewer dots
    /// than `ndots` the search list first, the name itself last; a name
    /// ending in `.` is only tried as is.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(abs) = name.strip_suffix('.') {
            return vec![abs.to_string()];
        }
        let searched = self.search.iter().map(|d| format!("{name}.{d}"));
        if name.matches('.').count() >= self.ndots() {
            std::iter::once(name.to_string()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.to_string())).collect()
        }
    }
}

fn push_unique(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for i in items {
        if !list.contains(&i) {
            list.push(i);
        }
    }
}

fn strs(v: &Value, p: &str) -> Vec<String> {
    v.at(p)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// What of a pod, besides `dnsConfig`, decides its resolver file: its
/// namespace, `dnsPolicy` and `hostNetwork`, with their defaults.
fn dns_inputs(pod: &Value) -> (&str, &str, bool) {
    let ns = pod
        .get_in(&["metadata", "namespace"])
        .and_then(Value::as_str)
        .unwrap_or("default");
    let policy = pod
        .get_in(&["spec", "dnsPolicy"])
        .and_then(Value::as_str)
        .unwrap_or("ClusterFirst");
    let host_net = pod
        .get_in(&["spec", "hostNetwork"])
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (ns, policy, host_net)
}

/// `resolv_for(pod).render()`: the file's text. Pods without `dnsConfig`
/// get one of a few files (by namespace, policy and host network); the
/// last one rendered is kept, since the kubelet writes it into every
/// container it creates.
pub fn resolv_conf(pod: &Value) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, String, bool, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    if pod.get_in(&["spec", "dnsConfig"]).is_some() {
        return resolv_for(pod).render();
    }
    let (ns, policy, host_net) = dns_inputs(pod);
    LAST.with_borrow_mut(|last| {
        if let Some((n, p, h, text)) = last.as_ref()
            && n == ns
            && p == policy
            && *h == host_net
        {
            return text.clone();
        }
        let text = resolv_for(pod).render();
        *last = Some((ns.to_string(), policy.to_string(), host_net, text.clone()));
        text
    })
}

/// The resolver configuration the kubelet gives `pod`
/// (pkg/kubelet/network/dns/dns.go `Configurer.GetPodDNS`): ClusterFirst
/// gets the cluster DNS as its only nameserver, the search list
/// `<ns>.svc.<domain> svc.<domain> <domain>` followed by the node's own
/// searches, and `options ndots:5` in place of the node's options;
/// Default (and ClusterFirst on the host network) the node's file as is;
/// None nothing. `dnsConfig` is then appended (`appendDNSConfig`:
/// duplicates dropped, an option of the same name replaced) and cut to 3
/// nameservers and 32 search paths. containerd writes the file as
/// `search`, `nameserver` lines, `options`.
pub fn resolv_for(pod: &Value) -> Resolv {
    let (ns, policy, host_net) = dns_inputs(pod);
    let node = Resolv {
        nameservers: vec![NODE_NAMESERVER.into()],
        search: Vec::new(),
        options: vec![NODE_OPTIONS.into()],
    };
    let mut r = match policy {
        "None" => Resolv {
            nameservers: Vec::new(),
            search: Vec::new(),
            options: Vec::new(),
        },
        "Default" => node,
        "ClusterFirst" if host_net => node,
        _ => Resolv {
            nameservers: vec![CLUSTER_DNS.into()],
            search: vec![
                format!("{ns}.svc.{CLUSTER_DOMAIN}"),
                format!("svc.{CLUSTER_DOMAIN}"),
                CLUSTER_DOMAIN.into(),
            ],
            options: vec!["ndots:5".into()],
        },
    };
    if let Some(cfg) = pod.get_in(&["spec", "dnsConfig"]) {
        push_unique(&mut r.nameservers, strs(cfg, "/nameservers"));
        push_unique(&mut r.search, strs(cfg, "/searches"));
        for o in cfg
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = o.get("name").and_then(Value::as_str) else {
                continue;
            };
            // `mergeDNSOptions`: an empty value writes the bare name.
            let text = match o.get("value").and_then(Value::as_str) {
                Some(v) if !v.is_empty() => format!("{name}:{v}"),
                _ => name.to_string(),
            };
            // A dnsConfig option replaces one of the same name.
            let same = |x: &String| x.split(':').next() == Some(name);
            match r.options.iter().position(same) {
                Some(i) => r.options[i] = text,
                None => r.options.push(text),
            }
        }
    }
    // `MaxDNSNameservers` and `MaxDNSSearchPaths`.
    r.nameservers.truncate(3);
    r.search.truncate(32);
    r
}

/// `a-b-c-d` → `a.b.c.d` when it is an IPv4 address.
fn dashed_ip(label: &str) -> Option<String> {
    let ip = label.replace('-', ".");
    ip.parse::<Ipv4Addr>().ok().map(|_| ip)
}

/// The A records CoreDNS's `kubernetes` plugin answers for `fqdn` (no
/// trailing dot), or None for NXDOMAIN. Names outside the cluster domain
/// are forwarded upstream, which the simulated cluster cannot reach: they
/// do not resolve either.
pub fn cluster_records(view: &ClusterView, fqdn: &str) -> Option<Vec<String>> {
    let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
    let rest = fqdn.strip_suffix(&format!(".{CLUSTER_DOMAIN}"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    match labels.as_slice() {
        // <a-b-c-d>.<ns>.pod
        [ip, _ns, "pod"] => dashed_ip(ip).map(|ip| vec![ip]),
        // <svc>.<ns>.svc
        [name, ns, "svc"] => {
            let svc = view.service(ns, name)?;
            if let Some(ip) = &svc.cluster_ip {
                return Some(vec![ip.clone()]);
            }
            if !svc.headless {
                return None;
            }
            let mut ips: Vec<String> = view
                .all_endpoints(svc)
                .filter(|e| e.ready || svc.publish_not_ready)
                .map(|e| e.ip.clone())
                .collect();
            ips.sort();
            ips.dedup();
            (!ips.is_empty()).then_some(ips)
        }
        // <hostname or a-b-c-d>.<svc>.<ns>.svc (headless endpoints)
        [host, name, ns, "svc"] => {
            let svc = view.service(ns, name).filter(|s| s.headless)?;
            let ip = view
                .all_endpoints(svc)
                .filter(|e| e.ready || svc.publish_not_ready)
                .find(|e| {
                    e.hostname.as_deref() == Some(host)
                        || dashed_ip(host).as_deref() == Some(e.ip.as_str())
                })?
                .ip
                .clone();
            Some(vec![ip])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_kept_file_is_the_one_each_pod_would_get() {
        let pods = [
            json!({"metadata": {"namespace": "shop"}, "spec": {}}),
            json!({"metadata": {"namespace": "shop"}, "spec": {"dnsPolicy": "ClusterFirst"}}),
            json!({"metadata": {"namespace": "shop"}, "spec": {"dnsPolicy": "Default"}}),
            json!({"metadata": {"namespace": "shop"}, "spec": {"hostNetwork": true}}),
            json!({"metadata": {"namespace": "web"}, "spec": {}}),
            json!({"metadata": {"namespace": "web"}, "spec": {"dnsConfig": {"searches": ["x.example"]}}}),
            json!({"metadata": {"namespace": "web"}, "spec": {}}),
            json!({"spec": {}}),
        ];
        // Twice round, so each is asked for both after another and after itself.
        for pod in pods.iter().chain(&pods).chain(pods.iter().rev()) {
            assert_eq!(resolv_conf(pod), resolv_for(pod).render(), "{pod}");
        }
    }

    #[test]
    fn resolv_conf_follows_dns_policy() {
        let pod = json!({"metadata": {"namespace": "shop"}, "spec": {}});
        let r = resolv_for(&pod);
        assert_eq!(
            r.render(),
            "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
        );
        let default = json!({"metadata": {"namespace": "shop"}, "spec": {"dnsPolicy": "Default"}});
        // The kind node's file: Docker's `options ndots:0`, kept.
        assert_eq!(
            resolv_for(&default).render(),
            "nameserver 172.18.0.1\noptions ndots:0\n"
        );
        let host = json!({"spec": {"hostNetwork": true, "dnsPolicy": "ClusterFirst"}});
        assert_eq!(resolv_for(&host).nameservers, ["172.18.0.1"]);
        let host_cf =
            json!({"spec": {"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"}});
        assert_eq!(resolv_for(&host_cf).nameservers, ["10.96.0.10"]);
        let none = json!({"metadata": {"namespace": "a"}, "spec": {"dnsPolicy": "None", "dnsConfig": {
            "nameservers": ["1.1.1.1"], "searches": ["x.example"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}}});
        assert_eq!(
            resolv_for(&none).render(),
            "search x.example\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"
        );
        let merged = json!({"metadata": {"namespace": "a"}, "spec": {"dnsConfig": {
            "options": [{"name": "ndots", "value": "1"}]}}});
        assert_eq!(resolv_for(&merged).options, ["ndots:1"]);
        // dnsConfig on Default: appended to the node's file; an empty value
        // writes the option's bare name.
        let default_cfg = json!({"metadata": {"namespace": "a"}, "spec": {"dnsPolicy": "Default",
            "dnsConfig": {"nameservers": ["172.18.0.1", "8.8.8.8"], "searches": ["corp.example"],
                "options": [{"name": "edns0", "value": ""}, {"name": "ndots", "value": "2"}]}}});
        assert_eq!(
            resolv_for(&default_cfg).render(),
            "search corp.example\nnameserver 172.18.0.1\nnameserver 8.8.8.8\noptions ndots:2 edns0\n"
        );
    }

    #[test]
    fn search_order_depends_on_ndots() {
        let r = resolv_for(&json!({"metadata": {"namespace": "default"}, "spec": {}}));
        assert_eq!(
            r.candidates("web"),
            [
                "web.default.svc.cluster.local",
                "web.svc.cluster.local",
                "web.cluster.local",
                "web"
            ]
        );
        assert_eq!(r.candidates("web.default.svc.cluster.local.").len(), 1);
        let one = Resolv {
            options: vec!["ndots:1".into()],
            ..r
        };
        assert_eq!(one.candidates("web.shop")[0], "web.shop");
    }

    #[test]
    fn coredns_serves_services_headless_and_pod_records() {
        let svc = |name: &str, ip: &str| json!({"metadata": {"name": name, "namespace": "default"}, "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80}]}});
        let slice = json!({"metadata": {"namespace": "default", "labels": {"kubernetes.io/service-name": "db"}},
            "ports": [{"name": "http", "port": 80}],
            "endpoints": [
                {"addresses": ["10.244.1.7"], "hostname": "db-0", "conditions": {"ready": true}},
                {"addresses": ["10.244.2.7"], "hostname": "db-1", "conditions": {"ready": false}}]});
        let view = ClusterView::build(
            &[svc("web", "10.96.5.5"), svc("db", "None")],
            &[slice],
            &[],
            &[],
        );
        let ok = |n: &str| cluster_records(&view, n);
        assert_eq!(
            ok("web.default.svc.cluster.local"),
            Some(vec!["10.96.5.5".into()])
        );
        assert_eq!(
            ok("WEB.default.svc.cluster.local."),
            Some(vec!["10.96.5.5".into()])
        );
        assert_eq!(ok("web.other.svc.cluster.local"), None);
        assert_eq!(ok("web.default.svc"), None);
        assert_eq!(
            ok("db.default.svc.cluster.local"),
            Some(vec!["10.244.1.7".into()])
        );
        assert_eq!(
            ok("db-0.db.default.svc.cluster.local"),
            Some(vec!["10.244.1.7".into()])
        );
        assert_eq!(ok("db-1.db.default.svc.cluster.local"), None);
        assert_eq!(
            ok("10-244-9-9.default.pod.cluster.local"),
            Some(vec!["10.244.9.9".into()])
        );
        assert_eq!(ok("example.com"), None);
    }
}
