//! Test support for controllers: applies actions to a snapshot the way the
//! runtime would (without a registry), so a test can check that reconcile
//! reaches a fixed point where it asks for nothing more.

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::event::EventSpec;
use crate::sim::runtime::{Action, Controller};
use crate::sim::snapshot::{ObjectKey, Snapshot, res};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

static NEXT_RV: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);

/// A fixed instant for tests.
pub fn t0() -> Timestamp {
    "2025-05-01T10:00:00Z".parse().expect("valid time")
}

/// Applies actions; returns the events they recorded (with the messages
/// completed as the runtime completes them).
pub fn apply(
    snap: &mut Snapshot,
    actions: &[Action],
    now: Timestamp,
    seq: &mut u64,
) -> Vec<EventSpec> {
    let mut events = Vec::new();
    for a in actions {
        // Resource versions only grow, across calls too.
        *seq = NEXT_RV.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let rv = seq.to_string();
        match a {
            Action::Create {
                res,
                namespace,
                object,
                on_created,
                ..
            } => {
                let mut o = object.clone();
                if meta::name(&o).is_empty() {
                    let prefix = o
                        .get_in(&["metadata", "generateName"])
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    meta::set_meta(&mut o, "name", format!("{prefix}{:05}", *seq));
                }
                meta::set_meta(&mut o, "namespace", namespace.clone());
                meta::set_meta(&mut o, "uid", format!("uid-{seq}"));
                meta::set_meta(&mut o, "resourceVersion", rv);
                meta::set_meta(&mut o, "creationTimestamp", format_time(now));
                if *res != res::PODS {
                    meta::set_meta(&mut o, "generation", 1);
                }
                if o.get("status").is_none() {
                    o["status"] = if *res == res::PODS {
                        json!({"phase": "Pending"})
                    } else {
                        json!({})
                    };
                }
                if let Some(mut ev) = on_created.clone() {
                    crate::sim::runtime::complete_created_event(&mut ev, &o);
                    events.push(ev);
                }
                snap.upsert(*res, Arc::new(o));
            }
            Action::Patch {
                res, key, patch, ..
            } => {
                if let Some(cur) = snap.get(*res, &key.namespace, &key.name) {
                    let mut o = (**cur).clone();
                    json_patch::merge(&mut o, patch);
                    meta::set_meta(&mut o, "resourceVersion", rv);
                    snap.upsert(*res, Arc::new(o));
                }
            }
            Action::Delete {
                res,
                key,
                on_deleted,
                ..
            } => {
                if let Some(cur) = snap.get(*res, &key.namespace, &key.name).cloned() {
                    let mut gone = (*cur).clone();
                    meta::set_meta(&mut gone, "resourceVersion", rv);
                    snap.remove(*res, &gone);
                }
                events.extend(on_deleted.clone());
            }
            Action::Bind {
                key,
                node,
                on_bound,
                ..
            } => {
                if let Some(cur) = snap.get(res::PODS, &key.namespace, &key.name) {
                    let mut o = (**cur).clone();
                    o["spec"]["nodeName"] = json!(node);
                    o["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": format_time(now)}]);
                    meta::set_meta(&mut o, "resourceVersion", rv);
                    snap.upsert(res::PODS, Arc::new(o));
                }
                events.extend(on_bound.clone());
            }
            Action::Event(e) => events.push(e.clone()),
        }
    }
    events
}

/// Reconciles and applies until reconcile asks for nothing (at most 20
/// rounds); returns every event recorded on the way. Panics when the
/// controller never settles: reconcile must be idempotent.
pub fn settle(
    c: &dyn Controller,
    snap: &mut Snapshot,
    key: &ObjectKey,
    now: Timestamp,
) -> Vec<EventSpec> {
    let mut seq = 0;
    let mut events = Vec::new();
    for _ in 0..20 {
        let out = c.reconcile(snap, key, now);
        if out.actions.is_empty() {
            return events;
        }
        events.extend(apply(snap, &out.actions, now, &mut seq));
    }
    panic!("{} did not settle for {key}", c.name());
}

/// `(reason, message)` of events, for assertions.
pub fn reasons(events: &[EventSpec]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (e.reason.clone(), e.message.clone()))
        .collect()
}

/// Stores an edited object as a client write would: a new resourceVersion.
pub fn put(snap: &mut Snapshot, r: crate::store::ResKey, mut obj: Value) {
    let rv = NEXT_RV.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    meta::set_meta(&mut obj, "resourceVersion", rv.to_string());
    snap.upsert(r, Arc::new(obj));
}
