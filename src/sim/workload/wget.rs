//! busybox `wget` (1.36/1.37, `networking/wget.c`): its options, the
//! request it sends and what it prints.
//!
//! Options follow `wget_main`'s `getopt32` string `cqSO:o:P:Y:U:T:+t:n::`
//! and long options (`--header` is a list; a user `Host:` header replaces
//! the one wget would send, matched case-insensitively at the start as
//! `wget_user_headers` does). Output goes as busybox writes it: progress
//! and errors on stderr, the document on stdout for `-O -`, else into a
//! file (`-O FILE`, or the URL's last path component, `index.html` for
//! `/`) with `saving to '...'` / `'...' saved`.
//!
//! `-S` prints every response line as read, indented by two spaces
//! (`fgets_trim_sanitize(sfp, "  %s\n")`): the status line, the headers
//! (only `Location` is modelled) and the empty line that ends them, which
//! reads as two spaces. A status other than 200-204 and the redirects
//! dies on the status line, before any header (`server returned error`).
//!
//! Timeouts: `-T` (900 s unless given, `G.timeout_seconds`) arms an alarm
//! around connect() and each read (`set_alarm`; `-T 0` arms none), which
//! dies with `download timed out`. A connect whose SYNs are dropped fails
//! first in the kernel after 127 s (`tcp_syn_retries` 6): libbb/xconnect.c's
//! `can't connect to remote host (IP): Connection timed out`. A name that
//! does not resolve is `bad address 'HOST[:PORT]'`, the host part of the
//! URL as typed (libbb/xconnect.c `str2sockaddr`).

use super::shell::{TCP_CONNECT_TIMEOUT, split_url, status_text};
use super::{NetReply, NetRequest};

/// busybox's usage text, printed on bad options or without a URL.
pub const USAGE: &str = "BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...";

/// Seconds `-T` defaults to (`G.timeout_seconds = 900`).
pub const DEFAULT_TIMEOUT: f64 = 900.0;

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    pub quiet: bool,
    /// `-S`: the response's status line (indented) on stderr.
    pub server_response: bool,
    pub spider: bool,
    /// `-O FILE` (`-` is stdout).
    pub output: Option<String>,
    /// `-P DIR`, used only without `-O`.
    pub prefix: Option<String>,
    /// `-T SEC`.
    pub timeout: f64,
    /// `--header STR`, in order.
    pub headers: Vec<String>,
    /// `--no-check-certificate`.
    pub no_check_certificate: bool,
    pub urls: Vec<String>,
}

impl Opts {
    /// The value of a user `Host:` header, if one was given.
    pub fn host_header(&self) -> Option<String> {
        header_value(&self.headers, "host")
    }
}

/// The value of the first `name:` header in `headers` (case-insensitive).
pub fn header_value(headers: &[String], name: &str) -> Option<String> {
    headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Short options taking an argument (`O:o:P:Y:U:T:t:`).
const SHORT_WITH_ARG: &str = "OoPYUTt";
/// Short flags (`cqS`).
const SHORT_FLAGS: &str = "cqS";

/// Long options: name, takes an argument, the short letter it sets (or a
/// marker for those without one).
const LONG: &[(&str, bool, char)] = &[
    ("continue", false, 'c'),
    ("quiet", false, 'q'),
    ("server-response", false, 'S'),
    ("output-document", true, 'O'),
    ("output-file", true, 'o'),
    ("directory-prefix", true, 'P'),
    ("proxy", true, 'Y'),
    ("user-agent", true, 'U'),
    ("timeout", true, 'T'),
    ("tries", true, 't'),
    ("header", true, 'H'),
    ("post-data", true, 'D'),
    ("spider", false, 's'),
    ("no-check-certificate", false, 'k'),
    ("post-file", true, 'F'),
    ("passive-ftp", false, '-'),
    ("no-cache", false, '-'),
    ("no-verbose", false, '-'),
    ("no-clobber", false, '-'),
    ("no-host-directories", false, '-'),
    ("no-parent", false, '-'),
];

/// Parses wget's arguments; `Err` holds the lines printed before exiting 1.
pub fn parse(args: &[String]) -> Result<Opts, Vec<String>> {
    let mut o = Opts {
        quiet: false,
        server_response: false,
        spider: false,
        output: None,
        prefix: None,
        timeout: DEFAULT_TIMEOUT,
        headers: Vec::new(),
        no_check_certificate: false,
        urls: Vec::new(),
    };
    let usage = |first: Option<String>| -> Vec<String> {
        first.into_iter().chain([USAGE.to_string()]).collect()
    };
    let set = |o: &mut Opts, letter: char, val: Option<String>| -> Result<(), Vec<String>> {
        match letter {
            'q' => o.quiet = true,
            'S' => o.server_response = true,
            's' => o.spider = true,
            'k' => o.no_check_certificate = true,
            'O' => o.output = val,
            'P' => o.prefix = val,
            'H' => o.headers.extend(val),
            'T' => {
                // `T:+`: a number, else busybox dies with `invalid number`.
                let v = val.unwrap_or_default();
                o.timeout = v
                    .parse::<u32>()
                    .map(f64::from)
                    .map_err(|_| vec![format!("wget: invalid number '{v}'")])?;
            }
            _ => {}
        }
        Ok(())
    };
    let mut i = 0;
    let mut only_urls = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_urls || a == "-" || !a.starts_with('-') {
            o.urls.push(a.clone());
            continue;
        }
        if a == "--" {
            only_urls = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            // getopt_long accepts an unambiguous prefix.
            let exact = LONG.iter().find(|(n, ..)| *n == name);
            let prefixed: Vec<_> = LONG.iter().filter(|(n, ..)| n.starts_with(name)).collect();
            let Some(&(full, takes, letter)) = exact.or(match prefixed.as_slice() {
                [one] => Some(*one),
                _ => None,
            }) else {
                return Err(usage(Some(format!("wget: unrecognized option '{a}'"))));
            };
            let val = if takes {
                match inline {
                    Some(v) => Some(v),
                    None => match args.get(i) {
                        Some(v) => {
                            i += 1;
                            Some(v.clone())
                        }
                        None => {
                            return Err(usage(Some(format!(
                                "wget: option '--{full}' requires an argument"
                            ))));
                        }
                    },
                }
            } else if inline.is_some() {
                return Err(usage(Some(format!(
                    "wget: option '--{full}' doesn't allow an argument"
                ))));
            } else {
                None
            };
            set(&mut o, letter, val)?;
            continue;
        }
        let chars: Vec<char> = a.chars().skip(1).collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            if c == 'n' {
                // `n::`: an optional argument glued to it (-nv, -nc).
                break;
            }
            if SHORT_FLAGS.contains(c) {
                set(&mut o, c, None)?;
            } else if SHORT_WITH_ARG.contains(c) {
                let rest: String = chars[j..].iter().collect();
                let val = if !rest.is_empty() {
                    rest
                } else if let Some(v) = args.get(i) {
                    i += 1;
                    v.clone()
                } else {
                    return Err(usage(Some(format!(
                        "wget: option requires an argument -- '{c}'"
                    ))));
                };
                set(&mut o, c, Some(val))?;
                break;
            } else {
                return Err(usage(Some(format!("wget: invalid option -- '{c}'"))));
            }
        }
    }
    if o.urls.is_empty() {
        return Err(usage(None));
    }
    Ok(o)
}

/// A line wget prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Print {
    Out(String),
    Err(String),
}

/// What one wget run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub lines: Vec<Print>,
    pub status: i32,
    /// Seconds spent waiting (timeouts).
    pub waited: f64,
    /// Files written (path as given, content).
    pub files: Vec<(String, String)>,
    /// It waits for ever (no alarm, and nothing answers).
    pub hangs: bool,
}

/// The file a URL is saved to without `-O`.
fn file_name(path: &str, prefix: Option<&str>) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let last = path.rsplit('/').next().unwrap_or("");
    let name = if last.is_empty() { "index.html" } else { last };
    match prefix {
        Some(dir) => format!("{}/{name}", dir.trim_end_matches('/')),
        None => name.to_string(),
    }
}

/// Downloads every URL in turn, stopping at the first failure as
/// busybox does (`bb_error_msg_and_die`). Redirects (300-303, 307, 308
/// with a `Location`) are followed up to 16 times: a path on the same
/// connection, a URL through a new `Connecting to`; user headers (a
/// `Host:` among them) go with every request.
pub fn run(o: &Opts, call: &mut dyn FnMut(NetRequest) -> NetReply) -> Run {
    let mut r = Run {
        lines: Vec::new(),
        status: 0,
        waited: 0.0,
        files: Vec::new(),
        hangs: false,
    };
    let err = |r: &mut Run, s: String| r.lines.push(Print::Err(s));
    let host_header = o.host_header();
    let mut tls_noted = o.no_check_certificate;
    for url in &o.urls {
        let (mut host, mut port, mut path) = split_url(url);
        let mut https = url.starts_with("https://");
        let mut hostport = shown_host(url, &host, port);
        let mut announce = true;
        let mut redirects_left = 16;
        loop {
            let reply = call(NetRequest::Http {
                host: host.clone(),
                port,
                path: path.clone(),
                host_header: host_header.clone(),
            });
            let (ip, status, body, location, reason) = match reply {
                NetReply::Http {
                    ip,
                    status,
                    body,
                    location,
                    reason,
                    ..
                } => (ip, status, body, location, reason),
                NetReply::Refused { ip } => {
                    if !o.quiet && announce {
                        err(&mut r, format!("Connecting to {hostport} ({ip}:{port})"));
                    }
                    err(
                        &mut r,
                        format!("wget: can't connect to remote host ({ip}): Connection refused"),
                    );
                    r.status = 1;
                    return r;
                }
                NetReply::Dropped { ip } => {
                    if !o.quiet && announce {
                        err(&mut r, format!("Connecting to {hostport} ({ip}:{port})"));
                    }
                    r.status = 1;
                    // The alarm guards connect() too (`open_socket`); the
                    // kernel gives up first when -T is longer.
                    if o.timeout > 0.0 && o.timeout < TCP_CONNECT_TIMEOUT {
                        r.waited += o.timeout;
                        err(&mut r, "wget: download timed out".into());
                    } else {
                        r.waited += TCP_CONNECT_TIMEOUT;
                        err(
                            &mut r,
                            format!(
                                "wget: can't connect to remote host ({ip}): Connection timed out"
                            ),
                        );
                    }
                    return r;
                }
                NetReply::Unanswered { ip } => {
                    if !o.quiet && announce {
                        err(&mut r, format!("Connecting to {hostport} ({ip}:{port})"));
                    }
                    // The status line is read under the alarm.
                    if o.timeout > 0.0 {
                        r.waited += o.timeout;
                        err(&mut r, "wget: download timed out".into());
                        r.status = 1;
                    } else {
                        r.hangs = true;
                    }
                    return r;
                }
                // A lookup that times out fails getaddrinfo as one that
                // finds nothing.
                NetReply::BadAddress
                | NetReply::NxDomain
                | NetReply::Timeout
                | NetReply::Dns { .. }
                | NetReply::Open { .. } => {
                    err(&mut r, format!("wget: bad address '{hostport}'"));
                    r.status = 1;
                    return r;
                }
            };
            if !o.quiet && announce {
                err(&mut r, format!("Connecting to {hostport} ({ip}:{port})"));
            }
            announce = false;
            if https && !tls_noted {
                tls_noted = true;
                err(
                    &mut r,
                    "wget: note: TLS certificate validation not implemented".into(),
                );
            }
            let line = format!("HTTP/1.1 {}", status_text(status, reason));
            if o.server_response {
                err(&mut r, format!("  {line}"));
            }
            match status {
                200..=204 => {}
                300..=303 | 307 | 308 => {
                    if let Some(loc) = location {
                        // Headers are read (and shown) up to `Location`.
                        if o.server_response {
                            err(&mut r, format!("  Location: {loc}"));
                        }
                        redirects_left -= 1;
                        if redirects_left == 0 {
                            err(&mut r, "wget: too many redirections".into());
                            r.status = 1;
                            return r;
                        }
                        if loc.starts_with('/') {
                            path = loc;
                        } else {
                            (host, port, path) = split_url(&loc);
                            https = loc.starts_with("https://");
                            hostport = shown_host(&loc, &host, port);
                            announce = true;
                        }
                        continue;
                    }
                    // Without a Location the body is the document.
                }
                _ => {
                    err(&mut r, format!("wget: server returned error: {line}"));
                    r.status = 1;
                    return r;
                }
            }
            // The empty line that ends the headers.
            if o.server_response {
                err(&mut r, "  ".into());
            }
            if o.spider {
                if !o.quiet {
                    err(&mut r, "remote file exists".into());
                }
                break;
            }
            let to_stdout = o.output.as_deref() == Some("-");
            let fname = o
                .output
                .clone()
                .unwrap_or_else(|| file_name(&path, o.prefix.as_deref()));
            if !o.quiet {
                err(
                    &mut r,
                    if to_stdout {
                        "writing to stdout".into()
                    } else {
                        format!("saving to '{fname}'")
                    },
                );
            }
            if to_stdout {
                let b = body.strip_suffix('\n').unwrap_or(&body);
                if !b.is_empty() {
                    r.lines.push(Print::Out(b.to_string()));
                }
            } else {
                match r.files.iter_mut().find(|(p, _)| *p == fname) {
                    // One `-O FILE` collects every URL.
                    Some((_, content)) => content.push_str(&body),
                    None => r.files.push((fname.clone(), body)),
                }
            }
            if !o.quiet {
                err(
                    &mut r,
                    if to_stdout {
                        "written to stdout".into()
                    } else {
                        format!("'{fname}' saved")
                    },
                );
            }
            break;
        }
    }
    r
}

/// `host`, or `host:port` when the URL spelled the port out.
fn shown_host(url: &str, host: &str, port: u16) -> String {
    if url.contains(&format!("{host}:{port}")) {
        format!("{host}:{port}")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn options_parse_as_getopt32_does() {
        let o = parse(&args(&[
            "-qO-",
            "--header",
            "Host: shop.example.com",
            "-T5",
            "http://ingress-nginx-controller.ingress-nginx",
        ]))
        .expect("valid");
        assert!(o.quiet && !o.server_response);
        assert_eq!(o.output.as_deref(), Some("-"));
        assert_eq!(o.timeout, 5.0);
        assert_eq!(o.host_header().as_deref(), Some("shop.example.com"));
        assert_eq!(o.urls, ["http://ingress-nginx-controller.ingress-nginx"]);

        let o = parse(&args(&[
            "-S",
            "-O",
            "-",
            "--header=host:a.example.com",
            "--timeout",
            "2",
            "--spider",
            "-nv",
            "http://web",
        ]))
        .expect("valid");
        assert!(o.server_response && o.spider);
        assert_eq!(o.host_header().as_deref(), Some("a.example.com"));
        assert_eq!(o.timeout, 2.0);
        // Other headers are sent but do not change the Host.
        let o = parse(&args(&["--header", "X-Host: b", "http://web"])).expect("valid");
        assert_eq!(o.host_header(), None);
    }

    #[test]
    fn bad_command_lines_print_busyboxs_errors_and_usage() {
        for (argv, first) in [
            (
                &["-x", "http://web"][..],
                Some("wget: invalid option -- 'x'"),
            ),
            (
                &["--bogus", "http://web"][..],
                Some("wget: unrecognized option '--bogus'"),
            ),
            (
                &["http://web", "-O"][..],
                Some("wget: option requires an argument -- 'O'"),
            ),
            (
                &["http://web", "--header"][..],
                Some("wget: option '--header' requires an argument"),
            ),
            (
                &["-T", "x", "http://web"][..],
                Some("wget: invalid number 'x'"),
            ),
            (&["-q"][..], None),
        ] {
            let e = parse(&args(argv)).expect_err("invalid");
            assert_eq!(
                e.first().map(String::as_str),
                first.or(Some(USAGE)),
                "{argv:?}"
            );
            // A bad number dies without the usage text.
            let usage = !argv.contains(&"x");
            assert_eq!(
                e.last().map(String::as_str) == Some(USAGE),
                usage,
                "{argv:?}"
            );
        }
    }

    fn reply(status: u16, body: &str) -> impl FnMut(NetRequest) -> NetReply {
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

    #[test]
    fn the_host_header_goes_with_the_request() {
        let mut seen = Vec::new();
        let o = parse(&args(&[
            "-qO-",
            "--header",
            "Host: shop.example.com",
            "http://ctl:8080/x",
        ]))
        .expect("valid");
        run(&o, &mut |req| {
            seen.push(req);
            NetReply::Timeout
        });
        assert_eq!(
            seen,
            [NetRequest::Http {
                host: "ctl".into(),
                port: 8080,
                path: "/x".into(),
                host_header: Some("shop.example.com".into()),
            }]
        );
    }

    #[test]
    fn output_goes_to_stdout_or_a_file_with_busyboxs_messages() {
        let o = parse(&args(&["-O-", "http://web:8080/"])).expect("valid");
        let r = run(&o, &mut reply(200, "hello\n"));
        assert_eq!(
            r.lines,
            [
                Print::Err("Connecting to web:8080 (10.96.0.20:8080)".into()),
                Print::Err("writing to stdout".into()),
                Print::Out("hello".into()),
                Print::Err("written to stdout".into()),
            ]
        );
        let o = parse(&args(&["http://web/"])).expect("valid");
        let r = run(&o, &mut reply(200, "hello\n"));
        assert_eq!(r.files, [("index.html".to_string(), "hello\n".to_string())]);
        assert_eq!(r.lines[1], Print::Err("saving to 'index.html'".into()));
        assert_eq!(r.lines[2], Print::Err("'index.html' saved".into()));
        let o = parse(&args(&["-q", "-P", "/tmp", "http://web/app/data.json"])).expect("valid");
        assert_eq!(run(&o, &mut reply(200, "{}")).files[0].0, "/tmp/data.json");
    }

    #[test]
    fn failures_exit_1_with_busyboxs_lines() {
        let o = parse(&args(&["-S", "-qO-", "http://web"])).expect("valid");
        let r = run(&o, &mut reply(404, "nope"));
        assert_eq!(r.status, 1);
        assert_eq!(
            r.lines,
            [
                Print::Err("  HTTP/1.1 404 Not Found".into()),
                Print::Err("wget: server returned error: HTTP/1.1 404 Not Found".into()),
            ]
        );
        // Connected, but no answer: the -T alarm on the status line.
        let o = parse(&args(&["-T", "3", "http://web"])).expect("valid");
        let r = run(&o, &mut |_| NetReply::Unanswered {
            ip: "10.96.0.20".into(),
        });
        assert_eq!((r.status, r.waited), (1, 3.0));
        assert_eq!(
            r.lines,
            [
                Print::Err("Connecting to web (10.96.0.20:80)".into()),
                Print::Err("wget: download timed out".into())
            ]
        );
        let r = run(&o, &mut |_| NetReply::Refused {
            ip: "10.96.0.20".into(),
        });
        assert_eq!(
            r.lines[1],
            Print::Err(
                "wget: can't connect to remote host (10.96.0.20): Connection refused".into()
            )
        );
        let r = run(&o, &mut |_| NetReply::BadAddress);
        assert_eq!(r.lines, [Print::Err("wget: bad address 'web'".into())]);
    }

    /// ingress-nginx's ssl-redirect: 308 to https on the rule's host, which
    /// the cluster's DNS does not know.
    fn redirecting(seen: &mut Vec<NetRequest>) -> impl FnMut(NetRequest) -> NetReply + '_ {
        move |req| {
            seen.push(req.clone());
            match &req {
                NetRequest::Http { host, .. } if host == "ctl" => NetReply::Http {
                    ip: "10.96.0.20".into(),
                    status: 308,
                    body: "moved".into(),
                    location: Some("https://shop.example.com/cart".into()),
                    reason: None,
                    cert: None,
                },
                _ => NetReply::BadAddress,
            }
        }
    }

    #[test]
    fn redirects_are_followed_with_the_user_headers() {
        let mut seen = Vec::new();
        let o = parse(&args(&[
            "-S",
            "-O-",
            "--header",
            "Host: shop.example.com",
            "http://ctl/cart",
        ]))
        .expect("valid");
        let r = run(&o, &mut redirecting(&mut seen));
        assert_eq!(
            r.lines,
            [
                Print::Err("Connecting to ctl (10.96.0.20:80)".into()),
                Print::Err("  HTTP/1.1 308 Permanent Redirect".into()),
                Print::Err("  Location: https://shop.example.com/cart".into()),
                Print::Err("wget: bad address 'shop.example.com'".into()),
            ]
        );
        assert_eq!(r.status, 1);
        assert_eq!(
            seen[1],
            NetRequest::Http {
                host: "shop.example.com".into(),
                port: 443,
                path: "/cart".into(),
                host_header: Some("shop.example.com".into()),
            }
        );
        // Over https busybox notes once that it does not verify.
        let o = parse(&args(&["-qO-", "https://web/"])).expect("valid");
        let r = run(&o, &mut reply(200, "ok"));
        assert_eq!(
            r.lines,
            [
                Print::Err("wget: note: TLS certificate validation not implemented".into()),
                Print::Out("ok".into()),
            ]
        );
        let o = parse(&args(&["-qO-", "--no-check-certificate", "https://web/"])).expect("valid");
        assert_eq!(
            run(&o, &mut reply(200, "ok")).lines,
            [Print::Out("ok".into())]
        );
        // A redirect loop ends after 16 requests.
        let mut n = 0;
        let o = parse(&args(&["-qO-", "http://web/"])).expect("valid");
        let r = run(&o, &mut |_| {
            n += 1;
            NetReply::Http {
                ip: "10.96.0.20".into(),
                status: 301,
                body: String::new(),
                location: Some("/again".into()),
                reason: None,
                cert: None,
            }
        });
        assert_eq!(r.lines, [Print::Err("wget: too many redirections".into())]);
        assert_eq!(n, 16);
    }

    #[test]
    fn server_response_shows_the_lines_as_read() {
        // The status line, then the empty line ending the headers.
        let o = parse(&args(&["-S", "-O-", "http://web:8080/"])).expect("valid");
        let r = run(&o, &mut reply(200, "hello\n"));
        assert_eq!(
            r.lines,
            [
                Print::Err("Connecting to web:8080 (10.96.0.20:8080)".into()),
                Print::Err("  HTTP/1.1 200 OK".into()),
                Print::Err("  ".into()),
                Print::Err("writing to stdout".into()),
                Print::Out("hello".into()),
                Print::Err("written to stdout".into()),
            ]
        );
        let o = parse(&args(&["-S", "--spider", "-q", "http://web/"])).expect("valid");
        assert_eq!(
            run(&o, &mut reply(204, "")).lines,
            [
                Print::Err("  HTTP/1.1 204 No Content".into()),
                Print::Err("  ".into())
            ]
        );
        // nginx's own reason (ingress-nginx's 503), and Go's for a code
        // without a text.
        let o = parse(&args(&["-qO-", "http://ctl/"])).expect("valid");
        let r = run(&o, &mut |_| NetReply::Http {
            ip: "10.96.0.20".into(),
            status: 503,
            body: String::new(),
            location: None,
            reason: Some("Service Temporarily Unavailable"),
            cert: None,
        });
        assert_eq!(
            r.lines,
            [Print::Err(
                "wget: server returned error: HTTP/1.1 503 Service Temporarily Unavailable".into()
            )]
        );
        assert_eq!(
            run(&o, &mut reply(599, "")).lines,
            [Print::Err(
                "wget: server returned error: HTTP/1.1 599 status code 599".into()
            )]
        );
        // 205 and an unasked-for 206 are errors too.
        assert_eq!(run(&o, &mut reply(206, "")).status, 1);
    }

    #[test]
    fn timeouts_are_the_alarms_or_the_kernels() {
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
        // A dropped SYN: the kernel gives up after 127 s, before the
        // default 900 s alarm.
        let o = parse(&args(&["-qO-", "http://web:8080/"])).expect("valid");
        let r = run(&o, &mut dropped);
        assert_eq!((r.status, r.waited), (1, 127.0));
        assert_eq!(
            r.lines,
            [Print::Err(
                "wget: can't connect to remote host (10.96.0.20): Connection timed out".into()
            )]
        );
        // A shorter -T fires during connect().
        let o = parse(&args(&["-T", "5", "http://web:8080/"])).expect("valid");
        let r = run(&o, &mut dropped);
        assert_eq!((r.status, r.waited), (1, 5.0));
        assert_eq!(
            r.lines,
            [
                Print::Err("Connecting to web:8080 (10.96.0.20:8080)".into()),
                Print::Err("wget: download timed out".into())
            ]
        );
        // -T 0 arms no alarm: the kernel's timeout, or no end at all.
        let o = parse(&args(&["-q", "-T0", "http://web/"])).expect("valid");
        assert_eq!(run(&o, &mut dropped).waited, 127.0);
        let r = run(&o, &mut unanswered);
        assert!(r.hangs && r.lines.is_empty());
        let o = parse(&args(&["-q", "http://web/"])).expect("valid");
        let r = run(&o, &mut unanswered);
        assert_eq!((r.status, r.waited, r.hangs), (1, 900.0, false));
        // A DNS lookup that times out is a bad address, port as typed.
        let o = parse(&args(&["-q", "http://web:8080/x"])).expect("valid");
        assert_eq!(
            run(&o, &mut |_| NetReply::Timeout).lines,
            [Print::Err("wget: bad address 'web:8080'".into())]
        );
    }
}
