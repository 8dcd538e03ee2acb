//! Writing with the real kubectl: apply, create, generators, run, expose,
//! edit, patch, label, annotate, scale, set image, delete, auth, diff.

use super::harness::{Sim, rows};

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
"#;

#[test]
fn apply_creates_then_configures_then_is_unchanged() {
    let sim = Sim::start();
    let f = sim.file("web.yaml", DEPLOY);
    let out = sim.kubectl(&["apply", "-f", &f]);
    assert_eq!(out.stderr, "", "apply printed warnings");
    assert_eq!(out.ok(), "deployment.apps/web created\n");
    let out = sim.kubectl(&["apply", "-f", &f]).ok();
    assert_eq!(out, "deployment.apps/web unchanged\n");
    let f2 = sim.file(
        "web2.yaml",
        &DEPLOY
            .replace("replicas: 2", "replicas: 3")
            .replace("nginx:1.27", "nginx:1.28"),
    );
    let out = sim.kubectl(&["apply", "-f", &f2]);
    assert_eq!(out.stderr, "", "apply printed warnings");
    assert_eq!(out.ok(), "deployment.apps/web configured\n");
    let got = sim.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}"]).ok();
    assert_eq!(got, "3 nginx:1.28 2");
    let ann = sim
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}",
        ])
        .ok();
    assert!(ann.contains("\"replicas\":3"), "{ann}");
    // Defaults a learner sees in -o yaml.
    let yaml = sim.kubectl(&["get", "deploy", "web", "-o", "yaml"]).ok();
    for line in [
        "progressDeadlineSeconds: 600",
        "revisionHistoryLimit: 10",
        "maxSurge: 25%",
        "type: RollingUpdate",
        "terminationMessagePath: /dev/termination-log",
        "imagePullPolicy: IfNotPresent",
        "dnsPolicy: ClusterFirst",
        "restartPolicy: Always",
        "schedulerName: default-scheduler",
        "terminationGracePeriodSeconds: 30",
    ] {
        assert!(yaml.contains(line), "missing {line:?} in\n{yaml}");
    }
}

#[test]
fn server_side_apply_creates_and_updates() {
    let sim = Sim::start();
    let f = sim.file("web.yaml", DEPLOY);
    assert_eq!(
        sim.kubectl(&["apply", "--server-side", "-f", &f]).ok(),
        "deployment.apps/web serverside-applied\n"
    );
    let f2 = sim.file("web2.yaml", &DEPLOY.replace("replicas: 2", "replicas: 4"));
    assert_eq!(
        sim.kubectl(&["apply", "--server-side", "-f", &f2]).ok(),
        "deployment.apps/web serverside-applied\n"
    );
    assert_eq!(
        sim.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .ok(),
        "4"
    );
}

#[test]
fn create_from_file_and_already_exists() {
    let sim = Sim::start();
    let f = sim.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n",
    );
    assert_eq!(
        sim.kubectl(&["create", "-f", &f]).ok(),
        "configmap/cfg created\n"
    );
    let err = sim.kubectl(&["create", "-f", &f]).err();
    assert_eq!(
        err,
        format!(
            "Error from server (AlreadyExists): error when creating \"{f}\": configmaps \"cfg\" already exists\n"
        )
    );
}

#[test]
fn create_generators_send_protobuf_and_work() {
    let sim = Sim::start();
    assert_eq!(
        sim.kubectl(&[
            "create",
            "deployment",
            "api",
            "--image=nginx",
            "--replicas=0"
        ])
        .ok(),
        "deployment.apps/api created\n"
    );
    assert_eq!(
        sim.kubectl(&["get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"])
            .ok(),
        "0"
    );
    assert_eq!(
        sim.kubectl(&[
            "create",
            "configmap",
            "cfg",
            "--from-literal=a=1",
            "--from-literal=b=2"
        ])
        .ok(),
        "configmap/cfg created\n"
    );
    assert_eq!(
        sim.kubectl(&[
            "create",
            "secret",
            "generic",
            "pw",
            "--from-literal=password=s3cret"
        ])
        .ok(),
        "secret/pw created\n"
    );
    assert_eq!(
        sim.kubectl(&["get", "secret", "pw", "-o", "jsonpath={.data.password}"])
            .ok(),
        "czNjcmV0"
    );
    assert_eq!(
        sim.kubectl(&["create", "namespace", "team-a"]).ok(),
        "namespace/team-a created\n"
    );
    assert_eq!(
        sim.kubectl(&[
            "create",
            "job",
            "once",
            "--image=busybox",
            "--",
            "echo",
            "hi"
        ])
        .ok(),
        "job.batch/once created\n"
    );
    assert_eq!(
        sim.kubectl(&["create", "service", "clusterip", "db", "--tcp=5432:5432"])
            .ok(),
        "service/db created\n"
    );
    let svc = rows(&sim.kubectl(&["get", "svc", "db"]).ok());
    assert_eq!(svc[1][1], "ClusterIP");
    assert!(svc[1][2].starts_with("10.96."), "{svc:?}");
    assert_eq!(svc[1][4], "5432/TCP");
    let cm = rows(&sim.kubectl(&["get", "cm", "cfg"]).ok());
    assert_eq!(cm[1][..2], ["cfg", "2"]);
    // The new namespace has its default ServiceAccount.
    assert_eq!(
        sim.kubectl(&["get", "sa", "-n", "team-a", "-o", "name"])
            .ok(),
        "serviceaccount/default\n"
    );
}

#[test]
fn run_and_expose() {
    let sim = Sim::start();
    assert_eq!(
        sim.kubectl(&["run", "box", "--image=busybox:1.36", "--", "sleep", "3600"])
            .ok(),
        "pod/box created\n"
    );
    let labels = sim
        .kubectl(&[
            "get",
            "pod",
            "box",
            "-o",
            "jsonpath={.metadata.labels.run} {.spec.serviceAccountName} {.status.qosClass}",
        ])
        .ok();
    assert_eq!(labels, "box default BestEffort");
    // The kubelet starts it (Pending until then).
    let out = sim
        .kubectl(&[
            "wait",
            "--for=jsonpath={.status.phase}=Running",
            "pod/box",
            "--timeout=20s",
        ])
        .ok();
    assert_eq!(out, "pod/box condition met\n");
    sim.kubectl(&["create", "deployment", "web", "--image=nginx", "--port=80"])
        .ok();
    assert_eq!(
        sim.kubectl(&[
            "expose",
            "deployment",
            "web",
            "--port=8080",
            "--target-port=80"
        ])
        .ok(),
        "service/web exposed\n"
    );
    let spec = sim.kubectl(&["get", "svc", "web", "-o", "jsonpath={.spec.selector.app} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.ports[0].protocol}"]).ok();
    assert_eq!(spec, "web 8080 80 TCP");
    assert_eq!(
        sim.kubectl(&[
            "expose",
            "deployment",
            "web",
            "--name=web-np",
            "--type=NodePort",
            "--port=80"
        ])
        .ok(),
        "service/web-np exposed\n"
    );
    let np = sim
        .kubectl(&[
            "get",
            "svc",
            "web-np",
            "-o",
            "jsonpath={.spec.ports[0].nodePort}",
        ])
        .ok();
    let port: u16 = np.parse().unwrap();
    assert!((30000..=32767).contains(&port));
}

#[test]
fn edit_with_a_scripted_editor() {
    let sim = Sim::start();
    sim.kubectl(&["create", "configmap", "cfg", "--from-literal=mode=old"])
        .ok();
    let editor = sim.file(
        "editor.sh",
        "#!/bin/sh\nsed -i 's/mode: old/mode: new/' \"$1\"\n",
    );
    std::process::Command::new("chmod")
        .args(["+x", &editor])
        .status()
        .unwrap();
    let out = sim
        .kubectl_env(&["edit", "configmap", "cfg"], &[("KUBE_EDITOR", &editor)])
        .ok();
    assert_eq!(out, "configmap/cfg edited\n");
    assert_eq!(
        sim.kubectl(&["get", "cm", "cfg", "-o", "jsonpath={.data.mode}"])
            .ok(),
        "new"
    );
    let noop = sim.file("noop.sh", "#!/bin/sh\ntrue\n");
    std::process::Command::new("chmod")
        .args(["+x", &noop])
        .status()
        .unwrap();
    let out = sim.kubectl_env(&["edit", "configmap", "cfg"], &[("KUBE_EDITOR", &noop)]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "Edit cancelled, no changes made.\n");
}

#[test]
fn patch_in_all_three_types() {
    let sim = Sim::start();
    let f = sim.file("web.yaml", DEPLOY);
    sim.kubectl(&["apply", "-f", &f]).ok();
    let strategic =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}"#;
    assert_eq!(
        sim.kubectl(&["patch", "deploy", "web", "-p", strategic])
            .ok(),
        "deployment.apps/web patched\n"
    );
    let names = sim
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        ])
        .ok();
    // Merged by name; a new element goes before the server's (as in the
    // upstream docs' "kubectl patch" walkthrough).
    assert_eq!(names, "sidecar nginx");
    assert_eq!(
        sim.kubectl(&[
            "patch",
            "deploy",
            "web",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":5}}"#
        ])
        .ok(),
        "deployment.apps/web patched\n"
    );
    let json = r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.29"}]"#;
    assert_eq!(
        sim.kubectl(&["patch", "deploy", "web", "--type=json", "-p", json])
            .ok(),
        "deployment.apps/web patched\n"
    );
    let got = sim
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}",
        ])
        .ok();
    assert_eq!(got, "5 nginx:1.29");
    // kubectl says "(no change)" when the object it read equals the patch's
    // answer; a rollout still writing status in between makes it "patched"
    // on a real cluster too, so let the image change finish rolling out.
    sim.kubectl(&["rollout", "status", "deploy/web", "--timeout=120s"])
        .ok();
    assert_eq!(
        sim.kubectl(&[
            "patch",
            "deploy",
            "web",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":5}}"#
        ])
        .ok(),
        "deployment.apps/web patched (no change)\n"
    );
    let bad = r#"[{"op":"test","path":"/spec/replicas","value":9}]"#;
    let err = sim
        .kubectl(&["patch", "deploy", "web", "--type=json", "-p", bad])
        .err();
    assert_eq!(
        err,
        "The request is invalid: the server rejected our request due to an error in our request\n"
    );
}

#[test]
fn label_annotate_scale_set_image() {
    let sim = Sim::start();
    let f = sim.file("web.yaml", DEPLOY);
    sim.kubectl(&["apply", "-f", &f]).ok();
    assert_eq!(
        sim.kubectl(&["label", "deploy", "web", "tier=front"]).ok(),
        "deployment.apps/web labeled\n"
    );
    assert_eq!(
        sim.kubectl(&["label", "deploy", "web", "tier-"]).ok(),
        "deployment.apps/web unlabeled\n"
    );
    assert_eq!(
        sim.kubectl(&["annotate", "deploy", "web", "owner=team-a"])
            .ok(),
        "deployment.apps/web annotated\n"
    );
    let err = sim.kubectl(&["label", "deploy", "web", "app=other"]).err();
    assert!(
        err.contains("'app' already has a value (web), and --overwrite is false"),
        "{err}"
    );
    assert_eq!(
        sim.kubectl(&["scale", "deploy", "web", "--replicas=4"])
            .ok(),
        "deployment.apps/web scaled\n"
    );
    assert_eq!(
        sim.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .ok(),
        "4"
    );
    assert_eq!(
        sim.kubectl(&["set", "image", "deploy/web", "nginx=nginx:1.30"])
            .ok(),
        "deployment.apps/web image updated\n"
    );
    let got = sim.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.metadata.annotations.owner} {.metadata.labels}"]).ok();
    assert_eq!(got, "nginx:1.30 team-a {\"app\":\"web\"}");
}

#[test]
fn delete_cascades_to_owned_objects() {
    let sim = Sim::start();
    sim.kubectl(&["create", "configmap", "owner"]).ok();
    let uid = sim
        .kubectl(&["get", "cm", "owner", "-o", "jsonpath={.metadata.uid}"])
        .ok();
    let dep = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dep\n  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: owner\n    uid: {uid}\n"
    );
    let f = sim.file("dep.yaml", &dep);
    sim.kubectl(&["create", "-f", &f]).ok();
    let out = sim.kubectl(&["delete", "cm", "owner"]).ok();
    assert!(out.starts_with("configmap \"owner\" deleted"), "{out}");
    let err = sim.kubectl(&["get", "cm", "dep"]).err();
    assert_eq!(
        err,
        "Error from server (NotFound): configmaps \"dep\" not found\n"
    );
    // Orphan keeps the dependent.
    sim.kubectl(&["create", "configmap", "owner2"]).ok();
    let uid = sim
        .kubectl(&["get", "cm", "owner2", "-o", "jsonpath={.metadata.uid}"])
        .ok();
    let f = sim.file(
        "dep2.yaml",
        &dep.replace("name: owner\n", "name: owner2\n")
            .replace(&uid_line(&dep), &format!("    uid: {uid}\n")),
    );
    sim.kubectl(&["create", "-f", &f]).ok();
    sim.kubectl(&["delete", "cm", "owner2", "--cascade=orphan"])
        .ok();
    assert_eq!(
        sim.kubectl(&[
            "get",
            "cm",
            "dep",
            "-o",
            "jsonpath={.metadata.ownerReferences}"
        ])
        .ok(),
        ""
    );
}

fn uid_line(doc: &str) -> String {
    doc.lines()
        .find(|l| l.trim_start().starts_with("uid:"))
        .map(|l| format!("{l}\n"))
        .unwrap_or_default()
}

#[test]
fn delete_namespace_terminates_it() {
    let sim = Sim::start();
    sim.kubectl(&["create", "namespace", "gone"]).ok();
    sim.kubectl(&["create", "configmap", "c", "-n", "gone"])
        .ok();
    let out = sim.kubectl(&["delete", "namespace", "gone"]).ok();
    assert!(out.starts_with("namespace \"gone\" deleted"), "{out}");
    let err = sim.kubectl(&["get", "namespace", "gone"]).err();
    assert_eq!(
        err,
        "Error from server (NotFound): namespaces \"gone\" not found\n"
    );
}

#[test]
fn auth_can_i_and_whoami() {
    let sim = Sim::start();
    assert_eq!(
        sim.kubectl(&["auth", "can-i", "create", "deployments"])
            .ok(),
        "yes\n"
    );
    let who = rows(&sim.kubectl(&["auth", "whoami"]).ok());
    assert_eq!(who[0], ["ATTRIBUTE", "VALUE"]);
    assert_eq!(who[1], ["Username", "kubernetes-admin"]);
    assert_eq!(
        who[2],
        ["Groups", "[kubeadm:cluster-admins system:authenticated]"]
    );
}

#[test]
fn diff_shows_the_change_without_applying_it() {
    let sim = Sim::start();
    let f = sim.file("web.yaml", DEPLOY);
    sim.kubectl(&["apply", "-f", &f]).ok();
    let f2 = sim.file("web2.yaml", &DEPLOY.replace("replicas: 2", "replicas: 7"));
    let out = sim.kubectl(&["diff", "-f", &f2]);
    assert_eq!(
        out.code, 1,
        "diff exits 1 when there are differences: {}",
        out.stderr
    );
    assert!(
        out.stdout.contains("-  replicas: 2") && out.stdout.contains("+  replicas: 7"),
        "{}",
        out.stdout
    );
    assert_eq!(
        sim.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .ok(),
        "2"
    );
}

#[test]
fn events_filter_by_field_selector() {
    let sim = Sim::start();
    let ev = |name: &str, obj: &str, reason: &str| {
        format!(
            "apiVersion: v1\nkind: Event\nmetadata:\n  name: {name}\ninvolvedObject:\n  kind: Pod\n  name: {obj}\n  namespace: default\nreason: {reason}\nmessage: {reason} happened\ntype: Warning\nsource:\n  component: kubelet\ncount: 1\nfirstTimestamp: \"2026-01-01T00:00:00Z\"\nlastTimestamp: \"2026-01-01T00:00:00Z\"\n"
        )
    };
    sim.kubectl_stdin(&["create", "-f", "-"], &ev("e1", "api", "BackOff"))
        .ok();
    sim.kubectl_stdin(&["create", "-f", "-"], &ev("e2", "db", "Failed"))
        .ok();
    let out = sim
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=api",
        ])
        .ok();
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert_eq!(table.len(), 2, "{out}");
    assert_eq!(
        table[1][1..],
        ["Warning", "BackOff", "pod/api", "BackOff happened"]
    );
    let err = sim
        .kubectl(&["get", "events", "--field-selector", "spec.bogus=1"])
        .err();
    assert_eq!(
        err,
        "Error from server (BadRequest): Unable to find \"/v1, Resource=events\" that match label selector \"\", field selector \"spec.bogus=1\": field label not supported: spec.bogus\n"
    );
}
