//! What a container does, derived from its image, command, args, env, mounted
//! files and memory limit. Pure: no IO, no clock, no store.
//!
//! - `catalog`: which images and tags exist, their sizes and digests, and the
//!   containerd error a failed pull reports.
//! - `shell`: the small `sh -c` subset of busybox/alpine (and the Debian
//!   images' dash).
//! - `behaviour`: what the well-known images do (nginx, httpd, redis,
//!   postgres, mysql, pause, agnhost, coredns, a memory hog) and the
//!   behaviours a scenario declares for its own images.
//! - `kubectl`: in-cluster `kubectl` (the kubectl images, and `kubectl` in
//!   their shells) calling the API server as the pod's ServiceAccount.
//!
//! The result of `derive` is a [`Timeline`]: offsets are measured from the
//! container's start, so the kubelet can replay it at any virtual time.

pub mod behaviour;
pub mod catalog;
pub mod corefile;
pub mod curl;
pub mod kubectl;
pub mod shell;
pub mod tls;
pub mod wget;

use jiff::SignedDuration;
use std::collections::BTreeMap;

pub use behaviour::AppBehaviour;
pub use catalog::{Catalog, ImageInfo, ImageRef, PrivateRepo, PullError};

/// Most lines kept per container timeline (the kubelet rotates logs too).
pub const MAX_LOG_LINES: usize = 5_000;
/// Longest log line kept (longer lines are cut, as a 16 KiB CRI log chunk).
pub const MAX_LINE_LEN: usize = 16 * 1024;

/// The container as the runtime is asked to run it (env already resolved
/// from ConfigMaps and Secrets; `$(VAR)` not yet expanded).
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Resolved environment, in declaration order (later wins).
    pub env: Vec<(String, String)>,
    /// Files visible in the container from volumes (absolute path → content).
    pub files: BTreeMap<String, String>,
    /// Mount points (absolute paths), so `ls /etc/config` lists a mount.
    pub mounts: Vec<String>,
    pub memory_limit: Option<u64>,
    /// The pod's hostname (its name) and IP.
    pub hostname: String,
    pub pod_ip: String,
}

impl ContainerSpec {
    pub fn env_get(&self, k: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// One line of output at an offset from the container's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: SignedDuration,
    pub text: String,
}

/// Output that repeats forever (a `while true; do ...; sleep N; done`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    /// Offset of the first repetition.
    pub from: SignedDuration,
    pub period: SignedDuration,
    /// Lines with offsets relative to the start of each repetition.
    pub lines: Vec<LogLine>,
}

/// HTTP answers a served port gives, possibly depending on time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Http {
    pub routes: Vec<Route>,
    /// Status for paths no route matches (404 for most servers).
    pub default_status: u16,
}

/// One HTTP route. `prefix` routes match any path below them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub path: String,
    pub prefix: bool,
    pub status: u16,
    pub body: String,
    /// Active from/until these offsets (None: always).
    pub from: Option<SignedDuration>,
    pub until: Option<SignedDuration>,
}

impl Route {
    pub fn new(path: &str, status: u16, body: &str) -> Self {
        Self {
            path: path.into(),
            prefix: false,
            status,
            body: body.into(),
            from: None,
            until: None,
        }
    }
    pub fn prefix(mut self) -> Self {
        self.prefix = true;
        self
    }
}

impl Http {
    /// Status and body for `path` at `offset` after start.
    pub fn answer(&self, path: &str, offset: SignedDuration) -> (u16, String) {
        let path = path.split('?').next().unwrap_or("/");
        let path = if path.is_empty() { "/" } else { path };
        for r in &self.routes {
            let live = r.from.is_none_or(|f| offset >= f) && r.until.is_none_or(|u| offset < u);
            let matches = if r.prefix {
                path.starts_with(r.path.as_str())
            } else {
                path == r.path
            };
            if live && matches {
                return (r.status, r.body.clone());
            }
        }
        (self.default_status, String::new())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

/// A port the container listens on from `from` after start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub port: u16,
    pub protocol: Protocol,
    pub from: SignedDuration,
    pub http: Option<Http>,
    /// gRPC health service status (`SERVING`, `NOT_SERVING`), if it has one.
    pub grpc_health: Option<String>,
}

impl Port {
    pub fn tcp(port: u16, from: SignedDuration) -> Self {
        Self {
            port,
            protocol: Protocol::Tcp,
            from,
            http: None,
            grpc_health: None,
        }
    }
    pub fn http(port: u16, from: SignedDuration, http: Http) -> Self {
        Self {
            http: Some(http),
            ..Self::tcp(port, from)
        }
    }
}

/// A file created (`Some`) or removed (`None`) at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub at: SignedDuration,
    pub path: String,
    pub content: Option<String>,
}

/// How the container's life ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Runs until stopped.
    Runs,
    /// The process exits by itself.
    Exits { at: SignedDuration, code: i32 },
    /// The runtime cannot start the process (`StartError`, exit code 128).
    StartError { message: String },
}

/// What the process does on SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigterm {
    /// Exits with this code after this delay.
    Exits { after: SignedDuration, code: i32 },
    /// Ignores it (PID 1 shell without a trap): killed at the grace period.
    Ignores,
}

/// The shell dialect of an image, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellKind {
    /// busybox / alpine ash: `sh: foo: not found`.
    Ash,
    /// Debian dash: `/bin/sh: 1: foo: not found`.
    Dash,
    /// bash as /bin/sh: `/bin/sh: line 1: foo: command not found`.
    Bash,
}

/// Everything a container does over its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub logs: Vec<LogLine>,
    pub repeat: Option<Repeat>,
    pub ports: Vec<Port>,
    /// Memory in use from each offset on (bytes), in time order.
    pub memory: Vec<(SignedDuration, u64)>,
    /// CPU the process keeps busy while it runs, in millicores (before the
    /// container's CPU limit throttles it).
    pub cpu_millis: u64,
    pub files: Vec<FileChange>,
    pub end: End,
    pub sigterm: Sigterm,
    /// The shell available to `kubectl exec` and exec probes, if any.
    pub shell: Option<ShellKind>,
    /// Network calls the process made (for the network layer).
    pub net: Vec<(SignedDuration, NetRequest)>,
    /// Offsets of the calls the process makes to the API server before
    /// `repeat` starts, and within each repetition (from its start): the
    /// kubelet syncs at each one, so every answer is RBAC as it is then.
    pub api_at: Vec<SignedDuration>,
    pub api_repeat: Vec<SignedDuration>,
    /// The curl version when the image has `curl` (for `kubectl exec`).
    pub curl: Option<&'static str>,
    /// An event the process records about its node once it has started
    /// (kube-proxy's "birth cry").
    pub node_event: Option<NodeEvent>,
}

/// An event a process in a pod records about the node it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEvent {
    /// `source.component` (the reporting controller).
    pub component: &'static str,
    pub reason: &'static str,
    pub message: &'static str,
}

impl Timeline {
    pub fn runs() -> Self {
        Self {
            logs: Vec::new(),
            repeat: None,
            ports: Vec::new(),
            memory: Vec::new(),
            cpu_millis: 0,
            files: Vec::new(),
            end: End::Runs,
            sigterm: Sigterm::Exits {
                after: SignedDuration::ZERO,
                code: 0,
            },
            shell: None,
            net: Vec::new(),
            api_at: Vec::new(),
            api_repeat: Vec::new(),
            curl: None,
            node_event: None,
        }
    }

    pub fn exits(at: SignedDuration, code: i32) -> Self {
        Self {
            end: End::Exits { at, code },
            ..Self::runs()
        }
    }

    pub fn start_error(message: String) -> Self {
        Self {
            end: End::StartError { message },
            ..Self::runs()
        }
    }

    pub fn log(&mut self, at: SignedDuration, text: impl Into<String>) {
        if self.logs.len() < MAX_LOG_LINES {
            let mut text: String = text.into();
            if text.len() > MAX_LINE_LEN {
                let mut cut = MAX_LINE_LEN;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
            }
            self.logs.push(LogLine { at, text });
        }
    }

    /// Log lines printed in `[from, to)` (offsets), repeats included, at most `max`.
    pub fn lines_between(
        &self,
        from: SignedDuration,
        to: SignedDuration,
        max: usize,
    ) -> Vec<LogLine> {
        let mut out: Vec<LogLine> = self
            .logs
            .iter()
            .filter(|l| l.at >= from && l.at < to)
            .take(max)
            .cloned()
            .collect();
        if let Some(r) = &self.repeat
            && r.period.is_positive()
            && !r.lines.is_empty()
        {
            let start = if from > r.from { from } else { r.from };
            let mut k = ((start - r.from).as_secs_f64() / r.period.as_secs_f64()).floor() as i64;
            // One period back covers lines whose period started before `from`.
            k = (k - 1).max(0);
            'outer: loop {
                let base = r.from + r.period * (k as i32);
                if base >= to || k > i32::MAX as i64 - 2 {
                    break;
                }
                for l in &r.lines {
                    let at = base + l.at;
                    if at >= from && at < to {
                        if out.len() >= max {
                            break 'outer;
                        }
                        out.push(LogLine {
                            at,
                            text: l.text.clone(),
                        });
                    }
                }
                k += 1;
            }
        }
        out
    }

    /// The first call to the API server after `offset`, if any.
    pub fn next_api_call(&self, offset: SignedDuration) -> Option<SignedDuration> {
        let straight = self.api_at.iter().copied().filter(|a| *a > offset).min();
        let repeated = self.repeat.as_ref().and_then(|r| {
            if !r.period.is_positive() || self.api_repeat.is_empty() {
                return None;
            }
            let k = if offset > r.from {
                ((offset - r.from).as_secs_f64() / r.period.as_secs_f64()).floor() as i32
            } else {
                0
            };
            (k..k.saturating_add(2))
                .flat_map(|k| {
                    self.api_repeat
                        .iter()
                        .map(move |o| r.from + r.period * k + *o)
                })
                .filter(|a| *a > offset)
                .min()
        });
        match (straight, repeated) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Memory in use at `offset`.
    pub fn memory_at(&self, offset: SignedDuration) -> u64 {
        self.memory
            .iter()
            .take_while(|(at, _)| *at <= offset)
            .last()
            .map(|(_, b)| *b)
            .unwrap_or(0)
    }

    /// The first offset at which memory goes over `limit`.
    pub fn exceeds(&self, limit: u64) -> Option<SignedDuration> {
        self.memory
            .iter()
            .find(|(_, b)| *b > limit)
            .map(|(at, _)| *at)
    }

    /// The port listening at `offset`.
    pub fn port_at(&self, port: u16, protocol: Protocol, offset: SignedDuration) -> Option<&Port> {
        self.ports
            .iter()
            .find(|p| p.port == port && p.protocol == protocol && offset >= p.from)
    }

    /// Files visible at `offset`: the mounted ones, then the process's changes.
    pub fn files_at(
        &self,
        base: &BTreeMap<String, String>,
        offset: SignedDuration,
    ) -> BTreeMap<String, String> {
        let mut files = base.clone();
        for c in self.files.iter().filter(|c| c.at <= offset) {
            match &c.content {
                Some(s) => {
                    files.insert(c.path.clone(), s.clone());
                }
                None => {
                    files.remove(&c.path);
                }
            }
        }
        files
    }
}

/// A network call made by a shell command (`wget`, `nslookup`, `nc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetRequest {
    Http {
        /// Where to connect: a name to resolve or an address.
        host: String,
        port: u16,
        path: String,
        /// The `Host` header when it is not `host` (`--header 'Host: x'`,
        /// curl's `--resolve`).
        host_header: Option<String>,
    },
    Dns {
        name: String,
    },
    Tcp {
        host: String,
        port: u16,
    },
}

/// The network layer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetReply {
    /// HTTP response from `ip` (`location`: its `Location` header;
    /// `reason`: the status line's reason when the server does not write
    /// Go's `http.StatusText` one, as nginx's `503 Service Temporarily
    /// Unavailable`: see `shell::status_text`; `cert`: the certificate an
    /// HTTPS server presented, when the simulation knows it).
    Http {
        ip: String,
        status: u16,
        body: String,
        location: Option<String>,
        reason: Option<&'static str>,
        cert: Option<Box<tls::ServerCert>>,
    },
    /// The name resolved to these addresses (`name` is the FQDN found).
    Dns {
        name: String,
        addresses: Vec<String>,
    },
    /// The name does not exist (`NXDOMAIN`).
    NxDomain,
    /// The host name could not be resolved (for wget/nc).
    BadAddress,
    /// TCP connection established.
    Open { ip: String },
    /// Connection refused by `ip`.
    Refused { ip: String },
    /// No answer in time from the cluster DNS (the name cannot be looked
    /// up); `nslookup` times out.
    Timeout,
    /// The connection to `ip` is never answered: its SYN is dropped (a
    /// NetworkPolicy, a port the Service does not expose). The client's
    /// connect() times out.
    Dropped { ip: String },
    /// The connection to `ip` is established but no HTTP answer comes (an
    /// ingress controller still waiting on a dropped backend).
    Unanswered { ip: String },
}

impl NetReply {
    /// The same reply with the certificate the server presented.
    pub fn with_cert(self, presented: Option<tls::ServerCert>) -> Self {
        match self {
            NetReply::Http {
                ip,
                status,
                body,
                location,
                reason,
                ..
            } => NetReply::Http {
                ip,
                status,
                body,
                location,
                reason,
                cert: presented.map(Box::new),
            },
            other => other,
        }
    }
}

/// A request a process in a pod makes to the API server with the bearer
/// token it read (in-cluster kubectl, a client-go app).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiCall {
    pub token: String,
    /// The API verb (`list`, `get`, `watch`, ...).
    pub verb: String,
    /// API group ("" for core) and plural resource.
    pub group: String,
    pub resource: String,
    /// "" for a cluster-scoped request (or all namespaces).
    pub namespace: String,
    /// The object's name for a `get` ("" otherwise).
    pub name: String,
    /// A list's `labelSelector` ("" for everything).
    pub label_selector: String,
    /// Ask whether the request would be allowed (a
    /// SelfSubjectAccessReview, as `kubectl auth can-i` sends) instead of
    /// making it.
    pub review: bool,
}

/// The API server's answer to an [`ApiCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiReply {
    /// The token authenticates no one (401 `Unauthorized`).
    Unauthorized,
    /// 403, with the Status message (`configmaps is forbidden: User ...`).
    Forbidden(String),
    /// 404, with the Status message (`configmaps "x" not found`).
    NotFound(String),
    /// 400, with the Status message (a selector that does not parse).
    BadRequest(String),
    /// What was read, as the server's Table: the columns (name, priority:
    /// kubectl shows priority 0 unless `-o wide`) and, for each object, its
    /// namespace ("" when cluster-scoped) followed by its cells as kubectl
    /// prints them.
    Table {
        columns: Vec<(String, i32)>,
        rows: Vec<Vec<String>>,
    },
    /// An access review's verdict and RBAC's reason.
    Review { allowed: bool, reason: String },
    /// Nothing answers at the API server's address.
    Unreachable,
}

/// Answers network calls. The network layer implements this; `NoNetwork`
/// answers every call with a timeout.
pub trait Network {
    fn call(&self, req: &NetRequest, at: SignedDuration) -> NetReply;
    /// A call to the API server (`kubernetes.default.svc`); unreachable
    /// unless the cluster wires one in.
    fn api(&self, _call: &ApiCall, _at: SignedDuration) -> ApiReply {
        ApiReply::Unreachable
    }
    /// The cluster DNS server address, as nslookup prints it.
    fn dns_server(&self) -> String {
        "10.96.0.10".into()
    }
}

/// A network where nothing answers.
pub struct NoNetwork;

impl Network for NoNetwork {
    fn call(&self, _req: &NetRequest, _at: SignedDuration) -> NetReply {
        NetReply::Timeout
    }
}

/// What `spec` does when started, given the catalog of known images.
pub fn derive(spec: &ContainerSpec, catalog: &Catalog, net: &dyn Network) -> Timeline {
    behaviour::derive(spec, catalog, net)
}

/// Kubernetes `$(VAR)` expansion in command and args
/// (`kubecontainer.ExpandContainerCommandAndArgs`): `$$` escapes, unknown
/// references stay as written.
pub fn expand_k8s_vars(s: &str, env: &[(String, String)]) -> String {
    let lookup = |k: &str| {
        env.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            if b[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if b[i + 1] == b'('
                && let Some(close) = s[i + 2..].find(')')
            {
                let name = &s[i + 2..i + 2 + close];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&s[i..i + 3 + close]),
                }
                i += 3 + close;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

/// Seconds as a duration (saturating, never negative).
pub fn secs(s: f64) -> SignedDuration {
    if s.is_finite() && s > 0.0 {
        SignedDuration::from_secs_f64(s.min(1.0e12))
    } else {
        SignedDuration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k8s_var_expansion_follows_upstream_rules() {
        let env = vec![("A".to_string(), "x".to_string())];
        assert_eq!(expand_k8s_vars("$(A)-$(B)-$$(A)", &env), "x-$(B)-$(A)");
        assert_eq!(expand_k8s_vars("$(unclosed", &env), "$(unclosed");
        assert_eq!(expand_k8s_vars("é$", &env), "é$");
    }

    #[test]
    fn repeated_output_is_replayed_lazily() {
        let mut t = Timeline::runs();
        t.repeat = Some(Repeat {
            from: secs(0.0),
            period: secs(5.0),
            lines: vec![LogLine {
                at: SignedDuration::ZERO,
                text: "hi".into(),
            }],
        });
        let lines = t.lines_between(secs(0.0), secs(21.0), 100);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[4].at, secs(20.0));
        assert_eq!(t.lines_between(secs(6.0), secs(11.0), 100).len(), 1);
        assert_eq!(t.lines_between(secs(0.0), secs(1.0e9), 10).len(), 10);
    }

    #[test]
    fn http_routes_depend_on_time() {
        let mut r = Route::new("/healthz", 200, "ok");
        r.until = Some(secs(10.0));
        let h = Http {
            routes: vec![r, Route::new("/healthz", 500, "error")],
            default_status: 404,
        };
        assert_eq!(h.answer("/healthz", secs(3.0)).0, 200);
        assert_eq!(h.answer("/healthz", secs(10.0)).0, 500);
        assert_eq!(h.answer("/nope", secs(1.0)).0, 404);
    }
}
