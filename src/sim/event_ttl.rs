//! The apiserver's `--event-ttl` (an hour, kube-apiserver's default and
//! kind's): every write of an Event puts a one-hour lease on its key in
//! etcd, and when the lease runs out without a newer write the Event is
//! gone (`kubectl get events` on a cluster up for a day shows only the last
//! hour; an Event whose count keeps rising stays).
//!
//! The runtime notes each Event write it observes (and, when it resyncs,
//! those it missed, from the watch history), and at its sweeps
//! deletes the Events whose hour has passed, each only if nothing wrote it
//! since (a resourceVersion precondition), so watchers see the DELETED as
//! they would from etcd.

use super::clock::Clock;
use super::snapshot::res;
use crate::registry::Registry;
use crate::registry::lookup_res;
use crate::registry::options::DeleteOptions;
use crate::store::{EventType, WatchEvent};
use jiff::{SignedDuration, Timestamp};
use std::collections::VecDeque;

/// kube-apiserver's `--event-ttl` default.
pub const EVENT_TTL: SignedDuration = SignedDuration::from_hours(1);

/// Event writes in the order they were observed, with when each expires.
#[derive(Debug, Default)]
pub struct EventTtl {
    /// (expiry, "namespace/name", resourceVersion of the write).
    due: VecDeque<(Timestamp, Box<str>, u64)>,
}

impl EventTtl {
    /// Notes a store event, if it is the write of an Event, observed now
    /// (the clock is read only for Events).
    pub fn note(&mut self, ev: &WatchEvent, clock: &dyn Clock) {
        if ev.res != res::EVENTS || ev.kind == EventType::Deleted {
            return;
        }
        let now = clock.now();
        let (ns, name) = (ev.namespace(), ev.name());
        let mut key = String::with_capacity(ns.len() + 1 + name.len());
        key.push_str(ns);
        key.push('/');
        key.push_str(name);
        let at = now.checked_add(EVENT_TTL).unwrap_or(Timestamp::MAX);
        self.due.push_back((at, key.into(), ev.rv));
    }

    /// Deletes the Events whose lease ran out by `now` and were not written
    /// since. Returns how many it deleted.
    pub fn expire(&mut self, registry: &Registry, now: Timestamp) -> usize {
        let Some(info) = lookup_res(res::EVENTS) else {
            return 0;
        };
        let mut gone = 0;
        while let Some((at, _, _)) = self.due.front()
            && *at <= now
        {
            let Some((_, key, rv)) = self.due.pop_front() else {
                break;
            };
            let Some((ns, name)) = key.split_once('/') else {
                continue;
            };
            let opts = DeleteOptions {
                precondition_rv: Some(rv),
                ..Default::default()
            };
            // Refused when a later write renewed the lease (its own entry
            // comes later) or someone deleted it already.
            if registry.delete(info, ns, name, &opts).is_ok() {
                gone += 1;
            }
        }
        gone
    }
}
