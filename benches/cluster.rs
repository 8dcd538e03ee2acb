//! Memory of a large simulated cluster (run with `cargo bench --bench
//! cluster`): 5,000 worker nodes and 150,000 pods, every pod Running.
//!
//! In-process (store, registry, the simulator runtime with every controller
//! and the kubelets, no HTTP). Nodes come from the bootstrap; pods are
//! created already bound, 30 to a node round-robin (so the scheduler does
//! not take part), in 150 namespaces, then the runtime runs them to
//! Running on the virtual clock. Prints the process's resident memory
//! after the nodes, after the pods are stored, and once they all run, with
//! the JSON size of a Running pod. `KDRILL_BENCH_NODES` and
//! `KDRILL_BENCH_PODS` pick other sizes.
//!
//! Benchmarks measure real time on purpose; the simulator itself never does.

#![allow(clippy::disallowed_methods)] // benchmarks measure real time

use kdrill::allocator::Allocator;
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
use serde_json::{Value, json};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live heap bytes, to tell what one object costs, over the
/// allocator of the `kdrill` binary (src/main.rs).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { Allocator.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { Allocator.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { Allocator.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap bytes (as requested, before malloc's own rounding) of a deep copy
/// of `v`, and its compact JSON size.
fn tree_cost(v: &Value) -> (usize, usize) {
    // A clone would share every map (they copy on write); a tree parsed
    // from the JSON shares nothing.
    let json = serde_json::to_vec(v).unwrap_or_default();
    let before = LIVE.load(Ordering::Relaxed);
    let copy: Value = serde_json::from_slice(&json).unwrap_or_default();
    let heap = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    drop(copy);
    (heap, json.len())
}

/// Pods per namespace.
const PODS_PER_NAMESPACE: usize = 1_000;
/// How long the cluster runs on once every pod is Running, before its
/// memory is taken.
const SETTLE_MINUTES: i64 = 5;
/// Real time allowed for the pods to come up.
const WALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(900);

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The process's peak resident memory (VmHWM).
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// A pod like a Deployment's, bound to `node`.
fn pod(i: usize, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("web-7d4b9c8f6d-{i:06}"),
                     "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"}},
        "spec": {"nodeName": node, "containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
    })
}

fn main() {
    // `cargo test --benches` runs this with --test; keep that quick.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let workers = env_size("KDRILL_BENCH_NODES", 5_000);
    let n = env_size("KDRILL_BENCH_PODS", 150_000);
    let rss0 = rss_bytes();
    let clock = Arc::new(VirtualClock::new(
        "2025-05-01T10:00:00Z".parse().expect("timestamp"),
    ));
    let store = Arc::new(Store::new());
    let registry = Arc::new(Registry::new(store, clock.clone(), 1));
    let _ = registry
        .cluster_ca
        .set("-----BEGIN CERTIFICATE-----\n".into());
    let shape = ClusterShape {
        name: "kdrill".into(),
        workers,
    };
    let start = Instant::now();
    bootstrap::seed(&registry, &shape).expect("seed");
    let kubelets = Kubelets::new(registry.clone(), Catalog::default(), 1);
    let mut rt = Runtime::new(
        registry.clone(),
        kdrill::backend::sim::simulator(&kubelets, 1),
    );
    rt.run_until_idle();
    // The cluster's own pods start first, as kind's are up before a user
    // deploys anything: their pulls and starts are not the rollout's.
    bootstrap::settle(&mut rt, &clock, &registry);
    let rss_nodes = rss_bytes();
    println!("cluster memory ({workers} workers, {n} pods, virtual clock, in-process, release):");
    println!(
        "  {workers} nodes seeded in {:.1}s: RSS {:.0} MiB (live heap {:.0} MiB)",
        start.elapsed().as_secs_f64(),
        mib(rss_nodes),
        mib(LIVE.load(Ordering::Relaxed) as u64)
    );

    let ns_info = resource::lookup("", "v1", "namespaces").expect("namespaces");
    let pods = resource::lookup("", "v1", "pods").expect("pods");
    let nodes = shape.node_names();
    let opts = WriteOptions::default();
    let t = Instant::now();
    for i in 0..n {
        let ns = format!("team-{:03}", i / PODS_PER_NAMESPACE);
        if i.is_multiple_of(PODS_PER_NAMESPACE) {
            registry
                .create(ns_info, "", json!({"metadata": {"name": ns}}), &opts)
                .expect("namespace");
        }
        // Workers only (index 0 is the control plane).
        let node = &nodes[1 + i % workers.max(1)];
        registry
            .create(pods, &ns, pod(i, node), &opts)
            .expect("create pod");
        if i % 5_000 == 4_999 {
            rt.run_until_idle();
        }
    }
    rt.run_until_idle();
    let rss_stored = rss_bytes();
    println!(
        "  {n} pods created in {:.1}s: RSS {:.0} MiB (live heap {:.0} MiB)",
        t.elapsed().as_secs_f64(),
        mib(rss_stored),
        mib(LIVE.load(Ordering::Relaxed) as u64)
    );

    let t0 = clock.now();
    // Counted a namespace at a time: listing decodes packed pods, and a
    // list of every pod at once would hold them all decoded together.
    let namespaces = n.div_ceil(PODS_PER_NAMESPACE);
    let running = |registry: &Registry| {
        (0..namespaces)
            .map(|i| {
                registry
                    .store
                    .list(res::PODS, Some(&format!("team-{i:03}")))
                    .0
                    .iter()
                    .filter(|p| p["status"]["phase"] == "Running")
                    .count()
            })
            .sum::<usize>()
    };
    let mut up = running(&registry);
    let mut counted = clock.now();
    while up < n && t.elapsed() < WALL_LIMIT {
        if !rt.advance_to_next_timer(&clock) {
            break;
        }
        // Counting reads every pod: every 10 s of virtual time.
        if clock.now().duration_since(counted) >= jiff::SignedDuration::from_secs(10) {
            counted = clock.now();
            up = running(&registry);
        }
    }
    up = running(&registry);
    let rss_up = rss_bytes();
    println!(
        "  {} Running after {}s virtual, {:.1}s wall: RSS {:.0} MiB (live heap {:.0} MiB)",
        up,
        clock.now().duration_since(t0).as_secs(),
        t.elapsed().as_secs_f64(),
        mib(rss_up),
        mib(LIVE.load(Ordering::Relaxed) as u64),
    );
    // A cluster held: the clock runs on for a while with nothing to do
    // but what the controllers and kubelets do on their own.
    let t1 = Instant::now();
    let settled = clock.now() + jiff::SignedDuration::from_mins(SETTLE_MINUTES);
    rt.advance_until(&clock, settled);
    let rss_running = rss_bytes();
    println!(
        "  {SETTLE_MINUTES} more minutes on the virtual clock ({:.1}s wall): RSS {:.0} MiB (live heap {:.0} MiB)",
        t1.elapsed().as_secs_f64(),
        mib(rss_running),
        mib(LIVE.load(Ordering::Relaxed) as u64)
    );
    // What a read of packed pods costs: the 1,000 pods of one namespace.
    let t2 = Instant::now();
    let listed = registry.store.list(res::PODS, Some("team-000")).0.len();
    println!(
        "  listing the {listed} pods of one namespace from the store: {:.1} ms",
        t2.elapsed().as_secs_f64() * 1e3
    );
    let sample = |r| registry.store.list(r, Some("team-000")).0.first().cloned();
    let (pod_heap, json_bytes) = sample(res::PODS).map_or((0, 0), |p| tree_cost(&p));
    let (event_heap, event_json) = sample(res::EVENTS).map_or((0, 0), |e| tree_cost(&e));
    let events = registry.store.count(res::EVENTS);
    println!(
        "  held: RSS {:.0} MiB ({:.1} KiB per pod over the nodes), peak RSS {:.0} MiB{}",
        mib(rss_running),
        rss_running.saturating_sub(rss_nodes) as f64 / 1024.0 / n.max(1) as f64,
        mib(peak_rss_bytes()),
        if up < n {
            "  INCOMPLETE (time limit)"
        } else {
            ""
        },
    );
    println!(
        "  one Running pod: {json_bytes} B of JSON, {pod_heap} B as a serde_json tree; {events} Events stored, one is {event_json} B of JSON, {event_heap} B as a tree"
    );
    println!(
        "  live heap {:.0} MiB",
        mib(LIVE.load(Ordering::Relaxed) as u64)
    );
    println!(
        "  total RSS {:.2} GiB (target 2 GiB); process baseline {:.0} MiB",
        rss_running as f64 / (1024.0 * 1024.0 * 1024.0),
        mib(rss0)
    );
    // What each part holds: the live heap each frees when dropped (the
    // store, with the pods, Events and watch history, is what remains).
    let (taken, wasted, waited) = kubelets.looked_ahead();
    println!(
        "  kubelet syncs computed ahead: {taken} taken ({waited} waited for), {wasted} in vain"
    );
    let live = || LIVE.load(Ordering::Relaxed);
    let before = live();
    drop(rt);
    let runtime = before.saturating_sub(live());
    let before = live();
    drop(kubelets);
    let kubelet = before.saturating_sub(live());
    println!(
        "  live heap by part: runtime (snapshot, queues, recorder) {:.0} MiB, kubelets {:.0} MiB ({} B per pod), store and the rest {:.0} MiB",
        mib(runtime as u64),
        mib(kubelet as u64),
        kubelet / n.max(1),
        mib(live() as u64)
    );
}
