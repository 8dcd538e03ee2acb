//! What a controller sees: an immutable view of stored objects, held as
//! the store's own `Arc<Value>`s (an informer cache, in upstream terms).
//!
//! The runtime keeps one `Snapshot` up to date from store events and from
//! the objects its own writes return; tests build one by hand with
//! `Snapshot::from_objects`. Controllers only read it.

use crate::api::meta;
use crate::store::ResKey;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Stored resources controllers read.
pub mod res {
    use crate::store::ResKey;

    pub const PODS: ResKey = ResKey {
        group: "",
        resource: "pods",
    };
    pub const NODES: ResKey = ResKey {
        group: "",
        resource: "nodes",
    };
    pub const EVENTS: ResKey = ResKey {
        group: "",
        resource: "events",
    };
    pub const REPLICASETS: ResKey = ResKey {
        group: "apps",
        resource: "replicasets",
    };
    pub const DEPLOYMENTS: ResKey = ResKey {
        group: "apps",
        resource: "deployments",
    };
    pub const JOBS: ResKey = ResKey {
        group: "batch",
        resource: "jobs",
    };
    pub const CRONJOBS: ResKey = ResKey {
        group: "batch",
        resource: "cronjobs",
    };
}

/// A namespace and a name (namespace "" for cluster-scoped objects).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of a stored object.
    pub fn of(obj: &Value) -> Self {
        Self::new(meta::namespace(obj), meta::name(obj))
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

type Objects = BTreeMap<(String, String), Arc<Value>>;

/// Objects by resource, namespace and name.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    objects: HashMap<ResKey, Objects>,
}

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// A snapshot holding `objects` (tests).
    pub fn from_objects(objects: impl IntoIterator<Item = (ResKey, Value)>) -> Self {
        let mut s = Self::new();
        for (res, obj) in objects {
            s.upsert(res, Arc::new(obj));
        }
        s
    }

    pub fn get(&self, res: ResKey, namespace: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects
            .get(&res)?
            .get(&(namespace.to_string(), name.to_string()))
    }

    /// Objects of a resource (in one namespace when given), ordered by
    /// namespace then name.
    pub fn list<'a>(
        &'a self,
        res: ResKey,
        namespace: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = &'a Arc<Value>> + 'a> {
        let Some(objs) = self.objects.get(&res) else {
            return Box::new(std::iter::empty());
        };
        match namespace {
            None => Box::new(objs.values()),
            Some(ns) => Box::new(
                objs.range((ns.to_string(), String::new())..)
                    .take_while(move |((n, _), _)| n == ns)
                    .map(|(_, v)| v),
            ),
        }
    }

    /// Objects in `namespace` whose controller ownerReference has `uid`.
    pub fn owned_by<'a>(
        &'a self,
        res: ResKey,
        namespace: &'a str,
        uid: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        self.list(res, Some(namespace))
            .filter(move |o| controller_uid(o) == Some(uid))
    }

    /// Stores `obj` unless the snapshot already holds a newer version.
    pub fn upsert(&mut self, res: ResKey, obj: Arc<Value>) {
        let key = (
            meta::namespace(&obj).to_string(),
            meta::name(&obj).to_string(),
        );
        let objs = self.objects.entry(res).or_default();
        if let Some(old) = objs.get(&key)
            && meta::uid(old) == meta::uid(&obj)
            && meta::resource_version(old) > meta::resource_version(&obj)
        {
            return;
        }
        objs.insert(key, obj);
    }

    /// Drops an object, unless the snapshot holds a newer incarnation
    /// (another uid, or a later version of the same one).
    pub fn remove(&mut self, res: ResKey, gone: &Value) {
        let key = (
            meta::namespace(gone).to_string(),
            meta::name(gone).to_string(),
        );
        let Some(objs) = self.objects.get_mut(&res) else {
            return;
        };
        if let Some(cur) = objs.get(&key)
            && meta::uid(cur) == meta::uid(gone)
            && meta::resource_version(cur) <= meta::resource_version(gone)
        {
            objs.remove(&key);
        }
    }

    /// Replaces everything held for one resource.
    pub fn replace(&mut self, res: ResKey, items: Vec<Arc<Value>>) {
        let mut objs = Objects::new();
        for o in items {
            objs.insert(
                (meta::namespace(&o).to_string(), meta::name(&o).to_string()),
                o,
            );
        }
        self.objects.insert(res, objs);
    }
}

/// The uid of an object's controller (`ownerReferences[controller=true]`).
pub fn controller_uid(obj: &Value) -> Option<&str> {
    controller_ref(obj)
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// An object's controller reference, if any.
pub fn controller_ref(obj: &Value) -> Option<&Value> {
    meta::owner_references(obj)
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, uid: &str, rv: &str) -> Value {
        json!({"metadata": {"namespace": "default", "name": name, "uid": uid, "resourceVersion": rv}})
    }

    #[test]
    fn upsert_keeps_the_newer_version_of_the_same_object() {
        let mut s = Snapshot::new();
        s.upsert(res::PODS, Arc::new(pod("a", "u1", "5")));
        s.upsert(res::PODS, Arc::new(pod("a", "u1", "3")));
        let got = s
            .get(res::PODS, "default", "a")
            .map(|p| meta::resource_version(p));
        assert_eq!(got, Some(Some(5)));
        // A new incarnation (new uid) always replaces.
        s.upsert(res::PODS, Arc::new(pod("a", "u2", "2")));
        assert_eq!(
            s.get(res::PODS, "default", "a")
                .map(|p| meta::uid(p).to_string()),
            Some("u2".into())
        );
    }

    #[test]
    fn remove_ignores_a_stale_delete_of_an_older_incarnation() {
        let mut s = Snapshot::new();
        s.upsert(res::PODS, Arc::new(pod("a", "u2", "9")));
        s.remove(res::PODS, &pod("a", "u1", "8"));
        assert!(s.get(res::PODS, "default", "a").is_some());
        s.remove(res::PODS, &pod("a", "u2", "10"));
        assert!(s.get(res::PODS, "default", "a").is_none());
    }

    #[test]
    fn list_is_scoped_to_a_namespace() {
        let mut a = pod("a", "1", "1");
        a["metadata"]["namespace"] = json!("kube-system");
        let s = Snapshot::from_objects([(res::PODS, a), (res::PODS, pod("b", "2", "1"))]);
        let names: Vec<&str> = s
            .list(res::PODS, Some("default"))
            .map(|p| meta::name(p))
            .collect();
        assert_eq!(names, ["b"]);
        assert_eq!(s.list(res::PODS, None).count(), 2);
    }
}
