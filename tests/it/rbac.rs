//! RBAC with the real kubectl: restricted users' kubeconfigs, 403 bodies,
//! `auth can-i`, impersonation, escalation checks and ServiceAccount tokens.

use super::harness::{Run, Sim};
use std::process::Command;

/// `kdrill sim kubeconfig` for a new user; returns the kubeconfig's path.
fn user_kubeconfig(sim: &Sim, user: &str, groups: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdrill"));
    cmd.args(["sim", "kubeconfig", "--user", user, "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .env("KDRILL_HOME", sim.dir.path());
    for g in groups {
        cmd.args(["--group", g]);
    }
    let out = cmd.output().expect("run kdrill sim kubeconfig");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sim.file(
        &format!("{user}.kubeconfig"),
        &String::from_utf8_lossy(&out.stdout),
    )
}

/// kubectl with another kubeconfig.
fn as_user(sim: &Sim, kubeconfig: &str, args: &[&str]) -> Run {
    let mut all = vec!["--kubeconfig", kubeconfig];
    all.extend_from_slice(args);
    sim.kubectl(&all)
}

#[test]
fn a_restricted_user_gets_403s_exactly_where_rbac_says() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "dev"]).ok();
    sim.kubectl(&[
        "create",
        "configmap",
        "app",
        "-n",
        "dev",
        "--from-literal=k=v",
    ])
    .ok();
    let alice = user_kubeconfig(&sim, "alice", &[]);
    assert_eq!(
        as_user(&sim, &alice, &["get", "pods", "-n", "dev"]).err(),
        "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"dev\"\n"
    );
    sim.kubectl(&[
        "create",
        "rolebinding",
        "alice-view",
        "--clusterrole=view",
        "--user=alice",
        "-n",
        "dev",
    ])
    .ok();
    let run = as_user(&sim, &alice, &["get", "pods", "-n", "dev"]);
    assert_eq!(run.stderr, "No resources found in dev namespace.\n");
    assert!(
        as_user(&sim, &alice, &["get", "configmap", "app", "-n", "dev"])
            .ok()
            .contains("app")
    );
    assert_eq!(
        as_user(&sim, &alice, &["delete", "configmap", "app", "-n", "dev"]).err(),
        "Error from server (Forbidden): configmaps \"app\" is forbidden: User \"alice\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"dev\"\n"
    );
    // view leaves Secrets out.
    assert_eq!(
        as_user(&sim, &alice, &["get", "secrets", "-n", "dev"]).err(),
        "Error from server (Forbidden): secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace \"dev\"\n"
    );
    assert_eq!(
        as_user(&sim, &alice, &["get", "pods", "-n", "default"]).err(),
        "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"\n"
    );
    assert_eq!(
        as_user(&sim, &alice, &["get", "nodes"]).err(),
        "Error from server (Forbidden): nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group \"\" at the cluster scope\n"
    );
    assert_eq!(
        as_user(&sim, &alice, &["get", "namespace", "kube-system"]).err(),
        "Error from server (Forbidden): namespaces \"kube-system\" is forbidden: User \"alice\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"kube-system\"\n"
    );
    // The admin still does everything.
    sim.kubectl(&["delete", "configmap", "app", "-n", "dev"])
        .ok();
}

#[test]
fn auth_can_i_answers_from_the_same_rules() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "dev"]).ok();
    sim.kubectl(&[
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
        "-n",
        "dev",
    ])
    .ok();
    sim.kubectl(&[
        "create",
        "rolebinding",
        "read",
        "--role=pod-reader",
        "--user=alice",
        "-n",
        "dev",
    ])
    .ok();
    let alice = user_kubeconfig(&sim, "alice", &[]);
    assert_eq!(
        as_user(
            &sim,
            &alice,
            &["auth", "can-i", "list", "pods", "-n", "dev"]
        )
        .ok(),
        "yes\n"
    );
    let no = as_user(
        &sim,
        &alice,
        &["auth", "can-i", "delete", "pods", "-n", "dev"],
    );
    assert_eq!((no.stdout.as_str(), no.code), ("no\n", 1));
    let list = as_user(&sim, &alice, &["auth", "can-i", "--list", "-n", "dev"]).ok();
    let rows = super::harness::rows(&list);
    assert_eq!(
        rows[0],
        ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    );
    assert!(
        rows.contains(&vec![
            "pods".into(),
            "[]".into(),
            "[]".into(),
            "[get list]".into()
        ]),
        "{list}"
    );
    assert!(
        rows.contains(&vec![
            "selfsubjectaccessreviews.authorization.k8s.io".into(),
            "[]".into(),
            "[]".into(),
            "[create]".into()
        ]),
        "{list}"
    );
    assert!(
        rows.contains(&vec!["[/api/*]".into(), "[]".into(), "[get]".into()]),
        "{list}"
    );
    // The admin asks on alice's behalf, and for itself.
    assert_eq!(
        sim.kubectl(&["auth", "can-i", "get", "pods", "-n", "dev", "--as", "alice"])
            .ok(),
        "yes\n"
    );
    assert_eq!(
        sim.kubectl(&[
            "auth", "can-i", "get", "pods", "-n", "default", "--as", "alice"
        ])
        .code,
        1
    );
    assert_eq!(sim.kubectl(&["auth", "can-i", "*", "*"]).ok(), "yes\n");
    assert_eq!(
        sim.kubectl(&[
            "auth",
            "can-i",
            "create",
            "deployments",
            "-n",
            "dev",
            "--as",
            "bob",
            "--as-group",
            "system:masters"
        ])
        .ok(),
        "yes\n"
    );
    // whoami reports the impersonated identity.
    let who = sim
        .kubectl(&["auth", "whoami", "--as", "alice", "--as-group", "devs"])
        .ok();
    assert!(
        who.contains("alice") && who.contains("devs") && who.contains("system:authenticated"),
        "{who}"
    );
}

#[test]
fn impersonation_is_itself_authorized() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "dev"]).ok();
    assert_eq!(
        sim.kubectl(&["get", "pods", "-n", "dev", "--as", "alice"])
            .err(),
        "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"dev\"\n"
    );
    let alice = user_kubeconfig(&sim, "alice", &[]);
    assert_eq!(
        as_user(&sim, &alice, &["get", "pods", "-n", "dev", "--as", "bob"]).err(),
        "Error from server (Forbidden): users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope\n"
    );
    assert_eq!(
        as_user(
            &sim,
            &alice,
            &[
                "get",
                "pods",
                "-n",
                "dev",
                "--as",
                "system:serviceaccount:dev:default"
            ]
        )
        .err(),
        "Error from server (Forbidden): serviceaccounts \"default\" is forbidden: User \"alice\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"dev\"\n"
    );
}

#[test]
fn an_rbac_denial_is_fixed_by_a_rolebinding_for_the_group() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "dev"]).ok();
    let carol = user_kubeconfig(&sim, "carol", &["devs"]);
    let err = as_user(
        &sim,
        &carol,
        &["create", "deployment", "web", "--image=nginx", "-n", "dev"],
    )
    .err();
    assert!(
        err.contains("deployments.apps is forbidden: User \"carol\" cannot create resource \"deployments\" in API group \"apps\" in the namespace \"dev\""),
        "{err}"
    );
    sim.kubectl(&[
        "create",
        "rolebinding",
        "devs-edit",
        "--clusterrole=edit",
        "--group=devs",
        "-n",
        "dev",
    ])
    .ok();
    as_user(
        &sim,
        &carol,
        &["create", "deployment", "web", "--image=nginx", "-n", "dev"],
    )
    .ok();
    as_user(
        &sim,
        &carol,
        &["scale", "deployment", "web", "--replicas=2", "-n", "dev"],
    )
    .ok();
    // edit does not let carol hand out roles.
    let err = as_user(
        &sim,
        &carol,
        &[
            "create",
            "rolebinding",
            "x",
            "--clusterrole=edit",
            "--user=dave",
            "-n",
            "dev",
        ],
    )
    .err();
    assert!(
        err.contains("rolebindings.rbac.authorization.k8s.io is forbidden: User \"carol\" cannot create resource \"rolebindings\" in API group \"rbac.authorization.k8s.io\" in the namespace \"dev\""),
        "{err}"
    );
}

#[test]
fn role_writes_cannot_escalate() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "dev"]).ok();
    sim.kubectl(&[
        "create",
        "rolebinding",
        "alice-admin",
        "--clusterrole=admin",
        "--user=alice",
        "-n",
        "dev",
    ])
    .ok();
    let alice = user_kubeconfig(&sim, "alice", &[]);
    // admin holds pod reads: a role with them is fine, and so is binding it.
    as_user(
        &sim,
        &alice,
        &[
            "create",
            "role",
            "reader",
            "--verb=get",
            "--resource=pods",
            "-n",
            "dev",
        ],
    )
    .ok();
    as_user(
        &sim,
        &alice,
        &[
            "create",
            "rolebinding",
            "r",
            "--role=reader",
            "--user=bob",
            "-n",
            "dev",
        ],
    )
    .ok();
    let err = as_user(
        &sim,
        &alice,
        &[
            "create",
            "role",
            "nodes",
            "--verb=get",
            "--resource=nodes",
            "-n",
            "dev",
        ],
    )
    .err();
    assert!(
        err.contains(
            "roles.rbac.authorization.k8s.io \"nodes\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\"]}"
        ),
        "{err}"
    );
    let err = as_user(
        &sim,
        &alice,
        &[
            "create",
            "rolebinding",
            "root",
            "--clusterrole=cluster-admin",
            "--user=alice",
            "-n",
            "dev",
        ],
    )
    .err();
    assert!(
        err.contains(
            "rolebindings.rbac.authorization.k8s.io \"root\" is forbidden: user \"alice\""
        ),
        "{err}"
    );
}

#[test]
fn service_account_tokens_authenticate_as_the_account() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "dev"]).ok();
    sim.kubectl(&["create", "serviceaccount", "app", "-n", "dev"])
        .ok();
    let token = sim.kubectl(&["create", "token", "app", "-n", "dev"]).ok();
    let token = token.trim();
    // kubectl sends `--token` along with the kubeconfig's client
    // certificate, which the apiserver authenticates first (kubectl#1657):
    // the token goes with a kubeconfig whose user has no credentials.
    let mut cfg =
        kdrill::api::yaml::from_str(&std::fs::read_to_string(&sim.kubeconfig).unwrap()).unwrap();
    *cfg.pointer_mut("/users/0/user").unwrap() = serde_json::json!({});
    let bare = sim.file("bare-kubeconfig", &cfg.to_string());
    let as_sa = |args: &[&str]| {
        let mut all = vec!["--kubeconfig", bare.as_str(), "--token", token];
        all.extend_from_slice(args);
        sim.kubectl(&all)
    };
    // With the admin's kubeconfig the certificate wins.
    assert_eq!(
        sim.kubectl(&[
            "--token",
            token,
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}"
        ])
        .ok(),
        "kubernetes-admin"
    );
    let run = as_sa(&["get", "configmaps", "-n", "dev"]);
    assert_eq!(
        run.err(),
        "Error from server (Forbidden): configmaps is forbidden: User \"system:serviceaccount:dev:app\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"dev\"\n"
    );
    sim.kubectl(&[
        "create",
        "rolebinding",
        "app-view",
        "--clusterrole=view",
        "--serviceaccount=dev:app",
        "-n",
        "dev",
    ])
    .ok();
    as_sa(&["get", "configmaps", "-n", "dev"]).ok();
    // Deleting the account invalidates its tokens.
    sim.kubectl(&["delete", "serviceaccount", "app", "-n", "dev"])
        .ok();
    assert_eq!(
        as_sa(&["get", "configmaps", "-n", "dev"]).err(),
        "error: You must be logged in to the server (Unauthorized)\n"
    );
}
