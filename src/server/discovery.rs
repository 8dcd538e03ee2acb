//! The discovery documents of the simulated API server, rendered from the
//! resource catalog (`crate::api::resource`): `GET /api`, `/apis`, `/apis/<g>`,
//! `/api/v1`, `/apis/<g>/<v>` and `/version`.
//!
//! Upstream truth:
//! - legacy documents: apiserver `pkg/endpoints/discovery/{legacy,root,group,version}.go`,
//!   shapes pinned by kubernetes `api/discovery/{api,apis,api__v1,apis__<g>,apis__<g>__<v>}.json`
//!   (`/api/v1` has no `apiVersion`, `/apis/<g>/<v>` has `"apiVersion":"v1"`; subresources are
//!   listed as `pods/log` with `singularName: ""` and `group`/`version` only when they differ);
//! - aggregated discovery (`apidiscovery.k8s.io/v2`): apiserver
//!   `pkg/endpoints/discovery/aggregated/{handler,wrapper,negotiation}.go`, fixture
//!   `api/discovery/aggregated_v2.json` (`responseKind` group/version are `""` when they equal the
//!   containing group version; `metadata.creationTimestamp: null`; `freshness: "Current"`);
//! - Accept negotiation: apiserver `pkg/endpoints/handlers/negotiation/negotiate.go` with
//!   munnerz/goautoneg `ParseAccept`; client-go `discovery/discovery_client.go` sends
//!   `AcceptV2, AcceptV2Beta1, application/json` (kubectl 1.32; v2beta1 is still served in 1.33).

use serde_json::{Map, Value, json};

use crate::api::resource::{GROUPS, ResourceInfo, in_group_version};

/// Content-Type of an aggregated discovery answer (client-go goes by it).
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
/// Content-Type of a v2beta1 aggregated discovery answer.
pub const AGGREGATED_V2BETA1_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
/// `serverAddressByClientCIDRs[0].serverAddress` used by [`api_versions`].
pub const DEFAULT_SERVER_ADDRESS: &str = "127.0.0.1:6443";

const DISCOVERY_GROUP: &str = "apidiscovery.k8s.io";
const DISCOVERY_LIST_KIND: &str = "APIGroupDiscoveryList";
const V2: &str = "v2";
const V2BETA1: &str = "v2beta1";

/// The Content-Type for an aggregated answer in `version` (`"v2"` or `"v2beta1"`).
pub fn aggregated_content_type(version: &str) -> &'static str {
    if version == V2BETA1 {
        AGGREGATED_V2BETA1_CONTENT_TYPE
    } else {
        AGGREGATED_CONTENT_TYPE
    }
}

/// `GET /api` as an `apidiscovery.k8s.io/v2` APIGroupDiscoveryList (the core group only).
pub fn aggregated_core() -> Value {
    aggregated_core_as(V2)
}

/// `GET /apis` as an `apidiscovery.k8s.io/v2` APIGroupDiscoveryList (every named group).
pub fn aggregated_apis() -> Value {
    aggregated_apis_as(V2)
}

/// [`aggregated_core`] in `version` (`"v2"` or `"v2beta1"`; the shape is the same).
pub fn aggregated_core_as(version: &str) -> Value {
    discovery_list(version, GROUPS.iter().filter(|(g, _)| g.is_empty()))
}

/// [`aggregated_apis`] in `version` (`"v2"` or `"v2beta1"`; the shape is the same).
pub fn aggregated_apis_as(version: &str) -> Value {
    discovery_list(version, GROUPS.iter().filter(|(g, _)| !g.is_empty()))
}

fn discovery_list<'a>(
    version: &str,
    groups: impl Iterator<Item = &'a (&'static str, &'static [&'static str])>,
) -> Value {
    let version = if version == V2BETA1 { V2BETA1 } else { V2 };
    let items: Vec<Value> = groups.map(|(g, vs)| group_discovery(g, vs)).collect();
    json!({
        "kind": DISCOVERY_LIST_KIND,
        "apiVersion": format!("{DISCOVERY_GROUP}/{version}"),
        "metadata": {},
        "items": items,
    })
}

fn group_discovery(group: &str, versions: &[&str]) -> Value {
    let mut metadata = Map::new();
    if !group.is_empty() {
        metadata.insert("name".into(), json!(group));
    }
    metadata.insert("creationTimestamp".into(), Value::Null);
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> =
                in_group_version(group, v).map(resource_discovery).collect();
            json!({ "version": v, "resources": resources, "freshness": "Current" })
        })
        .collect();
    json!({ "metadata": metadata, "versions": versions })
}

/// `{group, version, kind}`, with group and version blanked when they are the
/// containing group version's (as the installer leaves them on APIResource).
fn response_kind(r: &ResourceInfo, group: &str, version: &str, kind: &str) -> Value {
    let same = group == r.group && version == r.version;
    let (group, version) = if same { ("", "") } else { (group, version) };
    json!({ "group": group, "version": version, "kind": kind })
}

fn resource_discovery(r: &ResourceInfo) -> Value {
    let mut m = Map::new();
    m.insert("resource".into(), json!(r.plural));
    m.insert(
        "responseKind".into(),
        response_kind(r, r.group, r.version, r.kind),
    );
    m.insert(
        "scope".into(),
        json!(if r.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }),
    );
    m.insert("singularResource".into(), json!(r.singular));
    m.insert("verbs".into(), json!(r.verbs));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), json!(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), json!(r.categories));
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                json!({
                    "subresource": s.name,
                    "responseKind": response_kind(r, s.group, s.version, s.kind),
                    "verbs": s.verbs,
                })
            })
            .collect();
        m.insert("subresources".into(), Value::Array(subs));
    }
    Value::Object(m)
}

/// Which aggregated discovery version an `Accept` header asks for, decided the way
/// the apiserver's discovery wrapper does: clauses in goautoneg order, a clause
/// counts only when its media range covers `application/json` and its `g`/`v`/`as`
/// name `apidiscovery.k8s.io` `v2`/`v2beta1` `APIGroupDiscoveryList` (plain
/// `application/json` clauses are skipped, not decisive). `None` means legacy.
///
/// Only JSON is served here, so a clause asking for protobuf or YAML aggregated
/// discovery is passed over (upstream would answer it in that encoding).
pub fn wants_aggregated(accept: &str) -> Option<&'static str> {
    parse_accept(accept).iter().find_map(aggregated_version_of)
}

fn aggregated_version_of(clause: &AcceptClause<'_>) -> Option<&'static str> {
    let covers_json = matches!(
        (clause.media_type, clause.sub_type),
        ("application", "json" | "*") | ("*", "*")
    );
    if !covers_json {
        return None;
    }
    // JSON has a stream serializer and the endpoint allows only "watch"; no server versions.
    if clause
        .param("stream")
        .is_some_and(|s| !s.is_empty() && s != "watch")
        || clause.param("sv").is_some_and(|s| !s.is_empty())
    {
        return None;
    }
    let group = clause.param("g")?;
    let kind = clause.param("as")?;
    if group != DISCOVERY_GROUP || kind != DISCOVERY_LIST_KIND {
        return None;
    }
    match clause.param("v")? {
        V2 => Some(V2),
        V2BETA1 => Some(V2BETA1),
        _ => None,
    }
}

/// One media range of an `Accept` header, as goautoneg parses it.
#[derive(Debug)]
struct AcceptClause<'a> {
    media_type: &'a str,
    sub_type: &'a str,
    q: f32,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> AcceptClause<'a> {
    /// The last value given for `key` (goautoneg keeps params in a map).
    fn param(&self, key: &str) -> Option<&'a str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// goautoneg's `accept_slice.Less`: higher q first, then concrete types before
    /// wildcards. It is not a strict order, so the sort below mirrors Go's insertion sort.
    fn sorts_before(&self, other: &Self) -> bool {
        self.q > other.q
            || (self.media_type != "*" && other.media_type == "*")
            || (self.sub_type != "*" && other.sub_type == "*")
    }
}

fn parse_accept(header: &str) -> Vec<AcceptClause<'_>> {
    let mut clauses = Vec::new();
    for part in header.split(',') {
        let mut pieces = part.trim_matches(' ').split(';');
        let range = pieces.next().unwrap_or_default();
        let mut types = range.split('/');
        let media_type = types.next().unwrap_or_default().trim_matches(' ');
        let sub_type = match (types.next(), types.next()) {
            (None, _) if media_type == "*" => "*",
            (Some(sub), None) => sub.trim_matches(' '),
            _ => continue,
        };
        let mut clause = AcceptClause {
            media_type,
            sub_type,
            q: 1.0,
            params: Vec::new(),
        };
        for param in pieces {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim_matches(' ');
            if key == "q" {
                clause.q = value.parse().unwrap_or(0.0);
            } else {
                clause.params.push((key, value.trim_matches(' ')));
            }
        }
        clauses.push(clause);
    }
    for i in 1..clauses.len() {
        let mut j = i;
        while j > 0 && clauses[j].sorts_before(&clauses[j - 1]) {
            clauses.swap(j, j - 1);
            j -= 1;
        }
    }
    clauses
}

/// Legacy `GET /api`: APIVersions with [`DEFAULT_SERVER_ADDRESS`].
pub fn api_versions() -> Value {
    api_versions_at(DEFAULT_SERVER_ADDRESS)
}

/// Legacy `GET /api` advertising `server_address` (`host:port`) for every client CIDR.
pub fn api_versions_at(server_address: &str) -> Value {
    let versions = GROUPS
        .iter()
        .find(|(g, _)| g.is_empty())
        .map(|(_, vs)| *vs)
        .unwrap_or(&[]);
    json!({
        "kind": "APIVersions",
        "versions": versions,
        "serverAddressByClientCIDRs": [
            { "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }
        ],
    })
}

/// Legacy `GET /apis`: APIGroupList of every named group, in priority order.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = GROUPS
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_body(g, vs))
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `GET /apis/<group>`: the APIGroup, or `None` for an unknown group (and for "").
pub fn api_group(group: &str) -> Option<Value> {
    let (name, versions) = GROUPS.iter().find(|(g, _)| !g.is_empty() && *g == group)?;
    let mut body = group_body(name, versions);
    if let Value::Object(m) = &mut body {
        m.insert("kind".into(), json!("APIGroup"));
        m.insert("apiVersion".into(), json!("v1"));
    }
    Some(body)
}

fn group_body(group: &str, versions: &[&str]) -> Value {
    let gv = |v: &str| json!({ "groupVersion": format!("{group}/{v}"), "version": v });
    let listed: Vec<Value> = versions.iter().map(|v| gv(v)).collect();
    let preferred = versions.first().map(|v| gv(v)).unwrap_or(Value::Null);
    json!({ "name": group, "versions": listed, "preferredVersion": preferred })
}

/// `GET /api/v1` or `GET /apis/<group>/<version>`: the APIResourceList, with each
/// subresource as its own entry (`pods/log`). `None` for an unserved group version.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let served = GROUPS
        .iter()
        .any(|(g, vs)| *g == group && vs.contains(&version));
    if !served {
        return None;
    }
    let mut resources = Vec::new();
    for r in in_group_version(group, version) {
        resources.push(legacy_resource(
            r, r.plural, r.singular, r.group, r.version, r.kind, r.verbs, true,
        ));
        for s in r.subresources {
            let name = format!("{}/{}", r.plural, s.name);
            resources.push(legacy_resource(
                r, &name, "", s.group, s.version, s.kind, s.verbs, false,
            ));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut list = Map::new();
    list.insert("kind".into(), json!("APIResourceList"));
    // The core list has no apiVersion (api__v1.json); group lists carry "v1".
    if !group.is_empty() {
        list.insert("apiVersion".into(), json!("v1"));
    }
    list.insert("groupVersion".into(), json!(group_version));
    list.insert("resources".into(), Value::Array(resources));
    Some(Value::Object(list))
}

#[allow(clippy::too_many_arguments)]
fn legacy_resource(
    r: &ResourceInfo,
    name: &str,
    singular: &str,
    group: &str,
    version: &str,
    kind: &str,
    verbs: &[&str],
    main: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("singularName".into(), json!(singular));
    m.insert("namespaced".into(), json!(r.namespaced));
    if group != r.group || version != r.version {
        m.insert("group".into(), json!(group));
        m.insert("version".into(), json!(version));
    }
    m.insert("kind".into(), json!(kind));
    m.insert("verbs".into(), json!(verbs));
    if main && !r.short_names.is_empty() {
        m.insert("shortNames".into(), json!(r.short_names));
    }
    if main && !r.categories.is_empty() {
        m.insert("categories".into(), json!(r.categories));
    }
    Value::Object(m)
}

/// `GET /version` of a v1.33.1 kube-apiserver. The build fields are v1.33.1's release
/// (the `kubectl.1.33` build here reports the same commit and Go version); the
/// emulation/compatibility fields are the ones 1.33 servers add
/// (`k8s.io/apimachinery/pkg/version/types.go`).
pub fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.1",
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:27:33Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

#[cfg(test)]
mod tests;
