//! One connection to a lab's cluster: a kube client from the lab's
//! kubeconfig, the scenario, and the two things done over it: running a
//! scenario script (setup, solution, a shortcut) and grading the rubric.

use super::{LabError, LabState, Result};
use crate::grade::{CriterionResult, GradeEvent, Grader, Profile, Summary};
use crate::scenario::Scenario;
use crate::script::{self, Host, Limits, Roots};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::Path;
use std::sync::Arc;

/// A kube client for `kubeconfig` (its current context, or `context`).
pub async fn client(kubeconfig: &Path, context: Option<&str>) -> Result<Client> {
    let kc = Kubeconfig::read_from(kubeconfig).map_err(|e| {
        LabError::Cluster(format!(
            "failed to read kubeconfig {}: {e}",
            kubeconfig.display()
        ))
    })?;
    client_from(kc, context).await
}

/// A kube client for a kubeconfig already in memory.
pub async fn client_from(kc: Kubeconfig, context: Option<&str>) -> Result<Client> {
    let opts = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| LabError::Cluster(format!("failed to load kubeconfig: {e}")))?;
    Client::try_from(cfg).map_err(|e| LabError::Cluster(format!("failed to build a client: {e}")))
}

/// A lab's scenario and its cluster, as scripts and grading see them.
pub struct Session {
    pub scenario: Scenario,
    pub host: Arc<Host>,
}

impl Session {
    /// Connects to `client`; script `log(...)` lines go to `log`.
    pub fn new(client: Client, scenario: Scenario, log: Arc<dyn Fn(&str) + Send + Sync>) -> Self {
        let mut host = Host::new(client, scenario.namespace(), scenario.dir.clone());
        host.log = log;
        Self {
            scenario,
            host: Arc::new(host),
        }
    }

    /// Connects to a running lab; author log lines are appended to the
    /// lab's `scripts.log` (they would give the fault away).
    pub async fn open(st: &LabState) -> Result<Self> {
        let scenario = Scenario::load(&st.scenario_dir, None)?;
        let client = client(&st.kubeconfig, st.context.as_deref()).await?;
        let mut session = Self::new(client, scenario, file_log(&st.dir().join("scripts.log")));
        if let Some(host) = Arc::get_mut(&mut session.host) {
            host.cluster = std::fs::read_to_string(&st.kubeconfig)
                .ok()
                .and_then(|t| crate::backend::kubeconfig::cluster_of(&t).ok())
                .map(|c| crate::script::host::ClusterAccess {
                    name: c.name,
                    server: c.server,
                    ca_data: base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        c.ca_pem,
                    ),
                });
        }
        Ok(session)
    }

    /// Runs a script of the scenario (`setup.rhai`, `solution.rhai`, a
    /// shortcut's file).
    pub async fn script(&self, rel: &str) -> Result<()> {
        if rel == "setup.rhai" {
            self.declare_images().await?;
        }
        let roots = Roots {
            scenario: self.scenario.dir.clone(),
            library: self.scenario.root.clone(),
        };
        let _ = script::run_scenario_file(self.host.clone(), roots, rel, Limits::default()).await?;
        Ok(())
    }

    /// Declares the scenario's own images (`images:` in scenario.yaml) to
    /// the cluster's container runtime, before setup deploys them. A real
    /// cluster has no such runtime; there the images behave as themselves.
    pub async fn declare_images(&self) -> Result<()> {
        for (repository, behaviour) in &self.scenario.spec.images {
            let taken = self
                .host
                .declare_image(repository, behaviour)
                .await
                .map_err(|e| crate::script::ScriptError::Runtime {
                    file: "scenario.yaml".into(),
                    line: 0,
                    column: 0,
                    message: format!("images: {repository}: {}", e.0),
                })?;
            if !taken {
                (self.host.log)(&format!(
                    "images: {repository}: not a simulated cluster; the real image runs"
                ));
            }
        }
        Ok(())
    }

    /// Grades the rubric, sending each event to `emit`.
    pub async fn grade(
        &self,
        profile: Profile,
        hints_used: usize,
        since: Option<jiff::Timestamp>,
        hold_scale: f64,
        emit: impl FnMut(&GradeEvent),
    ) -> (Vec<CriterionResult>, Summary) {
        let mut g = Grader::new(self.host.clone(), self.scenario.clone(), profile);
        g.hints_used = hints_used;
        g.since = since;
        g.hold_scale = hold_scale;
        g.run(emit).await
    }
}

/// A logger appending lines to `path` (errors ignored: the log is a
/// convenience for scenario authors).
pub fn file_log(path: &Path) -> Arc<dyn Fn(&str) + Send + Sync> {
    let path = path.to_path_buf();
    Arc::new(move |line: &str| {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = writeln!(f, "{line}");
        }
    })
}
