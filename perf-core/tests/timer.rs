//! Timers and durations: elapsed time from the monitor's clock, recorded in
//! milliseconds.

use std::time::Duration;

use perf_core::{ManualClock, Monitor, Timestamp};

fn setup() -> (ManualClock, Monitor) {
    let clock = ManualClock::new(Timestamp::from_secs(1_000));
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    (clock, monitor)
}

/// The duration in milliseconds, correctly rounded: exact for whole
/// milliseconds (and whole nanoseconds below 2^53 ns / 1e6 is one rounding).
fn exact_ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

#[test]
fn a_dropped_timer_records_the_elapsed_milliseconds() {
    let (clock, monitor) = setup();
    let h = monitor.histogram("job", &[]).unwrap();
    {
        let _timer = h.start_timer();
        clock.advance(Duration::from_millis(40));
    }
    let s = h.stats();
    assert_eq!(s.count, 1);
    assert_eq!((s.min, s.max, s.sum), (40.0, 40.0, 40.0));
}

#[test]
fn stop_records_and_returns_the_elapsed_duration() {
    let (clock, monitor) = setup();
    let h = monitor.histogram("job", &[]).unwrap();
    let timer = h.start_timer();
    clock.advance(Duration::from_millis(7));
    clock.advance(Duration::from_micros(250));
    let elapsed = timer.stop();
    assert_eq!(elapsed, Duration::from_micros(7_250));
    let s = h.stats();
    assert_eq!(s.count, 1, "stop records exactly once (not again on drop)");
    assert_eq!(s.max, 7.25);
    // Time passing after stop changes nothing.
    clock.advance(Duration::from_secs(1));
    assert_eq!(h.stats().count, 1);
}

#[test]
fn discard_records_nothing() {
    let (clock, monitor) = setup();
    let h = monitor.histogram("job", &[]).unwrap();
    let timer = h.start_timer();
    clock.advance(Duration::from_millis(500));
    timer.discard();
    assert_eq!(h.stats().count, 0);
    assert_eq!(h.rejected(), 0);
    assert_eq!(monitor.stats("job", &[]).unwrap().count, 0);
}

#[test]
fn a_timer_with_no_elapsed_time_records_zero() {
    let (_clock, monitor) = setup();
    let h = monitor.histogram("job", &[]).unwrap();
    assert_eq!(h.start_timer().stop(), Duration::ZERO);
    let s = h.stats();
    assert_eq!((s.count, s.max), (1, 0.0));
    assert_eq!(s.snapshot().zero_count(), 1);
}

#[test]
fn nested_timers_measure_their_own_spans() {
    let (clock, monitor) = setup();
    let outer_h = monitor.histogram("outer", &[]).unwrap();
    let inner_h = monitor.histogram("inner", &[]).unwrap();
    let outer = outer_h.start_timer();
    clock.advance(Duration::from_millis(10));
    let inner = inner_h.start_timer();
    clock.advance(Duration::from_millis(5));
    assert_eq!(inner.stop(), Duration::from_millis(5));
    clock.advance(Duration::from_millis(1));
    assert_eq!(outer.stop(), Duration::from_millis(16));
    assert_eq!(inner_h.stats().max, 5.0);
    assert_eq!(outer_h.stats().max, 16.0);
}

#[test]
fn timers_record_exact_whole_milliseconds() {
    let (clock, monitor) = setup();
    for ms in [1u64, 7, 40, 999, 1_000, 1_001, 1_003, 12_345, 86_400_000] {
        let tag = ms.to_string();
        let h = monitor.histogram("timed", &[("ms", &tag)]).unwrap();
        let timer = h.start_timer();
        clock.advance(Duration::from_millis(ms));
        assert_eq!(timer.stop(), Duration::from_millis(ms));
        let s = h.stats();
        assert_eq!(s.count, 1);
        assert_eq!(s.max, ms as f64, "a {ms} ms timer recorded {:?}", s.max);
        assert_eq!(s.sum, ms as f64);
    }
}

#[test]
fn record_duration_records_correctly_rounded_milliseconds() {
    // One series per duration: raise the cap above the 2004 series made here.
    let monitor = Monitor::builder()
        .max_series_per_metric(10_000)
        .build()
        .unwrap();
    let mut durations: Vec<Duration> = (0..1_500u64).map(Duration::from_millis).collect();
    durations.extend((0..500u64).map(|us| Duration::from_micros(us * 7)));
    durations.extend([
        Duration::from_nanos(1),
        Duration::from_nanos(123_456_789),
        Duration::from_secs(3_600),
        Duration::new(86_400, 1),
    ]);
    let mut wrong = Vec::new();
    for d in &durations {
        // One value per series, so its exact max is the recorded value.
        let tag = d.as_nanos().to_string();
        let h = monitor.histogram("single", &[("ns", &tag)]).unwrap();
        h.record_duration(*d).unwrap();
        let got = h.stats().max;
        if got != exact_ms(*d) {
            wrong.push((*d, got, exact_ms(*d)));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} durations recorded inexactly, e.g. {:?}",
        wrong.len(),
        durations.len(),
        &wrong[..wrong.len().min(5)]
    );
}

#[test]
fn a_timer_is_filed_in_the_window_interval_it_stopped_in() {
    let (clock, monitor) = setup(); // 1000 s: interval 1000
    let h = monitor.histogram("job", &[]).unwrap();
    let timer = h.start_timer();
    clock.advance(Duration::from_millis(1_500)); // 1001.5 s: interval 1001
    timer.stop();
    let w = |s: u64| {
        monitor
            .window_stats("job", &[], Duration::from_secs(s))
            .unwrap()
            .count
    };
    assert_eq!(w(1), 1);
    clock.advance(Duration::from_millis(500)); // 1002 s
    assert_eq!(w(1), 0);
    assert_eq!(w(2), 1);
}
