use super::*;
use base64::Engine;
use serde_json::json;

fn now() -> Timestamp {
    "2026-11-27T08:00:00Z".parse().unwrap()
}

fn ingress(name: &str, created: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": created}, "spec": spec})
}

fn path(p: &str, ty: &str, svc: &str, port: Value) -> Value {
    json!({"path": p, "pathType": ty, "backend": {"service": {"name": svc, "port": port}}})
}

fn rule(host: &str, paths: Vec<Value>) -> Value {
    json!({"host": host, "http": {"paths": paths}})
}

fn service(name: &str, ports: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"}, "spec": {"ports": ports}})
}

fn endpoints(name: &str, ips: &[&str], ports: Value) -> Value {
    let addrs: Vec<Value> = ips
        .iter()
        .map(|ip| json!({"ip": ip, "targetRef": {"kind": "Pod", "name": format!("{name}-{ip}")}}))
        .collect();
    json!({"metadata": {"name": name, "namespace": "default"}, "subsets": [{"addresses": addrs, "ports": ports}]})
}

fn class(name: &str, controller: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"controller": controller}})
}

struct Objects {
    ingresses: Vec<Value>,
    classes: Vec<Value>,
    services: Vec<Value>,
    endpoints: Vec<Value>,
    secrets: Vec<Value>,
}

impl Objects {
    fn base(ingresses: Vec<Value>) -> Self {
        Self {
            ingresses,
            classes: vec![
                class("nginx", "k8s.io/ingress-nginx"),
                class("traefik", "traefik.io/ingress-controller"),
            ],
            services: vec![
                service(
                    "web",
                    json!([{"name": "http", "port": 80, "targetPort": 8080}]),
                ),
                service(
                    "api",
                    json!([{"name": "grpc", "port": 9000, "targetPort": "grpc"}, {"name": "http", "port": 8080, "targetPort": 8080}]),
                ),
                service("empty", json!([{"port": 80, "targetPort": 80}])),
            ],
            endpoints: vec![
                endpoints(
                    "web",
                    &["10.244.0.5", "10.244.0.6"],
                    json!([{"name": "http", "port": 8080}]),
                ),
                endpoints(
                    "api",
                    &["10.244.0.7"],
                    json!([{"name": "grpc", "port": 9000}, {"name": "http", "port": 8080}]),
                ),
                json!({"metadata": {"name": "empty", "namespace": "default"}}),
            ],
            secrets: Vec::new(),
        }
    }

    fn view(&self) -> IngressView<'_> {
        let mut v = IngressView::new(now());
        v.ingresses = self.ingresses.iter().collect();
        v.ingress_classes = self.classes.iter().collect();
        v.services = self.services.iter().collect();
        v.endpoints = self.endpoints.iter().collect();
        v.secrets = self.secrets.iter().collect();
        v
    }
}

#[test]
fn ownership_follows_class_annotation_and_without_class_flag() {
    let spec = |extra: Value| {
        let mut s = json!({"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}});
        if let (Some(s), Some(e)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        s
    };
    let with_annotation = |v: &str| {
        let mut i = ingress("a", "2026-01-01T00:00:00Z", spec(json!({})));
        i["metadata"]["annotations"] = json!({CLASS_ANNOTATION: v});
        i
    };
    let objs = Objects::base(Vec::new());
    let mut view = objs.view();
    let cases = [
        (
            "class nginx",
            ingress(
                "a",
                "2026-01-01T00:00:00Z",
                spec(json!({"ingressClassName": "nginx"})),
            ),
            true,
        ),
        (
            "class of another controller",
            ingress(
                "a",
                "2026-01-01T00:00:00Z",
                spec(json!({"ingressClassName": "traefik"})),
            ),
            false,
        ),
        (
            "class that does not exist",
            ingress(
                "a",
                "2026-01-01T00:00:00Z",
                spec(json!({"ingressClassName": "ngnix"})),
            ),
            false,
        ),
        ("legacy annotation nginx", with_annotation("nginx"), true),
        (
            "legacy annotation of another class",
            with_annotation("traefik"),
            false,
        ),
        (
            "no class at all (kind watches those)",
            ingress("a", "2026-01-01T00:00:00Z", spec(json!({}))),
            true,
        ),
    ];
    for (name, ing, want) in &cases {
        assert_eq!(view.owns(ing), *want, "{name}");
    }
    view.config.watch_without_class = false;
    assert!(!view.owns(&cases[5].1));
}

fn backend_of(r: &Route) -> (&str, &str, i64) {
    match r {
        Route::Backend(b) => (b.ingress.as_str(), b.service.as_str(), b.service_port),
        other => panic!("expected a backend, got {other:?}"),
    }
}

#[test]
fn paths_match_as_nginx_locations() {
    let objs = Objects::base(vec![ingress(
        "site",
        "2026-01-01T00:00:00Z",
        json!({"ingressClassName": "nginx", "rules": [rule("app.example.com", vec![
            path("/api", "Prefix", "api", json!({"name": "http"})),
            path("/exact", "Exact", "api", json!({"number": 9000})),
            path("/impl", "ImplementationSpecific", "api", json!({"number": 8080})),
            path("/docs/", "Prefix", "web", json!({"number": 80})),
        ])]}),
    )]);
    let view = objs.view();
    let go = |p: &str| route(&view, &IngressRequest::http("app.example.com", p));
    assert_eq!(backend_of(&go("/api")), ("site", "api", 8080));
    assert_eq!(backend_of(&go("/api/")), ("site", "api", 8080));
    assert_eq!(backend_of(&go("/api/v1/users?x=1")), ("site", "api", 8080));
    assert_eq!(
        go("/apiv1"),
        Route::NotFound,
        "Prefix matches whole path elements"
    );
    assert_eq!(backend_of(&go("/exact")), ("site", "api", 9000));
    assert_eq!(go("/exact/"), Route::NotFound, "Exact is exact");
    assert_eq!(
        backend_of(&go("/implementation")),
        ("site", "api", 8080),
        "ImplementationSpecific is a string prefix"
    );
    assert_eq!(backend_of(&go("/docs/guide")), ("site", "web", 80));
    assert_eq!(
        go("/docs"),
        Route::NotFound,
        "Prefix /docs/ gets no exact /docs location"
    );
    assert_eq!(
        go("/"),
        Route::NotFound,
        "no root location: controller's 404"
    );
    assert_eq!(go("/").status(), Some(404));
    assert_eq!(go("/").body(), Some(NOT_FOUND_PAGE));
    let other_host = route(&view, &IngressRequest::http("other.example.com", "/api"));
    assert_eq!(
        other_host,
        Route::NotFound,
        "unknown host goes to the catch-all"
    );
    assert_eq!(
        backend_of(&route(
            &view,
            &IngressRequest::http("APP.example.com:8080", "/api")
        )),
        ("site", "api", 8080),
        "host is case-insensitive and its port ignored"
    );
}

#[test]
fn endpoints_come_from_the_matched_service_port() {
    let objs = Objects::base(vec![ingress(
        "site",
        "2026-01-01T00:00:00Z",
        json!({"rules": [rule("", vec![path("/", "Prefix", "web", json!({"number": 80}))])]}),
    )]);
    let view = objs.view();
    match route(&view, &IngressRequest::http("anything.local", "/")) {
        Route::Backend(b) => assert_eq!(
            b.endpoints,
            vec![
                Endpoint {
                    ip: "10.244.0.5".into(),
                    port: 8080,
                    pod: Some("web-10.244.0.5".into())
                },
                Endpoint {
                    ip: "10.244.0.6".into(),
                    port: 8080,
                    pod: Some("web-10.244.0.6".into())
                },
            ]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn precedence_across_ingresses_and_hosts() {
    let objs = Objects::base(vec![
        ingress(
            "newer",
            "2026-02-01T00:00:00Z",
            json!({"rules": [rule("app.example.com", vec![path("/", "Prefix", "api", json!({"number": 8080}))])]}),
        ),
        ingress(
            "older",
            "2026-01-01T00:00:00Z",
            json!({"rules": [
                rule("app.example.com", vec![path("/", "Prefix", "web", json!({"number": 80})), path("/api", "Prefix", "api", json!({"number": 9000}))]),
            ]}),
        ),
        ingress(
            "wild",
            "2026-01-01T00:00:00Z",
            json!({"rules": [
                rule("*.example.com", vec![path("/", "Prefix", "api", json!({"number": 9000}))]),
                rule("*.a.example.com", vec![path("/", "Prefix", "web", json!({"number": 80}))]),
            ]}),
        ),
        ingress(
            "ignored",
            "2025-01-01T00:00:00Z",
            json!({"ingressClassName": "traefik", "rules": [rule("app.example.com", vec![path("/", "Prefix", "empty", json!({"number": 80}))])]}),
        ),
    ]);
    let view = objs.view();
    let go = |h: &str, p: &str| route(&view, &IngressRequest::http(h, p));
    assert_eq!(
        backend_of(&go("app.example.com", "/")),
        ("older", "web", 80),
        "the oldest Ingress keeps a duplicate path"
    );
    assert_eq!(
        backend_of(&go("app.example.com", "/api/x")),
        ("older", "api", 9000),
        "longest prefix wins"
    );
    assert_eq!(
        backend_of(&go("foo.example.com", "/")),
        ("wild", "api", 9000),
        "wildcard host"
    );
    assert_eq!(
        backend_of(&go("x.y.example.com", "/")),
        ("wild", "api", 9000),
        "nginx wildcards span labels"
    );
    assert_eq!(
        backend_of(&go("x.a.example.com", "/")),
        ("wild", "web", 80),
        "longest wildcard wins"
    );
    assert_eq!(
        go("example.com", "/"),
        Route::NotFound,
        "wildcard needs a label"
    );
}

#[test]
fn default_backends() {
    let objs = Objects::base(vec![
        ingress(
            "catch-all",
            "2026-01-02T00:00:00Z",
            json!({"defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}}}),
        ),
        ingress(
            "host-default",
            "2026-01-01T00:00:00Z",
            json!({"defaultBackend": {"service": {"name": "api", "port": {"number": 8080}}},
                   "rules": [rule("app.example.com", vec![path("/only", "Exact", "web", json!({"number": 80}))])]}),
        ),
    ]);
    let view = objs.view();
    assert_eq!(
        backend_of(&route(&view, &IngressRequest::http("unknown.test", "/x"))),
        ("catch-all", "web", 80),
        "an Ingress with a backend and no rules configures the catch-all"
    );
    assert_eq!(
        backend_of(&route(
            &view,
            &IngressRequest::http("app.example.com", "/other")
        )),
        ("host-default", "api", 8080),
        "an Ingress's defaultBackend serves its hosts' unmatched paths"
    );
}

#[test]
fn broken_backends_are_503() {
    let objs = Objects::base(vec![ingress(
        "site",
        "2026-01-01T00:00:00Z",
        json!({"rules": [rule("app.example.com", vec![
            path("/missing", "Prefix", "nosuch", json!({"number": 80})),
            path("/badport", "Prefix", "web", json!({"number": 81})),
            path("/badname", "Prefix", "web", json!({"name": "https"})),
            path("/empty", "Prefix", "empty", json!({"number": 80})),
            path("/target", "Prefix", "web", json!({"number": 8080})),
        ])]}),
    )]);
    let view = objs.view();
    let go = |p: &str| route(&view, &IngressRequest::http("app.example.com", p));
    assert_eq!(
        go("/missing"),
        Route::Unavailable(Unavailable::ServiceMissing {
            namespace: "default".into(),
            service: "nosuch".into()
        })
    );
    assert_eq!(
        go("/badport"),
        Route::Unavailable(Unavailable::PortMissing {
            namespace: "default".into(),
            service: "web".into(),
            port: "81".into()
        })
    );
    assert_eq!(
        go("/badname"),
        Route::Unavailable(Unavailable::PortMissing {
            namespace: "default".into(),
            service: "web".into(),
            port: "https".into()
        })
    );
    assert_eq!(
        go("/empty"),
        Route::Unavailable(Unavailable::NoEndpoints {
            namespace: "default".into(),
            service: "empty".into()
        })
    );
    assert_eq!(go("/empty").status(), Some(503));
    assert_eq!(go("/empty").body(), Some(SERVICE_UNAVAILABLE_PAGE));
    assert_eq!(
        backend_of(&go("/target")),
        ("site", "web", 80),
        "a backend port equal to a targetPort is accepted"
    );
}

fn pem_cert(names: &[&str], not_after: (i32, u8, u8)) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn tls_secret(name: &str, (crt, key): (String, String)) -> Value {
    let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    json!({"metadata": {"name": name, "namespace": "default"}, "type": "kubernetes.io/tls",
           "data": {"tls.crt": b(&crt), "tls.key": b(&key)}})
}

#[test]
fn certificates_and_the_fake_fallback() {
    let tls_ing = |hosts: Value, secret: &str| {
        ingress(
            "site",
            "2026-01-01T00:00:00Z",
            json!({"tls": [{"hosts": hosts, "secretName": secret}],
                   "rules": [rule("app.example.com", vec![path("/", "Prefix", "web", json!({"number": 80}))]),
                             rule("api.example.com", vec![path("/", "Prefix", "api", json!({"number": 8080}))])]}),
        )
    };
    let mut objs = Objects::base(vec![tls_ing(
        json!(["app.example.com", "api.example.com"]),
        "site-tls",
    )]);
    // No Secret yet.
    match certificate(&objs.view(), "app.example.com") {
        Certificate::Fake { reason } => assert_eq!(
            reason,
            "Error getting SSL certificate \"default/site-tls\": local SSL certificate default/site-tls was not found. Using default certificate"
        ),
        other => panic!("{other:?}"),
    }
    objs.secrets = vec![tls_secret(
        "site-tls",
        pem_cert(&["app.example.com"], (2027, 1, 1)),
    )];
    match certificate(&objs.view(), "app.example.com") {
        Certificate::Secret {
            name,
            expired,
            dns_names,
            ..
        } => {
            assert_eq!(name, "site-tls");
            assert!(!expired);
            assert_eq!(dns_names, vec!["app.example.com".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    match certificate(&objs.view(), "api.example.com") {
        Certificate::Fake { reason } => assert_eq!(
            reason,
            "SSL certificate \"default/site-tls\" does not contain a Common Name or Subject Alternative Name for server \"api.example.com\""
        ),
        other => panic!("{other:?}"),
    }
    assert!(certificate(&objs.view(), "unlisted.example.com").is_fake());
    // Expired certificates are still served.
    objs.secrets = vec![tls_secret(
        "site-tls",
        pem_cert(&["*.example.com"], (2026, 1, 1)),
    )];
    match certificate(&objs.view(), "api.example.com") {
        Certificate::Secret { expired, .. } => assert!(expired),
        other => panic!("{other:?}"),
    }
    // A Secret without a parseable certificate.
    objs.secrets = vec![
        json!({"metadata": {"name": "site-tls", "namespace": "default"},
        "data": {"tls.crt": "bm90IGEgY2VydA==", "tls.key": "bm90IGEga2V5"}}),
    ];
    assert!(certificate(&objs.view(), "app.example.com").is_fake());
    // TLS hosts get redirected from plain HTTP.
    assert_eq!(
        route(
            &objs.view(),
            &IngressRequest::http("app.example.com", "/x?y=1")
        ),
        Route::Redirect {
            location: "https://app.example.com/x?y=1".into()
        }
    );
    assert_eq!(
        route(&objs.view(), &IngressRequest::http("app.example.com", "/")).status(),
        Some(308)
    );
    assert!(matches!(
        route(&objs.view(), &IngressRequest::https("app.example.com", "/")),
        Route::Backend(_)
    ));
}

#[test]
fn addon_objects_match_kinds_manifest() {
    let objs = addon_objects();
    let kinds: Vec<(&str, &str)> = objs
        .iter()
        .map(|o| (str_at(o, "/kind"), str_at(o, "/metadata/name")))
        .collect();
    assert_eq!(kinds.first(), Some(&("Namespace", "ingress-nginx")));
    for want in [
        ("Deployment", "ingress-nginx-controller"),
        ("Service", "ingress-nginx-controller"),
        ("IngressClass", "nginx"),
        ("Secret", "ingress-nginx-admission"),
        ("ValidatingWebhookConfiguration", "ingress-nginx-admission"),
    ] {
        assert!(kinds.contains(&want), "{want:?} in {kinds:?}");
    }
    let svc = objs
        .iter()
        .find(|o| {
            str_at(o, "/kind") == "Service"
                && str_at(o, "/metadata/name") == "ingress-nginx-controller"
        })
        .unwrap();
    assert_eq!(str_at(svc, "/spec/type"), "NodePort");
    let dep = objs
        .iter()
        .find(|o| str_at(o, "/kind") == "Deployment")
        .unwrap();
    assert_eq!(
        str_at(dep, "/spec/template/spec/containers/0/image"),
        CONTROLLER_IMAGE
    );
    let ic = objs
        .iter()
        .find(|o| str_at(o, "/kind") == "IngressClass")
        .unwrap();
    assert_eq!(
        str_at(ic, "/spec/controller"),
        ControllerConfig::default().controller
    );
    // the certgen patch Job's caBundle is the Secret's CA
    let vwc = addon_object("ValidatingWebhookConfiguration", "ingress-nginx-admission");
    let secret = addon_object("Secret", "ingress-nginx-admission");
    assert_eq!(
        str_at(&vwc, "/webhooks/0/clientConfig/caBundle"),
        str_at(&secret, "/data/ca")
    );
    assert_eq!(
        str_at(&vwc, "/webhooks/0/clientConfig/service/name"),
        admission::ADMISSION_SERVICE
    );
    assert_eq!(str_at(&vwc, "/webhooks/0/name"), admission::WEBHOOK);
}

#[test]
fn webhook_denies_a_host_and_path_another_ingress_holds() {
    let web = ingress(
        "web",
        "2026-01-01T00:00:00Z",
        json!({"rules": [rule("app.example.com", vec![path("/api", "Prefix", "api", json!({"number": 8080}))]),
                         rule("", vec![path("/pay", "Exact", "web", json!({"number": 80}))])]}),
    );
    let objs = Objects::base(vec![web.clone()]);
    let view = objs.view();
    let other_ns = |host: &str, p: &str, ty: &str, class: Option<&str>| {
        let mut i = ingress(
            "new",
            "2026-02-01T00:00:00Z",
            json!({"rules": [rule(host, vec![path(p, ty, "web", json!({"number": 80}))])]}),
        );
        i["metadata"]["namespace"] = json!("other");
        if let Some(c) = class {
            i["spec"]["ingressClassName"] = json!(c);
        }
        admission::review(&view, &i)
    };
    let denied = |host: &str, p: &str| {
        Err(format!(
            "admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: host \"{host}\" and path \"{p}\" is already defined in ingress default/web"
        ))
    };
    assert_eq!(
        other_ns("app.example.com", "/api", "Exact", None),
        denied("app.example.com", "/api"),
        "path types are not compared"
    );
    assert_eq!(
        other_ns("app.example.com", "/api/", "Prefix", None),
        denied("app.example.com", "/api/"),
        "Prefix /api also holds /api/"
    );
    assert_eq!(
        other_ns("", "/pay", "Prefix", None),
        denied("_", "/pay"),
        "no host is the catch-all _"
    );
    assert_eq!(
        other_ns("app.example.com", "/api/v2", "Prefix", None),
        Ok(())
    );
    assert_eq!(
        other_ns("other.example.com", "/api", "Prefix", None),
        Ok(())
    );
    assert_eq!(
        other_ns("app.example.com", "/api", "Prefix", Some("traefik")),
        Ok(()),
        "not ours: not reviewed"
    );
    // Updating the holder itself is fine.
    assert_eq!(admission::review(&view, &web), Ok(()));
}

#[test]
fn the_presented_certificate_is_the_secrets_or_the_fake_one() {
    let mut objs = Objects::base(vec![ingress(
        "site",
        "2026-01-01T00:00:00Z",
        json!({"tls": [{"hosts": ["app.example.com"], "secretName": "site-tls"}],
               "rules": [rule("app.example.com", vec![path("/", "Prefix", "web", json!({"number": 80}))])]}),
    )]);
    // The add-on's class was created when the controller started.
    objs.classes[0]["metadata"]["creationTimestamp"] = json!("2026-02-03T04:05:06Z");
    let fake = certificate(&objs.view(), "app.example.com").presented(&objs.view());
    assert_eq!(fake.subject, FAKE_CERTIFICATE_SUBJECT);
    assert_eq!(fake.issuer, FAKE_CERTIFICATE_SUBJECT);
    assert_eq!(fake.dns_names, ["ingress.local"]);
    assert_eq!(
        (
            fake.not_before.to_string(),
            fake.not_after.to_string(),
            fake.expired
        ),
        (
            "2026-02-03T04:05:06Z".to_string(),
            "2027-02-03T04:05:06Z".to_string(),
            false
        )
    );
    objs.secrets = vec![tls_secret(
        "site-tls",
        pem_cert(&["app.example.com"], (2026, 1, 1)),
    )];
    let shown = certificate(&objs.view(), "app.example.com").presented(&objs.view());
    assert_eq!(shown.dns_names, ["app.example.com"]);
    assert!(shown.expired);
    assert_eq!(shown.not_after.to_string(), "2026-01-01T00:00:00Z");
}

/// The add-on object of this kind and name.
fn addon_object(kind: &str, name: &str) -> Value {
    addon_objects()
        .into_iter()
        .find(|o| str_at(o, "/kind") == kind && str_at(o, "/metadata/name") == name)
        .unwrap()
}

/// A registry wired as the simulator wires it, with the namespaces
/// `default` and `ingress-nginx` and the add-on's admission Service;
/// returns its ClusterIP.
fn webhook_registry() -> (crate::registry::Registry, String) {
    use crate::api::resource;
    use crate::registry::Registry;
    use crate::registry::options::WriteOptions;
    use crate::sim::clock::VirtualClock;
    let r = Registry::new(
        Arc::new(Store::new()),
        Arc::new(VirtualClock::new(now())),
        1,
    );
    r.set_webhook_network(admission::network());
    let user = WriteOptions::default();
    let nss = resource::lookup("", "v1", "namespaces").unwrap();
    for ns in ["default", NAMESPACE] {
        r.create(nss, "", json!({"metadata":{"name":ns}}), &user)
            .unwrap();
    }
    let svcs = resource::lookup("", "v1", "services").unwrap();
    let svc = addon_object("Service", admission::ADMISSION_SERVICE);
    let svc = r.create(svcs, NAMESPACE, svc, &user).unwrap().object;
    let ip = str_at(&svc, "/spec/clusterIP").to_string();
    (r, ip)
}

/// The controller pod, ready behind the admission Service on 8443.
fn controller_ready(r: &crate::registry::Registry, ready: bool) {
    let key = |group, resource| ResKey { group, resource };
    let pod = json!({"metadata": {"name": "ingress-nginx-controller-abc", "namespace": NAMESPACE,
        "labels": {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller",
            "app.kubernetes.io/instance": "ingress-nginx"}},
        "spec": {"nodeName": "kdrill-control-plane"}, "status": {"podIP": "10.244.0.7"}});
    let slice = json!({"metadata": {"name": "ingress-nginx-controller-admission-x1", "namespace": NAMESPACE,
        "labels": {"kubernetes.io/service-name": admission::ADMISSION_SERVICE}},
        "addressType": "IPv4",
        "ports": [{"name": "https-webhook", "port": admission::WEBHOOK_PORT, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.244.0.7"], "conditions": {"ready": ready, "serving": ready, "terminating": false},
            "targetRef": {"kind": "Pod", "namespace": NAMESPACE, "name": "ingress-nginx-controller-abc"}}]});
    let pods = key("", "pods");
    let slices = key("discovery.k8s.io", "endpointslices");
    let _ = r
        .store
        .delete(pods, NAMESPACE, "ingress-nginx-controller-abc", None);
    let _ = r.store.delete(
        slices,
        NAMESPACE,
        "ingress-nginx-controller-admission-x1",
        None,
    );
    r.store.create(pods, pod).unwrap();
    r.store.create(slices, slice).unwrap();
}

#[test]
fn the_webhook_guards_ingress_writes_through_its_configuration() {
    use crate::api::resource;
    use crate::registry::options::WriteOptions;
    let (r, _) = webhook_registry();
    controller_ready(&r, true);
    let lookup = |g, v, p| resource::lookup(g, v, p).unwrap();
    let (vwcs, ings) = (
        lookup(
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
        ),
        lookup("networking.k8s.io", "v1", "ingresses"),
    );
    let user = WriteOptions::default();
    let ing = |name: &str, p: &str| json!({"metadata":{"name":name},"spec":{"rules":[rule("a.example.com", vec![path(p, "Prefix", "web", json!({"number":80}))])]}});
    r.create(ings, "default", ing("web", "/"), &user).unwrap();
    // Without the add-on's configuration nothing is reviewed. Both
    // holders share a creation time, so namespace/name orders them.
    r.create(ings, "default", ing("early", "/"), &user).unwrap();
    let vwc = addon_object("ValidatingWebhookConfiguration", "ingress-nginx-admission");
    r.create(vwcs, "", vwc, &user).unwrap();
    let e = r
        .create(ings, "default", ing("web2", "/"), &user)
        .expect_err("denied");
    assert_eq!(
        (e.code, e.reason, e.message.as_str()),
        (
            400,
            "BadRequest",
            "admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: host \"a.example.com\" and path \"/\" is already defined in ingress default/early"
        )
    );
    r.create(ings, "default", ing("other", "/other"), &user)
        .unwrap();
    // Updating an Ingress onto a taken path is denied; updating one that
    // keeps its own path is not. `web` and `early` overlap since before the
    // webhook, so neither can be updated while the other holds `/`.
    let e = r
        .update(ings, "default", "other", ing("other", "/"), None, &user)
        .expect_err("denied");
    assert!(
        e.message
            .ends_with("path \"/\" is already defined in ingress default/early"),
        "{e}"
    );
    let labelled = |name: &str, p: &str| {
        let mut i = ing(name, p);
        i["metadata"]["labels"] = json!({"tier": "web"});
        i
    };
    r.update(
        ings,
        "default",
        "other",
        labelled("other", "/other"),
        None,
        &user,
    )
    .unwrap();
    let e = r
        .update(
            ings,
            "default",
            "early",
            labelled("early", "/"),
            None,
            &user,
        )
        .expect_err("denied");
    assert!(
        e.message
            .ends_with("path \"/\" is already defined in ingress default/web"),
        "{e}"
    );
}

#[test]
fn an_unreachable_webhook_fails_closed_or_open_by_its_failure_policy() {
    use crate::api::resource;
    use crate::registry::options::WriteOptions;
    let (r, ip) = webhook_registry();
    let lookup = |g, v, p| resource::lookup(g, v, p).unwrap();
    let (vwcs, ings) = (
        lookup(
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
        ),
        lookup("networking.k8s.io", "v1", "ingresses"),
    );
    let user = WriteOptions::default();
    let ing = |name: &str| json!({"metadata":{"name":name},"spec":{"rules":[rule("a.example.com", vec![path(&format!("/{name}"), "Prefix", "web", json!({"number":80}))])]}});
    let vwc = addon_object("ValidatingWebhookConfiguration", "ingress-nginx-admission");
    r.create(vwcs, "", vwc.clone(), &user).unwrap();
    let url = "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s";
    let refused = format!(
        "Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": failed to call webhook: Post \"{url}\": dial tcp {ip}:443: connect: connection refused"
    );
    // No endpoint (controller scaled to 0), then a controller that is not
    // ready: kube-proxy rejects either way.
    for ready in [None, Some(false)] {
        if let Some(ready) = ready {
            controller_ready(&r, ready);
        }
        let e = r.create(ings, "default", ing("a"), &user).unwrap_err();
        assert_eq!(
            (e.code, e.reason, e.message.as_str()),
            (500, "InternalError", refused.as_str())
        );
    }
    // Dry run is reviewed too (sideEffects: None).
    let dry = WriteOptions {
        dry_run: true,
        ..WriteOptions::default()
    };
    let e = r.create(ings, "default", ing("a"), &dry).unwrap_err();
    assert_eq!(e.code, 500);
    // The configuration's Service gone: the resolver says so.
    let mut gone = vwc.clone();
    gone["metadata"]["name"] = json!("elsewhere");
    gone["webhooks"][0]["clientConfig"]["service"]["name"] = json!("nobody");
    gone["webhooks"][0]["timeoutSeconds"] = json!(5);
    r.delete(vwcs, "", "ingress-nginx-admission", &Default::default())
        .unwrap();
    r.create(vwcs, "", gone, &user).unwrap();
    let e = r.create(ings, "default", ing("a"), &user).unwrap_err();
    assert_eq!(
        e.message,
        "Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": failed to call webhook: Post \"https://nobody.ingress-nginx.svc:443/networking/v1/ingresses?timeout=5s\": service \"nobody\" not found"
    );
    // failurePolicy: Ignore lets the write through.
    let mut ignore = vwc.clone();
    ignore["webhooks"][0]["failurePolicy"] = json!("Ignore");
    r.delete(vwcs, "", "elsewhere", &Default::default())
        .unwrap();
    r.create(vwcs, "", ignore, &user).unwrap();
    r.create(ings, "default", ing("b"), &user).unwrap();
    // Deleting the configuration does too, and a ready controller serves.
    r.delete(vwcs, "", "ingress-nginx-admission", &Default::default())
        .unwrap();
    r.create(ings, "default", ing("c"), &user).unwrap();
    r.create(vwcs, "", vwc, &user).unwrap();
    controller_ready(&r, true);
    r.create(ings, "default", ing("d"), &user).unwrap();
}
