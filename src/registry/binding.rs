//! `pods/binding`: assigning a pending pod to a node, as the scheduler
//! does (`BindingREST.setPodNodeAndMetadata` upstream). It bypasses the
//! pod update validation (spec.nodeName is otherwise immutable), refuses a
//! pod that is bound or being deleted, and marks `PodScheduled` True.

use super::Registry;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::status::{GroupResource, Status};
use crate::sim::clock::format_time;
use crate::store::ResKey;
use serde_json::{Value, json};
use std::sync::Arc;

const PODS: ResKey = ResKey {
    group: "",
    resource: "pods",
};
const BINDING: GroupResource<'static> = GroupResource {
    group: "",
    resource: "pods/binding",
};

impl Registry {
    /// Binds pod `ns/name` (with `uid` when given) to `node`.
    pub fn bind_pod(
        &self,
        ns: &str,
        name: &str,
        uid: Option<&str>,
        node: &str,
    ) -> Result<Arc<Value>, Status> {
        let now = format_time(self.clock.now());
        let result = self
            .store
            .update_with(PODS, ns, name, |old| -> Result<Option<Value>, Status> {
                if let Some(uid) = uid
                    && meta::uid(old) != uid
                {
                    return Err(Status::conflict(
                        BINDING,
                        name,
                        &format!(
                            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                            meta::uid(old)
                        ),
                    ));
                }
                if meta::is_deleting(old) {
                    return Err(Status::conflict(
                        BINDING,
                        name,
                        &format!("pod {name} is being deleted, cannot be assigned to a host"),
                    ));
                }
                if let Some(bound) = old
                    .get_in(&["spec", "nodeName"])
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                {
                    return Err(Status::conflict(
                        BINDING,
                        name,
                        &format!("pod {name} is already assigned to node {bound:?}"),
                    ));
                }
                if old
                    .get_in(&["spec", "schedulingGates"])
                    .and_then(Value::as_array)
                    .is_some_and(|g| !g.is_empty())
                {
                    return Err(Status::conflict(
                        BINDING,
                        name,
                        &format!("pod {name} has non-empty .spec.schedulingGates"),
                    ));
                }
                let mut pod = (**old).clone();
                if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.insert("nodeName".into(), json!(node));
                }
                set_scheduled_true(&mut pod, &now);
                Ok(Some(pod))
            })
            .map_err(|_| Status::not_found(GroupResource { group: "", resource: "pods" }, name))?;
        result.map(|(_, new)| new)
    }
}

/// `podutil.UpdatePodCondition` with `PodScheduled=True`: the transition
/// time moves only when the status changes.
fn set_scheduled_true(pod: &mut Value, now: &str) {
    let Some(root) = pod.as_object_mut() else {
        return;
    };
    let status = root.entry("status").or_insert_with(|| json!({}));
    let Some(status) = status.as_object_mut() else {
        return;
    };
    let conds = status.entry("conditions").or_insert_with(|| json!([]));
    if !conds.is_array() {
        *conds = json!([]);
    }
    let Some(conds) = conds.as_array_mut() else {
        return;
    };
    let fresh = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
    match conds
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("PodScheduled"))
    {
        Some(c) if c.get("status").and_then(Value::as_str) == Some("True") => {}
        Some(c) => *c = fresh,
        None => conds.push(fresh),
    }
}

#[cfg(test)]
mod tests {
    use crate::registry::Registry;
    use crate::registry::options::WriteOptions;
    use crate::sim::clock::VirtualClock;
    use crate::store::Store;
    use serde_json::json;
    use std::sync::Arc;

    fn registry() -> Registry {
        let clock = Arc::new(VirtualClock::new(jiff::Timestamp::UNIX_EPOCH));
        let r = Registry::new(Arc::new(Store::new()), clock, 1);
        let ns = crate::api::resource::lookup("", "v1", "namespaces").unwrap();
        r.create(
            ns,
            "",
            json!({"metadata": {"name": "default"}}),
            &WriteOptions::default(),
        )
        .unwrap();
        let pods = crate::api::resource::lookup("", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        r.create(pods, "default", pod, &WriteOptions::default())
            .unwrap();
        r
    }

    #[test]
    fn binding_sets_the_node_and_the_scheduled_condition_once() {
        let r = registry();
        let pod = r.bind_pod("default", "p", None, "kdrill-worker").unwrap();
        assert_eq!(pod["spec"]["nodeName"], "kdrill-worker");
        assert_eq!(pod["status"]["conditions"][0]["type"], "PodScheduled");
        assert_eq!(pod["status"]["conditions"][0]["status"], "True");
        let err = r
            .bind_pod("default", "p", None, "kdrill-worker2")
            .unwrap_err();
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"kdrill-worker\""
        );
    }
}
