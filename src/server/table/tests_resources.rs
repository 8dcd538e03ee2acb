//! Cells of the non-pod printers on realistic objects, as `kubectl get` shows them
//! against a real cluster (cases follow upstream `printers_test.go`).

use super::*;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2024-05-01T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> String {
    (now() - jiff::SignedDuration::from_secs(secs)).to_string()
}

fn meta(name: &str, age_secs: i64) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": ago(age_secs)})
}

fn cells(group: &str, resource: &str, obj: Value) -> Vec<Value> {
    row(group, resource, &obj, now()).cells
}

fn names(group: &str, resource: &str) -> Vec<&'static str> {
    column_definitions(group, resource)
        .iter()
        .filter(|c| c.priority == 0)
        .map(|c| c.name)
        .collect()
}

#[test]
fn nodes() {
    let node = json!({
        "metadata": {"name": "kind-control-plane", "creationTimestamp": ago(3 * 86400 + 4 * 3600),
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "kind-control-plane"}},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "kind-control-plane"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.8.0-1", "containerRuntimeVersion": "containerd://2.1.1"}
        }
    });
    assert_eq!(
        cells("", "nodes", node),
        [
            "kind-control-plane",
            "Ready,SchedulingDisabled",
            "control-plane",
            "3d4h",
            "v1.33.1",
            "172.18.0.2",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.8.0-1",
            "containerd://2.1.1"
        ]
    );
    let worker = json!({"metadata": {"name": "w", "labels": {"kubernetes.io/role": "infra", "node-role.kubernetes.io/b": ""}},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    let c = cells("", "nodes", worker);
    assert_eq!(&c[..4], ["w", "NotReady", "b,infra", "<unknown>"]);
    assert_eq!(&c[7..], ["<unknown>", "<unknown>", "<unknown>"]);
    assert_eq!(
        cells("", "nodes", json!({"metadata": {"name": "n"}}))[1..3],
        ["Unknown", "<none>"]
    );
    assert_eq!(
        names("", "nodes"),
        ["Name", "Status", "Roles", "Age", "Version"]
    );
}

#[test]
fn services() {
    let np = json!({"metadata": meta("web", 120),
        "spec": {"type": "NodePort", "clusterIP": "10.96.12.34", "clusterIPs": ["10.96.12.34"],
            "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"},
                      {"port": 53, "protocol": "UDP", "nodePort": 30053}],
            "selector": {"app": "web", "tier": "fe"}}});
    assert_eq!(
        cells("", "services", np),
        [
            "web",
            "NodePort",
            "10.96.12.34",
            "<none>",
            "80:30080/TCP,53:30053/UDP",
            "2m",
            "app=web,tier=fe"
        ]
    );
    let lb = json!({"metadata": meta("lb", 30),
        "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.9"], "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]}});
    assert_eq!(
        &cells("", "services", lb.clone())[1..5],
        ["LoadBalancer", "10.96.0.9", "<pending>", "443:31443/TCP"]
    );
    let mut ready = lb.clone();
    ready["status"] = json!({"loadBalancer": {"ingress": [{"ip": "172.18.255.200"}, {"hostname": "lb.example.com"}]}});
    ready["spec"]["externalIPs"] = json!(["1.2.3.4"]);
    assert_eq!(
        cells("", "services", ready)[3],
        "172.18.255.200,lb.example.com,1.2.3.4"
    );
    let headless = json!({"metadata": meta("db", 5), "spec": {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}});
    assert_eq!(
        &cells("", "services", headless)[1..5],
        ["ClusterIP", "None", "<none>", "<none>"]
    );
    let ext = json!({"metadata": meta("ext", 5), "spec": {"type": "ExternalName", "externalName": "example.com"}});
    assert_eq!(
        &cells("", "services", ext)[1..5],
        ["ExternalName", "<none>", "example.com", "<none>"]
    );
    let cip = json!({"metadata": meta("k", 5), "spec": {"type": "ClusterIP", "clusterIPs": ["10.96.0.1"],
        "externalIPs": ["8.8.8.8"], "ports": [{"port": 443, "protocol": "TCP"}]}});
    assert_eq!(
        &cells("", "services", cip)[1..],
        [
            "ClusterIP",
            "10.96.0.1",
            "8.8.8.8",
            "443/TCP",
            "5s",
            "<none>"
        ]
    );
}

#[test]
fn endpoints_and_slices() {
    let ep = json!({"metadata": meta("web", 60), "subsets": [{
        "addresses": [{"ip": "10.244.1.2"}, {"ip": "10.244.1.3"}, {"ip": "fd00::4"}, {"ip": "10.244.1.5"}],
        "ports": [{"port": 80}]}]});
    assert_eq!(
        cells("", "endpoints", ep)[1],
        "10.244.1.2:80,10.244.1.3:80,[fd00::4]:80 + 1 more..."
    );
    assert_eq!(
        cells("", "endpoints", json!({"metadata": meta("none", 1)}))[1],
        "<none>"
    );
    let headless =
        json!({"metadata": meta("h", 1), "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]});
    assert_eq!(cells("", "endpoints", headless)[1], "10.0.0.1");

    let eps = json!({"metadata": meta("web-abc12", 60), "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.244.1.2"]}, {"addresses": ["10.244.1.3"]}]});
    assert_eq!(
        cells("discovery.k8s.io", "endpointslices", eps),
        ["web-abc12", "IPv4", "80", "10.244.1.2,10.244.1.3", "60s"]
    );
    let empty =
        json!({"metadata": meta("e", 1), "addressType": "IPv4", "ports": [{"name": "x"}, {}]});
    assert_eq!(
        &cells("discovery.k8s.io", "endpointslices", empty)[2..4],
        ["x,*", "<unset>"]
    );
}

#[test]
fn events_core_and_events_k8s_io() {
    let ev = json!({"metadata": meta("api.17c", 400),
        "involvedObject": {"kind": "Pod", "name": "api", "fieldPath": "spec.containers{api}"},
        "type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container api in pod api_default(uid)\n",
        "source": {"component": "kubelet", "host": "kind-worker"},
        "firstTimestamp": ago(300), "lastTimestamp": ago(12), "count": 7});
    assert_eq!(
        cells("", "events", ev),
        [
            json!("12s"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/api"),
            json!("spec.containers{api}"),
            json!("kubelet, kind-worker"),
            json!("Back-off restarting failed container api in pod api_default(uid)"),
            json!("5m"),
            json!(7),
            json!("api.17c")
        ]
    );
    assert_eq!(
        names("", "events"),
        ["Last Seen", "Type", "Reason", "Object", "Message"]
    );
    let new_api = json!({"metadata": meta("web.1", 100), "eventTime": "2024-05-01T11:58:20.123456Z",
        "regarding": {"kind": "Deployment", "name": "web"}, "note": "Scaled up replica set web-5d to 3",
        "type": "Normal", "reason": "ScalingReplicaSet", "reportingController": "deployment-controller",
        "reportingInstance": ""});
    assert_eq!(
        cells("events.k8s.io", "events", new_api),
        [
            json!("99s"),
            json!("Normal"),
            json!("ScalingReplicaSet"),
            json!("deployment/web"),
            json!(""),
            json!("deployment-controller"),
            json!("Scaled up replica set web-5d to 3"),
            json!("99s"),
            json!(1),
            json!("web.1")
        ]
    );
    let series = json!({"metadata": meta("s", 1000), "eventTime": ago(900), "involvedObject": {"kind": "Node"},
        "series": {"count": 4, "lastObservedTime": ago(30)}});
    let c = cells("", "events", series);
    assert_eq!(
        (&c[0], &c[3], &c[7], &c[8]),
        (&json!("30s"), &json!("node"), &json!("15m"), &json!(4))
    );
}

#[test]
fn workloads() {
    let d = json!({"metadata": meta("web", 600),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}, {"name": "log", "image": "busybox"}]}}},
        "status": {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}});
    assert_eq!(
        cells("apps", "deployments", d),
        [
            json!("web"),
            json!("2/3"),
            json!(1),
            json!(2),
            json!("10m"),
            json!("nginx,log"),
            json!("nginx:1.26,busybox"),
            json!("app=web")
        ]
    );
    assert_eq!(
        names("apps", "deployments"),
        ["Name", "Ready", "Up-to-date", "Available", "Age"]
    );
    let d0 = json!({"metadata": meta("idle", 60), "spec": {"replicas": 0}, "status": {}});
    assert_eq!(
        &cells("apps", "deployments", d0)[1..4],
        [json!("0/0"), json!(0), json!(0)]
    );

    let rs = json!({"metadata": meta("web-5d9c", 600), "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d9c"}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
        "status": {"replicas": 3, "readyReplicas": 1}});
    assert_eq!(
        cells("apps", "replicasets", rs),
        [
            json!("web-5d9c"),
            json!(3),
            json!(3),
            json!(1),
            json!("10m"),
            json!("nginx"),
            json!("nginx"),
            json!("app=web,pod-template-hash=5d9c")
        ]
    );

    let sts = json!({"metadata": meta("db", 7200), "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}},
        "status": {"readyReplicas": 2}});
    assert_eq!(
        cells("apps", "statefulsets", sts),
        ["db", "2/3", "120m", "pg", "postgres:16"]
    );

    let ds = json!({"metadata": meta("kube-proxy", 86400 * 9), "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
        "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.33.1"}]}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}});
    assert_eq!(
        cells("apps", "daemonsets", ds),
        [
            json!("kube-proxy"),
            json!(3),
            json!(3),
            json!(3),
            json!(3),
            json!(3),
            json!("kubernetes.io/os=linux"),
            json!("9d"),
            json!("kube-proxy"),
            json!("registry.k8s.io/kube-proxy:v1.33.1"),
            json!("k8s-app=kube-proxy")
        ]
    );

    let cr = json!({"metadata": {"name": "db-7f8", "creationTimestamp": ago(60),
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": true}]}, "revision": 2});
    assert_eq!(
        cells("apps", "controllerrevisions", cr),
        [
            json!("db-7f8"),
            json!("statefulset.apps/db"),
            json!(2),
            json!("60s")
        ]
    );
    assert_eq!(
        cells(
            "apps",
            "controllerrevisions",
            json!({"metadata": {"name": "x"}})
        )[1],
        "<none>"
    );
}

#[test]
fn jobs_and_cronjobs() {
    let job = |status: Value, extra_spec: Value| {
        let mut spec = json!({"completions": 1, "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}},
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra_spec.as_object()) {
            s.extend(e.clone());
        }
        json!({"metadata": meta("pi", 600), "spec": spec, "status": status})
    };
    let done = job(
        json!({"succeeded": 1, "startTime": ago(600), "completionTime": ago(590),
        "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}),
        json!({}),
    );
    assert_eq!(
        cells("batch", "jobs", done),
        [
            "pi",
            "Complete",
            "1/1",
            "10s",
            "10m",
            "pi",
            "perl",
            "batch.kubernetes.io/controller-uid=u1"
        ]
    );
    let running = job(
        json!({"active": 1, "startTime": ago(65)}),
        json!({"completions": null, "parallelism": 3}),
    );
    assert_eq!(
        &cells("batch", "jobs", running)[1..4],
        ["Running", "0/1 of 3", "65s"]
    );
    let failed = job(
        json!({"failed": 7, "startTime": ago(600), "conditions": [
        {"type": "FailureTarget", "status": "True"}, {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}),
        json!({}),
    );
    assert_eq!(cells("batch", "jobs", failed)[1], "Failed");
    let target = job(
        json!({"conditions": [{"type": "FailureTarget", "status": "True"}]}),
        json!({}),
    );
    assert_eq!(
        &cells("batch", "jobs", target)[1..4],
        ["FailureTarget", "0/1", ""]
    );
    let suspended = job(
        json!({"conditions": [{"type": "Suspended", "status": "True"}]}),
        json!({"suspend": true}),
    );
    assert_eq!(cells("batch", "jobs", suspended)[1], "Suspended");
    assert_eq!(
        names("batch", "jobs"),
        ["Name", "Status", "Completions", "Duration", "Age"]
    );

    let cj = json!({"metadata": meta("backup", 86400 * 3),
        "spec": {"schedule": "*/5 * * * *", "suspend": false, "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox"}]}}}}},
        "status": {"active": [{"name": "backup-1"}], "lastScheduleTime": ago(100)}});
    assert_eq!(
        cells("batch", "cronjobs", cj),
        [
            json!("backup"),
            json!("*/5 * * * *"),
            json!("<none>"),
            json!("False"),
            json!(1),
            json!("100s"),
            json!("3d"),
            json!("b"),
            json!("busybox"),
            json!("<none>")
        ]
    );
    let never =
        json!({"metadata": meta("n", 5), "spec": {"schedule": "@daily", "timeZone": "Etc/UTC"}});
    assert_eq!(
        &cells("batch", "cronjobs", never)[2..6],
        [
            json!("Etc/UTC"),
            json!("<unset>"),
            json!(0),
            json!("<none>")
        ]
    );
}

#[test]
fn networking() {
    let ing = json!({"metadata": meta("web", 60), "spec": {"ingressClassName": "nginx",
        "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}, {}, {"host": "c.example.com"}, {"host": "d.example.com"}],
        "tls": [{"hosts": ["a.example.com"]}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "localhost"}]}}});
    assert_eq!(
        cells("networking.k8s.io", "ingresses", ing),
        [
            "web",
            "nginx",
            "a.example.com,b.example.com,c.example.com + 2 more...",
            "localhost",
            "80, 443",
            "60s"
        ]
    );
    let bare = json!({"metadata": meta("x", 1), "spec": {"defaultBackend": {}}});
    assert_eq!(
        &cells("networking.k8s.io", "ingresses", bare)[1..5],
        ["<none>", "*", "", "80"]
    );
    let ic = json!({"metadata": meta("nginx", 60), "spec": {"controller": "k8s.io/ingress-nginx",
        "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
    assert_eq!(
        cells("networking.k8s.io", "ingressclasses", ic),
        [
            "nginx",
            "k8s.io/ingress-nginx",
            "IngressParameters.k8s.example.com/external-lb",
            "60s"
        ]
    );
    let np = json!({"metadata": meta("deny-all", 60), "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}});
    assert_eq!(
        cells("networking.k8s.io", "networkpolicies", np),
        ["deny-all", "<none>", "60s"]
    );
    let np2 = json!({"metadata": meta("db", 60), "spec": {"podSelector": {"matchLabels": {"app": "db"}}}});
    assert_eq!(
        cells("networking.k8s.io", "networkpolicies", np2)[1],
        "app=db"
    );
}

#[test]
fn rbac() {
    let rb = json!({"metadata": meta("read-pods", 60), "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"},
        "subjects": [{"kind": "User", "name": "jane"}, {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}, {"kind": "User", "name": "bob"}]});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "rolebindings", rb),
        [
            "read-pods",
            "Role/pod-reader",
            "60s",
            "jane, bob",
            "devs",
            "tools/ci"
        ]
    );
    assert_eq!(
        names("rbac.authorization.k8s.io", "clusterrolebindings"),
        ["Name", "Role", "Age"]
    );
    let role =
        json!({"metadata": {"name": "pod-reader", "creationTimestamp": "2024-04-01T00:00:00Z"}});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "roles", role),
        ["pod-reader", "2024-04-01T00:00:00Z"]
    );
}

#[test]
fn autoscaling_policy_storage_coordination() {
    let hpa = json!({"metadata": meta("web", 60), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "minReplicas": 1, "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
        "status": {"currentReplicas": 2}});
    assert_eq!(
        cells("autoscaling", "horizontalpodautoscalers", hpa.clone()),
        [
            json!("web"),
            json!("Deployment/web"),
            json!("cpu: <unknown>/80%"),
            json!("1"),
            json!(10),
            json!(2),
            json!("60s")
        ]
    );
    let mut measured = hpa.clone();
    measured["status"]["currentMetrics"] = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 35, "averageValue": "35m"}}}]);
    assert_eq!(
        cells("autoscaling", "horizontalpodautoscalers", measured)[2],
        "cpu: 35%/80%"
    );
    let many = json!({"metadata": meta("m", 1), "spec": {"maxReplicas": 3, "metrics": [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
        {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}}]}});
    let c = cells("autoscaling", "horizontalpodautoscalers", many);
    assert_eq!(
        (&c[2], &c[3]),
        (
            &json!("memory: <unknown>/100Mi, <unknown>/10 + 1 more..."),
            &json!("<unset>")
        )
    );
    let v1 = json!({"metadata": meta("v1", 1), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2,
        "maxReplicas": 5, "targetCPUUtilizationPercentage": 50}, "status": {"currentReplicas": 2, "currentCPUUtilizationPercentage": 12}});
    assert_eq!(
        cells("autoscaling", "horizontalpodautoscalers", v1)[2],
        "cpu: 12%/50%"
    );
    let none = json!({"metadata": meta("n", 1), "spec": {"maxReplicas": 1, "metrics": []}});
    assert_eq!(
        cells("autoscaling", "horizontalpodautoscalers", none)[2],
        "<none>"
    );

    let pdb = json!({"metadata": meta("web", 60), "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
    assert_eq!(
        cells("policy", "poddisruptionbudgets", pdb),
        [
            json!("web"),
            json!("50%"),
            json!("N/A"),
            json!(1),
            json!("60s")
        ]
    );
    let pdb2 = json!({"metadata": meta("db", 60), "spec": {"maxUnavailable": 1}});
    assert_eq!(
        &cells("policy", "poddisruptionbudgets", pdb2)[1..4],
        [json!("N/A"), json!("1"), json!(0)]
    );

    let sc = json!({"metadata": {"name": "standard", "creationTimestamp": ago(86400),
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        cells("storage.k8s.io", "storageclasses", sc),
        [
            json!("standard (default)"),
            json!("rancher.io/local-path"),
            json!("Delete"),
            json!("WaitForFirstConsumer"),
            json!(false),
            json!("24h")
        ]
    );
    let sc2 =
        json!({"metadata": {"name": "fast"}, "provisioner": "x", "allowVolumeExpansion": true});
    assert_eq!(
        &cells("storage.k8s.io", "storageclasses", sc2)[..5],
        [
            json!("fast"),
            json!("x"),
            json!("Delete"),
            json!("Immediate"),
            json!(true)
        ]
    );

    let lease = json!({"metadata": meta("kube-scheduler", 3600), "spec": {"holderIdentity": "kind-control-plane_1234"}});
    assert_eq!(
        cells("coordination.k8s.io", "leases", lease),
        ["kube-scheduler", "kind-control-plane_1234", "60m"]
    );

    let vwc = json!({"metadata": meta("ingress-nginx-admission", 120),
        "webhooks": [{"name": "validate.nginx.ingress.kubernetes.io"}]});
    assert_eq!(
        cells(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            vwc
        ),
        [json!("ingress-nginx-admission"), json!(1), json!("2m")]
    );
    let mwc = json!({"metadata": meta("none", 60)});
    assert_eq!(
        cells(
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            mwc
        ),
        [json!("none"), json!(0), json!("60s")]
    );
}

#[test]
fn core_config_and_storage() {
    let cm = json!({"metadata": meta("cfg", 60), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(
        cells("", "configmaps", cm),
        [json!("cfg"), json!(3), json!("60s")]
    );
    let s = json!({"metadata": meta("tls", 60), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        cells("", "secrets", s),
        [
            json!("tls"),
            json!("kubernetes.io/tls"),
            json!(2),
            json!("60s")
        ]
    );
    let sa = json!({"metadata": meta("default", 60)});
    assert_eq!(
        cells("", "serviceaccounts", sa),
        [json!("default"), json!(0), json!("60s")]
    );
    let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": ago(86400 * 30)}, "status": {"phase": "Active"}});
    assert_eq!(
        cells("", "namespaces", ns),
        ["kube-system", "Active", "30d"]
    );

    let pv = json!({"metadata": meta("pvc-1234", 60), "spec": {"capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete",
        "claimRef": {"namespace": "default", "name": "data"}, "storageClassName": "standard", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound"}});
    assert_eq!(
        cells("", "persistentvolumes", pv),
        [
            "pvc-1234",
            "1Gi",
            "RWO,RWX",
            "Delete",
            "Bound",
            "default/data",
            "standard",
            "<unset>",
            "",
            "60s",
            "Filesystem"
        ]
    );
    let pending = json!({"metadata": meta("data", 60), "spec": {"accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "standard", "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"}});
    assert_eq!(
        cells("", "persistentvolumeclaims", pending),
        [
            "data",
            "Pending",
            "",
            "",
            "",
            "standard",
            "<unset>",
            "60s",
            "Filesystem"
        ]
    );
    let bound = json!({"metadata": {"name": "data", "deletionTimestamp": ago(1),
        "annotations": {"volume.beta.kubernetes.io/storage-class": "legacy"}},
        "spec": {"volumeName": "pvc-1234", "storageClassName": "standard"},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOncePod"]}});
    assert_eq!(
        &cells("", "persistentvolumeclaims", bound)[1..6],
        ["Terminating", "pvc-1234", "1Gi", "RWOP", "legacy"]
    );

    let rq = json!({"metadata": meta("compute", 60), "spec": {},
        "status": {"hard": {"requests.cpu": "1", "limits.memory": "2Gi", "pods": "10", "limits.cpu": "2", "requests.memory": "1Gi"},
            "used": {"requests.cpu": "500m", "pods": "3", "limits.cpu": "1"}}});
    assert_eq!(
        cells("", "resourcequotas", rq),
        [
            "compute",
            "pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi",
            "limits.cpu: 1/2, limits.memory: 0/2Gi",
            "60s"
        ]
    );
}
