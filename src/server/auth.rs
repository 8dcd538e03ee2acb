//! Authentication: bearer tokens mapped to users. There is no anonymous
//! access to resources; `/version`, `/healthz`, `/livez`, `/readyz` and
//! `/openapi` stay public as on a kubeadm cluster.

use std::collections::HashMap;
use std::sync::RwLock;

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// kind's admin: `kubernetes-admin` in `kubeadm:cluster-admins`.
    pub fn admin() -> Self {
        Self {
            username: "kubernetes-admin".into(),
            uid: String::new(),
            groups: vec![
                "kubeadm:cluster-admins".into(),
                "system:authenticated".into(),
            ],
            ..Default::default()
        }
    }
}

/// Known bearer tokens.
#[derive(Default)]
pub struct Authenticator {
    tokens: RwLock<HashMap<String, UserInfo>>,
}

impl Authenticator {
    pub fn add_token(&self, token: impl Into<String>, user: UserInfo) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.into(), user);
    }

    /// The user an `Authorization` header names, if any.
    pub fn authenticate(&self, header: Option<&str>) -> Option<UserInfo> {
        let token = header?.strip_prefix("Bearer ")?.trim();
        self.tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned()
    }
}

/// Paths anyone may read.
pub fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
        || path.starts_with("/openapi/")
        || path == "/openapi/v3"
}
