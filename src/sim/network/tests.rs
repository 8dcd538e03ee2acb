//! The network as a busybox shell in a pod sees it, against a small
//! cluster view and a table of what each pod serves.

use super::*;
use crate::sim::workload::ShellKind;
use crate::sim::workload::shell::{self, Env};
use serde_json::json;
use std::collections::BTreeMap;

/// What each pod serves: (pod, port, protocol) → answer.
struct Table(BTreeMap<(String, u16, bool), Served>);

impl Serving for Table {
    fn serve(&self, pod: &PodInfo, port: u16, protocol: Protocol, path: Option<&str>) -> Served {
        let s = self
            .0
            .get(&(pod.name.clone(), port, protocol == Protocol::Udp))
            .cloned()
            .unwrap_or(Served::Closed);
        match (s, path) {
            (Served::Http { .. }, None) => Served::Open,
            (s, _) => s,
        }
    }
}

const WELCOME: &str = crate::sim::workload::behaviour::NGINX_INDEX;

fn table() -> Table {
    let mut t = BTreeMap::new();
    for dns in ["coredns-a", "coredns-b"] {
        t.insert((dns.to_string(), 53, true), Served::Open);
    }
    t.insert(
        ("web-1".to_string(), 80, false),
        Served::Http {
            status: 200,
            body: WELCOME.into(),
        },
    );
    Table(t)
}

fn pod(ns: &str, name: &str, ip: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nodeName": "kdrill-worker"}, "status": {"podIP": ip}})
}

fn svc(ns: &str, name: &str, ip: &str, ports: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": ns}, "spec": {"clusterIP": ip, "ports": ports}})
}

fn slice(ns: &str, svc: &str, ports: Value, eps: &[(&str, &str, bool)]) -> Value {
    json!({"metadata": {"namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
        "ports": ports,
        "endpoints": eps.iter().map(|(pod, ip, ready)| json!({"addresses": [ip],
            "conditions": {"ready": ready, "serving": ready, "terminating": false},
            "targetRef": {"kind": "Pod", "namespace": ns, "name": pod}})).collect::<Vec<_>>()})
}

/// kube-dns with `dns` endpoints, `web` (port 80 → `target`) with `web`
/// endpoints, and an empty headless `db`.
fn cluster(dns: &[(&str, &str, bool)], web: &[(&str, &str, bool)], target: u16) -> ClusterView {
    let dns_ports = json!([{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]);
    ClusterView::build(
        &[
            svc("kube-system", "kube-dns", "10.96.0.10", dns_ports.clone()),
            svc(
                "default",
                "web",
                "10.96.44.10",
                json!([{"name": "", "port": 80, "protocol": "TCP"}]),
            ),
            svc(
                "default",
                "db",
                "None",
                json!([{"name": "", "port": 5432, "protocol": "TCP"}]),
            ),
        ],
        &[
            slice("kube-system", "kube-dns", dns_ports, dns),
            slice(
                "default",
                "web",
                json!([{"name": "", "port": target, "protocol": "TCP"}]),
                web,
            ),
            slice(
                "default",
                "db",
                json!([{"name": "", "port": 5432, "protocol": "TCP"}]),
                &[],
            ),
        ],
        &[
            pod(
                "kube-system",
                "coredns-a",
                "10.244.0.2",
                json!({"k8s-app": "kube-dns"}),
            ),
            pod(
                "kube-system",
                "coredns-b",
                "10.244.0.3",
                json!({"k8s-app": "kube-dns"}),
            ),
            pod("default", "web-1", "10.244.1.4", json!({"app": "web"})),
            pod("default", "client", "10.244.2.9", json!({})),
        ],
        &[],
    )
}

const DNS_UP: &[(&str, &str, bool)] = &[
    ("coredns-a", "10.244.0.2", true),
    ("coredns-b", "10.244.0.3", true),
];
const WEB_READY: &[(&str, &str, bool)] = &[("web-1", "10.244.1.4", true)];

fn client(spec: Value) -> Caller {
    let mut p = pod("default", "client", "10.244.2.9", json!({}));
    p["spec"] = spec;
    Caller::of(&p, "10.244.2.9")
}

/// Runs `cmd` in the client pod's busybox shell.
fn run(view: ClusterView, spec: Value, cmd: &str) -> (String, i32) {
    let t = table();
    let net = PodNetwork::new(client(spec), move || view.clone(), &t, 7);
    let env = Env {
        kind: ShellKind::Ash,
        vars: Vec::new(),
        files: BTreeMap::new(),
        dirs: Vec::new(),
        hostname: "client".into(),
        net: &net,
        curl: None,
    };
    let argv: Vec<String> = ["sh", "-c", cmd].iter().map(|s| s.to_string()).collect();
    let r = shell::exec(&argv, &env);
    (r.output, r.code)
}

#[test]
fn a_healthy_service_answers_through_its_cluster_ip() {
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -qO- -T 2 http://web",
    );
    assert_eq!(code, 0);
    assert_eq!(out, WELCOME);
    assert_eq!(WELCOME.len(), 615, "nginx's index.html is 615 bytes");
    let (out, _) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -O- -T 2 http://web.default.svc.cluster.local/",
    );
    assert!(
        out.starts_with("Connecting to web.default.svc.cluster.local (10.96.44.10:80)\n"),
        "{out}"
    );
    // Direct to the pod IP.
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -qO- http://10.244.1.4",
    );
    assert_eq!((out.as_str(), code), (WELCOME, 0));
}

#[test]
fn nslookup_finds_services_through_the_search_path() {
    let (out, code) = run(cluster(DNS_UP, WEB_READY, 80), json!({}), "nslookup web");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb.default.svc.cluster.local\nAddress: 10.96.44.10\n\n"
    );
    let (out, code) = run(cluster(DNS_UP, WEB_READY, 80), json!({}), "nslookup nope");
    assert_eq!(code, 1);
    assert!(out.contains("** server can't find nope: NXDOMAIN"), "{out}");
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "nslookup kube-dns.kube-system",
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("Name:\tkube-dns.kube-system.svc.cluster.local\nAddress: 10.96.0.10\n"),
        "{out}"
    );
    // A headless Service without ready endpoints has no records.
    let (_, code) = run(cluster(DNS_UP, WEB_READY, 80), json!({}), "nslookup db");
    assert_eq!(code, 1);
}

#[test]
fn a_service_without_ready_endpoints_refuses_connections() {
    for eps in [&[][..], &[("web-1", "10.244.1.4", false)][..]] {
        let (out, code) = run(
            cluster(DNS_UP, eps, 80),
            json!({}),
            "wget -qO- -T 2 http://web",
        );
        assert_eq!(code, 1);
        assert_eq!(
            out,
            "wget: can't connect to remote host (10.96.44.10): Connection refused\n"
        );
    }
}

#[test]
fn a_target_port_nobody_listens_on_refuses_connections() {
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 8080),
        json!({}),
        "wget -qO- -T 2 http://web",
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "wget: can't connect to remote host (10.96.44.10): Connection refused\n"
    );
    // A port the Service does not expose is dropped: timeout.
    let (out, _) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -qO- -T 2 http://web:8080",
    );
    assert_eq!(out, "wget: download timed out\n");
}

#[test]
fn without_dns_endpoints_lookups_time_out() {
    for dns in [&[][..], &[("coredns-a", "10.244.0.2", false)][..]] {
        let (out, code) = run(cluster(dns, WEB_READY, 80), json!({}), "nslookup web");
        assert_eq!(code, 1);
        assert_eq!(
            out,
            ";; connection timed out; no servers could be reached\n\n"
        );
        let (out, _) = run(
            cluster(dns, WEB_READY, 80),
            json!({}),
            "wget -qO- -T 2 http://web",
        );
        assert_eq!(out, "wget: bad address 'web'\n");
    }
    // IP addresses need no DNS.
    let (out, code) = run(
        cluster(&[], WEB_READY, 80),
        json!({}),
        "wget -qO- -T 2 http://10.96.44.10",
    );
    assert_eq!((out.as_str(), code), (WELCOME, 0));
}

#[test]
fn dns_policy_default_uses_the_nodes_resolver() {
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({"dnsPolicy": "Default"}),
        "nslookup web",
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("Server:\t\t172.18.0.1\n"), "{out}");
    assert!(out.contains("NXDOMAIN"), "{out}");
}

#[test]
fn the_caller_keeps_its_labels_before_its_ip_is_in_its_status() {
    let p = json!({"metadata": {"name": "c", "namespace": "shop", "labels": {"app": "api"}},
        "spec": {"nodeName": "kdrill-worker"}, "status": {}});
    let c = Caller::of(&p, "10.244.1.9");
    assert_eq!(
        (
            c.pod.name.as_str(),
            c.pod.namespace.as_str(),
            c.pod.ip.as_str()
        ),
        ("c", "shop", "10.244.1.9")
    );
    assert_eq!(c.pod.labels.get("app").map(String::as_str), Some("api"));
}

/// Runs `cmd` in a client pod with `labels`.
fn run_labelled(view: ClusterView, labels: Value, cmd: &str) -> (String, i32) {
    let t = table();
    let mut p = pod("default", "client", "10.244.2.9", labels);
    p["spec"] = json!({});
    let net = PodNetwork::new(Caller::of(&p, "10.244.2.9"), move || view.clone(), &t, 7);
    let env = Env {
        kind: ShellKind::Ash,
        vars: Vec::new(),
        files: BTreeMap::new(),
        dirs: Vec::new(),
        hostname: "client".into(),
        net: &net,
        curl: None,
    };
    let argv: Vec<String> = ["sh", "-c", cmd].iter().map(|s| s.to_string()).collect();
    let r = shell::exec(&argv, &env);
    (r.output, r.code)
}

/// Policies in force, the client's labels, its command, and its output
/// (Ok on exit 0).
type Case<'a> = (
    &'a [&'a Value],
    &'a Value,
    &'a str,
    Result<&'a str, &'a str>,
);

fn netpol(name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

#[test]
fn network_policies_drop_what_they_do_not_admit() {
    let deny_in = netpol(
        "deny-in",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    );
    let allow_client = netpol(
        "allow-client",
        json!({"podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}],
                "ports": [{"protocol": "TCP", "port": 80}]}]}),
    );
    let deny_out = netpol(
        "deny-out",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    );
    let allow_dns = netpol(
        "allow-dns",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    );
    const TIMEOUT: &str = "wget: download timed out\n";
    const NO_DNS: &str = ";; connection timed out; no servers could be reached\n\n";
    let client = json!({"role": "client"});
    let cases: &[Case] = &[
        (&[], &json!({}), "wget -qO- -T 2 http://web", Ok(WELCOME)),
        (
            &[&deny_in],
            &client,
            "wget -qO- -T 2 http://web",
            Err(TIMEOUT),
        ),
        (
            &[&deny_in, &allow_client],
            &client,
            "wget -qO- -T 2 http://web",
            Ok(WELCOME),
        ),
        (
            &[&deny_in, &allow_client],
            &json!({}),
            "wget -qO- -T 2 http://web",
            Err(TIMEOUT),
        ),
        // Ingress isolation of `default` does not touch DNS in kube-system.
        (
            &[&deny_in],
            &client,
            "nslookup web >/dev/null && echo ok",
            Ok("ok\n"),
        ),
        (&[&deny_out], &client, "nslookup web", Err(NO_DNS)),
        (
            &[&deny_out],
            &client,
            "wget -qO- -T 2 http://web",
            Err("wget: bad address 'web'\n"),
        ),
        (
            &[&deny_out, &allow_dns],
            &client,
            "nslookup web >/dev/null && echo ok",
            Ok("ok\n"),
        ),
        (
            &[&deny_out, &allow_dns],
            &client,
            "wget -qO- -T 2 http://web",
            Err(TIMEOUT),
        ),
        // By IP, no DNS is involved; egress to the pod is still denied.
        (
            &[&deny_out, &allow_dns],
            &client,
            "wget -qO- -T 2 http://10.244.1.4",
            Err(TIMEOUT),
        ),
    ];
    for (policies, labels, cmd, want) in cases {
        let mut view = cluster(DNS_UP, WEB_READY, 80);
        view.network_policies = policies.iter().map(|p| (*p).clone()).collect();
        let (out, code) = run_labelled(view, (*labels).clone(), cmd);
        let got = if code == 0 {
            Ok(out.as_str())
        } else {
            Err(out.as_str())
        };
        let names: Vec<&str> = policies
            .iter()
            .filter_map(|p| p.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        assert_eq!(got, *want, "{names:?} {labels} {cmd}");
    }
}

/// The cluster plus an ingress-nginx controller pod `ctl` behind its
/// Service, an Ingress routing `/` to `web` and `/bad` to `bad` (whose
/// targetPort 8080 nobody listens on), as the controller's informers see
/// them.
fn with_controller() -> ClusterView {
    let mut view = cluster(DNS_UP, WEB_READY, 80);
    let ctl_svc = svc(
        "ingress-nginx",
        "ingress-nginx-controller",
        "10.96.100.1",
        json!([{"name": "http", "port": 80, "protocol": "TCP"}]),
    );
    view.services.push(view::Svc::parse(&ctl_svc));
    if let Some(s) = view::Slice::parse(&slice(
        "ingress-nginx",
        "ingress-nginx-controller",
        json!([{"name": "http", "port": 80, "protocol": "TCP"}]),
        &[("ctl", "10.244.0.9", true)],
    )) {
        view.slices.push(s);
    }
    view.pods.push(PodInfo::of(&pod(
        "ingress-nginx",
        "ctl",
        "10.244.0.9",
        json!({"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}),
    )));
    let endpoints = |name: &str, port: u16| {
        json!({"metadata": {"namespace": "default", "name": name},
            "subsets": [{"addresses": [{"ip": "10.244.1.4", "targetRef": {"name": "web-1"}}],
                "ports": [{"name": "", "port": port}]}]})
    };
    let rule = |path: &str, svc: &str| {
        json!({"path": path, "pathType": "Prefix",
            "backend": {"service": {"name": svc, "port": {"number": 80}}}})
    };
    let ing = json!({"metadata": {"namespace": "default", "name": "r",
            "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"rules": [{"http": {"paths": [rule("/", "web"), rule("/bad", "bad"), rule("/gone", "gone")]}}]}});
    let web_svc = svc(
        "default",
        "web",
        "10.96.44.10",
        json!([{"name": "", "port": 80, "protocol": "TCP", "targetPort": 80}]),
    );
    let bad_svc = svc(
        "default",
        "bad",
        "10.96.44.11",
        json!([{"name": "", "port": 80, "protocol": "TCP", "targetPort": 8080}]),
    );
    view.ingress = crate::sim::ingress::IngressObjects {
        ingresses: vec![ing.into()],
        services: vec![web_svc.into(), bad_svc.into()],
        endpoints: vec![endpoints("web", 80).into(), endpoints("bad", 8080).into()],
        ..Default::default()
    };
    view
}

#[test]
fn the_controller_routes_by_path_and_answers_for_broken_backends() {
    let mut t = table();
    t.0.insert(
        ("ctl".to_string(), 80, false),
        Served::Http {
            status: 404,
            body: String::new(),
        },
    );
    let run_ctl = |view: ClusterView, cmd: &str| {
        let mut p = pod("default", "client", "10.244.2.9", json!({}));
        p["spec"] = json!({});
        let net = PodNetwork::new(Caller::of(&p, "10.244.2.9"), move || view.clone(), &t, 7);
        let env = Env {
            kind: ShellKind::Ash,
            vars: Vec::new(),
            files: BTreeMap::new(),
            dirs: Vec::new(),
            hostname: "client".into(),
            net: &net,
            curl: None,
        };
        let argv: Vec<String> = ["sh", "-c", cmd].iter().map(|s| s.to_string()).collect();
        let r = shell::exec(&argv, &env);
        (r.output, r.code)
    };
    let err = |s: &str| format!("wget: server returned error: HTTP/1.1 {s}\n");
    let deny = netpol(
        "deny-in",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    );
    let cases: Vec<(&str, bool, (String, i32))> = vec![
        ("/", false, (WELCOME.to_string(), 0)),
        ("/anything", false, (WELCOME.to_string(), 0)),
        // targetPort 8080: the endpoint refuses, nginx answers 502.
        ("/bad", false, (err("502 Bad Gateway"), 1)),
        // No such Service: 503 from the controller, in nginx's words
        // (ngx_http_header_filter_module.c ngx_http_status_lines).
        (
            "/gone",
            false,
            (err("503 Service Temporarily Unavailable"), 1),
        ),
        // The backend's namespace denies ingress: the controller's packets
        // are dropped and the client gives up first.
        ("/", true, ("wget: download timed out\n".to_string(), 1)),
    ];
    for (path, denied, want) in cases {
        let mut view = with_controller();
        if denied {
            view.network_policies = vec![deny.clone()];
        }
        let cmd = format!("wget -qO- -T 2 http://ingress-nginx-controller.ingress-nginx{path}");
        assert_eq!(run_ctl(view, &cmd), want, "{path} denied={denied}");
    }
    // A port the controller does not route (not 80/443) is its own.
    let (out, code) = run_ctl(
        with_controller(),
        "wget -qO- -T 2 http://10.244.0.9:10254/healthz",
    );
    assert_eq!(
        (out.as_str(), code),
        (
            "wget: can't connect to remote host (10.244.0.9): Connection refused\n",
            1
        )
    );
}

#[test]
fn a_host_port_on_the_node_reaches_the_controller() {
    let mut view = with_controller();
    view.nodes.push(view::NodeInfo {
        name: "kdrill-worker".into(),
        ip: "172.18.0.3".into(),
    });
    if let Some(ctl) = view.pods.iter_mut().find(|p| p.name == "ctl") {
        ctl.ports =
            vec![json!({"name": "http", "containerPort": 80, "hostPort": 80, "protocol": "TCP"})];
    }
    let mut t = table();
    t.0.insert(
        ("ctl".to_string(), 80, false),
        Served::Http {
            status: 404,
            body: String::new(),
        },
    );
    let mut p = pod("default", "client", "10.244.2.9", json!({}));
    p["spec"] = json!({});
    let net = PodNetwork::new(Caller::of(&p, "10.244.2.9"), move || view.clone(), &t, 7);
    let at = SignedDuration::ZERO;
    let body = |r: NetReply| match r {
        NetReply::Http { status, body, .. } => Some((status, body)),
        _ => None,
    };
    assert_eq!(
        body(net.connect("172.18.0.3", 80, "172.18.0.3", Some("/"), at)),
        Some((200, WELCOME.to_string()))
    );
    assert_eq!(
        net.connect("172.18.0.3", 81, "172.18.0.3", Some("/"), at),
        NetReply::Refused {
            ip: "172.18.0.3".into()
        }
    );
}

// busybox networking/wget.c: with -S the status line and each header
// are printed as "  %s" (fgets_trim_sanitize), the empty line ending the
// headers as two spaces; "Connecting to" names the URL's host as given.
#[test]
fn wget_s_prints_the_status_line_indented() {
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -S -O- http://web",
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "Connecting to web (10.96.44.10:80)\n  HTTP/1.1 200 OK\n  \nwriting to stdout\n{}\nwritten to stdout\n",
            WELCOME.trim_end()
        )
    );
}

// Without -T, wget's alarm is 900 s, longer than the kernel's SYN retries
// (tcp_syn_retries = 6, 127 s): connect() fails with ETIMEDOUT and libbb's
// xconnect reports it; with -T 2 the alarm fires first ("download timed
// out").
#[test]
fn a_dropped_connection_times_out_in_connect_without_t() {
    let (out, code) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -O- http://web:8080",
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "Connecting to web:8080 (10.96.44.10:8080)\nwget: can't connect to remote host (10.96.44.10): Connection timed out\n"
    );
    let (out, _) = run(
        cluster(DNS_UP, WEB_READY, 80),
        json!({}),
        "wget -O- -T 2 http://web:8080",
    );
    assert_eq!(
        out,
        "Connecting to web:8080 (10.96.44.10:8080)\nwget: download timed out\n"
    );
    // str2sockaddr reports the host as given, port included.
    let (out, _) = run(
        cluster(&[], WEB_READY, 80),
        json!({}),
        "wget -qO- http://web:8080",
    );
    assert_eq!(out, "wget: bad address 'web:8080'\n");
}

// busybox nc is nc_bloaty.c (NC_110_COMPAT, default y): a failed connect
// is silent and exits 1; -v prints errors other than a refusal, -vv all.
#[test]
fn nc_reports_failures_only_when_verbose() {
    let c = || cluster(DNS_UP, WEB_READY, 80);
    assert_eq!(
        run(c(), json!({}), "nc -zv web 80"),
        ("web (10.96.44.10:80) open\n".to_string(), 0)
    );
    let refused = || cluster(DNS_UP, &[], 80);
    assert_eq!(
        run(refused(), json!({}), "nc -z web 80"),
        (String::new(), 1)
    );
    assert_eq!(
        run(refused(), json!({}), "nc -zv web 80"),
        (String::new(), 1)
    );
    assert_eq!(
        run(refused(), json!({}), "nc -zvv web 80"),
        (
            "nc: web (10.96.44.10:80): Connection refused\n".to_string(),
            1
        )
    );
    assert_eq!(
        run(c(), json!({}), "nc -zv -w 2 web 8080"),
        (
            "nc: web (10.96.44.10:8080): Connection timed out\n".to_string(),
            1
        )
    );
    assert_eq!(
        run(c(), json!({}), "nc -z -w 2 web 8080"),
        (String::new(), 1)
    );
    assert_eq!(
        run(c(), json!({}), "nc -z nope 80"),
        ("nc: bad address 'nope'\n".to_string(), 1)
    );
}

/// [`with_controller`] with its Ingress's rule bound to one host.
fn with_host_rule(host: &str) -> ClusterView {
    let mut view = with_controller();
    let ing = json!({"metadata": {"namespace": "default", "name": "r",
            "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}});
    view.ingress.ingresses = vec![ing.into()];
    view
}

#[test]
fn the_host_header_picks_the_ingress_rule() {
    let mut t = table();
    t.0.insert(
        ("ctl".to_string(), 80, false),
        Served::Http {
            status: 404,
            body: String::new(),
        },
    );
    let run = |cmd: &str| {
        let view = with_host_rule("shop.example.com");
        let mut p = pod("default", "client", "10.244.2.9", json!({}));
        p["spec"] = json!({});
        let net = PodNetwork::new(Caller::of(&p, "10.244.2.9"), move || view.clone(), &t, 7);
        let env = Env {
            kind: ShellKind::Ash,
            vars: Vec::new(),
            files: BTreeMap::new(),
            dirs: Vec::new(),
            hostname: "client".into(),
            net: &net,
            curl: Some("8.16.0"),
        };
        let argv: Vec<String> = ["sh", "-c", cmd].iter().map(|s| s.to_string()).collect();
        let r = shell::exec(&argv, &env);
        (r.output, r.code)
    };
    let ctl = "http://ingress-nginx-controller.ingress-nginx";
    let not_found = "wget: server returned error: HTTP/1.1 404 Not Found\n".to_string();
    let cases: Vec<(String, (String, i32))> = vec![
        // The URL's host is the Service name: no rule for it.
        (format!("wget -qO- {ctl}"), (not_found.clone(), 1)),
        (
            format!("wget -qO- --header 'Host: shop.example.com' {ctl}"),
            (WELCOME.to_string(), 0),
        ),
        (
            format!("wget -qO- --header 'host: SHOP.example.com:80' {ctl}/cart"),
            (WELCOME.to_string(), 0),
        ),
        (
            format!("wget -qO- --header 'Host: other.example.com' {ctl}"),
            (not_found, 1),
        ),
        (
            format!("curl -s -o /dev/null -w '%{{http_code}}' -H 'Host: shop.example.com' {ctl}"),
            ("200\n".to_string(), 0),
        ),
        (
            format!("curl -s -H 'Host: other.example.com' {ctl}"),
            (crate::sim::ingress::NOT_FOUND_PAGE.to_string(), 0),
        ),
        // --resolve: the URL names the host, the address is the Service's.
        (
            "curl -s --resolve shop.example.com:80:10.96.100.1 http://shop.example.com/"
                .to_string(),
            (WELCOME.to_string(), 0),
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(run(&cmd), want, "{cmd}");
    }
}

/// `with_controller` with kind's nodes and the controller publishing
/// hostPort 80 on the control plane (`ingress-ready=true`).
fn with_host_port() -> (ClusterView, Table) {
    let mut view = with_controller();
    for (name, ip) in [
        ("kdrill-control-plane", "172.18.0.2"),
        ("kdrill-worker", "172.18.0.3"),
    ] {
        view.nodes.push(view::NodeInfo {
            name: name.into(),
            ip: ip.into(),
        });
    }
    if let Some(ctl) = view.pods.iter_mut().find(|p| p.name == "ctl") {
        ctl.node = "kdrill-control-plane".into();
        ctl.ports =
            vec![json!({"name": "http", "containerPort": 80, "hostPort": 80, "protocol": "TCP"})];
    }
    let mut t = table();
    t.0.insert(
        ("ctl".to_string(), 80, false),
        Served::Http {
            status: 404,
            body: String::new(),
        },
    );
    (view, t)
}

fn ctl_policy(name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "ingress-nginx"}, "spec": spec})
}

fn status(r: NetReply) -> Result<u16, NetReply> {
    match r {
        NetReply::Http { status, .. } => Ok(status),
        other => Err(other),
    }
}

#[test]
fn the_host_reaches_the_controller_from_outside_and_only_ip_blocks_match_it() {
    let dropped = || {
        Err(NetReply::Dropped {
            ip: "172.18.0.2".into(),
        })
    };
    let from = |cidr: &str, except: &[&str]| {
        json!({"podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": cidr, "except": except}}]}]})
    };
    let cases: Vec<(&str, Option<Value>, Result<u16, NetReply>)> = vec![
        ("no policy", None, Ok(200)),
        (
            "default deny",
            Some(json!({"podSelector": {}, "policyTypes": ["Ingress"]})),
            dropped(),
        ),
        (
            "every pod, every namespace: still not the host",
            Some(json!({"podSelector": {}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}, "namespaceSelector": {}}]}]})),
            dropped(),
        ),
        (
            "the docker network",
            Some(from("172.18.0.0/16", &[])),
            Ok(200),
        ),
        (
            "all but the gateway",
            Some(from("172.18.0.0/16", &["172.18.0.1/32"])),
            dropped(),
        ),
        (
            "the pod network only",
            Some(from("10.244.0.0/16", &[])),
            dropped(),
        ),
    ];
    for (what, policy, want) in cases {
        let (mut view, t) = with_host_port();
        view.network_policies = policy.into_iter().map(|p| ctl_policy("p", p)).collect();
        let net = PodNetwork::new(Caller::outside("172.18.0.1"), move || view.clone(), &t, 7);
        let got = status(net.connect("172.18.0.2", 80, "", Some("/"), SignedDuration::ZERO));
        assert_eq!(got, want, "{what}");
    }
    // The outside caller has no loopback of its own in the cluster, and
    // resolves no cluster names.
    let (view, t) = with_host_port();
    let net = PodNetwork::new(Caller::outside("172.18.0.1"), move || view.clone(), &t, 7);
    assert_eq!(
        status(net.connect("127.0.0.1", 80, "", Some("/"), SignedDuration::ZERO)),
        Err(NetReply::Dropped {
            ip: "127.0.0.1".into()
        })
    );
    assert!(net.resolve("web.default", SignedDuration::ZERO).is_err());
}

/// `web` as a NodePort Service (30080) with `externalTrafficPolicy`
/// `etp`, its pod `web-1` on kdrill-worker, and an ingress policy on
/// `default` admitting only `peer`.
fn nodeport_view(etp: &str, peer: Value) -> ClusterView {
    let (mut view, _) = with_host_port();
    let web = json!({"metadata": {"name": "web", "namespace": "default"},
        "spec": {"clusterIP": "10.96.44.10", "type": "NodePort", "externalTrafficPolicy": etp,
            "ports": [{"name": "", "port": 80, "protocol": "TCP", "nodePort": 30080}]}});
    view.services.retain(|s| s.name != "web");
    view.services.push(view::Svc::parse(&web));
    view.network_policies = vec![netpol(
        "only",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer]}]}),
    )];
    view
}

#[test]
fn nodeport_traffic_is_masqueraded_unless_the_policy_is_local() {
    let t = table();
    let at = SignedDuration::ZERO;
    let client_pod = json!({"podSelector": {"matchLabels": {"client": "yes"}}});
    let nodes = json!({"ipBlock": {"cidr": "172.18.0.0/24"}});
    let host = json!({"ipBlock": {"cidr": "172.18.0.1/32"}});
    let caller = || {
        let p = pod("default", "client", "10.244.2.9", json!({"client": "yes"}));
        Caller::of(&p, "10.244.2.9")
    };
    let ok = || Ok(200);
    let dropped = |ip: &str| Err(NetReply::Dropped { ip: ip.into() });
    // (etp, admitted peer, caller is the pod, node ip, want)
    type Case<'a> = (&'a str, &'a Value, bool, &'a str, Result<u16, NetReply>);
    let cases: Vec<Case> = vec![
        // Cluster: the backend sees the node's IP, whoever connects...
        (
            "Cluster",
            &client_pod,
            true,
            "172.18.0.2",
            dropped("172.18.0.2"),
        ),
        // ...which its own node's is always allowed (NetworkPolicy never
        // blocks the pod's node).
        ("Cluster", &client_pod, true, "172.18.0.3", ok()),
        ("Cluster", &nodes, true, "172.18.0.2", ok()),
        ("Cluster", &nodes, false, "172.18.0.2", ok()),
        ("Cluster", &host, false, "172.18.0.2", dropped("172.18.0.2")),
        // Local: the client's address is kept.
        ("Local", &client_pod, true, "172.18.0.3", ok()),
        ("Local", &host, false, "172.18.0.3", ok()),
        ("Local", &nodes, true, "172.18.0.3", dropped("172.18.0.3")),
        // No endpoint on the control plane: traffic from outside is
        // dropped; a pod's is sent to the cluster-wide endpoints.
        ("Local", &host, false, "172.18.0.2", dropped("172.18.0.2")),
        ("Local", &client_pod, true, "172.18.0.2", ok()),
    ];
    for (etp, peer, from_pod, node, want) in cases {
        let view = nodeport_view(etp, peer.clone());
        let c = if from_pod {
            caller()
        } else {
            Caller::outside("172.18.0.1")
        };
        let net = PodNetwork::new(c, move || view.clone(), &t, 7);
        let got = status(net.connect(node, 30080, "", Some("/"), at));
        assert_eq!(got, want, "{etp} {peer} from_pod={from_pod} {node}");
    }
    // The ClusterIP is not masqueraded: the pod is seen as itself.
    let view = nodeport_view("Cluster", client_pod.clone());
    let net = PodNetwork::new(caller(), move || view.clone(), &t, 7);
    assert_eq!(
        status(net.connect("10.96.44.10", 80, "", Some("/"), at)),
        ok()
    );
}
