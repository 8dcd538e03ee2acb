//! The event recorder: turns an `EventSpec` into a core/v1 Event with
//! client-go's aggregation (`tools/record`): an event with the same
//! involved object, type, reason, message and source as an earlier one
//! bumps that Event's `count` and `lastTimestamp` instead of making a new
//! object. Names are `<object>.<hex nanoseconds>` as upstream's recorder
//! makes them; events about cluster-scoped objects live in `default`.
//! Like client-go's `EventCorrelator`, the recorder remembers the last
//! 4096 distinct events (`maxLruCacheEntries`, an LRU), so its memory stays
//! bounded however many pods come and go; an event older than that starts
//! a new Event object again, as it does upstream.

use super::event::EventSpec;
use super::snapshot::res;
use crate::api::meta;
use crate::registry::options::WriteOptions;
use crate::registry::{PatchType, Registry, lookup_res};
use crate::sim::clock::format_time;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

/// What makes two events "the same" (client-go's `getEventKey`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EventKey {
    involved: (String, String, String, String, String),
    field_path: Option<String>,
    type_: &'static str,
    reason: String,
    message: String,
    component: String,
    host: Option<String>,
}

impl EventKey {
    fn of(spec: &EventSpec) -> Self {
        let o = &spec.involved;
        Self {
            involved: (
                o.kind.clone(),
                o.namespace.clone(),
                o.name.clone(),
                o.uid.clone(),
                o.api_version.clone(),
            ),
            field_path: o.field_path.clone(),
            type_: spec.type_.as_str(),
            reason: spec.reason.clone(),
            message: spec.message.clone(),
            component: spec.component.clone(),
            host: spec.host.clone(),
        }
    }
}

/// client-go's `maxLruCacheEntries`.
const CACHE_ENTRIES: usize = 4096;

/// A map that keeps its `cap` most recently used entries.
struct Lru<K, V> {
    cap: usize,
    tick: u64,
    map: HashMap<K, (u64, V)>,
    order: BTreeMap<u64, K>,
}

impl<K: Clone + Eq + Hash, V> Lru<K, V> {
    fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            tick: 0,
            map: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn touch(&mut self, k: &K) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        let (used, v) = self.map.get_mut(k)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, k.clone());
        Some(v)
    }

    fn insert(&mut self, k: K, v: V) {
        if let Some(slot) = self.touch(&k) {
            *slot = v;
            return;
        }
        if self.map.len() >= self.cap
            && let Some((_, oldest)) = self.order.pop_first()
        {
            self.map.remove(&oldest);
        }
        self.order.insert(self.tick, k.clone());
        self.map.insert(k, (self.tick, v));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Records events through the registry.
pub struct Recorder {
    /// The Event (namespace, name) each key was last recorded as.
    seen: Lru<EventKey, (String, String)>,
    /// The last name suffix used per involved object (namespace, name), so
    /// a burst of events at one instant (a ReplicaSet creating 500 pods)
    /// does not probe every earlier name again. (Forgetting one only costs
    /// a probe: names already taken are skipped.)
    last_nanos: Lru<(String, String), i128>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            seen: Lru::new(CACHE_ENTRIES),
            last_nanos: Lru::new(CACHE_ENTRIES),
        }
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one event; returns the stored Event.
    pub fn record(&mut self, registry: &Registry, spec: &EventSpec) -> Option<Arc<Value>> {
        self.record_at(registry, spec, registry.clock.now())
    }

    /// Records one event that happened at `now` (the kubelet catches up
    /// on timers that fired between two syncs).
    pub fn record_at(
        &mut self,
        registry: &Registry,
        spec: &EventSpec,
        now: jiff::Timestamp,
    ) -> Option<Arc<Value>> {
        let info = lookup_res(res::EVENTS)?;
        let stamp = format_time(now);
        let key = EventKey::of(spec);
        if let Some((ns, name)) = self.seen.touch(&key).cloned()
            && let Some(existing) = registry.get(info, &ns, &name)
        {
            let count = existing.get("count").and_then(Value::as_i64).unwrap_or(1) + 1;
            let patch = json!({"count": count, "lastTimestamp": stamp});
            if let Ok(w) = registry.patch(
                info,
                &ns,
                &name,
                PatchType::Merge,
                &patch,
                None,
                &WriteOptions::internal(),
            ) {
                return Some(w.object);
            }
        }
        let ns = if spec.involved.namespace.is_empty() {
            "default".to_string()
        } else {
            spec.involved.namespace.clone()
        };
        let mut nanos = now.as_nanosecond();
        let object = (ns.clone(), spec.involved.name.clone());
        if let Some(&mut last) = self.last_nanos.touch(&object)
            && nanos <= last
        {
            nanos = last + 1;
        }
        let mut name = format!("{}.{:x}", spec.involved.name, nanos.max(0));
        while registry.get(info, &ns, &name).is_some() {
            nanos += 1;
            name = format!("{}.{:x}", spec.involved.name, nanos.max(0));
        }
        self.last_nanos.insert(object, nanos);
        let body = event_body(spec, &ns, &name, &stamp);
        match registry.create(info, &ns, body, &WriteOptions::internal()) {
            Ok(w) => {
                self.seen
                    .insert(key, (ns, meta::name(&w.object).to_string()));
                Some(w.object)
            }
            Err(e) => {
                tracing::debug!("dropping event {}: {e}", spec.reason);
                None
            }
        }
    }
}

/// The v1 Event as client-go's `makeEvent` builds it.
fn event_body(spec: &EventSpec, ns: &str, name: &str, stamp: &str) -> Value {
    let o = &spec.involved;
    let mut involved = json!({"kind": o.kind, "name": o.name, "apiVersion": o.api_version});
    if !o.namespace.is_empty() {
        involved["namespace"] = json!(o.namespace);
    }
    if !o.uid.is_empty() {
        involved["uid"] = json!(o.uid);
    }
    if let Some(fp) = &o.field_path {
        involved["fieldPath"] = json!(fp);
    }
    let mut source = json!({"component": spec.component});
    if let Some(h) = &spec.host {
        source["host"] = json!(h);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": involved,
        "reason": spec.reason,
        "message": spec.message,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": spec.type_.as_str(),
        "eventTime": null,
        "reportingComponent": spec.component,
        "reportingInstance": spec.host.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_forgets_the_least_recently_used_entry() {
        let mut lru = Lru::new(2);
        lru.insert("a", 1);
        lru.insert("b", 2);
        // Using "a" makes "b" the oldest.
        assert_eq!(lru.touch(&"a").copied(), Some(1));
        lru.insert("c", 3);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.touch(&"b"), None);
        assert_eq!(lru.touch(&"a").copied(), Some(1));
        assert_eq!(lru.touch(&"c").copied(), Some(3));
        // Replacing a value keeps one entry.
        lru.insert("c", 4);
        assert_eq!((lru.len(), lru.touch(&"c").copied()), (2, Some(4)));
    }
}
