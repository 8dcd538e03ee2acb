//! What the API server asks of the nodes' kubelets: container logs, exec
//! and resource use. The apiserver proxies these to the kubelet of the
//! pod's node; here the simulated cluster plugs its kubelets in behind
//! this trait, so the server knows nothing of the simulator's insides.

use crate::api::image_behaviour::AppBehaviour;
use jiff::Timestamp;

/// One container's log as the kubelet holds it.
#[derive(Debug, Clone, Default)]
pub struct LogSnapshot {
    /// `(time, line)` in time order.
    pub lines: Vec<(Timestamp, String)>,
    /// The container instance the lines belong to (a restart changes it).
    pub container_id: String,
    /// The container is still running (more lines may come).
    pub running: bool,
}

/// What a command run by `exec` printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    pub output: String,
    pub code: i32,
}

/// Why an exec did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecFailure {
    /// The container is not running.
    NotRunning,
    /// The runtime could not start the command (its message).
    Start(String),
}

/// One `exec` request.
#[derive(Debug, Clone)]
pub struct ExecCall<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    pub command: &'a [String],
    /// All of stdin, when attached.
    pub stdin: Option<&'a str>,
    pub tty: bool,
}

/// One running container's resource use, as cAdvisor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUse {
    pub name: String,
    /// CPU in millicores.
    pub cpu_millis: u64,
    /// Memory in bytes, when the workload declares a figure.
    pub memory: Option<u64>,
}

/// The kubelets behind the API server.
pub trait KubeletApi: Send + Sync {
    /// Brings the pod's status up to the current time.
    fn refresh(&self, namespace: &str, pod: &str);
    /// A container's log: the current (or last) run, or the previous one.
    fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Option<LogSnapshot>;
    /// Runs a command in a running container.
    fn exec(&self, call: &ExecCall<'_>) -> Result<ExecResult, ExecFailure>;
    /// What each running container of a pod uses.
    fn usage(&self, namespace: &str, pod: &str) -> Vec<ContainerUse>;
    /// Teaches the container runtime what a scenario's own image does.
    fn declare_image(&self, repository: &str, behaviour: AppBehaviour);
    /// The images declared so far, by repository.
    fn declared_images(&self) -> Vec<(String, AppBehaviour)>;
}
