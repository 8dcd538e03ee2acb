//! Integration tests: the real `kubectl` and kube-rs against `kdrill sim serve`.
//! One binary (ripgrep-style); each module is one area.

mod harness;
mod kube_rs;
mod kubectl_errors;
mod kubectl_read;
mod kubectl_write;
mod pods;
mod scenario;
mod server_misc;
mod snapshots;
mod workloads;
