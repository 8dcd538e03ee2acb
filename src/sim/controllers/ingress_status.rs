//! ingress-nginx's status sync (`internal/ingress/status/status.go`): the
//! leader writes the controller's address into
//! `status.loadBalancer.ingress` of every Ingress it owns.
//!
//! kind's manifest runs the controller with
//! `--publish-status-address=localhost`; a published address that is not
//! an IP goes into `hostname`, so kubectl's ADDRESS column shows
//! `localhost`. Only a running (Ready) controller pod writes; Ingresses the
//! controller does not own (another class, an unknown class) are never
//! touched and keep an empty ADDRESS. When the controller goes away the
//! last status stays (the shutdown clean-up is not modelled).

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::controllers::podutil;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::ingress::{IngressView, NAMESPACE};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, res as core_res};
use crate::store::ResKey;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The resources this controller reads besides pods.
pub mod res {
    use crate::store::ResKey;

    pub const INGRESSES: ResKey = ResKey {
        group: "networking.k8s.io",
        resource: "ingresses",
    };
    pub const INGRESSCLASSES: ResKey = ResKey {
        group: "networking.k8s.io",
        resource: "ingressclasses",
    };
}

/// `--publish-status-address` in kind's manifest.
pub const PUBLISH_STATUS_ADDRESS: &str = "localhost";

/// The controller's pod label (`app.kubernetes.io/component: controller`).
const COMPONENT_LABEL: &str = "app.kubernetes.io/component";

/// The status writer.
pub struct IngressStatusController;

/// `sliceToStatus`: an IP goes into `ip`, anything else into `hostname`.
pub fn published_status(address: &str) -> Value {
    if crate::api::cidr::parse_ip_sloppy(address).is_some() {
        json!([{"ip": address}])
    } else {
        json!([{"hostname": address}])
    }
}

/// Whether a Ready ingress-nginx controller pod runs.
fn controller_running(snap: &Snapshot) -> bool {
    snap.list(core_res::PODS, Some(NAMESPACE)).any(|p| {
        p.at(&format!(
            "/metadata/labels/{}",
            COMPONENT_LABEL.replace('/', "~1")
        ))
        .and_then(Value::as_str)
            == Some("controller")
            && p.get_in(&["metadata", "deletionTimestamp"]).is_none()
            && podutil::is_ready(p)
    })
}

/// The store's `Sync` event (component `nginx-ingress-controller`).
fn sync_event(ing: &Value) -> EventSpec {
    EventSpec {
        involved: ObjectRef {
            api_version: "networking.k8s.io/v1".into(),
            kind: "Ingress".into(),
            namespace: meta::namespace(ing).into(),
            name: meta::name(ing).into(),
            uid: meta::uid(ing).into(),
            field_path: None,
        },
        type_: EventType::Normal,
        reason: "Sync".into(),
        message: "Scheduled for sync".into(),
        component: "nginx-ingress-controller".into(),
        host: None,
    }
}

fn view(snap: &Snapshot) -> IngressView<'_> {
    let mut v = IngressView::new(Timestamp::UNIX_EPOCH);
    v.ingress_classes = snap.list(res::INGRESSCLASSES, None).map(|a| &**a).collect();
    v
}

impl Controller for IngressStatusController {
    fn name(&self) -> &'static str {
        "ingress-nginx-status"
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::INGRESSES, res::INGRESSCLASSES, core_res::PODS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        if r == res::INGRESSES {
            return vec![ObjectKey::of(obj)];
        }
        if !snap.holds_any(res::INGRESSES)
            || r == core_res::PODS && meta::namespace(obj) != NAMESPACE
        {
            return Vec::new();
        }
        snap.list(res::INGRESSES, None)
            .map(|i| ObjectKey::of(i))
            .collect()
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, _now: Timestamp) -> Reconciled {
        let Some(ing) = snap.get(res::INGRESSES, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        if ing.get_in(&["metadata", "deletionTimestamp"]).is_some()
            || !view(snap).owns(ing)
            || !controller_running(snap)
        {
            return Reconciled::none();
        }
        let want = published_status(PUBLISH_STATUS_ADDRESS);
        if ing.get_in(&["status", "loadBalancer", "ingress"]) == Some(&want) {
            return Reconciled::none();
        }
        // The store's add handler and then the update our status write
        // causes each record "Scheduled for sync": `(x2 over ...)`.
        let sync = Action::Event(sync_event(ing));
        Reconciled {
            actions: vec![
                sync.clone(),
                Action::Patch {
                    res: res::INGRESSES,
                    key: key.clone(),
                    patch: json!({"status": {"loadBalancer": {"ingress": want}}}),
                    status: true,
                },
                sync,
            ],
            requeue_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingress(name: &str, class: Option<&str>, status: Value) -> Value {
        let mut i = json!({"metadata": {"name": name, "namespace": "default"},
            "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
            "status": status});
        if let Some(c) = class {
            i["spec"]["ingressClassName"] = json!(c);
        }
        i
    }

    fn controller_pod(ready: bool) -> Value {
        json!({"metadata": {"name": "ingress-nginx-controller-abc", "namespace": NAMESPACE,
                "labels": {"app.kubernetes.io/component": "controller"}},
               "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
    }

    fn nginx_class() -> Value {
        json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}})
    }

    #[test]
    fn pod_writes_wake_every_ingress_only_from_the_controller_namespace() {
        let c = IngressStatusController;
        let ing = ingress("web", Some("nginx"), json!({}));
        let keys = |objs: Vec<(ResKey, Value)>, r: ResKey, obj: &Value| {
            c.keys_for(&Snapshot::from_objects(objs), r, obj)
        };
        let controller = controller_pod(true);
        let mut elsewhere = controller_pod(true);
        elsewhere["metadata"]["namespace"] = json!("default");
        // No Ingress held: nothing to publish.
        assert!(keys(vec![], core_res::PODS, &controller).is_empty());
        let held = vec![(res::INGRESSES, ing.clone())];
        assert_eq!(
            keys(held.clone(), core_res::PODS, &controller),
            [ObjectKey::of(&ing)]
        );
        assert!(keys(held.clone(), core_res::PODS, &elsewhere).is_empty());
        assert_eq!(keys(held, res::INGRESSES, &ing), [ObjectKey::of(&ing)]);
    }

    fn run(ing: Value, pod: Option<Value>) -> Vec<Value> {
        let mut objs = vec![
            (res::INGRESSES, ing.clone()),
            (res::INGRESSCLASSES, nginx_class()),
        ];
        if let Some(p) = pod {
            objs.push((core_res::PODS, p));
        }
        let snap = Snapshot::from_objects(objs);
        IngressStatusController
            .reconcile(&snap, &ObjectKey::of(&ing), Timestamp::UNIX_EPOCH)
            .actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Patch {
                    patch,
                    status: true,
                    ..
                } => Some(patch),
                Action::Event(e) => {
                    assert_eq!(
                        (e.reason.as_str(), e.message.as_str(), e.component.as_str()),
                        ("Sync", "Scheduled for sync", "nginx-ingress-controller")
                    );
                    None
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn owned_ingresses_get_localhost_when_the_controller_runs() {
        let want = json!({"status": {"loadBalancer": {"ingress": [{"hostname": "localhost"}]}}});
        type Case = (
            &'static str,
            Option<&'static str>,
            Value,
            Option<Value>,
            Vec<Value>,
        );
        let cases: Vec<Case> = vec![
            (
                "class nginx, controller ready",
                Some("nginx"),
                json!({}),
                Some(controller_pod(true)),
                vec![want.clone()],
            ),
            (
                "no class: kind's controller watches those",
                None,
                json!({}),
                Some(controller_pod(true)),
                vec![want.clone()],
            ),
            (
                "unknown class is ignored",
                Some("nginx-internal"),
                json!({}),
                Some(controller_pod(true)),
                vec![],
            ),
            (
                "controller not ready yet",
                Some("nginx"),
                json!({}),
                Some(controller_pod(false)),
                vec![],
            ),
            (
                "no add-on installed",
                Some("nginx"),
                json!({}),
                None,
                vec![],
            ),
            (
                "already published",
                Some("nginx"),
                json!({"loadBalancer": {"ingress": [{"hostname": "localhost"}]}}),
                Some(controller_pod(true)),
                vec![],
            ),
        ];
        for (name, class, status, pod, expected) in cases {
            assert_eq!(run(ingress("i", class, status), pod), expected, "{name}");
        }
    }

    #[test]
    fn ip_addresses_are_published_as_ip() {
        assert_eq!(
            published_status("172.18.0.2"),
            json!([{"ip": "172.18.0.2"}])
        );
        assert_eq!(
            published_status("localhost"),
            json!([{"hostname": "localhost"}])
        );
    }
}
