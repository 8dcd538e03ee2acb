//! What the well-known images do, and the behaviour a scenario declares for
//! its own images. Log lines may hold `{{time:FMT}}` placeholders (strftime)
//! that [`render`] fills with the line's absolute time.

use super::catalog::{Catalog, ImageRef, fnv};
use super::kubectl;
use super::shell::{self, Env};
use super::{
    ContainerSpec, End, Http, Network, Port, Protocol, Route, ShellKind, Sigterm, Timeline,
    expand_k8s_vars, secs,
};
pub use crate::api::image_behaviour::{AppBehaviour, PathStatus, RegistryLogin, TimedLine};
use jiff::{SignedDuration, Timestamp};

const MI: u64 = 1024 * 1024;

/// Fills `{{time:FMT}}` placeholders with `at` (UTC).
pub fn render(text: &str, at: Timestamp) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_time(rest) {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        match after.find("}}") {
            Some(j) => {
                let fmt = &after[..j];
                let z = at.to_zoned(jiff::tz::TimeZone::UTC);
                let s =
                    std::panic::catch_unwind(|| z.strftime(fmt).to_string()).unwrap_or_default();
                out.push_str(&s);
                rest = &after[j + 2..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where `{{time:` starts in `text`: found by its `{` (a `memchr`), as
/// most lines hold no brace at all and a substring search set itself up
/// for every line.
fn find_time(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = text.get(from..)?.find('{') {
        let at = from + k;
        if text[at..].starts_with("{{time:") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The StartError message runc gives when the entrypoint cannot be executed.
pub fn start_error_message(argv0: &str) -> String {
    let why = if argv0.contains('/') {
        format!("exec: \"{argv0}\": stat {argv0}: no such file or directory")
    } else {
        format!("exec: \"{argv0}\": executable file not found in $PATH")
    };
    format!(
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: {why}: unknown"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Busybox,
    Nginx,
    Httpd,
    Redis,
    Postgres,
    Mysql,
    Pause,
    Agnhost,
    Stress,
    Coredns,
    IngressNginx,
    KubeProxy,
    Kubectl,
    Curl,
    Generic,
    Declared,
}

struct Profile {
    kind: Kind,
    entrypoint: Vec<&'static str>,
    cmd: Vec<&'static str>,
    /// Program names that start the image's own behaviour.
    mains: Vec<&'static str>,
    shell: Option<ShellKind>,
    path: &'static str,
    /// Where the image keeps kubectl, for the kubectl images.
    kubectl: Option<&'static str>,
    /// The curl version when the image has `curl` on its PATH.
    curl: Option<&'static str>,
}

fn profile(r: &ImageRef, catalog: &Catalog) -> Profile {
    let alpine = r.tag_or_latest().contains("alpine");
    let debian = if alpine {
        ShellKind::Ash
    } else {
        ShellKind::Dash
    };
    let p =
        |kind, entrypoint: &[&'static str], cmd: &[&'static str], mains: &[&'static str], shell| {
            Profile {
                kind,
                entrypoint: entrypoint.to_vec(),
                cmd: cmd.to_vec(),
                mains: mains.to_vec(),
                shell,
                path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                kubectl: None,
                curl: None,
            }
        };
    // The kubectl images: bitnami's (minideb, `kubectl --help` by default),
    // the project's own (debian-base with bash, `ENTRYPOINT
    // ["/bin/kubectl"]`, build/server-image/kubectl/Dockerfile) and
    // rancher's (no shell).
    let kubectl = |entrypoint: &[&'static str], cmd: &[&'static str], bin, shell| Profile {
        kubectl: Some(bin),
        ..p(Kind::Kubectl, entrypoint, cmd, &["kubectl", bin], shell)
    };
    if let Some(d) = catalog.declared_for(r) {
        return p(
            Kind::Declared,
            &[],
            &["app"],
            &["app"],
            d.shell.then_some(ShellKind::Ash),
        );
    }
    match r.repository().as_str() {
        "docker.io/library/busybox" | "docker.io/library/alpine" | "registry.k8s.io/busybox" => {
            p(Kind::Busybox, &[], &["sh"], &[], Some(ShellKind::Ash))
        }
        // Alpine with curl; its entrypoint runs `curl "$@"` when the first
        // argument is an option or not a command on the PATH.
        "docker.io/curlimages/curl" => Profile {
            curl: Some(super::curl::version_of(r.tag_or_latest())),
            ..p(
                Kind::Curl,
                &["/entrypoint.sh"],
                &["curl"],
                &["/entrypoint.sh"],
                Some(ShellKind::Ash),
            )
        },
        "docker.io/library/nginx" => p(
            Kind::Nginx,
            &["/docker-entrypoint.sh"],
            &["nginx", "-g", "daemon off;"],
            &["/docker-entrypoint.sh", "nginx", "/usr/sbin/nginx"],
            Some(debian),
        ),
        "docker.io/library/httpd" => p(
            Kind::Httpd,
            &[],
            &["httpd-foreground"],
            &["httpd-foreground", "httpd", "/usr/local/apache2/bin/httpd"],
            Some(debian),
        ),
        "docker.io/library/redis" => p(
            Kind::Redis,
            &["docker-entrypoint.sh"],
            &["redis-server"],
            &[
                "docker-entrypoint.sh",
                "redis-server",
                "/usr/local/bin/redis-server",
            ],
            Some(debian),
        ),
        "docker.io/library/postgres" => p(
            Kind::Postgres,
            &["docker-entrypoint.sh"],
            &["postgres"],
            &["docker-entrypoint.sh", "postgres"],
            Some(debian),
        ),
        "docker.io/library/mysql" => p(
            Kind::Mysql,
            &["docker-entrypoint.sh"],
            &["mysqld"],
            &["docker-entrypoint.sh", "mysqld"],
            Some(ShellKind::Bash),
        ),
        "registry.k8s.io/pause" => p(Kind::Pause, &["/pause"], &[], &["/pause"], None),
        "registry.k8s.io/e2e-test-images/agnhost" => p(
            Kind::Agnhost,
            &["/agnhost"],
            &[],
            &["/agnhost", "agnhost"],
            Some(ShellKind::Ash),
        ),
        "docker.io/polinux/stress" => p(
            Kind::Stress,
            &[],
            &["stress", "--help"],
            &["stress", "/usr/local/bin/stress", "/usr/bin/stress"],
            Some(ShellKind::Ash),
        ),
        "registry.k8s.io/coredns/coredns" | "docker.io/coredns/coredns" => p(
            Kind::Coredns,
            &["/coredns"],
            &[],
            &["/coredns", "coredns"],
            None,
        ),
        "registry.k8s.io/ingress-nginx/controller" => p(
            Kind::IngressNginx,
            &["/usr/bin/dumb-init", "--"],
            &["/nginx-ingress-controller"],
            &["/usr/bin/dumb-init", "/nginx-ingress-controller"],
            Some(ShellKind::Ash),
        ),
        "registry.k8s.io/kube-proxy" => p(
            Kind::KubeProxy,
            &[],
            &["kube-proxy"],
            &["/usr/local/bin/kube-proxy", "kube-proxy"],
            Some(ShellKind::Dash),
        ),
        "docker.io/bitnami/kubectl" => Profile {
            path: "/opt/bitnami/kubectl/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ..kubectl(
                &["kubectl"],
                &["--help"],
                "/opt/bitnami/kubectl/bin/kubectl",
                Some(ShellKind::Dash),
            )
        },
        "registry.k8s.io/kubectl" => kubectl(
            &["/bin/kubectl"],
            &[],
            "/bin/kubectl",
            Some(ShellKind::Dash),
        ),
        "docker.io/rancher/kubectl" => kubectl(&["kubectl"], &[], "/bin/kubectl", None),
        "docker.io/kindest/kindnetd" => p(
            Kind::Generic,
            &[],
            &["/bin/kindnetd"],
            &["/bin/kindnetd", "kindnetd"],
            None,
        ),
        "docker.io/kindest/local-path-provisioner" => p(
            Kind::Generic,
            &[],
            &["local-path-provisioner"],
            &["local-path-provisioner"],
            Some(ShellKind::Ash),
        ),
        _ => p(Kind::Generic, &[], &["app"], &[], None),
    }
}

/// What `spec` does when started.
pub fn derive(spec: &ContainerSpec, catalog: &Catalog, net: &dyn Network) -> Timeline {
    let Ok(r) = ImageRef::parse(&spec.image) else {
        return Timeline::start_error(start_error_message("app"));
    };
    let prof = profile(&r, catalog);
    let mut argv: Vec<String> = if spec.command.is_empty() {
        let mut a: Vec<String> = prof.entrypoint.iter().map(|s| s.to_string()).collect();
        if spec.args.is_empty() {
            a.extend(prof.cmd.iter().map(|s| s.to_string()));
        } else {
            a.extend(spec.args.iter().cloned());
        }
        a
    } else {
        spec.command
            .iter()
            .chain(spec.args.iter())
            .cloned()
            .collect()
    };
    argv = argv.iter().map(|a| expand_k8s_vars(a, &spec.env)).collect();
    let Some(argv0) = argv.first().cloned() else {
        return Timeline::start_error(start_error_message(""));
    };
    // The shell's environment, built only for what runs through the shell
    // (the images' own programs do not read it).
    let env = || {
        let mut vars: Vec<(String, String)> = vec![
            ("PATH".into(), prof.path.into()),
            ("HOME".into(), "/root".into()),
        ];
        vars.extend(spec.env.iter().cloned());
        let mut files = spec.files.clone();
        if let Some(bin) = prof.kubectl {
            files.insert(bin.to_string(), String::new());
        }
        Env {
            kind: prof.shell.unwrap_or(ShellKind::Ash),
            vars,
            files,
            dirs: spec.mounts.clone(),
            hostname: spec.hostname.clone(),
            net,
            curl: prof.curl,
        }
    };
    let base = argv0.rsplit('/').next().unwrap_or(&argv0).to_string();
    let is_main = prof
        .mains
        .iter()
        .any(|m| *m == argv0 || m.rsplit('/').next() == Some(base.as_str()));
    let mut tl = if is_main
        || (prof.kind == Kind::Generic && !shell::is_applet(&argv0)) && prof.shell.is_none()
    {
        match prof.kind {
            Kind::Nginx => nginx(spec, &argv),
            Kind::Httpd => httpd(spec),
            Kind::Redis => redis(spec, &argv),
            Kind::Postgres => postgres(spec),
            Kind::Mysql => mysql(spec),
            Kind::Pause => Timeline::runs(),
            Kind::Agnhost => agnhost(spec, &argv),
            Kind::Stress => stress(&argv),
            Kind::Coredns => coredns(spec, &argv),
            Kind::IngressNginx => ingress_nginx(),
            Kind::KubeProxy => kube_proxy(&r, spec),
            Kind::Kubectl => kubectl_main(&argv, &env()),
            Kind::Curl => curl_entrypoint(&argv[1..], &env()),
            Kind::Declared => match catalog.declared_for(&r) {
                Some(b) => declared(spec, b, net),
                None => Timeline::runs(),
            },
            Kind::Generic | Kind::Busybox => generic(&r),
        }
    } else if prof.shell.is_some()
        && (shell::is_program(&argv0, prof.curl)
            || (argv0.contains('/') && spec.files.contains_key(&argv0)))
    {
        if (base == "bash") && prof.shell != Some(ShellKind::Bash) {
            Timeline::start_error(start_error_message(&argv0))
        } else {
            shell::run_argv(&argv, &env())
        }
    } else if prof.shell.is_some() && base == "bash" && prof.shell != Some(ShellKind::Ash) {
        let mut a = argv.clone();
        a[0] = "sh".into();
        shell::run_argv(&a, &env())
    } else {
        Timeline::start_error(start_error_message(&argv0))
    };
    if tl.shell.is_none() {
        tl.shell = prof.shell;
    }
    if let Some(bin) = prof.kubectl {
        // Part of the image: `kubectl exec ... -- kubectl` finds it.
        tl.files.insert(
            0,
            super::FileChange {
                at: SignedDuration::ZERO,
                path: bin.to_string(),
                content: Some(String::new()),
            },
        );
    }
    tl.curl = prof.curl;
    tl
}

/// The kubectl images run as `kubectl args...`: one run, its output, its
/// exit code.
fn kubectl_main(argv: &[String], env: &Env<'_>) -> Timeline {
    let vars = |k: &str| {
        env.vars
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let out = kubectl::run(
        argv.get(1..).unwrap_or(&[]),
        &kubectl::Context {
            files: &env.files,
            vars: &vars,
            net: env.net,
            at: SignedDuration::ZERO,
        },
    );
    let at = secs(0.1);
    let mut t = Timeline::exits(at, out.code);
    if out.called_api {
        t.api_at.push(SignedDuration::ZERO);
    }
    for (_, line) in out.lines {
        t.log(SignedDuration::ZERO, line);
    }
    t
}

/// curlimages/curl's `/entrypoint.sh`: `set -- curl "$@"` when the first
/// argument is an option or not a command, then `exec "$@"`.
fn curl_entrypoint(args: &[String], env: &Env<'_>) -> Timeline {
    let first = args.first().map(String::as_str).unwrap_or("");
    let is_command = !first.is_empty()
        && !first.starts_with('-')
        && (shell::is_program(first, env.curl) || env.files.contains_key(first));
    let argv: Vec<String> = if is_command {
        args.to_vec()
    } else {
        std::iter::once("curl".to_string())
            .chain(args.iter().cloned())
            .collect()
    };
    shell::run_argv(&argv, env)
}

fn daemon(memory: u64) -> Timeline {
    let mut t = Timeline::runs();
    t.memory = vec![(SignedDuration::ZERO, memory)];
    t
}

fn fail(t: &mut Timeline, at: f64, code: i32) {
    t.end = End::Exits { at: secs(at), code };
    t.ports.clear();
}

/// nginx's timestamp placeholder, as a macro so that lines starting with
/// it are joined at compile time.
macro_rules! nginx_ts {
    () => {
        "{{time:%Y/%m/%d %H:%M:%S}}"
    };
}
const NGINX_TS: &str = nginx_ts!();

/// nginx: the entrypoint's lines, then either the `[emerg]` line of a broken
/// config (exit 1) or the server on its configured ports.
fn nginx(spec: &ContainerSpec, argv: &[String]) -> Timeline {
    let mut t = daemon(12 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(0.1),
        code: 0,
    };
    let z = SignedDuration::ZERO;
    let default_conf = "/etc/nginx/conf.d/default.conf";
    if argv.first().map(String::as_str) == Some("/docker-entrypoint.sh") {
        for l in [
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
        ] {
            t.log(z, l);
        }
        if spec.files.contains_key(default_conf) {
            t.log(z, "10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)");
        } else {
            t.log(z, "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf");
            t.log(z, "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf");
        }
        for l in [
            "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
        ] {
            t.log(z, l);
        }
    }
    // Configs: the main file (if mounted) and conf.d/*.conf.
    let mut servers: Vec<NginxServer> = Vec::new();
    let mut confs: Vec<(&String, &String)> = spec
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("/etc/nginx/conf.d/") && p.ends_with(".conf"))
        .collect();
    if let Some(main) = spec.files.get_key_value("/etc/nginx/nginx.conf") {
        confs.insert(0, main);
    }
    for (path, text) in confs {
        match parse_nginx(path, text) {
            Ok(mut s) => servers.append(&mut s),
            Err(e) => {
                t.log(secs(0.01), format!("{NGINX_TS} [emerg] 1#1: {e}"));
                t.log(secs(0.01), format!("nginx: [emerg] {e}"));
                fail(&mut t, 0.01, 1);
                return t;
            }
        }
    }
    if !spec.files.contains_key(default_conf) && !spec.files.contains_key("/etc/nginx/nginx.conf") {
        servers.push(NginxServer {
            ports: vec![80],
            locations: vec![("/".into(), None)],
        });
    }
    for l in [
        concat!(
            nginx_ts!(),
            " [notice] 1#1: using the \"epoll\" event method"
        ),
        concat!(nginx_ts!(), " [notice] 1#1: nginx/1.27.5"),
        concat!(
            nginx_ts!(),
            " [notice] 1#1: built by gcc 12.2.0 (Debian 12.2.0-14+deb12u1) "
        ),
        concat!(nginx_ts!(), " [notice] 1#1: OS: Linux 6.8.0-1029-gcp"),
        concat!(
            nginx_ts!(),
            " [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576"
        ),
        concat!(nginx_ts!(), " [notice] 1#1: start worker processes"),
        concat!(nginx_ts!(), " [notice] 1#1: start worker process 29"),
    ] {
        t.log(secs(0.02), l);
    }
    let html: Vec<String> = spec
        .files
        .keys()
        .filter_map(|p| p.strip_prefix("/usr/share/nginx/html"))
        .map(str::to_string)
        .collect();
    for s in servers {
        let mut routes = Vec::new();
        for (loc, ret) in &s.locations {
            match ret {
                Some(code) => routes.push(Route::new(loc, *code, "").prefix()),
                None if loc == "/" => {
                    for h in &html {
                        routes.push(Route::new(h, 200, ""));
                    }
                    if html.is_empty() {
                        routes.push(Route::new("/", 200, NGINX_INDEX));
                        routes.push(Route::new("/index.html", 200, NGINX_INDEX));
                    } else if html.iter().any(|h| h == "/index.html") {
                        routes.push(Route::new("/", 200, ""));
                    }
                }
                None => routes.push(Route::new(loc, 200, "").prefix()),
            }
        }
        for p in s.ports {
            if !t.ports.iter().any(|x| x.port == p) {
                t.ports.push(Port::http(
                    p,
                    secs(0.02),
                    Http {
                        routes: routes.clone(),
                        default_status: 404,
                    },
                ));
            }
        }
    }
    t
}

/// The image's `/usr/share/nginx/html/index.html` (615 bytes).
pub const NGINX_INDEX: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

struct NginxServer {
    ports: Vec<u16>,
    /// (location, `return` code if any)
    locations: Vec<(String, Option<u16>)>,
}

const NGINX_DIRECTIVES: &[&str] = &[
    "http",
    "server",
    "listen",
    "server_name",
    "location",
    "root",
    "index",
    "return",
    "proxy_pass",
    "proxy_set_header",
    "proxy_http_version",
    "proxy_read_timeout",
    "proxy_connect_timeout",
    "try_files",
    "error_page",
    "access_log",
    "error_log",
    "include",
    "default_type",
    "sendfile",
    "keepalive_timeout",
    "gzip",
    "worker_processes",
    "events",
    "worker_connections",
    "pid",
    "user",
    "add_header",
    "rewrite",
    "alias",
    "upstream",
    "stub_status",
    "types",
    "log_format",
    "client_max_body_size",
    "tcp_nopush",
    "autoindex",
    "charset",
    "expires",
    "set",
    "if",
    "deny",
    "allow",
    "resolver",
    "proxy_buffering",
    "real_ip_header",
    "set_real_ip_from",
    "ssl_certificate",
    "ssl_certificate_key",
    "ssl_protocols",
    "limit_except",
    "internal",
    "server_tokens",
    "map",
    "default",
    "proxy_redirect",
    "fastcgi_pass",
    "uwsgi_pass",
    "grpc_pass",
    "absolute_redirect",
    "etag",
];

/// A small nginx config checker: the errors nginx reports for unknown
/// directives, missing `;` and unbalanced braces; plus what servers listen on.
fn parse_nginx(path: &str, text: &str) -> Result<Vec<NginxServer>, String> {
    let mut servers = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut cur: Option<NginxServer> = None;
    let mut loc: Option<String> = None;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let finish_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                finish_word(&mut word, &mut words);
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '\'' | '"' => {
                let q = c;
                i += 1;
                while i < chars.len() && chars[i] != q {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                if word.is_empty() {
                    word.push('\u{0}');
                }
            }
            ' ' | '\t' | '\r' => finish_word(&mut word, &mut words),
            ';' | '{' | '}' => {
                finish_word(&mut word, &mut words);
                if c == '}' {
                    if !words.is_empty() {
                        return Err(format!("unexpected \"}}\" in {path}:{line}"));
                    }
                    match stack.pop() {
                        None => return Err(format!("unexpected \"}}\" in {path}:{line}")),
                        Some(b) if b == "server" => {
                            if let Some(s) = cur.take() {
                                servers.push(s);
                            }
                        }
                        Some(b) if b == "location" => loc = None,
                        _ => {}
                    }
                } else {
                    let name = words.first().cloned().unwrap_or_default();
                    if name.is_empty() {
                        return Err(format!("unexpected \"{c}\" in {path}:{line}"));
                    }
                    if !NGINX_DIRECTIVES.contains(&name.as_str())
                        && !name.starts_with("proxy_")
                        && !name.starts_with("ssl_")
                        && !name.starts_with("gzip_")
                        && !name.starts_with("client_")
                        && !stack
                            .last()
                            .is_some_and(|b| b == "types" || b == "map" || b == "upstream")
                    {
                        return Err(format!(
                            "unknown directive \"{name}\" in {path}:{start_line}"
                        ));
                    }
                    if c == '{' {
                        if name == "server" && stack.last().is_none_or(|b| b == "http") {
                            cur = Some(NginxServer {
                                ports: Vec::new(),
                                locations: Vec::new(),
                            });
                        }
                        if name == "location" {
                            let l = words.last().cloned().unwrap_or_else(|| "/".into());
                            loc = Some(l.clone());
                            if let Some(s) = cur.as_mut() {
                                s.locations.push((l, None));
                            }
                        }
                        stack.push(name);
                    } else {
                        match (name.as_str(), cur.as_mut()) {
                            ("listen", Some(s)) => {
                                let v = words.get(1).cloned().unwrap_or_default();
                                let port = v.rsplit(':').next().unwrap_or(&v).parse::<u16>();
                                match port {
                                    Ok(p) => s.ports.push(p),
                                    Err(_) => {
                                        return Err(format!(
                                            "invalid port in \"{v}\" of the \"listen\" directive in {path}:{start_line}"
                                        ));
                                    }
                                }
                            }
                            ("return", Some(s)) => {
                                let code = words
                                    .get(1)
                                    .and_then(|w| w.parse::<u16>().ok())
                                    .unwrap_or(302);
                                let l = loc.clone().unwrap_or_else(|| "/".into());
                                match s.locations.iter_mut().rev().find(|(p, _)| *p == l) {
                                    Some(e) => e.1 = Some(code),
                                    None => s.locations.push((l, Some(code))),
                                }
                            }
                            _ => {}
                        }
                    }
                    words.clear();
                }
                i += 1;
                start_line = line;
                continue;
            }
            _ => {
                if words.is_empty() && word.is_empty() {
                    start_line = line;
                }
                word.push(c);
            }
        }
        i += 1;
    }
    finish_word(&mut word, &mut words);
    if !words.is_empty() {
        let name = &words[0];
        if !NGINX_DIRECTIVES.contains(&name.as_str()) {
            return Err(format!(
                "unknown directive \"{name}\" in {path}:{start_line}"
            ));
        }
        return Err(format!(
            "unexpected end of file, expecting \";\" or \"}}\" in {path}:{line}"
        ));
    }
    if !stack.is_empty() {
        return Err(format!(
            "unexpected end of file, expecting \"}}\" in {path}:{line}"
        ));
    }
    for s in &mut servers {
        if s.ports.is_empty() {
            s.ports.push(80);
        }
        if s.locations.is_empty() {
            s.locations.push(("/".into(), None));
        }
    }
    Ok(servers)
}

const HTTPD_DIRECTIVES: &[&str] = &[
    "serverroot",
    "listen",
    "loadmodule",
    "user",
    "group",
    "serveradmin",
    "servername",
    "documentroot",
    "directory",
    "directoryindex",
    "files",
    "errorlog",
    "loglevel",
    "ifmodule",
    "logformat",
    "customlog",
    "scriptalias",
    "requestheader",
    "typesconfig",
    "addtype",
    "include",
    "includeoptional",
    "options",
    "allowoverride",
    "require",
    "virtualhost",
    "alias",
    "redirect",
    "proxypass",
    "proxypassreverse",
    "location",
    "header",
    "setenvif",
    "adddefaultcharset",
    "enablesendfile",
    "keepalive",
    "timeout",
    "mimemagicfile",
    "errordocument",
    "rewriteengine",
    "rewriterule",
    "rewritecond",
    "addoutputfilter",
    "addhandler",
    "sslengine",
    "sslcertificatefile",
    "sslcertificatekeyfile",
    "pidfile",
    "startservers",
    "maxrequestworkers",
    "servertokens",
    "serversignature",
    "traceenable",
];

fn httpd(spec: &ContainerSpec) -> Timeline {
    let mut t = daemon(8 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(0.1),
        code: 0,
    };
    let conf = "/usr/local/apache2/conf/httpd.conf";
    let mut ports = vec![80u16];
    if let Some(text) = spec.files.get(conf) {
        ports.clear();
        for (n, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with("</") {
                continue;
            }
            let name = l
                .trim_start_matches('<')
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("");
            if !HTTPD_DIRECTIVES.contains(&name.to_ascii_lowercase().as_str()) {
                t.log(
                    SignedDuration::ZERO,
                    format!("AH00526: Syntax error on line {} of {conf}:", n + 1),
                );
                t.log(SignedDuration::ZERO, format!("Invalid command '{name}', perhaps misspelled or defined by a module not included in the server configuration"));
                fail(&mut t, 0.0, 1);
                return t;
            }
            if name.eq_ignore_ascii_case("listen")
                && let Some(p) = l
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.rsplit(':').next())
                    .and_then(|v| v.parse().ok())
            {
                ports.push(p);
            }
        }
    }
    let ip = if spec.pod_ip.is_empty() {
        "127.0.0.1"
    } else {
        spec.pod_ip.as_str()
    };
    let fqdn = format!(
        "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. Set the 'ServerName' directive globally to suppress this message"
    );
    t.log(SignedDuration::ZERO, fqdn.clone());
    t.log(SignedDuration::ZERO, fqdn);
    t.log(secs(0.01), "[{{time:%a %b %d %H:%M:%S%.6f %Y}}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.63 (Unix) configured -- resuming normal operations");
    t.log(secs(0.01), "[{{time:%a %b %d %H:%M:%S%.6f %Y}}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'");
    for p in ports {
        t.ports.push(Port::http(
            p,
            secs(0.01),
            Http {
                routes: vec![
                    Route::new("/", 200, "<html><body><h1>It works!</h1></body></html>"),
                    Route::new(
                        "/index.html",
                        200,
                        "<html><body><h1>It works!</h1></body></html>",
                    ),
                ],
                default_status: 404,
            },
        ));
    }
    t
}

const REDIS_TS: &str = "{{time:%d %b %Y %H:%M:%S%.3f}}";

fn redis(spec: &ContainerSpec, argv: &[String]) -> Timeline {
    let mut t = daemon(4 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(0.1),
        code: 0,
    };
    let conf = argv
        .iter()
        .skip(1)
        .find(|a| a.starts_with('/') && a.ends_with(".conf"));
    t.log(
        SignedDuration::ZERO,
        format!("1:C {REDIS_TS} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
    );
    t.log(SignedDuration::ZERO, format!("1:C {REDIS_TS} * Redis version=7.4.2, bits=64, commit=00000000, modified=0, pid=1, just started"));
    match conf {
        Some(c) if !spec.files.contains_key(c) => {
            t.log(SignedDuration::ZERO, format!("1:C {REDIS_TS} # Fatal error, can't open config file '{c}': No such file or directory"));
            fail(&mut t, 0.0, 1);
            return t;
        }
        Some(_) => t.log(SignedDuration::ZERO, format!("1:C {REDIS_TS} * Configuration loaded")),
        None => t.log(SignedDuration::ZERO, format!("1:C {REDIS_TS} # Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf")),
    }
    let port = argv
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| argv.get(i + 1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(6379u16);
    let z = secs(0.01);
    t.log(
        z,
        format!("1:M {REDIS_TS} * monotonic clock: POSIX clock_gettime"),
    );
    t.log(
        z,
        format!("1:M {REDIS_TS} * Running mode=standalone, port={port}."),
    );
    t.log(z, format!("1:M {REDIS_TS} * Server initialized"));
    t.log(
        z,
        format!("1:M {REDIS_TS} * Ready to accept connections tcp"),
    );
    t.ports.push(Port::tcp(port, z));
    t
}

fn postgres(spec: &ContainerSpec) -> Timeline {
    let mut t = daemon(40 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(0.5),
        code: 0,
    };
    let has = |k: &str| spec.env_get(k).is_some_and(|v| !v.is_empty());
    if !has("POSTGRES_PASSWORD") && spec.env_get("POSTGRES_HOST_AUTH_METHOD") != Some("trust") {
        for l in [
            "Error: Database is uninitialized and superuser password is not specified.",
            "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
            "       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".",
            "",
            "       You may also use \"POSTGRES_HOST_AUTH_METHOD=trust\" to allow all",
            "       connections without a password. This is *not* recommended.",
            "",
            "       See PostgreSQL documentation about \"trust\":",
            "       https://www.postgresql.org/docs/current/auth-trust.html",
        ] {
            t.log(SignedDuration::ZERO, l);
        }
        fail(&mut t, 0.0, 1);
        return t;
    }
    let ts = "{{time:%Y-%m-%d %H:%M:%S%.3f UTC}}";
    t.log(
        SignedDuration::ZERO,
        "The files belonging to this database system will be owned by user \"postgres\".",
    );
    t.log(
        secs(2.0),
        "PostgreSQL init process complete; ready for start up.",
    );
    t.log(secs(2.5), format!("{ts} [1] LOG:  starting PostgreSQL 17.5 (Debian 17.5-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit"));
    t.log(
        secs(2.5),
        format!("{ts} [1] LOG:  listening on IPv4 address \"0.0.0.0\", port 5432"),
    );
    t.log(
        secs(2.6),
        format!("{ts} [1] LOG:  database system is ready to accept connections"),
    );
    t.ports.push(Port::tcp(5432, secs(2.6)));
    t
}

fn mysql(spec: &ContainerSpec) -> Timeline {
    let mut t = daemon(420 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(1.0),
        code: 0,
    };
    let ts = "{{time:%Y-%m-%d %H:%M:%S+00:00}}";
    t.log(
        SignedDuration::ZERO,
        format!(
            "{ts} [Note] [Entrypoint]: Entrypoint script for MySQL Server 8.4.5-1.el9 started."
        ),
    );
    t.log(
        SignedDuration::ZERO,
        format!("{ts} [Note] [Entrypoint]: Switching to dedicated user 'mysql'"),
    );
    t.log(
        SignedDuration::ZERO,
        format!(
            "{ts} [Note] [Entrypoint]: Entrypoint script for MySQL Server 8.4.5-1.el9 started."
        ),
    );
    let has = |k: &str| spec.env_get(k).is_some_and(|v| !v.is_empty());
    if !has("MYSQL_ROOT_PASSWORD")
        && !has("MYSQL_ALLOW_EMPTY_PASSWORD")
        && !has("MYSQL_RANDOM_ROOT_PASSWORD")
    {
        t.memory = vec![(SignedDuration::ZERO, 20 * MI)];
        t.log(SignedDuration::ZERO, format!("{ts} [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified"));
        for l in [
            "    You need to specify one of the following as an environment variable:",
            "    - MYSQL_ROOT_PASSWORD",
            "    - MYSQL_ALLOW_EMPTY_PASSWORD",
            "    - MYSQL_RANDOM_ROOT_PASSWORD",
        ] {
            t.log(SignedDuration::ZERO, l);
        }
        fail(&mut t, 0.0, 1);
        return t;
    }
    t.log(
        secs(1.0),
        format!("{ts} [Note] [Entrypoint]: Initializing database files"),
    );
    t.log(
        secs(12.0),
        format!("{ts} [Note] [Entrypoint]: MySQL init process done. Ready for start up."),
    );
    t.log(secs(13.0), "{{time:%Y-%m-%dT%H:%M:%S%.6fZ}} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.4.5'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.");
    t.ports.push(Port::tcp(3306, secs(13.0)));
    t
}

/// kube-proxy (v1.33.1, as kind runs it: iptables mode, `conntrack.maxPerCore:
/// 0`, the kubeconfig kubeadm writes, `nodePortAddresses` unset) on a fresh
/// node: what `newProxyServer` and `Run` log at verbosity 0, then its four
/// config controllers' informers starting and syncing. Nothing more at
/// verbosity 0 while it runs (the iptables syncs log at V(2)). The node's
/// IP is the pod's (a host-network pod).
fn kube_proxy(r: &ImageRef, spec: &ContainerSpec) -> Timeline {
    let mut t = generic(r);
    let at = |ms: f64| secs(ms / 1000.0);
    let line = |sev: char, source: &str, msg: &str| {
        format!("{sev}{{{{time:%m%d %H:%M:%S%.6f}}}}       1 {source}] {msg}")
    };
    let ip = &spec.pod_ip;
    let startup: [(f64, char, &str, String); 9] = [
        (
            380.6,
            'I',
            "server.go:715",
            format!(r#""Successfully retrieved node IP(s)" IPs=["{ip}"]"#),
        ),
        // `setupConntrack`: kubeadm's defaults (24h, 1h) differ from a
        // fresh kernel's, so both are set (and logged).
        (
            387.4,
            'I',
            "conntrack.go:121",
            r#""Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_established" value=86400"#.into(),
        ),
        (
            387.5,
            'I',
            "conntrack.go:121",
            r#""Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_close_wait" value=3600"#.into(),
        ),
        (
            387.8,
            'E',
            "server.go:245",
            r#""Kube-proxy configuration may be incomplete or incorrect" err="nodePortAddresses is unset; NodePort connections will be accepted on all local IPs. Consider using `--nodeport-addresses primary`""#.into(),
        ),
        (
            470.1,
            'I',
            "server.go:254",
            r#""kube-proxy running in dual-stack mode" primary ipFamily="IPv4""#.into(),
        ),
        (
            470.3,
            'I',
            "server_linux.go:145",
            r#""Using iptables Proxier""#.into(),
        ),
        (
            500.9,
            'I',
            "proxier.go:243",
            r#""Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses" ipFamily="IPv4""#.into(),
        ),
        (
            502.3,
            'I',
            "server.go:516",
            r#""Version info" version="v1.33.1""#.into(),
        ),
        (
            502.5,
            'I',
            "server.go:518",
            r#""Golang settings" GOGC="" GOMAXPROCS="" GOTRACEBACK="""#.into(),
        ),
    ];
    for (ms, sev, source, msg) in startup {
        t.log(at(ms), line(sev, source, &msg));
    }
    // The config controllers, each on its own goroutine: started in this
    // order, their caches synced about 100 ms later.
    let controllers = [
        ("service config", "config.go:199", 517.6),
        ("endpoint slice config", "config.go:105", 520.3),
        ("serviceCIDR config", "config.go:440", 521.4),
        ("node config", "config.go:329", 522.8),
    ];
    for (name, source, ms) in controllers {
        t.log(
            at(ms),
            line('I', source, &format!(r#""Starting {name} controller""#)),
        );
        t.log(
            at(ms + 0.2),
            line(
                'I',
                "shared_informer.go:350",
                &format!(r#""Waiting for caches to sync" controller="{name}""#),
            ),
        );
    }
    for (i, (name, _, _)) in controllers.iter().enumerate() {
        t.log(
            at(618.5 + 1.5 * i as f64),
            line(
                'I',
                "shared_informer.go:357",
                &format!(r#""Caches are synced" controller="{name}""#),
            ),
        );
    }
    t
}

fn klog_line(msg: &str) -> String {
    format!("I{{{{time:%m%d %H:%M:%S%.6f}}}}       1 log.go:245] {msg}")
}

fn flag(argv: &[String], name: &str) -> Option<String> {
    let long = format!("--{name}=");
    argv.iter().enumerate().find_map(|(i, a)| {
        if let Some(v) = a.strip_prefix(&long) {
            Some(v.to_string())
        } else if *a == format!("--{name}") {
            argv.get(i + 1).cloned()
        } else {
            None
        }
    })
}

fn agnhost(spec: &ContainerSpec, argv: &[String]) -> Timeline {
    let mut t = daemon(10 * MI);
    t.sigterm = Sigterm::Exits {
        after: SignedDuration::ZERO,
        code: 0,
    };
    let sub = argv.get(1).map(String::as_str).unwrap_or("");
    let z = SignedDuration::ZERO;
    match sub {
        "netexec" => {
            let http = flag(argv, "http-port")
                .and_then(|p| p.parse().ok())
                .unwrap_or(8080u16);
            let udp = flag(argv, "udp-port")
                .and_then(|p| p.parse().ok())
                .unwrap_or(8081u16);
            t.log(z, klog_line(&format!("Started HTTP server on port {http}")));
            t.log(z, klog_line(&format!("Started UDP server on port  {udp}")));
            let h = spec.hostname.clone();
            let routes = vec![
                Route::new("/hostname", 200, &h),
                Route::new("/hostName", 200, &h),
                Route::new("/healthz", 200, ""),
                Route::new("/readyz", 200, ""),
                Route::new("/echo", 200, "").prefix(),
                Route::new("/clientip", 200, "").prefix(),
                Route::new("/", 200, "NOW: {{time:%Y-%m-%d %H:%M:%S%.9f +0000 UTC}}"),
            ];
            t.ports.push(Port::http(
                http,
                z,
                Http {
                    routes,
                    default_status: 404,
                },
            ));
            t.ports.push(Port {
                protocol: Protocol::Udp,
                ..Port::tcp(udp, z)
            });
        }
        "serve-hostname" => {
            let port = flag(argv, "port")
                .and_then(|p| p.parse().ok())
                .unwrap_or(9376u16);
            t.ports.push(Port::http(
                port,
                z,
                Http {
                    routes: vec![Route::new("/", 200, &spec.hostname).prefix()],
                    default_status: 200,
                },
            ));
        }
        "liveness" => {
            let mut ok = Route::new("/healthz", 200, "ok");
            ok.until = Some(secs(10.0));
            let bad = Route::new("/healthz", 500, "error");
            t.log(z, "Started HTTP server on port 8080");
            t.ports.push(Port::http(
                8080,
                z,
                Http {
                    routes: vec![ok, bad, Route::new("/", 200, "").prefix()],
                    default_status: 404,
                },
            ));
        }
        "grpc-health-checking" => {
            let port = flag(argv, "port")
                .and_then(|p| p.parse().ok())
                .unwrap_or(5000u16);
            let http = flag(argv, "http-port")
                .and_then(|p| p.parse().ok())
                .unwrap_or(8080u16);
            t.ports.push(Port {
                grpc_health: Some("SERVING".into()),
                ..Port::tcp(port, z)
            });
            t.ports.push(Port::http(
                http,
                z,
                Http {
                    routes: vec![
                        Route::new("/make-serving", 200, ""),
                        Route::new("/make-not-serving", 200, ""),
                    ],
                    default_status: 404,
                },
            ));
        }
        "pause" => {
            t.log(z, "Paused");
        }
        "" => {
            for l in ["Usage:", "  agnhost [flags]", "  agnhost [command]"] {
                t.log(z, l);
            }
            fail(&mut t, 0.0, 0);
        }
        other => {
            t.log(
                z,
                format!("Error: unknown command \"{other}\" for \"agnhost\""),
            );
            t.log(z, "Run 'agnhost --help' for usage.");
            fail(&mut t, 0.0, 1);
        }
    }
    t
}

/// `stress` byte sizes: a number with an optional B/K/M/G suffix (powers of 1024).
fn stress_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'b' | 'B' => (&s[..s.len() - 1], 1u64),
        'k' | 'K' => (&s[..s.len() - 1], 1024),
        'm' | 'M' => (&s[..s.len() - 1], MI),
        'g' | 'G' => (&s[..s.len() - 1], 1024 * MI),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().map(|n| n.saturating_mul(mult))
}

fn stress(argv: &[String]) -> Timeline {
    let mut t = daemon(MI);
    t.sigterm = Sigterm::Exits {
        after: SignedDuration::ZERO,
        code: 0,
    };
    let n = |name: &str| {
        flag(argv, name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let short = |s: &str, l: &str| {
        argv.iter()
            .position(|a| a == s)
            .and_then(|i| argv.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| n(l))
    };
    if argv.iter().any(|a| a == "--help" || a == "-?") || argv.len() == 1 {
        t.log(
            SignedDuration::ZERO,
            "`stress' imposes certain types of compute stress on your system",
        );
        fail(&mut t, 0.0, 0);
        return t;
    }
    let (cpu, io, vm, hdd) = (
        short("-c", "cpu"),
        short("-i", "io"),
        short("-m", "vm"),
        short("-d", "hdd"),
    );
    let vm_bytes = flag(argv, "vm-bytes")
        .and_then(|v| stress_bytes(&v))
        .unwrap_or(256 * MI);
    t.log(
        SignedDuration::ZERO,
        format!("stress: info: [1] dispatching hogs: {cpu} cpu, {io} io, {vm} vm, {hdd} hdd"),
    );
    t.memory
        .push((secs(1.0), MI.saturating_add(vm.saturating_mul(vm_bytes))));
    // Each cpu and vm worker spins a core.
    t.cpu_millis = cpu.saturating_add(vm).saturating_mul(1000);
    if let Some(to) = flag(argv, "timeout").or_else(|| {
        argv.iter()
            .position(|a| a == "-t")
            .and_then(|i| argv.get(i + 1).cloned())
    }) {
        let s = to.trim_end_matches('s').parse::<f64>().unwrap_or(0.0);
        t.log(
            secs(s),
            format!(
                "stress: info: [1] successful run completed in {}s",
                s as u64
            ),
        );
        t.end = End::Exits {
            at: secs(s),
            code: 0,
        };
    }
    t
}

const COREDNS_PLUGINS: &[&str] = &[
    "errors",
    "health",
    "ready",
    "kubernetes",
    "prometheus",
    "forward",
    "cache",
    "loop",
    "reload",
    "loadbalance",
    "log",
    "hosts",
    "rewrite",
    "template",
    "file",
    "auto",
    "whoami",
    "debug",
    "bind",
    "import",
    "k8s_external",
    "autopath",
    "pprof",
    "dnssec",
    "any",
    "acl",
    "minimal",
    "local",
    "root",
    "secondary",
    "etcd",
    "chaos",
    "trace",
    "metadata",
    "header",
    "timeouts",
    "view",
    "tls",
    "nsid",
    "cancel",
    "erratic",
    "sign",
];

fn coredns(spec: &ContainerSpec, argv: &[String]) -> Timeline {
    let mut t = daemon(16 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(5.0),
        code: 0,
    };
    let conf = flag(argv, "conf")
        .or_else(|| {
            argv.iter()
                .position(|a| a == "-conf")
                .and_then(|i| argv.get(i + 1).cloned())
        })
        .unwrap_or_else(|| "Corefile".into());
    let path = if conf.starts_with('/') {
        conf.clone()
    } else {
        format!("/{conf}")
    };
    let z = SignedDuration::ZERO;
    // coremain/run.go: automaxprocs reports first (kind's CoreDNS has no
    // CPU limit; the nodes have 8 CPUs), then the Corefile is loaded and
    // parsed; a failure is `mustLogFatal(err)` (log flags 0, exit 1).
    t.log(z, "maxprocs: Leaving GOMAXPROCS=8: CPU quota undefined");
    let has_conf = flag(argv, "conf").is_some() || argv.iter().any(|a| a == "-conf");
    let text = match spec.files.get(&path) {
        Some(text) => text.clone(),
        // caddy's loadCaddyfileInput wraps the -conf loader's error.
        None if has_conf => {
            t.log(
                z,
                format!("loading Caddyfile via flag: open {conf}: no such file or directory"),
            );
            fail(&mut t, 0.0, 1);
            return t;
        }
        // No -conf and no ./Corefile: CoreDNS serves its default config.
        None => String::new(),
    };
    if let Err(e) = super::corefile::check(&conf, &text, COREDNS_PLUGINS) {
        t.log(z, e);
        fail(&mut t, 0.0, 1);
        return t;
    }
    t.log(z, ".:53");
    t.log(
        z,
        format!(
            "[INFO] plugin/reload: Running configuration SHA512 = {:016x}{:016x}",
            fnv(&text, 1),
            fnv(&text, 2)
        ),
    );
    t.log(z, "CoreDNS-1.12.0");
    t.log(z, "linux/amd64, go1.23.3, 51e11f1");
    t.ports.push(Port::tcp(53, z));
    t.ports.push(Port {
        protocol: Protocol::Udp,
        ..Port::tcp(53, z)
    });
    t.ports.push(Port::http(
        8080,
        z,
        Http {
            routes: vec![Route::new("/health", 200, "OK")],
            default_status: 404,
        },
    ));
    t.ports.push(Port::http(
        8181,
        z,
        Http {
            routes: vec![Route::new("/ready", 200, "OK")],
            default_status: 404,
        },
    ));
    t.ports.push(Port::http(
        9153,
        z,
        Http {
            routes: vec![Route::new("/metrics", 200, "")],
            default_status: 404,
        },
    ));
    t
}

fn ingress_nginx() -> Timeline {
    let mut t = daemon(90 * MI);
    t.sigterm = Sigterm::Exits {
        after: secs(1.0),
        code: 0,
    };
    t.log(
        SignedDuration::ZERO,
        "-------------------------------------------------------------------------------",
    );
    t.log(SignedDuration::ZERO, "NGINX Ingress controller");
    t.log(SignedDuration::ZERO, "  Release:       v1.12.1");
    t.log(
        SignedDuration::ZERO,
        "-------------------------------------------------------------------------------",
    );
    let up = secs(2.0);
    t.ports.push(Port::http(
        80,
        up,
        Http {
            routes: Vec::new(),
            default_status: 404,
        },
    ));
    t.ports.push(Port::http(
        443,
        up,
        Http {
            routes: Vec::new(),
            default_status: 404,
        },
    ));
    t.ports.push(Port::http(
        10254,
        up,
        Http {
            routes: vec![
                Route::new("/healthz", 200, "ok"),
                Route::new("/metrics", 200, ""),
            ],
            default_status: 404,
        },
    ));
    t.ports.push(Port::tcp(8443, up));
    t
}

fn generic(r: &ImageRef) -> Timeline {
    let mut t = daemon(20 * MI);
    let health = |paths: &[&str]| Http {
        routes: paths.iter().map(|p| Route::new(p, 200, "ok")).collect(),
        default_status: 404,
    };
    // The control plane kubeadm runs as static pods, serving the health
    // endpoints its probes ask (with what a fresh kind cluster's use,
    // roughly, for `kubectl top`).
    let mut control_plane = |ports: Vec<Port>, memory: u64, cpu_millis: u64| {
        t.ports = ports;
        t.memory = vec![(SignedDuration::ZERO, memory)];
        t.cpu_millis = cpu_millis;
    };
    match r.repository().as_str() {
        "registry.k8s.io/etcd" => control_plane(
            vec![
                Port::tcp(2379, SignedDuration::ZERO),
                Port::tcp(2380, SignedDuration::ZERO),
                Port::http(
                    2381,
                    SignedDuration::ZERO,
                    health(&["/livez", "/readyz", "/health"]),
                ),
            ],
            38 * MI,
            17,
        ),
        "registry.k8s.io/kube-apiserver" => control_plane(
            vec![Port::http(
                6443,
                SignedDuration::ZERO,
                health(&["/livez", "/readyz", "/healthz"]),
            )],
            232 * MI,
            41,
        ),
        "registry.k8s.io/kube-controller-manager" => control_plane(
            vec![Port::http(
                10257,
                SignedDuration::ZERO,
                health(&["/healthz"]),
            )],
            47 * MI,
            13,
        ),
        "registry.k8s.io/kube-scheduler" => control_plane(
            vec![Port::http(
                10259,
                SignedDuration::ZERO,
                health(&["/livez", "/readyz", "/healthz"]),
            )],
            20 * MI,
            2,
        ),
        "docker.io/kindest/kindnetd" => t.memory = vec![(SignedDuration::ZERO, 10 * MI)],
        "docker.io/kindest/local-path-provisioner" => {
            t.memory = vec![(SignedDuration::ZERO, 8 * MI)];
        }
        "registry.k8s.io/kube-proxy" => {
            t.ports.push(Port::http(
                10256,
                SignedDuration::ZERO,
                Http {
                    routes: vec![Route::new("/healthz", 200, "")],
                    default_status: 404,
                },
            ));
            // `ProxyServer.birthCry` once its informers run: an
            // events.k8s.io Event with reason Starting, action
            // StartKubeProxy and an empty note.
            t.node_event = Some(super::NodeEvent {
                component: "kube-proxy",
                reason: "Starting",
                message: "",
            });
        }
        "registry.k8s.io/metrics-server/metrics-server" => t.ports.push(Port::http(
            10250,
            secs(1.0),
            Http {
                routes: vec![
                    Route::new("/readyz", 200, "ok"),
                    Route::new("/livez", 200, "ok"),
                ],
                default_status: 404,
            },
        )),
        _ => {}
    }
    t
}

fn declared(spec: &ContainerSpec, b: &AppBehaviour, net: &dyn Network) -> Timeline {
    let mut t = daemon(b.memory_bytes);
    t.cpu_millis = b.cpu_millicores;
    t.sigterm = Sigterm::Exits {
        after: secs(0.2),
        code: 0,
    };
    let code = b.exit_code.unwrap_or(1);
    for l in &b.logs {
        t.log(secs(l.at), l.line.clone());
    }
    for name in &b.requires_env {
        if spec.env_get(name).is_none_or(str::is_empty) {
            let msg = b
                .missing_env_message
                .clone()
                .unwrap_or_else(|| "FATAL: required environment variable {name} is not set".into());
            let at = b.logs.iter().map(|l| l.at).fold(0.0, f64::max);
            t.log(secs(at), msg.replace("{name}", name));
            fail(&mut t, at, code);
            return t;
        }
    }
    for f in &b.config_files {
        if !spec.files.contains_key(f) {
            let msg = b.missing_file_message.clone().unwrap_or_else(|| {
                "FATAL: cannot read config file {path}: open {path}: no such file or directory"
                    .into()
            });
            let at = b.logs.iter().map(|l| l.at).fold(0.0, f64::max);
            t.log(secs(at), msg.replace("{path}", f));
            fail(&mut t, at, code);
            return t;
        }
    }
    let up = secs(b.startup_seconds);
    let routes: Vec<Route> = b
        .paths
        .iter()
        .map(|p| Route::new(&p.path, p.status, ""))
        .collect();
    for p in &b.ports {
        t.ports.push(Port::http(
            *p,
            up,
            Http {
                routes: routes.clone(),
                default_status: 404,
            },
        ));
    }
    for p in &b.grpc_ports {
        t.ports.push(Port {
            grpc_health: Some("SERVING".into()),
            ..Port::tcp(*p, up)
        });
    }
    if let Some(after) = b.exit_after_seconds {
        t.end = End::Exits {
            at: secs(after),
            code: b.exit_code.unwrap_or(0),
        };
    }
    api_calls(spec, b, net, &mut t);
    t
}

const GO_LOG_TIME: &str = "{{time:%Y/%m/%d %H:%M:%S}}";

/// A declared app's calls to the API server, made as client-go makes them
/// with the in-cluster config: each answer is the API server's now (the
/// kubelet re-derives at every call, see `Timeline::api_at`).
fn api_calls(spec: &ContainerSpec, b: &AppBehaviour, net: &dyn Network, t: &mut Timeline) {
    if b.api_calls.is_empty() {
        return;
    }
    let start = secs(b.startup_seconds);
    let sa = kubectl::SA_DIR;
    let Some(token) = spec.files.get(&format!("{sa}/token")) else {
        // rest.InClusterConfig cannot read the token: the app gives up.
        t.log(
            start,
            format!("{GO_LOG_TIME} failed to load in-cluster config: open {sa}/token: no such file or directory"),
        );
        fail(t, b.startup_seconds, b.exit_code.unwrap_or(1));
        return;
    };
    let own_ns = spec
        .files
        .get(&format!("{sa}/namespace"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "default".into());
    let host = spec
        .env_get("KUBERNETES_SERVICE_HOST")
        .unwrap_or("10.96.0.1");
    let port = spec.env_get("KUBERNETES_SERVICE_PORT").unwrap_or("443");
    // (offset, line, failed) of the first round; calls with a period repeat.
    let mut once: Vec<(SignedDuration, String, bool)> = Vec::new();
    let mut repeated: Vec<(SignedDuration, SignedDuration, String, bool)> = Vec::new();
    for c in &b.api_calls {
        let info = kubectl::resolve(&c.resource);
        let (group, resource, namespaced) = match info {
            Some(i) => (i.group.to_string(), i.plural.to_string(), i.namespaced),
            None => (String::new(), c.resource.clone(), true),
        };
        let name = c.name.clone().unwrap_or_default();
        let verb = match c.verb.as_str() {
            "" if name.is_empty() => "list".to_string(),
            "" => "get".to_string(),
            v => v.to_string(),
        };
        let namespace = match &c.namespace {
            _ if !namespaced => String::new(),
            Some(ns) => ns.clone(),
            None => own_ns.clone(),
        };
        let call = super::ApiCall {
            token: token.trim().to_string(),
            verb: verb.clone(),
            group: group.clone(),
            resource: resource.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            label_selector: c.label_selector.clone().unwrap_or_default(),
            review: false,
        };
        let path = api_path(
            &group,
            info.map_or("v1", |i| i.version),
            &resource,
            &namespace,
            &name,
        );
        let fill = |tmpl: &str, count: usize, error: &str| {
            tmpl.replace("{verb}", &verb)
                .replace("{resource}", &resource)
                .replace("{namespace}", &namespace)
                .replace("{count}", &count.to_string())
                .replace("{error}", error)
        };
        let error_tmpl = c
            .error_log
            .clone()
            .unwrap_or_else(|| format!("{GO_LOG_TIME} failed to {{verb}} {{resource}}: {{error}}"));
        let (line, failed) = match net.api(&call, start) {
            super::ApiReply::Table { rows, .. } => {
                let tmpl = c.success_log.clone().unwrap_or_else(|| {
                    if name.is_empty() {
                        format!("{GO_LOG_TIME} {{verb}} {{resource}}: {{count}} items")
                    } else {
                        format!("{GO_LOG_TIME} {{verb}} {{resource}} {name}: ok")
                    }
                });
                (fill(&tmpl, rows.len(), ""), false)
            }
            super::ApiReply::Review { .. } => (fill(&error_tmpl, 0, ""), false),
            super::ApiReply::Forbidden(m)
            | super::ApiReply::NotFound(m)
            | super::ApiReply::BadRequest(m) => (fill(&error_tmpl, 0, &m), true),
            super::ApiReply::Unauthorized => (fill(&error_tmpl, 0, "Unauthorized"), true),
            super::ApiReply::Unreachable => (
                fill(
                    &error_tmpl,
                    0,
                    &format!(
                        "Get \"https://{host}:{port}{path}\": dial tcp {host}:{port}: i/o timeout"
                    ),
                ),
                true,
            ),
        };
        match c.every {
            Some(e) => repeated.push((start, secs(e.0), line, failed)),
            None => once.push((start, line, failed)),
        }
    }
    let code = b.exit_code.unwrap_or(1);
    let first_failure = once
        .iter()
        .map(|(at, _, f)| (*at, *f))
        .chain(repeated.iter().map(|(at, _, _, f)| (*at, *f)))
        .find(|(_, f)| *f);
    t.api_at.push(start);
    if b.exit_on_error && first_failure.is_some() {
        // The first round fails: the app logs why and exits.
        for (at, line, _) in &once {
            t.log(*at, line.clone());
        }
        for (at, _, line, _) in &repeated {
            t.log(*at, line.clone());
        }
        fail(t, b.startup_seconds, code);
        return;
    }
    for (at, line, _) in &once {
        t.log(*at, line.clone());
    }
    // Calls on one period repeat together; the shortest period leads.
    if let Some(period) = repeated
        .iter()
        .map(|r| r.1)
        .filter(|p| p.is_positive())
        .min()
    {
        t.repeat = Some(super::Repeat {
            from: start,
            period,
            lines: repeated
                .iter()
                .map(|(_, _, line, _)| super::LogLine {
                    at: SignedDuration::ZERO,
                    text: line.clone(),
                })
                .collect(),
        });
        t.api_repeat = vec![SignedDuration::ZERO];
    }
}

/// The REST path of a request, as client-go's errors quote it.
fn api_path(group: &str, version: &str, resource: &str, ns: &str, name: &str) -> String {
    let mut p = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    if !ns.is_empty() {
        p.push_str(&format!("/namespaces/{ns}"));
    }
    p.push('/');
    p.push_str(resource);
    if !name.is_empty() {
        p.push('/');
        p.push_str(name);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::super::NoNetwork;
    use super::*;
    use std::collections::BTreeMap;

    fn spec(image: &str) -> ContainerSpec {
        ContainerSpec {
            name: "c".into(),
            image: image.into(),
            hostname: "pod-1".into(),
            pod_ip: "10.244.1.2".into(),
            ..Default::default()
        }
    }
    fn run(s: &ContainerSpec) -> Timeline {
        derive(s, &Catalog::default(), &NoNetwork)
    }
    fn texts(t: &Timeline) -> Vec<String> {
        t.logs.iter().map(|l| l.text.clone()).collect()
    }

    #[test]
    fn busybox_without_command_exits_zero_immediately() {
        assert_eq!(
            run(&spec("busybox:1.36")).end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 0
            }
        );
    }

    #[test]
    fn a_missing_binary_is_a_start_error() {
        let mut s = spec("busybox");
        s.command = vec!["/bin/bash".into(), "-c".into(), "echo hi".into()];
        assert_eq!(
            run(&s).end,
            End::StartError { message: "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: \"/bin/bash\": stat /bin/bash: no such file or directory: unknown".into() }
        );
        s.command = vec!["pyhton".into()];
        assert!(
            matches!(run(&s).end, End::StartError { message } if message.contains("exec: \"pyhton\": executable file not found in $PATH: unknown"))
        );
    }

    #[test]
    fn nginx_serves_port_80_and_dies_on_a_broken_config() {
        let t = run(&spec("nginx:1.27"));
        assert_eq!(t.end, End::Runs);
        let p = t.port_at(80, Protocol::Tcp, secs(1.0)).expect("port 80");
        assert_eq!(
            p.http.as_ref().map(|h| h.answer("/", secs(1.0)).0),
            Some(200)
        );
        assert_eq!(
            p.http.as_ref().map(|h| h.answer("/healthz", secs(1.0)).0),
            Some(404)
        );
        let mut s = spec("nginx:1.27");
        s.files.insert(
            "/etc/nginx/conf.d/default.conf".into(),
            "server {\n  listen 8080;\n  servr_name x;\n}\n".into(),
        );
        let t = run(&s);
        assert_eq!(
            t.end,
            End::Exits {
                at: secs(0.01),
                code: 1
            }
        );
        assert_eq!(
            texts(&t).last().map(String::as_str),
            Some(
                "nginx: [emerg] unknown directive \"servr_name\" in /etc/nginx/conf.d/default.conf:3"
            )
        );
        s.files.insert(
            "/etc/nginx/conf.d/default.conf".into(),
            "server {\n  listen 8080;\n  location /healthz { return 200 'ok'; }\n}\n".into(),
        );
        let t = run(&s);
        let h = t
            .port_at(8080, Protocol::Tcp, secs(1.0))
            .and_then(|p| p.http.clone())
            .expect("8080");
        assert_eq!(h.answer("/healthz", secs(1.0)).0, 200);
        assert!(t.port_at(80, Protocol::Tcp, secs(1.0)).is_none());
    }

    #[test]
    fn postgres_and_mysql_need_their_passwords() {
        let t = run(&spec("postgres:16"));
        assert_eq!(
            texts(&t)[0],
            "Error: Database is uninitialized and superuser password is not specified."
        );
        assert!(matches!(t.end, End::Exits { code: 1, .. }));
        let mut s = spec("postgres:16");
        s.env.push(("POSTGRES_PASSWORD".into(), "pw".into()));
        assert!(run(&s).port_at(5432, Protocol::Tcp, secs(3.0)).is_some());
        let t = run(&spec("mysql:8.4"));
        assert!(texts(&t).iter().any(|l| l.ends_with(
            "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified"
        )));
        assert!(matches!(t.end, End::Exits { code: 1, .. }));
    }

    #[test]
    fn stress_allocates_what_it_is_told() {
        let mut s = spec("polinux/stress");
        s.command = vec!["stress".into()];
        s.args = ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        let t = run(&s);
        assert_eq!(t.exceeds(100 * MI), Some(secs(1.0)));
        assert_eq!(
            texts(&t),
            ["stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd"]
        );
    }

    #[test]
    fn agnhost_liveness_turns_unhealthy_after_ten_seconds() {
        let mut s = spec("registry.k8s.io/e2e-test-images/agnhost:2.40");
        s.args = vec!["liveness".into()];
        let t = run(&s);
        let h = t
            .port_at(8080, Protocol::Tcp, secs(0.0))
            .and_then(|p| p.http.clone())
            .expect("http");
        assert_eq!(h.answer("/healthz", secs(9.0)).0, 200);
        assert_eq!(h.answer("/healthz", secs(11.0)).0, 500);
    }

    #[test]
    fn coredns_rejects_unknown_plugins() {
        let mut s = spec("registry.k8s.io/coredns/coredns:v1.12.0");
        s.args = vec!["-conf".into(), "/etc/coredns/Corefile".into()];
        s.files = BTreeMap::from([(
            "/etc/coredns/Corefile".to_string(),
            ".:53 {\n    errors\n    forwrd . /etc/resolv.conf\n}\n".to_string(),
        )]);
        let t = run(&s);
        // coremain/run.go: the automaxprocs line, then mustLogFatal's.
        assert_eq!(
            texts(&t),
            [
                "maxprocs: Leaving GOMAXPROCS=8: CPU quota undefined",
                "/etc/coredns/Corefile:3 - Error during parsing: Unknown directive 'forwrd'"
            ]
        );
        s.files.clear();
        assert_eq!(
            texts(&run(&s)),
            [
                "maxprocs: Leaving GOMAXPROCS=8: CPU quota undefined",
                "loading Caddyfile via flag: open /etc/coredns/Corefile: no such file or directory"
            ]
        );
    }

    #[test]
    fn declared_behaviour_requires_its_env() {
        let mut c = Catalog::default();
        c.declare(
            "registry.example.com/shop/api",
            AppBehaviour {
                ports: vec![8080],
                paths: vec![PathStatus {
                    path: "/ready".into(),
                    status: 200,
                }],
                requires_env: vec!["DB_URL".into()],
                memory_bytes: 64 * MI,
                startup_seconds: 5.0,
                ..Default::default()
            },
        );
        let s = spec("registry.example.com/shop/api:1.0");
        let t = derive(&s, &c, &NoNetwork);
        assert_eq!(
            texts(&t),
            ["FATAL: required environment variable DB_URL is not set"]
        );
        let mut s2 = s.clone();
        s2.env.push(("DB_URL".into(), "postgres://db".into()));
        let t = derive(&s2, &c, &NoNetwork);
        assert!(t.port_at(8080, Protocol::Tcp, secs(4.0)).is_none());
        assert!(t.port_at(8080, Protocol::Tcp, secs(5.0)).is_some());
    }

    #[test]
    fn time_placeholders_render() {
        let ts: Timestamp = "2025-01-02T03:04:05Z".parse().expect("ts");
        assert_eq!(
            render("{{time:%Y/%m/%d %H:%M:%S}} [notice] x", ts),
            "2025/01/02 03:04:05 [notice] x"
        );
        assert_eq!(render("{{time:", ts), "{{time:");
        // Braces that start no placeholder are text; one after them is found.
        assert_eq!(render("{a} {{x}} {", ts), "{a} {{x}} {");
        assert_eq!(render("{ {{{time:%H:%M}}} }", ts), "{ {03:04} }");
    }

    #[test]
    fn the_curl_image_runs_curl_through_its_entrypoint() {
        // No command: `curl` with no arguments.
        let t = run(&spec("curlimages/curl:8.14.1"));
        assert_eq!(
            texts(&t),
            ["curl: try 'curl --help' or 'curl --manual' for more information"]
        );
        assert_eq!(
            t.end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 2
            }
        );
        assert_eq!(t.curl, Some("8.14.1"));
        // Options as args become curl's; nothing answers here, not even
        // the cluster DNS (`NetReply::Timeout`), so the name does not
        // resolve: error 6.
        let mut s = spec("curlimages/curl");
        s.args = vec!["-sS".into(), "http://web".into()];
        let t = run(&s);
        assert_eq!(texts(&t), ["curl: (6) Could not resolve host: web"]);
        assert_eq!(
            t.end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 6
            }
        );
        // A command as args runs as itself; `curl` is on the PATH of the
        // image's shell, not of busybox's.
        s.args = vec![
            "sh".into(),
            "-c".into(),
            "curl -s http://web; echo $?".into(),
        ];
        assert_eq!(texts(&run(&s)), ["6"]);
        let mut b = spec("busybox");
        b.command = vec!["sh".into(), "-c".into(), "curl http://web".into()];
        assert_eq!(texts(&run(&b)), ["sh: curl: not found"]);
        let mut c = spec("curlimages/curl");
        c.command = vec!["curl".into(), "-s".into(), "http://web".into()];
        assert_eq!(
            run(&c).end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 6
            }
        );
    }
}
