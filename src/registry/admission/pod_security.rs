//! Pod Security admission (`k8s.io/pod-security-admission`): the
//! namespace labels `pod-security.kubernetes.io/{enforce,warn,audit}` and
//! their `-version` companions pick a level (privileged, baseline,
//! restricted) per mode.
//!
//! - A pod create that fails the enforce level is refused: `pods "x" is
//!   forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation
//!   != false (container "app" must set securityContext.allowPrivilegeEscalation=false), ...`.
//! - A pod or workload (Deployment, ReplicaSet, ...) create that fails the
//!   warn level is admitted with the warning `would violate PodSecurity
//!   "restricted:latest": ...`; workloads are never refused (`enforce` only
//!   applies to pods, as upstream).
//! - Tightening a namespace's enforce label warns about the pods already
//!   there (`existing pods in namespace "x" violate the new PodSecurity
//!   enforce level "restricted:latest"`, then `pod-a: privileged`).
//!
//! Checks are run in upstream's order: the baseline checks, then the
//! restricted ones (each list in upstream's file order), with the baseline
//! checks a restricted check overrides left out. Modelled checks:
//! baseline capabilities, host namespaces, hostPath volumes, hostPorts,
//! privileged; restricted allowPrivilegeEscalation, capabilities, volume
//! types, runAsNonRoot, runAsUser, seccompProfile. Not modelled: AppArmor,
//! SELinux, procMount, sysctls, seccomp `Unconfined` at baseline, Windows
//! host process, probe/lifecycle host fields; audit mode has no audit log
//! to write to. Every version label behaves as `latest` (it is only echoed).

use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::status::{GroupResource, Status};
use serde_json::{Map, Value};

/// The three levels, least strict first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "privileged" => Some(Self::Privileged),
            "baseline" => Some(Self::Baseline),
            "restricted" => Some(Self::Restricted),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

/// A level and the version label (`latest` or `v1.x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelVersion {
    pub level: Level,
    pub version: String,
}

impl std::fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.level.as_str(), self.version)
    }
}

/// The policy of a namespace: one level per mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub warn: LevelVersion,
    pub audit: LevelVersion,
}

const PREFIX: &str = "pod-security.kubernetes.io/";

fn valid_version(v: &str) -> bool {
    v == "latest"
        || v.strip_prefix("v1.")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `PolicyToEvaluate` with the default (privileged:latest) policy: a bad
/// enforce level means restricted (fail closed), a bad warn or audit level
/// privileged (fail open), a bad version latest.
pub fn policy(labels: Option<&Map<String, Value>>) -> Policy {
    // The namespace's labels are few: find `PREFIX` + `k` among them
    // rather than build each key (six per pod admitted).
    let label = |mode: &str, suffix: &str| {
        labels?
            .iter()
            .find(|(key, _)| {
                key.strip_prefix(PREFIX).and_then(|k| k.strip_prefix(mode)) == Some(suffix)
            })
            .and_then(|(_, v)| v.as_str())
    };
    let mode = |m: &str, on_error: Level| LevelVersion {
        level: match label(m, "") {
            None => Level::Privileged,
            Some(s) => Level::parse(s).unwrap_or(on_error),
        },
        version: label(m, "-version")
            .filter(|v| valid_version(v))
            .unwrap_or("latest")
            .to_string(),
    };
    Policy {
        enforce: mode("enforce", Level::Restricted),
        warn: mode("warn", Level::Privileged),
        audit: mode("audit", Level::Privileged),
    }
}

/// One failed check: the reason and its detail.
pub type Violation = (String, String);

fn pluralize<'a>(one: &'a str, many: &'a str, n: usize) -> &'a str {
    if n == 1 { one } else { many }
}

fn join_quote(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!("\"{}\"", items.join("\", \""))
}

/// Containers in upstream's visiting order: init, regular, ephemeral.
fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|l| spec.get(*l).and_then(Value::as_array).into_iter().flatten())
        .collect()
}

fn cname(c: &Value) -> String {
    c.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn sc<'a>(c: &'a Value, field: &str) -> Option<&'a Value> {
    c.get("securityContext").and_then(|s| s.get(field))
}

fn strings_at<'a>(v: Option<&'a Value>, key: &str) -> Vec<&'a str> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Inserts keeping the first-seen order but no duplicates (`sets.String`
/// lists are sorted where upstream sorts; callers sort when they must).
fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities_baseline(spec: &Value) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut caps: Vec<String> = Vec::new();
    for c in containers(spec) {
        let added = strings_at(sc(c, "capabilities"), "add");
        let mut ok = true;
        for cap in added {
            if !BASELINE_CAPABILITIES.contains(&cap) {
                ok = false;
                push_unique(&mut caps, cap);
            }
        }
        if !ok {
            bad.push(cname(c));
        }
    }
    if bad.is_empty() {
        return None;
    }
    caps.sort();
    Some((
        "non-default capabilities".into(),
        format!(
            "{} {} must not include {} in securityContext.capabilities.add",
            pluralize("container", "containers", bad.len()),
            join_quote(&bad),
            join_quote(&caps)
        ),
    ))
}

fn host_namespaces(spec: &Value) -> Option<Violation> {
    let set: Vec<&str> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|f| spec.get(*f).and_then(Value::as_bool) == Some(true))
        .collect();
    if set.is_empty() {
        return None;
    }
    let parts: Vec<String> = set.iter().map(|f| format!("{f}=true")).collect();
    Some(("host namespaces".into(), parts.join(", ")))
}

fn volumes(spec: &Value) -> &[Value] {
    spec.get("volumes")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn host_path_volumes(spec: &Value) -> Option<Violation> {
    let bad: Vec<String> = volumes(spec)
        .iter()
        .filter(|v| v.get("hostPath").is_some())
        .map(cname)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some((
        "hostPath volumes".into(),
        format!(
            "{} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad)
        ),
    ))
}

fn host_ports(spec: &Value) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut ports: Vec<String> = Vec::new();
    for c in containers(spec) {
        let mut ok = true;
        for p in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let hp = p.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            if hp != 0 {
                ok = false;
                push_unique(&mut ports, &hp.to_string());
            }
        }
        if !ok {
            bad.push(cname(c));
        }
    }
    if bad.is_empty() {
        return None;
    }
    // `sets.String.List()` sorts the ports as strings.
    ports.sort();
    Some((
        "hostPort".into(),
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    ))
}

fn privileged(spec: &Value) -> Option<Violation> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "privileged").and_then(Value::as_bool) == Some(true))
        .map(cname)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some((
        "privileged".into(),
        format!(
            "{} {} must not set securityContext.privileged=true",
            pluralize("container", "containers", bad.len()),
            join_quote(&bad)
        ),
    ))
}

fn allow_privilege_escalation(spec: &Value) -> Option<Violation> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false))
        .map(cname)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some((
        "allowPrivilegeEscalation != false".into(),
        format!(
            "{} {} must set securityContext.allowPrivilegeEscalation=false",
            pluralize("container", "containers", bad.len()),
            join_quote(&bad)
        ),
    ))
}

fn capabilities_restricted(spec: &Value) -> Option<Violation> {
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut caps: Vec<String> = Vec::new();
    for c in containers(spec) {
        let Some(capabilities) = sc(c, "capabilities") else {
            missing_drop.push(cname(c));
            continue;
        };
        if !strings_at(Some(capabilities), "drop").contains(&"ALL") {
            missing_drop.push(cname(c));
        }
        let mut forbidden = false;
        for cap in strings_at(Some(capabilities), "add") {
            if cap != "NET_BIND_SERVICE" {
                forbidden = true;
                push_unique(&mut caps, cap);
            }
        }
        if forbidden {
            adding.push(cname(c));
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} {} must set securityContext.capabilities.drop=[\"ALL\"]",
            pluralize("container", "containers", missing_drop.len()),
            join_quote(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        caps.sort();
        details.push(format!(
            "{} {} must not include {} in securityContext.capabilities.add",
            pluralize("container", "containers", adding.len()),
            join_quote(&adding),
            join_quote(&caps)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Some(("unrestricted capabilities".into(), details.join("; ")))
}

/// The volume sources restricted allows.
const ALLOWED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "image",
];

fn restricted_volumes(spec: &Value) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types: Vec<String> = Vec::new();
    for v in volumes(spec) {
        let Some(obj) = v.as_object() else { continue };
        let sources: Vec<&String> = obj.keys().filter(|k| *k != "name").collect();
        if sources.is_empty()
            || sources
                .iter()
                .any(|k| ALLOWED_VOLUMES.contains(&k.as_str()))
        {
            continue;
        }
        bad.push(cname(v));
        push_unique(&mut types, sources[0]);
    }
    if bad.is_empty() {
        return None;
    }
    types.sort();
    Some((
        "restricted volume types".into(),
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
    ))
}

fn run_as_non_root(spec: &Value) -> Option<Violation> {
    let mut bad_setters = Vec::new();
    let mut pod_ok = false;
    match spec
        .get_in(&["securityContext", "runAsNonRoot"])
        .and_then(Value::as_bool)
    {
        Some(false) => bad_setters.push("pod".to_string()),
        Some(true) => pod_ok = true,
        None => {}
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(spec) {
        match sc(c, "runAsNonRoot").and_then(Value::as_bool) {
            Some(false) => explicit.push(cname(c)),
            Some(true) => {}
            None if !pod_ok => implicit.push(cname(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        bad_setters.push(format!(
            "{} {}",
            pluralize("container", "containers", explicit.len()),
            join_quote(&explicit)
        ));
    }
    if !bad_setters.is_empty() {
        return Some((
            "runAsNonRoot != true".into(),
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                bad_setters.join(" and ")
            ),
        ));
    }
    if !implicit.is_empty() {
        return Some((
            "runAsNonRoot != true".into(),
            format!(
                "pod or {} {} must set securityContext.runAsNonRoot=true",
                pluralize("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        ));
    }
    None
}

fn run_as_user(spec: &Value) -> Option<Violation> {
    let mut bad_setters = Vec::new();
    if spec
        .get_in(&["securityContext", "runAsUser"])
        .and_then(Value::as_i64)
        == Some(0)
    {
        bad_setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "runAsUser").and_then(Value::as_i64) == Some(0))
        .map(cname)
        .collect();
    if !bad.is_empty() {
        bad_setters.push(format!(
            "{} {}",
            pluralize("container", "containers", bad.len()),
            join_quote(&bad)
        ));
    }
    if bad_setters.is_empty() {
        return None;
    }
    Some((
        "runAsUser=0".into(),
        format!("{} must not set runAsUser=0", bad_setters.join(" and ")),
    ))
}

fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

fn seccomp_restricted(spec: &Value) -> Option<Violation> {
    let mut bad_setters = Vec::new();
    let mut bad_values: Vec<String> = Vec::new();
    let mut pod_set = false;
    if let Some(p) = spec.get_in(&["securityContext", "seccompProfile"]) {
        let t = p.get("type").and_then(Value::as_str).unwrap_or("");
        if valid_seccomp(t) {
            pod_set = true;
        } else {
            bad_setters.push("pod".to_string());
            push_unique(&mut bad_values, t);
        }
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(spec) {
        match sc(c, "seccompProfile") {
            Some(p) => {
                let t = p.get("type").and_then(Value::as_str).unwrap_or("");
                if !valid_seccomp(t) {
                    explicit.push(cname(c));
                    push_unique(&mut bad_values, t);
                }
            }
            None if !pod_set => implicit.push(cname(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        bad_setters.push(format!(
            "{} {}",
            pluralize("container", "containers", explicit.len()),
            join_quote(&explicit)
        ));
    }
    if !bad_setters.is_empty() {
        bad_values.sort();
        return Some((
            "seccompProfile".into(),
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                bad_setters.join(" and "),
                join_quote(&bad_values)
            ),
        ));
    }
    if !implicit.is_empty() {
        return Some((
            "seccompProfile".into(),
            format!(
                "pod or {} {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                pluralize("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        ));
    }
    None
}

type Check = fn(&Value) -> Option<Violation>;

/// `EvaluatePod`: the failed checks of a pod spec at a level, in order.
pub fn evaluate(level: Level, spec: &Value) -> Vec<Violation> {
    // Baseline checks in upstream's file order; the flag marks those a
    // restricted check overrides.
    let baseline: [(Check, bool); 5] = [
        (capabilities_baseline, true),
        (host_namespaces, false),
        (host_path_volumes, true),
        (host_ports, false),
        (privileged, false),
    ];
    let restricted: [Check; 6] = [
        allow_privilege_escalation,
        capabilities_restricted,
        restricted_volumes,
        run_as_non_root,
        run_as_user,
        seccomp_restricted,
    ];
    if level == Level::Privileged {
        return Vec::new();
    }
    let mut out: Vec<Violation> = baseline
        .iter()
        .filter(|(_, overridden)| level == Level::Baseline || !overridden)
        .filter_map(|(check, _)| check(spec))
        .collect();
    if level == Level::Restricted {
        out.extend(restricted.iter().filter_map(|check| check(spec)));
    }
    out
}

/// `AggregateCheckResult.ForbiddenDetail`: `reason (detail), ...`.
pub fn forbidden_detail(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|(reason, detail)| {
            if detail.is_empty() {
                reason.clone()
            } else {
                format!("{reason} ({detail})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `AggregateCheckResult.ForbiddenReason`: the reasons alone.
pub fn forbidden_reason(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|(r, _)| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pod spec of a workload's template (`DefaultPodSpecExtractor`).
pub fn template_spec<'a>(group: &str, plural: &str, obj: &'a Value) -> Option<&'a Value> {
    match (group, plural) {
        ("", "podtemplates") => obj.get_in(&["template", "spec"]),
        ("", "replicationcontrollers")
        | ("apps", "replicasets" | "deployments" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => obj.get_in(&["spec", "template", "spec"]),
        ("batch", "cronjobs") => obj.get_in(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// Admission of a create of a pod or a workload in a namespace labelled
/// `labels`: the refusal for a pod over the enforce level, else the
/// warnings for the warn level.
pub fn admit_create(
    labels: Option<&Map<String, Value>>,
    group: &str,
    plural: &str,
    obj: &Value,
) -> Result<Vec<String>, Status> {
    let pod = (group, plural) == ("", "pods");
    let spec = if pod {
        obj.get("spec")
    } else {
        template_spec(group, plural, obj)
    };
    let Some(spec) = spec else {
        return Ok(Vec::new());
    };
    let p = policy(labels);
    if pod {
        let violations = evaluate(p.enforce.level, spec);
        if !violations.is_empty() {
            return Err(Status::forbidden(
                GroupResource {
                    group: "",
                    resource: "pods",
                },
                meta::name(obj),
                &format!(
                    "violates PodSecurity \"{}\": {}",
                    p.enforce,
                    forbidden_detail(&violations)
                ),
            ));
        }
    }
    let violations = evaluate(p.warn.level, spec);
    if violations.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![format!(
        "would violate PodSecurity \"{}\": {}",
        p.warn,
        forbidden_detail(&violations)
    )])
}

/// The warnings for a namespace whose labels change from `old` to `new`
/// (`EvaluatePodsInNamespace`): none unless the enforce level got
/// stricter (or its version changed) to something above privileged.
pub fn namespace_update_warnings<'a>(
    namespace: &str,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    pods: impl IntoIterator<Item = &'a Value>,
) -> Vec<String> {
    let (old_p, new_p) = (policy(old), policy(new));
    if new_p.enforce == old_p.enforce
        || new_p.enforce.level == Level::Privileged
        || (new_p.enforce.version == old_p.enforce.version
            && new_p.enforce.level <= old_p.enforce.level)
    {
        return Vec::new();
    }
    // reason -> (lexically first pod name, count), in first-seen order.
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    for pod in pods {
        let Some(spec) = pod.get("spec") else {
            continue;
        };
        let v = evaluate(new_p.enforce.level, spec);
        if v.is_empty() {
            continue;
        }
        let reason = forbidden_reason(&v);
        let name = meta::name(pod).to_string();
        match seen.iter_mut().find(|(r, _, _)| *r == reason) {
            Some(entry) => {
                if name < entry.1 {
                    entry.1 = name;
                }
                entry.2 += 1;
            }
            None => seen.push((reason, name, 1)),
        }
    }
    if seen.is_empty() {
        return Vec::new();
    }
    let mut pod_warnings: Vec<String> = seen
        .into_iter()
        .map(|(reason, name, count)| match count {
            1 => format!("{name}: {reason}"),
            2 => format!("{name} (and 1 other pod): {reason}"),
            n => format!("{name} (and {} other pods): {reason}", n - 1),
        })
        .collect();
    pod_warnings.sort();
    let mut out = vec![format!(
        "existing pods in namespace \"{namespace}\" violate the new PodSecurity enforce level \"{}\"",
        new_p.enforce
    )];
    out.extend(pod_warnings);
    out
}

#[cfg(test)]
mod tests;
