//! RBAC policy rules and how one request matches them, as upstream's
//! `RuleAllows` (`plugin/pkg/auth/authorizer/rbac/rbac.go`) and the
//! `rbacv1helpers` matchers (`pkg/apis/rbac/v1/evaluation_helpers.go`) do.

use serde_json::Value;

/// What a request asks for: the `authorizer.Attributes` of upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, `impersonate`, `bind`, `escalate`, ...; for a
    /// non-resource request the lowercased HTTP method.
    pub verb: String,
    pub resource_request: bool,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// The URL path of a non-resource request.
    pub path: String,
}

impl Attributes {
    /// A resource request.
    pub fn resource(verb: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Self {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Self {
            verb: verb.into(),
            resource_request: true,
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    /// A non-resource request (`/api`, `/healthz`, ...).
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Self {
            verb: verb.into(),
            path: path.into(),
            ..Default::default()
        }
    }

    /// `resource/subresource`, as rules name it.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// One `rbac.authorization.k8s.io/v1` PolicyRule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl PolicyRule {
    pub fn from_json(v: &Value) -> Self {
        Self {
            verbs: strings(v, "verbs"),
            api_groups: strings(v, "apiGroups"),
            resources: strings(v, "resources"),
            resource_names: strings(v, "resourceNames"),
            non_resource_urls: strings(v, "nonResourceURLs"),
        }
    }

    /// The rules of a Role or ClusterRole object.
    pub fn list_of(role: &Value) -> Vec<Self> {
        role.get("rules")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(Self::from_json).collect())
            .unwrap_or_default()
    }

    /// The rule as the API serializes it (empty lists left out).
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: &Vec<String>| {
            if !v.is_empty() {
                m.insert(k.into(), Value::from(v.clone()));
            }
        };
        put("verbs", &self.verbs);
        put("apiGroups", &self.api_groups);
        put("resources", &self.resources);
        put("resourceNames", &self.resource_names);
        put("nonResourceURLs", &self.non_resource_urls);
        Value::Object(m)
    }

    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    pub fn api_group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == "*" || g == group)
    }

    /// `*`, the exact `resource/subresource`, or `*/subresource`.
    pub fn resource_matches(&self, combined: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            r == "*"
                || r == combined
                || (!subresource.is_empty()
                    && r.strip_prefix("*/").is_some_and(|s| s == subresource))
        })
    }

    /// No names means every name.
    pub fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    /// `*`, the exact path, or a prefix ending in `*`.
    pub fn non_resource_url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == "*"
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    /// `RuleAllows`.
    pub fn allows(&self, a: &Attributes) -> bool {
        if a.resource_request {
            self.verb_matches(&a.verb)
                && self.api_group_matches(&a.group)
                && self.resource_matches(&a.combined_resource(), &a.subresource)
                && self.resource_name_matches(&a.name)
        } else {
            self.verb_matches(&a.verb) && self.non_resource_url_matches(&a.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: Value) -> PolicyRule {
        PolicyRule::from_json(&v)
    }

    #[test]
    fn rules_match_as_upstream_rule_allows() {
        let pods_read =
            rule(json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}));
        let all = rule(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}));
        let named = rule(
            json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app"], "verbs": ["get"]}),
        );
        let any_status =
            rule(json!({"apiGroups": ["apps"], "resources": ["*/status"], "verbs": ["get"]}));
        let logs = rule(json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}));
        let discovery = rule(json!({"nonResourceURLs": ["/api", "/api/*"], "verbs": ["get"]}));
        let ns = "default";
        let cases: &[(&str, &PolicyRule, Attributes, bool)] = &[
            (
                "verb listed",
                &pods_read,
                Attributes::resource("get", "", "pods", ns, "web"),
                true,
            ),
            (
                "verb not listed",
                &pods_read,
                Attributes::resource("delete", "", "pods", ns, "web"),
                false,
            ),
            (
                "other group",
                &pods_read,
                Attributes::resource("get", "apps", "pods", ns, ""),
                false,
            ),
            (
                "subresource needs its own entry",
                &pods_read,
                Attributes::resource("get", "", "pods/log", ns, "web"),
                false,
            ),
            (
                "subresource entry",
                &logs,
                Attributes::resource("get", "", "pods/log", ns, "web"),
                true,
            ),
            (
                "subresource entry is not the parent",
                &logs,
                Attributes::resource("get", "", "pods", ns, "web"),
                false,
            ),
            (
                "wildcards",
                &all,
                Attributes::resource("deletecollection", "batch", "jobs", "", ""),
                true,
            ),
            (
                "wildcard resource covers subresources",
                &all,
                Attributes::resource("create", "", "pods/exec", ns, "x"),
                true,
            ),
            (
                "resourceName matches",
                &named,
                Attributes::resource("get", "", "configmaps", ns, "app"),
                true,
            ),
            (
                "resourceName differs",
                &named,
                Attributes::resource("get", "", "configmaps", ns, "other"),
                false,
            ),
            (
                "resourceNames never match a list",
                &named,
                Attributes::resource("get", "", "configmaps", ns, ""),
                false,
            ),
            (
                "*/status",
                &any_status,
                Attributes::resource("get", "apps", "deployments/status", ns, "d"),
                true,
            ),
            (
                "*/status is not the parent",
                &any_status,
                Attributes::resource("get", "apps", "deployments", ns, "d"),
                false,
            ),
            (
                "non-resource exact",
                &discovery,
                Attributes::non_resource("get", "/api"),
                true,
            ),
            (
                "non-resource prefix",
                &discovery,
                Attributes::non_resource("get", "/api/v1"),
                true,
            ),
            (
                "non-resource other",
                &discovery,
                Attributes::non_resource("get", "/apis"),
                false,
            ),
            (
                "non-resource verb",
                &discovery,
                Attributes::non_resource("post", "/api"),
                false,
            ),
            (
                "resource rule never allows a path",
                &all,
                Attributes::non_resource("get", "/api"),
                false,
            ),
        ];
        for (name, rule, attrs, want) in cases {
            assert_eq!(rule.allows(attrs), *want, "{name}");
        }
    }

    #[test]
    fn rules_round_trip_without_empty_lists() {
        let v = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]});
        assert_eq!(PolicyRule::from_json(&v).to_json(), v);
    }
}
