//! Built-in rubric checks. Each reads objects through the host API and
//! hands them to a pure judge that says pass or fail and what it saw.

use crate::scenario::model::Check;
use crate::script::host::{Host, HostError};
use crate::script::probe::{DnsProbe, HttpProbe, ProbeOptions};
use jiff::Timestamp;
use serde_json::Value;

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub pass: bool,
    /// What the check saw: why it failed, or the evidence it passed.
    pub seen: String,
}

impl Verdict {
    pub fn pass(seen: impl Into<String>) -> Self {
        Self {
            pass: true,
            seen: seen.into(),
        }
    }
    pub fn fail(seen: impl Into<String>) -> Self {
        Self {
            pass: false,
            seen: seen.into(),
        }
    }
}

/// Runs a built-in check (not `rhai`, which the grader runs itself).
pub async fn evaluate(
    host: &Host,
    check: &Check,
    since: Option<Timestamp>,
) -> Result<Verdict, HostError> {
    Ok(match check {
        Check::DeploymentAvailable { name, namespace } => {
            let t = format!("deployment/{name}");
            match host.get(&t, namespace.as_deref()).await? {
                None => Verdict::fail(format!("{t} does not exist")),
                Some(d) => deployment_available(&d),
            }
        }
        Check::PodsReady {
            selector,
            namespace,
            max_restarts,
            min_pods,
        } => {
            let pods = host
                .list("pods", namespace.as_deref(), Some(selector), None)
                .await?;
            pods_ready(&pods, selector, *max_restarts, *min_pods)
        }
        Check::ServiceEndpoints { name, namespace } => {
            let t = format!("service/{name}");
            match host.get(&t, namespace.as_deref()).await? {
                None => Verdict::fail(format!("{t} does not exist")),
                Some(svc) => {
                    let sel = format!("kubernetes.io/service-name={name}");
                    let slices = host
                        .list(
                            "endpointslices.discovery.k8s.io",
                            namespace.as_deref(),
                            Some(&sel),
                            None,
                        )
                        .await?;
                    service_endpoints(&svc, &slices)
                }
            }
        }
        Check::FieldEquals {
            target,
            namespace,
            path,
            value,
        } => match host.get(target, namespace.as_deref()).await? {
            None => Verdict::fail(format!("{target} does not exist")),
            Some(o) => field_equals(&o, path, value),
        },
        Check::Exists {
            target,
            namespace,
            selector,
        } => {
            let n = count(host, target, namespace.as_deref(), selector.as_deref()).await?;
            if n > 0 {
                Verdict::pass(describe_count(target, selector.as_deref(), n))
            } else {
                Verdict::fail(describe_count(target, selector.as_deref(), n))
            }
        }
        Check::Absent {
            target,
            namespace,
            selector,
        } => {
            let n = count(host, target, namespace.as_deref(), selector.as_deref()).await?;
            if n == 0 {
                Verdict::pass(describe_count(target, selector.as_deref(), n))
            } else {
                Verdict::fail(describe_count(target, selector.as_deref(), n))
            }
        }
        Check::CanI {
            user,
            verb,
            resource,
            group,
            namespace,
            expect,
        } => {
            let allowed = host
                .can_i(user, verb, resource, group, namespace.as_deref())
                .await?;
            let seen = format!(
                "{user} {} {verb} {resource}",
                if allowed { "can" } else { "cannot" }
            );
            Verdict {
                pass: allowed == *expect,
                seen,
            }
        }
        Check::EventAbsentSince {
            reason,
            involved,
            namespace,
        } => {
            let events = host
                .events(namespace.as_deref(), involved.as_deref(), Some(reason))
                .await?;
            events_absent_since(&events, reason, since)
        }
        Check::HttpGet {
            url,
            status,
            body_contains,
            host: host_header,
            namespace,
        } => {
            let opts = ProbeOptions {
                namespace: namespace.clone(),
                host: host_header.clone(),
                ..ProbeOptions::default()
            };
            let p = host.http_probe(url, &opts).await?;
            let shown = match host_header {
                Some(h) => format!("{url} (Host: {h})"),
                None => url.clone(),
            };
            http_get(&shown, &p, *status, body_contains.as_deref())
        }
        Check::DnsResolves { name, namespace } => {
            let opts = ProbeOptions {
                namespace: namespace.clone(),
                ..ProbeOptions::default()
            };
            dns_resolves(name, &host.dns_probe(name, &opts).await?)
        }
        Check::Rhai { .. } => Verdict::fail("a rhai check runs in the script engine"),
    })
}

async fn count(
    host: &Host,
    target: &str,
    ns: Option<&str>,
    selector: Option<&str>,
) -> Result<usize, HostError> {
    match selector {
        Some(sel) => Ok(host.list(target, ns, Some(sel), None).await?.len()),
        None => Ok(usize::from(host.get(target, ns).await?.is_some())),
    }
}

fn describe_count(target: &str, selector: Option<&str>, n: usize) -> String {
    match selector {
        Some(sel) => format!("{n} {target} match {sel}"),
        None if n > 0 => format!("{target} exists"),
        None => format!("{target} does not exist"),
    }
}

fn condition<'a>(obj: &'a Value, ty: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)
}

fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// Available=True, and every desired replica updated and available.
pub fn deployment_available(d: &Value) -> Verdict {
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let available = int(d, "/status/availableReplicas");
    let updated = int(d, "/status/updatedReplicas");
    let cond = condition(d, "Available");
    let cond_text = match cond {
        Some(c) => format!(
            "Available={}{}",
            c["status"].as_str().unwrap_or("Unknown"),
            c["reason"]
                .as_str()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        None => "no Available condition".to_string(),
    };
    let seen = format!("{cond_text}, {available}/{desired} replicas available, {updated} updated");
    let ok =
        cond.is_some_and(|c| c["status"] == "True") && available >= desired && updated >= desired;
    Verdict { pass: ok, seen }
}

/// Why a container is not running, as kubectl shows it.
fn waiting_reason(pod: &Value) -> Option<String> {
    pod.pointer("/status/containerStatuses")?
        .as_array()?
        .iter()
        .find_map(|c| {
            c.pointer("/state/waiting/reason")
                .or_else(|| c.pointer("/state/terminated/reason"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// Every live pod Ready, with at most `max_restarts` restarts each.
pub fn pods_ready(pods: &[Value], selector: &str, max_restarts: u32, min_pods: u32) -> Verdict {
    let live: Vec<&Value> = pods
        .iter()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .collect();
    if live.len() < min_pods as usize {
        return Verdict::fail(format!(
            "{} pods match {selector}, want at least {min_pods}",
            live.len()
        ));
    }
    let mut problems = Vec::new();
    for p in &live {
        let name = p
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let ready = condition(p, "Ready").is_some_and(|c| c["status"] == "True");
        let restarts: i64 = p
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0);
        if !ready {
            let why = waiting_reason(p)
                .or_else(|| {
                    p.pointer("/status/phase")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "no status".into());
            problems.push(format!("pod {name} not Ready ({why}, {restarts} restarts)"));
        } else if restarts > i64::from(max_restarts) {
            problems.push(format!("pod {name} restarted {restarts} times"));
        }
    }
    if problems.is_empty() {
        Verdict::pass(format!("{} pods Ready", live.len()))
    } else {
        Verdict::fail(problems.join("; "))
    }
}

/// At least one endpoint that is ready (a missing `ready` counts as ready,
/// as EndpointConditions documents).
pub fn service_endpoints(svc: &Value, slices: &[Value]) -> Verdict {
    let name = svc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let ready = slices
        .iter()
        .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
        .filter(|e| e.pointer("/conditions/ready") != Some(&Value::Bool(false)))
        .count();
    if ready > 0 {
        return Verdict::pass(format!("service/{name} has {ready} ready endpoints"));
    }
    let selector = svc
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .map(|m| {
            let mut kv: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            kv.sort();
            kv.join(",")
        })
        .unwrap_or_else(|| "none".into());
    Verdict::fail(format!(
        "service/{name} has no ready endpoints (selector {selector})"
    ))
}

/// One step of a field path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses `spec.containers[0].image` and `metadata.labels["app.kubernetes.io/name"]`.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut chars = path.trim_start_matches('.').chars().peekable();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                let inner = inner.trim();
                if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        steps.push(Step::Key(key));
    }
    Some(steps)
}

/// The value at a field path.
pub fn field_at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = obj;
    for s in parse_path(path)? {
        v = match s {
            Step::Key(k) => v.get(k.as_str())?,
            Step::Index(i) => v.get(i)?,
        };
    }
    Some(v)
}

pub fn field_equals(obj: &Value, path: &str, want: &Value) -> Verdict {
    let kind = obj["kind"]
        .as_str()
        .unwrap_or("object")
        .to_ascii_lowercase();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match field_at(obj, path) {
        None => Verdict::fail(format!("{kind}/{name} has no {path}")),
        Some(got) if got == want => Verdict::pass(format!("{path} is {got}")),
        Some(got) => Verdict::fail(format!("{path} is {got}, want {want}")),
    }
}

fn event_time(e: &Value) -> Option<Timestamp> {
    [
        "/lastTimestamp",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .filter_map(|p| e.pointer(p).and_then(Value::as_str))
    .find_map(|s| s.parse().ok())
}

/// No event with `reason` at or after `since` (all time when `None`).
pub fn events_absent_since(events: &[Value], reason: &str, since: Option<Timestamp>) -> Verdict {
    let recent: Vec<&Value> = events
        .iter()
        .filter(|e| e["reason"] == reason)
        .filter(|e| match (since, event_time(e)) {
            (Some(s), Some(t)) => t >= s,
            _ => true,
        })
        .collect();
    match recent.first() {
        None => Verdict::pass(format!("no {reason} events")),
        Some(e) => Verdict::fail(format!(
            "{} {reason} events, latest about {}/{}: {}",
            recent.len(),
            e.pointer("/involvedObject/kind")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_ascii_lowercase(),
            e.pointer("/involvedObject/name")
                .and_then(Value::as_str)
                .unwrap_or("?"),
            e["message"].as_str().unwrap_or_default()
        )),
    }
}

/// The first `n` characters of `s`, on one line.
fn excerpt(s: &str, n: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > n {
        format!("{}…", one.chars().take(n).collect::<String>())
    } else {
        one
    }
}

/// The answer has the wanted status, and the body holds `contains`.
/// busybox's wget exits 0 only on a 2xx answer, so a successful probe
/// without a status line (no `-S` headers) counts as a 2xx.
pub fn http_get(url: &str, p: &HttpProbe, want: u16, contains: Option<&str>) -> Verdict {
    let got = match (p.status, &p.error) {
        (Some(s), _) => format!("HTTP {s}"),
        (None, None) if p.ok => "HTTP 2xx".to_string(),
        (None, Some(e)) => e.clone(),
        (None, None) => "no answer".to_string(),
    };
    let status_ok = match p.status {
        Some(s) => s == want,
        None => p.ok && (200..300).contains(&want),
    };
    if !status_ok {
        return Verdict::fail(format!("GET {url}: {got}, want HTTP {want}"));
    }
    match contains {
        Some(c) if !p.body.contains(c) => Verdict::fail(format!(
            "GET {url}: {got}, body does not contain {c:?} (body: {:?})",
            excerpt(&p.body, 60)
        )),
        Some(c) => Verdict::pass(format!("GET {url}: {got}, body contains {c:?}")),
        None => Verdict::pass(format!("GET {url}: {got}")),
    }
}

/// The name resolved to at least one address.
pub fn dns_resolves(name: &str, p: &DnsProbe) -> Verdict {
    if p.ok {
        let fqdn = p
            .name
            .as_deref()
            .filter(|n| *n != name)
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        Verdict::pass(format!(
            "{name} resolves to {}{fqdn}",
            p.addresses.join(", ")
        ))
    } else {
        let why = p
            .error
            .clone()
            .unwrap_or_else(|| format!("no answer: {:?}", excerpt(&p.output, 80)));
        Verdict::fail(format!("{name} does not resolve: {why}"))
    }
}

#[cfg(test)]
mod tests;
