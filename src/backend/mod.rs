//! Cluster backends. Scenarios reach every backend only through the
//! Kubernetes API; the simulated cluster is the default.
pub mod kubeconfig;
pub mod sim;
pub mod sim_clock;
mod sim_kubelet;
