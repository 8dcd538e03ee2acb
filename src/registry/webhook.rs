//! Validating admission webhooks, called on create and update/patch after
//! the registry's own defaulting, validation and admission, as the
//! apiserver's `ValidatingAdmissionWebhook` plugin runs last.
//!
//! Two sources of checks:
//! - [`ValidatingHook`]s registered at startup, always consulted;
//! - the stored `ValidatingWebhookConfiguration`s (sorted by name, their
//!   webhooks in order), whose webhooks point at a Service. A webhook is
//!   called when one of its rules matches the request (operation, group,
//!   version, resource, scope) and its namespace and object selectors
//!   match. The apiserver resolves the Service to its ClusterIP
//!   (`ResolveCluster` in apiserver `pkg/util/proxy`: `service "x" not
//!   found`, `cannot route to service with ClusterIP "None"`, `no service
//!   port 443 found for service "x"`) and dials it; what the connection
//!   reaches is the simulator's [`Network`] (the registry must not import
//!   the simulator). A call that fails is an `ErrCallingWebhook`
//!   (`failed calling webhook "<name>": failed to call webhook: Post
//!   "https://<svc>.<ns>.svc:<port><path>?timeout=<n>s": <dial error>`):
//!   with `failurePolicy: Fail` the write gets a 500 InternalError
//!   (`Internal error occurred: ...`), with `Ignore` it goes through.
//!   A webhook that answers passes its denial on unchanged.
//!
//! Upstream truth: apiserver `pkg/admission/plugin/webhook/validating/
//! dispatcher.go` (`Dispatch`, `callHook`: the dry-run check, the timeout
//! query parameter rounded up to whole seconds), `pkg/admission/plugin/
//! webhook/predicates/rules/rules.go` (`Matcher`), `.../predicates/
//! namespace` and `.../object` (selectors), `pkg/util/webhook/client.go`
//! (the `<svc>.<ns>.svc:<port>` host and the service path) and
//! `pkg/util/webhook/error.go` (`ErrCallingWebhook`);
//! `IsExemptAdmissionConfigurationResource` (writes of webhook
//! configurations are never intercepted).
//!
//! Not modelled: `clientConfig.url` webhooks (not called), ExternalName
//! Services (not called), DELETE and CONNECT operations and subresources
//! (never intercepted), `matchPolicy: Equivalent` (each resource is served
//! in one version), matchConditions, mutating webhooks (stored, never
//! called), an object selector on update matched against the new object
//! only (upstream: the old or the new). The simulator's own writes are not
//! intercepted: they stand for controllers whose writes the webhooks of
//! the drills modelled here do not stop.

use crate::api::field_error::go_quote;
use crate::api::pointer::Pointer;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::store::{ResKey, Store};
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;

/// A webhook's verdict on one object: `Err` carries the Status the
/// apiserver answers with (the webhook's returned code, reason and the
/// message `admission webhook "<name>" denied the request: ...`).
pub type Check = Box<dyn Fn(&Value) -> Result<(), Status> + Send + Sync>;

/// A registered webhook: given the store (read outside the write lock) and
/// the time, returns the check for writes of `res`, or `None` when the
/// webhook does not intercept them (not installed, or another resource).
pub type ValidatingHook = Arc<dyn Fn(&Store, Timestamp, ResKey) -> Option<Check> + Send + Sync>;

/// The operation of an admission request (`admission.Operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
}

impl Operation {
    /// As rules spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
        }
    }
}

/// The write being admitted.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub res: ResKey,
    pub version: &'a str,
    /// "" for a cluster-scoped object.
    pub namespace: &'a str,
    pub operation: Operation,
    pub dry_run: bool,
}

/// A connection the apiserver opens to a webhook Service's ClusterIP.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub namespace: &'a str,
    pub service: &'a str,
    pub cluster_ip: &'a str,
    pub port: i64,
    /// The request the webhook is called for.
    pub res: ResKey,
}

/// What a call reached.
pub enum Reach {
    /// A webhook server answered: its verdict on the object.
    Served(Check),
    /// The connection failed, in Go's words
    /// (`dial tcp 10.96.0.7:443: connect: connection refused`).
    Failed(String),
}

/// The simulator's network as the apiserver's webhook client sees it.
pub type Network = Arc<dyn Fn(&Store, Timestamp, &Call<'_>) -> Reach + Send + Sync>;

const VALIDATING_CONFIGURATIONS: ResKey = ResKey {
    group: "admissionregistration.k8s.io",
    resource: "validatingwebhookconfigurations",
};
const NAMESPACES: ResKey = ResKey {
    group: "",
    resource: "namespaces",
};
const SERVICES: ResKey = ResKey {
    group: "",
    resource: "services",
};

/// The checks of every hook and configured webhook that intercepts `req`
/// (the store is read here, outside the write lock).
pub(super) fn prepare(
    hooks: &[ValidatingHook],
    network: Option<&Network>,
    store: &Store,
    now: Timestamp,
    req: &Request<'_>,
) -> Vec<Check> {
    let mut checks: Vec<Check> = hooks
        .iter()
        .filter_map(|h| h(store, now, req.res))
        .collect();
    if req.res.group == VALIDATING_CONFIGURATIONS.group {
        return checks;
    }
    let (configs, _) = store.list(VALIDATING_CONFIGURATIONS, None);
    if configs.is_empty() {
        return checks;
    }
    let ns_labels = if req.res == NAMESPACES || req.namespace.is_empty() {
        None
    } else {
        store
            .get(NAMESPACES, "", req.namespace)
            .and_then(|n| n.get_in(&["metadata", "labels"]).cloned())
    };
    for cfg in &configs {
        for hook in cfg
            .get("webhooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(check) = dispatch(hook, req, ns_labels.as_ref(), network, store, now) {
                checks.push(check);
            }
        }
    }
    checks
}

/// Runs the checks in order; the first denial wins.
pub(super) fn run(checks: &[Check], obj: &Value) -> Result<(), Status> {
    checks.iter().try_for_each(|c| c(obj))
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `rules.Matcher.Matches`: operation, group, version, resource (without
/// subresource: `res`, `res/*`, `*`, `*/*`) and scope.
pub fn rule_matches(rule: &Value, req: &Request<'_>) -> bool {
    let any = |key: &str, want: &str| strs(rule, key).iter().any(|x| x == "*" || x == want);
    let resource = strs(rule, "resources").iter().any(|r| {
        let (res, sub) = r.split_once('/').unwrap_or((r.as_str(), ""));
        (res == "*" || res == req.res.resource) && (sub == "*" || sub.is_empty())
    });
    let namespaced = req.res != NAMESPACES && !req.namespace.is_empty();
    let scope = match str_of(rule, "scope") {
        "Namespaced" => namespaced,
        "Cluster" => !namespaced,
        _ => true,
    };
    any("operations", req.operation.as_str())
        && any("apiGroups", req.res.group)
        && any("apiVersions", req.version)
        && resource
        && scope
}

/// Whether a `metav1.LabelSelector` (absent or empty: everything) matches.
fn selector_matches(sel: Option<&Value>, labels: Option<&Value>) -> bool {
    match sel.filter(|s| !s.is_null()) {
        None => true,
        Some(s) => LabelSelector::from_json(s)
            .map(|sel| sel.matches(labels.and_then(Value::as_object)))
            .unwrap_or(false),
    }
}

/// The check one configured webhook adds to `req`, if it is called.
fn dispatch(
    hook: &Value,
    req: &Request<'_>,
    ns_labels: Option<&Value>,
    network: Option<&Network>,
    store: &Store,
    now: Timestamp,
) -> Option<Check> {
    let rules = hook.get("rules").and_then(Value::as_array)?;
    if !rules.iter().any(|r| rule_matches(r, req)) {
        return None;
    }
    // A cluster-scoped object (other than a Namespace) matches any
    // namespace selector; a Namespace is matched on its own labels.
    if req.res != NAMESPACES
        && !req.namespace.is_empty()
        && !selector_matches(hook.get("namespaceSelector"), ns_labels)
    {
        return None;
    }
    let name = str_of(hook, "name").to_string();
    let object_selector = hook.get("objectSelector").cloned();
    let namespace_selector =
        (req.res == NAMESPACES).then(|| hook.get("namespaceSelector").cloned());
    let verdict: Check =
        if req.dry_run && !matches!(str_of(hook, "sideEffects"), "None" | "NoneOnDryRun") {
            let msg = format!(
                "admission webhook {} does not support dry run",
                go_quote(&name)
            );
            Box::new(move |_| Err(Status::bad_request(msg.clone())))
        } else {
            match call(hook, req, network, store, now)? {
                Ok(check) => check,
                Err(_) if str_of(hook, "failurePolicy") == "Ignore" => return None,
                Err(reason) => {
                    let msg = format!("failed calling webhook {}: {reason}", go_quote(&name));
                    Box::new(move |_| Err(Status::internal(&msg)))
                }
            }
        };
    Some(Box::new(move |obj: &Value| {
        let labels = obj.get_in(&["metadata", "labels"]);
        if !selector_matches(object_selector.as_ref(), labels) {
            return Ok(());
        }
        if let Some(sel) = &namespace_selector
            && !selector_matches(sel.as_ref(), labels)
        {
            return Ok(());
        }
        verdict(obj)
    }))
}

/// Calls the webhook's Service: `None` when it is not called at all (a
/// URL or ExternalName webhook), `Err` with the `ErrCallingWebhook` reason.
fn call(
    hook: &Value,
    req: &Request<'_>,
    network: Option<&Network>,
    store: &Store,
    now: Timestamp,
) -> Option<Result<Check, String>> {
    let svc_ref = hook
        .get_in(&["clientConfig", "service"])
        .filter(|s| s.is_object())?;
    let (ns, name) = (str_of(svc_ref, "namespace"), str_of(svc_ref, "name"));
    let port = svc_ref.get("port").and_then(Value::as_i64).unwrap_or(443);
    let path = match str_of(svc_ref, "path") {
        "" => "/",
        p => p,
    };
    let timeout = hook
        .get("timeoutSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(10);
    let fail = |why: String| {
        Some(Err(format!(
            "failed to call webhook: Post \"https://{name}.{ns}.svc:{port}{path}?timeout={timeout}s\": {why}"
        )))
    };
    let Some(svc) = store.get(SERVICES, ns, name) else {
        return fail(format!("service {} not found", go_quote(name)));
    };
    let cluster_ip = svc
        .get_in(&["spec", "clusterIP"])
        .and_then(Value::as_str)
        .unwrap_or("");
    match svc
        .get_in(&["spec", "type"])
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
    {
        "ExternalName" => return None,
        "ClusterIP" if cluster_ip == "None" => {
            return fail("cannot route to service with ClusterIP \"None\"".to_string());
        }
        "ClusterIP" | "NodePort" | "LoadBalancer" => {}
        other => return fail(format!("unsupported service type {}", go_quote(other))),
    }
    let has_port = svc
        .get_in(&["spec", "ports"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| p.get("port").and_then(Value::as_i64) == Some(port));
    if !has_port {
        return fail(format!(
            "no service port {port} found for service {}",
            go_quote(name)
        ));
    }
    let c = Call {
        namespace: ns,
        service: name,
        cluster_ip,
        port,
        res: req.res,
    };
    match network.map(|n| n(store, now, &c)) {
        Some(Reach::Served(check)) => Some(Ok(check)),
        Some(Reach::Failed(why)) => fail(why),
        None => fail(format!(
            "dial tcp {cluster_ip}:{port}: connect: connection refused"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const INGRESSES: ResKey = ResKey {
        group: "networking.k8s.io",
        resource: "ingresses",
    };
    const PODS: ResKey = ResKey {
        group: "",
        resource: "pods",
    };

    fn req(res: ResKey, namespace: &'static str, operation: Operation) -> Request<'static> {
        Request {
            res,
            version: "v1",
            namespace,
            operation,
            dry_run: false,
        }
    }

    #[test]
    fn rules_match_like_upstreams_matcher() {
        let ing = req(INGRESSES, "default", Operation::Create);
        let ns = req(NAMESPACES, "", Operation::Update);
        let rule = |ops: &[&str], groups: &[&str], versions: &[&str], res: &[&str], scope: &str| {
            json!({"operations": ops, "apiGroups": groups, "apiVersions": versions,
                "resources": res, "scope": scope})
        };
        let net = ["networking.k8s.io"];
        let cases = [
            (
                rule(&["CREATE", "UPDATE"], &net, &["v1"], &["ingresses"], "*"),
                ing,
                true,
            ),
            (
                rule(&["UPDATE"], &net, &["v1"], &["ingresses"], "*"),
                ing,
                false,
            ),
            (rule(&["*"], &["*"], &["*"], &["*"], "*"), ing, true),
            (
                rule(&["CREATE"], &[""], &["v1"], &["ingresses"], "*"),
                ing,
                false,
            ),
            (
                rule(&["CREATE"], &net, &["v1beta1"], &["ingresses"], "*"),
                ing,
                false,
            ),
            (
                rule(&["CREATE"], &net, &["v1"], &["ingresses/*"], "*"),
                ing,
                true,
            ),
            (rule(&["CREATE"], &net, &["v1"], &["*/*"], "*"), ing, true),
            (
                rule(&["CREATE"], &net, &["v1"], &["*/status"], "*"),
                ing,
                false,
            ),
            (rule(&["CREATE"], &net, &["v1"], &["pods"], "*"), ing, false),
            (
                rule(&["CREATE"], &net, &["v1"], &["ingresses"], "Namespaced"),
                ing,
                true,
            ),
            (
                rule(&["CREATE"], &net, &["v1"], &["ingresses"], "Cluster"),
                ing,
                false,
            ),
            // a Namespace is cluster-scoped
            (
                rule(&["*"], &[""], &["v1"], &["namespaces"], "Cluster"),
                ns,
                true,
            ),
            (
                rule(&["*"], &[""], &["v1"], &["namespaces"], "Namespaced"),
                ns,
                false,
            ),
        ];
        for (rule, req, want) in cases {
            assert_eq!(rule_matches(&rule, &req), want, "{rule} {req:?}");
        }
    }

    fn store_with(config: Value, services: &[Value]) -> Store {
        let store = Store::new();
        store.create(VALIDATING_CONFIGURATIONS, config).unwrap();
        store
            .create(
                NAMESPACES,
                json!({"metadata": {"name": "prod", "labels": {"env": "prod"}}}),
            )
            .unwrap();
        for s in services {
            store.create(SERVICES, s.clone()).unwrap();
        }
        store
    }

    fn config(hook: Value) -> Value {
        let mut h = json!({"name": "deny.example.com",
            "clientConfig": {"service": {"namespace": "hooks", "name": "deny", "path": "/validate", "port": 443}},
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                "resources": ["pods"], "scope": "*"}],
            "failurePolicy": "Fail", "sideEffects": "None", "timeoutSeconds": 10,
            "namespaceSelector": {}, "objectSelector": {}});
        if let (Some(h), Some(p)) = (h.as_object_mut(), hook.as_object()) {
            h.extend(p.clone());
        }
        json!({"metadata": {"name": "deny"}, "webhooks": [h]})
    }

    fn svc() -> Value {
        json!({"metadata": {"name": "deny", "namespace": "hooks"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.9", "ports": [{"port": 443}]}})
    }

    /// A network where the Service's ClusterIP denies everything and any
    /// other address refuses.
    fn denying() -> Network {
        Arc::new(|_: &Store, _, call: &Call<'_>| {
            if call.cluster_ip == "10.96.0.9" && call.service == "deny" {
                Reach::Served(Box::new(|_| {
                    Err(Status::bad_request(
                        "admission webhook \"deny.example.com\" denied the request: no",
                    ))
                }))
            } else {
                Reach::Failed(format!(
                    "dial tcp {}:{}: connect: connection refused",
                    call.cluster_ip, call.port
                ))
            }
        })
    }

    /// What writing `obj` (a pod in `ns`) answers: Ok or the message.
    fn verdict(
        store: &Store,
        network: Option<&Network>,
        req: &Request<'_>,
        obj: Value,
    ) -> Result<(), String> {
        let checks = prepare(&[], network, store, Timestamp::UNIX_EPOCH, req);
        run(&checks, &obj).map_err(|s| format!("{} {} {}", s.code, s.reason, s.message))
    }

    #[test]
    fn configured_webhooks_are_called_and_fail_by_policy() {
        let pod = json!({"metadata": {"name": "p", "labels": {"app": "web"}}});
        let create = req(PODS, "prod", Operation::Create);
        let net = denying();
        let denied = "400 BadRequest admission webhook \"deny.example.com\" denied the request: no";
        let refused = |port: u16, extra: &str| {
            format!(
                "500 InternalError Internal error occurred: failed calling webhook \"deny.example.com\": failed to call webhook: Post \"https://deny.hooks.svc:{port}/validate?timeout=10s\": {extra}"
            )
        };
        type Case<'a> = (Value, Vec<Value>, Option<&'a Network>, Result<(), String>);
        let cases: Vec<Case<'_>> = vec![
            (json!({}), vec![svc()], Some(&net), Err(denied.into())),
            // no network registered: nothing answers on the ClusterIP
            (
                json!({}),
                vec![svc()],
                None,
                Err(refused(
                    443,
                    "dial tcp 10.96.0.9:443: connect: connection refused",
                )),
            ),
            (
                json!({"failurePolicy": "Ignore"}),
                vec![svc()],
                None,
                Ok(()),
            ),
            (
                json!({}),
                vec![],
                Some(&net),
                Err(refused(443, "service \"deny\" not found")),
            ),
            (
                json!({"clientConfig": {"service": {"namespace": "hooks", "name": "deny", "path": "/validate", "port": 8443}}}),
                vec![svc()],
                Some(&net),
                Err(refused(
                    8443,
                    "no service port 8443 found for service \"deny\"",
                )),
            ),
            (
                json!({}),
                vec![json!({"metadata": {"name": "deny", "namespace": "hooks"},
                    "spec": {"type": "ClusterIP", "clusterIP": "None", "ports": [{"port": 443}]}})],
                Some(&net),
                Err(refused(
                    443,
                    "cannot route to service with ClusterIP \"None\"",
                )),
            ),
            // selectors that do not match skip the webhook, even a broken one
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                vec![],
                Some(&net),
                Ok(()),
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
                vec![svc()],
                Some(&net),
                Err(denied.into()),
            ),
            (
                json!({"objectSelector": {"matchLabels": {"app": "db"}}}),
                vec![],
                Some(&net),
                Ok(()),
            ),
            // a URL webhook is not called
            (
                json!({"clientConfig": {"url": "https://hooks.example.com/validate"}}),
                vec![],
                Some(&net),
                Ok(()),
            ),
            (
                json!({"rules": [{"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]}),
                vec![],
                Some(&net),
                Ok(()),
            ),
        ];
        for (hook, services, network, want) in cases {
            let store = store_with(config(hook.clone()), &services);
            assert_eq!(
                verdict(&store, network, &create, pod.clone()),
                want,
                "{hook}"
            );
        }
    }

    #[test]
    fn dry_run_needs_a_side_effect_free_webhook() {
        let pod = json!({"metadata": {"name": "p"}});
        let dry = Request {
            dry_run: true,
            ..req(PODS, "prod", Operation::Create)
        };
        let store = store_with(config(json!({"sideEffects": "Some"})), &[svc()]);
        assert_eq!(
            verdict(&store, Some(&denying()), &dry, pod.clone()),
            Err(
                "400 BadRequest admission webhook \"deny.example.com\" does not support dry run"
                    .into()
            )
        );
        let store = store_with(config(json!({"sideEffects": "NoneOnDryRun"})), &[svc()]);
        assert_eq!(
            verdict(&store, Some(&denying()), &dry, pod),
            Err(
                "400 BadRequest admission webhook \"deny.example.com\" denied the request: no"
                    .into()
            )
        );
    }

    #[test]
    fn webhook_configurations_themselves_are_never_intercepted() {
        let everything = config(json!({"rules": [{"operations": ["*"], "apiGroups": ["*"],
            "apiVersions": ["*"], "resources": ["*"]}]}));
        let store = store_with(everything, &[svc()]);
        let write = req(VALIDATING_CONFIGURATIONS, "", Operation::Update);
        assert_eq!(
            verdict(
                &store,
                Some(&denying()),
                &write,
                json!({"metadata": {"name": "deny"}})
            ),
            Ok(())
        );
        let ns = req(NAMESPACES, "", Operation::Create);
        assert!(
            verdict(
                &store,
                Some(&denying()),
                &ns,
                json!({"metadata": {"name": "x"}})
            )
            .is_err()
        );
    }
}
