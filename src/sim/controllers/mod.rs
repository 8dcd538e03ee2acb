//! Controllers of the simulated cluster: pure reconcilers the runtime
//! (`sim::runtime`) drives, plus the namespace finalizer task.
pub mod namespace;
pub mod podutil;
pub mod replicaset;
#[cfg(test)]
pub mod testutil;
