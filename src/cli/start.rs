//! `kdrill start <id>`: provision a cluster, run the scenario's setup,
//! print the task and the `export KUBECONFIG=...` line, and return while
//! the lab keeps running (`--shell`: a subshell, the lab stopped after).

use super::progress::{Status, block_on, fail};
use crate::grade::Profile;
use crate::lab::provision::{self, Options};
use crate::lab::{self, Backend, LabState};
use crate::scenario::Catalog;
use crate::sim::clock::Clock;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario id (see `kdrill list`).
    pub id: String,
    /// Where the cluster comes from.
    #[arg(long, value_enum, default_value = "sim")]
    pub backend: Backend,
    /// The lab's name (several labs can run side by side).
    #[arg(long, default_value = lab::DEFAULT_NAME)]
    pub name: String,
    /// Open a subshell with KUBECONFIG set; the lab stops when it exits.
    #[arg(long)]
    pub shell: bool,
    /// Print the lab name, kubeconfig path and backend as JSON.
    #[arg(long)]
    pub json: bool,
    /// The kubeconfig file (kubeconfig backend; default: kubectl's).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The context to use (kubeconfig backend; default: the current one).
    #[arg(long)]
    pub context: Option<String>,
    /// Rubric profile from grading/: practice, exam, interview.
    #[arg(long, default_value = "practice")]
    pub profile: String,
    /// Seed for every random choice in the simulation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run simulated time this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
}

pub fn run(args: Args) -> u8 {
    let scenario = match Catalog::discover().find(&args.id) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::USAGE;
        }
    };
    if let Err(e) = Profile::load(&scenario.root, &args.profile) {
        eprintln!("error: {e}");
        return super::exit::USAGE;
    }
    let scenario_dir = lab::process::absolute(&scenario.dir);
    let status = Status::stderr();
    block_on(async move {
        let stale = match lab::claim(&args.name) {
            Ok(s) => s,
            Err(e) => return fail(&e),
        };
        if let Some(old) = stale {
            eprintln!(
                "note: lab {:?} (scenario {}) had stopped; its old state was cleared",
                old.name, old.scenario
            );
        }
        let dir = lab::lab_dir(&args.name);
        let what = match args.backend {
            Backend::Sim => "Starting the simulated cluster 🖥".to_string(),
            Backend::Kind => format!(
                "Creating kind cluster {:?} 📦",
                provision::kind_cluster(&args.name)
            ),
            Backend::K3s => "Starting a k3s cluster 📦".to_string(),
            Backend::Kubeconfig => "Connecting to the cluster 🔌".to_string(),
        };
        let step = status.start(what);
        let opts = Options {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            seed: args.seed,
            time_scale: args.time_scale,
        };
        let cluster =
            match provision::provision(args.backend, &args.name, &dir, &scenario, &opts).await {
                Ok(c) => c,
                Err(e) => {
                    step.fail();
                    let _ = lab::remove(&args.name);
                    return fail(&e);
                }
            };
        step.ok();
        let mut st = LabState {
            name: args.name.clone(),
            scenario: scenario.spec.id.clone(),
            scenario_dir,
            backend: args.backend,
            pid: cluster.pid,
            kubeconfig: cluster.kubeconfig,
            context: cluster.context,
            profile: args.profile.clone(),
            hints_used: 0,
            started_at: crate::sim::clock::WallClock::new(1.0).now(),
            setup_finished_at: None,
            time_scale: args.time_scale,
            seed: args.seed,
        };
        if let Err(e) = st.save() {
            provision::teardown(&st, Some(scenario.namespace())).await;
            let _ = lab::remove(&args.name);
            return fail(&e);
        }
        for addon in &scenario.spec.cluster.addons {
            let step = status.start(format!("Installing add-on {}", lab::addons::name(*addon)));
            if let Err(e) = lab::install_addon(&st, *addon).await {
                step.fail();
                provision::teardown(&st, Some(scenario.namespace())).await;
                let _ = lab::remove(&args.name);
                return fail(&e);
            }
            step.ok();
        }
        let step = status.start(format!("Setting up {} 🔧", scenario.spec.id));
        if let Err(e) = lab::run_setup(&mut st).await {
            step.fail();
            provision::teardown(&st, Some(scenario.namespace())).await;
            let _ = lab::remove(&args.name);
            return fail(&e);
        }
        step.ok();

        let export = format!("export KUBECONFIG={}", st.kubeconfig.display());
        let ingress = match st.backend {
            Backend::Sim => lab::process::ingress_ports(&dir),
            _ => None,
        };
        if args.json {
            let mut v = json!({
                "name": st.name,
                "scenario": st.scenario,
                "kubeconfig": st.kubeconfig,
                "backend": st.backend.as_str(),
            });
            if let Some((http, https)) = ingress {
                v["ingressPorts"] = json!({"http": http, "https": https});
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            println!("{}", scenario.task.trim_end());
            println!();
            println!("{export}");
        }
        let uses_ingress = scenario
            .spec
            .cluster
            .addons
            .contains(&crate::scenario::model::Addon::IngressNginx);
        if let Some((http, https)) = ingress.filter(|_| uses_ingress && !args.json) {
            eprintln!("{}", crate::sim::hostport::hint(http, https));
        }
        if !args.shell {
            let name_flag = if st.name == lab::DEFAULT_NAME {
                String::new()
            } else {
                format!(" --name {}", st.name)
            };
            eprintln!(
                "Lab {:?} is running. Fix it with kubectl, then `kdrill check{name_flag}`; `kdrill hint{name_flag}` helps, `kdrill stop{name_flag}` ends it.",
                st.name
            );
            return super::exit::OK;
        }
        let code = subshell(&st);
        let step = status.start(format!("Stopping lab {:?}", st.name));
        provision::teardown(&st, Some(scenario.namespace())).await;
        let _ = lab::remove(&st.name);
        step.ok();
        code
    })
}

/// Runs `$SHELL` (else /bin/sh) with KUBECONFIG set; its exit code.
fn subshell(st: &LabState) -> u8 {
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    eprintln!("Starting a shell with KUBECONFIG set; exit it to stop the lab.");
    // Ctrl-C in the subshell reaches this process too (same foreground
    // group): catch it so that the lab is still stopped when the shell exits.
    #[cfg(unix)]
    let _sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    match std::process::Command::new(&shell)
        .env("KUBECONFIG", &st.kubeconfig)
        .env("KDRILL_LAB", &st.name)
        .status()
    {
        Ok(s) => s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(0),
        Err(e) => {
            eprintln!("error: failed to run {}: {e}", shell.to_string_lossy());
            super::exit::USAGE
        }
    }
}
