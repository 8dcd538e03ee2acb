//! Parsing busybox `wget -S -O-` and `nslookup` output, as the real
//! busybox 1.36 and the simulator's print it.

use super::*;

/// (log, exited ok, status, body, error, addresses)
type WgetCase<'a> = (
    &'a str,
    bool,
    Option<u16>,
    &'a str,
    Option<&'a str>,
    &'a [&'a str],
);
/// (log, ok, name, addresses, error)
type NslookupCase<'a> = (
    &'a str,
    bool,
    Option<&'a str>,
    &'a [&'a str],
    Option<&'a str>,
);

const NGINX: &str = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>";

#[test]
fn wget_table() {
    // (log, exited ok) -> (status, body, error, addresses)
    let real_ok = format!(
        "Connecting to web (10.96.120.7:80)\n  HTTP/1.1 200 OK\n  Server: nginx/1.27.0\n  Content-Type: text/html\n  Connection: close\nwriting to stdout\n{NGINX}\n\r-                    100% |********************************|   615  0:00:00 ETA\nwritten to stdout\n"
    );
    let sim_ok = format!(
        "Connecting to web (10.96.120.7:80)\nwriting to stdout\n{NGINX}\nwritten to stdout\n"
    );
    let no_newline = "Connecting to api:8080 (10.96.0.20:8080)\n  HTTP/1.1 204 No Content\nwriting to stdout\nok\r-                    100% |****|     2  0:00:00 ETA\nwritten to stdout\n";
    let cases: [WgetCase; 7] = [
        (&real_ok, true, Some(200), NGINX, None, &["10.96.120.7"]),
        (&sim_ok, true, None, NGINX, None, &["10.96.120.7"]),
        (no_newline, true, Some(204), "ok", None, &["10.96.0.20"]),
        (
            "Connecting to web (10.96.120.7:80)\n  HTTP/1.1 404 Not Found\nwget: server returned error: HTTP/1.1 404 Not Found\n",
            false,
            Some(404),
            "",
            Some("wget: server returned error: HTTP/1.1 404 Not Found"),
            &["10.96.120.7"],
        ),
        (
            "Connecting to web (10.96.120.7:80)\nwget: can't connect to remote host (10.96.120.7): Connection refused\n",
            false,
            None,
            "",
            Some("wget: can't connect to remote host (10.96.120.7): Connection refused"),
            &["10.96.120.7"],
        ),
        (
            "wget: bad address 'web'\n",
            false,
            None,
            "",
            Some("wget: bad address 'web'"),
            &[],
        ),
        (
            "Connecting to web (10.96.120.7:80)\nwget: download timed out\n",
            false,
            None,
            "",
            Some("wget: download timed out"),
            &["10.96.120.7"],
        ),
    ];
    for (log, ok, status, body, error, addrs) in cases {
        let p = parse_wget(log, ok);
        assert_eq!(
            (
                p.ok,
                p.status,
                p.body.as_str(),
                p.error.as_deref(),
                p.addresses.clone()
            ),
            (
                ok,
                status,
                body,
                error,
                addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>()
            ),
            "{log}"
        );
        assert_eq!(p.output, log);
    }
}

#[test]
fn nslookup_table() {
    // log -> (ok, name, addresses, error)
    let cases: [NslookupCase; 4] = [
        (
            "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb.web.svc.cluster.local\nAddress: 10.96.120.7\n\n",
            true,
            Some("web.web.svc.cluster.local"),
            &["10.96.120.7"],
            None,
        ),
        (
            "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find nope.web.svc.cluster.local: NXDOMAIN\n\n** server can't find nope.svc.cluster.local: NXDOMAIN\n\n",
            false,
            None,
            &[],
            Some("** server can't find nope.web.svc.cluster.local: NXDOMAIN"),
        ),
        (
            ";; connection timed out; no servers could be reached\n\n",
            false,
            None,
            &[],
            Some(";; connection timed out; no servers could be reached"),
        ),
        // busybox also tries search domains: an NXDOMAIN next to an answer.
        (
            "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find kubernetes.default: NXDOMAIN\n\nName:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n\n",
            true,
            Some("kubernetes.default.svc.cluster.local"),
            &["10.96.0.1"],
            Some("** server can't find kubernetes.default: NXDOMAIN"),
        ),
    ];
    for (log, ok, name, addrs, error) in cases {
        let p = parse_nslookup(log);
        assert_eq!(
            (
                p.ok,
                p.name.as_deref(),
                p.addresses.clone(),
                p.error.as_deref()
            ),
            (
                ok,
                name,
                addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                error
            ),
            "{log}"
        );
    }
}

#[test]
fn probe_pods_are_short_lived_busybox_with_a_label() {
    let cmd = ["wget", "-S", "-O-", "-T", "5", "http://web"].map(String::from);
    let pod = probe_pod("http", "web", &cmd);
    assert_eq!(pod["metadata"]["generateName"], "kdrill-probe-");
    assert_eq!(pod["metadata"]["labels"]["kdrill.io/probe"], "http");
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    assert_eq!(pod["spec"]["containers"][0]["image"], "busybox:1.36");
    assert_eq!(pod["spec"]["containers"][0]["command"][5], "http://web");
}

#[test]
fn rhai_options_and_maps() {
    let mut m = Map::new();
    m.insert("namespace".into(), "other".into());
    m.insert("timeout".into(), Dynamic::from(0_i64));
    let o = options(&m);
    assert_eq!((o.namespace.as_deref(), o.timeout), (Some("other"), 1));
    assert_eq!(o.host, None);
    m.insert("host".into(), "shop.example.com".into());
    let o = options(&m);
    assert_eq!(o.host.as_deref(), Some("shop.example.com"));
    assert_eq!(
        wget_command("http://ingress-nginx-controller.ingress-nginx/", &o),
        [
            "wget",
            "-S",
            "-O-",
            "-T",
            "1",
            "--header",
            "Host: shop.example.com",
            "http://ingress-nginx-controller.ingress-nginx/"
        ]
    );
    assert_eq!(
        wget_command("http://web", &ProbeOptions::default()),
        ["wget", "-S", "-O-", "-T", "5", "http://web"]
    );
    let p = parse_wget("wget: bad address 'web'\n", false);
    let m = http_map(&p);
    assert!(m["status"].is_unit());
    assert_eq!(m["error"].to_string(), "wget: bad address 'web'");
}
