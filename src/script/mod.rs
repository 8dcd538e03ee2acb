//! The sandboxed Rhai engine that runs scenario scripts (setup, solution,
//! shortcuts, Rhai rubric predicates) and the host API it offers them.
//!
//! The sandbox: operation, call-depth, string/array/map-size and
//! expression-depth limits, a deadline checked on every progress tick,
//! no `eval`, strict variables, and `import` only from the scenario's own
//! folder and the library's `scripts/` and `grading/`. Every failure is a
//! [`ScriptError`] that renders as one line `file:line:col: message`.
//!
//! Scripts reach the cluster only through [`host::Host`] (kube-rs), so a
//! scenario runs the same on every backend.

pub mod error;
pub mod host;
pub mod probe;
pub mod resolve;
pub mod target;

pub use error::ScriptError;
pub use host::Host;

use crate::sim::clock::Clock;
use rhai::{AST, Dynamic, Engine, Scope};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The sandbox's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    pub max_modules: usize,
    /// How long one script may run, host calls included.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 2_000_000,
            max_call_levels: 32,
            max_string_size: 1 << 20,
            max_array_size: 10_000,
            max_map_size: 10_000,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_modules: 32,
            deadline: Duration::from_secs(300),
        }
    }
}

/// Where a script lives and where it may import from.
#[derive(Debug, Clone)]
pub struct Roots {
    /// The scenario folder (relative imports and file names resolve here).
    pub scenario: PathBuf,
    /// The library root holding `scripts/` and `grading/`.
    pub library: PathBuf,
}

/// Builds the sandboxed engine. `clock` measures the deadline; `log`
/// receives `print`, `debug` and `log(...)` lines.
pub fn engine(
    limits: &Limits,
    roots: &Roots,
    clock: Arc<dyn Clock>,
    log: Arc<dyn Fn(&str) + Send + Sync>,
) -> Engine {
    let mut e = Engine::new();
    e.set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_modules(limits.max_modules)
        .set_strict_variables(true);
    e.disable_symbol("eval");
    e.set_module_resolver(resolve::RootedResolver::new(roots.clone()));
    let start = clock.now();
    let deadline = limits.deadline;
    e.on_progress(move |_ops| {
        let elapsed = clock.now().duration_since(start);
        if elapsed.as_secs_f64() > deadline.as_secs_f64() {
            Some(Dynamic::from(format!(
                "script ran longer than its {}s deadline",
                deadline.as_secs()
            )))
        } else {
            None
        }
    });
    let l = log.clone();
    e.on_print(move |s| l(s));
    let l = log;
    e.on_debug(move |s, _src, _pos| l(s));
    e
}

/// Compiles a script file (imports resolved now, so an import outside the
/// roots is a compile-time error too).
pub fn compile_file(engine: &Engine, path: &Path) -> Result<AST, ScriptError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScriptError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    compile_source(engine, &text, &path.display().to_string())
}

/// Compiles script text named `name` in messages.
pub fn compile_source(engine: &Engine, text: &str, name: &str) -> Result<AST, ScriptError> {
    let mut ast = engine
        .compile(text)
        .map_err(|e| ScriptError::from_parse(name, &e))?;
    ast.set_source(name);
    // Resolve imports now: an import outside the roots fails here.
    let resolved = engine
        .compile_into_self_contained(&Scope::new(), text)
        .map_err(|e| locate_import(ScriptError::from_eval(name, *e), text))?;
    let mut resolved = resolved;
    resolved.set_source(name);
    Ok(resolved)
}

/// Import errors found while resolving carry no position: point at the
/// `import` line that names the module.
fn locate_import(e: ScriptError, text: &str) -> ScriptError {
    match e {
        ScriptError::Runtime {
            file,
            line: 0,
            message,
            ..
        } if message.starts_with("import \"") => {
            let quoted = message
                .strip_prefix("import ")
                .and_then(|m| m.split(" is outside").next())
                .and_then(|m| m.split(':').next())
                .unwrap_or_default()
                .to_string();
            let (line, column) = text
                .lines()
                .enumerate()
                .find_map(|(n, l)| {
                    let i = l.find("import")?;
                    l.contains(&quoted).then_some((n + 1, i + 1))
                })
                .unwrap_or((0, 0));
            ScriptError::Runtime {
                file,
                line,
                column,
                message,
            }
        }
        other => other,
    }
}

/// Runs a compiled script, returning its value.
pub fn run(engine: &Engine, ast: &AST) -> Result<Dynamic, ScriptError> {
    let mut scope = Scope::new();
    let name = ast.source().unwrap_or("<script>").to_string();
    engine
        .eval_ast_with_scope::<Dynamic>(&mut scope, ast)
        .map_err(|e| ScriptError::from_eval(&name, *e))
}

#[cfg(test)]
mod tests;

/// Runs a scenario script file (relative to the scenario folder) against
/// the cluster: compiled and run on a blocking thread, host calls blocking
/// on the current runtime.
pub async fn run_scenario_file(
    host: Arc<Host>,
    roots: Roots,
    rel: &str,
    limits: Limits,
) -> Result<Dynamic, ScriptError> {
    let path = roots.scenario.join(rel);
    let handle = tokio::runtime::Handle::current();
    let out = tokio::task::spawn_blocking(move || {
        let log = host.log.clone();
        let mut e = engine(
            &limits,
            &roots,
            Arc::new(crate::sim::clock::WallClock::new(1.0)),
            log,
        );
        host::register(&mut e, host, handle);
        let ast = compile_file(&e, &path)?;
        run(&e, &ast)
    })
    .await;
    out.unwrap_or_else(|e| {
        Err(ScriptError::Io {
            path: PathBuf::from(rel),
            message: format!("script thread failed: {e}"),
        })
    })
}
