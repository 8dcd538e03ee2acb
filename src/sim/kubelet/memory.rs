//! Compact containers for what the kubelet remembers per pod: a cluster
//! keeps one [`PodMemory`](super::PodMemory) per pod, so these trade a
//! little work on access for bytes.
//!
//! - [`LogBuf`]: a container's log lines in one byte buffer, each line
//!   coded against the line before: its time as a change (lines of a burst
//!   share it), and only what follows the prefix the two share (nginx's
//!   lines share `/docker-entrypoint.sh: ` or
//!   `2025/06/01 10:00:02 [notice] 1#1: `);
//! - [`ContainerMap`]: containers by name in a sorted `Vec` (a pod has a
//!   few; a B-tree node holds eleven slots whatever the map's length);
//! - [`Conditions`]: the four pod conditions the kubelet tracks, in place
//!   (16 bytes each);
//! - [`Sparse`]: probe timers, retry back-offs and mount retries, boxed
//!   only while some are set.

use super::containers::{ContainerMemory, Probes, Retry};
use jiff::Timestamp;

/// Log lines `(time, text)` in arrival order, in one byte buffer.
///
/// Per line: the change of seconds and of nanoseconds from the line
/// before (zigzag LEB128; lines of one burst share their time), the length
/// of the prefix shared with the line before, the rest's length, the rest.
/// Lines are read in order only ([`LogBuf::iter`]); they are added through
/// a [`LogWriter`], which gives back spare capacity when dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBuf {
    bytes: Vec<u8>,
    count: u32,
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads a LEB128 number at `*pos`, moving past it.
fn get_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0u32;
    while let Some(&b) = bytes.get(*pos) {
        *pos += 1;
        if shift < u64::BITS {
            n |= u64::from(b & 0x7f) << shift;
        }
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    n
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Bytes `a` and `b` share at the start, cut to a char boundary of both.
fn shared_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while n > 0 && !(a.is_char_boundary(n) && b.is_char_boundary(n)) {
        n -= 1;
    }
    n
}

/// A line as the codec sees it: seconds, nanoseconds, text.
#[derive(Debug, Clone, Default)]
struct Line {
    secs: i64,
    nanos: i32,
    text: String,
}

/// Appends `line` coded against `prev`.
fn encode(out: &mut Vec<u8>, prev: &Line, line: &Line) {
    put_varint(out, zigzag(line.secs.wrapping_sub(prev.secs)));
    put_varint(
        out,
        zigzag(i64::from(line.nanos).wrapping_sub(i64::from(prev.nanos))),
    );
    let shared = shared_prefix(&prev.text, &line.text);
    let rest = &line.text.as_bytes()[shared..];
    put_varint(out, shared as u64);
    put_varint(out, rest.len() as u64);
    out.extend_from_slice(rest);
}

/// Reads the line at `*pos` into `line` (which holds the one before).
fn decode(bytes: &[u8], pos: &mut usize, line: &mut Line) {
    line.secs = line.secs.wrapping_add(unzigzag(get_varint(bytes, pos)));
    let nanos = i64::from(line.nanos).wrapping_add(unzigzag(get_varint(bytes, pos)));
    line.nanos = i32::try_from(nanos).unwrap_or_default();
    let shared = usize::try_from(get_varint(bytes, pos)).unwrap_or(usize::MAX);
    let len = usize::try_from(get_varint(bytes, pos)).unwrap_or(usize::MAX);
    let mut keep = shared.min(line.text.len());
    while !line.text.is_char_boundary(keep) {
        keep -= 1;
    }
    line.text.truncate(keep);
    let end = pos.saturating_add(len).min(bytes.len());
    line.text.push_str(&String::from_utf8_lossy(
        bytes.get(*pos..end).unwrap_or_default(),
    ));
    *pos = end;
}

impl LogBuf {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds lines; the buffer is trimmed to size when the writer drops.
    pub fn writer(&mut self) -> LogWriter<'_> {
        LogWriter {
            buf: self,
            last: None,
        }
    }

    /// Keeps only the newest `n` lines.
    pub fn keep_last(&mut self, n: usize) {
        let drop = self.len().saturating_sub(n);
        if drop == 0 {
            return;
        }
        if drop >= self.len() {
            *self = Self::default();
            return;
        }
        // The new first line is coded whole; the ones after it keep their
        // bytes (they refer to their unchanged predecessor).
        let (mut pos, mut line) = (0, Line::default());
        for _ in 0..=drop {
            decode(&self.bytes, &mut pos, &mut line);
        }
        let mut bytes = Vec::with_capacity(self.bytes.len() - pos + line.text.len() + 20);
        encode(&mut bytes, &Line::default(), &line);
        bytes.extend_from_slice(self.bytes.get(pos..).unwrap_or_default());
        self.bytes = bytes;
        self.count -= drop as u32;
    }

    /// The lines, oldest first.
    pub fn iter(&self) -> LogIter<'_> {
        LogIter {
            buf: self,
            left: self.count,
            pos: 0,
            line: Line::default(),
        }
    }

    /// The lines as `(time, text)` pairs.
    pub fn to_vec(&self) -> Vec<(Timestamp, String)> {
        self.iter().collect()
    }
}

/// Appends to a [`LogBuf`]; gives back its spare capacity when dropped.
pub struct LogWriter<'a> {
    buf: &'a mut LogBuf,
    /// The last line in full (the next line is coded against it).
    last: Option<Line>,
}

impl LogWriter<'_> {
    /// Appends a line (a buffer holding `u32::MAX` lines takes no more).
    pub fn push(&mut self, at: Timestamp, text: impl Into<String>) {
        if self.buf.count == u32::MAX {
            return;
        }
        let prev = match self.last.take() {
            Some(l) => l,
            None => {
                let (mut pos, mut line) = (0, Line::default());
                for _ in 0..self.buf.count {
                    decode(&self.buf.bytes, &mut pos, &mut line);
                }
                line
            }
        };
        let line = Line {
            secs: at.as_second(),
            nanos: at.subsec_nanosecond(),
            text: text.into(),
        };
        encode(&mut self.buf.bytes, &prev, &line);
        self.buf.count += 1;
        self.last = Some(line);
    }
}

impl Drop for LogWriter<'_> {
    fn drop(&mut self) {
        self.buf.bytes.shrink_to_fit();
    }
}

/// Decodes a [`LogBuf`] line by line.
pub struct LogIter<'a> {
    buf: &'a LogBuf,
    left: u32,
    pos: usize,
    /// The line decoded last (the next one is coded against it).
    line: Line,
}

impl Iterator for LogIter<'_> {
    type Item = (Timestamp, String);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        decode(&self.buf.bytes, &mut self.pos, &mut self.line);
        let at = Timestamp::new(self.line.secs, self.line.nanos).unwrap_or(Timestamp::UNIX_EPOCH);
        Some((at, self.line.text.clone()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// A pod's containers by name, sorted (as a `BTreeMap` iterates).
#[derive(Debug, Clone, Default)]
pub struct ContainerMap(Vec<(String, Box<ContainerMemory>)>);

impl ContainerMap {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&ContainerMemory> {
        self.find(name).ok().map(|i| &*self.0[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut ContainerMemory> {
        self.find(name).ok().map(|i| &mut *self.0[i].1)
    }

    /// The container's memory, created empty when new.
    pub fn slot(&mut self, name: &str) -> &mut ContainerMemory {
        let i = match self.find(name) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (name.to_string(), Box::default()));
                self.0.shrink_to_fit();
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut ContainerMemory> {
        self.0.iter_mut().map(|(_, c)| &mut **c)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(n, _)| n)
    }

    pub fn values(&self) -> impl Iterator<Item = &ContainerMemory> {
        self.0.iter().map(|(_, c)| &**c)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One condition's status and lastTransitionTime, in 16 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cond {
    secs: i64,
    nanos: i32,
    /// 0: never set, 1: False, 2: True.
    status: u8,
}

/// Status and lastTransitionTime of the pod conditions the kubelet sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions([Cond; 4]);

impl Conditions {
    /// The condition types, in slot order.
    pub const TYPES: [&'static str; 4] = [
        "PodReadyToStartContainers",
        "Initialized",
        "ContainersReady",
        "Ready",
    ];

    fn slot(ty: &str) -> Option<usize> {
        Self::TYPES.iter().position(|t| *t == ty)
    }

    pub fn get(&self, ty: &str) -> Option<(bool, Timestamp)> {
        let c = self.0[Self::slot(ty)?];
        let at = Timestamp::new(c.secs, c.nanos).unwrap_or(Timestamp::UNIX_EPOCH);
        (c.status != 0).then_some((c.status == 2, at))
    }

    /// Sets a condition; a type not in [`Conditions::TYPES`] is ignored.
    pub fn insert(&mut self, ty: &str, (status, at): (bool, Timestamp)) {
        if let Some(i) = Self::slot(ty) {
            self.0[i] = Cond {
                secs: at.as_second(),
                nanos: at.subsec_nanosecond(),
                status: if status { 2 } else { 1 },
            };
        }
    }
}

/// A value that is its type's [`Empty::EMPTY`] most of the time.
pub trait Empty: Default + PartialEq + 'static {
    const EMPTY: &'static Self;
}

impl Empty for Probes {
    const EMPTY: &'static Self = &Probes {
        next_startup: None,
        next_liveness: None,
        next_readiness: None,
        startup_failures: 0,
        liveness_failures: 0,
        readiness_failures: 0,
        readiness_successes: 0,
    };
}

impl Empty for Retry {
    const EMPTY: &'static Self = &Retry {
        crash_backoff: None,
        pull_backoff: None,
        pull_error: None,
        next_retry: None,
    };
}

/// Volume mounts that keep failing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    /// (first failure, next retry, current delay in ms).
    pub retry: Option<(Timestamp, Timestamp, i64)>,
    /// When the "Unable to attach or mount volumes" timeout fires next.
    pub timeout_at: Option<Timestamp>,
}

impl Empty for Mount {
    const EMPTY: &'static Self = &Mount {
        retry: None,
        timeout_at: None,
    };
}

/// A `T` kept in a box only while it is not empty: reads as
/// [`Empty::EMPTY`] otherwise; a write boxes it, [`Sparse::tidy`] frees
/// the box once it is empty again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sparse<T: Empty>(Option<Box<T>>);

impl<T: Empty> std::ops::Deref for Sparse<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or(T::EMPTY)
    }
}

impl<T: Empty> std::ops::DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: Empty> Sparse<T> {
    /// Frees the box when its value is empty.
    pub fn tidy(&mut self) {
        if self.0.as_deref() == Some(T::EMPTY) {
            self.0 = None;
        }
    }
}

/// A container's probe workers' state.
pub type ProbeState = Sparse<Probes>;

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64, n: i32) -> Timestamp {
        Timestamp::new(s, n).expect("ts")
    }

    fn filled(lines: &[&str]) -> LogBuf {
        let mut b = LogBuf::default();
        let mut w = b.writer();
        for (i, l) in lines.iter().enumerate() {
            w.push(ts(1_748_772_000 + i as i64 / 3, 509_000_000), *l);
        }
        drop(w);
        b
    }

    const NGINX: [&str; 7] = [
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
        "2025/06/01 10:00:02 [notice] 1#1: using the \"epoll\" event method",
        "2025/06/01 10:00:02 [notice] 1#1: nginx/1.27.5",
        "",
        "héllo wörld ✓ ünïcode",
    ];

    #[test]
    fn lines_come_back_as_pushed() {
        let cases: &[&[&str]] = &[
            &[],
            &["one"],
            &NGINX,
            &["same", "same", "same", "sam", "samex", ""],
            &["é", "è", "éa", "ée", "ü✓", "ü✔"],
            &["x\ny", "x\nz", "\u{0}", "\u{0}\u{0}"],
        ];
        for lines in cases {
            let b = filled(lines);
            assert_eq!(b.len(), lines.len());
            assert_eq!(b.is_empty(), lines.is_empty());
            let got = b.to_vec();
            let want: Vec<(Timestamp, String)> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| (ts(1_748_772_000 + i as i64 / 3, 509_000_000), l.to_string()))
                .collect();
            assert_eq!(got, want, "{lines:?}");
        }
    }

    #[test]
    fn a_new_writer_continues_from_the_decoded_last_line() {
        let mut b = filled(&NGINX[..4]);
        let mut w = b.writer();
        w.push(ts(9, 1), NGINX[4]);
        w.push(ts(10, 0), "/docker-entrypoint.sh: again");
        drop(w);
        let got: Vec<String> = b.iter().map(|(_, l)| l).collect();
        assert_eq!(got[4], NGINX[4]);
        assert_eq!(got[5], "/docker-entrypoint.sh: again");
        assert_eq!(b.to_vec()[4].0, ts(9, 1));
    }

    #[test]
    fn shared_prefixes_are_stored_once() {
        let b = filled(&NGINX[..5]);
        let whole: usize = NGINX[..5].iter().map(|l| l.len()).sum();
        assert!(b.bytes.len() < whole - 40, "{} of {whole}", b.bytes.len());
        assert_eq!(b.bytes.capacity(), b.bytes.len());
    }

    #[test]
    fn keep_last_drops_the_oldest() {
        for keep in 0..=NGINX.len() + 1 {
            let mut b = filled(&NGINX);
            b.keep_last(keep);
            let all = filled(&NGINX).to_vec();
            let want = all[all.len().saturating_sub(keep)..].to_vec();
            assert_eq!(b.to_vec(), want, "keep {keep}");
            b.writer()
                .push(ts(1, 0), "2025/06/01 10:00:02 [notice] 1#1: more");
            assert_eq!(
                b.to_vec().last().map(|l| l.1.clone()).as_deref(),
                Some("2025/06/01 10:00:02 [notice] 1#1: more")
            );
        }
    }

    #[test]
    fn timestamps_keep_their_nanoseconds_and_sign() {
        let mut b = LogBuf::default();
        let mut w = b.writer();
        for t in [
            ts(0, 0),
            ts(-5, -1),
            ts(1_748_772_002, 529_000_001),
            Timestamp::MIN,
            Timestamp::MAX,
        ] {
            w.push(t, "l");
        }
        drop(w);
        let got: Vec<Timestamp> = b.iter().map(|(t, _)| t).collect();
        assert_eq!(
            got,
            [
                ts(0, 0),
                ts(-5, -1),
                ts(1_748_772_002, 529_000_001),
                Timestamp::MIN,
                Timestamp::MAX
            ]
        );
    }

    #[test]
    fn varints_round_trip() {
        for n in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::MAX] {
            let mut v = Vec::new();
            put_varint(&mut v, n);
            let mut pos = 0;
            assert_eq!(get_varint(&v, &mut pos), n);
            assert_eq!(pos, v.len());
        }
        // A truncated number does not read past the end.
        let mut pos = 0;
        assert_eq!(get_varint(&[0x80], &mut pos), 0);
        for n in [0i64, 1, -1, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
    }

    #[test]
    fn containers_stay_sorted_and_conditions_ignore_other_types() {
        let mut m = ContainerMap::default();
        for n in ["web", "app", "sidecar", "app"] {
            m.slot(n).restart_count += 1;
        }
        assert_eq!(m.keys().collect::<Vec<_>>(), ["app", "sidecar", "web"]);
        assert_eq!(m.get("app").map(|c| c.restart_count), Some(2));
        assert!(m.get("db").is_none());
        assert_eq!(m.len(), 3);
        let mut c = Conditions::default();
        c.insert("Ready", (true, ts(3, 0)));
        c.insert("PodScheduled", (true, ts(4, 0)));
        assert_eq!(c.get("Ready"), Some((true, ts(3, 0))));
        c.insert("Initialized", (false, ts(-2, -5)));
        assert_eq!(c.get("Initialized"), Some((false, ts(-2, -5))));
        assert_eq!(c.get("PodScheduled"), None);
        assert_eq!(c.get("ContainersReady"), None);
    }

    #[test]
    fn probe_state_is_boxed_only_while_something_is_set() {
        let mut p = ProbeState::default();
        assert_eq!(*p, Probes::default());
        p.next_liveness = Some(ts(5, 0));
        p.tidy();
        assert_eq!(p.next_liveness, Some(ts(5, 0)));
        assert!(p.0.is_some());
        p.next_liveness = None;
        p.tidy();
        assert!(p.0.is_none());
        assert_eq!(p, ProbeState::default());
        let mut r = Sparse::<Retry>::default();
        assert_eq!(r.pull_error, None);
        r.pull_error = Some("x".into());
        r.tidy();
        assert_eq!(r.pull_error.as_deref(), Some("x"));
        r.pull_error = None;
        r.tidy();
        assert!(r.0.is_none());
    }
}
