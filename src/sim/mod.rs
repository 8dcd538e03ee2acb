//! The simulated cluster's behaviour: clock, randomness, the bootstrap
//! shape, the controller runtime, controllers, the scheduler, the kubelet
//! and what containers do.
pub mod bootstrap;
pub mod clock;
pub mod controllers;
pub mod event;
pub mod event_ttl;
pub mod hostport;
pub mod ingress;
pub mod kubelet;
pub mod kubelets;
pub mod netpolicy;
pub mod network;
pub mod recorder;
pub mod rng;
pub mod runtime;
pub mod snapshot;
pub mod workload;
