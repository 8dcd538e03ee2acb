//! networking, autoscaling, storage and rbac defaults.
//!
//! Upstream truth: `pkg/apis/networking/v1/defaults.go`
//! (`SetDefaults_NetworkPolicyPort`, `SetDefaults_NetworkPolicy`),
//! `pkg/apis/autoscaling/v2/defaults.go` and `v1/defaults.go`,
//! `pkg/apis/storage/v1/defaults.go` (`SetDefaults_StorageClass`),
//! `pkg/apis/rbac/v1/defaults.go` (`SetDefaults_Subject`). Ingress has no
//! defaults in networking/v1 (pathType is required).

use serde_json::{Value, json};

use super::{child, each_item, existing, set_default, str_of};

pub fn network_policy(obj: &mut Value) {
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    for dir in ["ingress", "egress"] {
        each_item(spec, dir, |rule| {
            each_item(rule, "ports", |p| set_default(p, "protocol", json!("TCP")))
        });
    }
    if spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
    {
        let has_egress = spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let types = if has_egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
        if let Some(m) = spec.as_object_mut() {
            m.insert("policyTypes".into(), types);
        }
    }
}

pub fn ingress(_obj: &mut Value) {}

pub fn hpa(obj: &mut Value) {
    let v1 = str_of(obj, "apiVersion") == Some("autoscaling/v1");
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    set_default(spec, "minReplicas", json!(1));
    if v1 {
        return;
    }
    if spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
        && let Some(m) = spec.as_object_mut()
    {
        m.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    let Some(behavior) = child(spec, "behavior") else {
        return;
    };
    if let Some(up) = child(behavior, "scaleUp") {
        set_default(up, "stabilizationWindowSeconds", json!(0));
        set_default(up, "selectPolicy", json!("Max"));
        set_default(
            up,
            "policies",
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
    if let Some(down) = child(behavior, "scaleDown") {
        set_default(down, "stabilizationWindowSeconds", json!(300));
        set_default(down, "selectPolicy", json!("Max"));
        set_default(
            down,
            "policies",
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
}

pub fn storage_class(obj: &mut Value) {
    set_default(obj, "reclaimPolicy", json!("Delete"));
    set_default(obj, "volumeBindingMode", json!("Immediate"));
}

pub fn role_binding(obj: &mut Value) {
    if let Some(Value::Array(subjects)) = existing(obj, &["subjects"]) {
        for s in subjects.iter_mut().filter(|s| s.is_object()) {
            let group = match str_of(s, "kind") {
                Some("ServiceAccount") => "",
                Some("User" | "Group") => "rbac.authorization.k8s.io",
                _ => continue,
            };
            if str_of(s, "apiGroup").is_none_or(str::is_empty)
                && let Some(m) = s.as_object_mut()
            {
                m.insert("apiGroup".into(), json!(group));
            }
        }
    }
}
