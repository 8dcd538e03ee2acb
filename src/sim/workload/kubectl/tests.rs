//! In-cluster kubectl against a scripted API server.

use super::*;
use crate::sim::workload::{NetReply, NetRequest};
use std::cell::RefCell;

/// Answers every API call with `reply` and remembers the calls.
struct Api {
    reply: ApiReply,
    calls: RefCell<Vec<ApiCall>>,
}

impl Network for Api {
    fn call(&self, _req: &NetRequest, _at: SignedDuration) -> NetReply {
        NetReply::Timeout
    }
    fn api(&self, call: &ApiCall, _at: SignedDuration) -> ApiReply {
        self.calls.borrow_mut().push(call.clone());
        self.reply.clone()
    }
}

fn api(reply: ApiReply) -> Api {
    Api {
        reply,
        calls: RefCell::new(Vec::new()),
    }
}

fn pod_files(token: bool) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    if token {
        f.insert(format!("{SA_DIR}/token"), "jwt\n".to_string());
    }
    f.insert(format!("{SA_DIR}/namespace"), "team-a".to_string());
    f
}

fn service_env(k: &str) -> Option<String> {
    match k {
        "KUBERNETES_SERVICE_HOST" => Some("10.96.0.1".into()),
        "KUBERNETES_SERVICE_PORT" => Some("443".into()),
        _ => None,
    }
}

fn kubectl(line: &str, files: &BTreeMap<String, String>, net: &dyn Network) -> Output {
    let args: Vec<String> = line.split_whitespace().map(String::from).collect();
    run(
        &args,
        &Context {
            files,
            vars: &service_env,
            net,
            at: SignedDuration::ZERO,
        },
    )
}

fn text(o: &Output) -> Vec<String> {
    o.lines.iter().map(|(_, l)| l.clone()).collect()
}

const FORBIDDEN: &str = "configmaps is forbidden: User \"system:serviceaccount:team-a:default\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"";

#[test]
fn a_forbidden_list_prints_the_servers_message_and_exits_1() {
    let net = api(ApiReply::Forbidden(FORBIDDEN.into()));
    let out = kubectl("get configmaps", &pod_files(true), &net);
    assert_eq!(
        text(&out),
        [format!("Error from server (Forbidden): {FORBIDDEN}")]
    );
    assert_eq!(out.code, 1);
    assert!(out.called_api);
    let calls = net.calls.borrow();
    assert_eq!(
        calls[0],
        ApiCall {
            token: "jwt".into(),
            verb: "list".into(),
            group: String::new(),
            resource: "configmaps".into(),
            namespace: "team-a".into(),
            name: String::new(),
            label_selector: String::new(),
            review: false,
        }
    );
}

#[test]
fn names_flags_and_short_names_resolve_as_kubectl_resolves_them() {
    let net = api(ApiReply::Table {
        columns: vec![],
        rows: vec![],
    });
    let files = pod_files(true);
    kubectl("get po -n x", &files, &net);
    kubectl("get deploy/web", &files, &net);
    kubectl("--namespace=y get cm -A", &files, &net);
    kubectl("get nodes", &files, &net);
    kubectl("get pods -l app=web,tier!=db", &files, &net);
    let calls = net.calls.borrow();
    assert_eq!(calls[4].label_selector, "app=web,tier!=db");
    let got: Vec<(&str, &str, &str, &str, &str)> = calls
        .iter()
        .map(|c| {
            (
                c.verb.as_str(),
                c.group.as_str(),
                c.resource.as_str(),
                c.namespace.as_str(),
                c.name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("list", "", "pods", "x", ""),
            ("get", "apps", "deployments", "team-a", "web"),
            ("list", "", "configmaps", "", ""),
            ("list", "", "nodes", "", ""),
            ("list", "", "pods", "team-a", ""),
        ]
    );
    let out = kubectl("get widgets", &files, &net);
    assert_eq!(
        text(&out),
        ["error: the server doesn't have a resource type \"widgets\""]
    );
    assert_eq!(out.code, 1);
}

#[test]
fn tables_print_like_kubectls_tabwriter() {
    let net = api(ApiReply::Table {
        columns: vec![
            ("Name".into(), 0),
            ("Data".into(), 0),
            ("Age".into(), 0),
            ("Extra".into(), 1),
        ],
        rows: vec![
            vec![
                "team-a".into(),
                "app-config".into(),
                "2".into(),
                "3m".into(),
                "x".into(),
            ],
            vec![
                "team-a".into(),
                "kube-root-ca.crt".into(),
                "1".into(),
                "10m".into(),
                "y".into(),
            ],
        ],
    });
    let files = pod_files(true);
    let out = kubectl("get cm", &files, &net);
    assert_eq!(
        text(&out),
        [
            "NAME               DATA   AGE",
            "app-config         2      3m",
            "kube-root-ca.crt   1      10m",
        ]
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        text(&kubectl("get cm -A --no-headers", &files, &net)),
        [
            "team-a   app-config         2   3m",
            "team-a   kube-root-ca.crt   1   10m",
        ]
    );
    assert_eq!(
        text(&kubectl("get cm -o name", &files, &net)),
        ["configmap/app-config", "configmap/kube-root-ca.crt"]
    );
    assert_eq!(
        text(&kubectl("get cm -o wide", &files, &net))[0],
        "NAME               DATA   AGE   EXTRA"
    );
    let empty = api(ApiReply::Table {
        columns: vec![("Name".into(), 0)],
        rows: vec![],
    });
    let out = kubectl("get cm -o yaml", &files, &empty);
    assert_eq!(
        text(&out),
        [
            "error: kdrill simulates \"-o wide\" and \"-o name\" for kubectl inside pods, not \"-o yaml\""
        ]
    );
    let out = kubectl("get cm", &files, &empty);
    assert_eq!(
        out.lines,
        [(true, "No resources found in team-a namespace.".to_string())]
    );
    assert_eq!(out.code, 0);
}

#[test]
fn without_a_token_kubectl_falls_back_to_localhost_8080() {
    let net = api(ApiReply::Unauthorized);
    let out = kubectl("get cm", &pod_files(false), &net);
    let lines = text(&out);
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines[0],
        "E{{time:%m%d %H:%M:%S%.6f}}       1 memcache.go:265] \"Unhandled Error\" err=\"couldn't get current server API group list: Get \\\"http://localhost:8080/api?timeout=32s\\\": dial tcp [::1]:8080: connect: connection refused\""
    );
    assert_eq!(
        lines[5],
        "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
    );
    assert_eq!(out.code, 1);
    assert!(!out.called_api);
    assert!(net.calls.borrow().is_empty());
}

#[test]
fn a_token_nobody_accepts_is_unauthorized() {
    let out = kubectl("get cm", &pod_files(true), &api(ApiReply::Unauthorized));
    assert_eq!(
        text(&out).last().map(String::as_str),
        Some(
            "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
        )
    );
    assert_eq!(out.code, 1);
}

#[test]
fn can_i_answers_yes_or_no_with_its_exit_code() {
    let files = pod_files(true);
    let yes = api(ApiReply::Review {
        allowed: true,
        reason: String::new(),
    });
    let out = kubectl("auth can-i list configmaps", &files, &yes);
    assert_eq!((text(&out), out.code), (vec!["yes".to_string()], 0));
    let c = yes.calls.borrow()[0].clone();
    assert!(c.review);
    assert_eq!((c.verb.as_str(), c.namespace.as_str()), ("list", "team-a"));
    let no = api(ApiReply::Review {
        allowed: false,
        reason: String::new(),
    });
    let out = kubectl("auth can-i get pods/web -n x", &files, &no);
    assert_eq!((text(&out), out.code), (vec!["no".to_string()], 1));
    let c = no.calls.borrow()[0].clone();
    assert_eq!((c.name.as_str(), c.namespace.as_str()), ("web", "x"));
}

#[test]
fn no_arguments_print_help_and_garbage_never_panics() {
    let net = api(ApiReply::Unreachable);
    let files = pod_files(true);
    let out = kubectl("", &files, &net);
    assert_eq!(
        text(&out)[0],
        "kubectl controls the Kubernetes cluster manager."
    );
    assert_eq!(out.code, 0);
    for line in [
        "get",
        "get -n",
        "auth can-i",
        "frobnicate",
        "get cm/ -o",
        "get ,",
        "-n",
    ] {
        let out = kubectl(line, &files, &net);
        assert_ne!(out.code, 0, "{line}");
    }
    let out = kubectl("get cm", &files, &net);
    assert_eq!(
        text(&out).last().map(String::as_str),
        Some("Unable to connect to the server: dial tcp 10.96.0.1:443: i/o timeout")
    );
}

#[test]
fn can_i_without_a_working_login_warns_then_fails_as_kubectl_does() {
    let out = kubectl(
        "auth can-i list pods",
        &pod_files(false),
        &api(ApiReply::Unauthorized),
    );
    let lines = text(&out);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(
        lines[2],
        "Warning: the server doesn't have a resource type 'pods'"
    );
    assert_eq!(lines[3], "");
    assert_eq!(
        lines[4],
        "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
    );
    let out = kubectl(
        "auth can-i list pods",
        &pod_files(true),
        &api(ApiReply::Unauthorized),
    );
    let lines = text(&out);
    assert_eq!(
        lines[0],
        "E{{time:%m%d %H:%M:%S%.6f}}       1 memcache.go:265] \"Unhandled Error\" err=\"couldn't get current server API group list: the server has asked for the client to provide credentials\""
    );
    assert_eq!(
        lines[2..],
        [
            "Warning: the server doesn't have a resource type 'pods'",
            "",
            "error: You must be logged in to the server (Unauthorized)"
        ]
    );
    assert_eq!(out.code, 1);
    let no = api(ApiReply::Review {
        allowed: false,
        reason: String::new(),
    });
    let out = kubectl("auth can-i list widgets", &pod_files(true), &no);
    assert_eq!(
        text(&out),
        [
            "Warning: the server doesn't have a resource type 'widgets'",
            "",
            "no"
        ]
    );
}

#[test]
fn klog_lines_render_with_microseconds() {
    let at: jiff::Timestamp = "2025-06-01T10:00:03.123456789Z".parse().expect("ts");
    assert_eq!(
        crate::sim::workload::behaviour::render(&klog("x"), at),
        "E0601 10:00:03.123456       1 memcache.go:265] \"Unhandled Error\" err=\"couldn't get current server API group list: x\""
    );
}

/// Answers by resource: ConfigMaps list, Secrets are forbidden.
struct Mixed;

impl Network for Mixed {
    fn call(&self, _req: &NetRequest, _at: SignedDuration) -> NetReply {
        NetReply::Timeout
    }
    fn api(&self, call: &ApiCall, _at: SignedDuration) -> ApiReply {
        if call.resource == "secrets" {
            return ApiReply::Forbidden("secrets is forbidden: User \"u\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team-a\"".into());
        }
        ApiReply::Table {
            columns: vec![("Name".into(), 0), ("Data".into(), 0)],
            rows: vec![vec!["team-a".into(), "app".into(), "1".into()]],
        }
    }
}

#[test]
fn several_types_print_with_their_kind_and_errors_come_last() {
    let out = kubectl("get secrets,cm", &pod_files(true), &Mixed);
    assert_eq!(
        out.lines,
        [
            (false, "NAME            DATA".to_string()),
            (false, "configmap/app   1".to_string()),
            (true, "Error from server (Forbidden): secrets is forbidden: User \"u\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team-a\"".to_string()),
        ]
    );
    assert_eq!(out.code, 1);
    // Several names of one type: no kind.
    let out = kubectl("get cm a b", &pod_files(true), &Mixed);
    assert_eq!(text(&out), ["NAME   DATA", "app    1", "app    1"]);
}
