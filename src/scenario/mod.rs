//! Scenarios: the model of `scenario.yaml`, the loader that reads a
//! scenario folder, and validation that lints one before it runs.
//!
//! A scenario folder holds `scenario.yaml`, `task.md`, `manifests/`,
//! `setup.rhai` and `solution.rhai`; it sits in a catalog folder whose
//! parent also holds the shared `scripts/` and `grading/` libraries.

pub mod load;
pub mod model;
pub mod validate;

pub use load::{Catalog, LoadError, Scenario};
pub use model::{Check, Criterion, Hint, Rubric, ScenarioSpec, Shortcut};
