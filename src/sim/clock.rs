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
    /// Whether time moves only when told to (a virtual clock): what is
    /// computed for `now` still holds a moment later.
    fn stands_still(&self) -> bool {
        false
    }
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
    fn stands_still(&self) -> bool {
        true
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
            let text = rfc3339_seconds(t);
            *last = Some((t, text.clone()));
            text
        }
    })
}

/// `t` as `%Y-%m-%dT%H:%M:%SZ`, written digit by digit: `strftime` reads
/// its format anew on every call, and a pod's status holds several
/// instants in turn (its start, each condition's transition), so the one
/// remembered above seldom answers there.
fn rfc3339_seconds(t: Timestamp) -> String {
    let dt = jiff::tz::Offset::UTC.to_datetime(t);
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        return t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    fn digits(out: &mut String, n: i32, width: u32) {
        for place in (0..width).rev() {
            let d = (n / 10_i32.pow(place)) % 10;
            out.push(char::from(b'0' + d.unsigned_abs() as u8));
        }
    }
    let mut out = String::with_capacity(20);
    digits(&mut out, i32::from(year), 4);
    let parts = [
        ('-', dt.month()),
        ('-', dt.day()),
        ('T', dt.hour()),
        (':', dt.minute()),
        (':', dt.second()),
    ];
    for (sep, n) in parts {
        out.push(sep);
        digits(&mut out, i32::from(n), 2);
    }
    out.push('Z');
    out
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
    fn timestamps_are_written_as_strftime_writes_them() {
        // Seeded instants over the whole range a Timestamp holds, and the
        // edges of the years written with four digits.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let (min, max) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let span = u64::try_from(max - min).unwrap();
        let mut instants: Vec<Timestamp> = (0..20_000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let secs = min + i64::try_from((seed >> 1) % span).unwrap();
                Timestamp::from_second(secs).unwrap()
            })
            .collect();
        for edge in [
            "0000-01-01T00:00:00Z",
            "0009-12-31T23:59:59Z",
            "0999-12-31T23:59:59.5Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T12:00:09Z",
            "9999-12-30T21:59:59Z",
        ] {
            instants.push(edge.parse().unwrap());
        }
        instants.extend([Timestamp::MIN, Timestamp::MAX]);
        for t in instants {
            assert_eq!(
                rfc3339_seconds(t),
                t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "{t:?}"
            );
        }
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
