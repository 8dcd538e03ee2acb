//! The import direction of DESIGN.md, checked on the source: each layer
//! names only the layers beneath it. Scenario scripts and grading reach the
//! cluster through the Kubernetes API, never through simulator internals.

use std::path::Path;

/// Which `crate::` paths each top-level module may use besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("api", &[]),
    ("store", &["api"]),
    ("registry", &["api", "store", "sim::clock", "sim::rng"]),
    (
        "server",
        &["api", "store", "registry", "sim::clock", "sim::rng"],
    ),
    // The in-pod kubectl is an API client: the kubelet's `api_client` asks
    // the server's authenticator, authorizer and table printer directly
    // rather than over HTTP, so RBAC is decided in one place.
    (
        "sim",
        &[
            "api",
            "store",
            "registry",
            "server::auth",
            "server::authz",
            "server::table",
        ],
    ),
    ("script", &["api", "sim::clock"]),
    ("scenario", &["api", "script", "sim::clock"]),
    ("grade", &["api", "script", "scenario", "sim::clock"]),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn layers_import_only_what_lies_beneath_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        rust_files(&src.join(module), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                let mut rest = line;
                while let Some(at) = rest.find("crate::") {
                    let path: String = rest[at + 7..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    rest = &rest[at + 7..];
                    if path.starts_with(module) || path.is_empty() {
                        continue;
                    }
                    if !allowed.iter().any(|a| {
                        path == *a
                            || path.starts_with(&format!("{a}::"))
                            || path.starts_with(&format!("{a}{{"))
                    }) {
                        violations.push(format!(
                            "{}:{}: {module} uses crate::{path}",
                            file.display(),
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}
