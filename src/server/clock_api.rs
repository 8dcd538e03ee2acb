//! The simulator's time control: `/kdrill/v1/clock`, a kdrill-only,
//! admin-only endpoint of a cluster served on a virtual clock.
//!
//! - `GET /kdrill/v1/clock` returns the simulated time.
//! - `POST /kdrill/v1/clock?advance=90s` lets the controllers react to the
//!   writes made since the last call, moves time forward through every
//!   pending timer up to `now + 90s`, and answers once the cluster is idle
//!   at the new time (`advance=0s` only settles).
//!
//! The body is `{"kind": "Clock", "apiVersion": "kdrill.dev/v1", "now": ...}`.

use super::auth::UserInfo;
use super::response;
use crate::api::status::{GroupResource, Status};
use axum::body::Body;
use axum::http::{Method, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::Arc;

/// The path of the endpoint.
pub const PATH: &str = "/kdrill/v1/clock";

/// What moves a virtual clock (the simulated cluster plugs its runtime in).
pub trait ClockControl: Send + Sync {
    /// The simulated time.
    fn now(&self) -> Timestamp;
    /// Settles, advances by `by` through every timer on the way, settles
    /// again; returns the new time.
    fn advance(&self, by: SignedDuration) -> Timestamp;
}

/// Parses a Go-style duration (`90s`, `1m30s`, `2h`, `500ms`, `0s`).
pub fn parse_duration(s: &str) -> Option<SignedDuration> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(SignedDuration::ZERO);
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis_per = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(millis_per)?)?;
        rest = &rest[unit_len..];
    }
    // More than a year at once is a typo, not a drill.
    if total > 366 * 24 * 3_600_000 {
        return None;
    }
    Some(SignedDuration::from_millis(total))
}

fn is_admin(user: &UserInfo) -> bool {
    user.groups
        .iter()
        .any(|g| g == "kubeadm:cluster-admins" || g == "system:masters")
}

fn body(now: Timestamp) -> Response<Body> {
    response::json(
        200,
        &json!({
            "kind": "Clock",
            "apiVersion": "kdrill.dev/v1",
            "now": crate::sim::clock::format_time(now),
        }),
        &[],
    )
}

/// What a request to the endpoint asks, checked before any work is done.
pub enum Request {
    Now,
    Advance(SignedDuration),
}

/// Checks method, user and query; `Err` is the error to send.
pub fn parse(method: &Method, user: &UserInfo, query: Option<&str>) -> Result<Request, Status> {
    let gr = GroupResource {
        group: "kdrill.dev",
        resource: "clock",
    };
    if !is_admin(user) {
        let why = format!(
            "User \"{}\" cannot {} the simulated clock",
            user.username,
            if method == Method::GET {
                "get"
            } else {
                "advance"
            }
        );
        return Err(Status::forbidden(gr, "", &why));
    }
    if method == Method::GET {
        return Ok(Request::Now);
    }
    if method != Method::POST {
        // No route for the method: the apiserver's go-restful 405.
        return Err(Status::method_not_allowed());
    }
    let advance = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("advance="))
        .unwrap_or("0s");
    match parse_duration(advance) {
        Some(d) => Ok(Request::Advance(d)),
        None => Err(Status::bad_request(format!(
            "invalid duration {advance:?}: want a Go duration such as 90s, 5m or 1h30m, at most a year"
        ))),
    }
}

/// Serves the endpoint. The advance runs on a blocking thread: it holds
/// the simulator runtime until the cluster is idle at the new time.
pub async fn serve(
    control: Option<Arc<dyn ClockControl>>,
    method: &Method,
    user: &UserInfo,
    query: Option<&str>,
) -> Response<Body> {
    let req = match parse(method, user, query) {
        Ok(r) => r,
        Err(s) => return response::status(&s),
    };
    let Some(control) = control else {
        return response::status(&Status::bad_request(
            "the simulated cluster runs on the wall clock; start it with --clock virtual to move time",
        ));
    };
    match req {
        Request::Now => body(control.now()),
        Request::Advance(d) => {
            match tokio::task::spawn_blocking(move || control.advance(d)).await {
                Ok(now) => body(now),
                Err(e) => response::status(&Status::internal(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        let cases = [
            ("90s", Some(90_000)),
            ("1m30s", Some(90_000)),
            ("2h", Some(7_200_000)),
            ("500ms", Some(500)),
            ("0s", Some(0)),
            ("0", Some(0)),
            ("", None),
            ("-5s", None),
            ("5", None),
            ("5d", None),
            ("99999999999999999999s", None),
            ("9999999h", None),
        ];
        for (s, want) in cases {
            assert_eq!(
                parse_duration(s).map(|d| d.as_millis()),
                want.map(i128::from),
                "{s}"
            );
        }
    }

    #[test]
    fn only_admins_may_move_time() {
        let viewer = UserInfo {
            username: "jane".into(),
            uid: String::new(),
            groups: vec!["system:authenticated".into()],
            extra: Default::default(),
        };
        let Err(status) = parse(&Method::POST, &viewer, Some("advance=1s")) else {
            panic!("a viewer moved time");
        };
        assert_eq!(status.code, 403);
        let admin = UserInfo::admin();
        assert!(matches!(
            parse(&Method::POST, &admin, Some("advance=1m")),
            Ok(Request::Advance(d)) if d == SignedDuration::from_secs(60)
        ));
        assert!(
            matches!(parse(&Method::POST, &admin, None), Ok(Request::Advance(d)) if d.is_zero())
        );
        assert!(matches!(
            parse(&Method::GET, &admin, None),
            Ok(Request::Now)
        ));
        assert!(parse(&Method::POST, &admin, Some("advance=soon")).is_err());
        // go-restful's 405 through the apiserver's serviceErrorHandler.
        let Err(status) = parse(&Method::DELETE, &admin, None) else {
            panic!("DELETE moved time");
        };
        assert_eq!(
            (status.code, status.reason, status.message.as_str()),
            (
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource"
            )
        );
    }
}
