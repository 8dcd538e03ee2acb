//! The pages nginx writes itself (`ngx_http_special_response.c`, nginx
//! 1.25 as in the v1.11 controller image: CRLF line ends, `<body>` without
//! `bgcolor`, and `server_tokens off` so the footer says just `nginx`).

/// The page nginx writes itself for `status` with its `reason` (the
/// constants below are three of them, spelled out as upstream sends them).
pub fn nginx_page(status: u16, reason: &str) -> String {
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// The default backend's answer when no rule matches.
pub const NOT_FOUND_PAGE: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The answer when the matched backend has no Service, port or ready
/// endpoint.
pub const SERVICE_UNAVAILABLE_PAGE: &str = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The body of the HTTP→HTTPS redirect (`ssl-redirect`, on by default for
/// hosts with TLS).
pub fn permanent_redirect_page() -> &'static str {
    "<html>\r\n<head><title>308 Permanent Redirect</title></head>\r\n<body>\r\n<center><h1>308 Permanent Redirect</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_generator_writes_the_spelled_out_pages() {
        assert_eq!(nginx_page(404, "Not Found"), NOT_FOUND_PAGE);
        assert_eq!(
            nginx_page(503, "Service Temporarily Unavailable"),
            SERVICE_UNAVAILABLE_PAGE
        );
        assert_eq!(
            nginx_page(308, "Permanent Redirect"),
            permanent_redirect_page()
        );
    }
}
