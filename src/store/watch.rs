//! Watch events as the store emits them.

use super::ResKey;
use serde_json::Value;
use std::sync::Arc;
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
    pub object: Arc<Value>,
}

/// A watch just started: the missed events, then live ones.
pub struct WatchStart {
    pub backlog: Vec<Arc<WatchEvent>>,
    pub live: broadcast::Receiver<Arc<WatchEvent>>,
    /// The store version when the watch started; live events at or below
    /// it were already in the backlog.
    pub start_rv: u64,
}
