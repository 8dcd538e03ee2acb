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

    /// serde_json's map (kdrill's vendored `VecMap`, see
    /// vendor/serde_json/PATCH.md) against a `BTreeMap` through every
    /// kind of change: a small map's lookups go by the key tags it keeps,
    /// which must follow inserts, removals, retains, entries and
    /// collects, across the size where it stops keeping them. Keys share
    /// lengths and first and last bytes, so tags collide. (Debug builds
    /// also check the tags against the keys after every change.)
    #[test]
    fn maps_find_every_key_through_any_change() {
        use std::collections::BTreeMap;
        // A seeded xorshift: the api layer uses nothing of the simulator's.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut below = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let keys: Vec<String> = (0..40)
            .map(|i| match i % 4 {
                0 => format!("k{i}"),
                1 => format!("key-{i}x"),
                2 => format!("{}z", "a".repeat(i % 19)),
                _ => format!("status{}", i % 7),
            })
            .collect();
        let mut map = Map::new();
        let mut model: BTreeMap<String, Value> = BTreeMap::new();
        for step in 0..4_000u64 {
            let k = &keys[below(keys.len() as u64) as usize];
            match below(7) {
                0 | 1 => {
                    map.insert(k.clone(), json!(step));
                    model.insert(k.clone(), json!(step));
                }
                2 => {
                    assert_eq!(map.remove(k), model.remove(k));
                }
                3 => {
                    *map.entry(k.clone()).or_insert(json!(0)) = json!(step);
                    model.insert(k.clone(), json!(step));
                }
                4 => {
                    if let serde_json::map::Entry::Occupied(e) = map.entry(k.clone()) {
                        e.remove();
                    }
                    model.remove(k);
                }
                5 if step % 10 == 0 => {
                    let keep = below(3);
                    map.retain(|k, _| k.len() as u64 % 3 != keep);
                    model.retain(|k, _| k.len() as u64 % 3 != keep);
                }
                _ => {
                    // Collected afresh, from the entries in reverse.
                    map = map
                        .iter()
                        .rev()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                }
            }
            let value = Value::Object(map.clone());
            for k in &keys {
                assert_eq!(map.get(k), model.get(k), "{k} after step {step}");
                assert_eq!(value.get(k.as_str()), model.get(k), "{k} after step {step}");
            }
            assert_eq!(value.get("absent"), None);
            assert_eq!(map.len(), model.len());
        }
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
