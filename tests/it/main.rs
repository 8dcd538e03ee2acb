//! Integration tests: the real `kubectl` and kube-rs against `kdrill sim serve`.
//! One binary (ripgrep-style); each module is one area.

// Tests poll a separate process with real deadlines.
#![allow(clippy::disallowed_methods)]

mod admission;
mod architecture;
mod autoscaling;
mod client_cert;
mod control_plane;
mod faults;
mod harness;
mod images;
mod ingress;
mod ingress_host_port;
mod jobs;
mod kube_rs;
mod kubectl_errors;
mod kubectl_read;
mod kubectl_write;
mod lab;
mod network;
mod network_policy;
mod nodes;
mod pods;
mod probes;
mod rbac;
mod scenario;
mod scheduling;
mod server_misc;
mod services;
mod sets;
mod snapshots;
mod storage;
mod workloads;
