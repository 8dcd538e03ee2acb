//! Service routing with the real kubectl: the Endpoints and EndpointSlice
//! controllers.
//!
//! Pods get their IP and Ready condition from the simulated kubelet; the
//! tests run on the virtual clock and move it a second at a time until
//! what they wait for shows, so a loaded machine cannot make them race.

use super::harness::{Sim, rows};

/// Polls `kubectl args` until `pred` holds on its stdout, moving the
/// virtual clock one second between polls (at most two simulated minutes).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.advancing("1s", 120, args, pred)
}

/// Waits until the kubelet runs `pod` with the given readiness and returns
/// the IP it assigned.
#[track_caller]
fn pod_ip(sim: &Sim, pod: &str, ready: bool) -> String {
    let want = if ready { "True" } else { "False" };
    let jp = r#"jsonpath={.status.podIP} {.status.conditions[?(@.type=="Ready")].status}"#;
    let out = eventually(sim, &["get", "pod", pod, "-o", jp], |o| {
        let mut parts = o.split(' ');
        let ip = parts.next().unwrap_or("");
        !ip.is_empty() && parts.next() == Some(want)
    });
    out.split(' ').next().unwrap_or("").to_string()
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
    let sim = Sim::start_virtual();
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
    let ip = pod_ip(&sim, "api", true);
    sim.kubectl(&["label", "pod", "api", "app=web", "--overwrite"])
        .ok();
    let want = format!("{ip}:80");
    let ep = eventually(&sim, &["get", "endpoints", "web", "--no-headers"], |o| {
        o.contains(&want)
    });
    assert_eq!(rows(&ep)[0][1], want);
    assert_eq!(describe_endpoints(&sim, "web"), want);
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
    assert_eq!(&r[0][1..4], ["IPv4", "80", ip.as_str()]);
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
    assert!(ip.starts_with("10.244."), "{ip}");
}

#[test]
fn not_ready_pods_are_not_ready_addresses() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], SVC_WEB).ok();
    // nginx answers 404 on /healthz: the readiness probe keeps it not ready.
    let probe = "    readinessProbe:\n      httpGet:\n        path: /healthz\n        port: 80\n";
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod_yaml("web-1", "web", probe))
        .ok();
    let ip = pod_ip(&sim, "web-1", false);
    let yaml = eventually(&sim, &["get", "ep", "web", "-o", "yaml"], |o| {
        o.contains("notReadyAddresses")
    });
    assert!(
        yaml.contains(&format!("- notReadyAddresses:\n  - ip: {ip}\n")),
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
    assert!(d.contains(&format!("NotReadyAddresses:  {ip}")), "{d}");
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
    let sim = Sim::start_virtual();
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
    let (a, b, c) = (
        pod_ip(&sim, "a", true),
        pod_ip(&sim, "b", true),
        pod_ip(&sim, "c", true),
    );
    let (a_port, b_port) = (format!("{a}:8080"), format!("{b}:9090"));
    let ep = eventually(&sim, &["get", "ep", "web", "--no-headers"], |o| {
        o.contains(&a_port) && o.contains(&b_port)
    });
    let mut listed: Vec<String> = rows(&ep)[0][1].split(',').map(str::to_string).collect();
    listed.sort();
    let mut expected = vec![a_port.clone(), b_port.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    // describe reads the slices; a slice without ports (pod c) is printed
    // as a headless one, bare IP — upstream kubectl does the same.
    let value = describe_endpoints(&sim, "web");
    let mut got: Vec<&str> = value.split(',').collect();
    got.sort();
    let mut want = vec![a_port.as_str(), b_port.as_str(), c.as_str()];
    want.sort();
    assert_eq!(got, want);
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
            ("8080".to_string(), a.clone()),
            ("9090".to_string(), b.clone()),
            ("<unset>".to_string(), c.clone()),
        ]
    );
}

#[test]
fn expose_deployment_then_get_ep_once_pods_are_ready() {
    let sim = Sim::start_virtual();
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
    let mut want: Vec<String> = names
        .iter()
        .map(|n| format!("{}:80", pod_ip(&sim, n, true)))
        .collect();
    want.sort();
    let ep = eventually(&sim, &["get", "ep"], |o| {
        want.iter().all(|w| o.contains(w.as_str()))
    });
    let r = rows(&ep);
    assert_eq!(r[0], ["NAME", "ENDPOINTS", "AGE"]);
    let web = r.iter().find(|c| c[0] == "web").expect("web row");
    let mut got: Vec<String> = web[1].split(',').map(str::to_string).collect();
    got.sort();
    assert_eq!(got, want);
    // Deleting the Service deletes its Endpoints and (garbage collector) slices.
    sim.kubectl(&["delete", "svc", "web"]).ok();
    eventually(&sim, &["get", "ep,endpointslices", "-o", "name"], |o| {
        !o.contains("web")
    });
}
