use super::*;
use serde_json::json;

const PODS: ResKey = ResKey {
    group: "",
    resource: "pods",
};

const EVENTS: ResKey = ResKey {
    group: "",
    resource: "events",
};

fn pod(ns: &str, name: &str) -> Value {
    json!({"metadata": {"namespace": ns, "name": name}})
}

#[test]
fn resource_versions_increase_globally() {
    let s = Store::new();
    let a = s.create(PODS, pod("default", "a")).unwrap();
    let b = s.create(PODS, pod("default", "b")).unwrap();
    let ra = crate::api::meta::resource_version(&a).unwrap();
    let rb = crate::api::meta::resource_version(&b).unwrap();
    assert!(rb > ra);
    assert_eq!(s.current_rv(), rb);
}

#[test]
fn create_twice_is_already_exists() {
    let s = Store::new();
    s.create(PODS, pod("default", "a")).unwrap();
    assert!(matches!(
        s.create(PODS, pod("default", "a")),
        Err(StoreError::AlreadyExists { .. })
    ));
}

#[test]
fn stale_update_conflicts() {
    let s = Store::new();
    let a = s.create(PODS, pod("default", "a")).unwrap();
    let rv = crate::api::meta::resource_version(&a).unwrap();
    s.update(PODS, (*a).clone(), Some(rv)).unwrap();
    let err = s.update(PODS, (*a).clone(), Some(rv)).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
}

#[test]
fn list_filters_by_namespace() {
    let s = Store::new();
    s.create(PODS, pod("a", "x")).unwrap();
    s.create(PODS, pod("b", "y")).unwrap();
    s.create(PODS, pod("ab", "z")).unwrap();
    let (items, _) = s.list(PODS, Some("a"));
    assert_eq!(items.len(), 1);
    assert_eq!(s.list(PODS, None).0.len(), 3);
}

#[test]
fn watch_replays_events_after_the_given_version() {
    let s = Store::new();
    let a = s.create(PODS, pod("default", "a")).unwrap();
    let rv = crate::api::meta::resource_version(&a).unwrap();
    s.create(PODS, pod("default", "b")).unwrap();
    s.delete(PODS, "default", "a", None).unwrap();
    let w = s.watch(PODS, rv).unwrap();
    let kinds: Vec<_> = w.backlog.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventType::Added, EventType::Deleted]);
}

#[test]
fn watch_from_a_compacted_version_expires() {
    let s = Store::new();
    for i in 0..(HISTORY + 5) {
        s.create(PODS, pod("default", &format!("p{i}"))).unwrap();
    }
    assert!(matches!(s.watch(PODS, 2), Err(StoreError::Expired { .. })));
}

fn owned(name: &str, owners: &[&str]) -> Value {
    let refs: Vec<Value> = owners.iter().map(|u| json!({"uid": u})).collect();
    json!({"metadata": {"namespace": "default", "name": name, "ownerReferences": refs}})
}

fn dependents_of(s: &Store, uid: &str) -> Vec<String> {
    s.dependents(uid)
        .iter()
        .map(|(_, o)| crate::api::meta::name(o).to_string())
        .collect()
}

#[test]
fn dependents_follow_owner_references_through_updates_and_deletes() {
    let s = Store::new();
    s.create(PODS, owned("b", &["rs-1"])).unwrap();
    s.create(PODS, owned("a", &["rs-1", "rs-2"])).unwrap();
    s.create(PODS, pod("default", "c")).unwrap();
    assert_eq!(dependents_of(&s, "rs-1"), ["a", "b"]);
    assert_eq!(dependents_of(&s, "rs-2"), ["a"]);
    // Orphaned by an update: out of the index.
    s.update(PODS, owned("a", &["rs-2"]), None).unwrap();
    assert_eq!(dependents_of(&s, "rs-1"), ["b"]);
    // Adopted by an update.
    s.update(PODS, owned("c", &["rs-1"]), None).unwrap();
    assert_eq!(dependents_of(&s, "rs-1"), ["b", "c"]);
    s.delete(PODS, "default", "b", None).unwrap();
    assert_eq!(dependents_of(&s, "rs-1"), ["c"]);
    assert!(dependents_of(&s, "nobody").is_empty());
}

#[test]
fn a_huge_watch_history_is_only_a_bound() {
    // `kdrill sim serve --watch-history` takes any number: the store must
    // neither reserve it nor refuse it.
    let s = Store::with_history(usize::MAX);
    for i in 0..3 {
        s.create(PODS, pod("default", &format!("p{i}"))).unwrap();
    }
    assert!(s.watch(PODS, 1).is_ok());
}

#[test]
fn dependents_come_ordered_by_resource_namespace_and_name_whatever_the_write_order() {
    let s = Store::new();
    let in_ns = |ns: &str, name: &str| {
        let mut o = owned(name, &["owner"]);
        o["metadata"]["namespace"] = json!(ns);
        o
    };
    for (res, ns, name) in [
        (PODS, "web", "b"),
        (EVENTS, "default", "z"),
        (PODS, "default", "web-2"),
        (PODS, "web", "a"),
        (PODS, "default", "web-10"),
        (EVENTS, "default", "a"),
    ] {
        s.create(res, in_ns(ns, name)).unwrap();
    }
    let got: Vec<String> = s
        .dependents("owner")
        .iter()
        .map(|(res, o)| {
            let m = |k: &str| o["metadata"][k].as_str().unwrap().to_string();
            format!("{}/{}/{}", res.resource, m("namespace"), m("name"))
        })
        .collect();
    // Resource first (events before pods), then namespace, then name as
    // strings ("web-10" before "web-2").
    assert_eq!(
        got,
        [
            "events/default/a",
            "events/default/z",
            "pods/default/web-10",
            "pods/default/web-2",
            "pods/web/a",
            "pods/web/b"
        ]
    );
}

/// Whether the store holds `name` packed, and its history entry too.
fn packed(s: &Store, name: &str) -> (bool, bool) {
    let inner = s.read();
    let stored = inner.objects[&EVENTS]
        .get("default", name)
        .is_some_and(|slot| matches!(slot, Slot::Packed(_)));
    let in_history = inner.history.iter().any(|e| {
        matches!(&e.object, Slot::Packed(_))
            && *e.object.tree()
                == *inner.objects[&EVENTS]
                    .get("default", name)
                    .map(Slot::tree)
                    .unwrap()
    });
    (stored, in_history)
}

#[test]
fn events_nobody_else_holds_are_packed_with_their_history_entry_and_read_back_unchanged() {
    let s = Store::new().keep_decoded(0);
    let a = s.create(EVENTS, pod("default", "a")).unwrap();
    let want = (*a).clone();
    let from = crate::api::meta::resource_version(&a).unwrap() - 1;
    // Held by the caller: stays a tree however many writes follow.
    for i in 0..4 {
        s.create(EVENTS, pod("default", &format!("x{i}"))).unwrap();
    }
    assert_eq!(packed(&s, "a"), (false, false));
    drop(a);
    for i in 4..8 {
        s.create(EVENTS, pod("default", &format!("x{i}"))).unwrap();
    }
    assert_eq!(packed(&s, "a"), (true, true));
    assert_eq!(*s.get(EVENTS, "default", "a").unwrap(), want);
    let listed = s.list(EVENTS, Some("default")).0;
    assert_eq!(*listed[0], want);
    // A watch resuming from before the write replays it from the history.
    let w = s.watch(EVENTS, from).unwrap();
    assert_eq!(**w.backlog[0].object(), want);
    // An update of a packed object works on the decoded one.
    let mut changed = want.clone();
    changed["metadata"]["labels"] = json!({"x": "1"});
    let rv = crate::api::meta::resource_version(&want);
    let (old, new) = s.update(EVENTS, changed, rv).unwrap();
    assert_eq!(*old, want);
    assert_eq!(new["metadata"]["labels"]["x"], "1");
}

#[test]
fn the_newest_events_stay_decoded_and_older_ones_are_packed() {
    let s = Store::new().keep_decoded(3);
    let names: Vec<String> = (0..6).map(|i| format!("e{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.create(EVENTS, pod("default", name)).unwrap();
        // Up to three written: nothing packs.
        if i < 3 {
            assert!(names[..=i].iter().all(|n| packed(&s, n) == (false, false)));
        }
    }
    for (i, name) in names.iter().enumerate() {
        let want = if i < 3 { (true, true) } else { (false, false) };
        assert_eq!(packed(&s, name), want, "{name}");
        assert_eq!(
            s.get(EVENTS, "default", name).unwrap()["metadata"]["name"],
            *name
        );
    }
    assert_eq!(s.packed(EVENTS), 3);
}

#[test]
fn other_resources_stay_decoded() {
    let s = Store::new();
    s.create(PODS, pod("default", "a")).unwrap();
    for i in 0..8 {
        s.create(PODS, pod("default", &format!("x{i}"))).unwrap();
    }
    let inner = s.read();
    let slot = inner.objects[&PODS].get("default", "a").unwrap();
    assert!(matches!(slot, Slot::Tree(_)));
}

#[test]
fn resource_keys_are_equal_by_content_not_address() {
    // Names built at run time (a CRD's plural, say) live elsewhere than
    // the constants; they are still the same resource.
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let built = ResKey {
        group: leak(""),
        resource: leak("pods"),
    };
    assert!(!std::ptr::eq(
        built.resource.as_ptr(),
        PODS.resource.as_ptr()
    ));
    assert_eq!(built, PODS);
    assert_ne!(built, EVENTS);
    // Same length, different bytes; same bytes, different group.
    let jobs = ResKey {
        group: "",
        resource: leak("jobs"),
    };
    assert_ne!(jobs, PODS);
    let apps_pods = ResKey {
        group: leak("apps"),
        resource: PODS.resource,
    };
    assert_ne!(apps_pods, PODS);
    assert_eq!(apps_pods, apps_pods.clone());
    // Ordering and hashing agree with equality.
    assert_eq!(built.cmp(&PODS), std::cmp::Ordering::Equal);
    let mut set = std::collections::HashSet::new();
    set.insert(PODS);
    assert!(set.contains(&built));
}

/// An object stored packed from the start: its rv written by the encoder,
/// read back decoded, sent to live watchers and replayed from the history
/// with its names known before any decode, refused under a taken name,
/// and updated like any other.
#[test]
fn an_object_created_packed_reads_watches_and_updates_as_a_tree() {
    let s = Store::new();
    let mut live = s.subscribe();
    let from = s.current_rv();
    let body = |rv: u64| json!({"kind": "Event", "metadata": {"name": "e", "namespace": "ns", "resourceVersion": rv.to_string()}, "reason": "Pulled"});
    let rv = s
        .create_packed(EVENTS, "ns", "e", |rv| pack(&body(rv)))
        .unwrap();
    assert_eq!(rv, s.current_rv());
    assert_eq!(s.packed(EVENTS), 1);
    assert!(s.contains(EVENTS, "ns", "e"));
    assert!(!s.contains(EVENTS, "ns", "f"));
    assert_eq!(*s.get(EVENTS, "ns", "e").unwrap(), body(rv));
    let ev = live.try_recv().unwrap();
    assert_eq!(
        (ev.rv, ev.kind, ev.namespace(), ev.name()),
        (rv, EventType::Added, "ns", "e")
    );
    assert_eq!(**ev.object(), body(rv));
    let w = s.watch(EVENTS, from).unwrap();
    assert_eq!(w.backlog.len(), 1);
    assert_eq!(**w.backlog[0].object(), body(rv));
    assert!(matches!(
        s.create_packed(EVENTS, "ns", "e", |rv| pack(&body(rv))),
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(s.current_rv(), rv, "a refused write takes no version");
    let mut changed = body(rv);
    changed["reason"] = json!("Created");
    let (old, new) = s.update(EVENTS, changed, Some(rv)).unwrap();
    assert_eq!(*old, body(rv));
    assert_eq!(new["reason"], "Created");
}
