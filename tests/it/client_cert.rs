//! Client-certificate authentication, as on a kind cluster: the admin
//! kubeconfig carries `kubernetes-admin`'s certificate, a certificate from
//! another CA is unauthorized, and certificates authenticate before tokens.

use super::harness::Sim;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;
use std::process::Command;

/// The kubeconfig at `path`, as JSON.
fn read(path: &std::path::Path) -> Value {
    kdrill::api::yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The first user's credentials.
fn user(kc: &Value) -> &serde_json::Map<String, Value> {
    kc.pointer("/users/0/user").unwrap().as_object().unwrap()
}

/// Writes `kc` (JSON, which kubectl reads as YAML) in the test directory.
fn write(sim: &Sim, name: &str, kc: &Value) -> String {
    sim.file(name, &serde_json::to_string_pretty(kc).unwrap())
}

/// kubectl with `kubeconfig` and a discovery cache of its own.
fn kubectl(sim: &Sim, kubeconfig: &str, args: &[&str]) -> super::harness::Run {
    let name = std::path::Path::new(kubeconfig).file_name().unwrap();
    let out = Command::new(super::harness::kubectl_binary())
        .args(args)
        .args(["--kubeconfig", kubeconfig])
        .env("HOME", sim.dir.path())
        .env("KUBECACHEDIR", sim.dir.path().join("cache").join(name))
        .output()
        .unwrap();
    super::harness::Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

const UNAUTHORIZED: &str = "error: You must be logged in to the server (the server has asked for the client to provide credentials)\n";

#[test]
fn the_admin_kubeconfig_is_kinds_client_certificate() {
    let sim = Sim::start();
    let kc = read(&sim.kubeconfig);
    let creds = user(&kc);
    let mut keys: Vec<&str> = creds.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["client-certificate-data", "client-key-data"]);
    assert_eq!(
        kc.pointer("/users/0/name"),
        Some(&Value::from("kind-kdrill"))
    );
    let who = sim.kubectl(&["auth", "whoami", "-o", "json"]).ok();
    let who: Value = serde_json::from_str(&who).unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], "kubernetes-admin");
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        serde_json::json!(["kubeadm:cluster-admins", "system:authenticated"])
    );
    // x509 users have no uid.
    assert_eq!(who["status"]["userInfo"].get("uid"), None);
}

#[test]
fn a_certificate_from_another_ca_is_unauthorized() {
    let sim = Sim::start();
    let other = Sim::start();
    let mut kc = read(&sim.kubeconfig);
    let foreign = read(&other.kubeconfig);
    *kc.pointer_mut("/users/0/user").unwrap() = foreign.pointer("/users/0/user").unwrap().clone();
    let bad = write(&sim, "foreign.kubeconfig", &kc);
    // The apiserver requests client certificates without verifying them in
    // the handshake: the x509 authenticator refuses it, a 401.
    let err = kubectl(&sim, &bad, &["get", "pods"]).err();
    assert!(err.ends_with(UNAUTHORIZED), "{err}");
    let err = kubectl(&sim, &bad, &["auth", "whoami"]).err();
    assert_eq!(
        err,
        "error: You must be logged in to the server (Unauthorized)\n"
    );
    // And the other cluster still takes it.
    let good = other.kubeconfig.to_string_lossy().into_owned();
    assert!(kubectl(&other, &good, &["get", "pods"]).code == 0);
}

#[test]
fn certificates_authenticate_before_tokens() {
    let sim = Sim::start();
    let other = Sim::start();
    let admin = read(&sim.kubeconfig);
    let token = {
        let out = Command::new(env!("CARGO_BIN_EXE_kdrill"))
            .args(["sim", "kubeconfig", "--user", "alice", "--kubeconfig"])
            .arg(&sim.kubeconfig)
            .output()
            .unwrap();
        assert!(out.status.success());
        let kc: Value = kdrill::api::yaml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
        user(&kc)["token"].as_str().unwrap().to_string()
    };
    let whoami = |creds: Value, name: &str| {
        let mut kc = admin.clone();
        *kc.pointer_mut("/users/0/user").unwrap() = creds;
        let path = write(&sim, name, &kc);
        kubectl(
            &sim,
            &path,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
        )
    };
    let mut cert_and_token = user(&admin).clone();
    cert_and_token.insert("token".into(), Value::from(token.clone()));
    assert_eq!(
        whoami(Value::Object(cert_and_token), "both.kubeconfig").ok(),
        "kubernetes-admin"
    );
    // A certificate that does not verify leaves it to the token...
    let mut foreign = user(&read(&other.kubeconfig)).clone();
    foreign.insert("token".into(), Value::from(token));
    assert_eq!(
        whoami(Value::Object(foreign.clone()), "foreign-token.kubeconfig").ok(),
        "alice"
    );
    // ...and a valid certificate makes a wrong token irrelevant.
    let mut wrong = user(&admin).clone();
    wrong.insert("token".into(), Value::from("wrong"));
    assert_eq!(
        whoami(Value::Object(wrong), "wrong-token.kubeconfig").ok(),
        "kubernetes-admin"
    );
    foreign.insert("token".into(), Value::from("wrong"));
    assert_eq!(
        whoami(Value::Object(foreign), "neither.kubeconfig").err(),
        "error: You must be logged in to the server (Unauthorized)\n"
    );
}

#[tokio::test]
async fn kube_rs_authenticates_with_the_client_certificate() {
    let sim = Sim::start();
    let kc = Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    let auth = &kc.auth_infos[0].auth_info.as_ref().unwrap();
    assert!(auth.client_certificate_data.is_some() && auth.token.is_none());
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(cfg).unwrap();
    // Anonymous would get a 403: listing pods proves the certificate's user.
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::all(client.clone());
    pods.list(&ListParams::default()).await.unwrap();
    let who = client
        .request_text(
            axum::http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
                .header("content-type", "application/json")
                .body(
                    br#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#
                        .to_vec(),
                )
                .unwrap(),
        )
        .await
        .unwrap();
    let who: Value = serde_json::from_str(&who).unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], "kubernetes-admin");
}

/// `kdrill sim kubeconfig` with `extra` flags.
fn sim_kubeconfig(sim: &Sim, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kdrill"))
        .args(["sim", "kubeconfig", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .args(extra)
        .env("KDRILL_HOME", sim.dir.path())
        .output()
        .unwrap()
}

#[test]
fn sim_kubeconfig_issues_client_certificates_signed_by_the_cluster_ca() {
    let sim = Sim::start();
    let out = sim_kubeconfig(
        &sim,
        &[
            "--user",
            "carol",
            "--group",
            "devs",
            "--group",
            "ops",
            "--client-certificate",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kc: Value = kdrill::api::yaml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert!(user(&kc).contains_key("client-certificate-data"), "{kc}");
    assert_eq!(user(&kc).get("token"), None);
    let carol = write(&sim, "carol.kubeconfig", &kc);
    let who = kubectl(&sim, &carol, &["auth", "whoami"]).ok();
    assert_eq!(
        super::harness::rows(&who)[1..],
        [
            vec!["Username".to_string(), "carol".into()],
            vec!["Groups".into(), "[devs ops system:authenticated]".into()],
        ]
    );
    assert_eq!(
        kubectl(&sim, &carol, &["get", "pods"]).err(),
        "Error from server (Forbidden): pods is forbidden: User \"carol\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"\n"
    );
    sim.kubectl(&[
        "create",
        "rolebinding",
        "devs-view",
        "--clusterrole",
        "view",
        "--group",
        "ops",
    ])
    .ok();
    assert_eq!(
        kubectl(&sim, &carol, &["get", "pods"]).stderr,
        "No resources found in default namespace.\n"
    );
    // rcgen keeps one value per attribute type: two O values at most.
    let three = sim_kubeconfig(
        &sim,
        &[
            "--user",
            "dan",
            "--group",
            "a",
            "--group",
            "b",
            "--group",
            "c",
            "--client-certificate",
        ],
    );
    assert_eq!(three.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&three.stderr),
        "error: a client certificate carries at most 2 groups\n"
    );
}
