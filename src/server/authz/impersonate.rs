//! The impersonation filter (`apiserver/pkg/endpoints/filters/impersonation.go`):
//! `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
//! `Impersonate-Extra-<key>` headers replace the requesting user, each
//! checked first with the `impersonate` verb against the requestor.

use super::Decision;
use crate::api::status::Status;
use crate::registry::rbac::rule::Attributes;
use crate::server::auth::UserInfo;

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA_PREFIX: &str = "impersonate-extra-";
const AUTHN_GROUP: &str = "authentication.k8s.io";

/// One thing the requestor asks to act as (upstream's `ObjectReference`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    ServiceAccount { namespace: String, name: String },
    User(String),
    Group(String),
    Extra { key: String, value: String },
    Uid(String),
}

impl Request {
    /// `%v` of the `ObjectReference` upstream builds: its seven fields.
    fn go_format(&self) -> String {
        let (kind, ns, name, api, field) = match self {
            Self::ServiceAccount { namespace, name } => {
                ("ServiceAccount", namespace.as_str(), name.as_str(), "", "")
            }
            Self::User(n) => ("User", "", n.as_str(), "", ""),
            Self::Group(n) => ("Group", "", n.as_str(), "", ""),
            Self::Extra { key, value } => (
                "UserExtra",
                "",
                value.as_str(),
                "authentication.k8s.io/v1",
                key.as_str(),
            ),
            Self::Uid(n) => ("UID", "", n.as_str(), "authentication.k8s.io/v1", ""),
        };
        format!("{{{kind} {ns} {name}  {api}  {field}}}")
    }

    /// What the requestor must be allowed to `impersonate`.
    fn attributes(&self) -> Attributes {
        let (group, resource, ns, name) = match self {
            Self::ServiceAccount { namespace, name } => (
                "",
                "serviceaccounts".to_string(),
                namespace.as_str(),
                name.as_str(),
            ),
            Self::User(n) => ("", "users".into(), "", n.as_str()),
            Self::Group(n) => ("", "groups".into(), "", n.as_str()),
            Self::Extra { key, value } => {
                (AUTHN_GROUP, format!("userextras/{key}"), "", value.as_str())
            }
            Self::Uid(n) => (AUTHN_GROUP, "uids".into(), "", n.as_str()),
        };
        Attributes::resource("impersonate", group, &resource, ns, name)
    }
}

pub use crate::registry::rbac::sa_token::split_service_account;

/// The groups every ServiceAccount is in, besides `system:authenticated`.
pub fn service_account_groups(namespace: &str) -> Vec<String> {
    vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{namespace}"),
    ]
}

/// Percent-decoding of an extra key (`unescapeExtraKey`).
fn unescape(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = key
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| key.to_string())
}

/// `buildImpersonationRequests`, from (lowercased name, value) headers.
fn requests(headers: &[(String, String)]) -> Result<Vec<Request>, Status> {
    let mut out = Vec::new();
    let first = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let user = first(USER).filter(|u| !u.is_empty());
    if let Some(u) = user {
        out.push(match split_service_account(u) {
            Some((ns, name)) => Request::ServiceAccount {
                namespace: ns.into(),
                name: name.into(),
            },
            None => Request::User(u.into()),
        });
    }
    let mut others = false;
    for (n, v) in headers {
        if n == GROUP {
            others = true;
            out.push(Request::Group(v.clone()));
        }
    }
    for (n, v) in headers {
        if let Some(key) = n.strip_prefix(EXTRA_PREFIX) {
            others = true;
            out.push(Request::Extra {
                key: unescape(key),
                value: v.clone(),
            });
        }
    }
    if let Some(uid) = first(UID).filter(|u| !u.is_empty()) {
        others = true;
        out.push(Request::Uid(uid.into()));
    }
    if others && user.is_none() {
        let list: Vec<String> = out.iter().map(Request::go_format).collect();
        return Err(Status::internal(format!(
            "requested [{}] without impersonating a user",
            list.join(" ")
        )));
    }
    Ok(out)
}

/// The user the request acts as: the requestor itself without
/// impersonation headers, the impersonated user when every part is
/// allowed, or upstream's 403 for the first part that is not.
pub fn impersonate(
    headers: &[(String, String)],
    requestor: &UserInfo,
    authorize: impl Fn(&UserInfo, &Attributes) -> Decision,
) -> Result<UserInfo, Status> {
    let reqs = requests(headers)?;
    if reqs.is_empty() {
        return Ok(requestor.clone());
    }
    let groups_specified = headers.iter().any(|(n, _)| n == GROUP);
    let mut user = UserInfo::default();
    for r in &reqs {
        match r {
            Request::ServiceAccount { namespace, name } => {
                user.username = format!("system:serviceaccount:{namespace}:{name}");
                if !groups_specified {
                    user.groups = service_account_groups(namespace);
                }
            }
            Request::User(n) => user.username = n.clone(),
            Request::Group(g) => user.groups.push(g.clone()),
            Request::Extra { key, value } => user
                .extra
                .entry(key.clone())
                .or_default()
                .push(value.clone()),
            Request::Uid(u) => user.uid = u.clone(),
        }
        let attrs = r.attributes();
        let d = authorize(requestor, &attrs);
        if !d.allowed {
            return Err(super::forbidden(&requestor.username, &attrs, &d.reason));
        }
    }
    if user.username != "system:anonymous"
        && !user
            .groups
            .iter()
            .any(|g| g == "system:authenticated" || g == "system:unauthenticated")
    {
        user.groups.push("system:authenticated".into());
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn alice() -> UserInfo {
        UserInfo {
            username: "alice".into(),
            groups: vec!["system:authenticated".into()],
            ..Default::default()
        }
    }

    /// Allows impersonating users only.
    fn users_only(_: &UserInfo, a: &Attributes) -> Decision {
        Decision {
            allowed: a.resource == "users",
            reason: String::new(),
        }
    }

    #[test]
    fn impersonation_replaces_the_user_as_upstream_does() {
        let none = impersonate(&[], &alice(), users_only).ok();
        assert_eq!(none, Some(alice()));
        let bob = impersonate(&h(&[("impersonate-user", "bob")]), &alice(), users_only).ok();
        assert_eq!(
            bob.map(|u| (u.username, u.groups)),
            Some(("bob".to_string(), vec!["system:authenticated".to_string()]))
        );
        let all = |_: &UserInfo, _: &Attributes| Decision {
            allowed: true,
            reason: String::new(),
        };
        let sa = impersonate(
            &h(&[("impersonate-user", "system:serviceaccount:dev:app")]),
            &alice(),
            all,
        )
        .map(|u| u.groups)
        .unwrap_or_default();
        assert_eq!(
            sa,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:dev",
                "system:authenticated"
            ]
        );
        let grouped = impersonate(
            &h(&[
                ("impersonate-user", "bob"),
                ("impersonate-group", "devs"),
                ("impersonate-extra-scopes", "view"),
            ]),
            &alice(),
            all,
        )
        .unwrap_or_default();
        assert_eq!(grouped.groups, ["devs", "system:authenticated"]);
        assert_eq!(grouped.extra.get("scopes"), Some(&vec!["view".to_string()]));
    }

    #[test]
    fn impersonation_denials_carry_upstreams_messages() {
        let denied = impersonate(
            &h(&[
                ("impersonate-user", "bob"),
                ("impersonate-group", "system:masters"),
            ]),
            &alice(),
            users_only,
        )
        .err()
        .map(|s| (s.code, s.message));
        assert_eq!(
            denied,
            Some((
                403,
                "groups \"system:masters\" is forbidden: User \"alice\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope".to_string()
            ))
        );
        let sa = impersonate(
            &h(&[("impersonate-user", "system:serviceaccount:dev:app")]),
            &alice(),
            users_only,
        )
        .err()
        .map(|s| s.message);
        assert_eq!(
            sa.as_deref(),
            Some(
                "serviceaccounts \"app\" is forbidden: User \"alice\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"dev\""
            )
        );
        let no_user = impersonate(&h(&[("impersonate-group", "devs")]), &alice(), users_only)
            .err()
            .map(|s| (s.code, s.message));
        assert_eq!(
            no_user,
            Some((
                500,
                "Internal error occurred: requested [{Group  devs    }] without impersonating a user".to_string()
            ))
        );
    }
}
