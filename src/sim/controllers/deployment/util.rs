//! Deployment arithmetic (`pkg/controller/deployment/util` upstream):
//! pod-template-hash, fenceposts, new replica counts, proportions,
//! conditions. Pure functions over JSON.

use crate::api::meta;
use crate::api::object::{object, text};
use crate::api::pointer::Pointer;
use serde_json::{Value, json};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const HASH_LABEL: &str = "pod-template-hash";

/// Deployment annotations not copied to its ReplicaSets (`skipCopyAnnotation`).
pub fn skip_copy_annotation(key: &str) -> bool {
    matches!(
        key,
        "kubectl.kubernetes.io/last-applied-configuration"
            | REVISION
            | REVISION_HISTORY
            | DESIRED_REPLICAS
            | MAX_REPLICAS
            | "deprecated.deployment.rollback.to"
    )
}

/// `rand.SafeEncodeString`: each byte mapped into the consonant-digit
/// alphabet, so hashes never spell words.
pub fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// `controller.ComputeHash`: FNV-32a of the template (here its canonical
/// JSON; upstream hashes the Go struct) and the collision count (4 bytes
/// little-endian), printed in decimal and safe-encoded. The decimal digits
/// become the familiar `5d4b8c7f6d`-looking names.
pub fn compute_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    feed(template.to_string().as_bytes());
    if let Some(c) = collision_count {
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&(c as u32).to_le_bytes());
        feed(&buf);
    }
    safe_encode(&h.to_string())
}

/// Whether two pod templates are equal but for the `pod-template-hash`
/// label (`EqualIgnoreHash`); empty labels or metadata count as absent.
/// Compares in place: a Deployment's sync asks this of each of its
/// ReplicaSets.
pub fn equal_ignore_hash(a: Option<&Value>, b: Option<&Value>) -> bool {
    /// The entries of an object but `skip` (none for a missing one).
    fn entries<'a>(
        v: Option<&'a Value>,
        skip: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        v.and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(move |(k, _)| k.as_str() != skip)
    }
    fn md(t: Option<&Value>) -> Option<&Value> {
        t.and_then(|t| t.get("metadata"))
    }
    fn labels(t: Option<&Value>) -> Option<&Value> {
        md(t).and_then(|m| m.get("labels"))
    }
    entries(a, "metadata").eq(entries(b, "metadata"))
        && entries(md(a), "labels").eq(entries(md(b), "labels"))
        && entries(labels(a), HASH_LABEL).eq(entries(labels(b), HASH_LABEL))
}

/// `intstr.GetScaledValueFromIntOrPercent`.
pub fn scaled(v: Option<&Value>, total: i64, round_up: bool) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => {
            let Some(p) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return s.parse().unwrap_or(0);
            };
            let x = p * total;
            if round_up {
                (x + 99).div_euclid(100)
            } else {
                x.div_euclid(100)
            }
        }
        _ => 0,
    }
}

pub fn replicas(d: &Value) -> i64 {
    d.get_in(&["spec", "replicas"])
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

pub fn is_rolling(d: &Value) -> bool {
    d.get_in(&["spec", "strategy", "type"])
        .and_then(Value::as_str)
        != Some("Recreate")
}

/// `ResolveFenceposts`: (maxSurge rounded up, maxUnavailable rounded
/// down); both zero would deadlock, so unavailable becomes 1.
pub fn fenceposts(d: &Value) -> (i64, i64) {
    let ru = d.get_in(&["spec", "strategy", "rollingUpdate"]);
    let total = replicas(d);
    let surge = scaled(
        ru.and_then(|r| r.get("maxSurge")).or(Some(&json!("25%"))),
        total,
        true,
    );
    let unavailable = scaled(
        ru.and_then(|r| r.get("maxUnavailable"))
            .or(Some(&json!("25%"))),
        total,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

pub fn max_surge(d: &Value) -> i64 {
    if is_rolling(d) { fenceposts(d).0 } else { 0 }
}

/// `MaxUnavailable`, at most the replica count.
pub fn max_unavailable(d: &Value) -> i64 {
    if !is_rolling(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

/// `progressDeadlineSeconds`, unless unset or MaxInt32.
pub fn progress_deadline(d: &Value) -> Option<i64> {
    d.get_in(&["spec", "progressDeadlineSeconds"])
        .and_then(Value::as_i64)
        .filter(|s| *s != i64::from(i32::MAX))
}

/// A ReplicaSet as the controller reasons about it.
#[derive(Debug, Clone)]
pub struct Rs {
    pub obj: Value,
    pub name: String,
    pub uid: String,
    pub replicas: i64,
    pub status_replicas: i64,
    pub ready: i64,
    pub available: i64,
    pub revision: i64,
    pub created: String,
    /// Created by this reconcile: not in the store yet.
    pub pending: bool,
}

impl Rs {
    pub fn from(obj: &Value) -> Self {
        let i = |p: &str, d: i64| obj.at(p).and_then(Value::as_i64).unwrap_or(d);
        Self {
            obj: obj.clone(),
            name: meta::name(obj).to_string(),
            uid: meta::uid(obj).to_string(),
            replicas: i("/spec/replicas", 1),
            status_replicas: i("/status/replicas", 0),
            ready: i("/status/readyReplicas", 0),
            available: i("/status/availableReplicas", 0),
            revision: annotation(obj, REVISION)
                .and_then(|r| r.parse().ok())
                .unwrap_or(0),
            created: obj
                .get_in(&["metadata", "creationTimestamp"])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            pending: false,
        }
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        annotation(&self.obj, key)
    }
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get_in(&["metadata", "annotations"])
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// `NewRSNewReplicas`: how big the new ReplicaSet may be now.
///
/// RollingUpdate, 10 replicas, maxSurge 3: with 10 old and 0 new pods the
/// total may reach 13, so the new ReplicaSet grows to min(13 - 10, 10 - 0) = 3.
pub fn new_rs_new_replicas(d: &Value, all: &[&Rs], new: &Rs) -> i64 {
    if !is_rolling(d) {
        return replicas(d);
    }
    let current: i64 = all.iter().map(|r| r.replicas).sum();
    let max_total = replicas(d) + max_surge(d);
    if current >= max_total {
        return new.replicas;
    }
    let up = (max_total - current).min(replicas(d) - new.replicas);
    new.replicas + up
}

/// `getReplicaSetFraction` for proportional scaling.
pub fn rs_fraction(rs: &Rs, d: &Value, status_replicas: i64) -> i64 {
    if replicas(d) == 0 {
        return -rs.replicas;
    }
    let deployment_replicas = replicas(d) + max_surge(d);
    let annotated = rs
        .annotation(MAX_REPLICAS)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(status_replicas);
    if annotated == 0 {
        return 0;
    }
    let size = (rs.replicas * deployment_replicas) as f64 / annotated as f64;
    size.round() as i64 - rs.replicas
}

/// `GetProportion`.
pub fn proportion(rs: &Rs, d: &Value, to_add: i64, added: i64, status_replicas: i64) -> i64 {
    if rs.replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = rs_fraction(rs, d, status_replicas);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// A deployment condition as `NewDeploymentCondition` makes it.
pub fn condition(ty: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    object([
        ("lastTransitionTime", Some(text(now))),
        ("lastUpdateTime", Some(text(now))),
        ("message", Some(text(message))),
        ("reason", Some(text(reason))),
        ("status", Some(text(status))),
        ("type", Some(text(ty))),
    ])
}

fn cond_field<'a>(c: &'a Value, f: &str) -> &'a str {
    c.get(f).and_then(Value::as_str).unwrap_or("")
}

/// The condition of type `ty` in a status's conditions.
pub fn get_condition<'a>(conds: &'a [Value], ty: &str) -> Option<&'a Value> {
    conds.iter().find(|c| cond_field(c, "type") == ty)
}

/// `SetDeploymentCondition`: same status and reason changes nothing; same
/// status keeps the transition time; the condition moves to the end.
pub fn set_condition(conds: &mut Vec<Value>, mut new: Value) {
    let ty = cond_field(&new, "type").to_string();
    if let Some(cur) = get_condition(conds, &ty) {
        if cond_field(cur, "status") == cond_field(&new, "status")
            && cond_field(cur, "reason") == cond_field(&new, "reason")
        {
            return;
        }
        if cond_field(cur, "status") == cond_field(&new, "status") {
            new["lastTransitionTime"] = cur
                .get("lastTransitionTime")
                .cloned()
                .unwrap_or(Value::Null);
        }
    }
    conds.retain(|c| cond_field(c, "type") != ty);
    conds.push(new);
}

pub fn remove_condition(conds: &mut Vec<Value>, ty: &str) {
    conds.retain(|c| cond_field(c, "type") != ty);
}

pub fn reason_of(c: Option<&Value>) -> &str {
    c.map_or("", |c| cond_field(c, "reason"))
}

pub fn status_of(c: Option<&Value>) -> &str {
    c.map_or("", |c| cond_field(c, "status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_safe_encoded_decimal() {
        // '0'..'9' map to 4 5 6 7 8 9 b c d f.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
        let h = compute_hash(
            &json!({"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}),
            None,
        );
        assert!(h.len() >= 8 && h.len() <= 10, "{h}");
        assert!(h.chars().all(|c| "456789bcdf".contains(c)), "{h}");
        assert_ne!(
            h,
            compute_hash(
                &json!({"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}),
                Some(1)
            )
        );
    }

    #[test]
    fn templates_compare_equal_but_for_the_hash_label() {
        let t = |md: Value, image: &str| json!({"metadata": md, "spec": {"containers": [{"name": "c", "image": image}]}});
        let same = [
            (
                json!({"labels": {"app": "web"}}),
                json!({"labels": {"app": "web", HASH_LABEL: "abc"}}),
            ),
            (json!({}), json!({"labels": {HASH_LABEL: "abc"}})),
            (json!({"labels": {}}), json!({})),
        ];
        for (a, b) in same {
            assert!(
                equal_ignore_hash(Some(&t(a.clone(), "nginx")), Some(&t(b.clone(), "nginx"))),
                "{a} {b}"
            );
            assert!(
                !equal_ignore_hash(Some(&t(a.clone(), "nginx")), Some(&t(b.clone(), "httpd"))),
                "{a} {b}"
            );
        }
        let differ = [
            (
                json!({"labels": {"app": "web"}}),
                json!({"labels": {"app": "api", HASH_LABEL: "abc"}}),
            ),
            (
                json!({"labels": {"app": "web"}}),
                json!({"labels": {"app": "web", "tier": "x"}}),
            ),
            (
                json!({"annotations": {"a": "1"}}),
                json!({"labels": {HASH_LABEL: "abc"}}),
            ),
        ];
        for (a, b) in differ {
            assert!(
                !equal_ignore_hash(Some(&t(a.clone(), "nginx")), Some(&t(b.clone(), "nginx"))),
                "{a} {b}"
            );
        }
        let bare = json!({"metadata": {"labels": {HASH_LABEL: "abc"}}});
        assert!(
            equal_ignore_hash(None, Some(&bare)),
            "a missing template is an empty one"
        );
        assert!(!equal_ignore_hash(None, Some(&t(json!({}), "nginx"))));
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let d = |r: i64, s: Value, u: Value| json!({"spec": {"replicas": r, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": s, "maxUnavailable": u}}}});
        let cases = [
            (d(3, json!("25%"), json!("25%")), (1, 0)),
            (d(10, json!("25%"), json!("25%")), (3, 2)),
            (d(10, json!(3), json!(2)), (3, 2)),
            (d(1, json!(0), json!(0)), (0, 1)),
            (d(4, json!("50%"), json!("0%")), (2, 0)),
        ];
        for (dep, want) in cases {
            assert_eq!(fenceposts(&dep), want, "{dep}");
        }
    }

    #[test]
    fn new_replica_set_grows_within_the_surge() {
        let d = json!({"spec": {"replicas": 10, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}}});
        let rs = |n: i64| Rs {
            replicas: n,
            ..Rs::from(&json!({}))
        };
        let (old, new) = (rs(10), rs(0));
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 3);
        let (old, new) = (rs(8), rs(5));
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 5);
        let (old, new) = (rs(5), rs(5));
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 8);
        let recreate = json!({"spec": {"replicas": 4, "strategy": {"type": "Recreate"}}});
        assert_eq!(new_rs_new_replicas(&recreate, &[&new], &new), 4);
    }

    #[test]
    fn set_condition_keeps_transition_time_and_moves_to_the_end() {
        let mut conds = vec![
            condition("Progressing", "True", "NewReplicaSetCreated", "m", "t1"),
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "m",
                "t1",
            ),
        ];
        set_condition(
            &mut conds,
            condition("Progressing", "True", "ReplicaSetUpdated", "x", "t2"),
        );
        assert_eq!(conds[1]["reason"], "ReplicaSetUpdated");
        assert_eq!(conds[1]["lastTransitionTime"], "t1");
        assert_eq!(conds[1]["lastUpdateTime"], "t2");
        let before = conds.clone();
        set_condition(
            &mut conds,
            condition("Progressing", "True", "ReplicaSetUpdated", "y", "t3"),
        );
        assert_eq!(conds, before);
    }
}
