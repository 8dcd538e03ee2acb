//! Admission with the real kubectl: ResourceQuota (refusals, the
//! ReplicaSet's FailedCreate, usage in `describe quota`), LimitRange
//! (defaults, minimums) and Pod Security (enforce, warn, labelling a
//! namespace with violating pods).

use super::harness::Sim;

/// Polls `kubectl args` until `pred` holds on its stdout, moving the
/// virtual clock one second between polls (at most two simulated minutes).
#[track_caller]
fn eventually(sim: &Sim, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    sim.advancing("1s", 120, args, pred)
}

const QUOTA_PODS_2: &str = "apiVersion: v1
kind: ResourceQuota
metadata:
  name: team-quota
spec:
  hard:
    pods: \"2\"
";

#[test]
fn quota_refuses_a_bare_pod_once_the_count_is_reached() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], QUOTA_PODS_2).ok();
    sim.kubectl(&["run", "a", "--image=nginx"]).ok();
    sim.kubectl(&["run", "b", "--image=nginx"]).ok();
    let err = sim.kubectl(&["run", "c", "--image=nginx"]).err();
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): pods \"c\" is forbidden: exceeded quota: team-quota, requested: pods=1, used: pods=2, limited: pods=2"
    );
    // The controller publishes the usage.
    let describe = eventually(&sim, &["describe", "quota", "team-quota"], |o| {
        o.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["pods", "2", "2"])
    });
    assert!(
        describe
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Resource", "Used", "Hard"]),
        "{describe}"
    );
    let get = sim.kubectl(&["get", "quota"]).ok();
    assert!(get.contains("pods: 2/2"), "{get}");
    // Deleting a pod frees its slot.
    sim.kubectl(&["delete", "pod", "a", "--grace-period=0", "--force"])
        .ok();
    eventually(&sim, &["get", "quota"], |o| o.contains("pods: 1/2"));
    sim.kubectl(&["run", "c", "--image=nginx"]).ok();
}

#[test]
fn quota_on_cpu_requires_requests_and_counts_them() {
    let sim = Sim::start_virtual();
    let quota = "apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
spec:
  hard:
    requests.cpu: \"1\"
    limits.cpu: \"2\"
";
    sim.kubectl_stdin(&["apply", "-f", "-"], quota).ok();
    let err = sim.kubectl(&["run", "app", "--image=nginx"]).err();
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): pods \"app\" is forbidden: failed quota: compute: must specify limits.cpu for: app; requests.cpu for: app"
    );
    let pod = |name: &str, cpu: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: nginx\n    resources:\n      requests:\n        cpu: {cpu}\n      limits:\n        cpu: {cpu}\n"
        )
    };
    sim.kubectl_stdin(&["apply", "-f", "-"], &pod("small", "600m"))
        .ok();
    let err = sim
        .kubectl_stdin(&["apply", "-f", "-"], &pod("big", "500m"))
        .err();
    assert!(
        err.contains("pods \"big\" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1"),
        "{err}"
    );
    eventually(&sim, &["describe", "quota", "compute"], |o| {
        o.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["requests.cpu", "600m", "1"])
    });
}

#[test]
fn a_deployment_over_quota_shows_failed_create_on_its_replicaset() {
    let sim = Sim::start_virtual();
    sim.kubectl_stdin(&["apply", "-f", "-"], QUOTA_PODS_2).ok();
    sim.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=3",
    ])
    .ok();
    let describe = eventually(&sim, &["describe", "rs", "-l", "app=web"], |o| {
        o.contains("FailedCreate")
    });
    let line = describe
        .lines()
        .find(|l| l.contains("Warning") && l.contains("FailedCreate"))
        .unwrap_or_default();
    assert!(line.contains("replicaset-controller"), "{line}");
    assert!(line.contains("Error creating: pods \"web-"), "{line}");
    assert!(
        line.ends_with(
            "is forbidden: exceeded quota: team-quota, requested: pods=1, used: pods=2, limited: pods=2"
        ),
        "{line}"
    );
    let pods = sim
        .kubectl(&["get", "pods", "-l", "app=web", "-o", "name"])
        .ok();
    assert_eq!(pods.lines().count(), 2, "{pods}");
    // The refusal is a ReplicaFailure condition on the ReplicaSet, and the
    // Deployment carries it over (`getReplicaFailures`).
    let rs = eventually(&sim, &["describe", "rs", "-l", "app=web"], |o| {
        o.contains("ReplicaFailure")
    });
    assert!(
        rs.contains("  ReplicaFailure   True    FailedCreate\n"),
        "{rs}"
    );
    let deploy = eventually(&sim, &["describe", "deploy", "web"], |o| {
        o.contains("ReplicaFailure")
    });
    assert!(
        deploy.contains("  ReplicaFailure   True    FailedCreate\n"),
        "{deploy}"
    );
    let message = sim
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"ReplicaFailure\")].message}",
        ])
        .ok();
    assert!(
        message.starts_with("pods \"web-")
            && message.ends_with(
                "exceeded quota: team-quota, requested: pods=1, used: pods=2, limited: pods=2"
            ),
        "{message}"
    );
    // Room in the quota: the next retry creates the pod and the condition goes.
    sim.kubectl(&["delete", "resourcequota", "team-quota"]).ok();
    eventually(&sim, &["describe", "deploy", "web"], |o| {
        !o.contains("ReplicaFailure") && o.contains("3 available")
    });
}

#[test]
fn bad_quantities_in_a_quota_are_invalid() {
    let sim = Sim::start_virtual();
    let quota = "apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
spec:
  hard:
    pods: \"-1\"
    count/pods: \"1.5\"
";
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], quota).err();
    assert!(
        err.contains("The ResourceQuota \"q\" is invalid: "),
        "{err}"
    );
    assert!(
        err.contains("spec.hard[pods]: Invalid value: \"-1\": must be greater than or equal to 0"),
        "{err}"
    );
    assert!(
        err.contains("spec.hard[count/pods]: Invalid value: \"1500m\": must be an integer"),
        "{err}"
    );
}

#[test]
fn limit_range_defaults_show_in_the_pod_and_its_minimum_refuses() {
    let sim = Sim::start_virtual();
    let lr = "apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
      memory: 256Mi
    defaultRequest:
      cpu: 200m
    min:
      cpu: 100m
";
    sim.kubectl_stdin(&["apply", "-f", "-"], lr).ok();
    sim.kubectl(&["run", "app", "--image=nginx"]).ok();
    let resources = sim
        .kubectl(&[
            "get",
            "pod",
            "app",
            "-o",
            "jsonpath={.spec.containers[0].resources}",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&resources).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"limits": {"cpu": "500m", "memory": "256Mi"},
                           "requests": {"cpu": "200m", "memory": "256Mi"}})
    );
    let note = sim
        .kubectl(&[
            "get",
            "pod",
            "app",
            "-o",
            r"jsonpath={.metadata.annotations.kubernetes\.io/limit-ranger}",
        ])
        .ok();
    assert_eq!(
        note,
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app"
    );
    let err = sim
        .kubectl(&["run", "tiny", "--image=nginx", "--overrides", r#"{"spec":{"containers":[{"name":"tiny","image":"nginx","resources":{"requests":{"cpu":"50m"}}}]}}"#])
        .err();
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): pods \"tiny\" is forbidden: minimum cpu usage per Container is 100m, but request is 50m"
    );
}

#[test]
fn pod_security_enforce_refuses_and_warn_warns() {
    let sim = Sim::start_virtual();
    sim.kubectl(&["create", "namespace", "locked"]).ok();
    sim.kubectl(&[
        "label",
        "namespace",
        "locked",
        "pod-security.kubernetes.io/enforce=restricted",
    ])
    .ok();
    let err = sim
        .kubectl(&["run", "web", "--image=nginx", "-n", "locked"])
        .err();
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): pods \"web\" is forbidden: violates PodSecurity \"restricted:latest\": \
allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false), \
unrestricted capabilities (container \"web\" must set securityContext.capabilities.drop=[\"ALL\"]), \
runAsNonRoot != true (pod or container \"web\" must set securityContext.runAsNonRoot=true), \
seccompProfile (pod or container \"web\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );

    sim.kubectl(&["create", "namespace", "watched"]).ok();
    sim.kubectl(&[
        "label",
        "namespace",
        "watched",
        "pod-security.kubernetes.io/warn=baseline",
        "pod-security.kubernetes.io/warn-version=v1.30",
    ])
    .ok();
    let pod = "apiVersion: v1
kind: Pod
metadata:
  name: host
  namespace: watched
spec:
  hostNetwork: true
  containers:
  - name: app
    image: nginx
    securityContext:
      privileged: true
";
    let run = sim.kubectl_stdin(&["apply", "-f", "-"], pod);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("pod/host created"), "{}", run.stdout);
    assert_eq!(
        run.stderr.trim(),
        "Warning: would violate PodSecurity \"baseline:v1.30\": host namespaces (hostNetwork=true), \
privileged (container \"app\" must not set securityContext.privileged=true)"
    );
    // A workload gets the warning for its template, and is not refused.
    let deployment = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  namespace: watched
spec:
  selector:
    matchLabels:
      app: d
  template:
    metadata:
      labels:
        app: d
    spec:
      hostPID: true
      containers:
      - name: app
        image: nginx
";
    let run = sim.kubectl_stdin(&["apply", "-f", "-", "--dry-run=server"], deployment);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "Warning: would violate PodSecurity \"baseline:v1.30\": host namespaces (hostPID=true)"
    );
}

#[test]
fn labelling_a_namespace_warns_about_existing_pods() {
    let sim = Sim::start_virtual();
    sim.kubectl(&["create", "namespace", "team"]).ok();
    sim.kubectl(&["run", "web", "--image=nginx", "-n", "team"])
        .ok();
    let run = sim.kubectl(&[
        "label",
        "namespace",
        "team",
        "pod-security.kubernetes.io/enforce=restricted",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "Warning: existing pods in namespace \"team\" violate the new PodSecurity enforce level \"restricted:latest\"\n\
Warning: web: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"
    );
    // The pod keeps running; new ones are refused.
    sim.kubectl(&["get", "pod", "web", "-n", "team"]).ok();
    sim.kubectl(&["run", "web2", "--image=nginx", "-n", "team"])
        .err();
}
