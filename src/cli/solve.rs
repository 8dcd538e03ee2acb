//! `kdrill solve`: apply the scenario's reference solution to the running
//! lab (`solution.rhai`).

use super::progress::{Status, block_on, fail};
use crate::lab::{self, session::Session};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lab (default: the only one running).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: Args) -> u8 {
    let st = match lab::resolve_running(args.name.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let status = Status::stderr();
    block_on(async move {
        let step = status.start(format!(
            "Applying the reference solution of {} 🩹",
            st.scenario
        ));
        let out = match Session::open(&st).await {
            Ok(s) => s.script("solution.rhai").await,
            Err(e) => Err(e),
        };
        match out {
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
