//! Linting a scenario folder before it runs: schema, files it names,
//! manifests that parse, scripts that compile, a rubric that adds up.

use super::load::{Scenario, yaml_error};
use super::model::{Check, parse_duration};
use crate::script::{self, Limits, Roots};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// Validates the scenario in `dir`; returns one line per problem (empty
/// when it is valid). `root` is the library root (holding `scripts/`,
/// `grading/`), by default the folder above the catalog.
pub fn validate_dir(dir: &Path, root: Option<&Path>) -> Vec<String> {
    match Scenario::load(dir, root) {
        Ok(s) => validate(&s),
        Err(e) => vec![e.to_string()],
    }
}

/// Validates a loaded scenario.
pub fn validate(s: &Scenario) -> Vec<String> {
    let mut problems = Vec::new();
    let yaml = s.dir.join("scenario.yaml");
    let yaml = yaml.display();
    let engine = script::engine(
        &Limits::default(),
        &Roots {
            scenario: s.dir.clone(),
            library: s.root.clone(),
        },
        Arc::new(crate::sim::clock::WallClock::new(1.0)),
        Arc::new(|_| {}),
    );

    if s.task.trim().is_empty() {
        problems.push(format!(
            "{}: missing or empty task.md",
            s.dir.join("task.md").display()
        ));
    }
    let manifests = s.dir.join("manifests");
    if !manifests.is_dir() {
        problems.push(format!(
            "{}: missing manifests/ folder",
            manifests.display()
        ));
    } else {
        problems.extend(check_manifests(&manifests));
    }
    let mut scripts: Vec<String> = vec!["setup.rhai".into(), "solution.rhai".into()];
    scripts.extend(s.spec.shortcuts.iter().map(|sc| sc.script.clone()));
    for rel in &scripts {
        let path = s.dir.join(rel);
        if !path.is_file() {
            problems.push(format!("{}: missing script", path.display()));
            continue;
        }
        match script::compile_file(&engine, &path) {
            Ok(_) => problems.extend(check_manifest_refs(s, &path)),
            Err(e) => problems.push(e.to_string()),
        }
    }

    let text = std::fs::read_to_string(s.dir.join("scenario.yaml")).unwrap_or_default();
    let mut ids = HashSet::new();
    for c in &s.spec.rubric.criteria {
        if !ids.insert(c.id.as_str()) {
            problems.push(format!("{yaml}: criterion id {:?} is used twice", c.id));
        }
        if let Some(h) = &c.holds
            && parse_duration(h).is_none()
        {
            problems.push(format!(
                "{yaml}: criterion {:?}: holds {h:?} is not a duration such as 30s or 2m",
                c.id
            ));
        }
        match &c.check {
            Check::HttpGet { url, status, .. } => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    problems.push(format!(
                        "{}: criterion {:?}: httpGet url {url:?} is not an http:// or https:// URL",
                        at(&text, &yaml, &c.id, "url"),
                        c.id
                    ));
                }
                if !(100..=599).contains(status) {
                    problems.push(format!(
                        "{}: criterion {:?}: httpGet status {status} is not an HTTP status code",
                        at(&text, &yaml, &c.id, "status"),
                        c.id
                    ));
                }
            }
            Check::DnsResolves { name, .. } if name.trim().is_empty() => {
                problems.push(format!(
                    "{}: criterion {:?}: dnsResolves needs a name",
                    at(&text, &yaml, &c.id, "name"),
                    c.id
                ));
            }
            _ => {}
        }
        if let Check::Rhai {
            file,
            script: inline,
        } = &c.check
        {
            match (file, inline) {
                (Some(f), None) => {
                    let path = s.dir.join(f);
                    let path = if path.is_file() { path } else { s.root.join(f) };
                    if !path.is_file() {
                        problems.push(format!("{yaml}: criterion {:?}: missing script {f}", c.id));
                    } else if let Err(e) = script::compile_file(&engine, &path) {
                        problems.push(e.to_string());
                    }
                }
                (None, Some(text)) => {
                    let name = format!("{yaml} (criterion {})", c.id);
                    if let Err(e) = script::compile_source(&engine, text, &name) {
                        problems.push(e.to_string());
                    }
                }
                _ => problems.push(format!(
                    "{yaml}: criterion {:?}: a rhai check needs exactly one of file or script",
                    c.id
                )),
            }
        }
    }
    if s.spec.rubric.criteria.is_empty() {
        problems.push(format!("{yaml}: the rubric has no criteria"));
    }
    if !s.spec.rubric.criteria.iter().any(|c| c.is_required()) {
        problems.push(format!("{yaml}: the rubric has no required criterion"));
    }
    if let Some(m) = s.spec.rubric.pass_mark
        && m > 100
    {
        problems.push(format!("{yaml}: passMark {m} is not a percentage"));
    }
    let mut shortcut_ids = HashSet::new();
    for sc in &s.spec.shortcuts {
        if !shortcut_ids.insert(sc.id.as_str()) {
            problems.push(format!("{yaml}: shortcut id {:?} is used twice", sc.id));
        }
    }
    problems
}

/// `file:line:column` of the first `key:` inside criterion `id` of
/// scenario.yaml's text (just `file` when it cannot be found).
fn at(text: &str, yaml: &impl std::fmt::Display, id: &str, key: &str) -> String {
    fn is_id(l: &str) -> Option<&str> {
        let t = l.trim_start().trim_start_matches("- ").trim_start();
        t.strip_prefix("id:")
            .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
    }
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| is_id(l) == Some(id)) else {
        return yaml.to_string();
    };
    let pat = format!("{key}:");
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        if is_id(l).is_some() {
            break;
        }
        let found = l.match_indices(&pat).find(|(p, _)| {
            l[..*p]
                .chars()
                .last()
                .is_none_or(|c| c == ' ' || c == '{' || c == ',')
        });
        if let Some((col, _)) = found {
            return format!("{yaml}:{}:{}", i + 1, col + 1);
        }
    }
    yaml.to_string()
}

/// Every manifest parses and names its apiVersion, kind and name.
fn check_manifests(dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![format!("{}: cannot read folder", dir.display())];
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
    {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        match crate::api::yaml::from_multiple(&text) {
            Err(e) => problems.push(yaml_error(f, &e).to_string()),
            Ok(docs) => {
                for (i, d) in docs.iter().enumerate() {
                    for field in ["apiVersion", "kind"] {
                        if d[field].as_str().is_none_or(str::is_empty) {
                            problems.push(format!(
                                "{}: document {}: missing {field}",
                                f.display(),
                                i + 1
                            ));
                        }
                    }
                    if d.pointer("/metadata/name")
                        .and_then(|n| n.as_str())
                        .is_none_or(str::is_empty)
                    {
                        problems.push(format!(
                            "{}: document {}: missing metadata.name",
                            f.display(),
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// String literals naming `manifests/...` in a script must exist.
fn check_manifest_refs(s: &Scenario, script: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(script) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("\"manifests/") {
            let lit = &rest[i + 1..];
            let end = lit.find('"').unwrap_or(lit.len());
            let rel = &lit[..end];
            if !s.dir.join(rel).exists() {
                problems.push(format!(
                    "{}:{}:{}: missing manifest {rel}",
                    script.display(),
                    n + 1,
                    line.len() - rest.len() + i + 1
                ));
            }
            rest = &lit[end.min(lit.len())..];
        }
    }
    problems
}
