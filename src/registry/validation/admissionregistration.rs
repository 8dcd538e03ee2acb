//! admissionregistration.k8s.io/v1 validation of the webhook
//! configurations.
//!
//! Upstream truth: `pkg/apis/admissionregistration/validation/validation.go`
//! (`validateValidatingWebhookConfiguration`, `validateValidatingWebhook`,
//! `validateMutatingWebhook`, `validateRuleWithOperations`, `validateRule`,
//! `validateAdmissionReviewVersions`, and the update options computed from
//! the old object), apimachinery `IsFullyQualifiedName`, apiserver
//! `pkg/util/webhook/validation.go` (`ValidateWebhookService`). Not
//! checked: the URL form of `clientConfig.url` beyond being set, resource
//! wildcard/subresource combinations, matchConditions' CEL.

use serde_json::Value;

use super::{arr, ch, get, idx, int, label_selector, present, s};
use crate::api::field_error::FieldError;
use crate::api::name::{is_dns1035_label, is_dns1123_subdomain, is_valid_port_num};

const FAILURE_POLICIES: &[&str] = &["Fail", "Ignore"];
const MATCH_POLICIES: &[&str] = &["Equivalent", "Exact"];
const SIDE_EFFECTS: &[&str] = &["None", "NoneOnDryRun", "Some", "Unknown"];
const NO_SIDE_EFFECTS: &[&str] = &["None", "NoneOnDryRun"];
const OPERATIONS: &[&str] = &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const SCOPES: &[&str] = &["*", "Cluster", "Namespaced"];
const REINVOCATION_POLICIES: &[&str] = &["IfNeeded", "Never"];
const REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];

/// What an update may keep that a create may not (upstream relaxes a rule
/// when the old object already broke it).
#[derive(Debug, Clone, Copy)]
struct Opts {
    require_no_side_effects: bool,
    require_recognized_review_version: bool,
    require_unique_names: bool,
}

const CREATE: Opts = Opts {
    require_no_side_effects: true,
    require_recognized_review_version: true,
    require_unique_names: true,
};

/// A ValidatingWebhookConfiguration (`mutating` false) or a
/// MutatingWebhookConfiguration on create.
pub fn webhook_configuration(obj: &Value, mutating: bool) -> Vec<FieldError> {
    configuration(obj, mutating, CREATE)
}

/// The same on update: the rules are relaxed where `old` already broke them.
pub fn webhook_configuration_update(new: &Value, old: &Value, mutating: bool) -> Vec<FieldError> {
    let hooks = arr(old, "webhooks");
    let mut names = std::collections::HashSet::new();
    let opts = Opts {
        require_no_side_effects: hooks
            .iter()
            .all(|h| NO_SIDE_EFFECTS.contains(&s(h, "sideEffects"))),
        require_recognized_review_version: hooks.iter().all(|h| {
            let vs = arr(h, "admissionReviewVersions");
            vs.is_empty()
                || vs
                    .iter()
                    .any(|v| REVIEW_VERSIONS.contains(&v.as_str().unwrap_or("")))
        }),
        require_unique_names: hooks.iter().all(|h| names.insert(s(h, "name"))),
    };
    configuration(new, mutating, opts)
}

fn configuration(obj: &Value, mutating: bool, opts: Opts) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, hook) in arr(obj, "webhooks").iter().enumerate() {
        let path = idx("webhooks", i);
        webhook(hook, mutating, opts, &path, &mut errs);
        review_versions(hook, opts, &ch(&path, "admissionReviewVersions"), &mut errs);
        let name = s(hook, "name");
        if opts.require_unique_names && !name.is_empty() && !names.insert(name) {
            errs.push(FieldError::duplicate(ch(&path, "name"), Value::from(name)));
        }
    }
    errs
}

/// `IsFullyQualifiedName`.
fn fully_qualified_name(name: &str, path: &str, errs: &mut Vec<FieldError>) {
    if name.is_empty() {
        errs.push(FieldError::required(path, ""));
        return;
    }
    let dns = is_dns1123_subdomain(name);
    if !dns.is_empty() {
        errs.push(FieldError::invalid(path, Value::from(name), dns.join(",")));
    } else if name.split('.').count() < 3 {
        errs.push(FieldError::invalid(
            path,
            Value::from(name),
            "should be a domain with at least three segments separated by dots",
        ));
    }
}

/// A string field that, when set, must be one of `valid`.
fn one_of(hook: &Value, key: &str, valid: &[&str], path: &str, errs: &mut Vec<FieldError>) {
    if let Some(v) = hook.get(key).filter(|v| !v.is_null())
        && !valid.contains(&v.as_str().unwrap_or(""))
    {
        errs.push(FieldError::not_supported(ch(path, key), v.clone(), valid));
    }
}

fn webhook(hook: &Value, mutating: bool, opts: Opts, path: &str, errs: &mut Vec<FieldError>) {
    fully_qualified_name(s(hook, "name"), &ch(path, "name"), errs);
    for (i, rule) in arr(hook, "rules").iter().enumerate() {
        rule_with_operations(rule, &idx(&ch(path, "rules"), i), errs);
    }
    one_of(hook, "failurePolicy", FAILURE_POLICIES, path, errs);
    one_of(hook, "matchPolicy", MATCH_POLICIES, path, errs);
    let side_effects = if opts.require_no_side_effects {
        NO_SIDE_EFFECTS
    } else {
        SIDE_EFFECTS
    };
    if present(hook, "sideEffects") {
        one_of(hook, "sideEffects", side_effects, path, errs);
    } else {
        errs.push(FieldError::required(
            ch(path, "sideEffects"),
            format!("must specify one of {}", side_effects.join(", ")),
        ));
    }
    if let Some(t) = int(hook, "timeoutSeconds")
        && !(1..=30).contains(&t)
    {
        errs.push(FieldError::invalid(
            ch(path, "timeoutSeconds"),
            Value::from(t),
            "the timeout value must be between 1 and 30 seconds",
        ));
    }
    for sel in ["namespaceSelector", "objectSelector"] {
        if present(hook, sel) {
            label_selector(get(hook, sel), &ch(path, sel), errs);
        }
    }
    if mutating {
        one_of(
            hook,
            "reinvocationPolicy",
            REINVOCATION_POLICIES,
            path,
            errs,
        );
    }
    client_config(get(hook, "clientConfig"), &ch(path, "clientConfig"), errs);
}

/// Exactly one of url or service; a service's name, namespace, port and path.
fn client_config(cc: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let (url, service) = (present(cc, "url"), present(cc, "service"));
    if url == service {
        errs.push(FieldError::required(
            path,
            "exactly one of url or service is required",
        ));
        return;
    }
    if url {
        return;
    }
    let svc = get(cc, "service");
    let path = ch(path, "service");
    if s(svc, "name").is_empty() {
        errs.push(FieldError::required(ch(&path, "name"), ""));
    }
    if s(svc, "namespace").is_empty() {
        errs.push(FieldError::required(ch(&path, "namespace"), ""));
    }
    let port = int(svc, "port").unwrap_or(443);
    let bad = is_valid_port_num(port);
    if !bad.is_empty() {
        errs.push(FieldError::invalid(
            ch(&path, "port"),
            Value::from(port),
            format!("port is not valid: {}", bad.join(", ")),
        ));
    }
    let p = s(svc, "path");
    if p.is_empty() || p == "/" {
        return;
    }
    if p == "//" {
        errs.push(FieldError::invalid(
            ch(&path, "path"),
            Value::from(p),
            "segment[0] may not be empty",
        ));
    } else if !p.starts_with('/') {
        errs.push(FieldError::invalid(
            ch(&path, "path"),
            Value::from(p),
            "must start with a '/'",
        ));
    }
}

fn strings(v: &Value, k: &str) -> Vec<String> {
    arr(v, k)
        .iter()
        .map(|x| x.as_str().unwrap_or("").to_string())
        .collect()
}

/// `validateRuleWithOperations` + `validateRule` (subresources allowed).
fn rule_with_operations(rule: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let ops = strings(rule, "operations");
    let p = ch(path, "operations");
    if ops.is_empty() {
        errs.push(FieldError::required(&p, ""));
    }
    if ops.len() > 1 && ops.iter().any(|o| o == "*") {
        errs.push(FieldError::invalid(
            &p,
            get(rule, "operations").clone(),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (i, op) in ops.iter().enumerate() {
        if !OPERATIONS.contains(&op.as_str()) {
            errs.push(FieldError::not_supported(
                idx(&p, i),
                Value::from(op.as_str()),
                OPERATIONS,
            ));
        }
    }
    for (key, what) in [("apiGroups", "API groups"), ("apiVersions", "API versions")] {
        let xs = strings(rule, key);
        let p = ch(path, key);
        if xs.is_empty() {
            errs.push(FieldError::required(&p, ""));
        }
        if xs.len() > 1 && xs.iter().any(|x| x == "*") {
            errs.push(FieldError::invalid(
                &p,
                get(rule, key).clone(),
                format!("if '*' is present, must not specify other {what}"),
            ));
        }
        if key == "apiVersions" {
            for (i, _) in xs.iter().enumerate().filter(|(_, v)| v.is_empty()) {
                errs.push(FieldError::required(idx(&p, i), ""));
            }
        }
    }
    let res = strings(rule, "resources");
    let p = ch(path, "resources");
    if res.is_empty() {
        errs.push(FieldError::required(&p, ""));
    }
    for (i, _) in res.iter().enumerate().filter(|(_, r)| r.is_empty()) {
        errs.push(FieldError::required(idx(&p, i), ""));
    }
    one_of(rule, "scope", SCOPES, path, errs);
}

/// `validateAdmissionReviewVersions`.
fn review_versions(hook: &Value, opts: Opts, path: &str, errs: &mut Vec<FieldError>) {
    let versions = strings(hook, "admissionReviewVersions");
    if versions.is_empty() {
        errs.push(FieldError::required(
            path,
            format!("must specify one of {}", REVIEW_VERSIONS.join(", ")),
        ));
        return;
    }
    let mut seen = std::collections::HashSet::new();
    let mut accepted = false;
    for (i, v) in versions.iter().enumerate() {
        if !seen.insert(v.as_str()) {
            errs.push(FieldError::invalid(
                idx(path, i),
                Value::from(v.as_str()),
                "duplicate version",
            ));
            continue;
        }
        for msg in is_dns1035_label(v) {
            errs.push(FieldError::invalid(
                idx(path, i),
                Value::from(v.as_str()),
                msg,
            ));
        }
        accepted |= REVIEW_VERSIONS.contains(&v.as_str());
    }
    if opts.require_recognized_review_version && !accepted {
        errs.push(FieldError::invalid(
            path,
            get(hook, "admissionReviewVersions").clone(),
            format!(
                "must include at least one of {}",
                REVIEW_VERSIONS.join(", ")
            ),
        ));
    }
}
