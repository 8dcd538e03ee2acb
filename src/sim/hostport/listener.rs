//! The host port sockets: accept on 127.0.0.1, probe the simulated
//! connection to the mapped node's port 80/443 from [`HOST_GATEWAY`], then
//! (HTTPS: after a real TLS handshake with the certificate of
//! [`certs::Resolver`]) answer each HTTP/1.1 request from the simulation.
//!
//! Every wait is bounded: an idle keep-alive connection closes after
//! nginx's 75 s, a dropped one after [`Options::hold`], a request head must
//! arrive within 60 s (`client_header_timeout`), and shutting the ports
//! down ends every connection task. The simulation is called on the
//! blocking pool (it takes the kubelets' lock).
//!
//! The HTTPS port offers ALPN `http/1.1` only (ingress-nginx also offers
//! `h2`; the simulation speaks HTTP/1.1, so curl settles on it).

use super::http::{self, Parsed};
use super::{HOST_GATEWAY, KEEPALIVE, Options, Outcome, PROXY_CONNECT_TIMEOUT, certs};
use crate::sim::kubelets::Kubelets;
use crate::sim::workload::NetReply;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// nginx's `client_header_timeout` (60 s).
const HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a refused connection waits for the request before closing.
const DRAIN: Duration = Duration::from_secs(1);

/// The open host ports.
#[derive(Debug, Clone)]
pub struct HostPorts {
    pub http: SocketAddr,
    pub https: SocketAddr,
    cancel: CancellationToken,
}

impl HostPorts {
    /// Closes the listeners and every open connection.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// Why the host ports did not open.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to bind 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("failed to configure TLS: {0}")]
    Tls(#[from] rustls::Error),
}

struct Ctx {
    kubelets: Arc<Kubelets>,
    hold: Duration,
    tls: tokio_rustls::TlsAcceptor,
    cancel: CancellationToken,
}

fn bind(port: u16) -> Result<TcpListener, Error> {
    let err = |source| Error::Bind { port, source };
    let l = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(err)?;
    l.set_nonblocking(true).map_err(err)?;
    TcpListener::from_std(l).map_err(err)
}

/// Opens both ports and serves them until [`HostPorts::shutdown`]. Must run
/// inside a tokio runtime.
pub fn start(kubelets: Arc<Kubelets>, opts: &Options) -> Result<HostPorts, Error> {
    let (http_l, https_l) = (bind(opts.http_port)?, bind(opts.https_port)?);
    let addr = |l: &TcpListener, port| {
        l.local_addr()
            .map_err(|source| Error::Bind { port, source })
    };
    let (http_addr, https_addr) = (
        addr(&http_l, opts.http_port)?,
        addr(&https_l, opts.https_port)?,
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(certs::Resolver::new(kubelets.clone())));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let cancel = CancellationToken::new();
    let ctx = Arc::new(Ctx {
        kubelets,
        hold: opts.hold,
        tls: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        cancel: cancel.clone(),
    });
    tokio::spawn(accept_loop(ctx.clone(), http_l, false));
    tokio::spawn(accept_loop(ctx, https_l, true));
    Ok(HostPorts {
        http: http_addr,
        https: https_addr,
        cancel,
    })
}

async fn accept_loop(ctx: Arc<Ctx>, listener: TcpListener, https: bool) {
    loop {
        let conn = tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            c = listener.accept() => c,
        };
        match conn {
            Ok((stream, _)) => {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let cancel = ctx.cancel.clone();
                    tokio::select! {
                        _ = cancel.cancelled() => {}
                        _ = connection(ctx, stream, https) => {}
                    }
                });
            }
            Err(e) => {
                tracing::debug!("host port: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The simulated connection from the host to the mapped node's `port`
/// (an HTTP request when `path` is set), and the sim clock's now.
async fn simulate(
    ctx: &Ctx,
    port: u16,
    host: String,
    path: Option<String>,
) -> (NetReply, jiff::Timestamp) {
    let kubelets = ctx.kubelets.clone();
    let run = move || {
        let nodes = kubelets.nodes();
        let now = kubelets.now();
        let reply = match super::mapped_node_ip(nodes.iter().map(|n| &**n)) {
            Some(ip) => {
                kubelets.connect_from_outside(HOST_GATEWAY, &ip, port, &host, path.as_deref())
            }
            None => NetReply::Refused { ip: String::new() },
        };
        (reply, now)
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("host port: simulation failed: {e}");
            (
                NetReply::Refused { ip: String::new() },
                jiff::Timestamp::default(),
            )
        }
    }
}

async fn connection(ctx: Arc<Ctx>, mut stream: TcpStream, https: bool) {
    let port = if https { 443 } else { 80 };
    let (probe, _) = simulate(&ctx, port, String::new(), None).await;
    if let Some(outcome) = super::on_accept(&probe) {
        finish(&mut stream, &outcome, ctx.hold).await;
        return;
    }
    if !https {
        serve(&ctx, stream, false).await;
        return;
    }
    match tokio::time::timeout(HEADER_TIMEOUT, ctx.tls.accept(stream)).await {
        Ok(Ok(tls)) => serve(&ctx, tls, true).await,
        Ok(Err(e)) => tracing::debug!("host port: TLS handshake failed: {e}"),
        Err(_) => tracing::debug!("host port: TLS handshake timed out"),
    }
}

/// Ends a connection with nothing written: `Close` reads the request first
/// (so the close is a FIN: curl's `(52) Empty reply from server`), `Hang`
/// holds it until the client gives up or `hold` passes.
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    outcome: &Outcome,
    hold: Duration,
) {
    let wait = match outcome {
        Outcome::Hang => hold,
        _ => DRAIN,
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let _ = tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if matches!(outcome, Outcome::Close)
                        && !matches!(http::parse(&buf), Parsed::Partial)
                    {
                        return;
                    }
                    if buf.len() > http::MAX_HEAD {
                        buf.clear();
                    }
                }
            }
        }
    })
    .await;
    let _ = stream.shutdown().await;
}

/// Answers requests until the client closes, asks to, or idles out.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(ctx: &Ctx, mut stream: S, https: bool) {
    let port = if https { 443 } else { 80 };
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match http::parse(&buf) {
            Parsed::Complete(req, used) => {
                buf.drain(..used);
                let (reply, now) =
                    simulate(ctx, port, req.route_host(), Some(req.path().to_string())).await;
                let close = req.close;
                let resp = match super::on_request(reply, https) {
                    Outcome::Respond(r) => r,
                    Outcome::GatewayTimeout => {
                        tokio::time::sleep(PROXY_CONNECT_TIMEOUT).await;
                        http::own_page(504)
                    }
                    other => {
                        finish(&mut stream, &other, ctx.hold).await;
                        return;
                    }
                };
                let bytes = http::write(&resp, now, req.is_head(), close);
                if stream.write_all(&bytes).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
                if close {
                    let _ = stream.shutdown().await;
                    return;
                }
            }
            Parsed::Bad(status) => {
                let now = ctx.kubelets.now();
                let bytes = http::write(&http::own_page(status), now, false, true);
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
            Parsed::Partial => {
                let wait = if buf.is_empty() {
                    KEEPALIVE
                } else {
                    HEADER_TIMEOUT
                };
                match tokio::time::timeout(wait, stream.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => {
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            }
        }
    }
}
