//! JSON Pointer lookups (RFC 6901) without allocating: the hot paths of
//! the simulator read fields like `/spec/nodeName` millions of times, and
//! `serde_json::Value::pointer` builds a `String` per path segment (two
//! `replace` calls each). Same answers as `Value::pointer`.

use serde_json::Value;
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

/// One step down from `target` by the raw (still escaped) token `raw`.
fn step<'a>(target: &'a Value, raw: &str) -> Option<&'a Value> {
    match target {
        Value::Object(map) => map.get(token(raw).as_ref()),
        Value::Array(list) => index(&token(raw)).and_then(|i| list.get(i)),
        _ => None,
    }
}

/// The value at `path` in `v` (`""` is `v` itself), like
/// `Value::pointer`. Splits by hand: the paths are short, and a `split`
/// iterator's searcher cost more than the lookups it fed.
pub fn pointer<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    let mut rest = path.strip_prefix('/')?;
    let mut target = v;
    loop {
        match rest.bytes().position(|b| b == b'/') {
            Some(i) => {
                target = step(target, &rest[..i])?;
                rest = &rest[i + 1..];
            }
            None => return step(target, rest),
        }
    }
}

/// Method form of [`pointer`] for `Value`s.
pub trait Pointer {
    /// The value at a JSON Pointer, like `Value::pointer` without its
    /// allocations.
    fn at(&self, path: &str) -> Option<&Value>;
}

impl Pointer for Value {
    fn at(&self, path: &str) -> Option<&Value> {
        pointer(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_as_serde_json_does() {
        let v = json!({
            "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
            "metadata": {"annotations": {"a/b": 1, "m~n": 2, "": 3}},
            "": {"x": 4},
        });
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
        ] {
            assert_eq!(pointer(&v, path), v.pointer(path), "{path}");
            assert_eq!(v.at(path), v.pointer(path), "{path}");
        }
        assert_eq!(pointer(&v, "/spec/containers/1/name"), Some(&json!("b")));
        assert_eq!(pointer(&v, "/metadata/annotations/a~1b"), Some(&json!(1)));
        assert_eq!(pointer(&v, "/spec/containers/01"), None);
    }
}
