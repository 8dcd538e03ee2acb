//! Watch events as the store emits them.

use super::ResKey;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;

/// The type of a watch event (`ADDED`, `MODIFIED`, `DELETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug)]
pub struct WatchEvent {
    pub rv: u64,
    pub kind: EventType,
    pub res: ResKey,
    object: Payload,
}

/// The object a watch event carries: its tree, or the packed bytes of an
/// object stored packed from the start (the simulator's Events), decoded
/// by the first reader that needs the tree. Most such events are read by
/// nobody but the runtime, which needs only their names.
#[derive(Debug)]
enum Payload {
    Tree(Arc<Value>),
    Packed {
        bytes: Arc<[u8]>,
        namespace: Box<str>,
        name: Box<str>,
        tree: OnceLock<Arc<Value>>,
    },
}

impl WatchEvent {
    pub fn new(rv: u64, kind: EventType, res: ResKey, object: Arc<Value>) -> Self {
        Self {
            rv,
            kind,
            res,
            object: Payload::Tree(object),
        }
    }

    /// The event of an object stored packed, named `namespace`/`name`.
    pub(super) fn packed(
        rv: u64,
        kind: EventType,
        res: ResKey,
        bytes: Arc<[u8]>,
        namespace: &str,
        name: &str,
    ) -> Self {
        Self {
            rv,
            kind,
            res,
            object: Payload::Packed {
                bytes,
                namespace: namespace.into(),
                name: name.into(),
                tree: OnceLock::new(),
            },
        }
    }

    /// The object, decoded on first use if it came packed.
    pub fn object(&self) -> &Arc<Value> {
        match &self.object {
            Payload::Tree(t) => t,
            Payload::Packed { bytes, tree, .. } => tree.get_or_init(|| {
                super::pack::unpack_shared(bytes).unwrap_or_else(|e| {
                    tracing::error!("a packed watch event does not decode: {e}");
                    Arc::new(Value::Null)
                })
            }),
        }
    }

    /// The object's namespace ("" for cluster-scoped kinds), without
    /// decoding a packed one.
    pub fn namespace(&self) -> &str {
        match &self.object {
            Payload::Tree(t) => crate::api::meta::namespace(t),
            Payload::Packed { namespace, .. } => namespace,
        }
    }

    /// The object's name, without decoding a packed one.
    pub fn name(&self) -> &str {
        match &self.object {
            Payload::Tree(t) => crate::api::meta::name(t),
            Payload::Packed { name, .. } => name,
        }
    }
}

/// A watch just started: the missed events, then live ones.
pub struct WatchStart {
    pub backlog: Vec<Arc<WatchEvent>>,
    pub live: broadcast::Receiver<Arc<WatchEvent>>,
    /// The store version when the watch started; live events at or below
    /// it were already in the backlog.
    pub start_rv: u64,
}
