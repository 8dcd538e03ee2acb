//! A scenario's own images: `/kdrill/v1/images` teaches the simulated
//! container runtime what an image does, and pods then pull and run it so.
//! kubectl reaches the endpoint with `--raw` like any non-resource path.

use super::harness::{Sim, rows};

const BEHAVIOUR: &str = r#"{
  "tags": ["1.4.2"],
  "ports": [8080],
  "paths": [{"path": "/healthz", "status": 200}],
  "requiresEnv": ["DATABASE_URL"],
  "missingEnvMessage": "shop-api: fatal: {name} must be set",
  "logs": [{"at": 0, "line": "shop-api 1.4.2 starting"}],
  "private": {"username": "ci", "password": "s3cret"}
}"#;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api}
spec:
  imagePullSecrets: [{name: regcred}]
  containers:
  - name: api
    image: registry.example.com/shop/api:1.4.2
"#;

/// Polls `kubectl args` until `pred` holds on its stdout, moving the
/// virtual clock five seconds between polls (at most ten simulated minutes).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.advancing("5s", 120, args, pred)
}

#[test]
fn a_declared_private_image_pulls_with_its_login_and_runs_as_declared() {
    let sim = Sim::start_virtual();
    let body = sim.file("api.json", BEHAVIOUR);
    sim.kubectl(&[
        "replace",
        "--raw",
        "/kdrill/v1/images/registry.example.com/shop/api",
        "-f",
        &body,
    ])
    .ok();
    let listed = sim.kubectl(&["get", "--raw", "/kdrill/v1/images"]).ok();
    assert!(
        listed.contains(r#""repository":"registry.example.com/shop/api""#),
        "{listed}"
    );

    // Without the login the private registry refuses the pull.
    sim.kubectl(&[
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--docker-server=registry.example.com",
        "--docker-username=ci",
        "--docker-password=wrong",
    ])
    .ok();
    let pod = sim.file("pod.yaml", POD);
    sim.kubectl(&["apply", "-f", &pod]).ok();
    eventually(&sim, &["get", "pod", "api", "--no-headers"], |o| {
        rows(o)
            .first()
            .is_some_and(|r| r[2] == "ErrImagePull" || r[2] == "ImagePullBackOff")
    });
    let describe = sim.kubectl(&["describe", "pod", "api"]).ok();
    assert!(
        describe.contains("401 Unauthorized"),
        "a wrong password is refused by the registry:\n{describe}"
    );

    // With the right login it pulls, then fails as the image is declared to.
    sim.kubectl(&["delete", "pod", "api", "--wait=false"]).ok();
    sim.kubectl(&["delete", "secret", "regcred"]).ok();
    sim.kubectl(&[
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--docker-server=registry.example.com",
        "--docker-username=ci",
        "--docker-password=s3cret",
    ])
    .ok();
    eventually(&sim, &["get", "pods", "--no-headers"], |o| {
        !o.contains("api ")
    });
    sim.kubectl(&["apply", "-f", &pod]).ok();
    eventually(&sim, &["get", "pod", "api", "--no-headers"], |o| {
        rows(o).first().is_some_and(|r| r[2] == "CrashLoopBackOff")
    });
    assert_eq!(
        sim.kubectl(&["logs", "api", "--previous"]).ok(),
        "shop-api 1.4.2 starting\nshop-api: fatal: DATABASE_URL must be set\n"
    );
}

#[test]
fn a_behaviour_with_an_unknown_field_is_refused() {
    let sim = Sim::start();
    let body = sim.file("bad.json", r#"{"portz": [80]}"#);
    let err = sim
        .kubectl(&[
            "replace",
            "--raw",
            "/kdrill/v1/images/registry.example.com/shop/api",
            "-f",
            &body,
        ])
        .err();
    assert!(
        err.contains("unknown field `portz`"),
        "the refusal names the field:\n{err}"
    );
}
