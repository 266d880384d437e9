//! A percentile that the histogram cannot tell from a threshold or a budget
//! limit (it lies in the limit's bucket) compares as equal to it, so the tie
//! goes to the better side (docs/rules.md, "Ties within the bucket
//! resolution").

use std::time::Duration;

use perf_core::{
    Budget, BudgetItem, ManualClock, Monitor, Precision, Rating, Rule, Severity, Statistic, Target,
    Timestamp, WEB_VITALS_METRICS,
};
use proptest::prelude::*;

fn monitor(bits: u8) -> (ManualClock, Monitor) {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .precision(Precision::new(bits).unwrap())
        .build()
        .unwrap();
    (clock, monitor)
}

#[test]
fn whole_milliseconds_on_the_threshold_do_not_fire() {
    // The case: 19 × 200 ms + 1 × 1000 ms a second; the exact p95
    // is 200, the histogram reads 200.5.
    let (clock, monitor) = monitor(7);
    monitor
        .add_rule(
            Rule::new("slow", Target::percentile("lat", 95.0))
                .window(Duration::from_secs(10))
                .level(Severity::Warning, 200.0),
        )
        .unwrap();
    for second in 0..10 {
        clock.set(Timestamp::from_secs(second));
        for _ in 0..19 {
            monitor.record("lat", &[], 200.0).unwrap();
        }
        monitor.record("lat", &[], 1000.0).unwrap();
        assert_eq!(monitor.evaluate(), [], "at {second} s");
    }
    // One bucket higher is above the threshold.
    for _ in 0..400 {
        monitor.record("lat", &[], 201.0).unwrap();
    }
    clock.set(Timestamp::from_secs(10));
    let fired = monitor.evaluate();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].value, Some(201.5));
}

#[test]
fn web_vitals_exactly_at_the_good_limits_rate_good() {
    let (_, monitor) = monitor(7);
    monitor.add_budget(Budget::web_vitals()).unwrap();
    let at_good = [2500.0, 200.0, 0.1, 1800.0, 800.0, 100.0];
    for (metric, good) in WEB_VITALS_METRICS.iter().zip(at_good) {
        for _ in 0..100 {
            monitor.record(metric, &[], good).unwrap();
        }
    }
    let report = monitor.budget_report();
    for row in &report.rows {
        assert_eq!(row.rating, Some(Rating::Good), "{row:?}");
        assert_eq!(row.value, Some(row.good), "{row:?}");
        assert_eq!(row.headroom, Some(0.0));
    }
}

/// A threshold anywhere in the histogram's range: from 1e-3 to 1e9.
fn threshold() -> impl Strategy<Value = f64> {
    (-3.0f64..9.0).prop_map(|e| 10f64.powf(e))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the precision and the threshold: values all equal to the
    /// threshold never make `>` fire and always make `>=` fire; values in
    /// the next bucket up always make `>` fire.
    #[test]
    fn ties_compare_as_equal(bits in 2u8..=10, t in threshold()) {
        let (_, monitor) = monitor(bits);
        let rule = |name: &str, op| Rule::new(name, Target::percentile("lat", 95.0))
            .op(op)
            .level(Severity::Warning, t);
        monitor.add_rule(rule("gt", perf_core::Op::Gt)).unwrap();
        monitor.add_rule(rule("ge", perf_core::Op::Ge)).unwrap();
        monitor.histogram("lat", &[]).unwrap().record_n(t, 50).unwrap();
        let fired: Vec<String> = monitor.evaluate().into_iter().map(|e| e.rule.to_string()).collect();
        prop_assert_eq!(fired, vec!["ge".to_string()]);

        let precision = Precision::new(bits).unwrap();
        let above = next_bucket(precision, t);
        let (_, above_monitor) = self::monitor(bits);
        above_monitor.add_rule(rule("gt", perf_core::Op::Gt)).unwrap();
        above_monitor.histogram("lat", &[]).unwrap().record_n(above, 50).unwrap();
        prop_assert_eq!(above_monitor.evaluate().len(), 1);
    }

    /// A budget whose good (or poor) limit lies in the bucket of the exact
    /// percentile rates it on the better side.
    #[test]
    fn budget_limits_take_ties_on_the_better_side(bits in 2u8..=10, t in threshold()) {
        let (_, monitor) = monitor(bits);
        let item = |good: f64, poor: f64| BudgetItem::new("lat", Statistic::Percentile(75.0), good).poor(poor);
        monitor.add_budget(Budget::new("at-good").item(item(t, 4.0 * t))).unwrap();
        monitor.add_budget(Budget::new("at-poor").item(item(t / 4.0, t))).unwrap();
        monitor.histogram("lat", &[]).unwrap().record_n(t, 50).unwrap();
        let ratings: Vec<_> = monitor.budget_report().rows.iter().map(|r| r.rating).collect();
        prop_assert_eq!(ratings, vec![Some(Rating::Good), Some(Rating::NeedsImprovement)]);
    }
}

/// A value in the bucket just above `t`'s.
fn next_bucket(precision: Precision, t: f64) -> f64 {
    let mut v = t;
    while precision.indistinguishable(v, t) {
        v = v * (1.0 + precision.relative_error()) + f64::MIN_POSITIVE;
    }
    v
}
