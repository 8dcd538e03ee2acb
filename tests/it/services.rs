//! Service routing with the real kubectl: the Endpoints and EndpointSlice
//! controllers.
//!
//! Pods only get an IP and a Ready condition from the kubelet. Until the
//! simulated kubelet runs in `sim serve`, these tests play its part with
//! `kubectl patch --subresource=status` (`ready_pod`), which is what a
//! kubelet's status update looks like to the API server.

use super::harness::{Sim, rows};
use std::time::{Duration, Instant};

/// Polls `kubectl args` until `pred` holds on its stdout (5s deadline).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = sim.kubectl(args);
        if out.code == 0 && pred(&out.stdout) {
            return out.stdout;
        }
        if Instant::now() > deadline {
            panic!(
                "kubectl {args:?} never matched\nstdout:\n{}\nstderr:\n{}",
                out.stdout, out.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sets a pod's IP and Ready condition through the status subresource, as
/// the kubelet would.
fn set_pod_status(sim: &Sim, pod: &str, ip: &str, ready: bool) {
    let status = if ready { "True" } else { "False" };
    let patch = format!(
        r#"{{"status":{{"phase":"Running","podIP":"{ip}","podIPs":[{{"ip":"{ip}"}}],"conditions":[{{"type":"Ready","status":"{status}","lastTransitionTime":"2025-05-01T10:00:00Z"}}]}}}}"#
    );
    sim.kubectl(&[
        "patch",
        "pod",
        pod,
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ])
    .ok();
}

/// The value of `kubectl describe svc`'s `Endpoints:` line.
fn describe_endpoints(sim: &Sim, svc: &str) -> String {
    let out = sim.kubectl(&["describe", "svc", svc]).ok();
    out.lines()
        .find_map(|l| l.strip_prefix("Endpoints:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no Endpoints line:\n{out}"))
}

fn pod_yaml(name: &str, app: &str, ports: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: {app}\nspec:\n  containers:\n  - name: web\n    image: nginx\n{ports}"
    )
}

const SVC_WEB: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
";

#[test]
fn selector_mismatch_then_ready_pod_fills_endpoints() {
    let sim = Sim::start();
    sim.kubectl_stdin(&["apply", "-f", "-"], SVC_WEB).ok();
    // The pod is labelled app=api: the Service selects nothing.
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod_yaml("api", "api", ""))
        .ok();
    let ep = eventually(&sim, &["get", "endpoints", "web"], |o| o.contains("web"));
    assert_eq!(rows(&ep)[0], ["NAME", "ENDPOINTS", "AGE"]);
    assert_eq!(rows(&ep)[1][1], "<none>");
    // kubectl >= 1.31 reads EndpointSlices for describe; the placeholder
    // slice of a Service that selects nothing prints an empty value
    // (older kubectl read the Endpoints object and printed `<none>`).
    let value = describe_endpoints(&sim, "web");
    assert!(value.is_empty() || value == "<none>", "{value:?}");
    let slices = eventually(
        &sim,
        &[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "--no-headers",
        ],
        |o| !o.trim().is_empty(),
    );
    let row = &rows(&slices)[0];
    assert!(
        row[0].starts_with("web-") && row[0].len() == "web-".len() + 5,
        "{row:?}"
    );
    assert_eq!(&row[1..4], ["IPv4", "<unset>", "<unset>"]);

    // Fix the labels (what a learner does), then the "kubelet" reports it ready.
    sim.kubectl(&["label", "pod", "api", "app=web", "--overwrite"])
        .ok();
    set_pod_status(&sim, "api", "10.244.1.2", true);
    let ep = eventually(&sim, &["get", "endpoints", "web", "--no-headers"], |o| {
        o.contains("10.244.1.2:80")
    });
    assert_eq!(rows(&ep)[0][1], "10.244.1.2:80");
    assert_eq!(describe_endpoints(&sim, "web"), "10.244.1.2:80");
    let slices = sim
        .kubectl(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "--no-headers",
        ])
        .ok();
    let r = rows(&slices);
    assert_eq!(r.len(), 1, "{slices}");
    assert_eq!(&r[0][1..4], ["IPv4", "80", "10.244.1.2"]);
    let yaml = sim.kubectl(&["get", "ep", "web", "-o", "yaml"]).ok();
    assert!(
        yaml.contains("endpoints.kubernetes.io/last-change-trigger-time:"),
        "{yaml}"
    );
    assert!(
        yaml.contains("    targetRef:\n      kind: Pod\n      name: api\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    nodeName: kdrill-worker"), "{yaml}");
}

#[test]
fn not_ready_pods_are_not_ready_addresses() {
    let sim = Sim::start();
    sim.kubectl_stdin(&["apply", "-f", "-"], SVC_WEB).ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod_yaml("web-1", "web", ""))
        .ok();
    eventually(
        &sim,
        &["get", "pod", "web-1", "-o", "jsonpath={.spec.nodeName}"],
        |o| !o.is_empty(),
    );
    set_pod_status(&sim, "web-1", "10.244.1.7", false);
    let yaml = eventually(&sim, &["get", "ep", "web", "-o", "yaml"], |o| {
        o.contains("notReadyAddresses")
    });
    assert!(
        yaml.contains("- notReadyAddresses:\n  - ip: 10.244.1.7\n"),
        "{yaml}"
    );
    assert!(!yaml.contains("- addresses:"), "{yaml}");
    // Not ready: the printer's formatEndpoints lists ready addresses only,
    // so the ENDPOINTS cell is blank (not `<none>`: there is a subset).
    let ep = sim.kubectl(&["get", "ep", "web", "--no-headers"]).ok();
    let row = &rows(&ep)[0];
    assert_eq!((row[0].as_str(), row.len()), ("web", 2), "{ep}");
    assert_eq!(describe_endpoints(&sim, "web"), "");
    let d = sim.kubectl(&["describe", "ep", "web"]).ok();
    assert!(d.contains("NotReadyAddresses:  10.244.1.7"), "{d}");
    let slice = sim
        .kubectl(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "jsonpath={.items[0].endpoints[0].conditions}",
        ])
        .ok();
    assert_eq!(
        slice,
        r#"{"ready":false,"serving":false,"terminating":false}"#
    );
}

#[test]
fn named_target_port_resolves_per_pod() {
    let sim = Sim::start();
    let svc = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: web-http
";
    sim.kubectl_stdin(&["apply", "-f", "-"], svc).ok();
    let ports = |p: u16| format!("    ports:\n    - name: web-http\n      containerPort: {p}\n");
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod_yaml("a", "web", &ports(8080)))
        .ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod_yaml("b", "web", &ports(9090)))
        .ok();
    // A pod without the named port is not an endpoint of that port.
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod_yaml("c", "web", ""))
        .ok();
    for (pod, ip) in [
        ("a", "10.244.1.2"),
        ("b", "10.244.2.3"),
        ("c", "10.244.1.4"),
    ] {
        eventually(
            &sim,
            &["get", "pod", pod, "-o", "jsonpath={.spec.nodeName}"],
            |o| !o.is_empty(),
        );
        set_pod_status(&sim, pod, ip, true);
    }
    let ep = eventually(&sim, &["get", "ep", "web", "--no-headers"], |o| {
        o.contains("10.244.1.2:8080") && o.contains("10.244.2.3:9090")
    });
    assert_eq!(rows(&ep)[0][1], "10.244.1.2:8080,10.244.2.3:9090");
    // describe reads the slices; a slice without ports (pod c) is printed
    // as a headless one, bare IP — upstream kubectl does the same.
    let value = describe_endpoints(&sim, "web");
    let mut got: Vec<&str> = value.split(',').collect();
    got.sort();
    assert_eq!(got, ["10.244.1.2:8080", "10.244.1.4", "10.244.2.3:9090"]);
    // The slices: one per resolved port, and one without ports for c.
    let slices = sim
        .kubectl(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "--no-headers",
        ])
        .ok();
    let mut cells: Vec<(String, String)> = rows(&slices)
        .into_iter()
        .map(|r| (r[2].clone(), r[3].clone()))
        .collect();
    cells.sort();
    assert_eq!(
        cells,
        [
            ("8080".to_string(), "10.244.1.2".to_string()),
            ("9090".to_string(), "10.244.2.3".to_string()),
            ("<unset>".to_string(), "10.244.1.4".to_string()),
        ]
    );
}

#[test]
fn expose_deployment_then_get_ep_once_pods_are_ready() {
    let sim = Sim::start();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--port=80",
        "--replicas=2",
    ])
    .ok();
    assert_eq!(
        sim.kubectl(&[
            "expose",
            "deployment",
            "web",
            "--port=8080",
            "--target-port=80"
        ])
        .ok(),
        "service/web exposed\n"
    );
    let pods = eventually(
        &sim,
        &["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"],
        |o| rows(o).len() == 2 && rows(o).iter().all(|r| r[6].starts_with("kdrill-")),
    );
    let names: Vec<String> = rows(&pods).into_iter().map(|r| r[0].clone()).collect();
    let ips = ["10.244.1.2", "10.244.2.2"];
    for (name, ip) in names.iter().zip(ips) {
        set_pod_status(&sim, name, ip, true);
    }
    let ep = eventually(&sim, &["get", "ep"], |o| {
        o.contains("10.244.1.2:80") && o.contains("10.244.2.2:80")
    });
    let r = rows(&ep);
    assert_eq!(r[0], ["NAME", "ENDPOINTS", "AGE"]);
    let web = r.iter().find(|c| c[0] == "web").expect("web row");
    assert_eq!(web[1], "10.244.1.2:80,10.244.2.2:80");
    // Deleting the Service deletes its Endpoints and (garbage collector) slices.
    sim.kubectl(&["delete", "svc", "web"]).ok();
    eventually(&sim, &["get", "ep,endpointslices", "-o", "name"], |o| {
        !o.contains("web")
    });
}
