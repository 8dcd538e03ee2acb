//! Scenario self-tests on an in-process simulated cluster running on a
//! virtual clock: after setup the rubric must fail; after setup and the
//! solution it must pass; after setup and each listed shortcut it must
//! fail again (each shortcut on a fresh cluster).
//!
//! The clock only moves in [`VirtualDriver::settle`], which jumps from
//! timer to timer (back-offs, probes, deadlines) up to a horizon, so a
//! five-minute CrashLoopBackOff costs no real time. Between settles the
//! controllers still react to every write, as they would on a live
//! cluster.

use super::session::{Session, client_from};
use super::{LabError, Result};
use crate::backend::sim::{SimCluster, SimOptions};
use crate::grade::{CriterionResult, Profile};
use crate::scenario::Scenario;
use crate::sim::bootstrap::ClusterShape;
use crate::sim::clock::{Clock, VirtualClock};
use crate::sim::runtime::Runtime;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// Drives the simulator's controllers on a virtual clock.
pub struct VirtualDriver {
    runtime: Arc<Mutex<Runtime>>,
    clock: Arc<VirtualClock>,
    task: tokio::task::JoinHandle<()>,
}

impl VirtualDriver {
    /// Runs the controllers over `cluster`'s registry: every store event
    /// triggers a run until idle; time stands still.
    pub fn start(cluster: &SimCluster, clock: Arc<VirtualClock>, seed: u64) -> Self {
        let registry = cluster.server.registry.clone();
        let mut events = registry.store.subscribe();
        let components = crate::backend::sim::simulator(&cluster.kubelets, seed);
        let runtime = Arc::new(Mutex::new(Runtime::new(registry, components)));
        let rt = runtime.clone();
        let task = tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                rt.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .run_until_idle();
                match events.recv().await {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
        Self {
            runtime,
            clock,
            task,
        }
    }

    /// Moves the clock from timer to timer, running the controllers after
    /// each, until no timer falls within `horizon` of now. Returns how far
    /// the clock moved.
    pub fn settle(&self, horizon: SignedDuration) -> SignedDuration {
        settle(&self.runtime, &self.clock, horizon)
    }

    /// [`VirtualDriver::settle`] with `horizon`, for the host API to call
    /// while a probe pod runs.
    pub fn settler(&self, horizon: SignedDuration) -> Arc<dyn Fn() + Send + Sync> {
        let (rt, clock) = (self.runtime.clone(), self.clock.clone());
        Arc::new(move || {
            settle(&rt, &clock, horizon);
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

fn settle(
    runtime: &Mutex<Runtime>,
    clock: &VirtualClock,
    horizon: SignedDuration,
) -> SignedDuration {
    let mut rt = runtime.lock().unwrap_or_else(|p| p.into_inner());
    let start = clock.now();
    let end = start.checked_add(horizon).unwrap_or(Timestamp::MAX);
    rt.run_until_idle();
    while let Some(at) = rt.next_timer() {
        if at > end || !rt.advance_to_next_timer(clock) {
            break;
        }
    }
    clock.now().duration_since(start)
}

impl Drop for VirtualDriver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A scenario on a fresh in-process cluster.
pub struct Bench {
    cluster: SimCluster,
    driver: VirtualDriver,
    session: Session,
    /// How far `settle` looks ahead.
    pub horizon: SignedDuration,
    since: Option<Timestamp>,
}

impl Bench {
    /// Starts a cluster shaped for `scenario`, on a virtual clock.
    pub async fn start(scenario: &Scenario, seed: u64) -> Result<Self> {
        let clock = Arc::new(VirtualClock::new(
            Timestamp::UNIX_EPOCH
                .checked_add(SignedDuration::from_hours(24 * 365 * 55))
                .unwrap_or(Timestamp::UNIX_EPOCH),
        ));
        let opts = SimOptions {
            shape: ClusterShape {
                name: "kdrill-selftest".into(),
                workers: scenario.spec.cluster.nodes.saturating_sub(1),
            },
            clock: clock.clone(),
            seed,
            ..SimOptions::default()
        };
        let cluster = SimCluster::start_with(opts, false)
            .await
            .map_err(|e| LabError::Cluster(e.to_string()))?;
        let driver = VirtualDriver::start(&cluster, clock, seed);
        let kc = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig)
            .map_err(|e| LabError::Cluster(format!("bad kubeconfig: {e}")))?;
        let client = client_from(kc, None).await?;
        let mut session = Session::new(client, scenario.clone(), Arc::new(|_: &str| {}));
        if let Some(h) = Arc::get_mut(&mut session.host) {
            h.poll = std::time::Duration::from_millis(20);
            h.settle = Some(driver.settler(SignedDuration::from_secs(30)));
        }
        for addon in &scenario.spec.cluster.addons {
            super::addons::install(&session.host, *addon, super::addons::TIMEOUT)
                .await
                .map_err(|e| {
                    LabError::Cluster(format!("add-on {}: {}", super::addons::name(*addon), e.0))
                })?;
        }
        driver.settle(SignedDuration::from_mins(1));
        Ok(Self {
            cluster,
            driver,
            session,
            horizon: SignedDuration::from_mins(15),
            since: None,
        })
    }

    /// Runs a script, then lets the cluster settle.
    pub async fn script(&mut self, rel: &str) -> Result<()> {
        self.session.script(rel).await?;
        self.driver.settle(self.horizon);
        if rel == "setup.rhai" {
            self.since = Some(self.driver.now());
        }
        Ok(())
    }

    /// The scenario and its cluster.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The virtual clock's time.
    pub fn now(&self) -> Timestamp {
        self.driver.now()
    }

    /// Grades (hold windows skipped: the clock is virtual).
    pub async fn grade(&self) -> (Vec<CriterionResult>, bool) {
        let (results, summary) = self
            .session
            .grade(Profile::default(), 0, self.since, 0.0, |_| {})
            .await;
        (results, summary.passed)
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.cluster.shutdown();
    }
}

/// One expectation of a self-test.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// `fails-after-setup`, `passes-after-solution`, `shortcut:<id>`.
    pub step: String,
    pub ok: bool,
    /// Why not, when not ok: the criteria that decided it, or the error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

/// A scenario's self-test.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    pub scenario: String,
    pub passed: bool,
    pub steps: Vec<StepResult>,
}

fn failing(results: &[CriterionResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| format!("{}: {}", r.id, r.seen))
        .collect()
}

/// Runs `setup` then `then` (if any) on a fresh bench and grades;
/// `Err` lines when a step could not run.
async fn graded(
    scenario: &Scenario,
    seed: u64,
    then: Option<&str>,
) -> Result<(Vec<CriterionResult>, bool), Vec<String>> {
    let mut b = Bench::start(scenario, seed)
        .await
        .map_err(|e| vec![format!("cluster: {e}")])?;
    b.script("setup.rhai")
        .await
        .map_err(|e| vec![format!("setup: {e}")])?;
    if let Some(rel) = then {
        b.script(rel)
            .await
            .map_err(|e| vec![format!("{rel}: {e}")])?;
    }
    Ok(b.grade().await)
}

/// Self-tests one scenario.
pub async fn run(scenario: &Scenario, seed: u64) -> ScenarioResult {
    let mut steps = Vec::new();
    // After setup, then after the solution, on one cluster.
    let mut bench = Bench::start(scenario, seed).await;
    let (setup_step, solve_step) = match &mut bench {
        Err(e) => {
            let d = vec![format!("cluster: {e}")];
            (
                step("fails-after-setup", false, d.clone()),
                step("passes-after-solution", false, d),
            )
        }
        Ok(b) => match b.script("setup.rhai").await {
            Err(e) => {
                let d = vec![format!("setup: {e}")];
                (
                    step("fails-after-setup", false, d.clone()),
                    step("passes-after-solution", false, d),
                )
            }
            Ok(()) => {
                let (results, passed) = b.grade().await;
                let s1 = step(
                    "fails-after-setup",
                    !passed,
                    if passed {
                        vec!["the rubric passed before any fix".into()]
                    } else {
                        vec![]
                    },
                );
                let s2 = match b.script("solution.rhai").await {
                    Err(e) => step(
                        "passes-after-solution",
                        false,
                        vec![format!("solution: {e}")],
                    ),
                    Ok(()) => {
                        let (after, passed) = b.grade().await;
                        step(
                            "passes-after-solution",
                            passed,
                            if passed { vec![] } else { failing(&after) },
                        )
                    }
                };
                let _ = results;
                (s1, s2)
            }
        },
    };
    drop(bench);
    steps.push(setup_step);
    steps.push(solve_step);
    for sc in &scenario.spec.shortcuts {
        let name = format!("shortcut:{}", sc.id);
        steps.push(match graded(scenario, seed, Some(&sc.script)).await {
            Err(d) => step(&name, false, d),
            Ok((_, passed)) => step(
                &name,
                !passed,
                if passed {
                    vec!["the rubric passed: the shortcut is not caught".into()]
                } else {
                    vec![]
                },
            ),
        });
    }
    ScenarioResult {
        scenario: scenario.spec.id.clone(),
        passed: steps.iter().all(|s| s.ok),
        steps,
    }
}

fn step(name: &str, ok: bool, detail: Vec<String>) -> StepResult {
    StepResult {
        step: name.into(),
        ok,
        detail,
    }
}

/// The summary table: one row per scenario.
pub fn table(results: &[ScenarioResult]) -> String {
    let mark = |ok: bool| {
        if ok {
            "✓".to_string()
        } else {
            "✗".to_string()
        }
    };
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            let get = |n: &str| r.steps.iter().find(|s| s.step == n).is_some_and(|s| s.ok);
            let shortcuts: Vec<&StepResult> = r
                .steps
                .iter()
                .filter(|s| s.step.starts_with("shortcut:"))
                .collect();
            let caught = shortcuts.iter().filter(|s| s.ok).count();
            [
                r.scenario.clone(),
                mark(get("fails-after-setup")),
                mark(get("passes-after-solution")),
                format!("{caught}/{}", shortcuts.len()),
                if r.passed {
                    "PASS".into()
                } else {
                    "FAIL".into()
                },
            ]
        })
        .collect();
    crate::cli::list::table(
        &[
            "SCENARIO",
            "FAILS AFTER SETUP",
            "PASSES AFTER SOLUTION",
            "SHORTCUTS REJECTED",
            "RESULT",
        ],
        &rows,
    )
}

/// What went wrong, one line per failed step's reason.
pub fn details(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    for r in results {
        for s in r.steps.iter().filter(|s| !s.ok) {
            for d in &s.detail {
                out.push_str(&format!("{} {}: {d}\n", r.scenario, s.step));
            }
        }
    }
    out
}
