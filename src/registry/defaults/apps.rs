//! apps/v1 defaults.
//!
//! Upstream truth: `pkg/apis/apps/v1/defaults.go` (`SetDefaults_Deployment`,
//! `SetDefaults_ReplicaSet`, `SetDefaults_StatefulSet`,
//! `SetDefaults_DaemonSet`), plus the core pod-template defaults.

use serde_json::{Value, json};

use super::{child, core, existing, pod, set_default, str_of};

pub fn deployment(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "replicas", json!(1));
        if let Some(strategy) = child(spec, "strategy") {
            set_default(strategy, "type", json!("RollingUpdate"));
            if str_of(strategy, "type") == Some("RollingUpdate")
                && let Some(ru) = child(strategy, "rollingUpdate")
            {
                set_default(ru, "maxUnavailable", json!("25%"));
                set_default(ru, "maxSurge", json!("25%"));
            }
        }
        set_default(spec, "revisionHistoryLimit", json!(10));
        set_default(spec, "progressDeadlineSeconds", json!(600));
    }
    pod::template_at(obj, &["spec", "template"]);
}

pub fn replica_set(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "replicas", json!(1));
    }
    pod::template_at(obj, &["spec", "template"]);
}

pub fn stateful_set(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        set_default(spec, "podManagementPolicy", json!("OrderedReady"));
        if let Some(us) = child(spec, "updateStrategy") {
            set_default(us, "type", json!("RollingUpdate"));
            if str_of(us, "type") == Some("RollingUpdate")
                && let Some(ru) = child(us, "rollingUpdate")
            {
                set_default(ru, "partition", json!(0));
            }
        }
        if let Some(p) = child(spec, "persistentVolumeClaimRetentionPolicy") {
            set_default(p, "whenDeleted", json!("Retain"));
            set_default(p, "whenScaled", json!("Retain"));
        }
        set_default(spec, "replicas", json!(1));
        set_default(spec, "revisionHistoryLimit", json!(10));
        if let Some(Value::Array(vcts)) = existing(spec, &["volumeClaimTemplates"]) {
            for t in vcts.iter_mut().filter(|t| t.is_object()) {
                set_default(t, "apiVersion", json!("v1"));
                set_default(t, "kind", json!("PersistentVolumeClaim"));
                core::pvc(t);
            }
        }
    }
    pod::template_at(obj, &["spec", "template"]);
}

pub fn daemon_set(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        if let Some(us) = child(spec, "updateStrategy") {
            set_default(us, "type", json!("RollingUpdate"));
            if str_of(us, "type") == Some("RollingUpdate")
                && let Some(ru) = child(us, "rollingUpdate")
            {
                set_default(ru, "maxUnavailable", json!(1));
                set_default(ru, "maxSurge", json!(0));
            }
        }
        set_default(spec, "revisionHistoryLimit", json!(10));
    }
    pod::template_at(obj, &["spec", "template"]);
}
