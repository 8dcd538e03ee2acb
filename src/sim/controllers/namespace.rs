//! The namespace controller: a namespace being deleted loses its content,
//! then goes (`pkg/controller/namespace` upstream).

use crate::registry::Registry;
use crate::store::EventType;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Runs until the store's event channel closes.
pub async fn run(registry: Arc<Registry>) {
    let mut events = registry.store.subscribe();
    loop {
        match events.recv().await {
            Ok(ev) => {
                if ev.res.group.is_empty()
                    && ev.res.resource == "namespaces"
                    && ev.kind == EventType::Modified
                    && crate::api::meta::is_deleting(ev.object())
                {
                    registry.finalize_namespace(ev.name());
                }
            }
            Err(RecvError::Lagged(_)) => {
                // Missed events: sweep every namespace being deleted.
                let ns = crate::store::ResKey {
                    group: "",
                    resource: "namespaces",
                };
                for n in registry.store.list(ns, None).0 {
                    if crate::api::meta::is_deleting(&n) {
                        registry.finalize_namespace(crate::api::meta::name(&n));
                    }
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}
