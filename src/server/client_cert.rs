//! The x509 authenticator: client certificates signed by the cluster CA
//! authenticate as user = the subject's CN, groups = its O values
//! (`x509.CommonNameUserConversion`).
//!
//! As on the apiserver (`tls.RequestClientCert` in `secure_serving.go`),
//! the handshake asks for a certificate but does not verify its chain (the
//! client still proves it holds the key): the chain is verified per request
//! (`x509.Authenticator.AuthenticateRequest`), so a certificate from another
//! CA is an authentication error (401), not a TLS alert, and bearer tokens
//! keep working on connections without a certificate.

use crate::server::auth::UserInfo;
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// The CA client certificates must chain to.
pub struct ClientCa {
    verifier: Arc<dyn ClientCertVerifier>,
}

/// What the x509 authenticator made of a request's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum X509 {
    /// No certificate, or one without a CN: the next authenticator decides.
    NoUser,
    /// A verified certificate's user.
    User(UserInfo),
    /// The certificate did not verify: the request fails authentication
    /// unless a later authenticator (a bearer token) succeeds.
    Invalid(String),
}

impl ClientCa {
    /// Trusts the CA certificates in `ca_pem`.
    pub fn new(ca_pem: &str) -> Result<Self, crate::server::tls::TlsError> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert?)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
        Ok(Self { verifier })
    }

    /// The handshake's verifier: asks for a certificate (hinting the CA),
    /// accepts any, checks the client's signature with its key.
    pub fn handshake_verifier(&self) -> Arc<dyn ClientCertVerifier> {
        Arc::new(RequestClientCert {
            inner: self.verifier.clone(),
        })
    }

    /// The x509 authenticator on the certificates a client presented
    /// (leaf first), at `now`.
    pub fn authenticate(&self, chain: &[Vec<u8>], now: jiff::Timestamp) -> X509 {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return X509::NoUser;
        };
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let secs = u64::try_from(now.as_second()).unwrap_or(0);
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        if let Err(e) = self.verifier.verify_client_cert(
            &CertificateDer::from(leaf.as_slice()),
            &intermediates,
            at,
        ) {
            return X509::Invalid(format!("verifying certificate failed: {e}"));
        }
        match user_of_certificate(leaf) {
            Some(user) => X509::User(user),
            None => X509::NoUser,
        }
    }
}

/// The user a certificate names: CN as the username (the last CN, as Go's
/// `pkix.Name` keeps it), every O as a group, plus `system:authenticated`
/// (the authenticated-group adder). `None` without a CN or when the
/// certificate does not parse.
pub fn user_of_certificate(der: &[u8]) -> Option<UserInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let username = subject
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()?
        .to_string();
    if username.is_empty() {
        return None;
    }
    let mut groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .map(str::to_string)
        .collect();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    Some(UserInfo {
        username,
        groups,
        ..Default::default()
    })
}

/// `tls.RequestClientCert`: a certificate is optional and its chain is not
/// verified in the handshake.
#[derive(Debug)]
struct RequestClientCert {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::tls;
    use rustls::pki_types::pem::PemObject;

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .map(|c| c.to_vec())
            .unwrap_or_default()
    }

    fn now() -> jiff::Timestamp {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_admin_certificate_names_kubeadms_admin() {
        let certs = tls::generate().unwrap();
        assert_eq!(
            user_of_certificate(&der(&certs.admin.cert_pem)),
            Some(UserInfo::admin())
        );
    }

    #[test]
    fn cn_is_the_user_and_every_o_a_group() {
        let certs = tls::generate().unwrap();
        let groups = vec!["devs".to_string(), "system:masters".to_string()];
        let alice = tls::issue_client(&certs.ca_key_pem, "alice", &groups).unwrap();
        let user = user_of_certificate(&der(&alice.cert_pem)).unwrap();
        assert_eq!(user.username, "alice");
        assert_eq!(user.uid, "");
        assert_eq!(
            user.groups,
            ["devs", "system:masters", "system:authenticated"]
        );
        let nobody = tls::issue_client(&certs.ca_key_pem, "bob", &[]).unwrap();
        assert_eq!(
            user_of_certificate(&der(&nobody.cert_pem)).map(|u| u.groups),
            Some(vec!["system:authenticated".to_string()])
        );
        // The serving certificate has a CN too, but no client-auth usage:
        // that is the chain verification's to refuse, not the conversion's.
        assert_eq!(
            user_of_certificate(&der(&certs.cert_pem)).map(|u| u.username),
            Some("kube-apiserver".into())
        );
        assert_eq!(user_of_certificate(b"not a certificate"), None);
    }

    #[test]
    fn a_certificate_without_a_cn_names_no_user() {
        let certs = tls::generate().unwrap();
        let anonymous = tls::issue_client(&certs.ca_key_pem, "", &["devs".into()]).unwrap();
        let ca = ClientCa::new(&certs.ca_pem).unwrap();
        assert_eq!(
            ca.authenticate(&[der(&anonymous.cert_pem)], now()),
            X509::NoUser
        );
    }

    #[test]
    fn only_client_certificates_of_the_cluster_ca_authenticate() {
        let certs = tls::generate().unwrap();
        let ca = ClientCa::new(&certs.ca_pem).unwrap();
        assert_eq!(ca.authenticate(&[], now()), X509::NoUser);
        assert_eq!(
            ca.authenticate(&[der(&certs.admin.cert_pem)], now()),
            X509::User(UserInfo::admin())
        );
        // Signed by another cluster's CA (also named `kubernetes`).
        let other = tls::generate().unwrap();
        assert!(matches!(
            ca.authenticate(&[der(&other.admin.cert_pem)], now()),
            X509::Invalid(e) if e.contains("BadSignature")
        ));
        // The serving certificate is not for client auth.
        assert!(matches!(
            ca.authenticate(&[der(&certs.cert_pem)], now()),
            X509::Invalid(_)
        ));
        assert!(matches!(
            ca.authenticate(&[b"junk".to_vec()], now()),
            X509::Invalid(_)
        ));
    }
}
