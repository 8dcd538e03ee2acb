//! The per-container state machine: image pull (with its back-off), create
//! (env resolution), start, probes, exit, restart back-off, termination;
//! and the pod-level sync that drives containers in kubelet order (volumes,
//! sandbox, init containers, sidecars, regular containers).

use super::probe::{self, Outcome, Target};
use super::spec::{self, CSpec, PodSpec, ProbeSpec};
use super::{LogBuf, PodInput, PodMemory, PodOutcome, ProbeState, Sparse, TimedEvent, status};
use crate::sim::event::{EventSpec, EventType, ObjectRef};
use crate::sim::rng::Rng;
use crate::sim::workload::behaviour::render;
use crate::sim::workload::catalog::{Credential, ImageInfo, ImageRef, credentials_from_secret};
use crate::sim::workload::{self, ContainerSpec, End, Sigterm, Timeline};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// Restart (and image pull) back-off: `flowcontrol.Backoff` with 10s
/// initial, 300s max, entries expiring after 2×max without an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    pub secs: i64,
    pub last_update: Timestamp,
}

const BACKOFF_INITIAL: i64 = 10;
const BACKOFF_MAX: i64 = 300;
const MAX_LOGS: usize = workload::MAX_LOG_LINES;

fn expired(b: &Backoff, at: Timestamp) -> bool {
    at.duration_since(b.last_update) > SignedDuration::from_secs(2 * BACKOFF_MAX)
}

/// `Backoff.Next`.
fn next_backoff(b: &Option<Backoff>, at: Timestamp) -> Backoff {
    match b {
        Some(b) if !expired(b, at) => Backoff {
            secs: (b.secs * 2).min(BACKOFF_MAX),
            last_update: at,
        },
        _ => Backoff {
            secs: BACKOFF_INITIAL,
            last_update: at,
        },
    }
}

/// `Backoff.IsInBackOffSince(key, since)` at `now`.
fn in_backoff(b: &Option<Backoff>, since: Timestamp, now: Timestamp) -> bool {
    match b {
        Some(b) if !expired(b, since) => {
            now.duration_since(since) < SignedDuration::from_secs(b.secs)
        }
        _ => false,
    }
}

/// Go's `time.Duration.String()` for whole/milli seconds.
pub fn go_duration(d: SignedDuration) -> String {
    let ms = d.as_millis().max(0) as i64;
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s, frac) = (
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000,
    );
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// A finished container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminated {
    pub exit_code: i32,
    pub reason: String,
    pub message: Option<String>,
    /// None for a container that never started (StartError: 1970-01-01).
    pub started_at: Option<Timestamp>,
    pub finished_at: Timestamp,
    pub container_id: String,
}

/// Where a container is in its life.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CState {
    /// Not attempted yet.
    #[default]
    New,
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Pulling {
        since: Timestamp,
        until: Timestamp,
        result: Result<ImageInfo, String>,
        /// The waiting reason and message the status keeps while it pulls
        /// again (`ImagePullBackOff`, say): upstream's kubelet shows the last
        /// sync's error until the sync that pulls returns.
        shown: Option<(String, Option<String>)>,
    },
    Running {
        id: String,
        started: Timestamp,
        kill_at: Option<(Timestamp, i32)>,
    },
    Terminated(Box<Terminated>),
}

/// Probe workers' state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Probes {
    pub next_startup: Option<Timestamp>,
    pub next_liveness: Option<Timestamp>,
    pub next_readiness: Option<Timestamp>,
    pub startup_failures: u32,
    pub liveness_failures: u32,
    pub readiness_failures: u32,
    pub readiness_successes: u32,
}

/// What a container's failures leave behind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Retry {
    pub crash_backoff: Option<Backoff>,
    pub pull_backoff: Option<Backoff>,
    pub pull_error: Option<String>,
    pub next_retry: Option<Timestamp>,
}

/// The runtime's memory of one container.
#[derive(Debug, Clone, Default)]
pub struct ContainerMemory {
    pub state: CState,
    pub restart_count: u32,
    /// Boxed (as in [`CState::Terminated`]): most containers never end.
    pub last: Option<Box<Terminated>>,
    /// Back-offs and retries (boxed only while a failure is remembered).
    pub retry: Sparse<Retry>,
    /// Shared: the kubelets keep one copy per image (see
    /// `sim::kubelets`), not one per container.
    pub image: Option<Arc<ImageInfo>>,
    pub logs: LogBuf,
    pub previous_logs: LogBuf,
    pub logged_to: SignedDuration,
    pub probes: ProbeState,
    pub ready: bool,
    /// Startup probe passed (or none).
    pub started: bool,
    /// When the running process next calls the API server, as its last
    /// derivation said.
    pub next_api_call: Option<Timestamp>,
}

impl ContainerMemory {
    pub fn succeeded(&self) -> bool {
        matches!(&self.state, CState::Terminated(t) if t.exit_code == 0)
    }
    pub fn running(&self) -> bool {
        matches!(self.state, CState::Running { .. })
    }
}

pub(super) struct Ctx<'a> {
    pub input: &'a PodInput<'a>,
    pub pod: PodSpec,
    pub rng: &'a Rng,
    pub events: Vec<TimedEvent>,
    pub pulled: Vec<String>,
    /// The container (by name) `create` just derived, with its
    /// derivation: the same sync then goes on to step it as running, and
    /// nothing it derives from (the pod, its IP, the world, the network)
    /// changes within one sync.
    pub derived: Option<(String, ContainerSpec, Timeline)>,
}

impl Ctx<'_> {
    fn event(
        &mut self,
        at: Timestamp,
        field_path: Option<&str>,
        ty: EventType,
        reason: &str,
        message: String,
    ) {
        let mut involved = ObjectRef::to(self.input.pod);
        if involved.kind.is_empty() {
            involved.kind = "Pod".into();
            involved.api_version = "v1".into();
        }
        if let Some(f) = field_path {
            involved = involved.with_field_path(f);
        }
        self.events.push(TimedEvent {
            at,
            event: EventSpec {
                involved,
                type_: ty,
                reason: reason.into(),
                message,
                component: "kubelet".into(),
                host: Some(self.input.node.name.clone()),
            },
        });
    }

    /// An event the container's process records about this node (the
    /// node's reference as a kubelet or kube-proxy makes it: its uid is the
    /// node's name).
    fn node_event(&mut self, at: Timestamp, e: &workload::NodeEvent) {
        let node = &self.input.node.name;
        self.events.push(TimedEvent {
            at,
            event: EventSpec {
                involved: ObjectRef::node(node),
                type_: EventType::Normal,
                reason: e.reason.into(),
                message: e.message.into(),
                component: e.component.into(),
                host: Some(node.clone()),
            },
        });
    }

    fn container_id(&self) -> String {
        format!(
            "containerd://{:016x}{:016x}{:016x}{:016x}",
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64()
        )
    }

    fn credentials(&self) -> Vec<Credential> {
        self.pod
            .pull_secrets
            .iter()
            .filter_map(|n| self.input.world.secrets.get(n))
            .flat_map(|s| credentials_from_secret(&spec::object_data(s, true)))
            .collect()
    }

    fn container_spec(
        &self,
        c: &CSpec,
        mem: &PodMemory,
        env: Vec<(String, String)>,
    ) -> ContainerSpec {
        let (files, mounts) =
            spec::container_files(c, &self.pod.volumes, self.input.world, self.input.pod);
        ContainerSpec {
            name: c.name.clone(),
            image: c.image.clone(),
            command: c.command.clone(),
            args: c.args.clone(),
            env,
            files,
            mounts,
            memory_limit: c.memory_limit,
            hostname: self.pod.name.clone(),
            pod_ip: mem.pod_ip.clone().unwrap_or_default(),
        }
    }

    fn env(&self, c: &CSpec, mem: &PodMemory) -> Result<Vec<(String, String)>, String> {
        spec::resolve_env(
            c,
            self.input.pod,
            &self.pod.namespace,
            self.input.world,
            mem.pod_ip.as_deref().unwrap_or(""),
            &self.input.node.host_ip,
        )
    }

    fn timeline(&mut self, c: &CSpec, mem: &PodMemory) -> (ContainerSpec, Timeline) {
        if let Some((name, spec, tl)) = self.derived.take()
            && name == c.name
        {
            return (spec, tl);
        }
        let env = self.env(c, mem).unwrap_or_default();
        let spec = self.container_spec(c, mem, env);
        let tl = workload::derive(&spec, self.input.catalog, self.input.network);
        (spec, tl)
    }

    /// Restart policy of a container after it terminated with `code`.
    fn restarts(&self, c: &CSpec, code: i32) -> bool {
        if c.sidecar {
            return true;
        }
        match self.pod.restart_policy.as_str() {
            "Never" => false,
            "OnFailure" => code != 0,
            _ => !c.init || code != 0,
        }
    }
}

fn pull_secs(size: u64, rng: &Rng) -> SignedDuration {
    // ~40 MB/s plus registry latency, with seeded jitter.
    let base = 0.4 + size as f64 / 40_000_000.0;
    let jitter = (rng.below(1000) as f64) / 1000.0 * 0.3 * base;
    SignedDuration::from_millis(((base + jitter) * 1000.0) as i64)
}

/// Kills a running container at `at`: when it will be gone and its code.
fn kill_time(tl: &Timeline, at: Timestamp, grace: i64) -> (Timestamp, i32) {
    let grace = SignedDuration::from_secs(grace);
    match tl.sigterm {
        Sigterm::Exits { after, code } if after <= grace => (at + after, code),
        _ => (at + grace, 137),
    }
}

/// The first probe-worker tick at or after `not_before`: workers start with
/// the pod and tick every period from then on.
fn tick(base: Option<Timestamp>, period: i64, not_before: Timestamp) -> Timestamp {
    let Some(base) = base else { return not_before };
    let p = period.max(1);
    if not_before <= base {
        return base;
    }
    let elapsed = not_before.duration_since(base).as_secs_f64();
    let k = (elapsed / p as f64).ceil() as i64;
    base + SignedDuration::from_secs(k.saturating_mul(p))
}

fn reason_for(code: i32) -> &'static str {
    if code == 0 { "Completed" } else { "Error" }
}

fn push_logs(cm: &mut ContainerMemory, tl: &Timeline, started: Timestamp, to: SignedDuration) {
    if to <= cm.logged_to {
        return;
    }
    let room = MAX_LOGS
        .saturating_mul(2)
        .saturating_sub(cm.logs.len())
        .max(1);
    let mut w = cm.logs.writer();
    for l in tl.lines_between(cm.logged_to, to, room) {
        let at = started + l.at;
        w.push(at, render(&l.text, at));
    }
    drop(w);
    cm.logs.keep_last(MAX_LOGS);
    cm.logged_to = to;
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Ctx<'_> {
    /// Advances one container to `t`; returns when it next needs attention.
    fn step_container(
        &mut self,
        c: &CSpec,
        mem: &mut PodMemory,
        t: Timestamp,
    ) -> Option<Timestamp> {
        for _ in 0..16 {
            let cm = mem.containers.slot(&c.name);
            match cm.state.clone() {
                CState::New | CState::Waiting { .. } => {
                    if let Some(r) = cm.retry.next_retry
                        && r > t
                    {
                        return Some(r);
                    }
                    if matches!(&cm.state, CState::Waiting { reason, .. } if reason == "CrashLoopBackOff")
                        && let Some(last) = cm.last.clone()
                    {
                        cm.retry.crash_backoff =
                            Some(next_backoff(&cm.retry.crash_backoff, last.finished_at));
                        cm.restart_count += 1;
                    }
                    cm.retry.next_retry = None;
                    let wake = self.attempt(c, mem, t);
                    let cm = mem.containers.slot(&c.name);
                    if !cm.running() {
                        return wake;
                    }
                }
                CState::Pulling {
                    since,
                    until,
                    result,
                    ..
                } => {
                    if until > t {
                        return Some(until);
                    }
                    if let Some(w) = self.finish_pull(c, mem, since, until, result) {
                        return Some(w);
                    }
                }
                CState::Running { .. } => {
                    let w = self.running(c, mem, t);
                    let cm = mem.containers.slot(&c.name);
                    if cm.running() {
                        return w;
                    }
                }
                CState::Terminated(term) => {
                    if self.pod.deleting || !self.restarts(c, term.exit_code) {
                        return None;
                    }
                    // The runtime notices the exit at its next relist (1s).
                    let noticed = term.finished_at + SignedDuration::from_secs(1);
                    if t < noticed {
                        return Some(noticed);
                    }
                    cm.last = Some(term.clone());
                    if in_backoff(&cm.retry.crash_backoff, term.finished_at, noticed) {
                        let secs = cm
                            .retry
                            .crash_backoff
                            .as_ref()
                            .map(|b| b.secs)
                            .unwrap_or(BACKOFF_INITIAL);
                        let retry = term.finished_at + SignedDuration::from_secs(secs);
                        cm.state = CState::Waiting {
                            reason: "CrashLoopBackOff".into(),
                            message: Some(format!(
                                "back-off {} restarting failed container={} pod={}",
                                go_duration(SignedDuration::from_secs(secs)),
                                c.name,
                                self.pod.format()
                            )),
                        };
                        cm.retry.next_retry = Some(retry);
                        let msg = format!(
                            "Back-off restarting failed container {} in pod {}",
                            c.name,
                            self.pod.format()
                        );
                        self.event(
                            noticed,
                            Some(&c.field_path),
                            EventType::Warning,
                            "BackOff",
                            msg,
                        );
                        if retry > t {
                            return Some(retry);
                        }
                    } else {
                        cm.retry.crash_backoff =
                            Some(next_backoff(&cm.retry.crash_backoff, term.finished_at));
                        cm.restart_count += 1;
                        cm.state = CState::New;
                        cm.retry.next_retry = None;
                    }
                }
            }
        }
        Some(t + SignedDuration::from_secs(1))
    }

    /// Image, then create and start.
    fn attempt(&mut self, c: &CSpec, mem: &mut PodMemory, t: Timestamp) -> Option<Timestamp> {
        let fp = c.field_path.clone();
        let r = match ImageRef::parse(&c.image) {
            Ok(r) => r,
            Err(msg) => {
                self.event(
                    t,
                    Some(&fp),
                    EventType::Warning,
                    "InspectFailed",
                    msg.clone(),
                );
                self.event(
                    t,
                    Some(&fp),
                    EventType::Warning,
                    "Failed",
                    "Error: InvalidImageName".into(),
                );
                let cm = mem.containers.slot(&c.name);
                cm.state = CState::Waiting {
                    reason: "InvalidImageName".into(),
                    message: Some(msg),
                };
                cm.retry.next_retry = Some(t + SignedDuration::from_secs(10));
                return cm.retry.next_retry;
            }
        };
        let full = r.full();
        let present = self.input.node.images.contains(&full)
            || self.pulled.contains(&full)
            || mem.containers.values().any(|m| {
                m.image
                    .as_ref()
                    .is_some_and(|i| i.name == full || i.name == r.full())
            });
        if present && c.pull_policy != "Always" {
            let info = self
                .input
                .catalog
                .pull(&r, &self.credentials())
                .unwrap_or_else(|_| ImageInfo {
                    name: full.clone(),
                    image_id: format!(
                        "{}@sha256:{}",
                        r.repository(),
                        workload::catalog::digest_hex(&full)
                    ),
                    size: 0,
                });
            self.event(
                t,
                Some(&fp),
                EventType::Normal,
                "Pulled",
                format!("Container image \"{}\" already present on machine", c.image),
            );
            mem.containers.slot(&c.name).image = Some(Arc::new(info));
            return self.create(c, mem, t);
        }
        if c.pull_policy == "Never" {
            let msg = format!(
                "Container image \"{}\" is not present with pull policy of Never",
                c.image
            );
            self.event(
                t,
                Some(&fp),
                EventType::Warning,
                "ErrImageNeverPull",
                msg.clone(),
            );
            self.event(
                t,
                Some(&fp),
                EventType::Warning,
                "Failed",
                "Error: ErrImageNeverPull".into(),
            );
            let cm = mem.containers.slot(&c.name);
            cm.state = CState::Waiting {
                reason: "ErrImageNeverPull".into(),
                message: Some(msg),
            };
            cm.retry.next_retry = Some(t + SignedDuration::from_secs(10));
            return cm.retry.next_retry;
        }
        let cm = mem.containers.slot(&c.name);
        if let Some(b) = &cm.retry.pull_backoff
            && t.duration_since(b.last_update) < SignedDuration::from_secs(b.secs)
        {
            let retry = b.last_update + SignedDuration::from_secs(b.secs);
            let mut msg = format!("Back-off pulling image \"{}\"", c.image);
            if let Some(prev) = &cm.retry.pull_error {
                msg = format!("{msg}: ErrImagePull: {prev}");
            }
            cm.state = CState::Waiting {
                reason: "ImagePullBackOff".into(),
                message: Some(msg),
            };
            cm.retry.next_retry = Some(retry);
            self.event(
                t,
                Some(&fp),
                EventType::Normal,
                "BackOff",
                format!("Back-off pulling image \"{}\"", c.image),
            );
            self.event(
                t,
                Some(&fp),
                EventType::Warning,
                "Failed",
                "Error: ImagePullBackOff".into(),
            );
            return Some(retry);
        }
        if !mem.warned_pull_secrets {
            let missing: Vec<&String> = self
                .pod
                .pull_secrets
                .iter()
                .filter(|n| !self.input.world.secrets.contains_key(*n))
                .collect();
            if !missing.is_empty() {
                let names = missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.event(t, None, EventType::Warning, "FailedToRetrieveImagePullSecret", format!("Unable to retrieve some image pull secrets ({names}); attempting to pull the image may not succeed."));
            }
            mem.warned_pull_secrets = true;
        }
        self.event(
            t,
            Some(&fp),
            EventType::Normal,
            "Pulling",
            format!("Pulling image \"{}\"", c.image),
        );
        let result = self
            .input
            .catalog
            .pull(&r, &self.credentials())
            .map_err(|e| e.message);
        let until = match &result {
            Ok(info) => t + pull_secs(info.size, self.rng),
            Err(_) => t + SignedDuration::from_millis(300 + self.rng.below(700) as i64),
        };
        let cm = mem.containers.slot(&c.name);
        let shown = match &cm.state {
            CState::Waiting { reason, message } => Some((reason.clone(), message.clone())),
            _ => None,
        };
        cm.state = CState::Pulling {
            since: t,
            until,
            result,
            shown,
        };
        Some(until)
    }

    fn finish_pull(
        &mut self,
        c: &CSpec,
        mem: &mut PodMemory,
        since: Timestamp,
        t: Timestamp,
        result: Result<ImageInfo, String>,
    ) -> Option<Timestamp> {
        let fp = c.field_path.clone();
        match result {
            Ok(info) => {
                let took = go_duration(t.duration_since(since));
                self.event(t, Some(&fp), EventType::Normal, "Pulled", format!("Successfully pulled image \"{}\" in {took} ({took} including waiting). Image size: {} bytes.", c.image, info.size));
                self.pulled.push(info.name.clone());
                let cm = mem.containers.slot(&c.name);
                cm.image = Some(Arc::new(info));
                cm.retry.pull_backoff = None;
                cm.retry.pull_error = None;
                let w = self.create(c, mem, t);
                let cm = mem.containers.slot(&c.name);
                if cm.running() { None } else { w }
            }
            Err(msg) => {
                self.event(
                    t,
                    Some(&fp),
                    EventType::Warning,
                    "Failed",
                    format!("Failed to pull image \"{}\": {msg}", c.image),
                );
                self.event(
                    t,
                    Some(&fp),
                    EventType::Warning,
                    "Failed",
                    "Error: ErrImagePull".into(),
                );
                let cm = mem.containers.slot(&c.name);
                cm.retry.pull_backoff = Some(next_backoff(&cm.retry.pull_backoff, t));
                cm.retry.pull_error = Some(msg.clone());
                cm.state = CState::Waiting {
                    reason: "ErrImagePull".into(),
                    message: Some(msg),
                };
                // The pod worker re-syncs soon after the error and finds the back-off.
                cm.retry.next_retry = Some(t + SignedDuration::from_secs(1));
                cm.retry.next_retry
            }
        }
    }

    fn create(&mut self, c: &CSpec, mem: &mut PodMemory, t: Timestamp) -> Option<Timestamp> {
        let fp = c.field_path.clone();
        let env = match self.env(c, mem) {
            Ok(e) => e,
            Err(msg) => {
                self.event(
                    t,
                    Some(&fp),
                    EventType::Warning,
                    "Failed",
                    format!("Error: {msg}"),
                );
                let cm = mem.containers.slot(&c.name);
                cm.state = CState::Waiting {
                    reason: "CreateContainerConfigError".into(),
                    message: Some(msg),
                };
                cm.retry.next_retry = Some(t + SignedDuration::from_secs(10));
                return cm.retry.next_retry;
            }
        };
        let spec = self.container_spec(c, mem, env);
        let tl = workload::derive(&spec, self.input.catalog, self.input.network);
        let id = self.container_id();
        let mem_sandbox = mem.sandbox_at;
        self.event(
            t,
            Some(&fp),
            EventType::Normal,
            "Created",
            format!("Created container: {}", c.name),
        );
        let cm = mem.containers.slot(&c.name);
        if !cm.logs.is_empty() || cm.restart_count > 0 {
            cm.previous_logs = std::mem::take(&mut cm.logs);
        }
        cm.logged_to = SignedDuration::ZERO;
        cm.next_api_call = None;
        cm.ready = false;
        cm.started = false;
        if let End::StartError { message } = &tl.end {
            let message = message.clone();
            cm.state = CState::Terminated(Box::new(Terminated {
                exit_code: 128,
                reason: "StartError".into(),
                message: Some(message.clone()),
                started_at: None,
                finished_at: t,
                container_id: id,
            }));
            self.event(
                t,
                Some(&fp),
                EventType::Warning,
                "Failed",
                format!("Error: {message}"),
            );
            return Some(t + SignedDuration::from_secs(1));
        }
        cm.state = CState::Running {
            id,
            started: t,
            kill_at: None,
        };
        let node_event = tl.node_event.clone();
        self.derived = Some((c.name.clone(), spec, tl));
        cm.probes = ProbeState::default();
        let base = mem_sandbox;
        let delay = |p: &ProbeSpec| {
            tick(
                base,
                p.period,
                t + SignedDuration::from_secs(p.initial_delay),
            )
        };
        match &c.startup {
            Some(p) => cm.probes.next_startup = Some(delay(p)),
            None => {
                cm.started = true;
                cm.probes.next_liveness = c.liveness.as_ref().map(delay);
                cm.probes.next_readiness = c.readiness.as_ref().map(delay);
                cm.ready = c.readiness.is_none();
            }
        }
        self.event(
            t,
            Some(&fp),
            EventType::Normal,
            "Started",
            format!("Started container {}", c.name),
        );
        if let Some(e) = node_event {
            self.node_event(t, &e);
        }
        Some(t)
    }

    fn running(&mut self, c: &CSpec, mem: &mut PodMemory, t: Timestamp) -> Option<Timestamp> {
        let (spec, tl) = self.timeline(c, mem);
        let pod_ip = mem.pod_ip.clone().unwrap_or_default();
        let sandbox = mem.sandbox_at;
        let grace = self.pod.grace;
        let fp = c.field_path.clone();
        let cm = mem.containers.slot(&c.name);
        let CState::Running {
            id,
            started,
            mut kill_at,
        } = cm.state.clone()
        else {
            return None;
        };
        let calls_api = !tl.api_at.is_empty() || !tl.api_repeat.is_empty();
        // A process whose output depends on the API server's answers is
        // re-derived with today's answers: an exit it would have made before
        // what was already logged (RBAC broke since) happens at its next
        // call, with the lines it printed when it failed.
        let seen = started + cm.logged_to;
        let mut late_exit_lines = Vec::new();
        let mut late = false;
        let exit_at = match tl.end {
            End::Exits { at, .. }
                if calls_api && started + at + SignedDuration::from_nanos(1) < seen =>
            {
                late_exit_lines = tl.lines_between(at, at + SignedDuration::from_nanos(1), 100);
                late = true;
                Some(cm.next_api_call.unwrap_or(t).max(seen))
            }
            End::Exits { at, .. } => Some(started + at),
            _ => None,
        };
        let exit_code = match tl.end {
            End::Exits { code, .. } => code,
            _ => 0,
        };
        let oom_at = c
            .memory_limit
            .and_then(|l| tl.exceeds(l))
            .map(|at| started + at);
        let mut events = Vec::new();
        // Probes, in time order, up to `t` or the container's end.
        for _ in 0..100_000 {
            let end = min_opt(min_opt(exit_at, oom_at), kill_at.map(|k| k.0));
            let p = &cm.probes;
            let next = [
                (p.next_startup, 0u8),
                (p.next_liveness, 1),
                (p.next_readiness, 2),
            ]
            .into_iter()
            .filter_map(|(at, k)| at.map(|a| (a, k)))
            .min();
            let Some((pt, kind)) = next else { break };
            if pt > t || end.is_some_and(|e| pt >= e) {
                break;
            }
            let (ps, name) = match kind {
                0 => (c.startup.as_ref(), "Startup"),
                1 => (c.liveness.as_ref(), "Liveness"),
                _ => (c.readiness.as_ref(), "Readiness"),
            };
            let Some(ps) = ps else { break };
            let target = Target {
                c,
                tl: &tl,
                spec: &spec,
                pod_ip: &pod_ip,
                container_id: &id,
                net: self.input.network,
            };
            let outcome = probe::run(ps, &target, pt.duration_since(started));
            let period = SignedDuration::from_secs(ps.period);
            let ok = outcome == Outcome::Success;
            match outcome {
                Outcome::Failure(m) => events.push((
                    pt,
                    EventType::Warning,
                    "Unhealthy",
                    format!("{name} probe failed: {m}"),
                )),
                Outcome::Errored(m) => events.push((
                    pt,
                    EventType::Warning,
                    "Unhealthy",
                    format!("{name} probe errored: {m}"),
                )),
                Outcome::Success => {}
            }
            let pr = &mut cm.probes;
            match kind {
                0 => {
                    pr.next_startup = Some(pt + period);
                    if ok {
                        pr.next_startup = None;
                        cm.started = true;
                        pr.next_liveness = c.liveness.as_ref().map(|l| {
                            tick(
                                sandbox,
                                l.period,
                                pt.max(started + SignedDuration::from_secs(l.initial_delay)),
                            )
                        });
                        pr.next_readiness = c.readiness.as_ref().map(|r| {
                            tick(
                                sandbox,
                                r.period,
                                pt.max(started + SignedDuration::from_secs(r.initial_delay)),
                            )
                        });
                        cm.ready = c.readiness.is_none();
                    } else {
                        pr.startup_failures += 1;
                        if pr.startup_failures >= ps.failure {
                            pr.next_startup = None;
                            events.push((
                                pt,
                                EventType::Normal,
                                "Killing",
                                format!(
                                    "Container {} failed startup probe, will be restarted",
                                    c.name
                                ),
                            ));
                            kill_at = Some(kill_time(&tl, pt, grace));
                        }
                    }
                }
                1 => {
                    pr.next_liveness = Some(pt + period);
                    if ok {
                        pr.liveness_failures = 0;
                    } else {
                        pr.liveness_failures += 1;
                        if pr.liveness_failures >= ps.failure {
                            pr.next_liveness = None;
                            pr.next_readiness = None;
                            events.push((
                                pt,
                                EventType::Normal,
                                "Killing",
                                format!(
                                    "Container {} failed liveness probe, will be restarted",
                                    c.name
                                ),
                            ));
                            kill_at = Some(kill_time(&tl, pt, grace));
                        }
                    }
                }
                _ => {
                    pr.next_readiness = Some(pt + period);
                    if ok {
                        pr.readiness_failures = 0;
                        pr.readiness_successes += 1;
                        if pr.readiness_successes >= ps.success {
                            cm.ready = true;
                        }
                    } else {
                        pr.readiness_successes = 0;
                        pr.readiness_failures += 1;
                        if pr.readiness_failures >= ps.failure {
                            cm.ready = false;
                        }
                    }
                }
            }
        }
        if let CState::Running { kill_at: k, .. } = &mut cm.state {
            *k = kill_at;
        }
        // The end, if it came.
        let mut ends: Vec<(Timestamp, i32, &str)> = Vec::new();
        if let Some(e) = exit_at {
            ends.push((e, exit_code, reason_for(exit_code)));
        }
        if let Some(o) = oom_at {
            ends.push((o, 137, "OOMKilled"));
        }
        if let Some((k, code)) = kill_at {
            ends.push((k, code, reason_for(code)));
        }
        ends.sort_by_key(|e| e.0);
        let wake_probe = [
            cm.probes.next_startup,
            cm.probes.next_liveness,
            cm.probes.next_readiness,
        ]
        .into_iter()
        .flatten()
        .min();
        let result = match ends.first() {
            Some(&(at, code, reason)) if at <= t => {
                push_logs(
                    cm,
                    &tl,
                    started,
                    at.duration_since(started) + SignedDuration::from_nanos(1),
                );
                if exit_at == Some(at) {
                    let mut w = cm.logs.writer();
                    for l in &late_exit_lines {
                        w.push(at, render(&l.text, at));
                    }
                }
                cm.state = CState::Terminated(Box::new(Terminated {
                    exit_code: code,
                    reason: reason.into(),
                    message: None,
                    started_at: Some(started),
                    finished_at: at,
                    container_id: id,
                }));
                cm.ready = false;
                cm.started = false;
                cm.probes = ProbeState::default();
                Some(at)
            }
            first => {
                push_logs(
                    cm,
                    &tl,
                    started,
                    t.duration_since(started) + SignedDuration::from_nanos(1),
                );
                // Wake at the next call to the API server.
                if !late {
                    cm.next_api_call = tl
                        .next_api_call(t.duration_since(started))
                        .map(|o| started + o);
                }
                min_opt(min_opt(first.map(|e| e.0), wake_probe), cm.next_api_call)
            }
        };
        for (at, ty, reason, msg) in events {
            self.event(at, Some(&fp), ty, reason, msg);
        }
        result
    }

    /// Graceful termination after `deletionTimestamp`.
    fn terminate(&mut self, mem: &mut PodMemory, t: Timestamp) -> Option<Timestamp> {
        let first = mem.terminating_since.is_none();
        if first {
            mem.terminating_since = Some(t);
        }
        let mut wake = None;
        let order: Vec<CSpec> = self
            .pod
            .containers
            .iter()
            .chain(self.pod.init.iter().filter(|c| c.sidecar))
            .cloned()
            .collect();
        for c in &order {
            let (_, tl) = self.timeline(c, mem);
            let Some(cm) = mem.containers.get_mut(&c.name) else {
                continue;
            };
            if let CState::Running {
                id,
                started,
                kill_at,
            } = cm.state.clone()
            {
                let kill = match kill_at {
                    Some(k) if !first => k,
                    _ => {
                        let k = kill_time(&tl, t, self.pod.grace);
                        cm.state = CState::Running {
                            id: id.clone(),
                            started,
                            kill_at: Some(k),
                        };
                        self.event(
                            t,
                            Some(&c.field_path),
                            EventType::Normal,
                            "Killing",
                            format!("Stopping container {}", c.name),
                        );
                        k
                    }
                };
                let Some(cm) = mem.containers.get_mut(&c.name) else {
                    continue;
                };
                if kill.0 <= t {
                    push_logs(cm, &tl, started, kill.0.duration_since(started));
                    cm.state = CState::Terminated(Box::new(Terminated {
                        exit_code: kill.1,
                        reason: reason_for(kill.1).into(),
                        message: None,
                        started_at: Some(started),
                        finished_at: kill.0,
                        container_id: id,
                    }));
                    cm.ready = false;
                } else {
                    wake = min_opt(wake, Some(kill.0));
                }
            }
        }
        if !mem.containers.values().any(|c| c.running()) {
            mem.gone = true;
        }
        wake
    }

    /// One sync of the whole pod at `t`.
    fn step(&mut self, mem: &mut PodMemory, t: Timestamp) -> Option<Timestamp> {
        if self.pod.deleting {
            return self.terminate(mem, t);
        }
        if mem.sandbox_at.is_none() {
            let errs = spec::volume_errors(&self.pod.volumes, self.input.world);
            let claim_err =
                spec::claim_error(&self.pod.volumes, self.input.world, &self.pod.namespace);
            if !errs.is_empty() || claim_err.is_some() {
                let (first, next, delay) = mem.mount.retry.unwrap_or((t, t, 500));
                let mut wake = None;
                if next <= t {
                    if let Some(m) = &claim_err {
                        // Claims fail before any mount is tried.
                        self.event(t, None, EventType::Warning, "FailedMount", m.clone());
                    }
                    for (v, m) in errs.iter().filter(|_| claim_err.is_none()) {
                        self.event(
                            t,
                            None,
                            EventType::Warning,
                            "FailedMount",
                            format!("MountVolume.SetUp failed for volume \"{v}\" : {m}"),
                        );
                    }
                    let d = if mem.mount.retry.is_none() {
                        500
                    } else {
                        (delay * 2).min(122_000)
                    };
                    mem.mount.retry = Some((first, t + SignedDuration::from_millis(d), d));
                } else {
                    mem.mount.retry = Some((first, next, delay));
                }
                let timeout = mem
                    .mount
                    .timeout_at
                    .unwrap_or(first + SignedDuration::from_secs(123));
                if timeout <= t && claim_err.is_none() {
                    let names = errs
                        .iter()
                        .map(|(v, _)| v.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    // `WaitForAttachAndMount` polls with `wait.PollUntilContextTimeout`,
                    // whose timeout is the context's error.
                    self.event(t, None, EventType::Warning, "FailedMount", format!("Unable to attach or mount volumes: unmounted volumes=[{names}], unattached volumes=[], failed to process volumes=[]: context deadline exceeded"));
                    mem.mount.timeout_at = Some(t + SignedDuration::from_secs(123));
                } else {
                    mem.mount.timeout_at = Some(timeout);
                }
                wake = min_opt(wake, mem.mount.retry.map(|m| m.1));
                return min_opt(wake, mem.mount.timeout_at);
            }
            mem.mount = Sparse::default();
            mem.sandbox_at = Some(t);
            // A host-network pod has no sandbox network of its own: the
            // kubelet reports the node's IP as the pod's
            // (`generateAPIPodStatus`: a `HostNetwork` pod gets the host IPs).
            mem.pod_ip = Some(if self.pod.host_network {
                self.input.node.host_ip.clone()
            } else {
                status::allocate_ip(
                    &self.input.node.pod_cidr,
                    &self.input.node.used_ips,
                    self.input.node.last_ip_host,
                    self.rng,
                )
            });
        }
        let mut wake = None;
        let mut init_done = true;
        let inits = Arc::clone(&self.pod.init);
        for c in inits.iter() {
            let w = self.step_container(c, mem, t);
            wake = min_opt(wake, w);
            let cm = mem.containers.slot(&c.name);
            let ok = if c.sidecar {
                cm.running() && cm.started
            } else {
                cm.succeeded()
            };
            if !ok {
                init_done = false;
                break;
            }
        }
        if init_done {
            let cs = Arc::clone(&self.pod.containers);
            for c in cs.iter() {
                wake = min_opt(wake, self.step_container(c, mem, t));
            }
        }
        wake
    }
}

/// See `kubelet::sync_pod`.
pub(super) fn sync(input: &PodInput<'_>, now: Timestamp, rng: &Rng) -> PodOutcome {
    let mut mem = input.memory.clone();
    let mut ctx = Ctx {
        input,
        pod: input
            .parsed
            .cloned()
            .unwrap_or_else(|| PodSpec::parse(input.pod)),
        rng,
        events: Vec::new(),
        pulled: Vec::new(),
        derived: None,
    };
    if mem.start_time.is_none() {
        mem.start_time = Some(now);
    }
    let mut wake = None;
    // The kubelet starts killing when it sees the deletion, now: the timers
    // replayed up to now ran on a pod not yet being deleted.
    let deletion_seen_now = ctx.pod.deleting && mem.terminating_since.is_none();
    if deletion_seen_now {
        ctx.pod.deleting = false;
    }
    if !mem.gone {
        // Replay timers that fired since the last sync, in order.
        let mut cur = mem.last_sync.unwrap_or(now).min(now);
        let mut same = 0;
        for _ in 0..20_000 {
            wake = ctx.step(&mut mem, cur);
            match wake {
                Some(w) if w <= now && !mem.gone => {
                    if w <= cur {
                        same += 1;
                        if same > 8 {
                            break;
                        }
                    } else {
                        same = 0;
                    }
                    cur = w.max(cur);
                }
                _ => break,
            }
        }
        if cur < now && !mem.gone {
            wake = ctx.step(&mut mem, now);
        }
        if deletion_seen_now && !mem.gone {
            ctx.pod.deleting = true;
            wake = ctx.step(&mut mem, now);
        }
        mem.last_sync = Some(now);
        status::track_conditions(&ctx.pod, &mut mem, now);
    }
    for c in mem.containers.values_mut() {
        c.probes.tidy();
        c.retry.tidy();
    }
    let status = status::pod_status(&ctx.pod, input, &mem, now);
    ctx.events.sort_by_key(|e| e.at);
    // Compared here, where the sync's reads are warm (and, for a sync
    // computed ahead, on the worker's core).
    let status_changed = input.pod.get("status") != Some(&status);
    PodOutcome {
        status,
        status_changed,
        events: ctx.events,
        gone: mem.gone,
        memory: mem,
        wake_at: wake
            .filter(|w| *w > now)
            .or(wake.map(|_| now + SignedDuration::from_secs(1))),
        pulled_images: ctx.pulled,
    }
}
