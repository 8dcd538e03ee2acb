//! Core-group validation other than pods: Service, ConfigMap, Secret,
//! PersistentVolumeClaim, PersistentVolume, ResourceQuota, LimitRange, and
//! storage.k8s.io StorageClass.
//!
//! Upstream truth: `pkg/apis/core/validation/validation.go` (`ValidateService`,
//! `validateServicePort`, `ValidateServiceUpdate`,
//! `validateUpgradeDowngradeClusterIPs`, `ValidateConfigMap`,
//! `ValidateConfigMapUpdate`, `ValidateSecret`, `ValidateSecretUpdate`,
//! `ValidatePersistentVolumeClaimSpec`, `ValidatePersistentVolumeClaimUpdate`,
//! `ValidateResourceQuotaSpec`, `ValidateLimitRange`) and
//! `pkg/apis/storage/validation/validation.go` (`ValidateStorageClass`,
//! `ValidateStorageClassUpdate`); the nodePort range text is from
//! `pkg/registry/core/service/portallocator`.

use serde_json::Value;

use super::pod::protocol;
use super::{
    FIELD_IMMUTABLE, arr, ch, get, idx, immutable, int, key, label_selector, labels,
    nonnegative_quantity, obj_entries, port_num_or_name, present, s, semantic_eq,
};
use crate::api::field_error::FieldError;
use crate::api::name::{
    is_config_map_key, is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_port_num,
};
use crate::api::quantity::Quantity;

/// `core.MaxSecretSize` (1 MiB), also the ConfigMap limit.
pub const MAX_SECRET_SIZE: i64 = 1024 * 1024;

/// The allocator's error for a nodePort outside the service-node-port-range.
pub fn node_port_range_error(path: &str, port: i64, lo: i64, hi: i64) -> FieldError {
    FieldError::invalid(
        path,
        Value::from(port),
        format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"),
    )
}

pub fn service(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    let sp = "spec";
    let ty = s(spec, "type");
    let headless = s(spec, "clusterIP") == "None";
    let ports = arr(spec, "ports");
    if ports.is_empty() && !headless && ty != "ExternalName" {
        errs.push(FieldError::required(ch(sp, "ports"), ""));
    }
    match ty {
        "ClusterIP" | "NodePort" | "LoadBalancer" => {}
        "ExternalName" => {
            if !s(spec, "clusterIP").is_empty() || !arr(spec, "clusterIPs").is_empty() {
                errs.push(FieldError::forbidden(
                    ch(sp, "clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            let en = s(spec, "externalName").trim_end_matches('.');
            if en.is_empty() {
                errs.push(FieldError::required(ch(sp, "externalName"), ""));
            } else {
                for msg in is_dns1123_subdomain(en) {
                    errs.push(FieldError::invalid(
                        ch(sp, "externalName"),
                        Value::from(en),
                        msg,
                    ));
                }
            }
        }
        "" => errs.push(FieldError::required(ch(sp, "type"), "")),
        other => errs.push(FieldError::not_supported(
            ch(sp, "type"),
            Value::from(other),
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    let mut names = std::collections::HashSet::new();
    let pp = ch(sp, "ports");
    for (i, p) in ports.iter().enumerate() {
        let ip = idx(&pp, i);
        let name = s(p, "name");
        if ports.len() > 1 && name.is_empty() {
            errs.push(FieldError::required(ch(&ip, "name"), ""));
        } else if !name.is_empty() {
            for msg in is_dns1123_label(name) {
                errs.push(FieldError::invalid(ch(&ip, "name"), Value::from(name), msg));
            }
            if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(ch(&ip, "name"), Value::from(name)));
            }
        }
        let port = int(p, "port").unwrap_or(0);
        for msg in is_valid_port_num(port) {
            errs.push(FieldError::invalid(ch(&ip, "port"), Value::from(port), msg));
        }
        protocol(p, &ip, &mut errs);
        if present(p, "targetPort") {
            port_num_or_name(get(p, "targetPort"), &ch(&ip, "targetPort"), &mut errs);
        }
        if let Some(np) = int(p, "nodePort")
            && np != 0
        {
            if ty == "ClusterIP" {
                errs.push(FieldError::forbidden(
                    ch(&ip, "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
            for msg in is_valid_port_num(np) {
                errs.push(FieldError::invalid(
                    ch(&ip, "nodePort"),
                    Value::from(np),
                    msg,
                ));
            }
        }
    }
    labels(get(spec, "selector"), sp, "selector", &mut errs);
    match s(spec, "sessionAffinity") {
        "" => errs.push(FieldError::required(ch(sp, "sessionAffinity"), "")),
        "None" | "ClientIP" => {}
        other => errs.push(FieldError::not_supported(
            ch(sp, "sessionAffinity"),
            Value::from(other),
            &["ClientIP", "None"],
        )),
    }
    let etp = s(spec, "externalTrafficPolicy");
    if !etp.is_empty() {
        if ty != "NodePort" && ty != "LoadBalancer" {
            errs.push(FieldError::invalid(
                ch(sp, "externalTrafficPolicy"),
                Value::from(etp),
                "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
            ));
        } else if etp != "Cluster" && etp != "Local" {
            errs.push(FieldError::not_supported(
                ch(sp, "externalTrafficPolicy"),
                Value::from(etp),
                &["Cluster", "Local"],
            ));
        }
    }
    let itp = s(spec, "internalTrafficPolicy");
    if !itp.is_empty() && itp != "Cluster" && itp != "Local" {
        errs.push(FieldError::not_supported(
            ch(sp, "internalTrafficPolicy"),
            Value::from(itp),
            &["Cluster", "Local"],
        ));
    }
    for (i, ip) in arr(spec, "clusterIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        if ip != "None" && !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                idx(&ch(sp, "clusterIPs"), i),
                Value::from(ip),
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    errs
}

/// `ValidateServiceUpdate`: the primary cluster IP may not change. Upstream
/// first copies allocated values (clusterIP(s), nodePorts) from the old
/// object when the new one omits them (`patchAllocatedValues`); callers
/// must do the same before validating.
pub fn service_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    if s(ns, "type") == "ExternalName" || s(os, "type") == "ExternalName" {
        return errs;
    }
    let ips = |spec: &Value| -> Vec<Value> {
        let list = arr(spec, "clusterIPs").to_vec();
        if list.is_empty() && !s(spec, "clusterIP").is_empty() {
            vec![get(spec, "clusterIP").clone()]
        } else {
            list
        }
    };
    let (new_ips, old_ips) = (ips(ns), ips(os));
    if let Some(first) = old_ips.first()
        && new_ips.first() != Some(first)
    {
        errs.push(FieldError::invalid(
            "spec.clusterIPs[0]",
            Value::from(new_ips),
            "may not change once set",
        ));
    }
    errs
}

fn config_size(v: &Value, base64: bool) -> i64 {
    match v.as_str() {
        Some(s) if base64 => {
            let pad = s.bytes().rev().take_while(|&b| b == b'=').count();
            (s.len() / 4 * 3) as i64 - pad as i64
        }
        Some(s) => s.len() as i64,
        None => 0,
    }
}

/// `ValidateConfigMap`.
pub fn config_map(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0;
    let binary: Vec<&String> = obj_entries(obj, "binaryData")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for (k, v) in obj_entries(obj, "data") {
        for msg in is_config_map_key(k) {
            errs.push(FieldError::invalid(
                key("data", k),
                Value::from(k.as_str()),
                msg,
            ));
        }
        if binary.contains(&k) {
            errs.push(FieldError::invalid(
                key("data", k),
                Value::from(k.as_str()),
                "duplicate of key present in binaryData",
            ));
        }
        total += config_size(v, false);
    }
    for (k, v) in obj_entries(obj, "binaryData") {
        for msg in is_config_map_key(k) {
            errs.push(FieldError::invalid(
                key("binaryData", k),
                Value::from(k.as_str()),
                msg,
            ));
        }
        total += config_size(v, true);
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE));
    }
    errs
}

fn immutable_data(new: &Value, old: &Value, keys: &[&str]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if get(old, "immutable").as_bool() != Some(true) {
        return errs;
    }
    const MSG: &str = "field is immutable when `immutable` is set";
    if get(new, "immutable").as_bool() != Some(true) {
        errs.push(FieldError::forbidden("immutable", MSG));
    }
    for k in keys {
        if !semantic_eq(get(new, k), get(old, k)) {
            errs.push(FieldError::forbidden(*k, MSG));
        }
    }
    errs
}

pub fn config_map_update(new: &Value, old: &Value) -> Vec<FieldError> {
    immutable_data(new, old, &["data", "binaryData"])
}

/// `ValidateSecret`. `stringData` keys count as `data` keys (upstream
/// merges them during conversion).
pub fn secret(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0;
    let mut keys: Vec<String> = Vec::new();
    for (field, b64) in [("data", true), ("stringData", false)] {
        for (k, v) in obj_entries(obj, field) {
            for msg in is_config_map_key(k) {
                errs.push(FieldError::invalid(
                    key("data", k),
                    Value::from(k.as_str()),
                    msg,
                ));
            }
            total += config_size(v, b64);
            keys.push(k.clone());
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", MAX_SECRET_SIZE));
    }
    let has = |k: &str| keys.iter().any(|x| x == k);
    match s(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let ann = get(get(obj, "metadata"), "annotations");
            if s(ann, "kubernetes.io/service-account.name").is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" if !has(".dockercfg") => {
            errs.push(FieldError::required("data[.dockercfg]", ""))
        }
        "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => {
            errs.push(FieldError::required("data[.dockerconfigjson]", ""))
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(FieldError::required("data[username]", ""));
            errs.push(FieldError::required("data[password]", ""));
        }
        "kubernetes.io/ssh-auth" if !has("ssh-privatekey") => {
            errs.push(FieldError::required("data[ssh-privatekey]", ""))
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                errs.push(FieldError::required("data[tls.crt]", ""));
            }
            if !has("tls.key") {
                errs.push(FieldError::required("data[tls.key]", ""));
            }
        }
        _ => {}
    }
    errs
}

pub fn secret_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    immutable(get(new, "type"), get(old, "type"), "type", &mut errs);
    errs.extend(immutable_data(new, old, &["data"]));
    errs
}

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// `ValidatePersistentVolumeClaimSpec`.
pub fn pvc_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(
            ch(path, "accessModes"),
            "at least 1 access mode is required",
        ));
    }
    for m in modes {
        let m = m.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                ch(path, "accessModes"),
                Value::from(m),
                ACCESS_MODES,
            ));
        }
    }
    label_selector(get(spec, "selector"), &ch(path, "selector"), errs);
    let sp = key(&ch(path, "resources"), "storage");
    match get(get(get(spec, "resources"), "requests"), "storage") {
        Value::Null => errs.push(FieldError::required(&sp, "")),
        v => {
            if let Some(q) = nonnegative_quantity(v, &sp, errs)
                && q.is_zero()
            {
                errs.push(FieldError::invalid(
                    &sp,
                    Value::from(q.canonical()),
                    "must be greater than zero",
                ));
            }
        }
    }
    let vm = s(spec, "volumeMode");
    if !vm.is_empty() && vm != "Block" && vm != "Filesystem" {
        errs.push(FieldError::not_supported(
            ch(path, "volumeMode"),
            Value::from(vm),
            &["Block", "Filesystem"],
        ));
    }
    let sc = s(spec, "storageClassName");
    if !sc.is_empty() {
        for msg in is_dns1123_subdomain(sc) {
            errs.push(FieldError::invalid(
                ch(path, "storageClassName"),
                Value::from(sc),
                msg,
            ));
        }
    }
}

pub fn pvc(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    pvc_spec(get(obj, "spec"), "spec", &mut errs);
    errs
}

/// `ValidatePersistentVolumeClaimUpdate`: only `resources.requests` may
/// change, and only on a bound claim, and storage may not shrink below the
/// claim's capacity. (Upstream appends a go-cmp diff of the spec to the
/// immutability message; that diff is left out.)
pub fn pvc_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    let bound = s(get(old, "status"), "phase") == "Bound";
    let mut munged = ns.clone();
    if let Some(m) = munged.as_object_mut() {
        if bound {
            let old_req = get(get(os, "resources"), "requests").clone();
            if let Some(r) = m.get_mut("resources").and_then(Value::as_object_mut) {
                r.insert("requests".into(), old_req);
            }
        }
        // The binder fills volumeName once (upstream lets an empty
        // volumeName be set); a user leaving it out is no change.
        if s(ns, "volumeName").is_empty() || s(os, "volumeName").is_empty() {
            match os.get("volumeName") {
                Some(v) => m.insert("volumeName".into(), v.clone()),
                None => m.remove("volumeName"),
            };
        }
    }
    if !semantic_eq(&munged, os) {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
    // With RecoverVolumeExpansionFailure (on by default since v1.32) a
    // claim may shrink back down to, but not below, its status.capacity;
    // an unbound claim has no capacity, and its spec may not change anyway.
    let q = |v: &Value| super::quantity::parse_value(v).ok();
    let req = |spec: &Value| q(get(get(get(spec, "resources"), "requests"), "storage"));
    let status_cap = q(get(get(get(old, "status"), "capacity"), "storage"));
    if let (Some(n), Some(o)) = (req(ns), req(os))
        && n < o
        && status_cap.is_some_and(|c| n <= c)
    {
        errs.push(FieldError::forbidden(
            "spec.resources.requests.storage",
            "field can not be less than status.capacity",
        ));
    }
    errs
}

pub fn pv(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    if arr(spec, "accessModes").is_empty() {
        errs.push(FieldError::required("spec.accessModes", ""));
    }
    for m in arr(spec, "accessModes") {
        let m = m.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                "spec.accessModes",
                Value::from(m),
                ACCESS_MODES,
            ));
        }
    }
    match get(get(spec, "capacity"), "storage") {
        Value::Null => errs.push(FieldError::required("spec.capacity", "")),
        v => {
            nonnegative_quantity(v, "spec.capacity[storage]", &mut errs);
        }
    }
    let rp = s(spec, "persistentVolumeReclaimPolicy");
    if !rp.is_empty() && !["Delete", "Recycle", "Retain"].contains(&rp) {
        errs.push(FieldError::not_supported(
            "spec.persistentVolumeReclaimPolicy",
            Value::from(rp),
            &["Delete", "Recycle", "Retain"],
        ));
    }
    if !PV_SOURCES
        .iter()
        .any(|k| spec.get(*k).is_some_and(|v| !v.is_null()))
    {
        errs.push(FieldError::required("spec", "must specify a volume type"));
    }
    errs
}

/// The volume sources a PersistentVolume may have (`PersistentVolumeSource`).
const PV_SOURCES: &[&str] = &[
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "hostPath",
    "glusterfs",
    "nfs",
    "rbd",
    "iscsi",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

const QUOTA_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
    "cpu",
    "memory",
    "storage",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
];
const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// `ValidateResourceQuotaSpec` (hard limits).
pub fn resource_quota(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    for field in ["hard"] {
        let base = ch("spec", field);
        for (name, v) in obj_entries(spec, field) {
            let p = key(&base, name);
            for msg in is_qualified_name(name) {
                errs.push(FieldError::invalid(&p, Value::from(name.as_str()), msg));
            }
            let standard = QUOTA_RESOURCES.contains(&name.as_str())
                || name.starts_with("count/")
                || name.starts_with("hugepages-")
                || name.starts_with("requests.hugepages-")
                || name.contains('/');
            if !standard {
                errs.push(FieldError::invalid(
                    &p,
                    Value::from(name.as_str()),
                    "must be a standard resource for quota",
                ));
            }
            if let Some(q) = nonnegative_quantity(v, &p, &mut errs)
                && (INTEGER_RESOURCES.contains(&name.as_str()) || name.starts_with("count/"))
                && q.milli_value() % 1000 != 0
            {
                errs.push(FieldError::invalid(
                    &p,
                    Value::from(q.canonical()),
                    "must be an integer",
                ));
            }
        }
    }
    let scopes = [
        "Terminating",
        "NotTerminating",
        "BestEffort",
        "NotBestEffort",
        "PriorityClass",
        "CrossNamespacePodAffinity",
    ];
    for sc in arr(spec, "scopes") {
        let sc = sc.as_str().unwrap_or("");
        if !scopes.contains(&sc) {
            errs.push(FieldError::invalid(
                "spec.scopes",
                Value::from(sc),
                "unsupported scope",
            ));
        }
    }
    errs
}

/// `ValidateLimitRange`.
pub fn limit_range(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let lp = "spec.limits";
    for (i, item) in arr(get(obj, "spec"), "limits").iter().enumerate() {
        let ip = idx(lp, i);
        match s(item, "type") {
            "Container" | "Pod" | "PersistentVolumeClaim" => {}
            other => errs.push(FieldError::not_supported(
                ch(&ip, "type"),
                Value::from(other),
                &["Container", "PersistentVolumeClaim", "Pod"],
            )),
        }
        let mut parsed: std::collections::HashMap<
            &str,
            std::collections::HashMap<String, Quantity>,
        > = std::collections::HashMap::new();
        for field in [
            "max",
            "min",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ] {
            let fp = ch(&ip, field);
            for (name, v) in obj_entries(item, field) {
                if let Some(q) = nonnegative_quantity(v, &key(&fp, name), &mut errs) {
                    parsed.entry(field).or_default().insert(name.clone(), q);
                }
            }
        }
        if s(item, "type") == "Pod" {
            for f in ["default", "defaultRequest"] {
                if present(item, f) {
                    errs.push(FieldError::forbidden(
                        ch(&ip, f),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
            }
        }
        let get_q = |f: &str, k: &str| parsed.get(f).and_then(|m| m.get(k)).copied();
        let mut names: Vec<&String> = parsed.values().flat_map(|m| m.keys()).collect();
        names.sort();
        names.dedup();
        for k in names {
            let at = |f: &str| key(&ch(&ip, f), k);
            // (lower, upper, field reported, which side is the bad value,
            // upstream's wording of the pair), in upstream's order.
            let pairs = [
                ("min", "max", "min", "min value", "max value"),
                (
                    "min",
                    "defaultRequest",
                    "defaultRequest",
                    "min value",
                    "default request value",
                ),
                (
                    "defaultRequest",
                    "max",
                    "defaultRequest",
                    "default request value",
                    "max value",
                ),
                (
                    "defaultRequest",
                    "default",
                    "defaultRequest",
                    "default request value",
                    "default limit value",
                ),
                ("min", "default", "default", "min value", "default value"),
                ("default", "max", "default", "default value", "max value"),
            ];
            for (lo_field, hi_field, report, lo_name, hi_name) in pairs {
                if let (Some(lo), Some(hi)) = (get_q(lo_field, k), get_q(hi_field, k))
                    && lo > hi
                {
                    let bad = if report == lo_field { lo } else { hi };
                    errs.push(FieldError::invalid(
                        at(report),
                        Value::from(bad.canonical()),
                        format!("{lo_name} {lo} is greater than {hi_name} {hi}"),
                    ));
                }
            }
        }
    }
    errs
}

/// `ValidateStorageClass`.
pub fn storage_class(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let prov = s(obj, "provisioner");
    if prov.is_empty() {
        errs.push(FieldError::required("provisioner", ""));
    } else {
        for msg in is_qualified_name(&prov.to_lowercase()) {
            errs.push(FieldError::invalid("provisioner", Value::from(prov), msg));
        }
    }
    let rp = s(obj, "reclaimPolicy");
    if !rp.is_empty() && rp != "Delete" && rp != "Retain" {
        errs.push(FieldError::not_supported(
            "reclaimPolicy",
            Value::from(rp),
            &["Delete", "Retain"],
        ));
    }
    let bm = s(obj, "volumeBindingMode");
    if !bm.is_empty() && bm != "Immediate" && bm != "WaitForFirstConsumer" {
        errs.push(FieldError::not_supported(
            "volumeBindingMode",
            Value::from(bm),
            &["Immediate", "WaitForFirstConsumer"],
        ));
    }
    errs
}

/// `ValidateStorageClassUpdate`.
pub fn storage_class_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, msg) in [
        ("parameters", "updates to parameters are forbidden."),
        ("provisioner", "updates to provisioner are forbidden."),
        ("reclaimPolicy", "updates to reclaimPolicy are forbidden."),
    ] {
        if !semantic_eq(get(new, k), get(old, k)) {
            errs.push(FieldError::forbidden(k, msg));
        }
    }
    if !semantic_eq(get(new, "volumeBindingMode"), get(old, "volumeBindingMode")) {
        errs.push(FieldError::invalid(
            "volumeBindingMode",
            get(new, "volumeBindingMode").clone(),
            FIELD_IMMUTABLE,
        ));
    }
    errs
}
