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
    // The failed metric's status is empty (horizontal.go
    // setCurrentReplicasAndMetricsInStatus, kubernetes#121039).
    assert_eq!(status["currentMetrics"], json!([{"type": ""}]), "{status}");
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

fn hpa_with(metrics: Value) -> Value {
    let mut h = hpa(1, 5, 50);
    h["spec"]["metrics"] = metrics;
    h
}

/// The events, the ScalingActive condition and the aggregate event of one
/// failed sync with a single metric.
fn failure(metrics: Value) -> (Vec<(String, String)>, Value) {
    let snap = snapshot(vec![
        (HPAS, hpa_with(metrics)),
        (res::DEPLOYMENTS, deployment(1)),
        (res::PODS, pod("web-1", Some("100m"))),
    ]);
    let out = controller(&[("web-1", 50)]).reconcile(&snap, &key(), t0());
    let status = status_patch(&out.actions).expect("status written");
    assert_eq!(scale_to(&out.actions), None);
    (events(&out.actions), cond(&status, "ScalingActive").clone())
}

// Without a custom metrics adapter (kind, minikube) the custom metrics
// client finds no custom.metrics.k8s.io group in discovery
// (k8s.io/metrics/pkg/client/custom_metrics/discovery.go), the REST metrics
// client prefixes "unable to fetch metrics from custom metrics API"
// (pkg/controller/podautoscaler/metrics/client.go), the replica calculator
// "unable to get metric <name>" (replica_calculator.go GetMetricReplicas),
// and computeReplicasForMetric "failed to get pods metric value"
// (horizontal.go).
#[test]
fn a_pods_metric_without_a_custom_metrics_adapter_fails_as_upstream() {
    let (events, active) = failure(json!([{"type": "Pods", "pods": {
        "metric": {"name": "packets-per-second"},
        "target": {"type": "AverageValue", "averageValue": "1k"}}}]));
    let raw = "unable to get metric packets-per-second: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered";
    assert_eq!(
        events,
        [
            ("FailedGetPodsMetric".to_string(), raw.to_string()),
            (
                "FailedComputeMetricsReplicas".to_string(),
                format!(
                    "invalid metrics (1 invalid out of 1), first error is: failed to get pods metric value: {raw}"
                )
            ),
        ]
    );
    assert_eq!(active["status"], "False");
    assert_eq!(active["reason"], "FailedGetPodsMetric");
    assert_eq!(
        active["message"],
        format!("the HPA was unable to compute the replica count: {raw}")
    );
}

// replica_calculator.go GetObjectMetricReplicas / GetObjectPerPodMetricReplicas:
// fmt.Errorf("unable to get metric %s: %v on %s %s/%s", metricName,
// objectRef.Kind, namespace, objectRef.Name, err) — the arguments are out of
// order upstream, so the kind follows the colon and the error comes last.
#[test]
fn an_object_metric_without_a_custom_metrics_adapter_keeps_upstreams_argument_order() {
    let object = |target: Value| {
        json!([{"type": "Object", "object": {
            "metric": {"name": "requests-per-second"},
            "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main-route"},
            "target": target}}])
    };
    let raw = "unable to get metric requests-per-second: Ingress on default main-route/unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered";
    let (events, active) = failure(object(json!({"type": "Value", "value": "10k"})));
    assert_eq!(
        events,
        [
            ("FailedGetObjectMetric".to_string(), raw.to_string()),
            (
                "FailedComputeMetricsReplicas".to_string(),
                format!(
                    "invalid metrics (1 invalid out of 1), first error is: failed to get object metric value: {raw}"
                )
            ),
        ]
    );
    assert_eq!(
        active["message"],
        format!("the HPA was unable to compute the replica count: {raw}")
    );
    // An AverageValue target adds computeStatusForObjectMetric's own prefix
    // to the returned error only.
    let (events, _) = failure(object(
        json!({"type": "AverageValue", "averageValue": "1k"}),
    ));
    assert_eq!(events[0].1, raw);
    assert_eq!(
        events[1].1,
        format!(
            "invalid metrics (1 invalid out of 1), first error is: failed to get object metric value: failed to get requests-per-second object metric: {raw}"
        )
    );
}

// The external metrics client has no discovery step: its GET reaches the
// apiserver, which has no external.metrics.k8s.io group, and client-go
// reports the 404 as "the server could not find the requested resource
// (get <metric>.external.metrics.k8s.io)"; the replica calculator formats
// "unable to get external metric %s/%s/%+v: %s" with the *LabelSelector
// (replica_calculator.go GetExternalPerPodMetricReplicas), as seen on
// clusters without an adapter (kubernetes-sigs/prometheus-adapter#642).
#[test]
fn an_external_metric_without_an_adapter_is_not_found() {
    let (events, active) = failure(json!([{"type": "External", "external": {
        "metric": {"name": "queue_messages_ready",
            "selector": {"matchLabels": {"queue": "worker_tasks"}}},
        "target": {"type": "AverageValue", "averageValue": "30"}}}]));
    let raw = "unable to get external metric default/queue_messages_ready/&LabelSelector{MatchLabels:map[string]string{queue: worker_tasks,},MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from external metrics API: the server could not find the requested resource (get queue_messages_ready.external.metrics.k8s.io)";
    assert_eq!(
        events,
        [
            ("FailedGetExternalMetric".to_string(), raw.to_string()),
            (
                "FailedComputeMetricsReplicas".to_string(),
                format!(
                    "invalid metrics (1 invalid out of 1), first error is: failed to get queue_messages_ready external metric value: failed to get queue_messages_ready external metric: {raw}"
                )
            ),
        ]
    );
    assert_eq!(active["reason"], "FailedGetExternalMetric");
    // A Value target without a selector.
    let (events, _) = failure(json!([{"type": "External", "external": {
        "metric": {"name": "queue_messages_ready"},
        "target": {"type": "Value", "value": "30"}}}]));
    let raw = "unable to get external metric default/queue_messages_ready/nil: unable to fetch metrics from external metrics API: the server could not find the requested resource (get queue_messages_ready.external.metrics.k8s.io)";
    assert_eq!(events[0].1, raw);
    assert_eq!(
        events[1].1,
        format!(
            "invalid metrics (1 invalid out of 1), first error is: failed to get queue_messages_ready external metric value: failed to get external metric queue_messages_ready: {raw}"
        )
    );
}

// ContainerResource metrics come from metrics-server like Resource ones
// (computeStatusForContainerResourceMetric), narrowed to one container.
#[test]
fn a_container_resource_metric_scales_on_that_container_alone() {
    let metric = |container: &str| {
        json!([{"type": "ContainerResource", "containerResource": {"name": "cpu",
            "container": container,
            "target": {"type": "Utilization", "averageUtilization": 50}}}])
    };
    let snap = snapshot(vec![
        (HPAS, hpa_with(metric("app"))),
        (res::DEPLOYMENTS, deployment(1)),
        (res::PODS, pod("web-1", Some("100m"))),
    ]);
    let out = controller(&[("web-1", 100)]).reconcile(&snap, &key(), t0());
    assert_eq!(scale_to(&out.actions), Some(2));
    assert_eq!(
        events(&out.actions),
        [(
            "SuccessfulRescale".to_string(),
            "New size: 2; reason: cpu container resource utilization (percentage of request) above target".to_string()
        )]
    );
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(
        status["currentMetrics"],
        json!([{"type": "ContainerResource", "containerResource": {"name": "cpu",
            "container": "app", "current": {"averageUtilization": 100, "averageValue": "100m"}}}])
    );
    // metrics/client.go getContainerMetrics: a pod without the container.
    let (events, active) = failure(metric("sidecar"));
    let raw = "failed to get cpu utilization: unable to get metrics for resource cpu: failed to get container metrics: container sidecar not present in metrics for pod default/web-1";
    assert_eq!(
        events,
        [
            (
                "FailedGetContainerResourceMetric".to_string(),
                raw.to_string()
            ),
            (
                "FailedComputeMetricsReplicas".to_string(),
                format!(
                    "invalid metrics (1 invalid out of 1), first error is: failed to get sidecar container metric value: {raw}"
                )
            ),
        ]
    );
    assert_eq!(active["reason"], "FailedGetContainerResourceMetric");
}

// horizontal.go computeStatusForResourceMetricGeneric: an AverageValue
// target fails with "failed to get <resource> usage".
#[test]
fn an_average_value_target_reports_usage_not_utilization() {
    let (events, _) = failure(json!([{"type": "Resource", "resource": {"name": "gpu",
        "target": {"type": "AverageValue", "averageValue": "1"}}}]));
    assert_eq!(
        events[0],
        (
            "FailedGetResourceMetric".to_string(),
            "failed to get gpu usage: unable to get metrics for resource gpu: no metrics returned from resource metrics API".to_string()
        )
    );
}

// horizontal.go computeReplicasForMetrics: "If all metrics are invalid or
// some are invalid and we would scale down, return an error"; a scale-up
// from the valid metrics goes ahead.
#[test]
fn an_invalid_metric_blocks_a_scale_down_but_not_a_scale_up() {
    let metrics = json!([
        {"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 50}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps"},
            "target": {"type": "AverageValue", "averageValue": "10"}}}
    ]);
    let objects = |replicas: i64| {
        let mut v = vec![
            (HPAS, hpa_with(metrics.clone())),
            (res::DEPLOYMENTS, deployment(replicas)),
        ];
        for i in 1..=replicas {
            v.push((res::PODS, pod(&format!("web-{i}"), Some("100m"))));
        }
        v
    };
    // 10% of request against 50%: the cpu metric alone would scale 2 → 1.
    let out =
        controller(&[("web-1", 10), ("web-2", 10)]).reconcile(&snapshot(objects(2)), &key(), t0());
    assert_eq!(scale_to(&out.actions), None);
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(
        cond(&status, "ScalingActive")["reason"],
        "FailedGetPodsMetric"
    );
    // The statuses as computed, the failed metric's empty.
    assert_eq!(status["currentMetrics"][0]["type"], "Resource");
    assert_eq!(status["currentMetrics"][1], json!({"type": ""}));
    assert_eq!(
        events(&out.actions)[1].1,
        "invalid metrics (1 invalid out of 2), first error is: failed to get pods metric value: unable to get metric qps: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered"
    );
    // 100% against 50%: 1 → 2 goes ahead on the valid metric.
    let out = controller(&[("web-1", 100)]).reconcile(&snapshot(objects(1)), &key(), t0());
    assert_eq!(scale_to(&out.actions), Some(2));
    let status = status_patch(&out.actions).expect("status");
    assert_eq!(cond(&status, "ScalingActive")["reason"], "ValidMetricFound");
}
