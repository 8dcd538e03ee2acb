//! `import` inside the sandbox: only files under the scenario folder and
//! the library's `scripts/` and `grading/`.
//!
//! `import "scripts/faults"` and `import "grading/checks"` name library
//! files; any other path is relative to the scenario folder. `.rhai` is
//! added when missing.

use super::Roots;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};
use std::path::{Path, PathBuf};

/// The sandbox's module resolver.
pub struct RootedResolver {
    roots: Roots,
}

impl RootedResolver {
    pub fn new(roots: Roots) -> Self {
        Self { roots }
    }

    /// The file an import names, if it lies inside the allowed roots.
    pub fn locate(&self, path: &str) -> Result<PathBuf, String> {
        let mut rel = path.to_string();
        if !rel.ends_with(".rhai") {
            rel.push_str(".rhai");
        }
        let outside =
            || format!("import {path:?} is outside the scenario folder, scripts/ and grading/");
        if Path::new(&rel).is_absolute() {
            return Err(outside());
        }
        let candidate = if rel.starts_with("scripts/") || rel.starts_with("grading/") {
            self.roots.library.join(&rel)
        } else {
            self.roots.scenario.join(&rel)
        };
        let allowed = [
            self.roots.scenario.clone(),
            self.roots.library.join("scripts"),
            self.roots.library.join("grading"),
        ];
        // First by the path as written (`..` folded), so that a path
        // outside is refused whether or not it exists...
        let lexical = normalize(&candidate);
        if !allowed.iter().any(|r| lexical.starts_with(normalize(r))) {
            return Err(outside());
        }
        // ...then by the real path, so that a symlink cannot lead out.
        let real = candidate
            .canonicalize()
            .map_err(|_| format!("import {path:?}: no file {}", candidate.display()))?;
        if allowed
            .iter()
            .filter_map(|r| r.canonicalize().ok())
            .any(|r| real.starts_with(r))
        {
            Ok(real)
        } else {
            Err(outside())
        }
    }
}

/// Folds `.` and `..` without touching the filesystem.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl rhai::ModuleResolver for RootedResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let file = self
            .locate(path)
            .map_err(|m| Box::new(EvalAltResult::ErrorRuntime(m.into(), pos)))?;
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Box::new(EvalAltResult::ErrorRuntime(
                format!("{}: {e}", file.display()).into(),
                pos,
            ))
        })?;
        let name = file.display().to_string();
        let mut ast = engine
            .compile(&text)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(name.clone(), e.into(), pos)))?;
        ast.set_source(name.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(name, e, pos)))?;
        Ok(module.into())
    }
}
