//! `kdrill hint`: the next hint of the running lab's scenario. Shown
//! hints are recorded in the lab's state so their cost counts in `check`.

use super::progress::fail;
use crate::grade::Profile;
use crate::lab;
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
    let profile = match Profile::load(&scenario.root, &st.profile) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::USAGE;
        }
    };
    if !profile.hints {
        eprintln!("error: hints are off in the {} profile", profile.name);
        return super::exit::USAGE;
    }
    let hints = &scenario.spec.hints;
    let Some(hint) = hints.get(st.hints_used) else {
        eprintln!(
            "no more hints: all {} of {} have been shown",
            hints.len(),
            scenario.spec.id
        );
        return super::exit::OK;
    };
    st.hints_used += 1;
    if let Err(e) = st.save() {
        return fail(&e);
    }
    let cost = hint.cost * profile.hint_cost_factor;
    println!(
        "Hint {}/{} ({cost} points): {}",
        st.hints_used,
        hints.len(),
        hint.text.trim()
    );
    super::exit::OK
}
