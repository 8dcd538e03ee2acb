//! Decisions of the Deployment controller, snapshot in, actions out. The
//! ReplicaSet controller runs alongside so rollouts can progress.

use super::*;
use crate::sim::controllers::replicaset::ReplicaSetController;
use crate::sim::controllers::testutil::{apply, put, reasons, t0};

fn deployment(replicas: i64, image: &str, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": 1, "resourceVersion": "1"},
        "spec": {
            "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": image}]}},
            "strategy": strategy, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        },
        "status": {},
    })
}

fn rolling() -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

/// Runs both controllers over every object until nothing changes; pods
/// become ready at once when `ready` (a stand-in for the kubelet).
fn run(snap: &mut Snapshot, now: Timestamp, ready: bool) -> Vec<EventSpec> {
    let mut seq = 0;
    let mut events = Vec::new();
    for _ in 0..100 {
        let mut acted = false;
        let out = DeploymentController.reconcile(snap, &key(), now);
        acted |= !out.actions.is_empty();
        events.extend(apply(snap, &out.actions, now, &mut seq));
        let rs_keys: Vec<ObjectKey> = snap
            .list(res::REPLICASETS, None)
            .map(|r| ObjectKey::of(r))
            .collect();
        for k in rs_keys {
            let out = ReplicaSetController.reconcile(snap, &k, now);
            acted |= !out.actions.is_empty();
            events.extend(apply(snap, &out.actions, now, &mut seq));
        }
        if ready {
            let pending: Vec<Value> = snap
                .list(res::PODS, None)
                .filter(|p| !podutil::is_ready(p))
                .map(|p| (**p).clone())
                .collect();
            for mut p in pending {
                p["status"] = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": format_time(now)}]});
                snap.upsert(res::PODS, std::sync::Arc::new(p));
                acted = true;
            }
        }
        if !acted {
            return events;
        }
    }
    panic!("controllers did not settle");
}

fn rs_names(snap: &Snapshot) -> Vec<(String, i64, String)> {
    snap.list(res::REPLICASETS, None)
        .map(|r| {
            (
                meta::name(r).to_string(),
                r["spec"]["replicas"].as_i64().unwrap_or(-1),
                util::annotation(r, REVISION).unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn first_sync_creates_the_hashed_replica_set_with_revision_annotations() {
    let d = deployment(3, "nginx", rolling());
    let snap = Snapshot::from_objects([(res::DEPLOYMENTS, d.clone())]);
    let out = DeploymentController.reconcile(&snap, &key(), t0());
    let Action::Create { object, .. } = &out.actions[0] else {
        panic!("{:?}", out.actions);
    };
    let hash = compute_hash(&d["spec"]["template"], None);
    assert_eq!(object["metadata"]["name"], json!(format!("web-{hash}")));
    assert_eq!(object["spec"]["replicas"], 3);
    assert_eq!(
        object["spec"]["selector"]["matchLabels"][HASH_LABEL],
        json!(hash)
    );
    assert_eq!(
        object["spec"]["template"]["metadata"]["labels"][HASH_LABEL],
        json!(hash)
    );
    let anns = &object["metadata"]["annotations"];
    assert_eq!(anns[REVISION], "1");
    assert_eq!(anns[DESIRED_REPLICAS], "3");
    assert_eq!(anns[MAX_REPLICAS], "4");
    let Action::Event(e) = &out.actions[1] else {
        panic!()
    };
    assert_eq!(
        e.message,
        format!("Scaled up replica set web-{hash} from 0 to 3")
    );
    let Some(Action::Patch {
        patch,
        status: true,
        ..
    }) = out.actions.last()
    else {
        panic!()
    };
    assert_eq!(patch["metadata"]["annotations"][REVISION], "1");
    let conds = patch["status"]["conditions"].as_array().unwrap();
    assert_eq!(conds[0]["reason"], "NewReplicaSetCreated");
    assert_eq!(
        conds[0]["message"],
        json!(format!("Created new replica set \"web-{hash}\""))
    );
    assert_eq!(conds[1]["reason"], "MinimumReplicasUnavailable");
    assert_eq!(
        conds[1]["message"],
        "Deployment does not have minimum availability."
    );
}

#[test]
fn healthy_rollout_completes_with_upstream_conditions_and_settles() {
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, deployment(3, "nginx", rolling()))]);
    run(&mut snap, t0(), true);
    let d = snap.get(res::DEPLOYMENTS, "default", "web").unwrap();
    let st = &d["status"];
    assert_eq!(
        (
            st["replicas"].clone(),
            st["updatedReplicas"].clone(),
            st["readyReplicas"].clone(),
            st["availableReplicas"].clone()
        ),
        (json!(3), json!(3), json!(3), json!(3))
    );
    assert_eq!(st["observedGeneration"], 1);
    let conds: Vec<(&str, &str)> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conds,
        [
            ("Available", "MinimumReplicasAvailable"),
            ("Progressing", "NewReplicaSetAvailable")
        ]
    );
    let rs = rs_names(&snap);
    assert_eq!(
        st["conditions"][1]["message"],
        json!(format!(
            "ReplicaSet \"{}\" has successfully progressed.",
            rs[0].0
        ))
    );
    // Idempotent: nothing more to do.
    assert!(
        DeploymentController
            .reconcile(&snap, &key(), t0())
            .actions
            .is_empty()
    );
}

#[test]
fn rolling_update_respects_surge_and_scales_old_down() {
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, deployment(4, "nginx", rolling()))]);
    run(&mut snap, t0(), true);
    let mut d = (**snap.get(res::DEPLOYMENTS, "default", "web").unwrap()).clone();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    d["metadata"]["generation"] = json!(2);
    put(&mut snap, res::DEPLOYMENTS, d);
    // One step: maxSurge 1 of 4 → the new ReplicaSet starts at 1.
    let out = DeploymentController.reconcile(&snap, &key(), t0());
    let created: Vec<i64> = out
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { object, .. } => object["spec"]["replicas"].as_i64(),
            _ => None,
        })
        .collect();
    assert_eq!(created, [1]);
    let events = run(&mut snap, t0(), true);
    let msgs: Vec<String> = reasons(&events)
        .into_iter()
        .filter(|(r, _)| r == "ScalingReplicaSet")
        .map(|(_, m)| m)
        .collect();
    let rs = rs_names(&snap);
    let (old, new) = if rs[0].2 == "1" {
        (&rs[0], &rs[1])
    } else {
        (&rs[1], &rs[0])
    };
    assert_eq!((old.1, new.1, new.2.as_str()), (0, 4, "2"));
    assert_eq!(
        msgs.first().unwrap(),
        &format!("Scaled up replica set {} from 0 to 1", new.0)
    );
    assert_eq!(
        msgs.last().unwrap(),
        &format!("Scaled down replica set {} from 1 to 0", old.0)
    );
    assert_eq!(
        snap.get(res::DEPLOYMENTS, "default", "web").unwrap()["metadata"]["annotations"][REVISION],
        "2"
    );
}

#[test]
fn rollout_undo_reuses_the_old_replica_set_and_bumps_its_revision() {
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, deployment(2, "nginx", rolling()))]);
    run(&mut snap, t0(), true);
    let original = (**snap.get(res::DEPLOYMENTS, "default", "web").unwrap()).clone();
    let mut d = original.clone();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:bad");
    put(&mut snap, res::DEPLOYMENTS, d.clone());
    run(&mut snap, t0(), true);
    // Undo: the template goes back.
    d["spec"]["template"] = original["spec"]["template"].clone();
    put(&mut snap, res::DEPLOYMENTS, d);
    run(&mut snap, t0(), true);
    let rs = rs_names(&snap);
    assert_eq!(rs.len(), 2, "no third ReplicaSet: {rs:?}");
    let first = rs
        .iter()
        .find(|r| r.0 == format!("web-{}", compute_hash(&original["spec"]["template"], None)))
        .unwrap();
    assert_eq!((first.1, first.2.as_str()), (2, "3"));
    let first_obj = snap.get(res::REPLICASETS, "default", &first.0).unwrap();
    assert_eq!(util::annotation(first_obj, REVISION_HISTORY), Some("1"));
}

#[test]
fn recreate_scales_old_to_zero_before_creating_new() {
    let recreate = json!({"type": "Recreate"});
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, deployment(2, "nginx", recreate))]);
    run(&mut snap, t0(), true);
    let mut d = (**snap.get(res::DEPLOYMENTS, "default", "web").unwrap()).clone();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    put(&mut snap, res::DEPLOYMENTS, d);
    let out = DeploymentController.reconcile(&snap, &key(), t0());
    assert!(
        out.actions
            .iter()
            .all(|a| !matches!(a, Action::Create { .. })),
        "{:?}",
        out.actions
    );
    let events = run(&mut snap, t0(), true);
    let msgs: Vec<String> = reasons(&events)
        .into_iter()
        .filter(|(r, _)| r == "ScalingReplicaSet")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("Scaled down replica set web-") && msgs[0].ends_with("from 2 to 0")
    );
    assert!(msgs[1].starts_with("Scaled up replica set web-") && msgs[1].ends_with("from 0 to 2"));
}

#[test]
fn paused_deployment_reports_paused_and_does_not_roll() {
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, deployment(2, "nginx", rolling()))]);
    run(&mut snap, t0(), true);
    let mut d = (**snap.get(res::DEPLOYMENTS, "default", "web").unwrap()).clone();
    d["spec"]["paused"] = json!(true);
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    put(&mut snap, res::DEPLOYMENTS, d);
    run(&mut snap, t0(), true);
    assert_eq!(rs_names(&snap).len(), 1);
    let d = snap.get(res::DEPLOYMENTS, "default", "web").unwrap();
    let prog =
        util::get_condition(d["status"]["conditions"].as_array().unwrap(), "Progressing").unwrap();
    assert_eq!(
        (
            prog["status"].as_str(),
            prog["reason"].as_str(),
            prog["message"].as_str()
        ),
        (
            Some("Unknown"),
            Some("DeploymentPaused"),
            Some("Deployment is paused")
        )
    );
}

#[test]
fn a_stuck_rollout_exceeds_its_progress_deadline() {
    let mut d = deployment(1, "nginx", rolling());
    d["spec"]["progressDeadlineSeconds"] = json!(60);
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, d)]);
    run(&mut snap, t0(), false);
    let out = DeploymentController.reconcile(&snap, &key(), t0());
    assert!(out.actions.is_empty());
    assert_eq!(out.requeue_after, Some(SignedDuration::from_secs(61)));
    let later = t0().checked_add(SignedDuration::from_secs(61)).unwrap();
    run(&mut snap, later, false);
    let d = snap.get(res::DEPLOYMENTS, "default", "web").unwrap();
    let prog =
        util::get_condition(d["status"]["conditions"].as_array().unwrap(), "Progressing").unwrap();
    let rs = rs_names(&snap);
    assert_eq!(prog["status"], "False");
    assert_eq!(prog["reason"], "ProgressDeadlineExceeded");
    assert_eq!(
        prog["message"],
        json!(format!(
            "ReplicaSet \"{}\" has timed out progressing.",
            rs[0].0
        ))
    );
}

#[test]
fn revision_history_limit_deletes_the_oldest_idle_replica_sets() {
    let mut d = deployment(1, "v0", rolling());
    d["spec"]["revisionHistoryLimit"] = json!(1);
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, d.clone())]);
    run(&mut snap, t0(), true);
    for (i, image) in ["v1", "v2"].iter().enumerate() {
        let at = t0()
            .checked_add(SignedDuration::from_secs(10 * (i as i64 + 1)))
            .unwrap();
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        put(&mut snap, res::DEPLOYMENTS, d.clone());
        run(&mut snap, at, true);
    }
    let mut revs: Vec<String> = rs_names(&snap).into_iter().map(|r| r.2).collect();
    revs.sort();
    assert_eq!(revs, ["2", "3"]);
}

#[test]
fn only_a_pod_deletion_wakes_its_deployment() {
    let mut snap = Snapshot::from_objects([(res::DEPLOYMENTS, deployment(1, "nginx", rolling()))]);
    run(&mut snap, t0(), true);
    let pod = snap.list(res::PODS, None).next().unwrap().clone();
    // Added or updated (still in the snapshot): the ReplicaSet's status
    // carries it to the Deployment.
    assert_eq!(
        DeploymentController.keys_for(&snap, res::PODS, &pod),
        Vec::<ObjectKey>::new()
    );
    // Replaced by a pod of the same name: the old one was deleted.
    let mut other = (*pod).clone();
    other["metadata"]["uid"] = json!("another-uid");
    assert_eq!(
        DeploymentController.keys_for(&snap, res::PODS, &other),
        vec![key()]
    );
    snap.remove(res::PODS, &pod);
    assert_eq!(
        DeploymentController.keys_for(&snap, res::PODS, &pod),
        vec![key()]
    );
    // Told by the runtime, it does not look: the delete alone counts.
    let c = DeploymentController;
    assert_eq!(c.keys_for_change(&snap, res::PODS, &pod, true), vec![key()]);
    assert_eq!(
        c.keys_for_change(&snap, res::PODS, &pod, false),
        Vec::<ObjectKey>::new()
    );
}
