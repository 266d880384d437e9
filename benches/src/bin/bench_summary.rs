//! Prints a markdown summary of the criterion results of the `compare`,
//! `rules` and `emergency` benches:
//! one table per group, one row per benchmark function, with criterion's
//! headline estimate (the slope when it has one, else the mean) and its 95 %
//! confidence interval.
//!
//! Usage: `bench-summary [CRITERION_DIR]` (default `$CARGO_TARGET_DIR/criterion`
//! or `target/criterion`).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The groups of `benches/compare.rs`, `benches/rules.rs` and
/// `benches/emergency.rs`, in report order.
const GROUPS: &[&str] = &[
    "record",
    "record_2threads",
    "lookup",
    "snapshot",
    "evaluate",
    "emergency",
    "export",
];

struct Row {
    function: String,
    estimate: f64,
    lower: f64,
    upper: f64,
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The estimate criterion prints as `time:` — slope, else mean — in ns.
fn headline(estimates: &Value) -> Option<(f64, f64, f64)> {
    let e = estimates
        .get("slope")
        .filter(|s| !s.is_null())
        .or_else(|| estimates.get("mean"))?;
    let ci = e.get("confidence_interval")?;
    Some((
        e.get("point_estimate")?.as_f64()?,
        ci.get("lower_bound")?.as_f64()?,
        ci.get("upper_bound")?.as_f64()?,
    ))
}

fn rows(group_dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let Ok(entries) = std::fs::read_dir(group_dir) else {
        return rows;
    };
    for entry in entries.flatten() {
        let new = entry.path().join("new");
        let (Some(bench), Some(estimates)) = (
            read_json(&new.join("benchmark.json")),
            read_json(&new.join("estimates.json")),
        ) else {
            continue;
        };
        let Some(function) = bench.get("function_id").and_then(Value::as_str) else {
            continue;
        };
        if let Some((estimate, lower, upper)) = headline(&estimates) {
            rows.push(Row {
                function: function.to_owned(),
                estimate,
                lower,
                upper,
            });
        }
    }
    rows.sort_by(|a, b| a.estimate.total_cmp(&b.estimate));
    rows
}

fn time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.2} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
            PathBuf::from(target).join("criterion")
        });
    println!("## Criterion results ({})\n", dir.display());
    let mut any = false;
    for group in GROUPS {
        let rows = rows(&dir.join(group));
        if rows.is_empty() {
            continue;
        }
        any = true;
        println!("### {group}\n");
        println!("| benchmark | time per op | 95 % CI |");
        println!("|---|---:|---:|");
        for r in rows {
            println!(
                "| {} | {} | {} .. {} |",
                r.function,
                time(r.estimate),
                time(r.lower),
                time(r.upper)
            );
        }
        println!();
    }
    if !any {
        println!("(no results found under {})", dir.display());
    }
}
