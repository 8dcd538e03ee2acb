//! `kdrill show <id> [--json]`: one scenario: what it is, the task and
//! what the rubric grades (never the solution).

use crate::scenario::Catalog;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario id (see `kdrill list`).
    pub id: String,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> u8 {
    let s = match Catalog::discover().find(&args.id) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return super::exit::USAGE;
        }
    };
    let spec = &s.spec;
    if args.json {
        let criteria: Vec<_> = spec
            .rubric
            .criteria
            .iter()
            .map(|c| json!({"id": c.id, "title": c.title, "points": c.points, "required": c.is_required(), "antiShortcut": c.anti_shortcut}))
            .collect();
        let v = json!({
            "id": spec.id,
            "title": spec.title,
            "summary": spec.summary,
            "difficulty": spec.difficulty.as_str(),
            "tags": spec.tags,
            "estimatedMinutes": spec.estimated_minutes,
            "namespace": spec.namespace,
            "cluster": spec.cluster,
            "hints": spec.hints.len(),
            "criteria": criteria,
            "task": s.task,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return super::exit::OK;
    }
    println!("{} — {}", spec.id, spec.title);
    println!("{}", spec.summary);
    println!();
    println!("Difficulty:  {}", spec.difficulty.as_str());
    println!("Time:        about {} minutes", spec.estimated_minutes);
    println!("Tags:        {}", spec.tags.join(", "));
    println!("Namespace:   {}", spec.namespace);
    let addons: Vec<String> = spec
        .cluster
        .addons
        .iter()
        .map(|a| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    println!(
        "Cluster:     {} nodes{}",
        spec.cluster.nodes,
        if addons.is_empty() {
            String::new()
        } else {
            format!(", add-ons: {}", addons.join(", "))
        }
    );
    println!("Hints:       {}", spec.hints.len());
    println!();
    println!("Task");
    println!("----");
    println!("{}", s.task.trim_end());
    println!();
    println!("Rubric ({} points)", s.total_points());
    println!("------");
    for c in &spec.rubric.criteria {
        let tag = if c.anti_shortcut {
            " (required, anti-shortcut)"
        } else if c.required {
            " (required)"
        } else {
            ""
        };
        println!("{:>3}  {}{tag}", c.points, c.title);
    }
    super::exit::OK
}
