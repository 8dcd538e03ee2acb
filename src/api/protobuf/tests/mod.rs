//! Tests for the protobuf body decoder: real kubectl captures, hand-encoded edge cases, and
//! malformed input.

mod captured;

use serde_json::{Value, json};

use super::{decode, decode_as, is_protobuf};

// ---- a tiny encoder, enough to write what gogo-protobuf writes ----

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Varint field.
fn v(n: u64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(n << 3, &mut out);
    varint(value, &mut out);
    out
}

/// Length-delimited field.
fn b(n: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint((n << 3) | 2, &mut out);
    varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

fn s(n: u64, text: &str) -> Vec<u8> {
    b(n, text.as_bytes())
}

/// Message field from its encoded fields.
fn m(n: u64, fields: &[Vec<u8>]) -> Vec<u8> {
    b(n, &fields.concat())
}

/// `k8s\0` + runtime.Unknown{typeMeta, raw}.
fn body(api_version: &str, kind: &str, raw: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"k8s\0".to_vec();
    out.extend(m(1, &[s(1, api_version), s(2, kind)]));
    out.extend(m(2, raw));
    out
}

/// ObjectMeta as Go writes it for `{Name: name}`: every non-pointer field, zero or not.
fn meta(name: &str) -> Vec<u8> {
    m(
        1,
        &[
            s(1, name),
            s(2, ""),
            s(3, ""),
            s(4, ""),
            s(5, ""),
            s(6, ""),
            v(7, 0),
            b(8, &[]),
        ],
    )
}

fn decoded(bytes: &[u8]) -> Value {
    match decode(bytes) {
        Ok(value) => value,
        Err(e) => panic!("decode failed: {e}"),
    }
}

// ---- real captures ----

fn check_capture((pb, json): (&[u8], &str)) {
    let want: Value = serde_json::from_str(json).expect("fixture JSON");
    assert_eq!(decoded(pb), want);
}

#[test]
fn create_deployment_with_zero_replicas_keeps_replicas_zero() {
    check_capture(captured::DEPLOYMENT);
    assert_eq!(
        decoded(captured::DEPLOYMENT.0)["spec"]["replicas"],
        json!(0)
    );
}

#[test]
fn create_configmap_secret_namespace_serviceaccount() {
    check_capture(captured::CONFIGMAP);
    check_capture(captured::SECRET);
    check_capture(captured::NAMESPACE);
    check_capture(captured::SERVICEACCOUNT);
    // Binary secret data is base64 of the raw bytes.
    assert_eq!(decoded(captured::SECRET.0)["data"]["bin"], json!("AAH/"));
}

#[test]
fn create_workloads_and_rbac() {
    check_capture(captured::JOB);
    check_capture(captured::CRONJOB);
    check_capture(captured::ROLE);
    check_capture(captured::ROLEBINDING);
}

#[test]
fn create_service_priorityclass_quota() {
    // targetPort is an IntOrString, `value: 0` has no omitempty, quotas are Quantity strings.
    check_capture(captured::SERVICE);
    check_capture(captured::PRIORITYCLASS);
    check_capture(captured::QUOTA);
}

#[test]
fn auth_reviews() {
    check_capture(captured::SSAR);
    check_capture(captured::SELF_SUBJECT_REVIEW);
    // Go writes `"resourceRules":null` for the nil slices; absent is the same object.
    let mut want: Value = serde_json::from_str(captured::SSRR.1).expect("fixture JSON");
    if let Some(status) = want["status"].as_object_mut() {
        status.remove("resourceRules");
        status.remove("nonResourceRules");
    }
    assert_eq!(decoded(captured::SSRR.0), want);
}

// ---- hand-encoded special cases ----

#[test]
fn times_int_or_string_pointers_and_inline_structs() {
    let time = |secs: u64, nanos: u64| [v(1, secs), v(2, nanos)].concat();
    let container = m(
        2,
        &[
            s(1, "app"),
            s(2, "nginx"),
            // env: {name: CFG, valueFrom: {configMapKeyRef: {LocalObjectReference{name: cm}, key: k}}}
            m(
                7,
                &[
                    s(1, "CFG"),
                    s(2, ""),
                    m(3, &[m(3, &[m(1, &[s(1, "cm")]), s(2, "k")])]),
                ],
            ),
            // readinessProbe: httpGet port "http", periodSeconds 0 (non-pointer: dropped)
            m(
                11,
                &[
                    m(
                        1,
                        &[m(2, &[s(1, "/"), m(2, &[v(1, 1), v(2, 0), s(3, "http")])])],
                    ),
                    v(6, 0),
                ],
            ),
            s(14, ""),
            v(16, 0),
        ],
    );
    let pod_spec = m(
        2,
        &[
            container,
            s(3, "Always"),
            v(4, 0), // terminationGracePeriodSeconds: *int64 -> kept
            s(6, ""),
            v(11, 0), // hostNetwork: bool -> dropped
        ],
    );
    let pod_meta = m(
        1,
        &[
            s(1, "p"),
            b(8, &time(1_704_164_645, 0)),
            b(9, &time(1_704_164_645, 123_456_789)),
            v(10, 0), // deletionGracePeriodSeconds: *int64 -> kept
        ],
    );
    let got = decoded(&body("v1", "Pod", &[pod_meta, pod_spec]));
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "p",
                "creationTimestamp": "2024-01-02T03:04:05Z",
                "deletionTimestamp": "2024-01-02T03:04:05Z",
                "deletionGracePeriodSeconds": 0
            },
            "spec": {
                "containers": [{
                    "name": "app", "image": "nginx",
                    "env": [{"name": "CFG", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 0
            }
        })
    );
}

#[test]
fn micro_time_raw_extension_and_fields_v1() {
    // Lease.spec.renewTime is a MicroTime.
    let lease = body(
        "coordination.k8s.io/v1",
        "Lease",
        &[
            meta("l"),
            m(
                2,
                &[s(1, "me"), m(4, &[v(1, 1_704_164_645), v(2, 123_456_789)])],
            ),
        ],
    );
    assert_eq!(
        decoded(&lease)["spec"],
        json!({"holderIdentity": "me", "renewTime": "2024-01-02T03:04:05.123456Z"})
    );
    // ControllerRevision.data is a RawExtension; managedFields[].fieldsV1 is FieldsV1.
    let managed = m(
        17,
        &[
            s(1, "kubectl"),
            s(2, "Update"),
            m(7, &[b(1, br#"{"f:data":{}}"#)]),
        ],
    );
    let revision = body(
        "apps/v1",
        "ControllerRevision",
        &[
            m(1, &[s(1, "r"), managed]),
            m(2, &[b(1, br#"{"spec":{"x":1}}"#)]),
            v(3, 2),
        ],
    );
    let got = decoded(&revision);
    assert_eq!(got["data"], json!({"spec": {"x": 1}}));
    assert_eq!(got["revision"], json!(2));
    assert_eq!(
        got["metadata"]["managedFields"],
        json!([{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:data": {}}}])
    );
}

#[test]
fn eviction_token_request_subject_access_review_delete_options() {
    let eviction = body(
        "policy/v1",
        "Eviction",
        &[meta("web-1"), m(2, &[v(1, 0), s(4, "Background")])],
    );
    assert_eq!(
        decoded(&eviction)["deleteOptions"],
        json!({"gracePeriodSeconds": 0, "propagationPolicy": "Background"})
    );

    let token = body(
        "authentication.k8s.io/v1",
        "TokenRequest",
        &[
            meta(""),
            m(
                2,
                &[
                    s(1, "api"),
                    s(1, "vault"),
                    v(4, 3600),
                    m(3, &[s(1, "Pod"), s(2, "v1"), s(3, "p"), s(4, "")]),
                ],
            ),
        ],
    );
    assert_eq!(
        decoded(&token)["spec"],
        json!({"audiences": ["api", "vault"], "expirationSeconds": 3600,
               "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}})
    );

    // SubjectAccessReview extra is map<string, ExtraValue>: JSON arrays.
    let extra = m(5, &[s(1, "scopes"), m(2, &[s(1, "a"), s(1, "b")])]);
    let sar = body(
        "authorization.k8s.io/v1",
        "SubjectAccessReview",
        &[
            meta(""),
            m(2, &[s(3, "bob"), s(4, "devs"), extra]),
            m(3, &[v(1, 0), s(3, "")]),
        ],
    );
    let got = decoded(&sar);
    assert_eq!(
        got["spec"],
        json!({"user": "bob", "groups": ["devs"], "extra": {"scopes": ["a", "b"]}})
    );
    assert_eq!(got["status"], json!({"allowed": false}));

    // DeleteOptions is registered in every group version.
    let opts = decoded(&body("apps/v1", "DeleteOptions", &[v(1, 30), v(3, 0)]));
    assert_eq!(
        opts,
        json!({"apiVersion": "apps/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 30, "orphanDependents": false})
    );
}

#[test]
fn negative_numbers_packed_repeated_and_unknown_fields() {
    // Job podFailurePolicy rule: onExitCodes values [1, 2] packed, then 3 unpacked.
    let packed = b(3, &[1, 2]);
    let rule = m(1, &[s(1, "FailJob"), m(2, &[s(2, "In"), packed, v(3, 3)])]);
    let spec = m(
        2,
        &[
            v(7, u64::MAX),
            m(11, &[rule]),
            v(99, 7),
            s(98, "future field"),
        ],
    );
    let got = decoded(&body("batch/v1", "Job", &[meta("j"), spec]));
    assert_eq!(
        got["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"],
        json!([1, 2, 3])
    );
    // backoffLimit (*int32) of -1 is a ten-byte varint.
    assert_eq!(got["spec"]["backoffLimit"], json!(-1));
}

#[test]
fn endpoint_kind_fills_a_missing_envelope_kind() {
    let mut bytes = b"k8s\0".to_vec();
    bytes.extend(m(1, &[s(1, ""), s(2, "")]));
    bytes.extend(m(2, &[meta("x")]));
    let got = decode_as(&bytes, "v1", "ConfigMap").expect("decodes with defaults");
    assert_eq!(
        got,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "creationTimestamp": null}})
    );
    let err = decode(&bytes).expect_err("no kind");
    assert_eq!(
        err.reason,
        "Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:\"\", Kind:\"\"}'"
    );
    let text = err.expecting("ConfigMap").to_string();
    assert!(
        text.starts_with(
            "the object provided is unrecognized (must be of type ConfigMap): Object 'Kind' is \
             missing in 'runtime.TypeMeta{APIVersion:\"\", Kind:\"\"}' (6b3873000a040a00120012"
        ),
        "{text}"
    );
    // summarizeData: the first 30 bytes in hex, then " ...".
    assert!(text.ends_with(" ...)"), "{text}");
}

// ---- malformed input ----

#[test]
fn envelope_errors_use_upstream_messages() {
    let err = |bytes: &[u8]| decode(bytes).expect_err("must fail");
    assert_eq!(err(b"").reason, "empty data");
    assert_eq!(err(b"k8s\0").reason, "empty body");
    let json = err(br#"{"kind":"ConfigMap"}"#);
    assert_eq!(
        json.reason,
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    );
    assert_eq!(
        json.expecting("ConfigMap").to_string(),
        "the object provided is unrecognized (must be of type ConfigMap): provided data does not appear \
         to be a protobuf message, expected prefix [107 56 115 0] ({\"kind\":\"ConfigMap\"})"
    );
    assert_eq!(
        err(b"").expecting("Pod").to_string(),
        "the object provided is unrecognized (must be of type Pod): empty data (<empty>)"
    );
}

#[test]
fn body_errors_name_the_kind_like_the_apiserver() {
    // metadata claims 5 bytes but the raw object ends after 1.
    let truncated = body("v1", "ConfigMap", &[vec![0x0a, 0x05, b'x']]);
    let err = decode(&truncated).expect_err("truncated");
    assert_eq!(err.kind, "ConfigMap");
    assert_eq!(
        err.to_string(),
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: unexpected EOF"
    );

    // metadata.name sent as a varint.
    let wrong = body("v1", "ConfigMap", &[m(1, &[v(1, 5)])]);
    assert_eq!(
        decode(&wrong).expect_err("wire type").reason,
        "proto: wrong wireType = 0 for field Name"
    );

    let tag0 = body("v1", "ConfigMap", &[vec![0x00, 0x00]]);
    assert_eq!(
        decode(&tag0).expect_err("tag 0").reason,
        "proto: ConfigMap: illegal tag 0 (wire type 0)"
    );

    let unknown = body("apps/v1", "Frobnicator", &[meta("x")]);
    assert_eq!(
        decode(&unknown)
            .expect_err("unknown kind")
            .expecting("Deployment")
            .to_string(),
        "Frobnicator in version \"v1\" cannot be handled as a Deployment: no kind \"Frobnicator\" is \
         registered for version \"apps/v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
    );
}

#[test]
fn every_truncation_of_real_bodies_is_an_error_not_a_panic() {
    for (pb, _) in [
        captured::DEPLOYMENT,
        captured::SERVICE,
        captured::QUOTA,
        captured::SSAR,
    ] {
        for len in 0..pb.len() {
            // Some prefixes are themselves well-formed (a field boundary), the rest must fail.
            let _ = decode(&pb[..len]);
        }
        let cut = decode(&pb[..pb.len() - 1]);
        assert!(cut.is_err(), "dropping the last byte must fail");
    }
}

#[test]
fn garbage_never_panics() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut failures = 0;
    for round in 0..2000 {
        let len = (round % 64) + 1;
        let mut bytes = b"k8s\0".to_vec();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(seed as u8);
        }
        if decode(&bytes).is_err() {
            failures += 1;
        }
        // Mutate a real body: flip one byte.
        let mut real = captured::DEPLOYMENT.0.to_vec();
        let at = 4 + (seed as usize) % (real.len() - 4);
        real[at] ^= (seed >> 8) as u8 | 1;
        let _ = decode(&real);
    }
    assert!(
        failures > 1900,
        "random bytes should almost never decode: {failures}"
    );
    // Deeply nested start groups and messages do not overflow the stack.
    let mut groups = body("v1", "ConfigMap", &[]);
    groups.extend(std::iter::repeat_n(0x0b_u8, 100_000));
    assert!(decode(&groups).is_err());
}

#[test]
fn protobuf_content_type() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf(
        "Application/VND.Kubernetes.Protobuf; charset=utf-8"
    ));
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf;stream=watch"
    ));
    assert!(!is_protobuf("application/json"));
    assert!(!is_protobuf("application/vnd.kubernetes.protobuf+json"));
}
