//! kube-rs against the simulated cluster: typed and dynamic APIs, watcher,
//! and discovery both ways.

use super::harness::Sim;
use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt;
use kube::{Client, Config, Discovery, ResourceExt};

async fn client(sim: &Sim) -> Client {
    let kc = Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

#[tokio::test]
async fn typed_api_round_trip() {
    let sim = Sim::start();
    let c = client(&sim).await;
    let nodes: Api<Node> = Api::all(c.clone());
    let names: Vec<String> = nodes
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|n| n.name_any())
        .collect();
    assert_eq!(
        names,
        ["kdrill-control-plane", "kdrill-worker", "kdrill-worker2"]
    );

    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "k"}, "data": {"a": "1"}}))
            .unwrap();
    let created = cms.create(&PostParams::default(), &cm).await.unwrap();
    assert!(created.metadata.uid.is_some());
    let patched = cms
        .patch(
            "k",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap().len(), 2);
    let applied = cms
        .patch("k2", &PatchParams::apply("kdrill-test"), &Patch::Apply(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k2"}, "data": {"x": "y"}})))
        .await
        .unwrap();
    assert_eq!(applied.name_any(), "k2");
    cms.delete("k", &DeleteParams::default()).await.unwrap();
    let err = cms.get("k").await.unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 404);
            assert_eq!(s.reason, "NotFound");
        }
        other => panic!("unexpected {other}"),
    }

    let deploys: Api<Deployment> = Api::namespaced(c, "default");
    let d: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .unwrap();
    deploys.create(&PostParams::default(), &d).await.unwrap();
    let scale = deploys.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    deploys
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(
        deploys.get("web").await.unwrap().spec.unwrap().replicas,
        Some(3)
    );
}

#[tokio::test]
async fn dynamic_api_and_discovery_both_ways() {
    let sim = Sim::start();
    let c = client(&sim).await;
    let legacy = Discovery::new(c.clone()).run().await.unwrap();
    let aggregated = Discovery::new(c.clone()).run_aggregated().await.unwrap();
    for d in [&legacy, &aggregated] {
        let groups: Vec<String> = d.groups().map(|g| g.name().to_string()).collect();
        assert!(groups.iter().any(|g| g == "apps"), "{groups:?}");
        assert!(
            groups.iter().any(|g| g == "networking.k8s.io"),
            "{groups:?}"
        );
        let (ar, caps) = d
            .resolve_gvk(&kube::core::GroupVersionKind::gvk(
                "apps",
                "v1",
                "Deployment",
            ))
            .unwrap();
        assert_eq!(ar.plural, "deployments");
        assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    }
    let (ar, _) = aggregated
        .resolve_gvk(&kube::core::GroupVersionKind::gvk("", "v1", "Service"))
        .unwrap();
    let svcs: Api<kube::api::DynamicObject> = Api::namespaced_with(c, "kube-system", &ar);
    let list = svcs.list(&ListParams::default()).await.unwrap();
    assert_eq!(
        list.items.iter().map(|o| o.name_any()).collect::<Vec<_>>(),
        ["kube-dns"]
    );
}

#[tokio::test]
async fn watcher_sees_creations_with_and_without_streaming_lists() {
    let sim = Sim::start();
    let c = client(&sim).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for streaming in [false, true] {
        let cfg = if streaming {
            kube::runtime::watcher::Config::default().streaming_lists()
        } else {
            kube::runtime::watcher::Config::default()
        };
        let name = format!("w-{streaming}");
        let stream = kube::runtime::watcher(cms.clone(), cfg).applied_objects();
        let mut stream = Box::pin(stream);
        let creator = {
            let cms = cms.clone();
            let name = name.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let cm: ConfigMap =
                    serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))
                        .unwrap();
                cms.create(&PostParams::default(), &cm).await.unwrap();
            })
        };
        let found = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while let Some(cm) = stream.try_next().await.unwrap() {
                if cm.name_any() == name {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        creator.await.unwrap();
        assert!(found, "watcher (streaming={streaming}) did not see {name}");
    }
}

/// The simulator's Events are stored packed from the start: a kube-rs
/// watcher still gets each one whole as it is written, and a watch resumed
/// from an earlier resourceVersion replays them from the history.
#[tokio::test]
async fn events_reach_watchers_live_and_replayed_from_history() {
    use k8s_openapi::api::core::v1::{Event, Pod};
    use kube::api::WatchParams;
    use kube::core::WatchEvent;
    let sim = Sim::start();
    let c = client(&sim).await;
    let events: Api<Event> = Api::namespaced(c.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let before = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let scheduled = |e: &Event| {
        e.reason.as_deref() == Some("Scheduled") && e.involved_object.name.as_deref() == Some("ev")
    };
    let live = kube::runtime::watcher(events.clone(), kube::runtime::watcher::Config::default())
        .applied_objects();
    let mut live = Box::pin(live);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "ev"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(e) = live.try_next().await.unwrap() {
            if scheduled(&e) {
                return Some(e);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the live watcher saw the Scheduled event");
    assert_eq!(
        seen.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("default-scheduler")
    );
    assert!(
        seen.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Successfully assigned default/ev to kdrill-")),
        "{seen:?}"
    );
    assert_eq!(seen.involved_object.kind.as_deref(), Some("Pod"));
    assert!(seen.involved_object.uid.is_some());
    // Resumed from before the pod: the same Event, replayed.
    let replay = events
        .watch(&WatchParams::default().timeout(3), &before)
        .await
        .unwrap();
    let mut replay = Box::pin(replay);
    let mut replayed = None;
    while let Some(ev) = replay.try_next().await.unwrap() {
        if let WatchEvent::Added(e) = ev
            && scheduled(&e)
        {
            replayed = Some(e);
            break;
        }
    }
    let replayed = replayed.expect("the history replays the Scheduled event");
    assert_eq!(replayed.metadata.uid, seen.metadata.uid);
    assert_eq!(replayed.message, seen.message);
    assert_eq!(replayed.first_timestamp, seen.first_timestamp);
}
