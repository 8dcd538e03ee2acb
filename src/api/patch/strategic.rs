//! Server-side application of a strategic merge patch
//! (`application/strategic-merge-patch+json`).
//!
//! Upstream truth: apimachinery `pkg/util/strategicpatch/patch.go`
//! (`StrategicMergeMapPatch` → `mergeMap`, `mergePatchIntoOriginal`,
//! `applyRetainKeysDirective`, `mergeSlice*`, `normalizeElementOrder`,
//! `removeDirectives`, `discardNullValuesFromPatch`) with the options the
//! apiserver uses (`MergeParallelList` and `IgnoreUnmatchedNulls` both on),
//! and `pkg/util/mergepatch/errors.go` for the messages. Error → HTTP
//! mapping follows apiserver `handlers/patch.go`
//! (`interpretStrategicMergePatchError`), see [`super::error`].
//!
//! Fields the schema does not know merge like JSON merge patch: maps
//! recurse, lists are replaced.

use serde_json::{Map, Value};

use super::error::{
    ERR_BAD_JSON_DOC, ERR_BAD_PRIMITIVE_LIST, ERR_BAD_RETAIN_KEYS, ERR_BAD_SET_ELEMENT_ORDER,
    PatchError, bad_arg_type, bad_patch_type, go_type,
};
use super::meta::{ListMerge, PatchSchema};

#[path = "strategic_list.rs"]
mod list;

use list::{
    element_kind, merge_slice_handler, normalize_element_order, partition,
    validate_patch_with_order,
};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ORDER_PREFIX: &str = "$setElementOrder";
const SLICE_TYPE: &str = "[]interface {}";
const MAP_TYPE: &str = "map[string]interface {}";

type Obj = Map<String, Value>;

/// Applies a strategic merge patch to `original` (a whole object) the way
/// the apiserver does for built-in types.
pub fn apply_strategic<S: PatchSchema>(
    original: &Value,
    patch: &Value,
    schema: &S,
) -> Result<Value, PatchError> {
    let Value::Object(orig) = original else {
        return Err(PatchError::BadRequest(ERR_BAD_JSON_DOC.into()));
    };
    let patch = match patch {
        Value::Object(p) => p.clone(),
        // Decoding `null` into a map leaves it empty.
        Value::Null => Obj::new(),
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    merge_map(orig.clone(), patch, Some(schema)).map(Value::Object)
}

/// encoding/json's name for a JSON value kind in `UnmarshalTypeError`.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// How a list field merges: whether it merges at all and its merge key.
struct ListMeta<S> {
    merge: bool,
    key: String,
    items: Option<S>,
}

fn field_schema<S: PatchSchema>(schema: Option<&S>, name: &str) -> Option<S> {
    schema.and_then(|s| s.field(name).or_else(|| s.map_values()))
}

fn list_meta<S: PatchSchema>(schema: Option<&S>, name: &str) -> ListMeta<S> {
    let Some(list) = field_schema(schema, name) else {
        return ListMeta {
            merge: false,
            key: String::new(),
            items: None,
        };
    };
    let (merge, key) = match list.list_merge() {
        ListMerge::Atomic => (false, String::new()),
        ListMerge::MergeByKey(k) => (true, k),
        ListMerge::Set => (true, String::new()),
    };
    ListMeta {
        merge,
        key,
        items: list.items(),
    }
}

fn merge_map<S: PatchSchema>(
    mut original: Obj,
    mut patch: Obj,
    schema: Option<&S>,
) -> Result<Obj, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Obj::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(&mut original, &mut patch, schema)?;

    for (key, patch_v) in patch {
        let (k, is_delete_list) = if key.starts_with(DELETE_PRIMITIVE_PREFIX) {
            (extract_key(&key, DELETE_PRIMITIVE_PREFIX)?, true)
        } else {
            (key, false)
        };
        if patch_v.is_null() {
            original.remove(&k);
            continue;
        }
        let Some(orig_v) = original.remove(&k) else {
            if !is_delete_list {
                insert_cleaned(&mut original, k, patch_v);
            }
            continue;
        };
        match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let sub = field_schema(schema, &k);
                let merged = merge_map(o, p, sub.as_ref())?;
                original.insert(k, Value::Object(merged));
            }
            (Value::Array(o), Value::Array(p)) => {
                let meta = list_meta(schema, &k);
                let merged = merge_slice_handler(o, p, &meta, is_delete_list)?;
                original.insert(k, Value::Array(merged));
            }
            (o, p) if same_scalar_type(&o, &p) => {
                if let Some(v) = remove_directives(p) {
                    original.insert(k, v);
                }
            }
            (o, p) => {
                if is_delete_list {
                    original.insert(k, o);
                } else {
                    insert_cleaned(&mut original, k, p);
                }
            }
        }
    }
    Ok(original)
}

/// A patch value that lands without merging: nulls are dropped
/// (`discardNullValuesFromPatch`) and `$patch` maps removed (`removeDirectives`).
fn insert_cleaned(original: &mut Obj, k: String, mut v: Value) {
    discard_nulls(&mut v);
    if let Some(v) = remove_directives(v) {
        original.insert(k, v);
    }
}

fn same_scalar_type(a: &Value, b: &Value) -> bool {
    !matches!(a, Value::Null) && go_type(a) == go_type(b)
}

fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(discard_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

/// `removeDirectives`: `None` when the value itself is a `$patch` map.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            let cleaned = m
                .into_iter()
                .filter_map(|(k, x)| remove_directives(x).map(|x| (k, x)))
                .collect();
            Some(Value::Object(cleaned))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

fn extract_key(s: &str, prefix: &str) -> Result<String, PatchError> {
    match s.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ if prefix == DELETE_PRIMITIVE_PREFIX => {
            Err(PatchError::BadRequest(ERR_BAD_PRIMITIVE_LIST.into()))
        }
        _ => Err(PatchError::BadRequest(ERR_BAD_SET_ELEMENT_ORDER.into())),
    }
}

/// `applyRetainKeysDirective` with `MergeParallelList`.
fn apply_retain_keys(original: &mut Obj, patch: &mut Obj) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return Err(PatchError::BadRequest(ERR_BAD_RETAIN_KEYS.into()));
    };
    let kept = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null() || k.starts_with(DELETE_PRIMITIVE_PREFIX) || k.starts_with(SET_ORDER_PREFIX)
        {
            continue;
        }
        if !kept(k) {
            return Err(PatchError::BadRequest(ERR_BAD_RETAIN_KEYS.into()));
        }
    }
    original.retain(|k, _| kept(k));
    Ok(())
}

fn as_list(v: Option<&Value>) -> Result<Option<Vec<Value>>, PatchError> {
    match v {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.clone())),
        Some(other) => Err(bad_arg_type(SLICE_TYPE, Some(other))),
    }
}

/// `mergePatchIntoOriginal`: merges each list that has a
/// `$setElementOrder/<list>` and orders it.
fn merge_set_element_order<S: PatchSchema>(
    original: &mut Obj,
    patch: &mut Obj,
    schema: Option<&S>,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER_PREFIX))
        .cloned()
        .collect();
    for key in keys {
        let Some(order_v) = patch.remove(&key) else {
            continue;
        };
        let Value::Array(order) = order_v else {
            return Err(bad_arg_type(SLICE_TYPE, Some(&order_v)));
        };
        let field = extract_key(&key, SET_ORDER_PREFIX)?;
        let orig_list = as_list(original.get(&field))?;
        let patch_list = as_list(patch.get(&field))?;
        let meta = list_meta(schema, &field);
        validate_patch_with_order(patch_list.as_deref().unwrap_or(&[]), &order, &meta.key)?;
        let merged = match (orig_list.clone(), patch_list.clone()) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(a)) => a,
                _ => continue,
            },
            (Some(o), Some(p)) => merge_slice_handler(o, p, &meta, false)?,
            (None, None) => continue,
        };
        let (items, server_only) = partition(merged, &order, &meta.key)?;
        let orig_list = orig_list.unwrap_or_default();
        let kind = element_kind(&[&orig_list, patch_list.as_deref().unwrap_or(&[])])?;
        let both =
            normalize_element_order(items, server_only, &order, &orig_list, &meta.key, kind)?;
        original.insert(field.clone(), Value::Array(both));
        patch.remove(&field);
    }
    Ok(())
}

#[cfg(test)]
#[path = "strategic_tests.rs"]
mod tests;
