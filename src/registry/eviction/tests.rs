//! The Eviction API against a registry: budgets decide, upstream's words.

use super::*;
use crate::api::resource;
use crate::sim::clock::VirtualClock;
use crate::store::Store;
use std::sync::Arc;

fn registry() -> Registry {
    let clock = Arc::new(VirtualClock::new(
        jiff::Timestamp::from_second(1_700_000_000).expect("time"),
    ));
    let r = Registry::new(Arc::new(Store::new()), clock, 42);
    let ns = resource::lookup("", "v1", "namespaces").expect("namespaces");
    r.create(
        ns,
        "",
        json!({"metadata":{"name":"default"}}),
        &WriteOptions::default(),
    )
    .expect("namespace");
    r
}

fn pods() -> &'static crate::api::resource::ResourceInfo {
    resource::lookup("", "v1", "pods").expect("pods")
}

fn pdbs() -> &'static crate::api::resource::ResourceInfo {
    resource::lookup("policy", "v1", "poddisruptionbudgets").expect("pdbs")
}

/// A pod labelled app=web in `phase`, ready or not.
fn add_pod(r: &Registry, name: &str, phase: &str, ready: bool) {
    r.create(
        pods(),
        "default",
        json!({"metadata": {"name": name, "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
        &WriteOptions::default(),
    )
    .expect("pod");
    let status = json!({"status": {"phase": phase, "conditions": [
        {"type": "Ready", "status": if ready {"True"} else {"False"}}]}});
    r.patch(
        pods(),
        "default",
        name,
        PatchType::Merge,
        &status,
        Some("status"),
        &WriteOptions::default(),
    )
    .expect("pod status");
}

/// A budget over app=web with the status the controller would write.
fn add_pdb(r: &Registry, name: &str, allowed: i64, current: i64, desired: i64, observed: i64) {
    r.create(
        pdbs(),
        "default",
        json!({"metadata": {"name": name},
               "spec": {"minAvailable": desired, "selector": {"matchLabels": {"app": "web"}}}}),
        &WriteOptions::default(),
    )
    .expect("pdb");
    let status = json!({"status": {"disruptionsAllowed": allowed, "currentHealthy": current,
        "desiredHealthy": desired, "expectedPods": current, "observedGeneration": observed,
        "conditions": [{"type": "DisruptionAllowed", "status": if allowed > 0 {"True"} else {"False"},
            "reason": if allowed > 0 {"SufficientPods"} else {"InsufficientPods"}, "message": "",
            "lastTransitionTime": "2023-11-14T22:13:20Z", "observedGeneration": observed}]}});
    r.patch(
        pdbs(),
        "default",
        name,
        PatchType::Merge,
        &status,
        Some("status"),
        &WriteOptions::default(),
    )
    .expect("pdb status");
}

fn eviction(name: &str) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "default"}})
}

fn exists(r: &Registry, name: &str) -> bool {
    r.get(pods(), "default", name).is_some()
}

#[test]
fn without_a_budget_the_pod_goes() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    let ok = r.evict("default", "a", &eviction("a")).expect("evicted");
    assert_eq!(
        (&ok["status"], &ok["code"]),
        (&json!("Success"), &json!(201))
    );
    assert!(!exists(&r, "a"));
}

#[test]
fn a_budget_with_nothing_to_spare_answers_429() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    add_pdb(&r, "web", 0, 1, 1, 1);
    let err = r
        .evict("default", "a", &eviction("a"))
        .expect_err("refused");
    assert_eq!((err.code, err.reason), (429, "TooManyRequests"));
    assert_eq!(
        err.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        err.details,
        Some(json!({"causes": [{"reason": "DisruptionBudget",
            "message": "The disruption budget web needs 1 healthy pods and has 1 currently"}]}))
    );
    assert!(exists(&r, "a"));
}

#[test]
fn an_allowed_eviction_spends_the_budget_and_marks_the_pod() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    add_pdb(&r, "web", 1, 2, 1, 1);
    // A scheduled pod would wait for its kubelet; this one is unbound and
    // goes at once, so watch the condition through a dry run first.
    let mut dry = eviction("a");
    dry["deleteOptions"] = json!({"dryRun": ["All"]});
    r.evict("default", "a", &dry).expect("dry run");
    let pdb = r.get(pdbs(), "default", "web").expect("pdb");
    assert_eq!(
        pdb["status"]["disruptionsAllowed"], 1,
        "dry run spends nothing"
    );

    r.evict("default", "a", &eviction("a")).expect("evicted");
    assert!(!exists(&r, "a"));
    let pdb = r.get(pdbs(), "default", "web").expect("pdb");
    assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
    assert_eq!(
        pdb["status"]["disruptedPods"],
        json!({"a": "2023-11-14T22:13:20Z"})
    );
    let c = &pdb["status"]["conditions"][0];
    assert_eq!(
        (&c["status"], &c["reason"]),
        (&json!("False"), &json!("InsufficientPods"))
    );
}

#[test]
fn the_pod_gets_the_disruption_target_condition() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    // Bound pods wait for their kubelet, so the condition stays visible.
    r.bind_pod("default", "a", None, "node-1").expect("bind");
    r.evict("default", "a", &eviction("a")).expect("evicted");
    let pod = r.get(pods(), "default", "a").expect("terminating pod");
    assert!(meta::is_deleting(&pod));
    let c = pod["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "DisruptionTarget"))
        .cloned()
        .expect("condition");
    assert_eq!(
        (&c["status"], &c["reason"], &c["message"]),
        (
            &json!("True"),
            &json!("EvictionByEvictionAPI"),
            &json!("Eviction API: evicting")
        )
    );
}

#[test]
fn pods_that_cannot_be_disrupted_further_ignore_budgets() {
    // (phase, ready, allowed, current, desired, evicted)
    let cases = [
        ("Pending", false, 0, 1, 1, true),
        ("Succeeded", false, 0, 1, 1, true),
        ("Failed", false, 0, 1, 1, true),
        // Unready while the budget is met: no decrement needed.
        ("Running", false, 0, 1, 1, true),
        // Unready and the budget is not met: refused.
        ("Running", false, 0, 0, 1, false),
    ];
    for (phase, ready, allowed, current, desired, evicted) in cases {
        let r = registry();
        add_pod(&r, "a", phase, ready);
        add_pdb(&r, "web", allowed, current, desired, 1);
        let got = r.evict("default", "a", &eviction("a"));
        assert_eq!(got.is_ok(), evicted, "{phase} ready={ready}: {got:?}");
        assert_eq!(!exists(&r, "a"), evicted, "{phase}");
    }
}

#[test]
fn more_than_one_budget_is_a_500_status() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    add_pdb(&r, "one", 1, 1, 0, 1);
    add_pdb(&r, "two", 1, 1, 0, 1);
    let st = r.evict("default", "a", &eviction("a")).expect("a status");
    assert_eq!(
        (&st["status"], &st["code"], &st["message"]),
        (
            &json!("Failure"),
            &json!(500),
            &json!(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
            )
        )
    );
    assert!(exists(&r, "a"));
}

#[test]
fn a_budget_not_yet_observed_is_still_being_processed() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    add_pdb(&r, "web", 1, 2, 1, 0);
    let err = r
        .evict("default", "a", &eviction("a"))
        .expect_err("refused");
    assert_eq!(err.code, 429);
    assert_eq!(
        err.details,
        Some(json!({"causes": [{"reason": "DisruptionBudget",
            "message": "The disruption budget web is still being processed by the server."}],
            "retryAfterSeconds": 10}))
    );
}

#[test]
fn bad_requests() {
    let r = registry();
    add_pod(&r, "a", "Running", true);
    let err = r
        .evict("default", "a", &eviction("b"))
        .expect_err("mismatch");
    assert_eq!(
        (err.code, err.message.as_str()),
        (400, "name in URL does not match name in Eviction object")
    );
    let err = r
        .evict("default", "zz", &eviction("zz"))
        .expect_err("missing");
    assert_eq!(err.message, "pods \"zz\" not found");
}
