//! Kubeconfig files for a running cluster.

use base64::Engine;
use serde_json::json;

/// What a kubeconfig points at.
pub struct KubeconfigSpec<'a> {
    pub cluster: &'a str,
    pub server: &'a str,
    pub ca_pem: &'a str,
    pub user: &'a str,
    pub credential: Credential<'a>,
}

/// How the kubeconfig's user authenticates.
pub enum Credential<'a> {
    /// A bearer token (`token:`).
    Token(&'a str),
    /// A client certificate and its key, PEM (`client-certificate-data:`
    /// and `client-key-data:`, as kind's kubeconfig carries them).
    Certificate { cert_pem: &'a str, key_pem: &'a str },
}

/// A kubeconfig in YAML, with one cluster, user and context, as
/// `kind get kubeconfig` writes it (context `kind-<name>`-style naming is
/// left to the caller).
pub fn render(spec: &KubeconfigSpec<'_>) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let ca = b64(spec.ca_pem);
    let user = match &spec.credential {
        Credential::Token(token) => json!({"token": token}),
        Credential::Certificate { cert_pem, key_pem } => json!({
            "client-certificate-data": b64(cert_pem),
            "client-key-data": b64(key_pem),
        }),
    };
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": spec.cluster,
        "clusters": [{"name": spec.cluster, "cluster": {"server": spec.server, "certificate-authority-data": ca}}],
        "users": [{"name": spec.user, "user": user}],
        "contexts": [{"name": spec.cluster, "context": {"cluster": spec.cluster, "user": spec.user}}],
    });
    crate::api::yaml::to_string(&doc).unwrap_or_default()
}

/// Where a kubeconfig's first cluster is: what another user's kubeconfig
/// for the same cluster needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    pub name: String,
    pub server: String,
    pub ca_pem: String,
}

/// The first cluster of a kubeconfig.
pub fn cluster_of(text: &str) -> Result<ClusterAccess, String> {
    let doc: serde_json::Value =
        crate::api::yaml::from_str(text).map_err(|e| format!("invalid kubeconfig: {e}"))?;
    let cluster = doc
        .pointer("/clusters/0")
        .ok_or("invalid kubeconfig: no cluster")?;
    let s = |p: &str| {
        cluster
            .pointer(p)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let ca = base64::engine::general_purpose::STANDARD
        .decode(s("/cluster/certificate-authority-data"))
        .map_err(|e| format!("invalid kubeconfig: certificate-authority-data: {e}"))?;
    Ok(ClusterAccess {
        name: s("/name"),
        server: s("/cluster/server"),
        ca_pem: String::from_utf8_lossy(&ca).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_kubeconfig_reads_back() {
        let text = render(&KubeconfigSpec {
            cluster: "kind-kdrill",
            server: "https://127.0.0.1:6443",
            ca_pem: "-----BEGIN CERTIFICATE-----\nx\n",
            user: "alice",
            credential: Credential::Token("t"),
        });
        assert_eq!(
            cluster_of(&text),
            Ok(ClusterAccess {
                name: "kind-kdrill".into(),
                server: "https://127.0.0.1:6443".into(),
                ca_pem: "-----BEGIN CERTIFICATE-----\nx\n".into(),
            })
        );
        assert!(cluster_of("kind: Config").is_err());
    }

    #[test]
    fn a_certificate_user_carries_kinds_data_fields() {
        let text = render(&KubeconfigSpec {
            cluster: "kind-kdrill",
            server: "https://127.0.0.1:6443",
            ca_pem: "ca",
            user: "kind-kdrill",
            credential: Credential::Certificate {
                cert_pem: "cert",
                key_pem: "key",
            },
        });
        let doc = crate::api::yaml::from_str(&text).unwrap();
        assert_eq!(
            doc.pointer("/users/0"),
            Some(&serde_json::json!({"name": "kind-kdrill", "user": {
                "client-certificate-data": "Y2VydA==",
                "client-key-data": "a2V5",
            }}))
        );
    }
}
