//! A pod's quality-of-service class, as upstream's `ComputePodQOS` and
//! `GetPodQOS` (pkg/apis/core/helper/qos) work it out: only cpu and memory
//! count, and only amounts above zero; requests and limits are summed over
//! the containers and init containers; Guaranteed needs every container
//! to limit both, and the sums of requests to equal the sums of limits.
//! (Pod-level resources, a later feature gate, are not modelled.)

use crate::api::quantity::parse_value;
use serde_json::Value;

/// The resources the class looks at.
const COMPUTE: [&str; 2] = ["cpu", "memory"];

/// `ComputePodQOS` of a pod `spec`.
pub fn compute(spec: &Value) -> &'static str {
    let mut requests: [Option<i128>; 2] = [None; 2];
    let mut limits: [Option<i128>; 2] = [None; 2];
    let mut guaranteed = true;
    let containers = ["containers", "initContainers"]
        .into_iter()
        .filter_map(|list| spec.get(list).and_then(Value::as_array))
        .flatten();
    for c in containers {
        let resources = c.get("resources");
        // The amount of `name` in `section`, when above zero.
        let positive = |section: &str, name: &str| {
            resources
                .and_then(|r| r.get(section))
                .and_then(|m| m.get(name))
                .and_then(|q| parse_value(q).ok())
                .map(|q| q.nanos())
                .filter(|n| *n > 0)
        };
        let mut limited = 0;
        for (i, name) in COMPUTE.into_iter().enumerate() {
            if let Some(n) = positive("requests", name) {
                requests[i] = Some(requests[i].unwrap_or(0).saturating_add(n));
            }
            if let Some(n) = positive("limits", name) {
                limited += 1;
                limits[i] = Some(limits[i].unwrap_or(0).saturating_add(n));
            }
        }
        if limited < COMPUTE.len() {
            guaranteed = false;
        }
    }
    let count = |sums: &[Option<i128>]| sums.iter().flatten().count();
    if count(&requests) == 0 && count(&limits) == 0 {
        return "BestEffort";
    }
    let matched = requests
        .iter()
        .zip(&limits)
        .all(|(req, lim)| req.is_none() || req == lim);
    if guaranteed && matched && count(&requests) == count(&limits) {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// `GetPodQOS`: the class the pod's status records (set when it was
/// created, and resources cannot move a pod to another class), else
/// [`compute`]'s.
pub fn of_pod(pod: &Value) -> &'static str {
    match pod
        .get("status")
        .and_then(|s| s.get("qosClass"))
        .and_then(Value::as_str)
    {
        Some("Guaranteed") => "Guaranteed",
        Some("Burstable") => "Burstable",
        Some("BestEffort") => "BestEffort",
        _ => compute(pod.get("spec").unwrap_or(&Value::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(containers: Value) -> &'static str {
        compute(&json!({ "containers": containers }))
    }

    #[test]
    fn the_class_follows_upstreams_compute_pod_qos() {
        assert_eq!(class(json!([{"name": "a"}])), "BestEffort");
        let g = json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}});
        assert_eq!(class(json!([{"name": "a", "resources": g}])), "Guaranteed");
        assert_eq!(
            class(json!([{"name": "a", "resources": {"requests": {"cpu": "100m"}}}])),
            "Burstable"
        );
        // Zero amounts count as unset.
        assert_eq!(
            class(json!([{"name": "a", "resources": {"requests": {"cpu": "0", "memory": "0"}}}])),
            "BestEffort"
        );
        // Only cpu and memory count.
        assert_eq!(
            class(
                json!([{"name": "a", "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1", "ephemeral-storage": "1Gi"}}}])
            ),
            "BestEffort"
        );
        let with_gpu = json!({"limits": {"cpu": "1", "memory": "1Gi", "hugepages-2Mi": "2Mi"}, "requests": {"cpu": "1", "memory": "1Gi", "hugepages-2Mi": "2Mi"}});
        assert_eq!(
            class(json!([{"name": "a", "resources": with_gpu}])),
            "Guaranteed"
        );
        // Every container must limit both.
        let only_cpu = json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1"}});
        assert_eq!(
            class(json!([{"name": "a", "resources": g}, {"name": "b", "resources": only_cpu}])),
            "Burstable"
        );
        assert_eq!(
            class(json!([{"name": "a", "resources": g}, {"name": "b"}])),
            "Burstable"
        );
        // Requests below limits.
        let under = json!({"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}});
        assert_eq!(
            class(json!([{"name": "a", "resources": under}])),
            "Burstable"
        );
        // Init containers count too.
        let spec = json!({"containers": [{"name": "a", "resources": g}],
                          "initContainers": [{"name": "i", "resources": {"requests": {"memory": "1Mi"}}}]});
        assert_eq!(compute(&spec), "Burstable");
    }

    #[test]
    fn a_pod_keeps_the_class_its_status_records() {
        let pod =
            json!({"spec": {"containers": [{"name": "a"}]}, "status": {"qosClass": "Burstable"}});
        assert_eq!(of_pod(&pod), "Burstable");
        let pod = json!({"spec": {"containers": [{"name": "a"}]}, "status": {}});
        assert_eq!(of_pod(&pod), "BestEffort");
        let pod = json!({"spec": {"containers": [{"name": "a"}]}, "status": {"qosClass": ""}});
        assert_eq!(of_pod(&pod), "BestEffort");
    }
}
