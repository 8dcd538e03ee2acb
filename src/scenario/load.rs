//! Reading scenario folders and the catalog that holds them.

use super::model::ScenarioSpec;
use std::path::{Path, PathBuf};

/// A scenario read from its folder.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario folder.
    pub dir: PathBuf,
    /// The library root: the folder holding `scripts/` and `grading/`
    /// (the parent of the catalog folder).
    pub root: PathBuf,
    pub spec: ScenarioSpec,
    /// `task.md`, empty when missing (validation reports that).
    pub task: String,
}

/// Why a scenario could not be read. Each renders as one line starting
/// with the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{}: id {id:?} does not match the folder name {folder:?}", path.display())]
    IdMismatch {
        path: PathBuf,
        id: String,
        folder: String,
    },
    #[error("no scenario {0:?} in the catalog (see `kdrill list`)")]
    NotFound(String),
}

impl LoadError {
    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            LoadError::Io { path, .. }
            | LoadError::Yaml { path, .. }
            | LoadError::IdMismatch { path, .. } => Some(path),
            LoadError::NotFound(_) => None,
        }
    }
}

/// Turns a serde-saphyr error into file, line, column and message.
pub fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> LoadError {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let text = e.without_snippet().to_string();
    let suffix = format!(" at line {line}, column {column}");
    let message = text
        .strip_suffix(&suffix)
        .unwrap_or(&text)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    LoadError::Yaml {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl Scenario {
    /// Reads `dir/scenario.yaml` and `dir/task.md`. `root` is the library
    /// root; when `None` it is the folder above the catalog folder.
    pub fn load(dir: &Path, root: Option<&Path>) -> Result<Self, LoadError> {
        let file = dir.join("scenario.yaml");
        let text = read(&file)?;
        let spec: ScenarioSpec =
            serde_saphyr::from_str(&text).map_err(|e| yaml_error(&file, &e))?;
        let folder = dir
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !folder.is_empty() && folder != spec.id {
            return Err(LoadError::IdMismatch {
                path: file,
                id: spec.id,
                folder,
            });
        }
        let task = std::fs::read_to_string(dir.join("task.md")).unwrap_or_default();
        let root = match root {
            Some(r) => r.to_path_buf(),
            None => dir
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            root,
            spec,
            task,
        })
    }

    /// A path inside the scenario folder.
    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The scenario's namespace.
    pub fn namespace(&self) -> &str {
        &self.spec.namespace
    }

    /// Points in all.
    pub fn total_points(&self) -> u32 {
        self.spec.rubric.criteria.iter().map(|c| c.points).sum()
    }
}

/// The folder of scenario folders.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The folder holding one folder per scenario.
    pub dir: PathBuf,
}

impl Catalog {
    /// `$KDRILL_SCENARIOS`, else `./scenarios`, else the scenarios shipped
    /// beside this crate's source.
    pub fn discover() -> Self {
        if let Some(d) = std::env::var_os("KDRILL_SCENARIOS").filter(|d| !d.is_empty()) {
            return Self { dir: d.into() };
        }
        let local = PathBuf::from("scenarios");
        if local.join(".").is_dir() && local.is_dir() {
            return Self { dir: local };
        }
        Self {
            dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
        }
    }

    /// The library root (holds `scripts/` and `grading/`).
    pub fn root(&self) -> PathBuf {
        self.dir
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The scenario folders, sorted by name.
    pub fn folders(&self) -> Result<Vec<PathBuf>, LoadError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| LoadError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("scenario.yaml").is_file())
            .collect();
        dirs.sort();
        Ok(dirs)
    }

    /// Every scenario, or the first one that fails to load.
    pub fn load_all(&self) -> Result<Vec<Scenario>, LoadError> {
        let root = self.root();
        self.folders()?
            .iter()
            .map(|d| Scenario::load(d, Some(&root)))
            .collect()
    }

    /// The scenario with this id.
    pub fn find(&self, id: &str) -> Result<Scenario, LoadError> {
        let dir = self.dir.join(id);
        if id.contains('/') || id.contains("..") || !dir.join("scenario.yaml").is_file() {
            return Err(LoadError::NotFound(id.to_string()));
        }
        Scenario::load(&dir, Some(&self.root()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "id: demo\ntitle: Demo\nsummary: A demo.\ndifficulty: beginner\nestimatedMinutes: 5\nrubric:\n  criteria:\n    - id: a\n      title: A\n      check:\n        exists: {target: configmap/x}\n";

    fn write(dir: &Path, yaml: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("scenario.yaml"), yaml).unwrap();
    }

    #[test]
    fn loads_a_scenario_with_defaults() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("scenarios/demo");
        write(&d, GOOD);
        let s = Scenario::load(&d, None).unwrap();
        assert_eq!(s.spec.namespace, "default");
        assert_eq!(s.spec.cluster.nodes, 3);
        assert_eq!(s.spec.rubric.criteria[0].points, 10);
        assert_eq!(s.root, t.path());
    }

    #[test]
    fn unknown_check_kind_names_file_line_and_the_expected_kinds() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("demo");
        write(
            &d,
            &GOOD.replace("exists: {target: configmap/x}", "bogus: {}"),
        );
        let e = Scenario::load(&d, None).unwrap_err().to_string();
        assert!(e.ends_with("demo/scenario.yaml:11:9: unknown variant `bogus`, expected one of deploymentAvailable, podsReady, serviceEndpoints, fieldEquals, exists, absent, canI, eventAbsentSince, httpGet, dnsResolves, rhai"), "{e}");
    }

    #[test]
    fn unknown_addons_name_file_line_and_the_known_ones() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("demo");
        write(
            &d,
            &GOOD.replace(
                "rubric:",
                "cluster:\n  addons: [ingress-nginx, traefik]\nrubric:",
            ),
        );
        let e = Scenario::load(&d, None).unwrap_err().to_string();
        assert!(
            e.ends_with("demo/scenario.yaml:7:27: unknown variant `traefik`, expected one of ingress-nginx, metrics-server"),
            "{e}"
        );
        write(
            &d,
            &GOOD.replace("rubric:", "cluster:\n  addons: [ingress-nginx]\nrubric:"),
        );
        let s = Scenario::load(&d, None).unwrap();
        assert_eq!(
            s.spec.cluster.addons,
            [crate::scenario::model::Addon::IngressNginx]
        );
    }

    #[test]
    fn id_must_match_folder() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("other");
        write(&d, GOOD);
        let e = Scenario::load(&d, None).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "other/scenario.yaml: id \"demo\" does not match the folder name \"other\""
            ),
            "{e}"
        );
    }

    #[test]
    fn find_rejects_paths() {
        let c = Catalog {
            dir: PathBuf::from("/nonexistent"),
        };
        assert!(matches!(c.find("../etc"), Err(LoadError::NotFound(_))));
    }
}
