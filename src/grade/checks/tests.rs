//! Table tests of the pure judges.

use super::*;
use serde_json::json;

#[test]
fn deployment_availability_needs_condition_and_replicas() {
    let cases = [
        (
            json!({"spec": {"replicas": 2}, "status": {"availableReplicas": 2, "updatedReplicas": 2, "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}}),
            true,
            "Available=True (MinimumReplicasAvailable), 2/2 replicas available, 2 updated",
        ),
        (
            json!({"spec": {"replicas": 2}, "status": {"updatedReplicas": 2, "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}]}}),
            false,
            "Available=False (MinimumReplicasUnavailable), 0/2 replicas available, 2 updated",
        ),
        (
            json!({"spec": {"replicas": 1}}),
            false,
            "no Available condition, 0/1 replicas available, 0 updated",
        ),
        (
            json!({"spec": {"replicas": 3}, "status": {"availableReplicas": 2, "updatedReplicas": 3, "conditions": [{"type": "Available", "status": "True"}]}}),
            false,
            "Available=True, 2/3 replicas available, 3 updated",
        ),
    ];
    for (d, pass, seen) in cases {
        assert_eq!(
            deployment_available(&d),
            Verdict {
                pass,
                seen: seen.into()
            }
        );
    }
}

fn pod(name: &str, ready: bool, restarts: i64, waiting: Option<&str>) -> Value {
    let mut state = json!({"running": {}});
    if let Some(w) = waiting {
        state = json!({"waiting": {"reason": w}});
    }
    json!({"metadata": {"name": name}, "status": {"phase": "Running",
        "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
        "containerStatuses": [{"name": "api", "restartCount": restarts, "state": state}]}})
}

#[test]
fn pods_ready_reports_each_problem() {
    let v = pods_ready(
        &[
            pod("a", true, 0, None),
            pod("b", false, 4, Some("CrashLoopBackOff")),
        ],
        "app=api",
        0,
        1,
    );
    assert_eq!(
        v,
        Verdict::fail("pod b not Ready (CrashLoopBackOff, 4 restarts)")
    );
    let v = pods_ready(&[pod("a", true, 1, None)], "app=api", 0, 1);
    assert_eq!(v, Verdict::fail("pod a restarted 1 times"));
    assert_eq!(
        pods_ready(&[pod("a", true, 1, None)], "app=api", 1, 1),
        Verdict::pass("1 pods Ready")
    );
    assert_eq!(
        pods_ready(&[], "app=api", 0, 1),
        Verdict::fail("0 pods match app=api, want at least 1")
    );
    let mut gone = pod("a", true, 0, None);
    gone["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
    assert!(!pods_ready(&[gone], "app=api", 0, 1).pass);
}

#[test]
fn endpoints_count_ready_or_unset_conditions() {
    let svc = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web-frontend"}}});
    assert_eq!(
        service_endpoints(&svc, &[]),
        Verdict::fail("service/web has no ready endpoints (selector app=web-frontend)")
    );
    let not_ready =
        json!({"endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": false}}]});
    assert!(!service_endpoints(&svc, std::slice::from_ref(&not_ready)).pass);
    let unset = json!({"endpoints": [{"addresses": ["10.0.0.2"]}]});
    assert_eq!(
        service_endpoints(&svc, &[not_ready, unset]),
        Verdict::pass("service/web has 1 ready endpoints")
    );
}

#[test]
fn field_paths_follow_keys_indices_and_quoted_keys() {
    let d = json!({"kind": "Deployment", "metadata": {"name": "api", "labels": {"app.kubernetes.io/name": "api"}},
        "spec": {"template": {"spec": {"containers": [{"image": "busybox:1.36"}]}}}});
    assert_eq!(
        field_at(&d, "spec.template.spec.containers[0].image"),
        Some(&json!("busybox:1.36"))
    );
    assert_eq!(
        field_at(&d, "metadata.labels[\"app.kubernetes.io/name\"]"),
        Some(&json!("api"))
    );
    assert_eq!(field_at(&d, "spec.template.spec.containers[1].image"), None);
    assert_eq!(
        field_equals(
            &d,
            "spec.template.spec.containers[0].image",
            &json!("nginx")
        ),
        Verdict::fail("spec.template.spec.containers[0].image is \"busybox:1.36\", want \"nginx\"")
    );
    assert_eq!(
        field_equals(&d, "spec.replicas", &json!(1)),
        Verdict::fail("deployment/api has no spec.replicas")
    );
}

#[test]
fn events_before_the_mark_do_not_count() {
    let ev = |t: &str| json!({"reason": "BackOff", "lastTimestamp": t, "message": "Back-off restarting failed container api in pod api-1_shop(uid)", "involvedObject": {"kind": "Pod", "name": "api-1"}});
    let since: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
    assert!(events_absent_since(&[ev("2024-05-01T09:59:59Z")], "BackOff", Some(since)).pass);
    assert_eq!(
        events_absent_since(&[ev("2024-05-01T10:00:01Z")], "BackOff", Some(since)),
        Verdict::fail(
            "1 BackOff events, latest about pod/api-1: Back-off restarting failed container api in pod api-1_shop(uid)"
        )
    );
}

#[test]
fn http_get_judges_status_and_body() {
    use crate::script::probe::parse_wget;
    let ok = parse_wget(
        "Connecting to web (10.96.1.2:80)\n  HTTP/1.1 200 OK\nwriting to stdout\n<title>Welcome to nginx!</title>\nwritten to stdout\n",
        true,
    );
    let sim_ok = parse_wget(
        "Connecting to web (10.96.1.2:80)\nwriting to stdout\nhello\nwritten to stdout\n",
        true,
    );
    let not_found = parse_wget(
        "Connecting to web (10.96.1.2:80)\n  HTTP/1.1 404 Not Found\nwget: server returned error: HTTP/1.1 404 Not Found\n",
        false,
    );
    let refused = parse_wget(
        "Connecting to web (10.96.1.2:80)\nwget: can't connect to remote host (10.96.1.2): Connection refused\n",
        false,
    );
    let u = "http://web";
    let cases = [
        (&ok, 200, None, true, "GET http://web: HTTP 200"),
        (
            &ok,
            200,
            Some("Welcome"),
            true,
            "GET http://web: HTTP 200, body contains \"Welcome\"",
        ),
        (
            &ok,
            200,
            Some("Goodbye"),
            false,
            "GET http://web: HTTP 200, body does not contain \"Goodbye\" (body: \"<title>Welcome to nginx!</title>\")",
        ),
        (&sim_ok, 200, None, true, "GET http://web: HTTP 2xx"),
        (
            &sim_ok,
            404,
            None,
            false,
            "GET http://web: HTTP 2xx, want HTTP 404",
        ),
        (
            &not_found,
            200,
            None,
            false,
            "GET http://web: HTTP 404, want HTTP 200",
        ),
        (&not_found, 404, None, true, "GET http://web: HTTP 404"),
        (
            &refused,
            200,
            None,
            false,
            "GET http://web: wget: can't connect to remote host (10.96.1.2): Connection refused, want HTTP 200",
        ),
    ];
    for (p, want, contains, pass, seen) in cases {
        assert_eq!(
            http_get(u, p, want, contains),
            Verdict {
                pass,
                seen: seen.into()
            }
        );
    }
}

#[test]
fn dns_resolves_reports_the_answer_or_the_error() {
    use crate::script::probe::parse_nslookup;
    let ok = parse_nslookup(
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb.web.svc.cluster.local\nAddress: 10.96.1.2\n",
    );
    assert_eq!(
        dns_resolves("web", &ok),
        Verdict::pass("web resolves to 10.96.1.2 (web.web.svc.cluster.local)")
    );
    let down = parse_nslookup(";; connection timed out; no servers could be reached\n");
    assert_eq!(
        dns_resolves("web", &down),
        Verdict::fail("web does not resolve: ;; connection timed out; no servers could be reached")
    );
    let empty = parse_nslookup("");
    assert_eq!(
        dns_resolves("web", &empty),
        Verdict::fail("web does not resolve: no answer: \"\"")
    );
}
