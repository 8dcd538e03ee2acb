//! The simulated cluster's behaviour: clock, controllers, scheduler,
//! kubelet and network.
pub mod clock;
pub mod rng;
