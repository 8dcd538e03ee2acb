//! The images that call the API server, derived against a scripted one.

use super::SA_DIR;
use crate::api::image_behaviour::{ApiCallSpec, Every};
use crate::sim::workload::{
    ApiCall, ApiReply, AppBehaviour, Catalog, ContainerSpec, End, NetReply, NetRequest, Network,
    Timeline, derive, secs,
};
use jiff::SignedDuration;

struct Api(ApiReply);

impl Network for Api {
    fn call(&self, _req: &NetRequest, _at: SignedDuration) -> NetReply {
        NetReply::Timeout
    }
    fn api(&self, _call: &ApiCall, _at: SignedDuration) -> ApiReply {
        self.0.clone()
    }
}

const FORBIDDEN: &str = "configmaps is forbidden: User \"system:serviceaccount:team-a:default\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"";

fn forbidden() -> Api {
    Api(ApiReply::Forbidden(FORBIDDEN.into()))
}

fn allowed() -> Api {
    Api(ApiReply::Table {
        columns: vec![("Name".into(), 0), ("Data".into(), 0), ("Age".into(), 0)],
        rows: vec![vec![
            "team-a".into(),
            "kube-root-ca.crt".into(),
            "1".into(),
            "5m".into(),
        ]],
    })
}

fn pod(image: &str, command: &[&str], args: &[&str], token: bool) -> ContainerSpec {
    let mut s = ContainerSpec {
        name: "c".into(),
        image: image.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: vec![
            ("KUBERNETES_SERVICE_HOST".into(), "10.96.0.1".into()),
            ("KUBERNETES_SERVICE_PORT".into(), "443".into()),
        ],
        hostname: "p".into(),
        ..Default::default()
    };
    if token {
        s.files.insert(format!("{SA_DIR}/token"), "jwt".into());
        s.files
            .insert(format!("{SA_DIR}/namespace"), "team-a".into());
        s.mounts.push(SA_DIR.into());
    }
    s
}

fn texts(t: &Timeline, to: f64) -> Vec<String> {
    t.lines_between(SignedDuration::ZERO, secs(to), 100)
        .into_iter()
        .map(|l| l.text)
        .collect()
}

#[test]
fn a_kubectl_image_running_get_prints_the_403_and_exits_1() {
    let s = pod("bitnami/kubectl:1.33", &[], &["get", "configmaps"], true);
    let t = derive(&s, &Catalog::default(), &forbidden());
    assert_eq!(
        texts(&t, 1.0),
        [format!("Error from server (Forbidden): {FORBIDDEN}")]
    );
    assert_eq!(
        t.end,
        End::Exits {
            at: secs(0.1),
            code: 1
        }
    );
    assert_eq!(t.api_at, [SignedDuration::ZERO]);
    let t = derive(&s, &Catalog::default(), &allowed());
    assert_eq!(
        texts(&t, 1.0),
        [
            "NAME               DATA   AGE",
            "kube-root-ca.crt   1      5m"
        ]
    );
    assert_eq!(
        t.end,
        End::Exits {
            at: secs(0.1),
            code: 0
        }
    );
}

#[test]
fn kubectl_in_a_shell_loop_repeats_and_asks_again_every_period() {
    let s = pod(
        "registry.k8s.io/kubectl:v1.33.1",
        &["/bin/sh", "-c"],
        &["while true; do kubectl get cm; sleep 10; done"],
        true,
    );
    let t = derive(&s, &Catalog::default(), &forbidden());
    assert_eq!(t.end, End::Runs);
    let lines = texts(&t, 35.0);
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l.ends_with(FORBIDDEN)));
    // The kubelet wakes at each call: 0, 10, 20, 30 ...
    assert_eq!(t.next_api_call(SignedDuration::ZERO), Some(secs(10.0)));
    assert_eq!(t.next_api_call(secs(10.0)), Some(secs(20.0)));
    assert_eq!(t.next_api_call(secs(25.0)), Some(secs(30.0)));
    assert_eq!(t.next_api_call(secs(1000.0)), Some(secs(1010.0)));
}

#[test]
fn the_kubectl_images_start_as_upstreams_do() {
    let c = Catalog::default();
    // bitnami's default CMD is `--help`: the help, exit 0.
    let t = derive(&pod("bitnami/kubectl", &[], &[], true), &c, &forbidden());
    assert_eq!(
        texts(&t, 1.0)[0],
        "kubectl controls the Kubernetes cluster manager."
    );
    assert!(matches!(t.end, End::Exits { code: 0, .. }));
    // rancher's image has no shell.
    let t = derive(
        &pod(
            "rancher/kubectl:v1.33.1",
            &["sh", "-c"],
            &["kubectl get cm"],
            true,
        ),
        &c,
        &forbidden(),
    );
    assert!(matches!(t.end, End::StartError { .. }));
    // Without automountServiceAccountToken kubectl dials localhost:8080.
    let t = derive(
        &pod("bitnami/kubectl", &[], &["get", "cm"], false),
        &c,
        &forbidden(),
    );
    assert_eq!(
        texts(&t, 1.0).last().map(String::as_str),
        Some(
            "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
        )
    );
    assert!(t.api_at.is_empty());
    // Images without kubectl do not find it.
    let t = derive(
        &pod("busybox", &["sh", "-c"], &["kubectl get cm"], true),
        &c,
        &forbidden(),
    );
    assert_eq!(texts(&t, 1.0), ["sh: kubectl: not found"]);
}

fn app(exit_on_error: bool) -> Catalog {
    let mut c = Catalog::default();
    c.declare(
        "registry.example.com/team/lister",
        AppBehaviour {
            startup_seconds: 2.0,
            api_calls: vec![ApiCallSpec {
                resource: "configmaps".into(),
                every: Some(Every(10.0)),
                ..Default::default()
            }],
            exit_on_error,
            ..Default::default()
        },
    );
    c
}

#[test]
fn a_declared_app_logs_each_calls_answer() {
    let s = pod("registry.example.com/team/lister:1.0", &[], &[], true);
    let t = derive(&s, &app(false), &forbidden());
    assert_eq!(t.end, End::Runs);
    let lines = texts(&t, 23.0);
    assert_eq!(
        lines,
        vec![format!("{{{{time:%Y/%m/%d %H:%M:%S}}}} failed to list configmaps: {FORBIDDEN}"); 3]
    );
    assert_eq!(t.next_api_call(secs(2.0)), Some(secs(12.0)));
    let t = derive(&s, &app(false), &allowed());
    assert_eq!(
        texts(&t, 3.0),
        ["{{time:%Y/%m/%d %H:%M:%S}} list configmaps: 1 items"]
    );
}

#[test]
fn exit_on_error_makes_a_refused_call_fatal() {
    let s = pod("registry.example.com/team/lister:1.0", &[], &[], true);
    let t = derive(&s, &app(true), &forbidden());
    assert_eq!(
        t.end,
        End::Exits {
            at: secs(2.0),
            code: 1
        }
    );
    assert_eq!(texts(&t, 3.0).len(), 1);
    let t = derive(&s, &app(true), &allowed());
    assert_eq!(t.end, End::Runs);
    // No token at all: client-go's in-cluster config cannot load.
    let s = pod("registry.example.com/team/lister:1.0", &[], &[], false);
    let t = derive(&s, &app(false), &allowed());
    assert_eq!(
        texts(&t, 3.0),
        [
            "{{time:%Y/%m/%d %H:%M:%S}} failed to load in-cluster config: open /var/run/secrets/kubernetes.io/serviceaccount/token: no such file or directory"
        ]
    );
    assert!(matches!(t.end, End::Exits { code: 1, .. }));
}
