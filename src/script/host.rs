//! The host API scripts and rubric checks use over the cluster, through
//! kube-rs only: apply, get, list, create, patch, delete, scale, wait,
//! logs, events, SubjectAccessReviews, ServiceAccount tokens and
//! kubeconfigs (TokenRequest), HTTP and DNS probes from a short-lived pod
//! ([`super::probe`]), sleep and logging.
//!
//! The async methods serve the grade engine directly; [`register`] wraps
//! them for Rhai, where each call blocks on the captured runtime handle
//! (scripts run in `spawn_blocking`, never on an async worker).

use super::target::{self, Target};
use crate::api::image_behaviour::AppBehaviour;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams,
};
use kube::core::discovery::{ApiCapabilities, ApiResource};
use kube::{Client, Discovery};
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, Position};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Field manager for server-side apply.
pub const FIELD_MANAGER: &str = "kdrill";

/// What a host call failed with: one line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HostError(pub String);

impl From<kube::Error> for HostError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => HostError(s.message.clone()),
            other => HostError(other.to_string()),
        }
    }
}

pub type Result<T, E = HostError> = std::result::Result<T, E>;

/// Every served resource, from discovery.
pub type Resources = Arc<Vec<(ApiResource, ApiCapabilities)>>;

/// Where the cluster is: what a kubeconfig for another identity needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    /// The cluster's (and context's) name in the kubeconfig.
    pub name: String,
    pub server: String,
    /// base64 of the CA bundle, as kubeconfigs carry it.
    pub ca_data: String,
}

/// A kubeconfig with one cluster, user and context, authenticating with
/// a bearer token.
pub fn token_kubeconfig(access: &ClusterAccess, user: &str, token: &str) -> String {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": access.name,
        "clusters": [{"name": access.name, "cluster": {"server": access.server, "certificate-authority-data": access.ca_data}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": access.name, "context": {"cluster": access.name, "user": user}}],
    });
    crate::api::yaml::to_string(&doc).unwrap_or_default()
}

/// The cluster as scripts see it.
pub struct Host {
    pub client: Client,
    /// The scenario's namespace: the default for every call.
    pub namespace: String,
    /// Relative manifest paths resolve here.
    pub scenario_dir: PathBuf,
    /// Receives `log(...)` lines.
    pub log: Arc<dyn Fn(&str) + Send + Sync>,
    /// How often `wait_for` polls.
    pub poll: Duration,
    /// Where the cluster is, for kubeconfigs handed to learners.
    pub cluster: Option<ClusterAccess>,
    /// Lets a virtual-clock cluster move on while a probe pod waits to
    /// finish (`None`: the cluster keeps its own time).
    pub settle: Option<Arc<dyn Fn() + Send + Sync>>,
    resources: Mutex<Option<Resources>>,
}

impl Host {
    pub fn new(client: Client, namespace: &str, scenario_dir: PathBuf) -> Self {
        Self {
            client,
            namespace: namespace.to_string(),
            scenario_dir,
            log: Arc::new(|l| eprintln!("{l}")),
            poll: Duration::from_millis(200),
            cluster: None,
            settle: None,
            resources: Mutex::new(None),
        }
    }

    /// Every served resource, discovered once.
    pub async fn resources(&self) -> Result<Resources> {
        if let Some(r) = self
            .resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(r);
        }
        let d = Discovery::new(self.client.clone()).run().await?;
        let all: Vec<_> = d.groups().flat_map(|g| g.recommended_resources()).collect();
        let all = Arc::new(all);
        *self.resources.lock().unwrap_or_else(|p| p.into_inner()) = Some(all.clone());
        Ok(all)
    }

    async fn resource(&self, name: &str) -> Result<(ApiResource, ApiCapabilities)> {
        let all = self.resources().await?;
        target::find(name, &all).cloned().ok_or_else(|| {
            HostError(format!(
                "the server doesn't have a resource type \"{name}\""
            ))
        })
    }

    async fn resource_of(&self, obj: &Value) -> Result<(ApiResource, ApiCapabilities)> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let (group, _version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let all = self.resources().await?;
        all.iter()
            .find(|(ar, _)| ar.kind == kind && ar.group == group && ar.api_version == api_version)
            .or_else(|| {
                all.iter()
                    .find(|(ar, _)| ar.kind == kind && ar.group == group)
            })
            .cloned()
            .ok_or_else(|| {
                HostError(format!(
                    "no matches for kind \"{kind}\" in version \"{api_version}\""
                ))
            })
    }

    fn api(
        &self,
        ar: &ApiResource,
        caps: &ApiCapabilities,
        ns: Option<&str>,
    ) -> Api<DynamicObject> {
        if target::namespaced(caps) {
            Api::namespaced_with(self.client.clone(), ns.unwrap_or(&self.namespace), ar)
        } else {
            Api::all_with(self.client.clone(), ar)
        }
    }

    async fn named(
        &self,
        t: &str,
        ns: Option<&str>,
    ) -> Result<(Api<DynamicObject>, Target, ApiResource)> {
        let t = Target::parse(t).map_err(HostError)?;
        if t.name.is_empty() {
            return Err(HostError(format!(
                "{:?} names no object (kind/name)",
                t.resource
            )));
        }
        let (ar, caps) = self.resource(&t.resource).await?;
        Ok((self.api(&ar, &caps, ns), t, ar))
    }

    /// The object, or `None` when it does not exist.
    pub async fn get(&self, t: &str, ns: Option<&str>) -> Result<Option<Value>> {
        let (api, t, _) = self.named(t, ns).await?;
        let obj = api.get_opt(&t.name).await?;
        Ok(obj.map(|o| to_json(&o)))
    }

    /// Objects of a kind, filtered by label and field selectors. `ns`
    /// `Some("")` lists across all namespaces.
    pub async fn list(
        &self,
        kind: &str,
        ns: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<Value>> {
        let t = Target::parse(kind).map_err(HostError)?;
        let (ar, caps) = self.resource(&t.resource).await?;
        let api = if ns == Some("") {
            Api::all_with(self.client.clone(), &ar)
        } else {
            self.api(&ar, &caps, ns)
        };
        let mut lp = ListParams::default();
        if let Some(l) = labels.filter(|l| !l.is_empty()) {
            lp = lp.labels(l);
        }
        if let Some(f) = fields.filter(|f| !f.is_empty()) {
            lp = lp.fields(f);
        }
        let list = api.list(&lp).await?;
        Ok(list
            .items
            .iter()
            .map(|o| {
                let mut v = to_json(o);
                v["apiVersion"] = json!(ar.api_version);
                v["kind"] = json!(ar.kind);
                v
            })
            .collect())
    }

    /// Server-side apply of one object; returns `kind/name`.
    pub async fn apply_object(&self, obj: &Value) -> Result<String> {
        let (ar, caps) = self.resource_of(obj).await?;
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.is_empty() {
            return Err(HostError(format!("{} has no metadata.name", ar.kind)));
        }
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let api = self.api(&ar, &caps, ns);
        api.patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(obj),
        )
        .await?;
        Ok(format!("{}/{name}", ar.kind.to_ascii_lowercase()))
    }

    /// Applies a manifest file, a folder of them (relative to the scenario
    /// folder), or inline YAML.
    pub async fn apply(&self, source: &str) -> Result<Vec<String>> {
        let docs = if source.contains('\n') || source.contains(": ") {
            crate::api::yaml::from_multiple(source)
                .map_err(|e| HostError(format!("inline YAML: {}", e.without_snippet())))?
        } else {
            self.read_manifests(source)?
        };
        let mut applied = Vec::new();
        for d in &docs {
            if d["kind"].as_str().is_some_and(|k| k.ends_with("List")) && d["items"].is_array() {
                for item in d["items"].as_array().into_iter().flatten() {
                    applied.push(self.apply_object(item).await?);
                }
            } else {
                applied.push(self.apply_object(d).await?);
            }
        }
        Ok(applied)
    }

    fn read_manifests(&self, rel: &str) -> Result<Vec<Value>> {
        let path = self.scenario_dir.join(rel);
        let files = if path.is_dir() {
            let mut f: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| HostError(format!("{}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
                })
                .collect();
            f.sort();
            f
        } else {
            vec![path]
        };
        let mut docs = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| HostError(format!("{}: {e}", f.display())))?;
            let mut d = crate::api::yaml::from_multiple(&text).map_err(|e| {
                let loc = e
                    .location()
                    .map(|l| format!(":{}:{}", l.line(), l.column()))
                    .unwrap_or_default();
                HostError(format!("{}{loc}: {}", f.display(), e.without_snippet()))
            })?;
            docs.append(&mut d);
        }
        Ok(docs)
    }

    /// Creates an object; returns it as stored.
    pub async fn create(&self, obj: &Value) -> Result<Value> {
        let (ar, caps) = self.resource_of(obj).await?;
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let api = self.api(&ar, &caps, ns);
        let o: DynamicObject =
            serde_json::from_value(obj.clone()).map_err(|e| HostError(e.to_string()))?;
        Ok(to_json(&api.create(&PostParams::default(), &o).await?))
    }

    /// Patches an object: `kind` is `merge`, `strategic` or `json`.
    pub async fn patch(
        &self,
        t: &str,
        ns: Option<&str>,
        patch: &Value,
        kind: &str,
    ) -> Result<Value> {
        let (api, t, _) = self.named(t, ns).await?;
        let pp = PatchParams::default();
        let out = match kind {
            "merge" => api.patch(&t.name, &pp, &Patch::Merge(patch)).await?,
            "strategic" => api.patch(&t.name, &pp, &Patch::Strategic(patch)).await?,
            "json" => {
                let p: json_patch::Patch = serde_json::from_value(patch.clone())
                    .map_err(|e| HostError(format!("invalid JSON patch: {e}")))?;
                api.patch(&t.name, &pp, &Patch::<()>::Json(p)).await?
            }
            other => {
                return Err(HostError(format!(
                    "unknown patch type {other:?} (merge, strategic or json)"
                )));
            }
        };
        Ok(to_json(&out))
    }

    /// Deletes an object; `false` when it did not exist.
    pub async fn delete(&self, t: &str, ns: Option<&str>) -> Result<bool> {
        let (api, t, _) = self.named(t, ns).await?;
        match api.delete(&t.name, &DeleteParams::background()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets replicas through the scale subresource.
    pub async fn scale(&self, t: &str, ns: Option<&str>, replicas: i64) -> Result<()> {
        let (api, t, _) = self.named(t, ns).await?;
        api.patch_scale(
            &t.name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
        )
        .await?;
        Ok(())
    }

    /// Waits until `condition` holds: `delete`, `exists`, or a status
    /// condition type (`Available`, `Ready`, `condition=Ready`) that is True.
    pub async fn wait_for(
        &self,
        t: &str,
        ns: Option<&str>,
        condition: &str,
        timeout: Duration,
    ) -> Result<()> {
        let cond = condition.strip_prefix("condition=").unwrap_or(condition);
        let poll = async {
            loop {
                let obj = self.get(t, ns).await?;
                if condition_holds(obj.as_ref(), cond) {
                    return Ok::<(), HostError>(());
                }
                tokio::time::sleep(self.poll).await;
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(r) => r,
            Err(_) => Err(HostError(format!(
                "timed out after {}s waiting for the condition {condition} on {t}",
                timeout.as_secs()
            ))),
        }
    }

    /// A container's log (`previous`: the last terminated instance).
    pub async fn logs(
        &self,
        pod: &str,
        ns: Option<&str>,
        container: Option<&str>,
        previous: bool,
    ) -> Result<String> {
        let name = pod
            .strip_prefix("pod/")
            .or_else(|| pod.strip_prefix("pods/"))
            .unwrap_or(pod);
        let api: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.client.clone(), ns.unwrap_or(&self.namespace));
        let lp = LogParams {
            container: container.map(str::to_string),
            previous,
            ..LogParams::default()
        };
        Ok(api.logs(name, &lp).await?)
    }

    /// Core events in the namespace, optionally about one object
    /// (`pod/api-` matches name prefixes) and with one reason.
    pub async fn events(
        &self,
        ns: Option<&str>,
        involved: Option<&str>,
        reason: Option<&str>,
    ) -> Result<Vec<Value>> {
        let all = self.list("events", ns, None, None).await?;
        let about = involved.map(Target::parse).transpose().map_err(HostError)?;
        let about = match about {
            Some(t) => Some((self.resource(&t.resource).await?.0.kind, t.name)),
            None => None,
        };
        Ok(all
            .into_iter()
            .filter(|e| reason.is_none_or(|r| e["reason"] == r))
            .filter(|e| {
                about.as_ref().is_none_or(|(kind, name)| {
                    e["involvedObject"]["kind"] == kind.as_str()
                        && e["involvedObject"]["name"]
                            .as_str()
                            .is_some_and(|n| n.starts_with(name.as_str()))
                })
            })
            .collect())
    }

    /// A token for ServiceAccount `target` (`name` in the scenario's
    /// namespace, or `ns/name`) through the TokenRequest API, valid for
    /// `seconds`: works the same on a real cluster.
    pub async fn service_account_token(&self, target: &str, seconds: i64) -> Result<String> {
        let (ns, name) = target
            .split_once('/')
            .unwrap_or((self.namespace.as_str(), target));
        let api: Api<k8s_openapi::api::core::v1::ServiceAccount> =
            Api::namespaced(self.client.clone(), ns);
        let tr = k8s_openapi::api::authentication::v1::TokenRequest {
            spec: k8s_openapi::api::authentication::v1::TokenRequestSpec {
                expiration_seconds: Some(seconds),
                ..Default::default()
            },
            ..Default::default()
        };
        let out = api
            .create_token_request(name, &PostParams::default(), &tr)
            .await?;
        out.status
            .map(|s| s.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| HostError(format!("no token issued for serviceaccount {ns}/{name}")))
    }

    /// A kubeconfig that acts as ServiceAccount `target` (see
    /// [`Host::service_account_token`]), for handing a learner restricted
    /// credentials.
    pub async fn service_account_kubeconfig(&self, target: &str) -> Result<String> {
        let access = self
            .cluster
            .clone()
            .ok_or_else(|| HostError("the cluster's address is unknown to this script".into()))?;
        let token = self.service_account_token(target, 86_400).await?;
        let user = target.rsplit('/').next().unwrap_or(target);
        Ok(token_kubeconfig(&access, user, &token))
    }

    /// Asks a SubjectAccessReview whether `user` may `verb` `resource`.
    /// Service accounts (`system:serviceaccount:ns:name`) get their groups.
    pub async fn can_i(
        &self,
        user: &str,
        verb: &str,
        resource: &str,
        group: &str,
        ns: Option<&str>,
    ) -> Result<bool> {
        let mut groups = vec!["system:authenticated".to_string()];
        if let Some(rest) = user.strip_prefix("system:serviceaccount:")
            && let Some((sa_ns, _)) = rest.split_once(':')
        {
            groups.push("system:serviceaccounts".into());
            groups.push(format!("system:serviceaccounts:{sa_ns}"));
        }
        let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
        let sar = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "metadata": {},
            "spec": {
                "user": user,
                "groups": groups,
                "resourceAttributes": {
                    "namespace": ns.unwrap_or(&self.namespace),
                    "verb": verb,
                    "group": group,
                    "resource": resource,
                    "subresource": sub,
                }
            }
        });
        let api: Api<k8s_openapi::api::authorization::v1::SubjectAccessReview> =
            Api::all(self.client.clone());
        let obj = serde_json::from_value(sar).map_err(|e| HostError(e.to_string()))?;
        let out = api.create(&PostParams::default(), &obj).await?;
        Ok(out.status.is_some_and(|s| s.allowed))
    }

    /// Tells a simulated cluster's container runtime what a scenario's own
    /// image does (`/kdrill/v1/images`). A real cluster answers 404: there
    /// the image behaves as itself, and this returns `false`.
    pub async fn declare_image(&self, repository: &str, behaviour: &AppBehaviour) -> Result<bool> {
        let body = serde_json::to_vec(behaviour).map_err(|e| HostError(e.to_string()))?;
        let req = http::Request::put(format!("/kdrill/v1/images/{repository}"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| HostError(format!("image {repository:?}: {e}")))?;
        match self.client.request_text(req).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether an object (or its absence) satisfies a wait condition.
pub fn condition_holds(obj: Option<&Value>, cond: &str) -> bool {
    match (cond, obj) {
        ("delete", o) => o.is_none(),
        ("exists", o) => o.is_some(),
        (_, None) => false,
        (c, Some(o)) => o
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|x| x["type"] == c && x["status"] == "True")),
    }
}

fn to_json<T: serde::Serialize>(o: &T) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn rt(msg: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        msg.into().into(),
        Position::NONE,
    ))
}

fn to_dyn(v: &Value) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(v)
}

fn from_dyn(d: &Dynamic) -> Result<Value, Box<EvalAltResult>> {
    rhai::serde::from_dynamic::<Value>(d)
}

fn opt_str(m: &Map, k: &str) -> Option<String> {
    m.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string())
}

type Rr = Result<Dynamic, Box<EvalAltResult>>;

fn block(h: &tokio::runtime::Handle, f: impl std::future::Future<Output = Rr>) -> Rr {
    h.block_on(f)
}

/// The Rhai side of the host API. Every function blocks on `handle`.
pub fn register(engine: &mut Engine, host: Arc<Host>, handle: tokio::runtime::Handle) {
    macro_rules! with {
        ($h:ident, $c:ident) => {
            let $h = host.clone();
            let $c = handle.clone();
        };
    }

    with!(h, c);
    engine.register_fn("namespace", move || -> String { h.namespace.clone() });
    let _ = c;

    with!(h, c);
    engine.register_fn("log", move |msg: &str| (h.log)(msg));
    let _ = c;

    with!(h, c);
    engine.register_fn(
        "apply",
        move |src: &str| -> Result<Array, Box<EvalAltResult>> {
            let h = h.clone();
            let src = src.to_string();
            let d = block(&c, async move {
                let out = h.apply(&src).await.map_err(|e| rt(e.0))?;
                Ok(Dynamic::from_array(
                    out.into_iter().map(Dynamic::from).collect(),
                ))
            })?;
            Ok(d.into_array().unwrap_or_default())
        },
    );
    with!(h, c);
    engine.register_fn(
        "apply",
        move |obj: Map| -> Result<String, Box<EvalAltResult>> {
            let h = h.clone();
            let v = from_dyn(&Dynamic::from_map(obj))?;
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.apply_object(&v).await.map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.to_string())
        },
    );

    with!(h, c);
    engine.register_fn(
        "get",
        move |t: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            let h = h.clone();
            let t = t.to_string();
            block(&c, async move {
                match h.get(&t, None).await.map_err(|e| rt(e.0))? {
                    Some(v) => to_dyn(&v),
                    None => Ok(Dynamic::UNIT),
                }
            })
        },
    );
    with!(h, c);
    engine.register_fn(
        "get",
        move |t: &str, ns: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            let h = h.clone();
            let (t, ns) = (t.to_string(), ns.to_string());
            block(&c, async move {
                match h.get(&t, Some(&ns)).await.map_err(|e| rt(e.0))? {
                    Some(v) => to_dyn(&v),
                    None => Ok(Dynamic::UNIT),
                }
            })
        },
    );
    with!(h, c);
    engine.register_fn(
        "exists",
        move |t: &str| -> Result<bool, Box<EvalAltResult>> {
            let h = h.clone();
            let t = t.to_string();
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.get(&t, None).await.map_err(|e| rt(e.0))?.is_some(),
                ))
            })?;
            Ok(d.as_bool().unwrap_or(false))
        },
    );

    let list = {
        let host = host.clone();
        let call = handle.clone();
        move |kind: &str, opts: Map| -> Result<Array, Box<EvalAltResult>> {
            let h = host.clone();
            let kind = kind.to_string();
            let ns = opt_str(&opts, "namespace");
            let labels = opt_str(&opts, "labels");
            let fields = opt_str(&opts, "fields");
            let d = block(&call, async move {
                let items = h
                    .list(&kind, ns.as_deref(), labels.as_deref(), fields.as_deref())
                    .await
                    .map_err(|e| rt(e.0))?;
                to_dyn(&Value::Array(items))
            })?;
            Ok(d.into_array().unwrap_or_default())
        }
    };
    let l2 = list.clone();
    engine.register_fn("list", move |kind: &str| l2(kind, Map::new()));
    engine.register_fn("list", list);

    with!(h, c);
    engine.register_fn(
        "create",
        move |obj: Map| -> Result<Dynamic, Box<EvalAltResult>> {
            let h = h.clone();
            let v = from_dyn(&Dynamic::from_map(obj))?;
            block(&c, async move {
                to_dyn(&h.create(&v).await.map_err(|e| rt(e.0))?)
            })
        },
    );

    with!(h, c);
    engine.register_fn(
        "patch",
        move |t: &str, patch: Dynamic, kind: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            let h = h.clone();
            let (t, kind) = (t.to_string(), kind.to_string());
            let p = from_dyn(&patch)?;
            block(&c, async move {
                to_dyn(&h.patch(&t, None, &p, &kind).await.map_err(|e| rt(e.0))?)
            })
        },
    );
    with!(h, c);
    engine.register_fn(
        "patch",
        move |t: &str, patch: Dynamic| -> Result<Dynamic, Box<EvalAltResult>> {
            let h = h.clone();
            let t = t.to_string();
            let p = from_dyn(&patch)?;
            block(&c, async move {
                to_dyn(
                    &h.patch(&t, None, &p, "strategic")
                        .await
                        .map_err(|e| rt(e.0))?,
                )
            })
        },
    );

    with!(h, c);
    engine.register_fn(
        "delete",
        move |t: &str| -> Result<bool, Box<EvalAltResult>> {
            let h = h.clone();
            let t = t.to_string();
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.delete(&t, None).await.map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.as_bool().unwrap_or(false))
        },
    );

    with!(h, c);
    engine.register_fn(
        "scale",
        move |t: &str, n: i64| -> Result<(), Box<EvalAltResult>> {
            let h = h.clone();
            let t = t.to_string();
            let _ = block(&c, async move {
                h.scale(&t, None, n).await.map_err(|e| rt(e.0))?;
                Ok(Dynamic::UNIT)
            })?;
            Ok(())
        },
    );

    with!(h, c);
    engine.register_fn(
        "wait_for",
        move |t: &str, cond: &str, secs: i64| -> Result<(), Box<EvalAltResult>> {
            let h = h.clone();
            let (t, cond) = (t.to_string(), cond.to_string());
            let timeout = Duration::from_secs(secs.max(0) as u64);
            let _ = block(&c, async move {
                h.wait_for(&t, None, &cond, timeout)
                    .await
                    .map_err(|e| rt(e.0))?;
                Ok(Dynamic::UNIT)
            })?;
            Ok(())
        },
    );

    with!(h, c);
    engine.register_fn(
        "logs",
        move |pod: &str, opts: Map| -> Result<String, Box<EvalAltResult>> {
            let h = h.clone();
            let pod = pod.to_string();
            let container = opt_str(&opts, "container");
            let previous = opts
                .get("previous")
                .and_then(|v| v.as_bool().ok())
                .unwrap_or(false);
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.logs(&pod, None, container.as_deref(), previous)
                        .await
                        .map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.to_string())
        },
    );

    with!(h, c);
    engine.register_fn(
        "events",
        move |opts: Map| -> Result<Array, Box<EvalAltResult>> {
            let h = h.clone();
            let about = opts.get("for").map(|v| v.to_string());
            let reason = opt_str(&opts, "reason");
            let ns = opt_str(&opts, "namespace");
            let d = block(&c, async move {
                let ev = h
                    .events(ns.as_deref(), about.as_deref(), reason.as_deref())
                    .await
                    .map_err(|e| rt(e.0))?;
                to_dyn(&Value::Array(ev))
            })?;
            Ok(d.into_array().unwrap_or_default())
        },
    );

    with!(h, c);
    engine.register_fn(
        "can_i",
        move |user: &str, verb: &str, resource: &str| -> Result<bool, Box<EvalAltResult>> {
            let h = h.clone();
            let (user, verb, resource) = (user.to_string(), verb.to_string(), resource.to_string());
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.can_i(&user, &verb, &resource, "", None)
                        .await
                        .map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.as_bool().unwrap_or(false))
        },
    );

    with!(h, c);
    engine.register_fn(
        "declare_image",
        move |repository: &str, behaviour: Map| -> Result<bool, Box<EvalAltResult>> {
            let h = h.clone();
            let repository = repository.to_string();
            let value = from_dyn(&Dynamic::from_map(behaviour))?;
            let behaviour: AppBehaviour = serde_json::from_value(value)
                .map_err(|e| rt(format!("declare_image({repository:?}): {e}")))?;
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.declare_image(&repository, &behaviour)
                        .await
                        .map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.as_bool().unwrap_or(false))
        },
    );

    with!(h, c);
    engine.register_fn(
        "service_account_token",
        move |target: &str| -> Result<String, Box<EvalAltResult>> {
            let h = h.clone();
            let target = target.to_string();
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.service_account_token(&target, 3600)
                        .await
                        .map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.to_string())
        },
    );

    with!(h, c);
    engine.register_fn(
        "service_account_kubeconfig",
        move |target: &str| -> Result<String, Box<EvalAltResult>> {
            let h = h.clone();
            let target = target.to_string();
            let d = block(&c, async move {
                Ok(Dynamic::from(
                    h.service_account_kubeconfig(&target)
                        .await
                        .map_err(|e| rt(e.0))?,
                ))
            })?;
            Ok(d.to_string())
        },
    );

    with!(h, c);
    engine.register_fn(
        "sleep",
        move |secs: Dynamic| -> Result<(), Box<EvalAltResult>> {
            let s = secs
                .as_float()
                .or_else(|_| secs.as_int().map(|i| i as f64))
                .map_err(|t| rt(format!("sleep: expected seconds, got {t}")))?;
            let d = Duration::from_secs_f64(s.clamp(0.0, 3600.0));
            let _ = &h;
            let _ = block(&c, async move {
                tokio::time::sleep(d).await;
                Ok(Dynamic::UNIT)
            })?;
            Ok(())
        },
    );

    engine.register_fn(
        "parse_yaml",
        |text: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            let v = crate::api::yaml::from_str(text)
                .map_err(|e| rt(e.without_snippet().to_string()))?;
            to_dyn(&v)
        },
    );
    super::probe::register(engine, host, handle);
}
