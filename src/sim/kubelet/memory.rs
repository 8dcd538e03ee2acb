//! Compact containers for what the kubelet remembers per pod: a cluster
//! keeps one [`PodMemory`](super::PodMemory) per pod, so these trade a
//! little work on access for bytes.
//!
//! - [`LogBuf`]: a container's log lines in one byte buffer, each line
//!   stored as the length of the prefix it shares with the line before
//!   plus the rest (nginx's lines share `/docker-entrypoint.sh: ` or
//!   `2025/06/01 10:00:02 [notice] 1#1: `), with a 16-byte (time, end)
//!   stamp per line;
//! - [`ContainerMap`]: containers by name in a sorted `Vec` (a pod has a
//!   few; a B-tree node holds eleven slots whatever the map's length);
//! - [`Conditions`]: the four pod conditions the kubelet tracks, in place.

use super::containers::ContainerMemory;
use jiff::Timestamp;

/// One line's time and where it ends in [`LogBuf::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    secs: i64,
    nanos: i32,
    end: u32,
}

/// Log lines `(time, text)` in arrival order, front-coded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBuf {
    /// Per line: the shared prefix length (LEB128), then the rest.
    text: Vec<u8>,
    stamps: Vec<Stamp>,
    /// The last line in full (the next line's prefix comes from it); not
    /// kept between pushes, see [`LogBuf::shrink`].
    last: Option<String>,
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
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
fn get_varint(bytes: &[u8], pos: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0u32;
    while let Some(&b) = bytes.get(*pos) {
        *pos += 1;
        if shift < usize::BITS {
            n |= usize::from(b & 0x7f) << shift;
        }
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    n
}

/// Bytes `a` and `b` share at the start, cut to a char boundary of both.
fn shared_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while n > 0 && !(a.is_char_boundary(n) && b.is_char_boundary(n)) {
        n -= 1;
    }
    n
}

impl LogBuf {
    pub fn len(&self) -> usize {
        self.stamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stamps.is_empty()
    }

    /// The full text of the last line (decoded when not cached).
    fn last_line(&self) -> String {
        self.iter().last().map(|(_, l)| l).unwrap_or_default()
    }

    /// Appends a line. A buffer past 4 GiB takes no more lines.
    pub fn push(&mut self, at: Timestamp, line: &str) {
        let prev = match self.last.take() {
            Some(p) => p,
            None if self.is_empty() => String::new(),
            None => self.last_line(),
        };
        let shared = shared_prefix(&prev, line);
        let start = self.text.len();
        put_varint(&mut self.text, shared);
        self.text.extend_from_slice(&line.as_bytes()[shared..]);
        let Ok(end) = u32::try_from(self.text.len()) else {
            self.text.truncate(start);
            self.last = Some(prev);
            return;
        };
        self.stamps.push(Stamp {
            secs: at.as_second(),
            nanos: at.subsec_nanosecond(),
            end,
        });
        self.last = Some(line.to_string());
    }

    /// Releases spare capacity and the cached last line (call after a
    /// batch of pushes).
    pub fn shrink(&mut self) {
        self.last = None;
        self.text.shrink_to_fit();
        self.stamps.shrink_to_fit();
    }

    /// Keeps only the newest `n` lines.
    pub fn keep_last(&mut self, n: usize) {
        let drop = self.len().saturating_sub(n);
        if drop == 0 {
            return;
        }
        let Some((_, first)) = self.iter().nth(drop) else {
            *self = Self::default();
            return;
        };
        let cut = self.stamps[drop - 1].end as usize;
        // The new first line is stored whole; the ones after it keep their
        // bytes (they refer to their unchanged predecessor).
        let mut pos = cut;
        let old_shared = get_varint(&self.text, &mut pos);
        let first_end = self.stamps[drop].end as usize;
        let mut text = Vec::with_capacity(self.text.len() - cut + old_shared + 1);
        put_varint(&mut text, 0);
        text.extend_from_slice(first.as_bytes());
        let delta = text.len() as i64 - (first_end - cut) as i64;
        text.extend_from_slice(self.text.get(first_end..).unwrap_or_default());
        let stamps = self.stamps[drop..]
            .iter()
            .map(|s| Stamp {
                end: u32::try_from(i64::from(s.end) - cut as i64 + delta).unwrap_or(u32::MAX),
                ..*s
            })
            .collect();
        self.text = text;
        self.stamps = stamps;
    }

    /// The lines, oldest first.
    pub fn iter(&self) -> LogIter<'_> {
        LogIter {
            buf: self,
            next: 0,
            line: String::new(),
        }
    }

    /// The lines as `(time, text)` pairs.
    pub fn to_vec(&self) -> Vec<(Timestamp, String)> {
        self.iter().collect()
    }
}

/// Decodes a [`LogBuf`] line by line.
pub struct LogIter<'a> {
    buf: &'a LogBuf,
    next: usize,
    /// The line decoded last (the next one's prefix).
    line: String,
}

impl Iterator for LogIter<'_> {
    type Item = (Timestamp, String);

    fn next(&mut self) -> Option<Self::Item> {
        let s = *self.buf.stamps.get(self.next)?;
        let mut pos = match self.next {
            0 => 0,
            i => self.buf.stamps[i - 1].end as usize,
        };
        self.next += 1;
        let shared = get_varint(&self.buf.text, &mut pos);
        let mut keep = shared.min(self.line.len());
        while !self.line.is_char_boundary(keep) {
            keep -= 1;
        }
        self.line.truncate(keep);
        let rest = self.buf.text.get(pos..s.end as usize).unwrap_or_default();
        self.line.push_str(&String::from_utf8_lossy(rest));
        let at = Timestamp::new(s.secs, s.nanos).unwrap_or(Timestamp::UNIX_EPOCH);
        Some((at, self.line.clone()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.buf.len().saturating_sub(self.next);
        (n, Some(n))
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

/// Status and lastTransitionTime of the pod conditions the kubelet sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions([Option<(bool, Timestamp)>; 4]);

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

    pub fn get(&self, ty: &str) -> Option<&(bool, Timestamp)> {
        Self::slot(ty).and_then(|i| self.0[i].as_ref())
    }

    /// Sets a condition; a type not in [`Conditions::TYPES`] is ignored.
    pub fn insert(&mut self, ty: &str, value: (bool, Timestamp)) {
        if let Some(i) = Self::slot(ty) {
            self.0[i] = Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64, n: i32) -> Timestamp {
        Timestamp::new(s, n).expect("ts")
    }

    fn filled(lines: &[&str]) -> LogBuf {
        let mut b = LogBuf::default();
        for (i, l) in lines.iter().enumerate() {
            b.push(ts(1_748_772_000 + i as i64, 509_000_000), l);
        }
        b.shrink();
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
                .map(|(i, l)| (ts(1_748_772_000 + i as i64, 509_000_000), l.to_string()))
                .collect();
            assert_eq!(got, want, "{lines:?}");
        }
    }

    #[test]
    fn pushing_after_shrink_continues_from_the_decoded_last_line() {
        let mut b = filled(&NGINX[..4]);
        b.push(ts(9, 1), NGINX[4]);
        b.push(ts(10, 0), "/docker-entrypoint.sh: again");
        let got: Vec<String> = b.iter().map(|(_, l)| l).collect();
        assert_eq!(got[4], NGINX[4]);
        assert_eq!(got[5], "/docker-entrypoint.sh: again");
        assert_eq!(b.to_vec()[4].0, ts(9, 1));
    }

    #[test]
    fn shared_prefixes_are_stored_once() {
        let b = filled(&NGINX[..5]);
        let whole: usize = NGINX[..5].iter().map(|l| l.len()).sum();
        assert!(b.text.len() < whole - 60, "{} of {whole}", b.text.len());
    }

    #[test]
    fn keep_last_drops_the_oldest() {
        for keep in 0..=NGINX.len() + 1 {
            let mut b = filled(&NGINX);
            b.keep_last(keep);
            let all = filled(&NGINX).to_vec();
            let want = all[all.len().saturating_sub(keep)..].to_vec();
            assert_eq!(b.to_vec(), want, "keep {keep}");
            b.push(ts(1, 0), "2025/06/01 10:00:02 [notice] 1#1: more");
            assert_eq!(
                b.to_vec().last().map(|l| l.1.clone()).as_deref(),
                Some("2025/06/01 10:00:02 [notice] 1#1: more")
            );
        }
    }

    #[test]
    fn timestamps_keep_their_nanoseconds_and_sign() {
        let mut b = LogBuf::default();
        for t in [ts(0, 0), ts(-5, -1), ts(1_748_772_002, 529_000_001)] {
            b.push(t, "l");
        }
        let got: Vec<Timestamp> = b.iter().map(|(t, _)| t).collect();
        assert_eq!(got, [ts(0, 0), ts(-5, -1), ts(1_748_772_002, 529_000_001)]);
    }

    #[test]
    fn varints_round_trip() {
        for n in [0usize, 1, 127, 128, 300, 16_383, 16_384, usize::MAX] {
            let mut v = Vec::new();
            put_varint(&mut v, n);
            let mut pos = 0;
            assert_eq!(get_varint(&v, &mut pos), n);
            assert_eq!(pos, v.len());
        }
        // A truncated number does not read past the end.
        let mut pos = 0;
        assert_eq!(get_varint(&[0x80], &mut pos), 0);
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
        assert_eq!(c.get("Ready"), Some(&(true, ts(3, 0))));
        assert_eq!(c.get("PodScheduled"), None);
        assert_eq!(c.get("Initialized"), None);
    }
}
