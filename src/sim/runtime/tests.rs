//! The runtime over a real registry on a virtual clock: no sleeps.

use super::*;
use crate::api::resource;
use crate::sim::bootstrap::{self, ClusterShape};
use crate::sim::clock::Clock;
use crate::sim::snapshot::res;
use serde_json::json;

fn cluster() -> (Arc<Registry>, Arc<VirtualClock>, Runtime) {
    let clock = Arc::new(VirtualClock::new("2025-05-01T10:00:00Z".parse().unwrap()));
    let store = Arc::new(crate::store::Store::new());
    let registry = Arc::new(Registry::new(store, clock.clone(), 1));
    bootstrap::seed(&registry, &ClusterShape::default()).unwrap();
    let rt = Runtime::new(registry.clone(), crate::sim::controllers::all(1));
    (registry, clock, rt)
}

fn create_deployment(registry: &Registry, deadline: i64) {
    let info = resource::lookup("apps", "v1", "deployments").unwrap();
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "progressDeadlineSeconds": deadline, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
    });
    registry
        .create(info, "default", d, &WriteOptions::default())
        .unwrap();
}

fn events(registry: &Registry) -> Vec<(String, String, i64)> {
    registry
        .store
        .list(res::EVENTS, Some("default"))
        .0
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or("").to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
                e["count"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_deployment_becomes_a_replica_set_and_scheduled_pods() {
    let (registry, _clock, mut rt) = cluster();
    create_deployment(&registry, 600);
    rt.run_until_idle();
    let (rs, _) = registry.store.list(res::REPLICASETS, Some("default"));
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["status"]["replicas"], 3);
    let (pods, _) = registry.store.list(res::PODS, Some("default"));
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let node = p["spec"]["nodeName"].as_str().unwrap_or("");
        assert!(node.starts_with("kdrill-worker"), "{node}");
    }
    let ev = events(&registry);
    let count = |r: &str| ev.iter().filter(|e| e.0 == r).count();
    assert_eq!(
        (
            count("ScalingReplicaSet"),
            count("SuccessfulCreate"),
            count("Scheduled")
        ),
        (1, 3, 3)
    );
    // Settled: another pass does nothing.
    assert_eq!(rt.run_until_idle(), 0);
}

#[test]
fn the_progress_deadline_fires_on_the_virtual_clock() {
    let (registry, clock, mut rt) = cluster();
    create_deployment(&registry, 60);
    rt.run_until_idle();
    assert!(rt.next_timer().is_some());
    while rt.advance_to_next_timer(&clock) {
        let d = registry
            .store
            .get(res::DEPLOYMENTS, "default", "web")
            .unwrap();
        if d["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["reason"] == "ProgressDeadlineExceeded"))
        {
            return;
        }
    }
    panic!("deadline never exceeded");
}

#[test]
fn repeated_events_are_aggregated() {
    let (registry, _clock, mut rt) = cluster();
    let spec = EventSpec {
        involved: crate::sim::event::ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: "default".into(),
            name: "p".into(),
            uid: "u".into(),
            field_path: None,
        },
        type_: crate::sim::event::EventType::Warning,
        reason: "FailedScheduling".into(),
        message: "m".into(),
        component: "default-scheduler".into(),
        host: None,
    };
    let work = (0, ObjectKey::new("default", "p"));
    rt.apply(&work, Action::Event(spec.clone()));
    rt.apply(&work, Action::Event(spec));
    let (items, _) = registry.store.list(res::EVENTS, Some("default"));
    let items: Vec<_> = items
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "p")
        .collect();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["count"], 2);
    let name = meta::name(items[0]);
    assert!(
        name.starts_with("p.") && name[2..].chars().all(|c| c.is_ascii_hexdigit()),
        "{name}"
    );
    assert_eq!(items[0]["source"]["component"], "default-scheduler");
    assert_eq!(items[0]["reportingComponent"], "default-scheduler");
}

#[test]
fn advance_until_steps_through_every_timer_and_lands_on_the_target() {
    let (registry, clock, mut rt) = cluster();
    let start = clock.now();
    create_deployment(&registry, 60);
    // Nothing has reacted yet: the write waits for the next advance.
    assert!(
        registry
            .store
            .list(res::REPLICASETS, Some("default"))
            .0
            .is_empty()
    );
    let target = start + SignedDuration::from_secs(90);
    rt.advance_until(&clock, target);
    assert_eq!(clock.now(), target);
    // The deadline timer (60s) fired on the way, not at 90s.
    let d = registry
        .store
        .get(res::DEPLOYMENTS, "default", "web")
        .unwrap();
    let cond = d["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Progressing"))
        .cloned()
        .unwrap();
    assert_eq!(cond["reason"], "ProgressDeadlineExceeded");
    assert!(rt.next_timer().is_none_or(|t| t > target));
    // Advancing by zero only settles.
    rt.advance_until(&clock, target);
    assert_eq!(clock.now(), target);
}

#[test]
fn objects_nobody_reads_are_packed_and_read_back_unchanged() {
    let (registry, clock, mut rt) = cluster();
    create_deployment(&registry, 600);
    rt.run_until_idle();
    let pods = |r: &Registry| -> Vec<Value> {
        let (items, _) = r.store.list(res::PODS, Some("default"));
        items.iter().map(|p| (**p).clone()).collect()
    };
    let before = pods(&registry);
    assert_eq!(before.len(), 3);
    assert_eq!(rt.snapshot().packed(), 0, "new objects stay trees");
    // Two sweep intervals without a read: the pods are packed in the
    // snapshot and the store, one copy for both.
    let later = clock.now() + SWEEP_EVERY + SWEEP_EVERY + SignedDuration::from_secs(1);
    rt.advance_until(&clock, later);
    let step = clock.now() + SignedDuration::from_secs(1);
    rt.advance_until(&clock, step);
    assert!(rt.snapshot().packed() >= 3, "{}", rt.snapshot().packed());
    assert_eq!(
        registry.store.packed(res::PODS),
        registry.store.count(res::PODS),
        "every pod, bootstrap ones included"
    );
    // What the apiserver and the kubelets read from the store on every
    // write and sync stays decoded.
    for kind in ["namespaces", "nodes", "configmaps"] {
        let r = crate::store::ResKey {
            group: "",
            resource: kind,
        };
        assert!(registry.store.count(r) > 0, "{kind}");
        assert_eq!(registry.store.packed(r), 0, "{kind} stay decoded");
    }
    assert_eq!(pods(&registry), before, "the store decodes them unchanged");
    for p in &before {
        let held = rt
            .snapshot()
            .get(res::PODS, "default", meta::name(p))
            .map(|t| (**t).clone());
        assert_eq!(
            held.as_ref(),
            Some(p),
            "the snapshot decodes them unchanged"
        );
    }
    // The controllers still see and act on them: scale up by one.
    let info = resource::lookup("apps", "v1", "deployments").unwrap();
    registry
        .patch(
            info,
            "default",
            "web",
            PatchType::Merge,
            &json!({"spec": {"replicas": 4}}),
            None,
            &WriteOptions::default(),
        )
        .unwrap();
    rt.run_until_idle();
    let after = pods(&registry);
    assert_eq!(after.len(), 4);
    for p in &before {
        assert!(after.contains(p), "an old pod changed: {p}");
    }
}

#[test]
fn events_expire_an_hour_after_their_last_write() {
    let (registry, clock, mut rt) = cluster();
    create_deployment(&registry, 600);
    rt.run_until_idle();
    let names = |r: &Registry| -> Vec<String> {
        let (items, _) = r.store.list(res::EVENTS, Some("default"));
        items.iter().map(|e| meta::name(e).to_string()).collect()
    };
    let first = names(&registry);
    // The rollout's 7, and the 7 each of the three nodes got as it joined.
    assert_eq!(first.len(), 7 + 3 * 7, "{first:?}");
    let start = clock.now();
    let at = |mins: i64| start + SignedDuration::from_mins(mins);
    // Half an hour on, one Event is written again (its count goes up):
    // that renews its lease.
    rt.advance_until(&clock, at(30));
    let info = resource::lookup("", "v1", "events").unwrap();
    let renewed = first[0].clone();
    registry
        .patch(
            info,
            "default",
            &renewed,
            PatchType::Merge,
            &json!({"count": 2}),
            None,
            &WriteOptions::default(),
        )
        .unwrap();
    rt.advance_until(&clock, at(59));
    assert_eq!(names(&registry), first, "nothing expires before its hour");
    rt.advance_until(&clock, at(62));
    assert_eq!(names(&registry), [renewed], "the rest are gone");
    rt.advance_until(&clock, at(92));
    assert!(names(&registry).is_empty());
}

#[test]
fn events_the_runtime_did_not_observe_expire_too() {
    // With the default history the skipped writes are still in it; with a
    // short one the runtime lists the Events instead.
    for history in [crate::store::HISTORY, 100] {
        let clock = Arc::new(VirtualClock::new("2025-05-01T10:00:00Z".parse().unwrap()));
        let store = Arc::new(crate::store::Store::with_history(history));
        let registry = Arc::new(Registry::new(store, clock.clone(), 1));
        bootstrap::seed(&registry, &ClusterShape::default()).unwrap();
        let info = resource::lookup("", "v1", "events").unwrap();
        let event = |name: &str| {
            let body = json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
                "reason": "Test", "message": name, "type": "Normal",
            });
            registry
                .create(info, "default", body, &WriteOptions::default())
                .unwrap();
        };
        // Written before the runtime started.
        event("early");
        let mut rt = Runtime::new(registry.clone(), crate::sim::controllers::all(1));
        rt.run_until_idle();
        // Written just before more store writes than the runtime's receiver
        // keeps: the receiver lags past it.
        event("skipped");
        let configmaps = ResKey {
            group: "",
            resource: "configmaps",
        };
        for i in 0..(crate::store::FANOUT_CAPACITY + 16) {
            let cm = json!({"metadata": {"namespace": "burst", "name": format!("cm-{i}")}});
            registry.store.create(configmaps, cm).unwrap();
        }
        rt.run_until_idle();
        let names = || -> Vec<String> {
            let (items, _) = registry.store.list(res::EVENTS, Some("default"));
            items.iter().map(|e| meta::name(e).to_string()).collect()
        };
        let not_nodes: Vec<String> = names()
            .into_iter()
            .filter(|n| !n.starts_with("kdrill-"))
            .collect();
        assert_eq!(not_nodes, ["early", "skipped"], "history {history}");
        let later = clock.now() + SignedDuration::from_mins(61);
        rt.advance_until(&clock, later);
        assert!(names().is_empty(), "history {history}: {:?}", names());
    }
}

/// A controller of ConfigMaps that writes `data.seen` on the one it
/// reconciles: once (`step: 0`, it settles) or one more each time (`step:
/// 1`, it never does). `creates` asks for an invalid Secret each time as
/// well, so the reconcile fails part-way.
struct Marker {
    settles: bool,
    step: i64,
    creates: bool,
}

const MARKED: &str = "marked";

impl Controller for Marker {
    fn name(&self) -> &'static str {
        "marker"
    }
    fn watches(&self) -> &'static [ResKey] {
        const W: &[ResKey] = &[res::CONFIGMAPS];
        W
    }
    fn keys_for(&self, _: &Snapshot, _: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if meta::name(obj) == MARKED {
            vec![ObjectKey::of(obj)]
        } else {
            Vec::new()
        }
    }
    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, _: Timestamp) -> Reconciled {
        let Some(cm) = snap.get(res::CONFIGMAPS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let seen: i64 = cm["data"]["seen"].as_str().unwrap_or("0").parse().unwrap();
        let want = if self.step == 0 { 1 } else { seen + 1 };
        let mut actions = Vec::new();
        if self.creates {
            actions.push(Action::Create {
                res: res::SECRETS,
                namespace: key.namespace.clone(),
                object: json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "Not_A_Name"}}),
                on_created: None,
                on_failed: None,
            });
        }
        if seen != want {
            actions.push(Action::Patch {
                res: res::CONFIGMAPS,
                key: key.clone(),
                patch: json!({"data": {"seen": want.to_string()}}),
                status: false,
            });
        }
        Reconciled {
            actions,
            requeue_after: None,
        }
    }
    fn settles_own_writes(&self) -> bool {
        self.settles
    }
}

/// Runs a `Marker` over a fresh registry holding the marked ConfigMap;
/// returns the reconciles the runtime ran (debug builds' check of a
/// skipped one is not counted) and the `seen` it left.
fn run_marker(settles: bool, step: i64, creates: bool) -> (usize, String) {
    let clock = Arc::new(VirtualClock::new("2025-05-01T10:00:00Z".parse().unwrap()));
    let store = Arc::new(crate::store::Store::new());
    let registry = Arc::new(Registry::new(store, clock.clone(), 1));
    bootstrap::seed(&registry, &ClusterShape::default()).unwrap();
    let marker = Marker {
        settles,
        step,
        creates,
    };
    let mut rt = Runtime::new(registry.clone(), vec![Box::new(marker)]);
    let info = resource::lookup("", "v1", "configmaps").unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": MARKED}});
    registry
        .create(info, "default", cm, &WriteOptions::default())
        .unwrap();
    let runs = rt.run_until_idle();
    let seen = registry
        .store
        .get(res::CONFIGMAPS, "default", MARKED)
        .map(|c| c["data"]["seen"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    (runs, seen)
}

#[test]
fn a_controller_that_settles_is_not_handed_its_own_write_back() {
    // Reconciled for the create; its own write is not handed back.
    assert_eq!(run_marker(true, 0, false), (1, "1".to_string()));
    // Without the promise, the write's event brings a second (empty) pass,
    // as upstream's update handlers do.
    assert_eq!(run_marker(false, 0, false), (2, "1".to_string()));
}

#[test]
fn a_reconcile_that_failed_part_way_gets_its_own_write_back() {
    // The refused create fails the reconcile; the write's event queues a
    // second pass at once (which fails again and backs off).
    let (runs, seen) = run_marker(true, 0, true);
    assert_eq!(seen, "1");
    assert_eq!(runs, 2);
}

#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "marker does not settle after its own write to default/marked")]
fn debug_builds_catch_a_controller_that_does_not_settle() {
    run_marker(true, 1, false);
}
