use super::*;
use crate::sim::clock::VirtualClock;

fn registry() -> Registry {
    let clock = Arc::new(VirtualClock::new(
        jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    let r = Registry::new(Arc::new(Store::new()), clock, 42);
    let ns = resource::lookup("", "v1", "namespaces").unwrap();
    r.create(
        ns,
        "",
        json!({"metadata":{"name":"default"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    r
}

fn info(group: &str, version: &str, plural: &str) -> &'static ResourceInfo {
    resource::lookup(group, version, plural).unwrap()
}

#[test]
fn create_fills_system_metadata() {
    let r = registry();
    let cm = r
        .create(
            info("", "v1", "configmaps"),
            "default",
            json!({"metadata":{"name":"c"},"data":{"a":"b"}}),
            &WriteOptions::default(),
        )
        .unwrap();
    let o = &cm.object;
    assert_eq!(o["kind"], "ConfigMap");
    assert_eq!(o["apiVersion"], "v1");
    assert_eq!(o["metadata"]["namespace"], "default");
    assert_eq!(o["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(o["metadata"]["uid"].as_str().unwrap().len(), 36);
}

#[test]
fn namespace_gets_default_service_account_and_name_label() {
    let r = registry();
    let sa = r.get(info("", "v1", "serviceaccounts"), "default", "default");
    assert!(sa.is_some());
    let ns = r.get(info("", "v1", "namespaces"), "", "default").unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "default"
    );
    assert_eq!(ns["status"]["phase"], "Active");
}

#[test]
fn create_in_missing_namespace_is_not_found() {
    let r = registry();
    let err = r
        .create(
            info("", "v1", "configmaps"),
            "nope",
            json!({"metadata":{"name":"c"}}),
            &WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.message, "namespaces \"nope\" not found");
}

#[test]
fn generate_name_gets_five_char_suffix() {
    let r = registry();
    let w = r
        .create(
            info("", "v1", "configmaps"),
            "default",
            json!({"metadata":{"generateName":"web-"}}),
            &WriteOptions::default(),
        )
        .unwrap();
    let name = w.object["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
}

#[test]
fn dry_run_create_stores_nothing() {
    let r = registry();
    let opts = WriteOptions {
        dry_run: true,
        ..Default::default()
    };
    r.create(
        info("", "v1", "configmaps"),
        "default",
        json!({"metadata":{"name":"c"}}),
        &opts,
    )
    .unwrap();
    assert!(
        r.get(info("", "v1", "configmaps"), "default", "c")
            .is_none()
    );
}

#[test]
fn stale_update_is_conflict_with_upstream_message() {
    let r = registry();
    let cm = info("", "v1", "configmaps");
    let w = r
        .create(
            cm,
            "default",
            json!({"metadata":{"name":"c"},"data":{"a":"1"}}),
            &WriteOptions::default(),
        )
        .unwrap();
    let mut v1 = (*w.object).clone();
    v1["data"]["a"] = json!("2");
    r.update(
        cm,
        "default",
        "c",
        v1.clone(),
        None,
        &WriteOptions::default(),
    )
    .unwrap();
    v1["data"]["a"] = json!("3");
    let err = r
        .update(cm, "default", "c", v1, None, &WriteOptions::default())
        .unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message,
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[test]
fn deleting_an_owner_cascades_in_background_and_orphans_on_request() {
    let r = registry();
    let cm = info("", "v1", "configmaps");
    let owner = r
        .create(
            cm,
            "default",
            json!({"metadata":{"name":"owner"}}),
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    let uid = owner["metadata"]["uid"].clone();
    for n in ["a", "b"] {
        r.create(cm, "default", json!({"metadata":{"name":n,"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":uid}]}}), &WriteOptions::default())
            .unwrap();
    }
    r.delete(cm, "default", "owner", &DeleteOptions::default())
        .unwrap();
    assert!(r.get(cm, "default", "a").is_none() && r.get(cm, "default", "b").is_none());

    let owner = r
        .create(
            cm,
            "default",
            json!({"metadata":{"name":"owner2"}}),
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    let uid = owner["metadata"]["uid"].clone();
    r.create(cm, "default", json!({"metadata":{"name":"c","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner2","uid":uid}]}}), &WriteOptions::default())
        .unwrap();
    let opts = DeleteOptions {
        propagation: Some(Propagation::Orphan),
        ..Default::default()
    };
    r.delete(cm, "default", "owner2", &opts).unwrap();
    let c = r.get(cm, "default", "c").unwrap();
    assert!(c["metadata"].get("ownerReferences").is_none());
}

#[test]
fn finalizers_hold_deletion_until_removed() {
    let r = registry();
    let cm = info("", "v1", "configmaps");
    r.create(
        cm,
        "default",
        json!({"metadata":{"name":"f","finalizers":["example.com/hold"]}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let marked = r
        .delete(cm, "default", "f", &DeleteOptions::default())
        .unwrap();
    assert!(meta::is_deleting(&marked));
    assert!(r.get(cm, "default", "f").is_some());
    let patch = json!({"metadata":{"finalizers":null}});
    r.patch(
        cm,
        "default",
        "f",
        PatchType::Merge,
        &patch,
        None,
        &WriteOptions::default(),
    )
    .unwrap();
    assert!(r.get(cm, "default", "f").is_none());
}

#[test]
fn namespace_deletion_terminates_then_removes_content() {
    let r = registry();
    let ns = info("", "v1", "namespaces");
    r.create(
        ns,
        "",
        json!({"metadata":{"name":"team"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let cm = info("", "v1", "configmaps");
    r.create(
        cm,
        "team",
        json!({"metadata":{"name":"c"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let marked = r.delete(ns, "", "team", &DeleteOptions::default()).unwrap();
    assert_eq!(marked["status"]["phase"], "Terminating");
    let err = r
        .create(
            cm,
            "team",
            json!({"metadata":{"name":"d"}}),
            &WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        "configmaps \"d\" is forbidden: unable to create new content in namespace team because it is being terminated"
    );
    r.finalize_namespace("team");
    assert!(r.get(ns, "", "team").is_none());
    assert!(r.get(cm, "team", "c").is_none());
}

#[test]
fn services_get_a_cluster_ip_that_survives_apply_without_one() {
    let r = registry();
    let svc = info("", "v1", "services");
    let w = r
        .create(
            svc,
            "default",
            json!({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}}),
            &WriteOptions::default(),
        )
        .unwrap();
    let ip = w.object["spec"]["clusterIP"].clone();
    assert!(ip.as_str().unwrap().starts_with("10.96."));
    let patch = json!({"spec":{"selector":{"app":"web"}}});
    let p = r
        .patch(
            svc,
            "default",
            "web",
            PatchType::Merge,
            &patch,
            None,
            &WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(p.object["spec"]["clusterIP"], ip);
}

fn bound_pod(r: &Registry, name: &str, grace: Option<i64>) {
    let mut spec = json!({"nodeName": "kdrill-worker",
        "containers": [{"name": "app", "image": "nginx"}]});
    if let Some(g) = grace {
        spec["terminationGracePeriodSeconds"] = json!(g);
    }
    r.create(
        info("", "v1", "pods"),
        "default",
        json!({"metadata": {"name": name}, "spec": spec}),
        &WriteOptions::default(),
    )
    .unwrap();
}

fn deletion(o: &Value) -> (Value, Value) {
    (
        o["metadata"]["deletionTimestamp"].clone(),
        o["metadata"]["deletionGracePeriodSeconds"].clone(),
    )
}

// rest.BeforeDelete (staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go):
// deletionTimestamp = now + grace period, deletionGracePeriodSeconds = the
// period; the registry clock stands at 2023-11-14T22:13:20Z.
#[test]
fn a_graceful_pod_delete_stamps_the_end_of_its_grace_period() {
    let r = registry();
    let pods = info("", "v1", "pods");
    let cases: &[(Option<i64>, Option<i64>, &str, i64)] = &[
        // (spec terminationGracePeriodSeconds, --grace-period, want)
        (None, None, "2023-11-14T22:13:50Z", 30),
        (Some(60), None, "2023-11-14T22:14:20Z", 60),
        (Some(60), Some(5), "2023-11-14T22:13:25Z", 5),
        // A negative period counts as 1 s.
        (None, Some(-3), "2023-11-14T22:13:21Z", 1),
    ];
    for (i, (spec, asked, at, grace)) in cases.iter().enumerate() {
        let name = format!("p{i}");
        bound_pod(&r, &name, *spec);
        let opts = DeleteOptions {
            grace_period_seconds: *asked,
            ..Default::default()
        };
        let marked = r.delete(pods, "default", &name, &opts).unwrap();
        assert_eq!(deletion(&marked), (json!(at), json!(grace)), "{name}");
        assert!(r.get(pods, "default", &name).is_some(), "{name} waits");
    }
}

// A second delete may only shorten the pending period; the timestamp moves
// back by the difference (BeforeDelete's "only a shorter grace period may
// be provided by a user"); 0 removes the pod at once.
#[test]
fn a_second_delete_only_shortens_the_grace_period() {
    let r = registry();
    let pods = info("", "v1", "pods");
    bound_pod(&r, "web", None);
    let with = |g: Option<i64>| DeleteOptions {
        grace_period_seconds: g,
        ..Default::default()
    };
    r.delete(pods, "default", "web", &with(None)).unwrap();
    let again = r.delete(pods, "default", "web", &with(Some(60))).unwrap();
    assert_eq!(deletion(&again), (json!("2023-11-14T22:13:50Z"), json!(30)));
    let again = r.delete(pods, "default", "web", &with(None)).unwrap();
    assert_eq!(deletion(&again), (json!("2023-11-14T22:13:50Z"), json!(30)));
    let shorter = r.delete(pods, "default", "web", &with(Some(10))).unwrap();
    assert_eq!(
        deletion(&shorter),
        (json!("2023-11-14T22:13:30Z"), json!(10))
    );
    r.delete(pods, "default", "web", &with(Some(0))).unwrap();
    assert!(r.get(pods, "default", "web").is_none());
}

// markAsDeleting (generic/registry/store.go): an object held only by
// finalizers is stamped now with a zero grace period, and a set
// generation is bumped.
#[test]
fn a_finalizer_held_delete_is_stamped_now_and_bumps_the_generation() {
    let r = registry();
    let cm = info("", "v1", "configmaps");
    r.create(
        cm,
        "default",
        json!({"metadata":{"name":"f","finalizers":["example.com/hold"]}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let marked = r
        .delete(cm, "default", "f", &DeleteOptions::default())
        .unwrap();
    assert_eq!(deletion(&marked), (json!("2023-11-14T22:13:20Z"), json!(0)));
    let deploy = info("apps", "v1", "deployments");
    r.create(
        deploy,
        "default",
        json!({"metadata": {"name": "web", "finalizers": ["example.com/hold"]},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let marked = r
        .delete(deploy, "default", "web", &DeleteOptions::default())
        .unwrap();
    assert_eq!(marked["metadata"]["generation"], 2);
    // A namespace: the timestamp only (namespace storage's Delete).
    let ns = info("", "v1", "namespaces");
    r.create(
        ns,
        "",
        json!({"metadata": {"name": "gone"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let marked = r.delete(ns, "", "gone", &DeleteOptions::default()).unwrap();
    assert_eq!(
        deletion(&marked),
        (json!("2023-11-14T22:13:20Z"), Value::Null)
    );
}

/// A hook that denies ConfigMaps whose data holds `bad`, counting calls.
fn deny_bad(calls: Arc<std::sync::atomic::AtomicUsize>) -> webhook::ValidatingHook {
    Arc::new(move |_store: &Store, _now, res| {
        if res
            != (ResKey {
                group: "",
                resource: "configmaps",
            })
        {
            return None;
        }
        let calls = calls.clone();
        Some(Box::new(move |obj: &Value| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match obj.get_in(&["data", "bad"]) {
                Some(_) => Err(Status::bad_request(
                    "admission webhook \"deny.example.com\" denied the request: bad",
                )),
                None => Ok(()),
            }
        }))
    })
}

#[test]
fn validating_hooks_see_user_writes_of_their_resource() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let r = registry();
    let calls = Arc::new(AtomicUsize::new(0));
    r.add_validating_hook(deny_bad(calls.clone()));
    let cm = info("", "v1", "configmaps");
    let user = WriteOptions::default();
    let denied = |res: Result<Written, Status>| {
        let e = res.expect_err("denied");
        assert_eq!(
            (e.code, e.reason, e.message.as_str()),
            (
                400,
                "BadRequest",
                "admission webhook \"deny.example.com\" denied the request: bad"
            )
        );
    };
    let bad = json!({"metadata":{"name":"c"},"data":{"bad":"1"}});
    // create, also on dry run; nothing is stored
    denied(r.create(cm, "default", bad.clone(), &user));
    let dry = WriteOptions {
        dry_run: true,
        ..WriteOptions::default()
    };
    denied(r.create(cm, "default", bad.clone(), &dry));
    assert!(r.get(cm, "default", "c").is_none());
    // an acceptable create, then update and patch that turn it bad
    r.create(
        cm,
        "default",
        json!({"metadata":{"name":"c"},"data":{"ok":"1"}}),
        &user,
    )
    .unwrap();
    denied(r.update(cm, "default", "c", bad.clone(), None, &user));
    denied(r.patch(
        cm,
        "default",
        "c",
        PatchType::Merge,
        &json!({"data":{"bad":"1"}}),
        None,
        &user,
    ));
    assert_eq!(
        r.get(cm, "default", "c").unwrap()["data"],
        json!({"ok":"1"})
    );
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    // the simulator's own writes skip webhooks
    r.patch(
        cm,
        "default",
        "c",
        PatchType::Merge,
        &json!({"data":{"bad":"1"}}),
        None,
        &WriteOptions::internal(),
    )
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    // other resources are not intercepted
    r.create(
        info("", "v1", "secrets"),
        "default",
        json!({"metadata":{"name":"s"},"data":{"bad":"MQ=="}}),
        &user,
    )
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[test]
fn writes_carry_the_resources_own_api_version_and_kind() {
    let r = registry();
    let cm = info("", "v1", "configmaps");
    let rs = info("apps", "v1", "replicasets");
    let template = json!({"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let rs_spec = json!({"selector": {"matchLabels": {"a": "b"}}, "template": template});
    // (resource, apiVersion given, kind given), internal and not.
    let cases = [
        (cm, json!(null), json!(null)),
        (cm, json!("v1"), json!("ConfigMap")),
        (cm, json!("apps/v1"), json!("")),
        (rs, json!("v1"), json!("ReplicaSet")),
        (rs, json!("extensions/v1"), json!(null)),
        (rs, json!("apps/v1beta2"), json!(null)),
        (rs, json!(7), json!(null)),
    ];
    for (i, (res, api_version, kind)) in cases.into_iter().enumerate() {
        for opts in [WriteOptions::internal(), WriteOptions::default()] {
            let name = format!("o{i}-{}", opts.internal);
            let mut body = json!({"metadata": {"name": name}});
            if res.kind == "ReplicaSet" {
                body["spec"] = rs_spec.clone();
            }
            if !api_version.is_null() {
                body["apiVersion"] = api_version.clone();
            }
            if !kind.is_null() {
                body["kind"] = kind.clone();
            }
            let result = r.create(res, "default", body, &opts);
            if api_version.is_number() && !opts.internal {
                // A client's body is decoded first, as the apiserver does.
                let err = result.err().map(|e| e.message).unwrap_or_default();
                assert!(
                    err.contains("ReplicaSet.apiVersion of type string"),
                    "{err}"
                );
                continue;
            }
            let w = result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let want = (res.api_version(), res.kind);
            let got = (
                w.object["apiVersion"].as_str().unwrap_or("").to_string(),
                w.object["kind"].as_str().unwrap_or(""),
            );
            assert_eq!((got.0.as_str(), got.1), (want.0.as_str(), want.1), "{name}");
        }
    }
}

#[test]
fn pods_get_the_service_account_token_volume_and_mounts() {
    let r = registry();
    let pod = json!({"metadata": {"name": "p"}, "spec": {
        "initContainers": [{"name": "i", "image": "busybox"}],
        "containers": [
            {"name": "a", "image": "nginx"},
            {"name": "b", "image": "nginx", "volumeMounts": [{"name": "x", "mountPath": "/x"}]},
        ],
        "volumes": [{"name": "x", "emptyDir": {}}],
    }});
    let w = r
        .create(
            info("", "v1", "pods"),
            "default",
            pod,
            &WriteOptions::default(),
        )
        .unwrap();
    let spec = &w.object["spec"];
    let volume = &spec["volumes"][1];
    let name = volume["name"].as_str().unwrap();
    assert!(
        name.starts_with("kube-api-access-") && name.len() == 21,
        "{name}"
    );
    assert_eq!(
        volume["projected"],
        json!({"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ]})
    );
    assert_eq!(spec["volumes"][0]["name"], "x");
    let mount = json!({"name": name, "readOnly": true,
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"});
    assert_eq!(spec["initContainers"][0]["volumeMounts"], json!([mount]));
    assert_eq!(spec["containers"][0]["volumeMounts"], json!([mount]));
    assert_eq!(
        spec["containers"][1]["volumeMounts"],
        json!([{"name": "x", "mountPath": "/x"}, mount])
    );
}

/// ServiceAccount admission and a static pod's mirror (the object the
/// kubelet writes for it): the spec is left as it is (no account, no
/// token volume), and references to an account or a Secret are refused
/// with the plugin's messages.
#[test]
fn a_mirror_pod_gets_no_service_account_and_may_reference_none() {
    let r = registry();
    let pods = info("", "v1", "pods");
    let mirror = |name: &str, spec: Value| {
        json!({"metadata": {"name": name, "annotations": {
            "kubernetes.io/config.mirror": "0123456789abcdef0123456789abcdef",
            "kubernetes.io/config.source": "file"}},
            "spec": spec})
    };
    let container = json!({"name": "etcd", "image": "registry.k8s.io/etcd:3.5.21-0"});
    let created = r
        .create(
            pods,
            "default",
            mirror(
                "etcd-node",
                json!({"containers": [container], "nodeName": "node"}),
            ),
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    let spec = &created["spec"];
    assert_eq!(spec.get("serviceAccountName"), None, "{spec}");
    assert_eq!(spec.get("serviceAccount"), None, "{spec}");
    assert_eq!(spec.get("volumes"), None, "{spec}");
    assert_eq!(spec["containers"][0].get("volumeMounts"), None, "{spec}");
    // An ordinary pod beside it gets both.
    let plain = r
        .create(
            pods,
            "default",
            json!({"metadata": {"name": "plain"}, "spec": {"containers": [container]}}),
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    assert_eq!(plain["spec"]["serviceAccountName"], "default");
    assert!(
        plain["spec"]["volumes"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("kube-api-access-")
    );
    let refused = |name: &str, spec: Value| {
        let err = r
            .create(
                pods,
                "default",
                mirror(name, spec),
                &WriteOptions::default(),
            )
            .unwrap_err();
        assert_eq!(err.code, 403, "{}", err.message);
        err.message
    };
    assert_eq!(
        refused(
            "with-account",
            json!({"containers": [container], "serviceAccountName": "default"})
        ),
        "pods \"with-account\" is forbidden: a mirror pod may not reference service accounts"
    );
    let secret_env = json!([{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.21-0",
        "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]);
    let secret_volume = json!({"containers": [container],
        "volumes": [{"name": "v", "secret": {"secretName": "s"}}]});
    let pull_secret = json!({"containers": [container], "imagePullSecrets": [{"name": "s"}]});
    for (name, spec) in [
        ("env", json!({"containers": secret_env})),
        ("volume", secret_volume),
        ("pull", pull_secret),
    ] {
        assert_eq!(
            refused(name, spec),
            format!("pods \"{name}\" is forbidden: a mirror pod may not reference secrets")
        );
    }
    let token = json!({"containers": [container], "volumes": [{"name": "t", "projected": {
        "sources": [{"serviceAccountToken": {"path": "token"}}]}}]});
    assert_eq!(
        refused("token", token),
        "pods \"token\" is forbidden: a mirror pod may not use ServiceAccountToken volume projections"
    );
}
