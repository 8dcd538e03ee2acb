use serde_json::json;

use super::*;

#[test]
fn pod_defaults_match_kubectl_output() {
    let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}],
         "resources": {"limits": {"cpu": "500m"}},
         "livenessProbe": {"httpGet": {"port": 80}}},
        {"name": "b", "image": "nginx:1.25"},
        {"name": "c", "image": "reg:5000/app@sha256:abc"}
    ], "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "x"}}]}});
    apply_defaults("", "Pod", &mut pod);
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["enableServiceLinks"], true);
    let a = &spec["containers"][0];
    assert_eq!(a["imagePullPolicy"], "Always");
    assert_eq!(a["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(a["terminationMessagePolicy"], "File");
    assert_eq!(a["ports"][0]["protocol"], "TCP");
    assert_eq!(a["resources"]["requests"]["cpu"], "500m");
    assert_eq!(
        a["livenessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(spec["containers"][2]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(spec["volumes"][1]["secret"]["defaultMode"], 420);
    // Admission defaults are separate.
    assert!(spec.get("priority").is_none());
    apply_pod_admission(&mut pod);
    assert_eq!(pod["spec"]["priority"], 0);
    assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    assert_eq!(pod["spec"]["serviceAccountName"], "default");
    assert_eq!(pod["spec"]["tolerations"].as_array().map(Vec::len), Some(2));
}

#[test]
fn explicit_values_are_kept() {
    let mut pod = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Never"}]}});
    apply_defaults("", "Pod", &mut pod);
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Never");
}

#[test]
fn workload_defaults() {
    let mut d = json!({"spec": {"selector": {"matchLabels": {"app": "w"}},
        "template": {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "w", "image": "nginx"}]}}}});
    apply_defaults("apps", "Deployment", &mut d);
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
    assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
    assert!(
        d["spec"]["template"]["spec"]
            .get("enableServiceLinks")
            .is_none()
    );
    let mut r = json!({"spec": {"strategy": {"type": "Recreate"}, "template": {}}});
    apply_defaults("apps", "Deployment", &mut r);
    assert_eq!(r["spec"]["strategy"], json!({"type": "Recreate"}));

    let mut sts = json!({"spec": {"template": {"spec": {"containers": []}}, "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {}}]}});
    apply_defaults("apps", "StatefulSet", &mut sts);
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        sts["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"],
        "Filesystem"
    );
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["status"]["phase"],
        "Pending"
    );

    let mut ds = json!({"spec": {"template": {}}});
    apply_defaults("apps", "DaemonSet", &mut ds);
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
}

#[test]
fn batch_defaults() {
    let mut job = json!({"metadata": {"name": "j"}, "spec": {"template": {"metadata": {"labels": {"x": "y"}}, "spec": {"restartPolicy": "Never", "containers": []}}}});
    apply_defaults("batch", "Job", &mut job);
    let s = &job["spec"];
    assert_eq!(
        (
            s["completions"].clone(),
            s["parallelism"].clone(),
            s["backoffLimit"].clone()
        ),
        (json!(1), json!(1), json!(6))
    );
    assert_eq!(s["completionMode"], "NonIndexed");
    assert_eq!(s["suspend"], false);
    assert_eq!(s["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(job["metadata"]["labels"], json!({"x": "y"}));
    set_job_generated_selector(&mut job, "u-1");
    assert_eq!(
        job["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
    );
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"]["job-name"],
        "j"
    );

    let mut par = json!({"spec": {"parallelism": 3, "template": {}}});
    apply_defaults("batch", "Job", &mut par);
    assert!(par["spec"].get("completions").is_none());

    let mut cj = json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
    apply_defaults("batch", "CronJob", &mut cj);
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
    assert_eq!(
        cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"],
        "ClusterFirst"
    );
}

#[test]
fn core_defaults() {
    let mut svc = json!({"spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": "https"}], "type": "NodePort"}});
    apply_defaults("", "Service", &mut svc);
    let s = &svc["spec"];
    assert_eq!(
        s["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(s["ports"][1]["targetPort"], "https");
    assert_eq!(s["sessionAffinity"], "None");
    assert_eq!(s["externalTrafficPolicy"], "Cluster");
    assert_eq!(s["internalTrafficPolicy"], "Cluster");
    assert_eq!(s["ipFamilyPolicy"], "SingleStack");
    assert_eq!(s["ipFamilies"], json!(["IPv4"]));
    let mut cip = json!({"spec": {"ports": [{"port": 80}]}});
    apply_defaults("", "Service", &mut cip);
    assert_eq!(cip["spec"]["type"], "ClusterIP");
    assert!(cip["spec"].get("externalTrafficPolicy").is_none());

    let mut ns = json!({"metadata": {"name": "dev"}});
    apply_defaults("", "Namespace", &mut ns);
    assert_eq!(
        ns,
        json!({"metadata": {"name": "dev", "labels": {"kubernetes.io/metadata.name": "dev"}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    );

    let mut sec = json!({"data": {}});
    apply_defaults("", "Secret", &mut sec);
    assert_eq!(sec["type"], "Opaque");
    let mut pvc = json!({"spec": {"accessModes": ["ReadWriteOnce"]}});
    apply_defaults("", "PersistentVolumeClaim", &mut pvc);
    assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
    let mut sc = json!({"provisioner": "x"});
    apply_defaults("storage.k8s.io", "StorageClass", &mut sc);
    assert_eq!(
        (sc["reclaimPolicy"].clone(), sc["volumeBindingMode"].clone()),
        (json!("Delete"), json!("Immediate"))
    );
    let mut np = json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}});
    apply_defaults("networking.k8s.io", "NetworkPolicy", &mut np);
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    let mut rb = json!({"subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]});
    apply_defaults("rbac.authorization.k8s.io", "RoleBinding", &mut rb);
    assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(rb["subjects"][1]["apiGroup"], "");
    let mut hpa = json!({"apiVersion": "autoscaling/v2", "spec": {"maxReplicas": 3}});
    apply_defaults("autoscaling", "HorizontalPodAutoscaler", &mut hpa);
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(
        hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
        300
    );
    let mut lr = json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}});
    apply_defaults("", "LimitRange", &mut lr);
    assert_eq!(lr["spec"]["limits"][0]["default"], json!({"cpu": "1"}));
    assert_eq!(
        lr["spec"]["limits"][0]["defaultRequest"],
        json!({"cpu": "1"})
    );
}

#[test]
fn webhook_configurations_get_upstreams_v1_defaults() {
    let hook = json!({"webhooks": [{"name": "a.example.com",
        "clientConfig": {"service": {"namespace": "ns", "name": "svc"}},
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "sideEffects": "None", "admissionReviewVersions": ["v1"]}]});
    let mut v = hook.clone();
    apply_defaults(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        &mut v,
    );
    let w = &v["webhooks"][0];
    assert_eq!(
        (
            &w["failurePolicy"],
            &w["matchPolicy"],
            &w["timeoutSeconds"],
            &w["namespaceSelector"],
            &w["objectSelector"],
            &w["rules"][0]["scope"],
            &w["clientConfig"]["service"]["port"],
        ),
        (
            &json!("Fail"),
            &json!("Equivalent"),
            &json!(10),
            &json!({}),
            &json!({}),
            &json!("*"),
            &json!(443)
        )
    );
    assert!(w.get("reinvocationPolicy").is_none());
    let mut m = hook;
    m["webhooks"][0]["clientConfig"] = json!({"url": "https://x.example.com"});
    apply_defaults(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        &mut m,
    );
    assert_eq!(m["webhooks"][0]["reinvocationPolicy"], "Never");
    assert!(m["webhooks"][0]["clientConfig"].get("service").is_none());
}
