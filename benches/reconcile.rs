//! Reconcile throughput of the simulator on the virtual clock (run with
//! `cargo bench --bench reconcile`).
//!
//! In-process (store, registry and the simulator runtime with every
//! controller, the scheduler and the kubelets, no HTTP): a Deployment of N
//! replicas (100, 1,000 and 10,000; `KDRILL_BENCH_SIZES=100,1000` picks
//! others) on enough worker nodes for 110 pods each, timed from its
//! creation until all N pods are Running. Prints pods scheduled and started
//! per second of real time, and the process's resident memory per pod, for
//! each of several rollouts per size and their median (`KDRILL_BENCH_RUNS`;
//! a 100-pod warm-up rollout runs first, `KDRILL_BENCH_WARMUP=0` skips it).
//! A size gets 120 s of real time (`KDRILL_BENCH_WALL_SECS` gives more,
//! for a run under callgrind or cachegrind). `KDRILL_BENCH_LOOK_AHEAD=0`
//! runs every kubelet sync in place (none computed ahead on another core).
//!
//! Benchmarks measure real time on purpose; the simulator itself never does.

#![allow(clippy::disallowed_methods)] // benchmarks measure real time

/// The allocator of the `kdrill` binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: kdrill::allocator::Allocator = kdrill::allocator::Allocator;

use kdrill::api::{meta, resource};
use kdrill::registry::Registry;
use kdrill::registry::options::WriteOptions;
use kdrill::sim::bootstrap::{self, ClusterShape};
use kdrill::sim::clock::{Clock, VirtualClock};
use kdrill::sim::kubelets::Kubelets;
use kdrill::sim::runtime::Runtime;
use kdrill::sim::snapshot::res;
use kdrill::sim::workload::catalog::Catalog;
use kdrill::store::{EventType, Store, WatchEvent};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast::error::TryRecvError;

/// Pods a node takes for the rollout: its `pods` allocatable (110) less
/// the slots its kube-proxy and kindnet pods hold.
const PODS_PER_NODE: usize = 108;
/// Reconciles between two looks at the store's events (about two writes
/// each).
const COUNT_EVERY: u32 = 512;
/// Virtual time allowed for a rollout before the run counts as stuck.
const VIRTUAL_LIMIT_SECS: i64 = 600;
/// Real time allowed for one size, unless `KDRILL_BENCH_WALL_SECS` says
/// otherwise; a slower run stops and reports how far it got (the rate over
/// the pods Running so far).
fn wall_limit() -> std::time::Duration {
    let secs = std::env::var("KDRILL_BENCH_WALL_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(120);
    std::time::Duration::from_secs(secs)
}

/// CPU seconds this process has used (user + system), from
/// `/proc/self/stat`: on a shared machine the wall time also counts
/// other processes' turns.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at
    // `state`; utime and stime are the 12th and 13th of those.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on Linux.
    ticks as f64 / 100.0
}

/// CPU seconds the calling thread has used: the main thread's, which runs
/// the runtime (the kubelets' worker computes syncs ahead beside it).
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if ok {
        ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
    } else {
        0.0
    }
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

/// The Running pods of `default`, kept from store events (a full count
/// after each timer would cost as much as the rollout at 10,000 pods).
struct Running {
    events: tokio::sync::broadcast::Receiver<Arc<WatchEvent>>,
    pods: HashSet<String>,
    /// Store events seen, per resource: the writes a rollout costs.
    writes: std::collections::BTreeMap<&'static str, usize>,
    /// Whether the receiver fell behind and missed events (then `writes`
    /// is short; the store's resourceVersion still counts them all).
    lagged: bool,
}

impl Running {
    fn new(registry: &Registry) -> Self {
        Self {
            events: registry.store.subscribe(),
            pods: HashSet::new(),
            writes: Default::default(),
            lagged: false,
        }
    }

    fn count(&mut self, registry: &Registry) -> usize {
        loop {
            match self.events.try_recv() {
                Ok(ev) => {
                    *self.writes.entry(ev.res.resource).or_default() += 1;
                    if ev.res != res::PODS || ev.namespace() != "default" {
                        continue;
                    }
                    // Counting costs the rollout's time: no name copied
                    // but of a pod newly Running.
                    let name = ev.name();
                    if ev.kind != EventType::Deleted && ev.object()["status"]["phase"] == "Running"
                    {
                        if !self.pods.contains(name) {
                            self.pods.insert(name.to_string());
                        }
                    } else {
                        self.pods.remove(name);
                    }
                }
                Err(TryRecvError::Lagged(_)) => {
                    self.lagged = true;
                    // Missed some: count them all, then follow again.
                    self.pods = registry
                        .store
                        .list(res::PODS, Some("default"))
                        .0
                        .iter()
                        .filter(|p| p["status"]["phase"] == "Running")
                        .map(|p| meta::name(p).to_string())
                        .collect();
                }
                Err(_) => return self.pods.len(),
            }
        }
    }
}

/// The median of `xs` (sorted here), 0 for none.
fn median_of(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// What one rollout measured.
struct Measured {
    running: usize,
    wall: f64,
    /// CPU seconds of the process, and of its main thread.
    cpu: f64,
    main_cpu: f64,
    virtual_secs: i64,
    rss_growth: u64,
}

/// One rollout of `n` pods.
fn rollout(n: usize) -> Measured {
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
    if std::env::var("KDRILL_BENCH_LOOK_AHEAD").is_ok_and(|v| v == "0") {
        kubelets.set_look_ahead(false);
    }
    let mut rt = Runtime::new(
        registry.clone(),
        kdrill::backend::sim::simulator(&kubelets, 1),
    );
    rt.run_until_idle();
    // The cluster's own pods start first, as kind's are up before a user
    // deploys anything: their pulls and starts are not the rollout's.
    bootstrap::settle(&mut rt, &clock, &registry);
    let rss_before = rss_bytes();
    let info = resource::lookup("apps", "v1", "deployments").expect("deployments");
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": n, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "nginx", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}},
    });
    let mut running = Running::new(&registry);
    let t0 = clock.now();
    let rv0 = registry.store.current_rv();
    let limit = wall_limit();
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    let main0 = thread_cpu_seconds();
    registry
        .create(info, "default", deployment, &WriteOptions::default())
        .expect("create deployment");
    // `Runtime::advance_to_next_timer`, stepped here so the pods' events
    // are counted every few hundred reconciles, while their objects are
    // still in the caches (and before the receiver falls behind, which
    // cost a list of every pod), not after thousands: the count is the
    // bench's cost, not the simulator's.
    let settle = |rt: &mut Runtime, running: &mut Running| {
        let mut steps = 0u32;
        // Bounded as `run_until_idle` is: a runtime that never settles
        // ends the run (by the limits below) instead of hanging it.
        while steps < 1_000_000 && rt.step() {
            steps += 1;
            if steps.is_multiple_of(COUNT_EVERY) {
                running.count(&registry);
            }
        }
        running.count(&registry)
    };
    let mut up = settle(&mut rt, &mut running);
    while up < n {
        if clock.now().duration_since(t0).as_secs() > VIRTUAL_LIMIT_SECS || start.elapsed() > limit
        {
            break;
        }
        let Some(at) = rt.next_timer() else {
            break;
        };
        clock.advance(at.duration_since(clock.now()));
        up = settle(&mut rt, &mut running);
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let main_cpu = thread_cpu_seconds() - main0;
    let virt = clock.now().duration_since(t0).as_secs();
    let rss = rss_bytes().saturating_sub(rss_before);
    running.count(&registry);
    let total = registry.store.current_rv() - rv0;
    if running.lagged {
        println!(
            "  store writes per pod: {:.2} in all (the bench's receiver fell behind: no count per resource)",
            total as f64 / n as f64
        );
    } else {
        let writes: Vec<String> = running
            .writes
            .iter()
            .map(|(res, k)| format!("{res} {:.2}", *k as f64 / n as f64))
            .collect();
        println!(
            "  store writes per pod: {:.2} in all: {}",
            total as f64 / n as f64,
            writes.join(", ")
        );
    }
    let (taken, wasted, waited) = kubelets.looked_ahead();
    println!(
        "  kubelet syncs computed ahead: {taken} taken ({waited} waited for), {wasted} in vain"
    );
    // Tearing the cluster down is not part of the rollout.
    std::mem::forget(rt);
    std::mem::forget(kubelets);
    std::mem::forget(registry);
    Measured {
        running: up,
        wall: secs,
        cpu,
        main_cpu,
        virtual_secs: virt,
        rss_growth: rss,
    }
}

/// Rollouts per size (`KDRILL_BENCH_RUNS`, else 5 up to 1,000 pods and 3
/// above): a 100-pod rollout takes about 13 ms, and on a shared machine
/// one run's rate is mostly noise, so each size reports its median.
fn runs_for(n: usize) -> usize {
    std::env::var("KDRILL_BENCH_RUNS")
        .ok()
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or(if n <= 1_000 { 5 } else { 3 })
        .max(1)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let sizes: Vec<usize> = std::env::var("KDRILL_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 1_000, 10_000]);
    println!("reconcile throughput (virtual clock, in-process, release):");
    // The process's one-time costs (lazily built tables, the first pages
    // of its heap) fall on whichever rollout runs first: a 100-pod one,
    // not reported, takes them (`KDRILL_BENCH_WARMUP=0` skips it).
    if std::env::var("KDRILL_BENCH_WARMUP").map_or(true, |w| w.trim() != "0") {
        let _ = rollout(100);
        println!("  (a 100-pod warm-up rollout ran first, not reported)");
    }
    for n in sizes {
        let mut rates = Vec::new();
        let mut mains = Vec::new();
        for _ in 0..runs_for(n) {
            let m = rollout(n);
            let (up, secs, main_cpu, virt) = (m.running, m.wall, m.main_cpu, m.virtual_secs);
            let status = if up == n {
                ""
            } else {
                "  INCOMPLETE (time limit)"
            };
            let rate = up as f64 / secs;
            rates.push(rate);
            mains.push(main_cpu);
            println!(
                "  {n:>6} pods on {:>3} workers: {up} Running after {virt}s virtual in {secs:.2}s wall ({:.2}s CPU, main thread {main_cpu:.2}s) = {rate:.0} pods/s wall, {:.0} pods per CPU-second; RSS +{:.1} KiB/pod (process {:.0} MiB){status}",
                n.div_ceil(PODS_PER_NODE).max(2),
                m.cpu,
                up as f64 / m.cpu.max(0.01),
                m.rss_growth as f64 / 1024.0 / n as f64,
                rss_bytes() as f64 / (1024.0 * 1024.0),
            );
        }
        let median = median_of(&mut rates);
        let main_median = median_of(&mut mains);
        println!(
            "  {n:>6} pods: median {median:.0} pods/s wall (best {:.0}, worst {:.0}; main thread median {main_median:.2}s CPU) over {} rollouts",
            rates.last().copied().unwrap_or(0.0),
            rates.first().copied().unwrap_or(0.0),
            rates.len(),
        );
    }
}
