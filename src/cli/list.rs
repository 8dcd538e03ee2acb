//! `kdrill list [--json]`: the scenarios in the catalog.

use crate::scenario::Catalog;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> u8 {
    let scenarios = match Catalog::discover().load_all() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::USAGE;
        }
    };
    if args.json {
        let items: Vec<_> = scenarios
            .iter()
            .map(|s| {
                json!({
                    "id": s.spec.id,
                    "title": s.spec.title,
                    "summary": s.spec.summary,
                    "difficulty": s.spec.difficulty.as_str(),
                    "tags": s.spec.tags,
                    "estimatedMinutes": s.spec.estimated_minutes,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return super::exit::OK;
    }
    let rows: Vec<[String; 5]> = scenarios
        .iter()
        .map(|s| {
            [
                s.spec.id.clone(),
                s.spec.difficulty.as_str().to_string(),
                format!("{}m", s.spec.estimated_minutes),
                s.spec.tags.join(","),
                s.spec.title.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(&["ID", "DIFFICULTY", "TIME", "TAGS", "TITLE"], &rows)
    );
    super::exit::OK
}

/// Columns padded kubectl-style: three spaces between, the last unpadded.
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}
