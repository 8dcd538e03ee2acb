//! The simulated container runtime's image declarations:
//! `/kdrill/v1/images`, a kdrill-only endpoint that RBAC authorizes as the
//! non-resource URL it is (cluster-admin may use it). A scenario
//! declares what its own app images do (`scenario.yaml` `images:`); the
//! scenario engine sends each one here before setup. Real clusters answer
//! 404, and the engine then leaves the image to behave as itself.
//!
//! - `PUT /kdrill/v1/images/<repository>` with an `AppBehaviour` JSON body
//!   declares (or redeclares) a repository such as
//!   `registry.example.com/shop/api`.
//! - `GET /kdrill/v1/images` lists the declared repositories.

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

/// Serves one request under [`PATH`].
pub fn serve(
    kubelet: Option<&Arc<dyn KubeletApi>>,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Response<Body> {
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
        // No route for the method: the apiserver's go-restful 405.
        _ => response::status(&Status::method_not_allowed()),
    }
}
