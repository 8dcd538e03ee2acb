//! Server-side printing: turns objects into `meta.k8s.io/v1` Tables when
//! the client asks for `as=Table` (apiserver `endpoints/handlers/response.go`).
//! Rows borrow the stored objects and are serialized directly, so a large
//! list is never deep-copied.

use super::table;
use crate::api::resource::ResourceInfo;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use std::sync::Arc;

/// What each Table row carries as `object` (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(v: Option<&str>) -> Self {
        match v {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let p = part.replace(' ', "");
        p.contains("as=Table")
            && p.contains("g=meta.k8s.io")
            && (p.contains("v=v1") || p.contains("v=v1beta1"))
    })
}

/// The Table version the client asked for first.
pub fn table_version(accept: &str) -> &'static str {
    for part in accept.split(',') {
        let p = part.replace(' ', "");
        if p.contains("as=Table") {
            return if p.contains("v=v1beta1") {
                "meta.k8s.io/v1beta1"
            } else {
                "meta.k8s.io/v1"
            };
        }
    }
    "meta.k8s.io/v1"
}

/// `PartialObjectMetadata` view of a stored object.
struct PartialMetadata<'a>(&'a Value);

impl Serialize for PartialMetadata<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("kind", "PartialObjectMetadata")?;
        m.serialize_entry("apiVersion", "meta.k8s.io/v1")?;
        match self.0.get("metadata") {
            Some(md) => m.serialize_entry("metadata", md)?,
            None => m.serialize_entry("metadata", &serde_json::Map::new())?,
        }
        m.end()
    }
}

struct RowOut<'a> {
    row: table::Row,
    object: &'a Value,
    include: IncludeObject,
}

impl Serialize for RowOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("cells", &self.row.cells)?;
        if let Some(c) = &self.row.conditions {
            m.serialize_entry("conditions", c)?;
        }
        match self.include {
            IncludeObject::None => {}
            IncludeObject::Metadata => {
                m.serialize_entry("object", &PartialMetadata(self.object))?
            }
            IncludeObject::Object => m.serialize_entry("object", self.object)?,
        }
        m.end()
    }
}

/// A Table ready to serialize.
pub struct Table<'a> {
    info: &'a ResourceInfo,
    list_meta: Value,
    rows: Vec<RowOut<'a>>,
    headers: bool,
    api_version: &'a str,
}

impl Serialize for Table<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("kind", "Table")?;
        m.serialize_entry("apiVersion", self.api_version)?;
        m.serialize_entry("metadata", &self.list_meta)?;
        if self.headers {
            let columns: Vec<Value> = table::column_definitions(self.info.group, self.info.plural)
                .iter()
                .map(table::ColumnDefinition::to_json)
                .collect();
            m.serialize_entry("columnDefinitions", &columns)?;
        } else {
            m.serialize_entry("columnDefinitions", &Value::Null)?;
        }
        m.serialize_entry("rows", &self.rows)?;
        m.end()
    }
}

/// A Table of `objects`. `headers` is false for watch events after the
/// first, which carry rows only.
pub fn table<'a>(
    info: &'a ResourceInfo,
    objects: &'a [Arc<Value>],
    list_meta: Value,
    include: IncludeObject,
    now: jiff::Timestamp,
    headers: bool,
    api_version: &'a str,
) -> Table<'a> {
    let rows = objects
        .iter()
        .map(|o| RowOut {
            row: table::row(info.group, info.plural, o, now),
            object: o,
            include,
        })
        .collect();
    Table {
        info,
        list_meta,
        rows,
        headers,
        api_version,
    }
}

/// A list item as lists carry it: the object without its own apiVersion
/// and kind (they are the list's).
pub struct ListItem<'a>(pub &'a Value);

impl Serialize for ListItem<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_object() {
            Some(map) => {
                let mut m = s.serialize_map(None)?;
                for (k, v) in map
                    .iter()
                    .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
                {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            None => self.0.serialize(s),
        }
    }
}

/// A typed list (`PodList`, ...) ready to serialize.
pub struct List<'a> {
    pub kind: String,
    pub api_version: String,
    pub metadata: Value,
    pub items: &'a [Arc<Value>],
}

impl Serialize for List<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("apiVersion", &self.api_version)?;
        m.serialize_entry("metadata", &self.metadata)?;
        let items: Vec<ListItem<'_>> = self.items.iter().map(|i| ListItem(i)).collect();
        m.serialize_entry("items", &items)?;
        m.end()
    }
}
