//! `kdrill sim kubeconfig --user NAME [--group G]... [--client-certificate]`:
//! a kubeconfig for a new user of a running `kdrill sim serve`, so a lab
//! can hand a learner restricted credentials; what the user may do is then
//! up to RBAC.
//!
//! By default the user gets a bearer token, appended to the static token
//! file that goes with the admin kubeconfig (`<kubeconfig>.tokens.csv`, in
//! kube-apiserver's `--token-auth-file` format), which the server re-reads.
//! With `--client-certificate` the user gets what a kind user gets instead:
//! a client certificate (CN = user, O = groups) signed by the cluster CA,
//! whose key `sim serve` leaves in `<kubeconfig>.ca.key`.

use crate::backend::kubeconfig::{Credential, KubeconfigSpec, cluster_of, render};
use crate::server::auth::{token_file_for, token_file_line};
use crate::server::tls::{ca_key_file_for, issue_client};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user's name, as RBAC subjects name it.
    #[arg(long)]
    pub user: String,
    /// Groups the user belongs to (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Authenticate with a client certificate signed by the cluster CA (as
    /// on kind; at most two groups) instead of a bearer token.
    #[arg(long)]
    pub client_certificate: bool,
    /// The running cluster's admin kubeconfig (default: $KDRILL_HOME/sim/kubeconfig).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// Writes the token line and returns the user's kubeconfig.
pub fn make(args: &Args) -> Result<String, String> {
    let name = args.user.trim();
    if name.is_empty() || name.contains([',', '\n', '"']) {
        return Err(format!("invalid user name {:?}", args.user));
    }
    if let Some(g) = args
        .groups
        .iter()
        .find(|g| g.is_empty() || g.contains([',', '\n', '"']))
    {
        return Err(format!("invalid group name {g:?}"));
    }
    let admin = args
        .kubeconfig
        .clone()
        .unwrap_or_else(super::sim_serve::default_kubeconfig);
    let text = std::fs::read_to_string(&admin).map_err(|e| {
        format!(
            "failed to read {}: {e} (is `kdrill sim serve` running?)",
            admin.display()
        )
    })?;
    let access = cluster_of(&text)?;
    let spec = |credential| {
        render(&KubeconfigSpec {
            cluster: &access.name,
            server: &access.server,
            ca_pem: &access.ca_pem,
            user: name,
            credential,
        })
    };
    if args.client_certificate {
        let key_file = ca_key_file_for(&admin);
        let ca_key = std::fs::read_to_string(&key_file)
            .map_err(|e| format!("failed to read {}: {e}", key_file.display()))?;
        let cert = issue_client(&ca_key, name, &args.groups)?;
        return Ok(spec(Credential::Certificate {
            cert_pem: &cert.cert_pem,
            key_pem: &cert.key_pem,
        }));
    }
    // A credential, not part of the seeded simulation.
    let token = format!("kdrill-user-{}", uuid::Uuid::new_v4().simple());
    let tokens = token_file_for(&admin);
    let line = token_file_line(&token, name, name, &args.groups);
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&tokens)
        .and_then(|mut f| writeln!(f, "{line}"))
        .map_err(|e| format!("failed to write {}: {e}", tokens.display()))?;
    Ok(spec(Credential::Token(&token)))
}

pub fn run(args: Args) -> u8 {
    match make(&args) {
        Ok(kubeconfig) => {
            print!("{kubeconfig}");
            super::exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            super::exit::USAGE
        }
    }
}
