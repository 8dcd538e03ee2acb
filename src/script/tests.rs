//! Sandbox tests: limits, deadline, eval, imports, error lines. No cluster.

use super::*;
use crate::sim::clock::WallClock;

fn roots(dir: &Path) -> Roots {
    Roots {
        scenario: dir.join("scenarios/demo"),
        library: dir.to_path_buf(),
    }
}

fn setup() -> (tempfile::TempDir, Engine) {
    let t = tempfile::tempdir().unwrap();
    for d in ["scenarios/demo", "scripts", "grading"] {
        std::fs::create_dir_all(t.path().join(d)).unwrap();
    }
    let limits = Limits {
        max_operations: 50_000,
        ..Limits::default()
    };
    let e = engine(
        &limits,
        &roots(t.path()),
        Arc::new(WallClock::new(1.0)),
        Arc::new(|_| {}),
    );
    (t, e)
}

fn run_text(e: &Engine, text: &str) -> Result<Dynamic, ScriptError> {
    let ast = compile_source(e, text, "setup.rhai")?;
    run(e, &ast)
}

#[test]
fn endless_loop_is_stopped_with_a_clear_line() {
    let (_t, e) = setup();
    let err = run_text(&e, "let x = 0;\nloop { x += 1; }").unwrap_err();
    assert!(matches!(err, ScriptError::Limit { .. }));
    assert_eq!(
        err.to_string(),
        "setup.rhai:2:8: too many operations: the script was stopped (an endless loop?)"
    );
}

#[test]
fn deadline_stops_a_slow_script() {
    let t = tempfile::tempdir().unwrap();
    let limits = Limits {
        deadline: Duration::from_millis(0),
        ..Limits::default()
    };
    let e = engine(
        &limits,
        &roots(t.path()),
        Arc::new(WallClock::new(1.0)),
        Arc::new(|_| {}),
    );
    let err = run_text(&e, "let x = 0; while x < 1000000 { x += 1; }").unwrap_err();
    assert!(
        err.to_string()
            .contains("script ran longer than its 0s deadline"),
        "{err}"
    );
}

#[test]
fn deep_recursion_overflows() {
    let (_t, e) = setup();
    let err = run_text(&e, "fn f(n) { f(n + 1) }\nf(0)").unwrap_err();
    assert!(err.to_string().contains("stack overflow"), "{err}");
}

#[test]
fn eval_is_disabled() {
    let (_t, e) = setup();
    let err = run_text(&e, "eval(\"1\")").unwrap_err();
    assert!(matches!(err, ScriptError::Syntax { .. }), "{err}");
    assert!(
        err.to_string().starts_with("setup.rhai:1:1: syntax error:"),
        "{err}"
    );
}

#[test]
fn syntax_error_has_a_position() {
    let (_t, e) = setup();
    let err = run_text(&e, "let x = ;").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("setup.rhai:1:9: syntax error: "),
        "{err}"
    );
}

#[test]
fn strings_are_bounded() {
    let (_t, e) = setup();
    let err = run_text(&e, "let s = \"x\"; loop { s += s; }").unwrap_err();
    assert!(matches!(err, ScriptError::Limit { .. }), "{err}");
    assert!(
        err.to_string().contains("too large") || err.to_string().contains("too many operations"),
        "{err}"
    );
}

#[test]
fn imports_resolve_inside_roots_only() {
    let (t, e) = setup();
    std::fs::write(t.path().join("scripts/faults.rhai"), "fn answer() { 42 }").unwrap();
    std::fs::write(t.path().join("scenarios/demo/local.rhai"), "fn two() { 2 }").unwrap();
    std::fs::write(t.path().join("secret.rhai"), "fn x() { 1 }").unwrap();
    let v = run_text(
        &e,
        "import \"scripts/faults\" as f;\nimport \"local\" as l;\nf::answer() + l::two()",
    )
    .unwrap();
    assert_eq!(v.as_int().unwrap(), 44);
    let err = run_text(&e, "import \"../../secret\" as s;\ns::x()").unwrap_err();
    assert_eq!(
        err.to_string(),
        "setup.rhai:1:1: import \"../../secret\" is outside the scenario folder, scripts/ and grading/"
    );
    let err = run_text(&e, "import \"/etc/passwd\" as s;").unwrap_err();
    assert!(
        err.to_string().contains("is outside the scenario folder"),
        "{err}"
    );
}

#[test]
fn print_goes_to_the_log() {
    let t = tempfile::tempdir().unwrap();
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let l = lines.clone();
    let e = engine(
        &Limits::default(),
        &roots(t.path()),
        Arc::new(WallClock::new(1.0)),
        Arc::new(move |s| l.lock().unwrap().push(s.to_string())),
    );
    let _ = run_text(&e, "print(\"hello\");").unwrap();
    assert_eq!(*lines.lock().unwrap(), ["hello"]);
}

#[test]
fn undefined_variables_fail_at_compile_time() {
    let (_t, e) = setup();
    let err = run_text(&e, "let a = 1;\nb + a").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("setup.rhai:2:1: syntax error: "),
        "{err}"
    );
}
