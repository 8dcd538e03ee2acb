//! The Deployment controller (`pkg/controller/deployment` upstream):
//! sync.go, rolling.go, recreate.go and progress.go as one pure reconcile.
//!
//! Each reconcile takes one step of upstream's `syncDeployment` against
//! the snapshot: find or create the new ReplicaSet (`<deploy>-<hash>`,
//! revision annotations), scale (RollingUpdate within maxSurge /
//! maxUnavailable, Recreate, proportional scaling), clean up old
//! ReplicaSets past `revisionHistoryLimit`, and write status and
//! conditions with upstream's reasons and messages. `kubectl rollout undo`
//! patches the template back; the matching old ReplicaSet is then the new
//! one and gets the next revision. Writes to the Deployment itself (the
//! revision annotation and status) go through `/status`, as upstream's
//! `UpdateStatus`, so `metadata.generation` does not move.

pub mod util;

use super::podutil;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::runtime::{Action, Controller, Reconciled};
use crate::sim::snapshot::{ObjectKey, Snapshot, controller_ref, res};
use crate::store::ResKey;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use util::*;

const COMPONENT: &str = "deployment-controller";

/// The controller.
pub struct DeploymentController;

/// One reconcile's working state: the deployment as upstream's sync
/// mutates its copy, and the actions taken so far.
struct Sync<'a> {
    snap: &'a Snapshot,
    d: &'a Value,
    now: Timestamp,
    stamp: String,
    annotations: Map<String, Value>,
    status: Map<String, Value>,
    conditions: Vec<Value>,
    actions: Vec<Action>,
    rs: Vec<Rs>,
    requeue: Option<SignedDuration>,
}

impl<'a> Sync<'a> {
    fn event(&mut self, reason: &str, message: String) {
        self.actions.push(Action::Event(EventSpec {
            involved: ObjectRef::to(self.d),
            type_: EventType::Normal,
            reason: reason.into(),
            message,
            component: COMPONENT.into(),
            host: None,
        }));
    }

    fn ns(&self) -> &str {
        meta::namespace(self.d)
    }

    fn template(&self) -> Value {
        self.d
            .get_in(&["spec", "template"])
            .cloned()
            .unwrap_or(json!({}))
    }

    fn collision_count(&self) -> Option<i64> {
        self.status.get("collisionCount").and_then(Value::as_i64)
    }

    /// Index of the new ReplicaSet: the oldest whose template equals the
    /// deployment's, ignoring the hash label (`FindNewReplicaSet`).
    fn find_new(&self) -> Option<usize> {
        let want = self.d.get_in(&["spec", "template"]);
        let mut idx: Vec<usize> = (0..self.rs.len()).collect();
        idx.sort_by(|&a, &b| {
            self.rs[a]
                .created
                .cmp(&self.rs[b].created)
                .then(self.rs[a].name.cmp(&self.rs[b].name))
        });
        idx.into_iter()
            .find(|&i| equal_ignore_hash(self.rs[i].obj.get_in(&["spec", "template"]), want))
    }

    fn old_indices(&self, new: Option<usize>) -> Vec<usize> {
        (0..self.rs.len()).filter(|i| Some(*i) != new).collect()
    }

    /// `getAllReplicaSetsAndSyncRevision`.
    fn sync_revision(&mut self, create: bool) -> Option<usize> {
        let new = self.find_new();
        let max_old = self
            .old_indices(new)
            .iter()
            .map(|&i| self.rs[i].revision)
            .max()
            .unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(i) = new {
            self.update_new_rs_annotations(i, new_revision);
            let rev = self.rs[i].annotation(REVISION).unwrap_or("").to_string();
            self.annotations.insert(REVISION.into(), json!(rev));
            if progress_deadline(self.d).is_some()
                && get_condition(&self.conditions, "Progressing").is_none()
            {
                let msg = format!("Found new replica set {:?}", self.rs[i].name);
                set_condition(
                    &mut self.conditions,
                    condition(
                        "Progressing",
                        "True",
                        "FoundNewReplicaSet",
                        &msg,
                        &self.stamp,
                    ),
                );
            }
            return Some(i);
        }
        if !create {
            return None;
        }
        self.annotations
            .insert(REVISION.into(), json!(new_revision.to_string()));
        self.create_new_rs(new_revision)
    }

    /// `SetNewReplicaSetAnnotations` on an existing new ReplicaSet.
    fn update_new_rs_annotations(&mut self, i: usize, new_revision: i64) {
        let rs = &self.rs[i];
        let mut patch = Map::new();
        for (k, v) in &self.annotations {
            if !skip_copy_annotation(k) && rs.annotation(k) != v.as_str() {
                patch.insert(k.clone(), v.clone());
            }
        }
        let old = rs.revision;
        if old < new_revision {
            patch.insert(REVISION.into(), json!(new_revision.to_string()));
            if old > 0 {
                let history = match rs.annotation(REVISION_HISTORY) {
                    Some(h) if !h.is_empty() => format!("{h},{old}"),
                    _ => old.to_string(),
                };
                patch.insert(REVISION_HISTORY.into(), json!(history));
            }
        }
        if patch.is_empty() {
            return;
        }
        let rs = &mut self.rs[i];
        if let Some(a) = patch.get(REVISION).and_then(Value::as_str) {
            rs.revision = a.parse().unwrap_or(rs.revision);
        }
        if let Some(md) = meta::metadata_mut(&mut rs.obj) {
            let anns = md.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = anns.as_object_mut() {
                a.extend(patch.clone());
            }
        }
        let key = ObjectKey::new(meta::namespace(self.d), &rs.name);
        self.actions.push(Action::Patch {
            res: res::REPLICASETS,
            key,
            patch: json!({"metadata": {"annotations": patch}}),
            status: false,
        });
    }

    /// Creates `<deploy>-<hash>`, bumping collisionCount while the name is
    /// taken by a ReplicaSet with another template.
    fn create_new_rs(&mut self, revision: i64) -> Option<usize> {
        let template = self.template();
        let mut collisions = self.collision_count();
        let (hash, name) = loop {
            let hash = compute_hash(&template, collisions);
            let name = format!("{}-{hash}", meta::name(self.d));
            match self.snap.get(res::REPLICASETS, self.ns(), &name) {
                Some(existing)
                    if !equal_ignore_hash(
                        existing.get_in(&["spec", "template"]),
                        Some(&template),
                    ) =>
                {
                    let c = collisions.unwrap_or(0) + 1;
                    collisions = Some(c);
                    self.status.insert("collisionCount".into(), json!(c));
                    if c > 100 {
                        return None;
                    }
                }
                _ => break (hash, name),
            }
        };
        let mut tmpl = template.clone();
        tmpl["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = self
            .d
            .get_in(&["spec", "selector"])
            .cloned()
            .unwrap_or(json!({}));
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let mut annotations = Map::new();
        for (k, v) in &self.annotations {
            if !skip_copy_annotation(k) {
                annotations.insert(k.clone(), v.clone());
            }
        }
        let desired = replicas(self.d);
        annotations.insert(DESIRED_REPLICAS.into(), json!(desired.to_string()));
        annotations.insert(
            MAX_REPLICAS.into(),
            json!((desired + max_surge(self.d)).to_string()),
        );
        annotations.insert(REVISION.into(), json!(revision.to_string()));
        let mut labels = tmpl
            .get_in(&["metadata", "labels"])
            .cloned()
            .unwrap_or(json!({}));
        labels[HASH_LABEL] = json!(hash);
        let mut obj = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self.ns(),
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": meta::name(self.d),
                    "uid": meta::uid(self.d), "controller": true, "blockOwnerDeletion": true,
                }],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": self.d.get_in(&["spec", "minReadySeconds"]).cloned().unwrap_or(json!(0)),
                "selector": selector,
                "template": tmpl,
            },
        });
        let mut rs = Rs::from(&obj);
        rs.pending = true;
        let all: Vec<&Rs> = self.rs.iter().collect();
        let count = new_rs_new_replicas(self.d, &all, &rs);
        obj["spec"]["replicas"] = json!(count);
        rs.replicas = count;
        rs.obj = obj.clone();
        if self.snap.get(res::REPLICASETS, self.ns(), &name).is_none() {
            self.actions.push(Action::Create {
                res: res::REPLICASETS,
                namespace: self.ns().to_string(),
                object: obj,
                on_created: None,
                on_failed: Some(EventSpec {
                    involved: ObjectRef::to(self.d),
                    type_: EventType::Warning,
                    reason: "FailedCreate".into(),
                    message: format!("Failed to create new replica set {name:?}: "),
                    component: COMPONENT.into(),
                    host: None,
                }),
            });
            if progress_deadline(self.d).is_some() {
                let msg = format!("Created new replica set {name:?}");
                set_condition(
                    &mut self.conditions,
                    condition(
                        "Progressing",
                        "True",
                        "NewReplicaSetCreated",
                        &msg,
                        &self.stamp,
                    ),
                );
            }
            if count > 0 {
                self.event(
                    "ScalingReplicaSet",
                    format!("Scaled up replica set {name} from 0 to {count}"),
                );
            }
        }
        self.rs.push(rs);
        Some(self.rs.len() - 1)
    }

    /// `scaleReplicaSetAndRecordEvent` / `scaleReplicaSet`. True when the
    /// size changed.
    fn scale(&mut self, i: usize, to: i64, op: Option<&str>) -> bool {
        let desired = replicas(self.d);
        let max = desired + max_surge(self.d);
        let rs = &self.rs[i];
        let size_changed = rs.replicas != to;
        let ann_changed = rs.annotation(DESIRED_REPLICAS) != Some(desired.to_string().as_str())
            || rs.annotation(MAX_REPLICAS) != Some(max.to_string().as_str());
        if rs.pending || (!size_changed && !ann_changed) {
            return false;
        }
        let from = rs.replicas;
        let name = rs.name.clone();
        self.actions.push(Action::Patch {
            res: res::REPLICASETS,
            key: ObjectKey::new(self.ns(), &name),
            patch: json!({
                "metadata": {"annotations": {DESIRED_REPLICAS: desired.to_string(), MAX_REPLICAS: max.to_string()}},
                "spec": {"replicas": to},
            }),
            status: false,
        });
        let rs = &mut self.rs[i];
        rs.replicas = to;
        if let Some(a) = rs
            .obj
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            a.insert(DESIRED_REPLICAS.into(), json!(desired.to_string()));
            a.insert(MAX_REPLICAS.into(), json!(max.to_string()));
        }
        if size_changed {
            let op = op.unwrap_or(if from < to { "up" } else { "down" });
            self.event(
                "ScalingReplicaSet",
                format!("Scaled {op} replica set {name} from {from} to {to}"),
            );
        }
        size_changed
    }

    fn sum(&self, idx: &[usize], f: impl Fn(&Rs) -> i64) -> i64 {
        idx.iter().map(|&i| f(&self.rs[i])).sum()
    }

    fn all_indices(&self, new: Option<usize>) -> Vec<usize> {
        let mut v = self.old_indices(new);
        v.extend(new);
        v
    }

    /// `calculateStatus`.
    fn calculate_status(&mut self, new: Option<usize>) {
        let all = self.all_indices(new);
        let available = self.sum(&all, |r| r.available);
        let total = self.sum(&all, |r| r.replicas);
        let mut set = |k: &str, v: i64| {
            if v == 0 {
                self.status.remove(k);
            } else {
                self.status.insert(k.into(), Value::from(v));
            }
        };
        set(
            "observedGeneration",
            self.d
                .get_in(&["metadata", "generation"])
                .and_then(Value::as_i64)
                .unwrap_or(0),
        );
        set(
            "replicas",
            all.iter().map(|&i| self.rs[i].status_replicas).sum(),
        );
        set(
            "updatedReplicas",
            new.map_or(0, |i| self.rs[i].status_replicas),
        );
        set("readyReplicas", all.iter().map(|&i| self.rs[i].ready).sum());
        set("availableReplicas", available);
        set("unavailableReplicas", (total - available).max(0));
        let c = if available >= replicas(self.d) - max_unavailable(self.d) {
            condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &self.stamp,
            )
        } else {
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &self.stamp,
            )
        };
        set_condition(&mut self.conditions, c);
    }

    fn status_int(&self, k: &str) -> i64 {
        self.status.get(k).and_then(Value::as_i64).unwrap_or(0)
    }

    /// `DeploymentComplete` against the computed status.
    fn complete(&self) -> bool {
        let r = replicas(self.d);
        self.status_int("updatedReplicas") == r
            && self.status_int("replicas") == r
            && self.status_int("availableReplicas") == r
            && self.status_int("observedGeneration")
                >= self
                    .d
                    .get_in(&["metadata", "generation"])
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
    }

    /// `syncRolloutStatus`.
    fn sync_rollout_status(&mut self, new: Option<usize>) {
        let old = self.d.get("status").cloned().unwrap_or(json!({}));
        let old_int = |k: &str| old.get(k).and_then(Value::as_i64).unwrap_or(0);
        self.calculate_status(new);
        let deadline = progress_deadline(self.d);
        if deadline.is_none() {
            remove_condition(&mut self.conditions, "Progressing");
        }
        let current = get_condition(&self.conditions, "Progressing").cloned();
        let complete_already = self.status_int("replicas") == self.status_int("updatedReplicas")
            && reason_of(current.as_ref()) == "NewReplicaSetAvailable";
        let new_name = new.map(|i| self.rs[i].name.clone());
        if let Some(deadline) = deadline
            && !complete_already
        {
            let progressing = self.status_int("updatedReplicas") > old_int("updatedReplicas")
                || (self.status_int("replicas") - self.status_int("updatedReplicas"))
                    < (old_int("replicas") - old_int("updatedReplicas"))
                || self.status_int("readyReplicas") > old_int("readyReplicas")
                || self.status_int("availableReplicas") > old_int("availableReplicas");
            if self.complete() {
                let msg = match &new_name {
                    Some(n) => format!("ReplicaSet {n:?} has successfully progressed."),
                    None => format!(
                        "Deployment {:?} has successfully progressed.",
                        meta::name(self.d)
                    ),
                };
                set_condition(
                    &mut self.conditions,
                    condition(
                        "Progressing",
                        "True",
                        "NewReplicaSetAvailable",
                        &msg,
                        &self.stamp,
                    ),
                );
            } else if progressing {
                let msg = format!(
                    "ReplicaSet {:?} is progressing.",
                    new_name.clone().unwrap_or_default()
                );
                let mut c = condition(
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &msg,
                    &self.stamp,
                );
                if let Some(cur) = &current {
                    if status_of(Some(cur)) == "True" {
                        c["lastTransitionTime"] = cur
                            .get("lastTransitionTime")
                            .cloned()
                            .unwrap_or(Value::Null);
                    }
                    remove_condition(&mut self.conditions, "Progressing");
                }
                set_condition(&mut self.conditions, c);
            } else if self.timed_out(current.as_ref(), deadline) {
                let msg = format!(
                    "ReplicaSet {:?} has timed out progressing.",
                    new_name.clone().unwrap_or_default()
                );
                set_condition(
                    &mut self.conditions,
                    condition(
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &msg,
                        &self.stamp,
                    ),
                );
            }
        }
        // `getReplicaFailures`: the new ReplicaSet's ReplicaFailure
        // condition (else an old one's) moves into the Deployment's.
        let failure = new
            .into_iter()
            .chain(0..self.rs.len())
            .filter_map(|i| self.rs.get(i))
            .find_map(|r| {
                r.obj
                    .get_in(&["status", "conditions"])
                    .and_then(Value::as_array)
                    .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
                    .cloned()
            });
        match failure {
            Some(c) => {
                let at = c.get("lastTransitionTime").cloned().unwrap_or(Value::Null);
                set_condition(
                    &mut self.conditions,
                    json!({"type": "ReplicaFailure", "status": c["status"],
                        "lastUpdateTime": at, "lastTransitionTime": at,
                        "reason": c["reason"], "message": c["message"]}),
                );
            }
            None => remove_condition(&mut self.conditions, "ReplicaFailure"),
        }
        // Requeue a rollout that shows no progress, to notice the deadline.
        let cur = get_condition(&self.conditions, "Progressing");
        if let (Some(deadline), Some(c)) = (deadline, cur)
            && !self.complete()
            && !matches!(
                reason_of(Some(c)),
                "ProgressDeadlineExceeded" | "NewReplicaSetAvailable"
            )
            && let Some(from) = podutil::parse_time(c.get("lastUpdateTime"))
            && let Ok(at) = from.checked_add(SignedDuration::from_secs(deadline))
        {
            let after = at.duration_since(self.now) + SignedDuration::from_secs(1);
            self.requeue = Some(after.max(SignedDuration::from_secs(1)));
        }
    }

    /// `DeploymentTimedOut`.
    fn timed_out(&self, cur: Option<&Value>, deadline: i64) -> bool {
        let Some(c) = cur else { return false };
        match reason_of(Some(c)) {
            "NewReplicaSetAvailable" => false,
            "ProgressDeadlineExceeded" => true,
            _ => podutil::parse_time(c.get("lastUpdateTime"))
                .and_then(|t| t.checked_add(SignedDuration::from_secs(deadline)).ok())
                .is_some_and(|t| t < self.now),
        }
    }

    /// `cleanupDeployment`: deletes the oldest idle ReplicaSets beyond
    /// `revisionHistoryLimit`.
    fn cleanup(&mut self, new: Option<usize>) {
        let limit = self
            .d
            .get_in(&["spec", "revisionHistoryLimit"])
            .and_then(Value::as_i64)
            .unwrap_or(10);
        let mut old: Vec<usize> = self
            .old_indices(new)
            .into_iter()
            .filter(|&i| !meta::is_deleting(&self.rs[i].obj) && !self.rs[i].pending)
            .collect();
        let diff = old.len() as i64 - limit;
        if diff <= 0 {
            return;
        }
        old.sort_by(|&a, &b| {
            self.rs[a]
                .revision
                .cmp(&self.rs[b].revision)
                .then(self.rs[a].created.cmp(&self.rs[b].created))
        });
        for &i in old.iter().take(diff as usize) {
            let rs = &self.rs[i];
            let generation = rs
                .obj
                .get_in(&["metadata", "generation"])
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let observed = rs
                .obj
                .get_in(&["status", "observedGeneration"])
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if rs.status_replicas != 0 || rs.replicas != 0 || generation > observed {
                continue;
            }
            self.actions.push(Action::Delete {
                res: res::REPLICASETS,
                key: ObjectKey::new(self.ns(), &rs.name),
                uid: rs.uid.clone(),
                on_deleted: None,
            });
        }
    }

    /// `sync`: scaling and paused deployments.
    fn sync_scale(&mut self) {
        let new = self.sync_revision(false);
        self.proportional_scale(new);
        if self.d.get_in(&["spec", "paused"]).and_then(Value::as_bool) == Some(true) {
            self.cleanup(new);
        }
        self.calculate_status(new);
    }

    /// `scale`.
    fn proportional_scale(&mut self, new: Option<usize>) {
        let want = replicas(self.d);
        // One active (or else the latest) ReplicaSet takes everything.
        let mut old = self.old_indices(new);
        old.sort_by(|&a, &b| self.rs[b].created.cmp(&self.rs[a].created));
        let mut ordered = Vec::new();
        ordered.extend(new);
        ordered.extend(old.iter().copied());
        let active: Vec<usize> = ordered
            .iter()
            .copied()
            .filter(|&i| self.rs[i].replicas > 0)
            .collect();
        let target = match active.len() {
            0 => new.or(old.first().copied()),
            1 => Some(active[0]),
            _ => None,
        };
        if let Some(i) = target {
            if self.rs[i].replicas != want {
                self.scale(i, want, None);
            }
            return;
        }
        if active.is_empty() {
            return;
        }
        let saturated = new.is_some_and(|i| {
            let r = &self.rs[i];
            r.replicas == want
                && r.annotation(DESIRED_REPLICAS) == Some(want.to_string().as_str())
                && r.available == want
        });
        if saturated {
            for i in old {
                if self.rs[i].replicas > 0 {
                    self.scale(i, 0, None);
                }
            }
            return;
        }
        if !is_rolling(self.d) {
            return;
        }
        let current: i64 = self.sum(&active, |r| r.replicas);
        let allowed = if want > 0 {
            want + max_surge(self.d)
        } else {
            0
        };
        let to_add = allowed - current;
        let mut sorted = active.clone();
        // Bigger first; newer first when growing, older first when shrinking.
        sorted.sort_by(|&a, &b| {
            let (ra, rb) = (&self.rs[a], &self.rs[b]);
            rb.replicas.cmp(&ra.replicas).then(if to_add > 0 {
                rb.created.cmp(&ra.created)
            } else {
                ra.created.cmp(&rb.created)
            })
        });
        let status_replicas = self
            .d
            .get_in(&["status", "replicas"])
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let mut added = 0;
        let mut sizes = Vec::new();
        for &i in &sorted {
            let p = proportion(&self.rs[i], self.d, to_add, added, status_replicas);
            sizes.push(self.rs[i].replicas + p);
            added += p;
        }
        let op = if to_add > 0 {
            Some("up")
        } else if to_add < 0 {
            Some("down")
        } else {
            None
        };
        for (n, &i) in sorted.iter().enumerate() {
            let mut size = sizes[n];
            if n == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            self.scale(i, size, op);
        }
    }

    /// `rolloutRolling`.
    fn rollout_rolling(&mut self) {
        let Some(new) = self.sync_revision(true) else {
            let new = None;
            self.sync_rollout_status(new);
            return;
        };
        // reconcileNewReplicaSet
        let want = replicas(self.d);
        let scaled_up = if self.rs[new].replicas == want {
            false
        } else if self.rs[new].replicas > want {
            self.scale(new, want, None)
        } else {
            let all: Vec<&Rs> = self.rs.iter().collect();
            let count = new_rs_new_replicas(self.d, &all, &self.rs[new]);
            self.scale(new, count, None)
        };
        if scaled_up {
            self.sync_rollout_status(Some(new));
            return;
        }
        if self.reconcile_old(new) {
            self.sync_rollout_status(Some(new));
            return;
        }
        self.calculate_status(Some(new));
        if self.complete() {
            self.cleanup(Some(new));
        }
        self.sync_rollout_status(Some(new));
    }

    /// `reconcileOldReplicaSets`: scale old ReplicaSets down as far as
    /// maxUnavailable allows, unhealthy replicas first.
    ///
    /// 10 replicas, maxUnavailable 2, maxSurge 3: with 10 old and 3 new
    /// pods none of them available, 13 - 8 - 3 = 2 old pods may go.
    fn reconcile_old(&mut self, new: usize) -> bool {
        let mut old: Vec<usize> = self.old_indices(Some(new));
        let old_count = self.sum(&old, |r| r.replicas);
        if old_count == 0 {
            return false;
        }
        let all = self.all_indices(Some(new));
        let all_count = self.sum(&all, |r| r.replicas);
        let min_available = replicas(self.d) - max_unavailable(self.d);
        let new_unavailable = self.rs[new].replicas - self.rs[new].available;
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        old.sort_by(|&a, &b| {
            self.rs[a]
                .created
                .cmp(&self.rs[b].created)
                .then(self.rs[a].name.cmp(&self.rs[b].name))
        });
        // cleanupUnhealthyReplicas
        let mut cleaned = 0;
        for &i in &old {
            if cleaned >= max_scaled_down {
                break;
            }
            let (replicas_i, available_i) = (self.rs[i].replicas, self.rs[i].available);
            if replicas_i == 0 || replicas_i == available_i {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(replicas_i - available_i);
            self.scale(i, replicas_i - down, None);
            cleaned += down;
        }
        // scaleDownOldReplicaSetsForRollingUpdate
        let available: i64 = self.sum(&all, |r| r.available);
        let mut scaled = 0;
        if available > min_available {
            let total = available - min_available;
            for &i in &old {
                if scaled >= total {
                    break;
                }
                let r = self.rs[i].replicas;
                if r == 0 {
                    continue;
                }
                let down = r.min(total - scaled);
                self.scale(i, r - down, None);
                scaled += down;
            }
        }
        cleaned + scaled > 0
    }

    /// `rolloutRecreate`.
    fn rollout_recreate(&mut self) {
        let mut new = self.sync_revision(false);
        let old = self.old_indices(new);
        let mut scaled_down = false;
        for i in old.clone() {
            if self.rs[i].replicas > 0 {
                scaled_down |= self.scale(i, 0, None);
            }
        }
        if scaled_down {
            self.sync_rollout_status(new);
            return;
        }
        // oldPodsRunning
        let new_uid = new.map(|i| self.rs[i].uid.clone());
        let old_running = self.sum(&old, |r| r.status_replicas) > 0
            || old
                .iter()
                .map(|&i| self.rs[i].uid.as_str())
                .filter(|&u| Some(u) != new_uid.as_deref())
                .any(|u| {
                    self.snap
                        .owned_by(res::PODS, self.ns(), u)
                        .any(|p| !matches!(podutil::phase(p), "Succeeded" | "Failed"))
                });
        if old_running {
            self.sync_rollout_status(new);
            return;
        }
        if new.is_none() {
            new = self.sync_revision(true);
        }
        if let Some(i) = new {
            let want = replicas(self.d);
            self.scale(i, want, None);
        }
        self.calculate_status(new);
        if self.complete() {
            self.cleanup(new);
        }
        self.sync_rollout_status(new);
    }

    /// `checkPausedConditions`.
    fn check_paused(&mut self) {
        if progress_deadline(self.d).is_none() {
            return;
        }
        let cur = get_condition(&self.conditions, "Progressing");
        if reason_of(cur) == "ProgressDeadlineExceeded" {
            return;
        }
        let paused_cond = reason_of(cur) == "DeploymentPaused";
        let paused = self.d.get_in(&["spec", "paused"]).and_then(Value::as_bool) == Some(true);
        if paused && !paused_cond {
            set_condition(
                &mut self.conditions,
                condition(
                    "Progressing",
                    "Unknown",
                    "DeploymentPaused",
                    "Deployment is paused",
                    &self.stamp,
                ),
            );
        } else if !paused && paused_cond {
            set_condition(
                &mut self.conditions,
                condition(
                    "Progressing",
                    "Unknown",
                    "DeploymentResumed",
                    "Deployment is resumed",
                    &self.stamp,
                ),
            );
        }
    }

    /// `isScalingEvent`.
    fn is_scaling_event(&mut self) -> bool {
        let new = self.find_new();
        let want = replicas(self.d).to_string();
        self.all_indices(new).iter().any(|&i| {
            let r = &self.rs[i];
            r.replicas > 0 && r.annotation(DESIRED_REPLICAS).is_some_and(|d| d != want)
        })
    }

    /// The status (and revision annotation) write, when anything changed.
    fn finish(mut self) -> Reconciled {
        if !self.conditions.is_empty() {
            self.status
                .insert("conditions".into(), Value::Array(self.conditions.clone()));
        } else {
            self.status.remove("conditions");
        }
        let old_status = self.d.get("status").cloned().unwrap_or(json!({}));
        let mut patch =
            super::replicaset::status_patch(Some(&old_status), &Value::Object(self.status.clone()))
                .unwrap_or(json!({}));
        let old_anns = self
            .d
            .get_in(&["metadata", "annotations"])
            .cloned()
            .unwrap_or(json!({}));
        if Value::Object(self.annotations.clone()) != old_anns {
            patch["metadata"] = json!({"annotations": self.annotations});
        }
        if patch.as_object().is_some_and(|p| !p.is_empty()) {
            self.actions.push(Action::Patch {
                res: res::DEPLOYMENTS,
                key: ObjectKey::of(self.d),
                patch,
                status: true,
            });
        }
        Reconciled {
            actions: self.actions,
            requeue_after: self.requeue,
        }
    }
}

impl Controller for DeploymentController {
    /// Its status patch changes nothing its next reconcile reads to decide
    /// (upstream's own update handler requeues it for a no-op sync).
    fn settles_own_writes(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> &'static [ResKey] {
        &[res::DEPLOYMENTS, res::REPLICASETS, res::PODS]
    }

    fn keys_for(&self, snap: &Snapshot, r: ResKey, obj: &Value) -> Vec<ObjectKey> {
        self.keys_for_change(snap, r, obj, !snap.holds_one_like(r, obj))
    }

    fn keys_for_change(
        &self,
        snap: &Snapshot,
        r: ResKey,
        obj: &Value,
        deleted: bool,
    ) -> Vec<ObjectKey> {
        let owner_of = |o: &Value, kind: &str| {
            controller_ref(o)
                .filter(|c| c.get("kind").and_then(Value::as_str) == Some(kind))
                .and_then(|c| c.get("name").and_then(Value::as_str))
                .map(|n| ObjectKey::new(meta::namespace(o), n))
        };
        match r {
            r if r == res::DEPLOYMENTS => vec![ObjectKey::of(obj)],
            r if r == res::REPLICASETS => owner_of(obj, "Deployment").into_iter().collect(),
            // Only a pod's deletion matters (Recreate waits for the old
            // pods to go), as upstream's only pod handler is `deletePod`:
            // the ReplicaSets' status carries the rest.
            _ if !deleted => Vec::new(),
            _ => owner_of(obj, "ReplicaSet")
                .and_then(|k| snap.get(res::REPLICASETS, &k.namespace, &k.name))
                .and_then(|rs| owner_of(rs, "Deployment"))
                .into_iter()
                .collect(),
        }
    }

    fn reconcile(&self, snap: &Snapshot, key: &ObjectKey, now: Timestamp) -> Reconciled {
        let Some(d) = snap.get(res::DEPLOYMENTS, &key.namespace, &key.name) else {
            return Reconciled::none();
        };
        let status = d
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let conditions = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut s = Sync {
            snap,
            d,
            now,
            stamp: format_time(now),
            annotations: d
                .get_in(&["metadata", "annotations"])
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            status,
            conditions,
            actions: Vec::new(),
            rs: snap
                .owned_by(res::REPLICASETS, &key.namespace, meta::uid(d))
                .map(|r| Rs::from(r))
                .collect(),
            requeue: None,
        };
        if meta::is_deleting(d) {
            let new = s.find_new();
            s.calculate_status(new);
            return s.finish();
        }
        s.check_paused();
        let paused = d.get_in(&["spec", "paused"]).and_then(Value::as_bool) == Some(true);
        if paused || s.is_scaling_event() {
            s.sync_scale();
        } else if is_rolling(d) {
            s.rollout_rolling();
        } else {
            s.rollout_recreate();
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests;
