//! Building HTTP responses: JSON bodies, Status errors, warnings.

use crate::api::status::Status;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::Value;

/// A JSON response with the given code and `Warning` headers.
pub fn json(code: u16, body: &Value, warnings: &[String]) -> Response<Body> {
    serialized(code, body, warnings)
}

/// A JSON response from anything serializable (tables and lists stream
/// their borrowed rows without building a `Value` first).
pub fn serialized<T: serde::Serialize + ?Sized>(
    code: u16,
    body: &T,
    warnings: &[String],
) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for w in warnings {
        let text = format!("299 - {}", serde_json::to_string(w).unwrap_or_default());
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append("Warning", v);
        }
    }
    resp
}

/// A JSON response with an explicit content type.
pub fn json_as(code: u16, body: &Value, content_type: &'static str) -> Response<Body> {
    let mut resp = json(code, body, &[]);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A Status error response.
pub fn status(s: &Status) -> Response<Body> {
    json(s.code, &s.to_json(), &[])
}

/// A plain-text response.
pub fn text(code: u16, body: impl Into<String>) -> Response<Body> {
    let mut resp = Response::new(Body::from(body.into()));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
