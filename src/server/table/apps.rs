//! apps/v1 rows: deployments, replica sets, stateful sets, daemon sets and
//! controller revisions.
//!
//! Upstream truth: `printDeployment`, `printReplicaSet`, `printStatefulSet`,
//! `printDaemonSet`, `printControllerRevision`, `formatResourceName` in
//! `pkg/printers/internalversion/printers.go`.

use super::docs;
use super::duration::since;
use super::value::{
    arr_at, bool_at, created, format_label_selector, format_labels, get, int_at,
    label_selector_string, layout_containers, name, opt_int, str_at,
};
use super::{AGE, ColumnDefinition, NAME, Row, col, wide};
use jiff::Timestamp;
use serde_json::{Value, json};

const CONTAINERS_DESC: &str = "Names of each container in the template.";
const IMAGES_DESC: &str = "Images referenced by each container in the template.";

/// `spec.replicas`, defaulted to 1 as the apps/v1 defaulting does.
fn spec_replicas(obj: &Value) -> i64 {
    opt_int(obj, &["spec", "replicas"]).unwrap_or(1)
}

fn template_containers(obj: &Value) -> (String, String) {
    layout_containers(arr_at(obj, &["spec", "template", "spec", "containers"]))
}

pub(crate) static DEPLOYMENT_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", docs::DEP_UPDATED),
    col("Available", "string", docs::DEP_AVAILABLE),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", docs::DEP_SELECTOR),
];

pub(crate) fn deployment(d: &Value, now: Timestamp) -> Row {
    let (names, images) = template_containers(d);
    let selector = label_selector_string(get(d, &["spec", "selector"]))
        .unwrap_or_else(|()| "<invalid>".to_string());
    Row::new(vec![
        json!(name(d)),
        json!(format!(
            "{}/{}",
            int_at(d, &["status", "readyReplicas"]),
            spec_replicas(d)
        )),
        json!(int_at(d, &["status", "updatedReplicas"])),
        json!(int_at(d, &["status", "availableReplicas"])),
        json!(since(created(d), now)),
        json!(names),
        json!(images),
        json!(selector),
    ])
}

pub(crate) static REPLICASET_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Desired", "integer", docs::RS_SPEC_REPLICAS),
    col("Current", "integer", docs::RS_STATUS_REPLICAS),
    col("Ready", "integer", docs::RS_READY_REPLICAS),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", docs::RS_SELECTOR),
];

pub(crate) fn replicaset(rs: &Value, now: Timestamp) -> Row {
    let (names, images) = template_containers(rs);
    Row::new(vec![
        json!(name(rs)),
        json!(spec_replicas(rs)),
        json!(int_at(rs, &["status", "replicas"])),
        json!(int_at(rs, &["status", "readyReplicas"])),
        json!(since(created(rs), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(get(rs, &["spec", "selector"]))),
    ])
}

pub(crate) static STATEFULSET_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
];

pub(crate) fn statefulset(sts: &Value, now: Timestamp) -> Row {
    let (names, images) = template_containers(sts);
    Row::new(vec![
        json!(name(sts)),
        json!(format!(
            "{}/{}",
            int_at(sts, &["status", "readyReplicas"]),
            spec_replicas(sts)
        )),
        json!(since(created(sts), now)),
        json!(names),
        json!(images),
    ])
}

pub(crate) static DAEMONSET_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Desired", "integer", docs::DS_DESIRED),
    col("Current", "integer", docs::DS_CURRENT),
    col("Ready", "integer", docs::DS_READY),
    col("Up-to-date", "integer", docs::DS_UPDATED),
    col("Available", "integer", docs::DS_AVAILABLE),
    col("Node Selector", "string", docs::POD_NODE_SELECTOR),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", docs::DS_SELECTOR),
];

pub(crate) fn daemonset(ds: &Value, now: Timestamp) -> Row {
    let (names, images) = template_containers(ds);
    Row::new(vec![
        json!(name(ds)),
        json!(int_at(ds, &["status", "desiredNumberScheduled"])),
        json!(int_at(ds, &["status", "currentNumberScheduled"])),
        json!(int_at(ds, &["status", "numberReady"])),
        json!(int_at(ds, &["status", "updatedNumberScheduled"])),
        json!(int_at(ds, &["status", "numberAvailable"])),
        json!(format_labels(get(
            ds,
            &["spec", "template", "spec", "nodeSelector"]
        ))),
        json!(since(created(ds), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(get(ds, &["spec", "selector"]))),
    ])
}

pub(crate) static CONTROLLERREVISION_COLUMNS: &[ColumnDefinition] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col("Revision", "string", docs::CR_REVISION),
    AGE,
];

/// The controller owner as `kind.group/name` in lower case (`kind/name` for core),
/// or "<none>".
fn controller_name(obj: &Value) -> String {
    let Some(owner) = arr_at(obj, &["metadata", "ownerReferences"])
        .iter()
        .find(|o| bool_at(o, &["controller"]))
    else {
        return "<none>".to_string();
    };
    let api_version = str_at(owner, &["apiVersion"]);
    let group = match api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    };
    let kind = str_at(owner, &["kind"]);
    let owner_name = str_at(owner, &["name"]);
    if kind.is_empty() && group.is_empty() {
        return owner_name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{owner_name}", group_kind.to_lowercase())
}

pub(crate) fn controllerrevision(cr: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(cr)),
        json!(controller_name(cr)),
        json!(int_at(cr, &["revision"])),
        json!(since(created(cr), now)),
    ])
}
