//! The write path shared by the HTTP server and the simulator runtime:
//! metadata initialisation, defaulting, per-kind strategies, validation,
//! admission, optimistic concurrency, graceful deletion, finalizers and
//! owner-reference cascades. Everything that changes a stored object goes
//! through a `Registry`, so a controller's write obeys the same rules as
//! a learner's `kubectl apply`.

pub mod admission;
pub mod allocator;
pub mod binding;
pub mod default_class;
pub mod default_ingress_class;
pub mod defaults;
pub mod eviction;
pub mod gc;
pub mod options;
pub mod packed_event;
pub mod pdb;
pub mod rbac;
pub mod strategy;
pub mod validation;
pub mod webhook;

use crate::api::field_error::FieldError;
use crate::api::meta;
use crate::api::pointer::Pointer;
use crate::api::resource::{self, ResourceInfo};
use crate::api::status::{GroupResource, Status};
use crate::sim::clock::{Clock, format_time};
use crate::sim::rng::Rng;
use crate::store::{ResKey, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use options::{DeleteOptions, FieldValidation, Propagation, WriteOptions};
use serde_json::{Value, json};
use std::sync::Arc;

pub use crate::api::patch::PatchType;

/// The store key of a catalog resource.
pub fn res_key(info: &ResourceInfo) -> ResKey {
    ResKey {
        group: info.group,
        resource: info.plural,
    }
}

fn gr(info: &ResourceInfo) -> GroupResource<'static> {
    GroupResource {
        group: info.group,
        resource: info.plural,
    }
}

/// Maps a storage error to the Status the apiserver sends.
pub fn store_status(info: &ResourceInfo, err: StoreError) -> Status {
    match err {
        StoreError::NotFound { name, .. } => Status::not_found(gr(info), &name),
        StoreError::AlreadyExists { name, .. } => Status::already_exists(gr(info), &name),
        StoreError::Conflict { name, .. } => Status::stale(gr(info), &name),
        StoreError::Expired { requested, oldest } => {
            Status::expired(format!("too old resource version: {requested} ({oldest})"))
        }
    }
}

/// A successful write and the warnings to send with it.
#[derive(Debug)]
pub struct Written {
    pub object: Arc<Value>,
    pub warnings: Vec<String>,
    /// True when a patch or apply created the object.
    pub created: bool,
}

/// The registry: rules over a store.
pub struct Registry {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub rng: Rng,
    /// The cluster CA (PEM) published in every namespace.
    pub cluster_ca: std::sync::OnceLock<String>,
    /// Validating admission webhooks, registered at startup.
    webhooks: std::sync::RwLock<Vec<webhook::ValidatingHook>>,
    /// What webhook calls to a Service reach (set by the simulator).
    webhook_network: std::sync::OnceLock<webhook::Network>,
}

const NAMESPACES: ResKey = ResKey {
    group: "",
    resource: "namespaces",
};
/// The annotation the root-ca-cert-publisher puts on `kube-root-ca.crt`.
const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
const SERVICES: ResKey = ResKey {
    group: "",
    resource: "services",
};

impl Registry {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, seed: u64) -> Self {
        crate::api::schema::defs::prepare_in_background();
        Self {
            store,
            clock,
            rng: Rng::new(seed),
            cluster_ca: std::sync::OnceLock::new(),
            webhooks: std::sync::RwLock::new(Vec::new()),
            webhook_network: std::sync::OnceLock::new(),
        }
    }

    /// Registers a validating admission webhook (see [`webhook`]).
    pub fn add_validating_hook(&self, hook: webhook::ValidatingHook) {
        match self.webhooks.write() {
            Ok(mut w) => w.push(hook),
            Err(poisoned) => poisoned.into_inner().push(hook),
        }
    }

    /// Sets what the apiserver's webhook calls to a Service reach (see
    /// [`webhook`]); the first setting stays.
    pub fn set_webhook_network(&self, network: webhook::Network) {
        let _ = self.webhook_network.set(network);
    }

    /// The webhook checks for a user's write of `info` (none for the
    /// simulator's own writes and for subresources).
    fn webhook_checks(
        &self,
        info: &ResourceInfo,
        ns: &str,
        operation: webhook::Operation,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Vec<webhook::Check> {
        if opts.internal || subresource.is_some() {
            return Vec::new();
        }
        let hooks = match self.webhooks.read() {
            Ok(h) => h.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let req = webhook::Request {
            res: res_key(info),
            version: info.version,
            namespace: ns,
            operation,
            dry_run: opts.dry_run,
        };
        webhook::prepare(
            &hooks,
            self.webhook_network.get(),
            &self.store,
            self.clock.now(),
            &req,
        )
    }

    fn now(&self) -> String {
        format_time(self.clock.now())
    }

    /// Checks the request's namespace exists and accepts new content
    /// (the NamespaceLifecycle admission plugin).
    fn check_namespace(&self, info: &ResourceInfo, ns: &str, name: &str) -> Result<(), Status> {
        if !info.namespaced {
            return Ok(());
        }
        match self.store.get(NAMESPACES, "", ns) {
            None => Err(Status::not_found(
                GroupResource {
                    group: "",
                    resource: "namespaces",
                },
                ns,
            )),
            Some(n) if meta::is_deleting(&n) => Err(Status::forbidden(
                gr(info),
                name,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Checks the body's type and fields; returns the warnings to send.
    fn decode_checks(
        &self,
        info: &ResourceInfo,
        obj: &mut Value,
        opts: &WriteOptions,
        patched: bool,
    ) -> Result<Vec<String>, Status> {
        if !obj.is_object() {
            return Err(Status::bad_request(format!(
                "{kind} in version \"{v}\" cannot be handled as a {kind}: json: cannot unmarshal {t} into Go value of type {go}",
                kind = info.kind,
                v = info.version,
                t = json_type_name(obj),
                go = go_type_name(info),
            )));
        }
        if let Some(kind) = obj.get("kind").and_then(Value::as_str)
            && !kind.is_empty()
            && kind != info.kind
        {
            return Err(Status::bad_request(format!(
                "the kind in the body ({kind}) does not match the expected kind ({})",
                info.kind
            )));
        }
        if opts.internal {
            set_type_meta(info, obj);
            return Ok(Vec::new());
        }
        let check = crate::api::schema::check_fields(info.group, info.version, info.kind, obj);
        let strict = opts.field_validation == FieldValidation::Strict;
        if let Some(msg) = check.decode_error(strict) {
            // A patch's result is re-decoded without the "cannot be handled" prefix.
            return Err(Status::bad_request(if patched {
                msg
            } else {
                format!(
                    "{kind} in version \"{v}\" cannot be handled as a {kind}: {msg}",
                    kind = info.kind,
                    v = info.version
                )
            }));
        }
        let mut warnings = Vec::new();
        if !check.unknown.is_empty() {
            if opts.field_validation == FieldValidation::Warn {
                warnings = check.warnings();
            }
            crate::api::schema::prune_unknown(info.group, info.version, info.kind, obj);
        }
        set_type_meta(info, obj);
        Ok(warnings)
    }

    fn invalid(info: &ResourceInfo, name: &str, errors: &[FieldError]) -> Status {
        Status::invalid(info.group, info.kind, name, errors)
    }

    /// `POST`: creates an object in `ns` ("" for cluster-scoped kinds).
    pub fn create(
        &self,
        info: &ResourceInfo,
        ns: &str,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Written, Status> {
        let warnings = self.decode_checks(info, &mut obj, opts, false)?;
        // Namespace: the body may leave it out; a different one is an error.
        if info.namespaced {
            let body_ns = meta::namespace(&obj).to_string();
            if !body_ns.is_empty() && body_ns != ns {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta::set_meta(&mut obj, "namespace", ns);
        } else if let Some(md) = meta::metadata_mut(&mut obj) {
            md.remove("namespace");
        }
        // generateName
        if meta::name(&obj).is_empty()
            && let Some(prefix) = obj
                .get_in(&["metadata", "generateName"])
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
        {
            let name = format!("{prefix}{}", self.rng.name_suffix(5));
            meta::set_meta(&mut obj, "name", name);
        }
        let name = meta::name(&obj).to_string();
        if name.is_empty() {
            return Err(Self::invalid(
                info,
                "",
                &[FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        self.check_namespace(info, ns, &name)?;
        // System fields: what the body says is dropped, and the server's
        // own set, in one pass over the metadata.
        let uid = self.rng.uuid();
        let created = self.now();
        if let Some(md) = meta::metadata_mut(&mut obj) {
            md.retain(|k, _| {
                !matches!(
                    k.as_str(),
                    "uid"
                        | "resourceVersion"
                        | "deletionTimestamp"
                        | "deletionGracePeriodSeconds"
                        | "managedFields"
                        | "selfLink"
                        | "generation"
                )
            });
            // uid, resourceVersion (the store's), and the timestamp and
            // generation where absent: the map grows once for them.
            let generation = strategy::tracks_generation(info);
            md.reserve(
                2 + usize::from(!md.contains_key("creationTimestamp")) + usize::from(generation),
            );
            md.insert("uid".into(), uid.into());
            md.insert("creationTimestamp".into(), created.into());
            if generation {
                md.insert("generation".into(), 1.into());
            }
        }
        defaults::apply_defaults(info.group, info.kind, &mut obj);
        strategy::prepare_create(info, &mut obj);
        self.admit_create(info, ns, &mut obj)?;
        let errors = validation::validate_create(info.group, info.kind, &obj);
        if !errors.is_empty() {
            return Err(Self::invalid(info, &name, &errors));
        }
        let mut warnings = warnings;
        warnings.extend(admission::validate_create(
            &self.store,
            self.clock.now(),
            info,
            ns,
            &obj,
        )?);
        if (info.group, info.plural) == ("", "services") {
            let (services, _) = self.store.list(SERVICES, None);
            let in_use = allocator::InUse::from_services(services.iter().map(|s| s.as_ref()));
            allocator::allocate(&mut obj, &in_use, &self.rng)
                .map_err(|e| Self::invalid(info, &name, &e))?;
        }
        let checks = self.webhook_checks(info, ns, webhook::Operation::Create, None, opts);
        webhook::run(&checks, &obj)?;
        if opts.dry_run {
            if self.store.get(res_key(info), ns, &name).is_some() {
                return Err(Status::already_exists(gr(info), &name));
            }
            return Ok(Written {
                object: Arc::new(obj),
                warnings,
                created: true,
            });
        }
        let object = self
            .store
            .create(res_key(info), obj)
            .map_err(|e| store_status(info, e))?;
        self.after_create(info, &object);
        Ok(Written {
            object,
            warnings,
            created: true,
        })
    }

    /// Admission on create: the defaults admission plugins add.
    fn admit_create(&self, info: &ResourceInfo, ns: &str, obj: &mut Value) -> Result<(), Status> {
        match (info.group, info.plural) {
            ("", "pods") => {
                defaults::apply_pod_admission(obj);
                admission::limit_ranger::mutate_pod(&self.store, ns, obj);
                admission::service_account(&self.store, &self.rng, ns, obj)?;
            }
            ("", "persistentvolumeclaims") => default_class::admit_claim(&self.store, obj),
            ("batch", "jobs") => {
                let uid = meta::uid(obj).to_string();
                defaults::set_job_generated_selector(obj, &uid);
            }
            ("networking.k8s.io", "ingresses") => default_ingress_class::admit(&self.store, obj),
            _ => {}
        }
        if (info.group, info.plural) == ("", "namespaces") {
            let name = meta::name(obj).to_string();
            if let Some(md) = meta::metadata_mut(obj) {
                let labels = md.entry("labels").or_insert_with(|| json!({}));
                if let Some(l) = labels.as_object_mut() {
                    l.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
            }
        }
        Ok(())
    }

    /// What follows a create: a namespace gets its `default` ServiceAccount
    /// (serviceaccounts controller) and the `kube-root-ca.crt` ConfigMap
    /// (root-ca-cert-publisher). Existing ones are fine.
    fn after_create(&self, info: &ResourceInfo, obj: &Value) {
        if (info.group, info.plural) != ("", "namespaces") {
            return;
        }
        let ns = meta::name(obj);
        if let Some(sa) = resource::lookup("", "v1", "serviceaccounts") {
            let body = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
            let _ = self.create(sa, ns, body, &WriteOptions::internal());
        }
        if let (Some(cm), Some(ca)) = (
            resource::lookup("", "v1", "configmaps"),
            self.cluster_ca.get(),
        ) {
            let body = json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt", "namespace": ns, "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                "data": {"ca.crt": ca},
            });
            let _ = self.create(cm, ns, body, &WriteOptions::internal());
        }
    }

    /// The shared update step: checks, strategy, validation and write,
    /// given the old object and a candidate new one. Returns None when the
    /// result equals the stored object (a no-op write).
    fn prepare_replacement(
        &self,
        info: &ResourceInfo,
        subresource: Option<&str>,
        old: &Value,
        mut new: Value,
        opts: &WriteOptions,
        patched: bool,
    ) -> Result<(Value, Vec<String>), Status> {
        let warnings = self.decode_checks(info, &mut new, opts, patched)?;
        let name = meta::name(old).to_string();
        if meta::name(&new) != name {
            return Err(Status::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta::name(&new)
            )));
        }
        // System metadata is the server's.
        if let (Some(new_md), Some(old_md)) = (
            meta::metadata_mut(&mut new),
            old.get("metadata").and_then(Value::as_object),
        ) {
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "namespace",
            ] {
                match old_md.get(f) {
                    // Most writes send the object's own values back: those
                    // are left where they are, not copied over themselves.
                    Some(v) if new_md.get(f) == Some(v) => None,
                    Some(v) => new_md.insert(f.into(), v.clone()),
                    None => new_md.remove(f),
                };
            }
            new_md.remove("managedFields");
        }
        match subresource {
            Some("status") => strategy::prepare_status_update(info, &mut new, old),
            _ => {
                defaults::apply_defaults(info.group, info.kind, &mut new);
                strategy::prepare_update(info, &mut new, old);
                if (info.group, info.plural) == ("", "services") {
                    allocator::keep_allocations(&mut new, old);
                }
                if (info.group, info.plural) == ("", "pods") {
                    for f in ["serviceAccountName", "serviceAccount", "nodeName"] {
                        if new.at(&format!("/spec/{f}")).is_none()
                            && let (Some(v), Some(spec)) = (
                                old.at(&format!("/spec/{f}")).cloned(),
                                new.get_mut("spec").and_then(Value::as_object_mut),
                            )
                        {
                            spec.insert(f.into(), v);
                        }
                    }
                }
            }
        }
        let errors = if subresource == Some("status") {
            validation::validate_status_update(&new, old)
        } else {
            validation::validate_update(info.group, info.kind, &new, old)
        };
        if !errors.is_empty() {
            return Err(Self::invalid(info, &name, &errors));
        }
        Ok((new, warnings))
    }

    /// Finishes a write whose result may have dropped the last finalizer of
    /// an object being deleted: such an object is removed.
    fn finish_update(&self, info: &ResourceInfo, obj: Arc<Value>) -> Arc<Value> {
        if meta::is_deleting(&obj)
            && meta::finalizers(&obj).is_empty()
            && !self.awaits_graceful_end(info, &obj)
            && let Ok(gone) =
                self.store
                    .delete(res_key(info), meta::namespace(&obj), meta::name(&obj), None)
        {
            self.cascade(&gone, Propagation::Background);
            return gone;
        }
        obj
    }

    /// `PUT`: replaces an object (or its status).
    pub fn update(
        &self,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        obj: Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, Status> {
        let expected = meta::resource_version(&obj);
        if obj
            .get_in(&["metadata", "resourceVersion"])
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
            && expected.is_none()
        {
            return Err(Status::bad_request("invalid resource version"));
        }
        let mut body = obj;
        if info.namespaced {
            let body_ns = meta::namespace(&body).to_string();
            if !body_ns.is_empty() && body_ns != ns {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        meta::set_meta(&mut body, "namespace", ns);
        if !info.namespaced
            && let Some(md) = meta::metadata_mut(&mut body)
        {
            md.remove("namespace");
        }
        self.replace(info, ns, name, subresource, opts, false, |old| {
            if let Some(e) = expected
                && meta::resource_version(old) != Some(e)
            {
                return Err(Status::stale(gr(info), name));
            }
            Ok(body)
        })
    }

    /// `PATCH`: applies a patch to the stored object; server-side apply
    /// creates the object when it is missing.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
        subresource: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, Status> {
        if self.store.get(res_key(info), ns, name).is_none() {
            if patch_type == PatchType::Apply && subresource.is_none() {
                let mut body = patch.clone();
                if meta::name(&body).is_empty() {
                    meta::set_meta(&mut body, "name", name);
                }
                return self.create(info, ns, body, opts);
            }
            return Err(Status::not_found(gr(info), name));
        }
        self.replace(info, ns, name, subresource, opts, true, |old| {
            let patched = crate::api::patch::apply(patch_type, old, patch, info)
                .map_err(|e| e.to_api_status())?;
            if let Some(e) = meta::resource_version(&patched)
                && meta::resource_version(old) != Some(e)
            {
                return Err(Status::stale(gr(info), name));
            }
            Ok(patched)
        })
    }

    /// The shared tail of update and patch: builds the candidate from the
    /// stored object, applies the update rules, and writes it unless it is a
    /// dry run or changes nothing.
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        subresource: Option<&str>,
        opts: &WriteOptions,
        patched: bool,
        candidate: impl FnOnce(&Value) -> Result<Value, Status>,
    ) -> Result<Written, Status> {
        let mut warnings = Vec::new();
        let mut dry_run = None;
        // Read outside the store's write lock, for resize admission.
        let classes = (subresource.is_none()
            && (info.group, info.plural) == ("", "persistentvolumeclaims"))
            .then(|| default_class::storage_classes(&self.store));
        let checks = self.webhook_checks(info, ns, webhook::Operation::Update, subresource, opts);
        let (old, new) = self
            .store
            .update_with(res_key(info), ns, name, |old| {
                let (new, w) = self.prepare_replacement(
                    info,
                    subresource,
                    old,
                    candidate(old)?,
                    opts,
                    patched,
                )?;
                if let Some(classes) = &classes {
                    default_class::admit_resize(classes, name, &new, old)?;
                }
                webhook::run(&checks, &new)?;
                warnings = w;
                if opts.dry_run {
                    dry_run = Some(new);
                    return Ok(None);
                }
                Ok((!same_content(&new, old)).then_some(new))
            })
            .map_err(|e| store_status(info, e))??;
        let object = match dry_run {
            Some(obj) => Arc::new(obj),
            None => self.finish_update(info, new),
        };
        if (info.group, info.plural) == ("", "namespaces") && subresource.is_none() {
            warnings.extend(admission::namespace_update_warnings(
                &self.store,
                &old,
                &object,
            ));
        }
        Ok(Written {
            object,
            warnings,
            created: false,
        })
    }

    /// Whether a pod being deleted waits for its kubelet to stop it.
    fn awaits_graceful_end(&self, info: &ResourceInfo, obj: &Value) -> bool {
        (info.group, info.plural) == ("", "pods")
            && obj
                .get_in(&["metadata", "deletionGracePeriodSeconds"])
                .and_then(Value::as_i64)
                .unwrap_or(0)
                > 0
    }

    /// `DELETE`: graceful for scheduled pods, held by finalizers, and
    /// cascading to dependents. Returns the object as last seen.
    pub fn delete(
        &self,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Arc<Value>, Status> {
        let key = res_key(info);
        let Some(current) = self.store.get(key, ns, name) else {
            return Err(Status::not_found(gr(info), name));
        };
        if let Some(uid) = &opts.precondition_uid
            && meta::uid(&current) != uid
        {
            return Err(Status::conflict(
                gr(info),
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta::uid(&current)
                ),
            ));
        }
        if let Some(rv) = opts.precondition_rv
            && meta::resource_version(&current) != Some(rv)
        {
            return Err(Status::conflict(
                gr(info),
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta::resource_version(&current).unwrap_or(0)
                ),
            ));
        }
        if opts.dry_run {
            return Ok(current);
        }
        let propagation = opts.propagation.unwrap_or(Propagation::Background);
        let grace = self.grace_period(info, &current, opts);
        let needs_marking = (info.group, info.plural) == ("", "namespaces")
            || !meta::finalizers(&current).is_empty()
            || grace > 0
            || (propagation == Propagation::Foreground
                && !gc::dependents(&self.store, meta::uid(&current)).is_empty());
        if needs_marking {
            let now = self.clock.now();
            let shorter = opts.grace_period_seconds.map(|_| grace);
            let marked = self
                .store
                .update_with(key, ns, name, |old| -> Result<Option<Value>, Status> {
                    let mut o = (**old).clone();
                    let namespace = (info.group, info.plural) == ("", "namespaces");
                    mark_deleting(&mut o, now, grace, shorter, !namespace);
                    if (info.group, info.plural) == ("", "namespaces")
                        && let Some(root) = o.as_object_mut()
                    {
                        let status = root.entry("status").or_insert_with(|| json!({}));
                        if let Some(s) = status.as_object_mut() {
                            s.insert("phase".into(), json!("Terminating"));
                        }
                    }
                    Ok(Some(o))
                })
                .map_err(|e| store_status(info, e))?
                .map(|(_, new)| new)?;
            if propagation == Propagation::Foreground || propagation == Propagation::Orphan {
                self.cascade(&marked, propagation);
            }
            let still_held = (info.group, info.plural) == ("", "namespaces")
                || !meta::finalizers(&marked).is_empty()
                || grace > 0;
            if still_held {
                return Ok(marked);
            }
        }
        let gone = self
            .store
            .delete(key, ns, name, None)
            .map_err(|e| store_status(info, e))?;
        self.cascade(&gone, propagation);
        Ok(gone)
    }

    /// The grace period a delete gets (`podStrategy.CheckGracefulDelete`):
    /// only pods bound to a node and not finished wait; a negative period
    /// counts as 1 s (`rest.BeforeDelete`).
    fn grace_period(&self, info: &ResourceInfo, obj: &Value, opts: &DeleteOptions) -> i64 {
        if (info.group, info.plural) != ("", "pods") {
            return 0;
        }
        let bound = obj
            .get_in(&["spec", "nodeName"])
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let phase = obj
            .get_in(&["status", "phase"])
            .and_then(Value::as_str)
            .unwrap_or("");
        if !bound || phase == "Succeeded" || phase == "Failed" {
            return 0;
        }
        let default = obj
            .get_in(&["spec", "terminationGracePeriodSeconds"])
            .and_then(Value::as_i64)
            .unwrap_or(30);
        match opts.grace_period_seconds {
            Some(g) if g < 0 => 1,
            Some(g) => g,
            None => default.max(0),
        }
    }

    /// Applies a delete's propagation policy to the dependents of `owner`.
    fn cascade(&self, owner: &Value, propagation: Propagation) {
        let uid = meta::uid(owner).to_string();
        for dep in gc::dependents(&self.store, &uid) {
            let Some(info) = lookup_res(dep.res) else {
                continue;
            };
            let ns = meta::namespace(&dep.object).to_string();
            let name = meta::name(&dep.object).to_string();
            match propagation {
                Propagation::Orphan => {
                    let _ = self.store.update_with(
                        dep.res,
                        &ns,
                        &name,
                        |o| -> Result<Option<Value>, ()> { Ok(Some(gc::without_owner(o, &uid))) },
                    );
                }
                Propagation::Background | Propagation::Foreground => {
                    let opts = DeleteOptions {
                        propagation: Some(propagation),
                        ..Default::default()
                    };
                    // Already gone is fine.
                    let _ = self.delete(info, &ns, &name, &opts);
                }
            }
        }
    }

    /// Removes a namespace whose deletion has started, with everything in it
    /// (the namespace controller's job upstream).
    pub fn finalize_namespace(&self, name: &str) {
        let Some(ns_obj) = self.store.get(NAMESPACES, "", name) else {
            return;
        };
        if !meta::is_deleting(&ns_obj) {
            return;
        }
        for res in self.store.resources() {
            let Some(info) = lookup_res(res) else {
                continue;
            };
            if !info.namespaced {
                continue;
            }
            let (items, _) = self.store.list(res, Some(name));
            for obj in items {
                let _ = self.store.delete(res, name, meta::name(&obj), None);
            }
        }
        let _ = self.store.delete(NAMESPACES, "", name, None);
    }

    /// A fully-formed object read back for `GET` (None when absent).
    pub fn get(&self, info: &ResourceInfo, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.store.get(res_key(info), ns, name)
    }
}

/// The catalog entry (preferred version) for a store key.
pub fn lookup_res(res: ResKey) -> Option<&'static ResourceInfo> {
    resource::RESOURCES
        .iter()
        .find(|r| r.group == res.group && r.plural == res.resource)
}

/// Equal apart from resourceVersion.
/// Compared in place: this runs on every write, so no copies.
fn same_content(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let fields =
        |m: &'_ serde_json::Map<String, Value>| m.iter().filter(|(k, _)| *k != "metadata").count();
    let meta_equal = match (
        a.get("metadata").and_then(Value::as_object),
        b.get("metadata").and_then(Value::as_object),
    ) {
        (Some(ma), Some(mb)) => {
            let without_rv = |m: &'_ serde_json::Map<String, Value>| {
                m.iter().filter(|(k, _)| *k != "resourceVersion").count()
            };
            without_rv(ma) == without_rv(mb)
                && ma
                    .iter()
                    .filter(|(k, _)| *k != "resourceVersion")
                    .all(|(k, v)| mb.get(k) == Some(v))
        }
        (ma, mb) => ma == mb,
    };
    meta_equal
        && fields(a) == fields(b)
        && a.iter()
            .filter(|(k, _)| *k != "metadata")
            .all(|(k, v)| b.get(k) == Some(v))
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn go_type_name(info: &ResourceInfo) -> String {
    let pkg = match info.group {
        "" => "core",
        g => g.split('.').next().unwrap_or(g),
    };
    format!("{pkg}.{}", info.kind)
}

/// Marks `o` as being deleted, as `rest.BeforeDelete`
/// (staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go) and the
/// store's `markAsDeleting` do: the first delete sets `deletionTimestamp`
/// to the moment the grace period ends (now + `grace`; now for an object
/// only held by finalizers) and `deletionGracePeriodSeconds`, and bumps a
/// set `generation`. A later delete may only shorten a pending grace period
/// (`shorter`: the period it asked for): the timestamp moves by the
/// difference. A namespace's own REST delete (pkg/registry/core/namespace
/// storage) sets the timestamp only (`with_period` false).
fn mark_deleting(
    o: &mut Value,
    now: Timestamp,
    grace: i64,
    shorter: Option<i64>,
    with_period: bool,
) {
    let at = |t: Timestamp, secs: i64| {
        format_time(t.checked_add(SignedDuration::from_secs(secs)).unwrap_or(t))
    };
    if !meta::is_deleting(o) {
        meta::set_meta(o, "deletionTimestamp", at(now, grace));
        if with_period {
            meta::set_meta(o, "deletionGracePeriodSeconds", grace);
        }
        let generation = o
            .get_in(&["metadata", "generation"])
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if generation > 0 {
            meta::set_meta(o, "generation", generation.saturating_add(1));
        }
        return;
    }
    let pending = o
        .get_in(&["metadata", "deletionGracePeriodSeconds"])
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let since = o
        .get_in(&["metadata", "deletionTimestamp"])
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok());
    if let (Some(period), Some(ts)) = (shorter, since)
        && pending > 0
        && period < pending
    {
        meta::set_meta(o, "deletionTimestamp", at(ts, period - pending));
        meta::set_meta(o, "deletionGracePeriodSeconds", period);
    }
}

/// Sets `apiVersion` and `kind` to the resource's own (left as they are
/// when they already say so: most bodies the simulator writes do).
fn set_type_meta(info: &ResourceInfo, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let api_version = root.get("apiVersion").and_then(Value::as_str);
    let same_group = match api_version.and_then(|v| v.split_once('/')) {
        Some((g, v)) => g == info.group && v == info.version,
        None => info.group.is_empty() && api_version == Some(info.version),
    };
    if !same_group {
        root.insert("apiVersion".into(), Value::from(info.api_version()));
    }
    if root.get("kind").and_then(Value::as_str) != Some(info.kind) {
        root.insert("kind".into(), Value::from(info.kind));
    }
}

#[cfg(test)]
mod tests;
