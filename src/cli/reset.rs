//! `kdrill reset`: a fresh cluster (sim: a new server process; other
//! backends: the scenario's namespace deleted) and the setup run again.
//! Hints already shown still count.

use super::progress::{Status, block_on, fail};
use crate::lab::provision::{self, Options};
use crate::lab::{self, Backend};
use crate::scenario::Scenario;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lab (default: the only one running).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: Args) -> u8 {
    let mut st = match lab::resolve(args.name.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let scenario = match Scenario::load(&st.scenario_dir, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::USAGE;
        }
    };
    let status = Status::stderr();
    block_on(async move {
        let step = status.start(format!("Resetting the cluster of lab {:?} ♻", st.name));
        let fresh = match st.backend {
            Backend::Sim => {
                if let Some(pid) = st.pid {
                    lab::process::stop(pid, &st.dir());
                }
                let opts = Options {
                    seed: st.seed,
                    time_scale: st.time_scale,
                    ..Options::default()
                };
                provision::provision(Backend::Sim, &st.name, &st.dir(), &scenario, &opts)
                    .await
                    .map(|c| {
                        st.pid = c.pid;
                        st.kubeconfig = c.kubeconfig;
                    })
            }
            _ => provision::delete_namespace(&st, scenario.namespace()).await,
        };
        if let Err(e) = fresh {
            step.fail();
            return fail(&e);
        }
        st.started_at = {
            use crate::sim::clock::Clock;
            crate::sim::clock::WallClock::new(1.0).now()
        };
        if let Err(e) = st.save() {
            step.fail();
            return fail(&e);
        }
        step.ok();
        for addon in &scenario.spec.cluster.addons {
            let step = status.start(format!("Installing add-on {}", lab::addons::name(*addon)));
            if let Err(e) = lab::install_addon(&st, *addon).await {
                step.fail();
                return fail(&e);
            }
            step.ok();
        }
        let step = status.start(format!("Setting up {} 🔧", st.scenario));
        match lab::run_setup(&mut st).await {
            Ok(()) => {
                step.ok();
                super::exit::OK
            }
            Err(e) => {
                step.fail();
                fail(&e)
            }
        }
    })
}
