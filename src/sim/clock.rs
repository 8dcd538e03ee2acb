//! The clock object. Nothing else in kdrill reads the wall clock: the
//! simulator, the registry and the server ask a `Clock` for the time.
//!
//! - `WallClock` follows real time, optionally sped up (`--time-scale 10`
//!   makes a 5-minute back-off pass in 30 seconds).
//! - `VirtualClock` only moves when told to, so tests and self-tests jump
//!   straight to the next timer.

use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Real time, scaled: elapsed time since start is multiplied by `scale`.
pub struct WallClock {
    start_real: std::time::Instant,
    start: Timestamp,
    scale: f64,
}

impl WallClock {
    /// The one place kdrill reads the wall clock.
    #[allow(clippy::disallowed_methods)]
    pub fn new(scale: f64) -> Self {
        Self {
            start_real: std::time::Instant::now(),
            start: Timestamp::now(),
            scale: if scale > 0.0 { scale } else { 1.0 },
        }
    }
}

impl Clock for WallClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.start_real.elapsed().as_secs_f64() * self.scale;
        let d = SignedDuration::from_secs_f64(elapsed);
        self.start.checked_add(d).unwrap_or(self.start)
    }
}

/// Time that moves only when advanced.
pub struct VirtualClock {
    now: Mutex<Timestamp>,
}

impl VirtualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves time forward by `d` (never backwards).
    pub fn advance(&self, d: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        if d.is_positive() {
            *now = now.checked_add(d).unwrap_or(*now);
        }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Formats a timestamp as Kubernetes does (`metav1.Time`: RFC 3339, seconds).
pub fn format_time(t: Timestamp) -> String {
    thread_local! {
        /// The last instant formatted and its text: writes come in bursts
        /// at one instant of the virtual clock (a ReplicaSet's pods, their
        /// Events), and formatting costs more than a copy.
        static LAST: std::cell::RefCell<Option<(Timestamp, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((at, text)) if *at == t => text.clone(),
        _ => {
            let text = t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            *last = Some((t, text.clone()));
            text
        }
    })
}

/// `metav1.MicroTime` (RFC 3339 with microseconds).
pub fn format_micro_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_time_answers_the_same_for_repeated_and_alternating_instants() {
        let a: Timestamp = "2025-05-01T10:00:00.75Z".parse().unwrap();
        let b: Timestamp = "2025-05-01T10:00:01Z".parse().unwrap();
        for t in [a, a, b, a, b, b] {
            assert_eq!(format_time(t), t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        assert_eq!(format_time(a), "2025-05-01T10:00:00Z");
    }

    #[test]
    fn virtual_clock_moves_only_forward_when_told() {
        let c = VirtualClock::new(Timestamp::UNIX_EPOCH);
        assert_eq!(c.now(), Timestamp::UNIX_EPOCH);
        c.advance(SignedDuration::from_secs(90));
        c.advance(SignedDuration::from_secs(-30));
        assert_eq!(format_time(c.now()), "1970-01-01T00:01:30Z");
    }
}
