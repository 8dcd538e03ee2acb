//! The ingress-nginx add-on: the objects kind's ingress guide applies
//! (`addon.yaml`), ready to create through the registry in order.
//!
//! The controller pod selects nodes labelled `ingress-ready=true` (kind's
//! guide adds that label and maps host ports 80/443 on the control-plane
//! node), so the cluster shape must carry the label for it to schedule.

use serde_json::Value;

/// The add-on's namespace.
pub const NAMESPACE: &str = "ingress-nginx";

/// The controller image kind's manifest pins.
pub const CONTROLLER_IMAGE: &str = "registry.k8s.io/ingress-nginx/controller:v1.11.2@sha256:d5f8217feeac4887cb1ed21f27c2674e58be06bd8f5184cacea2a69abaf78dce";

/// The add-on's objects, namespace first.
pub fn addon_objects() -> Vec<Value> {
    // The manifest is compiled in and covered by a test, so parsing cannot
    // fail at run time; an empty list is the defensive answer if it did.
    crate::api::yaml::from_multiple(include_str!("addon.yaml")).unwrap_or_default()
}
