//! `kdrill validate [PATH...]`: lint scenario folders (default: the
//! whole catalog). Problems go to stderr, one line each; exit 2 when any.

use crate::scenario::{Catalog, validate};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario folders, or folders of scenario folders.
    pub paths: Vec<PathBuf>,
}

/// The scenario folders a path names.
fn scenario_dirs(path: &Path) -> Vec<PathBuf> {
    if path.join("scenario.yaml").is_file() {
        return vec![path.to_path_buf()];
    }
    Catalog {
        dir: path.to_path_buf(),
    }
    .folders()
    .unwrap_or_default()
}

pub fn run(args: Args) -> u8 {
    let paths = if args.paths.is_empty() {
        vec![Catalog::discover().dir]
    } else {
        args.paths
    };
    let mut bad = 0;
    let mut good = 0;
    for p in &paths {
        let dirs = scenario_dirs(p);
        if dirs.is_empty() {
            eprintln!(
                "error: {}: no scenario.yaml here or in its folders",
                p.display()
            );
            bad += 1;
            continue;
        }
        for d in dirs {
            let problems = validate::validate_dir(&d, None);
            if problems.is_empty() {
                println!("ok {}", d.display());
                good += 1;
            } else {
                for line in &problems {
                    eprintln!("error: {line}");
                }
                bad += 1;
            }
        }
    }
    if bad > 0 {
        eprintln!("{bad} invalid, {good} valid");
        super::exit::USAGE
    } else {
        super::exit::OK
    }
}
