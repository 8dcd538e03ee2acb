//! `/openapi/v3` documents built from the definitions: the root index
//! (`{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=…"}}}`)
//! and one OpenAPI 3.0 document per served group-version, shaped like
//! upstream's `api/openapi-spec/v3/*.json` (kube-openapi builder3).
//!
//! What clients read (upstream): cli-runtime
//! `pkg/resource/query_param_verifier_v3.go` (every PATCH operation of a GVK
//! must list a `fieldValidation` parameter, or kubectl validates client-side),
//! kubectl `pkg/cmd/apply/patcher.go` (the PATCH `requestBody` must list
//! `application/strategic-merge-patch+json`; the schema is the
//! `components.schemas` entry whose `x-kubernetes-group-version-kind` matches),
//! kubectl `pkg/explain/v2` (same lookup, then follows `$ref`/`allOf`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::defs::{Definitions, REF_PREFIX, definitions};
use crate::api::resource::{GROUPS, ResourceInfo, Subresource, in_group_version};

/// A built document: JSON bytes and their hash.
struct Document {
    bytes: Vec<u8>,
    hash: String,
}

fn documents() -> &'static BTreeMap<String, Document> {
    static DOCS: OnceLock<BTreeMap<String, Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let defs = definitions();
        let mut docs = BTreeMap::new();
        for (group, versions) in GROUPS {
            for version in *versions {
                if let Some(doc) = group_version_document(defs, group, version) {
                    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
                    let hash = content_hash(&bytes);
                    docs.insert(gv_path(group, version), Document { bytes, hash });
                }
            }
        }
        docs
    })
}

/// `api/v1` or `apis/apps/v1`.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The `GET /openapi/v3` body.
pub fn openapi_v3_root() -> Value {
    let paths: Map<String, Value> = documents()
        .iter()
        .map(|(path, doc)| {
            (
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", doc.hash)}),
            )
        })
        .collect();
    json!({ "paths": paths })
}

/// The `GET /openapi/v3/<path>` body (`path` like `api/v1` or `apis/apps/v1`,
/// without a leading slash) and its hash.
pub fn openapi_v3_document(path: &str) -> Option<(&'static [u8], &'static str)> {
    let path = path.trim_start_matches('/');
    documents()
        .get(path)
        .map(|d| (d.bytes.as_slice(), d.hash.as_str()))
}

/// Upper-case hex of a 128-bit FNV-1a over the bytes (clients only compare it).
fn content_hash(bytes: &[u8]) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{h:032X}")
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{name}") })
}

/// `CoreV1`, `AppsV1`, `RbacAuthorizationV1`: kube-openapi's operation-id infix.
fn op_infix(group: &str, version: &str) -> String {
    let g = if group.is_empty() {
        "core"
    } else {
        group.trim_end_matches(".k8s.io")
    };
    let mut out: String = g.split('.').map(capitalize).collect();
    out.push_str(&capitalize(version));
    out
}

/// `core_v1`, `apps_v1`, `rbacAuthorization_v1`.
fn tag(group: &str, version: &str) -> String {
    let infix = op_infix(group, version);
    let g = infix.strip_suffix(&capitalize(version)).unwrap_or(&infix);
    let mut chars = g.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string())
        .unwrap_or_default();
    format!("{first}{}_{version}", chars.as_str())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn query_param(name: &str, description: &str, ty: &str) -> Value {
    json!({"description": description, "in": "query", "name": name, "schema": {"type": ty, "uniqueItems": true}})
}

fn write_params(patch: bool) -> Vec<Value> {
    let mut p = vec![
        query_param(
            "dryRun",
            "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
            "string",
        ),
        query_param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
            "string",
        ),
        query_param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
            "string",
        ),
    ];
    if patch {
        p.push(query_param("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.", "boolean"));
    }
    p
}

fn responses(codes: &[&str], schema: &Value) -> Value {
    let content = json!({
        "application/json": {"schema": schema},
        "application/vnd.kubernetes.protobuf": {"schema": schema},
        "application/yaml": {"schema": schema}
    });
    let mut r = Map::new();
    for code in codes {
        let description = match *code {
            "200" => "OK",
            "201" => "Created",
            _ => "Accepted",
        };
        r.insert(
            (*code).to_string(),
            json!({"content": content.clone(), "description": description}),
        );
    }
    r.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(r)
}

struct Target<'a> {
    group: &'a str,
    version: &'a str,
    kind: &'a str,
    /// Definition of the body/response type.
    def: &'a str,
}

fn operation(verb: &str, id: String, t: &Target<'_>, action: &str, description: String) -> Value {
    let body = schema_ref(t.def);
    let mut op = json!({
        "description": description,
        "operationId": id,
        "tags": [tag(t.group, t.version)],
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": t.group, "kind": t.kind, "version": t.version},
    });
    let Value::Object(m) = &mut op else { return op };
    match verb {
        "get" => {
            m.insert("responses".into(), responses(&["200"], &body));
        }
        "post" | "put" => {
            m.insert("parameters".into(), Value::Array(write_params(false)));
            m.insert(
                "requestBody".into(),
                json!({"content": {"*/*": {"schema": body}}, "required": true}),
            );
            let codes: &[&str] = if verb == "post" {
                &["200", "201", "202"]
            } else {
                &["200", "201"]
            };
            m.insert("responses".into(), responses(codes, &body));
        }
        "patch" => {
            m.insert("parameters".into(), Value::Array(write_params(true)));
            let patch = schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
            m.insert(
                "requestBody".into(),
                json!({"content": {
                    "application/apply-patch+yaml": {"schema": patch},
                    "application/json-patch+json": {"schema": patch},
                    "application/merge-patch+json": {"schema": patch},
                    "application/strategic-merge-patch+json": {"schema": patch}
                }, "required": true}),
            );
            m.insert("responses".into(), responses(&["200", "201"], &body));
        }
        _ => {
            // delete / deletecollection
            m.insert(
                "parameters".into(),
                Value::Array(vec![query_param(
                    "dryRun",
                    "When present, indicates that modifications should not be persisted.",
                    "string",
                )]),
            );
            m.insert(
                "requestBody".into(),
                json!({"content": {"*/*": {"schema": schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")}}}),
            );
            let status = schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Status");
            let resp = if action == "deletecollection" {
                &status
            } else {
                &body
            };
            m.insert("responses".into(), responses(&["200", "202"], resp));
        }
    }
    op
}

fn path_params(namespaced: bool, named: bool) -> Value {
    let mut p = Vec::new();
    if named {
        p.push(json!({"description": "name of the resource", "in": "path", "name": "name", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
    }
    if namespaced {
        p.push(json!({"description": "object name and auth scope, such as for teams and projects", "in": "path", "name": "namespace", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
    }
    p.push(query_param("pretty", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line tool (curl and wget).", "string"));
    Value::Array(p)
}

fn add_resource_paths(
    defs: &Definitions,
    r: &ResourceInfo,
    paths: &mut Map<String, Value>,
    needed: &mut BTreeSet<String>,
) {
    let Some(def) = defs.name_of(r.group, r.version, r.kind) else {
        return;
    };
    needed.insert(def.to_string());
    let prefix = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let base = if r.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{prefix}/{}", r.plural)
    };
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let infix = op_infix(r.group, r.version);
    let t = Target {
        group: r.group,
        version: r.version,
        kind: r.kind,
        def,
    };
    let list_name = defs
        .name_of(r.group, r.version, &format!("{}List", r.kind))
        .map(str::to_string);
    if let Some(l) = &list_name {
        needed.insert(l.clone());
    }

    // Collection.
    let mut coll = Map::new();
    if let Some(l) = list_name.as_deref().filter(|_| r.has_verb("list")) {
        let lt = Target { def: l, ..t };
        let desc = format!("list or watch objects of kind {}", r.kind);
        coll.insert(
            "get".into(),
            operation(
                "get",
                format!("list{infix}{scope}{}", r.kind),
                &lt,
                "list",
                desc.clone(),
            ),
        );
        if r.namespaced {
            let all = operation(
                "get",
                format!("list{infix}{}ForAllNamespaces", r.kind),
                &lt,
                "list",
                desc,
            );
            paths.insert(
                format!("{prefix}/{}", r.plural),
                json!({"get": all, "parameters": path_params(false, false)}),
            );
        }
    }
    if r.has_verb("create") {
        coll.insert(
            "post".into(),
            operation(
                "post",
                format!("create{infix}{scope}{}", r.kind),
                &t,
                "post",
                format!("create a {}", r.kind),
            ),
        );
    }
    if r.has_verb("deletecollection") {
        coll.insert(
            "delete".into(),
            operation(
                "delete",
                format!("deleteCollection{infix}{scope}{}", r.kind),
                &t,
                "deletecollection",
                format!("delete collection of {}", r.kind),
            ),
        );
    }
    if !coll.is_empty() {
        coll.insert("parameters".into(), path_params(r.namespaced, false));
        paths.insert(base.clone(), Value::Object(coll));
    }

    // Item.
    let mut item = Map::new();
    for (verb, method, action, id, what) in [
        ("get", "get", "get", "read", "read the specified"),
        ("update", "put", "put", "replace", "replace the specified"),
        (
            "patch",
            "patch",
            "patch",
            "patch",
            "partially update the specified",
        ),
        ("delete", "delete", "delete", "delete", "delete a"),
    ] {
        if r.has_verb(verb) {
            item.insert(
                method.into(),
                operation(
                    method,
                    format!("{id}{infix}{scope}{}", r.kind),
                    &t,
                    action,
                    format!("{what} {}", r.kind),
                ),
            );
        }
    }
    if !item.is_empty() {
        item.insert("parameters".into(), path_params(r.namespaced, true));
        paths.insert(format!("{base}/{{name}}"), Value::Object(item));
    }

    for sub in r.subresources {
        add_subresource_path(defs, r, sub, &base, &infix, scope, paths, needed);
    }
}

#[allow(clippy::too_many_arguments)]
fn add_subresource_path(
    defs: &Definitions,
    r: &ResourceInfo,
    sub: &Subresource,
    base: &str,
    infix: &str,
    scope: &str,
    paths: &mut Map<String, Value>,
    needed: &mut BTreeSet<String>,
) {
    // Connect subresources (exec, attach, portforward, proxy, log) have no body schema.
    let Some(def) = defs.name_of(sub.group, sub.version, sub.kind) else {
        return;
    };
    needed.insert(def.to_string());
    let t = Target {
        group: sub.group,
        version: sub.version,
        kind: sub.kind,
        def,
    };
    let suffix = capitalize(sub.name);
    let mut ops = Map::new();
    for (verb, method, id, what) in [
        ("get", "get", "read", "read"),
        ("update", "put", "replace", "replace"),
        ("patch", "patch", "patch", "partially update"),
        ("create", "post", "create", "create"),
    ] {
        if sub.verbs.contains(&verb) {
            let action = method;
            let desc = format!("{what} {} of the specified {}", sub.name, r.kind);
            ops.insert(
                method.into(),
                operation(
                    method,
                    format!("{id}{infix}{scope}{}{suffix}", r.kind),
                    &t,
                    action,
                    desc,
                ),
            );
        }
    }
    if !ops.is_empty() {
        ops.insert("parameters".into(), path_params(r.namespaced, true));
        paths.insert(format!("{base}/{{name}}/{}", sub.name), Value::Object(ops));
    }
}

/// Every definition reachable from `start` through `$ref`s.
fn closure(defs: &Definitions, start: BTreeSet<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = start.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(s) = defs.get(&name) {
            collect_refs(s, &mut todo);
        }
    }
    seen
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(REF_PREFIX))
            {
                out.push(name.to_string());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn group_version_document(defs: &Definitions, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut needed = BTreeSet::new();
    for r in in_group_version(group, version) {
        add_resource_paths(defs, r, &mut paths, &mut needed);
    }
    if paths.is_empty() {
        return None;
    }
    for meta in [
        "DeleteOptions",
        "Status",
        "Patch",
        "WatchEvent",
        "APIResourceList",
    ] {
        needed.insert(format!("io.k8s.apimachinery.pkg.apis.meta.v1.{meta}"));
    }
    let schemas: Map<String, Value> = closure(defs, needed)
        .into_iter()
        .filter_map(|n| defs.get(&n).map(|s| (n.clone(), s.clone())))
        .collect();
    Some(json!({
        "components": {"schemas": schemas},
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "openapi": "3.0.0",
        "paths": paths
    }))
}

#[cfg(test)]
mod tests;
