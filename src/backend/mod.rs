//! Cluster backends. Scenarios reach every backend only through the
//! Kubernetes API; the simulated cluster is the default.
pub mod kubeconfig;
pub mod sim;
mod sim_kubelet;
