//! perf-core's side of the change-point benchmark (`benches/changepoint/`).
//!
//! Reads the series file written by `benches/changepoint/generate.py`, runs
//! every series through [`perf_core::detect_change_points`] at
//! `ChangePointConfig::default()` and writes the reported indices and the
//! time of each call as `results-perf-core-default.json` in OUT_DIR, in the
//! format `benches/changepoint/report.py` reads (the same one the Python
//! runners write).
//!
//! Index convention: `ChangePoint::index` is the first index of the new
//! segment, which is the benchmark's convention (120 for the step series);
//! checked on the series file's clean step before anything is timed.
//!
//! Timing: one `Instant` pair around each `detect_change_points` call, after
//! one untimed warm-up call; parsing and writing files are not timed. Build
//! and run it in release mode:
//!
//! ```text
//! cargo run --release -p perf-core-benches --bin changepoint-compare -- SERIES.json OUT_DIR [--limit N]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use perf_core::{detect_change_points, ChangePointConfig};
use serde_json::{json, Value};

struct Series {
    kind: String,
    seed: u64,
    values: Vec<f64>,
}

fn parse(doc: &Value, limit: Option<u64>) -> Result<Vec<Series>, String> {
    let list = doc
        .get("series")
        .and_then(Value::as_array)
        .ok_or("no `series` array")?;
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let kind = s
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("series without `kind`")?;
        let seed = s
            .get("seed")
            .and_then(Value::as_u64)
            .ok_or("series without `seed`")?;
        if limit.is_some_and(|l| seed >= l) {
            continue;
        }
        let values = s
            .get("values")
            .and_then(Value::as_array)
            .ok_or("series without `values`")?
            .iter()
            .map(|v| v.as_f64().ok_or("non-numeric value"))
            .collect::<Result<Vec<f64>, _>>()?;
        out.push(Series {
            kind: kind.to_owned(),
            seed,
            values,
        });
    }
    Ok(out)
}

/// The series file's `convention_check` is a clean step (noise sd 0.05):
/// perf-core must report exactly its step index there, as every runner must.
fn check_convention(doc: &Value, config: &ChangePointConfig) -> Result<(), String> {
    let check = doc.get("convention_check").ok_or("no `convention_check`")?;
    let step_at = check
        .get("step_at")
        .and_then(Value::as_u64)
        .ok_or("`convention_check` without `step_at`")? as usize;
    let values: Vec<f64> = check
        .get("values")
        .and_then(Value::as_array)
        .ok_or("`convention_check` without `values`")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let points: Vec<usize> = detect_change_points(&values, config)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| p.index)
        .collect();
    if points != [step_at] {
        return Err(format!(
            "clean step at {step_at} reported as {points:?}; the index convention differs"
        ));
    }
    eprintln!("  perf-core: clean step at {step_at} reported as [{step_at}]");
    Ok(())
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: changepoint-compare SERIES.json OUT_DIR [--limit N]";
    let series_path = PathBuf::from(args.next().ok_or(usage)?);
    let out_dir = PathBuf::from(args.next().ok_or(usage)?);
    let limit = match (args.next().as_deref(), args.next()) {
        (None, _) => None,
        (Some("--limit"), Some(n)) => Some(n.parse::<u64>().map_err(|e| format!("--limit: {e}"))?),
        _ => return Err(usage.into()),
    };

    let text = std::fs::read_to_string(&series_path)
        .map_err(|e| format!("{}: {e}", series_path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", series_path.display()))?;
    let series = parse(&doc, limit)?;
    let first = series.first().ok_or("no series")?;

    let config = ChangePointConfig::default();
    check_convention(&doc, &config)?;
    // Warm-up, not timed.
    detect_change_points(&first.values, &config).map_err(|e| e.to_string())?;

    let mut results = Vec::with_capacity(series.len());
    let all = Instant::now();
    for s in &series {
        let t0 = Instant::now();
        let points = detect_change_points(&s.values, &config);
        let seconds = t0.elapsed().as_secs_f64();
        let points = points.map_err(|e| format!("{} seed {}: {e}", s.kind, s.seed))?;
        let mut indices: Vec<usize> = points.iter().map(|p| p.index).collect();
        indices.sort_unstable();
        results.push(json!({
            "kind": s.kind,
            "seed": s.seed,
            "points": indices,
            "seconds": seconds,
        }));
    }
    let total = all.elapsed().as_secs_f64();

    let doc = json!({
        "tool": "perf-core",
        "setting": "default",
        "params": {
            "alpha": config.alpha,
            "permutations": config.permutations,
            "min_segment": config.min_segment,
            "min_relative_change": config.min_relative_change,
            "max_change_points": config.max_change_points,
            "seed": config.seed,
        },
        "versions": {
            "perf-core": env!("CARGO_PKG_VERSION"),
            "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        },
        "results": results,
    });
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out = out_dir.join("results-perf-core-default.json");
    std::fs::write(&out, doc.to_string()).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "  perf-core default: {} series in {total:.2} s -> {}",
        series.len(),
        out.display()
    );
    if cfg!(debug_assertions) {
        eprintln!("  warning: debug build, timings are not representative (use --release)");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("changepoint-compare: {e}");
            ExitCode::FAILURE
        }
    }
}
