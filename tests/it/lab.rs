//! Running labs through the command line, each test in its own
//! `KDRILL_HOME`: start, status, check, hint, solve, reset, stop; the bad
//! input cases (no lab, two labs with one name, a lab whose process died,
//! unknown scenario, bad name, missing backend); `--shell`; and selftest
//! summaries. Every lab a test starts is stopped when the test ends, on
//! failure too.

use super::harness::Run;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An isolated `KDRILL_HOME`; its labs are stopped (then killed) on drop.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kdrill"));
        c.args(args)
            .env("KDRILL_HOME", self.dir.path())
            .env(
                "KDRILL_SCENARIOS",
                concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"),
            )
            .env("NO_COLOR", "1")
            .env_remove("KDRILL_LAB")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        c
    }

    fn kdrill(&self, args: &[&str]) -> Run {
        self.run(&mut self.cmd(args))
    }

    fn run(&self, c: &mut Command) -> Run {
        let out = c.output().expect("run kdrill");
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    fn labs(&self) -> PathBuf {
        self.dir.path().join("labs")
    }

    fn state(&self, name: &str) -> Value {
        let text =
            std::fs::read_to_string(self.labs().join(name).join("state.json")).expect("state.json");
        serde_json::from_str(&text).expect("state json")
    }

    /// The pids recorded by every lab.
    fn pids(&self) -> Vec<i32> {
        std::fs::read_dir(self.labs())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path().join("state.json")).ok())
                    .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
                    .filter_map(|v| v["pid"].as_i64())
                    .filter_map(|p| i32::try_from(p).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let pids = self.pids();
        let _ = self.cmd(&["stop", "--all"]).output();
        for pid in pids {
            if alive(pid) {
                // SAFETY: kill(2) with plain integers.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// Whether `pid` is a live (non-zombie) process.
fn alive(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Waits (up to 5s) for a process to be gone.
fn gone(pid: i32) -> bool {
    for _ in 0..100 {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn start_status_check_hint_solve_stop() {
    let home = Home::new();
    let r = home.kdrill(&["start", "service-selector-mismatch", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut started = json(&r.stdout);
    let kubeconfig = home.labs().join("kdrill").join("kubeconfig");
    // The lab's ingress host ports (kind's extraPortMappings 80/443): free
    // ports, different each run.
    let ports = started
        .as_object_mut()
        .and_then(|o| o.remove("ingressPorts"))
        .expect("ingressPorts");
    let port = |k: &str| ports[k].as_u64().filter(|p| *p > 0);
    assert!(port("http").is_some() && port("https").is_some(), "{ports}");
    assert_ne!(port("http"), port("https"));
    // The lab process serves them: without the ingress-nginx add-on nothing
    // listens on the node's port 80, so the connection closes empty.
    {
        use std::io::{Read, Write};
        let http = port("http").and_then(|p| u16::try_from(p).ok()).unwrap();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", http)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = Vec::new();
        assert_eq!(s.read_to_end(&mut out).map(|_| out.len()).ok(), Some(0));
    }
    assert_eq!(
        started,
        serde_json::json!({
            "name": "kdrill",
            "scenario": "service-selector-mismatch",
            "kubeconfig": kubeconfig,
            "backend": "sim",
        })
    );
    assert_eq!(
        r.stderr
            .lines()
            .filter(|l| l.starts_with(" ✓") || l.starts_with(" ✗"))
            .collect::<Vec<_>>(),
        [
            " ✓ Starting the simulated cluster 🖥",
            " ✓ Setting up service-selector-mismatch 🔧"
        ]
    );
    let st = home.state("kdrill");
    assert_eq!(st["scenario"], "service-selector-mismatch");
    assert_eq!(st["backend"], "sim");
    assert_eq!(st["hintsUsed"], 0);
    let pid = st["pid"].as_i64().unwrap() as i32;
    assert!(alive(pid), "the lab's server runs after start returned");

    let status = json(&home.kdrill(&["status", "--json"]).ok());
    assert_eq!(status[0]["name"], "kdrill");
    assert_eq!(status[0]["running"], true);
    assert_eq!(status[0]["ingressPorts"], ports);
    assert_eq!(status.as_array().unwrap().len(), 1);

    let r = home.kdrill(&["check"]);
    assert_eq!(r.code, 1, "a fresh lab fails its checks: {}", r.stderr);
    insta::assert_snapshot!("check_failing_selector", r.stdout);

    let r = home.kdrill(&["check", "--json"]);
    assert_eq!(r.code, 1);
    let graded = json(&r.stdout);
    assert_eq!(graded["scenario"], "service-selector-mismatch");
    assert_eq!(graded["summary"]["passed"], false);
    assert_eq!(
        graded["summary"]["requiredFailed"],
        serde_json::json!(["service-endpoints", "selector-matches"])
    );

    let hint = home.kdrill(&["hint"]).ok();
    assert!(
        hint.starts_with("Hint 1/2 (5 points): Compare the Service's endpoints"),
        "{hint}"
    );
    assert_eq!(home.state("kdrill")["hintsUsed"], 1);
    assert!(
        home.kdrill(&["hint"])
            .ok()
            .starts_with("Hint 2/2 (10 points)")
    );
    let r = home.kdrill(&["hint"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.trim()),
        (
            0,
            "",
            "no more hints: all 2 of service-selector-mismatch have been shown"
        )
    );

    home.kdrill(&["solve"]).ok();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("grade.xml");
    let md = dir.path().join("grade.md");
    // Give the pods time to start and the endpoints to follow, as a learner would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let r = loop {
        let r = home.kdrill(&[
            "check",
            "--junit",
            junit.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ]);
        // Both replicas ready, so the snapshot does not depend on timing.
        let settled = r.code == 0 && r.stdout.contains("has 2 ready endpoints");
        if settled || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    // The selector is fixed and the running pods are its endpoints.
    assert_eq!(r.code, 0, "the solved lab passes: {}{}", r.stdout, r.stderr);
    insta::assert_snapshot!("check_passing_selector", r.stdout);
    assert!(r.stdout.contains("15 taken off for hints"), "{}", r.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"The web Service selects the web pods\" classname=\"service-selector-mismatch.selector-matches\"/>"),
        "{xml}"
    );
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .starts_with("## The web Service answers nothing\n")
    );

    let r = home.kdrill(&["stop"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(" ✓ Stopping lab \"kdrill\""),
        "{}",
        r.stderr
    );
    assert!(gone(pid), "the server process is gone after stop");
    assert!(!home.labs().join("kdrill").exists());
    assert_eq!(
        json(&home.kdrill(&["status", "--json"]).ok()),
        serde_json::json!([])
    );
}

#[test]
fn check_hint_solve_stop_with_no_lab_are_one_line_errors() {
    let home = Home::new();
    for cmd in ["check", "hint", "solve", "stop", "reset"] {
        let r = home.kdrill(&[cmd]);
        assert_eq!(r.code, 2, "{cmd}");
        assert_eq!(
            r.stderr,
            "error: no lab is running; start one with `kdrill start <scenario>` (see `kdrill list`)\n",
            "{cmd}"
        );
    }
    let r = home.kdrill(&["check", "--name", "nope"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "error: no lab named \"nope\" is running (see `kdrill status`)\n"
        )
    );
    let r = home.kdrill(&["stop", "--all"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, "No labs to stop.\n"));
}

#[test]
fn two_labs_with_one_name_are_refused_and_other_names_run_side_by_side() {
    let home = Home::new();
    home.kdrill(&["start", "service-selector-mismatch", "--name", "one"])
        .ok();
    let before = home.state("one");
    let r = home.kdrill(&["start", "crashloop-missing-config-key", "--name", "one"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: a lab named \"one\" is already running (scenario service-selector-mismatch); stop it with `kdrill stop --name one` or pick another --name\n"
    );
    assert_eq!(home.state("one"), before, "the running lab is untouched");

    home.kdrill(&["start", "crashloop-missing-config-key", "--name", "two"])
        .ok();
    let r = home.kdrill(&["check"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "error: several labs are running (one, two); pick one with --name\n"
        )
    );
    let table = home.kdrill(&["status"]).ok();
    let rows: Vec<Vec<String>> = super::harness::rows(&table)
        .into_iter()
        .map(|r| r[..4].to_vec())
        .collect();
    assert_eq!(
        rows,
        [
            ["NAME", "SCENARIO", "BACKEND", "STATUS"],
            ["one", "service-selector-mismatch", "sim", "Running"],
            ["two", "crashloop-missing-config-key", "sim", "Running"],
        ]
    );
    let pids = home.pids();
    assert_eq!(pids.len(), 2);
    let r = home.kdrill(&["stop", "--all"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(pids.iter().all(|p| gone(*p)));
    assert_eq!(std::fs::read_dir(home.labs()).unwrap().count(), 0);
}

#[test]
fn a_lab_whose_process_died_is_reported_and_cleaned_up_by_stop() {
    let home = Home::new();
    home.kdrill(&["start", "service-selector-mismatch"]).ok();
    let pid = home.state("kdrill")["pid"].as_i64().unwrap() as i32;
    // SAFETY: kill(2) with plain integers.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    assert!(gone(pid));
    let r = home.kdrill(&["check"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        format!(
            "error: lab \"kdrill\": its cluster process (pid {pid}) is not running any more; `kdrill stop --name kdrill` cleans it up\n"
        )
    );
    let status = json(&home.kdrill(&["status", "--json"]).ok());
    assert_eq!(status[0]["running"], false);
    let r = home.kdrill(&["stop"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        format!(
            " ✓ Cleaned up lab \"kdrill\": its cluster process (pid {pid}) had already exited\n"
        )
    );
    assert!(!home.labs().join("kdrill").exists());
    // A new lab may take the name again.
    home.kdrill(&["start", "service-selector-mismatch"]).ok();
}

#[test]
fn start_rejects_unknown_scenarios_bad_names_and_missing_backends() {
    let home = Home::new();
    let r = home.kdrill(&["start", "no-such-drill"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "error: no scenario \"no-such-drill\" in the catalog (see `kdrill list`)\n"
        )
    );
    let r = home.kdrill(&["start", "service-selector-mismatch", "--name", "Bad_Name"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: invalid lab name \"Bad_Name\": use lowercase letters, digits and '-', starting with a letter (at most 40)\n"
    );
    let empty = tempfile::tempdir().unwrap();
    let r = home.run(
        home.cmd(&["start", "service-selector-mismatch", "--backend", "kind"])
            .env("PATH", empty.path()),
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.ends_with("error: backend kind unavailable: kind not found on PATH; install Docker and kind, or use --backend sim\n"),
        "{}",
        r.stderr
    );
    let missing = empty.path().join("missing-kubeconfig");
    let r = home.kdrill(&[
        "start",
        "service-selector-mismatch",
        "--backend",
        "kubeconfig",
        "--kubeconfig",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error: backend kubeconfig unavailable: cannot read"),
        "{}",
        r.stderr
    );
    // Nothing is left behind by a start that failed.
    assert_eq!(
        std::fs::read_dir(home.labs())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[test]
fn start_shell_runs_a_subshell_with_kubeconfig_and_stops_the_lab_after() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let shell = dir.path().join("shell.sh");
    std::fs::write(
        &shell,
        format!(
            "#!/bin/sh\necho \"$KUBECONFIG $KDRILL_LAB\" > {}\ncat \"$KUBECONFIG\" >/dev/null || exit 9\nexit 0\n",
            seen.display()
        ),
    )
    .unwrap();
    make_executable(&shell);
    let r = home.run(
        home.cmd(&[
            "start",
            "service-selector-mismatch",
            "--shell",
            "--name",
            "sh",
        ])
        .env("SHELL", &shell),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kubeconfig = home.labs().join("sh").join("kubeconfig");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        format!("{} sh\n", kubeconfig.display())
    );
    assert!(r.stderr.contains(" ✓ Stopping lab \"sh\""), "{}", r.stderr);
    assert!(!home.labs().join("sh").exists());
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn reset_gives_a_fresh_cluster_with_the_fault_again() {
    let home = Home::new();
    home.kdrill(&["start", "service-selector-mismatch"]).ok();
    home.kdrill(&["hint"]).ok();
    home.kdrill(&["solve"]).ok();
    let old = home.state("kdrill")["pid"].as_i64().unwrap() as i32;
    let r = home.kdrill(&["reset"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = home.state("kdrill");
    let new = st["pid"].as_i64().unwrap() as i32;
    assert_ne!(old, new);
    assert!(gone(old) && alive(new));
    assert_eq!(st["hintsUsed"], 1, "hints shown before a reset still count");
    let r = home.kdrill(&["check", "--json"]);
    assert_eq!(r.code, 1);
    let v = json(&r.stdout);
    assert_eq!(
        v["criteria"][1]["seen"],
        "selector #{\"app\": \"web-frontend\"} does not match pod labels #{\"app\": \"web\", \"tier\": \"frontend\"}"
    );
}

#[test]
fn selftest_summaries() {
    let home = Home::new();
    // Until the simulated kubelet runs pods, no Deployment becomes
    // available and no Service gets ready endpoints: the solutions cannot
    // pass yet, and selftest says so (these snapshots change when it does).
    let filters = vec![(
        r"\b([a-z]+(?:-[a-z]+)*)-[a-z0-9]{8,10}-[a-z0-9]{5}\b",
        "$1-<pod>",
    )];
    let r = home.kdrill(&["selftest", "service-selector-mismatch"]);
    insta::with_settings!({filters => filters.clone()}, {
        insta::assert_snapshot!("selftest_selector", format!("exit {}\n{}", r.code, r.stdout));
    });
    let r = home.kdrill(&["selftest"]);
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("selftest_all", format!("exit {}\n{}", r.code, r.stdout));
    });
    let r = home.kdrill(&["selftest", "--json"]);
    let v = json(&r.stdout);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "crashloop-missing-config-key",
            "pvc-wrong-storageclass",
            "quota-blocks-rollout",
            "rbac-missing-rolebinding",
            "service-selector-mismatch"
        ]
    );
    for s in v.as_array().unwrap() {
        let steps: Vec<(&str, bool)> = s["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| (st["step"].as_str().unwrap(), st["ok"].as_bool().unwrap()))
            .collect();
        assert_eq!(steps[0], ("fails-after-setup", true), "{s}");
        assert!(
            steps[2..]
                .iter()
                .all(|(n, ok)| n.starts_with("shortcut:") && *ok),
            "every shortcut is rejected: {s}"
        );
    }
    assert_eq!(
        r.code,
        if v.as_array().unwrap().iter().all(|s| s["passed"] == true) {
            0
        } else {
            1
        }
    );
    let r = home.kdrill(&["selftest", "nope"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "error: no scenario \"nope\" in the catalog (see `kdrill list`)\n"
        )
    );
    let r = home.kdrill(&["selftest", "--backend", "kind"]);
    assert_eq!(r.code, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selftest_bench_jumps_the_virtual_clock_to_the_progress_deadline() {
    let catalog = kdrill::scenario::Catalog {
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
    };
    let scenario = catalog.find("crashloop-missing-config-key").unwrap();
    let mut bench = kdrill::lab::selftest::Bench::start(&scenario, 1)
        .await
        .unwrap();
    let t0 = bench.now();
    bench.script("setup.rhai").await.unwrap();
    // Pods never become available here, so the Deployment's 600s
    // progress deadline passes: on the virtual clock, at once.
    let moved = bench.now().duration_since(t0);
    assert!(
        moved.as_secs() >= 600,
        "the clock moved {moved:?}, not past the deadline"
    );
    let d = bench
        .session()
        .host
        .get("deployment/api", None)
        .await
        .unwrap()
        .unwrap();
    let progressing = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["reason"], "ProgressDeadlineExceeded");
    let msg = progressing["message"].as_str().unwrap();
    assert!(
        msg.starts_with("ReplicaSet \"api-") && msg.ends_with("\" has timed out progressing."),
        "{msg}"
    );
}

#[test]
fn stop_cleans_up_a_lab_whose_start_never_finished() {
    let home = Home::new();
    std::fs::create_dir_all(home.labs().join("half")).unwrap();
    let r = home.kdrill(&["start", "service-selector-mismatch", "--name", "half"]);
    // A folder without state and without a server is a dead start: reused.
    assert_eq!(r.code, 0, "{}", r.stderr);
    home.kdrill(&["stop", "--name", "half"]).ok();
    std::fs::create_dir_all(home.labs().join("half")).unwrap();
    let r = home.kdrill(&["stop", "--name", "half"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (0, " ✓ Cleaned up lab \"half\": its start never finished\n")
    );
    assert!(!home.labs().join("half").exists());
}

/// A scenario library in a temporary folder with one scenario that needs
/// ingress-nginx: an Ingress for shop.example.com whose backend names a
/// Service that does not exist (503), fixed by naming the right one.
fn ingress_library() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("scenarios/ingress-demo");
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::create_dir_all(root.path().join("grading")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/grading/practice.yaml"),
        root.path().join("grading/practice.yaml"),
    )
    .unwrap();
    let files = [
        (
            "scenario.yaml",
            "id: ingress-demo\ntitle: Shop through the Ingress\nsummary: An Ingress backend names the wrong Service.\ndifficulty: beginner\nestimatedMinutes: 5\nnamespace: shop\ncluster:\n  nodes: 2\n  addons: [ingress-nginx]\nrubric:\n  criteria:\n    - id: through-ingress\n      title: shop.example.com answers through the Ingress\n      points: 100\n      required: true\n      check:\n        httpGet:\n          url: http://ingress-nginx-controller.ingress-nginx/\n          host: shop.example.com\n          bodyContains: shop\n",
        ),
        ("task.md", "# Shop\n\nshop.example.com answers 503.\n"),
        ("setup.rhai", "apply(\"manifests\");\n"),
        (
            "solution.rhai",
            "patch(\"ingress/shop\", [#{ op: \"replace\", path: \"/spec/rules/0/http/paths/0/backend/service/name\", value: \"shop\" }], \"json\");\n",
        ),
        (
            "manifests/00-namespace.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        ),
        (
            "manifests/10-app.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shop\n  namespace: shop\n  labels: {app: shop}\nspec:\n  containers:\n  - name: shop\n    image: registry.k8s.io/e2e-test-images/agnhost:2.40\n    args: [\"serve-hostname\", \"--port\", \"8080\"]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n  selector: {app: shop}\n  ports: [{port: 80, targetPort: 8080}]\n",
        ),
        (
            "manifests/20-ingress.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: shopp\n            port:\n              number: 80\n",
        ),
    ];
    for (rel, text) in files {
        std::fs::write(dir.join(rel), text).unwrap();
    }
    root
}

#[test]
fn a_scenario_with_the_ingress_addon_starts_with_the_controller_running() {
    let home = Home::new();
    let lib = ingress_library();
    let scenarios = lib.path().join("scenarios");
    let with_lib = |args: &[&str]| {
        let mut c = home.cmd(args);
        c.env("KDRILL_SCENARIOS", &scenarios);
        home.run(&mut c)
    };
    let r = with_lib(&["validate", scenarios.join("ingress-demo").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = with_lib(&["start", "ingress-demo", "--time-scale", "20"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr
            .lines()
            .filter(|l| l.starts_with(" ✓") || l.starts_with(" ✗"))
            .collect::<Vec<_>>(),
        [
            " ✓ Starting the simulated cluster 🖥",
            " ✓ Installing add-on ingress-nginx",
            " ✓ Setting up ingress-demo 🔧"
        ]
    );
    // Where kind's ingress host ports are, as `start` says and `status
    // --json` records.
    let status = json(&home.kdrill(&["status", "--json"]).ok());
    let port = |k: &str| {
        status[0]["ingressPorts"][k]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("{status}"))
    };
    let (http, https) = (port("http"), port("https"));
    assert!(
        r.stderr.contains(&format!(
            "Ingress (kind's host ports 80/443): curl http://localhost:{http}/ -H 'Host: <host>'; HTTPS on localhost:{https}\n"
        )),
        "{}",
        r.stderr
    );
    let from_host = || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", http)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.lines().next().unwrap_or_default().to_string()
    };
    assert_eq!(from_host(), "HTTP/1.1 503 Service Temporarily Unavailable");
    let kubeconfig = home.labs().join("kdrill").join("kubeconfig");
    let kubectl = |args: &[&str]| {
        let out = Command::new(super::harness::kubectl_binary())
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .expect("kubectl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let pods = kubectl(&[
        "-n",
        "ingress-nginx",
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/component=controller",
        "-o",
        "jsonpath={.items[*].status.phase} {.items[*].status.containerStatuses[0].ready}",
    ]);
    assert_eq!(pods, "Running true");
    assert_eq!(
        kubectl(&["get", "nodes", "-l", "ingress-ready=true", "-o", "name"]),
        "node/kdrill-control-plane\n"
    );
    assert_eq!(
        kubectl(&["get", "ingressclass", "-o", "name"]),
        "ingressclass.networking.k8s.io/nginx\n"
    );
    // The rubric probes through the controller with the rule's Host.
    let r = with_lib(&["check", "--json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let graded = json(&r.stdout);
    let seen = graded["criteria"][0]["seen"].as_str().unwrap_or_default();
    assert_eq!(
        seen,
        "GET http://ingress-nginx-controller.ingress-nginx/ (Host: shop.example.com): HTTP 503, want HTTP 200"
    );
    with_lib(&["solve"]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let r = loop {
        let r = with_lib(&["check"]);
        if r.code == 0 || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(from_host(), "HTTP/1.1 200 OK");
    // A reset is a fresh simulated cluster: the add-on comes back with it.
    let r = with_lib(&["reset"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(" ✓ Installing add-on ingress-nginx"),
        "{}",
        r.stderr
    );
    assert_eq!(with_lib(&["check"]).code, 1);
    assert_eq!(with_lib(&["stop"]).code, 0);
    // The self-test installs the add-on on its virtual-clock cluster too.
    let r = with_lib(&["selftest", "ingress-demo"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
