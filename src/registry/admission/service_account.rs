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

/// The annotation the kubelet puts on the API object of a static pod (its
/// mirror pod).
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Whether `pod` is a mirror pod.
pub fn is_mirror(pod: &Value) -> bool {
    pod.get_in(&["metadata", "annotations", MIRROR_ANNOTATION])
        .is_some()
}

/// Why the plugin's `Validate` refuses a mirror pod, if it does: a mirror
/// pod may reference neither a ServiceAccount nor a Secret
/// (`VisitPodSecretNames`: pull secrets, `envFrom`/`env` secret
/// references, secret-backed volumes), nor project a token.
fn mirror_pod_refusal(pod: &Value) -> Option<&'static str> {
    let spec = pod.get("spec")?;
    let has = |v: &Value, path: &[&str]| v.get_in(path).is_some();
    fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
        v.get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
    if spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
    {
        return Some("a mirror pod may not reference service accounts");
    }
    let containers = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| list(spec, k));
    let secret_env = containers.into_iter().any(|c| {
        list(c, "envFrom").iter().any(|e| has(e, &["secretRef"]))
            || list(c, "env")
                .iter()
                .any(|e| has(e, &["valueFrom", "secretKeyRef"]))
    });
    let volumes = list(spec, "volumes");
    let secret_volume = volumes.iter().any(|v| {
        has(v, &["secret"])
            || has(v, &["azureFile"])
            || list(v.get("projected").unwrap_or(&Value::Null), "sources")
                .iter()
                .any(|s| has(s, &["secret"]))
            || [
                "cephfs",
                "cinder",
                "flexVolume",
                "iscsi",
                "rbd",
                "scaleIO",
                "storageos",
            ]
            .iter()
            .any(|k| has(v, &[k, "secretRef"]))
            || has(v, &["csi", "nodePublishSecretRef"])
    });
    if !list(spec, "imagePullSecrets").is_empty() || secret_env || secret_volume {
        return Some("a mirror pod may not reference secrets");
    }
    let token = volumes.iter().any(|v| {
        list(v.get("projected").unwrap_or(&Value::Null), "sources")
            .iter()
            .any(|s| has(s, &["serviceAccountToken"]))
    });
    token.then_some("a mirror pod may not use ServiceAccountToken volume projections")
}

/// Checks the pod's ServiceAccount exists and mounts its token. A mirror
/// pod is left as it is (the kubelet would delete a mirror whose spec no
/// longer matches its static pod), once it references no ServiceAccount
/// or Secret.
pub fn service_account(store: &Store, rng: &Rng, ns: &str, pod: &mut Value) -> Result<(), Status> {
    let name = pod
        .get_in(&["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if is_mirror(pod) {
        return match mirror_pod_refusal(pod) {
            None => Ok(()),
            Some(why) => Err(Status::forbidden(
                GroupResource {
                    group: "",
                    resource: "pods",
                },
                &name,
                why,
            )),
        };
    }
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
