//! Events the simulated components emit (kubelet, scheduler, controllers),
//! before the recorder turns them into `v1` Event objects with upstream's
//! aggregation (same object, reason and message → `count` goes up and
//! `lastTimestamp` moves).

/// The object an event is about (`involvedObject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// e.g. `spec.containers{api}` for container-level kubelet events.
    pub field_path: Option<String>,
}

impl ObjectRef {
    /// A reference to a stored object.
    pub fn to(obj: &serde_json::Value) -> Self {
        let text = |v: Option<&serde_json::Value>, k: &str| {
            v.and_then(|v| v.get(k))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let md = obj.get("metadata");
        Self {
            api_version: text(Some(obj), "apiVersion"),
            kind: text(Some(obj), "kind"),
            namespace: text(md, "namespace"),
            name: text(md, "name"),
            uid: text(md, "uid"),
            field_path: None,
        }
    }

    /// The reference the kubelet and kube-proxy make to their node
    /// (`nodeRef`): no apiVersion, and the node's name for its uid.
    pub fn node(name: &str) -> Self {
        Self {
            api_version: String::new(),
            kind: "Node".into(),
            namespace: String::new(),
            name: name.into(),
            uid: name.into(),
            field_path: None,
        }
    }

    pub fn with_field_path(mut self, path: impl Into<String>) -> Self {
        self.field_path = Some(path.into());
        self
    }
}

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    pub involved: ObjectRef,
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    /// `source.component`: `kubelet`, `default-scheduler`, `deployment-controller`, ...
    pub component: String,
    /// `source.host` (the node, for kubelet events).
    pub host: Option<String>,
}
