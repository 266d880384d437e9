//! Sliding windows driven by a `ManualClock`.
//!
//! The rule under test: time is cut into intervals of length `I` aligned to
//! the epoch; a window `W` covers `n = ceil(W / I)` intervals, the current one
//! included; a value recorded at `t` (interval `k = floor(t / I)`) is visible
//! in window reads at times `< (k + n) I` and gone from reads at `>= (k + n) I`.

mod common;

use std::time::Duration;

use common::{check_percentiles, manual_monitor, sorted};
use perf_core::{Clock, ManualClock, MetricKind, Monitor, PerfError, Precision, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const NS: Duration = Duration::from_nanos(1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn monitor_with(clock: &ManualClock, interval: Duration, retention: Duration) -> Monitor {
    Monitor::builder()
        .clock(clock.clone())
        .window_interval(interval)
        .window_retention(retention)
        .build()
        .unwrap()
}

fn window_count(monitor: &Monitor, name: &str, window: Duration) -> u64 {
    monitor.window_stats(name, &[], window).unwrap().count
}

/// The time from which a value recorded at `t` is gone from windows `w`.
fn gone_at(t: Timestamp, interval: Duration, window: Duration) -> Timestamp {
    let i = interval.as_nanos() as u64;
    let k = t.as_nanos() / i;
    let n = (window.as_nanos() as u64).div_ceil(i);
    Timestamp::from_nanos((k + n) * i)
}

// ---------------------------------------------------------------------------
// The boundary, to the nanosecond
// ---------------------------------------------------------------------------

#[test]
fn a_value_ages_out_exactly_at_the_window_boundary() {
    // Interval 1 s; recorded at 10.3 s (interval 10).
    for (window, gone) in [
        (secs(1), secs(11)),                     // n = 1: the current interval only
        (NS, secs(11)),                          // rounded up to one interval
        (Duration::from_millis(2500), secs(13)), // n = 3
        (secs(3), secs(13)),                     // n = 3
        (secs(3) + NS, secs(14)),                // n = 4
        (secs(60), secs(70)),
        (secs(300), secs(310)), // the whole retention
    ] {
        let (clock, monitor) =
            manual_monitor(Timestamp::from_secs(10) + Duration::from_millis(300));
        monitor.record("lat", &[], 5.0).unwrap();
        let gone = Timestamp::ZERO + gone;
        clock.set(Timestamp::from_nanos(gone.as_nanos() - 1));
        let w = monitor.window_stats("lat", &[], window).unwrap();
        assert_eq!(w.count, 1, "window {window:?}: gone before {gone}");
        assert_eq!(w.sum, 5.0);
        clock.advance(NS);
        assert_eq!(monitor.now(), gone);
        let w = monitor.window_stats("lat", &[], window).unwrap();
        assert_eq!(w.count, 0, "window {window:?}: still visible at {gone}");
        assert!(w.is_empty() && w.p50.is_nan() && w.min.is_nan() && w.max.is_nan());
        assert_eq!(w.sum, 0.0);
        // Cumulative statistics never age.
        assert_eq!(monitor.stats("lat", &[]).unwrap().count, 1);
    }
}

#[test]
fn values_recorded_before_an_advance_belong_to_the_old_interval_without_reads() {
    // Nobody reads between the records and the advances: attribution must
    // still be exact.
    let (clock, monitor) = manual_monitor(Timestamp::from_secs(5));
    let h = monitor.histogram("lat", &[]).unwrap();
    clock.advance(secs(1) - NS); // 5.999999999 s: last nanosecond of interval 5
    h.record(1.0).unwrap();
    monitor.record("lat", &[], 2.0).unwrap();
    clock.advance(NS); // 6 s: interval 6
    h.record(10.0).unwrap();
    // One big jump, no read in between: interval 5 had 2 values, interval 6 one.
    clock.advance(secs(1) - NS); // 6.999999999 s
    let w1 = monitor.window_stats("lat", &[], secs(1)).unwrap();
    assert_eq!((w1.count, w1.sum), (1, 10.0));
    let w2 = monitor.window_stats("lat", &[], secs(2)).unwrap();
    assert_eq!((w2.count, w2.sum), (3, 13.0));
    clock.advance(NS); // 7 s
    assert_eq!(window_count(&monitor, "lat", secs(1)), 0);
    assert_eq!(window_count(&monitor, "lat", secs(2)), 1);
    assert_eq!(window_count(&monitor, "lat", secs(3)), 3);
}

#[test]
fn a_single_large_advance_files_values_under_the_interval_they_were_recorded_in() {
    let (clock, monitor) = manual_monitor(Timestamp::ZERO);
    for i in 0..20 {
        let name = format!("s{i}");
        monitor.record(&name, &[], 1.0).unwrap();
    }
    // Jump 59.999999999 s without reading: the values are from interval 0.
    clock.advance(secs(60) - NS);
    for i in 0..20 {
        let name = format!("s{i}");
        assert_eq!(window_count(&monitor, &name, secs(60)), 1, "{name}");
        assert_eq!(window_count(&monitor, &name, secs(59)), 0, "{name}");
    }
    clock.advance(NS);
    for i in 0..20 {
        let name = format!("s{i}");
        assert_eq!(window_count(&monitor, &name, secs(60)), 0, "{name}");
        assert_eq!(monitor.stats(&name, &[]).unwrap().count, 1);
    }
}

#[test]
fn values_far_beyond_the_retention_are_gone() {
    let (clock, monitor) = manual_monitor(Timestamp::ZERO);
    monitor.record("lat", &[], 1.0).unwrap();
    clock.advance(secs(10_000));
    monitor.record("lat", &[], 2.0).unwrap();
    let w = monitor.window_stats("lat", &[], secs(300)).unwrap();
    assert_eq!((w.count, w.sum), (1, 2.0));
}

#[test]
fn a_window_of_the_whole_retention_holds_exactly_the_retained_intervals() {
    // One value per interval for 400 intervals; retention 300 intervals.
    let (clock, monitor) = manual_monitor(Timestamp::ZERO);
    let h = monitor.histogram("lat", &[]).unwrap();
    for i in 0..400u32 {
        h.record(f64::from(i)).unwrap();
        clock.advance(secs(1));
    }
    // Now at 400 s (interval 400): intervals 101..=400 are in a 300 s window.
    let w = monitor.window_stats("lat", &[], secs(300)).unwrap();
    assert_eq!(w.count, 299); // 101..=399 recorded, 400 has nothing yet
    assert_eq!(w.sum, (101..400).map(f64::from).sum::<f64>());
    let w = monitor.window_stats("lat", &[], secs(10)).unwrap();
    assert_eq!(w.count, 9); // 391..=399
    let bound = Precision::DEFAULT.relative_error();
    assert!((w.min - 391.0).abs() <= 391.0 * bound, "min {}", w.min);
    assert!((w.max - 399.0).abs() <= 399.0 * bound, "max {}", w.max);
}

#[test]
fn intervals_are_aligned_to_the_epoch_even_with_an_unaligned_start() {
    // A realistic wall-clock start, 250 ms intervals.
    let start = Timestamp::from_secs(1_700_000_000) + Duration::from_millis(1_234);
    let clock = ManualClock::new(start);
    let monitor = monitor_with(&clock, Duration::from_millis(250), secs(60));
    monitor.record("lat", &[], 3.0).unwrap();
    // 1_700_000_001.234 s is in the interval [1.0, 1.25) past the second; a
    // 600 ms window is 3 intervals, so the value leaves at 1.75 s.
    let gone = gone_at(
        start,
        Duration::from_millis(250),
        Duration::from_millis(600),
    );
    assert_eq!(
        gone,
        Timestamp::from_secs(1_700_000_001) + Duration::from_millis(750)
    );
    clock.set(Timestamp::from_nanos(gone.as_nanos() - 1));
    assert_eq!(window_count(&monitor, "lat", Duration::from_millis(600)), 1);
    clock.set(gone);
    assert_eq!(window_count(&monitor, "lat", Duration::from_millis(600)), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The boundary rule for arbitrary intervals, windows and record times,
    /// checked one nanosecond on each side, with or without reads before.
    #[test]
    fn boundary_rule_holds_for_any_configuration(
        interval_ns in 1_000_000u64..5_000_000_000,
        kept in 1u64..40,
        window_frac in 0.0f64..=1.0,
        start in 0u64..2_000_000_000_000,
        early_reads in prop::collection::vec(0.0f64..1.0, 0..4),
    ) {
        let interval = Duration::from_nanos(interval_ns);
        let retention = interval * kept as u32;
        let window_ns = ((retention.as_nanos() as f64 * window_frac) as u64).max(1);
        let window = Duration::from_nanos(window_ns);
        let t = Timestamp::from_nanos(start);
        let clock = ManualClock::new(t);
        let monitor = monitor_with(&clock, interval, retention);
        monitor.record("v", &[], 7.0).unwrap();
        let gone = gone_at(t, interval, window);
        prop_assert!(gone > t);
        let last_visible = Timestamp::from_nanos(gone.as_nanos() - 1);
        // Optional reads at random times before the boundary: always visible.
        let mut reads: Vec<u64> = early_reads
            .iter()
            .map(|f| t.as_nanos() + ((last_visible.as_nanos() - t.as_nanos()) as f64 * f) as u64)
            .collect();
        reads.sort_unstable();
        for r in reads {
            clock.set(Timestamp::from_nanos(r));
            prop_assert_eq!(window_count(&monitor, "v", window), 1, "read at {}", r);
        }
        clock.set(last_visible);
        prop_assert_eq!(window_count(&monitor, "v", window), 1, "gone before {}", gone);
        clock.advance(NS);
        prop_assert_eq!(window_count(&monitor, "v", window), 0, "visible at {}", gone);
        // The full-retention window keeps it longer, never shorter.
        prop_assert!(gone_at(t, interval, retention) >= gone);
    }
}

// ---------------------------------------------------------------------------
// Window statistics against the exact in-window values
// ---------------------------------------------------------------------------

/// One step of a schedule: advance the clock, then record these values.
fn schedule() -> impl Strategy<Value = Vec<(u64, Vec<u32>)>> {
    prop::collection::vec(
        (
            0u64..2_500,
            prop::collection::vec(prop_oneof![1u32..100, 1u32..1_000_000, Just(0u32)], 0..40),
        ),
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn window_stats_match_the_exact_in_window_values(
        steps in schedule(),
        window_ms in 1u64..=30_000,
        interval_ms in prop_oneof![Just(1_000u64), 100u64..3_000],
        qs in prop::collection::vec(0.0f64..=100.0, 0..6),
    ) {
        let interval = Duration::from_millis(interval_ms);
        let clock = ManualClock::new(Timestamp::from_secs(1_000));
        let monitor = monitor_with(&clock, interval, interval * 40);
        let window = Duration::from_millis(window_ms).min(interval * 40);
        let h = monitor.histogram("lat", &[("k", "v")]).unwrap();
        let mut recorded: Vec<(Timestamp, f64)> = Vec::new();
        for (advance_ms, values) in &steps {
            clock.advance(Duration::from_millis(*advance_ms));
            for (i, &v) in values.iter().enumerate() {
                let v = f64::from(v);
                if i % 3 == 0 {
                    monitor.record("lat", &[("k", "v")], v).unwrap();
                } else {
                    h.record(v).unwrap();
                }
                recorded.push((clock.now(), v));
            }
        }
        let now = clock.now();
        let in_window: Vec<f64> = recorded
            .iter()
            .filter(|(t, _)| now < gone_at(*t, interval, window))
            .map(|&(_, v)| v)
            .collect();
        let w = monitor.window_stats("lat", &[("k", "v")], window).unwrap();
        prop_assert_eq!(w.count, in_window.len() as u64);
        prop_assert_eq!(w.sum, in_window.iter().sum::<f64>());
        prop_assert_eq!(w.rejected, 0);
        if in_window.is_empty() {
            prop_assert!(w.p50.is_nan() && w.min.is_nan() && w.max.is_nan());
            return Ok(());
        }
        let bound = monitor.precision().relative_error();
        let s = sorted(&in_window);
        common::within(w.min, s[0], bound).map_err(|e| TestCaseError::fail(format!("min: {e}")))?;
        common::within(w.max, s[s.len() - 1], bound)
            .map_err(|e| TestCaseError::fail(format!("max: {e}")))?;
        let mut all_qs = qs.clone();
        all_qs.extend_from_slice(&common::FIXED_QS);
        check_percentiles(&in_window, &all_qs, bound, |q| w.percentile(q).unwrap())
            .map_err(TestCaseError::fail)?;
        for (q, v) in [(50.0, w.p50), (90.0, w.p90), (99.0, w.p99), (99.9, w.p999)] {
            prop_assert_eq!(v, w.percentile(q).unwrap());
        }
        // Cumulative statistics hold everything.
        let c = monitor.stats("lat", &[("k", "v")]).unwrap();
        prop_assert_eq!(c.count, recorded.len() as u64);
    }

    #[test]
    fn counter_rate_is_the_in_window_increase_over_the_rounded_window(
        steps in prop::collection::vec((0u64..2_500, 0u64..1_000), 1..40),
        window_ms in 1u64..=20_000,
    ) {
        let interval = secs(1);
        let clock = ManualClock::new(Timestamp::ZERO);
        let monitor = monitor_with(&clock, interval, secs(20));
        let c = monitor.counter("requests", &[]).unwrap();
        let mut incs: Vec<(Timestamp, u64)> = Vec::new();
        for &(advance_ms, n) in &steps {
            clock.advance(Duration::from_millis(advance_ms));
            c.increment(n);
            incs.push((clock.now(), n));
        }
        let window = Duration::from_millis(window_ms);
        let now = clock.now();
        let increase: u64 = incs
            .iter()
            .filter(|(t, _)| now < gone_at(*t, interval, window))
            .map(|&(_, n)| n)
            .sum();
        let n = window_ms.div_ceil(1_000);
        let rate = monitor.counter_rate("requests", &[], window).unwrap();
        prop_assert_eq!(rate, increase as f64 / n as f64);
    }
}

// ---------------------------------------------------------------------------
// Counter rates
// ---------------------------------------------------------------------------

#[test]
fn counter_rate_exact_values() {
    let (clock, monitor) = manual_monitor(Timestamp::ZERO);
    let c = monitor.counter("requests", &[("code", "200")]).unwrap();
    let rate = |w: Duration| {
        monitor
            .counter_rate("requests", &[("code", "200")], w)
            .unwrap()
    };
    c.increment(5); // interval 0
    clock.advance(secs(1));
    c.increment(7); // interval 1
    clock.advance(Duration::from_millis(500)); // 1.5 s
    assert_eq!(rate(secs(1)), 7.0);
    assert_eq!(rate(secs(2)), 6.0); // 12 over 2 s
    assert_eq!(rate(Duration::from_millis(1500)), 6.0); // rounded up to 2 s
    assert_eq!(rate(secs(4)), 3.0); // 12 over 4 s
    clock.advance(Duration::from_millis(500)); // 2 s
    assert_eq!(rate(secs(1)), 0.0);
    assert_eq!(rate(secs(2)), 3.5);
    assert_eq!(rate(secs(3)), 4.0);
    // 30 per second for 10 seconds.
    for _ in 0..10 {
        clock.advance(secs(1));
        c.increment(30);
    }
    assert_eq!(rate(secs(10)), 30.0);
    assert_eq!(rate(secs(5)), 30.0);
    assert_eq!(rate(secs(20)), (12.0 + 300.0) / 20.0);
    assert_eq!(c.value(), 312);
}

#[test]
fn counter_rate_with_sub_second_intervals() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = monitor_with(&clock, Duration::from_millis(300), secs(30));
    let c = monitor.counter("bytes", &[]).unwrap();
    c.increment(60); // interval 0: [0, 0.3)
    clock.advance(Duration::from_millis(300));
    c.increment(12); // interval 1
                     // A 1 s window is 4 intervals = 1.2 s.
    assert_eq!(
        monitor.counter_rate("bytes", &[], secs(1)).unwrap(),
        72.0 / 1.2
    );
    // A 300 ms window is the current interval only.
    assert_eq!(
        monitor
            .counter_rate("bytes", &[], Duration::from_millis(300))
            .unwrap(),
        12.0 / 0.3
    );
    clock.advance(Duration::from_millis(900)); // 1.2 s: interval 4
    assert_eq!(
        monitor.counter_rate("bytes", &[], secs(1)).unwrap(),
        12.0 / 1.2
    );
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn window_errors() {
    let (_clock, monitor) = manual_monitor(Timestamp::ZERO);
    monitor.record("lat", &[], 1.0).unwrap();
    monitor.counter("requests", &[]).unwrap().increment(1);
    let retention = secs(300);
    // The whole retention is allowed, one nanosecond more is not.
    assert!(monitor.window_stats("lat", &[], retention).is_ok());
    assert!(monitor.counter_rate("requests", &[], retention).is_ok());
    for window in [
        retention + NS,
        retention + secs(1),
        secs(3600),
        Duration::ZERO,
    ] {
        let expected = PerfError::InvalidWindow { window, retention };
        assert_eq!(
            monitor.window_stats("lat", &[], window),
            Err(expected.clone())
        );
        assert_eq!(monitor.counter_rate("requests", &[], window), Err(expected));
    }
    // Unknown series and kind mismatches.
    assert!(matches!(
        monitor.window_stats("nope", &[], secs(1)),
        Err(PerfError::UnknownSeries { .. })
    ));
    assert!(matches!(
        monitor.counter_rate("nope", &[], secs(1)),
        Err(PerfError::UnknownSeries { .. })
    ));
    assert_eq!(
        monitor.window_stats("requests", &[], secs(1)),
        Err(PerfError::KindMismatch {
            name: "requests".into(),
            existing: MetricKind::Counter,
            requested: MetricKind::Histogram,
        })
    );
    assert_eq!(
        monitor.counter_rate("lat", &[], secs(1)),
        Err(PerfError::KindMismatch {
            name: "lat".into(),
            existing: MetricKind::Histogram,
            requested: MetricKind::Counter,
        })
    );
}

#[test]
fn a_window_longer_than_an_unaligned_retention_is_refused() {
    // Retention 10 s with 3 s intervals: the longest window that can be asked
    // for is the configured 10 s, not the 12 s of four whole intervals.
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = monitor_with(&clock, secs(3), secs(10));
    monitor.record("lat", &[], 1.0).unwrap();
    assert!(monitor.window_stats("lat", &[], secs(10)).is_ok());
    let window = secs(10) + NS;
    assert_eq!(
        monitor.window_stats("lat", &[], window),
        Err(PerfError::InvalidWindow {
            window,
            retention: secs(10),
        })
    );
}

#[test]
fn disabled_windows_refuse_window_queries() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .windows(false)
        .build()
        .unwrap();
    assert_eq!(monitor.window_interval(), None);
    monitor.record("lat", &[], 1.0).unwrap();
    monitor.counter("requests", &[]).unwrap().increment(3);
    assert_eq!(
        monitor.window_stats("lat", &[], secs(1)),
        Err(PerfError::WindowsDisabled)
    );
    assert_eq!(
        monitor.counter_rate("requests", &[], secs(1)),
        Err(PerfError::WindowsDisabled)
    );
    clock.advance(secs(5)); // no listener: nothing to tick, no panic
    monitor.tick();
    assert_eq!(monitor.stats("lat", &[]).unwrap().count, 1);
    let enabled = Monitor::builder().clock(clock).build().unwrap();
    assert_eq!(enabled.window_interval(), Some(secs(1)));
}

#[test]
fn a_value_too_small_to_change_the_sum_still_ages_out_on_time() {
    // 1.0, then 2^63: the sum stays 2^63 and its compensation holds 1; then
    // 1000, which the compensation absorbs too. A later 1e-14 changes neither
    // the sum, its compensation, the sum of squared deviations (from 1.0) nor
    // the zero count, but it is still a value recorded in interval 2 and must
    // leave a 1 s window at 3 s like any other.
    let (clock, monitor) = manual_monitor(Timestamp::ZERO);
    let h = monitor.histogram("lat", &[]).unwrap();
    h.record(1.0).unwrap();
    h.record(2f64.powi(63)).unwrap();
    clock.advance(secs(1));
    h.record(1000.0).unwrap();
    clock.advance(secs(1));
    h.record(1e-14).unwrap(); // interval 2
    clock.advance(secs(1)); // 3 s: interval 2 is out of a 1 s window
    assert_eq!(h.stats().count, 4);
    let w = monitor.window_stats("lat", &[], secs(1)).unwrap();
    assert_eq!(
        w.count, 0,
        "the value from interval 2 is still in the 1 s window at 3 s"
    );
    let w = monitor.window_stats("lat", &[], secs(2)).unwrap();
    assert_eq!(w.count, 1);
    let w = monitor.window_stats("lat", &[], secs(3)).unwrap();
    assert_eq!(w.count, 2);
}

#[test]
fn window_sum_mean_and_stddev_are_accurate_after_large_earlier_values() {
    // Interval 0: a thousand values of 1e12 (a cumulative sum of 1e15).
    // Interval 1: 0.1, 0.2, 0.3. The 1 s window at interval 1 holds only the
    // small values; its sum, mean and stddev must be theirs, not what is left
    // of subtracting two cumulative sums near 1e15.
    let (clock, monitor) = manual_monitor(Timestamp::ZERO);
    let h = monitor.histogram("lat", &[]).unwrap();
    for _ in 0..1000 {
        h.record(1e12).unwrap();
    }
    clock.advance(secs(1));
    let small = [0.1, 0.2, 0.3];
    for v in small {
        h.record(v).unwrap();
    }
    let w = monitor.window_stats("lat", &[], secs(1)).unwrap();
    assert_eq!(w.count, 3);
    let sum: f64 = small.iter().sum();
    let mean = sum / 3.0;
    let stddev = (small.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 3.0).sqrt();
    assert!(
        (w.sum - sum).abs() <= 1e-9 * sum,
        "window sum {} != {sum}",
        w.sum
    );
    assert!(
        (w.mean - mean).abs() <= 1e-9 * mean,
        "window mean {} != {mean}",
        w.mean
    );
    // Subtracting cumulative moments near 1e24 is ill-conditioned here, so the
    // window's stddev comes from its buckets: documented to be within
    // `relative_error · rms` of the exact value.
    let rms = (small.iter().map(|v| v * v).sum::<f64>() / 3.0).sqrt();
    let bound = monitor.precision().relative_error() * rms;
    assert!(
        (w.stddev - stddev).abs() <= bound,
        "window stddev {} != {stddev} (bound {bound})",
        w.stddev
    );
}

// ---------------------------------------------------------------------------
// Several monitors on one clock
// ---------------------------------------------------------------------------

#[test]
fn monitors_sharing_a_clock_each_age_out_exactly() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let a = monitor_with(&clock, secs(1), secs(60));
    let b = monitor_with(&clock, Duration::from_millis(250), secs(60));
    let c = monitor_with(&clock, secs(1), secs(60));
    assert_eq!(a.now(), b.now());
    clock.advance(Duration::from_millis(900)); // 0.9 s
    a.record("lat", &[], 1.0).unwrap(); // a: interval 0 -> gone at 2 s for W = 2 s
    b.record("lat", &[], 2.0).unwrap(); // b: interval 3 -> gone at 1.5 s for W = 0.75 s
    c.record("lat", &[], 3.0).unwrap();
    clock.set(Timestamp::from_nanos(1_500_000_000 - 1));
    assert_eq!(window_count(&b, "lat", Duration::from_millis(750)), 1);
    assert_eq!(window_count(&b, "lat", Duration::from_millis(500)), 0); // gone at 1.25 s
    clock.advance(NS); // 1.5 s
    assert_eq!(window_count(&b, "lat", Duration::from_millis(750)), 0);
    assert_eq!(window_count(&a, "lat", secs(2)), 1);
    // Dropping one monitor does not disturb the others or the clock.
    drop(c);
    clock.set(Timestamp::from_nanos(2_000_000_000 - 1));
    assert_eq!(window_count(&a, "lat", secs(2)), 1);
    clock.advance(NS);
    assert_eq!(window_count(&a, "lat", secs(2)), 0);
    assert_eq!(b.now(), Timestamp::from_secs(2));
    // Each monitor saw only its own value.
    assert_eq!(a.stats("lat", &[]).unwrap().sum, 1.0);
    assert_eq!(b.stats("lat", &[]).unwrap().sum, 2.0);
}

#[test]
fn a_clock_set_to_the_past_is_ignored() {
    let (clock, monitor) = manual_monitor(Timestamp::from_secs(10));
    monitor.record("lat", &[], 1.0).unwrap();
    clock.set(Timestamp::from_secs(5));
    assert_eq!(monitor.now(), Timestamp::from_secs(10));
    assert_eq!(window_count(&monitor, "lat", secs(1)), 1);
    monitor.tick(); // an explicit tick changes nothing
    assert_eq!(window_count(&monitor, "lat", secs(1)), 1);
    clock.set(Timestamp::from_secs(11));
    assert_eq!(window_count(&monitor, "lat", secs(1)), 0);
}
