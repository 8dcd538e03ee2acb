//! `kdrill check`: grade the running lab. Each criterion prints as it
//! finishes (✔/✘, points, what was seen); exit 0 only when the rubric
//! passes, 1 when it does not.

use super::progress::{Status, block_on, fail};
use crate::grade::{GradeEvent, Profile, report};
use crate::lab::{self, session::Session};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lab (default: the only one running).
    #[arg(long)]
    pub name: Option<String>,
    /// Print the grade as JSON instead.
    #[arg(long, conflicts_with_all = ["junit", "markdown"])]
    pub json: bool,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown report here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

pub fn run(args: Args) -> u8 {
    let st = match lab::resolve_running(args.name.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let status = Status::stderr();
    let color = report::use_color();
    block_on(async move {
        let session = match Session::open(&st).await {
            Ok(s) => s,
            Err(e) => return fail(&e),
        };
        let profile = match Profile::load(&session.scenario.root, &st.profile) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return super::exit::USAGE;
            }
        };
        let titles: std::collections::HashMap<String, String> = session
            .scenario
            .spec
            .rubric
            .criteria
            .iter()
            .map(|c| (c.id.clone(), c.title.clone()))
            .collect();
        let title = |id: &str| titles.get(id).cloned().unwrap_or_default();
        let mut step: Option<super::progress::Step> = None;
        let quiet = args.json;
        let (results, summary) = session
            .grade(profile, st.hints_used, st.setup_finished_at, 1.0, |ev| {
                match ev {
                    GradeEvent::Started { title, .. } if !quiet => {
                        step = Some(status.start_quiet(title));
                    }
                    GradeEvent::Passed { .. } | GradeEvent::Failed { .. } => {
                        if let Some(s) = step.take() {
                            s.clear();
                        }
                    }
                    _ => {}
                }
                if !quiet && let Some(line) = report::terminal_line(ev, &title, color) {
                    println!("{line}");
                }
            })
            .await;
        let scenario = &session.scenario.spec;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report::json(&scenario.id, &results, &summary))
                    .unwrap_or_default()
            );
        }
        if let Some(p) = &args.junit
            && let Err(e) = std::fs::write(p, report::junit(&scenario.id, &results, &summary))
        {
            eprintln!("error: failed to write {}: {e}", p.display());
            return super::exit::USAGE;
        }
        if let Some(p) = &args.markdown
            && let Err(e) = std::fs::write(p, report::markdown(&scenario.title, &results, &summary))
        {
            eprintln!("error: failed to write {}: {e}", p.display());
            return super::exit::USAGE;
        }
        if summary.passed {
            super::exit::OK
        } else {
            super::exit::CHECKS_FAILED
        }
    })
}
