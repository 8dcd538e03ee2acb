//! Table tests of the HPA controller as a pure reconcile: a snapshot and
//! fake metrics in, writes and events out, in upstream's wording.

use super::*;
use crate::sim::controllers::testutil::t0;
use std::sync::Arc;

struct FakeMetrics(BTreeMap<String, u64>);

impl MetricsSource for FakeMetrics {
    fn pod_usage(&self, _ns: &str, pod: &str) -> Option<Vec<ContainerMetric>> {
        self.0.get(pod).map(|cpu| {
            vec![ContainerMetric {
                name: "app".into(),
                cpu_millis: *cpu,
                memory_bytes: 64 * 1024 * 1024,
            }]
        })
    }
}

fn hpa(min: i64, max: i64, target: i64) -> Value {
    json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default", "uid": "hpa-uid"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": target}}}]
        }
    })
}

fn deployment(replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}}
    })
}

fn pod(name: &str, cpu_request: Option<&str>) -> Value {
    let resources = match cpu_request {
        Some(r) => json!({"requests": {"cpu": r}}),
        None => json!({}),
    };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("{name}-uid"),
            "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx", "resources": resources}]},
        "status": {"phase": "Running", "startTime": "2025-05-01T09:00:00Z",
            "conditions": [{"type": "Ready", "status": "True",
                "lastTransitionTime": "2025-05-01T09:00:05Z"}]}
    })
}

fn snapshot(objects: Vec<(ResKey, Value)>) -> Snapshot {
    Snapshot::from_objects(objects)
}

fn controller(usage: &[(&str, u64)]) -> HpaController {
    HpaController::new(Arc::new(FakeMetrics(
        usage.iter().map(|(p, c)| (p.to_string(), *c)).collect(),
    )))
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

fn events(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Event(e) => Some((e.reason.clone(), e.message.clone())),
            _ => None,
        })
        .collect()
}

fn status_patch(actions: &[Action]) -> Option<Value> {
    actions.iter().find_map(|a| match a {
        Action::Patch {
            patch,
            status: true,
            ..
        } => Some(patch["status"].clone()),
        _ => None,
    })
}

fn scale_to(actions: &[Action]) -> Option<i64> {
    actions.iter().find_map(|a| match a {
        Action::Patch {
            patch,
            status: false,
            res,
            ..
        } if *res == res::DEPLOYMENTS => patch.pointer("/spec/replicas").and_then(Value::as_i64),
        _ => None,
    })
}

fn cond<'a>(status: &'a Value, ty: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == ty))
        .unwrap_or(&Value::Null)
}

#[test]
fn a_container_without_a_cpu_request_leaves_the_target_unknown() {
    let snap = snapshot(vec![
        (HPAS, hpa(1, 5, 50)),
        (res::DEPLOYMENTS, deployment(1)),
        (res::PODS, pod("web-1", None)),
    ]);
    let out = controller(&[("web-1", 3)]).reconcile(&snap, &key(), t0());
    assert_eq!(out.requeue_after, Some(SignedDuration::from_secs(15)));
    assert_eq!(
        events(&out.actions),
        [
            (
                "FailedGetResourceMetric".to_string(),
                "failed to get cpu utilization: missing request for cpu in container app of Pod web-1".to_string()
            ),
            (
                "FailedComputeMetricsReplicas".to_string(),
                "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: missing request for cpu in container app of Pod web-1".to_string()
            ),
        ]
    );
    let status = status_patch(&out.actions).expect("status written");
    assert_eq!(status["currentReplicas"], 1);
    assert!(status.get("currentMetrics").is_none(), "{status}");
    assert_eq!(
        cond(&status, "ScalingActive")["message"],
        "the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container app of Pod web-1"
    );
    assert_eq!(cond(&status, "AbleToScale")["reason"], "SucceededGetScale");
    assert_eq!(scale_to(&out.actions), None);
}

#[test]
fn usage_over_target_scales_up_by_the_ratio() {
    let snap = snapshot(vec![
        (HPAS, hpa(1, 10, 50)),
        (res::DEPLOYMENTS, deployment(2)),
        (res::PODS, pod("web-1", Some("200m"))),
        (res::PODS, pod("web-2", Some("200m"))),
    ]);
    // 170m of 200m each: 85% against 50% → ceil(2 × 1.7) = 4.
    let out = controller(&[("web-1", 170), ("web-2", 170)]).reconcile(&snap, &key(), t0());
    assert_eq!(scale_to(&out.actions), Some(4));
    assert_eq!(
        events(&out.actions),
        [(
            "SuccessfulRescale".to_string(),
            "New size: 4; reason: cpu resource utilization (percentage of request) above target"
                .to_string()
        )]
    );
    let status = status_patch(&out.actions).expect("status written");
    assert_eq!(status["currentReplicas"], 2);
    assert_eq!(status["desiredReplicas"], 4);
    assert_eq!(
        status["currentMetrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": 85, "averageValue": "170m"}}}])
    );
    assert_eq!(cond(&status, "AbleToScale")["reason"], "SucceededRescale");
    assert_eq!(
        cond(&status, "AbleToScale")["message"],
        "the HPA controller was able to update the target scale to 4"
    );
    assert_eq!(
        cond(&status, "ScalingActive")["message"],
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
    );
    assert_eq!(
        cond(&status, "ScalingLimited")["reason"],
        "DesiredWithinRange"
    );
    assert_eq!(status["lastScaleTime"], format_time(t0()));
}

#[test]
fn a_large_jump_is_held_to_the_scale_up_limit_and_max() {
    let snap = snapshot(vec![
        (HPAS, hpa(1, 10, 50)),
        (res::DEPLOYMENTS, deployment(1)),
        (res::PODS, pod("web-1", Some("100m"))),
    ]);
    let out = controller(&[("web-1", 1000)]).reconcile(&snap, &key(), t0());
    assert_eq!(scale_to(&out.actions), Some(4));
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(cond(&status, "ScalingLimited")["status"], "True");
    assert_eq!(cond(&status, "ScalingLimited")["reason"], "ScaleUpLimit");

    let snap = snapshot(vec![
        (HPAS, hpa(1, 3, 50)),
        (res::DEPLOYMENTS, deployment(2)),
        (res::PODS, pod("web-1", Some("100m"))),
        (res::PODS, pod("web-2", Some("100m"))),
    ]);
    let out = controller(&[("web-1", 1000), ("web-2", 1000)]).reconcile(&snap, &key(), t0());
    assert_eq!(scale_to(&out.actions), Some(3));
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(cond(&status, "ScalingLimited")["reason"], "TooManyReplicas");
    assert_eq!(
        cond(&status, "ScalingLimited")["message"],
        "the desired replica count is more than the maximum replica count"
    );
}

#[test]
fn scale_down_waits_out_the_stabilization_window_and_tolerance_holds_steady() {
    let objects = |replicas| {
        let mut v = vec![
            (HPAS, hpa(1, 10, 50)),
            (res::DEPLOYMENTS, deployment(replicas)),
        ];
        for i in 1..=replicas {
            v.push((res::PODS, pod(&format!("web-{i}"), Some("100m"))));
        }
        v
    };
    let c = controller(&[("web-1", 5), ("web-2", 5), ("web-3", 5), ("web-4", 5)]);
    // The first sync remembers 4 as a recent recommendation.
    let out = c.reconcile(&snapshot(objects(4)), &key(), t0());
    assert_eq!(scale_to(&out.actions), None);
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(
        cond(&status, "AbleToScale")["reason"],
        "ScaleDownStabilized"
    );
    // Five minutes on, the low recommendation wins: 5% of 50% → 1 pod.
    let later = t0() + SignedDuration::from_secs(301);
    let out = c.reconcile(&snapshot(objects(4)), &key(), later);
    assert_eq!(scale_to(&out.actions), Some(1));
    assert_eq!(
        events(&out.actions),
        [(
            "SuccessfulRescale".to_string(),
            "New size: 1; reason: All metrics below target".to_string()
        )]
    );
    // 52% of 50% is inside the 10% tolerance: no change.
    let c = controller(&[("web-1", 52)]);
    let out = c.reconcile(&snapshot(objects(1)), &key(), t0());
    assert_eq!(scale_to(&out.actions), None);
    assert_eq!(events(&out.actions), []);
}

#[test]
fn a_missing_target_is_reported_and_the_status_settles() {
    let snap = snapshot(vec![(HPAS, hpa(1, 5, 50))]);
    let c = controller(&[]);
    let out = c.reconcile(&snap, &key(), t0());
    assert_eq!(
        events(&out.actions),
        [(
            "FailedGetScale".to_string(),
            "deployments.apps \"web\" not found".to_string()
        )]
    );
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(
        cond(&status, "AbleToScale")["message"],
        "the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found"
    );
    // With that status stored, a second sync writes nothing new.
    let mut stored = hpa(1, 5, 50);
    stored["status"] = status;
    let snap = snapshot(vec![(HPAS, stored)]);
    let again = c.reconcile(&snap, &key(), t0() + SignedDuration::from_secs(15));
    assert_eq!(status_patch(&again.actions), None);
}
