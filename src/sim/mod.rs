//! The simulated cluster's behaviour: clock, randomness, the bootstrap
//! shape, controllers (and later scheduler, kubelet and network).
pub mod bootstrap;
pub mod clock;
pub mod controllers;
pub mod event;
pub mod kubelet;
pub mod rng;
pub mod workload;
