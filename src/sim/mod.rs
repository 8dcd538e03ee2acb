//! The simulated cluster's behaviour: clock, randomness, the bootstrap
//! shape, the controller runtime, controllers and the scheduler (later
//! kubelet and network).
pub mod bootstrap;
pub mod clock;
pub mod controllers;
pub mod event;
pub mod recorder;
pub mod rng;
pub mod runtime;
pub mod snapshot;
