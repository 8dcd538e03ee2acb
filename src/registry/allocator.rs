//! Service ClusterIP and NodePort allocation (upstream:
//! `pkg/registry/core/service/ipallocator` and `portallocator`). The set of
//! addresses in use is read from the stored Services, so there is no
//! second source of truth to keep in step.

use crate::api::field_error::FieldError;
use crate::api::pointer::Pointer;
use crate::sim::rng::Rng;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// kind's default service CIDR.
pub const SERVICE_CIDR: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 96, 0, 0), 16);
/// The default NodePort range.
pub const NODE_PORT_RANGE: (u16, u16) = (30000, 32767);

fn in_cidr(ip: Ipv4Addr) -> bool {
    let (base, bits) = SERVICE_CIDR;
    let mask = u32::MAX << (32 - bits);
    (u32::from(ip) & mask) == (u32::from(base) & mask)
}

/// Addresses and ports held by the given Services.
pub struct InUse {
    pub ips: HashSet<Ipv4Addr>,
    pub node_ports: HashSet<u16>,
}

impl InUse {
    pub fn from_services<'a>(services: impl Iterator<Item = &'a Value>) -> Self {
        let mut ips = HashSet::new();
        let mut node_ports = HashSet::new();
        for s in services {
            if let Some(ip) = s
                .get_in(&["spec", "clusterIP"])
                .and_then(Value::as_str)
                .and_then(|i| i.parse().ok())
            {
                ips.insert(ip);
            }
            for p in s
                .get_in(&["spec", "ports"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(np) = p.get("nodePort").and_then(Value::as_u64) {
                    node_ports.insert(np as u16);
                }
            }
        }
        Self { ips, node_ports }
    }
}

/// Fills `spec.clusterIP(s)` and node ports of a Service being created.
pub fn allocate(svc: &mut Value, in_use: &InUse, rng: &Rng) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let ty = svc
        .get_in(&["spec", "type"])
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return Ok(());
    }
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let requested = spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let ip = match requested.as_str() {
        "None" => None,
        "" => {
            let (base, bits) = SERVICE_CIDR;
            let size = 1u64 << (32 - bits);
            let mut chosen = None;
            for _ in 0..64 {
                let offset = 1 + rng.below(size - 2) as u32;
                let candidate = Ipv4Addr::from(u32::from(base) + offset);
                if !in_use.ips.contains(&candidate) {
                    chosen = Some(candidate);
                    break;
                }
            }
            match chosen {
                Some(c) => Some(c.to_string()),
                None => {
                    errors.push(FieldError::invalid(
                        "spec.clusterIPs",
                        json!([""]),
                        "failed to allocate IP: range is full",
                    ));
                    None
                }
            }
        }
        other => match other.parse::<Ipv4Addr>() {
            Ok(ip) if !in_cidr(ip) => {
                errors.push(FieldError::invalid(
                    "spec.clusterIPs",
                    json!([other]),
                    format!("failed to allocate IP {other}: the provided IP ({other}) is not in the valid range. The range of valid IPs is {}/{}", SERVICE_CIDR.0, SERVICE_CIDR.1),
                ));
                None
            }
            Ok(ip) if in_use.ips.contains(&ip) => {
                errors.push(FieldError::invalid(
                    "spec.clusterIPs",
                    json!([other]),
                    format!("failed to allocate IP {other}: provided IP is already allocated"),
                ));
                None
            }
            _ => Some(other.to_string()),
        },
    };
    let cluster_ip = ip.unwrap_or_else(|| requested.clone());
    if !cluster_ip.is_empty() {
        spec.insert("clusterIP".into(), json!(cluster_ip));
        spec.insert("clusterIPs".into(), json!([cluster_ip]));
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        let mut taken = in_use.node_ports.clone();
        for (i, port) in spec
            .get_mut("ports")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            match port.get("nodePort").and_then(Value::as_u64) {
                Some(np) => {
                    let np16 = np as u16;
                    if taken.contains(&np16) {
                        errors.push(FieldError::invalid(
                            format!("spec.ports[{i}].nodePort"),
                            json!(np),
                            "provided port is already allocated",
                        ));
                    } else {
                        taken.insert(np16);
                    }
                }
                None => {
                    let span = u64::from(NODE_PORT_RANGE.1 - NODE_PORT_RANGE.0) + 1;
                    let mut chosen = None;
                    for _ in 0..256 {
                        let p = NODE_PORT_RANGE.0 + rng.below(span) as u16;
                        if !taken.contains(&p) {
                            chosen = Some(p);
                            break;
                        }
                    }
                    if let (Some(p), Some(obj)) = (chosen, port.as_object_mut()) {
                        taken.insert(p);
                        obj.insert("nodePort".into(), json!(p));
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Carries allocated addresses over an update that left them blank
/// (kubectl apply of a manifest without clusterIP).
pub fn keep_allocations(new: &mut Value, old: &Value) {
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for f in ["clusterIP", "clusterIPs"] {
        let blank = spec
            .get(f)
            .is_none_or(|v| v.as_str() == Some("") || v.is_null());
        if blank && let Some(v) = old.at(&format!("/spec/{f}")) {
            spec.insert(f.into(), v.clone());
        }
    }
    let old_ports: Vec<Value> = old
        .get_in(&["spec", "ports"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for port in spec
        .get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if port.get("nodePort").is_some() {
            continue;
        }
        let matching = old_ports.iter().find(|o| {
            o.get("port") == port.get("port") && o.get("protocol") == port.get("protocol")
        });
        if let (Some(np), Some(obj)) = (
            matching.and_then(|o| o.get("nodePort")),
            port.as_object_mut(),
        ) {
            obj.insert("nodePort".into(), np.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_a_free_ip_and_node_port() {
        let rng = Rng::new(1);
        let mut svc = json!({"spec":{"type":"NodePort","ports":[{"port":80}]}});
        allocate(&mut svc, &InUse::from_services(std::iter::empty()), &rng).unwrap();
        let ip: Ipv4Addr = svc["spec"]["clusterIP"].as_str().unwrap().parse().unwrap();
        assert!(in_cidr(ip));
        let np = svc["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((30000..=32767).contains(&np));
    }

    #[test]
    fn rejects_an_ip_in_use() {
        let rng = Rng::new(1);
        let existing = json!({"spec":{"clusterIP":"10.96.0.10"}});
        let mut svc = json!({"spec":{"clusterIP":"10.96.0.10","ports":[{"port":53}]}});
        let errs = allocate(
            &mut svc,
            &InUse::from_services([&existing].into_iter()),
            &rng,
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "spec.clusterIPs");
        assert!(
            errs[0]
                .message()
                .ends_with("failed to allocate IP 10.96.0.10: provided IP is already allocated"),
            "{}",
            errs[0].message()
        );
    }
}
