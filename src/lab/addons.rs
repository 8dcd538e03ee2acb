//! Cluster add-ons a scenario lists (`cluster.addons`), installed before
//! its setup through the Kubernetes API only, so one code path serves the
//! simulated cluster and a real one alike.
//!
//! - `ingress-nginx`: kind's ingress guide. The controller only schedules
//!   on a node labelled `ingress-ready=true` (kind's guide sets that label
//!   in the cluster config; here the first control-plane node is labelled
//!   through the API when no node carries it), then the manifest
//!   (`src/sim/ingress/addon.yaml`, kind's `deploy.yaml` for v1.11.2
//!   with its admission webhook, without the certgen Jobs) is applied
//!   server-side, and the install waits as the guide does (`kubectl wait
//!   --for=condition=ready pod --selector=app.kubernetes.io/component=controller`):
//!   the Deployment's `Available` alone is not enough, its
//!   `maxUnavailable: 1` makes a one-replica rollout Available before any
//!   pod is ready. It also waits for the admission Service's EndpointSlice
//!   to list a ready endpoint, as until then every Ingress write fails
//!   with `failed calling webhook "validate.nginx.ingress.kubernetes.io"`.
//! - `metrics-server`: the simulated API server serves `metrics.k8s.io`
//!   itself; on a cluster without that API there is no manifest to apply
//!   yet, which is reported as such.

use crate::scenario::model::Addon;
use crate::script::Host;
use crate::script::host::{HostError, condition_holds};
use serde_json::{Value, json};
use std::time::Duration;

/// The manifest applied for ingress-nginx.
pub const INGRESS_NGINX: &str = include_str!("../sim/ingress/addon.yaml");
/// The node label the controller's `nodeSelector` asks for.
pub const INGRESS_READY_LABEL: &str = "ingress-ready";
/// How long an add-on may take to come up (an image pull on kind
/// included).
pub const TIMEOUT: Duration = Duration::from_secs(300);

const CONTROLLER: &str = "deployment/ingress-nginx-controller";
const CONTROLLER_PODS: &str =
    "app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx";

/// The add-on's name as scenario.yaml writes it.
pub fn name(addon: Addon) -> &'static str {
    match addon {
        Addon::IngressNginx => "ingress-nginx",
        Addon::MetricsServer => "metrics-server",
    }
}

/// The node to label `ingress-ready=true`: none when a node already has
/// the label; else the first control-plane node by name (kind's guide
/// labels the control plane), else the first node.
pub fn node_to_label(nodes: &[Value]) -> Option<String> {
    let label = |n: &Value, k: &str| {
        n.pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .cloned()
    };
    if nodes
        .iter()
        .any(|n| label(n, INGRESS_READY_LABEL) == Some(json!("true")))
    {
        return None;
    }
    let name = |n: &Value| {
        n.pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut names: Vec<(bool, String)> = nodes
        .iter()
        .filter_map(|n| {
            Some((
                label(n, "node-role.kubernetes.io/control-plane").is_none(),
                name(n)?,
            ))
        })
        .collect();
    names.sort();
    names.into_iter().next().map(|(_, n)| n)
}

/// The admission Service's EndpointSlices.
const ADMISSION_SLICES: &str = "kubernetes.io/service-name=ingress-nginx-controller-admission";

/// Whether an EndpointSlice lists an endpoint that is not unready.
fn has_ready_endpoint(slice: &Value) -> bool {
    slice
        .pointer("/endpoints")
        .and_then(Value::as_array)
        .is_some_and(|eps| {
            eps.iter()
                .any(|e| e.pointer("/conditions/ready") != Some(&json!(false)))
        })
}

/// Whether a pod has `Ready=True`.
fn pod_ready(pod: &Value) -> bool {
    condition_holds(Some(pod), "Ready")
}

/// Why the controller is not up yet, for the timeout error.
fn not_ready_reason(pods: &[Value]) -> String {
    let Some(p) = pods.first() else {
        return "no controller pod".into();
    };
    let phase = p
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    let waiting = p
        .pointer("/status/containerStatuses/0/state/waiting/reason")
        .and_then(Value::as_str);
    let unschedulable = p
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["type"] == "PodScheduled" && c["status"] == "False")
        })
        .and_then(|c| c["message"].as_str());
    let name = p
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match (waiting, unschedulable) {
        (Some(w), _) => format!("pod {name} is {phase}, {w}"),
        (None, Some(m)) => format!("pod {name} is {phase}: {m}"),
        _ => format!("pod {name} is {phase}, not ready"),
    }
}

/// Installs `addon` on the cluster behind `host` and waits until it
/// serves (at most `timeout`).
pub async fn install(host: &Host, addon: Addon, timeout: Duration) -> Result<(), HostError> {
    match addon {
        Addon::IngressNginx => install_ingress_nginx(host, timeout).await,
        Addon::MetricsServer => {
            let served = host
                .resources()
                .await?
                .iter()
                .any(|(ar, _)| ar.group == "metrics.k8s.io");
            if served {
                Ok(())
            } else {
                Err(HostError(
                    "this cluster does not serve metrics.k8s.io and kdrill has no metrics-server manifest to install; install metrics-server yourself".into(),
                ))
            }
        }
    }
}

async fn install_ingress_nginx(host: &Host, timeout: Duration) -> Result<(), HostError> {
    let nodes = host.list("nodes", None, None, None).await?;
    if let Some(node) = node_to_label(&nodes) {
        host.patch(
            &format!("node/{node}"),
            None,
            &json!({"metadata": {"labels": {INGRESS_READY_LABEL: "true"}}}),
            "merge",
        )
        .await?;
    }
    host.apply(INGRESS_NGINX).await?;
    let ns = Some(crate::sim::ingress::NAMESPACE);
    let mut last = Vec::new();
    let wait = async {
        loop {
            if let Some(settle) = &host.settle {
                settle();
            }
            let deployment = host.get(CONTROLLER, ns).await?;
            let pods = host.list("pods", ns, Some(CONTROLLER_PODS), None).await?;
            let slices = host
                .list("endpointslices", ns, Some(ADMISSION_SLICES), None)
                .await?;
            if condition_holds(deployment.as_ref(), "Available")
                && pods.iter().any(pod_ready)
                && slices.iter().any(has_ready_endpoint)
            {
                return Ok::<(), HostError>(());
            }
            last = pods;
            tokio::time::sleep(host.poll).await;
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(r) => r,
        Err(_) => Err(HostError(format!(
            "the controller was not ready within {}s ({})",
            timeout.as_secs(),
            not_ready_reason(&last)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, labels: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}})
    }

    #[test]
    fn the_control_plane_is_labelled_unless_a_node_already_is() {
        let cp = || {
            node(
                "kdrill-control-plane",
                json!({"node-role.kubernetes.io/control-plane": ""}),
            )
        };
        let w = |labels| node("kdrill-worker", labels);
        assert_eq!(
            node_to_label(&[w(json!({})), cp()]).as_deref(),
            Some("kdrill-control-plane")
        );
        assert_eq!(
            node_to_label(&[w(json!({"ingress-ready": "true"})), cp()]),
            None
        );
        // `ingress-ready=false` does not count; without a control plane the
        // first node by name is taken.
        assert_eq!(
            node_to_label(&[w(json!({"ingress-ready": "false"})), node("a", json!({}))]).as_deref(),
            Some("a")
        );
        assert_eq!(node_to_label(&[]), None);
    }

    #[test]
    fn the_manifest_is_kinds_controller() {
        let objs = crate::api::yaml::from_multiple(INGRESS_NGINX).expect("manifest parses");
        let deployment = objs
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("a Deployment");
        assert_eq!(
            deployment.pointer("/spec/template/spec/nodeSelector/ingress-ready"),
            Some(&json!("true"))
        );
        assert_eq!(
            deployment.pointer("/spec/template/spec/containers/0/image"),
            Some(&json!(crate::sim::ingress::CONTROLLER_IMAGE))
        );
        assert_eq!(name(Addon::IngressNginx), "ingress-nginx");
    }

    #[test]
    fn the_admission_endpoint_counts_unless_marked_unready() {
        let slice = |eps: Value| json!({"endpoints": eps});
        let cases = [
            (slice(json!([{"conditions": {"ready": true}}])), true),
            // a nil `ready` counts as ready
            (slice(json!([{"conditions": {}}])), true),
            (slice(json!([{"conditions": {"ready": false}}])), false),
            (slice(json!([])), false),
            (json!({}), false),
        ];
        for (s, want) in cases {
            assert_eq!(has_ready_endpoint(&s), want, "{s}");
        }
    }

    #[test]
    fn a_stuck_controller_says_why() {
        let pending = json!({"metadata": {"name": "ctl"}, "status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False",
                "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}]}});
        assert_eq!(
            not_ready_reason(&[pending]),
            "pod ctl is Pending: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
        );
        let pulling = json!({"metadata": {"name": "ctl"}, "status": {"phase": "Pending",
            "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        assert_eq!(
            not_ready_reason(&[pulling]),
            "pod ctl is Pending, ImagePullBackOff"
        );
        assert_eq!(not_ready_reason(&[]), "no controller pod");
    }
}
