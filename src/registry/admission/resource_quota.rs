//! The ResourceQuota admission plugin (`plugin/pkg/admission/resourcequota`,
//! `checkQuotas` in its controller.go): a create is refused when a quota
//! of the namespace that selects the object would go over a hard limit,
//! or, for pods, when the quota tracks cpu or memory and a container does
//! not say how much it wants.
//!
//! Upstream compares against `status.used`, which admission itself bumps
//! on every admitted create and the quota controller recalculates. Here the
//! usage is counted from the store on every check, which gives the same
//! answers without the write (and without the window in which a quota the
//! controller has not seen yet admits everything). Only creates are
//! checked; updates that change usage (a Service turned NodePort, a PVC
//! expanded) are not.

use super::quota_usage::{self, ResourceList, pretty};
use crate::api::pointer::Pointer;
use crate::api::quantity::{Format, Quantity};
use crate::api::resource::ResourceInfo;
use crate::api::status::{GroupResource, Status};
use crate::store::{ResKey, Store};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub(crate) const QUOTAS: ResKey = ResKey {
    group: "",
    resource: "resourcequotas",
};

/// The names a quota on cpu or memory makes every container declare
/// (upstream's `validationSet`, "a mistake" it keeps for compatibility).
const VALIDATION_SET: [&str; 6] = [
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// The pod evaluator's `Constraints`: `must specify limits.cpu for: app;
/// requests.cpu for: app` (resources sorted, containers sorted and joined
/// by commas), or None when every container declares what is tracked.
pub fn pod_constraints(hard: &ResourceList, pod: &Value) -> Option<String> {
    let required: BTreeSet<&str> = VALIDATION_SET
        .iter()
        .copied()
        .filter(|r| hard.contains_key(*r))
        .collect();
    if required.is_empty() {
        return None;
    }
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for list in ["containers", "initContainers"] {
        for c in pod
            .at(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let requests = quota_usage::resource_list(c.get_in(&["resources", "requests"]));
            let limits = quota_usage::resource_list(c.get_in(&["resources", "limits"]));
            let declared = |r: &str| match r {
                "cpu" | "memory" => requests.contains_key(r),
                _ => match r.split_once('.') {
                    Some(("requests", n)) => requests.contains_key(n),
                    Some(("limits", n)) => limits.contains_key(n),
                    _ => true,
                },
            };
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            for r in &required {
                if !declared(r) {
                    missing.entry(r).or_default().insert(name.to_string());
                }
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| {
            format!(
                "{r} for: {}",
                names.iter().cloned().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

/// One quota's verdict on a request of `requested` (the new object's
/// usage) given `used` (what the namespace already charges): the
/// `exceeded quota: ...` message when some name would go over.
pub fn exceeded(
    quota_name: &str,
    hard: &ResourceList,
    used: &ResourceList,
    requested: &ResourceList,
) -> Option<String> {
    let zero = Quantity::from_units(0, Format::DecimalSI);
    let requested: ResourceList = requested
        .iter()
        .filter(|(k, _)| hard.contains_key(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let over: BTreeSet<&String> = requested
        .iter()
        .filter(|(k, v)| {
            let now_used = used.get(*k).copied().unwrap_or(zero);
            hard.get(*k).is_some_and(|h| now_used.add(v) > *h)
        })
        .map(|(k, _)| k)
        .collect();
    if over.is_empty() {
        return None;
    }
    let mask = |l: &ResourceList| -> ResourceList {
        over.iter()
            .map(|k| ((*k).clone(), l.get(*k).copied().unwrap_or(zero)))
            .collect()
    };
    Some(format!(
        "exceeded quota: {quota_name}, requested: {}, used: {}, limited: {}",
        pretty(&mask(&requested)),
        pretty(&mask(used)),
        pretty(&mask(hard)),
    ))
}

/// Checks a create of `obj` (named `name`) in `ns` against the namespace's
/// quotas.
pub fn admit_create(
    store: &Store,
    now: Timestamp,
    info: &ResourceInfo,
    ns: &str,
    obj: &Value,
) -> Result<(), Status> {
    if !info.namespaced {
        return Ok(());
    }
    let (mut quotas, _) = store.list(QUOTAS, Some(ns));
    if quotas.is_empty() {
        return Ok(());
    }
    quotas.sort_by(|a, b| crate::api::meta::name(a).cmp(crate::api::meta::name(b)));
    let forbidden = |why: String| {
        Status::forbidden(
            GroupResource {
                group: info.group,
                resource: info.plural,
            },
            crate::api::meta::name(obj),
            &why,
        )
    };
    let requested = quota_usage::usage(info.group, info.plural, obj, now);
    let pods = (info.group, info.plural) == ("", "pods");
    let matching: Vec<&Arc<Value>> = quotas
        .iter()
        .filter(|q| quota_usage::matches_scopes(q, info.group, info.plural, obj))
        .filter(|q| {
            let hard = quota_usage::hard(q);
            requested.keys().any(|k| hard.contains_key(k))
                || (pods && VALIDATION_SET.iter().any(|r| hard.contains_key(*r)))
        })
        .collect();
    if matching.is_empty() {
        return Ok(());
    }
    // Constraints of every matching quota come before any usage check.
    if pods {
        for q in &matching {
            if let Some(why) = pod_constraints(&quota_usage::hard(q), obj) {
                return Err(forbidden(format!(
                    "failed quota: {}: {why}",
                    crate::api::meta::name(q)
                )));
            }
        }
    }
    let key = ResKey {
        group: info.group,
        resource: info.plural,
    };
    let (existing, _) = store.list(key, Some(ns));
    for q in &matching {
        let hard = quota_usage::hard(q);
        let mut used = quota_usage::used_by(
            q,
            info.group,
            info.plural,
            existing.iter().map(|o| o.as_ref()),
            now,
        );
        for k in hard.keys() {
            used.entry(k.clone())
                .or_insert(Quantity::from_units(0, Format::DecimalSI));
        }
        if let Some(why) = exceeded(crate::api::meta::name(q), &hard, &used, &requested) {
            return Err(forbidden(why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::quantity::Quantity;
    use serde_json::json;

    fn list(pairs: &[(&str, &str)]) -> ResourceList {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity::parse(v).unwrap()))
            .collect()
    }

    type Pairs<'a> = &'a [(&'a str, &'a str)];
    /// hard, used, requested, the refusal.
    type Case<'a> = (Pairs<'a>, Pairs<'a>, Pairs<'a>, Option<&'a str>);

    #[test]
    fn exceeded_names_only_the_names_over_their_limit() {
        let cases: &[Case] = &[
            (
                &[("pods", "2")],
                &[("pods", "2")],
                &[("pods", "1"), ("count/pods", "1")],
                Some("exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"),
            ),
            (&[("pods", "3")], &[("pods", "2")], &[("pods", "1")], None),
            (
                &[("requests.memory", "1Gi"), ("limits.memory", "2Gi")],
                &[("requests.memory", "600Mi"), ("limits.memory", "800Mi")],
                &[("requests.memory", "700Mi"), ("limits.memory", "800Mi")],
                Some(
                    "exceeded quota: q, requested: requests.memory=700Mi, used: requests.memory=600Mi, limited: requests.memory=1Gi",
                ),
            ),
            (
                &[("limits.memory", "1Gi"), ("requests.memory", "1Gi")],
                &[("limits.memory", "544Mi"), ("requests.memory", "544Mi")],
                &[("limits.memory", "512Mi"), ("requests.memory", "512Mi")],
                Some(
                    "exceeded quota: q, requested: limits.memory=512Mi,requests.memory=512Mi, used: limits.memory=544Mi,requests.memory=544Mi, limited: limits.memory=1Gi,requests.memory=1Gi",
                ),
            ),
            (
                &[("pods", "0")],
                &[("pods", "0")],
                &[("pods", "1")],
                Some("exceeded quota: q, requested: pods=1, used: pods=0, limited: pods=0"),
            ),
        ];
        for (hard, used, requested, want) in cases {
            assert_eq!(
                exceeded("q", &list(hard), &list(used), &list(requested)).as_deref(),
                *want
            );
        }
    }

    #[test]
    fn constraints_list_missing_resources_then_containers() {
        let hard = list(&[("requests.cpu", "1"), ("limits.cpu", "2"), ("pods", "5")]);
        let pod = json!({"spec": {"containers": [
            {"name": "web", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "app"},
        ]}});
        assert_eq!(
            pod_constraints(&hard, &pod).as_deref(),
            Some("must specify limits.cpu for: app,web; requests.cpu for: app")
        );
        let ok = json!({"spec": {"containers": [
            {"name": "app", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}]}});
        assert_eq!(pod_constraints(&hard, &ok), None);
        assert_eq!(pod_constraints(&list(&[("pods", "1")]), &pod), None);
        let mem = list(&[("memory", "1Gi")]);
        assert_eq!(
            pod_constraints(&mem, &pod).as_deref(),
            Some("must specify memory for: app,web")
        );
    }
}
