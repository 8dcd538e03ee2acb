//! The two parts of client-go's `EventCorrelator` (`tools/record/
//! events_cache.go`) that come before the count de-duplication the
//! recorder does itself:
//!
//! - the **aggregator**: once ten events that differ only in their message
//!   (same source, object, type, reason) come within ten minutes, the tenth
//!   and those after it are recorded as one Event whose message is
//!   `(combined from similar events): <latest message>` (a ReplicaSet
//!   creating 50 pods shows nine `Created pod: …` Events and one combined
//!   one);
//! - the **spam filter**: a token bucket per source and object (burst 25,
//!   one more every 5 minutes); an event beyond it is not written at all,
//!   though its occurrence still counts, so the next one written shows the
//!   whole count (a pod that keeps failing its probe: its `Unhealthy`
//!   count and `lastTimestamp` move once every 5 minutes).
//!
//! Both keep their state in one cache of the last 4,096 sources and
//! objects ([`Correlator`]), as upstream's LRU caches keep 4,096 keys.

use super::lru::Lru;
use super::{CACHE_ENTRIES, put};
use crate::sim::event::EventSpec;
use jiff::{SignedDuration, Timestamp};

/// `defaultAggregateMaxEvents`: distinct messages before aggregating.
const AGGREGATE_MAX_EVENTS: usize = 10;
/// `defaultAggregateIntervalInSeconds`.
const AGGREGATE_INTERVAL: SignedDuration = SignedDuration::from_secs(600);
/// `defaultSpamBurst`.
const SPAM_BURST: f64 = 25.0;
/// `defaultSpamQPS`: one token every 300 seconds.
const SPAM_SECONDS_PER_TOKEN: f64 = 300.0;

/// The prefix of an aggregated Event's message
/// (`EventAggregatorByReasonMessageFunc`).
pub(super) const COMBINED: &str = "(combined from similar events): ";

/// Whether `spec`'s component records through `tools/record` (the
/// kubelet, kube-controller-manager's controllers), which correlates. The
/// scheduler records through `tools/events` (`events.k8s.io/v1`), which
/// neither aggregates nor filters spam: it folds repeats into a series.
pub(super) fn correlates(spec: &EventSpec) -> bool {
    spec.component != "default-scheduler"
}

/// client-go's `getSpamKey` as bytes: source and involved object.
pub(super) fn spam_key(spec: &EventSpec, out: &mut Vec<u8>) {
    let o = &spec.involved;
    out.clear();
    put(out, Some(&spec.component));
    put(out, spec.host.as_deref());
    for f in [&o.kind, &o.namespace, &o.name, &o.uid, &o.api_version] {
        put(out, Some(f));
    }
}

/// The logger's key for an aggregated Event (client-go's
/// `EventAggregatorByReasonFunc` key: source, object, type, reason and the
/// reporting controller and instance, which `makeEvent` sets from the
/// source), tagged apart from the event keys that share its cache.
pub(super) fn aggregate_key(spec: &EventSpec, out: &mut Vec<u8>) {
    spam_key(spec, out);
    out.insert(0, b'A');
    put(out, Some(spec.type_.as_str()));
    put(out, Some(&spec.reason));
}

/// A 64-bit digest of some text (FxHash, with each part's length, so
/// runs repeat): the aggregator compares messages and reasons by these
/// instead of keeping copies of them. Two messages of one object and
/// reason that collided would count as one, so that the combined Event
/// came one event later: nothing else depends on it.
fn digest(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::store::fxhash::FxHasher::default();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// The aggregator's record of one type and reason of events about an
/// object: the distinct messages seen lately.
struct Similar {
    /// Type and reason.
    group: u64,
    /// Up to `AGGREGATE_MAX_EVENTS - 1` message digests kept between
    /// events (the tenth aggregates and drops one), oldest first.
    messages: [u64; AGGREGATE_MAX_EVENTS],
    len: usize,
    last: Timestamp,
}

impl Similar {
    /// client-go's `EventAggregate` for one event: whether it is to be
    /// recorded as the combined Event.
    fn aggregates(&mut self, message: u64, now: Timestamp) -> bool {
        if now.duration_since(self.last) > AGGREGATE_INTERVAL {
            self.len = 0;
        }
        self.last = now;
        if !self.messages[..self.len].contains(&message) {
            self.messages[self.len] = message;
            self.len += 1;
        }
        if self.len < AGGREGATE_MAX_EVENTS {
            return false;
        }
        // The set stays below the maximum: upstream drops an arbitrary
        // message (`PopAny`); this drops the oldest, so runs repeat.
        self.messages.copy_within(1.., 0);
        self.len -= 1;
        true
    }
}

/// A token bucket on the clock (`flowcontrol` over `x/time/rate`): full at
/// first, refilled continuously.
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

impl Bucket {
    fn full(now: Timestamp) -> Self {
        Self {
            tokens: SPAM_BURST,
            at: now,
        }
    }

    /// `TryAccept`: takes a token if there is one.
    fn take(&mut self, now: Timestamp) -> bool {
        let elapsed = now.duration_since(self.at).as_secs_f64().max(0.0);
        self.tokens = (self.tokens + elapsed / SPAM_SECONDS_PER_TOKEN).min(SPAM_BURST);
        self.at = now.max(self.at);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the correlator keeps per source and object: the spam filter's
/// bucket and the aggregator's records of the object's events.
struct ObjectEvents {
    bucket: Bucket,
    similar: Vec<Similar>,
}

/// client-go's `EventAggregator` and `EventSourceObjectSpamFilter`, both
/// keyed by source and object here (upstream's aggregator keys each type
/// and reason apart in a cache of its own; either forgets the least
/// recently used of 4,096 keys, which differs only in a cluster with more
/// than 4,096 objects getting events within ten minutes).
pub(super) struct Correlator {
    objects: Lru<[u8], ObjectEvents>,
}

impl Default for Correlator {
    fn default() -> Self {
        Self {
            objects: Lru::new(CACHE_ENTRIES),
        }
    }
}

/// What the correlator makes of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Correlated {
    /// Recorded as the combined Event of its type and reason.
    pub combined: bool,
    /// Within the source's budget for the object: written.
    pub write: bool,
}

impl Correlator {
    /// Aggregates and spam-filters `spec` at `now`; `key` is its
    /// [`spam_key`].
    pub(super) fn correlate(&mut self, key: &[u8], spec: &EventSpec, now: Timestamp) -> Correlated {
        if self.objects.touch(key).is_none() {
            self.objects.insert(
                key,
                ObjectEvents {
                    bucket: Bucket::full(now),
                    similar: Vec::new(),
                },
            );
        }
        let Some(object) = self.objects.touch(key) else {
            return Correlated {
                combined: false,
                write: true,
            };
        };
        let group = digest(&[spec.type_.as_str(), &spec.reason]);
        let at = match object.similar.iter().position(|s| s.group == group) {
            Some(at) => at,
            None => {
                object.similar.push(Similar {
                    group,
                    messages: [0; AGGREGATE_MAX_EVENTS],
                    len: 0,
                    last: now,
                });
                object.similar.len() - 1
            }
        };
        let combined = object.similar[at].aggregates(digest(&[&spec.message]), now);
        Correlated {
            combined,
            write: object.bucket.take(now),
        }
    }
}

/// A Normal event of the ReplicaSet controller about ReplicaSet `name`.
#[cfg(test)]
pub(super) fn replicaset_event(name: &str, reason: &str, message: &str) -> EventSpec {
    let mut e = pod_event(name, reason, message);
    e.involved.api_version = "apps/v1".into();
    e.involved.kind = "ReplicaSet".into();
    e.component = "replicaset-controller".into();
    e.host = None;
    e
}

/// A Normal event of the kubelet on `kdrill-worker` about pod `name`.
#[cfg(test)]
pub(super) fn pod_event(name: &str, reason: &str, message: &str) -> EventSpec {
    use crate::sim::event::{EventType, ObjectRef};
    EventSpec {
        involved: ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: "default".into(),
            name: name.into(),
            uid: "u".into(),
            field_path: None,
        },
        type_: EventType::Normal,
        reason: reason.into(),
        message: message.into(),
        component: "kubelet".into(),
        host: Some("kdrill-worker".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::event::EventType;

    fn spec(name: &str, reason: &str, message: &str) -> EventSpec {
        replicaset_event(name, reason, message)
    }

    fn t0() -> Timestamp {
        "2025-05-01T10:00:00Z".parse().unwrap()
    }

    /// `correlate` for `spec` at `at`.
    fn run(c: &mut Correlator, s: &EventSpec, at: Timestamp) -> Correlated {
        let mut k = Vec::new();
        spam_key(s, &mut k);
        c.correlate(&k, s, at)
    }

    fn combined(c: &mut Correlator, s: &EventSpec, at: Timestamp) -> bool {
        run(c, s, at).combined
    }

    #[test]
    fn the_tenth_distinct_message_within_ten_minutes_is_aggregated() {
        let mut c = Correlator::default();
        let got: Vec<bool> = (0..12)
            .map(|i| {
                let s = spec("rs", "SuccessfulCreate", &format!("Created pod: p{i}"));
                combined(&mut c, &s, t0())
            })
            .collect();
        assert_eq!(got, [[false; 9].as_slice(), &[true; 3]].concat());
        // A message seen before, while the set holds nine or fewer, is not.
        let mut c = Correlator::default();
        for i in 0..5 {
            combined(&mut c, &spec("rs", "R", &format!("m{i}")), t0());
        }
        assert!(!combined(&mut c, &spec("rs", "R", "m0"), t0()));
        // Another reason, type or object is another group.
        let mut c = Correlator::default();
        for i in 0..9 {
            let m = format!("m{i}");
            assert!(!combined(&mut c, &spec("rs", "A", &m), t0()));
            assert!(!combined(&mut c, &spec("rs", "B", &m), t0()));
            let warning = EventSpec {
                type_: EventType::Warning,
                ..spec("rs", "A", &m)
            };
            assert!(!combined(&mut c, &warning, t0()));
            assert!(!combined(&mut c, &spec("rs2", "A", &m), t0()));
        }
        assert!(combined(&mut c, &spec("rs", "A", "m9"), t0()));
    }

    #[test]
    fn a_group_quiet_for_more_than_ten_minutes_starts_again() {
        let mut c = Correlator::default();
        let s = |m: &str| spec("rs", "SuccessfulCreate", m);
        for i in 0..9 {
            assert!(!combined(&mut c, &s(&format!("m{i}")), t0()));
        }
        // Exactly ten minutes later the group still counts.
        let at_600 = t0() + SignedDuration::from_secs(600);
        assert!(combined(&mut c, &s("m9"), at_600));
        // More than ten minutes after the last: fresh.
        let later = at_600 + SignedDuration::from_secs(601);
        assert!(!combined(&mut c, &s("m10"), later));
    }

    #[test]
    fn the_spam_filter_lets_25_through_then_one_every_five_minutes() {
        let mut c = Correlator::default();
        let s = spec("rs", "SuccessfulCreate", "x");
        let passes = |c: &mut Correlator, n: usize, at: Timestamp| {
            (0..n).filter(|_| run(c, &s, at).write).count()
        };
        assert_eq!(passes(&mut c, 40, t0()), 25);
        // 299 s later: still no whole token.
        assert_eq!(passes(&mut c, 1, t0() + SignedDuration::from_secs(299)), 0);
        assert_eq!(passes(&mut c, 1, t0() + SignedDuration::from_secs(300)), 1);
        assert_eq!(passes(&mut c, 1, t0() + SignedDuration::from_secs(301)), 0);
        // Two tokens' worth of time refills two, never beyond the burst.
        let later = t0() + SignedDuration::from_secs(900);
        assert_eq!(passes(&mut c, 5, later), 2);
        let much_later = later + SignedDuration::from_secs(86_400);
        assert_eq!(passes(&mut c, 40, much_later), 25);
        // The reason is not part of the key; the object is.
        let mut c = Correlator::default();
        for i in 0..25 {
            assert!(run(&mut c, &spec("rs", &format!("R{i}"), "x"), t0()).write);
        }
        assert!(!run(&mut c, &spec("rs", "Other", "x"), t0()).write);
        assert!(run(&mut c, &spec("rs2", "Other", "x"), t0()).write);
    }

    #[test]
    fn aggregate_keys_tell_type_and_reason_apart_and_not_the_message() {
        let key = |s: &EventSpec| {
            let mut k = Vec::new();
            aggregate_key(s, &mut k);
            k
        };
        let a = spec("rs", "SuccessfulCreate", "Created pod: a");
        assert_eq!(
            key(&a),
            key(&spec("rs", "SuccessfulCreate", "Created pod: b"))
        );
        assert_ne!(
            key(&a),
            key(&spec("rs", "SuccessfulDelete", "Created pod: a"))
        );
        assert_eq!(key(&a)[0], b'A');
    }
}
