//! JSON Pointer lookups (RFC 6901) without allocating: the hot paths of
//! the simulator read fields like `/spec/nodeName` millions of times, and
//! `serde_json::Value::pointer` builds a `String` per path segment (two
//! `replace` calls each). Same answers as `Value::pointer`.

use serde_json::Value;
use serde_json::map::key_eq;
use std::borrow::Cow;

/// One unescaped reference token (`~1` is `/`, `~0` is `~`).
fn token(raw: &str) -> Cow<'_, str> {
    if raw.contains('~') {
        Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(raw)
    }
}

/// An array index as RFC 6901 allows it (no sign, no leading zeros).
fn index(s: &str) -> Option<usize> {
    if s.starts_with('+') || (s.starts_with('0') && s.len() != 1) {
        return None;
    }
    s.parse().ok()
}

/// One step down from `target` by the reference token `token`
/// (unescaped).
fn step<'a>(target: &'a Value, token: &str) -> Option<&'a Value> {
    match target {
        Value::Object(map) => map.get(token),
        Value::Array(list) => index(token).and_then(|i| list.get(i)),
        _ => None,
    }
}

/// Objects up to this many keys are searched by matching each key against
/// the rest of the path in place (a pod's `spec` has about 14 keys).
const SCAN: usize = 16;

/// Whether `bytes` hold neither `/` nor `~`: such a key is written in a
/// path as it is. Eight bytes at a time (a byte loop, or `memchr`, cost
/// more than the key lookups did).
fn plain(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether any byte of `word` is `b` (the zero-byte test on `word ^ b…`).
    let has = |word: u64, b: u8| {
        let x = word ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGH != 0
    };
    let clean = |word: u64| !has(word, b'/') && !has(word, b'~');
    let mut chunks = bytes.chunks_exact(8);
    let whole = chunks
        .by_ref()
        .all(|c| <[u8; 8]>::try_from(c).is_ok_and(|w| clean(u64::from_le_bytes(w))));
    // The rest, padded with zero bytes (neither `/` nor `~`).
    let rest = chunks
        .remainder()
        .iter()
        .fold(0u64, |word, &b| word << 8 | u64::from(b));
    whole && clean(rest)
}

/// The value under the first segment of `rest` (the path after a `/`),
/// and that segment's length in the path.
///
/// A small object is scanned, each key compared with the path where it
/// stands: a key matches when the path continues with it and then ends or
/// has a `/`. Most keys fail on that boundary byte without a byte
/// compare, and the segment's end is never searched for. Only a key that
/// a path must escape (one holding `/` or `~`) is looked up by the
/// unescaped segment instead.
fn next<'a>(target: &'a Value, rest: &str) -> Option<(&'a Value, usize)> {
    let path = rest.as_bytes();
    let small = matches!(target, Value::Object(map) if map.len() <= SCAN);
    if let Value::Object(map) = target
        && small
    {
        let found = map.iter().find_map(|(k, v)| {
            let key = k.as_bytes();
            let n = key.len();
            let boundary = path.len() == n || path.get(n) == Some(&b'/');
            (boundary && rest.get(..n).is_some_and(|p| key_eq(p, k)) && plain(key))
                .then_some((v, n))
        });
        if found.is_some() {
            return found;
        }
    }
    let n = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
    let raw = &rest[..n];
    let escaped = raw.bytes().any(|b| b == b'~');
    if small && !escaped {
        // Scanned already: no key is this segment.
        return None;
    }
    let found = if escaped {
        step(target, &token(raw))
    } else {
        step(target, raw)
    };
    found.map(|v| (v, n))
}

/// The value at `path` in `v` (`""` is `v` itself), like
/// `Value::pointer`, one segment at a time through [`next`].
pub fn pointer<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    let mut rest = path.strip_prefix('/')?;
    let mut target = v;
    loop {
        let (found, n) = next(target, rest)?;
        if n == rest.len() {
            return Some(found);
        }
        target = found;
        rest = &rest[n + 1..];
    }
}

/// The value under the object keys `keys` in turn (`["spec", "nodeName"]`
/// for `/spec/nodeName`), one `Value::get` each: for a path of constant
/// object keys on a hot path, cheaper than [`pointer`], which scans each
/// map against the rest of the path. No array indexes (`get` of a key on
/// an array is `None`) and no escapes.
#[inline]
pub fn get_in<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(*k))
}

/// Method forms of [`pointer`] and [`get_in`] for `Value`s.
pub trait Pointer {
    /// The value at a JSON Pointer, like `Value::pointer` without its
    /// allocations.
    fn at(&self, path: &str) -> Option<&Value>;
    /// The value under the object keys `keys` in turn ([`get_in`]).
    fn get_in(&self, keys: &[&str]) -> Option<&Value>;
}

impl Pointer for Value {
    fn at(&self, path: &str) -> Option<&Value> {
        pointer(self, path)
    }

    #[inline]
    fn get_in(&self, keys: &[&str]) -> Option<&Value> {
        get_in(self, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_finds_a_slash_or_tilde_anywhere() {
        assert!(plain(b""));
        assert!(plain(b"resourceVersion"));
        for len in 1..20 {
            for at in 0..len {
                for c in [b'/', b'~'] {
                    let mut key = vec![b'a'; len];
                    key[at] = c;
                    assert!(!plain(&key), "{len} {at} {c}");
                }
            }
        }
        // Bytes next to '/' (0x2f) and '~' (0x7e), and high bytes.
        assert!(plain(b".0}\x7f\x80\xff\xaf\xfe.0}\x7f\x80\xff\xaf\xfe."));
    }

    #[test]
    fn get_in_answers_as_the_pointer_of_the_same_keys() {
        let v = json!({"spec": {"nodeName": "n1", "containers": [{"name": "a"}], "n": null},
                       "a/b": {"c": 1}, "": {"": 2}});
        for keys in [
            &["spec", "nodeName"][..],
            &["spec", "containers"],
            &["spec", "n"],
            &["spec", "missing"],
            &["spec", "nodeName", "deeper"],
            &["spec", "containers", "name"],
            &["", ""],
            &[],
        ] {
            let path: String = keys.iter().map(|k| format!("/{k}")).collect();
            assert_eq!(v.get_in(keys), v.at(&path), "{path}");
        }
    }

    #[test]
    fn key_cmp_orders_as_str_does() {
        use serde_json::map::key_cmp;
        let keys = [
            "",
            "a",
            "aa",
            "ab",
            "b",
            "B",
            "é",
            "apiVersion",
            "api",
            "kind",
            "z\u{0}",
            "z",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(key_cmp(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
        // Maps built in and out of key order come out the same.
        let sorted: serde_json::Map<String, Value> = [("a", 1), ("b", 2), ("c", 3)]
            .map(|(k, v)| (k.to_string(), json!(v)))
            .into_iter()
            .collect();
        let shuffled: serde_json::Map<String, Value> = [("c", 3), ("a", 1), ("b", 2), ("a", 1)]
            .map(|(k, v)| (k.to_string(), json!(v)))
            .into_iter()
            .collect();
        assert_eq!(sorted, shuffled);
        assert_eq!(shuffled.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        let mut inserted = serde_json::Map::new();
        for k in ["kind", "apiVersion", "metadata", "", "spec", "apiVersion"] {
            inserted.insert(k.to_string(), json!(k));
        }
        assert_eq!(
            inserted.keys().collect::<Vec<_>>(),
            ["", "apiVersion", "kind", "metadata", "spec"]
        );
    }

    #[test]
    fn key_eq_is_equality_at_every_length_and_position() {
        for len in 0..40usize {
            let a: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            assert!(key_eq(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone().into_bytes();
                b[at] ^= 0x20;
                let b = String::from_utf8(b).expect("ascii");
                assert!(!key_eq(&a, &b), "{len} {at}");
            }
            let longer = format!("{a}a");
            assert!(!key_eq(&a, &longer), "{len}");
        }
    }

    #[test]
    fn answers_as_serde_json_does() {
        let v = json!({
            "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
            "metadata": {"annotations": {"a/b": 1, "m~n": 2, "": 3}},
            "": {"x": 4},
        });
        // More keys than `SCAN`: searched, not scanned.
        let mut v = v;
        v["big"] = (0..20)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        v["big"]["a/b"] = json!("slash");
        // A key that holds an escape sequence as it is.
        v["lit"] = json!({"a~1b": "literal", "a/b": "slash", "x": {"y": 1}});
        for path in [
            "",
            "/",
            "/spec",
            "/spec/nodeName",
            "/spec/nodeName/x",
            "/spec/containers/1/name",
            "/spec/containers/01/name",
            "/spec/containers/+1/name",
            "/spec/containers/2",
            "/spec/containers/-",
            "/metadata/annotations/a~1b",
            "/metadata/annotations/m~0n",
            "/metadata/annotations/a/b",
            "/metadata/annotations/",
            "//x",
            "spec",
            "/missing/deeper",
            "/metadata/annotations/a",
            "/spec/containers/1",
            "/spec/containers/1/",
            "/spec/nodeName/",
            "/spec/node",
            "/spec/nodeNameX",
            "/big/k7",
            "/big/k7/x",
            "/big/k1",
            "/big/a~1b",
            "/big/a/b",
            "/lit/a~1b",
            "/lit/a~01b",
            "/lit/x/y",
            "/lit/x~1y",
        ] {
            assert_eq!(pointer(&v, path), v.pointer(path), "{path}");
            assert_eq!(v.at(path), v.pointer(path), "{path}");
        }
        assert_eq!(pointer(&v, "/spec/containers/1/name"), Some(&json!("b")));
        assert_eq!(pointer(&v, "/metadata/annotations/a~1b"), Some(&json!(1)));
        assert_eq!(pointer(&v, "/spec/containers/01"), None);
        assert_eq!(pointer(&v, "/lit/a~1b"), Some(&json!("slash")));
        assert_eq!(pointer(&v, "/lit/a~01b"), Some(&json!("literal")));
    }
}
