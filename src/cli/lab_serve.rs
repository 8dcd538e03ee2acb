//! `kdrill lab-serve --dir DIR` (hidden): the detached process that serves
//! a lab's simulated cluster until SIGTERM or SIGINT. It writes
//! `DIR/kubeconfig`, then `DIR/ready` (the server URL) once it serves;
//! SIGHUP is ignored so that closing the terminal leaves the lab running.

use crate::backend::sim::{SimCluster, SimOptions};
use crate::lab::{process, provision};
use crate::sim::bootstrap::ClusterShape;
use crate::sim::clock::WallClock;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lab folder.
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
}

pub fn run(args: Args) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return super::exit::BACKEND;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> u8 {
    let name = args
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| crate::lab::DEFAULT_NAME.into());
    let opts = SimOptions {
        shape: ClusterShape {
            name,
            workers: args.workers,
        },
        clock: Arc::new(WallClock::new(args.time_scale)),
        seed: args.seed,
        token_file: Some(crate::server::auth::token_file_for(
            &args.dir.join("kubeconfig"),
        )),
        // kind's ingress guide maps host ports 80/443; a lab gets free ones.
        ingress_ports: Some(crate::sim::hostport::Options::default()),
        ..SimOptions::default()
    };
    let cluster = match SimCluster::start(opts).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::BACKEND;
        }
    };
    let ca_key = crate::server::tls::ca_key_file_for(&args.dir.join("kubeconfig"));
    if let Err(e) = provision::write_private(&ca_key, &cluster.ca_key_pem) {
        eprintln!("error: {e}");
        return super::exit::USAGE;
    }
    if let Err(e) = provision::write_private(&args.dir.join("kubeconfig"), &cluster.kubeconfig) {
        eprintln!("error: {e}");
        return super::exit::USAGE;
    }
    if let Some(p) = &cluster.ingress_ports
        && let Err(e) = process::write_ingress_ports(&args.dir, p.http.port(), p.https.port())
    {
        eprintln!("error: failed to write the ingress ports: {e}");
        return super::exit::USAGE;
    }
    let url = format!("https://{}", cluster.addr);
    let ready = args.dir.join(process::READY_FILE);
    let tmp = ready.with_extension("tmp");
    if let Err(e) = std::fs::write(&tmp, &url).and_then(|()| std::fs::rename(&tmp, &ready)) {
        eprintln!("error: failed to write {}: {e}", ready.display());
        return super::exit::USAGE;
    }
    eprintln!("simulated cluster serving on {url}");
    wait_for_stop().await;
    eprintln!("stopping");
    cluster.shutdown();
    super::exit::OK
}

/// Returns on SIGTERM or SIGINT; SIGHUP is swallowed.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = int.recv() => return,
                _ = hup.recv() => continue,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
