//! A TLS server's certificate as a client sees it, and how curl 8 with
//! OpenSSL 3 judges it.
//!
//! Upstream truth: OpenSSL 3's `X509_verify_cert` (`crypto/x509/x509_vfy.c`:
//! the chain is built first, so an untrusted self-signed leaf fails as
//! `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT` and an unknown issuer as
//! `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY` before any date is
//! looked at; `internal_verify` then checks the dates from the anchor
//! down), the texts of `X509_verify_cert_error_string`
//! (`crypto/x509/x509_txt.c`, OpenSSL 3 spells "self-signed"), and curl's
//! `lib/vtls/openssl.c`: the handshake fails with `SSL certificate
//! problem: <text>`; after it `ossl_verifyhost` checks the name (SAN
//! dNSName/iPAddress, else the last CN) and `x509_name_oneline` prints
//! names as `O=Acme Co; CN=...`; `ASN1_TIME_print` prints dates as
//! `Jan  2 03:04:05 2026 GMT`. curl trusts `X509_V_FLAG_PARTIAL_CHAIN`: a
//! leaf that is itself in the `--cacert` file is a trust anchor.
//!
//! Not modelled: intermediates sent by the server, signatures (an issuer
//! is the CA whose subject is the leaf's issuer and, when both carry one,
//! whose subject key id is the leaf's authority key id), key usage,
//! revocation.

use jiff::Timestamp;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::pem::Pem;
use x509_parser::x509::X509Name;

/// The leaf certificate a server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCert {
    /// `x509_name_oneline` form: `O=Acme Co; CN=...`.
    pub subject: String,
    pub issuer: String,
    /// The last CN of the subject.
    pub common_name: Option<String>,
    /// SAN dNSName entries.
    pub dns_names: Vec<String>,
    /// SAN iPAddress entries (dotted or IPv6 text).
    pub ip_addresses: Vec<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// The serial number (hex), to recognise the leaf in a CA file.
    pub serial: String,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// The server's clock is before `notBefore`.
    pub not_yet_valid: bool,
    /// The server's clock is after `notAfter`.
    pub expired: bool,
    /// When it was judged (the clock of the connection).
    pub seen_at: Timestamp,
}

/// One certificate of a `--cacert` file.
pub type Anchor = ServerCert;

fn name_oneline(name: &X509Name<'_>) -> String {
    let reg = oid_registry();
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|a| {
                    let key = oid2abbrev(a.attr_type(), reg)
                        .map(str::to_string)
                        .unwrap_or_else(|_| a.attr_type().to_id_string());
                    let value = a.as_str().unwrap_or("");
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServerCert {
    /// Reads a parsed certificate; `now` is the clock the validity is
    /// judged by.
    pub fn from_x509(cert: &X509Certificate<'_>, now: Timestamp) -> Option<Self> {
        let not_before = Timestamp::from_second(cert.validity().not_before.timestamp()).ok()?;
        let not_after = Timestamp::from_second(cert.validity().not_after.timestamp()).ok()?;
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        let mut subject_key_id = None;
        let mut authority_key_id = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for g in &san.general_names {
                        match g {
                            GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                            GeneralName::IPAddress(b) => {
                                if let Ok(a) = <[u8; 4]>::try_from(*b) {
                                    ip_addresses.push(std::net::Ipv4Addr::from(a).to_string());
                                } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                                    ip_addresses.push(std::net::Ipv6Addr::from(a).to_string());
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::SubjectKeyIdentifier(k) => subject_key_id = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    authority_key_id = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => {}
            }
        }
        Some(Self {
            subject: name_oneline(cert.subject()),
            issuer: name_oneline(cert.issuer()),
            common_name: cert
                .subject()
                .iter_common_name()
                .last()
                .and_then(|c| c.as_str().ok())
                .map(str::to_string),
            dns_names,
            ip_addresses,
            not_before,
            not_after,
            serial: cert.raw_serial_as_string(),
            subject_key_id,
            authority_key_id,
            not_yet_valid: now < not_before,
            expired: now > not_after,
            seen_at: now,
        })
    }

    /// Every certificate of a PEM file (`--cacert`), judged at `now`.
    pub fn from_pem_file(text: &str, now: Timestamp) -> Vec<Self> {
        Pem::iter_from_buffer(text.as_bytes())
            .filter_map(Result::ok)
            .filter(|p| p.label == "CERTIFICATE")
            .filter_map(|p| {
                let cert = p.parse_x509().ok()?;
                Self::from_x509(&cert, now)
            })
            .collect()
    }

    fn self_signed(&self) -> bool {
        self.subject == self.issuer
            && match (&self.authority_key_id, &self.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }

    fn issued_by(&self, ca: &Anchor) -> bool {
        self.issuer == ca.subject
            && match (&self.authority_key_id, &ca.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }

    /// `ASN1_TIME_print`'s form.
    pub fn asn1_time(t: Timestamp) -> String {
        t.strftime("%b %e %H:%M:%S %Y GMT").to_string()
    }
}

/// An OpenSSL verification error: `X509_V_ERR_*` and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyError {
    pub code: i32,
    pub text: &'static str,
}

pub const NOT_YET_VALID: VerifyError = VerifyError {
    code: 9,
    text: "certificate is not yet valid",
};
pub const EXPIRED: VerifyError = VerifyError {
    code: 10,
    text: "certificate has expired",
};
pub const SELF_SIGNED: VerifyError = VerifyError {
    code: 18,
    text: "self-signed certificate",
};
pub const UNKNOWN_ISSUER: VerifyError = VerifyError {
    code: 20,
    text: "unable to get local issuer certificate",
};

/// `X509_verify_cert` for a server that sends only its leaf, against the
/// trust anchors (`--cacert`; the system bundle holds none of a cluster's
/// CAs).
pub fn verify_chain(leaf: &ServerCert, anchors: &[Anchor]) -> Result<(), VerifyError> {
    let dates = |c: &ServerCert| {
        if c.not_yet_valid {
            Err(NOT_YET_VALID)
        } else if c.expired {
            Err(EXPIRED)
        } else {
            Ok(())
        }
    };
    // The leaf itself trusted (partial chain).
    if anchors
        .iter()
        .any(|a| a.subject == leaf.subject && a.serial == leaf.serial)
    {
        return dates(leaf);
    }
    if let Some(ca) = anchors.iter().find(|a| leaf.issued_by(a)) {
        dates(ca)?;
        return dates(leaf);
    }
    if leaf.self_signed() {
        Err(SELF_SIGNED)
    } else {
        Err(UNKNOWN_ISSUER)
    }
}

/// curl's `Curl_cert_hostcheck`: case-insensitive; a `*` only as the whole
/// leftmost label of a pattern with at least two more labels, matching
/// exactly one label.
fn hostcheck(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if p == h {
        return !p.is_empty();
    }
    let Some(rest) = p.strip_prefix("*.") else {
        return false;
    };
    if rest.split('.').count() < 2 {
        return false;
    }
    match h.split_once('.') {
        Some((first, tail)) => !first.is_empty() && tail == rest,
        None => false,
    }
}

/// The outcome of `ossl_verifyhost`: the verbose line on success, the
/// verbose line and the error on failure.
pub fn verify_host(leaf: &ServerCert, host: &str) -> Result<String, (Option<String>, String)> {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let ip = ip.parse::<std::net::IpAddr>().ok();
    let has_san = !leaf.dns_names.is_empty() || !leaf.ip_addresses.is_empty();
    if has_san {
        match ip {
            Some(addr) => {
                if leaf
                    .ip_addresses
                    .iter()
                    .any(|a| a.parse::<std::net::IpAddr>().ok() == Some(addr))
                {
                    return Ok(format!(
                        " subjectAltName: host \"{host}\" matched cert's IP address!"
                    ));
                }
            }
            None => {
                if let Some(d) = leaf.dns_names.iter().find(|d| hostcheck(d, host)) {
                    return Ok(format!(
                        " subjectAltName: host \"{host}\" matched cert's \"{d}\""
                    ));
                }
            }
        }
        let tname = match ip {
            None => "hostname",
            Some(std::net::IpAddr::V4(_)) => "ipv4 address",
            Some(std::net::IpAddr::V6(_)) => "ipv6 address",
        };
        return Err((
            Some(format!(" subjectAltName does not match {tname} {host}")),
            format!("SSL: no alternative certificate subject name matches target {tname} '{host}'"),
        ));
    }
    match &leaf.common_name {
        None => Err((
            None,
            "SSL: unable to obtain common name from peer certificate".into(),
        )),
        Some(cn) if hostcheck(cn, host) => Ok(format!(" common name: {cn} (matched)")),
        Some(cn) => Err((
            None,
            format!("SSL: certificate subject name '{cn}' does not match target hostname '{host}'"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    /// A CA: its PEM and what signs with it.
    fn ca() -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "drill-ca");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.not_before = rcgen::date_time_ymd(2025, 1, 1);
        ca.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let pem = ca.self_signed(&ca_key).expect("ca").pem();
        (pem, rcgen::Issuer::new(ca, ca_key))
    }

    /// A leaf `ca` signs for `names`, valid between the dates.
    fn leaf(
        ca: &rcgen::Issuer<'static, rcgen::KeyPair>,
        names: &[&str],
        from: (i32, u8, u8),
        to: (i32, u8, u8),
    ) -> String {
        let mut leaf =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        leaf.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().expect("key");
        leaf.signed_by(&key, ca).expect("leaf").pem()
    }

    fn one(pem: &str, now: &str) -> ServerCert {
        ServerCert::from_pem_file(pem, ts(now))
            .pop()
            .expect("a certificate")
    }

    #[test]
    fn chain_errors_come_before_dates_as_in_openssl() {
        let now = "2026-06-01T00:00:00Z";
        let (ca_pem, ca) = self::ca();
        let good = leaf(&ca, &["shop.example.com"], (2026, 1, 1), (2027, 1, 1));
        let old = leaf(&ca, &["shop.example.com"], (2025, 1, 1), (2026, 1, 1));
        let anchors = ServerCert::from_pem_file(&ca_pem, ts(now));
        let cert = one(&good, now);
        assert_eq!(cert.subject, "CN=shop.example.com");
        assert_eq!(cert.issuer, "CN=drill-ca");
        assert_eq!(verify_chain(&cert, &anchors), Ok(()));
        assert_eq!(verify_chain(&cert, &[]), Err(UNKNOWN_ISSUER));
        // Expired but from an unknown CA: the chain fails first.
        let expired = one(&old, now);
        assert!(expired.expired);
        assert_eq!(verify_chain(&expired, &[]), Err(UNKNOWN_ISSUER));
        assert_eq!(verify_chain(&expired, &anchors), Err(EXPIRED));
        assert_eq!(EXPIRED.text, "certificate has expired");
        // Another CA with the same name does not sign it.
        let other = ServerCert::from_pem_file(&self::ca().0, ts(now));
        assert_eq!(verify_chain(&cert, &other), Err(UNKNOWN_ISSUER));
        // Not yet valid.
        let early = one(&good, "2025-06-01T00:00:00Z");
        assert_eq!(verify_chain(&early, &anchors), Err(NOT_YET_VALID));
    }

    #[test]
    fn self_signed_leaves_fail_unless_trusted_themselves() {
        let now = "2026-06-01T00:00:00Z";
        let key = rcgen::KeyPair::generate().expect("key");
        let mut p =
            rcgen::CertificateParams::new(vec!["web.example.com".to_string()]).expect("params");
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2026, 1, 1);
        let pem = p.self_signed(&key).expect("cert").pem();
        let leaf = one(&pem, now);
        // Expired and self-signed: OpenSSL reports the chain.
        assert_eq!(verify_chain(&leaf, &[]), Err(SELF_SIGNED));
        assert_eq!(SELF_SIGNED.text, "self-signed certificate");
        let anchors = ServerCert::from_pem_file(&pem, ts(now));
        assert_eq!(verify_chain(&leaf, &anchors), Err(EXPIRED));
    }

    #[test]
    fn host_names_follow_curls_checks() {
        let pem = leaf(
            &ca().1,
            &["shop.example.com", "*.api.example.com"],
            (2026, 1, 1),
            (2027, 1, 1),
        );
        let cert = one(&pem, "2026-06-01T00:00:00Z");
        assert_eq!(
            verify_host(&cert, "SHOP.example.com"),
            Ok(
                " subjectAltName: host \"SHOP.example.com\" matched cert's \"shop.example.com\""
                    .into()
            )
        );
        assert!(verify_host(&cert, "v1.api.example.com").is_ok());
        assert_eq!(
            verify_host(&cert, "a.b.api.example.com").map_err(|e| e.1),
            Err("SSL: no alternative certificate subject name matches target hostname 'a.b.api.example.com'".into())
        );
        assert_eq!(
            verify_host(&cert, "10.96.0.20"),
            Err((
                Some(" subjectAltName does not match ipv4 address 10.96.0.20".into()),
                "SSL: no alternative certificate subject name matches target ipv4 address '10.96.0.20'".into()
            ))
        );
        assert!(!hostcheck("*.com", "example.com"));
    }

    #[test]
    fn dates_print_as_asn1_time_print() {
        assert_eq!(
            ServerCert::asn1_time(ts("2026-01-02T03:04:05Z")),
            "Jan  2 03:04:05 2026 GMT"
        );
        assert_eq!(
            ServerCert::asn1_time(ts("2026-11-27T10:00:00Z")),
            "Nov 27 10:00:00 2026 GMT"
        );
    }
}
