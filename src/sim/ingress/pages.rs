//! The pages nginx writes itself (`ngx_http_special_response.c`, nginx
//! 1.25 as in the v1.11 controller image: CRLF line ends, `<body>` without
//! `bgcolor`, and `server_tokens off` so the footer says just `nginx`).

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
