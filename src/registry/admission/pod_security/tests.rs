use super::*;
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (format!("{PREFIX}{k}"), json!(v)))
        .collect()
}

fn nginx() -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
}

/// A pod that passes restricted.
fn hardened() -> Value {
    json!({"metadata": {"name": "ok"}, "spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}})
}

#[test]
fn policy_reads_labels_with_fallbacks() {
    let p = policy(Some(&labels(&[
        ("enforce", "baseline"),
        ("enforce-version", "v1.30"),
        ("warn", "restricted"),
    ])));
    assert_eq!(p.enforce.to_string(), "baseline:v1.30");
    assert_eq!(p.warn.to_string(), "restricted:latest");
    assert_eq!(p.audit.to_string(), "privileged:latest");
    let bad = policy(Some(&labels(&[
        ("enforce", "strict"),
        ("warn", "nope"),
        ("enforce-version", "1.30"),
    ])));
    assert_eq!(bad.enforce.to_string(), "restricted:latest");
    assert_eq!(bad.warn.level, Level::Privileged);
    assert_eq!(policy(None).enforce.level, Level::Privileged);
    // A mode's version label alone sets no level, and near-miss keys are
    // not the label.
    let mut near = labels(&[
        ("audit-version", "v1.29"),
        ("warn-versions", "v1.28"),
        ("enforcex", "restricted"),
    ]);
    near.insert("kubernetes.io/metadata.name".into(), json!("team"));
    let p = policy(Some(&near));
    assert_eq!(p.audit.to_string(), "privileged:v1.29");
    assert_eq!(p.warn.to_string(), "privileged:latest");
    assert_eq!(p.enforce.to_string(), "privileged:latest");
}

#[test]
fn restricted_plain_pod_lists_the_four_restricted_checks() {
    let v = evaluate(Level::Restricted, &nginx()["spec"]);
    assert_eq!(
        forbidden_detail(&v),
        "allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false), \
unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), \
runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true), \
seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    assert!(evaluate(Level::Baseline, &nginx()["spec"]).is_empty());
    assert!(evaluate(Level::Restricted, &hardened()["spec"]).is_empty());
}

#[test]
fn baseline_checks_name_what_they_found() {
    let cases = [
        (
            json!({"hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": [{"name": "a"}]}),
            "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)",
        ),
        (
            json!({"containers": [{"name": "a", "securityContext": {"privileged": true}},
                                  {"name": "b", "securityContext": {"privileged": true}}]}),
            "privileged (containers \"a\", \"b\" must not set securityContext.privileged=true)",
        ),
        (
            json!({"volumes": [{"name": "proc", "hostPath": {"path": "/proc"}}, {"name": "sys", "hostPath": {"path": "/sys"}},
                               {"name": "tmp", "emptyDir": {}}],
                   "containers": [{"name": "a"}]}),
            "hostPath volumes (volumes \"proc\", \"sys\")",
        ),
        (
            json!({"containers": [{"name": "node-exporter", "ports": [{"containerPort": 9100, "hostPort": 9100}]}]}),
            "hostPort (container \"node-exporter\" uses hostPort 9100)",
        ),
        (
            json!({"containers": [{"name": "kube-flannel", "securityContext": {"capabilities": {"add": ["NET_RAW", "NET_ADMIN", "CHOWN"]}}}]}),
            "non-default capabilities (container \"kube-flannel\" must not include \"NET_ADMIN\", \"NET_RAW\" in securityContext.capabilities.add)",
        ),
        (
            json!({"hostNetwork": true, "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
                   "containers": [{"name": "a", "securityContext": {"privileged": true}}]}),
            "host namespaces (hostNetwork=true), hostPath volumes (volume \"h\"), privileged (container \"a\" must not set securityContext.privileged=true)",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(forbidden_detail(&evaluate(Level::Baseline, &spec)), want);
    }
}

#[test]
fn restricted_overrides_baseline_volume_and_capability_checks() {
    let mut pod = hardened();
    pod["spec"]["volumes"] = json!([{"name": "host", "hostPath": {"path": "/"}}, {"name": "nfs", "nfs": {"server": "x", "path": "/"}}]);
    pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["SYS_ADMIN"]);
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    assert_eq!(
        forbidden_detail(&evaluate(Level::Restricted, &pod["spec"])),
        "privileged (container \"app\" must not set securityContext.privileged=true), \
unrestricted capabilities (container \"app\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add), \
restricted volume types (volumes \"host\", \"nfs\" use restricted volume types \"hostPath\", \"nfs\"), \
runAsUser=0 (container \"app\" must not set runAsUser=0)"
    );
}

#[test]
fn explicit_bad_settings_are_named_with_the_pod() {
    let spec = json!({"securityContext": {"runAsNonRoot": false, "seccompProfile": {"type": "Unconfined"}},
        "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false}}]});
    assert_eq!(
        forbidden_detail(&evaluate(Level::Restricted, &spec)),
        "runAsNonRoot != true (pod and container \"a\" must not set securityContext.runAsNonRoot=false), \
seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"
    );
}

#[test]
fn enforce_refuses_pods_and_warn_warns() {
    let l = labels(&[("enforce", "baseline"), ("warn", "restricted")]);
    let mut bad = nginx();
    bad["spec"]["hostNetwork"] = json!(true);
    let err = admit_create(Some(&l), "", "pods", &bad).unwrap_err();
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        "pods \"web\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"
    );
    let warnings = admit_create(Some(&l), "", "pods", &nginx()).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with(
        "would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false"
    ));
    assert!(
        admit_create(Some(&l), "", "pods", &hardened())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn workloads_only_warn() {
    let dep = json!({"metadata": {"name": "web"}, "spec": {"template": {"spec": {
        "hostPID": true, "containers": [{"name": "app"}]}}}});
    let enforce_only = labels(&[("enforce", "baseline")]);
    assert!(
        admit_create(Some(&enforce_only), "apps", "deployments", &dep)
            .unwrap()
            .is_empty()
    );
    let both = labels(&[("enforce", "baseline"), ("warn", "baseline")]);
    assert_eq!(
        admit_create(Some(&both), "apps", "deployments", &dep).unwrap(),
        ["would violate PodSecurity \"baseline:latest\": host namespaces (hostPID=true)"]
    );
    let cj = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostIPC": true, "containers": [{"name": "c"}]}}}}}});
    assert_eq!(
        admit_create(Some(&both), "batch", "cronjobs", &cj)
            .unwrap()
            .len(),
        1
    );
    assert!(
        admit_create(Some(&both), "", "configmaps", &json!({}))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn tightening_enforce_warns_about_existing_pods() {
    let mut priv_a = nginx();
    priv_a["metadata"]["name"] = json!("b-priv");
    priv_a["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let mut priv_b = priv_a.clone();
    priv_b["metadata"]["name"] = json!("a-priv");
    let mut host = nginx();
    host["metadata"]["name"] = json!("host");
    host["spec"]["hostNetwork"] = json!(true);
    let pods = [priv_a, priv_b, host, hardened()];
    let new = labels(&[("enforce", "baseline")]);
    assert_eq!(
        namespace_update_warnings("team", None, Some(&new), pods.iter()),
        [
            "existing pods in namespace \"team\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "a-priv (and 1 other pod): privileged",
            "host: host namespaces",
        ]
    );
    // Unchanged, relaxed, or privileged: nothing to say.
    assert!(namespace_update_warnings("team", Some(&new), Some(&new), pods.iter()).is_empty());
    let relaxed = labels(&[("enforce", "privileged")]);
    assert!(namespace_update_warnings("team", Some(&new), Some(&relaxed), pods.iter()).is_empty());
    let restricted = labels(&[("enforce", "restricted")]);
    let loose = labels(&[("enforce", "baseline")]);
    assert!(
        namespace_update_warnings("team", Some(&restricted), Some(&loose), pods.iter()).is_empty()
    );
}
