//! Kubeconfig files for a running cluster.

use base64::Engine;
use serde_json::json;

/// What a kubeconfig points at.
pub struct KubeconfigSpec<'a> {
    pub cluster: &'a str,
    pub server: &'a str,
    pub ca_pem: &'a str,
    pub user: &'a str,
    pub token: &'a str,
}

/// A kubeconfig in YAML, with one cluster, user and context, as
/// `kind get kubeconfig` writes it (context `kind-<name>`-style naming is
/// left to the caller).
pub fn render(spec: &KubeconfigSpec<'_>) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(spec.ca_pem);
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": spec.cluster,
        "clusters": [{"name": spec.cluster, "cluster": {"server": spec.server, "certificate-authority-data": ca}}],
        "users": [{"name": spec.user, "user": {"token": spec.token}}],
        "contexts": [{"name": spec.cluster, "context": {"cluster": spec.cluster, "user": spec.user}}],
    });
    crate::api::yaml::to_string(&doc).unwrap_or_default()
}
