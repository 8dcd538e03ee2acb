//! Reading with the real kubectl: version, discovery, get in its output
//! forms, watch, describe.

use super::harness::{Sim, rows};

#[test]
fn version_reports_the_simulated_server() {
    let sim = Sim::start();
    let out = sim.kubectl(&["version", "-o", "json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.33.1");
    assert_eq!(v["serverVersion"]["minor"], "33");
}

#[test]
fn api_resources_lists_short_names_and_groups() {
    let sim = Sim::start();
    let out = sim.kubectl(&["api-resources"]).ok();
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    let find = |name: &str, version: &str| {
        table
            .iter()
            .find(|r| r[0] == name && r.iter().any(|c| c == version))
            .cloned()
    };
    assert_eq!(
        find("deployments", "apps/v1").unwrap(),
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    assert_eq!(
        find("pods", "v1").unwrap(),
        ["pods", "po", "v1", "true", "Pod"]
    );
    assert_eq!(
        find("nodes", "v1").unwrap(),
        ["nodes", "no", "v1", "false", "Node"]
    );
    assert!(find("networkpolicies", "networking.k8s.io/v1").is_some());
    assert!(find("pods", "metrics.k8s.io/v1beta1").is_some());
    let all = sim
        .kubectl(&["api-resources", "--categories=all", "-o", "name"])
        .ok();
    for r in [
        "pods",
        "services",
        "deployments.apps",
        "replicasets.apps",
        "statefulsets.apps",
        "daemonsets.apps",
        "jobs.batch",
        "cronjobs.batch",
    ] {
        assert!(
            all.lines().any(|l| l == r),
            "{r} missing from category all:\n{all}"
        );
    }
}

#[test]
fn cluster_info_finds_the_control_plane_and_coredns() {
    let sim = Sim::start();
    let out = sim.kubectl(&["cluster-info"]).ok();
    assert!(
        out.contains(&format!(
            "Kubernetes control plane is running at {}",
            sim.url
        )),
        "{out}"
    );
    assert!(out.contains("CoreDNS is running at"), "{out}");
    assert!(
        out.contains("/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy"),
        "{out}"
    );
}

#[test]
fn fresh_cluster_looks_like_kind() {
    let sim = Sim::start();
    let nodes = rows(&sim.kubectl(&["get", "nodes"]).ok());
    assert_eq!(nodes[0], ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(
        nodes[1][..3],
        ["kdrill-control-plane", "Ready", "control-plane"]
    );
    assert_eq!(nodes[2][..3], ["kdrill-worker", "Ready", "<none>"]);
    assert_eq!(nodes[3][0], "kdrill-worker2");
    assert_eq!(nodes[1][4], "v1.33.1");

    let wide = rows(&sim.kubectl(&["get", "nodes", "-o", "wide"]).ok());
    assert_eq!(
        wide[0],
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME"
        ]
    );
    assert_eq!(wide[1][5], "172.18.0.2");
    assert_eq!(wide[1][7], "Debian GNU/Linux 12 (bookworm)");

    let ns: Vec<String> = rows(&sim.kubectl(&["get", "ns"]).ok())
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        ns,
        [
            "default",
            "kube-node-lease",
            "kube-public",
            "kube-system",
            "local-path-storage"
        ]
    );

    let svc = rows(&sim.kubectl(&["get", "svc", "-A"]).ok());
    assert_eq!(
        svc[0],
        [
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    assert_eq!(
        svc[1][..6],
        [
            "default",
            "kubernetes",
            "ClusterIP",
            "10.96.0.1",
            "<none>",
            "443/TCP"
        ]
    );
    assert_eq!(
        svc[2][..6],
        [
            "kube-system",
            "kube-dns",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "53/UDP,53/TCP,9153/TCP"
        ]
    );

    let sc = rows(&sim.kubectl(&["get", "storageclass"]).ok());
    assert_eq!(
        sc[1][..4],
        [
            "standard (default)",
            "rancher.io/local-path",
            "Delete",
            "WaitForFirstConsumer"
        ]
    );

    let sa = sim
        .kubectl(&["get", "serviceaccounts", "-A", "-o", "name"])
        .ok();
    assert_eq!(
        sa.lines()
            .filter(|l| *l == "serviceaccount/default")
            .count(),
        5,
        "one per namespace: {sa}"
    );
    // kubeadm's kube-proxy DaemonSet runs on every node, on the host
    // network: each pod's IP is its node's.
    let columns = "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP,PHASE:.status.phase";
    let proxies = sim.eventually(
        20,
        &[
            "get",
            "pods",
            "-n",
            "kube-system",
            "-l",
            "k8s-app=kube-proxy",
            "--sort-by=.spec.nodeName",
            "-o",
            columns,
        ],
        |o| rows(o).iter().filter(|r| r[3] == "Running").count() == 3,
    );
    let proxies = rows(&proxies);
    assert_eq!(
        proxies[1..].iter().map(|r| &r[1..]).collect::<Vec<_>>(),
        [
            ["kdrill-control-plane", "172.18.0.2", "Running"],
            ["kdrill-worker", "172.18.0.3", "Running"],
            ["kdrill-worker2", "172.18.0.4", "Running"],
        ]
    );
    // Its log at verbosity 0 on a fresh node (kube-proxy v1.33.1 as kind
    // configures it): what newProxyServer and Run log, then its four config
    // controllers' informers starting and syncing; the node's IP is the
    // worker's.
    let logs = sim
        .kubectl(&["logs", "-n", "kube-system", &proxies[2][0]])
        .ok();
    let lines: Vec<&str> = logs.lines().collect();
    // klog's header: severity, MMDD, time to the microsecond, thread id 1.
    let header_ok = |l: &str| {
        let b = l.as_bytes();
        l.len() > 30
            && matches!(b[0], b'I' | b'E')
            && b[1..5].iter().all(u8::is_ascii_digit)
            && b[5] == b' '
            && b[14] == b'.'
            && &l[21..30] == "       1 "
    };
    assert!(lines.iter().all(|l| header_ok(l)), "{logs}");
    let bodies: Vec<String> = lines
        .iter()
        .map(|l| format!("{} {}", &l[..1], &l[30..]))
        .collect();
    assert_eq!(
        bodies,
        [
            r#"I server.go:715] "Successfully retrieved node IP(s)" IPs=["172.18.0.3"]"#,
            r#"I conntrack.go:121] "Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_established" value=86400"#,
            r#"I conntrack.go:121] "Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_close_wait" value=3600"#,
            r#"E server.go:245] "Kube-proxy configuration may be incomplete or incorrect" err="nodePortAddresses is unset; NodePort connections will be accepted on all local IPs. Consider using `--nodeport-addresses primary`""#,
            r#"I server.go:254] "kube-proxy running in dual-stack mode" primary ipFamily="IPv4""#,
            r#"I server_linux.go:145] "Using iptables Proxier""#,
            r#"I proxier.go:243] "Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses" ipFamily="IPv4""#,
            r#"I server.go:516] "Version info" version="v1.33.1""#,
            r#"I server.go:518] "Golang settings" GOGC="" GOMAXPROCS="" GOTRACEBACK="""#,
            r#"I config.go:199] "Starting service config controller""#,
            r#"I shared_informer.go:350] "Waiting for caches to sync" controller="service config""#,
            r#"I config.go:105] "Starting endpoint slice config controller""#,
            r#"I shared_informer.go:350] "Waiting for caches to sync" controller="endpoint slice config""#,
            r#"I config.go:440] "Starting serviceCIDR config controller""#,
            r#"I shared_informer.go:350] "Waiting for caches to sync" controller="serviceCIDR config""#,
            r#"I config.go:329] "Starting node config controller""#,
            r#"I shared_informer.go:350] "Waiting for caches to sync" controller="node config""#,
            r#"I shared_informer.go:357] "Caches are synced" controller="service config""#,
            r#"I shared_informer.go:357] "Caches are synced" controller="endpoint slice config""#,
            r#"I shared_informer.go:357] "Caches are synced" controller="serviceCIDR config""#,
            r#"I shared_informer.go:357] "Caches are synced" controller="node config""#,
        ]
    );
}

#[test]
fn get_output_formats() {
    let sim = Sim::start();
    let yaml = sim
        .kubectl(&["get", "svc", "kubernetes", "-o", "yaml"])
        .ok();
    assert!(
        yaml.starts_with("apiVersion: v1\nkind: Service\n"),
        "{yaml}"
    );
    assert!(yaml.contains("clusterIP: 10.96.0.1"));
    let jp = sim
        .kubectl(&["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"])
        .ok();
    assert_eq!(jp, "kdrill-control-plane kdrill-worker kdrill-worker2");
    let names = sim.kubectl(&["get", "ns", "-o", "name"]).ok();
    assert!(names.lines().any(|l| l == "namespace/kube-system"));
    let custom = sim
        .kubectl(&[
            "get",
            "svc",
            "-n",
            "kube-system",
            "-o",
            "custom-columns=NAME:.metadata.name,IP:.spec.clusterIP",
        ])
        .ok();
    assert_eq!(rows(&custom), [["NAME", "IP"], ["kube-dns", "10.96.0.10"]]);
    let sorted = sim
        .kubectl(&["get", "nodes", "--sort-by=.metadata.name", "-o", "name"])
        .ok();
    assert_eq!(sorted.lines().next(), Some("node/kdrill-control-plane"));
    let labelled = sim
        .kubectl(&[
            "get",
            "nodes",
            "-l",
            "node-role.kubernetes.io/control-plane",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(labelled.trim(), "node/kdrill-control-plane");
    let show = rows(&sim.kubectl(&["get", "ns", "default", "--show-labels"]).ok());
    assert_eq!(show[1][3], "kubernetes.io/metadata.name=default");
}

#[test]
fn get_all_lists_workloads_and_services_with_type_prefixes() {
    let sim = Sim::start();
    sim.kubectl(&["create", "deployment", "web", "--image=nginx:1.27"])
        .ok();
    let out = sim.kubectl(&["get", "all"]).ok();
    assert!(out.contains("service/kubernetes"), "{out}");
    assert!(out.contains("deployment.apps/web"), "{out}");
}

#[test]
fn paging_with_chunk_size_returns_everything() {
    let sim = Sim::start();
    for i in 0..7 {
        sim.kubectl(&[
            "create",
            "configmap",
            &format!("c{i}"),
            "--from-literal=k=v",
        ])
        .ok();
    }
    let out = sim
        .kubectl(&["get", "configmaps", "--chunk-size=2", "-o", "name"])
        .ok();
    let names: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("configmap/c"))
        .collect();
    assert_eq!(names.len(), 7, "{out}");
}

#[test]
fn watch_sees_a_change_and_ends_on_timeout() {
    let sim = Sim::start();
    let kubeconfig = sim.kubeconfig.clone();
    let home = sim.dir.path().to_path_buf();
    let watcher = std::thread::spawn(move || {
        std::process::Command::new(super::harness::kubectl_binary())
            .args(["get", "configmaps", "-w", "--request-timeout=4s"])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", &home)
            .output()
            .expect("kubectl get -w")
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    sim.kubectl(&["create", "configmap", "watched", "--from-literal=a=b"])
        .ok();
    let out = watcher.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let table = rows(&stdout);
    assert_eq!(table[0], ["NAME", "DATA", "AGE"], "{stdout}");
    assert!(
        table.iter().any(|r| r[0] == "watched" && r[1] == "1"),
        "{stdout}"
    );
    assert!(
        table.iter().any(|r| r[0] == "kube-root-ca.crt") || table.len() >= 2,
        "{stdout}"
    );
}

#[test]
fn describe_node_and_service() {
    let sim = Sim::start();
    let node = sim.kubectl(&["describe", "node", "kdrill-worker"]).ok();
    for line in [
        "Name:               kdrill-worker",
        "Roles:              <none>",
        "  Ready            True    ",
        "KubeletReady                 kubelet is posting ready status",
        "PodCIDR:                      10.244.1.0/24",
    ] {
        assert!(node.contains(line), "missing {line:?} in\n{node}");
    }
    let svc = sim
        .kubectl(&["describe", "svc", "kube-dns", "-n", "kube-system"])
        .ok();
    for line in [
        "Name:                     kube-dns",
        "Namespace:                kube-system",
        "Selector:                 k8s-app=kube-dns",
        "IP:                       10.96.0.10",
        "Port:                     dns  53/UDP",
    ] {
        assert!(svc.contains(line), "missing {line:?} in\n{svc}");
    }
}
