//! Table tests for the scheduler's decisions and messages.

use super::*;
use crate::sim::controllers::testutil::{reasons, settle, t0};

fn node(name: &str, control_plane: bool) -> Value {
    let mut n = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1",
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
        "spec": {},
        "status": {"allocatable": {"cpu": "8", "memory": "16365720Ki", "pods": "110", "ephemeral-storage": "263174212Ki"}},
    });
    if control_plane {
        n["spec"]["taints"] =
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
        n["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = json!("");
    }
    n
}

fn cluster() -> Vec<(ResKey, Value)> {
    vec![
        (res::NODES, node("kdrill-control-plane", true)),
        (res::NODES, node("kdrill-worker", false)),
        (res::NODES, node("kdrill-worker2", false)),
    ]
}

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "nginx"}]);
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "2"},
        "spec": spec,
        "status": {"phase": "Pending"},
    })
}

fn cpu(c: &str) -> Value {
    json!({"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": c}}}]})
}

fn run(extra: Vec<(ResKey, Value)>, p: Value) -> Reconciled {
    let key = ObjectKey::of(&p);
    let mut objs = cluster();
    objs.extend(extra);
    objs.push((res::PODS, p));
    let snap = Snapshot::from_objects(objs);
    Scheduler::new(1).reconcile(&snap, &key, t0())
}

fn failure_message(out: &Reconciled) -> String {
    out.actions
        .iter()
        .find_map(|a| match a {
            Action::Event(e) if e.reason == "FailedScheduling" => Some(e.message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no FailedScheduling in {:?}", out.actions))
}

#[test]
fn failure_messages_match_upstream() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "insufficient cpu",
            pod("big", cpu("100")),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        ),
        (
            "nodeSelector typo",
            pod("sel", json!({"nodeSelector": {"disktype": "sdd"}})),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        ),
        (
            "cpu and memory",
            pod(
                "huge",
                json!({"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "9", "memory": "64Gi"}}}],
                               "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]}),
            ),
            "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
        ),
        (
            "preemptionPolicy Never",
            pod(
                "never",
                json!({"preemptionPolicy": "Never", "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100"}}}]}),
            ),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
        ),
        (
            // A DaemonSet's pod, pinned to its node by matchFields: the
            // other nodes never reach the filters (NodeAffinity PreFilter).
            "pinned by matchFields",
            pod(
                "pinned",
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["kdrill-worker"]}]}]}}},
                       "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100"}}}]}),
            ),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
        ),
    ];
    for (name, p, want) in cases {
        assert_eq!(failure_message(&run(vec![], p)), want, "{name}");
    }
}

#[test]
fn cordoned_and_tainted_workers_are_reported_separately() {
    let mut cordoned = node("kdrill-worker", false);
    cordoned["spec"]["unschedulable"] = json!(true);
    let mut tainted = node("kdrill-worker2", false);
    tainted["spec"]["taints"] =
        json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
    let snap = Snapshot::from_objects([
        (res::NODES, node("kdrill-control-plane", true)),
        (res::NODES, cordoned),
        (res::NODES, tainted),
        (res::PODS, pod("p", json!({}))),
    ]);
    let out = Scheduler::new(1).reconcile(&snap, &ObjectKey::new("default", "p"), t0());
    assert_eq!(
        failure_message(&out),
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
}

#[test]
fn already_bound_pods_take_their_requests_from_the_node() {
    // 6 of 8 cpus are taken on each worker: a 3-cpu pod fits nowhere.
    let mut extra = Vec::new();
    for w in ["kdrill-worker", "kdrill-worker2"] {
        let mut p = pod(&format!("hog-{w}"), cpu("6"));
        p["spec"]["nodeName"] = json!(w);
        extra.push((res::PODS, p));
    }
    let out = run(extra.clone(), pod("p", cpu("3")));
    assert!(failure_message(&out).contains("2 Insufficient cpu"));
    // A 2-cpu pod fits.
    let out = run(extra, pod("q", cpu("2")));
    assert!(
        matches!(out.actions[0], Action::Bind { .. }),
        "{:?}",
        out.actions
    );
}

#[test]
fn tolerations_and_affinity_select_nodes() {
    let tolerate_cp = json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "nodeName label",
            json!({"nodeSelector": {"kubernetes.io/hostname": "kdrill-worker2"}}),
            "kdrill-worker2",
        ),
        (
            "required affinity In",
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["kdrill-worker"]}]}]}}}}),
            "kdrill-worker",
        ),
        (
            "control plane with a toleration",
            json!({"tolerations": tolerate_cp, "nodeSelector": {"node-role.kubernetes.io/control-plane": ""}}),
            "kdrill-control-plane",
        ),
        (
            "matchFields",
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["kdrill-worker2"]}]}]}}}}),
            "kdrill-worker2",
        ),
    ];
    for (name, spec, want) in cases {
        let out = run(vec![], pod("p", spec));
        match &out.actions[..] {
            [Action::Bind { node, .. }] => assert_eq!(node, want, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn binding_records_the_scheduled_event_and_settles() {
    let mut snap = Snapshot::from_objects(
        cluster()
            .into_iter()
            .chain([(res::PODS, pod("web-x", json!({})))]),
    );
    let key = ObjectKey::new("default", "web-x");
    let events = settle(&Scheduler::new(1), &mut snap, &key, t0());
    let bound = snap.get(res::PODS, "default", "web-x").unwrap()["spec"]["nodeName"].clone();
    assert!(
        bound == "kdrill-worker" || bound == "kdrill-worker2",
        "{bound}"
    );
    assert_eq!(
        reasons(&events),
        [(
            "Scheduled".to_string(),
            format!(
                "Successfully assigned default/web-x to {}",
                bound.as_str().unwrap()
            )
        )]
    );
}

#[test]
fn an_unschedulable_pod_is_marked_once() {
    let mut snap = Snapshot::from_objects(
        cluster()
            .into_iter()
            .chain([(res::PODS, pod("big", cpu("100")))]),
    );
    let key = ObjectKey::new("default", "big");
    let events = settle(&Scheduler::new(1), &mut snap, &key, t0());
    assert_eq!(events.len(), 1);
    let cond = &snap.get(res::PODS, "default", "big").unwrap()["status"]["conditions"][0];
    assert_eq!(cond["type"], "PodScheduled");
    assert_eq!(cond["status"], "False");
    assert_eq!(cond["reason"], "Unschedulable");
    assert_eq!(cond["message"], json!(events[0].message));
}

#[test]
fn pods_spread_over_equal_workers_and_repeat_with_the_seed() {
    let place = |seed: u64| {
        let mut objs = cluster();
        for i in 0..4 {
            objs.push((res::PODS, pod(&format!("p{i}"), json!({}))));
        }
        let mut snap = Snapshot::from_objects(objs);
        let mut nodes = Vec::new();
        for i in 0..4 {
            let key = ObjectKey::new("default", format!("p{i}"));
            settle(&Scheduler::new(seed), &mut snap, &key, t0());
            nodes.push(
                snap.get(res::PODS, "default", &key.name).unwrap()["spec"]["nodeName"].clone(),
            );
        }
        nodes
    };
    let a = place(7);
    assert_eq!(a, place(7));
    let on_worker = a.iter().filter(|n| *n == "kdrill-worker").count();
    assert_eq!(on_worker, 2, "least-allocated spreads: {a:?}");
}

#[test]
fn requests_sum_containers_and_cover_init_containers() {
    let p = json!({"spec": {
        "containers": [{"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}, {"resources": {"requests": {"cpu": "250m"}}}],
        "initContainers": [{"resources": {"requests": {"cpu": "1"}}}],
    }});
    let (r, nz) = pod_requests(&p);
    assert_eq!(r.get("cpu"), 1000);
    assert_eq!(r.get("memory"), 64 * 1024 * 1024);
    // The second container's memory counts the default; the init
    // container's cpu still covers the sum, and its memory default is
    // below the containers' sum.
    assert_eq!(nz.get("cpu"), 1000);
    assert_eq!(nz.get("memory"), 64 * 1024 * 1024 + DEFAULT_MEMORY);
    // A container without requests counts both defaults, and overhead is
    // added to both sums.
    let (r, nz) = pod_requests(&json!({"spec": {
        "containers": [{"name": "a"}],
        "overhead": {"cpu": "10m"},
    }}));
    assert_eq!((r.get("cpu"), r.get("memory")), (10, 0));
    assert_eq!(
        (nz.get("cpu"), nz.get("memory")),
        (DEFAULT_MILLI_CPU + 10, DEFAULT_MEMORY)
    );
}

#[test]
fn only_a_pod_that_leaves_its_node_wakes_the_pending_ones() {
    let pending = pod("waiting", cpu("100"));
    let mut placed = pod("placed", json!({"nodeName": "kdrill-worker"}));
    placed["status"]["phase"] = json!("Running");
    let mut objs = cluster();
    objs.push((res::PODS, pending.clone()));
    objs.push((res::PODS, placed.clone()));
    let mut snap = Snapshot::from_objects(objs);
    let s = Scheduler::new(1);
    let waiting = vec![ObjectKey::of(&pending)];
    // A pending pod is its own key, while held.
    assert_eq!(s.keys_for(&snap, res::PODS, &pending), waiting);
    assert_eq!(
        s.keys_for_change(&snap, res::PODS, &pending, false),
        waiting
    );
    // A bound pod's status write changes no decision ...
    assert_eq!(
        s.keys_for(&snap, res::PODS, &placed),
        Vec::<ObjectKey>::new()
    );
    assert_eq!(
        s.keys_for_change(&snap, res::PODS, &placed, false),
        Vec::<ObjectKey>::new()
    );
    // ... its finishing does, and so does its deletion.
    let mut done = placed.clone();
    done["status"]["phase"] = json!("Succeeded");
    assert_eq!(s.keys_for_change(&snap, res::PODS, &done, false), waiting);
    snap.remove(res::PODS, &placed);
    assert_eq!(s.keys_for(&snap, res::PODS, &placed), waiting);
    assert_eq!(s.keys_for_change(&snap, res::PODS, &placed, true), waiting);
}

#[test]
fn the_pick_is_the_best_score_then_the_lowest_tie_break_as_max_by_picks() {
    let rng = crate::sim::rng::Rng::new(11);
    let node = json!({});
    for round in 0..500 {
        let prefix = rng.next_u64();
        let n = rng.below(12) as usize;
        let names: Vec<String> = (0..n).map(|i| format!("node-{round}-{i}")).collect();
        // Few distinct scores, so most rounds have ties.
        let scores: Vec<i64> = (0..n).map(|_| rng.below(3) as i64 + 97).collect();
        let mut pick = Pick::new(prefix);
        for (s, name) in scores.iter().zip(&names) {
            pick.offer(*s, name, &node);
        }
        let want = scores
            .iter()
            .zip(&names)
            .map(|(s, name)| (*s, tie_break(prefix, name), name.as_str()))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, _, name)| name);
        assert_eq!(pick.best().map(|(name, _)| name), want, "round {round}");
    }
    // Equal hashes (the same name offered twice): the later one, as
    // `max_by` keeps the last of equal elements.
    let (a, b) = (json!({"n": 1}), json!({"n": 2}));
    let mut pick = Pick::new(7);
    pick.offer(50, "x", &a);
    pick.offer(50, "x", &b);
    assert_eq!(pick.best().map(|(_, n)| n), Some(&b));
}

#[test]
fn node_affinity_pre_filter_narrows_to_named_nodes() {
    let names = |terms: Value| {
        let p = json!({"spec": {"affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}});
        pre_filter_node_names(&p).map(|s| s.into_iter().map(str::to_string).collect::<Vec<_>>())
    };
    let field = |op: &str, values: &[&str]| json!({"key": "metadata.name", "operator": op, "values": values});
    // One term: its names; requirements in a term intersect.
    assert_eq!(
        names(json!([{"matchFields": [field("In", &["a", "b"])]}])),
        Some(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        names(json!([{"matchFields": [field("In", &["a", "b"]), field("In", &["b", "c"])]}])),
        Some(vec!["b".into()])
    );
    // Terms unite.
    assert_eq!(
        names(
            json!([{"matchFields": [field("In", &["a"])]}, {"matchFields": [field("In", &["c"])]}])
        ),
        Some(vec!["a".into(), "c".into()])
    );
    // A term that names no node (labels only, NotIn) lets every node through.
    assert_eq!(
        names(json!([{"matchFields": [field("In", &["a"])]},
                     {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}])),
        None
    );
    assert_eq!(
        names(json!([{"matchFields": [field("NotIn", &["a"])]}])),
        None
    );
    // Conflicting requirements are left to the filter.
    assert_eq!(
        names(json!([{"matchFields": [field("In", &["a"]), field("In", &["b"])]}])),
        None
    );
    assert_eq!(pre_filter_node_names(&json!({"spec": {}})), None);
}

/// A pod labelled `app: web` with a `DoNotSchedule` constraint over nodes.
fn spread_pod(name: &str, max_skew: i64, key: &str) -> Value {
    let mut p = pod(
        name,
        json!({"topologySpreadConstraints": [{"maxSkew": max_skew, "topologyKey": key,
            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}]}),
    );
    p["metadata"]["labels"] = json!({"app": "web"});
    p
}

fn web_on(name: &str, node: &str) -> (ResKey, Value) {
    let mut p = pod(name, json!({}));
    p["metadata"]["labels"] = json!({"app": "web"});
    p["spec"]["nodeName"] = json!(node);
    p["status"]["phase"] = json!("Running");
    (res::PODS, p)
}

#[test]
fn do_not_schedule_spread_constraints_filter_the_crowded_domain() {
    let host = "kubernetes.io/hostname";
    // One web pod on kdrill-worker: the next must go to kdrill-worker2
    // (the control plane's taint keeps it out, as a domain it counts:
    // its node selection admits it).
    let out = run(
        vec![web_on("w0", "kdrill-worker")],
        spread_pod("p", 1, host),
    );
    assert!(
        matches!(&out.actions[..], [Action::Bind { node, .. }] if node == "kdrill-worker2"),
        "{:?}",
        out.actions
    );
    // Two there, the other worker cordoned: nowhere within the skew.
    let mut cordoned = node("kdrill-worker2", false);
    cordoned["spec"]["unschedulable"] = json!(true);
    let extra = vec![
        (res::NODES, cordoned),
        web_on("w0", "kdrill-worker"),
        web_on("w1", "kdrill-worker"),
    ];
    let out = run(extra, spread_pod("q", 1, host));
    assert_eq!(
        failure_message(&out),
        "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
    );
    // A key no node carries.
    let out = run(vec![], spread_pod("r", 1, "topology.kubernetes.io/zone"));
    assert_eq!(
        failure_message(&out),
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
}

/// A terminating pod does not count toward topology spread (upstream's
/// `countPodsMatchSelector` bypasses it): with one web pod on each worker
/// and a second, terminating, on kdrill-worker, the only schedulable worker
/// still takes the next pod; counted, the skew would refuse it.
#[test]
fn terminating_pods_do_not_count_toward_topology_spread() {
    let host = "kubernetes.io/hostname";
    let mut incoming = spread_pod("q", 1, host);
    // The tainted control plane is no domain.
    incoming["spec"]["topologySpreadConstraints"][0]["nodeTaintsPolicy"] = json!("Honor");
    let mut cordoned = node("kdrill-worker2", false);
    cordoned["spec"]["unschedulable"] = json!(true);
    let (r, mut leaving) = web_on("w1", "kdrill-worker");
    leaving["metadata"]["deletionTimestamp"] = json!("2025-05-01T09:59:00Z");
    let setup = |leaving: Value| {
        vec![
            (res::NODES, cordoned.clone()),
            web_on("w0", "kdrill-worker"),
            (r, leaving),
            web_on("w2", "kdrill-worker2"),
        ]
    };
    let out = run(setup(leaving.clone()), incoming.clone());
    assert!(
        matches!(&out.actions[..], [Action::Bind { node, .. }] if node == "kdrill-worker"),
        "{:?}",
        out.actions
    );
    // The same pod not terminating counts, and the skew refuses the node.
    leaving["metadata"]
        .as_object_mut()
        .map(|m| m.remove("deletionTimestamp"));
    let out = run(setup(leaving), incoming);
    assert!(
        failure_message(&out).contains("1 node(s) didn't match pod topology spread constraints"),
        "{:?}",
        out.actions
    );
}

/// The per-node cache: a ReplicaSet's pods placed one after another by one
/// scheduler land where a fresh scheduler (no cache) puts each, while the
/// nodes change under them (a taint, a preferred taint, a pod of another
/// shape between them), and most nodes are served from the cache. Debug
/// builds also check each reuse against a fresh computation.
#[test]
fn alike_pods_reuse_node_verdicts_and_land_where_a_fresh_scheduler_puts_them() {
    let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-rs", "resourceVersion": "1"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}}});
    let mut objs = vec![
        (res::NODES, node("kdrill-control-plane", true)),
        (res::REPLICASETS, rs),
    ];
    for (i, cpu) in ["2", "4", "4", "8"].iter().enumerate() {
        let mut n = node(&format!("kdrill-worker{i}"), false);
        n["status"]["allocatable"]["cpu"] = json!(cpu);
        objs.push((res::NODES, n));
    }
    let web = |i: usize, cpu: &str| {
        let mut p = pod(
            &format!("web-{i}"),
            json!({"containers": [{"name": "c", "image": "nginx",
                "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}),
        );
        p["metadata"]["labels"] = json!({"app": "web"});
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": "web", "uid": "uid-rs", "controller": true}]);
        p
    };
    let pods: Vec<Value> = (0..30)
        .map(|i| web(i, if i == 15 { "300m" } else { "100m" }))
        .collect();
    objs.extend(pods.iter().map(|p| (res::PODS, p.clone())));
    let mut cached = Snapshot::from_objects(objs.clone());
    let mut fresh = Snapshot::from_objects(objs);
    let taint = |snap: &mut Snapshot, node: &str, effect: &str, rv: &str| {
        let mut n = (**snap.get(res::NODES, "", node).unwrap()).clone();
        n["spec"]["taints"] = json!([{"key": "drill", "effect": effect}]);
        n["metadata"]["resourceVersion"] = json!(rv);
        snap.upsert(res::NODES, std::sync::Arc::new(n));
    };
    let one = Scheduler::new(3);
    let mut placed = Vec::new();
    for (i, p) in pods.iter().enumerate() {
        if i == 10 {
            for s in [&mut cached, &mut fresh] {
                taint(s, "kdrill-worker3", "NoSchedule", "2");
            }
        }
        if i == 20 {
            for s in [&mut cached, &mut fresh] {
                taint(s, "kdrill-worker1", "PreferNoSchedule", "2");
            }
        }
        let key = ObjectKey::of(p);
        settle(&one, &mut cached, &key, t0());
        settle(&Scheduler::new(3), &mut fresh, &key, t0());
        let on = |s: &Snapshot| {
            s.get(res::PODS, "default", &key.name).unwrap()["spec"]["nodeName"].clone()
        };
        assert_eq!(on(&cached), on(&fresh), "{}", key.name);
        placed.push(on(&cached));
    }
    assert!(
        placed[10..].iter().all(|n| n != "kdrill-worker3"),
        "{placed:?}"
    );
    // 5 nodes a pod; all but the last pod's node (and the changed ones)
    // come from the cache.
    let hits = one.cache.lock().unwrap().hits;
    assert!(hits >= 100, "{hits} nodes served from the cache");
}
