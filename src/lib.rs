//! kdrill: Kubernetes break-fix drills on an embedded simulated cluster.
//!
//! Layers, each importing only those above it:
//! `api` (vocabulary, no IO) ← `store` (versioned objects, watch) ←
//! `registry` (the write rules) ← `server` (HTTP) / `sim` (behaviour);
//! `backend` wires a cluster together; `cli` composes everything.
//! `sim::clock` and `sim::rng` are leaves any layer may use.

pub mod allocator;
pub mod api;
pub mod backend;
pub mod cli;
pub mod grade;
pub mod lab;
pub mod registry;
pub mod scenario;
pub mod script;
pub mod server;
pub mod sim;
pub mod store;

/// `$KDRILL_HOME`, or `~/.kdrill`.
pub fn home_dir() -> std::path::PathBuf {
    if let Some(h) = std::env::var_os("KDRILL_HOME").filter(|h| !h.is_empty()) {
        return h.into();
    }
    std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("."))
        .join(".kdrill")
}
