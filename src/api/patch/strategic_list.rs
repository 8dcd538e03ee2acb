//! List merging and ordering for strategic merge patch: merge-key and set
//! lists, `$patch: delete|replace` elements, and the ordering rules of
//! `$setElementOrder` (the live order for server-only items, the patch
//! order for patched ones).
//!
//! Upstream truth: apimachinery `pkg/util/strategicpatch/patch.go`
//! (`mergeSliceHandler`, `mergeSlice`, `mergeSliceWithSpecialElements`,
//! `mergeSliceWithoutSpecialElements`, `validatePatchWithSetOrderList`,
//! `partition*ByPresentInList`, `normalizeElementOrder`, `mergeSortedSlice`,
//! `sliceElementType`).

use serde_json::Value;

use super::super::error::{
    ERR_NO_LIST_OF_LISTS, PatchError, bad_arg_type, bad_patch_type, go_type, go_v_list,
    no_merge_key,
};
use super::super::meta::PatchSchema;
use super::{DIRECTIVE, ListMeta, MAP_TYPE, Obj, SET_ORDER_PREFIX, merge_map};

/// `mergeKeyValueEqual`.
fn merge_key_equal(left: &Value, right: &Value, key: &str) -> Result<bool, PatchError> {
    if key.is_empty() {
        return Ok(left == right);
    }
    let l = left
        .as_object()
        .ok_or_else(|| bad_arg_type(MAP_TYPE, Some(left)))?;
    let r = right
        .as_object()
        .ok_or_else(|| bad_arg_type(MAP_TYPE, Some(right)))?;
    let lv = l.get(key).ok_or_else(|| no_merge_key(l, key))?;
    let rv = r.get(key).ok_or_else(|| no_merge_key(r, key))?;
    Ok(lv == rv)
}

fn is_delete_item(v: &Value) -> bool {
    v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// `validatePatchWithSetOrderList`: the patch list must follow the order list.
pub(super) fn validate_patch_with_order(
    patch: &[Value],
    order: &[Value],
    key: &str,
) -> Result<(), PatchError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let mut non_delete = Vec::new();
    for v in patch {
        if !key.is_empty() && !v.is_object() {
            return Err(bad_arg_type(MAP_TYPE, Some(v)));
        }
        if key.is_empty() || !is_delete_item(v) {
            non_delete.push(v);
        }
    }
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if merge_key_equal(non_delete[pi], &order[oi], key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(PatchError::internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ORDER_PREFIX} list:\n{}\n",
            go_v_list(patch),
            go_v_list(order)
        )));
    }
    Ok(())
}

/// Element kind of one or more lists (`sliceElementType`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Map,
    Scalar,
}

pub(super) fn element_kind(lists: &[&[Value]]) -> Result<Kind, PatchError> {
    let mut first: Option<&'static str> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let t = go_type(v);
        match first {
            None if v.is_array() => {
                return Err(PatchError::Unprocessable {
                    detail: ERR_NO_LIST_OF_LISTS.into(),
                });
            }
            None => first = Some(t),
            Some(p) if p != t => {
                let all: Vec<String> = lists.iter().map(|l| go_v_list(l)).collect();
                return Err(PatchError::internal(format!(
                    "list element types are not identical: [{}]",
                    all.join(" ")
                )));
            }
            Some(_) => {}
        }
    }
    match first {
        None => Err(PatchError::internal(
            "no elements in any of the given slices",
        )),
        Some(MAP_TYPE) => Ok(Kind::Map),
        Some(_) => Ok(Kind::Scalar),
    }
}

pub(super) fn merge_slice_handler<S: PatchSchema>(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &ListMeta<S>,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if meta.merge || is_delete_list {
        merge_slice(original, patch, meta, is_delete_list)
    } else {
        Ok(patch)
    }
}

fn merge_slice<S: PatchSchema>(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &ListMeta<S>,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&[&original, &patch])?;
    let key = meta.key.as_str();
    let (original, patch, merged) = if kind == Kind::Scalar {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for v in original.iter().chain(patch.iter()) {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        (original, patch, merged)
    } else {
        if key.is_empty() {
            return Err(PatchError::internal(
                "cannot merge lists without merge key for type map",
            ));
        }
        let (original, patch) = merge_special_elements(original, patch, key)?;
        let merged = merge_plain_elements(original.clone(), &patch, key, meta.items.as_ref())?;
        (original, patch, merged)
    };
    let (items, server_only) = partition(merged, &patch, key)?;
    normalize_element_order(items, server_only, &patch, &original, key, kind)
}

/// `mergeSliceWithSpecialElements`: applies `$patch: delete|replace` items.
fn merge_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            plain.push(v);
            continue;
        };
        let Some(directive) = m.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let target = m.get(key).ok_or_else(|| no_merge_key(m, key))?;
                original.retain(|o| o.get(key) != Some(target));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(PatchError::internal(
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            _ => return Err(bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// `mergeSliceWithoutSpecialElements`: merges items by key, appends new ones.
fn merge_plain_elements<S: PatchSchema>(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    items: Option<&S>,
) -> Result<Vec<Value>, PatchError> {
    for v in patch {
        let m = v
            .as_object()
            .ok_or_else(|| bad_arg_type(MAP_TYPE, Some(v)))?;
        let mv = m.get(key).ok_or_else(|| no_merge_key(m, key))?;
        let pos = find_by_key(&original, key, mv)?;
        match pos {
            Some(i) => {
                let o = match std::mem::take(&mut original[i]) {
                    Value::Object(o) => o,
                    _ => Obj::new(),
                };
                original[i] = Value::Object(merge_map(o, m.clone(), items)?);
            }
            None => original.push(v.clone()),
        }
    }
    Ok(original)
}

/// `findMapInSliceBasedOnKeyValue`.
fn find_by_key(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>, PatchError> {
    for (i, v) in list.iter().enumerate() {
        let m = v
            .as_object()
            .ok_or_else(|| PatchError::internal(format!("value for key {i} is not a map.")))?;
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Splits `list` into items present in `by` and the rest
/// (`partitionPrimitivesByPresentInList` / `partitionMapsByPresentInList`).
pub(super) fn partition(
    list: Vec<Value>,
    by: &[Value],
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = Vec::new();
    let mut rest = Vec::new();
    for v in list {
        let found = if key.is_empty() {
            by.contains(&v)
        } else {
            let m = v
                .as_object()
                .ok_or_else(|| bad_arg_type(MAP_TYPE, Some(&v)))?;
            let mv = m.get(key).ok_or_else(|| no_merge_key(m, key))?;
            find_by_key(by, key, mv)?.is_some()
        };
        if found { present.push(v) } else { rest.push(v) }
    }
    Ok((present, rest))
}

/// `index`: position of `v` in `list`, by merge key for maps.
fn index_of(list: &[Value], v: &Value, key: &str, kind: Kind) -> Option<usize> {
    match kind {
        Kind::Map => {
            let want = v.get(key);
            list.iter().position(|x| x.get(key) == want)
        }
        Kind::Scalar => list.iter().position(|x| x == v),
    }
}

/// `normalizeSliceOrder`: sorts by position in `order`, deletions last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let (mut keep, deletes) = if kind == Kind::Map {
        for v in to_sort.iter().chain(order.iter()) {
            let m = v
                .as_object()
                .ok_or_else(|| bad_arg_type(MAP_TYPE, Some(v)))?;
            if !m.contains_key(key) {
                return Err(no_merge_key(m, key));
            }
        }
        to_sort
            .into_iter()
            .partition::<Vec<_>, _>(|v| !is_delete_item(v))
    } else {
        (to_sort, Vec::new())
    };
    keep.sort_by_key(|v| index_of(order, v, key, kind).unwrap_or(usize::MAX));
    keep.extend(deletes);
    Ok(keep)
}

/// `normalizeElementOrder` + `mergeSortedSlice`: patch items in patch
/// order, server-only items in live order, interleaved by live position.
pub(super) fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let right = normalize_slice_order(patch, patch_order, key, kind)?;
    let left = normalize_slice_order(server_only, server_order, key, kind)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut li, mut ri) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(l), Some(r)) = (li.peek(), ri.peek()) {
        let before = match (
            index_of(server_order, l, key, kind),
            index_of(server_order, r, key, kind),
        ) {
            (Some(a), Some(b)) => a < b,
            _ => false,
        };
        let next = if before { li.next() } else { ri.next() };
        out.extend(next);
    }
    out.extend(li);
    out.extend(ri);
    Ok(out)
}
