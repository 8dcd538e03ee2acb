//! Scenarios end to end against `kdrill sim serve`: the Rhai host API,
//! setup and solution scripts, the grade engine, shortcuts; and the
//! `list`, `show` and `validate` commands with bad input.

use super::harness::Sim;
use kdrill::grade::{Grader, Profile};
use kdrill::scenario::{Catalog, Scenario};
use kdrill::script::{self, Host, Limits, Roots};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

fn catalog() -> Catalog {
    Catalog {
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
    }
}

async fn client(sim: &Sim) -> Client {
    let kc = Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

struct Lab {
    host: Arc<Host>,
    scenario: Scenario,
    log: Arc<Mutex<Vec<String>>>,
}

impl Lab {
    async fn new(sim: &Sim, id: &str) -> Self {
        let scenario = catalog().find(id).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut host = Host::new(
            client(sim).await,
            scenario.namespace(),
            scenario.dir.clone(),
        );
        let l = log.clone();
        host.log = Arc::new(move |s| l.lock().unwrap().push(s.to_string()));
        host.poll = std::time::Duration::from_millis(20);
        Self {
            host: Arc::new(host),
            scenario,
            log,
        }
    }

    async fn script(&self, rel: &str) -> Result<rhai::Dynamic, script::ScriptError> {
        let roots = Roots {
            scenario: self.scenario.dir.clone(),
            library: self.scenario.root.clone(),
        };
        script::run_scenario_file(self.host.clone(), roots, rel, Limits::default()).await
    }

    async fn grade(&self) -> (Vec<kdrill::grade::CriterionResult>, kdrill::grade::Summary) {
        let mut g = Grader::new(self.host.clone(), self.scenario.clone(), Profile::default());
        g.hold_scale = 0.0;
        g.run(|_| {}).await
    }
}

fn verdicts(results: &[kdrill::grade::CriterionResult]) -> Vec<(String, bool, String)> {
    results
        .iter()
        .map(|r| (r.id.clone(), r.pass, r.seen.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_mismatch_fails_after_setup_and_passes_after_solution_with_endpoints() {
    // Virtual clock: the pods become Ready and the EndpointSlice controller
    // publishes them only when the test moves time, so the counts are exact.
    let sim = Sim::start_virtual();
    let lab = Lab::new(&sim, "service-selector-mismatch").await;
    let _ = lab.script("setup.rhai").await.unwrap();
    sim.advance("60s");
    // Both web pods run, but the Service's slice lists none of them.
    let ready = sim
        .kubectl(&[
            "get",
            "pods",
            "-n",
            "web",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].status.phase}",
        ])
        .ok();
    assert_eq!(ready, "Running Running");
    assert_eq!(
        *lab.log.lock().unwrap(),
        ["service/web now selects app=web-frontend"]
    );

    let (results, summary) = lab.grade().await;
    assert!(!summary.passed);
    assert_eq!(
        verdicts(&results),
        [
            ("service-endpoints".into(), false, "service/web has no ready endpoints (selector app=web-frontend)".into()),
            ("selector-matches".into(), false, "selector #{\"app\": \"web-frontend\"} does not match pod labels #{\"app\": \"web\", \"tier\": \"frontend\"}".into()),
            ("pods-kept".into(), true, "spec.template.metadata.labels.app is \"web\"".into()),
        ]
    );
    assert_eq!(
        summary.required_failed,
        ["service-endpoints", "selector-matches"]
    );

    let _ = lab.script("solution.rhai").await.unwrap();
    // The EndpointSlice controller reacts to the fixed selector on the next
    // step of the clock and lists both Ready pods.
    sim.advance("1s");
    let (results, summary) = lab.grade().await;
    assert!(summary.passed, "{:?}", verdicts(&results));
    assert_eq!((summary.score, summary.total), (100, 100));
    assert_eq!(results[0].seen, "service/web has 2 ready endpoints");

    let _ = lab.script("shortcuts/relabel-workload.rhai").await.unwrap();
    let (results, summary) = lab.grade().await;
    assert!(!summary.passed);
    assert_eq!(
        results[2].seen,
        "spec.template.metadata.labels.app is \"web-frontend\", want \"web\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashloop_setup_removes_the_key_and_shortcuts_trip_anti_shortcut_criteria() {
    let sim = Sim::start();
    let lab = Lab::new(&sim, "crashloop-missing-config-key").await;
    let _ = lab.script("setup.rhai").await.unwrap();
    let keys = sim
        .kubectl(&[
            "get",
            "configmap",
            "app-config",
            "-n",
            "shop",
            "-o",
            "jsonpath={.data}",
        ])
        .ok();
    assert_eq!(keys, r#"{"LOG_LEVEL":"info"}"#);

    let (results, summary) = lab.grade().await;
    assert!(!summary.passed);
    let v = verdicts(&results);
    assert_eq!(
        v[2],
        (
            "config-key-present".into(),
            false,
            "app-config keys: [\"LOG_LEVEL\"]".into()
        )
    );
    assert!(
        v[3].1 && v[4].1,
        "anti-shortcut criteria hold after setup: {v:?}"
    );

    let _ = lab.script("solution.rhai").await.unwrap();
    let (results, _) = lab.grade().await;
    assert!(results[2].pass, "{:?}", verdicts(&results));
    // Pods do not run in the simulator yet, so availability cannot pass here.

    let _ = lab.script("shortcuts/hardcode-env.rhai").await.unwrap();
    let (results, _) = lab.grade().await;
    assert_eq!(
        (results[4].pass, results[4].seen.as_str()),
        (
            false,
            "container api sets DATABASE_URL=postgres://orders@db.shop.svc:5432/orders itself"
        )
    );
    let _ = lab.script("shortcuts/swap-image.rhai").await.unwrap();
    let (results, _) = lab.grade().await;
    assert_eq!(
        results[3].seen,
        "spec.template.spec.containers[0].image is \"nginx:1.27\", want \"busybox:1.36\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_api_covers_list_selectors_scale_wait_delete_and_can_i() {
    // Virtual clock: no controller acts until time moves, so the Deployment
    // can never become Available while wait_for below waits.
    let sim = Sim::start_virtual();
    let lab = Lab::new(&sim, "service-selector-mismatch").await;
    let _ = lab.script("setup.rhai").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Scenario {
        dir: dir.path().to_path_buf(),
        root: dir.path().to_path_buf(),
        ..lab.scenario.clone()
    };
    let lab = Lab { scenario: s, ..lab };
    std::fs::write(
        dir.path().join("probe.rhai"),
        r#"
let svcs = list("svc", #{ fields: "metadata.name=web" });
let none = list("deploy", #{ labels: "app=nothing" });
scale("deploy/web", 5);
let replicas = get("deployment/web").spec.replicas;
let admin = can_i("system:serviceaccount:web:default", "delete", "pods");
let kube_admin = can_i("system:serviceaccount:kube-system:default", "list", "nodes");
apply(#{ apiVersion: "v1", kind: "ConfigMap", metadata: #{ name: "c" }, data: #{ a: "1" } });
wait_for("configmap/c", "exists", 5);
let deleted = delete("configmap/c");
let again = delete("configmap/c");
wait_for("configmap/c", "delete", 5);
[svcs.len(), none.len(), replicas, admin, deleted, again, exists("svc/web"), namespace()]
"#,
    )
    .unwrap();
    let v = lab.script("probe.rhai").await.unwrap();
    // can-i answers as kubectl's `auth can-i --as` does against the same server.
    let kubectl = sim
        .kubectl(&[
            "auth",
            "can-i",
            "delete",
            "pods",
            "-n",
            "web",
            "--as",
            "system:serviceaccount:web:default",
        ])
        .stdout;
    let admin = kubectl.trim() == "yes";
    assert_eq!(
        v.to_string(),
        format!("[1, 0, 5, {admin}, true, false, true, \"web\"]")
    );
    let _ = std::fs::write(
        dir.path().join("wait.rhai"),
        "wait_for(\"deploy/web\", \"Available\", 1);",
    );
    let err = lab.script("wait.rhai").await.unwrap_err().to_string();
    assert!(
        err.ends_with(
            "wait.rhai:1:1: timed out after 1s waiting for the condition Available on deploy/web"
        ),
        "{err}"
    );
    let _ = std::fs::write(
        dir.path().join("missing.rhai"),
        "apply(\"manifests/nope.yaml\");",
    );
    let err = lab.script("missing.rhai").await.unwrap_err().to_string();
    assert!(
        err.contains("missing.rhai:1:1: ") && err.contains("nope.yaml: No such file or directory"),
        "{err}"
    );
    let _ = std::fs::write(dir.path().join("kind.rhai"), "get(\"widgets/x\")");
    let err = lab.script("kind.rhai").await.unwrap_err().to_string();
    assert!(
        err.ends_with("kind.rhai:1:1: the server doesn't have a resource type \"widgets\""),
        "{err}"
    );
}

// ---- the command line ----

fn kdrill(args: &[&str], scenarios: &Path) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_kdrill"))
        .args(args)
        .env("KDRILL_SCENARIOS", scenarios)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn list_and_show_snapshots() {
    let dir = catalog().dir;
    let (out, err, code) = kdrill(&["list"], &dir);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("scenario_list", out);
    let (out, _, code) = kdrill(&["list", "--json"], &dir);
    assert_eq!(code, 0);
    insta::assert_snapshot!("scenario_list_json", out);
    let (out, _, code) = kdrill(&["show", "crashloop-missing-config-key"], &dir);
    assert_eq!(code, 0);
    insta::assert_snapshot!("scenario_show", out);
    let (_, err, code) = kdrill(&["show", "nope"], &dir);
    assert_eq!(
        (err.as_str(), code),
        (
            "error: no scenario \"nope\" in the catalog (see `kdrill list`)\n",
            2
        )
    );
}

#[test]
fn shipped_scenarios_validate() {
    let (out, err, code) = kdrill(&["validate"], &catalog().dir);
    assert_eq!(code, 0, "{err}");
    let root = format!("{}/", catalog().dir.parent().unwrap().display());
    let ok: Vec<String> = out.lines().map(|l| l.replacen(&root, "", 1)).collect();
    assert_eq!(
        ok,
        [
            "ok scenarios/crashloop-missing-config-key",
            "ok scenarios/pvc-wrong-storageclass",
            "ok scenarios/quota-blocks-rollout",
            "ok scenarios/rbac-missing-rolebinding",
            "ok scenarios/service-selector-mismatch",
        ]
    );
}

/// A copy of a shipped scenario in a fresh catalog, broken by `edit`.
fn broken(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let src = catalog().dir.join("service-selector-mismatch");
    let dst = t.path().join("scenarios/service-selector-mismatch");
    copy_dir(&src, &dst);
    copy_dir(&catalog().dir.join("../grading"), &t.path().join("grading"));
    edit(&dst);
    (t, dst)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

fn replace(path: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, s.replacen(from, to, 1)).unwrap();
}

/// Runs `kdrill validate DIR`; returns stderr with the temp dir redacted.
fn validate_err(t: &tempfile::TempDir, dir: &Path) -> (String, i32) {
    let (_, err, code) = kdrill(&["validate", dir.to_str().unwrap()], dir);
    (err.replace(&t.path().display().to_string(), "<TMP>"), code)
}

type Edit = Box<dyn FnOnce(&Path)>;

#[test]
fn bad_scenarios_give_one_line_errors_and_exit_2() {
    let cases: Vec<(&str, Edit)> = vec![
        (
            "yaml_error",
            Box::new(|d| {
                replace(
                    &d.join("scenario.yaml"),
                    "tags: [services, endpoints, labels]",
                    "tags: [services, endpoints",
                )
            }),
        ),
        (
            "unknown_check_kind",
            Box::new(|d| {
                replace(
                    &d.join("scenario.yaml"),
                    "serviceEndpoints: {name: web}",
                    "httpHead: {url: http://web}",
                )
            }),
        ),
        (
            "http_get_unknown_field",
            Box::new(|d| {
                replace(
                    &d.join("scenario.yaml"),
                    "serviceEndpoints: {name: web}",
                    "httpGet: {url: http://web, bodyContain: Welcome}",
                )
            }),
        ),
        (
            "http_get_bad_url_and_status",
            Box::new(|d| {
                replace(
                    &d.join("scenario.yaml"),
                    "serviceEndpoints: {name: web}",
                    "httpGet: {url: web, status: 42}",
                )
            }),
        ),
        (
            "dns_resolves_missing_name",
            Box::new(|d| {
                replace(
                    &d.join("scenario.yaml"),
                    "serviceEndpoints: {name: web}",
                    "dnsResolves: {namespace: web}",
                )
            }),
        ),
        (
            "missing_manifest",
            Box::new(|d| std::fs::remove_file(d.join("manifests/20-service.yaml")).unwrap()),
        ),
        (
            "rhai_syntax_error",
            Box::new(|d| replace(&d.join("solution.rhai"), "\"json\");", "\"json\"")),
        ),
        (
            "import_outside_roots",
            Box::new(|d| {
                replace(
                    &d.join("grading/selector-matches.rhai"),
                    "import \"grading/checks\"",
                    "import \"../../../etc/passwd\"",
                )
            }),
        ),
        (
            "image_behaviour_unknown_field",
            Box::new(|d| {
                let path = d.join("scenario.yaml");
                let mut text = std::fs::read_to_string(&path).unwrap();
                text.push_str("images:\n  registry.example.com/shop/web:\n    ports: [8080]\n    readyAfter: 3\n");
                std::fs::write(path, text).unwrap();
            }),
        ),
        (
            "missing_shortcut_script",
            Box::new(|d| std::fs::remove_file(d.join("shortcuts/relabel-workload.rhai")).unwrap()),
        ),
    ];
    for (name, edit) in cases {
        let (t, dir) = broken(edit);
        let (err, code) = validate_err(&t, &dir);
        assert_eq!(code, 2, "{name}: {err}");
        insta::assert_snapshot!(format!("validate_{name}"), err);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_setup_script_stops_with_a_clear_error() {
    let sim = Sim::start();
    let (_t, dir) =
        broken(|d| std::fs::write(d.join("setup.rhai"), "let n = 0;\nloop { n += 1; }\n").unwrap());
    let scenario = Scenario::load(&dir, None).unwrap();
    let host = Arc::new(Host::new(client(&sim).await, "web", dir.clone()));
    let roots = Roots {
        scenario: dir.clone(),
        library: scenario.root.clone(),
    };
    let err = script::run_scenario_file(host, roots, "setup.rhai", Limits::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(
            "setup.rhai:2:8: too many operations: the script was stopped (an endless loop?)"
        ),
        "{err}"
    );
}
