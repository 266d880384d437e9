//! The `regression` section of rules documents: the policy it describes,
//! errors naming the field, all-or-nothing loading, and the export round
//! trip through `Monitor::rules_json`.

use perf_core::{Monitor, PerfError, Policy, RulesConfig, Statistic};

fn monitor() -> Monitor {
    Monitor::builder().build().unwrap()
}

fn doc(regression: &str) -> String {
    format!(r#"{{"version": 1, "regression": {regression}}}"#)
}

fn error_path(json: &str) -> String {
    match RulesConfig::from_json(json).and_then(|c| c.regression()) {
        Err(PerfError::InvalidRulesJson { path, .. }) => path,
        other => panic!("{json}: unexpected {other:?}"),
    }
}

#[test]
fn every_field_sets_the_policy() {
    let json = doc(
        r#"{"statistics": ["p90", "p99.9", "mean"], "threshold": 0.15,
            "thresholds": {"p99.9": 0.5, "mean": 0.1}, "alpha": 0.01, "min_samples": 100,
            "noise": 0.02, "resamples": 1000, "seed": 7}"#,
    );
    let policy = RulesConfig::from_json(&json)
        .unwrap()
        .regression()
        .unwrap()
        .unwrap();
    let expected = Policy::default()
        .statistics(&[
            Statistic::Percentile(90.0),
            Statistic::Percentile(99.9),
            Statistic::Mean,
        ])
        .default_threshold(0.15)
        .threshold(Statistic::Mean, 0.1)
        .threshold(Statistic::Percentile(99.9), 0.5)
        .alpha(0.01)
        .min_samples(100)
        .noise(0.02)
        .resamples(1000)
        .seed(7);
    assert_eq!(policy, expected);
    assert_eq!(
        RulesConfig::from_json(&doc("{}"))
            .unwrap()
            .regression()
            .unwrap(),
        Some(Policy::default())
    );
    assert_eq!(
        RulesConfig::from_json(r#"{"version": 1}"#)
            .unwrap()
            .regression()
            .unwrap(),
        None
    );
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        error_path(&doc(r#"{"thresholds": {"p99x": 0.2}}"#)),
        "regression.thresholds.p99x"
    );
    assert_eq!(
        error_path(&doc(r#"{"statistics": ["p95", "fast"]}"#)),
        "regression.statistics[1]"
    );
    assert_eq!(error_path(&doc(r#"{"alpha": "low"}"#)), "regression.alpha");
    assert_eq!(
        error_path(&doc(r#"{"treshold": 0.2}"#)),
        "regression.treshold"
    );
    // Out of range: the setting itself is named.
    for (invalid, path) in [
        (r#"{"alpha": 1.5}"#, "regression.alpha"),
        (r#"{"statistics": ["count"]}"#, "regression.statistics"),
        (r#"{"resamples": 10}"#, "regression.resamples"),
        (r#"{"resamples": 4294967295}"#, "regression.resamples"),
        (r#"{"threshold": -1}"#, "regression.threshold"),
        (r#"{"thresholds": {"p99": 0}}"#, "regression.thresholds.p99"),
        (r#"{"noise": 1}"#, "regression.noise"),
    ] {
        assert_eq!(error_path(&doc(invalid)), path, "{invalid}");
    }
}

#[test]
fn a_bad_section_loads_nothing() {
    let m = monitor();
    let json = r#"{"version": 1,
        "rules": [{"name": "slow", "metric": "lat", "stat": "p95", "threshold": 500}],
        "regression": {"alpha": 2}}"#;
    assert!(matches!(
        m.load_rules(json),
        Err(PerfError::InvalidRulesJson { .. })
    ));
    assert!(m.rules().is_empty());
    assert_eq!(m.regression_policy(), Policy::default());
}

#[test]
fn the_loaded_policy_round_trips_through_rules_json() {
    let m = monitor();
    m.load_rules(&doc(
        r#"{"statistics": ["p99"], "thresholds": {"p99": 0.3}, "seed": 3}"#,
    ))
    .unwrap();
    let expected = Policy::default()
        .statistics(&[Statistic::Percentile(99.0)])
        .threshold(Statistic::Percentile(99.0), 0.3)
        .seed(3);
    assert_eq!(m.regression_policy(), expected);
    let copy = monitor();
    copy.load_rules(&m.rules_json()).unwrap();
    assert_eq!(copy.regression_policy(), expected);
    // A document without the section leaves the policy as it is.
    copy.load_rules(r#"{"version": 1}"#).unwrap();
    assert_eq!(copy.regression_policy(), expected);
    assert!(!monitor().rules_json().contains("regression"));
}
