//! `kdrill sim serve`: a bare simulated cluster in the foreground.

use crate::backend::sim::{SimCluster, SimOptions};
use crate::sim::bootstrap::ClusterShape;
use crate::sim::clock::{VirtualClock, WallClock};
use crate::sim::workload::catalog::{Catalog, ImageRef, PrivateRepo};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the kubeconfig (default: $KDRILL_HOME/sim/kubeconfig).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Number of worker nodes besides the control plane.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Seed for every random choice in the simulation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run simulated time this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// `wall` follows real time (sped up by --time-scale); `virtual` stands
    /// still until `kdrill sim advance` moves it.
    #[arg(long, value_enum, default_value_t = ClockKind::Wall)]
    pub clock: ClockKind,
    /// Where a virtual clock starts (RFC 3339).
    #[arg(long, default_value = crate::backend::sim_clock::DEFAULT_START)]
    pub start: jiff::Timestamp,
    /// An image (`registry.example.com/team/api:1.0`) only pulled with an
    /// imagePullSecret for its registry; repeatable.
    #[arg(long, value_name = "IMAGE")]
    pub private_image: Vec<String>,
    /// Append an audit record per request to this JSON-lines file.
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
    /// Host port for the ingress controller's HTTP port 80 on the
    /// control-plane node, as kind's `extraPortMappings` (0 picks a free
    /// one).
    #[arg(long, default_value_t = 0)]
    pub ingress_http_port: u16,
    /// Host port for its HTTPS port 443 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub ingress_https_port: u16,
    /// Seconds a host-port connection the simulation drops is held open.
    #[arg(long, default_value_t = crate::sim::hostport::DROPPED_HOLD.as_secs(), hide = true)]
    pub ingress_hold_seconds: u64,
    /// How many past events a watch can resume from.
    #[arg(long, default_value_t = crate::store::HISTORY, hide = true)]
    pub watch_history: usize,
}

/// Which clock the simulated cluster runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockKind {
    Wall,
    Virtual,
}

/// The default catalog plus the private images asked for.
fn catalog(private: &[String]) -> Result<Catalog, String> {
    let mut c = Catalog::default();
    for image in private {
        let r = ImageRef::parse(image)
            .map_err(|e| format!("invalid --private-image {image:?}: {e}"))?;
        c.add_private(
            &r.repository(),
            PrivateRepo {
                tags: vec![r.tag_or_latest().to_string()],
                size: 5_000_000,
                ..Default::default()
            },
        );
    }
    Ok(c)
}

pub fn default_kubeconfig() -> PathBuf {
    crate::home_dir().join("sim").join("kubeconfig")
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
    let path = args.kubeconfig.clone().unwrap_or_else(default_kubeconfig);
    let token_file = crate::server::auth::token_file_for(&path);
    runtime.block_on(async move {
        let opts = SimOptions {
            port: args.port,
            shape: ClusterShape {
                name: "kdrill".into(),
                workers: args.workers,
            },
            clock: Arc::new(WallClock::new(args.time_scale)),
            virtual_clock: (args.clock == ClockKind::Virtual)
                .then(|| Arc::new(VirtualClock::new(args.start))),
            seed: args.seed,
            catalog: match catalog(&args.private_image) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return super::exit::USAGE;
                }
            },
            audit_file: args.audit_log.clone(),
            watch_history: args.watch_history,
            token_file: Some(token_file.clone()),
            ingress_ports: Some(crate::sim::hostport::Options {
                http_port: args.ingress_http_port,
                https_port: args.ingress_https_port,
                hold: std::time::Duration::from_secs(args.ingress_hold_seconds),
            }),
        };
        let cluster = match SimCluster::start(opts).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return super::exit::BACKEND;
            }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            eprintln!("error: failed to create {}: {e}", dir.display());
            return super::exit::USAGE;
        }
        // A fresh cluster has no extra users yet.
        if let Err(e) = write_private(&token_file, "") {
            eprintln!("error: failed to write {}: {e}", token_file.display());
            return super::exit::USAGE;
        }
        let ca_key = crate::server::tls::ca_key_file_for(&path);
        if let Err(e) = write_private(&ca_key, &cluster.ca_key_pem) {
            eprintln!("error: failed to write {}: {e}", ca_key.display());
            return super::exit::USAGE;
        }
        if let Err(e) = write_private(&path, &cluster.kubeconfig) {
            eprintln!("error: failed to write kubeconfig {}: {e}", path.display());
            return super::exit::USAGE;
        }
        println!(
            "simulated cluster serving on https://{}; export KUBECONFIG={}",
            cluster.addr,
            path.display()
        );
        // On stderr: the first stdout line is what scripts wait for.
        if let Some(p) = &cluster.ingress_ports {
            eprintln!(
                "{}",
                crate::sim::hostport::hint(p.http.port(), p.https.port())
            );
        }
        wait_for_signal().await;
        cluster.shutdown();
        super::exit::OK
    })
}

/// Writes a file readable by its owner only (it holds a credential).
pub fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
