//! Rubric checks and host functions that probe from inside the cluster
//! with a short-lived busybox pod: `httpGet` fails while the Service
//! selects nothing and passes once it selects the pods; `dnsResolves`
//! fails with CoreDNS scaled to zero and passes once it is back.

use super::harness::Sim;
use kdrill::grade::{CriterionResult, Grader, Profile};
use kdrill::scenario::Scenario;
use kdrill::script::{self, Host, Limits, Roots};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::sync::Arc;
use std::time::Duration;

const SCENARIO: &str = r#"id: probe-demo
title: Probes
summary: A Service whose selector matches nothing.
difficulty: beginner
estimatedMinutes: 5
namespace: shop
rubric:
  criteria:
    - id: http
      title: The web Service serves the nginx page
      required: true
      check:
        httpGet: {url: "http://web", bodyContains: "Welcome to nginx!"}
    - id: dns
      title: The web Service has a DNS name
      check:
        dnsResolves: {name: web}
"#;

const PROBE_RHAI: &str = r#"
let h = http_probe("http://web", #{timeout: 2});
let d = dns_probe("web");
[h.ok, h.error, d.ok, d.addresses.len(), d.name]
"#;

const APPS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: wbe}
  ports: [{port: 80, targetPort: 80}]
"#;

/// Polls `kubectl args` until `pred` holds on its stdout.
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.eventually(30, args, pred)
}

async fn grade(host: &Arc<Host>, scenario: &Scenario) -> Vec<(String, bool, String)> {
    let mut g = Grader::new(host.clone(), scenario.clone(), Profile::default());
    g.hold_scale = 0.0;
    let (results, _) = g.run(|_| {}).await;
    results
        .iter()
        .map(|r: &CriterionResult| (r.id.clone(), r.pass, r.seen.clone()))
        .collect()
}

fn ready(sim: &Sim, ns: &str, sel: &str, n: usize) {
    eventually(
        sim,
        &[
            "-n",
            ns,
            "get",
            "pods",
            "-l",
            sel,
            "-o",
            "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
        ],
        |o| o.lines().filter(|l| *l == "True").count() == n && o.lines().count() == n,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_get_and_dns_resolves_probe_from_a_pod_and_clean_up() {
    let sim = Sim::start_with(&["--time-scale", "50"]);
    let f = sim.file("apps.yaml", APPS);
    sim.kubectl(&["apply", "-f", &f]).ok();
    ready(&sim, "shop", "app=web", 1);
    ready(&sim, "kube-system", "k8s-app=kube-dns", 2);

    let dir = tempfile::tempdir().unwrap();
    let sdir = dir.path().join("scenarios/probe-demo");
    std::fs::create_dir_all(&sdir).unwrap();
    std::fs::write(sdir.join("scenario.yaml"), SCENARIO).unwrap();
    std::fs::write(sdir.join("probe.rhai"), PROBE_RHAI).unwrap();
    let scenario = Scenario::load(&sdir, None).unwrap();

    let kc = Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let mut host = Host::new(Client::try_from(cfg).unwrap(), "shop", sdir.clone());
    host.poll = Duration::from_millis(20);
    let host = Arc::new(host);
    let ip = sim
        .kubectl(&[
            "-n",
            "shop",
            "get",
            "svc",
            "web",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])
        .ok();

    // The Service selects nothing: kube-proxy refuses; the name resolves.
    assert_eq!(
        grade(&host, &scenario).await,
        [
            (
                "http".into(),
                false,
                format!(
                    "GET http://web: wget: can't connect to remote host ({ip}): Connection refused, want HTTP 200"
                )
            ),
            (
                "dns".into(),
                true,
                format!("web resolves to {ip} (web.shop.svc.cluster.local)")
            ),
        ]
    );

    // The same through the Rhai host functions.
    let roots = Roots {
        scenario: sdir.clone(),
        library: dir.path().join("scenarios"),
    };
    let out =
        script::run_scenario_file(host.clone(), roots.clone(), "probe.rhai", Limits::default())
            .await
            .unwrap();
    assert_eq!(
        out.to_string(),
        format!(
            "[false, \"wget: can't connect to remote host ({ip}): Connection refused\", true, 1, \"web.shop.svc.cluster.local\"]"
        )
    );

    // The fix: the selector matches the pods.
    sim.kubectl(&[
        "-n",
        "shop",
        "patch",
        "svc",
        "web",
        "-p",
        r#"{"spec":{"selector":{"app":"web"}}}"#,
    ])
    .ok();
    eventually(
        &sim,
        &[
            "-n",
            "shop",
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "jsonpath={.items[*].endpoints[*].addresses[0]}",
        ],
        |o| !o.trim().is_empty(),
    );
    assert_eq!(
        grade(&host, &scenario).await,
        [
            (
                "http".into(),
                true,
                "GET http://web: HTTP 200, body contains \"Welcome to nginx!\"".into()
            ),
            (
                "dns".into(),
                true,
                format!("web resolves to {ip} (web.shop.svc.cluster.local)")
            ),
        ]
    );

    // CoreDNS scaled to zero: lookups time out, wget cannot resolve.
    sim.kubectl(&[
        "-n",
        "kube-system",
        "scale",
        "deploy",
        "coredns",
        "--replicas=0",
    ])
    .ok();
    eventually(
        &sim,
        &[
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            "k8s-app=kube-dns",
            "-o",
            "name",
        ],
        |o| o.trim().is_empty(),
    );
    assert_eq!(
        grade(&host, &scenario).await,
        [
            (
                "http".into(),
                false,
                "GET http://web: wget: bad address 'web', want HTTP 200".into()
            ),
            (
                "dns".into(),
                false,
                "web does not resolve: ;; connection timed out; no servers could be reached".into()
            ),
        ]
    );

    // Scaled back: the name resolves again.
    sim.kubectl(&[
        "-n",
        "kube-system",
        "scale",
        "deploy",
        "coredns",
        "--replicas=2",
    ])
    .ok();
    ready(&sim, "kube-system", "k8s-app=kube-dns", 2);
    let v = grade(&host, &scenario).await;
    assert!(v.iter().all(|(_, pass, _)| *pass), "{v:?}");

    // Every probe pod is gone.
    eventually(
        &sim,
        &["get", "pods", "-A", "-l", "kdrill.io/probe", "-o", "name"],
        |o| o.trim().is_empty(),
    );
}

const SETUP_RHAI: &str = r#"
apply(`
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: wbe}
  ports: [{port: 80, targetPort: 80}]
`);
"#;

const SOLUTION_RHAI: &str = r#"
patch("service/web", #{ spec: #{ selector: #{ app: "web" } } }, "merge");
"#;

/// On the selftest bench's virtual clock the probe pod still runs to
/// completion: the host settles the cluster while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_run_on_the_virtual_clock_bench() {
    let dir = tempfile::tempdir().unwrap();
    let sdir = dir.path().join("scenarios/probe-demo");
    std::fs::create_dir_all(&sdir).unwrap();
    std::fs::write(sdir.join("scenario.yaml"), SCENARIO).unwrap();
    std::fs::write(sdir.join("setup.rhai"), SETUP_RHAI).unwrap();
    std::fs::write(sdir.join("solution.rhai"), SOLUTION_RHAI).unwrap();
    let scenario = Scenario::load(&sdir, None).unwrap();
    let mut bench = kdrill::lab::selftest::Bench::start(&scenario, 1)
        .await
        .unwrap();
    bench.script("setup.rhai").await.unwrap();
    let (results, passed) = bench.grade().await;
    assert!(!passed);
    assert!(
        results[0]
            .seen
            .starts_with("GET http://web: wget: can't connect to remote host ("),
        "{:?}",
        results[0].seen
    );
    assert!(
        results[1].pass && results[1].seen.ends_with("(web.shop.svc.cluster.local)"),
        "{:?}",
        results[1].seen
    );
    bench.script("solution.rhai").await.unwrap();
    let (results, passed) = bench.grade().await;
    assert!(
        passed,
        "{:?}",
        results.iter().map(|r| &r.seen).collect::<Vec<_>>()
    );
    assert_eq!(
        results[0].seen,
        "GET http://web: HTTP 200, body contains \"Welcome to nginx!\""
    );
}
