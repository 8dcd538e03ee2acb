//! Which certificate the controller presents for a host (`createServers`
//! and `extractTLSSecretName`).
//!
//! The Secret comes from the first owned Ingress whose `spec.tls[].hosts`
//! lists the host, else whose Secret's certificate covers the host. The
//! controller falls back to its self-signed "Kubernetes Ingress Controller
//! Fake Certificate" when no TLS entry applies, when the Secret is missing
//! or lacks `tls.crt`/`tls.key`, when the certificate does not parse, or
//! when it names neither the host (SAN) nor, as a fallback, the CN. An
//! *expired* certificate is still served (the controller only logs
//! `SSL certificate for server "<host>" expired (<time>)`), so the client
//! sees it and fails verification itself.

use super::{IngressView, str_at};
use crate::api::pointer::Pointer;
use crate::sim::workload::tls::ServerCert;
use base64::Engine;
use jiff::Timestamp;
use serde_json::Value;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::parse_x509_pem;

/// The fake certificate's subject (and issuer): `O=Acme Co; CN=...` as curl
/// prints it.
pub const FAKE_CERTIFICATE_SUBJECT: &str =
    "O=Acme Co; CN=Kubernetes Ingress Controller Fake Certificate";

/// The certificate served for a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    /// The Ingress's Secret.
    Secret {
        namespace: String,
        name: String,
        /// `notAfter`.
        not_after: Timestamp,
        /// Whether `notAfter` is before the view's `now`.
        expired: bool,
        /// DNS names in the SAN extension.
        dns_names: Vec<String>,
        /// The certificate as a client sees it.
        presented: Box<ServerCert>,
    },
    /// The controller's default certificate, with why it was used.
    Fake { reason: String },
}

impl Certificate {
    pub fn is_fake(&self) -> bool {
        matches!(self, Certificate::Fake { .. })
    }

    /// What a client is shown: the Secret's certificate, or the fake one
    /// (see [`fake_certificate`]).
    pub fn presented(&self, view: &IngressView) -> ServerCert {
        match self {
            Certificate::Secret { presented, .. } => (**presented).clone(),
            Certificate::Fake { .. } => fake_certificate(view),
        }
    }
}

/// The controller's default certificate (`ssl.GetFakeSSLCert`): self-signed,
/// `O=Acme Co, CN=Kubernetes Ingress Controller Fake Certificate`, SAN
/// `ingress.local`, valid for a year from the controller's start. The
/// start is taken as the creation of the controller's oldest IngressClass
/// (the add-on's `nginx`, applied with the controller), else `now`.
pub fn fake_certificate(view: &IngressView) -> ServerCert {
    let started = view
        .ingress_classes
        .iter()
        .filter(|c| str_at(c, "/spec/controller") == view.config.controller)
        .filter_map(|c| {
            str_at(c, "/metadata/creationTimestamp")
                .parse::<Timestamp>()
                .ok()
        })
        .min()
        .unwrap_or(view.now);
    let not_after = started
        .checked_add(jiff::SignedDuration::from_hours(365 * 24))
        .unwrap_or(started);
    ServerCert {
        subject: FAKE_CERTIFICATE_SUBJECT.into(),
        issuer: FAKE_CERTIFICATE_SUBJECT.into(),
        common_name: Some("Kubernetes Ingress Controller Fake Certificate".into()),
        dns_names: vec!["ingress.local".into()],
        ip_addresses: Vec::new(),
        not_before: started,
        not_after,
        serial: "fake".into(),
        subject_key_id: None,
        authority_key_id: None,
        not_yet_valid: view.now < started,
        expired: view.now > not_after,
        seen_at: view.now,
    }
}

struct Parsed {
    not_after: Timestamp,
    dns_names: Vec<String>,
    common_names: Vec<String>,
    presented: Option<ServerCert>,
}

/// Reads `tls.crt` of a Secret; `Err` carries the controller's complaint.
fn parse_secret(secret: &Value, now: Timestamp) -> Result<Parsed, String> {
    let field = |k: &str| -> Option<Vec<u8>> {
        let b64 = secret.at(&format!("/data/{}", k.replace('/', "~1")))?;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str()?)
            .ok()
    };
    let (Some(crt), Some(_key)) = (field("tls.crt"), field("tls.key")) else {
        return Err("secret does not contain keys tls.crt and tls.key".into());
    };
    let (_, pem) =
        parse_x509_pem(&crt).map_err(|e| format!("no valid PEM formatted block found: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("unexpected error creating SSL Cert: {e}"))?;
    let not_after =
        Timestamp::from_second(cert.validity().not_after.timestamp()).map_err(|e| e.to_string())?;
    let dns_names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let common_names = cert
        .subject()
        .iter_common_name()
        .filter_map(|c| c.as_str().ok().map(str::to_string))
        .collect();
    Ok(Parsed {
        not_after,
        dns_names,
        common_names,
        presented: ServerCert::from_x509(&cert, now),
    })
}

/// Go's `matchHostnames`: case-insensitive, `*` only as the whole first
/// label and matching exactly one label.
fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let (p, h): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), host.split('.').collect());
    if pattern.is_empty() || p.len() != h.len() {
        return false;
    }
    p.iter()
        .zip(&h)
        .enumerate()
        .all(|(i, (a, b))| (i == 0 && *a == "*") || a == b)
}

impl Parsed {
    /// `VerifyHostname`, then the controller's CN fallback.
    fn covers(&self, host: &str) -> bool {
        self.dns_names.iter().any(|d| name_matches(d, host))
            || self.common_names.iter().any(|c| name_matches(c, host))
    }
}

/// The certificate ingress-nginx presents for `host` (SNI).
pub fn certificate(view: &IngressView, host: &str) -> Certificate {
    let host = host.to_ascii_lowercase();
    let owned = view.owned();
    let tls_entries = |ing: &Value| -> Vec<Value> {
        ing.get_in(&["spec", "tls"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    // 1. A TLS entry listing the host.
    let mut chosen: Option<(String, String)> = owned.iter().find_map(|ing| {
        tls_entries(ing).iter().find_map(|t| {
            let listed = t
                .get("hosts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|h| h.as_str().is_some_and(|h| h.eq_ignore_ascii_case(&host)));
            listed.then(|| {
                (
                    str_at(ing, "/metadata/namespace").to_string(),
                    str_at(t, "/secretName").to_string(),
                )
            })
        })
    });
    // 2. Else a Secret whose certificate covers the host, for an Ingress
    //    serving that host.
    if chosen.is_none() {
        chosen = owned
            .iter()
            .filter(|ing| {
                ing.get_in(&["spec", "rules"])
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|r| str_at(r, "/host").eq_ignore_ascii_case(&host))
            })
            .find_map(|ing| {
                let ns = str_at(ing, "/metadata/namespace");
                tls_entries(ing).iter().find_map(|t| {
                    let name = str_at(t, "/secretName");
                    let secret = IngressView::find(&view.secrets, ns, name)?;
                    parse_secret(secret, view.now)
                        .ok()
                        .filter(|p| p.covers(&host))
                        .map(|_| (ns.to_string(), name.to_string()))
                })
            });
    }
    let Some((namespace, name)) = chosen.filter(|(_, n)| !n.is_empty()) else {
        return Certificate::Fake {
            reason: format!("no TLS secret configured for server {host:?}"),
        };
    };
    let key = format!("{namespace}/{name}");
    let Some(secret) = IngressView::find(&view.secrets, &namespace, &name) else {
        return Certificate::Fake {
            reason: format!(
                "Error getting SSL certificate {key:?}: local SSL certificate {key} was not found. Using default certificate"
            ),
        };
    };
    let parsed = match parse_secret(secret, view.now) {
        Ok(p) => p,
        Err(e) => {
            return Certificate::Fake {
                reason: format!(
                    "Error getting SSL certificate {key:?}: {e}. Using default certificate"
                ),
            };
        }
    };
    if !parsed.covers(&host) {
        return Certificate::Fake {
            reason: format!(
                "SSL certificate {key:?} does not contain a Common Name or Subject Alternative Name for server {host:?}"
            ),
        };
    }
    let Some(presented) = parsed.presented else {
        return Certificate::Fake {
            reason: format!(
                "Error getting SSL certificate {key:?}: unexpected error creating SSL Cert. Using default certificate"
            ),
        };
    };
    Certificate::Secret {
        namespace,
        name,
        expired: parsed.not_after < view.now,
        not_after: parsed.not_after,
        dns_names: parsed.dns_names,
        presented: Box::new(presented),
    }
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn hostname_patterns_follow_go() {
        assert!(name_matches("app.example.com", "APP.example.com"));
        assert!(name_matches("*.example.com", "app.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("example.com", "app.example.com"));
    }
}
