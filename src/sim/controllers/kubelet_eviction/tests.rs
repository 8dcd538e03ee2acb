//! Table tests of the kubelet's eviction manager.

use super::*;
use crate::sim::controllers::hpa::ContainerMetric;
use crate::sim::controllers::testutil::{apply, reasons, settle, t0};

const MI: i64 = 1024 * 1024;

fn cand(name: &str, priority: i64, uses: &[(i64, i64)]) -> Candidate {
    Candidate {
        key: ObjectKey::new("default", name),
        priority,
        containers: uses
            .iter()
            .enumerate()
            .map(|(i, (usage, request))| ContainerUse {
                name: format!("c{i}"),
                usage: usage * MI,
                request: request * MI,
            })
            .collect(),
    }
}

fn names(c: &[Candidate]) -> Vec<&str> {
    c.iter().map(|c| c.key.name.as_str()).collect()
}

#[test]
fn ranking_is_usage_above_request_then_priority_then_excess() {
    // (case, pods, expected order)
    let cases = [
        (
            "over request beats higher priority and bigger usage",
            vec![
                cand("under", 0, &[(500, 600)]),
                cand("over", 100, &[(50, 10)]),
            ],
            vec!["over", "under"],
        ),
        (
            "among those over request, lower priority first",
            vec![
                cand("high", 1000, &[(300, 10)]),
                cand("low", 0, &[(20, 10)]),
            ],
            vec!["low", "high"],
        ),
        (
            "same priority: larger usage above request first",
            vec![
                cand("small", 0, &[(20, 10)]),
                cand("big", 0, &[(200, 10)]),
                cand("mid", 0, &[(50, 0), (10, 10)]),
            ],
            vec!["big", "mid", "small"],
        ),
        (
            "usage equal to request is not over it",
            vec![
                cand("equal", 0, &[(64, 64)]),
                cand("besteffort", 5, &[(4, 0)]),
            ],
            vec!["besteffort", "equal"],
        ),
        (
            "full ties go by name",
            vec![cand("b", 0, &[(4, 0)]), cand("a", 0, &[(4, 0)])],
            vec!["a", "b"],
        ),
    ];
    for (case, mut pods, want) in cases {
        rank(&mut pods);
        assert_eq!(names(&pods), want, "{case}");
    }
}

#[test]
fn the_message_is_upstreams_eviction_message() {
    let c = |name: &str, usage: i64, request: i64| ContainerUse {
        name: name.into(),
        usage,
        request,
    };
    let cases = [
        (
            Starved::Memory,
            vec![c("hog", 200 * MI, 0)],
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89600Ki. \
             Container hog was using 200Mi, request is 0, has larger consumption of memory. ",
        ),
        (
            // Only containers above their request are named.
            Starved::Memory,
            vec![c("app", 300 * MI, 256 * MI), c("sidecar", 16 * MI, 64 * MI)],
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89600Ki. \
             Container app was using 300Mi, request is 256Mi, has larger consumption of memory. ",
        ),
        (
            Starved::Memory,
            vec![c("web", 64 * MI, 64 * MI)],
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89600Ki. ",
        ),
        (
            Starved::Memory,
            vec![c("odd", 123_456_789, 0)],
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89600Ki. \
             Container odd was using 123456789, request is 0, has larger consumption of memory. ",
        ),
    ];
    for (starved, containers, want) in cases {
        assert_eq!(
            eviction_message(
                starved,
                MEMORY_THRESHOLD,
                MEMORY_THRESHOLD / 8 * 7,
                &containers
            ),
            want
        );
    }
    assert_eq!(
        eviction_message(Starved::Disk, 10 * 1024 * MI, 8960 * MI, &[]),
        "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8960Mi. "
    );
}

fn pod(name: &str, extra: Value) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "spec": {"nodeName": "w1", "priority": 0,
                 "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-05-01T09:00:00Z"},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-05-01T09:00:00Z"}],
            "containerStatuses": [{"name": "app", "ready": true, "started": true, "restartCount": 0,
                "containerID": "containerd://abc", "image": "nginx", "imageID": "",
                "state": {"running": {"startedAt": "2025-05-01T09:00:01Z"}}}]}});
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if let (Some(Value::Object(into)), Value::Object(from)) = (p.get_mut(k), v) {
                for (k2, v2) in from {
                    into.insert(k2.clone(), v2.clone());
                }
            } else {
                p.insert(k.clone(), v.clone());
            }
        }
    }
    p
}

#[test]
fn critical_static_mirror_and_daemonset_pods_are_exempt() {
    let cases = [
        (json!({}), false),
        (json!({"spec": {"priority": 1000, "nodeName": "w1"}}), false),
        (
            json!({"spec": {"priority": 2_000_000_000, "nodeName": "w1"}}),
            true,
        ),
        (
            json!({"spec": {"priorityClassName": "system-node-critical", "nodeName": "w1"}}),
            true,
        ),
        (
            json!({"metadata": {"annotations": {"kubernetes.io/config.source": "file"}}}),
            true,
        ),
        (
            json!({"metadata": {"annotations": {"kubernetes.io/config.source": "api"}}}),
            false,
        ),
        (
            json!({"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}}),
            true,
        ),
        (
            json!({"metadata": {"ownerReferences": [{"kind": "DaemonSet", "name": "ds", "controller": true}]}}),
            true,
        ),
        (
            json!({"metadata": {"ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": true}]}}),
            false,
        ),
    ];
    for (extra, want) in cases {
        let mut p = pod("p", json!({}));
        // Replace spec wholesale when given, merge metadata.
        if let Some(spec) = extra.get("spec") {
            p["spec"] = spec.clone();
        }
        if let Some(m) = extra.get("metadata").and_then(Value::as_object) {
            for (k, v) in m {
                p["metadata"][k] = v.clone();
            }
        }
        assert_eq!(exempt(&p), want, "{extra}");
    }
}

/// Memory use by pod name (metrics-server's view).
struct Fake(Vec<(&'static str, u64)>);

impl MetricsSource for Fake {
    fn pod_usage(&self, _ns: &str, pod: &str) -> Option<Vec<ContainerMetric>> {
        let (_, m) = self.0.iter().find(|(n, _)| *n == pod)?;
        Some(vec![ContainerMetric {
            name: "app".into(),
            cpu_millis: 1,
            memory_bytes: *m,
        }])
    }
}

fn node_snap(switches: Value, pods: Vec<Value>) -> Snapshot {
    let node = json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "w1", "uid": "node-uid"},
        "status": {"capacity": {"ephemeral-storage": "100Gi", "memory": "8Gi"}}});
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "w1", "namespace": "kube-node-lease", "annotations": switches},
        "spec": {"holderIdentity": "w1", "renewTime": "2025-05-01T10:00:00.000000Z"}});
    let mut objs = vec![(res::NODES, node), (LEASES, lease)];
    objs.extend(pods.into_iter().map(|p| (res::PODS, p)));
    Snapshot::from_objects(objs)
}

fn manager(usage: Vec<(&'static str, u64)>) -> EvictionManager {
    EvictionManager {
        metrics: Arc::new(Fake(usage)),
    }
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn status_of(s: &Snapshot, name: &str) -> (String, String) {
    let p = s.get(res::PODS, "default", name).expect("pod");
    (
        p["status"]["phase"].as_str().unwrap_or("").into(),
        p["status"]["reason"].as_str().unwrap_or("").into(),
    )
}

#[test]
fn under_memory_pressure_one_pod_is_evicted_every_ten_seconds() {
    let hog_message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89600Ki. \
        Container app was using 500Mi, request is 0, has larger consumption of memory. ";
    let mut s = node_snap(
        json!({"kdrill.io/pressure": "memory"}),
        vec![
            pod("hog", json!({})),
            pod("small", json!({})),
            pod(
                "critical",
                json!({"spec": {"nodeName": "w1", "priority": 2_000_000_000,
                "containers": [{"name": "app"}]}}),
            ),
        ],
    );
    let m = manager(vec![
        ("hog", 500 * MI as u64),
        ("small", 4 * MI as u64),
        ("critical", 900 * MI as u64),
    ]);
    let key = ObjectKey::new("", "w1");
    let mut seq = 0;
    let out = m.reconcile(&s, &key, at(0));
    assert_eq!(out.requeue_after, Some(MONITORING_PERIOD));
    let ev = apply(&mut s, &out.actions, at(0), &mut seq);
    assert_eq!(
        reasons(&ev),
        [("Evicted".to_string(), hog_message.to_string())]
    );
    assert_eq!(ev[0].type_, EventType::Warning);
    assert_eq!(ev[0].component, "kubelet");
    assert_eq!(status_of(&s, "hog"), ("Failed".into(), "Evicted".into()));
    let hog = s.get(res::PODS, "default", "hog").expect("hog");
    assert_eq!(hog["status"]["message"], hog_message);
    let dt = super::super::podutil::condition(hog, "DisruptionTarget").expect("condition");
    assert_eq!(
        (&dt["status"], &dt["reason"], &dt["message"]),
        (
            &json!("True"),
            &json!("TerminationByKubelet"),
            &json!(hog_message)
        )
    );
    let ready = super::super::podutil::condition(hog, "Ready").expect("ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(hog["status"]["containerStatuses"][0]["ready"], false);

    // 5s later: nothing yet; the manager waits out the period.
    let out = m.reconcile(&s, &key, at(5));
    assert!(out.actions.is_empty());
    assert_eq!(out.requeue_after, Some(SignedDuration::from_secs(5)));
    // 10s later: the next pod; the critical one never goes.
    let ev = settle(&m, &mut s, &key, at(10));
    assert_eq!(ev.len(), 1);
    assert_eq!(status_of(&s, "small"), ("Failed".into(), "Evicted".into()));
    let ev = settle(&m, &mut s, &key, at(20));
    assert!(ev.is_empty(), "{:?}", reasons(&ev));
    assert_eq!(status_of(&s, "critical"), ("Running".into(), String::new()));
}

#[test]
fn no_pressure_or_a_stopped_kubelet_evicts_nothing() {
    let cases = [
        json!({}),
        json!({"kdrill.io/pressure": "pid"}),
        json!({"kdrill.io/pressure": "memory", "kdrill.io/kubelet": "stopped"}),
    ];
    for switches in cases {
        let s = node_snap(switches.clone(), vec![pod("a", json!({}))]);
        let out =
            manager(vec![("a", 500 * MI as u64)]).reconcile(&s, &ObjectKey::new("", "w1"), at(0));
        assert!(out.actions.is_empty(), "{switches}");
    }
}

#[test]
fn disk_pressure_evicts_by_priority_with_the_nodefs_threshold() {
    let mut s = node_snap(
        json!({"kdrill.io/pressure": "disk"}),
        vec![
            pod(
                "important",
                json!({"spec": {"nodeName": "w1", "priority": 1000,
                "containers": [{"name": "app"}]}}),
            ),
            pod("batch", json!({})),
        ],
    );
    let ev = settle(&manager(vec![]), &mut s, &ObjectKey::new("", "w1"), at(0));
    assert_eq!(
        reasons(&ev),
        [(
            "Evicted".to_string(),
            "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8960Mi. "
                .to_string()
        )]
    );
    assert_eq!(status_of(&s, "batch"), ("Failed".into(), "Evicted".into()));
    assert_eq!(
        status_of(&s, "important"),
        ("Running".into(), String::new())
    );
}

#[test]
fn admission_under_pressure_follows_the_eviction_managers_admit() {
    let with = |qos: &str, extra: Value| {
        let mut p = pod("new", json!({}));
        p["status"] = json!({"phase": "Pending", "qosClass": qos});
        if let Some(t) = extra.get("tolerations") {
            p["spec"]["tolerations"] = t.clone();
        }
        if let Some(pr) = extra.get("priority") {
            p["spec"]["priority"] = pr.clone();
        }
        p
    };
    let memory_toleration = json!({"tolerations": [{"key": "node.kubernetes.io/memory-pressure",
        "operator": "Exists", "effect": "NoSchedule"}]});
    let rejected = |c: &str| Some(format!("The node had condition: [{c}]. "));
    let mut daemon = with("BestEffort", json!({}));
    daemon["metadata"]["ownerReferences"] =
        json!([{"kind": "DaemonSet", "name": "ds", "controller": true}]);
    // (pod, conditions, rejection)
    let cases = [
        (with("BestEffort", json!({})), vec![], None),
        (
            with("BestEffort", json!({})),
            vec!["MemoryPressure"],
            rejected("MemoryPressure"),
        ),
        (with("Burstable", json!({})), vec!["MemoryPressure"], None),
        (
            with("BestEffort", memory_toleration.clone()),
            vec!["MemoryPressure"],
            None,
        ),
        (
            with("Guaranteed", json!({})),
            vec!["DiskPressure"],
            rejected("DiskPressure"),
        ),
        (
            with("Burstable", memory_toleration),
            vec!["MemoryPressure", "DiskPressure"],
            rejected("MemoryPressure DiskPressure"),
        ),
        (
            with("BestEffort", json!({"priority": 2_000_001_000})),
            vec!["DiskPressure"],
            None,
        ),
        (daemon, vec!["DiskPressure"], None),
    ];
    for (p, conditions, want) in cases {
        assert_eq!(
            admission_rejection(&p, &conditions),
            want,
            "{} {conditions:?}",
            p["spec"]
        );
    }
    let lease = json!({"metadata": {"annotations": {"kdrill.io/pressure": "disk, memory"}}});
    assert_eq!(
        pressure_conditions(&lease),
        ["MemoryPressure", "DiskPressure"]
    );
}

#[test]
fn a_rejected_pod_keeps_only_its_scheduling_condition() {
    let mut p = pod("new", json!({}));
    p["status"]["qosClass"] = json!("BestEffort");
    let s = rejected_status(&p, "The node had condition: [MemoryPressure]. ");
    assert_eq!(
        s,
        json!({"phase": "Failed", "reason": "Evicted",
            "message": "Pod was rejected: The node had condition: [MemoryPressure]. ",
            "qosClass": "BestEffort",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": null,
                "lastTransitionTime": "2025-05-01T09:00:00Z"}]})
    );
}
