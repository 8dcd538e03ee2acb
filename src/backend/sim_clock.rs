//! A simulated cluster on a virtual clock: time stands still until
//! `/kdrill/v1/clock` moves it, and the simulator runtime runs only then,
//! so everything a test sees follows from its own writes and advances.

use crate::server::clock_api::ClockControl;
use crate::sim::clock::{Clock, VirtualClock};
use crate::sim::runtime::Runtime;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};

/// Where a virtual clock starts unless told otherwise: a fixed instant, so
/// creation times, event times and `Start Time:` lines repeat run to run.
pub const DEFAULT_START: &str = "2026-01-01T00:00:00Z";

/// The runtime and the clock it moves.
pub struct VirtualTime {
    clock: Arc<VirtualClock>,
    runtime: Mutex<Runtime>,
}

impl VirtualTime {
    pub fn new(clock: Arc<VirtualClock>, runtime: Runtime) -> Self {
        Self {
            clock,
            runtime: Mutex::new(runtime),
        }
    }
}

impl ClockControl for VirtualTime {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn advance(&self, by: SignedDuration) -> Timestamp {
        // One advance at a time: a second caller waits for the first.
        let mut rt = self.runtime.lock().unwrap_or_else(|p| p.into_inner());
        let target = self
            .clock
            .now()
            .checked_add(by.max(SignedDuration::ZERO))
            .unwrap_or(Timestamp::MAX);
        rt.advance_until(&self.clock, target);
        self.clock.now()
    }
}
