//! The HorizontalPodAutoscaler controller (`pkg/controller/podautoscaler`
//! upstream): every 15 seconds it reads the target's scale, asks the
//! resource metrics for the target's pods, proposes a replica count per
//! metric (the largest wins), applies the 5-minute scale-down
//! stabilization and the min/max/scale-up limits, rescales the target and
//! writes `status` (currentReplicas, desiredReplicas, currentMetrics,
//! lastScaleTime, the AbleToScale/ScalingActive/ScalingLimited conditions)
//! with upstream's reasons, messages and events (`SuccessfulRescale`,
//! `FailedGetResourceMetric`, `FailedComputeMetricsReplicas`,
//! `FailedGetScale`).
//!
//! Resource and ContainerResource metrics (cpu, memory; Utilization or
//! AverageValue targets) are modelled; Pods, Object and External metrics
//! report upstream's errors for a cluster without a custom or external
//! metrics adapter. `spec.behavior` policies are not modelled beyond
//! the default stabilization. autoscaling/v1 objects get their v1 status
//! fields (`currentCPUUtilizationPercentage`).
//!
//! The metrics come from a [`MetricsSource`] (the simulated kubelets, as
//! metrics-server would read them); the recommendations of the last five
//! minutes are kept in the controller, as upstream keeps them in memory.

pub mod calc;
#[cfg(test)]
mod tests;

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::quantity::Quantity;
use crate::api::selector::LabelSelector;
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use crate::store::ResKey;
use calc::{Resource, Target};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub const HPAS: ResKey = ResKey {
    group: "autoscaling",
    resource: "horizontalpodautoscalers",
};
const COMPONENT: &str = "horizontal-pod-autoscaler";
/// `--horizontal-pod-autoscaler-sync-period`.
const SYNC_PERIOD: SignedDuration = SignedDuration::from_secs(15);
/// `--horizontal-pod-autoscaler-downscale-stabilization`.
const DOWNSCALE_STABILIZATION: SignedDuration = SignedDuration::from_mins(5);

/// One container's use, as metrics-server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMetric {
    pub name: String,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

/// Where the controller reads pod metrics (metrics-server's PodMetrics).
pub trait MetricsSource: Send + Sync {
    /// The containers' use of a pod, or None when metrics-server has no
    /// sample for it (the pod is not running).
    fn pod_usage(&self, namespace: &str, pod: &str) -> Option<Vec<ContainerMetric>>;
}

/// The controller.
pub struct HpaController {
    metrics: Arc<dyn MetricsSource>,
    /// Recent (time, recommendation) per HPA, for scale-down stabilization.
    recommendations: Mutex<HashMap<ObjectKey, Vec<(Timestamp, i64)>>>,
}

impl HpaController {
    pub fn new(metrics: Arc<dyn MetricsSource>) -> Self {
        Self {
            metrics,
            recommendations: Mutex::new(HashMap::new()),
        }
    }

    /// `stabilizeRecommendation`: the highest recommendation of the last
    /// five minutes (the newest replaces an expired one).
    fn stabilize(&self, key: &ObjectKey, proposal: i64, now: Timestamp) -> i64 {
        let mut all = self
            .recommendations
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let recs = all.entry(key.clone()).or_default();
        let cutoff = now - DOWNSCALE_STABILIZATION;
        let mut best = proposal;
        let mut replaced = false;
        for rec in recs.iter_mut() {
            if rec.0 < cutoff {
                if !replaced {
                    *rec = (now, proposal);
                    replaced = true;
                }
            } else if rec.1 > best {
                best = rec.1;
            }
        }
        if !replaced {
            recs.push((now, proposal));
        }
        recs.retain(|r| r.0 >= cutoff);
        best
    }

    fn record_initial(&self, key: &ObjectKey, current: i64, now: Timestamp) {
        self.recommendations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_insert_with(|| vec![(now, current)]);
    }
}

/// A metric of the HPA's spec, in the v2 shape.
fn metric_specs(hpa: &Value) -> Vec<Value> {
    if let Some(m) = hpa.get_in(&["spec", "metrics"]).and_then(Value::as_array) {
        return m.clone();
    }
    // autoscaling/v1: targetCPUUtilizationPercentage (80 when unset).
    let target = hpa
        .get_in(&["spec", "targetCPUUtilizationPercentage"])
        .and_then(Value::as_i64)
        .unwrap_or(80);
    vec![json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": target}}})]
}

fn is_v1(hpa: &Value) -> bool {
    hpa.get("apiVersion").and_then(Value::as_str) == Some("autoscaling/v1")
}

/// The target's resource, or upstream's RESTMapping error.
fn target_res(api_version: &str, kind: &str) -> Result<ResKey, String> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match (group, kind) {
        ("apps", "Deployment") => Ok(res::DEPLOYMENTS),
        ("apps", "ReplicaSet") => Ok(res::REPLICASETS),
        ("apps", "StatefulSet") => Ok(res::STATEFULSETS),
        _ => Err(format!(
            "no matches for kind \"{kind}\" in group \"{group}\""
        )),
    }
}

/// `setConditionInList`: updates the condition of `ty` in place (appending
/// it when absent); the transition time moves only when the status does.
fn set_condition(
    conds: &mut Vec<Value>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    let i = match conds
        .iter()
        .position(|c| c.get("type").and_then(Value::as_str) == Some(ty))
    {
        Some(i) => i,
        None => {
            conds.push(json!({"type": ty}));
            conds.len() - 1
        }
    };
    let c = &mut conds[i];
    if c.get("status").and_then(Value::as_str) != Some(status) {
        c["lastTransitionTime"] = json!(now);
    }
    c["status"] = json!(status);
    c["reason"] = json!(reason);
    c["message"] = json!(message);
}

/// What one metric proposed.
struct MetricResult {
    replicas: i64,
    name: String,
    status: Value,
}

/// A metric that could not be computed (`getUnableComputeReplicaCountCondition`):
/// the reason of the event and of the ScalingActive condition, the error
/// both carry, and the error `computeReplicasForMetric` returns, which the
/// FailedComputeMetricsReplicas event quotes as the first error.
struct MetricError {
    reason: &'static str,
    error: String,
    returned: String,
}

impl MetricError {
    /// An error the compute function returns as it reported it, behind the
    /// metric type's prefix.
    fn new(reason: &'static str, error: String, prefix: &str) -> Self {
        let returned = format!("{prefix}{error}");
        Self {
            reason,
            error,
            returned,
        }
    }
}

/// What the custom metrics client answers when no adapter serves
/// `custom.metrics.k8s.io`: `apiVersionsFromDiscovery.fetchVersions`
/// (staging/src/k8s.io/metrics/pkg/client/custom_metrics/discovery.go)
/// behind `customMetricsClient`'s prefix (metrics/client.go).
const NO_CUSTOM_METRICS_API: &str = "unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered";

/// `%+v` of a `*metav1.LabelSelector` (its generated `String()`), as the
/// external metric errors print it.
fn go_label_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| s.is_object()) else {
        return "nil".into();
    };
    let mut labels: Vec<(&String, &Value)> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    let labels: String = labels
        .iter()
        .map(|(k, v)| format!("{k}: {},", v.as_str().unwrap_or("")))
        .collect();
    let exprs: String = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                s("key"),
                s("operator"),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )
}

impl HpaController {
    /// `computeStatusForResourceMetric` and, with `container`,
    /// `computeStatusForContainerResourceMetric` (both through
    /// `computeStatusForResourceMetricGeneric`).
    fn resource_metric(
        &self,
        spec: &Value,
        current: i64,
        pods: &[&Value],
        now: Timestamp,
    ) -> Result<MetricResult, MetricError> {
        let container_metric =
            spec.get("type").and_then(Value::as_str) == Some("ContainerResource");
        let source = if container_metric {
            spec.get("containerResource")
        } else {
            spec.get("resource")
        }
        .cloned()
        .unwrap_or(Value::Null);
        let name = source.get("name").and_then(Value::as_str).unwrap_or("");
        let container = container_metric.then(|| {
            source
                .get("container")
                .and_then(Value::as_str)
                .unwrap_or("")
        });
        let (reason, prefix) = match container {
            Some(c) => (
                "FailedGetContainerResourceMetric",
                format!("failed to get {c} container metric value: "),
            ),
            None => (
                "FailedGetResourceMetric",
                format!("failed to get {name} resource metric value: "),
            ),
        };
        let target = source.get("target").cloned().unwrap_or(Value::Null);
        let value_target = target
            .get("averageValue")
            .and_then(|v| crate::api::quantity::parse_value(v).ok())
            .map(|q| q.milli_value());
        let target = match (
            value_target,
            target.get("averageUtilization").and_then(Value::as_i64),
        ) {
            (Some(v), _) => Target::AverageMilli(v),
            (None, Some(u)) => Target::Utilization(u),
            (None, None) => {
                return Err(MetricError::new(
                    reason,
                    "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set".into(),
                    &prefix,
                ));
            }
        };
        // An average value target reads "usage", a utilization one
        // "utilization".
        let what = match target {
            Target::AverageMilli(_) => "usage",
            Target::Utilization(_) => "utilization",
        };
        let fail = |raw: String| {
            MetricError::new(
                reason,
                format!("failed to get {name} {what}: {raw}"),
                &prefix,
            )
        };
        let Some(resource) = Resource::parse(name) else {
            return Err(fail(format!(
                "unable to get metrics for resource {name}: no metrics returned from resource metrics API"
            )));
        };
        let mut usage: BTreeMap<String, i64> = BTreeMap::new();
        for p in pods {
            let Some(u) = self.metrics.pod_usage(meta::namespace(p), meta::name(p)) else {
                continue;
            };
            let of = |c: &ContainerMetric| match resource {
                Resource::Cpu => c.cpu_millis,
                Resource::Memory => c.memory_bytes.saturating_mul(1000),
            };
            let milli: u64 = match container {
                // `getContainerMetrics`: a pod without the container fails
                // the whole list.
                Some(c) => match u.iter().find(|m| m.name == c) {
                    Some(m) => of(m),
                    None => {
                        return Err(fail(format!(
                            "unable to get metrics for resource {name}: failed to get container metrics: container {c} not present in metrics for pod {}/{}",
                            meta::namespace(p),
                            meta::name(p)
                        )));
                    }
                },
                None => u.iter().map(of).sum(),
            };
            usage.insert(
                meta::name(p).to_string(),
                i64::try_from(milli).unwrap_or(i64::MAX),
            );
        }
        let proposal =
            calc::resource_replicas(current, target, resource, container, pods, &usage, now)
                .map_err(fail)?;
        let average = Quantity::from_millis(proposal.raw_milli).canonical();
        let current_status = match proposal.utilization {
            Some(pct) => json!({"averageUtilization": pct, "averageValue": average}),
            None => json!({"averageValue": average}),
        };
        let metric_name = match (proposal.utilization, container) {
            (Some(_), Some(_)) => {
                format!("{name} container resource utilization (percentage of request)")
            }
            (Some(_), None) => format!("{name} resource utilization (percentage of request)"),
            (None, _) => format!("{name} resource"),
        };
        let status = match container {
            Some(c) => json!({"type": "ContainerResource", "containerResource": {
                "name": name, "container": c, "current": current_status}}),
            None => json!({"type": "Resource", "resource": {
                "name": name, "current": current_status}}),
        };
        Ok(MetricResult {
            replicas: proposal.replicas,
            name: metric_name,
            status,
        })
    }

    /// `computeReplicasForMetric` for one spec. Pods and Object metrics
    /// need the custom metrics API and External metrics the external
    /// metrics API; no adapter serves either, so they fail as they do on a
    /// cluster without one (kind, minikube), with upstream's wrapping:
    /// `replica_calculator.go` (`GetMetricReplicas`, `GetObjectMetricReplicas`,
    /// `GetExternalMetricReplicas`) inside `horizontal.go`
    /// (`computeStatusFor{Pods,Object,External}Metric`, `computeReplicasForMetric`).
    fn metric(
        &self,
        spec: &Value,
        ns: &str,
        current: i64,
        pods: &[&Value],
        now: Timestamp,
    ) -> Result<MetricResult, MetricError> {
        let ty = spec.get("type").and_then(Value::as_str).unwrap_or("");
        let text = |path: &str| spec.at(path).and_then(Value::as_str).unwrap_or("");
        let has = |path: &str| spec.at(path).is_some_and(|v| !v.is_null());
        match ty {
            "Resource" | "ContainerResource" => self.resource_metric(spec, current, pods, now),
            "Pods" => {
                let name = text("/pods/metric/name");
                Err(MetricError::new(
                    "FailedGetPodsMetric",
                    format!("unable to get metric {name}: {NO_CUSTOM_METRICS_API}"),
                    "failed to get pods metric value: ",
                ))
            }
            "Object" => {
                let name = text("/object/metric/name");
                // Upstream's format string puts the object's kind where the
                // error belongs and the error last:
                // "unable to get metric %s: %v on %s %s/%s" with (metricName,
                // objectRef.Kind, namespace, objectRef.Name, err).
                let raw = format!(
                    "unable to get metric {name}: {} on {ns} {}/{NO_CUSTOM_METRICS_API}",
                    text("/object/describedObject/kind"),
                    text("/object/describedObject/name"),
                );
                let prefix = "failed to get object metric value: ";
                let target_type = text("/object/target/type");
                if target_type == "Value" && has("/object/target/value") {
                    Err(MetricError::new("FailedGetObjectMetric", raw, prefix))
                } else if target_type == "AverageValue" && has("/object/target/averageValue") {
                    let returned = format!("{prefix}failed to get {name} object metric: {raw}");
                    Err(MetricError {
                        reason: "FailedGetObjectMetric",
                        error: raw,
                        returned,
                    })
                } else {
                    Err(MetricError::new(
                        "FailedGetObjectMetric",
                        "invalid object metric source: neither a value target nor an average value target was set".into(),
                        prefix,
                    ))
                }
            }
            "External" => {
                let name = text("/external/metric/name");
                let prefix = format!("failed to get {name} external metric value: ");
                let raw = format!(
                    "unable to get external metric {ns}/{name}/{}: unable to fetch metrics from external metrics API: the server could not find the requested resource (get {name}.external.metrics.k8s.io)",
                    go_label_selector(spec.get_in(&["external", "metric", "selector"])),
                );
                let wrapped = if has("/external/target/averageValue") {
                    format!("failed to get {name} external metric: ")
                } else if has("/external/target/value") {
                    format!("failed to get external metric {name}: ")
                } else {
                    return Err(MetricError::new(
                        "FailedGetExternalMetric",
                        "invalid external metric source: neither a value target nor an average value target was set".into(),
                        &prefix,
                    ));
                };
                let returned = format!("{prefix}{wrapped}{raw}");
                Err(MetricError {
                    reason: "FailedGetExternalMetric",
                    error: raw,
                    returned,
                })
            }
            other => Err(MetricError::new(
                "InvalidMetricSourceType",
                format!("unknown metric source type {other:?}"),
                "",
            )),
        }
    }
}

impl Controller for HpaController {
    fn name(&self) -> &'static str {
        "horizontal-pod-autoscaler"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[
            HPAS,
            res::DEPLOYMENTS,
            res::REPLICASETS,
            res::STATEFULSETS,
            res::PODS,
        ]
    }

    /// Only HPA changes queue work; everything else is read on the
    /// 15-second resync, as upstream does.
    fn keys_for(&self, _snap: &Snapshot, res: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if res == HPAS {
            vec![ObjectKey::of(obj)]
        } else {
            Vec::new()
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(hpa) = snap.get(HPAS, &key.namespace, &key.name) else {
            self.recommendations
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(key);
            return Reconciled::none();
        };
        let mut out = Reconciled {
            actions: Vec::new(),
            requeue_after: Some(SYNC_PERIOD),
        };
        self.sync(snap, key, hpa, now, &mut out.actions);
        out
    }
}

impl HpaController {
    fn sync(
        &self,
        snap: &Snapshot,
        key: &ObjectKey,
        hpa: &Value,
        now: Timestamp,
        actions: &mut Vec<Action>,
    ) {
        let stamp = format_time(now);
        let event = |type_: EventType, reason: &str, message: String| {
            Action::Event(EventSpec {
                involved: ObjectRef::to(hpa),
                type_,
                reason: reason.into(),
                message,
                component: COMPONENT.into(),
                host: None,
            })
        };
        let old_status = hpa.get("status").cloned().unwrap_or_else(|| json!({}));
        let mut conditions: Vec<Value> = old_status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut set = |ty: &str, status: &str, reason: &str, message: String| {
            set_condition(&mut conditions, ty, status, reason, &message, &stamp);
        };
        let target_ref = hpa
            .get_in(&["spec", "scaleTargetRef"])
            .cloned()
            .unwrap_or(Value::Null);
        let s = |k: &str| {
            target_ref
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (api_version, kind, name) = (s("apiVersion"), s("kind"), s("name"));
        let target = target_res(&api_version, &kind).and_then(|r| {
            snap.get(r, &key.namespace, &name)
                .map(|t| (r, t.clone()))
                .ok_or_else(|| format!("{}.{} \"{name}\" not found", r.resource, r.group))
        });
        let (target_key, target) = match target {
            Ok(t) => t,
            Err(e) => {
                actions.push(event(EventType::Warning, "FailedGetScale", e.clone()));
                set(
                    "AbleToScale",
                    "False",
                    "FailedGetScale",
                    format!("the HPA controller was unable to get the target's current scale: {e}"),
                );
                self.write_status(hpa, key, &old_status, conditions, None, actions);
                return;
            }
        };
        set(
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale".into(),
        );
        let current = target
            .get_in(&["spec", "replicas"])
            .and_then(Value::as_i64)
            .unwrap_or(1);
        self.record_initial(key, current, now);
        let min = hpa
            .get_in(&["spec", "minReplicas"])
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let max = hpa
            .get_in(&["spec", "maxReplicas"])
            .and_then(Value::as_i64)
            .unwrap_or(min);
        let mut desired;
        let mut reason = String::new();
        let mut metric_statuses: Option<Vec<Value>> = None;
        let rescale;
        if current == 0 && min != 0 {
            desired = 0;
            rescale = false;
            set(
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero".into(),
            );
        } else if current > max {
            reason = "Current number of replicas above Spec.MaxReplicas".into();
            desired = max;
            rescale = true;
        } else if current < min {
            reason = "Current number of replicas below Spec.MinReplicas".into();
            desired = min;
            rescale = true;
        } else {
            let selector = target
                .get_in(&["spec", "selector"])
                .and_then(|s| LabelSelector::from_json(s).ok());
            let Some(selector) = selector else {
                let msg = "selector is required".to_string();
                actions.push(event(EventType::Warning, "SelectorRequired", msg));
                set(
                    "ScalingActive",
                    "False",
                    "InvalidSelector",
                    "the HPA target's scale is missing a selector".into(),
                );
                // setCurrentReplicasAndMetricsInStatus with no statuses.
                self.write_status(
                    hpa,
                    key,
                    &old_status,
                    conditions,
                    Some((current, None, Some((Vec::new(), None)))),
                    actions,
                );
                return;
            };
            let pods: Vec<&Value> = snap
                .list(res::PODS, Some(&key.namespace))
                .filter(|p| selector.matches(meta::labels(p)))
                .map(|p| p.as_ref())
                .collect();
            let specs = metric_specs(hpa);
            let mut best: Option<MetricResult> = None;
            let mut statuses = Vec::new();
            let mut first_error: Option<MetricError> = None;
            let mut invalid = 0;
            for spec in &specs {
                match self.metric(spec, &key.namespace, current, &pods, now) {
                    Ok(m) => {
                        statuses.push(m.status.clone());
                        if best.as_ref().is_none_or(|b| m.replicas > b.replicas) {
                            best = Some(m);
                        }
                    }
                    Err(e) => {
                        statuses.push(json!({"type": ""}));
                        actions.push(event(EventType::Warning, e.reason, e.error.clone()));
                        invalid += 1;
                        if first_error.is_none() {
                            first_error = Some(e);
                        }
                    }
                }
            }
            // `computeReplicasForMetrics`: all metrics invalid, or some
            // invalid and the valid ones would scale down, is a failure.
            let Some(best) =
                best.filter(|b| invalid < specs.len() && !(invalid > 0 && b.replicas < current))
            else {
                if let Some(e) = first_error {
                    set(
                        "ScalingActive",
                        "False",
                        e.reason,
                        format!(
                            "the HPA was unable to compute the replica count: {}",
                            e.error
                        ),
                    );
                    actions.push(event(
                        EventType::Warning,
                        "FailedComputeMetricsReplicas",
                        format!(
                            "invalid metrics ({invalid} invalid out of {}), first error is: {}",
                            specs.len(),
                            e.returned
                        ),
                    ));
                }
                // setCurrentReplicasAndMetricsInStatus (kubernetes#121039,
                // 1.29): the statuses as computed, a failed metric's empty.
                self.write_status(
                    hpa,
                    key,
                    &old_status,
                    conditions,
                    Some((current, None, Some((statuses, None)))),
                    actions,
                );
                return;
            };
            set(
                "ScalingActive",
                "True",
                "ValidMetricFound",
                format!(
                    "the HPA was able to successfully calculate a replica count from {}",
                    best.name
                ),
            );
            desired = best.replicas.max(0);
            if desired > current {
                reason = format!("{} above target", best.name);
            }
            if desired < current {
                reason = "All metrics below target".into();
            }
            // normalizeDesiredReplicas.
            let stabilized = self.stabilize(key, desired, now);
            if stabilized != desired {
                set(
                    "AbleToScale",
                    "True",
                    "ScaleDownStabilized",
                    "recent recommendations were higher than current one, applying the highest recent recommendation".into(),
                );
            } else {
                set(
                    "AbleToScale",
                    "True",
                    "ReadyForNewScale",
                    "recommended size matches current size".into(),
                );
            }
            let (clamped, why, message) = calc::clamp(current, stabilized, min, max);
            set(
                "ScalingLimited",
                if clamped == stabilized {
                    "False"
                } else {
                    "True"
                },
                why,
                message.into(),
            );
            desired = clamped;
            rescale = desired != current;
            metric_statuses = Some(statuses);
        }
        if rescale {
            actions.push(Action::Patch {
                res: target_key,
                key: ObjectKey::new(key.namespace.clone(), name.clone()),
                patch: json!({"spec": {"replicas": desired}}),
                status: false,
            });
            set(
                "AbleToScale",
                "True",
                "SucceededRescale",
                format!("the HPA controller was able to update the target scale to {desired}"),
            );
            actions.push(event(
                EventType::Normal,
                "SuccessfulRescale",
                format!("New size: {desired}; reason: {reason}"),
            ));
        } else {
            desired = current;
        }
        let last_scale = rescale.then(|| stamp.clone());
        self.write_status(
            hpa,
            key,
            &old_status,
            conditions,
            Some((
                current,
                Some(desired),
                metric_statuses.map(|m| (m, last_scale)),
            )),
            actions,
        );
    }

    /// `setStatus` + `updateStatusIfNeeded`: writes only what changed.
    #[allow(clippy::type_complexity)]
    fn write_status(
        &self,
        hpa: &Value,
        key: &ObjectKey,
        old: &Value,
        conditions: Vec<Value>,
        replicas: Option<(i64, Option<i64>, Option<(Vec<Value>, Option<String>)>)>,
        actions: &mut Vec<Action>,
    ) {
        let mut status = old.clone();
        if !status.is_object() {
            status = json!({});
        }
        if let Some((current, desired, metrics)) = replicas {
            status["currentReplicas"] = json!(current);
            status["desiredReplicas"] = json!(desired.unwrap_or_else(|| {
                old.get("desiredReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            }));
            if let Some((m, last_scale)) = metrics {
                // `setStatus` replaces the metrics; none leaves the field
                // out (a null in the merge patch removes a stored one).
                let mut put = |field: &str, v: Option<Value>| match v {
                    Some(v) => status[field] = v,
                    None if status.get(field).is_some() => status[field] = Value::Null,
                    None => {}
                };
                if is_v1(hpa) {
                    let cpu = m.iter().find_map(|s| {
                        (s.get_in(&["resource", "name"]).and_then(Value::as_str) == Some("cpu"))
                            .then(|| {
                                s.get_in(&["resource", "current", "averageUtilization"])
                                    .cloned()
                            })
                            .flatten()
                    });
                    put("currentCPUUtilizationPercentage", cpu);
                } else {
                    put("currentMetrics", (!m.is_empty()).then_some(Value::Array(m)));
                }
                if let Some(t) = last_scale {
                    status["lastScaleTime"] = json!(t);
                }
            }
        }
        if !is_v1(hpa) {
            status["conditions"] = Value::Array(conditions);
        }
        if status != *old {
            actions.push(Action::Patch {
                res: HPAS,
                key: key.clone(),
                patch: json!({"status": status}),
                status: true,
            });
        }
    }
}
