//! Benchmarks of the simulated API server (run with `cargo bench`).
//!
//! - start-up: `kdrill sim serve` process start to a kubeconfig that answers;
//! - the server's own time for a Table `get pods` of 10 / 1,000 / 100,000 pods
//!   (in-process through the router, without TLS or the client);
//! - memory per stored pod beyond its JSON size.
//!
//! Benchmarks measure real time on purpose; the simulator itself never does.

#![allow(clippy::disallowed_methods)] // benchmarks measure real time

/// The allocator of the `kdrill` binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: kdrill::allocator::Allocator = kdrill::allocator::Allocator;

use axum::body::Body;
use axum::http::Request;
use kdrill::api::resource;
use kdrill::registry::Registry;
use kdrill::registry::options::WriteOptions;
use kdrill::server::ApiServer;
use kdrill::server::audit::AuditLog;
use kdrill::server::auth::UserInfo;
use kdrill::sim::clock::VirtualClock;
use kdrill::store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pod(i: usize) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("web-7d4b9c8f6d-{i:06}"), "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"}},
        "spec": {"nodeName": "kdrill-worker", "containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
    })
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn bench_startup() {
    let bin = env!("CARGO_BIN_EXE_kdrill");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut samples = Vec::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for i in 0..15 {
        let kubeconfig = dir.path().join(format!("kc{i}"));
        let start = Instant::now();
        let mut child = std::process::Command::new(bin)
            .args(["sim", "serve", "--port", "0", "--kubeconfig"])
            .arg(&kubeconfig)
            .env("KDRILL_HOME", dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("ready line");
        // The kubeconfig answers: an authenticated discovery request succeeds.
        rt.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
            let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .expect("config");
            let client = kube::Client::try_from(cfg).expect("client");
            client.apiserver_version().await.expect("version");
        });
        samples.push(start.elapsed());
        let _ = child.kill();
        let _ = child.wait();
    }
    println!(
        "startup (process start to answering kubeconfig): median {:?} over {} runs",
        median(samples),
        15
    );
}

fn bench_get_pods(rt: &tokio::runtime::Runtime, n: usize) {
    let clock = Arc::new(VirtualClock::new(
        jiff::Timestamp::from_second(1_800_000_000).expect("time"),
    ));
    let registry = Arc::new(Registry::new(Arc::new(Store::new()), clock, 1));
    // A kind-like cluster: the admin is authorized through the bootstrap
    // RBAC policy, as in `kdrill sim serve`.
    kdrill::sim::bootstrap::seed(&registry, &Default::default()).expect("bootstrap");
    let pods = resource::lookup("", "v1", "pods").expect("pods");
    let before = rss_bytes();
    let mut json_bytes = 0usize;
    for i in 0..n {
        let w = registry
            .create(pods, "default", pod(i), &WriteOptions::default())
            .expect("create pod");
        json_bytes += serde_json::to_vec(&*w.object).map(|v| v.len()).unwrap_or(0);
    }
    let after = rss_bytes();
    let server = ApiServer::new(registry.clone(), AuditLog::default());
    server.auth.add_token("bench", UserInfo::admin());
    let router = server.router();
    let runs = if n >= 100_000 { 5 } else { 30 };
    let measure = || {
        let mut samples = Vec::new();
        for _ in 0..runs {
            let req = Request::get("/api/v1/namespaces/default/pods?limit=500000")
                .header("Accept", TABLE_ACCEPT)
                .header("Authorization", "Bearer bench")
                .body(Body::empty())
                .expect("request");
            let start = Instant::now();
            let resp = rt.block_on(router.clone().oneshot(req)).expect("response");
            let body = rt
                .block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
                .expect("body");
            samples.push(start.elapsed());
            assert!(
                body.len() > n * 50,
                "short answer: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        median(samples)
    };
    let decoded = measure();
    let per_pod_json = json_bytes / n.max(1);
    let per_pod_mem = (after.saturating_sub(before) as usize) / n.max(1);
    println!(
        "get pods as Table, {n} pods: median {decoded:?} over {runs} runs; memory {} B/pod (JSON {} B/pod, overhead {} B/pod)",
        per_pod_mem,
        per_pod_json,
        per_pod_mem.saturating_sub(per_pod_json)
    );
    if n == 1_000 {
        // The same pods held packed, as the simulator keeps those no
        // controller has read for a while: each request decodes them.
        let key = kdrill::registry::res_key(pods);
        let (items, _) = registry.store.list(key, Some("default"));
        let packed = items
            .iter()
            .filter(|p| registry.store.share_packed(key, p).is_some())
            .count();
        drop(items);
        println!(
            "get pods as Table, {n} pods held packed ({packed}): median {:?} over {runs} runs",
            measure()
        );
    }
}

fn main() {
    // `cargo test --benches` runs this with --test; keep that quick.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    bench_startup();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for n in [10, 1_000, 100_000] {
        bench_get_pods(&rt, n);
    }
}
