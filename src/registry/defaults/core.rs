//! Core-group defaults other than pods.
//!
//! Upstream truth: `pkg/apis/core/v1/defaults.go` (`SetDefaults_Service`,
//! `SetDefaults_Secret`, `SetDefaults_PersistentVolumeClaim`,
//! `SetDefaults_PersistentVolume`, `SetDefaults_Namespace`,
//! `SetDefaults_NamespaceStatus`, `SetDefaults_LimitRangeItem`,
//! `SetDefaults_Endpoints`, `SetDefaults_ReplicationController`) and
//! `pkg/registry/core/namespace/strategy.go` (the `kubernetes` finalizer).
//! Service `ipFamilyPolicy`/`ipFamilies` are set by the service REST
//! allocator upstream; here they get the single-stack IPv4 answer.

use crate::api::pointer::Pointer;
use serde_json::{Value, json};

use super::{child, each_item, existing, pod, set_default, str_of};

pub fn replication_controller(obj: &mut Value) {
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    set_default(spec, "replicas", json!(1));
    // SetDefaults_ReplicationController: selector and labels from the template.
    let tpl_labels = spec.get_in(&["template", "metadata", "labels"]).cloned();
    if let Some(labels) = tpl_labels.filter(|l| l.as_object().is_some_and(|m| !m.is_empty())) {
        if spec
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(|m| m.is_empty())
            && let Some(m) = spec.as_object_mut()
        {
            m.insert("selector".into(), labels.clone());
        }
        if let Some(meta) = child(obj, "metadata")
            && meta
                .get("labels")
                .and_then(Value::as_object)
                .is_none_or(|m| m.is_empty())
            && let Some(m) = meta.as_object_mut()
        {
            m.insert("labels".into(), labels);
        }
    }
    pod::template_at(obj, &["spec", "template"]);
}

pub fn service(obj: &mut Value) {
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    set_default(spec, "sessionAffinity", json!("None"));
    set_default(spec, "type", json!("ClusterIP"));
    let ty = str_of(spec, "type").unwrap_or("ClusterIP").to_string();
    each_item(spec, "ports", |p| {
        set_default(p, "protocol", json!("TCP"));
        if let Some(port) = p.get("port").cloned() {
            let empty = match p.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                _ => false,
            };
            if empty && let Some(m) = p.as_object_mut() {
                m.insert("targetPort".into(), port);
            }
        }
    });
    if str_of(spec, "sessionAffinity") == Some("ClientIP") {
        let cfg = child(spec, "sessionAffinityConfig").and_then(|c| child(c, "clientIP"));
        if let Some(c) = cfg {
            set_default(c, "timeoutSeconds", json!(10800));
        }
    }
    if ty == "ExternalName" {
        return;
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    let headless_no_selector = str_of(spec, "clusterIP") == Some("None")
        && spec
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(|m| m.is_empty());
    if headless_no_selector {
        // Headless without selector: upstream defaults to RequireDualStack /
        // [IPv4, IPv6] only on dual-stack clusters; a single-stack cluster
        // still reports SingleStack.
    }
    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
    set_default(spec, "ipFamilies", json!(["IPv4"]));
}

pub fn secret(obj: &mut Value) {
    if str_of(obj, "type").is_none_or(str::is_empty)
        && let Some(m) = obj.as_object_mut()
    {
        m.insert("type".into(), json!("Opaque"));
    }
}

pub fn pvc(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "volumeMode", json!("Filesystem"));
    }
    if let Some(status) = child(obj, "status") {
        set_default(status, "phase", json!("Pending"));
    }
}

pub fn pv(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
        set_default(spec, "volumeMode", json!("Filesystem"));
        if let Some(hp) = existing(spec, &["hostPath"]).filter(|h| h.is_object()) {
            set_default(hp, "type", json!(""));
        }
    }
    if let Some(status) = child(obj, "status") {
        set_default(status, "phase", json!("Pending"));
    }
}

pub fn namespace(obj: &mut Value) {
    let name = obj
        .get_in(&["metadata", "name"])
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(name) = name
        && let Some(meta) = child(obj, "metadata")
        && let Some(labels) = child(meta, "labels")
        && let Some(m) = labels.as_object_mut()
    {
        m.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = child(obj, "status") {
        set_default(status, "phase", json!("Active"));
    }
}

pub fn endpoints(obj: &mut Value) {
    each_item(obj, "subsets", |s| {
        each_item(s, "ports", |p| set_default(p, "protocol", json!("TCP")))
    });
}

/// `SetDefaults_LimitRangeItem`: for Container items, `default` comes from
/// `max`, and `defaultRequest` from `default` then `min`.
pub fn limit_range(obj: &mut Value) {
    let Some(spec) = existing(obj, &["spec"]) else {
        return;
    };
    each_item(spec, "limits", |item| {
        if str_of(item, "type") != Some("Container") {
            return;
        }
        let max = item
            .get("max")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(def) = child(item, "default") {
            for (k, v) in max {
                set_default(def, &k, v);
            }
        }
        let def = item
            .get("default")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let min = item
            .get("min")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(req) = child(item, "defaultRequest") {
            for (k, v) in def {
                set_default(req, &k, v);
            }
            for (k, v) in min {
                set_default(req, &k, v);
            }
        }
        for key in ["default", "defaultRequest"] {
            if item
                .get(key)
                .and_then(Value::as_object)
                .is_some_and(|m| m.is_empty())
                && let Some(m) = item.as_object_mut()
            {
                m.remove(key);
            }
        }
    });
}
