//! Ages and durations as the API server prints them in Table cells.
//!
//! Upstream truth: `k8s.io/apimachinery/pkg/util/duration/duration.go` (`HumanDuration`)
//! and `translateTimestampSince` in `pkg/printers/internalversion/printers.go`.

use jiff::{SignedDuration, Timestamp};

/// `duration.HumanDuration`: "0s", "90s", "5m2s", "15m", "3h5m", "20h", "3d4h", "200d", "2y30d", "9y".
/// Up to one second in the future still reads "0s"; further is "<invalid>".
pub fn human_duration(d: SignedDuration) -> String {
    // Go: int(d.Seconds()) truncates toward zero.
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: the age of `ts` at `now`, or "<unknown>" when unset.
pub(crate) fn since(ts: Option<Timestamp>, now: Timestamp) -> String {
    match ts {
        Some(ts) => human_duration(now.duration_since(ts)),
        None => "<unknown>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> String {
        human_duration(SignedDuration::from_secs(s))
    }

    #[test]
    fn matches_upstream_human_duration_table() {
        // Cases from apimachinery duration_test.go TestHumanDuration.
        let cases: &[(i64, &str)] = &[
            (1, "1s"),
            (70, "70s"),
            (190, "3m10s"),
            (60 * 5, "5m"),
            (60 * 5 + 2, "5m2s"),
            (60 * 10, "10m"),
            (60 * 47, "47m"),
            (60 * 60 * 2 + 60 * 59, "179m"),
            (60 * 60 * 3, "3h"),
            (60 * 60 * 3 + 60 * 5, "3h5m"),
            (60 * 60 * 8, "8h"),
            (60 * 60 * 47 + 60 * 59, "47h"),
            (60 * 60 * 48, "2d"),
            (60 * 60 * 24 * 3 + 60 * 60 * 4, "3d4h"),
            (60 * 60 * 24 * 8, "8d"),
            (60 * 60 * 24 * 365 * 2 - 60 * 60 * 24, "729d"),
            (60 * 60 * 24 * 365 * 2, "2y"),
            (60 * 60 * 24 * 365 * 2 + 60 * 60 * 24 * 30, "2y30d"),
            (60 * 60 * 24 * 365 * 8, "8y"),
            (60 * 60 * 24 * 365 * 9 + 60 * 60 * 24 * 30, "9y"),
        ];
        for (s, want) in cases {
            assert_eq!(secs(*s), *want, "{s}s");
        }
    }

    #[test]
    fn near_future_is_zero_and_far_future_invalid() {
        assert_eq!(secs(0), "0s");
        assert_eq!(human_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(secs(-2), "<invalid>");
    }

    #[test]
    fn since_unset_is_unknown() {
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(since(None, now), "<unknown>");
        let then: Timestamp = "2024-05-01T11:55:00Z".parse().unwrap();
        assert_eq!(since(Some(then), now), "5m");
    }
}
