//! Rubric profiles from `grading/<name>.yaml`: practice, exam, interview.

use serde::Deserialize;
use std::path::Path;

/// How a rubric is applied.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    pub name: String,
    /// Percent of points needed, on top of every required criterion.
    #[serde(default)]
    pub pass_mark: u32,
    /// Whether `kdrill hint` gives hints.
    #[serde(default = "yes")]
    pub hints: bool,
    /// Each hint's cost is multiplied by this.
    #[serde(default = "one")]
    pub hint_cost_factor: u32,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            name: "practice".into(),
            pass_mark: 0,
            hints: true,
            hint_cost_factor: 1,
        }
    }
}

impl Profile {
    /// Loads `root/grading/<name>.yaml`; `practice` falls back to the
    /// built-in default when the file is missing.
    pub fn load(root: &Path, name: &str) -> Result<Self, crate::scenario::LoadError> {
        let path = root.join("grading").join(format!("{name}.yaml"));
        if !path.is_file() && name == "practice" {
            return Ok(Self::default());
        }
        let text =
            std::fs::read_to_string(&path).map_err(|source| crate::scenario::LoadError::Io {
                path: path.clone(),
                source,
            })?;
        serde_saphyr::from_str(&text).map_err(|e| crate::scenario::load::yaml_error(&path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let exam = Profile::load(root, "exam").unwrap();
        assert_eq!((exam.pass_mark, exam.hints), (66, false));
        assert_eq!(
            Profile::load(root, "interview").unwrap().hint_cost_factor,
            2
        );
        assert_eq!(Profile::load(root, "practice").unwrap(), Profile::default());
        let e = Profile::load(root, "nope").unwrap_err().to_string();
        assert!(e.contains("grading/nope.yaml"), "{e}");
    }
}
