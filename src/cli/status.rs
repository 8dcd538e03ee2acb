//! `kdrill status [--json]`: every lab under `$KDRILL_HOME/labs`: its
//! scenario, backend, whether its cluster still runs, hints shown, age.

use crate::lab::{self, LabState};
use crate::sim::clock::Clock;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

/// kubectl's short age: `42s`, `5m`, `3h`, `2d`.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

pub fn run(args: Args) -> u8 {
    let labs: Vec<(LabState, bool)> = lab::names()
        .iter()
        .filter_map(|n| match LabState::load(n) {
            Ok(st) => Some(st),
            Err(e) => {
                eprintln!("warning: {e}");
                None
            }
        })
        .map(|st| {
            let up = st.alive();
            (st, up)
        })
        .collect();
    if args.json {
        let items: Vec<_> = labs
            .iter()
            .map(|(st, up)| {
                json!({
                    "name": st.name,
                    "scenario": st.scenario,
                    "backend": st.backend.as_str(),
                    "running": up,
                    "pid": st.pid,
                    "kubeconfig": st.kubeconfig,
                    "hintsUsed": st.hints_used,
                    "startedAt": st.started_at,
                    "ingressPorts": lab::process::ingress_ports(&st.dir())
                        .filter(|_| *up)
                        .map(|(http, https)| json!({"http": http, "https": https})),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return super::exit::OK;
    }
    if labs.is_empty() {
        eprintln!("No labs are running; start one with `kdrill start <scenario>`.");
        return super::exit::OK;
    }
    let now = crate::sim::clock::WallClock::new(1.0).now();
    let rows: Vec<[String; 7]> = labs
        .iter()
        .map(|(st, up)| {
            [
                st.name.clone(),
                st.scenario.clone(),
                st.backend.as_str().to_string(),
                if *up {
                    "Running".into()
                } else {
                    "Stopped".into()
                },
                st.hints_used.to_string(),
                age(now.duration_since(st.started_at).as_secs()),
                st.kubeconfig.display().to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        super::list::table(
            &[
                "NAME",
                "SCENARIO",
                "BACKEND",
                "STATUS",
                "HINTS",
                "AGE",
                "KUBECONFIG"
            ],
            &rows
        )
    );
    super::exit::OK
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (7199, "119m"),
            (7200, "2h"),
            (172_800, "2d"),
            (-5, "0s"),
        ];
        for (secs, want) in cases {
            assert_eq!(super::age(secs), want, "{secs}");
        }
    }
}
