//! Reporters over grade results: terminal lines (✔/✘, points, what was
//! seen; colour only when asked), JSON, JUnit XML and Markdown.

use super::{CriterionResult, GradeEvent, Summary};
use serde_json::json;

/// Whether to colour terminal output: stdout is a terminal and `NO_COLOR`
/// is unset or empty.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The terminal line for one event, if it has one (criteria print when
/// they finish; the summary prints last).
pub fn terminal_line(
    ev: &GradeEvent,
    titles: &dyn Fn(&str) -> String,
    color: bool,
) -> Option<String> {
    match ev {
        GradeEvent::Started { .. } => None,
        GradeEvent::Passed { id, points, seen } => Some(format!(
            "{} {} [{points}/{points}]\n    {seen}",
            paint("✔", "32", color),
            titles(id)
        )),
        GradeEvent::Failed {
            id,
            points,
            required,
            seen,
        } => Some(format!(
            "{} {} [0/{points}]{}\n    {seen}",
            paint("✘", "31", color),
            titles(id),
            if *required { " (required)" } else { "" }
        )),
        GradeEvent::Finished(s) => Some(summary_line(s, color)),
    }
}

/// `PASSED 90/100 (90%)` and what kept it from passing.
pub fn summary_line(s: &Summary, color: bool) -> String {
    let verdict = if s.passed {
        paint("PASSED", "1;32", color)
    } else {
        paint("FAILED", "1;31", color)
    };
    let mut line = format!("{verdict} {}/{} points ({}%)", s.score, s.total, s.percent);
    if s.hint_cost > 0 {
        line.push_str(&format!(", {} taken off for hints", s.hint_cost));
    }
    if !s.required_failed.is_empty() {
        line.push_str(&format!(
            "; required criteria failed: {}",
            s.required_failed.join(", ")
        ));
    } else if !s.passed {
        line.push_str(&format!("; pass mark {}%", s.pass_mark));
    }
    line
}

/// The whole terminal report.
pub fn terminal(results: &[CriterionResult], summary: &Summary, color: bool) -> String {
    let titles = |id: &str| {
        results
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.title.clone())
            .unwrap_or_default()
    };
    let mut out = String::new();
    for r in results {
        let ev = if r.pass {
            GradeEvent::Passed {
                id: r.id.clone(),
                points: r.points,
                seen: r.seen.clone(),
            }
        } else {
            GradeEvent::Failed {
                id: r.id.clone(),
                points: r.points,
                required: r.required,
                seen: r.seen.clone(),
            }
        };
        if let Some(l) = terminal_line(&ev, &titles, color) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out.push_str(&summary_line(summary, color));
    out.push('\n');
    out
}

/// JSON for programs.
pub fn json(scenario: &str, results: &[CriterionResult], summary: &Summary) -> serde_json::Value {
    json!({"scenario": scenario, "criteria": results, "summary": summary})
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test suite per scenario, one test case per criterion.
pub fn junit(scenario: &str, results: &[CriterionResult], summary: &Summary) -> String {
    let failures = results.iter().filter(|r| !r.pass).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"kdrill\" tests=\"{}\" failures=\"{failures}\">\n",
        results.len()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
        xml_escape(scenario),
        results.len()
    ));
    out.push_str(&format!(
        "    <properties>\n      <property name=\"score\" value=\"{}/{}\"/>\n      <property name=\"passed\" value=\"{}\"/>\n    </properties>\n",
        summary.score, summary.total, summary.passed
    ));
    for r in results {
        let name = xml_escape(&r.title);
        let class = xml_escape(&format!("{scenario}.{}", r.id));
        if r.pass {
            out.push_str(&format!(
                "    <testcase name=\"{name}\" classname=\"{class}\"/>\n"
            ));
        } else {
            out.push_str(&format!(
                "    <testcase name=\"{name}\" classname=\"{class}\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml_escape(&r.seen),
                xml_escape(&r.seen)
            ));
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Markdown for a ticket or an LMS.
pub fn markdown(title: &str, results: &[CriterionResult], summary: &Summary) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("## {}\n\n", cell(title));
    out.push_str(&format!(
        "**{}** — {}/{} points ({}%)\n\n",
        if summary.passed { "Passed" } else { "Failed" },
        summary.score,
        summary.total,
        summary.percent
    ));
    out.push_str("| | Criterion | Points | Seen |\n|---|---|---|---|\n");
    for r in results {
        out.push_str(&format!(
            "| {} | {}{} | {}/{} | {} |\n",
            if r.pass { "✔" } else { "✘" },
            cell(&r.title),
            if r.required { " (required)" } else { "" },
            r.earned,
            r.points,
            cell(&r.seen)
        ));
    }
    if summary.hint_cost > 0 {
        out.push_str(&format!(
            "\n{} points taken off for hints.\n",
            summary.hint_cost
        ));
    }
    out
}
