//! admissionregistration.k8s.io/v1 defaults of the webhook configurations.
//!
//! Upstream truth: `pkg/apis/admissionregistration/v1/defaults.go`
//! (`SetDefaults_ValidatingWebhook`, `SetDefaults_MutatingWebhook`,
//! `SetDefaults_Rule`, `SetDefaults_ServiceReference`): failurePolicy
//! `Fail`, matchPolicy `Equivalent`, empty namespace and object selectors,
//! timeoutSeconds 10, reinvocationPolicy `Never` (mutating only), rule
//! scope `*`, service port 443. sideEffects and admissionReviewVersions
//! have no default in v1 (validation requires them).

use serde_json::{Value, json};

use super::{child, each_item, set_default};

/// Defaults of a ValidatingWebhookConfiguration (`mutating` false) or a
/// MutatingWebhookConfiguration.
pub fn webhook_configuration(obj: &mut Value, mutating: bool) {
    each_item(obj, "webhooks", |w| {
        set_default(w, "failurePolicy", json!("Fail"));
        set_default(w, "matchPolicy", json!("Equivalent"));
        set_default(w, "namespaceSelector", json!({}));
        set_default(w, "objectSelector", json!({}));
        set_default(w, "timeoutSeconds", json!(10));
        if mutating {
            set_default(w, "reinvocationPolicy", json!("Never"));
        }
        each_item(w, "rules", |r| set_default(r, "scope", json!("*")));
        if let Some(cc) = w.get_mut("clientConfig").filter(|c| c.is_object())
            && cc.get("service").is_some_and(Value::is_object)
            && let Some(svc) = child(cc, "service")
        {
            set_default(svc, "port", json!(443));
        }
    });
}
