//! kdrill's own vocabulary for the images a scenario brings: what a
//! scenario's app image does when it runs (the ports and paths it serves,
//! the env vars and files it needs, what it logs, how much memory it takes)
//! and, for a private registry, the login a pull secret must carry.
//!
//! Scenarios declare these in `scenario.yaml` (`images:`); the simulated
//! cluster's container runtime takes them through `/kdrill/v1/images`. Real
//! clusters ignore them: there the image itself behaves.

use serde::{Deserialize, Serialize};

/// Behaviour a scenario declares for one of its own images.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AppBehaviour {
    /// Tags that exist (empty: any tag).
    pub tags: Vec<String>,
    pub image_size: u64,
    /// TCP ports served over HTTP once started.
    pub ports: Vec<u16>,
    /// HTTP paths and the status they answer (others: 404).
    pub paths: Vec<PathStatus>,
    /// Ports serving the gRPC health protocol (`SERVING`).
    pub grpc_ports: Vec<u16>,
    /// Environment variables the app needs; a missing one makes it log
    /// `missing_env_message` (with `{name}`) and exit with `exit_code` (1 by default).
    pub requires_env: Vec<String>,
    pub missing_env_message: Option<String>,
    /// Files the app reads; a missing one is fatal like a missing env var.
    pub config_files: Vec<String>,
    pub missing_file_message: Option<String>,
    /// Resident memory in bytes (OOMKilled over the container's limit).
    pub memory_bytes: u64,
    /// CPU kept busy while running, in millicores (what `kubectl top` and
    /// the HorizontalPodAutoscaler see, up to the container's CPU limit).
    pub cpu_millicores: u64,
    /// Lines logged at start-up, with their offsets in seconds.
    pub logs: Vec<TimedLine>,
    /// Seconds before the ports open.
    pub startup_seconds: f64,
    /// Exits by itself after `exit_after_seconds` with `exit_code`.
    pub exit_after_seconds: Option<f64>,
    pub exit_code: Option<i32>,
    /// The image has a shell (`sh`) for exec probes and `kubectl exec`.
    pub shell: bool,
    /// The repository is private: a pull needs a pull secret for its
    /// registry with this login.
    pub private: Option<RegistryLogin>,
    /// Calls the app makes to the API server with its pod's ServiceAccount
    /// token, once started; each answer is logged (`successLog`,
    /// `errorLog`).
    pub api_calls: Vec<ApiCallSpec>,
    /// A refused API call makes the app exit with `exit_code` (1 by
    /// default), so RBAC mistakes crash-loop it.
    pub exit_on_error: bool,
}

/// One call an app makes to the API server, as client-go would.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiCallSpec {
    /// `list` (the default), `get` (with `name`), `watch`, `create`, ...
    pub verb: String,
    /// Plural, singular, short name or kind, optionally `.group`
    /// (`configmaps`, `cm`, `deployments.apps`).
    pub resource: String,
    /// Default: the pod's namespace (from the mounted token's `namespace`
    /// file); `""` for all namespaces.
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// A list's label selector (`app=web`).
    pub label_selector: Option<String>,
    /// How often the call repeats (`10s`, `1m`, `500ms` or seconds); once
    /// at start-up when absent.
    pub every: Option<Every>,
    /// The line logged when the call succeeds; `{verb}`, `{resource}`,
    /// `{namespace}`, `{count}` and `{{time:FMT}}` are filled in.
    pub success_log: Option<String>,
    /// The line logged when it fails; `{error}` is client-go's error text
    /// (for a 403, the apiserver's `... is forbidden: User ...` message).
    pub error_log: Option<String>,
}

/// A period, written as Go durations are (`10s`, `1m30s`, `500ms`) or as
/// a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "f64")]
pub struct Every(pub f64);

impl From<Every> for f64 {
    fn from(e: Every) -> f64 {
        e.0
    }
}

impl Every {
    /// Parses `10s`, `1m30s`, `500ms`, `2h` or a bare number of seconds.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid duration {s:?}: write it as 500ms, 10s, 5m or 1h");
        let s = s.trim();
        if let Ok(n) = s.parse::<f64>() {
            return (n.is_finite() && n > 0.0)
                .then_some(Every(n))
                .ok_or_else(bad);
        }
        let mut total = 0.0;
        let mut rest = s;
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let mult = match &rest[..unit_len] {
                "ms" => 0.001,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad()),
            };
            total += n * mult;
            rest = &rest[unit_len..];
        }
        (total > 0.0).then_some(Every(total)).ok_or_else(bad)
    }
}

impl<'de> Deserialize<'de> for Every {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Num(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        Every::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The login a private registry accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryLogin {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathStatus {
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimedLine {
    pub at: f64,
    pub line: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_as_go_durations_or_seconds() {
        assert_eq!(Every::parse("10s"), Ok(Every(10.0)));
        assert_eq!(Every::parse("1m30s"), Ok(Every(90.0)));
        assert_eq!(Every::parse("500ms"), Ok(Every(0.5)));
        assert_eq!(Every::parse("2.5"), Ok(Every(2.5)));
        assert_eq!(
            Every::parse("10x"),
            Err("invalid duration \"10x\": write it as 500ms, 10s, 5m or 1h".into())
        );
        assert!(Every::parse("").is_err());
        assert!(Every::parse("-1").is_err());
        assert!(Every::parse("s").is_err());
    }

    #[test]
    fn api_calls_refuse_unknown_fields() {
        let ok: AppBehaviour = serde_json::from_str(
            r#"{"apiCalls":[{"resource":"configmaps","every":"10s"}],"exitOnError":true}"#,
        )
        .expect("valid");
        assert_eq!(ok.api_calls[0].every, Some(Every(10.0)));
        assert!(ok.exit_on_error);
        let err = serde_json::from_str::<AppBehaviour>(
            r#"{"apiCalls":[{"resource":"configmaps","evry":"10s"}]}"#,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("unknown field `evry`"), "{err}");
    }

    #[test]
    fn scenario_yaml_mistakes_in_api_calls_point_at_their_line() {
        let path = std::path::Path::new("scenario.yaml");
        let unknown = "apiCalls:\n- resource: configmaps\n  evry: 10s\n";
        let err = serde_saphyr::from_str::<AppBehaviour>(unknown)
            .err()
            .map(|e| crate::scenario::load::yaml_error(path, &e).to_string())
            .unwrap_or_default();
        assert!(err.starts_with("scenario.yaml:3:"), "{err}");
        assert!(err.contains("unknown field `evry`"), "{err}");
        let bad = "apiCalls:\n- resource: configmaps\n  every: soon\n";
        let err = serde_saphyr::from_str::<AppBehaviour>(bad)
            .err()
            .map(|e| crate::scenario::load::yaml_error(path, &e).to_string())
            .unwrap_or_default();
        assert!(err.contains("invalid duration \"soon\""), "{err}");
        assert!(err.starts_with("scenario.yaml:3:"), "{err}");
    }
}
