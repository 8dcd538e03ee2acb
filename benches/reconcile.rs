//! Reconcile throughput of the simulator on the virtual clock (run with
//! `cargo bench --bench reconcile`).
//!
//! In-process (store, registry and the simulator runtime with every
//! controller, the scheduler and the kubelets, no HTTP): a Deployment of N
//! replicas (100, 1,000 and 10,000; `KDRILL_BENCH_SIZES=100,1000` picks
//! others) on enough worker nodes for 110 pods each, timed from its
//! creation until all N pods are Running. Prints pods scheduled and started
//! per second of real time, and the process's resident memory per pod.
//!
//! Benchmarks measure real time on purpose; the simulator itself never does.

#![allow(clippy::disallowed_methods)] // benchmarks measure real time

use kdrill::api::resource;
use kdrill::registry::Registry;
use kdrill::registry::options::WriteOptions;
use kdrill::sim::bootstrap::{self, ClusterShape};
use kdrill::sim::clock::{Clock, VirtualClock};
use kdrill::sim::kubelets::Kubelets;
use kdrill::sim::runtime::Runtime;
use kdrill::sim::snapshot::res;
use kdrill::sim::workload::catalog::Catalog;
use kdrill::store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// Pods a node takes (its `pods` allocatable).
const PODS_PER_NODE: usize = 110;
/// Virtual time allowed for a rollout before the run counts as stuck.
const VIRTUAL_LIMIT_SECS: i64 = 600;
/// Real time allowed for one size; a slower run stops and reports how far
/// it got (the rate over the pods Running so far).
const WALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn running(registry: &Registry) -> usize {
    registry
        .store
        .list(res::PODS, Some("default"))
        .0
        .iter()
        .filter(|p| p["status"]["phase"] == "Running")
        .count()
}

/// One rollout of `n` pods; returns (running, wall seconds, virtual seconds, rss growth).
fn rollout(n: usize) -> (usize, f64, i64, u64) {
    let clock = Arc::new(VirtualClock::new(
        "2025-05-01T10:00:00Z".parse().expect("timestamp"),
    ));
    let store = Arc::new(Store::new());
    let registry = Arc::new(Registry::new(store, clock.clone(), 1));
    // Published as `kube-root-ca.crt`, which every pod's token volume mounts.
    let _ = registry
        .cluster_ca
        .set("-----BEGIN CERTIFICATE-----\n".into());
    let shape = ClusterShape {
        name: "kdrill".into(),
        workers: n.div_ceil(PODS_PER_NODE).max(2),
    };
    bootstrap::seed(&registry, &shape).expect("seed");
    let kubelets = Kubelets::new(registry.clone(), Catalog::default(), 1);
    let mut rt = Runtime::new(
        registry.clone(),
        kdrill::backend::sim::simulator(&kubelets, 1),
    );
    rt.run_until_idle();
    let rss_before = rss_bytes();
    let info = resource::lookup("apps", "v1", "deployments").expect("deployments");
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": n, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "nginx", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}},
    });
    let t0 = clock.now();
    let start = Instant::now();
    registry
        .create(info, "default", deployment, &WriteOptions::default())
        .expect("create deployment");
    rt.run_until_idle();
    let mut up = running(&registry);
    while up < n {
        if clock.now().duration_since(t0).as_secs() > VIRTUAL_LIMIT_SECS
            || start.elapsed() > WALL_LIMIT
            || !rt.advance_to_next_timer(&clock)
        {
            break;
        }
        up = running(&registry);
    }
    let secs = start.elapsed().as_secs_f64();
    let virt = clock.now().duration_since(t0).as_secs();
    (up, secs, virt, rss_bytes().saturating_sub(rss_before))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let sizes: Vec<usize> = std::env::var("KDRILL_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 1_000, 10_000]);
    println!("reconcile throughput (virtual clock, in-process, release):");
    for n in sizes {
        let (up, secs, virt, rss) = rollout(n);
        let status = if up == n {
            ""
        } else {
            "  INCOMPLETE (time limit)"
        };
        println!(
            "  {n:>6} pods on {:>3} workers: {up} Running after {virt}s virtual in {secs:.2}s wall = {:.0} pods/s; RSS +{:.1} KiB/pod (process {:.0} MiB){status}",
            n.div_ceil(PODS_PER_NODE).max(2),
            up as f64 / secs,
            rss as f64 / 1024.0 / n as f64,
            rss_bytes() as f64 / (1024.0 * 1024.0),
        );
    }
}
