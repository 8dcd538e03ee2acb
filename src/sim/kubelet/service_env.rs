//! Service-link environment variables (`pkg/kubelet/envvars`): for each
//! Service with a ClusterIP that a pod may see, `<NAME>_SERVICE_HOST`,
//! `<NAME>_SERVICE_PORT[_<PORT NAME>]` and the Docker-link variables
//! (`<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`).
//!
//! A pod sees the `kubernetes` Service of `default` always, and the
//! Services of its own namespace when `enableServiceLinks` is true (the
//! default), as `getServiceEnvVarMap` chooses them.

use crate::api::pointer::Pointer;
use serde_json::Value;
use std::collections::BTreeMap;

/// `makeEnvVariableName`: upper case, `-` → `_`.
fn var_name(s: &str) -> String {
    s.replace('-', "_").to_uppercase()
}

/// `v1helper.IsServiceIPSet`: a ClusterIP that is neither empty nor `None`.
fn cluster_ip(svc: &Value) -> Option<&str> {
    svc.get_in(&["spec", "clusterIP"])
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty() && *ip != "None")
}

/// `host:port` as `net.JoinHostPort` writes it (IPv6 in brackets).
fn join_host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// `envvars.FromServices` for one Service.
fn from_service(svc: &Value, out: &mut Vec<(String, String)>) {
    let Some(ip) = cluster_ip(svc) else { return };
    let ports: Vec<&Value> = svc
        .get_in(&["spec", "ports"])
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let Some(first) = ports.first() else { return };
    let prefix = var_name(
        svc.get_in(&["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let port_of = |p: &Value| p.get("port").and_then(Value::as_i64).unwrap_or(0);
    out.push((format!("{prefix}_SERVICE_HOST"), ip.to_string()));
    let name = format!("{prefix}_SERVICE_PORT");
    out.push((name.clone(), port_of(first).to_string()));
    for p in &ports {
        if let Some(pn) = p
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            out.push((format!("{name}_{}", var_name(pn)), port_of(p).to_string()));
        }
    }
    for (i, p) in ports.iter().enumerate() {
        let port = port_of(p);
        let proto = p
            .get("protocol")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("TCP");
        let url = format!("{}://{}", proto.to_lowercase(), join_host_port(ip, port));
        if i == 0 {
            out.push((format!("{prefix}_PORT"), url.clone()));
        }
        let pp = format!("{prefix}_PORT_{port}_{}", proto.to_uppercase());
        out.push((format!("{pp}_PROTO"), proto.to_lowercase()));
        out.push((format!("{pp}_PORT"), port.to_string()));
        out.push((format!("{pp}_ADDR"), ip.to_string()));
        out.push((pp, url));
    }
}

/// The service variables a pod in `namespace` gets, sorted by name.
/// `default_services` are the Services of `default` (for `kubernetes`),
/// `own` those of the pod's namespace.
pub fn service_env<'a>(
    namespace: &str,
    enable_service_links: bool,
    default_services: impl IntoIterator<Item = &'a Value>,
    own: impl IntoIterator<Item = &'a Value>,
) -> Vec<(String, String)> {
    let mut chosen: BTreeMap<String, &Value> = BTreeMap::new();
    for svc in default_services {
        let name = svc
            .get_in(&["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or("");
        if name == "kubernetes" && cluster_ip(svc).is_some() {
            chosen.insert(name.to_string(), svc);
        }
    }
    if enable_service_links {
        for svc in own {
            let name = svc
                .get_in(&["metadata", "name"])
                .and_then(Value::as_str)
                .unwrap_or("");
            let ns = svc
                .get_in(&["metadata", "namespace"])
                .and_then(Value::as_str)
                .unwrap_or("");
            if cluster_ip(svc).is_some() && ns == namespace {
                // The master service of `default` stays the one seen.
                if namespace == "default" && name == "kubernetes" {
                    continue;
                }
                chosen.insert(name.to_string(), svc);
            }
        }
    }
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for svc in chosen.values() {
        let mut out = Vec::new();
        from_service(svc, &mut out);
        vars.extend(out);
    }
    vars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(ns: &str, name: &str, ip: &str, ports: Value) -> Value {
        json!({"metadata": {"namespace": ns, "name": name}, "spec": {"clusterIP": ip, "ports": ports}})
    }

    fn get<'a>(vars: &'a [(String, String)], k: &str) -> Option<&'a str> {
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn kubernetes_service_gives_the_well_known_variables() {
        let k = svc(
            "default",
            "kubernetes",
            "10.96.0.1",
            json!([{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]),
        );
        let vars = service_env("team", true, [&k], []);
        let want = [
            ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
            ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"),
            ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
            ("KUBERNETES_PORT_443_TCP_PORT", "443"),
            ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
            ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
        ];
        let got: Vec<(&str, &str)> = vars.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn own_namespace_services_follow_enable_service_links() {
        let k = svc("default", "kubernetes", "10.96.0.1", json!([{"port": 443}]));
        let web = svc(
            "team",
            "web-api",
            "10.96.4.7",
            json!([{"port": 80}, {"name": "metrics", "port": 9090, "protocol": "UDP"}]),
        );
        let headless = svc("team", "db", "None", json!([{"port": 5432}]));
        let other = svc("elsewhere", "cache", "10.96.9.9", json!([{"port": 6379}]));
        let vars = service_env("team", true, [&k], [&web, &headless, &other]);
        assert_eq!(get(&vars, "WEB_API_SERVICE_HOST"), Some("10.96.4.7"));
        assert_eq!(get(&vars, "WEB_API_SERVICE_PORT"), Some("80"));
        assert_eq!(get(&vars, "WEB_API_SERVICE_PORT_METRICS"), Some("9090"));
        assert_eq!(
            get(&vars, "WEB_API_PORT_9090_UDP"),
            Some("udp://10.96.4.7:9090")
        );
        assert_eq!(get(&vars, "DB_SERVICE_HOST"), None);
        assert_eq!(get(&vars, "CACHE_SERVICE_HOST"), None);
        let off = service_env("team", false, [&k], [&web]);
        assert_eq!(get(&off, "WEB_API_SERVICE_HOST"), None);
        assert_eq!(get(&off, "KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
    }
}
