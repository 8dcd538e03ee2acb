//! JSON merge patch (RFC 7386, `application/merge-patch+json`) and JSON
//! patch (RFC 6902, `application/json-patch+json`) as the apiserver applies
//! them.
//!
//! Upstream truth: evanphx/json-patch v4 (`gopkg.in/evanphx/json-patch.v4`,
//! `merge.go` `MergePatch`/`mergeDocs`/`pruneNulls` and `patch.go`
//! `Patch.Apply`, including its quirks: `replace` of a missing object key
//! adds it, negative array indices count from the end, `test` on objects
//! only checks the document's keys), and apiserver
//! `pkg/endpoints/handlers/patch.go` `applyJSPatch` for the error mapping
//! (decode errors 400, too many operations 413, any apply failure 422).

use serde_json::{Map, Value};

use super::error::{ERR_BAD_JSON_PATCH, MAX_JSON_PATCH_OPERATIONS, PatchError};
use super::strategic::json_kind;

type Obj = Map<String, Value>;

/// RFC 7386 merge patch with evanphx v4 semantics. A non-object patch
/// replaces the document (nulls inside it pruned).
pub fn apply_merge(original: &Value, patch: &Value) -> Value {
    match (original, patch) {
        (Value::Object(doc), Value::Object(p)) => Value::Object(merge_docs(doc.clone(), p)),
        (_, p) => {
            let mut p = p.clone();
            prune_nulls(&mut p);
            p
        }
    }
}

/// [`apply_merge`] behind the apiserver's checks of the patch body: a
/// `null` patch is `Invalid JSON Patch`, anything but an object fails the
/// (strict) decode into a map. Both are 400s.
pub fn apply_merge_checked(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    match patch {
        Value::Object(_) => Ok(apply_merge(original, patch)),
        Value::Null => Err(PatchError::BadRequest(ERR_BAD_JSON_PATCH.into())),
        other => Err(PatchError::BadRequest(format!(
            "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(other)
        ))),
    }
}

fn merge_docs(mut doc: Obj, patch: &Obj) -> Obj {
    for (k, v) in patch {
        if v.is_null() {
            doc.remove(k);
            continue;
        }
        let merged = match doc.remove(k) {
            Some(cur) if !cur.is_null() => merge_value(cur, v),
            _ => {
                let mut v = v.clone();
                prune_nulls(&mut v);
                v
            }
        };
        doc.insert(k.clone(), merged);
    }
    doc
}

/// evanphx `merge`: objects merge; otherwise the patch value wins, pruned
/// only when the current value was not an object.
fn merge_value(cur: Value, patch: &Value) -> Value {
    match (cur, patch) {
        (Value::Object(c), Value::Object(p)) => Value::Object(merge_docs(c, p)),
        (Value::Object(_), p) => p.clone(),
        (_, p) => {
            let mut p = p.clone();
            prune_nulls(&mut p);
            p
        }
    }
}

/// `pruneNulls`: drops null members of objects at any depth; null array
/// elements stay.
fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

/// Applies an RFC 6902 patch atomically: on any failure the original is
/// untouched and the error says how the apiserver answers.
pub fn apply_json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = decode_ops(patch)?;
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations { count: ops.len() });
    }
    let empty = Obj::new();
    let mut doc = original.clone();
    for op in ops {
        apply_op(&mut doc, op.unwrap_or(&empty))
            .map_err(|detail| PatchError::Unprocessable { detail })?;
    }
    Ok(doc)
}

fn decode_error(msg: String) -> PatchError {
    PatchError::BadRequest(format!("error decoding patch: {msg}"))
}

/// The strict decode into `[]jsonPatchOp` the apiserver runs first. A
/// `null` element decodes to an operation with no fields.
fn decode_ops(patch: &Value) -> Result<Vec<Option<&Obj>>, PatchError> {
    let list = match patch {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        other => {
            return Err(decode_error(format!(
                "json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
                json_kind(other)
            )));
        }
    };
    let mut ops = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(op) = item else {
            if item.is_null() {
                ops.push(None);
                continue;
            }
            return Err(decode_error(format!(
                "json: cannot unmarshal {} into Go value of type handlers.jsonPatchOp",
                json_kind(item)
            )));
        };
        for field in ["op", "path", "from"] {
            match op.get(field) {
                None | Some(Value::Null) | Some(Value::String(_)) => {}
                Some(other) => {
                    return Err(decode_error(format!(
                        "json: cannot unmarshal {} into Go struct field jsonPatchOp.{field} of type string",
                        json_kind(other)
                    )));
                }
            }
        }
        ops.push(Some(op));
    }
    Ok(ops)
}

fn str_field<'a>(op: &'a Obj, name: &str) -> Option<&'a str> {
    op.get(name).and_then(Value::as_str)
}

fn apply_op(doc: &mut Value, op: &Obj) -> Result<(), String> {
    let kind = str_field(op, "op").unwrap_or("unknown");
    let path = str_field(op, "path");
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let missing_path = |what: &str| {
        format!(
            "{what} operation failed to decode path: operation missing path field: missing value"
        )
    };
    match kind {
        "add" => {
            let path = path
                .ok_or_else(|| "add operation failed to decode path: missing value".to_string())?;
            let (con, key) = find_object(doc, path).ok_or_else(|| {
                format!(
                    "add operation does not apply: doc is missing path: \"{path}\": missing value"
                )
            })?;
            add(con, &key, value).map_err(|e| format!("error in add for path: '{path}': {e}"))
        }
        "remove" => {
            let path = path.ok_or_else(|| {
                "remove operation failed to decode path: missing value".to_string()
            })?;
            let (con, key) = find_object(doc, path).ok_or_else(|| {
                format!("remove operation does not apply: doc is missing path: \"{path}\": missing value")
            })?;
            remove(con, &key)
                .map(drop)
                .map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "replace" => {
            let path = path.ok_or_else(|| missing_path("replace"))?;
            let (con, key) = find_object(doc, path).ok_or_else(|| {
                format!(
                    "replace operation does not apply: doc is missing path: {path}: missing value"
                )
            })?;
            get(con, &key).map_err(|_| {
                format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                )
            })?;
            set(con, &key, value).map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "move" => {
            let from = str_field(op, "from").ok_or_else(|| {
                "move operation failed to decode from: operation, missing from field: missing value".to_string()
            })?;
            let (con, key) = find_object(doc, from).ok_or_else(|| {
                format!(
                    "move operation does not apply: doc is missing from path: {from}: missing value"
                )
            })?;
            get(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let val =
                remove(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let path = path.ok_or_else(|| missing_path("move"))?;
            let (con, key) = find_object(doc, path).ok_or_else(|| {
                format!("move operation does not apply: doc is missing destination path: {path}: missing value")
            })?;
            add(con, &key, val).map_err(|e| format!("error in move for path: '{path}': {e}"))
        }
        "test" => {
            let path = path.ok_or_else(|| missing_path("test"))?;
            let (con, key) = find_object(doc, path).ok_or_else(|| {
                format!("test operation does not apply: is missing path: {path}: missing value")
            })?;
            let current =
                get(con, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
            let ok = match current {
                None | Some(Value::Null) => value.is_null(),
                Some(cur) => op.contains_key("value") && lazy_equal(cur, &value),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("testing value {path} failed: test failed"))
            }
        }
        "copy" => {
            let from = str_field(op, "from").ok_or_else(|| {
                "copy operation failed to decode from: operation, missing from field: missing value".to_string()
            })?;
            let (con, key) = find_object(doc, from).ok_or_else(|| {
                format!(
                    "copy operation does not apply: doc is missing from path: {from}: missing value"
                )
            })?;
            let val = get(con, &key)
                .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
                .cloned()
                .unwrap_or(Value::Null);
            let path = path
                .ok_or_else(|| "copy operation failed to decode path: missing value".to_string())?;
            let (con, key) = find_object(doc, path).ok_or_else(|| {
                format!("copy operation does not apply: doc is missing destination path: {path}: missing value")
            })?;
            add(con, &key, val).map_err(|e| format!("error while adding value during copy: {e}"))
        }
        other => Err(format!("Unexpected kind: {other}")),
    }
}

/// evanphx `lazyNode.equal`: scalars by value, arrays element-wise, and
/// for objects every key of the document must match in the test value.
fn lazy_equal(doc: &Value, test: &Value) -> bool {
    match (doc, test) {
        (Value::Object(d), Value::Object(t)) => d.iter().all(|(k, v)| match t.get(k) {
            Some(tv) if v.is_null() && tv.is_null() => true,
            Some(tv) => lazy_equal(v, tv),
            None => false,
        }),
        (Value::Array(d), Value::Array(t)) => {
            d.len() == t.len() && d.iter().zip(t).all(|(a, b)| lazy_equal(a, b))
        }
        (Value::Object(_) | Value::Array(_), _) => false,
        (a, b) => a == b,
    }
}

/// RFC 6901 token unescaping (`decodePatchKey`).
fn decode_key(k: &str) -> String {
    k.replace("~1", "/").replace("~0", "~")
}

/// `findObject`: the container holding the last token, and that token.
fn find_object<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let (last, parts) = split[1..].split_last()?;
    let mut cur = doc;
    for part in parts {
        let key = decode_key(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&key)?,
            Value::Array(a) => {
                let i = array_index(&key, a.len(), false).ok()?;
                a.get_mut(i)?
            }
            _ => return None,
        };
        if !(next.is_object() || next.is_array()) {
            return None;
        }
        cur = next;
    }
    Some((cur, decode_key(last)))
}

/// Parses an array index, negative counting from the end. `insert` allows
/// the one-past-the-end position.
fn array_index(key: &str, len: usize, insert: bool) -> Result<usize, String> {
    let idx: i64 = key
        .parse()
        .map_err(|_| format!("strconv.Atoi: parsing \"{key}\": invalid syntax"))?;
    let size = if insert { len + 1 } else { len } as i64;
    let invalid = || format!("Unable to access invalid index: {idx}: invalid index referenced");
    if idx >= size || idx < -size {
        return Err(invalid());
    }
    let idx = if idx < 0 { idx + size } else { idx };
    usize::try_from(idx).map_err(|_| invalid())
}

fn get<'a>(con: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match con {
        Value::Object(m) => Ok(m.get(key)),
        Value::Array(a) => array_index(key, a.len(), false).map(|i| a.get(i)),
        _ => Err("invalid state detected".into()),
    }
}

fn add(con: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match con {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) if key == "-" => {
            a.push(val);
            Ok(())
        }
        Value::Array(a) => {
            if key.parse::<i64>().is_err() {
                return Err(format!(
                    "value was not a proper array index: '{key}': strconv.Atoi: parsing \"{key}\": invalid syntax"
                ));
            }
            let i = array_index(key, a.len(), true)?;
            a.insert(i, val);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn set(con: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match con {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) => {
            let i = array_index(key, a.len(), false)?;
            a[i] = val;
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn remove(con: &mut Value, key: &str) -> Result<Value, String> {
    match con {
        Value::Object(m) => m
            .remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Array(a) => {
            let i = array_index(key, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err("invalid state detected".into()),
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
