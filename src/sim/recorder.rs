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

mod correlator;
mod lru;

use super::event::{EventSpec, ObjectRef};
use super::snapshot::res;
use crate::api::meta;
use crate::api::object::{decimal, object, text};
use crate::registry::options::WriteOptions;
use crate::registry::packed_event::ServerMeta;
use crate::registry::{PatchType, Registry, lookup_res};
use crate::sim::clock::format_time;
use crate::store::Packer;
use lru::Lru;
use serde_json::{Value, json};
use std::sync::Arc;

/// What makes two events "the same" (client-go's `getEventKey`: involved
/// object, field path, type, reason, message and source), written into
/// `out` as bytes: each field length-prefixed (an absent optional one as a
/// lone 0), so two keys are equal exactly when all their fields are. The
/// caches look a key up by these borrowed bytes: no field is copied unless
/// a new key is kept.
fn event_key(spec: &EventSpec, out: &mut Vec<u8>) {
    let o = &spec.involved;
    out.clear();
    // Apart from the aggregator's keys, which share the cache.
    out.push(b'E');
    for f in [&o.kind, &o.namespace, &o.name, &o.uid, &o.api_version] {
        put(out, Some(f));
    }
    put(out, o.field_path.as_deref());
    put(out, Some(spec.type_.as_str()));
    put(out, Some(&spec.reason));
    put(out, Some(&spec.message));
    put(out, Some(&spec.component));
    put(out, spec.host.as_deref());
}

/// The involved object's (namespace, name) as key bytes.
fn object_key(ns: &str, name: &str, out: &mut Vec<u8>) {
    out.clear();
    put(out, Some(ns));
    put(out, Some(name));
}

fn put(out: &mut Vec<u8>, field: Option<&str>) {
    match field {
        None => out.push(0),
        Some(f) => {
            out.push(1);
            out.extend_from_slice(&(f.len() as u64).to_le_bytes());
            out.extend_from_slice(f.as_bytes());
        }
    }
}

/// client-go's `maxLruCacheEntries`.
const CACHE_ENTRIES: usize = 4096;

/// What the recorder remembers of an Event it recorded (client-go's
/// `eventLog`): where it is, how often it happened (also the occurrences
/// the spam filter kept from the server) and since when.
struct Seen {
    namespace: String,
    name: String,
    count: i64,
    first: jiff::Timestamp,
}

/// Records events through the registry.
pub struct Recorder {
    /// The Event each key ([`event_key`], or an aggregate key for the
    /// combined Events) was last recorded as.
    seen: Lru<[u8], Seen>,
    correlator: correlator::Correlator,
    /// The last name suffix used per involved object ([`object_key`]), so
    /// a burst of events at one instant (a ReplicaSet creating 500 pods)
    /// does not probe every earlier name again. (Forgetting one only costs
    /// a probe: names already taken are skipped.)
    last_nanos: Lru<[u8], i128>,
    /// Scratch space for the keys (reused: no allocation per event).
    key: Vec<u8>,
    object: Vec<u8>,
    spam_key: Vec<u8>,
    /// The last time formatted, and its text (events come in bursts at
    /// one instant of the virtual clock).
    stamp: Option<(jiff::Timestamp, String)>,
    /// The last `involvedObject` and `source` packed, for the next Event
    /// that has the same (a kubelet's events about one container come in
    /// a row).
    involved: Option<Kept<ObjectRef>>,
    source: Option<Kept<(String, Option<String>)>>,
}

/// A part of an Event kept for the next one: what it was written from,
/// and its packed form.
struct Kept<T> {
    of: T,
    packed: Arc<[u8]>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            seen: Lru::new(CACHE_ENTRIES),
            correlator: correlator::Correlator::default(),
            spam_key: Vec::new(),
            last_nanos: Lru::new(CACHE_ENTRIES),
            key: Vec::new(),
            object: Vec::new(),
            stamp: None,
            involved: None,
            source: None,
        }
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one event; returns the resourceVersion of the Event's
    /// write (none when it was not written: spam-filtered or refused).
    pub fn record(&mut self, registry: &Registry, spec: &EventSpec) -> Option<u64> {
        self.record_at(registry, spec, registry.clock.now())
    }

    /// `now` as an Event timestamp.
    fn stamp(&mut self, now: jiff::Timestamp) -> String {
        match &self.stamp {
            Some((t, s)) if *t == now => s.clone(),
            _ => {
                let s = format_time(now);
                self.stamp = Some((now, s.clone()));
                s
            }
        }
    }

    /// Records one event that happened at `now` (the kubelet catches up
    /// on timers that fired between two syncs), as client-go's
    /// `EventCorrelator` and `recordToSink` do: aggregated when similar
    /// events come often, counted when it happened before, and written
    /// unless the source has sent too many about the object lately.
    /// Returns the resourceVersion of the Event's write, if there was one.
    pub fn record_at(
        &mut self,
        registry: &Registry,
        spec: &EventSpec,
        now: jiff::Timestamp,
    ) -> Option<u64> {
        let stamp = self.stamp(now);
        let correlated = if correlator::correlates(spec) {
            correlator::spam_key(spec, &mut self.spam_key);
            self.correlator.correlate(&self.spam_key, spec, now)
        } else {
            correlator::Correlated {
                combined: false,
                write: true,
            }
        };
        let combined = correlated.combined;
        if combined {
            correlator::aggregate_key(spec, &mut self.key);
        } else {
            event_key(spec, &mut self.key);
        }
        // The logger counts every occurrence, written or not.
        let known = self.seen.touch(&self.key).map(|seen| {
            seen.count += 1;
            (
                seen.namespace.clone(),
                seen.name.clone(),
                seen.count,
                seen.first,
            )
        });
        let (ns, name, count, first) = match known {
            Some(k) => k,
            None => {
                let ns = if spec.involved.namespace.is_empty() {
                    "default"
                } else {
                    spec.involved.namespace.as_str()
                };
                let name = self.fresh_name(registry, ns, &spec.involved.name, now);
                (ns.to_string(), name, 1, now)
            }
        };
        let written = if correlated.write {
            self.write(registry, spec, combined, &ns, &name, count, first, &stamp)
        } else {
            None
        };
        if count == 1 {
            let seen = Seen {
                namespace: ns,
                name,
                count,
                first,
            };
            self.seen.insert(&self.key, seen);
        }
        written
    }

    /// Writes the `count`th occurrence of an event, as client-go's
    /// `recordEvent` does: a patch of the Event recorded before, or a new
    /// Event (also when the one before is gone from the server: expired,
    /// or never written past the spam filter) under the name it was first
    /// given.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        registry: &Registry,
        spec: &EventSpec,
        combined: bool,
        ns: &str,
        name: &str,
        count: i64,
        first: jiff::Timestamp,
        stamp: &str,
    ) -> Option<u64> {
        let info = lookup_res(res::EVENTS)?;
        let message = if combined {
            format!("{}{}", correlator::COMBINED, spec.message)
        } else {
            spec.message.clone()
        };
        if count > 1 && registry.store.contains(res::EVENTS, ns, name) {
            let mut patch = json!({"count": count, "lastTimestamp": stamp});
            if combined {
                patch["message"] = Value::from(message);
            }
            return registry
                .patch(
                    info,
                    ns,
                    name,
                    PatchType::Merge,
                    &patch,
                    None,
                    &WriteOptions::internal(),
                )
                .ok()
                .and_then(|w| meta::resource_version(&w.object));
        }
        if !matches!(&self.involved, Some(k) if k.of == spec.involved) {
            self.involved = Some(Kept {
                of: spec.involved.clone(),
                packed: pack_involved_object(&spec.involved),
            });
        }
        if !matches!(&self.source, Some(k) if k.of.0 == spec.component && k.of.1 == spec.host) {
            self.source = Some(Kept {
                of: (spec.component.clone(), spec.host.clone()),
                packed: pack_event_source(spec),
            });
        }
        let (Some(involved), Some(source)) = (&self.involved, &self.source) else {
            return None;
        };
        let first = if count == 1 {
            stamp.to_string()
        } else {
            format_time(first)
        };
        let body = Body {
            ns,
            name,
            message,
            count,
            first: &first,
            last: stamp,
            // `makeEvent` sets the reporting controller and instance; the
            // aggregator's combined Event copies neither.
            reporting: !combined,
        };
        let packed = registry
            .create_event_packed(ns, name, |server| body.pack(spec, involved, source, server));
        let written = match packed {
            Ok(Some(rv)) => return Some(rv),
            // A write `create` takes whole.
            Ok(None) => {
                let body = body.assemble(spec, involved_object(&spec.involved), event_source(spec));
                registry
                    .create(info, ns, body, &WriteOptions::internal())
                    .map(|w| meta::resource_version(&w.object))
            }
            Err(e) => Err(e),
        };
        match written {
            Ok(rv) => rv,
            Err(e) => {
                tracing::debug!("dropping event {}: {e}", spec.reason);
                None
            }
        }
    }

    /// A name for a new Event about `object`: `<object>.<hex nanoseconds>`
    /// of `now`, or of the next free nanosecond when this recorder or
    /// another component already used it.
    fn fresh_name(
        &mut self,
        registry: &Registry,
        ns: &str,
        object: &str,
        now: jiff::Timestamp,
    ) -> String {
        let mut nanos = now.as_nanosecond();
        object_key(ns, object, &mut self.object);
        if let Some(&mut last) = self.last_nanos.touch(&self.object)
            && nanos <= last
        {
            nanos = last + 1;
        }
        let mut name = event_name(object, nanos);
        while registry.store.contains(res::EVENTS, ns, &name) {
            nanos += 1;
            name = event_name(object, nanos);
        }
        self.last_nanos.insert(&self.object, nanos);
        name
    }
}

/// `<object>.<hex nanoseconds>`, as client-go names an Event (written
/// out here: `format!` cost more than the rest of the name).
fn event_name(object: &str, nanos: i128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 32];
    let mut at = digits.len();
    let mut n = nanos.max(0) as u128;
    loop {
        at -= 1;
        digits[at] = HEX[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    let mut name = String::with_capacity(object.len() + 1 + digits.len() - at);
    name.push_str(object);
    name.push('.');
    name.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
    name
}

/// The v1 Event as client-go's `makeEvent` builds it, each map built in
/// one allocation with its keys in order.
#[cfg(test)]
fn event_body(spec: &EventSpec, ns: &str, name: &str, stamp: &str) -> Value {
    let body = Body {
        ns,
        name,
        message: spec.message.clone(),
        count: 1,
        first: stamp,
        last: stamp,
        reporting: true,
    };
    body.assemble(spec, involved_object(&spec.involved), event_source(spec))
}

/// An Event's `involvedObject`.
fn involved_object(o: &ObjectRef) -> Value {
    object([
        // `omitempty`: a kubelet's reference to its node has none.
        (
            "apiVersion",
            (!o.api_version.is_empty()).then(|| text(&o.api_version)),
        ),
        ("fieldPath", o.field_path.as_deref().map(text)),
        ("kind", Some(text(&o.kind))),
        ("name", Some(text(&o.name))),
        (
            "namespace",
            (!o.namespace.is_empty()).then(|| text(&o.namespace)),
        ),
        ("uid", (!o.uid.is_empty()).then(|| text(&o.uid))),
    ])
}

/// [`involved_object`]'s tree, packed.
fn pack_involved_object(o: &ObjectRef) -> Arc<[u8]> {
    Packer::pack(|p| {
        let (api, ns, uid) = (
            !o.api_version.is_empty(),
            !o.namespace.is_empty(),
            !o.uid.is_empty(),
        );
        p.object(
            2 + usize::from(api)
                + usize::from(o.field_path.is_some())
                + usize::from(ns)
                + usize::from(uid),
        );
        if api {
            p.key("apiVersion");
            p.str(&o.api_version);
        }
        if let Some(path) = &o.field_path {
            p.key("fieldPath");
            p.text(path);
        }
        p.key("kind");
        p.str(&o.kind);
        p.key("name");
        p.text(&o.name);
        if ns {
            p.key("namespace");
            p.str(&o.namespace);
        }
        if uid {
            p.key("uid");
            p.text(&o.uid);
        }
    })
}

/// An Event's `source`.
fn event_source(spec: &EventSpec) -> Value {
    object([
        ("component", Some(text(&spec.component))),
        ("host", spec.host.as_deref().map(text)),
    ])
}

/// [`event_source`]'s tree, packed.
fn pack_event_source(spec: &EventSpec) -> Arc<[u8]> {
    Packer::pack(|p| {
        p.object(1 + usize::from(spec.host.is_some()));
        p.key("component");
        p.str(&spec.component);
        if let Some(host) = &spec.host {
            p.key("host");
            p.text(host);
        }
    })
}

/// The parts of an Event besides what `spec` says.
struct Body<'a> {
    ns: &'a str,
    name: &'a str,
    message: String,
    count: i64,
    first: &'a str,
    last: &'a str,
    /// Whether `reportingComponent` and `reportingInstance` are set.
    reporting: bool,
}

impl Body<'_> {
    /// The Event of `spec` with these parts.
    fn assemble(self, spec: &EventSpec, involved: Value, source: Value) -> Value {
        let metadata = object([
            ("name", Some(text(self.name))),
            ("namespace", Some(text(self.ns))),
        ]);
        let (component, instance) = self.reporting(spec);
        object([
            ("apiVersion", Some(text("v1"))),
            ("count", Some(Value::from(self.count))),
            // eventTime stays null.
            ("eventTime", Some(Value::Null)),
            ("firstTimestamp", Some(text(self.first))),
            ("involvedObject", Some(involved)),
            ("kind", Some(text("Event"))),
            ("lastTimestamp", Some(text(self.last))),
            ("message", Some(Value::String(self.message))),
            ("metadata", Some(metadata)),
            ("reason", Some(text(&spec.reason))),
            ("reportingComponent", Some(text(component))),
            ("reportingInstance", Some(text(instance))),
            ("source", Some(source)),
            ("type", Some(text(spec.type_.as_str()))),
        ])
    }

    /// `reportingComponent` and `reportingInstance`.
    fn reporting<'s>(&self, spec: &'s EventSpec) -> (&'s str, &'s str) {
        if self.reporting {
            (
                spec.component.as_str(),
                spec.host.as_deref().unwrap_or_default(),
            )
        } else {
            ("", "")
        }
    }

    /// What `assemble` builds and `Registry::create` stores (with the
    /// server's metadata), in its packed form: the same entries in the
    /// same order.
    fn pack(
        &self,
        spec: &EventSpec,
        involved: &Kept<ObjectRef>,
        source: &Kept<(String, Option<String>)>,
        server: &ServerMeta,
    ) -> Arc<[u8]> {
        let (component, instance) = self.reporting(spec);
        let mut rv = [0u8; 20];
        Packer::pack(|p| {
            p.object(14);
            p.key("apiVersion");
            p.str("v1");
            p.key("count");
            p.int(self.count);
            p.key("eventTime");
            p.null();
            p.key("firstTimestamp");
            p.text(self.first);
            p.key("involvedObject");
            p.packed(&involved.packed);
            p.key("kind");
            p.str("Event");
            p.key("lastTimestamp");
            p.text(self.last);
            p.key("message");
            p.text(&self.message);
            p.key("metadata");
            p.object(5);
            p.key("creationTimestamp");
            p.text(server.creation_timestamp);
            p.key("name");
            p.text(self.name);
            p.key("namespace");
            p.str(self.ns);
            p.key("resourceVersion");
            p.text(decimal(server.resource_version, &mut rv));
            p.key("uid");
            p.text(server.uid);
            p.key("reason");
            p.str(&spec.reason);
            p.key("reportingComponent");
            p.str(component);
            p.key("reportingInstance");
            p.text(instance);
            p.key("source");
            p.packed(&source.packed);
            p.key("type");
            p.str(spec.type_.as_str());
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::api::meta;
    use crate::api::resource;
    use crate::sim::clock::{Clock, VirtualClock};
    use crate::sim::event::{EventType, ObjectRef};
    use jiff::{SignedDuration, Timestamp};

    fn registry() -> (Registry, Arc<VirtualClock>) {
        let start: Timestamp = "2025-05-01T10:00:00Z".parse().unwrap();
        let clock = Arc::new(VirtualClock::new(start));
        let registry = Registry::new(Arc::new(crate::store::Store::new()), clock.clone(), 1);
        let ns = resource::lookup("", "v1", "namespaces").unwrap();
        let body =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}});
        registry
            .create(ns, "", body, &WriteOptions::internal())
            .unwrap();
        (registry, clock)
    }

    /// The Event a `record` wrote, found by its resourceVersion.
    fn written(registry: &Registry, rv: Option<u64>) -> Arc<Value> {
        let rv = rv.expect("an Event was written");
        let (events, _) = registry.store.list(res::EVENTS, None);
        events
            .into_iter()
            .find(|e| meta::resource_version(e) == Some(rv))
            .expect("the Event written is stored")
    }

    fn spec(name: &str, reason: &str, message: &str) -> EventSpec {
        correlator::pod_event(name, reason, message)
    }

    /// (name, reason, message, count, firstTimestamp, lastTimestamp), by name.
    fn events(registry: &Registry) -> Vec<(String, String, String, i64, String, String)> {
        let mut v: Vec<_> = registry
            .store
            .list(res::EVENTS, Some("default"))
            .0
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
                let name = meta::name(e).to_string();
                let count = e["count"].as_i64().unwrap_or(0);
                (
                    name,
                    s("reason"),
                    s("message"),
                    count,
                    s("firstTimestamp"),
                    s("lastTimestamp"),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn event_names_are_the_object_and_its_nanoseconds_in_hex() {
        for n in [
            0i128,
            1,
            15,
            16,
            255,
            1_746_093_600_000_000_000,
            i128::MAX,
            -5,
        ] {
            assert_eq!(
                event_name("web-1", n),
                format!("web-1.{:x}", n.max(0)),
                "{n}"
            );
        }
    }

    #[test]
    fn events_in_a_row_share_their_parts_only_when_those_are_the_same() {
        let (registry, _clock) = registry();
        let mut rec = Recorder::new();
        let with = |name: &str, path: Option<&str>, host: Option<&str>, reason: &str| {
            let mut s = spec(name, reason, "m");
            s.involved.field_path = path.map(str::to_string);
            s.host = host.map(str::to_string);
            s
        };
        let mut cluster_scoped = with("node-1", None, Some("node-1"), "NodeReady");
        cluster_scoped.involved.kind = "Node".into();
        cluster_scoped.involved.namespace = String::new();
        cluster_scoped.involved.uid = String::new();
        let specs = [
            with("a", Some("spec.containers{c}"), Some("node-1"), "Pulling"),
            with("a", Some("spec.containers{c}"), Some("node-1"), "Pulled"),
            with("a", Some("spec.containers{d}"), Some("node-1"), "Created"),
            with("a", None, Some("node-2"), "Started"),
            with("b", None, Some("node-2"), "Killing"),
            with("b", None, None, "Scheduled"),
            cluster_scoped,
            with("b", None, None, "Evicted"),
        ];
        for s in &specs {
            let stored = written(&registry, rec.record(&registry, s));
            let alone = event_body(s, "default", "x", "t");
            assert_eq!(
                stored["involvedObject"], alone["involvedObject"],
                "{}",
                s.reason
            );
            assert_eq!(stored["source"], alone["source"], "{}", s.reason);
        }
    }

    fn nanos_name(object: &str, t: Timestamp, plus: i128) -> String {
        format!("{object}.{:x}", t.as_nanosecond() + plus)
    }

    #[test]
    fn the_same_event_again_bumps_count_and_last_timestamp() {
        let (registry, clock) = registry();
        let mut rec = Recorder::new();
        let t0 = clock.now();
        rec.record(&registry, &spec("p", "Pulled", "m")).unwrap();
        clock.advance(SignedDuration::from_secs(5));
        let ev = written(&registry, rec.record(&registry, &spec("p", "Pulled", "m")));
        assert_eq!(ev["count"], 2);
        assert_eq!(
            events(&registry),
            vec![(
                nanos_name("p", t0, 0),
                "Pulled".into(),
                "m".into(),
                2,
                "2025-05-01T10:00:00Z".into(),
                "2025-05-01T10:00:05Z".into()
            )]
        );
    }

    #[test]
    fn events_differing_in_any_field_stay_apart_even_when_their_text_runs_together() {
        let (registry, clock) = registry();
        let mut rec = Recorder::new();
        let a = spec("p", "ab", "c");
        let b = spec("p", "a", "bc");
        // An absent field path is not an empty one.
        let c = EventSpec {
            involved: a.involved.clone().with_field_path(""),
            ..a.clone()
        };
        let d = EventSpec {
            host: None,
            ..a.clone()
        };
        let e = EventSpec {
            type_: EventType::Warning,
            ..a.clone()
        };
        for s in [&a, &b, &c, &d, &e, &a] {
            rec.record(&registry, s).unwrap();
        }
        let t0 = clock.now();
        let got: Vec<_> = events(&registry)
            .into_iter()
            .map(|(name, reason, message, count, ..)| (name, reason, message, count))
            .collect();
        let want = |i, r: &str, m: &str, n| (nanos_name("p", t0, i), r.into(), m.into(), n);
        assert_eq!(
            got,
            vec![
                want(0, "ab", "c", 2),
                want(1, "a", "bc", 1),
                want(2, "ab", "c", 1),
                want(3, "ab", "c", 1),
                want(4, "ab", "c", 1),
            ]
        );
    }

    #[test]
    fn a_burst_at_one_instant_takes_the_next_free_names() {
        let (registry, clock) = registry();
        let mut rec = Recorder::new();
        let t0 = clock.now();
        // Another recorder (another component) took the first name.
        Recorder::new()
            .record(&registry, &spec("p", "Scheduled", "x"))
            .unwrap();
        for m in ["1", "2", "3"] {
            rec.record(&registry, &spec("p", "Created", m)).unwrap();
        }
        let names: Vec<_> = events(&registry).into_iter().map(|e| e.0).collect();
        let want: Vec<_> = (0..4).map(|i| nanos_name("p", t0, i)).collect();
        assert_eq!(names, want);
    }

    #[test]
    fn an_event_older_than_the_last_4096_starts_a_new_object() {
        let (registry, _clock) = registry();
        let mut rec = Recorder::new();
        let first = spec("p", "Pulled", "first");
        let count_of = |registry: &Registry| {
            events(registry)
                .into_iter()
                .filter(|e| e.2 == "first")
                .map(|e| e.3)
                .collect::<Vec<_>>()
        };
        rec.record(&registry, &first).unwrap();
        // 4095 others (each about its own object, so that neither the
        // aggregator nor the spam filter joins in): the first is still
        // remembered.
        for i in 0..CACHE_ENTRIES - 1 {
            rec.record(&registry, &spec(&format!("q{i}"), "Pulled", "other"))
                .unwrap();
        }
        rec.record(&registry, &first).unwrap();
        assert_eq!(count_of(&registry), vec![2]);
        // 4096 others since: forgotten, a new Event.
        for i in 0..CACHE_ENTRIES {
            rec.record(&registry, &spec(&format!("r{i}"), "Pulled", "other"))
                .unwrap();
        }
        rec.record(&registry, &first).unwrap();
        assert_eq!(count_of(&registry), vec![2, 1]);
    }

    fn rs_spec(i: usize) -> EventSpec {
        correlator::replicaset_event(
            "web-6d4cf56db6",
            "SuccessfulCreate",
            &format!("Created pod: web-6d4cf56db6-p{i:02}"),
        )
    }

    #[test]
    fn a_replicaset_creating_many_pods_shows_nine_events_and_one_combined() {
        let (registry, clock) = registry();
        let mut rec = Recorder::new();
        let t0 = clock.now();
        let written: Vec<bool> = (0..30)
            .map(|i| rec.record(&registry, &rs_spec(i)).is_some())
            .collect();
        // 25 writes (the spam filter's burst for this source and object),
        // the five after them kept from the server.
        assert_eq!(written, [[true; 25].as_slice(), &[false; 5]].concat());
        let got = events(&registry);
        assert_eq!(got.len(), 10);
        let individual: Vec<_> = got
            .iter()
            .filter(|e| e.3 == 1 && !e.2.starts_with('('))
            .collect();
        assert_eq!(individual.len(), 9);
        assert_eq!(individual[0].2, "Created pod: web-6d4cf56db6-p00");
        assert_eq!(individual[8].2, "Created pod: web-6d4cf56db6-p08");
        let combined = |registry: &Registry| {
            registry
                .store
                .list(res::EVENTS, Some("default"))
                .0
                .into_iter()
                .find(|e| e["message"].as_str().is_some_and(|m| m.starts_with('(')))
                .unwrap()
        };
        let c = combined(&registry);
        // The tenth and the fifteen written after it; named at the tenth.
        assert_eq!(c["count"], 16);
        assert_eq!(
            c["message"],
            "(combined from similar events): Created pod: web-6d4cf56db6-p24"
        );
        assert_eq!(c["reason"], "SuccessfulCreate");
        assert_eq!(c["source"], json!({"component": "replicaset-controller"}));
        assert_eq!(c["reportingComponent"], "");
        assert_eq!(c["reportingInstance"], "");
        assert_eq!(c["firstTimestamp"], "2025-05-01T10:00:00Z");
        assert_eq!(meta::name(&c), nanos_name("web-6d4cf56db6", t0, 9));
        // Five minutes on, one token: the next one is written with the
        // whole count, the five kept back included.
        clock.advance(SignedDuration::from_secs(300));
        assert!(rec.record(&registry, &rs_spec(30)).is_some());
        assert!(rec.record(&registry, &rs_spec(31)).is_none());
        let c = combined(&registry);
        assert_eq!(c["count"], 22);
        assert_eq!(
            c["message"],
            "(combined from similar events): Created pod: web-6d4cf56db6-p30"
        );
        assert_eq!(c["lastTimestamp"], "2025-05-01T10:05:00Z");
        assert_eq!(events(&registry).len(), 10);
    }

    #[test]
    fn a_repeating_event_past_the_spam_filter_keeps_counting() {
        let (registry, clock) = registry();
        let mut rec = Recorder::new();
        let backoff = spec("p", "BackOff", "Back-off restarting failed container app");
        for _ in 0..40 {
            rec.record(&registry, &backoff);
        }
        assert_eq!(events(&registry)[0].3, 25);
        clock.advance(SignedDuration::from_secs(300));
        rec.record(&registry, &backoff).unwrap();
        let got = events(&registry);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].3, got[0].5.as_str()), (41, "2025-05-01T10:05:00Z"));
    }

    #[test]
    fn an_event_first_kept_back_is_created_later_with_its_first_name_and_count() {
        let (registry, clock) = registry();
        let mut rec = Recorder::new();
        let t0 = clock.now();
        // 25 distinct events about one pod use up its bucket.
        for i in 0..25 {
            rec.record(&registry, &spec("p", &format!("R{i}"), "m"))
                .unwrap();
        }
        let late = spec("p", "Killing", "Stopping container app");
        assert!(rec.record(&registry, &late).is_none());
        clock.advance(SignedDuration::from_secs(300));
        let ev = written(&registry, rec.record(&registry, &late));
        assert_eq!(ev["count"], 2);
        assert_eq!(ev["firstTimestamp"], "2025-05-01T10:00:00Z");
        assert_eq!(ev["lastTimestamp"], "2025-05-01T10:05:00Z");
        assert_eq!(meta::name(&ev), nanos_name("p", t0, 25));
        assert_eq!(ev["reportingComponent"], "kubelet");
    }

    #[test]
    fn the_schedulers_events_are_not_spam_filtered() {
        let (registry, _clock) = registry();
        let mut rec = Recorder::new();
        let failed = EventSpec {
            type_: EventType::Warning,
            component: "default-scheduler".into(),
            host: None,
            ..spec("p", "FailedScheduling", "0/3 nodes are available")
        };
        for _ in 0..30 {
            rec.record(&registry, &failed).unwrap();
        }
        assert_eq!(events(&registry)[0].3, 30);
    }

    #[test]
    fn the_event_body_is_client_gos_make_event() {
        let full = EventSpec {
            involved: spec("p", "Pulled", "m")
                .involved
                .with_field_path("spec.containers{c}"),
            ..spec("p", "Pulled", "m")
        };
        assert_eq!(
            event_body(&full, "default", "p.1", "2025-05-01T10:00:00Z"),
            json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "p.1", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p", "uid": "u",
                                   "apiVersion": "v1", "fieldPath": "spec.containers{c}"},
                "reason": "Pulled", "message": "m",
                "source": {"component": "kubelet", "host": "kdrill-worker"},
                "firstTimestamp": "2025-05-01T10:00:00Z", "lastTimestamp": "2025-05-01T10:00:00Z",
                "count": 1, "type": "Normal", "eventTime": null,
                "reportingComponent": "kubelet", "reportingInstance": "kdrill-worker",
            })
        );
        // A cluster-scoped object without uid, from a component without host.
        let bare = EventSpec {
            involved: ObjectRef {
                api_version: "v1".into(),
                kind: "Node".into(),
                namespace: String::new(),
                name: "n".into(),
                uid: String::new(),
                field_path: None,
            },
            type_: EventType::Warning,
            reason: "R".into(),
            message: "M".into(),
            component: "node-controller".into(),
            host: None,
        };
        let body = event_body(&bare, "default", "n.2", "2025-05-01T10:00:01Z");
        assert_eq!(
            body,
            json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "n.2", "namespace": "default"},
                "involvedObject": {"kind": "Node", "name": "n", "apiVersion": "v1"},
                "reason": "R", "message": "M",
                "source": {"component": "node-controller"},
                "firstTimestamp": "2025-05-01T10:00:01Z", "lastTimestamp": "2025-05-01T10:00:01Z",
                "count": 1, "type": "Warning", "eventTime": null,
                "reportingComponent": "node-controller", "reportingInstance": "",
            })
        );
        // Same bytes as the JSON kubectl reads.
        assert_eq!(
            serde_json::to_string(&body["involvedObject"]).unwrap(),
            r#"{"apiVersion":"v1","kind":"Node","name":"n"}"#
        );
    }

    /// Every Event the recorder writes packed is the object `create` would
    /// have stored for the same body: the same fields, server metadata and
    /// resourceVersion, for each shape of involved object and source.
    #[test]
    fn an_event_written_packed_is_what_create_stores() {
        let (packed, clock) = registry();
        let (whole, whole_clock) = registry();
        let info = lookup_res(res::EVENTS).unwrap();
        let mut rec = Recorder::new();
        let mut node = spec("n1", "NodeReady", "Node n1 status is now: NodeReady");
        node.involved.kind = "Node".into();
        node.involved.namespace = String::new();
        node.involved.uid = String::new();
        let mut no_host = spec("p", "Scheduled", "Successfully assigned default/p to n1");
        no_host.host = None;
        no_host.component = "default-scheduler".into();
        let mut long = spec("q", "Failed", &"x".repeat(3000));
        long.involved.field_path = Some("spec.containers{app}".into());
        // A kubelet's reference to its node: no apiVersion at all.
        let kubelet_node = EventSpec {
            involved: ObjectRef::node("n1"),
            ..spec("n1", "Starting", "Starting kubelet.")
        };
        for s in [
            &spec("p", "Pulled", "m"),
            &node,
            &no_host,
            &long,
            &kubelet_node,
        ] {
            let rv = rec.record(&packed, s);
            let stored = written(&packed, rv);
            assert_eq!(
                packed.store.packed(res::EVENTS),
                packed.store.count(res::EVENTS),
                "stored packed"
            );
            let body = event_body(s, "default", meta::name(&stored), &format_time(clock.now()));
            let want = whole
                .create(info, "default", body, &WriteOptions::internal())
                .unwrap()
                .object;
            assert_eq!(*stored, *want, "{}", s.reason);
            assert_eq!(
                stored["involvedObject"].get("apiVersion").is_some(),
                !s.involved.api_version.is_empty(),
                "{}",
                s.reason
            );
            clock.advance(SignedDuration::from_secs(1));
            whole_clock.advance(SignedDuration::from_secs(1));
        }
    }

    /// A namespace with a ResourceQuota takes `create`'s whole path, so a
    /// quota on Events holds.
    #[test]
    fn a_quota_on_events_still_refuses_them() {
        let (registry, _) = registry();
        let quotas = resource::lookup("", "v1", "resourcequotas").unwrap();
        let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "default"},
            "spec": {"hard": {"count/events": "1"}}});
        registry
            .create(quotas, "default", quota, &WriteOptions::internal())
            .unwrap();
        let mut rec = Recorder::new();
        assert!(rec.record(&registry, &spec("a", "Pulled", "m")).is_some());
        assert!(rec.record(&registry, &spec("b", "Pulled", "m")).is_none());
        assert_eq!(registry.store.count(res::EVENTS), 1);
        assert_eq!(registry.store.packed(res::EVENTS), 0, "written whole");
    }

    /// A terminating namespace refuses new Events on either path.
    #[test]
    fn a_terminating_namespace_refuses_packed_events() {
        let (registry, _) = registry();
        let namespaces = resource::lookup("", "v1", "namespaces").unwrap();
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"},
            "spec": {"finalizers": ["kubernetes"]}});
        registry
            .create(namespaces, "", body, &WriteOptions::internal())
            .unwrap();
        registry
            .delete(namespaces, "", "gone", &Default::default())
            .unwrap();
        let mut s = spec("a", "Pulled", "m");
        s.involved.namespace = "gone".into();
        assert!(Recorder::new().record(&registry, &s).is_none());
        s.involved.namespace = "missing".into();
        assert!(Recorder::new().record(&registry, &s).is_none());
        assert_eq!(registry.store.count(res::EVENTS), 0);
    }
}
