//! curl 8 as the `curlimages/curl` image ships it: the options labs use,
//! the request it sends (its `Host` header, `--resolve`), and what it
//! prints (`curl: (N) ...` errors, `-w` variables, `-v`, `-I`/`-i`).
//!
//! Upstream truth: curl's `lib/cf-socket.c`/`lib/connect.c`
//! (`Failed to connect to %s port %u after %ld ms: %s`, with
//! `curl_easy_strerror`, and the switch to error 28 when the kernel timed
//! the connect out), `lib/multi.c` (`Connection timed out after %ld
//! milliseconds`), `lib/hostip.c` (`Could not resolve host: %s`),
//! `lib/http.c` (`The requested URL returned error: %d`) and
//! `src/tool_operate.c` (the certificate help after error 60).
//!
//! Timeouts: a connect whose SYNs are dropped ends at the smaller of
//! `--connect-timeout` and `-m` (`Connection timed out after N
//! milliseconds`), else when the kernel gives up after 127 s (`Failed to
//! connect ... Couldn't connect to server`, exit 28 because errno is
//! ETIMEDOUT). A connection that is established but never answered ends
//! only at `-m` (`lib/multi.c`: `Operation timed out after N milliseconds
//! with 0 bytes received`); without it curl waits for ever.
//!
//! HTTPS: the server's certificate (`NetReply::Http`'s `cert`) is judged
//! as curl with OpenSSL 3 does (see `workload::tls`): the chain against
//! `--cacert` during the handshake (`SSL certificate problem: <OpenSSL's
//! text>`, no certificate shown), then the name (`SSL: no alternative
//! certificate subject name matches target hostname '<host>'`); `-k`
//! skips both and `-v` shows the `* Server certificate:` block with the
//! verify result. An HTTPS server whose certificate the simulation does
//! not know fails as self-signed.
//!
//! Not modelled: response headers beyond the status line and
//! `Content-Length` (the simulated servers only give a status and a
//! body), request bodies, the TLS handshake's own `-v` lines (ALPN,
//! `TLSv1.3 (OUT), TLS handshake, ...`, `SSL connection using ...`).

use super::shell::{split_url, status_text};
use super::tls::{self, ServerCert};
use super::wget::{Print, header_value};
use super::{NetReply, NetRequest};

/// The curl version of an image tag (`latest` is the newest listed).
pub fn version_of(tag: &str) -> &'static str {
    VERSIONS
        .iter()
        .copied()
        .find(|v| *v == tag)
        .unwrap_or(VERSIONS[0])
}

/// Versions of the curlimages/curl tags in the catalog, newest first.
pub const VERSIONS: &[&str] = &[
    "8.16.0", "8.15.0", "8.14.1", "8.13.0", "8.12.1", "8.11.1", "8.10.1",
];

const TRY: &str = "curl: try 'curl --help' or 'curl --manual' for more information";

/// Milliseconds a connect takes to be refused in the cluster.
const REFUSED_MS: u64 = 1;
/// Milliseconds until the kernel gives up a connect whose SYNs are
/// dropped (`tcp_syn_retries` 6: 1+2+4+...+64 s), before curl's own
/// 300 s connect timeout.
const KERNEL_CONNECT_TIMEOUT_MS: u64 = 127_001;

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Opts {
    pub silent: bool,
    pub show_error: bool,
    pub verbose: bool,
    pub head: bool,
    pub include: bool,
    pub output: Option<String>,
    pub remote_name: bool,
    pub write_out: Option<String>,
    pub headers: Vec<String>,
    pub insecure: bool,
    /// `--cacert FILE`.
    pub cacert: Option<String>,
    /// The content of the `--cacert` file, read by the shell (None when
    /// it cannot be read).
    pub cacert_pem: Option<String>,
    pub fail: bool,
    pub fail_with_body: bool,
    /// `-L`: follow redirects.
    pub location: bool,
    pub max_time: Option<f64>,
    pub connect_timeout: Option<f64>,
    /// `--resolve host:port:addr`.
    pub resolve: Vec<(String, u16, String)>,
    pub method: Option<String>,
    pub user_agent: Option<String>,
    pub urls: Vec<String>,
}

/// Short flags and what long option each stands for.
const SHORT_FLAGS: &[(char, &str)] = &[
    ('s', "silent"),
    ('S', "show-error"),
    ('v', "verbose"),
    ('I', "head"),
    ('i', "include"),
    ('O', "remote-name"),
    ('k', "insecure"),
    ('f', "fail"),
    ('L', "location"),
    ('4', "ipv4"),
];
/// Short options with an argument.
const SHORT_ARGS: &[(char, &str)] = &[
    ('o', "output"),
    ('w', "write-out"),
    ('H', "header"),
    ('m', "max-time"),
    ('X', "request"),
    ('d', "data"),
    ('A', "user-agent"),
];
const LONG_FLAGS: &[&str] = &[
    "silent",
    "show-error",
    "verbose",
    "head",
    "include",
    "remote-name",
    "insecure",
    "fail",
    "fail-with-body",
    "location",
    "ipv4",
    "no-progress-meter",
    "http1.1",
    "compressed",
    "no-keepalive",
];
const LONG_ARGS: &[&str] = &[
    "output",
    "write-out",
    "header",
    "max-time",
    "connect-timeout",
    "resolve",
    "request",
    "data",
    "data-raw",
    "user-agent",
    "retry",
    "url",
    "cacert",
];

/// Parses curl's arguments; `Err` holds the lines printed before exiting 2.
pub fn parse(args: &[String]) -> Result<Opts, Vec<String>> {
    if args.is_empty() {
        // `curl` alone only points at the help.
        return Err(vec![TRY.into()]);
    }
    let mut o = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if !a.starts_with('-') || a == "-" {
            o.urls.push(a.clone());
            continue;
        }
        if let Some(name) = a.strip_prefix("--") {
            if LONG_FLAGS.contains(&name) {
                set_flag(&mut o, name);
            } else if LONG_ARGS.contains(&name) {
                let Some(v) = args.get(i) else {
                    return Err(vec![
                        format!("curl: option {a}: requires parameter"),
                        TRY.into(),
                    ]);
                };
                i += 1;
                set_arg(&mut o, a, name, v)?;
            } else {
                return Err(vec![format!("curl: option {a}: is unknown"), TRY.into()]);
            }
            continue;
        }
        let chars: Vec<char> = a.chars().skip(1).collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            if let Some((_, name)) = SHORT_FLAGS.iter().find(|(l, _)| *l == c) {
                set_flag(&mut o, name);
            } else if let Some((_, name)) = SHORT_ARGS.iter().find(|(l, _)| *l == c) {
                let rest: String = chars[j..].iter().collect();
                let v = if !rest.is_empty() {
                    rest
                } else if let Some(v) = args.get(i) {
                    i += 1;
                    v.clone()
                } else {
                    return Err(vec![
                        format!("curl: option -{c}: requires parameter"),
                        TRY.into(),
                    ]);
                };
                set_arg(&mut o, &format!("-{c}"), name, &v)?;
                break;
            } else {
                return Err(vec![format!("curl: option -{c}: is unknown"), TRY.into()]);
            }
        }
    }
    if o.urls.is_empty() {
        return Err(vec!["curl: no URL specified".into(), TRY.into()]);
    }
    Ok(o)
}

fn set_flag(o: &mut Opts, name: &str) {
    match name {
        "silent" => o.silent = true,
        "show-error" => o.show_error = true,
        "verbose" => o.verbose = true,
        "head" => o.head = true,
        "include" => o.include = true,
        "remote-name" => o.remote_name = true,
        "insecure" => o.insecure = true,
        "fail" => o.fail = true,
        "fail-with-body" => o.fail_with_body = true,
        "location" => o.location = true,
        "no-progress-meter" => {}
        _ => {}
    }
}

fn set_arg(o: &mut Opts, opt: &str, name: &str, v: &str) -> Result<(), Vec<String>> {
    let bad = |what: &str| vec![format!("curl: option {opt}: {what}"), TRY.to_string()];
    let seconds = |v: &str| -> Result<f64, Vec<String>> {
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| bad("expected a proper numerical parameter"))
    };
    match name {
        "output" => o.output = Some(v.to_string()),
        "write-out" => o.write_out = Some(v.to_string()),
        "header" => o.headers.push(v.to_string()),
        "max-time" => o.max_time = Some(seconds(v)?),
        "connect-timeout" => o.connect_timeout = Some(seconds(v)?),
        "request" => o.method = Some(v.to_string()),
        "data" | "data-raw" => {
            o.method.get_or_insert_with(|| "POST".into());
        }
        "user-agent" => o.user_agent = Some(v.to_string()),
        "url" => o.urls.push(v.to_string()),
        "cacert" => o.cacert = Some(v.to_string()),
        "resolve" => {
            // `host:port:addr` (a leading `+` marks a timeout entry).
            let v = v.trim_start_matches('+');
            let mut it = v.splitn(3, ':');
            match (
                it.next(),
                it.next().and_then(|p| p.parse::<u16>().ok()),
                it.next(),
            ) {
                (Some(h), Some(p), Some(addr)) if !h.is_empty() && !addr.is_empty() => {
                    let addr = addr.trim_start_matches('[').trim_end_matches(']');
                    o.resolve.push((h.to_string(), p, addr.to_string()));
                }
                _ => return Err(bad("is badly used here")),
            }
        }
        _ => {}
    }
    Ok(())
}

/// What one curl run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub lines: Vec<Print>,
    pub status: i32,
    /// Seconds spent waiting (timeouts).
    pub waited: f64,
    pub files: Vec<(String, String)>,
    /// It waits for ever (connected, no answer, no `-m`).
    pub hangs: bool,
}

/// One transfer's outcome, for `-w`.
struct Transfer<'a> {
    code: u16,
    ip: &'a str,
    port: u16,
    url: &'a str,
    size: usize,
    exit: i32,
}

/// Expands a `-w` format.
fn write_out(fmt: &str, t: &Transfer<'_>) -> String {
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("%{")
            && let Some(end) = r.find('}')
        {
            let var = &r[..end];
            match var {
                "http_code" | "response_code" => out.push_str(&format!("{:03}", t.code)),
                "remote_ip" => out.push_str(t.ip),
                "remote_port" if !t.ip.is_empty() => out.push_str(&t.port.to_string()),
                "url_effective" | "url" => out.push_str(t.url),
                "size_download" => out.push_str(&t.size.to_string()),
                "exitcode" => out.push_str(&t.exit.to_string()),
                "time_total" | "time_connect" | "time_starttransfer" | "time_namelookup" => {
                    out.push_str("0.001000")
                }
                _ => {}
            }
            rest = &r[end + 1..];
            continue;
        }
        if let Some(r) = rest.strip_prefix('\\')
            && let Some(e) = r.chars().next()
        {
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            rest = &r[e.len_utf8()..];
            continue;
        }
        if let Some(r) = rest.strip_prefix("%%") {
            out.push('%');
            rest = r;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Runs every URL in turn; the exit status is the last transfer's.
pub fn run(o: &Opts, version: &str, call: &mut dyn FnMut(NetRequest) -> NetReply) -> Run {
    let mut r = Run {
        lines: Vec::new(),
        status: 0,
        waited: 0.0,
        files: Vec::new(),
        hangs: false,
    };
    let mut stdout = String::new();
    for url in &o.urls {
        let first_host = split_url(url).0;
        let mut next = url.clone();
        let mut followed = 0;
        r.status = loop {
            match one(o, version, &next, &first_host, call, &mut r, &mut stdout) {
                Step::Done(code) => break code,
                Step::Follow(to) => {
                    followed += 1;
                    if followed > MAX_REDIRS {
                        if o.show_error || !o.silent {
                            r.lines.push(Print::Err(format!(
                                "curl: (47) Maximum ({MAX_REDIRS}) redirects followed"
                            )));
                        }
                        break 47;
                    }
                    next = to;
                }
            }
        };
        if r.hangs {
            break;
        }
    }
    if !stdout.is_empty() {
        let s = stdout.strip_suffix('\n').unwrap_or(&stdout);
        r.lines.push(Print::Out(s.to_string()));
    }
    r
}

/// `CURL_CA_CERT_ERRORMSG` (`src/tool_operate.c`), printed after error 60.
const CA_CERT_HELP: &str = "More details here: https://curl.se/docs/sslcerts.html\n\ncurl failed to verify the legitimacy of the server and therefore could not\nestablish a secure connection to it. To learn more about this situation and\nhow to fix it, please visit the webpage mentioned above.";

/// What the TLS handshake and curl's checks after it gave: `-v` lines,
/// and the error that ends the transfer.
#[derive(Debug, Default, PartialEq)]
struct Handshake {
    verbose: Vec<String>,
    failure: Option<(i32, String)>,
}

/// curl's TLS connect with OpenSSL (`ossl_connect_step2`, then
/// `Curl_ossl_check_peer_cert`): the trust store from `--cacert`, the
/// chain checked during the handshake, then the certificate shown and its
/// name checked.
fn handshake(o: &Opts, host: &str, cert: Option<&ServerCert>) -> Handshake {
    let mut hs = Handshake::default();
    let verify = !o.insecure;
    if verify
        && let Some(path) = &o.cacert
        && o.cacert_pem.is_none()
    {
        hs.failure = Some((77, format!("error setting certificate file: {path}")));
        return hs;
    }
    if verify && let Some(path) = &o.cacert {
        hs.verbose.push(format!("*  CAfile: {path}"));
        hs.verbose.push("*  CApath: none".into());
    }
    let Some(cert) = cert else {
        if verify {
            hs.failure = Some((
                60,
                format!("SSL certificate problem: {}", tls::SELF_SIGNED.text),
            ));
        }
        return hs;
    };
    let anchors = o
        .cacert_pem
        .as_deref()
        .map(|pem| ServerCert::from_pem_file(pem, cert.seen_at))
        .unwrap_or_default();
    let chain = tls::verify_chain(cert, &anchors);
    if verify && let Err(e) = chain {
        hs.failure = Some((60, format!("SSL certificate problem: {}", e.text)));
        return hs;
    }
    hs.verbose.push("* Server certificate:".into());
    hs.verbose.push(format!("*  subject: {}", cert.subject));
    hs.verbose.push(format!(
        "*  start date: {}",
        ServerCert::asn1_time(cert.not_before)
    ));
    hs.verbose.push(format!(
        "*  expire date: {}",
        ServerCert::asn1_time(cert.not_after)
    ));
    if verify {
        match tls::verify_host(cert, host) {
            Ok(line) => hs.verbose.push(format!("* {line}")),
            Err((line, msg)) => {
                if let Some(l) = line {
                    hs.verbose.push(format!("* {l}"));
                }
                hs.failure = Some((60, msg));
                return hs;
            }
        }
    }
    hs.verbose.push(format!("*  issuer: {}", cert.issuer));
    hs.verbose.push(match chain {
        Ok(()) => "*  SSL certificate verify ok.".into(),
        Err(e) => format!(
            "*  SSL certificate verify result: {} ({}), continuing anyway.",
            e.text, e.code
        ),
    });
    hs
}

/// How one request ended.
enum Step {
    /// The transfer is over with this exit code.
    Done(i32),
    /// `-L`: request this URL next.
    Follow(String),
}

/// curl's default `--max-redirs`.
const MAX_REDIRS: u32 = 50;

fn one(
    o: &Opts,
    version: &str,
    url: &str,
    first_host: &str,
    call: &mut dyn FnMut(NetRequest) -> NetReply,
    r: &mut Run,
    stdout: &mut String,
) -> Step {
    let https = url.starts_with("https://");
    let (host, port, path) = split_url(url);
    let shown_url = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let shown_url = if path == "/" && !shown_url.ends_with('/') {
        format!("{shown_url}/")
    } else {
        shown_url
    };
    let default_port = if https { 443 } else { 80 };
    // A custom Host goes only to the host of the first URL (`http.c`:
    // not when following a redirect to another host).
    let custom_host =
        header_value(&o.headers, "host").filter(|_| host.eq_ignore_ascii_case(first_host));
    let host_line = custom_host.unwrap_or_else(|| {
        if port == default_port {
            host.clone()
        } else {
            format!("{host}:{port}")
        }
    });
    let target = o
        .resolve
        .iter()
        .find(|(h, p, _)| h.eq_ignore_ascii_case(&host) && *p == port)
        .map(|(_, _, a)| a.clone())
        .unwrap_or_else(|| host.clone());
    let verbose = |r: &mut Run, s: String| {
        if o.verbose {
            r.lines.push(Print::Err(s));
        }
    };
    let show_errors = !o.silent || o.show_error || o.verbose;
    let fail = |r: &mut Run, stdout: &mut String, code: i32, msg: String, t: Transfer<'_>| {
        if show_errors {
            r.lines.push(Print::Err(format!("curl: ({code}) {msg}")));
        }
        if let Some(w) = &o.write_out {
            stdout.push_str(&write_out(w, &t));
        }
        code
    };
    let reply = call(NetRequest::Http {
        host: target,
        port,
        path: path.clone(),
        host_header: Some(host_line.clone()),
    });
    let none = |code| Transfer {
        code: 0,
        ip: "",
        port,
        url: &shown_url,
        size: 0,
        exit: code,
    };
    match reply {
        NetReply::Http {
            ip,
            status,
            body,
            location,
            reason,
            cert,
        } => {
            let status_line = format!("HTTP/1.1 {}", status_text(status, reason));
            verbose(r, format!("*   Trying {ip}:{port}..."));
            verbose(r, format!("* Connected to {host} ({ip}) port {port}"));
            if https {
                let hs = handshake(o, &host, cert.as_deref());
                for l in hs.verbose {
                    verbose(r, l);
                }
                if let Some((code, msg)) = hs.failure {
                    if show_errors {
                        r.lines.push(Print::Err(format!("curl: ({code}) {msg}")));
                        if code == 60 {
                            r.lines.push(Print::Err(CA_CERT_HELP.into()));
                        }
                    }
                    if let Some(w) = &o.write_out {
                        stdout.push_str(&write_out(w, &none(code)));
                    }
                    return Step::Done(code);
                }
            }
            if o.location
                && matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(loc) = location
            {
                verbose(r, format!("< {status_line}"));
                verbose(r, format!("< Location: {loc}"));
                let scheme = if https { "https" } else { "http" };
                let next = if loc.starts_with('/') {
                    let shown = if port == default_port {
                        host.clone()
                    } else {
                        format!("{host}:{port}")
                    };
                    format!("{scheme}://{shown}{loc}")
                } else {
                    loc
                };
                verbose(r, format!("* Issue another request to this URL: '{next}'"));
                return Step::Follow(next);
            }
            let method = o
                .method
                .clone()
                .unwrap_or_else(|| if o.head { "HEAD" } else { "GET" }.into());
            verbose(r, format!("> {method} {path} HTTP/1.1"));
            verbose(r, format!("> Host: {host_line}"));
            let ua = o
                .user_agent
                .clone()
                .unwrap_or_else(|| format!("curl/{version}"));
            verbose(r, format!("> User-Agent: {ua}"));
            verbose(r, "> Accept: */*".into());
            for h in o
                .headers
                .iter()
                .filter(|h| !h.to_ascii_lowercase().starts_with("host:"))
            {
                verbose(r, format!("> {h}"));
            }
            verbose(r, "> ".into());
            let headers = [
                status_line.clone(),
                format!("Content-Length: {}", body.len()),
            ];
            for h in &headers {
                verbose(r, format!("< {h}"));
            }
            verbose(r, "< ".into());
            let t = Transfer {
                code: status,
                ip: &ip,
                port,
                url: &shown_url,
                size: if o.head { 0 } else { body.len() },
                exit: 0,
            };
            if (o.fail || o.fail_with_body) && status >= 400 {
                if o.fail_with_body {
                    stdout.push_str(&body);
                }
                verbose(r, "* shutting down connection #0".into());
                return Step::Done(fail(
                    r,
                    stdout,
                    22,
                    format!("The requested URL returned error: {status}"),
                    Transfer { exit: 22, ..t },
                ));
            }
            let mut doc = String::new();
            if o.head || o.include {
                for h in &headers {
                    doc.push_str(h);
                    doc.push_str("\r\n");
                }
                doc.push_str("\r\n");
            }
            if !o.head {
                doc.push_str(&body);
            }
            let file = o.output.clone().or_else(|| {
                o.remote_name.then(|| {
                    let last = path.rsplit('/').next().unwrap_or("");
                    last.split('?').next().unwrap_or("").to_string()
                })
            });
            match file.as_deref() {
                None | Some("-") => stdout.push_str(&doc),
                Some("/dev/null") => {}
                Some(f) => r.files.push((f.to_string(), doc)),
            }
            verbose(r, format!("* Connection #0 to host {host} left intact"));
            if let Some(w) = &o.write_out {
                stdout.push_str(&write_out(w, &t));
            }
            Step::Done(0)
        }
        NetReply::Refused { ip } => {
            verbose(r, format!("*   Trying {ip}:{port}..."));
            Step::Done(fail(
                r,
                stdout,
                7,
                format!(
                    "Failed to connect to {host} port {port} after {REFUSED_MS} ms: Couldn't connect to server"
                ),
                none(7),
            ))
        }
        NetReply::Dropped { ip } => {
            verbose(r, format!("*   Trying {ip}:{port}..."));
            let limit = match (o.connect_timeout, o.max_time) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let msg = match limit {
                Some(s) if s > 0.0 && s * 1000.0 < KERNEL_CONNECT_TIMEOUT_MS as f64 => {
                    r.waited += s;
                    format!(
                        "Connection timed out after {} milliseconds",
                        (s * 1000.0) as u64 + 1
                    )
                }
                _ => {
                    r.waited += KERNEL_CONNECT_TIMEOUT_MS as f64 / 1000.0;
                    format!(
                        "Failed to connect to {host} port {port} after {KERNEL_CONNECT_TIMEOUT_MS} ms: Couldn't connect to server"
                    )
                }
            };
            Step::Done(fail(r, stdout, 28, msg, none(28)))
        }
        NetReply::Unanswered { ip } => {
            verbose(r, format!("*   Trying {ip}:{port}..."));
            verbose(r, format!("* Connected to {host} ({ip}) port {port}"));
            match o.max_time.filter(|s| *s > 0.0) {
                Some(s) => {
                    r.waited += s;
                    let msg = format!(
                        "Operation timed out after {} milliseconds with 0 bytes received",
                        (s * 1000.0) as u64 + 1
                    );
                    let t = Transfer {
                        ip: &ip,
                        ..none(28)
                    };
                    Step::Done(fail(r, stdout, 28, msg, t))
                }
                None => {
                    r.hangs = true;
                    Step::Done(0)
                }
            }
        }
        // A lookup that times out fails as one that finds nothing.
        NetReply::BadAddress
        | NetReply::Timeout
        | NetReply::NxDomain
        | NetReply::Dns { .. }
        | NetReply::Open { .. } => Step::Done(fail(
            r,
            stdout,
            6,
            format!("Could not resolve host: {host}"),
            none(6),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn ok(status: u16, body: &str) -> impl FnMut(NetRequest) -> NetReply {
        let body = body.to_string();
        move |_| NetReply::Http {
            ip: "10.96.0.20".into(),
            status,
            body: body.clone(),
            location: None,
            reason: None,
            cert: None,
        }
    }

    fn go(argv: &[&str], call: &mut dyn FnMut(NetRequest) -> NetReply) -> Run {
        let o = parse(&args(argv)).expect("valid");
        run(&o, "8.16.0", call)
    }

    #[test]
    fn host_header_and_resolve_shape_the_request() {
        let mut seen = Vec::new();
        let o = parse(&args(&[
            "-s",
            "-H",
            "Host: shop.example.com",
            "http://ingress-nginx-controller.ingress-nginx/cart",
        ]))
        .expect("valid");
        run(&o, "8.16.0", &mut |req| {
            seen.push(req);
            NetReply::Timeout
        });
        let o = parse(&args(&[
            "--resolve",
            "shop.example.com:443:10.96.0.20",
            "-k",
            "https://shop.example.com/",
        ]))
        .expect("valid");
        run(&o, "8.16.0", &mut |req| {
            seen.push(req);
            NetReply::Timeout
        });
        let o = parse(&args(&["web:8080"])).expect("valid");
        run(&o, "8.16.0", &mut |req| {
            seen.push(req);
            NetReply::Timeout
        });
        let http = |host: &str, port, path: &str, hh: &str| NetRequest::Http {
            host: host.into(),
            port,
            path: path.into(),
            host_header: Some(hh.into()),
        };
        assert_eq!(
            seen,
            [
                http(
                    "ingress-nginx-controller.ingress-nginx",
                    80,
                    "/cart",
                    "shop.example.com"
                ),
                http("10.96.0.20", 443, "/", "shop.example.com"),
                http("web", 8080, "/", "web:8080"),
            ]
        );
    }

    #[test]
    fn status_code_only_as_checks_use_it() {
        let r = go(
            &["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://web"],
            &mut ok(404, "<html>404</html>"),
        );
        assert_eq!(r.lines, [Print::Out("404".into())]);
        assert_eq!(r.status, 0);
        let r = go(&["-sf", "http://web"], &mut ok(503, "x"));
        assert_eq!((r.status, r.lines.len()), (22, 0));
        let r = go(&["-fsS", "http://web"], &mut ok(503, "x"));
        assert_eq!(
            r.lines,
            [Print::Err(
                "curl: (22) The requested URL returned error: 503".into()
            )]
        );
        let r = go(&["http://web"], &mut ok(200, "hello\n"));
        assert_eq!(r.lines, [Print::Out("hello".into())]);
    }

    fn dropped(_: NetRequest) -> NetReply {
        NetReply::Dropped {
            ip: "10.96.0.20".into(),
        }
    }

    fn unanswered(_: NetRequest) -> NetReply {
        NetReply::Unanswered {
            ip: "10.96.0.20".into(),
        }
    }

    #[test]
    fn connection_failures_use_curls_wording_and_codes() {
        let r = go(&["http://web"], &mut |_| NetReply::Refused {
            ip: "10.96.0.20".into(),
        });
        assert_eq!(r.status, 7);
        assert_eq!(
            r.lines,
            [Print::Err(
                "curl: (7) Failed to connect to web port 80 after 1 ms: Couldn't connect to server"
                    .into()
            )]
        );
        let r = go(&["-sS", "http://nope"], &mut |_| NetReply::BadAddress);
        assert_eq!(
            (r.status, r.lines.clone()),
            (
                6,
                vec![Print::Err("curl: (6) Could not resolve host: nope".into())]
            )
        );
        let r = go(&["--connect-timeout", "2", "http://web"], &mut dropped);
        assert_eq!((r.status, r.waited), (28, 2.0));
        assert_eq!(
            r.lines,
            [Print::Err(
                "curl: (28) Connection timed out after 2001 milliseconds".into()
            )]
        );
        let r = go(&["-s", "-w", "%{http_code}", "http://web"], &mut dropped);
        assert_eq!(r.lines, [Print::Out("000".into())]);
        assert_eq!(r.status, 28);
        // No limit: the kernel gives up on the SYNs; errno ETIMEDOUT turns
        // connect.c's error 7 into 28.
        let r = go(&["http://web:8080/"], &mut dropped);
        assert_eq!((r.status, r.waited), (28, 127.001));
        assert_eq!(
            r.lines,
            [Print::Err(
                "curl: (28) Failed to connect to web port 8080 after 127001 ms: Couldn't connect to server"
                    .into()
            )]
        );
        // Connected but never answered: only -m ends it.
        let r = go(&["-m", "3", "http://web"], &mut unanswered);
        assert_eq!((r.status, r.waited), (28, 3.0));
        assert_eq!(
            r.lines,
            [Print::Err(
                "curl: (28) Operation timed out after 3001 milliseconds with 0 bytes received"
                    .into()
            )]
        );
        let r = go(
            &["-s", "--connect-timeout", "3", "http://web"],
            &mut unanswered,
        );
        assert!(r.hangs && r.lines.is_empty());
        // A lookup that times out cannot resolve the host.
        let r = go(&["-sS", "http://web"], &mut |_| NetReply::Timeout);
        assert_eq!(
            (r.status, r.lines),
            (
                6,
                vec![Print::Err("curl: (6) Could not resolve host: web".into())]
            )
        );
        let r = go(&["https://web"], &mut ok(200, "x"));
        assert_eq!(r.status, 60);
        assert_eq!(
            r.lines[0],
            Print::Err("curl: (60) SSL certificate problem: self-signed certificate".into())
        );
    }

    #[test]
    fn head_include_and_verbose_show_the_exchange() {
        let r = go(&["-I", "http://web"], &mut ok(200, "hello"));
        assert_eq!(
            r.lines,
            [Print::Out(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r".into()
            )]
        );
        let r = go(
            &["-sv", "-H", "Host: a.example.com", "http://web/x"],
            &mut ok(200, "hi"),
        );
        let errs: Vec<&str> = r
            .lines
            .iter()
            .filter_map(|l| match l {
                Print::Err(s) => Some(s.as_str()),
                Print::Out(_) => None,
            })
            .collect();
        assert!(errs.contains(&"> GET /x HTTP/1.1"), "{errs:?}");
        assert!(errs.contains(&"> Host: a.example.com"), "{errs:?}");
        assert!(errs.contains(&"> User-Agent: curl/8.16.0"), "{errs:?}");
        assert!(errs.contains(&"< HTTP/1.1 200 OK"), "{errs:?}");
    }

    #[test]
    fn bad_command_lines_exit_2() {
        for (argv, first) in [
            (&["-s"][..], "curl: no URL specified"),
            (
                &["--bogus", "http://web"][..],
                "curl: option --bogus: is unknown",
            ),
            (&["-Z", "http://web"][..], "curl: option -Z: is unknown"),
            (
                &["http://web", "-H"][..],
                "curl: option -H: requires parameter",
            ),
            (
                &["-m", "soon", "http://web"][..],
                "curl: option -m: expected a proper numerical parameter",
            ),
        ] {
            let e = parse(&args(argv)).expect_err("invalid");
            assert_eq!(e, [first, TRY], "{argv:?}");
        }
        assert_eq!(parse(&[]).expect_err("no arguments"), [TRY]);
        assert_eq!(version_of("8.14.1"), "8.14.1");
        assert_eq!(version_of("latest"), "8.16.0");
    }

    #[test]
    fn redirects_are_shown_or_followed_with_l() {
        let mut seen = Vec::new();
        let mut call = |req: NetRequest| {
            seen.push(req.clone());
            match &req {
                NetRequest::Http { port: 80, .. } => NetReply::Http {
                    ip: "10.96.0.20".into(),
                    status: 308,
                    body: "<html>308</html>".into(),
                    location: Some("https://shop.example.com/".into()),
                    reason: None,
                    cert: None,
                },
                _ => NetReply::Http {
                    ip: "10.96.0.20".into(),
                    status: 200,
                    body: "shop".into(),
                    location: None,
                    reason: None,
                    cert: None,
                },
            }
        };
        // Without -L the 308 is the answer.
        let r = go(
            &[
                "-s",
                "-w",
                "%{http_code}",
                "-H",
                "Host: shop.example.com",
                "http://ctl/",
            ],
            &mut call,
        );
        assert_eq!(
            (r.status, r.lines.clone()),
            (0, vec![Print::Out("<html>308</html>308".into())])
        );
        // With -L (and -k for the https hop) the next URL is fetched; its
        // host is new, so curl sends its own Host.
        let r = go(
            &["-skL", "-H", "Host: shop.example.com", "http://ctl/"],
            &mut call,
        );
        assert_eq!(
            (r.status, r.lines.clone()),
            (0, vec![Print::Out("shop".into())])
        );
        assert_eq!(
            seen.last(),
            Some(&NetRequest::Http {
                host: "shop.example.com".into(),
                port: 443,
                path: "/".into(),
                host_header: Some("shop.example.com".into()),
            })
        );
        let r = go(&["-sSL", "http://web/"], &mut |_| NetReply::Http {
            ip: "10.96.0.20".into(),
            status: 302,
            body: String::new(),
            location: Some("/again".into()),
            reason: None,
            cert: None,
        });
        assert_eq!(
            (r.status, r.lines),
            (
                47,
                vec![Print::Err(
                    "curl: (47) Maximum (50) redirects followed".into()
                )]
            )
        );
    }

    fn cert(expired: bool, self_signed: bool) -> ServerCert {
        let t = |s: &str| s.parse::<jiff::Timestamp>().expect("time");
        ServerCert {
            subject: "CN=shop.example.com".into(),
            issuer: if self_signed {
                "CN=shop.example.com".into()
            } else {
                "CN=drill-ca".into()
            },
            common_name: Some("shop.example.com".into()),
            dns_names: vec!["shop.example.com".into()],
            ip_addresses: Vec::new(),
            not_before: t("2025-01-01T00:00:00Z"),
            not_after: t("2026-01-02T03:04:05Z"),
            serial: "01".into(),
            subject_key_id: None,
            authority_key_id: None,
            not_yet_valid: false,
            expired,
            seen_at: t("2026-06-01T00:00:00Z"),
        }
    }

    fn https(c: Option<ServerCert>) -> impl FnMut(NetRequest) -> NetReply {
        move |_| NetReply::Http {
            ip: "10.96.0.20".into(),
            status: 200,
            body: "shop\n".into(),
            location: None,
            reason: None,
            cert: c.clone().map(Box::new),
        }
    }

    fn errs(r: &Run) -> Vec<&str> {
        r.lines
            .iter()
            .filter_map(|l| match l {
                Print::Err(s) => Some(s.as_str()),
                Print::Out(_) => None,
            })
            .collect()
    }

    #[test]
    fn https_certificates_are_verified_as_openssl_does() {
        let url = "https://shop.example.com/";
        // Untrusted issuer: the chain fails before the date is looked at.
        let r = go(&["-s", url], &mut https(Some(cert(true, false))));
        assert_eq!((r.status, r.lines.len()), (60, 0));
        let r = go(&["-sS", url], &mut https(Some(cert(true, false))));
        assert_eq!(
            errs(&r),
            [
                "curl: (60) SSL certificate problem: unable to get local issuer certificate",
                CA_CERT_HELP
            ]
        );
        let r = go(&[url], &mut https(Some(cert(true, true))));
        assert_eq!(
            errs(&r)[0],
            "curl: (60) SSL certificate problem: self-signed certificate"
        );
        let mut o = parse(&args(&["-sS", "--cacert", "/ca/ca.crt", url])).expect("valid");
        // The file is missing.
        o.cacert_pem = None;
        let r = run(&o, "8.16.0", &mut https(Some(cert(false, false))));
        assert_eq!(
            (r.status, errs(&r)),
            (
                77,
                vec!["curl: (77) error setting certificate file: /ca/ca.crt"]
            )
        );
        // -k: the body, and -v shows the certificate and the verdict.
        let r = go(&["-skv", url], &mut https(Some(cert(true, true))));
        assert_eq!(r.status, 0);
        assert_eq!(r.lines.last(), Some(&Print::Out("shop".into())));
        let e = errs(&r);
        let at = e
            .iter()
            .position(|l| *l == "* Server certificate:")
            .expect("certificate block");
        assert_eq!(
            e[at..at + 6],
            [
                "* Server certificate:",
                "*  subject: CN=shop.example.com",
                "*  start date: Jan  1 00:00:00 2025 GMT",
                "*  expire date: Jan  2 03:04:05 2026 GMT",
                "*  issuer: CN=shop.example.com",
                "*  SSL certificate verify result: self-signed certificate (18), continuing anyway.",
            ]
        );
        // A server whose certificate is not known fails as self-signed.
        let r = go(&["-sS", url], &mut https(None));
        assert_eq!(
            errs(&r)[0],
            "curl: (60) SSL certificate problem: self-signed certificate"
        );
    }

    /// A CA's PEM and a leaf it signs for `name` valid until `until`, as
    /// the server presents it at 2026-06-01.
    fn signed(name: &str, until: (i32, u8, u8)) -> (String, ServerCert) {
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "drill-ca");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_pem = ca.self_signed(&ca_key).expect("ca").pem();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let mut leaf = rcgen::CertificateParams::new(vec![name.to_string()]).expect("params");
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = rcgen::date_time_ymd(2025, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
        let key = rcgen::KeyPair::generate().expect("key");
        let pem = leaf.signed_by(&key, &issuer).expect("leaf").pem();
        let now = "2026-06-01T00:00:00Z".parse().expect("time");
        let cert = ServerCert::from_pem_file(&pem, now)
            .pop()
            .expect("a certificate");
        (ca_pem, cert)
    }

    #[test]
    fn cacert_trusts_a_ca_then_dates_and_the_name_are_checked() {
        let url = "https://shop.example.com/";
        let with_ca = |argv: &[&str], ca: &str| {
            let mut o = parse(&args(argv)).expect("valid");
            o.cacert_pem = Some(ca.to_string());
            o
        };
        // Expired, from the trusted CA.
        let (ca, c) = signed("shop.example.com", (2026, 1, 1));
        let o = with_ca(&["-sS", "--cacert", "/ca.crt", url], &ca);
        let r = run(&o, "8.16.0", &mut https(Some(c.clone())));
        assert_eq!(
            (r.status, errs(&r)[0]),
            (
                60,
                "curl: (60) SSL certificate problem: certificate has expired"
            )
        );
        // Without --cacert the issuer is unknown.
        let r = go(&["-sS", url], &mut https(Some(c)));
        assert_eq!(
            errs(&r)[0],
            "curl: (60) SSL certificate problem: unable to get local issuer certificate"
        );
        // Valid, for another name: the block is shown, then the name fails.
        let (ca, c) = signed("ingress.local", (2027, 1, 1));
        let o = with_ca(&["-sSv", "--cacert", "/ca.crt", url], &ca);
        let r = run(&o, "8.16.0", &mut https(Some(c)));
        let e = errs(&r);
        assert_eq!(r.status, 60);
        assert!(
            e.contains(&"*  expire date: Jan  1 00:00:00 2027 GMT"),
            "{e:?}"
        );
        assert!(
            e.contains(&"*  subjectAltName does not match hostname shop.example.com"),
            "{e:?}"
        );
        assert!(e.contains(
            &"curl: (60) SSL: no alternative certificate subject name matches target hostname 'shop.example.com'"
        ), "{e:?}");
        // Valid and for the name: verified, the body comes.
        let (ca, c) = signed("shop.example.com", (2027, 1, 1));
        let o = with_ca(&["-sv", "--cacert", "/ca.crt", url], &ca);
        let r = run(&o, "8.16.0", &mut https(Some(c)));
        assert_eq!(r.status, 0);
        assert_eq!(r.lines.last(), Some(&Print::Out("shop".into())));
        let e = errs(&r);
        let at = e
            .iter()
            .position(|l| *l == "* Server certificate:")
            .expect("certificate block");
        assert_eq!(
            e[at + 4..at + 7],
            [
                "*  subjectAltName: host \"shop.example.com\" matched cert's \"shop.example.com\"",
                "*  issuer: CN=drill-ca",
                "*  SSL certificate verify ok.",
            ]
        );
    }
}
