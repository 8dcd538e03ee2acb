//! Provisioning and tearing down a lab's cluster on each backend:
//! `sim` (a detached `kdrill lab-serve`), `kind` (the kind CLI),
//! `kubeconfig` (an existing context) and `k3s` (not built yet).

use super::process;
use super::{Backend, LabError, Result};
use crate::scenario::Scenario;
use kube::config::Kubeconfig;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `kdrill start` was asked for, besides the scenario.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--kubeconfig` (kubeconfig backend).
    pub kubeconfig: Option<PathBuf>,
    /// `--context` (kubeconfig backend).
    pub context: Option<String>,
    /// Seed of the simulation.
    pub seed: u64,
    /// Simulated time runs this many times faster than real time.
    pub time_scale: f64,
}

/// A provisioned cluster.
#[derive(Debug)]
pub struct Cluster {
    pub pid: Option<u32>,
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
}

/// The kind cluster name of a lab.
pub fn kind_cluster(lab: &str) -> String {
    format!("kdrill-{lab}")
}

/// Whether `program` is on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Brings up a cluster for the lab in `dir`.
pub async fn provision(
    backend: Backend,
    name: &str,
    dir: &Path,
    scenario: &Scenario,
    opts: &Options,
) -> Result<Cluster> {
    match backend {
        Backend::Sim => sim(dir, scenario, opts),
        Backend::Kubeconfig => existing(dir, opts).await,
        Backend::Kind => kind(name, dir, scenario),
        Backend::K3s => Err(LabError::BackendUnavailable {
            backend: "k3s".into(),
            message: if on_path("docker") {
                "the k3s backend is not built into this kdrill yet; use --backend kind or sim"
                    .into()
            } else {
                "docker not found on PATH (k3s runs in a container); use --backend sim".into()
            },
        }),
    }
}

fn sim(dir: &Path, scenario: &Scenario, opts: &Options) -> Result<Cluster> {
    let _ = std::fs::remove_file(dir.join(process::READY_FILE));
    let workers = scenario.spec.cluster.nodes.saturating_sub(1);
    let extra = vec![
        "--workers".to_string(),
        workers.to_string(),
        "--seed".into(),
        opts.seed.to_string(),
        "--time-scale".into(),
        opts.time_scale.to_string(),
    ];
    let mut child = process::spawn_server(dir, &extra)
        .map_err(|e| LabError::Cluster(format!("failed to start the simulated cluster: {e}")))?;
    match process::wait_ready(&mut child, dir, 600) {
        Ok(_) => Ok(Cluster {
            pid: Some(child.id()),
            kubeconfig: dir.join("kubeconfig"),
            context: None,
        }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(LabError::Cluster(e))
        }
    }
}

/// The kubeconfig file kubectl would use: `$KUBECONFIG`'s first entry,
/// else `~/.kube/config`.
fn default_kubeconfig() -> PathBuf {
    if let Some(k) = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty())
        && let Some(first) = std::env::split_paths(&k).next()
    {
        return first;
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".kube")
        .join("config")
}

/// An existing context: copied into the lab folder with that context
/// current, so `export KUBECONFIG=...` points kubectl at it; the cluster
/// must answer.
async fn existing(dir: &Path, opts: &Options) -> Result<Cluster> {
    let src = opts.kubeconfig.clone().unwrap_or_else(default_kubeconfig);
    let unavailable = |message: String| LabError::BackendUnavailable {
        backend: "kubeconfig".into(),
        message,
    };
    let mut kc = Kubeconfig::read_from(&src)
        .map_err(|e| unavailable(format!("cannot read {}: {e}", src.display())))?;
    let context = match &opts.context {
        Some(c) => {
            if !kc.contexts.iter().any(|n| &n.name == c) {
                return Err(unavailable(format!(
                    "no context {c:?} in {}",
                    src.display()
                )));
            }
            c.clone()
        }
        None => kc.current_context.clone().ok_or_else(|| {
            unavailable(format!(
                "{} has no current context; pass --context",
                src.display()
            ))
        })?,
    };
    kc.current_context = Some(context.clone());
    let path = dir.join("kubeconfig");
    let yaml = serde_json::to_value(&kc)
        .ok()
        .and_then(|v| crate::api::yaml::to_string(&v).ok())
        .ok_or_else(|| unavailable("cannot write the kubeconfig".into()))?;
    write_private(&path, &yaml)?;
    let client = super::session::client(&path, None).await?;
    client
        .apiserver_version()
        .await
        .map_err(|e| unavailable(format!("context {context:?} does not answer: {e}")))?;
    Ok(Cluster {
        pid: None,
        kubeconfig: path,
        context: Some(context),
    })
}

/// The kind cluster config for a scenario: its node count, and with the
/// ingress-nginx add-on the control plane labelled `ingress-ready=true`
/// as kind's ingress guide does (its host port mappings are left out: two
/// labs could not both bind 80 and 443).
pub fn kind_config(scenario: &Scenario) -> String {
    let mut config = String::from(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n",
    );
    if scenario
        .spec
        .cluster
        .addons
        .contains(&crate::scenario::model::Addon::IngressNginx)
    {
        config.push_str("  kubeadmConfigPatches:\n  - |\n    kind: InitConfiguration\n    nodeRegistration:\n      kubeletExtraArgs:\n        node-labels: \"ingress-ready=true\"\n");
    }
    for _ in 1..scenario.spec.cluster.nodes.max(1) {
        config.push_str("- role: worker\n");
    }
    config
}

fn kind(name: &str, dir: &Path, scenario: &Scenario) -> Result<Cluster> {
    for tool in ["kind", "docker"] {
        if !on_path(tool) {
            return Err(LabError::BackendUnavailable {
                backend: "kind".into(),
                message: format!(
                    "{tool} not found on PATH; install Docker and kind, or use --backend sim"
                ),
            });
        }
    }
    let config = kind_config(scenario);
    let config_path = dir.join("kind.yaml");
    std::fs::write(&config_path, config).map_err(|source| LabError::Io {
        path: config_path.clone(),
        source,
    })?;
    let kubeconfig = dir.join("kubeconfig");
    let cluster = kind_cluster(name);
    run(Command::new("kind")
        .args([
            "create", "cluster", "--name", &cluster, "--wait", "120s", "--config",
        ])
        .arg(&config_path)
        .arg("--kubeconfig")
        .arg(&kubeconfig))?;
    Ok(Cluster {
        pid: None,
        kubeconfig,
        context: Some(format!("kind-{cluster}")),
    })
}

/// Runs an external command; a failure reads as the command to paste.
fn run(cmd: &mut Command) -> Result<()> {
    let pretty = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd
        .output()
        .map_err(|e| LabError::Cluster(format!("failed to run `{pretty}`: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(LabError::Cluster(format!(
        "command failed ({}): `{pretty}`: {last}",
        out.status
    )))
}

/// Tears a lab's cluster down: stops the server (sim), deletes the kind
/// cluster, or deletes the scenario's namespace (kubeconfig). True when
/// something was still running.
pub async fn teardown(st: &super::LabState, namespace: Option<&str>) -> bool {
    match st.backend {
        Backend::Sim => st.pid.is_some_and(|pid| process::stop(pid, &st.dir())),
        Backend::Kind => {
            run(Command::new("kind").args(["delete", "cluster", "--name", &kind_cluster(&st.name)]))
                .is_ok()
        }
        Backend::K3s => false,
        Backend::Kubeconfig => match namespace {
            Some(ns) if ns != "default" => delete_namespace(st, ns).await.is_ok(),
            _ => false,
        },
    }
}

/// Deletes a namespace and waits (up to 2 minutes) until it is gone.
pub async fn delete_namespace(st: &super::LabState, ns: &str) -> Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::Api;
    let client = super::session::client(&st.kubeconfig, st.context.as_deref()).await?;
    let api: Api<Namespace> = Api::all(client);
    match api.delete(ns, &Default::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
        Err(e) => {
            return Err(LabError::Cluster(format!(
                "failed to delete namespace {ns}: {e}"
            )));
        }
    }
    for _ in 0..240 {
        match api.get_opt(ns).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            Err(e) => return Err(LabError::Cluster(e.to_string())),
        }
    }
    Err(LabError::Cluster(format!(
        "namespace {ns} was not deleted within 2 minutes"
    )))
}

/// Writes a file only its owner can read (a kubeconfig holds credentials).
pub fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let err = |source| LabError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = o.open(path).map_err(err)?;
    f.write_all(contents.as_bytes()).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{Addon, ScenarioSpec};

    fn scenario(nodes: usize, addons: Vec<Addon>) -> Scenario {
        let yaml = "id: demo\ntitle: Demo\nsummary: A demo.\ndifficulty: beginner\nestimatedMinutes: 5\nrubric:\n  criteria: []\n";
        let mut spec: ScenarioSpec = serde_saphyr::from_str(yaml).expect("spec");
        spec.cluster.nodes = nodes;
        spec.cluster.addons = addons;
        Scenario {
            dir: PathBuf::from("demo"),
            root: PathBuf::from("."),
            spec,
            task: String::new(),
        }
    }

    #[test]
    fn kind_config_labels_the_control_plane_for_ingress_nginx() {
        assert_eq!(
            kind_config(&scenario(2, vec![])),
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n"
        );
        let with = kind_config(&scenario(1, vec![Addon::IngressNginx]));
        assert_eq!(
            with,
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  kubeadmConfigPatches:\n  - |\n    kind: InitConfiguration\n    nodeRegistration:\n      kubeletExtraArgs:\n        node-labels: \"ingress-ready=true\"\n"
        );
        // The config is valid YAML with the patch on the control plane.
        let v = crate::api::yaml::from_multiple(&with).expect("yaml");
        assert_eq!(
            v[0].pointer("/nodes/0/kubeadmConfigPatches/0")
                .and_then(serde_json::Value::as_str)
                .map(|p| p.contains("node-labels: \"ingress-ready=true\"")),
            Some(true)
        );
    }
}
