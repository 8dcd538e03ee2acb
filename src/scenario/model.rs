//! What `scenario.yaml` says, as serde types. Field names are camelCase,
//! as in Kubernetes manifests; unknown fields are errors.

use crate::api::image_behaviour::AppBehaviour;
use serde::{Deserialize, Serialize};

/// The whole of `scenario.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioSpec {
    /// Matches the folder name.
    pub id: String,
    pub title: String,
    /// One sentence for `kdrill list`.
    pub summary: String,
    pub difficulty: Difficulty,
    #[serde(default)]
    pub tags: Vec<String>,
    pub estimated_minutes: u32,
    /// The namespace the scenario's objects live in (default `default`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    #[serde(default)]
    pub cluster: ClusterSpec,
    #[serde(default)]
    pub hints: Vec<Hint>,
    pub rubric: Rubric,
    /// Wrong fixes that must not pass the rubric.
    #[serde(default)]
    pub shortcuts: Vec<Shortcut>,
    /// What the scenario's own app images do, by repository
    /// (`registry.example.com/shop/api`). The simulated cluster runs them so;
    /// real clusters pull the real images.
    #[serde(default)]
    pub images: std::collections::BTreeMap<String, AppBehaviour>,
}

fn default_namespace() -> String {
    "default".into()
}

/// How hard a scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Beginner,
    Intermediate,
    Advanced,
}

impl Difficulty {
    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Beginner => "beginner",
            Difficulty::Intermediate => "intermediate",
            Difficulty::Advanced => "advanced",
        }
    }
}

/// The cluster a scenario needs.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Nodes in all, the control plane included (kind's default shape: 3).
    #[serde(default = "default_nodes")]
    pub nodes: usize,
    /// Optional add-ons: `ingress-nginx`, `metrics-server`.
    #[serde(default)]
    pub addons: Vec<Addon>,
}

fn default_nodes() -> usize {
    3
}

impl Default for ClusterSpec {
    fn default() -> Self {
        Self {
            nodes: default_nodes(),
            addons: Vec::new(),
        }
    }
}

/// A cluster add-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addon {
    IngressNginx,
    MetricsServer,
}

/// A hint and what reading it costs.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hint {
    pub text: String,
    /// Points taken off the score once the hint is shown.
    #[serde(default)]
    pub cost: u32,
}

/// The scenario's rubric.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rubric {
    /// Percent of the points needed to pass (the profile's when absent).
    #[serde(default)]
    pub pass_mark: Option<u32>,
    pub criteria: Vec<Criterion>,
}

/// One graded criterion.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Criterion {
    pub id: String,
    pub title: String,
    #[serde(default = "default_points")]
    pub points: u32,
    /// The rubric fails whenever this criterion fails.
    #[serde(default)]
    pub required: bool,
    /// Guards against a wrong fix (image swapped, workload replaced, ...);
    /// always required.
    #[serde(default)]
    pub anti_shortcut: bool,
    /// The criterion must keep passing over this window (`30s`, `2m`).
    #[serde(default)]
    pub holds: Option<String>,
    pub check: Check,
}

fn default_points() -> u32 {
    10
}

impl Criterion {
    /// Whether failing this criterion fails the rubric.
    pub fn is_required(&self) -> bool {
        self.required || self.anti_shortcut
    }
}

/// A built-in check or a Rhai predicate.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Check {
    /// The Deployment's `Available` condition is `True` and every replica
    /// is updated and available.
    DeploymentAvailable {
        name: String,
        #[serde(default)]
        namespace: Option<String>,
    },
    /// Every pod matching the selector is Ready, with at most
    /// `maxRestarts` container restarts (default 0: none since the fix
    /// rolled the pods out).
    PodsReady {
        selector: String,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default)]
        max_restarts: u32,
        #[serde(default = "one")]
        min_pods: u32,
    },
    /// The Service has at least one ready endpoint.
    ServiceEndpoints {
        name: String,
        #[serde(default)]
        namespace: Option<String>,
    },
    /// A field of an object (dotted path, `spec.template.spec.containers[0].image`)
    /// equals a value.
    FieldEquals {
        /// `kind/name` as kubectl names things: `deployment/api`.
        target: String,
        #[serde(default)]
        namespace: Option<String>,
        path: String,
        value: serde_json::Value,
    },
    /// The object exists (with a selector: at least one matches).
    Exists {
        /// `kind/name`, or `kind` alone with a selector.
        target: String,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default)]
        selector: Option<String>,
    },
    /// The object does not exist (with a selector: none matches).
    Absent {
        /// `kind/name`, or `kind` alone with a selector.
        target: String,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default)]
        selector: Option<String>,
    },
    /// A SubjectAccessReview answers `expect`.
    CanI {
        /// `system:serviceaccount:ns:name` or a user name.
        user: String,
        verb: String,
        resource: String,
        #[serde(default)]
        group: String,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default = "yes")]
        expect: bool,
    },
    /// No event with this reason was recorded since setup finished.
    EventAbsentSince {
        reason: String,
        /// Only events about this object (`pod/x`, or a name prefix `pod/api-`).
        #[serde(default)]
        involved: Option<String>,
        #[serde(default)]
        namespace: Option<String>,
    },
    /// An HTTP GET from a short-lived probe pod inside the cluster
    /// (through a Service or the Ingress) answers `status`, and the body
    /// contains `bodyContains` when given.
    HttpGet {
        url: String,
        #[serde(default = "http_ok")]
        status: u16,
        #[serde(default)]
        body_contains: Option<String>,
        /// The `Host` header to send instead of the URL's host (an Ingress
        /// rule's host, through the controller's Service).
        #[serde(default)]
        host: Option<String>,
        /// Where the probe pod runs (the scenario's namespace by default).
        #[serde(default)]
        namespace: Option<String>,
    },
    /// A DNS name resolves from a probe pod inside the cluster.
    DnsResolves {
        name: String,
        /// Where the probe pod runs (the scenario's namespace by default).
        #[serde(default)]
        namespace: Option<String>,
    },
    /// A Rhai predicate: returns `true`/`false`, or a map
    /// `#{ pass: bool, seen: "..." }`.
    Rhai {
        /// A file relative to the scenario folder (`grading/x.rhai` for the
        /// shared library).
        #[serde(default)]
        file: Option<String>,
        /// Inline script.
        #[serde(default)]
        script: Option<String>,
    },
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn http_ok() -> u16 {
    200
}

impl Check {
    /// The check's name as written in scenario.yaml.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::DeploymentAvailable { .. } => "deploymentAvailable",
            Check::PodsReady { .. } => "podsReady",
            Check::ServiceEndpoints { .. } => "serviceEndpoints",
            Check::FieldEquals { .. } => "fieldEquals",
            Check::Exists { .. } => "exists",
            Check::Absent { .. } => "absent",
            Check::CanI { .. } => "canI",
            Check::EventAbsentSince { .. } => "eventAbsentSince",
            Check::HttpGet { .. } => "httpGet",
            Check::DnsResolves { .. } => "dnsResolves",
            Check::Rhai { .. } => "rhai",
        }
    }
}

/// A wrong fix the rubric must reject.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Shortcut {
    pub id: String,
    pub title: String,
    /// A Rhai script relative to the scenario folder.
    pub script: String,
}

/// Parses a duration such as `30s`, `2m`, `1m30s`, `500ms`.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let mut total = std::time::Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let d = match &rest[..unit_len] {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n * 60),
            "h" => std::time::Duration::from_secs(n * 3600),
            _ => return None,
        };
        total += d;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(
            parse_duration("30s"),
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("1m30s"),
            Some(std::time::Duration::from_secs(90))
        );
        assert_eq!(
            parse_duration("500ms"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration(""), None);
    }
}
