//! The DefaultIngressClass admission plugin
//! (`plugin/pkg/admission/network/defaultingressclass`): an Ingress created
//! with neither `spec.ingressClassName` nor the legacy
//! `kubernetes.io/ingress.class` annotation gets the name of the IngressClass
//! annotated `ingressclass.kubernetes.io/is-default-class: "true"`; with
//! several, the newest (then the first by name).

use crate::api::pointer::Pointer;
use crate::store::{ResKey, Store};
use serde_json::{Value, json};

const INGRESS_CLASSES: ResKey = ResKey {
    group: "networking.k8s.io",
    resource: "ingressclasses",
};
const IS_DEFAULT: &str = "ingressclass.kubernetes.io/is-default-class";
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The default class among `classes`, if any.
pub fn default_class(classes: &[std::sync::Arc<Value>]) -> Option<String> {
    let mut defaults: Vec<(&str, &str)> = classes
        .iter()
        .filter(|c| {
            c.get_in(&["metadata", "annotations"])
                .and_then(|a| a.get(IS_DEFAULT))
                .and_then(Value::as_str)
                == Some("true")
        })
        .map(|c| {
            let s = |p: &str| c.at(p).and_then(Value::as_str).unwrap_or("");
            (s("/metadata/creationTimestamp"), s("/metadata/name"))
        })
        .collect();
    // Newest first; RFC 3339 UTC timestamps sort as strings.
    defaults.sort_by(|a, b| b.0.cmp(a.0).then(a.1.cmp(b.1)));
    defaults.first().map(|(_, n)| n.to_string())
}

/// Sets the default class on an Ingress being created.
pub fn admit(store: &Store, ing: &mut Value) {
    if ing
        .get_in(&["spec", "ingressClassName"])
        .is_some_and(|c| !c.is_null())
        || ing
            .get_in(&["metadata", "annotations"])
            .and_then(|a| a.get(CLASS_ANNOTATION))
            .is_some()
    {
        return;
    }
    let (classes, _) = store.list(INGRESS_CLASSES, None);
    if let Some(name) = default_class(&classes) {
        if !ing.get("spec").is_some_and(Value::is_object) {
            ing["spec"] = json!({});
        }
        ing["spec"]["ingressClassName"] = json!(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn class(name: &str, created: &str, default: Option<&str>) -> Arc<Value> {
        let mut c = json!({"metadata": {"name": name, "creationTimestamp": created}});
        if let Some(d) = default {
            c["metadata"]["annotations"] = json!({IS_DEFAULT: d});
        }
        Arc::new(c)
    }

    #[test]
    fn newest_default_class_wins() {
        let cases = [
            (vec![class("nginx", "2026-01-01T00:00:00Z", None)], None),
            (
                vec![class("nginx", "2026-01-01T00:00:00Z", Some("false"))],
                None,
            ),
            (
                vec![class("nginx", "2026-01-01T00:00:00Z", Some("true"))],
                Some("nginx"),
            ),
            (
                vec![
                    class("old", "2026-01-01T00:00:00Z", Some("true")),
                    class("new", "2026-02-01T00:00:00Z", Some("true")),
                ],
                Some("new"),
            ),
            (
                vec![
                    class("b", "2026-01-01T00:00:00Z", Some("true")),
                    class("a", "2026-01-01T00:00:00Z", Some("true")),
                ],
                Some("a"),
            ),
        ];
        for (classes, want) in cases {
            assert_eq!(default_class(&classes).as_deref(), want);
        }
    }
}
