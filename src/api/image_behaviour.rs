//! kdrill's own vocabulary for the images a scenario brings: what a
//! scenario's app image does when it runs (the ports and paths it serves,
//! the env vars and files it needs, what it logs, how much memory it takes)
//! and, for a private registry, the login a pull secret must carry.
//!
//! Scenarios declare these in `scenario.yaml` (`images:`); the simulated
//! cluster's container runtime takes them through `/kdrill/v1/images`. Real
//! clusters ignore them: there the image itself behaves.

use serde::{Deserialize, Serialize};

/// Behaviour a scenario declares for one of its own images.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AppBehaviour {
    /// Tags that exist (empty: any tag).
    pub tags: Vec<String>,
    pub image_size: u64,
    /// TCP ports served over HTTP once started.
    pub ports: Vec<u16>,
    /// HTTP paths and the status they answer (others: 404).
    pub paths: Vec<PathStatus>,
    /// Ports serving the gRPC health protocol (`SERVING`).
    pub grpc_ports: Vec<u16>,
    /// Environment variables the app needs; a missing one makes it log
    /// `missing_env_message` (with `{name}`) and exit with `exit_code` (1 by default).
    pub requires_env: Vec<String>,
    pub missing_env_message: Option<String>,
    /// Files the app reads; a missing one is fatal like a missing env var.
    pub config_files: Vec<String>,
    pub missing_file_message: Option<String>,
    /// Resident memory in bytes (OOMKilled over the container's limit).
    pub memory_bytes: u64,
    /// CPU kept busy while running, in millicores (what `kubectl top` and
    /// the HorizontalPodAutoscaler see, up to the container's CPU limit).
    pub cpu_millicores: u64,
    /// Lines logged at start-up, with their offsets in seconds.
    pub logs: Vec<TimedLine>,
    /// Seconds before the ports open.
    pub startup_seconds: f64,
    /// Exits by itself after `exit_after_seconds` with `exit_code`.
    pub exit_after_seconds: Option<f64>,
    pub exit_code: Option<i32>,
    /// The image has a shell (`sh`) for exec probes and `kubectl exec`.
    pub shell: bool,
    /// The repository is private: a pull needs a pull secret for its
    /// registry with this login.
    pub private: Option<RegistryLogin>,
}

/// The login a private registry accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryLogin {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathStatus {
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimedLine {
    pub at: f64,
    pub line: String,
}
