//! networking.k8s.io and discovery.k8s.io rows: ingresses, ingress classes,
//! network policies, endpoint slices.
//!
//! Upstream truth: `printIngress`, `formatHosts`, `formatPorts`,
//! `ingressLoadBalancerStatusStringer`, `printIngressClass`, `printNetworkPolicy`,
//! `printEndpointSlice`, `formatDiscoveryPorts`, `formatDiscoveryEndpoints`,
//! `listWithMoreString` in `pkg/printers/internalversion/printers.go`.

use super::core::load_balancer_addresses;
use super::docs;
use super::duration::since;
use super::value::{arr_at, created, format_label_selector, get, name, opt_str, scalar, str_at};
use super::{AGE, ColumnDefinition, NAME, Row, col};
use jiff::Timestamp;
use serde_json::{Value, json};

pub(crate) static INGRESS_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

/// `formatHosts`: up to three rule hosts, "*" when none.
fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_string();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

pub(crate) fn ingress(ing: &Value, now: Timestamp) -> Row {
    let class = opt_str(ing, &["spec", "ingressClassName"]).unwrap_or("<none>");
    let ports = if arr_at(ing, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    Row::new(vec![
        json!(name(ing)),
        json!(class),
        json!(format_hosts(arr_at(ing, &["spec", "rules"]))),
        json!(load_balancer_addresses(arr_at(
            ing,
            &["status", "loadBalancer", "ingress"]
        ))),
        json!(ports),
        json!(since(created(ing), now)),
    ])
}

pub(crate) static INGRESSCLASS_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

pub(crate) fn ingressclass(ic: &Value, now: Timestamp) -> Row {
    let parameters = match get(ic, &["spec", "parameters"]).filter(|p| p.is_object()) {
        Some(p) => {
            let mut s = str_at(p, &["kind"]).to_string();
            if let Some(group) = opt_str(p, &["apiGroup"]) {
                s = format!("{s}.{group}");
            }
            format!("{s}/{}", str_at(p, &["name"]))
        }
        None => "<none>".to_string(),
    };
    Row::new(vec![
        json!(name(ic)),
        json!(str_at(ic, &["spec", "controller"])),
        json!(parameters),
        json!(since(created(ic), now)),
    ])
}

pub(crate) static NETWORKPOLICY_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Pod-Selector", "string", docs::NP_POD_SELECTOR),
    AGE,
];

pub(crate) fn networkpolicy(np: &Value, now: Timestamp) -> Row {
    // spec.podSelector is a struct, never nil: an absent one is the empty selector.
    let selector = get(np, &["spec", "podSelector"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    Row::new(vec![
        json!(name(np)),
        json!(format_label_selector(Some(&selector))),
        json!(since(created(np), now)),
    ])
}

pub(crate) static ENDPOINTSLICE_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("AddressType", "string", docs::EPS_ADDRESS_TYPE),
    col("Ports", "string", docs::EPS_PORTS),
    col("Endpoints", "string", docs::EPS_ENDPOINTS),
    AGE,
];

/// `listWithMoreString`: joined list, ` + N more...`, or "<unset>" when empty.
fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count - max);
    }
    if joined.is_empty() {
        "<unset>".to_string()
    } else {
        joined
    }
}

fn discovery_ports(ports: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list = Vec::new();
    let mut more = false;
    for p in ports {
        if list.len() < MAX {
            let text = match (
                get(p, &["port"]).filter(|v| !v.is_null()),
                opt_str(p, &["name"]),
            ) {
                (Some(port), _) => scalar(port),
                (None, Some(n)) => n.to_string(),
                (None, None) => "*".to_string(),
            };
            list.push(text);
        } else if list.len() == MAX {
            more = true;
        }
    }
    list_with_more(&list, more, ports.len(), MAX)
}

fn discovery_endpoints(endpoints: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ep in endpoints {
        for addr in arr_at(ep, &["addresses"]) {
            if list.len() < MAX {
                list.push(scalar(addr));
            } else if list.len() == MAX {
                more = true;
            }
            count += 1;
        }
    }
    list_with_more(&list, more, count, MAX)
}

pub(crate) fn endpointslice(eps: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(eps)),
        json!(str_at(eps, &["addressType"])),
        json!(discovery_ports(arr_at(eps, &["ports"]))),
        json!(discovery_endpoints(arr_at(eps, &["endpoints"]))),
        json!(since(created(eps), now)),
    ])
}
