//! kdrill: Kubernetes break-fix drills on an embedded simulated cluster.
//!
//! Layers, each importing only those above it:
//! `api` (vocabulary, no IO) ← `store` (versioned objects, watch) ←
//! `registry` (the write rules) ← `server` (HTTP) / `sim` (behaviour);
//! `backend` wires a cluster together; `cli` composes everything.
//! `sim::clock` and `sim::rng` are leaves any layer may use.

pub mod api;
pub mod registry;
pub mod sim;
pub mod store;
