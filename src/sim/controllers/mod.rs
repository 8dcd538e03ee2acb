//! Controllers of the simulated cluster.
pub mod namespace;
