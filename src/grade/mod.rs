//! Grading: a rubric evaluated against the cluster as a stream of
//! [`GradeEvent`]s, which each reporter (terminal, JSON, JUnit XML,
//! Markdown) renders.
//!
//! Scoring: the points of passed criteria, less the cost of hints shown
//! (times the profile's factor), as a percentage of all points. The
//! rubric passes when every required (and anti-shortcut) criterion passes
//! and the percentage reaches the pass mark (the rubric's, else the
//! profile's).

pub mod checks;
pub mod profile;
pub mod report;

pub use checks::Verdict;
pub use profile::Profile;

use crate::scenario::Scenario;
use crate::scenario::model::{Check, Criterion, parse_duration};
use crate::script::{self, Host, Limits, Roots};
use jiff::Timestamp;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// One step of grading.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum GradeEvent {
    #[serde(rename_all = "camelCase")]
    Started {
        id: String,
        title: String,
        points: u32,
        required: bool,
        anti_shortcut: bool,
    },
    #[serde(rename_all = "camelCase")]
    Passed {
        id: String,
        points: u32,
        seen: String,
    },
    #[serde(rename_all = "camelCase")]
    Failed {
        id: String,
        points: u32,
        required: bool,
        seen: String,
    },
    Finished(Summary),
}

/// The result of one criterion.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CriterionResult {
    pub id: String,
    pub title: String,
    pub points: u32,
    pub earned: u32,
    pub required: bool,
    pub anti_shortcut: bool,
    pub pass: bool,
    pub seen: String,
}

/// The whole grade.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub earned: u32,
    pub hint_cost: u32,
    pub score: u32,
    pub total: u32,
    pub percent: u32,
    pub pass_mark: u32,
    pub passed: bool,
    /// Required criteria that failed.
    pub required_failed: Vec<String>,
}

/// Adds up results into a summary.
pub fn summarize(results: &[CriterionResult], hint_cost: u32, pass_mark: u32) -> Summary {
    let total: u32 = results.iter().map(|r| r.points).sum();
    let earned: u32 = results.iter().map(|r| r.earned).sum();
    let score = earned.saturating_sub(hint_cost);
    let percent = (score * 100).checked_div(total).unwrap_or(100);
    let required_failed: Vec<String> = results
        .iter()
        .filter(|r| r.required && !r.pass)
        .map(|r| r.id.clone())
        .collect();
    Summary {
        earned,
        hint_cost,
        score,
        total,
        percent,
        pass_mark,
        passed: required_failed.is_empty() && percent >= pass_mark,
        required_failed,
    }
}

/// Grades one scenario's rubric.
pub struct Grader {
    pub host: Arc<Host>,
    pub scenario: Scenario,
    pub profile: Profile,
    /// Hints shown so far (the first `hints_used` of the scenario's).
    pub hints_used: usize,
    /// When setup finished: `eventAbsentSince` looks from here.
    pub since: Option<Timestamp>,
    /// How often a `holds` criterion is re-checked inside its window.
    pub hold_interval: Duration,
    /// Scale applied to `holds` windows (0 skips them: selftests, tests).
    pub hold_scale: f64,
}

impl Grader {
    pub fn new(host: Arc<Host>, scenario: Scenario, profile: Profile) -> Self {
        Self {
            host,
            scenario,
            profile,
            hints_used: 0,
            since: None,
            hold_interval: Duration::from_secs(2),
            hold_scale: 1.0,
        }
    }

    /// The cost of the hints shown.
    pub fn hint_cost(&self) -> u32 {
        self.scenario
            .spec
            .hints
            .iter()
            .take(self.hints_used)
            .map(|h| h.cost * self.profile.hint_cost_factor)
            .sum()
    }

    /// Runs every criterion in order, sending events to `emit`; returns the
    /// results and the summary (also sent as `Finished`).
    pub async fn run(&self, mut emit: impl FnMut(&GradeEvent)) -> (Vec<CriterionResult>, Summary) {
        let mut results = Vec::new();
        for c in &self.scenario.spec.rubric.criteria {
            emit(&GradeEvent::Started {
                id: c.id.clone(),
                title: c.title.clone(),
                points: c.points,
                required: c.is_required(),
                anti_shortcut: c.anti_shortcut,
            });
            let v = self.criterion(c).await;
            emit(&if v.pass {
                GradeEvent::Passed {
                    id: c.id.clone(),
                    points: c.points,
                    seen: v.seen.clone(),
                }
            } else {
                GradeEvent::Failed {
                    id: c.id.clone(),
                    points: c.points,
                    required: c.is_required(),
                    seen: v.seen.clone(),
                }
            });
            results.push(CriterionResult {
                id: c.id.clone(),
                title: c.title.clone(),
                points: c.points,
                earned: if v.pass { c.points } else { 0 },
                required: c.is_required(),
                anti_shortcut: c.anti_shortcut,
                pass: v.pass,
                seen: v.seen,
            });
        }
        let pass_mark = self
            .scenario
            .spec
            .rubric
            .pass_mark
            .unwrap_or(self.profile.pass_mark);
        let summary = summarize(&results, self.hint_cost(), pass_mark);
        emit(&GradeEvent::Finished(summary.clone()));
        (results, summary)
    }

    /// One criterion, with its `holds` window.
    async fn criterion(&self, c: &Criterion) -> Verdict {
        let first = self.check(&c.check).await;
        let window = c
            .holds
            .as_deref()
            .and_then(parse_duration)
            .map(|d| d.mul_f64(self.hold_scale.max(0.0)))
            .unwrap_or_default();
        if !first.pass || window.is_zero() {
            return first;
        }
        let mut waited = Duration::ZERO;
        while waited < window {
            let step = self.hold_interval.min(window - waited);
            tokio::time::sleep(step).await;
            waited += step;
            let v = self.check(&c.check).await;
            if !v.pass {
                return Verdict::fail(format!(
                    "passed, but did not hold: after {}s of {}s, {}",
                    waited.as_secs(),
                    window.as_secs(),
                    v.seen
                ));
            }
        }
        Verdict::pass(format!("{} (held for {}s)", first.seen, window.as_secs()))
    }

    async fn check(&self, check: &Check) -> Verdict {
        match check {
            Check::Rhai { file, script } => self.rhai(file.as_deref(), script.as_deref()).await,
            other => match checks::evaluate(&self.host, other, self.since).await {
                Ok(v) => v,
                Err(e) => Verdict::fail(format!("error: {e}")),
            },
        }
    }

    /// A Rhai predicate in the sandbox: `true`/`false` or `#{pass, seen}`.
    async fn rhai(&self, file: Option<&str>, inline: Option<&str>) -> Verdict {
        let host = self.host.clone();
        let roots = Roots {
            scenario: self.scenario.dir.clone(),
            library: self.scenario.root.clone(),
        };
        let path = file.map(|f| {
            let p = self.scenario.dir.join(f);
            if p.is_file() {
                p
            } else {
                self.scenario.root.join(f)
            }
        });
        let inline = inline.map(str::to_string);
        let handle = tokio::runtime::Handle::current();
        let out = tokio::task::spawn_blocking(move || {
            let log = host.log.clone();
            let mut engine = script::engine(
                &Limits::default(),
                &roots,
                Arc::new(crate::sim::clock::WallClock::new(1.0)),
                log,
            );
            script::host::register(&mut engine, host, handle);
            let ast = match (&path, &inline) {
                (Some(p), _) => script::compile_file(&engine, p)?,
                (None, Some(text)) => script::compile_source(&engine, text, "rubric")?,
                (None, None) => {
                    return Err(script::ScriptError::Io {
                        path: Default::default(),
                        message: "rhai check without file or script".into(),
                    });
                }
            };
            script::run(&engine, &ast)
        })
        .await;
        match out {
            Err(e) => Verdict::fail(format!("error: predicate did not finish: {e}")),
            Ok(Err(e)) => Verdict::fail(format!("error: {e}")),
            Ok(Ok(d)) => predicate_verdict(&d),
        }
    }
}

/// Reads a predicate's value: a bool, or a map with `pass` and `seen`.
pub fn predicate_verdict(d: &rhai::Dynamic) -> Verdict {
    if let Ok(b) = d.as_bool() {
        return if b {
            Verdict::pass("predicate held")
        } else {
            Verdict::fail("predicate returned false")
        };
    }
    if let Some(m) = d.read_lock::<rhai::Map>() {
        let pass = m
            .get("pass")
            .and_then(|p| p.as_bool().ok())
            .unwrap_or(false);
        let seen = m.get("seen").map(|s| s.to_string()).unwrap_or_else(|| {
            if pass {
                "predicate held".into()
            } else {
                "predicate returned false".into()
            }
        });
        return Verdict { pass, seen };
    }
    Verdict::fail(format!(
        "predicate returned {} ({}), not a bool or #{{pass, seen}}",
        d,
        d.type_name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, points: u32, pass: bool, required: bool) -> CriterionResult {
        CriterionResult {
            id: id.into(),
            title: id.into(),
            points,
            earned: if pass { points } else { 0 },
            required,
            anti_shortcut: false,
            pass,
            seen: String::new(),
        }
    }

    #[test]
    fn scoring_table() {
        // (results, hint cost, pass mark) -> (score, percent, passed)
        let cases = [
            (
                vec![r("a", 60, true, true), r("b", 40, true, false)],
                0,
                0,
                (100, 100, true),
            ),
            (
                vec![r("a", 60, true, true), r("b", 40, false, false)],
                0,
                66,
                (60, 60, false),
            ),
            (
                vec![r("a", 60, true, true), r("b", 40, false, false)],
                0,
                0,
                (60, 60, true),
            ),
            (
                vec![r("a", 60, false, true), r("b", 40, true, false)],
                0,
                0,
                (40, 40, false),
            ),
            (
                vec![r("a", 60, true, true), r("b", 40, true, false)],
                30,
                66,
                (70, 70, true),
            ),
            (vec![r("a", 10, true, true)], 50, 0, (0, 0, true)),
            (vec![r("a", 0, true, true)], 0, 50, (0, 100, true)),
        ];
        for (results, cost, mark, (score, percent, passed)) in cases {
            let s = summarize(&results, cost, mark);
            assert_eq!(
                (s.score, s.percent, s.passed),
                (score, percent, passed),
                "{results:?}"
            );
        }
    }

    #[test]
    fn predicates_return_bools_or_maps() {
        let mut m = rhai::Map::new();
        m.insert("pass".into(), false.into());
        m.insert("seen".into(), "selector app=x".into());
        assert_eq!(
            predicate_verdict(&rhai::Dynamic::from_map(m)),
            Verdict::fail("selector app=x")
        );
        assert!(predicate_verdict(&true.into()).pass);
        assert!(
            predicate_verdict(&rhai::Dynamic::from(3_i64))
                .seen
                .contains("not a bool")
        );
    }

    #[test]
    fn reports_render_failures_and_escape() {
        let mut a = r("a", 60, false, true);
        a.title = "Service <web> has endpoints".into();
        a.seen = "service/web has no ready endpoints (selector app=web-frontend)".into();
        let results = vec![a, r("b", 40, true, false)];
        let s = summarize(&results, 5, 0);
        let t = report::terminal(&results, &s, false);
        assert_eq!(
            t,
            "✘ Service <web> has endpoints [0/60] (required)\n    service/web has no ready endpoints (selector app=web-frontend)\n✔ b [40/40]\n    \nFAILED 35/100 points (35%), 5 taken off for hints; required criteria failed: a\n"
        );
        let colored = report::terminal(&results, &s, true);
        assert!(colored.contains("\x1b[31m✘\x1b[0m"));
        let x = report::junit("demo", &results, &s);
        assert!(
            x.contains(
                "<testcase name=\"Service &lt;web&gt; has endpoints\" classname=\"demo.a\">"
            ),
            "{x}"
        );
        assert!(x.contains("failures=\"1\""));
        let md = report::markdown("Demo", &results, &s);
        assert!(md.contains("| ✘ | Service <web> has endpoints (required) | 0/60 | service/web has no ready endpoints (selector app=web-frontend) |"), "{md}");
        let j = report::json("demo", &results, &s);
        assert_eq!(j["summary"]["requiredFailed"][0], "a");
    }
}
