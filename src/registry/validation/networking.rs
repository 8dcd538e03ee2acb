//! networking.k8s.io/v1 validation (Ingress, NetworkPolicy).
//!
//! Upstream truth: `pkg/apis/networking/validation/validation.go`
//! (`ValidateIngressSpec`, `validateIngressRules`, `validateHTTPIngressPath`,
//! `validateIngressBackend`, `ValidateNetworkPolicySpec`,
//! `ValidateNetworkPolicyPort`, `ValidateNetworkPolicyPeer`).

use crate::api::pointer::Pointer;
use serde_json::Value;

use super::{arr, ch, get, idx, int, label_selector, present, s};
use crate::api::cidr::Cidr;
use crate::api::field_error::FieldError;
use crate::api::name::{
    is_dns1035_label, is_dns1123_subdomain, is_valid_port_name, is_valid_port_num,
    is_wildcard_dns1123_subdomain,
};

pub fn ingress(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    let rules = arr(spec, "rules");
    if rules.is_empty() && !present(spec, "defaultBackend") {
        errs.push(FieldError::invalid(
            "spec",
            get(spec, "rules").clone(),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if present(spec, "defaultBackend") {
        backend(
            get(spec, "defaultBackend"),
            "spec.defaultBackend",
            &mut errs,
        );
    }
    for (i, r) in rules.iter().enumerate() {
        let rp = idx("spec.rules", i);
        let host = s(r, "host");
        if !host.is_empty() {
            let hp = ch(&rp, "host");
            if host.parse::<std::net::IpAddr>().is_ok() {
                errs.push(FieldError::invalid(
                    &hp,
                    Value::from(host),
                    "must be a DNS name, not an IP address",
                ));
            }
            let msgs = if host.contains('*') {
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            for msg in msgs {
                errs.push(FieldError::invalid(&hp, Value::from(host), msg));
            }
        }
        let http = get(r, "http");
        if http.is_null() {
            continue;
        }
        let hp = ch(&rp, "http");
        let paths = arr(http, "paths");
        if paths.is_empty() {
            errs.push(FieldError::required(ch(&hp, "paths"), ""));
        }
        for (j, p) in paths.iter().enumerate() {
            http_path(p, &idx(&ch(&hp, "paths"), j), &mut errs);
        }
    }
    for (i, t) in arr(spec, "tls").iter().enumerate() {
        let tp = idx("spec.tls", i);
        for (j, h) in arr(t, "hosts").iter().enumerate() {
            let host = h.as_str().unwrap_or("");
            let msgs = if host.contains('*') {
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            for msg in msgs {
                errs.push(FieldError::invalid(
                    idx(&ch(&tp, "hosts"), j),
                    Value::from(host),
                    msg,
                ));
            }
        }
        let secret = s(t, "secretName");
        if !secret.is_empty() {
            for msg in is_dns1123_subdomain(secret) {
                errs.push(FieldError::invalid(
                    ch(&tp, "secretName"),
                    Value::from(secret),
                    msg,
                ));
            }
        }
    }
    let class = s(spec, "ingressClassName");
    if !class.is_empty() {
        for msg in is_dns1123_subdomain(class) {
            errs.push(FieldError::invalid(
                "spec.ingressClassName",
                Value::from(class),
                msg,
            ));
        }
    }
    errs
}

/// `ValidateIngressCreate`'s extra rule: the legacy class annotation, when
/// set alongside `ingressClassName`, must name the same class.
pub fn ingress_create(obj: &Value) -> Vec<FieldError> {
    const KEY: &str = "kubernetes.io/ingress.class";
    let annotation = obj
        .get_in(&["metadata", "annotations"])
        .and_then(|a| a.get(KEY))
        .and_then(Value::as_str);
    let class = get(obj, "spec")
        .get("ingressClassName")
        .and_then(Value::as_str);
    match (annotation, class) {
        (Some(a), Some(c)) if a != c => vec![FieldError::invalid(
            format!("annotations.{KEY}"),
            Value::from(a),
            "must match `ingressClassName` when both are specified",
        )],
        _ => Vec::new(),
    }
}

fn http_path(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let pt = s(p, "pathType");
    let value = s(p, "path");
    let pp = ch(path, "path");
    match pt {
        "" => {
            errs.push(FieldError::required(
                ch(path, "pathType"),
                "pathType must be specified",
            ));
            return;
        }
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.push(FieldError::invalid(
                    &pp,
                    Value::from(value),
                    "must be an absolute path",
                ));
            }
            if !value.is_empty() {
                for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                    if value.contains(seq) {
                        errs.push(FieldError::invalid(
                            &pp,
                            Value::from(value),
                            format!("must not contain '{seq}'"),
                        ));
                    }
                }
                for suf in ["/..", "/."] {
                    if value.ends_with(suf) {
                        errs.push(FieldError::invalid(
                            &pp,
                            Value::from(value),
                            format!("cannot end with '{suf}'"),
                        ));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(FieldError::invalid(
                    &pp,
                    Value::from(value),
                    "must be an absolute path",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            ch(path, "pathType"),
            Value::from(other),
            &["Exact", "ImplementationSpecific", "Prefix"],
        )),
    }
    backend(get(p, "backend"), &ch(path, "backend"), errs);
}

fn backend(b: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let (has_res, has_svc) = (present(b, "resource"), present(b, "service"));
    if has_res && has_svc {
        errs.push(FieldError::invalid(
            path,
            Value::from(""),
            "cannot set both resource and service backends",
        ));
        return;
    }
    if has_res {
        let r = get(b, "resource");
        for k in ["kind", "name"] {
            if s(r, k).is_empty() {
                errs.push(FieldError::required(ch(&ch(path, "resource"), k), ""));
            }
        }
        return;
    }
    if !has_svc {
        errs.push(FieldError::invalid(
            path,
            Value::from(""),
            "resource or service backend is required",
        ));
        return;
    }
    let svc = get(b, "service");
    let sp = ch(path, "service");
    let name = s(svc, "name");
    if name.is_empty() {
        errs.push(FieldError::required(ch(&sp, "name"), ""));
    } else {
        for msg in is_dns1035_label(name) {
            errs.push(FieldError::invalid(ch(&sp, "name"), Value::from(name), msg));
        }
    }
    let port = get(svc, "port");
    let pname = s(port, "name");
    let pnum = int(port, "number").unwrap_or(0);
    let pp = ch(&sp, "port");
    if !pname.is_empty() && pnum != 0 {
        errs.push(FieldError::invalid(
            path,
            Value::from(""),
            "cannot set both port name & port number",
        ));
    } else if !pname.is_empty() {
        for msg in is_valid_port_name(pname) {
            errs.push(FieldError::invalid(
                ch(&pp, "name"),
                Value::from(pname),
                msg,
            ));
        }
    } else if pnum != 0 {
        for msg in is_valid_port_num(pnum) {
            errs.push(FieldError::invalid(
                ch(&pp, "number"),
                Value::from(pnum),
                msg,
            ));
        }
    } else {
        errs.push(FieldError::required(
            path,
            "port name or number is required",
        ));
    }
}

pub fn network_policy(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = get(obj, "spec");
    label_selector(get(spec, "podSelector"), "spec.podSelector", &mut errs);
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = idx(&ch("spec", dir), i);
            for (j, p) in arr(rule, "ports").iter().enumerate() {
                np_port(p, &idx(&ch(&rp, "ports"), j), &mut errs);
            }
            for (j, p) in arr(rule, peers).iter().enumerate() {
                peer(p, &idx(&ch(&rp, peers), j), &mut errs);
            }
        }
    }
    let types = arr(spec, "policyTypes");
    if types.len() > 2 {
        errs.push(FieldError::invalid(
            "spec.policyTypes",
            get(spec, "policyTypes").clone(),
            "may not specify more than two policyTypes",
        ));
        return errs;
    }
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or("");
        if t != "Ingress" && t != "Egress" {
            errs.push(FieldError::not_supported(
                idx("spec.policyTypes", i),
                Value::from(t),
                &["Ingress", "Egress"],
            ));
        }
    }
    errs
}

fn np_port(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let proto = s(p, "protocol");
    if present(p, "protocol") && !["TCP", "UDP", "SCTP"].contains(&proto) {
        errs.push(FieldError::not_supported(
            ch(path, "protocol"),
            Value::from(proto),
            &["TCP", "UDP", "SCTP"],
        ));
    }
    let end = int(p, "endPort");
    match get(p, "port") {
        Value::Number(n) => {
            let n = n.as_i64().unwrap_or(0);
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(ch(path, "port"), Value::from(n), msg));
            }
            if let Some(e) = end {
                if e < n {
                    errs.push(FieldError::invalid(
                        ch(path, "endPort"),
                        Value::from(n),
                        "must be greater than or equal to `port`",
                    ));
                }
                for msg in is_valid_port_num(e) {
                    errs.push(FieldError::invalid(
                        ch(path, "endPort"),
                        Value::from(e),
                        msg,
                    ));
                }
            }
        }
        Value::String(name) => {
            if let Some(e) = end {
                errs.push(FieldError::invalid(
                    ch(path, "endPort"),
                    Value::from(e),
                    "may not be specified when `port` is non-numeric",
                ));
            }
            for msg in is_valid_port_name(name) {
                errs.push(FieldError::invalid(
                    ch(path, "port"),
                    Value::from(name.as_str()),
                    msg,
                ));
            }
        }
        _ => {
            if let Some(e) = end {
                errs.push(FieldError::invalid(
                    ch(path, "endPort"),
                    Value::from(e),
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
}

fn peer(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let mut n = 0;
    for k in ["podSelector", "namespaceSelector"] {
        if present(p, k) {
            n += 1;
            label_selector(get(p, k), &ch(path, k), errs);
        }
    }
    let ipb = get(p, "ipBlock");
    if !ipb.is_null() {
        n += 1;
        ip_block(ipb, &ch(path, "ipBlock"), errs);
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a peer"));
    } else if n > 1 && !ipb.is_null() {
        errs.push(FieldError::forbidden(
            path,
            "may not specify both ipBlock and another peer",
        ));
    }
}

/// `IsValidCIDRForLegacyField`'s message (StrictIPCIDRValidation is off in
/// v1.33, so only unparseable values fail).
const CIDR_INVALID: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// `ValidateIPBlock`: `cidr` required and parseable; each `except` entry
/// parseable and a strict subset of `cidr`.
fn ip_block(ipb: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let cidr = s(ipb, "cidr");
    let cp = ch(path, "cidr");
    if cidr.is_empty() {
        errs.push(FieldError::required(cp, ""));
        return;
    }
    let Some(block) = Cidr::parse_sloppy(cidr) else {
        errs.push(FieldError::invalid(cp, Value::from(cidr), CIDR_INVALID));
        return;
    };
    for (i, e) in arr(ipb, "except").iter().enumerate() {
        let ep = idx(&ch(path, "except"), i);
        let text = e.as_str().unwrap_or("");
        match Cidr::parse_sloppy(text) {
            None => errs.push(FieldError::invalid(ep, Value::from(text), CIDR_INVALID)),
            Some(ex) if !block.strictly_contains(&ex) => errs.push(FieldError::invalid(
                ep,
                Value::from(text),
                "must be a strict subset of `cidr`",
            )),
            Some(_) => {}
        }
    }
}
