//! Pod and PodSpec validation, and the pod update rules.
//!
//! Upstream truth: `pkg/apis/core/validation/validation.go` (`ValidatePodSpec`,
//! `ValidateVolumes`, `validateContainers`, `validateContainerPorts`,
//! `ValidateEnv`, `ValidateVolumeMounts`, `ValidateResourceRequirements`,
//! `validateProbe`, `validateHandler`, `validateRestartPolicy`,
//! `validateDNSPolicy`, `ValidateTolerations`, `ValidatePodUpdate`,
//! `ValidateContainerUpdates`).

use crate::store::fxhash::FxBuildHasher;
use std::collections::{HashMap, HashSet};

/// Names seen so far in one list (volumes, containers, ports, mount
/// paths), borrowed from the pod: Fx-hashed, with no copy of each name.
type Seen<'a> = HashSet<&'a str, FxBuildHasher>;

use serde_json::Value;

use super::{
    arr, ch, get, idx, int, key, labels, nonnegative, nonnegative_quantity, obj_entries,
    port_num_or_name, present, s,
};
use crate::api::field_error::FieldError;
use crate::api::name::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_relaxed_env_var_name,
    is_valid_label_value, is_valid_port_name, is_valid_port_num,
};

/// Bare Pod (`ValidatePodCreate` minus metadata).
pub fn pod(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    pod_spec(get(obj, "spec"), "spec", &mut errs);
    errs
}

/// A PodTemplateSpec at `path` (`ValidatePodTemplateSpec`): labels,
/// annotations and the spec.
pub fn template(tpl: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let meta = get(tpl, "metadata");
    labels(
        get(meta, "labels"),
        &ch(path, "metadata"),
        "labels",
        &mut errs,
    );
    pod_spec(get(tpl, "spec"), &ch(path, "spec"), &mut errs);
    errs
}

/// Every volume source a Pod volume may name (exactly one is allowed).
pub const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// `ValidatePodSpec`.
pub fn pod_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    // Child paths are built where a field is there to check (every pod
    // write passes here).
    let volumes = if arr(spec, "volumes").is_empty() {
        Seen::default()
    } else {
        volumes(spec, &ch(path, "volumes"), errs)
    };
    let mut names = Seen::default();
    let init = arr(spec, "initContainers");
    if !init.is_empty() {
        let init_path = ch(path, "initContainers");
        for (i, c) in init.iter().enumerate() {
            container(c, &idx(&init_path, i), &volumes, &mut names, false, errs);
        }
    }
    let cpath = ch(path, "containers");
    let containers = arr(spec, "containers");
    if containers.is_empty() {
        errs.push(FieldError::required(&cpath, ""));
    }
    for (i, c) in containers.iter().enumerate() {
        container(c, &idx(&cpath, i), &volumes, &mut names, true, errs);
    }
    restart_policy(get(spec, "restartPolicy"), path, errs);
    match s(spec, "dnsPolicy") {
        "" => errs.push(FieldError::required(ch(path, "dnsPolicy"), "")),
        "ClusterFirst" | "ClusterFirstWithHostNet" | "Default" => {}
        "None" => {
            if !present(spec, "dnsConfig") {
                errs.push(FieldError::required(
                    ch(path, "dnsConfig"),
                    "must provide `dnsConfig` when `dnsPolicy` is None",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            ch(path, "dnsPolicy"),
            Value::from(other),
            &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
        )),
    }
    labels(get(spec, "nodeSelector"), path, "nodeSelector", errs);
    let sa = s(spec, "serviceAccountName");
    if !sa.is_empty() {
        for msg in is_dns1123_subdomain(sa) {
            errs.push(FieldError::invalid(
                ch(path, "serviceAccountName"),
                Value::from(sa),
                msg,
            ));
        }
    }
    if let Some(ads) = int(spec, "activeDeadlineSeconds")
        && !(1..=i32::MAX as i64).contains(&ads)
    {
        errs.push(FieldError::invalid(
            ch(path, "activeDeadlineSeconds"),
            Value::from(ads),
            crate::api::name::inclusive_range_error(1, i32::MAX as i64),
        ));
    }
    let tols = arr(spec, "tolerations");
    if !tols.is_empty() {
        tolerations(tols, &ch(path, "tolerations"), errs);
    }
}

/// `restartPolicy` of the pod spec at `spec_path`.
fn restart_policy(v: &Value, spec_path: &str, errs: &mut Vec<FieldError>) {
    let path = || ch(spec_path, "restartPolicy");
    match v.as_str().unwrap_or("") {
        "" => errs.push(FieldError::required(path(), "")),
        "Always" | "OnFailure" | "Never" => {}
        other => errs.push(FieldError::not_supported(
            path(),
            Value::from(other),
            &["Always", "OnFailure", "Never"],
        )),
    }
}

/// `ValidateVolumes`; returns the declared volume names.
fn volumes<'a>(spec: &'a Value, path: &str, errs: &mut Vec<FieldError>) -> Seen<'a> {
    let mut names = Seen::default();
    for (i, v) in arr(spec, "volumes").iter().enumerate() {
        let vp = idx(path, i);
        let name = s(v, "name");
        let np = ch(&vp, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&np, ""));
        } else {
            for msg in is_dns1123_label(name) {
                errs.push(FieldError::invalid(&np, Value::from(name), msg));
            }
            if !names.insert(name) {
                errs.push(FieldError::duplicate(&np, Value::from(name)));
            }
        }
        let mut count = 0;
        for src in VOLUME_SOURCES {
            if !present(v, src) {
                continue;
            }
            if count > 0 {
                errs.push(FieldError::forbidden(
                    ch(&vp, src),
                    "may not specify more than 1 volume type",
                ));
                continue;
            }
            count += 1;
            let sp = ch(&vp, src);
            let body = get(v, src);
            let required = match *src {
                "configMap" => Some("name"),
                "secret" => Some("secretName"),
                "persistentVolumeClaim" => Some("claimName"),
                "hostPath" => Some("path"),
                "nfs" => Some("server"),
                _ => None,
            };
            if let Some(field) = required
                && s(body, field).is_empty()
            {
                errs.push(FieldError::required(ch(&sp, field), ""));
            }
        }
        if count == 0 {
            errs.push(FieldError::required(&vp, "must specify a volume type"));
        }
    }
    names
}

fn container<'a>(
    c: &'a Value,
    path: &str,
    volumes: &Seen,
    names: &mut Seen<'a>,
    regular: bool,
    errs: &mut Vec<FieldError>,
) {
    let name = s(c, "name");
    // Child paths are built for an error, or where a field is there to
    // check (every pod write passes here).
    let np = || ch(path, "name");
    if name.is_empty() {
        errs.push(FieldError::required(np(), ""));
    } else {
        for msg in is_dns1123_label(name) {
            errs.push(FieldError::invalid(np(), Value::from(name), msg));
        }
        if !names.insert(name) {
            errs.push(FieldError::duplicate(np(), Value::from(name)));
        }
    }
    let image = s(c, "image");
    if image.is_empty() {
        errs.push(FieldError::required(ch(path, "image"), ""));
    } else if image.trim() != image {
        errs.push(FieldError::invalid(
            ch(path, "image"),
            Value::from(image),
            "must not have leading or trailing whitespace",
        ));
    }
    match s(c, "terminationMessagePolicy") {
        "" => errs.push(FieldError::required(
            ch(path, "terminationMessagePolicy"),
            "",
        )),
        "File" | "FallbackToLogsOnError" => {}
        other => errs.push(FieldError::not_supported(
            ch(path, "terminationMessagePolicy"),
            Value::from(other),
            &["File", "FallbackToLogsOnError"],
        )),
    }
    match s(c, "imagePullPolicy") {
        "" => errs.push(FieldError::required(ch(path, "imagePullPolicy"), "")),
        "Always" | "IfNotPresent" | "Never" => {}
        other => errs.push(FieldError::not_supported(
            ch(path, "imagePullPolicy"),
            Value::from(other),
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    for (field, check) in [
        ("ports", ports as fn(&[Value], &str, &mut Vec<FieldError>)),
        ("env", env),
    ] {
        let list = arr(c, field);
        if !list.is_empty() {
            check(list, &ch(path, field), errs);
        }
    }
    let mounts = arr(c, "volumeMounts");
    if !mounts.is_empty() {
        volume_mounts(mounts, &ch(path, "volumeMounts"), volumes, errs);
    }
    let res = get(c, "resources");
    if res.as_object().is_some_and(|r| !r.is_empty()) {
        resources(res, &ch(path, "resources"), errs);
    }
    if regular {
        for (probe, liveness) in [
            ("livenessProbe", true),
            ("readinessProbe", false),
            ("startupProbe", true),
        ] {
            let p = get(c, probe);
            if p.is_null() {
                continue;
            }
            let pp = ch(path, probe);
            validate_probe(p, &pp, errs);
            if liveness
                && let Some(st) = int(p, "successThreshold")
                && st != 1
            {
                errs.push(FieldError::invalid(
                    ch(&pp, "successThreshold"),
                    Value::from(st),
                    "must be 1",
                ));
            }
        }
    } else {
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if present(c, probe) && s(c, "restartPolicy") != "Always" {
                errs.push(FieldError::forbidden(
                    ch(path, probe),
                    "may not be set for init containers without restartPolicy=Always",
                ));
            }
        }
    }
    for hook in ["postStart", "preStop"] {
        let h = get(get(c, "lifecycle"), hook);
        if !h.is_null() {
            handler(h, &ch(&ch(path, "lifecycle"), hook), errs);
        }
    }
}

fn ports(list: &[Value], path: &str, errs: &mut Vec<FieldError>) {
    let mut names = Seen::default();
    for (i, p) in list.iter().enumerate() {
        let pp = idx(path, i);
        let name = s(p, "name");
        if !name.is_empty() {
            for msg in is_valid_port_name(name) {
                errs.push(FieldError::invalid(ch(&pp, "name"), Value::from(name), msg));
            }
            if !names.insert(name) {
                errs.push(FieldError::duplicate(ch(&pp, "name"), Value::from(name)));
            }
        }
        match int(p, "containerPort").unwrap_or(0) {
            0 => errs.push(FieldError::required(ch(&pp, "containerPort"), "")),
            n => {
                for msg in is_valid_port_num(n) {
                    errs.push(FieldError::invalid(
                        ch(&pp, "containerPort"),
                        Value::from(n),
                        msg,
                    ));
                }
            }
        }
        if let Some(hp) = int(p, "hostPort")
            && hp != 0
        {
            for msg in is_valid_port_num(hp) {
                errs.push(FieldError::invalid(
                    ch(&pp, "hostPort"),
                    Value::from(hp),
                    msg,
                ));
            }
        }
        protocol(p, &pp, errs);
    }
}

pub(crate) fn protocol(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    match s(p, "protocol") {
        "" => errs.push(FieldError::required(ch(path, "protocol"), "")),
        "TCP" | "UDP" | "SCTP" => {}
        other => errs.push(FieldError::not_supported(
            ch(path, "protocol"),
            Value::from(other),
            &["SCTP", "TCP", "UDP"],
        )),
    }
}

fn env(list: &[Value], path: &str, errs: &mut Vec<FieldError>) {
    for (i, e) in list.iter().enumerate() {
        let ep = idx(path, i);
        let name = s(e, "name");
        if name.is_empty() {
            errs.push(FieldError::required(ch(&ep, "name"), ""));
        } else {
            for msg in is_relaxed_env_var_name(name) {
                errs.push(FieldError::invalid(ch(&ep, "name"), Value::from(name), msg));
            }
        }
        let vf = get(e, "valueFrom");
        if vf.is_null() {
            continue;
        }
        let vp = ch(&ep, "valueFrom");
        let sources: Vec<&str> = [
            "fieldRef",
            "resourceFieldRef",
            "configMapKeyRef",
            "secretKeyRef",
            "fileKeyRef",
        ]
        .into_iter()
        .filter(|k| present(vf, k))
        .collect();
        if sources.is_empty() {
            errs.push(FieldError::invalid(&vp, Value::from(""), "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
        } else if sources.len() > 1 {
            errs.push(FieldError::invalid(
                &vp,
                Value::from(""),
                "may not have more than one field specified at a time",
            ));
        }
        if !s(e, "value").is_empty() && !sources.is_empty() {
            errs.push(FieldError::invalid(
                &vp,
                Value::from(""),
                "may not be specified when `value` is not empty",
            ));
        }
        for r in ["configMapKeyRef", "secretKeyRef"] {
            let body = get(vf, r);
            if body.is_null() {
                continue;
            }
            let rp = ch(&vp, r);
            if s(body, "name").is_empty() {
                errs.push(FieldError::required(ch(&rp, "name"), ""));
            }
            let k = s(body, "key");
            if k.is_empty() {
                errs.push(FieldError::required(ch(&rp, "key"), ""));
            } else {
                for msg in crate::api::name::is_config_map_key(k) {
                    errs.push(FieldError::invalid(ch(&rp, "key"), Value::from(k), msg));
                }
            }
        }
        let fr = get(vf, "fieldRef");
        if !fr.is_null() && s(fr, "fieldPath").is_empty() {
            errs.push(FieldError::required(
                ch(&ch(&vp, "fieldRef"), "fieldPath"),
                "",
            ));
        }
    }
}

fn volume_mounts(list: &[Value], path: &str, volumes: &Seen, errs: &mut Vec<FieldError>) {
    let mut paths = Seen::default();
    for (i, m) in list.iter().enumerate() {
        let mp = idx(path, i);
        let name = s(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(ch(&mp, "name"), ""));
        } else if !volumes.contains(name) {
            errs.push(FieldError::not_found(ch(&mp, "name"), Value::from(name)));
        }
        let mount_path = s(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(ch(&mp, "mountPath"), ""));
        } else if !paths.insert(mount_path) {
            errs.push(FieldError::invalid(
                ch(&mp, "mountPath"),
                Value::from(mount_path),
                "must be unique",
            ));
        }
        let sub = s(m, "subPath");
        if !sub.is_empty() {
            if sub.starts_with('/') {
                errs.push(FieldError::invalid(
                    ch(&mp, "subPath"),
                    Value::from(sub),
                    "must be a relative path",
                ));
            }
            if sub.split('/').any(|p| p == "..") {
                errs.push(FieldError::invalid(
                    ch(&mp, "subPath"),
                    Value::from(sub),
                    "must not contain '..'",
                ));
            }
        }
    }
}

fn is_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage")
        || name.starts_with("hugepages-")
        || name.contains('/')
}

/// `ValidateContainerResourceRequirements`.
fn resources(r: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let lp = ch(path, "limits");
    let rp = ch(path, "requests");
    let mut limits: HashMap<&str, _, FxBuildHasher> = HashMap::default();
    for (name, v) in obj_entries(r, "limits") {
        let fp = key(&lp, name);
        resource_name(name, &fp, errs);
        if let Some(q) = nonnegative_quantity(v, &fp, errs) {
            limits.insert(name.as_str(), q);
        }
    }
    for (name, v) in obj_entries(r, "requests") {
        let fp = key(&rp, name);
        resource_name(name, &fp, errs);
        let Some(q) = nonnegative_quantity(v, &fp, errs) else {
            continue;
        };
        if let Some(l) = limits.get(name.as_str()) {
            if q > *l {
                errs.push(FieldError::invalid(
                    &rp,
                    Value::from(q.canonical()),
                    format!(
                        "must be less than or equal to {name} limit of {}",
                        l.canonical()
                    ),
                ));
            }
        } else if name.contains('/') && !name.starts_with("kubernetes.io/") {
            errs.push(FieldError::invalid(
                &fp,
                Value::from(q.canonical()),
                format!("must be equal to {name} limit"),
            ));
        }
    }
}

fn resource_name(name: &str, path: &str, errs: &mut Vec<FieldError>) {
    for msg in is_qualified_name(name) {
        errs.push(FieldError::invalid(path, Value::from(name), msg));
    }
    if !is_container_resource(name) {
        errs.push(FieldError::invalid(
            path,
            Value::from(name),
            "must be a standard resource for containers",
        ));
    }
}

fn validate_probe(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    handler(p, path, errs);
    for k in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        nonnegative(p, k, path, errs);
    }
    if let Some(t) = int(p, "terminationGracePeriodSeconds")
        && t <= 0
    {
        errs.push(FieldError::invalid(
            ch(path, "terminationGracePeriodSeconds"),
            Value::from(t),
            "must be greater than 0",
        ));
    }
}

/// `validateHandler`: exactly one of exec / httpGet / tcpSocket / grpc
/// (`sleep` for lifecycle hooks).
fn handler(h: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let mut count = 0;
    for kind in ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] {
        let body = get(h, kind);
        if body.is_null() {
            continue;
        }
        let hp = ch(path, kind);
        if count > 0 {
            errs.push(FieldError::forbidden(
                &hp,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        count += 1;
        match kind {
            "exec" if arr(body, "command").is_empty() => {
                errs.push(FieldError::required(ch(&hp, "command"), ""));
            }
            "httpGet" => {
                if s(body, "path").is_empty() {
                    errs.push(FieldError::required(ch(&hp, "path"), ""));
                }
                port_num_or_name(get(body, "port"), &ch(&hp, "port"), errs);
                match s(body, "scheme") {
                    "HTTP" | "HTTPS" => {}
                    other => errs.push(FieldError::not_supported(
                        ch(&hp, "scheme"),
                        Value::from(other),
                        &["HTTP", "HTTPS"],
                    )),
                }
            }
            "tcpSocket" => port_num_or_name(get(body, "port"), &ch(&hp, "port"), errs),
            "grpc" => {
                let n = int(body, "port").unwrap_or(0);
                for msg in is_valid_port_num(n) {
                    errs.push(FieldError::invalid(ch(&hp, "port"), Value::from(n), msg));
                }
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
}

/// `ValidateTolerations`.
fn tolerations(list: &[Value], path: &str, errs: &mut Vec<FieldError>) {
    for (i, t) in list.iter().enumerate() {
        let tp = idx(path, i);
        let k = s(t, "key");
        let op = s(t, "operator");
        if !k.is_empty() {
            for msg in is_qualified_name(k) {
                errs.push(FieldError::invalid(ch(&tp, "key"), Value::from(k), msg));
            }
        }
        if k.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                ch(&tp, "operator"),
                Value::from(op),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if present(t, "tolerationSeconds") && s(t, "effect") != "NoExecute" {
            errs.push(FieldError::invalid(
                ch(&tp, "effect"),
                Value::from(s(t, "effect")),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "" | "Equal" => {
                for msg in is_valid_label_value(s(t, "value")) {
                    errs.push(FieldError::invalid(
                        ch(&tp, "operator"),
                        Value::from(s(t, "value")),
                        msg,
                    ));
                }
            }
            "Exists" => {
                if !s(t, "value").is_empty() {
                    errs.push(FieldError::invalid(
                        ch(&tp, "operator"),
                        t.clone(),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                ch(&tp, "operator"),
                Value::from(other),
                &["Equal", "Exists"],
            )),
        }
        match s(t, "effect") {
            "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            other => errs.push(FieldError::not_supported(
                ch(&tp, "effect"),
                Value::from(other),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            )),
        }
    }
}

/// The fields a pod update may change, as upstream lists them.
pub const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate` (the spec part).
pub fn pod_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    for key in ["containers", "initContainers"] {
        let (nc, oc) = (arr(ns, key), arr(os, key));
        let cp = ch("spec", key);
        if nc.len() != oc.len() {
            errs.push(FieldError::forbidden(
                cp,
                "pod updates may not add or remove containers",
            ));
            return errs;
        }
    }
    match (
        int(ns, "activeDeadlineSeconds"),
        int(os, "activeDeadlineSeconds"),
    ) {
        (None, Some(_)) => errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        (Some(n), Some(o)) if n > o => errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            Value::from(n),
            "must be less than or equal to previous value",
        )),
        _ => {}
    }
    // Munge the allowed fields of the new spec to the old values, then compare.
    let mut munged = ns.clone();
    if let Some(m) = munged.as_object_mut() {
        for key in ["containers", "initContainers"] {
            if let Some(Value::Array(list)) = m.get_mut(key) {
                for (c, o) in list.iter_mut().zip(arr(os, key)) {
                    if let (Some(cm), Some(img)) = (c.as_object_mut(), o.get("image")) {
                        cm.insert("image".into(), img.clone());
                    }
                }
            }
        }
        for key in ["activeDeadlineSeconds", "tolerations"] {
            match os.get(key) {
                Some(v) => m.insert(key.into(), v.clone()),
                None => m.remove(key),
            };
        }
        if int(os, "terminationGracePeriodSeconds").is_some_and(|t| t < 0)
            && int(ns, "terminationGracePeriodSeconds") == Some(1)
        {
            m.insert(
                "terminationGracePeriodSeconds".into(),
                get(os, "terminationGracePeriodSeconds").clone(),
            );
        }
    }
    // Existing tolerations may only gain tolerationSeconds changes; additions are fine.
    let (nt, ot) = (arr(ns, "tolerations"), arr(os, "tolerations"));
    for (i, o) in ot.iter().enumerate() {
        let strip = |t: &Value| {
            let mut t = t.clone();
            if let Some(m) = t.as_object_mut() {
                m.remove("tolerationSeconds");
            }
            t
        };
        if !nt.iter().any(|n| super::semantic_eq(&strip(n), &strip(o))) {
            errs.push(FieldError::forbidden(
                idx("spec.tolerations", i),
                "existing toleration can not be modified except its tolerationSeconds",
            ));
        }
    }
    if !super::semantic_eq(&munged, os) {
        let diff = spec_diff(os, &munged);
        errs.push(FieldError::forbidden(
            "spec",
            format!("{POD_UPDATE_FORBIDDEN}\n{diff}"),
        ));
    }
    errs
}

/// An approximation of the `cmp.Diff(oldSpec, newSpec)` text upstream
/// appends: the changed top-level PodSpec fields with Go field names.
fn spec_diff(old: &Value, new: &Value) -> String {
    let mut keys: Vec<&String> = old.as_object().into_iter().flat_map(|m| m.keys()).collect();
    for k in new.as_object().into_iter().flat_map(|m| m.keys()) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut out = String::from("  core.PodSpec{\n");
    let mut same = 0;
    let flush = |same: &mut usize, out: &mut String| {
        if *same > 0 {
            out.push_str(&format!("  \t... // {same} identical fields\n"));
            *same = 0;
        }
    };
    for k in keys {
        let (o, n) = (get(old, k), get(new, k));
        if super::semantic_eq(o, n) {
            same += 1;
            continue;
        }
        flush(&mut same, &mut out);
        let mut field = k.clone();
        if let Some(first) = field.get(0..1) {
            field.replace_range(0..1, &first.to_uppercase());
        }
        if !o.is_null() {
            out.push_str(&format!("- \t{field}: {o},\n"));
        }
        if !n.is_null() {
            out.push_str(&format!("+ \t{field}: {n},\n"));
        }
    }
    flush(&mut same, &mut out);
    out.push_str("  }\n");
    out
}
