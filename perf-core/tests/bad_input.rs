//! Bad input: refused with a typed error, counted in `rejected`, never part of
//! the statistics, never a panic.

use std::time::Duration;

use perf_core::{
    HistogramSnapshot, InvalidValueReason, ManualClock, Monitor, PerfError, Precision, Stats,
    Timestamp, MAX_EXCLUSIVE,
};
use proptest::prelude::*;

fn monitor() -> Monitor {
    Monitor::builder()
        .clock(ManualClock::new(Timestamp::ZERO))
        .build()
        .unwrap()
}

/// Bad histogram values and the reason each must be refused with.
fn bad_values() -> Vec<(f64, InvalidValueReason)> {
    use InvalidValueReason::*;
    vec![
        (f64::NAN, NaN),
        (-f64::NAN, NaN),
        (f64::from_bits(0x7ff0_0000_0000_0001), NaN), // signalling NaN
        (f64::INFINITY, Infinite),
        (f64::NEG_INFINITY, Infinite),
        (-1.0, Negative),
        (-1e-300, Negative),
        (-f64::from_bits(1), Negative), // smallest negative subnormal
        (f64::MIN, Negative),
        (1e20, TooLarge),
        (MAX_EXCLUSIVE, TooLarge),
        (f64::MAX, TooLarge),
    ]
}

fn reason_of(r: Result<(), PerfError>) -> Option<InvalidValueReason> {
    match r {
        Err(PerfError::InvalidValue { reason, .. }) => Some(reason),
        _ => None,
    }
}

/// The statistics fields a refused value must leave alone (everything but
/// `rejected`).
fn same_statistics(a: &Stats, b: &Stats) -> bool {
    a.snapshot() == b.snapshot() && a.count == b.count && a.sum.to_bits() == b.sum.to_bits()
}

#[test]
fn bad_values_through_a_handle_are_refused_and_counted() {
    let monitor = monitor();
    let h = monitor.histogram("lat", &[]).unwrap();
    for v in [1.0, 2.0, 300.0] {
        h.record(v).unwrap();
    }
    let before = h.stats();
    for (i, (v, reason)) in bad_values().into_iter().enumerate() {
        let err = h.record(v).unwrap_err();
        match err {
            PerfError::InvalidValue { value, reason: r } => {
                assert_eq!(r, reason, "{v}");
                assert_eq!(value.to_bits(), v.to_bits(), "the error carries the value");
            }
            other => panic!("{v}: {other:?}"),
        }
        assert!(!err.to_string().is_empty());
        assert_eq!(h.rejected(), i as u64 + 1);
        let now = h.stats();
        assert!(same_statistics(&now, &before), "{v} changed the statistics");
        assert_eq!(now.rejected, i as u64 + 1);
    }
    let s = monitor.stats("lat", &[]).unwrap();
    assert_eq!((s.count, s.sum, s.min, s.max), (3, 303.0, 1.0, 300.0));
    assert_eq!(s.rejected, bad_values().len() as u64);
}

#[test]
fn bad_values_through_one_shot_records_are_refused_and_counted() {
    let monitor = monitor();
    monitor.record("lat", &[("r", "/")], 5.0).unwrap();
    let before = monitor.stats("lat", &[("r", "/")]).unwrap();
    for (v, reason) in bad_values() {
        assert_eq!(
            reason_of(monitor.record("lat", &[("r", "/")], v)),
            Some(reason),
            "{v}"
        );
    }
    let after = monitor.stats("lat", &[("r", "/")]).unwrap();
    assert!(same_statistics(&after, &before));
    assert_eq!(after.rejected, bad_values().len() as u64);
    assert_eq!(
        monitor.histogram("lat", &[("r", "/")]).unwrap().rejected(),
        after.rejected
    );
    // The window statistics are untouched too.
    let w = monitor
        .window_stats("lat", &[("r", "/")], Duration::from_secs(60))
        .unwrap();
    assert_eq!((w.count, w.sum), (1, 5.0));
}

#[test]
fn bad_values_never_touch_a_fresh_series() {
    let monitor = monitor();
    for (v, reason) in bad_values() {
        assert_eq!(
            reason_of(monitor.record("fresh", &[], v)),
            Some(reason),
            "{v}"
        );
    }
    if let Ok(s) = monitor.stats("fresh", &[]) {
        assert_eq!(s.count, 0);
        assert!(s.min.is_nan() && s.max.is_nan() && s.p50.is_nan());
    }
}

#[test]
fn negative_zero_is_recorded_as_zero() {
    let monitor = monitor();
    let h = monitor.histogram("z", &[]).unwrap();
    h.record(-0.0).unwrap();
    monitor.record("z", &[], -0.0).unwrap();
    h.record_duration(Duration::ZERO).unwrap();
    let s = h.stats();
    assert_eq!((s.count, s.rejected), (3, 0));
    assert_eq!(s.snapshot().zero_count(), 3);
    for v in [s.min, s.max, s.p50, s.sum] {
        assert_eq!(
            v.to_bits(),
            0.0f64.to_bits(),
            "-0.0 must be reported as +0.0"
        );
    }
    // Gauges take -0.0 as a plain value.
    let g = monitor.gauge("g", &[]).unwrap();
    g.set(-0.0).unwrap();
    assert_eq!(g.value(), 0.0);
}

#[test]
fn bad_values_into_gauges_are_refused_and_keep_the_value() {
    let monitor = monitor();
    let g = monitor.gauge("temp", &[]).unwrap();
    g.set(21.5).unwrap();
    for (v, reason) in [
        (f64::NAN, InvalidValueReason::NaN),
        (f64::INFINITY, InvalidValueReason::Infinite),
        (f64::NEG_INFINITY, InvalidValueReason::Infinite),
    ] {
        assert_eq!(reason_of(g.set(v)), Some(reason), "set({v})");
        assert_eq!(reason_of(g.add(v)), Some(reason), "add({v})");
        assert_eq!(g.value(), 21.5);
    }
    // An add that would overflow to infinity is refused as well.
    g.set(f64::MAX).unwrap();
    assert_eq!(
        reason_of(g.add(f64::MAX)),
        Some(InvalidValueReason::Infinite)
    );
    assert_eq!(g.value(), f64::MAX);
    // Gauges take any finite value, negative and huge included.
    for v in [-1.0, 1e20, -1e300] {
        g.set(v).unwrap();
        assert_eq!(g.value(), v);
    }
    // Recording into a gauge's name as a histogram is a kind error, and
    // leaves the gauge alone.
    assert!(matches!(
        monitor.record("temp", &[], 1.0),
        Err(PerfError::KindMismatch { .. })
    ));
    assert!(matches!(
        monitor.record("temp", &[], f64::NAN),
        Err(PerfError::KindMismatch { .. })
    ));
    assert_eq!(g.value(), -1e300);
}

#[test]
fn durations_too_long_to_record_are_refused() {
    let monitor = monitor();
    let h = monitor.histogram("d", &[]).unwrap();
    // Duration::MAX is ~1.8e22 ms, above 2^64.
    assert_eq!(
        reason_of(h.record_duration(Duration::MAX)),
        Some(InvalidValueReason::TooLarge)
    );
    assert_eq!((h.stats().count, h.rejected()), (0, 1));
}

#[test]
fn invalid_percentiles_are_refused() {
    let monitor = monitor();
    let h = monitor.histogram("lat", &[]).unwrap();
    let empty = h.stats();
    for v in [1.0, 2.0, 3.0] {
        h.record(v).unwrap();
    }
    let stats = h.stats();
    let window = monitor
        .window_stats("lat", &[], Duration::from_secs(10))
        .unwrap();
    let bad = [
        -1.0,
        101.0,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1e-9,
        100.000_000_001,
        f64::MAX,
    ];
    for s in [&empty, &stats, &window] {
        for q in bad {
            match s.percentile(q) {
                Err(PerfError::InvalidPercentile { q: got }) => {
                    assert_eq!(got.to_bits(), q.to_bits())
                }
                other => panic!("percentile({q}) = {other:?}"),
            }
            assert!(matches!(
                s.snapshot().percentiles(&[50.0, q, 99.0]),
                Err(PerfError::InvalidPercentile { .. })
            ));
        }
    }
    // The edges are valid; -0.0 is 0.
    assert_eq!(stats.percentile(0.0).unwrap(), 1.0);
    assert_eq!(stats.percentile(-0.0).unwrap(), 1.0);
    assert_eq!(stats.percentile(100.0).unwrap(), 3.0);
    assert!(empty.percentile(50.0).unwrap().is_nan());
    assert_eq!(
        stats.snapshot().percentiles(&[]).unwrap(),
        Vec::<f64>::new()
    );
}

#[test]
fn invalid_configuration_is_refused() {
    let invalid =
        |b: perf_core::MonitorBuilder| matches!(b.build(), Err(PerfError::InvalidConfig(_)));
    for bits in [0u8, 1, 11, 64, 255] {
        assert!(
            matches!(Precision::new(bits), Err(PerfError::InvalidConfig(_))),
            "{bits}"
        );
    }
    for bits in 2u8..=10 {
        assert_eq!(Precision::new(bits).unwrap().bits(), bits);
    }
    assert!(invalid(
        Monitor::builder().window_interval(Duration::from_micros(999))
    ));
    assert!(invalid(Monitor::builder().window_interval(Duration::ZERO)));
    assert!(invalid(
        Monitor::builder()
            .window_interval(Duration::from_secs(10))
            .window_retention(Duration::from_secs(5))
    ));
    assert!(invalid(
        Monitor::builder()
            .window_interval(Duration::from_millis(1))
            .window_retention(Duration::from_secs(1_000))
    ));
    // Window settings are not checked when windows are off.
    assert!(Monitor::builder()
        .windows(false)
        .window_interval(Duration::ZERO)
        .build()
        .is_ok());
}

/// Any `f64` at all, weighted towards the interesting ones.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => (-3.0f64..9.0).prop_map(|e| 10f64.powf(e)),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(0.0),
        1 => -1e9f64..0.0,
        1 => 1.8e19f64..1e30,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any mix of good and bad values: the statistics are exactly those of
    /// the good values, every bad one is counted, nothing panics.
    #[test]
    fn statistics_are_those_of_the_valid_values_only(values in prop::collection::vec(any_value(), 0..300)) {
        let monitor = monitor();
        let h = monitor.histogram("mixed", &[]).unwrap();
        let mut valid = Vec::new();
        let mut rejected = 0u64;
        for (i, &v) in values.iter().enumerate() {
            let result = if i % 2 == 0 { h.record(v) } else { monitor.record("mixed", &[], v) };
            let should_accept = v == 0.0 || (v > 0.0 && v < MAX_EXCLUSIVE);
            prop_assert_eq!(result.is_ok(), should_accept, "value {:e}", v);
            if should_accept {
                valid.push(if v == 0.0 { 0.0 } else { v });
            } else {
                rejected += 1;
                let expected = if v.is_nan() {
                    InvalidValueReason::NaN
                } else if v.is_infinite() {
                    InvalidValueReason::Infinite
                } else if v < 0.0 {
                    InvalidValueReason::Negative
                } else {
                    InvalidValueReason::TooLarge
                };
                prop_assert_eq!(reason_of(result), Some(expected), "value {:e}", v);
            }
        }
        let stats = monitor.stats("mixed", &[]).unwrap();
        prop_assert_eq!(stats.rejected, rejected);
        prop_assert_eq!(stats.count, valid.len() as u64);
        let direct = HistogramSnapshot::from_values(monitor.precision(), &valid).unwrap();
        prop_assert_eq!(stats.snapshot().buckets().collect::<Vec<_>>(), direct.buckets().collect::<Vec<_>>());
        prop_assert_eq!(stats.snapshot().zero_count(), direct.zero_count());
        prop_assert_eq!(stats.sum.to_bits(), direct.sum().to_bits());
        prop_assert_eq!(stats.min.to_bits(), direct.min().to_bits());
        prop_assert_eq!(stats.max.to_bits(), direct.max().to_bits());
        // from_values refuses the first bad value like a record does.
        if rejected > 0 {
            let refused = matches!(
                HistogramSnapshot::from_values(monitor.precision(), &values),
                Err(PerfError::InvalidValue { .. })
            );
            prop_assert!(refused, "from_values accepted a bad value");
        }
    }
}
