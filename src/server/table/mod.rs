//! Server-side printing: the `meta.k8s.io/v1` Table columns and row cells that
//! `kubectl get` shows for each built-in resource.
//!
//! Upstream truth: `pkg/printers/internalversion/printers.go` (Kubernetes 1.33: every
//! `...ColumnDefinitions` list and `print*` function) and
//! `staging/src/k8s.io/apiserver/pkg/registry/rest/table.go` (the default Name +
//! Created At columns for types without a printer, e.g. Role, ClusterRole, LimitRange).
//! The API server always prints with `Wide: true` (`pkg/printers/storage/storage.go`):
//! rows carry every cell and kubectl hides priority-1 columns unless `-o wide`.

mod apps;
mod batch;
mod core;
mod docs;
mod duration;
mod networking;
mod other;
mod pod;
mod rbac;
mod value;

pub use duration::human_duration;

use jiff::Timestamp;
use serde_json::{Value, json};

/// One `columnDefinitions[]` entry of a Table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDefinition {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i32,
}

impl ColumnDefinition {
    /// `{"name","type","format","description","priority"}` as the API server sends it.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// One Table row without its `object`: the cells, plus row `conditions` where upstream
/// sets them (pods that Succeeded or Failed carry `Completed=True`).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub cells: Vec<Value>,
    pub conditions: Option<Value>,
}

impl Row {
    pub(crate) fn new(cells: Vec<Value>) -> Row {
        Row {
            cells,
            conditions: None,
        }
    }
}

/// A column shown by default.
pub(crate) const fn col(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> ColumnDefinition {
    ColumnDefinition {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A column shown only with `-o wide`.
pub(crate) const fn wide(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> ColumnDefinition {
    ColumnDefinition {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

/// The `Name` column (format `name`).
pub(crate) const NAME: ColumnDefinition = ColumnDefinition {
    name: "Name",
    type_: "string",
    format: "name",
    description: docs::META_NAME,
    priority: 0,
};

/// The `Age` column.
pub(crate) const AGE: ColumnDefinition = col("Age", "string", docs::META_CREATION);

/// Columns of types with no printer (rest.DefaultTableConvertor).
static DEFAULT_COLUMNS: &[ColumnDefinition] =
    &[NAME, col("Created At", "date", docs::META_CREATION)];

type PrintFn = fn(&Value, Timestamp) -> Row;

/// The printer of a resource, by API group and plural.
fn printer(group: &str, resource: &str) -> Option<(&'static [ColumnDefinition], PrintFn)> {
    let p: (&'static [ColumnDefinition], PrintFn) = match (group, resource) {
        ("", "pods") => (pod::COLUMNS, pod::row),
        ("", "nodes") => (core::NODE_COLUMNS, core::node),
        ("", "services") => (core::SERVICE_COLUMNS, core::service),
        ("", "endpoints") => (core::ENDPOINTS_COLUMNS, core::endpoints),
        ("", "events") => (core::EVENT_COLUMNS, core::event),
        ("events.k8s.io", "events") => (core::EVENT_COLUMNS, core::events_k8s_io_event),
        ("", "namespaces") => (core::NAMESPACE_COLUMNS, core::namespace),
        ("", "configmaps") => (core::CONFIGMAP_COLUMNS, core::configmap),
        ("", "secrets") => (core::SECRET_COLUMNS, core::secret),
        ("", "serviceaccounts") => (core::SERVICEACCOUNT_COLUMNS, core::serviceaccount),
        ("", "persistentvolumes") => (core::PV_COLUMNS, core::persistentvolume),
        ("", "persistentvolumeclaims") => (core::PVC_COLUMNS, core::persistentvolumeclaim),
        ("", "resourcequotas") => (core::RESOURCEQUOTA_COLUMNS, core::resourcequota),
        ("apps", "deployments") => (apps::DEPLOYMENT_COLUMNS, apps::deployment),
        ("apps", "replicasets") => (apps::REPLICASET_COLUMNS, apps::replicaset),
        ("apps", "statefulsets") => (apps::STATEFULSET_COLUMNS, apps::statefulset),
        ("apps", "daemonsets") => (apps::DAEMONSET_COLUMNS, apps::daemonset),
        ("apps", "controllerrevisions") => {
            (apps::CONTROLLERREVISION_COLUMNS, apps::controllerrevision)
        }
        ("batch", "jobs") => (batch::JOB_COLUMNS, batch::job),
        ("batch", "cronjobs") => (batch::CRONJOB_COLUMNS, batch::cronjob),
        ("networking.k8s.io", "ingresses") => (networking::INGRESS_COLUMNS, networking::ingress),
        ("networking.k8s.io", "ingressclasses") => {
            (networking::INGRESSCLASS_COLUMNS, networking::ingressclass)
        }
        ("networking.k8s.io", "networkpolicies") => {
            (networking::NETWORKPOLICY_COLUMNS, networking::networkpolicy)
        }
        ("discovery.k8s.io", "endpointslices") => {
            (networking::ENDPOINTSLICE_COLUMNS, networking::endpointslice)
        }
        ("rbac.authorization.k8s.io", "rolebindings") => (rbac::ROLEBINDING_COLUMNS, rbac::binding),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            (rbac::CLUSTERROLEBINDING_COLUMNS, rbac::binding)
        }
        ("autoscaling", "horizontalpodautoscalers") => (other::HPA_COLUMNS, other::hpa),
        ("policy", "poddisruptionbudgets") => (other::PDB_COLUMNS, other::pdb),
        ("storage.k8s.io", "storageclasses") => (other::STORAGECLASS_COLUMNS, other::storageclass),
        ("coordination.k8s.io", "leases") => (other::LEASE_COLUMNS, other::lease),
        (
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations" | "mutatingwebhookconfigurations",
        ) => (
            other::WEBHOOK_CONFIGURATION_COLUMNS,
            other::webhook_configuration,
        ),
        _ => return None,
    };
    Some(p)
}

/// Columns for a resource by API group ("" = core) and plural name; unknown -> default columns.
pub fn column_definitions(group: &str, resource: &str) -> &'static [ColumnDefinition] {
    printer(group, resource).map_or(DEFAULT_COLUMNS, |(cols, _)| cols)
}

/// Cells for one full object (JSON as stored: camelCase, RFC3339 timestamps); `now` for ages.
/// Never panics on missing/odd fields.
pub fn row(group: &str, resource: &str, obj: &Value, now: Timestamp) -> Row {
    match printer(group, resource) {
        Some((_, print)) => print(obj, now),
        None => default_row(obj),
    }
}

/// `defaultTableConvertor`: the name and `creationTimestamp` in UTC RFC 3339
/// (Go's zero time when unset).
fn default_row(obj: &Value) -> Row {
    let created = match value::created(obj) {
        Some(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "0001-01-01T00:00:00Z".to_string(),
    };
    Row::new(vec![json!(value::name(obj)), json!(created)])
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_resources;
