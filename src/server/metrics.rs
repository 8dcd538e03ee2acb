//! `metrics.k8s.io/v1beta1` as metrics-server serves it, computed from the
//! simulator's numbers: each running container's usage as its kubelet
//! reports it (the CPU its process keeps busy, throttled to its limit; the
//! memory its workload uses, else what it requests or a small baseline) and
//! each node's system overhead plus its pods.

use super::kubelet_api::ContainerUse;
use super::read::Filter;
use super::{Ctx, response};
use crate::api::meta;
use crate::api::quantity::Quantity;
use crate::api::status::{GroupResource, Status};
use crate::sim::clock::format_time;
use crate::store::ResKey;
use axum::body::Body;
use axum::http::Response;
use serde_json::{Value, json};
use std::sync::Arc;

const PODS: ResKey = ResKey {
    group: "",
    resource: "pods",
};
const NODES: ResKey = ResKey {
    group: "",
    resource: "nodes",
};
/// metrics-server's default resolution.
const WINDOW: &str = "15.084s";

/// (cpu in millicores, memory in bytes) a container uses when its kubelet
/// has no figure.
fn container_usage(c: &Value) -> (i64, i64) {
    let req = |r: &str| {
        c.pointer(&format!("/resources/requests/{r}"))
            .and_then(Value::as_str)
            .and_then(|q| Quantity::parse(q).ok())
    };
    let cpu = req("cpu").map_or(1, |q| q.milli_value().max(1));
    let mem = req("memory").map_or(4 * 1024 * 1024, |q| q.value().max(1));
    (cpu, mem)
}

fn running(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
}

fn cpu_string(milli: i64) -> String {
    format!("{}n", milli * 1_000_000)
}

fn mem_string(bytes: i64) -> String {
    format!("{}Ki", bytes / 1024)
}

/// What each running container of a pod uses, from its kubelet.
type Usage = Vec<ContainerUse>;

fn kubelet_usage(ctx: &Ctx<'_>, pod: &Value) -> Usage {
    match ctx.server.kubelet.get() {
        Some(k) => k.usage(meta::namespace(pod), meta::name(pod)),
        None => Vec::new(),
    }
}

/// A container's usage: the kubelet's figures where it has them.
fn usage_of(c: &Value, usage: &Usage) -> (i64, i64) {
    let (cpu, mem) = container_usage(c);
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    let Some(u) = usage.iter().find(|u| u.name == name) else {
        return (cpu, mem);
    };
    let cpu = i64::try_from(u.cpu_millis).unwrap_or(i64::MAX).max(1);
    let mem = u
        .memory
        .map_or(mem, |b| i64::try_from(b).unwrap_or(i64::MAX).max(1));
    (cpu, mem)
}

fn pod_metrics(pod: &Value, now: &str, usage: &Usage) -> Value {
    let containers: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let (cpu, mem) = usage_of(c, usage);
            json!({"name": c.get("name").cloned().unwrap_or(Value::Null), "usage": {"cpu": cpu_string(cpu), "memory": mem_string(mem)}})
        })
        .collect();
    json!({
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta::name(pod),
            "namespace": meta::namespace(pod),
            "creationTimestamp": now,
            "labels": pod.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({})),
        },
        "timestamp": now,
        "window": WINDOW,
        "containers": containers,
    })
}

fn node_metrics(ctx: &Ctx<'_>, node: &Value, pods: &[Arc<Value>], now: &str) -> Value {
    let name = meta::name(node);
    let control_plane = node
        .pointer("/metadata/labels/node-role.kubernetes.io~1control-plane")
        .is_some();
    // System daemons (kubelet, containerd), busier on the control plane,
    // whose components themselves run as its static pods.
    let (mut cpu, mut mem) = if control_plane {
        (100, 340 * 1024 * 1024)
    } else {
        (25, 180 * 1024 * 1024)
    };
    for pod in pods
        .iter()
        .filter(|p| running(p) && p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(name))
    {
        let usage = kubelet_usage(ctx, pod);
        for c in pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (c_cpu, c_mem) = usage_of(c, &usage);
            cpu += c_cpu;
            mem += c_mem;
        }
    }
    json!({
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": name,
            "creationTimestamp": now,
            "labels": node.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({})),
        },
        "timestamp": now,
        "window": WINDOW,
        "usage": {"cpu": cpu_string(cpu), "memory": mem_string(mem)},
    })
}

/// GET/LIST of `nodes` or `pods` in metrics.k8s.io.
pub fn serve(ctx: &Ctx<'_>) -> Response<Body> {
    let store = &ctx.server.registry.store;
    let now = format_time(ctx.server.registry.clock.now());
    let filter = match Filter::from_query(ctx) {
        Ok(f) => f,
        Err(s) => return response::status(&s),
    };
    let (pods, _) = store.list(PODS, None);
    let items: Vec<Value> = match ctx.info.plural {
        "nodes" => store
            .list(NODES, None)
            .0
            .iter()
            .filter(|n| filter.matches(n))
            .map(|n| node_metrics(ctx, n, &pods, &now))
            .collect(),
        _ => pods
            .iter()
            .filter(|p| running(p) && filter.matches(p))
            .map(|p| pod_metrics(p, &now, &kubelet_usage(ctx, p)))
            .collect(),
    };
    let kind = if ctx.info.plural == "nodes" {
        "NodeMetrics"
    } else {
        "PodMetrics"
    };
    if ctx.req.verb == "get" {
        return match items.into_iter().find(|i| meta::name(i) == ctx.req.name) {
            Some(i) => response::json(200, &i, &[]),
            None => response::status(&Status::not_found(
                GroupResource {
                    group: "metrics.k8s.io",
                    resource: ctx.info.plural,
                },
                &ctx.req.name,
            )),
        };
    }
    response::json(
        200,
        &json!({"kind": format!("{kind}List"), "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
        &[],
    )
}
