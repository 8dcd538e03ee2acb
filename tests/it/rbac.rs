//! RBAC with the real kubectl: restricted users' kubeconfigs, 403 bodies,
//! `auth can-i`, impersonation, escalation checks and ServiceAccount tokens.

use super::harness::{Run, Sim, rows};
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

const LISTER: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: lister, namespace: team-a}
spec:
  selector: {matchLabels: {app: lister}}
  template:
    metadata: {labels: {app: lister}}
    spec:
      containers:
      - name: kubectl
        image: bitnami/kubectl:1.33
        command: ["/bin/sh", "-c"]
        args: ["while true; do kubectl get configmaps; sleep 10; done"]
"#;

const FORBIDDEN_CMS: &str = "Error from server (Forbidden): configmaps is forbidden: User \"system:serviceaccount:team-a:default\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"";

/// Grants `team-a`'s default ServiceAccount read access to ConfigMaps.
fn grant_configmap_reader(sim: &Sim) {
    sim.kubectl(&[
        "create",
        "role",
        "cm-reader",
        "--verb=get,list,watch",
        "--resource=configmaps",
        "-n",
        "team-a",
    ])
    .ok();
    sim.kubectl(&[
        "create",
        "rolebinding",
        "cm-reader",
        "--role=cm-reader",
        "--serviceaccount=team-a:default",
        "-n",
        "team-a",
    ])
    .ok();
}

#[test]
fn a_workload_calling_the_api_as_its_service_account_logs_403s_until_a_rolebinding() {
    let sim = Sim::start_virtual();
    sim.kubectl(&["create", "namespace", "team-a"]).ok();
    let manifest = sim.file("lister.yaml", LISTER);
    sim.kubectl(&["apply", "-f", &manifest]).ok();
    let logs = sim.advancing("5s", 60, &["logs", "deploy/lister", "-n", "team-a"], |o| {
        o.lines().count() >= 2
    });
    for line in logs.lines() {
        assert_eq!(line, FORBIDDEN_CMS);
    }
    // The pod's own view agrees with the API server's answer for the SA.
    let can_i = sim.kubectl(&[
        "auth",
        "can-i",
        "list",
        "configmaps",
        "-n",
        "team-a",
        "--as=system:serviceaccount:team-a:default",
    ]);
    assert_eq!(can_i.stdout, "no\n");
    let pod = sim
        .kubectl(&[
            "get",
            "pods",
            "-n",
            "team-a",
            "-l",
            "app=lister",
            "-o",
            "name",
        ])
        .ok();
    let pod = pod.trim();
    let exec = sim.kubectl(&[
        "exec",
        "-n",
        "team-a",
        pod,
        "--",
        "kubectl",
        "auth",
        "can-i",
        "list",
        "configmaps",
    ]);
    assert_eq!((exec.stdout.as_str(), exec.code), ("no\n", 1));

    grant_configmap_reader(&sim);
    let logs = sim.advancing("5s", 10, &["logs", "deploy/lister", "-n", "team-a"], |o| {
        o.contains("kube-root-ca.crt")
    });
    let last: Vec<&str> = logs.lines().rev().take(2).collect();
    assert!(last[0].starts_with("kube-root-ca.crt   1      "), "{logs}");
    assert_eq!(last[1], "NAME               DATA   AGE", "{logs}");
    let exec = sim.kubectl(&[
        "exec",
        "-n",
        "team-a",
        pod,
        "--",
        "kubectl",
        "auth",
        "can-i",
        "list",
        "configmaps",
    ]);
    assert_eq!((exec.stdout.as_str(), exec.code), ("yes\n", 0));
    // It never restarted: a 403 in a shell loop is just output.
    let restarts = sim
        .kubectl(&[
            "get",
            pod,
            "-n",
            "team-a",
            "-o",
            "jsonpath={.status.containerStatuses[0].restartCount}",
        ])
        .ok();
    assert_eq!(restarts, "0");
}

const LISTER_APP: &str = r#"{
  "apiCalls": [{"resource": "configmaps", "every": "10s"}],
  "exitOnError": true
}"#;

#[test]
fn an_app_that_exits_on_a_403_crash_loops_until_its_service_account_may_list() {
    let sim = Sim::start_virtual();
    sim.kubectl(&["create", "namespace", "team-a"]).ok();
    let body = sim.file("lister.json", LISTER_APP);
    sim.kubectl(&[
        "replace",
        "--raw",
        "/kdrill/v1/images/registry.example.com/team/lister",
        "-f",
        &body,
    ])
    .ok();
    sim.kubectl(&[
        "create",
        "deployment",
        "lister",
        "--image=registry.example.com/team/lister:1.0",
        "-n",
        "team-a",
    ])
    .ok();
    sim.advancing(
        "5s",
        60,
        &["get", "pods", "-n", "team-a", "--no-headers"],
        |o| o.contains("CrashLoopBackOff"),
    );
    let logs = sim
        .kubectl(&["logs", "deploy/lister", "-n", "team-a", "--previous"])
        .ok();
    let line = logs.lines().last().unwrap_or_default();
    let suffix = format!(
        " failed to list configmaps: {}",
        FORBIDDEN_CMS.trim_start_matches("Error from server (Forbidden): ")
    );
    assert!(line.ends_with(&suffix), "{logs}");

    grant_configmap_reader(&sim);
    // After the next restart (back-off at most five minutes) it keeps running.
    sim.advancing("10s", 60, &["logs", "deploy/lister", "-n", "team-a"], |o| {
        o.contains(" list configmaps: 1 items")
    });
    let status = sim.advancing(
        "10s",
        10,
        &["get", "pods", "-n", "team-a", "--no-headers"],
        |o| o.contains("Running"),
    );
    // RESTARTS reads `2 (14s ago)`: the count must not move.
    let count = |status: &str| {
        rows(status)[0][3]
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let restarts = count(&status);
    assert_ne!(restarts, "0", "{status}");
    sim.advance("2m");
    let status = sim
        .kubectl(&["get", "pods", "-n", "team-a", "--no-headers"])
        .ok();
    assert!(status.contains("Running"), "{status}");
    assert_eq!(count(&status), restarts, "{status}");
}
