//! Admission that needs the store: ServiceAccount admission (the account
//! must exist; its token is mounted as a projected volume), upstream's
//! `plugin/pkg/admission/serviceaccount`.

use crate::api::object::{object, text};
use crate::api::pointer::Pointer;
use crate::api::status::{GroupResource, Status};
use crate::sim::rng::Rng;
use crate::store::{ResKey, Store};
use serde_json::{Value, json};
use std::sync::LazyLock;

const SERVICE_ACCOUNTS: ResKey = ResKey {
    group: "",
    resource: "serviceaccounts",
};
/// Where the token volume is mounted in every container.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Checks the pod's ServiceAccount exists and mounts its token.
pub fn service_account(store: &Store, rng: &Rng, ns: &str, pod: &mut Value) -> Result<(), Status> {
    let name = pod
        .get_in(&["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let sa_name = pod
        .get_in(&["spec", "serviceAccountName"])
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let Some(sa) = store.get(SERVICE_ACCOUNTS, ns, &sa_name) else {
        return Err(Status::forbidden(
            GroupResource {
                group: "",
                resource: "pods",
            },
            &name,
            &format!(
                "error looking up service account {ns}/{sa_name}: serviceaccount \"{sa_name}\" not found"
            ),
        ));
    };
    let pod_opt = pod
        .get_in(&["spec", "automountServiceAccountToken"])
        .and_then(Value::as_bool);
    let sa_opt = sa
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool);
    if pod_opt == Some(false) || (pod_opt.is_none() && sa_opt == Some(false)) {
        return Ok(());
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let already_mounted = |c: &Value| {
        c.get("volumeMounts")
            .and_then(Value::as_array)
            .is_some_and(|m| {
                m.iter()
                    .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH))
            })
    };
    let volume_name = format!("kube-api-access-{}", rng.name_suffix(5));
    let mut mounted_any = false;
    for list in ["initContainers", "containers"] {
        for c in spec
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if already_mounted(c) {
                continue;
            }
            if let Some(obj) = c.as_object_mut() {
                let mounts = obj.entry("volumeMounts").or_insert_with(|| json!([]));
                if let Some(m) = mounts.as_array_mut() {
                    m.push(object([
                        ("mountPath", Some(text(TOKEN_MOUNT_PATH))),
                        ("name", Some(text(&volume_name))),
                        ("readOnly", Some(Value::Bool(true))),
                    ]));
                    mounted_any = true;
                }
            }
        }
    }
    if mounted_any {
        let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
        if let Some(v) = volumes.as_array_mut() {
            // Every pod's volume shares the one `projected` map (copied
            // only if something writes to it).
            v.push(object([
                ("name", Some(Value::String(volume_name))),
                ("projected", Some(PROJECTED.clone())),
            ]));
        }
    }
    Ok(())
}

/// The token volume's `projected` source, as the ServiceAccount admission
/// plugin writes it.
static PROJECTED: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ],
    })
});
