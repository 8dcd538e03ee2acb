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
//!   The certgen Jobs' work is done here: the admission Secret gets a CA, a
//!   serving certificate for the admission Service's names and its key, as
//!   kube-webhook-certgen's `create` makes them, and the configuration's
//!   `caBundle` that CA, as its `patch` does, so a real cluster's apiserver
//!   can call the controller's webhook. A Secret from an earlier install
//!   is kept, as certgen keeps it (the controller serves what it mounted).
//! - `metrics-server`: the simulated API server serves `metrics.k8s.io`
//!   itself; on a cluster without that API there is no manifest to apply
//!   yet, which is reported as such.

use crate::scenario::model::Addon;
use crate::script::Host;
use crate::script::host::{HostError, condition_holds};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
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

/// What the manifest carries in place of the admission Secret's `ca`,
/// `cert` and `key` (base64 of `simulated-ca`, `-cert`, `-key`); the `ca`
/// one is also the configuration's `caBundle`.
const PLACEHOLDERS: [&str; 3] = [
    "c2ltdWxhdGVkLWNh",
    "c2ltdWxhdGVkLWNlcnQ=",
    "c2ltdWxhdGVkLWtleQ==",
];
/// The Secret the controller mounts for its webhook server.
const ADMISSION_SECRET: &str = "secret/ingress-nginx-admission";

/// The admission Secret's `ca`, `cert` and `key`, base64 encoded PEM, as
/// kube-webhook-certgen's `create` generates them: an ECDSA P-256 CA
/// (O=nil1) and a serving certificate (O=nil2) for the admission
/// Service's short name and `.<namespace>.svc` name.
pub fn admission_certs() -> Result<[String; 3], rcgen::Error> {
    let org = |o: &str| {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, o);
        dn
    };
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = org("nil1");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    ca.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);
    let service = crate::sim::ingress::admission::ADMISSION_SERVICE;
    let ns = crate::sim::ingress::NAMESPACE;
    let key = KeyPair::generate()?;
    let mut leaf =
        CertificateParams::new(vec![service.to_string(), format!("{service}.{ns}.svc")])?;
    leaf.distinguished_name = org("nil2");
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok([ca_cert.pem(), cert.pem(), key.serialize_pem()].map(|p| BASE64.encode(p)))
}

/// The ingress-nginx manifest with the admission Secret's data (`ca`,
/// `cert`, `key`, base64) and the webhook's `caBundle` filled in.
pub fn ingress_nginx_manifest(data: &[String; 3]) -> String {
    PLACEHOLDERS
        .iter()
        .zip(data)
        .fold(INGRESS_NGINX.to_string(), |m, (from, to)| {
            m.replace(from, to)
        })
}

/// The data of an admission Secret an earlier install left, if it holds
/// real certificates.
fn installed_certs(secret: Option<&Value>) -> Option<[String; 3]> {
    let data = secret?.get("data")?;
    let field = |k: &str| data.get(k)?.as_str().map(str::to_string);
    let found = [field("ca")?, field("cert")?, field("key")?];
    (!found.iter().any(|f| PLACEHOLDERS.contains(&f.as_str()))).then_some(found)
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
    let ns = Some(crate::sim::ingress::NAMESPACE);
    let certs = match installed_certs(host.get(ADMISSION_SECRET, ns).await?.as_ref()) {
        Some(certs) => certs,
        None => admission_certs()
            .map_err(|e| HostError(format!("cannot generate the admission certificate: {e}")))?,
    };
    host.apply(&ingress_nginx_manifest(&certs)).await?;
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
    fn the_admission_secret_and_ca_bundle_hold_a_ca_and_a_certificate_it_signed() {
        let certs = admission_certs().expect("certificates");
        let manifest = ingress_nginx_manifest(&certs);
        assert!(!PLACEHOLDERS.iter().any(|p| manifest.contains(p)));
        let objs = crate::api::yaml::from_multiple(&manifest).expect("manifest parses");
        let secret = objs
            .iter()
            .find(|o| o["kind"] == "Secret" && o["metadata"]["name"] == "ingress-nginx-admission")
            .expect("the admission Secret");
        let vwc = objs
            .iter()
            .find(|o| o["kind"] == "ValidatingWebhookConfiguration")
            .expect("the webhook configuration");
        assert_eq!(
            vwc["webhooks"][0]["clientConfig"]["caBundle"],
            secret["data"]["ca"]
        );
        let der = |k: &str| {
            let pem = BASE64
                .decode(secret["data"][k].as_str().expect("base64 data"))
                .expect("base64");
            x509_parser::pem::parse_x509_pem(&pem)
                .expect("PEM")
                .1
                .contents
        };
        let (ca_der, leaf_der) = (der("ca"), der("cert"));
        let ca = x509_parser::parse_x509_certificate(&ca_der).expect("CA").1;
        let leaf = x509_parser::parse_x509_certificate(&leaf_der)
            .expect("leaf")
            .1;
        assert!(ca.is_ca());
        assert_eq!(leaf.issuer(), ca.subject());
        // What the apiserver does with the caBundle: verify the serving
        // certificate for the Service's DNS name.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_der.clone().into()).expect("CA as a root");
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .expect("verifier");
        let name = rustls::pki_types::ServerName::try_from(
            "ingress-nginx-controller-admission.ingress-nginx.svc",
        )
        .expect("name");
        rustls::client::danger::ServerCertVerifier::verify_server_cert(
            &*verifier,
            &leaf_der.clone().into(),
            &[],
            &name,
            &[],
            rustls::pki_types::UnixTime::now(),
        )
        .expect("the serving certificate verifies against the caBundle");
        let names: Vec<String> = leaf
            .subject_alternative_name()
            .expect("SAN")
            .expect("SAN present")
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "DNSName(ingress-nginx-controller-admission)",
                "DNSName(ingress-nginx-controller-admission.ingress-nginx.svc)"
            ]
        );
        let key = BASE64
            .decode(secret["data"]["key"].as_str().expect("key"))
            .expect("base64");
        assert!(String::from_utf8_lossy(&key).starts_with("-----BEGIN PRIVATE KEY-----"));
        // A later install keeps what the controller already serves; the
        // placeholders never count as installed.
        assert_eq!(installed_certs(Some(secret)), Some(certs));
        let placeholder = crate::api::yaml::from_multiple(INGRESS_NGINX)
            .expect("manifest parses")
            .into_iter()
            .find(|o| o["kind"] == "Secret")
            .expect("Secret");
        assert_eq!(installed_certs(Some(&placeholder)), None);
        assert_eq!(installed_certs(None), None);
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
