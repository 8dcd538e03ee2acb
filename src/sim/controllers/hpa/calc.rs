//! The replica calculator for Resource metrics (`replica_calculator.go`
//! and `metrics/utilization.go` upstream): pods grouped into ready,
//! unready and missing, requests summed per pod, the usage ratio against
//! the target, the 10% tolerance, and the rebalancing of unready and
//! missing pods that keeps a scale from flapping.

use super::super::podutil;
use crate::api::pointer::Pointer;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// `--horizontal-pod-autoscaler-tolerance`.
pub const TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-cpu-initialization-period`.
const CPU_INITIALIZATION: SignedDuration = SignedDuration::from_mins(5);
/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
const INITIAL_READINESS_DELAY: SignedDuration = SignedDuration::from_secs(30);
/// metrics-server's resolution (the metric's window).
const WINDOW: SignedDuration = SignedDuration::from_secs(15);

/// The resource a metric is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    Memory,
}

impl Resource {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cpu" => Some(Self::Cpu),
            "memory" => Some(Self::Memory),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Memory => "memory",
        }
    }
}

/// What the calculator proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub replicas: i64,
    /// Average utilization in percent of request (utilization targets).
    pub utilization: Option<i64>,
    /// Average raw value per pod, in milli-units.
    pub raw_milli: i64,
}

/// The milli-value of `resource` a pod's containers request (regular ones
/// and restartable init containers; only `container` for a
/// ContainerResource metric), or upstream's error naming the first
/// container without one (`calculatePodRequests`).
fn pod_request(pod: &Value, resource: Resource, container: Option<&str>) -> Result<i64, String> {
    let mut sum = 0i64;
    let regular = pod
        .get_in(&["spec", "containers"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let sidecars = pod
        .get_in(&["spec", "initContainers"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("restartPolicy").and_then(Value::as_str) == Some("Always"));
    let wanted =
        |c: &&Value| container.is_none_or(|n| c.get("name").and_then(Value::as_str) == Some(n));
    for c in regular.chain(sidecars).filter(wanted) {
        let q = c
            .at(&format!("/resources/requests/{}", resource.as_str()))
            .and_then(Value::as_str)
            .and_then(|q| crate::api::quantity::Quantity::parse(q).ok());
        match q {
            Some(q) => sum = sum.saturating_add(q.milli_value()),
            None => {
                return Err(format!(
                    "missing request for {} in container {} of Pod {}",
                    resource.as_str(),
                    c.get("name").and_then(Value::as_str).unwrap_or(""),
                    crate::api::meta::name(pod)
                ));
            }
        }
    }
    Ok(sum)
}

/// `groupPods`: (ready count, unready, missing, ignored).
fn group_pods(
    pods: &[&Value],
    metrics: &BTreeMap<String, i64>,
    resource: Resource,
    now: Timestamp,
) -> (usize, BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut ready = 0;
    let (mut unready, mut missing, mut ignored) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for pod in pods {
        let name = crate::api::meta::name(pod).to_string();
        let deleting = pod.get_in(&["metadata", "deletionTimestamp"]).is_some();
        if deleting || podutil::phase(pod) == "Failed" {
            ignored.insert(name);
            continue;
        }
        if podutil::phase(pod) == "Pending" {
            unready.insert(name);
            continue;
        }
        if !metrics.contains_key(&name) {
            missing.insert(name);
            continue;
        }
        if resource == Resource::Cpu {
            let cond = podutil::condition(pod, "Ready");
            let start = podutil::parse_time(pod.get_in(&["status", "startTime"]));
            let not_ready = match (cond, start) {
                (Some(c), Some(start)) => {
                    let is_false = c.get("status").and_then(Value::as_str) == Some("False");
                    let moved = podutil::parse_time(c.get("lastTransitionTime")).unwrap_or(start);
                    if start + CPU_INITIALIZATION > now {
                        // Within initialisation: unready, or ready for less than one
                        // metric window (the sample may predate readiness).
                        is_false || now < moved + WINDOW
                    } else {
                        // Never been ready.
                        is_false && start + INITIAL_READINESS_DELAY > moved
                    }
                }
                _ => true,
            };
            if not_ready {
                unready.insert(name);
                continue;
            }
        }
        ready += 1;
    }
    (ready, unready, missing, ignored)
}

/// `GetResourceUtilizationRatio`: (ratio, utilization %, raw average).
fn utilization_ratio(
    metrics: &BTreeMap<String, i64>,
    requests: &BTreeMap<String, i64>,
    target: i64,
) -> Result<(f64, i64, i64), String> {
    let (mut used, mut requested, mut n) = (0i64, 0i64, 0i64);
    for (pod, m) in metrics {
        if let Some(r) = requests.get(pod) {
            used = used.saturating_add(*m);
            requested = requested.saturating_add(*r);
            n += 1;
        }
    }
    if requested == 0 {
        return Err("no metrics returned matched known pods".into());
    }
    let utilization = used.saturating_mul(100) / requested;
    Ok((
        utilization as f64 / target.max(1) as f64,
        utilization,
        used / n.max(1),
    ))
}

/// `GetResourceReplicas` for a utilization target (percent of request), or
/// `GetRawResourceReplicas` for an average value target (`target_milli`);
/// `container` narrows the requests to one container (ContainerResource).
pub fn resource_replicas(
    current: i64,
    target: Target,
    resource: Resource,
    container: Option<&str>,
    pods: &[&Value],
    usage: &BTreeMap<String, i64>,
    now: Timestamp,
) -> Result<Proposal, String> {
    if usage.is_empty() {
        return Err(format!(
            "unable to get metrics for resource {}: no metrics returned from resource metrics API",
            resource.as_str()
        ));
    }
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".into());
    }
    let mut metrics: BTreeMap<String, i64> = pods
        .iter()
        .filter_map(|p| {
            let n = crate::api::meta::name(p);
            usage.get(n).map(|v| (n.to_string(), *v))
        })
        .collect();
    let (ready, unready, missing, ignored) = group_pods(pods, &metrics, resource, now);
    for p in ignored.iter().chain(&unready) {
        metrics.remove(p);
    }
    if metrics.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    let (ratio_of, requests) = match target {
        Target::Utilization(pct) => {
            let mut requests = BTreeMap::new();
            for p in pods {
                requests.insert(
                    crate::api::meta::name(p).to_string(),
                    pod_request(p, resource, container)?,
                );
            }
            (pct, requests)
        }
        Target::AverageMilli(v) => {
            // A raw target is a utilization of 100% against a "request" of v.
            let requests = pods
                .iter()
                .map(|p| (crate::api::meta::name(p).to_string(), v))
                .collect();
            (100, requests)
        }
    };
    let (ratio, utilization, raw) = utilization_ratio(&metrics, &requests, ratio_of)?;
    let util = matches!(target, Target::Utilization(_)).then_some(utilization);
    let proposal = |replicas| Proposal {
        replicas,
        utilization: util,
        raw_milli: raw,
    };
    let rebalance_unready = !unready.is_empty() && ratio > 1.0;
    if !rebalance_unready && missing.is_empty() {
        if (1.0 - ratio).abs() <= TOLERANCE {
            return Ok(proposal(current));
        }
        return Ok(proposal((ratio * ready as f64).ceil() as i64));
    }
    if !missing.is_empty() {
        for p in &missing {
            // Scale-down: missing pods count at 100% of request; scale-up: at 0%.
            let v = if ratio < 1.0 {
                requests.get(p).copied().unwrap_or(0)
            } else {
                0
            };
            metrics.insert(p.clone(), v);
        }
    }
    if rebalance_unready {
        for p in &unready {
            metrics.insert(p.clone(), 0);
        }
    }
    let (new_ratio, _, _) = utilization_ratio(&metrics, &requests, ratio_of)?;
    if (1.0 - new_ratio).abs() <= TOLERANCE
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(proposal(current));
    }
    let replicas = (new_ratio * metrics.len() as f64).ceil() as i64;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return Ok(proposal(current));
    }
    Ok(proposal(replicas))
}

/// A Resource metric's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `averageUtilization`, percent of request.
    Utilization(i64),
    /// `averageValue`, in milli-units.
    AverageMilli(i64),
}

/// `convertDesiredReplicasWithRules`: clamps to [min, max] and to the
/// scale-up limit (double, at least 4); the ScalingLimited reason and message.
pub fn clamp(current: i64, desired: i64, min: i64, max: i64) -> (i64, &'static str, &'static str) {
    let scale_up_limit = (current * 2).max(4);
    let (max_allowed, why, message) = if max > scale_up_limit {
        (
            scale_up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        (
            max,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    };
    if desired < min {
        return (
            min,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        );
    }
    if desired > max_allowed {
        return (max_allowed, why, message);
    }
    (
        desired,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
}
