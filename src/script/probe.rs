//! HTTP and DNS probes from inside the cluster: a short-lived busybox pod
//! runs `wget -S -O- -T <timeout> [--header 'Host: <host>'] <url>` or
//! `nslookup <name>`, the host
//! waits for it to finish, reads its log (pod logs, not exec: kube-rs is
//! built without websockets), deletes it, and parses busybox's output.
//! Works the same on every backend: the simulator's busybox prints what
//! the real one does.

use super::host::{Host, HostError, Result};
use kube::api::{Api, DeleteParams};
use rhai::{Dynamic, Engine, EvalAltResult, Map};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The image probe pods run.
pub const PROBE_IMAGE: &str = "busybox:1.36";
/// Probe pods' generated names start with this.
pub const PROBE_PREFIX: &str = "kdrill-probe-";
/// The label every probe pod carries (value: `http` or `dns`).
pub const PROBE_LABEL: &str = "kdrill.io/probe";

/// How to run a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOptions {
    /// Where the probe pod runs (the scenario's namespace when `None`).
    pub namespace: Option<String>,
    /// `wget -T`: seconds before the download times out.
    pub timeout: u64,
    /// The `Host` header to send instead of the URL's host (an Ingress
    /// rule's host, through the controller's Service).
    pub host: Option<String>,
    /// How long to wait for the pod to finish (image pull included).
    pub deadline: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            namespace: None,
            timeout: 5,
            host: None,
            deadline: Duration::from_secs(90),
        }
    }
}

/// What `wget` saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct HttpProbe {
    /// wget exited 0 (a 2xx answer).
    pub ok: bool,
    /// The last status line (`-S` headers or the error line), if any.
    pub status: Option<u16>,
    /// What wget wrote to stdout.
    pub body: String,
    /// wget's error line (`wget: download timed out`).
    pub error: Option<String>,
    /// The address wget connected to.
    pub addresses: Vec<String>,
    /// The probe pod's whole log.
    pub output: String,
}

/// What `nslookup` saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DnsProbe {
    /// At least one address came back.
    pub ok: bool,
    /// The name the answer was for (`web.web.svc.cluster.local`).
    pub name: Option<String>,
    pub addresses: Vec<String>,
    /// `** server can't find ...` or `;; connection timed out; ...`.
    pub error: Option<String>,
    /// The probe pod's whole log.
    pub output: String,
}

/// A status line: `HTTP/1.1 404 Not Found` (maybe indented, as `-S`
/// prints headers).
fn status_of(line: &str) -> Option<u16> {
    let rest = line.trim().strip_prefix("HTTP/")?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// busybox's progress bar (`-   100% |****|  615  0:00:00 ETA`).
fn is_progress(line: &str) -> bool {
    line.contains("% |") && line.trim_end().ends_with("ETA")
}

/// Parses the log of `wget -S -O- <url>`; `exited_ok` is the pod's
/// Succeeded phase.
pub fn parse_wget(output: &str, exited_ok: bool) -> HttpProbe {
    let mut p = HttpProbe {
        ok: exited_ok,
        output: output.to_string(),
        ..HttpProbe::default()
    };
    // A progress update starts with `\r`; text before one is output.
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| !l.starts_with('\r'))
        .map(|l| l.split('\r').next().unwrap_or(l))
        .collect();
    let mut body = Vec::new();
    let mut in_body = false;
    let mut saw_marker = false;
    for line in &lines {
        if let Some(rest) = line.strip_prefix("Connecting to ") {
            // `Connecting to web (10.96.0.10:80)`
            if let Some(addr) = rest
                .rsplit_once('(')
                .and_then(|(_, a)| a.strip_suffix(')'))
                .and_then(|a| a.rsplit_once(':').map(|(ip, _)| ip))
            {
                p.addresses.push(addr.to_string());
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("wget: ") {
            if let Some(s) = rest
                .strip_prefix("server returned error: ")
                .and_then(status_of)
            {
                p.status = Some(s);
            }
            p.error = Some(line.trim().to_string());
            in_body = false;
            continue;
        }
        if *line == "writing to stdout" {
            in_body = true;
            saw_marker = true;
            continue;
        }
        if *line == "written to stdout" || is_progress(line) {
            in_body = false;
            continue;
        }
        if line.starts_with("  ") && !in_body {
            if let Some(s) = status_of(line) {
                p.status = Some(s);
            }
            continue;
        }
        if in_body || !saw_marker {
            body.push(*line);
        }
    }
    p.body = body.join("\n");
    p
}

/// Parses the log of `nslookup <name>`.
pub fn parse_nslookup(output: &str) -> DnsProbe {
    let mut p = DnsProbe {
        output: output.to_string(),
        ..DnsProbe::default()
    };
    let mut answer = false;
    for line in output.lines() {
        let line = line.trim_end();
        if let Some(n) = line.strip_prefix("Name:") {
            answer = true;
            if p.name.is_none() {
                p.name = Some(n.trim().to_string());
            }
        } else if let Some(a) = line.strip_prefix("Address:") {
            // Before any `Name:` it is the server (`Address:\t10.96.0.10:53`).
            let a = a.trim();
            if answer && !a.is_empty() && !p.addresses.iter().any(|x| x == a) {
                p.addresses.push(a.to_string());
            }
        } else if line.starts_with("** server can't find")
            || line.starts_with(";; connection timed out")
            || line.starts_with("nslookup: ")
        {
            if p.error.is_none() {
                p.error = Some(line.to_string());
            }
            answer = false;
        }
    }
    p.ok = !p.addresses.is_empty();
    p
}

/// The probe pod's command for an HTTP probe of `url`.
pub fn wget_command(url: &str, opts: &ProbeOptions) -> Vec<String> {
    let mut c: Vec<String> = ["wget", "-S", "-O-", "-T", &opts.timeout.to_string()]
        .map(str::to_string)
        .to_vec();
    if let Some(h) = opts.host.as_deref().filter(|h| !h.is_empty()) {
        c.push("--header".into());
        c.push(format!("Host: {h}"));
    }
    c.push(url.to_string());
    c
}

/// The probe pod for `command`.
pub fn probe_pod(kind: &str, namespace: &str, command: &[String]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": PROBE_PREFIX,
            "namespace": namespace,
            "labels": {PROBE_LABEL: kind},
        },
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": false,
            "containers": [{
                "name": "probe",
                "image": PROBE_IMAGE,
                "command": command,
            }],
        },
    })
}

/// Why a pod has not finished, for the deadline error.
fn pending_reason(pod: &Value) -> String {
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    let waiting = pod
        .pointer("/status/containerStatuses/0/state/waiting/reason")
        .and_then(Value::as_str);
    match waiting {
        Some(w) => format!("{phase}, {w}"),
        None => phase.to_string(),
    }
}

impl Host {
    /// Runs a probe pod to completion; returns its log and whether it
    /// Succeeded. The pod is deleted however this ends.
    async fn run_probe(
        &self,
        kind: &str,
        command: Vec<String>,
        opts: &ProbeOptions,
    ) -> Result<(String, bool)> {
        let ns = opts
            .namespace
            .clone()
            .unwrap_or_else(|| self.namespace.clone());
        let created = self.create(&probe_pod(kind, &ns, &command)).await?;
        let name = created
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let out = self.finish_probe(&name, &ns, opts.deadline).await;
        let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(self.client.clone(), &ns);
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::background()
        };
        let _ = api.delete(&name, &dp).await;
        out
    }

    async fn finish_probe(
        &self,
        name: &str,
        ns: &str,
        deadline: Duration,
    ) -> Result<(String, bool)> {
        let target = format!("pod/{name}");
        let mut last = Value::Null;
        let wait = async {
            loop {
                if let Some(settle) = &self.settle {
                    settle();
                }
                if let Some(pod) = self.get(&target, Some(ns)).await? {
                    match pod.pointer("/status/phase").and_then(Value::as_str) {
                        Some("Succeeded") => return Ok::<bool, HostError>(true),
                        Some("Failed") => return Ok(false),
                        _ => last = pod,
                    }
                }
                tokio::time::sleep(self.poll).await;
            }
        };
        let succeeded = match tokio::time::timeout(deadline, wait).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(HostError(format!(
                    "probe pod {ns}/{name} did not finish within {}s ({})",
                    deadline.as_secs(),
                    pending_reason(&last)
                )));
            }
        };
        let log = self.logs(name, Some(ns), None, false).await?;
        Ok((log, succeeded))
    }

    /// `wget -S -O- -T <timeout> [--header 'Host: <host>'] <url>` from a
    /// probe pod.
    pub async fn http_probe(&self, url: &str, opts: &ProbeOptions) -> Result<HttpProbe> {
        let command = wget_command(url, opts);
        let (log, ok) = self.run_probe("http", command, opts).await?;
        Ok(parse_wget(&log, ok))
    }

    /// `nslookup <name>` from a probe pod.
    pub async fn dns_probe(&self, name: &str, opts: &ProbeOptions) -> Result<DnsProbe> {
        let command = vec!["nslookup".to_string(), name.to_string()];
        let (log, _) = self.run_probe("dns", command, opts).await?;
        Ok(parse_nslookup(&log))
    }
}

fn rt(msg: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        msg.into(),
        rhai::Position::NONE,
    ))
}

/// Reads `#{namespace, timeout, deadline, host}`.
fn options(m: &Map) -> ProbeOptions {
    let mut o = ProbeOptions::default();
    if let Some(ns) = m.get("namespace").filter(|v| !v.is_unit()) {
        o.namespace = Some(ns.to_string());
    }
    if let Some(t) = m.get("timeout").and_then(|v| v.as_int().ok()) {
        o.timeout = t.clamp(1, 3600) as u64;
    }
    if let Some(h) = m.get("host").filter(|v| !v.is_unit()) {
        o.host = Some(h.to_string());
    }
    if let Some(d) = m.get("deadline").and_then(|v| v.as_int().ok()) {
        o.deadline = Duration::from_secs(d.clamp(1, 3600) as u64);
    }
    o
}

fn opt_dyn<T: Into<Dynamic>>(v: Option<T>) -> Dynamic {
    v.map(Into::into).unwrap_or(Dynamic::UNIT)
}

fn addresses(a: &[String]) -> Dynamic {
    Dynamic::from_array(a.iter().cloned().map(Dynamic::from).collect())
}

/// The Rhai map of an HTTP probe.
pub fn http_map(p: &HttpProbe) -> Map {
    let mut m = Map::new();
    m.insert("ok".into(), p.ok.into());
    m.insert("status".into(), opt_dyn(p.status.map(i64::from)));
    m.insert("body".into(), p.body.clone().into());
    m.insert("error".into(), opt_dyn(p.error.clone()));
    m.insert("addresses".into(), addresses(&p.addresses));
    m.insert("output".into(), p.output.clone().into());
    m
}

/// The Rhai map of a DNS probe.
pub fn dns_map(p: &DnsProbe) -> Map {
    let mut m = Map::new();
    m.insert("ok".into(), p.ok.into());
    m.insert("name".into(), opt_dyn(p.name.clone()));
    m.insert("addresses".into(), addresses(&p.addresses));
    m.insert("error".into(), opt_dyn(p.error.clone()));
    m.insert("output".into(), p.output.clone().into());
    m
}

/// `http_probe(url[, opts])` and `dns_probe(name[, opts])` for Rhai.
pub fn register(engine: &mut Engine, host: Arc<Host>, handle: tokio::runtime::Handle) {
    let http = {
        let (h, c) = (host.clone(), handle.clone());
        move |url: &str, opts: Map| -> Result<Map, Box<EvalAltResult>> {
            let o = options(&opts);
            let p = c.block_on(h.http_probe(url, &o)).map_err(|e| rt(e.0))?;
            Ok(http_map(&p))
        }
    };
    let h2 = http.clone();
    engine.register_fn("http_probe", move |url: &str| h2(url, Map::new()));
    engine.register_fn("http_probe", http);

    let dns = {
        let (h, c) = (host, handle);
        move |name: &str, opts: Map| -> Result<Map, Box<EvalAltResult>> {
            let o = options(&opts);
            let p = c.block_on(h.dns_probe(name, &o)).map_err(|e| rt(e.0))?;
            Ok(dns_map(&p))
        }
    };
    let d2 = dns.clone();
    engine.register_fn("dns_probe", move |name: &str| d2(name, Map::new()));
    engine.register_fn("dns_probe", dns);
}

#[cfg(test)]
mod tests;
