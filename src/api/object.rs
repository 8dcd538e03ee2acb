//! Building JSON objects field by field without `json!`: the macro grows
//! a map one key at a time and sends every interpolated value through the
//! serializer. The simulator builds a pod status or an Event on every
//! write, so its builders use these instead.

use serde_json::{Map, Value};

/// An object of the `Some` entries, in one allocation of exactly their
/// number. Keys given in sorted order are taken as they are (one
/// comparison each); others are sorted.
pub fn object<const N: usize>(entries: [(&str, Option<Value>); N]) -> Value {
    let mut present = Vec::with_capacity(entries.iter().filter(|(_, v)| v.is_some()).count());
    for (k, v) in entries {
        if let Some(v) = v {
            present.push((k.to_string(), v));
        }
    }
    Value::Object(Map::from_iter(present))
}

/// A string value.
pub fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// `n` in decimal, written at the end of `buf` (room for any `u64`), for a
/// number put in a string without a `String` of its own.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` is below 10, so the cast keeps it whole.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_hold_their_present_entries_in_key_order() {
        let o = object([
            ("b", Some(text("x"))),
            ("a", Some(json!(1))),
            ("c", None),
            ("", Some(json!(null))),
        ]);
        assert_eq!(o, json!({"a": 1, "b": "x", "": null}));
        assert_eq!(o.to_string(), r#"{"":null,"a":1,"b":"x"}"#);
        // A repeated key keeps its last value, as `insert` does.
        assert_eq!(
            object([("k", Some(json!(1))), ("k", Some(json!(2)))]),
            json!({"k": 2})
        );
        assert_eq!(object([("k", None)]), json!({}));
    }

    #[test]
    fn decimal_writes_any_u64() {
        let mut buf = [0u8; 20];
        for (n, want) in [(0, "0"), (7, "7"), (10, "10"), (4096, "4096")] {
            assert_eq!(decimal(n, &mut buf), want);
        }
        assert_eq!(decimal(u64::MAX, &mut buf), u64::MAX.to_string());
    }
}
