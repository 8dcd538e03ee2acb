//! Pod and pod-template defaults.
//!
//! Upstream truth: `pkg/apis/core/v1/defaults.go` (`SetDefaults_Pod`,
//! `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_Probe`,
//! `SetDefaults_HTTPGetAction`, `SetDefaults_Volume`, ...) and
//! `pkg/apis/core/v1/zz_generated.defaults.go` for which nested structs get
//! defaulted; admission defaults from `plugin/pkg/admission/priority` and
//! `plugin/pkg/admission/serviceaccount`, `defaulttolerationseconds`.

use crate::api::object::{object, text};
use crate::api::pointer::Pointer;
use serde_json::{Value, json};

use super::{child, each_item, existing, set_default, str_of};

/// Defaults for a bare Pod (`SetObjectDefaults_Pod`).
pub fn pod(obj: &mut Value) {
    if let Some(spec) = child(obj, "spec") {
        pod_spec(spec);
        // SetDefaults_Pod: requests default to limits for each container.
        for key in ["containers", "initContainers"] {
            each_item(spec, key, requests_from_limits);
        }
        set_default(spec, "enableServiceLinks", json!(true));
        // SetDefaults_Pod: host-network pods get hostPort = containerPort.
        if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
            for key in ["containers", "initContainers"] {
                each_item(spec, key, |c| {
                    each_item(c, "ports", |p| {
                        if let Some(cp) = p.get("containerPort").cloned() {
                            set_default(p, "hostPort", cp);
                        }
                    })
                });
            }
        }
    }
}

/// Defaults for the pod template at `path` inside a workload
/// (`spec.template`, `spec.jobTemplate.spec.template`, ...).
pub fn template_at(obj: &mut Value, path: &[&str]) {
    if let Some(tpl) = existing(obj, path)
        && tpl.is_object()
        && let Some(spec) = child(tpl, "spec")
    {
        pod_spec(spec);
    }
}

/// Admission-time defaults a created Pod shows: Priority admission
/// (`priority: 0`, `preemptionPolicy: PreemptLowerPriority` when no
/// priorityClassName), ServiceAccount admission (`serviceAccountName` and the
/// deprecated `serviceAccount` set to `default`) and DefaultTolerationSeconds
/// (the not-ready/unreachable NoExecute tolerations for 300s). The
/// `kube-api-access-<rand>` projected volume and its mounts are not added
/// here (they need a random suffix).
pub fn apply_pod_admission(obj: &mut Value) {
    // ServiceAccount admission leaves a mirror pod's spec alone.
    let mirror = crate::registry::admission::service_account::is_mirror(obj);
    let Some(spec) = child(obj, "spec") else {
        return;
    };
    let no_class = str_of(spec, "priorityClassName").is_none_or(str::is_empty);
    // The map grows once for the keys this adds.
    if let Some(m) = spec.as_object_mut() {
        let added = ["priority", "preemptionPolicy"]
            .iter()
            .filter(|_| no_class)
            .chain(
                ["serviceAccountName", "serviceAccount"]
                    .iter()
                    .filter(|_| !mirror),
            )
            .chain(&["tolerations"])
            .filter(|k| !m.contains_key(**k))
            .count();
        m.reserve(added);
    }
    if no_class {
        set_default(spec, "priority", json!(0));
        set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
    if !mirror {
        let sa = match str_of(spec, "serviceAccountName").filter(|s| !s.is_empty()) {
            Some(s) => s.to_string(),
            None => str_of(spec, "serviceAccount")
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_string(),
        };
        if let Some(m) = spec.as_object_mut() {
            m.insert("serviceAccountName".into(), json!(sa));
            m.insert("serviceAccount".into(), json!(sa));
        }
    }
    let tolerations = spec
        .as_object_mut()
        .map(|m| m.entry("tolerations").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = tolerations {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let has = list.iter().any(|t| {
                let k = str_of(t, "key");
                let effect = str_of(t, "effect").unwrap_or("");
                (k == Some(key)
                    || (k.is_none_or(str::is_empty) && str_of(t, "operator") == Some("Exists")))
                    && (effect.is_empty() || effect == "NoExecute")
            });
            if !has {
                list.push(object([
                    ("effect", Some(text("NoExecute"))),
                    ("key", Some(text(key))),
                    ("operator", Some(text("Exists"))),
                    ("tolerationSeconds", Some(json!(300))),
                ]));
            }
        }
    }
}

/// `SetDefaults_PodSpec` plus the nested container/volume defaults.
pub fn pod_spec(spec: &mut Value) {
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    // DeprecatedServiceAccount <-> ServiceAccountName
    if let Some(sa) = str_of(spec, "serviceAccount")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        && str_of(spec, "serviceAccountName").is_none_or(str::is_empty)
        && let Some(m) = spec.as_object_mut()
    {
        m.insert("serviceAccountName".into(), json!(sa));
    }
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        each_item(spec, key, container);
    }
    each_item(spec, "volumes", volume);
}

/// `SetDefaults_Container` and the defaults of its nested structs.
fn container(c: &mut Value) {
    if str_of(c, "imagePullPolicy").is_none_or(str::is_empty) {
        let policy = if image_tag(str_of(c, "image").unwrap_or("")) == "latest" {
            "Always"
        } else {
            "IfNotPresent"
        };
        if let Some(m) = c.as_object_mut() {
            m.insert("imagePullPolicy".into(), json!(policy));
        }
    }
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    set_default(c, "resources", json!({}));
    each_item(c, "ports", |p| set_default(p, "protocol", json!("TCP")));
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = existing(c, &[probe]).filter(|p| p.is_object()) {
            set_default(p, "timeoutSeconds", json!(1));
            set_default(p, "periodSeconds", json!(10));
            set_default(p, "successThreshold", json!(1));
            set_default(p, "failureThreshold", json!(3));
            handler(p);
        }
    }
    for hook in ["postStart", "preStop"] {
        if let Some(h) = existing(c, &["lifecycle", hook]).filter(|h| h.is_object()) {
            handler(h);
        }
    }
    each_item(c, "env", |e| {
        if let Some(f) = existing(e, &["valueFrom", "fieldRef"]).filter(|f| f.is_object()) {
            set_default(f, "apiVersion", json!("v1"));
        }
        if let Some(r) = existing(e, &["valueFrom", "resourceFieldRef"]).filter(|r| r.is_object()) {
            set_default(r, "divisor", json!("0"));
        }
    });
}

/// `SetDefaults_HTTPGetAction` (path `/`, scheme HTTP) and gRPC service.
fn handler(h: &mut Value) {
    if let Some(g) = existing(h, &["httpGet"]).filter(|g| g.is_object()) {
        if str_of(g, "path").is_none_or(str::is_empty)
            && let Some(m) = g.as_object_mut()
        {
            m.insert("path".into(), json!("/"));
        }
        set_default(g, "scheme", json!("HTTP"));
    }
    if let Some(g) = existing(h, &["grpc"]).filter(|g| g.is_object()) {
        set_default(g, "service", json!(""));
    }
}

fn requests_from_limits(c: &mut Value) {
    let Some(limits) = c
        .get_in(&["resources", "limits"])
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    if limits.is_empty() {
        return;
    }
    let Some(res) = child(c, "resources") else {
        return;
    };
    let Some(req) = child(res, "requests") else {
        return;
    };
    for (k, v) in limits {
        set_default(req, &k, v);
    }
}

/// `SetDefaults_Volume` and the volume-source defaults (mode 0644 = 420).
fn volume(v: &mut Value) {
    let sources = crate::registry::validation::VOLUME_SOURCES;
    if !sources
        .iter()
        .any(|s| v.get(*s).is_some_and(|x| !x.is_null()))
        && let Some(m) = v.as_object_mut()
    {
        m.insert("emptyDir".into(), json!({}));
    }
    for src in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = existing(v, &[src]).filter(|s| s.is_object()) {
            set_default(s, "defaultMode", json!(420));
        }
    }
    if let Some(s) = existing(v, &["hostPath"]).filter(|s| s.is_object()) {
        set_default(s, "type", json!(""));
    }
    if let Some(s) = existing(v, &["iscsi"]).filter(|s| s.is_object()) {
        set_default(s, "iscsiInterface", json!("default"));
    }
    if let Some(s) = existing(v, &["downwardAPI"]).filter(|s| s.is_object()) {
        each_item(s, "items", |i| {
            if let Some(f) = existing(i, &["fieldRef"]).filter(|f| f.is_object()) {
                set_default(f, "apiVersion", json!("v1"));
            }
        });
    }
}

/// The tag `parsers.ParseImageName` finds: `latest` when there is neither a
/// tag nor a digest, empty when there is only a digest.
pub fn image_tag(image: &str) -> &str {
    let (name, has_digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) => tag,
        None if has_digest => "",
        None => "latest",
    }
}
