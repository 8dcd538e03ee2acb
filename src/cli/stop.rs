//! `kdrill stop [--name NAME|--all]`: tear a lab's cluster down and
//! remove its state. A lab whose cluster process already died is cleaned
//! up, and says so.

use super::progress::{Status, block_on, fail};
use crate::lab::{self, LabState, provision};
use crate::scenario::Scenario;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lab (default: the only one running).
    #[arg(long, conflicts_with = "all")]
    pub name: Option<String>,
    /// Stop every lab.
    #[arg(long)]
    pub all: bool,
}

pub fn run(args: Args) -> u8 {
    let status = Status::stderr();
    let labs: Vec<LabState> = if args.all {
        for n in lab::orphans() {
            if lab::clean_orphan(&n) {
                status.line(
                    true,
                    &format!("Cleaned up lab {n:?}: its start never finished"),
                );
            }
        }
        let names = lab::names();
        if names.is_empty() {
            eprintln!("No labs to stop.");
            return super::exit::OK;
        }
        let mut out = Vec::new();
        for n in names {
            match LabState::load(&n) {
                Ok(st) => out.push(st),
                Err(e) => {
                    eprintln!("warning: {e}; removing it");
                    let _ = lab::remove(&n);
                }
            }
        }
        out
    } else {
        match lab::resolve(args.name.as_deref()) {
            Ok(st) => vec![st],
            Err(e) => {
                if let Some(n) = args.name.as_deref().filter(|n| lab::clean_orphan(n)) {
                    status.line(
                        true,
                        &format!("Cleaned up lab {n:?}: its start never finished"),
                    );
                    return super::exit::OK;
                }
                return fail(&e);
            }
        }
    };
    block_on(async move {
        let mut code = super::exit::OK;
        for st in labs {
            if !st.alive() {
                if let Err(e) = lab::remove(&st.name) {
                    code = fail(&e);
                    continue;
                }
                status.line(
                    true,
                    &format!(
                        "Cleaned up lab {:?}: its cluster process (pid {}) had already exited",
                        st.name,
                        st.pid.unwrap_or_default()
                    ),
                );
                continue;
            }
            let step = status.start(format!("Stopping lab {:?}", st.name));
            let ns = Scenario::load(&st.scenario_dir, None)
                .ok()
                .map(|s| s.namespace().to_string());
            provision::teardown(&st, ns.as_deref()).await;
            match lab::remove(&st.name) {
                Ok(()) => step.ok(),
                Err(e) => {
                    step.fail();
                    code = fail(&e);
                }
            }
        }
        code
    })
}
