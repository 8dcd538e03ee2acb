//! ingress-nginx's status writer with the real kubectl: the ADDRESS column.
//!
//! The add-on's manifest is applied as kind's ingress guide does, after
//! labelling the node `ingress-ready=true` (kind's cluster config does that
//! for the node that maps ports 80/443).

use super::harness::{Sim, rows};
use std::time::{Duration, Instant};

const ADDON: &str = include_str!("../../src/sim/ingress/addon.yaml");

/// The admission Service's ready endpoints, `true` each.
const ADMISSION_READY: [&str; 8] = [
    "-n",
    "ingress-nginx",
    "get",
    "endpointslices",
    "-l",
    "kubernetes.io/service-name=ingress-nginx-controller-admission",
    "-o",
    "jsonpath={.items[*].endpoints[*].conditions.ready}",
];

/// Installs the add-on as kind's guide does (the node labelled
/// `ingress-ready=true`, the manifest applied) and waits until its
/// admission webhook has a ready endpoint: until then every Ingress write
/// fails calling it, as on kind. On a virtual clock simulated time is
/// moved; else the test waits.
pub(crate) fn install_addon(sim: &Sim, virtual_clock: bool) {
    sim.kubectl(&[
        "label",
        "node",
        "kdrill-control-plane",
        "ingress-ready=true",
    ])
    .ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], ADDON).ok();
    let ready = |s: &str| s.split_whitespace().any(|r| r == "true");
    if virtual_clock {
        sim.advancing("5s", 120, &ADMISSION_READY, ready);
    } else {
        sim.eventually(120, &ADMISSION_READY, ready);
    }
}

fn ingress(name: &str, class: Option<&str>) -> String {
    let class = class
        .map(|c| format!("  ingressClassName: {c}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\nspec:\n{class}  rules:\n  - host: {name}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n"
    )
}

/// `kubectl get ingress` rows by name.
fn addresses(sim: &Sim) -> Vec<(String, String)> {
    let out = sim.kubectl(&["get", "ingress"]).ok();
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        "{out}"
    );
    // ADDRESS is empty for unowned Ingresses, which shifts the columns
    // `rows` splits on whitespace; read it from the fixed-width header.
    let header = out.lines().next().unwrap_or("");
    let (start, end) = (
        header.find("ADDRESS").unwrap_or(0),
        header.find("PORTS").unwrap_or(0),
    );
    out.lines()
        .skip(1)
        .map(|l| {
            let name = l.split_whitespace().next().unwrap_or("").to_string();
            let addr = l.get(start..end).unwrap_or("").trim().to_string();
            (name, addr)
        })
        .collect()
}

#[test]
fn owned_ingresses_show_localhost_and_others_stay_empty() {
    let sim = Sim::start_virtual();
    install_addon(&sim, true);
    for (name, class) in [
        ("owned", Some("nginx")),
        ("classless", None),
        ("foreign", Some("traefik")),
    ] {
        sim.kubectl_stdin(&["apply", "-f", "-"], &ingress(name, class))
            .ok();
    }
    // On the virtual clock: move time five seconds between looks.
    let mut steps = 0;
    loop {
        let got = addresses(&sim);
        let of = |n: &str| {
            got.iter()
                .find(|(name, _)| name == n)
                .map(|(_, a)| a.clone())
                .unwrap_or_default()
        };
        if of("owned") == "localhost" && of("classless") == "localhost" {
            assert_eq!(of("foreign"), "", "{got:?}");
            break;
        }
        assert!(
            steps < 120,
            "ADDRESS never became localhost in 10 simulated minutes: {got:?}\n{}",
            sim.kubectl(&["get", "pods", "-n", "ingress-nginx", "-o", "wide"])
                .stdout
        );
        steps += 1;
        sim.advance("5s");
    }
    let jp = sim
        .kubectl(&[
            "get",
            "ingress",
            "owned",
            "-o",
            "jsonpath={.status.loadBalancer.ingress}",
        ])
        .ok();
    assert_eq!(jp, r#"[{"hostname":"localhost"}]"#);
    let describe = sim.kubectl(&["describe", "ingress", "owned"]).ok();
    let sync = describe
        .lines()
        .find(|l| l.contains("Scheduled for sync"))
        .unwrap_or_else(|| panic!("no Sync event:\n{describe}"));
    let cols: Vec<&str> = sync.split_whitespace().collect();
    assert_eq!(cols[..2], ["Normal", "Sync"], "{sync}");
    assert!(sync.contains("(x2 over"), "{sync}");
    assert!(
        sync.ends_with("nginx-ingress-controller  Scheduled for sync"),
        "{sync}"
    );
    let foreign = sim.kubectl(&["describe", "ingress", "foreign"]).ok();
    assert!(!foreign.contains("Scheduled for sync"), "{foreign}");
}

#[test]
fn bad_network_policy_and_ingress_get_the_apiservers_422() {
    let sim = Sim::start();
    let np = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/33
  - from:
    - ipBlock:
        cidr: 10.0.0.0/16
        except: [192.168.0.0/24]
";
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], np).err();
    assert!(
        err.starts_with("The NetworkPolicy \"np\" is invalid: \n* spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n* spec.ingress[1].from[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`"),
        "{err}"
    );
    let ing = ingress("bad", Some("nginx")).replace("pathType: Prefix", "pathType: Regex");
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], &ing).err();
    assert!(
        err.starts_with("The Ingress \"bad\" is invalid: spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""),
        "{err}"
    );
}

const BACKENDS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: client
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: app, labels: {app: app}}
spec:
  containers:
  - name: app
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: ["serve-hostname", "--port", "8080"]
---
apiVersion: v1
kind: Pod
metadata: {name: api, labels: {app: api}}
spec:
  containers:
  - name: api
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: ["serve-hostname", "--port", "8080"]
---
apiVersion: v1
kind: Service
metadata: {name: app}
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
"#;

/// The controller Service's in-cluster name: a request to it carries this
/// `Host`, so a rule for this host is what a pod reaches by name.
const CONTROLLER: &str = "ingress-nginx-controller.ingress-nginx";

fn routes() -> String {
    let backend = |svc: &str, port: &str| {
        format!(
            "            backend:\n              service:\n                name: {svc}\n                port:\n                  {port}\n"
        )
    };
    let path = |p: &str, t: &str, svc: &str, port: &str| {
        format!(
            "          - path: {p}\n            pathType: {t}\n{}",
            backend(svc, port)
        )
    };
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: routes\nspec:\n  ingressClassName: nginx\n  rules:\n    - host: {CONTROLLER}\n      http:\n        paths:\n{}{}    - http:\n        paths:\n{}{}{}{}",
        path("/", "Prefix", "app", "number: 80"),
        path("/api", "Prefix", "api", "number: 80"),
        path("/typo", "Exact", "apps", "number: 80"),
        path("/port", "Exact", "app", "number: 9090"),
        // ingress-nginx also matches a backend port against targetPort.
        path("/target", "Exact", "app", "number: 8080"),
        path("/named", "Exact", "app", "name: web"),
    )
}

/// Waits until `kubectl args` lists `n` lines.
fn wait_lines(sim: &Sim, args: &[&str], n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.kubectl(args).stdout.lines().count() != n {
        assert!(
            Instant::now() < deadline,
            "kubectl {args:?} never listed {n}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn requests_through_the_controller_follow_host_and_path_rules() {
    let sim = Sim::start_with(&["--time-scale", "50"]);
    install_addon(&sim, false);
    sim.kubectl_stdin(&["apply", "-f", "-"], BACKENDS).ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], &routes()).ok();
    let foreign = ingress("foreign", Some("traefik")).replace("path: /", "path: /foreign");
    sim.kubectl_stdin(&["apply", "-f", "-"], &foreign).ok();
    let controller = [
        "-n",
        "ingress-nginx",
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/component=controller",
        "-o",
        "name",
    ];
    wait_lines(&sim, &controller, 1);
    sim.kubectl(&[
        "-n",
        "ingress-nginx",
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod",
        "-l",
        "app.kubernetes.io/component=controller",
    ])
    .ok();
    sim.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/client",
        "pod/app",
        "pod/api",
    ])
    .ok();
    let ip = sim
        .kubectl(&[
            "-n",
            "ingress-nginx",
            "get",
            "svc",
            "ingress-nginx-controller",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])
        .ok();
    let get = |url: &str| {
        let r = sim.kubectl(&["exec", "client", "--", "wget", "-qO-", "-T", "2", url]);
        (format!("{}{}", r.stdout, r.stderr), r.code)
    };
    // The host rule: `/` to app, `/api` (and below) to api, and a backend
    // port equal to the Service's targetPort; each answers
    // its hostname (the simulated busybox ends the output with a newline
    // agnhost does not write).
    for (url, body) in [
        (format!("http://{CONTROLLER}/"), "app"),
        (format!("http://{CONTROLLER}/shop/cart"), "app"),
        (format!("http://{CONTROLLER}/api/v1"), "api"),
        (format!("http://{ip}/target"), "app"),
    ] {
        let (out, code) = get(&url);
        assert_eq!((out.trim_end(), code), (body, 0), "{url}");
    }
    // By IP the Host header is the IP: the catch-all server, whose rules
    // have no `/`, so the default backend answers 404.
    let failed = |status: &str| {
        format!(
            "wget: server returned error: HTTP/1.1 {status}\ncommand terminated with exit code 1\n"
        )
    };
    for path in ["/", "/api/v1", "/typ", "/foreign"] {
        assert_eq!(
            get(&format!("http://{ip}{path}")),
            (failed("404 Not Found"), 1),
            "{path}"
        );
    }
    // A Service that does not exist, a Service port that does not exist
    // (by number and by name): 503 from the controller.
    for path in ["/typo", "/port", "/named"] {
        // nginx's own status line for 503.
        assert_eq!(
            get(&format!("http://{ip}{path}")),
            (failed("503 Service Temporarily Unavailable"), 1),
            "{path}"
        );
    }
    // kind's ingress-ready setup: the controller's hostPort 80 on the
    // control-plane node, and the Service's nodePort on any node.
    let node_ip = sim
        .kubectl(&[
            "get",
            "node",
            "kdrill-control-plane",
            "-o",
            "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}",
        ])
        .ok();
    let node_port = sim
        .kubectl(&[
            "-n",
            "ingress-nginx",
            "get",
            "svc",
            "ingress-nginx-controller",
            "-o",
            "jsonpath={.spec.ports[?(@.name==\"http\")].nodePort}",
        ])
        .ok();
    for url in [
        format!("http://{node_ip}/target"),
        format!("http://{node_ip}:{node_port}/target"),
    ] {
        let (out, code) = get(&url);
        assert_eq!((out.trim_end(), code), ("app", 0), "{url}");
    }
    assert_eq!(
        get(&format!("http://{node_ip}/")),
        (failed("404 Not Found"), 1)
    );
    // The foreign-class Ingress is not the controller's: no ADDRESS.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = addresses(&sim);
        let of = |n: &str| {
            got.iter()
                .find(|(name, _)| name == n)
                .map(|(_, a)| a.clone())
        };
        if of("routes").as_deref() == Some("localhost") {
            assert_eq!(of("foreign").as_deref(), Some(""), "{got:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{got:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_host_header_picks_the_rule_through_the_controller_service() {
    let sim = Sim::start_with(&["--time-scale", "50"]);
    install_addon(&sim, false);
    let curl_pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: curl}\nspec:\n  containers:\n  - name: curl\n    image: curlimages/curl:8.14.1\n    command: [\"sleep\", \"3600\"]\n";
    sim.kubectl_stdin(&["apply", "-f", "-"], &format!("{BACKENDS}---\n{curl_pod}"))
        .ok();
    let shop = ingress("shop", Some("nginx")).replace("name: web", "name: app");
    sim.kubectl_stdin(&["apply", "-f", "-"], &shop).ok();
    wait_lines(
        &sim,
        &[
            "-n",
            "ingress-nginx",
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/component=controller",
            "-o",
            "name",
        ],
        1,
    );
    sim.kubectl(&[
        "-n",
        "ingress-nginx",
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod",
        "-l",
        "app.kubernetes.io/component=controller",
    ])
    .ok();
    sim.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/client",
        "pod/app",
        "pod/curl",
    ])
    .ok();
    let exec = |pod: &str, cmd: &[&str]| {
        let mut args = vec!["exec", pod, "--"];
        args.extend_from_slice(cmd);
        let r = sim.kubectl(&args);
        // The simulated exec streams stdout and stderr as one.
        (format!("{}{}", r.stdout, r.stderr), String::new(), r.code)
    };
    let url = format!("http://{CONTROLLER}");
    // The rule's host in the Host header: the backend answers (agnhost
    // serve-hostname prints its pod name).
    let (out, err, code) = exec(
        "client",
        &["wget", "-qO-", "--header", "Host: shop.example.com", &url],
    );
    assert_eq!((out.trim_end(), code), ("app", 0), "{err}");
    // Another host: no rule, the controller's default backend says 404.
    let (out, err, code) = exec(
        "client",
        &["wget", "-qO-", "--header", "Host: nope.example.com", &url],
    );
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        (
            "wget: server returned error: HTTP/1.1 404 Not Found\ncommand terminated with exit code 1\n",
            "",
            1
        )
    );
    // Without the header the Host is the Service's name: no rule either.
    let (_, err, code) = exec("client", &["wget", "-qO-", &url]);
    assert_eq!(code, 1, "{err}");
    // curl shows nginx's 404 page itself.
    let (out, _, code) = exec(
        "curl",
        &["curl", "-s", "-H", "Host: nope.example.com", &url],
    );
    assert_eq!(
        (out.replace('\r', ""), code),
        (
            "<html>\n<head><title>404 Not Found</title></head>\n<body>\n<center><h1>404 Not Found</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n".to_string(),
            0
        )
    );
    let (out, _, code) = exec(
        "curl",
        &[
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Host: shop.example.com",
            &url,
        ],
    );
    assert_eq!((out.trim_end(), code), ("200", 0));
    // --resolve sends the URL's host to the address given.
    let ip = sim
        .kubectl(&[
            "-n",
            "ingress-nginx",
            "get",
            "svc",
            "ingress-nginx-controller",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])
        .ok();
    let (out, err, code) = exec(
        "curl",
        &[
            "curl",
            "-sS",
            "--resolve",
            &format!("shop.example.com:80:{ip}"),
            "http://shop.example.com/",
        ],
    );
    assert_eq!((out.trim_end(), code), ("app", 0), "{err}");
    let (err, _, code) = exec("curl", &["curl", "-sS", "http://nowhere/"]);
    assert_eq!(
        (err.as_str(), code),
        (
            "curl: (6) Could not resolve host: nowhere\ncommand terminated with exit code 6\n",
            6
        )
    );
    // busybox has no curl.
    let (err, _, code) = exec("client", &["curl", &url]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("exec: \"curl\": executable file not found in $PATH: unknown"),
        "{err}"
    );
}

/// A CA (PEM) and, signed by it, a certificate and key (PEM) for `host`
/// valid from `from` to `to`.
fn ca_signed(host: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "drill-ca");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).expect("ca").pem();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let mut leaf = rcgen::CertificateParams::new(vec![host.to_string()]).expect("params");
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, host);
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    leaf.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = leaf.signed_by(&key, &issuer).expect("leaf").pem();
    (ca_pem, cert, key.serialize_pem())
}

#[test]
fn https_clients_see_an_expired_or_missing_certificate() {
    let sim = Sim::start_virtual();
    let now = sim.advance("0s");
    assert!(now.as_str() > "2001", "{now}");
    install_addon(&sim, true);
    // Expired long before the simulated clock's now.
    let (ca, crt, key) = ca_signed("shop.example.com", (2000, 1, 1), (2001, 1, 1));
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let objects = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: shop-tls}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: drill-ca}}\ndata:\n  ca.crt: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: curl}}\nspec:\n  containers:\n  - name: curl\n    image: curlimages/curl:8.14.1\n    command: [\"sleep\", \"3600\"]\n    volumeMounts: [{{name: ca, mountPath: /ca}}]\n  volumes:\n  - name: ca\n    secret: {{secretName: drill-ca}}\n---\n{}---\n{}---\n{}",
        b64(&crt),
        b64(&key),
        b64(&ca),
        BACKENDS.trim_start(),
        ingress("shop", Some("nginx"))
            .replace("name: web", "name: app")
            .replace(
                "spec:\n",
                "spec:\n  tls:\n  - hosts: [shop.example.com]\n    secretName: shop-tls\n"
            ),
        ingress("gone", Some("nginx"))
            .replace("name: web", "name: app")
            .replace(
                "spec:\n",
                "spec:\n  tls:\n  - hosts: [gone.example.com]\n    secretName: gone-tls\n"
            ),
    );
    sim.kubectl_stdin(&["apply", "-f", "-"], &objects).ok();
    sim.advancing(
        "5s",
        60,
        &[
            "get",
            "pods",
            "curl",
            "app",
            "-o",
            "jsonpath={.items[*].status.containerStatuses[*].ready}",
        ],
        |s| s == "true true",
    );
    let ip = sim
        .kubectl(&[
            "-n",
            "ingress-nginx",
            "get",
            "svc",
            "ingress-nginx-controller",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])
        .ok();
    let curl = |host: &str, flags: &[&str]| {
        let resolve = format!("{host}:443:{ip}");
        let url = format!("https://{host}/");
        let mut args = vec!["exec", "curl", "--", "curl", "--resolve", &resolve];
        args.extend_from_slice(flags);
        args.push(&url);
        let r = sim.kubectl(&args);
        (format!("{}{}", r.stdout, r.stderr), r.code)
    };
    let help = "More details here: https://curl.se/docs/sslcerts.html\n\ncurl failed to verify the legitimacy of the server and therefore could not\nestablish a secure connection to it. To learn more about this situation and\nhow to fix it, please visit the webpage mentioned above.\n";
    // Trusting the CA, the expired date is what fails.
    let (out, code) = curl("shop.example.com", &["-sS", "--cacert", "/ca/ca.crt"]);
    assert_eq!(
        (out, code),
        (
            format!(
                "curl: (60) SSL certificate problem: certificate has expired\n{help}command terminated with exit code 60\n"
            ),
            60
        )
    );
    // Without the CA, OpenSSL stops at the unknown issuer.
    let (out, _) = curl("shop.example.com", &["-sS"]);
    assert!(
        out.starts_with(
            "curl: (60) SSL certificate problem: unable to get local issuer certificate\n"
        ),
        "{out}"
    );
    // -k: the backend answers; -v shows the date that expired.
    let (out, code) = curl("shop.example.com", &["-sk"]);
    assert_eq!((out.trim_end(), code), ("app", 0));
    let (out, _) = curl("shop.example.com", &["-skv"]);
    for line in [
        "*  subject: CN=shop.example.com",
        "*  expire date: Jan  1 00:00:00 2001 GMT",
        "*  issuer: CN=drill-ca",
        "*  SSL certificate verify result: unable to get local issuer certificate (20), continuing anyway.",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
    }
    // The Secret is missing: the controller's self-signed fake certificate.
    let (out, code) = curl("gone.example.com", &["-sS", "--cacert", "/ca/ca.crt"]);
    assert_eq!(code, 60);
    assert!(
        out.starts_with("curl: (60) SSL certificate problem: self-signed certificate\n"),
        "{out}"
    );
    let (out, _) = curl("gone.example.com", &["-skv"]);
    assert!(
        out.lines().any(
            |l| l == "*  subject: O=Acme Co; CN=Kubernetes Ingress Controller Fake Certificate"
        ),
        "{out}"
    );
    // busybox wget does not verify at all.
    let (out, code) = {
        let r = sim.kubectl(&[
            "exec",
            "client",
            "--",
            "wget",
            "-qO-",
            "--header",
            "Host: shop.example.com",
            &format!("https://{ip}/"),
        ]);
        (format!("{}{}", r.stdout, r.stderr), r.code)
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("app"), "{out}");
}

/// An Ingress of class nginx for `a.example.com` and `path`.
fn claim(name: &str, path: &str) -> String {
    ingress(name, Some("nginx"))
        .replace(&format!("{name}.example.com"), "a.example.com")
        .replace("path: /", &format!("path: {path}"))
}

#[test]
fn the_admission_webhook_refuses_a_host_and_path_already_claimed() {
    let sim = Sim::start_virtual();
    install_addon(&sim, true);
    sim.kubectl_stdin(&["apply", "-f", "-"], &claim("web", "/"))
        .ok();
    let x = sim.file("x.yaml", &claim("web2", "/"));
    let run = sim.kubectl(&["apply", "-f", &x]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "Error from server (BadRequest): error when creating \"{x}\": admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: host \"a.example.com\" and path \"/\" is already defined in ingress default/web\n"
        )
    );
    // Server-side dry run calls the webhook too (sideEffects: None).
    let err = sim.kubectl(&["create", "--dry-run=server", "-f", &x]).err();
    assert!(
        err.contains("is already defined in ingress default/web"),
        "{err}"
    );
    sim.kubectl(&["get", "ingress", "web2"]).err();
    // Another path on the same host is free; so is editing the holder.
    sim.kubectl_stdin(&["apply", "-f", "-"], &claim("web2", "/shop"))
        .ok();
    let relabelled =
        claim("web", "/").replacen("  name: web\n", "  name: web\n  labels: {tier: web}\n", 1);
    sim.kubectl_stdin(&["apply", "-f", "-"], &relabelled).ok();
    sim.kubectl(&["label", "ingress", "web", "edited=yes"]).ok();
    // Moving the second onto the taken path is an update, refused alike.
    let err = sim
        .kubectl(&[
            "patch",
            "ingress",
            "web2",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/rules/0/http/paths/0/path","value":"/"}]"#,
        ])
        .err();
    assert_eq!(
        err,
        "Error from server (BadRequest): admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: host \"a.example.com\" and path \"/\" is already defined in ingress default/web\n"
    );
}

/// The classic drill: the controller is down, so every Ingress write fails
/// calling the admission webhook; the shortcuts (`failurePolicy: Ignore`,
/// deleting the configuration) and the fix (the controller back) let
/// writes through again.
#[test]
fn a_down_controller_fails_ingress_writes_until_fixed_or_bypassed() {
    let sim = Sim::start_virtual();
    install_addon(&sim, true);
    let listed = sim
        .kubectl(&["get", "validatingwebhookconfigurations"])
        .ok();
    let table = rows(&listed);
    assert_eq!(table[0], ["NAME", "WEBHOOKS", "AGE"], "{listed}");
    assert_eq!(table[1][..2], ["ingress-nginx-admission", "1"], "{listed}");
    assert_eq!(table.len(), 2, "{listed}");
    let ip = sim
        .kubectl(&[
            "-n",
            "ingress-nginx",
            "get",
            "svc",
            "ingress-nginx-controller-admission",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])
        .ok();
    sim.kubectl(&[
        "-n",
        "ingress-nginx",
        "scale",
        "deployment",
        "ingress-nginx-controller",
        "--replicas=0",
    ])
    .ok();
    sim.advancing("10s", 60, &ADMISSION_READY, |s| s.trim().is_empty());
    let failing = |file: &str| {
        format!(
            "Error from server (InternalError): error when creating \"{file}\": Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": failed to call webhook: Post \"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s\": dial tcp {ip}:443: connect: connection refused\n"
        )
    };
    let a = sim.file("ing.yaml", &claim("shop", "/"));
    let run = sim.kubectl(&["apply", "-f", &a]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, failing(&a));
    sim.kubectl(&["get", "ingress", "shop"]).err();
    // Shortcut 1: fail open.
    let policy = |p: &str| {
        format!(r#"[{{"op":"replace","path":"/webhooks/0/failurePolicy","value":"{p}"}}]"#)
    };
    let patch = |p: &str| {
        sim.kubectl(&[
            "patch",
            "validatingwebhookconfiguration",
            "ingress-nginx-admission",
            "--type=json",
            "-p",
            &policy(p),
        ])
        .ok()
    };
    patch("Ignore");
    assert_eq!(
        sim.kubectl(&["apply", "-f", &a]).ok(),
        "ingress.networking.k8s.io/shop created\n"
    );
    patch("Fail");
    let b = sim.file("ing2.yaml", &claim("blog", "/blog"));
    assert_eq!(sim.kubectl(&["apply", "-f", &b]).err(), failing(&b));
    // Shortcut 2: no configuration, no webhook.
    sim.kubectl(&[
        "delete",
        "validatingwebhookconfiguration",
        "ingress-nginx-admission",
    ])
    .ok();
    sim.kubectl(&["apply", "-f", &b]).ok();
    // The fix: the controller back (and the manifest re-applied): the
    // webhook reviews again, and refuses a path already claimed.
    sim.kubectl(&[
        "-n",
        "ingress-nginx",
        "scale",
        "deployment",
        "ingress-nginx-controller",
        "--replicas=1",
    ])
    .ok();
    install_addon(&sim, true);
    let c = sim.file("ing3.yaml", &claim("shop2", "/"));
    assert_eq!(
        sim.kubectl(&["apply", "-f", &c]).err(),
        format!(
            "Error from server (BadRequest): error when creating \"{c}\": admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: host \"a.example.com\" and path \"/\" is already defined in ingress default/shop\n"
        )
    );
}
