//! HTTP/1.1 on the host port, as nginx reads and writes it: the request
//! line and the headers the simulation routes by (method, target, Host,
//! Connection), a `Content-Length` body skipped, and the response written
//! the way ingress-nginx writes it: status line with nginx's reason,
//! `Date`, `Content-Type`, `Content-Length`, `Location`, `Connection`, then
//! the headers it adds. No `Server` header: the controller's template sets
//! `server_tokens off` and `more_clear_headers Server` unless
//! `server-tokens` is enabled (`rootfs/etc/nginx/template/nginx.tmpl`).
//!
//! Not handled: chunked request bodies (answered 411 Length Required, as
//! an nginx without chunked support would; real nginx accepts them) and
//! pipelined requests beyond what one read delivers are still answered in
//! order.

use jiff::Timestamp;

/// The largest request head read (nginx's `large_client_header_buffers 4
/// 8k`); a longer one is answered 400.
pub const MAX_HEAD: usize = 32 * 1024;

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/shop?q=1`).
    pub target: String,
    /// The `Host` header, if any.
    pub host: Option<String>,
    /// HTTP/1.0 (closes unless `Connection: keep-alive`).
    pub http10: bool,
    /// Whether the client asked to close after this request.
    pub close: bool,
}

impl Request {
    /// The path without the query, as Ingress paths match it.
    pub fn path(&self) -> &str {
        let t = self.target.as_str();
        // An absolute-form target (`http://host/path`) carries its path
        // after the authority.
        let t = match t.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => t,
        };
        t.split(['?', '#']).next().unwrap_or("/")
    }

    /// The host nginx routes by (`$host`): the Host header without its
    /// port, lower-cased; "" when there is none.
    pub fn route_host(&self) -> String {
        let h = self.host.as_deref().unwrap_or("").trim();
        let name = if let Some(rest) = h.strip_prefix('[') {
            rest.split(']').next().unwrap_or("")
        } else {
            h.split(':').next().unwrap_or("")
        };
        name.trim_end_matches('.').to_ascii_lowercase()
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// What a buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A request and how many bytes of the buffer it took (head and body).
    Complete(Request, usize),
    /// More bytes are needed.
    Partial,
    /// Not HTTP nginx accepts: answer with this status and close.
    Bad(u16),
}

/// Parses the first request in `buf`.
pub fn parse(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        // nginx also accepts bare LF line ends.
        if let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            return parse_head(buf, end, 2);
        }
        return if buf.len() > MAX_HEAD {
            Parsed::Bad(400)
        } else {
            Parsed::Partial
        };
    };
    parse_head(buf, end, 4)
}

fn parse_head(buf: &[u8], end: usize, sep: usize) -> Parsed {
    if end > MAX_HEAD {
        return Parsed::Bad(400);
    }
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        return Parsed::Bad(400);
    };
    let mut lines = head.lines().map(|l| l.trim_end_matches('\r'));
    // Leading empty lines are skipped (RFC 9112 section 2.2).
    let Some(first) = lines.by_ref().find(|l| !l.is_empty()) else {
        return Parsed::Bad(400);
    };
    let mut parts = first.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Bad(400);
    };
    if parts.next().is_some()
        || !method
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b == b'-')
    {
        return Parsed::Bad(400);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") => return Parsed::Bad(505),
        _ => return Parsed::Bad(400),
    };
    let mut host = None;
    let mut length = 0usize;
    let mut connection = String::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Bad(400);
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "host" => {
                if host.is_some() {
                    return Parsed::Bad(400);
                }
                host = Some(value.to_string());
            }
            "content-length" => match value.parse() {
                Ok(n) => length = n,
                Err(_) => return Parsed::Bad(400),
            },
            "transfer-encoding" => return Parsed::Bad(411),
            "connection" => connection = value.to_ascii_lowercase(),
            _ => {}
        }
    }
    // nginx: "client sent HTTP/1.1 request without "Host" header".
    if !http10 && host.is_none() {
        return Parsed::Bad(400);
    }
    let total = end + sep + length;
    if buf.len() < total {
        return Parsed::Partial;
    }
    let close = if http10 {
        !connection.split(',').any(|t| t.trim() == "keep-alive")
    } else {
        connection.split(',').any(|t| t.trim() == "close")
    };
    Parsed::Complete(
        Request {
            method: method.to_string(),
            target: target.to_string(),
            host,
            http10,
            close,
        },
        total,
    )
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub content_type: String,
    pub location: Option<String>,
    /// Headers after `Connection` (nginx writes `add_header` ones last).
    pub extra: Vec<(String, String)>,
    pub body: String,
}

/// An answer nginx writes itself (its pages are `text/html`, the
/// template's `default_type`).
pub fn own_page(status: u16) -> Response {
    let reason = crate::sim::network::ingress::nginx_reason(status).to_string();
    Response {
        status,
        body: crate::sim::ingress::nginx_page(status, &reason),
        reason,
        content_type: "text/html".into(),
        location: None,
        extra: Vec::new(),
    }
}

/// The `Date` header value (IMF-fixdate).
pub fn http_date(t: Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The bytes of `resp` at `now`; `head_only` for a HEAD request (the
/// `Content-Length` of the body that is not sent); `close` writes
/// `Connection: close`.
pub fn write(resp: &Response, now: Timestamp, head_only: bool, close: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason);
    out.push_str(&format!("Date: {}\r\n", http_date(now)));
    if !resp.content_type.is_empty() {
        out.push_str(&format!("Content-Type: {}\r\n", resp.content_type));
    }
    out.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    if let Some(l) = &resp.location {
        out.push_str(&format!("Location: {l}\r\n"));
    }
    out.push_str(if close {
        "Connection: close\r\n"
    } else {
        "Connection: keep-alive\r\n"
    });
    for (k, v) in &resp.extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(resp.body.as_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(raw: &str) -> Parsed {
        parse(raw.as_bytes())
    }

    #[test]
    fn requests_parse_as_nginx_reads_them() {
        let raw = "GET /shop?q=1 HTTP/1.1\r\nHost: Shop.Example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
        let Parsed::Complete(r, n) = req(raw) else {
            panic!("{:?}", req(raw));
        };
        assert_eq!(n, raw.len());
        assert_eq!(r.method, "GET");
        assert_eq!(r.path(), "/shop");
        assert_eq!(r.route_host(), "shop.example.com");
        assert!(!r.close && !r.http10);

        // Two pipelined requests: the first is complete on its own.
        let two = format!("{raw}GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(parse(two.as_bytes()), Parsed::Complete(_, n) if n == raw.len()));

        // A body is skipped by its length; until it arrived, wait.
        let post = "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel";
        assert_eq!(req(post), Parsed::Partial);
        let post = "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        assert!(matches!(req(post), Parsed::Complete(_, n) if n == post.len()));

        assert_eq!(req("GET / HTTP/1.1\r\nHost: x\r\n"), Parsed::Partial);
        // HTTP/1.1 without Host: 400; HTTP/1.0 without it goes to the
        // default server and closes unless keep-alive is asked.
        assert_eq!(req("GET / HTTP/1.1\r\n\r\n"), Parsed::Bad(400));
        let Parsed::Complete(r, _) = req("GET / HTTP/1.0\r\n\r\n") else {
            panic!()
        };
        assert!(r.http10 && r.close && r.route_host().is_empty());
        let Parsed::Complete(r, _) = req("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        else {
            panic!()
        };
        assert!(r.close);
        assert_eq!(req("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), Parsed::Bad(505));
        assert_eq!(req("\x16\x03\x01\x02\x00\r\n\r\n"), Parsed::Bad(400));
        assert_eq!(
            req("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Parsed::Bad(411)
        );
        assert_eq!(parse(&vec![b'a'; MAX_HEAD + 1]), Parsed::Bad(400));
    }

    #[test]
    fn paths_and_hosts() {
        let r = |target: &str, host: &str| Request {
            method: "GET".into(),
            target: target.into(),
            host: Some(host.into()),
            http10: false,
            close: false,
        };
        assert_eq!(r("http://a.example.com/x/y?z", "a").path(), "/x/y");
        assert_eq!(r("http://a.example.com", "a").path(), "/");
        assert_eq!(r("/", "[::1]:80").route_host(), "::1");
        assert_eq!(r("/", "localhost").route_host(), "localhost");
    }

    #[test]
    fn responses_are_written_like_nginx() {
        let now: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let page = own_page(503);
        assert_eq!(page.body, crate::sim::ingress::SERVICE_UNAVAILABLE_PAGE);
        assert_eq!(
            own_page(404).body,
            crate::sim::ingress::NOT_FOUND_PAGE,
            "the 404 page the sim models"
        );
        let out = String::from_utf8(write(&page, now, false, false)).unwrap();
        assert_eq!(
            out,
            format!(
                "HTTP/1.1 503 Service Temporarily Unavailable\r\nDate: Fri, 27 Nov 2026 12:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 190\r\nConnection: keep-alive\r\n\r\n{}",
                crate::sim::ingress::SERVICE_UNAVAILABLE_PAGE
            )
        );
        assert_eq!(page.body.len(), 190);
        let mut redirect = own_page(308);
        redirect.location = Some("https://a.example.com/".into());
        redirect.extra = vec![(
            "Strict-Transport-Security".into(),
            "max-age=31536000".into(),
        )];
        let out = String::from_utf8(write(&redirect, now, true, true)).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 308 Permanent Redirect\r\n"),
            "{out}"
        );
        assert!(out.ends_with("Location: https://a.example.com/\r\nConnection: close\r\nStrict-Transport-Security: max-age=31536000\r\n\r\n"), "{out}");
        assert!(!out.contains("Server:"));
    }
}
