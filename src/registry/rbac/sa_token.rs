//! ServiceAccount tokens: JWT-shaped (header, claims, signature) as the
//! apiserver issues them through TokenRequest and the kubelet mounts them
//! into pods, with a simulated signature.

use base64::Engine;

/// `system:serviceaccount:<ns>:<name>` split, when it is one.
pub fn split_service_account(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix("system:serviceaccount:")?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The issuer of ServiceAccount tokens (kubeadm's default).
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A ServiceAccount token shaped as the apiserver's JWTs are (header,
/// claims, signature), with the claims kubectl and apps read. The
/// signature is simulated: the server trusts the claims of tokens it
/// issued only while the ServiceAccount exists.
pub fn service_account_jwt(namespace: &str, name: &str, expires: Option<i64>) -> String {
    // A kubelet mounts the same token into every pod of a ServiceAccount
    // (most of a cluster's pods use `default`): the last one is kept.
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, String, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    if expires.is_some() {
        return build_jwt(namespace, name, expires);
    }
    LAST.with_borrow_mut(|last| match last {
        Some((ns, n, token)) if ns == namespace && n == name => token.clone(),
        _ => {
            let token = build_jwt(namespace, name, None);
            *last = Some((namespace.to_string(), name.to_string(), token.clone()));
            token
        }
    })
}

fn build_jwt(namespace: &str, name: &str, expires: Option<i64>) -> String {
    let header = serde_json::json!({"alg": "RS256", "kid": "kdrill"});
    let mut claims = serde_json::json!({
        "aud": [ISSUER],
        "iss": ISSUER,
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name}},
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
    });
    if let Some(exp) = expires {
        claims["exp"] = exp.into();
    }
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(b"kdrill-simulated-signature")
    )
}

/// The (namespace, name) a ServiceAccount JWT of ours claims, if it is one.
pub fn service_account_of_jwt(token: &str) -> Option<(String, String)> {
    let mut parts = token.split('.');
    let (_, claims, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || sig != b64(b"kdrill-simulated-signature") {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if claims.get("iss").and_then(|v| v.as_str()) != Some(ISSUER) {
        return None;
    }
    let sub = claims.get("sub")?.as_str()?;
    let (ns, name) = split_service_account(sub)?;
    Some((ns.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_tokens_name_their_account() {
        let t = service_account_jwt("dev", "app", Some(1_700_000_000));
        assert_eq!(
            service_account_of_jwt(&t),
            Some(("dev".into(), "app".into()))
        );
        assert_eq!(service_account_of_jwt("kdrill-admin-x"), None);
        let forged = t.replace(&b64(b"kdrill-simulated-signature"), "c2ln");
        assert_eq!(service_account_of_jwt(&forged), None);
    }

    #[test]
    fn the_kept_token_is_the_one_of_the_account_asked_for() {
        for (ns, name) in [
            ("dev", "app"),
            ("dev", "app"),
            ("dev", "web"),
            ("prod", "app"),
        ] {
            let t = service_account_jwt(ns, name, None);
            assert_eq!(t, build_jwt(ns, name, None));
            assert_eq!(service_account_of_jwt(&t), Some((ns.into(), name.into())));
        }
    }
}
