//! The certificate the HTTPS host port presents: the one the simulation
//! says ingress-nginx picks for the SNI name
//! ([`crate::sim::ingress::certificate`]), served from the Ingress's TLS
//! Secret (`tls.crt` chain and `tls.key`, expired or not), or the
//! controller's "Kubernetes Ingress Controller Fake Certificate" when
//! there is no SNI, no TLS entry, or the Secret does not load. A key that
//! rustls cannot use also falls back to the fake certificate, as the
//! controller does for a Secret whose pair does not load.
//!
//! The fake certificate is generated once per process (ingress-nginx
//! generates its own at start, `ssl.GetFakeSSLCert`): self-signed, `O=Acme
//! Co, CN=Kubernetes Ingress Controller Fake Certificate`, SAN
//! `ingress.local`, valid a year.

use crate::sim::ingress::{self, Certificate};
use crate::sim::kubelets::Kubelets;
use base64::Engine;
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// The fake certificate's common name.
pub const FAKE_COMMON_NAME: &str = "Kubernetes Ingress Controller Fake Certificate";

/// Generates the controller's fake certificate, valid from `now` for a
/// year.
pub fn generate_fake(now: jiff::Timestamp) -> Result<CertifiedKey, String> {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params =
        CertificateParams::new(vec!["ingress.local".to_string()]).map_err(|e| e.to_string())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Acme Co");
    dn.push(DnType::CommonName, FAKE_COMMON_NAME);
    params.distinguished_name = dn;
    let date = |t: jiff::Timestamp| {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        rcgen::date_time_ymd(
            i32::from(d.year()),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    params.not_before = date(now);
    params.not_after = date(
        now.checked_add(jiff::SignedDuration::from_hours(365 * 24))
            .unwrap_or(now),
    );
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    certified(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
}

/// A certificate chain and key from PEM, usable by rustls.
pub fn certified(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if chain.is_empty() {
        return Err("no certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| e.to_string())?;
    let signing = any_supported_type(&key).map_err(|e| e.to_string())?;
    Ok(CertifiedKey::new(chain, signing))
}

/// A Secret's `tls.crt`/`tls.key` pair, if it loads.
pub fn from_secret(secret: &Value) -> Option<CertifiedKey> {
    let field = |k: &str| {
        let b64 = secret.get("data")?.get(k)?.as_str()?;
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    };
    certified(&field("tls.crt")?, &field("tls.key")?).ok()
}

/// Picks the certificate per handshake from the cluster of that moment.
pub struct Resolver {
    kubelets: Arc<Kubelets>,
    fake: OnceLock<Option<Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

impl Resolver {
    pub fn new(kubelets: Arc<Kubelets>) -> Self {
        Self {
            kubelets,
            fake: OnceLock::new(),
        }
    }

    fn fake(&self, now: jiff::Timestamp) -> Option<Arc<CertifiedKey>> {
        self.fake
            .get_or_init(|| match generate_fake(now) {
                Ok(k) => Some(Arc::new(k)),
                Err(e) => {
                    tracing::error!("host port: cannot generate the fake certificate: {e}");
                    None
                }
            })
            .clone()
    }

    /// The certificate for `sni` now.
    pub fn choose(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let (objects, now) = self.kubelets.ingress_objects();
        let Some(name) = sni.filter(|n| !n.is_empty()) else {
            return self.fake(now);
        };
        let view = objects.view(now);
        match ingress::certificate(&view, name) {
            Certificate::Secret {
                namespace, name, ..
            } => self
                .kubelets
                .secret(&namespace, &name)
                .and_then(|s| from_secret(&s))
                .map(Arc::new)
                .or_else(|| self.fake(now)),
            Certificate::Fake { .. } => self.fake(now),
        }
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn the_fake_certificate_names_the_controller() {
        let now: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let key = generate_fake(now).unwrap();
        let der = key.end_entity_cert().unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        assert_eq!(
            cert.subject().to_string(),
            "O=Acme Co, CN=Kubernetes Ingress Controller Fake Certificate"
        );
        assert_eq!(cert.validity().not_after.to_datetime().year(), 2027);
    }

    #[test]
    fn a_secret_with_a_bad_key_does_not_load() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["shop.example.com".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let good =
            json!({"data": {"tls.crt": b64(&cert.pem()), "tls.key": b64(&key.serialize_pem())}});
        assert!(from_secret(&good).is_some());
        let bad = json!({"data": {"tls.crt": b64(&cert.pem()), "tls.key": b64("not a key")}});
        assert!(from_secret(&bad).is_none());
        let missing = json!({"data": {"tls.crt": b64(&cert.pem())}});
        assert!(from_secret(&missing).is_none());
    }
}
