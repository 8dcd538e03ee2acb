//! The embedded simulated cluster: store, registry, API server over HTTPS
//! and the simulator's controllers, wired together in-process.

use super::kubeconfig::{Credential, KubeconfigSpec, render};
use crate::registry::Registry;
use crate::server::ApiServer;
use crate::server::audit::AuditLog;
use crate::sim::bootstrap::{self, ClusterShape};
use crate::sim::clock::{Clock, WallClock};
use crate::store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How to start a simulated cluster.
pub struct SimOptions {
    pub port: u16,
    pub shape: ClusterShape,
    pub clock: Arc<dyn Clock>,
    /// When set, the cluster runs on this clock instead of `clock`: time
    /// moves only through `/kdrill/v1/clock` (see `sim_clock`).
    pub virtual_clock: Option<Arc<crate::sim::clock::VirtualClock>>,
    pub seed: u64,
    /// The images the kubelets can pull (public ones plus what is declared).
    pub catalog: crate::sim::workload::Catalog,
    pub audit_file: Option<PathBuf>,
    /// Events a watch can resume from (older versions get 410 Expired).
    pub watch_history: usize,
    /// A static token file of extra users (`kdrill sim kubeconfig --user`).
    pub token_file: Option<PathBuf>,
    /// Open the ingress host ports (kind's `extraPortMappings` 80/443 to
    /// the control plane; see `sim::hostport`); None: no host ports.
    pub ingress_ports: Option<crate::sim::hostport::Options>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            port: 0,
            shape: ClusterShape::default(),
            clock: Arc::new(WallClock::new(1.0)),
            virtual_clock: None,
            seed: 1,
            catalog: crate::sim::workload::Catalog::default(),
            audit_file: None,
            watch_history: crate::store::HISTORY,
            token_file: None,
            ingress_ports: None,
        }
    }
}

/// A running simulated cluster.
pub struct SimCluster {
    pub server: Arc<ApiServer>,
    /// The simulated kubelets (the runtime drives them through `simulator`).
    pub kubelets: Arc<crate::sim::kubelets::Kubelets>,
    pub addr: SocketAddr,
    /// The admin's kubeconfig: kind's, with the client certificate of
    /// `kubernetes-admin` in `kubeadm:cluster-admins`.
    pub kubeconfig: String,
    /// The cluster CA's private key (PEM), which signs further users'
    /// client certificates (`kdrill sim kubeconfig`).
    pub ca_key_pem: String,
    /// The ingress host ports, when asked for.
    pub ingress_ports: Option<crate::sim::hostport::listener::HostPorts>,
    handle: axum_server::Handle<SocketAddr>,
}

/// Why a cluster did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("failed to bind 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("failed to generate certificates: {0}")]
    Certificates(#[from] rcgen::Error),
    #[error("failed to configure TLS: {0}")]
    Tls(std::io::Error),
    #[error("failed to open audit log: {0}")]
    Audit(std::io::Error),
    #[error("failed to seed the cluster: {0}")]
    Seed(String),
    #[error("ingress host port: {0}")]
    HostPort(#[from] crate::sim::hostport::listener::Error),
}

impl SimCluster {
    /// Seeds a fresh cluster and serves it on 127.0.0.1. Must run inside a
    /// tokio runtime.
    pub async fn start(opts: SimOptions) -> Result<Self, StartError> {
        Self::start_with(opts, true).await
    }

    /// Like [`SimCluster::start`]; with `run_controllers` false the caller
    /// drives `sim::runtime::Runtime` itself (on a virtual clock).
    pub async fn start_with(opts: SimOptions, run_controllers: bool) -> Result<Self, StartError> {
        let store = Arc::new(Store::with_history(opts.watch_history));
        let clock: Arc<dyn Clock> = match &opts.virtual_clock {
            Some(v) => v.clone(),
            None => opts.clock.clone(),
        };
        let registry = Arc::new(Registry::new(store, clock, opts.seed));
        registry.set_webhook_network(crate::sim::ingress::admission::network());
        let certs = crate::server::tls::generate()?;
        let _ = registry.cluster_ca.set(certs.ca_pem.clone());
        bootstrap::seed(&registry, &opts.shape).map_err(StartError::Seed)?;
        let audit = match &opts.audit_file {
            Some(p) => AuditLog::with_file(p).map_err(StartError::Audit)?,
            None => AuditLog::default(),
        };
        let server = ApiServer::new(registry.clone(), audit);
        let client_ca = crate::server::client_cert::ClientCa::new(&certs.ca_pem)
            .map_err(|e| StartError::Tls(std::io::Error::other(e)))?;
        let tls_config = crate::server::tls::server_config(&certs, &client_ca)
            .map_err(|e| StartError::Tls(std::io::Error::other(e)))?;
        server.auth.set_client_ca(client_ca);
        if let Some(p) = &opts.token_file {
            server.auth.set_token_file(p);
        }

        let tls = axum_server::tls_rustls::RustlsConfig::from_config(tls_config);
        let listener = std::net::TcpListener::bind(("127.0.0.1", opts.port)).map_err(|source| {
            StartError::Bind {
                port: opts.port,
                source,
            }
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: opts.port,
            source,
        })?;
        let handle = axum_server::Handle::new();
        let app = server.router();
        let srv = axum_server::from_tcp_rustls(listener, tls)
            .map_err(|source| StartError::Bind {
                port: opts.port,
                source,
            })?
            .handle(handle.clone());
        tokio::spawn(async move {
            if let Err(e) = srv.serve(app.into_make_service()).await {
                tracing::error!("simulated API server stopped: {e}");
            }
        });
        let kubelets =
            crate::sim::kubelets::Kubelets::new(registry.clone(), opts.catalog.clone(), opts.seed);
        let _ = server.kubelet.set(kubelets.clone());
        let ingress_ports = match &opts.ingress_ports {
            Some(o) => Some(crate::sim::hostport::listener::start(kubelets.clone(), o)?),
            None => None,
        };
        if run_controllers {
            let components = simulator(&kubelets, opts.seed);
            let runtime = crate::sim::runtime::Runtime::new(registry.clone(), components);
            match &opts.virtual_clock {
                Some(clock) => {
                    let control = super::sim_clock::VirtualTime::new(clock.clone(), runtime);
                    let _ = server.clock_control.set(Arc::new(control));
                }
                None => {
                    tokio::spawn(runtime.run());
                }
            }
        }
        tokio::spawn(crate::sim::controllers::namespace::run(registry));

        let server_url = format!("https://127.0.0.1:{}", addr.port());
        let kubeconfig = render(&KubeconfigSpec {
            cluster: &format!("kind-{}", opts.shape.name),
            server: &server_url,
            ca_pem: &certs.ca_pem,
            user: &format!("kind-{}", opts.shape.name),
            credential: Credential::Certificate {
                cert_pem: &certs.admin.cert_pem,
                key_pem: &certs.admin.key_pem,
            },
        });
        Ok(Self {
            server,
            kubelets,
            addr,
            kubeconfig,
            ca_key_pem: certs.ca_key_pem,
            ingress_ports,
            handle,
        })
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        self.handle.shutdown();
        if let Some(p) = &self.ingress_ports {
            p.shutdown();
        }
    }
}

/// Every simulated component the runtime drives: the controllers, the
/// scheduler and the kubelets.
pub fn simulator(
    kubelets: &Arc<crate::sim::kubelets::Kubelets>,
    seed: u64,
) -> Vec<Box<dyn crate::sim::runtime::Controller>> {
    let mut controllers = crate::sim::controllers::all(seed);
    controllers.push(Box::new(crate::sim::kubelets::KubeletController(
        kubelets.clone(),
    )));
    controllers.push(Box::new(crate::sim::controllers::hpa::HpaController::new(
        kubelets.clone(),
    )));
    controllers.push(Box::new(
        crate::sim::controllers::kubelet_eviction::EvictionManager {
            metrics: kubelets.clone(),
        },
    ));
    controllers
}
