//! NetworkPolicy enforcement seen from busybox pods through `kubectl exec`:
//! a default-deny ingress policy drops a client's packets (`wget: download
//! timed out`) until a least-privilege rule admits pods labelled
//! `role=client` on port 80; a default-deny egress policy breaks DNS until
//! egress to kube-system on port 53 is allowed.

use super::harness::Sim;
use std::time::{Duration, Instant};

const APPS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {role: client}}
spec:
  containers:
  - name: client
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - name: other
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"#;

const DENY_INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

const ALLOW_CLIENT: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow-client}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports:
    - {protocol: TCP, port: 80}
"#;

const DENY_EGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress}
spec:
  podSelector: {}
  policyTypes: [Egress]
"#;

const ALLOW_DNS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
"#;

/// Polls `kubectl args` until its stdout has `lines` lines.
#[track_caller]
fn wait_lines(sim: &Sim, args: &[&str], lines: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = sim.kubectl(args);
        if out.code == 0 && out.stdout.lines().count() == lines {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "kubectl {args:?} never listed {lines}:\n{}{}",
            out.stdout,
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Applies `APPS` and waits for its pods and CoreDNS.
fn cluster() -> Sim {
    let sim = Sim::start_with(&["--time-scale", "50"]);
    sim.kubectl_stdin(&["apply", "-f", "-"], APPS).ok();
    sim.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/client",
        "pod/other",
        "pod/web",
    ])
    .ok();
    let dns = ["-n", "kube-system"];
    wait_lines(
        &sim,
        &[
            dns[0],
            dns[1],
            "get",
            "pods",
            "-l",
            "k8s-app=kube-dns",
            "-o",
            "name",
        ],
        2,
    );
    sim.kubectl(&[
        dns[0],
        dns[1],
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod",
        "-l",
        "k8s-app=kube-dns",
    ])
    .ok();
    sim
}

/// `kubectl exec pod -- sh -c cmd`: (stdout + stderr, exit code).
fn exec(sim: &Sim, pod: &str, cmd: &str) -> (String, i32) {
    let r = sim.kubectl(&["exec", pod, "--", "sh", "-c", cmd]);
    (format!("{}{}", r.stdout, r.stderr), r.code)
}

/// busybox's line, then kubectl's for the exit code.
const TIMED_OUT: &str = "wget: download timed out\ncommand terminated with exit code 1\n";
const WGET: &str = "wget -qO- -T 2 http://web";
const WELCOME: &str = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>";

#[test]
fn default_deny_ingress_drops_clients_until_a_least_privilege_rule_admits_one() {
    let sim = cluster();
    for pod in ["client", "other"] {
        let (out, code) = exec(&sim, pod, WGET);
        assert_eq!(code, 0, "{pod}: {out}");
        assert!(out.starts_with(WELCOME), "{pod}: {out}");
    }
    sim.kubectl_stdin(&["apply", "-f", "-"], DENY_INGRESS).ok();
    for pod in ["client", "other"] {
        let (out, code) = exec(&sim, pod, WGET);
        assert_eq!((out.as_str(), code), (TIMED_OUT, 1), "{pod}");
    }
    // DNS is not isolated by an ingress policy in `default`.
    let (out, code) = exec(&sim, "other", "nslookup web");
    assert_eq!(code, 0, "{out}");
    sim.kubectl_stdin(&["apply", "-f", "-"], ALLOW_CLIENT).ok();
    let (out, code) = exec(&sim, "client", WGET);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with(WELCOME), "{out}");
    let (out, code) = exec(&sim, "other", WGET);
    assert_eq!((out.as_str(), code), (TIMED_OUT, 1));
    // The rule admits port 80 only: the pod IP on another port is dropped,
    // not refused.
    let ip = sim
        .kubectl(&["get", "pod", "web", "-o", "jsonpath={.status.podIP}"])
        .ok();
    let (out, code) = exec(&sim, "client", &format!("wget -qO- -T 2 http://{ip}:8080"));
    assert_eq!((out.as_str(), code), (TIMED_OUT, 1));
    let (out, code) = exec(&sim, "client", &format!("wget -qO- -T 2 http://{ip}"));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn default_deny_egress_breaks_dns_until_port_53_to_kube_system_is_allowed() {
    let sim = cluster();
    sim.kubectl_stdin(&["apply", "-f", "-"], DENY_EGRESS).ok();
    let (out, code) = exec(&sim, "client", "nslookup web");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(";; connection timed out; no servers could be reached"),
        "{out}"
    );
    let (out, code) = exec(&sim, "client", WGET);
    assert_eq!(
        (out.as_str(), code),
        (
            "wget: bad address 'web'\ncommand terminated with exit code 1\n",
            1
        )
    );
    sim.kubectl_stdin(&["apply", "-f", "-"], ALLOW_DNS).ok();
    let svc_ip = sim
        .kubectl(&["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"])
        .ok();
    let (out, code) = exec(&sim, "client", "nslookup web");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "Name:\tweb.default.svc.cluster.local\nAddress: {svc_ip}\n"
        )),
        "{out}"
    );
    // Names resolve now, but egress to the web pod is still denied.
    let (out, code) = exec(&sim, "client", WGET);
    assert_eq!((out.as_str(), code), (TIMED_OUT, 1));
}
