//! The pod `status` the kubelet writes: phase (`getPhase`), conditions
//! (PodReadyToStartContainers, Initialized, Ready, ContainersReady,
//! PodScheduled), container statuses, IPs, start time and QoS class.

use super::containers::{CState, ContainerMemory};
use super::spec::{CSpec, PodSpec};
use super::{PodInput, PodMemory};
use crate::api::object::{object, text};
use crate::api::pointer::Pointer;
use crate::sim::clock::format_time;
use crate::sim::rng::Rng;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The next free pod IP of the node's `cidr` (a /24: hosts .2 to .254),
/// round-robin as host-local IPAM hands them out: the search starts after
/// the host last given out (`last_host`, 0 before the first), so an IP
/// freed by a deleted pod is not handed out again at once.
pub fn allocate_ip(cidr: &str, used: &BTreeSet<String>, last_host: u8, rng: &Rng) -> String {
    let base = cidr.split('/').next().unwrap_or("");
    let octets: Vec<u8> = base.split('.').filter_map(|o| o.parse().ok()).collect();
    if octets.len() != 4 {
        return format!("10.244.0.{}", 2 + rng.below(250));
    }
    // One buffer for every candidate: the prefix stays, the host changes.
    let mut ip = format!("{}.{}.{}.", octets[0], octets[1], octets[2]);
    let prefix = ip.len();
    let start = last_host.saturating_add(1).clamp(2, 255);
    for host in (start..255).chain(2..start) {
        ip.truncate(prefix);
        let _ = write!(ip, "{host}");
        if !used.contains(ip.as_str()) {
            return ip;
        }
    }
    format!(
        "{}.{}.{}.{}",
        octets[0],
        octets[1],
        octets[2],
        2 + rng.below(250)
    )
}

/// The host (last) octet of an IPv4 address, 0 when it has none.
pub fn host_octet(ip: &str) -> u8 {
    ip.rsplit('.')
        .next()
        .and_then(|h| h.parse().ok())
        .unwrap_or(0)
}

fn ready_containers(pod: &PodSpec, mem: &PodMemory) -> Vec<String> {
    // Regular containers and sidecars count towards ContainersReady.
    pod.init
        .iter()
        .filter(|c| c.sidecar)
        .chain(pod.containers.iter())
        .filter(|c| {
            !mem.containers
                .get(&c.name)
                .is_some_and(|m| m.running() && m.ready)
        })
        .map(|c| c.name.clone())
        .collect()
}

fn incomplete_inits(pod: &PodSpec, mem: &PodMemory) -> Vec<String> {
    pod.init
        .iter()
        .filter(|c| {
            let m = mem.containers.get(&c.name);
            if c.sidecar {
                !m.is_some_and(|m| m.running() && m.started)
            } else {
                !m.is_some_and(|c| c.succeeded())
            }
        })
        .map(|c| c.name.clone())
        .collect()
}

/// `getPhase`.
pub fn phase(pod: &PodSpec, mem: &PodMemory) -> &'static str {
    let init_failed = pod.init.iter().any(|c| !c.sidecar && matches!(mem.containers.get(&c.name).map(|m| &m.state), Some(CState::Terminated(t)) if t.exit_code != 0));
    if init_failed && pod.restart_policy == "Never" {
        return "Failed";
    }
    if !incomplete_inits(pod, mem).is_empty() {
        return "Pending";
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in pod.containers.iter() {
        match mem.containers.get(&c.name) {
            None => waiting += 1,
            Some(m) => match &m.state {
                CState::Running { .. } => running += 1,
                CState::Terminated(t) => {
                    stopped += 1;
                    if t.exit_code == 0 {
                        succeeded += 1;
                    }
                }
                _ if m.last.is_some() => stopped += 1,
                _ => waiting += 1,
            },
        }
    }
    if waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped > 0 {
        if pod.restart_policy == "Always" {
            return "Running";
        }
        if stopped == succeeded {
            return "Succeeded";
        }
        if pod.restart_policy == "Never" {
            return "Failed";
        }
        return "Running";
    }
    "Pending"
}

/// Records condition transitions (for `lastTransitionTime`).
pub fn track_conditions(pod: &PodSpec, mem: &mut PodMemory, now: Timestamp) {
    let ph = phase(pod, mem);
    let done = ph == "Succeeded" || ph == "Failed";
    let vals = [
        (
            "PodReadyToStartContainers",
            mem.sandbox_at.is_some() && !done,
        ),
        ("Initialized", incomplete_inits(pod, mem).is_empty()),
        (
            "ContainersReady",
            !done && ready_containers(pod, mem).is_empty(),
        ),
        ("Ready", !done && ready_containers(pod, mem).is_empty()),
    ];
    for (ty, v) in vals {
        match mem.conditions.get(ty) {
            Some((old, _)) if old == v => {}
            _ => {
                mem.conditions.insert(ty, (v, now));
            }
        }
    }
}

fn state_json(st: &CState, c: &CSpec, pod: &PodSpec, mem: &PodMemory) -> Value {
    let init_pending = !c.init && !incomplete_inits(pod, mem).is_empty();
    let default_reason = if c.init || init_pending {
        "PodInitializing"
    } else {
        "ContainerCreating"
    };
    match st {
        CState::New | CState::Pulling { shown: None, .. } => {
            one("waiting", one("reason", text(default_reason)))
        }
        CState::Pulling {
            shown: Some((reason, message)),
            ..
        }
        | CState::Waiting { reason, message } => one(
            "waiting",
            object([
                ("message", message.as_deref().map(text)),
                ("reason", Some(text(reason))),
            ]),
        ),
        CState::Running { started, .. } => one(
            "running",
            one("startedAt", Value::String(format_time(*started))),
        ),
        CState::Terminated(t) => one("terminated", terminated_json(t)),
    }
}

/// `{key: v}`, taking `v` by move (`json!` copies an interpolated `Value`
/// through the serializer).
fn one(key: &str, v: Value) -> Value {
    object([(key, Some(v))])
}

fn terminated_json(t: &super::containers::Terminated) -> Value {
    object([
        ("containerID", Some(text(&t.container_id))),
        ("exitCode", Some(Value::from(t.exit_code))),
        (
            "finishedAt",
            Some(Value::String(format_time(t.finished_at))),
        ),
        ("message", t.message.as_deref().map(text)),
        ("reason", Some(text(&t.reason))),
        (
            "startedAt",
            Some(Value::String(format_time(
                t.started_at.unwrap_or(Timestamp::UNIX_EPOCH),
            ))),
        ),
    ])
}

fn container_status(c: &CSpec, pod: &PodSpec, mem: &PodMemory) -> Value {
    let default = ContainerMemory::default();
    let m = mem.containers.get(&c.name).unwrap_or(&default);
    let (image, image_id) = match (
        &m.image,
        m.running() || matches!(m.state, CState::Terminated(_)) || m.last.is_some(),
    ) {
        (Some(i), true) => (i.name.clone(), i.image_id.clone()),
        _ => (c.image.clone(), String::new()),
    };
    let container_id = match &m.state {
        CState::Running { id, .. } => Some(id.clone()),
        CState::Terminated(t) => Some(t.container_id.clone()),
        _ => m.last.as_ref().map(|t| t.container_id.clone()),
    };
    let mounts: Vec<Value> = c
        .raw
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|vm| {
                    let field = |k: &str| Some(vm.get(k).cloned().unwrap_or(Value::Null));
                    let read_only = vm.get("readOnly").and_then(Value::as_bool) == Some(true);
                    object([
                        ("mountPath", field("mountPath")),
                        ("name", field("name")),
                        ("readOnly", read_only.then_some(Value::Bool(true))),
                        ("recursiveReadOnly", read_only.then(|| text("Disabled"))),
                    ])
                })
                .collect()
        })
        .unwrap_or_default();
    object([
        ("containerID", container_id.map(Value::String)),
        ("image", Some(Value::String(image))),
        ("imageID", Some(Value::String(image_id))),
        (
            "lastState",
            Some(match &m.last {
                Some(t) => one("terminated", terminated_json(t)),
                None => object([]),
            }),
        ),
        ("name", Some(text(&c.name))),
        ("ready", Some(Value::Bool(m.running() && m.ready))),
        ("restartCount", Some(Value::from(m.restart_count))),
        ("started", Some(Value::Bool(m.running() && m.started))),
        ("state", Some(state_json(&m.state, c, pod, mem))),
        (
            "volumeMounts",
            (!mounts.is_empty()).then_some(Value::Array(mounts)),
        ),
    ])
}

/// The pod's `status`.
pub fn pod_status(pod: &PodSpec, input: &PodInput<'_>, mem: &PodMemory, now: Timestamp) -> Value {
    let ph = phase(pod, mem);
    let done = ph == "Succeeded" || ph == "Failed";
    // The message is written only where the condition is explained (not
    // true, or the pod is done), so it is only then made.
    let cond = |ty: &str, reason: Option<&str>, message: &dyn Fn() -> Option<String>| {
        let (v, at) = mem.conditions.get(ty).unwrap_or((false, now));
        let explained = !v || done;
        object([
            ("lastProbeTime", Some(Value::Null)),
            ("lastTransitionTime", Some(Value::String(format_time(at)))),
            (
                "message",
                explained.then(message).flatten().map(Value::String),
            ),
            ("reason", reason.filter(|_| explained).map(text)),
            ("status", Some(text(if v { "True" } else { "False" }))),
            ("type", Some(text(ty))),
        ])
    };
    let list = |v: &[String]| format!("[{}]", v.join(" "));
    let ready_reason = Some(if done {
        "PodCompleted"
    } else {
        "ContainersNotReady"
    });
    let ready_msg = || {
        (!done).then(|| {
            format!(
                "containers with unready status: {}",
                list(&ready_containers(pod, mem))
            )
        })
    };
    let mut conditions = vec![
        cond("PodReadyToStartContainers", None, &|| None),
        cond(
            "Initialized",
            if done {
                Some("PodCompleted")
            } else {
                Some("ContainersNotInitialized")
            },
            &|| {
                (!done).then(|| {
                    format!(
                        "containers with incomplete status: {}",
                        list(&incomplete_inits(pod, mem))
                    )
                })
            },
        ),
        cond("Ready", ready_reason, &ready_msg),
        cond("ContainersReady", ready_reason, &ready_msg),
    ];
    if let Some(Value::Array(old)) = input.pod.get_in(&["status", "conditions"]) {
        for c in old {
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
            if ![
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
            ]
            .contains(&ty)
            {
                conditions.push(c.clone());
            }
        }
    }
    let start = Value::String(format_time(mem.start_time.unwrap_or(now)));
    if !conditions.iter().any(|c| c["type"] == "PodScheduled") {
        conditions.push(object([
            ("lastProbeTime", Some(Value::Null)),
            ("lastTransitionTime", Some(start.clone())),
            ("status", Some(text("True"))),
            ("type", Some(text("PodScheduled"))),
        ]));
    }
    let statuses =
        |cs: &[CSpec]| -> Value { cs.iter().map(|c| container_status(c, pod, mem)).collect() };
    let ips = |ip: &str| Value::Array(vec![one("ip", text(ip))]);
    object([
        ("conditions", Some(Value::Array(conditions))),
        ("containerStatuses", Some(statuses(&pod.containers))),
        ("hostIP", Some(text(&input.node.host_ip))),
        ("hostIPs", Some(ips(&input.node.host_ip))),
        (
            "initContainerStatuses",
            (!pod.init.is_empty()).then(|| statuses(&pod.init)),
        ),
        ("phase", Some(text(ph))),
        ("podIP", mem.pod_ip.as_deref().map(text)),
        ("podIPs", mem.pod_ip.as_deref().map(ips)),
        ("qosClass", Some(text(crate::api::qos::of_pod(input.pod)))),
        ("startTime", Some(start)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_ips_go_round_robin_after_the_last_one_handed_out() {
        let used: BTreeSet<String> = ["10.244.1.2", "10.244.1.4", "10.244.1.254"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cases = [
            // The next host after the last one, skipping those in use.
            (2, "10.244.1.3"),
            (3, "10.244.1.5"),
            (9, "10.244.1.10"),
            // An IP freed below the last one waits for the wrap-around.
            (200, "10.244.1.201"),
            // .254 is the last host; the search wraps to .2 (in use), .3.
            (253, "10.244.1.3"),
            (254, "10.244.1.3"),
            (255, "10.244.1.3"),
        ];
        for (last, want) in cases {
            assert_eq!(
                allocate_ip("10.244.1.0/24", &used, last, &Rng::new(1)),
                want,
                "after .{last}"
            );
        }
        assert_eq!(host_octet("10.244.1.37"), 37);
        assert_eq!(host_octet("10.244.1.x"), 0);
        assert_eq!(host_octet(""), 0);
    }

    #[test]
    fn pod_ips_are_the_first_free_host_of_the_node_cidr() {
        let set = |ips: &[&str]| ips.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let cases: [(&str, BTreeSet<String>, &str); 5] = [
            ("10.244.1.0/24", set(&[]), "10.244.1.2"),
            (
                "10.244.1.0/24",
                set(&["10.244.1.2", "10.244.1.3", "10.244.1.5"]),
                "10.244.1.4",
            ),
            // Only the exact text counts as taken.
            (
                "10.244.1.0/24",
                set(&["10.244.1.02", "10.244.10.2"]),
                "10.244.1.2",
            ),
            ("10.244.3.0/24", set(&["10.244.1.2"]), "10.244.3.2"),
            (
                "10.244.2.0/24",
                (2..=99).map(|h| format!("10.244.2.{h}")).collect(),
                "10.244.2.100",
            ),
        ];
        for (cidr, used, want) in cases {
            assert_eq!(
                allocate_ip(cidr, &used, 0, &Rng::new(1)),
                want,
                "{cidr} {used:?}"
            );
        }
        // A full range falls back to a random host, as does a bad CIDR.
        let full: BTreeSet<String> = (2..255).map(|h| format!("10.244.1.{h}")).collect();
        let ip = allocate_ip("10.244.1.0/24", &full, 0, &Rng::new(1));
        assert!(ip.starts_with("10.244.1."), "{ip}");
        let ip = allocate_ip("garbage", &full, 0, &Rng::new(1));
        assert!(ip.starts_with("10.244.0."), "{ip}");
    }
}
