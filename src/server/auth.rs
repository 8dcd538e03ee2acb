//! Authentication: client certificates and bearer tokens mapped to users.
//! There is no anonymous access to resources; `/version`, `/healthz`,
//! `/livez`, `/readyz` and `/openapi` stay public as on a kubeadm cluster.
//!
//! A client certificate signed by the cluster CA authenticates first
//! (`client_cert`, the apiserver's x509 authenticator); then three kinds of
//! token:
//! - tokens the server handed out (the admin's, TokenRequest's);
//! - lines of a static token file, as kube-apiserver's `--token-auth-file`
//!   reads it (`token,user,uid,"group1,group2"`), re-read when it changes,
//!   which is how `kdrill sim kubeconfig --user` adds learners to a running
//!   cluster;
//! - ServiceAccount JWTs (`service_account_jwt`), the token mounted into
//!   pods, valid while their ServiceAccount exists (checked by the server).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The user of kubeadm's `admin.conf` (kind's kubeconfig): the CN of its
/// client certificate.
pub const ADMIN_USER: &str = "kubernetes-admin";
/// The admin certificate's O (kubeadm >= 1.29), bound to `cluster-admin`.
pub const ADMIN_GROUP: &str = "kubeadm:cluster-admins";

impl UserInfo {
    /// kind's admin: `kubernetes-admin` in `kubeadm:cluster-admins`.
    pub fn admin() -> Self {
        Self {
            username: ADMIN_USER.into(),
            uid: String::new(),
            groups: vec![ADMIN_GROUP.into(), "system:authenticated".into()],
            ..Default::default()
        }
    }

    /// A request without credentials.
    pub fn anonymous() -> Self {
        Self {
            username: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
            ..Default::default()
        }
    }

    /// A ServiceAccount as its tokens authenticate it.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        let mut groups = crate::server::authz::impersonate::service_account_groups(namespace);
        groups.push("system:authenticated".into());
        Self {
            username: format!("system:serviceaccount:{namespace}:{name}"),
            groups,
            ..Default::default()
        }
    }
}

pub use crate::registry::rbac::sa_token::{ISSUER, service_account_jwt, service_account_of_jwt};

/// The user a ServiceAccount JWT authenticates as, while its ServiceAccount
/// exists (its uid becomes the user's uid): the apiserver's service-account
/// token authenticator, shared by the server and the in-pod API clients.
pub fn service_account_user(store: &crate::store::Store, token: &str) -> Option<UserInfo> {
    let (ns, name) = service_account_of_jwt(token)?;
    let key = crate::store::ResKey {
        group: "",
        resource: "serviceaccounts",
    };
    let sa = store.get(key, &ns, &name)?;
    let mut user = UserInfo::service_account(&ns, &name);
    user.uid = crate::api::meta::uid(&sa).to_string();
    Some(user)
}

/// The bearer token of an `Authorization` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    Some(header?.strip_prefix("Bearer ")?.trim())
}

/// Splits one CSV record (double quotes group, `""` escapes a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The users of a static token file: `token,user,uid[,"g1,g2"]` per line.
pub fn parse_token_file(text: &str) -> HashMap<String, UserInfo> {
    let mut out = HashMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let f = csv_fields(line);
        if f.len() < 3 || f[0].is_empty() || f[1].is_empty() {
            continue;
        }
        let groups = f
            .get(3)
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut groups: Vec<String> = groups;
        // The token authenticator adds system:authenticated to every user.
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        out.insert(
            f[0].clone(),
            UserInfo {
                username: f[1].clone(),
                uid: f[2].clone(),
                groups,
                ..Default::default()
            },
        );
    }
    out
}

/// One line of a static token file.
pub fn token_file_line(token: &str, user: &str, uid: &str, groups: &[String]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut line = format!("{},{},{}", quote(token), quote(user), quote(uid));
    if !groups.is_empty() {
        line.push(',');
        line.push_str(&quote(&groups.join(",")));
    }
    line
}

/// The static token file that goes with an admin kubeconfig.
pub fn token_file_for(kubeconfig: &Path) -> PathBuf {
    let name = kubeconfig
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    kubeconfig.with_file_name(format!("{name}.tokens.csv"))
}

/// A token file and what it held when last read.
#[derive(Default)]
struct TokenFile {
    path: Option<PathBuf>,
    seen: Option<(std::time::SystemTime, u64)>,
    users: HashMap<String, UserInfo>,
}

/// The cluster CA for client certificates, and known bearer tokens.
#[derive(Default)]
pub struct Authenticator {
    client_ca: std::sync::OnceLock<super::client_cert::ClientCa>,
    tokens: RwLock<HashMap<String, UserInfo>>,
    file: RwLock<TokenFile>,
}

impl Authenticator {
    /// Authenticates client certificates signed by this CA (set once).
    pub fn set_client_ca(&self, ca: super::client_cert::ClientCa) {
        let _ = self.client_ca.set(ca);
    }

    /// The x509 authenticator on a connection's client certificates (leaf
    /// first); no user without a CA.
    pub fn authenticate_certificate(
        &self,
        chain: &[Vec<u8>],
        now: jiff::Timestamp,
    ) -> super::client_cert::X509 {
        match self.client_ca.get() {
            Some(ca) => ca.authenticate(chain, now),
            None => super::client_cert::X509::NoUser,
        }
    }

    pub fn add_token(&self, token: impl Into<String>, user: UserInfo) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.into(), user);
    }

    /// Also accept the tokens listed in `path` (re-read when it changes).
    pub fn set_token_file(&self, path: impl Into<PathBuf>) {
        let mut f = self.file.write().unwrap_or_else(|p| p.into_inner());
        *f = TokenFile {
            path: Some(path.into()),
            ..Default::default()
        };
    }

    fn lookup_file(&self, token: &str) -> Option<UserInfo> {
        let mut f = self.file.write().unwrap_or_else(|p| p.into_inner());
        let path = f.path.clone()?;
        let meta = std::fs::metadata(&path).ok()?;
        let stamp = (meta.modified().ok()?, meta.len());
        if f.seen != Some(stamp) {
            let text = std::fs::read_to_string(&path).ok()?;
            f.users = parse_token_file(&text);
            f.seen = Some(stamp);
        }
        f.users.get(token).cloned()
    }

    /// The user an `Authorization` header names among the tokens the server
    /// issued and the token file. ServiceAccount JWTs are the caller's
    /// (`ApiServer::authenticate`), as they need the store.
    pub fn authenticate(&self, header: Option<&str>) -> Option<UserInfo> {
        let token = bearer(header)?;
        let known = self
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned();
        known.or_else(|| self.lookup_file(token))
    }
}

/// Paths anyone may read.
pub fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
        || path.starts_with("/openapi/")
        || path == "/openapi/v3"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_read_as_kube_apiserver_reads_them() {
        let line = token_file_line("t1", "alice", "alice", &["devs".into(), "ops".into()]);
        assert_eq!(line, "t1,alice,alice,\"devs,ops\"");
        let users = parse_token_file(&format!("# comment\n{line}\nt2,bob,42\nbroken\n"));
        assert_eq!(users.len(), 2);
        assert_eq!(
            users.get("t1").map(|u| u.groups.clone()),
            Some(vec![
                "devs".into(),
                "ops".into(),
                "system:authenticated".into()
            ])
        );
        assert_eq!(
            users
                .get("t2")
                .map(|u| (u.username.as_str(), u.uid.as_str())),
            Some(("bob", "42"))
        );
    }
}
