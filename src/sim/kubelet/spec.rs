//! The pod spec as the kubelet reads it: containers, probes, env resolution
//! against ConfigMaps/Secrets (`couldn't find key x in ConfigMap ns/y`) and
//! volume contents (`MountVolume.SetUp failed for volume ...`).

use super::World;
use crate::api::pointer::Pointer;
use crate::api::quantity::Quantity;
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

fn s(v: &Value, p: &[&str]) -> String {
    v.get_in(p)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}
fn arr<'a>(v: &'a Value, p: &[&str]) -> &'a [Value] {
    v.get_in(p)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}
fn strings(v: &Value, p: &[&str]) -> Vec<String> {
    arr(v, p)
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| x.to_string())
        })
        .collect()
}
fn int(v: &Value, p: &[&str], default: i64) -> i64 {
    v.get_in(p).and_then(Value::as_i64).unwrap_or(default)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Http {
        port: PortRef,
        path: String,
        scheme: String,
        host: String,
    },
    Tcp {
        port: PortRef,
    },
    Exec {
        command: Vec<String>,
    },
    Grpc {
        port: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PortRef {
    Num(i64),
    Name(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSpec {
    pub action: Action,
    pub initial_delay: i64,
    pub period: i64,
    pub timeout: i64,
    pub success: u32,
    pub failure: u32,
}

fn probe(v: Option<&Value>) -> Option<ProbeSpec> {
    let v = v?;
    let port = |p: &[&str]| match v.get_in(p) {
        Some(Value::String(n)) => match n.parse::<i64>() {
            Ok(i) => PortRef::Num(i),
            Err(_) => PortRef::Name(n.clone()),
        },
        Some(x) => PortRef::Num(x.as_i64().unwrap_or(0)),
        None => PortRef::Num(0),
    };
    let action = if v.get("httpGet").is_some() {
        let scheme = s(v, &["httpGet", "scheme"]);
        Action::Http {
            port: port(&["httpGet", "port"]),
            path: Some(s(v, &["httpGet", "path"]))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "/".into()),
            scheme: if scheme.is_empty() {
                "HTTP".into()
            } else {
                scheme
            },
            host: s(v, &["httpGet", "host"]),
        }
    } else if v.get("tcpSocket").is_some() {
        Action::Tcp {
            port: port(&["tcpSocket", "port"]),
        }
    } else if v.get("grpc").is_some() {
        Action::Grpc {
            port: int(v, &["grpc", "port"], 0),
        }
    } else if v.get("exec").is_some() {
        Action::Exec {
            command: strings(v, &["exec", "command"]),
        }
    } else {
        return None;
    };
    let pos = |p: &[&str], d: i64| int(v, p, d).max(if d > 0 { 1 } else { 0 });
    Some(ProbeSpec {
        action,
        initial_delay: int(v, &["initialDelaySeconds"], 0).clamp(0, 1 << 31),
        period: pos(&["periodSeconds"], 10).min(1 << 31),
        timeout: pos(&["timeoutSeconds"], 1).min(1 << 31),
        success: pos(&["successThreshold"], 1).min(1 << 20) as u32,
        failure: pos(&["failureThreshold"], 3).min(1 << 20) as u32,
    })
}

#[derive(Debug, Clone)]
pub struct CSpec {
    pub name: String,
    pub image: String,
    pub pull_policy: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub raw: Value,
    pub ports: Vec<(String, i64)>,
    pub memory_limit: Option<u64>,
    pub startup: Option<ProbeSpec>,
    pub liveness: Option<ProbeSpec>,
    pub readiness: Option<ProbeSpec>,
    pub init: bool,
    /// An init container with `restartPolicy: Always` (a sidecar).
    pub sidecar: bool,
    /// `spec.containers[i]` / `spec.initContainers[i]` field path.
    pub field_path: String,
}

impl CSpec {
    fn parse(v: &Value, init: bool) -> Self {
        let image = s(v, &["image"]);
        let tag_latest = {
            let last = image.rsplit('/').next().unwrap_or("");
            !last.contains(':') && !image.contains('@') || last.ends_with(":latest")
        };
        let mut pull_policy = s(v, &["imagePullPolicy"]);
        if pull_policy.is_empty() {
            pull_policy = if tag_latest { "Always" } else { "IfNotPresent" }.into();
        }
        let name = s(v, &["name"]);
        let memory_limit = v
            .get_in(&["resources", "limits", "memory"])
            .and_then(|q| crate::api::quantity::parse_value(q).ok())
            .map(|q: Quantity| q.value().max(0) as u64)
            .filter(|b| *b > 0);
        Self {
            field_path: format!(
                "spec.{}{{{name}}}",
                if init { "initContainers" } else { "containers" }
            ),
            name,
            image,
            pull_policy,
            command: strings(v, &["command"]),
            args: strings(v, &["args"]),
            ports: arr(v, &["ports"])
                .iter()
                .map(|p| (s(p, &["name"]), int(p, &["containerPort"], 0)))
                .collect(),
            memory_limit,
            startup: probe(v.get("startupProbe")),
            liveness: probe(v.get("livenessProbe")),
            readiness: probe(v.get("readinessProbe")),
            init,
            sidecar: init && s(v, &["restartPolicy"]) == "Always",
            raw: v.clone(),
        }
    }

    pub fn port(&self, p: &PortRef) -> Option<u16> {
        match p {
            PortRef::Num(n) => u16::try_from(*n).ok(),
            PortRef::Name(name) => self
                .ports
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, p)| u16::try_from(*p).ok()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PodSpec {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub restart_policy: String,
    pub grace: i64,
    pub deleting: bool,
    /// Shared, so a sync walks them without a copy.
    pub init: Arc<[CSpec]>,
    pub containers: Arc<[CSpec]>,
    pub volumes: Vec<Value>,
    pub pull_secrets: Vec<String>,
    /// `spec.hostNetwork`: the pod shares its node's network namespace,
    /// so its IP is the node's.
    pub host_network: bool,
    /// `spec.terminationGracePeriodSeconds` (30 when unset).
    spec_grace: i64,
}

impl PodSpec {
    pub fn parse(pod: &Value) -> Self {
        let rp = s(pod, &["spec", "restartPolicy"]);
        let mut parsed = Self {
            name: s(pod, &["metadata", "name"]),
            namespace: s(pod, &["metadata", "namespace"]),
            uid: s(pod, &["metadata", "uid"]),
            restart_policy: if rp.is_empty() { "Always".into() } else { rp },
            grace: 0,
            deleting: false,
            spec_grace: int(pod, &["spec", "terminationGracePeriodSeconds"], 30),
            host_network: pod
                .get_in(&["spec", "hostNetwork"])
                .and_then(Value::as_bool)
                .unwrap_or(false),
            init: arr(pod, &["spec", "initContainers"])
                .iter()
                .map(|c| CSpec::parse(c, true))
                .collect(),
            containers: arr(pod, &["spec", "containers"])
                .iter()
                .map(|c| CSpec::parse(c, false))
                .collect(),
            volumes: arr(pod, &["spec", "volumes"]).to_vec(),
            pull_secrets: arr(pod, &["spec", "imagePullSecrets"])
                .iter()
                .map(|x| s(x, &["name"]))
                .filter(|n| !n.is_empty())
                .collect(),
        };
        parsed.read_deletion(pod);
        parsed
    }

    /// Reads the pod's deletion (`deletionTimestamp`, and the grace period
    /// it was given) from `pod`: between two versions of one pod with the
    /// same spec, the only fields here that can differ.
    pub fn read_deletion(&mut self, pod: &Value) {
        self.grace = pod
            .get_in(&["metadata", "deletionGracePeriodSeconds"])
            .and_then(Value::as_i64)
            .unwrap_or(self.spec_grace)
            .clamp(0, 1 << 31);
        self.deleting = pod
            .get_in(&["metadata", "deletionTimestamp"])
            .is_some_and(|d| !d.is_null());
    }

    /// `format.Pod`: `name_namespace(uid)`.
    pub fn format(&self) -> String {
        format!("{}_{}({})", self.name, self.namespace, self.uid)
    }
}

/// Decoded data of a ConfigMap (data + binaryData) or Secret (data, base64).
pub fn object_data(obj: &Value, secret: bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(m) = obj.get("data").and_then(Value::as_object) {
        for (k, v) in m {
            let raw = v.as_str().unwrap_or("");
            let val = if secret {
                base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            } else {
                raw.to_string()
            };
            out.insert(k.clone(), val);
        }
    }
    if let Some(m) = obj.get("stringData").and_then(Value::as_object) {
        for (k, v) in m {
            out.insert(k.clone(), v.as_str().unwrap_or("").to_string());
        }
    }
    if !secret && let Some(m) = obj.get("binaryData").and_then(Value::as_object) {
        for k in m.keys() {
            out.insert(k.clone(), String::new());
        }
    }
    out
}

/// The container's environment, or the CreateContainerConfigError message.
pub fn resolve_env(
    c: &CSpec,
    pod: &Value,
    ns: &str,
    world: &World,
    pod_ip: &str,
    host_ip: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut env = Vec::new();
    let optional = |v: &Value, p: &str| v.at(p).and_then(Value::as_bool).unwrap_or(false);
    for ef in arr(&c.raw, &["envFrom"]) {
        let prefix = s(ef, &["prefix"]);
        let (kind, name, secret) = if ef.get("configMapRef").is_some() {
            ("configmap", s(ef, &["configMapRef", "name"]), false)
        } else if ef.get("secretRef").is_some() {
            ("secret", s(ef, &["secretRef", "name"]), true)
        } else {
            continue;
        };
        let opt = optional(
            ef,
            if secret {
                "/secretRef/optional"
            } else {
                "/configMapRef/optional"
            },
        );
        let obj = if secret {
            world.secrets.get(&name)
        } else {
            world.config_maps.get(&name)
        };
        match obj {
            Some(o) => {
                for (k, v) in object_data(o, secret) {
                    env.push((format!("{prefix}{k}"), v));
                }
            }
            None if opt => {}
            None => return Err(format!("{kind} \"{name}\" not found")),
        }
    }
    for e in arr(&c.raw, &["env"]) {
        let name = s(e, &["name"]);
        if let Some(v) = e.get("value") {
            let raw = v.as_str().unwrap_or("");
            // `$(VAR)` sees the container's variables and the services'.
            let value = if raw.contains("$(") && !world.service_env.is_empty() {
                let mut scope = world.service_env.to_vec();
                scope.extend(env.iter().cloned());
                crate::sim::workload::expand_k8s_vars(raw, &scope)
            } else {
                crate::sim::workload::expand_k8s_vars(raw, &env)
            };
            env.push((name, value));
            continue;
        }
        let Some(from) = e.get("valueFrom") else {
            env.push((name, String::new()));
            continue;
        };
        let value = if let Some(r) = from.get("configMapKeyRef") {
            let (cm, key, opt) = (s(r, &["name"]), s(r, &["key"]), optional(r, "/optional"));
            match world.config_maps.get(&cm) {
                None if opt => continue,
                None => return Err(format!("configmap \"{cm}\" not found")),
                Some(o) => match object_data(o, false).get(&key) {
                    Some(v) => v.clone(),
                    None if opt => continue,
                    None => return Err(format!("couldn't find key {key} in ConfigMap {ns}/{cm}")),
                },
            }
        } else if let Some(r) = from.get("secretKeyRef") {
            let (sec, key, opt) = (s(r, &["name"]), s(r, &["key"]), optional(r, "/optional"));
            match world.secrets.get(&sec) {
                None if opt => continue,
                None => return Err(format!("secret \"{sec}\" not found")),
                Some(o) => match object_data(o, true).get(&key) {
                    Some(v) => v.clone(),
                    None if opt => continue,
                    None => return Err(format!("couldn't find key {key} in Secret {ns}/{sec}")),
                },
            }
        } else if let Some(r) = from.get("fieldRef") {
            match s(r, &["fieldPath"]).as_str() {
                "metadata.name" => s(pod, &["metadata", "name"]),
                "metadata.namespace" => ns.to_string(),
                "metadata.uid" => s(pod, &["metadata", "uid"]),
                "spec.nodeName" => s(pod, &["spec", "nodeName"]),
                "spec.serviceAccountName" => s(pod, &["spec", "serviceAccountName"]),
                "status.podIP" => pod_ip.to_string(),
                "status.hostIP" => host_ip.to_string(),
                p => {
                    let key = p
                        .strip_prefix("metadata.labels['")
                        .or_else(|| p.strip_prefix("metadata.annotations['"))
                        .and_then(|k| k.strip_suffix("']"));
                    let field = if p.starts_with("metadata.labels") {
                        "labels"
                    } else {
                        "annotations"
                    };
                    key.and_then(|k| {
                        pod.at(&format!("/metadata/{field}"))
                            .and_then(|m| m.get(k))
                            .and_then(Value::as_str)
                    })
                    .unwrap_or("")
                    .to_string()
                }
            }
        } else if let Some(r) = from.get("resourceFieldRef") {
            let res = s(r, &["resource"]);
            let (section, key) = res.split_once('.').unwrap_or(("limits", "cpu"));
            c.raw
                .at(&format!("/resources/{section}/{key}"))
                .and_then(|q| crate::api::quantity::parse_value(q).ok())
                .map(|q| {
                    if key == "cpu" {
                        ((q.milli_value() + 999) / 1000).max(1).to_string()
                    } else {
                        q.value().to_string()
                    }
                })
                .unwrap_or_else(|| "0".into())
        } else {
            String::new()
        };
        env.push((name, value));
    }
    // Service variables come last, unless the container set them itself.
    for (k, v) in world.service_env.iter() {
        if !env.iter().any(|(n, _)| n == k) {
            env.push((k.clone(), v.clone()));
        }
    }
    Ok(env)
}

/// Problems mounting the pod's volumes: `(volume, message)` as in
/// `MountVolume.SetUp failed for volume "v" : <message>`.
pub fn volume_errors(volumes: &[Value], world: &World) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in volumes {
        let name = s(v, &["name"]);
        let check = |src: &Value, secret: bool| -> Option<String> {
            let (obj_name, opt) = (
                s(src, if secret { &["secretName"] } else { &["name"] }),
                src.get("optional")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            );
            let obj_name = if obj_name.is_empty() {
                s(src, &["name"])
            } else {
                obj_name
            };
            let kind = if secret { "secret" } else { "configmap" };
            let obj = if secret {
                world.secrets.get(&obj_name)
            } else {
                world.config_maps.get(&obj_name)
            };
            match obj {
                None if opt => None,
                None => Some(format!("{kind} \"{obj_name}\" not found")),
                Some(o) => {
                    let data = object_data(o, secret);
                    arr(src, &["items"])
                        .iter()
                        .map(|i| s(i, &["key"]))
                        .find(|k| !data.contains_key(k))
                        .filter(|_| !opt)
                        .map(|k| {
                            format!(
                                "{kind} references non-existent {} key: {k}",
                                if secret { "secret" } else { "config" }
                            )
                        })
                }
            }
        };
        let err = if let Some(cm) = v.get("configMap") {
            check(cm, false)
        } else if let Some(sec) = v.get("secret") {
            check(sec, true)
        } else if let Some(p) = v.get("projected") {
            arr(p, &["sources"]).iter().find_map(|src| {
                if let Some(cm) = src.get("configMap") {
                    check(cm, false)
                } else if let Some(sec) = src.get("secret") {
                    check(sec, true)
                } else {
                    None
                }
            })
        } else {
            None
        };
        if let Some(e) = err {
            out.push((name, e));
        }
    }
    out
}

/// The volume manager's verdict on claims it cannot process (its
/// desired-state populator), as the `FailedMount` event words it:
/// `Unable to attach or mount volumes: unmounted volumes=[data], unattached
/// volumes=[], failed to process volumes=[data]: error processing PVC
/// default/data: PVC is not bound`. None when every claim is bound.
pub fn claim_error(volumes: &[Value], world: &World, ns: &str) -> Option<String> {
    let mut names = Vec::new();
    let mut errs = Vec::new();
    for v in volumes {
        let claim = s(v, &["persistentVolumeClaim", "claimName"]);
        if claim.is_empty() {
            continue;
        }
        let why = match world.pvcs.get(&claim) {
            None => format!(
                "failed to fetch PVC from API server: persistentvolumeclaims \"{claim}\" not found"
            ),
            Some(c)
                if s(c, &["status", "phase"]) != "Bound"
                    || s(c, &["spec", "volumeName"]).is_empty() =>
            {
                "PVC is not bound".to_string()
            }
            Some(_) => continue,
        };
        names.push(s(v, &["name"]));
        errs.push(format!("error processing PVC {ns}/{claim}: {why}"));
    }
    if errs.is_empty() {
        return None;
    }
    let names = names.join(" ");
    Some(format!(
        "Unable to attach or mount volumes: unmounted volumes=[{names}], unattached volumes=[], failed to process volumes=[{names}]: {}",
        errs.join("; ")
    ))
}

/// Files a container sees through its volume mounts, and its mount points.
pub fn container_files(
    c: &CSpec,
    volumes: &[Value],
    world: &World,
    pod: &Value,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut files = BTreeMap::new();
    let mut mounts = Vec::new();
    for m in arr(&c.raw, &["volumeMounts"]) {
        let (vname, path, sub) = (s(m, &["name"]), s(m, &["mountPath"]), s(m, &["subPath"]));
        let Some(vol) = volumes.iter().find(|v| s(v, &["name"]) == vname) else {
            continue;
        };
        let mut content: BTreeMap<String, String> = BTreeMap::new();
        let add = |content: &mut BTreeMap<String, String>, src: &Value, secret: bool| {
            let nm = if secret {
                s(src, &["secretName"])
            } else {
                s(src, &["name"])
            };
            let nm = if nm.is_empty() { s(src, &["name"]) } else { nm };
            let obj = if secret {
                world.secrets.get(&nm)
            } else {
                world.config_maps.get(&nm)
            };
            if let Some(o) = obj {
                let data = object_data(o, secret);
                let items = arr(src, &["items"]);
                if items.is_empty() {
                    content.extend(data);
                } else {
                    for i in items {
                        if let Some(v) = data.get(&s(i, &["key"])) {
                            content.insert(s(i, &["path"]), v.clone());
                        }
                    }
                }
            }
        };
        if let Some(cm) = vol.get("configMap") {
            add(&mut content, cm, false);
        } else if let Some(sec) = vol.get("secret") {
            add(&mut content, sec, true);
        } else if let Some(p) = vol.get("projected") {
            for src in arr(p, &["sources"]) {
                if let Some(cm) = src.get("configMap") {
                    add(&mut content, cm, false);
                } else if let Some(sec) = src.get("secret") {
                    add(&mut content, sec, true);
                } else if let Some(t) = src.get("serviceAccountToken") {
                    content.insert(
                        s(t, &["path"]),
                        crate::registry::rbac::sa_token::service_account_jwt(
                            &s(pod, &["metadata", "namespace"]),
                            &s(pod, &["spec", "serviceAccountName"]),
                            None,
                        ),
                    );
                } else if let Some(d) = src.get("downwardAPI") {
                    // kube-api-access-*'s `namespace` file.
                    for i in arr(d, &["items"]) {
                        let v = match s(i, &["fieldRef", "fieldPath"]).as_str() {
                            "metadata.name" => s(pod, &["metadata", "name"]),
                            "metadata.namespace" => s(pod, &["metadata", "namespace"]),
                            _ => String::new(),
                        };
                        content.insert(s(i, &["path"]), v);
                    }
                }
            }
        } else if let Some(d) = vol.get("downwardAPI") {
            for i in arr(d, &["items"]) {
                let fp = s(i, &["fieldRef", "fieldPath"]);
                let v = match fp.as_str() {
                    "metadata.name" => s(pod, &["metadata", "name"]),
                    "metadata.namespace" => s(pod, &["metadata", "namespace"]),
                    _ => String::new(),
                };
                content.insert(s(i, &["path"]), v);
            }
        }
        let base = path.trim_end_matches('/').to_string();
        if !sub.is_empty() {
            if let Some(v) = content.get(&sub) {
                files.insert(base, v.clone());
            } else {
                mounts.push(base);
            }
            continue;
        }
        for (k, v) in content {
            let mut file = String::with_capacity(base.len() + 1 + k.len());
            file.push_str(&base);
            file.push('/');
            file.push_str(&k);
            files.insert(file, v);
        }
        mounts.push(base);
    }
    // The resolver configuration the kubelet writes (dnsPolicy, dnsConfig).
    files
        .entry("/etc/resolv.conf".to_string())
        .or_insert_with(|| crate::sim::network::dns::resolv_conf(pod));
    (files, mounts)
}
