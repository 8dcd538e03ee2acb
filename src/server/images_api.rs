//! The simulated container runtime's image declarations:
//! `/kdrill/v1/images`, a kdrill-only, admin-only endpoint. A scenario
//! declares what its own app images do (`scenario.yaml` `images:`); the
//! scenario engine sends each one here before setup. Real clusters answer
//! 404, and the engine then leaves the image to behave as itself.
//!
//! - `PUT /kdrill/v1/images/<repository>` with an `AppBehaviour` JSON body
//!   declares (or redeclares) a repository such as
//!   `registry.example.com/shop/api`.
//! - `GET /kdrill/v1/images` lists the declared repositories.

use super::auth::UserInfo;
use super::kubelet_api::KubeletApi;
use super::response;
use crate::api::image_behaviour::AppBehaviour;
use crate::api::status::Status;
use axum::body::Body;
use axum::http::{Method, Response};
use serde_json::json;
use std::sync::Arc;

/// The path prefix of the endpoint.
pub const PATH: &str = "/kdrill/v1/images";

fn is_admin(user: &UserInfo) -> bool {
    user.groups
        .iter()
        .any(|g| g == "kubeadm:cluster-admins" || g == "system:masters")
}

/// Serves one request under [`PATH`].
pub fn serve(
    kubelet: Option<&Arc<dyn KubeletApi>>,
    method: &Method,
    path: &str,
    user: &UserInfo,
    body: &[u8],
) -> Response<Body> {
    if !is_admin(user) {
        // The non-resource refusal the RBAC authorizer writes.
        let verb = if method == Method::GET { "get" } else { "put" };
        return response::status(&Status {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "forbidden: User \"{}\" cannot {verb} path \"{path}\"",
                user.username
            ),
            details: None,
        });
    }
    let Some(kubelet) = kubelet else {
        return response::status(&Status::not_found_path());
    };
    let repository = path
        .strip_prefix(PATH)
        .unwrap_or("")
        .trim_start_matches('/');
    match (method.as_str(), repository) {
        ("GET", "") => {
            let items: Vec<_> = kubelet
                .declared_images()
                .into_iter()
                .map(|(repository, behaviour)| json!({"repository": repository, "behaviour": behaviour}))
                .collect();
            response::json(
                200,
                &json!({"kind": "ImageList", "apiVersion": "kdrill.dev/v1", "items": items}),
                &[],
            )
        }
        ("PUT", repo) if !repo.is_empty() => match serde_json::from_slice::<AppBehaviour>(body) {
            Ok(behaviour) => {
                kubelet.declare_image(repo, behaviour.clone());
                response::json(
                    200,
                    &json!({"kind": "Image", "apiVersion": "kdrill.dev/v1", "repository": repo, "behaviour": behaviour}),
                    &[],
                )
            }
            Err(e) => response::status(&Status::bad_request(format!(
                "invalid image behaviour for {repo}: {e}"
            ))),
        },
        _ => response::status(&Status {
            code: 405,
            reason: "MethodNotAllowed",
            message: format!("{method} is not supported on {path}"),
            details: None,
        }),
    }
}
