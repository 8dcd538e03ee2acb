//! Certificates and the TLS configuration: a cluster CA, a separate server
//! certificate for `localhost` / `127.0.0.1` signed by it (kube-rs rejects
//! a CA used as the leaf, see DEPENDENCIES.md), client certificates signed
//! by it (the admin's, as kubeadm issues `admin.conf`), and the rustls
//! server config that asks for an optional client certificate as the
//! apiserver does (`tls.RequestClientCert`).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::sync::Arc;

/// The CA's common name, as kubeadm names it.
pub const CA_COMMON_NAME: &str = "kubernetes";

/// The cluster CA, the serving certificate, and the admin's client
/// certificate, PEM encoded.
pub struct ServingCerts {
    pub ca_pem: String,
    /// The CA's private key: what signs further client certificates (on a
    /// kind node it is `/etc/kubernetes/pki/ca.key`).
    pub ca_key_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub admin: ClientCert,
}

/// A client certificate and its private key, PEM encoded.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The CA's parameters: a CA certificate re-created from them and the CA
/// key has the subject and key identifier of the original, so it signs
/// certificates that chain to it.
fn ca_params() -> CertificateParams {
    let mut ca_params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::CrlSign,
    ];
    ca_params
}

/// Generates a fresh CA named `kubernetes` (as kubeadm names it), a
/// serving certificate for the loopback names, and the admin's client
/// certificate (`kubernetes-admin` in `kubeadm:cluster-admins`).
pub fn generate() -> Result<ServingCerts, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let ca_params = ca_params();
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, &ca_key);

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
    ])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kube-apiserver");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer)?;
    let admin = sign_client(
        &issuer,
        crate::server::auth::ADMIN_USER,
        &[crate::server::auth::ADMIN_GROUP.to_string()],
    )?;
    Ok(ServingCerts {
        ca_pem: ca_cert.pem(),
        ca_key_pem,
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        admin,
    })
}

/// The most groups a client certificate carries: rcgen keeps one value per
/// attribute type, so the second O goes in under the same OID as a custom
/// type, and there is no third.
pub const MAX_CERT_GROUPS: usize = 2;

/// A client certificate for `user` (the subject's CN) in `groups` (one O
/// each; groups past [`MAX_CERT_GROUPS`] are the caller's to refuse), as kubeadm's `certutil.Config{
/// CommonName, Organization, Usages: ClientAuth}` makes them.
fn sign_client(
    issuer: &Issuer<'_, &KeyPair>,
    user: &str,
    groups: &[String],
) -> Result<ClientCert, rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let o_types = [
        DnType::OrganizationName,
        DnType::CustomDnType(vec![2, 5, 4, 10]),
    ];
    for (ty, g) in o_types.into_iter().zip(groups) {
        dn.push(ty, g.as_str());
    }
    dn.push(DnType::CommonName, user);
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, issuer)?;
    Ok(ClientCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A client certificate for `user` in `groups`, signed by the cluster CA
/// whose private key is `ca_key_pem` (what `kdrill sim kubeconfig` does
/// with the key `kdrill sim serve` leaves next to the kubeconfig).
pub fn issue_client(ca_key_pem: &str, user: &str, groups: &[String]) -> Result<ClientCert, String> {
    if groups.len() > MAX_CERT_GROUPS {
        return Err(format!(
            "a client certificate carries at most {MAX_CERT_GROUPS} groups"
        ));
    }
    let ca_key = KeyPair::from_pem(ca_key_pem).map_err(|e| format!("invalid CA key: {e}"))?;
    let issuer = Issuer::new(ca_params(), &ca_key);
    sign_client(&issuer, user, groups).map_err(|e| format!("failed to sign certificate: {e}"))
}

/// The cluster CA's private key that goes with an admin kubeconfig
/// (`<kubeconfig>.ca.key`, owner-only).
pub fn ca_key_file_for(kubeconfig: &std::path::Path) -> std::path::PathBuf {
    let name = kubeconfig
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    kubeconfig.with_file_name(format!("{name}.ca.key"))
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("invalid PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
    #[error("{0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The rustls server configuration: the serving certificate, ALPN `h2` and
/// `http/1.1` (as the apiserver's `NextProtos`), and a client certificate
/// requested but not verified in the handshake: the x509 authenticator
/// verifies it per request (`client_cert::ClientCa`), so a certificate
/// from another CA gets a 401 as on a real cluster, not a TLS alert.
pub fn server_config(
    certs: &ServingCerts,
    client_ca: &crate::server::client_cert::ClientCa,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain =
        CertificateDer::pem_slice_iter(certs.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(certs.key_pem.as_bytes())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(client_ca.handshake_verifier())
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
