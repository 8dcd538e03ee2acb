//! Script errors, each one line: `file:line:col: message`.

use rhai::{EvalAltResult, ParseError, Position};
use std::path::PathBuf;

/// Why a script did not run to the end.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScriptError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: syntax error: {message}", at(file, *line, *column))]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", at(file, *line, *column))]
    Runtime {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The script hit a sandbox limit or its deadline.
    #[error("{}: {message}", at(file, *line, *column))]
    Limit {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
}

fn at(file: &str, line: usize, column: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}:{column}")
    }
}

fn pos(p: Position) -> (usize, usize) {
    (p.line().unwrap_or(0), p.position().unwrap_or(0))
}

impl ScriptError {
    pub fn from_parse(file: &str, e: &ParseError) -> Self {
        let (line, column) = pos(e.position());
        ScriptError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.err_type().to_string(),
        }
    }

    /// Unwraps nested function-call and module errors to the innermost
    /// cause, keeping the file it happened in.
    pub fn from_eval(file: &str, e: EvalAltResult) -> Self {
        let mut file = file.to_string();
        let mut e = e;
        loop {
            match e {
                EvalAltResult::ErrorInFunctionCall(_, src, inner, _) => {
                    if !src.is_empty() {
                        file = src;
                    }
                    e = *inner;
                }
                EvalAltResult::ErrorInModule(m, inner, _) => {
                    if !m.is_empty() {
                        file = m;
                    }
                    e = *inner;
                }
                EvalAltResult::ErrorParsing(pe, p) => {
                    let (line, column) = pos(p);
                    return ScriptError::Syntax {
                        file,
                        line,
                        column,
                        message: pe.to_string(),
                    };
                }
                other => {
                    let (line, column) = pos(other.position());
                    let (limit, message) = match &other {
                        EvalAltResult::ErrorTooManyOperations(_) => (
                            true,
                            "too many operations: the script was stopped (an endless loop?)".into(),
                        ),
                        EvalAltResult::ErrorStackOverflow(_) => {
                            (true, "stack overflow: calls nested too deeply".into())
                        }
                        EvalAltResult::ErrorTerminated(why, _) => (true, why.to_string()),
                        EvalAltResult::ErrorDataTooLarge(what, _) => {
                            (true, format!("{what} too large"))
                        }
                        EvalAltResult::ErrorTooManyModules(_) => {
                            (true, "too many modules imported".into())
                        }
                        EvalAltResult::ErrorRuntime(d, _) if d.is_string() => {
                            (false, d.to_string())
                        }
                        EvalAltResult::ErrorModuleNotFound(m, _) => {
                            (false, format!("module not found: {m}"))
                        }
                        o => (false, first_line(&o.to_string())),
                    };
                    let message = strip_position(&message);
                    return if limit {
                        ScriptError::Limit {
                            file,
                            line,
                            column,
                            message,
                        }
                    } else {
                        ScriptError::Runtime {
                            file,
                            line,
                            column,
                            message,
                        }
                    };
                }
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Drops Rhai's own ` (line N, position M)` suffix.
fn strip_position(s: &str) -> String {
    match s.rfind(" (line ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s.to_string(),
    }
}
