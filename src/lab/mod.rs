//! Running labs: a scenario on a provisioned cluster, with its state kept
//! under `$KDRILL_HOME/labs/<name>/` so that `check`, `hint`, `solve`,
//! `reset`, `status` and `stop` (separate processes) find it again.
//!
//! A lab folder holds `state.json` ([`LabState`]), the lab's `kubeconfig`
//! and, for the simulated backend, `serve.log` and `ready` (written by the
//! detached `kdrill lab-serve` process once it serves).
//!
//! May import: `scenario`, `script`, `grade`, `backend`, `sim` (for the
//! in-process self-test cluster).

pub mod addons;
pub mod process;
pub mod provision;
pub mod selftest;
pub mod session;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The lab name used when `--name` is not given.
pub const DEFAULT_NAME: &str = "kdrill";

/// Where a lab's cluster comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded simulated cluster, in a detached `kdrill` process.
    Sim,
    /// A kind cluster (needs Docker and the kind CLI).
    Kind,
    /// A k3s cluster in a container (needs Docker).
    K3s,
    /// An existing cluster context (`--kubeconfig`, `--context`).
    Kubeconfig,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Kind => "kind",
            Backend::K3s => "k3s",
            Backend::Kubeconfig => "kubeconfig",
        }
    }
}

/// What `state.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabState {
    pub name: String,
    pub scenario: String,
    /// The scenario folder (absolute), so the lab works from any directory.
    pub scenario_dir: PathBuf,
    pub backend: Backend,
    /// The process serving the cluster (sim backend), if any.
    #[serde(default)]
    pub pid: Option<u32>,
    pub kubeconfig: PathBuf,
    /// The context to use in `kubeconfig` (kubeconfig backend).
    #[serde(default)]
    pub context: Option<String>,
    /// The rubric profile (`grading/<profile>.yaml`).
    pub profile: String,
    /// Hints shown so far; their cost counts in `check`.
    pub hints_used: usize,
    /// When the lab started (RFC 3339).
    pub started_at: jiff::Timestamp,
    /// When setup last finished: `eventAbsentSince` looks from here.
    pub setup_finished_at: Option<jiff::Timestamp>,
    /// How much faster than real time the cluster's clock runs.
    #[serde(default = "one")]
    pub time_scale: f64,
    /// The simulation's seed (sim backend).
    #[serde(default = "seed_one")]
    pub seed: u64,
}

fn seed_one() -> u64 {
    1
}

fn one() -> f64 {
    1.0
}

/// Why a lab command could not run. Each renders as one line; the exit
/// code comes from [`LabError::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("no lab is running; start one with `kdrill start <scenario>` (see `kdrill list`)")]
    NoLab,
    #[error("no lab named {0:?} is running (see `kdrill status`)")]
    NotFound(String),
    #[error("several labs are running ({0}); pick one with --name")]
    Ambiguous(String),
    #[error(
        "a lab named {name:?} is already running (scenario {scenario}); stop it with `kdrill stop --name {name}` or pick another --name"
    )]
    AlreadyRunning { name: String, scenario: String },
    #[error(
        "lab {name:?}: its cluster process (pid {pid}) is not running any more; `kdrill stop --name {name}` cleans it up"
    )]
    Dead { name: String, pid: u32 },
    #[error(
        "invalid lab name {0:?}: use lowercase letters, digits and '-', starting with a letter (at most 40)"
    )]
    BadName(String),
    #[error("lab {name:?}: unreadable state {path}: {message}")]
    BadState {
        name: String,
        path: PathBuf,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("backend {backend} unavailable: {message}")]
    BackendUnavailable { backend: String, message: String },
    #[error("{0}")]
    Scenario(#[from] crate::scenario::LoadError),
    #[error("{0}")]
    Script(#[from] crate::script::ScriptError),
    #[error("{0}")]
    Cluster(String),
}

impl LabError {
    /// The exit code (DESIGN.md): usage 2, backend 3, script 4.
    pub fn exit_code(&self) -> u8 {
        use crate::cli::exit;
        match self {
            LabError::BackendUnavailable { .. } | LabError::Cluster(_) => exit::BACKEND,
            LabError::Script(_) => exit::SCRIPT,
            _ => exit::USAGE,
        }
    }
}

pub type Result<T, E = LabError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `$KDRILL_HOME/labs`.
pub fn labs_dir() -> PathBuf {
    process::absolute(&crate::home_dir().join("labs"))
}

/// A lab's folder.
pub fn lab_dir(name: &str) -> PathBuf {
    labs_dir().join(name)
}

/// Lab names become folder names and kind cluster names: a DNS label.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(LabError::BadName(name.to_string()))
    }
}

impl LabState {
    pub fn dir(&self) -> PathBuf {
        lab_dir(&self.name)
    }

    fn file(name: &str) -> PathBuf {
        lab_dir(name).join("state.json")
    }

    /// Reads a lab's state.
    pub fn load(name: &str) -> Result<Self> {
        let path = Self::file(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LabError::NotFound(name.to_string()));
            }
            Err(e) => return Err(io(&path)(e)),
        };
        serde_json::from_str(&text).map_err(|e| LabError::BadState {
            name: name.to_string(),
            path: path.clone(),
            message: e.to_string(),
        })
    }

    /// Writes the state atomically (write a temporary file, rename).
    pub fn save(&self) -> Result<()> {
        let path = Self::file(&self.name);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Whether the lab's cluster is still there: the serving process is
    /// alive (sim); other backends are taken to be up.
    pub fn alive(&self) -> bool {
        match self.pid {
            Some(pid) => process::alive(pid, &self.dir()),
            None => self.backend != Backend::Sim,
        }
    }
}

/// The names of every lab folder, sorted.
pub fn names() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(labs_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("state.json").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Lab folders without a state file: a start that has not finished (or
/// never will, if it was killed).
pub fn orphans() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(labs_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir() && !e.path().join("state.json").exists())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Stops the server of a lab folder without state, if any, and removes
/// the folder. True when there was such a folder.
pub fn clean_orphan(name: &str) -> bool {
    let dir = lab_dir(name);
    if check_name(name).is_err() || !dir.is_dir() || dir.join("state.json").exists() {
        return false;
    }
    if let Some(pid) = process::find_server(&dir) {
        process::stop(pid, &dir);
    }
    std::fs::remove_dir_all(&dir).is_ok()
}

/// The lab a command means: `--name`, else `$KDRILL_LAB` (set in a
/// `kdrill start --shell`), else the only lab there is (or the default
/// one among several).
pub fn resolve(name: Option<&str>) -> Result<LabState> {
    let from_env = std::env::var("KDRILL_LAB").ok().filter(|n| !n.is_empty());
    if let Some(n) = name.or(from_env.as_deref()) {
        check_name(n)?;
        return LabState::load(n);
    }
    let all = names();
    match all.as_slice() {
        [] => Err(LabError::NoLab),
        [one] => LabState::load(one),
        many if many.iter().any(|n| n == DEFAULT_NAME) => LabState::load(DEFAULT_NAME),
        many => Err(LabError::Ambiguous(many.join(", "))),
    }
}

/// Like [`resolve`], and the lab's cluster must be up.
pub fn resolve_running(name: Option<&str>) -> Result<LabState> {
    let st = resolve(name).map_err(|e| match e {
        LabError::NotFound(_) if name.is_none() => LabError::NoLab,
        e => e,
    })?;
    if !st.alive() {
        return Err(LabError::Dead {
            name: st.name.clone(),
            pid: st.pid.unwrap_or_default(),
        });
    }
    Ok(st)
}

/// Claims `labs/<name>/` for a new lab: an existing live lab is an error;
/// the folder of a dead one is cleared (returned as `Some(old)` so the
/// caller can say so).
pub fn claim(name: &str) -> Result<Option<LabState>> {
    check_name(name)?;
    let dir = lab_dir(name);
    let mut stale = None;
    if dir.exists() {
        match LabState::load(name) {
            Ok(st) if st.alive() => {
                return Err(LabError::AlreadyRunning {
                    name: name.to_string(),
                    scenario: st.scenario,
                });
            }
            Ok(st) => stale = Some(st),
            Err(LabError::NotFound(_)) => {
                // A folder without state: a start still in progress, or
                // one that died before writing it. A live `lab-serve`
                // for it means the former.
                if process::find_server(&dir).is_some() {
                    return Err(LabError::AlreadyRunning {
                        name: name.to_string(),
                        scenario: "starting".into(),
                    });
                }
            }
            Err(_) => {}
        }
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::create_dir_all(labs_dir()).map_err(io(&labs_dir()))?;
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(stale),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(LabError::AlreadyRunning {
            name: name.to_string(),
            scenario: "starting".into(),
        }),
        Err(e) => Err(io(&dir)(e)),
    }
}

/// Removes a lab's folder.
pub fn remove(name: &str) -> Result<()> {
    let dir = lab_dir(name);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&dir)(e)),
    }
}

/// Now on the lab cluster's clock: real time, sped up by the lab's time
/// scale since the lab started.
pub fn cluster_now(st: &LabState) -> jiff::Timestamp {
    use crate::sim::clock::Clock;
    let now = crate::sim::clock::WallClock::new(1.0).now();
    let elapsed = now.duration_since(st.started_at);
    let scaled =
        jiff::SignedDuration::from_secs_f64(elapsed.as_secs_f64() * st.time_scale.max(0.0));
    st.started_at.checked_add(scaled).unwrap_or(now)
}

/// Installs one of the scenario's add-ons on the lab's cluster and waits
/// until it serves.
pub async fn install_addon(st: &LabState, addon: crate::scenario::model::Addon) -> Result<()> {
    let s = session::Session::open(st).await?;
    addons::install(&s.host, addon, addons::TIMEOUT)
        .await
        .map_err(|e| LabError::Cluster(format!("add-on {}: {}", addons::name(addon), e.0)))
}

/// Runs the scenario's setup on the lab's cluster and records when it
/// finished.
pub async fn run_setup(st: &mut LabState) -> Result<()> {
    let s = session::Session::open(st).await?;
    s.script("setup.rhai").await?;
    st.setup_finished_at = Some(cluster_now(st));
    st.save()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_names_are_dns_labels() {
        for ok in ["kdrill", "a", "lab-2", "crashloop-missing-config-key"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Lab",
            "2lab",
            "lab-",
            "a/b",
            "..",
            "a_b",
            &"a".repeat(41),
        ] {
            assert_eq!(
                check_name(bad).unwrap_err().to_string(),
                format!(
                    "invalid lab name {bad:?}: use lowercase letters, digits and '-', starting with a letter (at most 40)"
                )
            );
        }
    }

    #[test]
    fn errors_map_to_exit_codes() {
        assert_eq!(LabError::NoLab.exit_code(), 2);
        assert_eq!(
            LabError::BackendUnavailable {
                backend: "kind".into(),
                message: "x".into()
            }
            .exit_code(),
            3
        );
        assert_eq!(
            LabError::Dead {
                name: "a".into(),
                pid: 1
            }
            .exit_code(),
            2
        );
    }
}
