//! Helpers shared by the integration tests: the exact nearest-rank reference
//! and the relative-error check every percentile must pass.

#![allow(dead_code)]

use perf_core::{ManualClock, Monitor, Timestamp};

/// Percentiles every accuracy check asks for, on top of arbitrary ones.
pub const FIXED_QS: [f64; 14] = [
    0.0,
    1e-9,
    1.0,
    10.0,
    25.0,
    50.0,
    75.0,
    90.0,
    95.0,
    99.0,
    99.9,
    99.99,
    100.0 - 1e-9,
    100.0,
];

/// `values` sorted ascending.
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The 1-based nearest rank of percentile `q` over `n` values:
/// `max(1, ceil(q / 100 * n))`, evaluated exactly for `q` as written in
/// decimal (its shortest round-trip representation), so that `q = 99.9`
/// over 1000 values is rank 999 and `q = 10` over 30 values is rank 3.
///
/// (The plain f64 product `99.9 / 100.0 * 1000.0` is 999.0000000000001,
/// whose ceiling is 1000: the rounding that perf-core's commit fa785b2,
/// "decimal percentiles hit their rank", removed from
/// `HistogramSnapshot::rank`.)
pub fn nearest_rank(q: f64, n: usize) -> usize {
    assert!((0.0..=100.0).contains(&q) && n > 0, "q={q} n={n}");
    let text = format!("{}", q.abs()); // Display never uses an exponent
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if frac.len() > 30 {
        // q < 1e-13: q/100 * n < 1 for any n we use.
        assert!(n < 1_000_000_000);
        return 1;
    }
    let mantissa: u128 = format!("{int}{frac}").parse().unwrap();
    let numerator = mantissa * n as u128;
    let denominator = 100 * 10u128.pow(frac.len() as u32);
    (numerator.div_ceil(denominator) as usize).clamp(1, n)
}

/// The exact nearest-rank percentile of already sorted values.
pub fn exact_percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[nearest_rank(q, sorted.len()) - 1]
}

/// `Err` with a description unless `reported` is within relative error
/// `bound` of `exact`.
pub fn within(reported: f64, exact: f64, bound: f64) -> Result<(), String> {
    let err = (reported - exact).abs();
    if err <= bound * exact.abs() {
        Ok(())
    } else {
        Err(format!(
            "reported {reported:e}, exact {exact:e}: relative error {:e} > bound {bound:e}",
            err / exact.abs()
        ))
    }
}

/// Checks `percentile(q)` against the exact nearest-rank value for every `q`.
pub fn check_percentiles(
    values: &[f64],
    qs: &[f64],
    bound: f64,
    percentile: impl Fn(f64) -> f64,
) -> Result<(), String> {
    let sorted = sorted(values);
    for &q in qs {
        let exact = exact_percentile(&sorted, q);
        within(percentile(q), exact, bound).map_err(|e| {
            format!(
                "q={q} (rank {} of {}): {e}",
                nearest_rank(q, sorted.len()),
                sorted.len()
            )
        })?;
    }
    Ok(())
}

/// A monitor driven by a fresh `ManualClock` standing at `start`.
pub fn manual_monitor(start: Timestamp) -> (ManualClock, Monitor) {
    let clock = ManualClock::new(start);
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .build()
        .expect("default config is valid");
    (clock, monitor)
}

/// Whether an external tool the test needs (promtool, a Prometheus server,
/// a Python with the `hdrhistogram` package) is there. If not, the test
/// prints a note and passes, unless `PERF_CORE_REQUIRE_EXTERNAL=1` (set by
/// `scripts/test-all.sh`, which installs them all), where it fails.
pub fn external_tool_available(found: bool, what: &str) -> bool {
    if !found {
        let required = std::env::var("PERF_CORE_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{what} not found and PERF_CORE_REQUIRE_EXTERNAL=1"
        );
        eprintln!("note: {what} not found; skipping this check");
    }
    found
}

/// Removes a multi-process group's directory once its monitors are
/// dropped: a background publisher may still be finishing a last write, so
/// the removal is retried for up to a second.
pub fn remove_group_dir(dir: &std::path::Path) {
    for _ in 0..100 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
