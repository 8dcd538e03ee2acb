//! Cron schedule checking with robfig/cron v3's error texts, as CronJob
//! validation reports them (`spec.schedule: Invalid value: "...": <err>`).
//!
//! Upstream truth: github.com/robfig/cron/v3 `parser.go` (`ParseStandard`,
//! `normalizeFields`, `getRange`, `mustParseInt`, `parseDescriptor`) and
//! `spec.go` (`SpecSchedule.Next`, `dayMatches`), which the CronJob
//! controller uses to find scheduled times (`Schedule::next_after`).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// robfig's `starBit`: the field was `*` or `?` (with step 1).
const STAR: u64 = 1 << 63;

/// A parsed schedule (times are taken in UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Bit sets of minute, hour, day of month, month, day of week.
    Spec {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
    },
    /// `@every <duration>`: a constant delay (whole seconds, at least 1s).
    Every(SignedDuration),
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const MONTHS: &[(&str, u32)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];
const DAYS: &[(&str, u32)] = &[
    ("sun", 0),
    ("mon", 1),
    ("tue", 2),
    ("wed", 3),
    ("thu", 4),
    ("fri", 5),
    ("sat", 6),
];

const FIELDS: [Bounds; 5] = [
    Bounds {
        min: 0,
        max: 59,
        names: &[],
    },
    Bounds {
        min: 0,
        max: 23,
        names: &[],
    },
    Bounds {
        min: 1,
        max: 31,
        names: &[],
    },
    Bounds {
        min: 1,
        max: 12,
        names: MONTHS,
    },
    Bounds {
        min: 0,
        max: 6,
        names: DAYS,
    },
];

/// `cron.ParseStandard(spec)`: `Ok(())` or robfig's error text.
pub fn parse_schedule(spec: &str) -> Result<(), String> {
    parse(spec).map(|_| ())
}

/// `cron.ParseStandard(spec)`: the schedule or robfig's error text.
pub fn parse(spec: &str) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let i = spec.find(' ').unwrap_or(spec.len());
        spec = spec[i..].trim();
    }
    if spec.starts_with('@') {
        return descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    let mut bits = [0u64; 5];
    for ((f, b), out) in fields.iter().zip(FIELDS.iter()).zip(bits.iter_mut()) {
        for expr in f.split(',') {
            *out |= range(expr, b)?;
        }
    }
    let [minute, hour, dom, month, dow] = bits;
    Ok(Schedule::Spec {
        minute,
        hour,
        dom,
        month,
        dow,
    })
}

/// Bits `lo..=hi`.
fn span(lo: u32, hi: u32) -> u64 {
    (lo..=hi).fold(0, |acc, i| acc | (1 << i))
}

fn descriptor(spec: &str) -> Result<Schedule, String> {
    let all = |b: &Bounds| span(b.min, b.max) | STAR;
    let fixed = |minute: u64, hour: u64, dom: u64, month: u64, dow: u64| Schedule::Spec {
        minute,
        hour,
        dom,
        month,
        dow,
    };
    let [_, h, d, m, w] = &FIELDS;
    match spec {
        "@yearly" | "@annually" => Ok(fixed(1, 1, 1 << 1, 1 << 1, all(w))),
        "@monthly" => Ok(fixed(1, 1, 1 << 1, all(m), all(w))),
        "@weekly" => Ok(fixed(1, 1, all(d), all(m), 1)),
        "@daily" | "@midnight" => Ok(fixed(1, 1, all(d), all(m), all(w))),
        "@hourly" => Ok(fixed(1, all(h), all(d), all(m), all(w))),
        s if s.starts_with("@every ") => {
            let d = &s["@every ".len()..];
            if go_duration_ok(d) {
                // robfig rounds the delay down to whole seconds, at least 1s.
                let secs = go_duration_secs(d).unwrap_or(1).max(1);
                Ok(Schedule::Every(SignedDuration::from_secs(secs)))
            } else {
                Err(format!(
                    "failed to parse duration {s}: time: invalid duration \"{d}\""
                ))
            }
        }
        s => Err(format!("unrecognized descriptor: {s}")),
    }
}

/// Whole seconds of a Go duration accepted by `go_duration_ok`.
fn go_duration_secs(d: &str) -> Option<i64> {
    let neg = d.starts_with('-');
    let d = d.strip_prefix(['+', '-']).unwrap_or(d);
    let mut total = 0f64;
    let mut rest = d;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            "" if num == 0.0 => 0.0,
            _ => return None,
        };
        total += num * scale;
        rest = &rest[u..];
    }
    let secs = total.floor().min(i64::MAX as f64) as i64;
    Some(if neg { -secs } else { secs })
}

/// Accepts Go `time.ParseDuration` forms such as `1h30m`, `90s`, `1.5h`.
fn go_duration_ok(d: &str) -> bool {
    let d = d.strip_prefix(['+', '-']).unwrap_or(d);
    if d == "0" {
        return true;
    }
    let b = d.as_bytes();
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        if i == start {
            return false;
        }
        let ustart = i;
        while i < b.len() && !(b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        if !matches!(
            &d[ustart..i],
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
        ) {
            return false;
        }
        any = true;
    }
    any
}

fn must_parse_int(expr: &str) -> Result<u32, String> {
    match expr.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {expr}")),
        Ok(n) => Ok(n.min(u32::MAX as i64) as u32),
        Err(_) => Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax"
        )),
    }
}

fn int_or_name(expr: &str, b: &Bounds) -> Result<u32, String> {
    let lower = expr.to_lowercase();
    if let Some((_, n)) = b.names.iter().find(|(name, _)| *name == lower) {
        return Ok(*n);
    }
    must_parse_int(expr)
}

fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let star = low_high[0] == "*" || low_high[0] == "?";
    let (start, mut end) = if star {
        (b.min, b.max)
    } else {
        let start = int_or_name(low_high[0], b)?;
        let end = match low_high.len() {
            1 => start,
            2 => int_or_name(low_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            if single {
                end = b.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    let mut bits = (start..=end)
        .step_by(step.min(64) as usize)
        .fold(0u64, |acc, i| acc | (1 << i));
    if star && step == 1 {
        bits |= STAR;
    }
    Ok(bits)
}

impl Schedule {
    /// `Schedule.Next`: the first activation strictly after `t` (None when
    /// there is none within five years, as robfig gives up).
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let (minute, hour, dom, month, dow) = match *self {
            Schedule::Every(d) => {
                let s = t.as_second().checked_add(d.as_secs())?;
                return Timestamp::from_second(s).ok();
            }
            Schedule::Spec {
                minute,
                hour,
                dom,
                month,
                dow,
            } => (minute, hour, dom, month, dow),
        };
        let has = |set: u64, v: i64| (0..63).contains(&v) && set & (1 << v) != 0;
        let day_matches = |dt: &DateTime| {
            let d = has(dom, i64::from(dt.day()));
            let w = has(dow, i64::from(dt.weekday().to_sunday_zero_offset()));
            if dom & STAR != 0 || dow & STAR != 0 {
                d && w
            } else {
                d || w
            }
        };
        // Start at the next whole minute.
        let start = t.as_second().div_euclid(60).checked_add(1)? * 60;
        let mut dt = Timestamp::from_second(start)
            .ok()?
            .to_zoned(TimeZone::UTC)
            .datetime();
        let limit = dt.year().saturating_add(5);
        while dt.year() <= limit {
            if !has(month, i64::from(dt.month())) {
                dt = dt
                    .first_of_month()
                    .start_of_day()
                    .checked_add(jiff::Span::new().months(1))
                    .ok()?;
                continue;
            }
            if !day_matches(&dt) {
                dt = dt
                    .start_of_day()
                    .checked_add(jiff::Span::new().days(1))
                    .ok()?;
                continue;
            }
            if !has(hour, i64::from(dt.hour())) {
                dt = dt
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(jiff::Span::new().hours(1))
                    .ok()?;
                continue;
            }
            if !has(minute, i64::from(dt.minute())) {
                dt = dt.checked_add(jiff::Span::new().minutes(1)).ok()?;
                continue;
            }
            return dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_schedule};
    use jiff::Timestamp;

    fn next(spec: &str, after: &str) -> String {
        let t: Timestamp = after.parse().unwrap();
        parse(spec)
            .unwrap()
            .next_after(t)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn next_activation_times() {
        let cases = [
            (
                "*/5 * * * *",
                "2025-05-01T10:00:00Z",
                "2025-05-01T10:05:00Z",
            ),
            (
                "*/5 * * * *",
                "2025-05-01T10:03:20Z",
                "2025-05-01T10:05:00Z",
            ),
            ("* * * * *", "2025-05-01T10:00:59Z", "2025-05-01T10:01:00Z"),
            ("@hourly", "2025-05-01T10:00:00Z", "2025-05-01T11:00:00Z"),
            ("@daily", "2025-05-01T10:00:00Z", "2025-05-02T00:00:00Z"),
            ("@weekly", "2025-05-01T10:00:00Z", "2025-05-04T00:00:00Z"),
            ("@monthly", "2025-05-01T10:00:00Z", "2025-06-01T00:00:00Z"),
            ("@yearly", "2025-05-01T10:00:00Z", "2026-01-01T00:00:00Z"),
            (
                "30 2 * * mon-fri",
                "2025-05-02T03:00:00Z",
                "2025-05-05T02:30:00Z",
            ),
            // Both day fields restricted: either matches.
            ("0 0 13 * 5", "2025-05-01T10:00:00Z", "2025-05-02T00:00:00Z"),
            ("0 0 31 2 *", "2025-05-01T10:00:00Z", ""),
            ("@every 90s", "2025-05-01T10:00:00Z", "2025-05-01T10:01:30Z"),
            (
                "0 12 29 feb *",
                "2025-05-01T10:00:00Z",
                "2028-02-29T12:00:00Z",
            ),
        ];
        for (spec, after, want) in cases {
            assert_eq!(next(spec, after), want, "{spec} after {after}");
        }
    }

    #[test]
    fn robfig_messages() {
        assert_eq!(parse_schedule("*/5 * * * *"), Ok(()));
        assert_eq!(parse_schedule("0 0 * JAN-MAR mon-fri"), Ok(()));
        assert_eq!(parse_schedule("@hourly"), Ok(()));
        assert_eq!(parse_schedule("@every 1h30m"), Ok(()));
        assert_eq!(
            parse_schedule("* * * *"),
            Err("expected exactly 5 fields, found 4: [* * * *]".into())
        );
        assert_eq!(
            parse_schedule("60 * * * *"),
            Err("end of range (60) above maximum (59): 60".into())
        );
        assert_eq!(
            parse_schedule("* * 0 * *"),
            Err("beginning of range (0) below minimum (1): 0".into())
        );
        assert_eq!(
            parse_schedule("5-1 * * * *"),
            Err("beginning of range (5) beyond end of range (1): 5-1".into())
        );
        assert_eq!(
            parse_schedule("x * * * *"),
            Err("failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax".into())
        );
        assert_eq!(
            parse_schedule("*/0 * * * *"),
            Err("step of range should be a positive number: */0".into())
        );
        assert_eq!(
            parse_schedule("@often"),
            Err("unrecognized descriptor: @often".into())
        );
    }
}
