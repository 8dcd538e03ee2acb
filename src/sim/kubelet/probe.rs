//! Probe evaluation against what a container serves at a moment of its
//! life, with the prober's output strings (`HTTP probe failed with
//! statuscode: 404`, `dial tcp 10.244.1.5:8080: connect: connection refused`).

use super::spec::{Action, CSpec, ProbeSpec};
use crate::sim::workload::shell::{self, Env};
use crate::sim::workload::{ContainerSpec, Network, Protocol, ShellKind, Timeline};
use jiff::SignedDuration;

/// The outcome of one probe run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `<Type> probe failed: <output>`.
    Failure(String),
    /// `<Type> probe errored: <error>`.
    Errored(String),
}

/// What a container serves on a port at an offset of its life: what a
/// prober, or a client in another pod, meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// Nothing listens: the connection is refused.
    Closed,
    /// Something listens that does not speak HTTP (or no path was asked).
    Open,
    /// An HTTP server's answer for the path.
    Http { status: u16, body: String },
}

/// What `tl` serves on `port` at `offset`; `path` asks an HTTP server.
pub fn serve(
    tl: &Timeline,
    port: u16,
    protocol: Protocol,
    path: Option<&str>,
    offset: SignedDuration,
) -> Served {
    match tl.port_at(port, protocol, offset) {
        None => Served::Closed,
        Some(p) => match (&p.http, path) {
            (Some(h), Some(path)) => {
                let (status, body) = h.answer(path, offset - p.from);
                Served::Http { status, body }
            }
            _ => Served::Open,
        },
    }
}

pub struct Target<'a> {
    pub c: &'a CSpec,
    pub tl: &'a Timeline,
    pub spec: &'a ContainerSpec,
    pub pod_ip: &'a str,
    pub container_id: &'a str,
    pub net: &'a dyn Network,
}

pub fn run(p: &ProbeSpec, t: &Target<'_>, offset: SignedDuration) -> Outcome {
    let ip = t.pod_ip;
    match &p.action {
        Action::Http {
            port,
            path,
            scheme,
            host,
        } => {
            let host = if host.is_empty() { ip } else { host.as_str() };
            let Some(port) = t.c.port(port) else {
                return Outcome::Failure(format!(
                    "Get \"{}://{host}:0{path}\": dial tcp {host}:0: connect: connection refused",
                    scheme.to_lowercase()
                ));
            };
            let url = format!("{}://{host}:{port}{path}", scheme.to_lowercase());
            match serve(t.tl, port, Protocol::Tcp, Some(path), offset) {
                Served::Closed => Outcome::Failure(format!(
                    "Get \"{url}\": dial tcp {host}:{port}: connect: connection refused"
                )),
                Served::Open => Outcome::Failure(format!("Get \"{url}\": EOF")),
                Served::Http { status, .. } if (200..400).contains(&status) => Outcome::Success,
                Served::Http { status, .. } => {
                    Outcome::Failure(format!("HTTP probe failed with statuscode: {status}"))
                }
            }
        }
        Action::Tcp { port } => {
            let port = t.c.port(port).unwrap_or(0);
            match t.tl.port_at(port, Protocol::Tcp, offset) {
                Some(_) => Outcome::Success,
                None => {
                    Outcome::Failure(format!("dial tcp {ip}:{port}: connect: connection refused"))
                }
            }
        }
        Action::Grpc { port } => {
            let port = u16::try_from(*port).unwrap_or(0);
            match t.tl.port_at(port, Protocol::Tcp, offset) {
                None => Outcome::Failure(format!(
                    "timeout: failed to connect service \"{ip}:{port}\" within {}s: context deadline exceeded",
                    p.timeout
                )),
                Some(served) => match served.grpc_health.as_deref() {
                    Some("SERVING") => Outcome::Success,
                    Some(other) => {
                        Outcome::Failure(format!("service unhealthy (responded with \"{other}\")"))
                    }
                    None => Outcome::Failure(format!(
                        "timeout: health rpc did not complete within {}s",
                        p.timeout
                    )),
                },
            }
        }
        Action::Exec { command } => {
            let argv0 = command.first().cloned().unwrap_or_default();
            let not_found = || {
                Outcome::Errored(format!(
                    "rpc error: code = Unknown desc = failed to exec in container: failed to start exec \"{}\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"{argv0}\": executable file not found in $PATH: unknown",
                    crate::sim::workload::catalog::digest_hex(&format!(
                        "{}{argv0}",
                        t.container_id
                    ))
                ))
            };
            let Some(kind) = t.tl.shell else {
                return not_found();
            };
            if !(shell::is_program(&argv0, t.tl.curl)
                || argv0.contains('/') && t.spec.files.contains_key(&argv0))
                || (argv0.ends_with("bash") && kind != ShellKind::Bash)
            {
                return not_found();
            }
            let env = Env {
                kind,
                vars: t.spec.env.clone(),
                files: t.tl.files_at(&t.spec.files, offset),
                dirs: t.spec.mounts.clone(),
                hostname: t.spec.hostname.clone(),
                net: t.net,
                curl: t.tl.curl,
            };
            let r = shell::exec(command, &env);
            if r.code == 0 {
                Outcome::Success
            } else {
                Outcome::Failure(r.output)
            }
        }
    }
}
