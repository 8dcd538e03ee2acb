//! In-cluster networking seen from a busybox pod through `kubectl exec`:
//! kube-proxy routing (a Service that selects nothing, a targetPort nobody
//! listens on, not-ready endpoints, a healthy Service) and CoreDNS (scaled
//! to zero, crash-looping on a broken Corefile), with busybox's output.

use super::harness::Sim;

/// Polls `kubectl args` until `pred` holds on its stdout.
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.eventually(30, args, pred)
}

fn fast() -> Sim {
    Sim::start_with(&["--time-scale", "50"])
}

const APPS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: client
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: slow, labels: {app: slow}}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: typo}
spec:
  selector: {app: wbe}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: wrongport}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: notready}
spec:
  selector: {app: slow}
  ports: [{port: 80, targetPort: 80}]
"#;

/// Applies `APPS` and waits for the client, web and CoreDNS pods.
fn cluster() -> Sim {
    let sim = fast();
    let f = sim.file("apps.yaml", APPS);
    sim.kubectl(&["apply", "-f", &f]).ok();
    sim.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/client",
    ])
    .ok();
    for (ns, sel) in [("default", "app=web"), ("kube-system", "k8s-app=kube-dns")] {
        eventually(
            &sim,
            &["-n", ns, "get", "pods", "-l", sel, "-o", "name"],
            |o| o.lines().count() == 2,
        );
        sim.kubectl(&[
            "-n",
            ns,
            "wait",
            "--for=condition=Ready",
            "--timeout=60s",
            "pod",
            "-l",
            sel,
        ])
        .ok();
    }
    sim
}

fn cluster_ip(sim: &Sim, svc: &str) -> String {
    sim.kubectl(&["get", "svc", svc, "-o", "jsonpath={.spec.clusterIP}"])
        .ok()
}

/// `kubectl exec client -- sh -c <cmd>`: (stdout + stderr, exit code).
fn exec(sim: &Sim, cmd: &str) -> (String, i32) {
    let r = sim.kubectl(&["exec", "client", "--", "sh", "-c", cmd]);
    (format!("{}{}", r.stdout, r.stderr), r.code)
}

#[test]
fn services_answer_or_refuse_as_kube_proxy_routes_them() {
    let sim = cluster();
    // Healthy: the nginx welcome page through the ClusterIP.
    let (out, code) = exec(&sim, "wget -qO- -T 2 http://web");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>"),
        "{out}"
    );
    let ip = cluster_ip(&sim, "web");
    let (out, code) = exec(&sim, "nslookup web");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "Name:\tweb.default.svc.cluster.local\nAddress: {ip}\n"
        )),
        "{out}"
    );
    // No endpoints (selector typo), a targetPort nobody listens on, and
    // endpoints that are not ready: connection refused from the ClusterIP.
    for svc in ["typo", "wrongport", "notready"] {
        let ip = cluster_ip(&sim, svc);
        let (out, code) = exec(&sim, &format!("wget -qO- -T 2 http://{svc}"));
        assert_eq!(code, 1, "{svc}: {out}");
        assert!(
            out.contains(&format!(
                "wget: can't connect to remote host ({ip}): Connection refused\n"
            )),
            "{svc}: {out}"
        );
    }
    // The kubelet's resolver configuration for dnsPolicy ClusterFirst.
    let (out, _) = exec(&sim, "cat /etc/resolv.conf");
    assert_eq!(
        out,
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    // A name nobody serves.
    let (out, code) = exec(&sim, "nslookup nope");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("** server can't find nope: NXDOMAIN"), "{out}");
    let (out, _) = exec(&sim, "wget -qO- -T 2 http://nope");
    assert!(out.contains("wget: bad address 'nope'"), "{out}");
}

#[test]
fn coredns_scaled_to_zero_makes_lookups_time_out() {
    let sim = cluster();
    sim.kubectl(&[
        "-n",
        "kube-system",
        "scale",
        "deploy",
        "coredns",
        "--replicas=0",
    ])
    .ok();
    eventually(
        &sim,
        &[
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            "k8s-app=kube-dns",
            "-o",
            "name",
        ],
        |o| o.trim().is_empty(),
    );
    let (out, code) = exec(&sim, "nslookup web");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(";; connection timed out; no servers could be reached"),
        "{out}"
    );
    let (out, code) = exec(&sim, "wget -qO- -T 2 http://web");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("wget: bad address 'web'"), "{out}");
    // The ClusterIP itself needs no DNS.
    let ip = cluster_ip(&sim, "web");
    let (out, code) = exec(&sim, &format!("wget -qO- -T 2 http://{ip}"));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_broken_corefile_crash_loops_coredns_and_breaks_dns() {
    let sim = cluster();
    let corefile = ".:53 {\n    errors\n    forwrd . /etc/resolv.conf\n}\n";
    let patch = serde_json::json!({"data": {"Corefile": corefile}}).to_string();
    sim.kubectl(&[
        "-n",
        "kube-system",
        "patch",
        "configmap",
        "coredns",
        "-p",
        &patch,
    ])
    .ok();
    sim.kubectl(&[
        "-n",
        "kube-system",
        "delete",
        "pod",
        "-l",
        "k8s-app=kube-dns",
    ])
    .ok();
    let pods = eventually(
        &sim,
        &[
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            "k8s-app=kube-dns",
            "--no-headers",
        ],
        |o| {
            let lines: Vec<&str> = o.lines().collect();
            lines.len() == 2
                && lines
                    .iter()
                    .all(|l| l.contains("CrashLoopBackOff") || l.contains("Error"))
        },
    );
    let pod = pods
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let logs = sim.kubectl(&["-n", "kube-system", "logs", &pod]).ok();
    // coredns coremain/run.go: automaxprocs' line, then the parse error.
    assert_eq!(
        logs,
        "maxprocs: Leaving GOMAXPROCS=8: CPU quota undefined\n/etc/coredns/Corefile:3 - Error during parsing: Unknown directive 'forwrd'\n"
    );
    let (out, code) = exec(&sim, "nslookup web");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(";; connection timed out; no servers could be reached"),
        "{out}"
    );
}
