//! Naming objects the way kubectl does: `deployment/api`, `deploy/api`,
//! `svc/api`, `deployments.apps/api`, or a bare kind for lists.

use kube::core::discovery::{ApiCapabilities, ApiResource, Scope};

/// kubectl's short names for the built-in kinds (from each resource's
/// `shortNames` in discovery).
const SHORT_NAMES: &[(&str, &str)] = &[
    ("cm", "configmaps"),
    ("cj", "cronjobs"),
    ("cs", "componentstatuses"),
    ("csr", "certificatesigningrequests"),
    ("deploy", "deployments"),
    ("ds", "daemonsets"),
    ("ep", "endpoints"),
    ("ev", "events"),
    ("hpa", "horizontalpodautoscalers"),
    ("ing", "ingresses"),
    ("limits", "limitranges"),
    ("netpol", "networkpolicies"),
    ("no", "nodes"),
    ("ns", "namespaces"),
    ("pc", "priorityclasses"),
    ("pdb", "poddisruptionbudgets"),
    ("po", "pods"),
    ("pv", "persistentvolumes"),
    ("pvc", "persistentvolumeclaims"),
    ("quota", "resourcequotas"),
    ("rc", "replicationcontrollers"),
    ("rs", "replicasets"),
    ("sa", "serviceaccounts"),
    ("sc", "storageclasses"),
    ("sts", "statefulsets"),
    ("svc", "services"),
];

/// A parsed `kind/name` (name empty for a bare kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The resource as written, lower-cased: `deploy`, `deployments.apps`.
    pub resource: String,
    pub name: String,
}

impl Target {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (res, name) = match s.split_once('/') {
            Some((r, n)) => (r, n),
            None => (s, ""),
        };
        if res.is_empty() || name.contains('/') {
            return Err(format!(
                "{s:?} is not a kind/name such as \"deployment/api\""
            ));
        }
        Ok(Self {
            resource: res.to_ascii_lowercase(),
            name: name.to_string(),
        })
    }
}

/// Finds the resource a name means among discovered ones: plural,
/// singular (the kind lower-cased), short name, or `plural.group`.
/// Core and `apps` win over other groups, as in kubectl's preference.
pub fn find<'a>(
    resource: &str,
    resources: &'a [(ApiResource, ApiCapabilities)],
) -> Option<&'a (ApiResource, ApiCapabilities)> {
    let (name, group) = match resource.split_once('.') {
        Some((n, g)) => (n, Some(g)),
        None => (resource, None),
    };
    let plural = SHORT_NAMES
        .iter()
        .find(|(s, _)| *s == name)
        .map(|(_, p)| *p)
        .unwrap_or(name);
    let matches = |ar: &ApiResource| {
        (ar.plural == plural || ar.kind.to_ascii_lowercase() == plural)
            && group.is_none_or(|g| ar.group == g)
    };
    let rank = |ar: &ApiResource| match ar.group.as_str() {
        "" => 0,
        "apps" => 1,
        _ => 2,
    };
    resources
        .iter()
        .filter(|(ar, _)| matches(ar))
        .min_by_key(|(ar, _)| rank(ar))
}

/// Whether objects of this resource live in namespaces.
pub fn namespaced(caps: &ApiCapabilities) -> bool {
    caps.scope == Scope::Namespaced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(group: &str, kind: &str, plural: &str) -> (ApiResource, ApiCapabilities) {
        let api_version = if group.is_empty() {
            "v1".to_string()
        } else {
            format!("{group}/v1")
        };
        (
            ApiResource {
                group: group.into(),
                version: "v1".into(),
                api_version,
                kind: kind.into(),
                plural: plural.into(),
            },
            ApiCapabilities {
                scope: Scope::Namespaced,
                subresources: vec![],
                operations: vec![],
            },
        )
    }

    #[test]
    fn resolves_names_as_kubectl_does() {
        let all = vec![
            res("", "Pod", "pods"),
            res("apps", "Deployment", "deployments"),
            res("", "Service", "services"),
            res("", "Event", "events"),
            res("events.k8s.io", "Event", "events"),
        ];
        for (input, kind) in [
            ("deploy", "Deployment"),
            ("deployment", "Deployment"),
            ("deployments", "Deployment"),
            ("deployments.apps", "Deployment"),
            ("svc", "Service"),
            ("po", "Pod"),
        ] {
            assert_eq!(
                find(input, &all).map(|r| r.0.kind.as_str()),
                Some(kind),
                "{input}"
            );
        }
        assert_eq!(find("events", &all).map(|r| r.0.group.as_str()), Some(""));
        assert_eq!(
            find("events.events.k8s.io", &all).map(|r| r.0.group.as_str()),
            Some("events.k8s.io")
        );
        assert!(find("widgets", &all).is_none());
    }

    #[test]
    fn parses_targets() {
        assert_eq!(
            Target::parse("Deploy/api").unwrap(),
            Target {
                resource: "deploy".into(),
                name: "api".into()
            }
        );
        assert_eq!(Target::parse("pods").unwrap().name, "");
        assert!(Target::parse("/x").is_err());
        assert!(Target::parse("a/b/c").is_err());
    }
}
