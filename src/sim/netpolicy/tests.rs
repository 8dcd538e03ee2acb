use super::*;
use serde_json::json;

const NODE: &str = "kind-control-plane";
const NODE_IP: &str = "172.18.0.2";

fn pod(ns: &str, name: &str, labels: Value, ip: &str, ports: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "x", "ports": ports}]},
        "status": {"podIP": ip},
    })
}

struct World {
    web: Value,
    client: Value,
    prod_client: Value,
    coredns: Value,
    hostnet: Value,
    other_node_pod: Value,
}

fn world() -> World {
    let mut hostnet = pod(
        "kube-system",
        "kube-proxy-x",
        json!({"k8s-app": "kube-proxy"}),
        NODE_IP,
        json!([]),
    );
    hostnet["spec"]["hostNetwork"] = json!(true);
    let mut other_node_pod = pod(
        "default",
        "remote",
        json!({"app": "client"}),
        "10.244.1.9",
        json!([]),
    );
    other_node_pod["spec"]["nodeName"] = json!("kind-worker");
    World {
        web: pod(
            "default",
            "web",
            json!({"app": "web"}),
            "10.244.0.5",
            json!([{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090, "protocol": "UDP"}]),
        ),
        client: pod(
            "default",
            "client",
            json!({"app": "client"}),
            "10.244.0.6",
            json!([]),
        ),
        prod_client: pod(
            "prod",
            "client",
            json!({"app": "client"}),
            "10.244.0.7",
            json!([]),
        ),
        coredns: pod(
            "kube-system",
            "coredns-abc",
            json!({"k8s-app": "kube-dns"}),
            "10.244.0.2",
            json!([{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53}]),
        ),
        hostnet,
        other_node_pod,
    }
}

fn namespaces() -> Vec<Value> {
    vec![
        json!({"metadata": {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}}}),
        json!({"metadata": {"name": "prod", "labels": {"env": "prod"}}}),
        json!({"metadata": {"name": "kube-system", "labels": {"kubernetes.io/metadata.name": "kube-system"}}}),
    ]
}

fn np(ns: &str, name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn deny_all_ingress() -> Value {
    np(
        "default",
        "default-deny-ingress",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    )
}

fn allow_from(from: Value, ports: Value) -> Value {
    np(
        "default",
        "allow",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": from, "ports": ports}]}),
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[derive(Clone, Copy)]
enum End {
    Web,
    Client,
    ProdClient,
    CoreDns,
    HostNet,
    Remote,
    Node,
    OtherNode,
    External,
}

fn peer<'a>(w: &'a World, e: End) -> Peer<'a> {
    match e {
        End::Web => Peer::Pod(&w.web),
        End::Client => Peer::Pod(&w.client),
        End::ProdClient => Peer::Pod(&w.prod_client),
        End::CoreDns => Peer::Pod(&w.coredns),
        End::HostNet => Peer::Pod(&w.hostnet),
        End::Remote => Peer::Pod(&w.other_node_pod),
        End::Node => Peer::Node {
            name: NODE,
            ip: ip(NODE_IP),
        },
        End::OtherNode => Peer::Node {
            name: "kind-worker",
            ip: ip("172.18.0.3"),
        },
        End::External => Peer::External(ip("8.8.8.8")),
    }
}

use End::*;
use Protocol::{Tcp, Udp};

#[test]
fn policy_table() {
    let dns_egress = np(
        "default",
        "allow-dns",
        json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    );
    let deny_egress = np(
        "default",
        "deny-egress",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    );
    let egress_to_web = np(
        "default",
        "client-to-web",
        json!({"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
               "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}]}),
    );
    let block = |except: Value| {
        allow_from(
            json!([{"ipBlock": {"cidr": "10.244.0.0/16", "except": except}}]),
            json!([]),
        )
    };
    type Case = (&'static str, Vec<Value>, End, End, u16, Protocol, bool);
    let cases: Vec<Case> = vec![
        (
            "no policies: everything passes",
            vec![],
            Client,
            Web,
            80,
            Tcp,
            true,
        ),
        (
            "default-deny ingress blocks pods",
            vec![deny_all_ingress()],
            Client,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "default-deny ingress blocks other namespaces",
            vec![deny_all_ingress()],
            ProdClient,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "default-deny ingress leaves egress open",
            vec![deny_all_ingress()],
            Web,
            CoreDns,
            53,
            Udp,
            true,
        ),
        (
            "default-deny ingress: pod reaches itself",
            vec![deny_all_ingress()],
            Web,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "default-deny ingress: own node (probes) passes",
            vec![deny_all_ingress()],
            Node,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "default-deny ingress: host-network pod on the node passes",
            vec![deny_all_ingress()],
            HostNet,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "default-deny ingress: external blocked",
            vec![deny_all_ingress()],
            External,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "allow-all ingress (empty rule) beats default-deny",
            vec![
                deny_all_ingress(),
                np(
                    "default",
                    "allow-all",
                    json!({"podSelector": {}, "ingress": [{}]}),
                ),
            ],
            External,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "policy without policyTypes and no egress isolates ingress only",
            vec![np("default", "p", json!({"podSelector": {}}))],
            Client,
            Web,
            80,
            Tcp,
            false,
        ),
        (
            "policy without policyTypes: egress rules make it isolate egress",
            vec![np(
                "default",
                "p",
                json!({"podSelector": {"matchLabels": {"app": "client"}}, "egress": [{"ports": [{"port": 443}]}]}),
            )],
            Client,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "egress-only policyTypes does not isolate ingress",
            vec![np(
                "default",
                "p",
                json!({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}),
            )],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "podSelector peer admits the selected pod",
            vec![allow_from(
                json!([{"podSelector": {"matchLabels": {"app": "client"}}}]),
                json!([]),
            )],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "podSelector peer looks only in the policy's namespace",
            vec![allow_from(
                json!([{"podSelector": {"matchLabels": {"app": "client"}}}]),
                json!([]),
            )],
            ProdClient,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "namespaceSelector peer admits every pod there",
            vec![allow_from(
                json!([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}]),
                json!([]),
            )],
            ProdClient,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "namespaceSelector peer does not admit the policy's own namespace",
            vec![allow_from(
                json!([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}]),
                json!([]),
            )],
            Client,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "both selectors in one peer: AND",
            vec![allow_from(
                json!([{"namespaceSelector": {"matchLabels": {"env": "prod"}}, "podSelector": {"matchLabels": {"app": "db"}}}]),
                json!([]),
            )],
            ProdClient,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "two peers: OR",
            vec![allow_from(
                json!([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}, {"podSelector": {"matchLabels": {"app": "db"}}}]),
                json!([]),
            )],
            ProdClient,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "empty namespaceSelector means every namespace",
            vec![allow_from(
                json!([{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "client"}}}]),
                json!([]),
            )],
            ProdClient,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "namespace matched by its automatic name label",
            vec![allow_from(
                json!([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prod"}}}]),
                json!([]),
            )],
            ProdClient,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "empty namespaceSelector admits pods on other nodes",
            vec![allow_from(json!([{"namespaceSelector": {}}]), json!([]))],
            Remote,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "selector peers never match another node",
            vec![allow_from(
                json!([{"namespaceSelector": {}, "podSelector": {}}]),
                json!([]),
            )],
            OtherNode,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "ipBlock can admit another node",
            vec![allow_from(
                json!([{"ipBlock": {"cidr": "172.18.0.0/16"}}]),
                json!([]),
            )],
            OtherNode,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "ipBlock admits an address inside",
            vec![block(json!([]))],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "ipBlock except carves an address out",
            vec![block(json!(["10.244.0.6/32"]))],
            Client,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "ipBlock except leaves the rest",
            vec![block(json!(["10.244.0.6/32"]))],
            ProdClient,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "ipBlock does not match outside addresses",
            vec![block(json!([]))],
            External,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "ipBlock 0.0.0.0/0 admits the world",
            vec![allow_from(
                json!([{"ipBlock": {"cidr": "0.0.0.0/0"}}]),
                json!([]),
            )],
            External,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "numeric port matches",
            vec![allow_from(json!([]), json!([{"port": 8080}]))],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "numeric port: other port dropped",
            vec![allow_from(json!([]), json!([{"port": 8080}]))],
            Client,
            Web,
            9090,
            Tcp,
            false,
        ),
        (
            "port defaults to TCP",
            vec![allow_from(json!([]), json!([{"port": 8080}]))],
            Client,
            Web,
            8080,
            Udp,
            false,
        ),
        (
            "protocol-only port matches every port",
            vec![allow_from(json!([]), json!([{"protocol": "UDP"}]))],
            Client,
            Web,
            9999,
            Udp,
            true,
        ),
        (
            "endPort range includes its ends",
            vec![allow_from(
                json!([]),
                json!([{"port": 8000, "endPort": 8080}]),
            )],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "endPort range excludes beyond",
            vec![allow_from(
                json!([]),
                json!([{"port": 8000, "endPort": 8080}]),
            )],
            Client,
            Web,
            8081,
            Tcp,
            false,
        ),
        (
            "named port resolves against the destination",
            vec![allow_from(json!([]), json!([{"port": "http"}]))],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "named port: another number is dropped",
            vec![allow_from(json!([]), json!([{"port": "http"}]))],
            Client,
            Web,
            80,
            Tcp,
            false,
        ),
        (
            "named port needs the protocol too",
            vec![allow_from(
                json!([]),
                json!([{"port": "metrics", "protocol": "UDP"}]),
            )],
            Client,
            Web,
            9090,
            Udp,
            true,
        ),
        (
            "named port the pod lacks matches nothing",
            vec![allow_from(json!([]), json!([{"port": "grpc"}]))],
            Client,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "default-deny egress blocks DNS",
            vec![deny_egress.clone()],
            Client,
            CoreDns,
            53,
            Udp,
            false,
        ),
        (
            "default-deny egress blocks the world",
            vec![deny_egress.clone()],
            Client,
            External,
            443,
            Tcp,
            false,
        ),
        (
            "DNS egress to kube-system CoreDNS on UDP 53",
            vec![deny_egress.clone(), dns_egress.clone()],
            Client,
            CoreDns,
            53,
            Udp,
            true,
        ),
        (
            "DNS egress on TCP 53",
            vec![deny_egress.clone(), dns_egress.clone()],
            Client,
            CoreDns,
            53,
            Tcp,
            true,
        ),
        (
            "DNS egress does not open other ports",
            vec![deny_egress.clone(), dns_egress.clone()],
            Client,
            CoreDns,
            9153,
            Tcp,
            false,
        ),
        (
            "DNS egress does not open other pods",
            vec![deny_egress.clone(), dns_egress],
            Client,
            Web,
            53,
            Udp,
            false,
        ),
        (
            "egress named port resolves on the destination",
            vec![egress_to_web.clone()],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "egress rule: other destinations dropped",
            vec![egress_to_web],
            Client,
            CoreDns,
            53,
            Udp,
            false,
        ),
        (
            "both ends isolated: egress and ingress must both allow",
            vec![
                deny_all_ingress(),
                np(
                    "default",
                    "eg",
                    json!({"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"], "egress": [{}]}),
                ),
            ],
            Client,
            Web,
            8080,
            Tcp,
            false,
        ),
        (
            "egress to a node is subject to the source's policy",
            vec![deny_egress.clone()],
            Remote,
            Node,
            10250,
            Tcp,
            false,
        ),
        (
            "own node is always reachable",
            vec![deny_egress],
            Client,
            Node,
            10250,
            Tcp,
            true,
        ),
        (
            "host-network destinations have no ingress policy",
            vec![np("kube-system", "deny", json!({"podSelector": {}}))],
            Client,
            HostNet,
            10256,
            Tcp,
            true,
        ),
        (
            "policies of another namespace do not apply",
            vec![np("prod", "deny", json!({"podSelector": {}}))],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
        (
            "podSelector with matchExpressions",
            vec![allow_from(
                json!([{"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["client", "api"]}]}}]),
                json!([]),
            )],
            Client,
            Web,
            8080,
            Tcp,
            true,
        ),
    ];
    let w = world();
    let nss = namespaces();
    for (name, policies, from, to, port, proto, want) in cases {
        let view = PolicyView::new(&policies, &nss);
        let got = allows(&view, &peer(&w, from), &peer(&w, to), port, proto);
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn verdict_names_the_deciding_side() {
    let w = world();
    let nss = namespaces();
    let deny = np(
        "default",
        "deny-egress",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    );
    let view = PolicyView::new([&deny], &nss);
    assert_eq!(
        decide(
            &view,
            &Peer::Pod(&w.client),
            &Peer::External(ip("1.1.1.1")),
            443,
            Tcp
        ),
        Verdict::DeniedEgress(vec!["default/deny-egress".into()])
    );
    let ing = deny_all_ingress();
    let view = PolicyView::new([&ing], &nss);
    assert_eq!(
        decide(&view, &Peer::Pod(&w.client), &Peer::Pod(&w.web), 80, Tcp),
        Verdict::DeniedIngress(vec!["default/default-deny-ingress".into()])
    );
    let view = PolicyView::new([], &nss);
    assert_eq!(
        decide(&view, &Peer::Pod(&w.client), &Peer::Pod(&w.web), 80, Tcp),
        Verdict::Allowed { isolated: vec![] }
    );
}

#[test]
fn invalid_selectors_and_blocks_select_nothing() {
    let w = world();
    let nss = namespaces();
    let bad_target = np(
        "default",
        "bad",
        json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "Bogus"}]}}),
    );
    // Selects no pod, so it isolates nothing.
    let view = PolicyView::new([&bad_target], &nss);
    assert!(allows(
        &view,
        &Peer::Pod(&w.client),
        &Peer::Pod(&w.web),
        80,
        Tcp
    ));
    let bad_block = allow_from(json!([{"ipBlock": {"cidr": "nope"}}]), json!([]));
    let view = PolicyView::new([&bad_block], &nss);
    assert!(!allows(
        &view,
        &Peer::Pod(&w.client),
        &Peer::Pod(&w.web),
        80,
        Tcp
    ));
    let bad_proto = allow_from(json!([]), json!([{"protocol": "ICMP"}]));
    let view = PolicyView::new([&bad_proto], &nss);
    assert!(!allows(
        &view,
        &Peer::Pod(&w.client),
        &Peer::Pod(&w.web),
        80,
        Tcp
    ));
}

#[test]
fn view_from_store_reads_policies_and_namespace_labels() {
    let store = crate::store::Store::new();
    store
        .create(
            NAMESPACES,
            json!({"metadata": {"name": "prod", "labels": {"env": "prod"}}}),
        )
        .unwrap();
    store
        .create(
            NETWORKPOLICIES,
            allow_from(
                json!([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}]),
                json!([]),
            ),
        )
        .unwrap();
    let view = PolicyView::from_store(&store);
    let w = world();
    assert!(allows(
        &view,
        &Peer::Pod(&w.prod_client),
        &Peer::Pod(&w.web),
        80,
        Tcp
    ));
    assert!(!allows(
        &view,
        &Peer::Pod(&w.client),
        &Peer::Pod(&w.web),
        80,
        Tcp
    ));
}
