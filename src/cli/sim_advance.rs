//! `kdrill sim advance <DURATION>`: moves the virtual clock of a cluster
//! served with `kdrill sim serve --clock virtual`, through every timer on
//! the way, and prints the new simulated time once the cluster is idle.

use super::progress::{block_on, fail};
use crate::server::clock_api;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How far to move time (Go syntax: 90s, 5m, 1h30m; 0s only lets the
    /// controllers react to the writes made since the last advance).
    pub duration: String,
    /// The cluster's kubeconfig (default: $KUBECONFIG, else the one
    /// `kdrill sim serve` writes).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

fn kubeconfig_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("KUBECONFIG")
            .and_then(|v| std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty()))
    })
    .unwrap_or_else(|| crate::home_dir().join("sim").join("kubeconfig"))
}

pub fn run(args: Args) -> u8 {
    if clock_api::parse_duration(&args.duration).is_none() {
        eprintln!(
            "error: invalid duration {:?}: want a Go duration such as 90s, 5m or 1h30m",
            args.duration
        );
        return super::exit::USAGE;
    }
    let path = kubeconfig_path(args.kubeconfig);
    block_on(async move {
        let client = match crate::lab::session::client(&path, None).await {
            Ok(c) => c,
            Err(e) => return fail(&e),
        };
        let uri = format!("{}?advance={}", clock_api::PATH, args.duration);
        let req = match axum::http::Request::post(uri).body(Vec::new()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return super::exit::USAGE;
            }
        };
        match client.request_text(req).await {
            Ok(body) => {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                println!("{}", v["now"].as_str().unwrap_or(&body));
                super::exit::OK
            }
            Err(kube::Error::Api(s)) => {
                eprintln!("error: {}", s.message);
                super::exit::BACKEND
            }
            Err(e) => {
                eprintln!("error: failed to reach the cluster: {e}");
                super::exit::BACKEND
            }
        }
    })
}
