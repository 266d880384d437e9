//! Every numeric field of the rules schema driven to its extremes: each
//! document either loads or is refused with a typed error naming the
//! field, and a loaded one then records, evaluates, reports and compares
//! without a panic or an abort (docs/rules.md, "Ranges").

use std::time::Duration;

use perf_core::{compare, Baseline, ManualClock, Monitor, PerfError, Timestamp};

/// Values a hostile or careless document puts in a numeric field.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "0.5",
    "1e308",
    "-1e308",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9007199254740993",
];

/// Values for a duration field.
const DURATIONS: &[&str] = &[
    "\"0s\"",
    "\"1ns\"",
    "\"1000000000000y\"",
    "\"18446744073709551615s\"",
    "\"584942417355y\"",
    "\"-1s\"",
    "\"99999999999999999999999999h\"",
    "0",
    "1e308",
];

/// A document with one field replaced: `template` holds `@` where the
/// value goes.
fn document(template: &str, value: &str) -> String {
    template.replace('@', value)
}

/// Numeric fields (`@`) in every section of the schema.
const NUMERIC_FIELDS: &[&str] = &[
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": @}]}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": 10, "clear": @}]}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "levels": [{"severity": "warning", "threshold": @}]}]}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": 10, "min_samples": @}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "items": [{"metric": "lat", "stat": "p75", "good": @}]}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "items": [{"metric": "lat", "stat": "p75", "good": 1, "poor": @}]}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "metric": "lat", "limits": {"p95": @}}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "metric": "lat", "limits": {"p95": 10}, "alerts": {"min_samples": @}}]}"#,
    r#"{"version": 1, "emergency": {"triggers": [{"metric": "lat", "stat": "p95", "op": ">", "threshold": @}]}}"#,
    r#"{"version": 1, "emergency": {"triggers": [{"metric": "lat", "stat": "p95", "op": ">", "threshold": 1, "min_samples": @}]}}"#,
    r#"{"version": 1, "regression": {"threshold": @}}"#,
    r#"{"version": 1, "regression": {"thresholds": {"p99": @}}}"#,
    r#"{"version": 1, "regression": {"alpha": @}}"#,
    r#"{"version": 1, "regression": {"min_samples": @}}"#,
    r#"{"version": 1, "regression": {"noise": @}}"#,
    r#"{"version": 1, "regression": {"resamples": @}}"#,
    r#"{"version": 1, "regression": {"seed": @}}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p@", "threshold": 1}]}"#,
];

/// Duration fields (`@`) in every section of the schema.
const DURATION_FIELDS: &[&str] = &[
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": 10, "window": @}]}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": 10, "for": @}]}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": 10, "clear_for": @}]}"#,
    r#"{"version": 1, "rules": [{"name": "r", "metric": "lat", "stat": "p95", "threshold": 10, "repeat": {"warning": @}}]}"#,
    r#"{"version": 1, "repeat": {"critical": @}}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "metric": "lat", "limits": {"p95": 10}, "window": @}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "metric": "lat", "limits": {"p95": 10}, "alerts": {"window": @}}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "metric": "lat", "limits": {"p95": 10}, "alerts": {"for": @}}]}"#,
    r#"{"version": 1, "budgets": [{"name": "b", "metric": "lat", "limits": {"p95": 10}, "alerts": {"clear_for": @}}]}"#,
    r#"{"version": 1, "emergency": {"clear_for": @}}"#,
    r#"{"version": 1, "emergency": {"min_dwell": @}}"#,
    r#"{"version": 1, "emergency": {"max_dwell": @}}"#,
    r#"{"version": 1, "emergency": {"flap_window": @}}"#,
    r#"{"version": 1, "emergency": {"evaluate_every": @}}"#,
    r#"{"version": 1, "emergency": {"triggers": [{"metric": "lat", "stat": "p95", "op": ">", "threshold": 1, "for": @}]}}"#,
    r#"{"version": 1, "emergency": {"triggers": [{"metric": "lat", "stat": "p95", "op": ">", "threshold": 1, "window": @}]}}"#,
];

/// Loads `doc` into a fresh monitor and, if it loads, exercises it; the
/// error, if any, must be a rules error whose path ends with `field`.
fn exercise(doc: &str, field: &str) {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    match monitor.load_rules(doc) {
        Ok(_) => {}
        Err(e @ (PerfError::InvalidRulesJson { .. } | PerfError::InvalidRule { .. })) => {
            let text = e.to_string();
            assert!(text.len() < 600, "{doc}: {text}");
            if let PerfError::InvalidRulesJson { path, .. } = &e {
                assert!(path.ends_with(field), "{doc}: {text} does not name {field}");
            }
            return;
        }
        Err(other) => panic!("{doc}: unexpected error kind {other:?}"),
    }
    for step in 0..3u64 {
        clock.set(Timestamp::from_secs(step * 3600));
        monitor.record("lat", &[], 5.0).unwrap();
        monitor.record("lat", &[], 5000.0).unwrap();
        monitor.evaluate();
        let _ = monitor.budget_report().to_string();
        let _ = monitor.emergency().status();
    }
    assert!(monitor.flush_notifications(Duration::from_secs(5)));
    let baseline = monitor.baseline("a");
    let policy = monitor.regression_policy();
    let report = compare(&baseline, &baseline, &policy).unwrap();
    assert!(report.passed(), "{doc}");
    let _ = monitor.rules_json();
    let back = Monitor::builder().build().unwrap();
    back.load_rules(&monitor.rules_json())
        .unwrap_or_else(|e| panic!("{doc}: what rules_json() wrote does not load: {e}"));
    let _ = Baseline::from_json(&baseline.to_json()).unwrap();
}

#[test]
fn extreme_numbers_load_or_are_refused_by_name() {
    for template in NUMERIC_FIELDS {
        for value in NUMBERS {
            exercise(&document(template, value), field_of(template));
        }
    }
}

/// The key whose value is `@` in `template` (`stat` for `"p@"`).
fn field_of(template: &str) -> &str {
    let before = &template[..template.find('@').unwrap()];
    if before.ends_with("\"p") {
        return "stat";
    }
    let key_end = before.rfind("\":").unwrap();
    let key_start = before[..key_end].rfind('"').unwrap() + 1;
    &before[key_start..key_end]
}

#[test]
fn extreme_durations_load_or_are_refused_by_name() {
    for template in DURATION_FIELDS {
        for value in DURATIONS {
            exercise(&document(template, value), field_of(template));
        }
    }
}
