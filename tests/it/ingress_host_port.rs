//! The learner's machine reaching the simulated Ingress through the host
//! ports (kind's `extraPortMappings` 80/443): real HTTP and TLS from the
//! test process to `kdrill sim serve --ingress-http-port/--ingress-https-port`.

use super::harness::Sim;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NOT_FOUND_PAGE: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const FAKE: &str = "O=Acme Co, CN=Kubernetes Ingress Controller Fake Certificate";

const APP: &str = r#"
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
kind: Service
metadata: {name: app}
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  - hosts: [bad.example.com]
    secretName: bad-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
  - host: plain.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
      - {path: /gone, pathType: Prefix, backend: {service: {name: gone, port: {number: 80}}}}
"#;

/// Two ports free right now.
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let b = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    (
        a.local_addr().expect("addr").port(),
        b.local_addr().expect("addr").port(),
    )
}

/// What came back on a connection: the bytes, and whether the peer closed
/// (false: still open when `wait` ran out).
fn exchange(port: u16, raw: &str, wait: Duration) -> (String, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(wait)).expect("timeout");
    s.write_all(raw.as_bytes()).expect("write");
    read_all(&mut s)
}

fn read_all(s: &mut impl Read) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

fn get(host: &str, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\nConnection: close\r\n\r\n")
}

/// A certificate verifier that accepts anything and remembers the subject
/// of what the server presented.
#[derive(Debug)]
struct Record(Mutex<Option<String>>);

impl rustls::client::danger::ServerCertVerifier for Record {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let subject = x509_parser::parse_x509_certificate(end_entity)
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_default();
        *self.0.lock().expect("lock") = Some(subject);
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// An HTTPS request with SNI `sni` (an IP sends none): the certificate's
/// subject and the response.
fn https(port: u16, sni: &str, raw: &str) -> (String, String) {
    let record = Arc::new(Record(Mutex::new(None)));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(record.clone())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(raw.as_bytes()).expect("write");
    let (out, _) = read_all(&mut tls);
    let subject = record.0.lock().expect("lock").clone().unwrap_or_default();
    (subject, out)
}

fn status_line(resp: &str) -> &str {
    resp.lines().next().unwrap_or("")
}

fn body(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn header<'a>(resp: &'a str, name: &str) -> Option<&'a str> {
    resp.split("\r\n\r\n")
        .next()?
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[test]
fn the_host_ports_reach_the_ingress_like_kinds_port_mappings() {
    let (http_port, https_port) = free_ports();
    let (hp, sp) = (http_port.to_string(), https_port.to_string());
    let sim = Sim::start_with(&[
        "--clock",
        "virtual",
        "--ingress-http-port",
        &hp,
        "--ingress-https-port",
        &sp,
        "--ingress-hold-seconds",
        "4",
    ]);
    // Nothing listens on the node's port 80 yet: docker-proxy accepts and
    // closes with nothing written (curl: "Empty reply from server").
    let (out, closed) = exchange(
        http_port,
        &get("shop.example.com", "/"),
        Duration::from_secs(5),
    );
    assert_eq!((out.as_str(), closed), ("", true));
    if let Ok(o) = std::process::Command::new("curl")
        .args(["-sS", "-H", "Host: shop.example.com"])
        .arg(format!("http://localhost:{http_port}/"))
        .output()
    {
        assert_eq!(o.status.code(), Some(52));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "curl: (52) Empty reply from server\n"
        );
    }

    super::ingress::install_addon(&sim, true);
    let shop =
        rcgen::generate_simple_self_signed(vec!["shop.example.com".to_string()]).expect("cert");
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let secrets = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: shop-tls}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: bad-tls}}\ntype: Opaque\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b64(&shop.cert.pem()),
        b64(&shop.signing_key.serialize_pem()),
        b64(&shop.cert.pem()),
        b64("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"),
    );
    sim.kubectl_stdin(&["apply", "-f", "-"], &format!("{secrets}---\n{APP}"))
        .ok();
    sim.advancing(
        "5s",
        60,
        &[
            "get",
            "pod",
            "app",
            "-o",
            "jsonpath={.status.containerStatuses[*].ready}",
        ],
        |s| s == "true",
    );
    // Let the EndpointSlices follow.
    sim.advance("5s");

    let wait = Duration::from_secs(10);
    // A rule's backend answers through the controller.
    let (out, _) = exchange(http_port, &get("plain.example.com", "/cart"), wait);
    assert_eq!(status_line(&out), "HTTP/1.1 200 OK", "{out}");
    assert_eq!(body(&out), "app");
    assert_eq!(header(&out, "Content-Length"), Some("3"));
    assert_eq!(
        header(&out, "Server"),
        None,
        "server_tokens off, Server cleared"
    );
    // No rule for the host: the default backend's 404 page.
    let (out, _) = exchange(http_port, &get("nothing.example.com", "/"), wait);
    assert_eq!(status_line(&out), "HTTP/1.1 404 Not Found", "{out}");
    assert_eq!(body(&out), NOT_FOUND_PAGE);
    assert_eq!(header(&out, "Content-Type"), Some("text/html"));
    // A missing Service: nginx's own status line for 503.
    let (out, _) = exchange(http_port, &get("plain.example.com", "/gone"), wait);
    assert_eq!(
        status_line(&out),
        "HTTP/1.1 503 Service Temporarily Unavailable",
        "{out}"
    );
    // A host with TLS redirects plain HTTP (ssl-redirect).
    let (out, _) = exchange(http_port, &get("shop.example.com", "/cart"), wait);
    assert_eq!(
        status_line(&out),
        "HTTP/1.1 308 Permanent Redirect",
        "{out}"
    );
    assert_eq!(
        header(&out, "Location"),
        Some("https://shop.example.com/cart"),
        "{out}"
    );
    // Keep-alive: two requests on one connection, both answered.
    let two = format!(
        "GET / HTTP/1.1\r\nHost: plain.example.com\r\n\r\n{}",
        get("plain.example.com", "/x")
    );
    let (out, closed) = exchange(http_port, &two, wait);
    assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{out}");
    assert!(closed, "Connection: close on the second request");

    // HTTPS: the Secret's certificate for its host (SNI), the fake one
    // without SNI or for a Secret whose key does not load.
    let (subject, out) = https(
        https_port,
        "shop.example.com",
        &get("shop.example.com", "/"),
    );
    assert_eq!(subject, "CN=rcgen self signed cert");
    assert_eq!(status_line(&out), "HTTP/1.1 200 OK", "{out}");
    assert_eq!(body(&out), "app");
    assert_eq!(
        header(&out, "Strict-Transport-Security"),
        Some("max-age=31536000; includeSubDomains")
    );
    let (subject, out) = https(https_port, "127.0.0.1", &get("shop.example.com", "/"));
    assert_eq!(subject, FAKE);
    assert_eq!(status_line(&out), "HTTP/1.1 200 OK", "{out}");
    let (subject, _) = https(https_port, "bad.example.com", &get("bad.example.com", "/"));
    assert_eq!(subject, FAKE);

    // The real curl, as the learner runs it (skipped without curl).
    if let Ok(o) = std::process::Command::new("curl")
        .args(["-sS", "-H", "Host: plain.example.com"])
        .arg(format!("http://localhost:{http_port}/"))
        .output()
    {
        assert_eq!(String::from_utf8_lossy(&o.stdout), "app");
        let o = std::process::Command::new("curl")
            .args(["-sSk", "-o", "/dev/null", "-w", "%{http_code}"])
            .args([
                "--resolve",
                &format!("shop.example.com:{https_port}:127.0.0.1"),
            ])
            .arg(format!("https://shop.example.com:{https_port}/"))
            .output()
            .expect("curl");
        assert_eq!(String::from_utf8_lossy(&o.stdout), "200");
    }

    // A default-deny policy on the controller's namespace drops the host's
    // packets: nothing comes back, the connection is held (bounded).
    let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only, namespace: ingress-nginx}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";
    sim.kubectl_stdin(&["apply", "-f", "-"], deny).ok();
    let (out, closed) = exchange(
        http_port,
        &get("plain.example.com", "/"),
        Duration::from_secs(2),
    );
    assert_eq!((out.as_str(), closed), ("", false));
    let started = Instant::now();
    let (out, closed) = exchange(
        http_port,
        &get("plain.example.com", "/"),
        Duration::from_secs(8),
    );
    assert_eq!((out.as_str(), closed), ("", true), "closed after the hold");
    assert!(started.elapsed() >= Duration::from_secs(3));
    // An ipBlock for the docker network's gateway, where the host's
    // connections come from, lets them in again.
    let allow = format!("{deny}  ingress:\n  - from:\n    - ipBlock: {{cidr: 172.18.0.1/32}}\n");
    sim.kubectl_stdin(&["apply", "-f", "-"], &allow).ok();
    let (out, _) = exchange(http_port, &get("plain.example.com", "/"), wait);
    assert_eq!(status_line(&out), "HTTP/1.1 200 OK", "{out}");
    // The backend's namespace drops the controller's packets: nginx gives
    // up after its 5 s connect timeout with its own 504.
    let deny_app = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";
    sim.kubectl_stdin(&["apply", "-f", "-"], deny_app).ok();
    let started = Instant::now();
    let (out, _) = exchange(http_port, &get("plain.example.com", "/"), wait);
    assert_eq!(status_line(&out), "HTTP/1.1 504 Gateway Time-out", "{out}");
    assert_eq!(
        body(&out),
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    assert!(started.elapsed() >= Duration::from_secs(5));
}
