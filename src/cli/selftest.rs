//! `kdrill selftest [ID...] [--json]`: for each scenario, on an in-process
//! simulated cluster on a virtual clock: the rubric fails after setup,
//! passes after the solution, and fails after each listed shortcut. A
//! summary table (or JSON); exit 0 only when every expectation holds.

use super::progress::{Status, block_on};
use crate::lab::{Backend, selftest};
use crate::scenario::Catalog;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario ids (default: every scenario in the catalog).
    pub ids: Vec<String>,
    /// Where the clusters come from (only `sim` for now).
    #[arg(long, value_enum, default_value = "sim")]
    pub backend: Backend,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
    /// Seed for every random choice in the simulation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: Args) -> u8 {
    if args.backend != Backend::Sim {
        eprintln!(
            "error: backend {} unavailable: selftest runs on the simulated cluster only for now (--backend sim)",
            args.backend.as_str()
        );
        return super::exit::BACKEND;
    }
    let catalog = Catalog::discover();
    let scenarios = if args.ids.is_empty() {
        catalog.load_all()
    } else {
        args.ids.iter().map(|id| catalog.find(id)).collect()
    };
    let scenarios = match scenarios {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::USAGE;
        }
    };
    let status = Status::stderr();
    block_on(async move {
        let mut results = Vec::new();
        for s in &scenarios {
            let step = status.start(format!("Self-testing {}", s.spec.id));
            let r = selftest::run(s, args.seed).await;
            if r.passed {
                step.ok();
            } else {
                step.fail();
            }
            results.push(r);
        }
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&results).unwrap_or_default()
            );
        } else {
            print!("{}", selftest::table(&results));
            let details = selftest::details(&results);
            if !details.is_empty() {
                println!();
                print!("{details}");
            }
        }
        if results.iter().all(|r| r.passed) {
            super::exit::OK
        } else {
            super::exit::CHECKS_FAILED
        }
    })
}
