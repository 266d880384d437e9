//! The `metrics` facade adapter (feature `metrics`): the crate's macros feed
//! perf-core series through a local recorder, labels as tags, and bad keys
//! or values are counted, never panicked on.

#![cfg(feature = "metrics")]

use metrics::{counter, gauge, histogram, with_local_recorder};
use perf_core::{Monitor, PerfCoreRecorder, METRICS_ADAPTER_ERRORS_COUNTER};

fn monitor() -> Monitor {
    Monitor::builder().windows(false).build().unwrap()
}

/// The adapter-error count so far: the reserved counter can be looked up
/// once it exists, and does not exist before the first error.
fn adapter_errors(monitor: &Monitor) -> u64 {
    monitor
        .counter(METRICS_ADAPTER_ERRORS_COUNTER, &[])
        .map_or(0, |c| c.value())
}

#[test]
fn macros_feed_series_with_labels_as_tags() {
    let monitor = monitor();
    let recorder = monitor.metrics_recorder();
    with_local_recorder(&recorder, || {
        counter!("requests_total", "route" => "/a").increment(3);
        counter!("requests_total", "route" => "/a").increment(1);
        gauge!("in_flight").set(2.5);
        histogram!("lat", "route" => "/a").record(12.0);
        histogram!("lat", "route" => "/a").record(8.0);
    });
    let requests = monitor
        .counter("requests_total", &[("route", "/a")])
        .unwrap();
    assert_eq!(requests.value(), 4);
    assert_eq!(monitor.gauge("in_flight", &[]).unwrap().value(), 2.5);
    let stats = monitor.stats("lat", &[("route", "/a")]).unwrap();
    assert_eq!(stats.count, 2);
    assert!((stats.max - 12.0).abs() <= 12.0 * 0.004);
    assert_eq!(adapter_errors(&monitor), 0);
}

#[test]
fn gauges_move_up_and_down_and_counters_take_absolutes() {
    let monitor = monitor();
    with_local_recorder(&monitor.metrics_recorder(), || {
        let g = gauge!("queue.depth", "queue" => "mail");
        g.increment(5.0);
        g.decrement(1.5);
        let c = counter!("bytes_total");
        c.absolute(10);
        c.absolute(7); // smaller: ignored
        c.increment(1);
    });
    let depth = monitor.gauge("queue.depth", &[("queue", "mail")]).unwrap();
    assert_eq!(depth.value(), 3.5);
    assert_eq!(monitor.counter("bytes_total", &[]).unwrap().value(), 11);
}

#[test]
fn invalid_keys_and_values_are_counted_not_panicked_on() {
    let monitor = monitor();
    with_local_recorder(&monitor.metrics_recorder(), || {
        counter!("9lives").increment(1); // invalid name
        counter!("ok_total", "bad key!" => "x").increment(1); // invalid label
        gauge!("mixed").set(1.0);
        counter!("mixed").increment(1); // name taken by a gauge
        gauge!("temp").set(f64::NAN); // refused value
        histogram!("lat").record(-1.0); // refused value
        histogram!("lat").record(f64::INFINITY);
    });
    assert_eq!(adapter_errors(&monitor), 6);
    assert!(monitor
        .counter("ok_total", &[])
        .is_ok_and(|c| c.value() == 0));
    assert_eq!(monitor.gauge("temp", &[]).unwrap().value(), 0.0);
    let lat = monitor.histogram("lat", &[]).unwrap();
    assert_eq!((lat.stats().count, lat.rejected()), (0, 2));
}

#[test]
fn descriptions_are_accepted_and_the_recorder_is_cloneable() {
    let monitor = monitor();
    let recorder: PerfCoreRecorder = monitor.metrics_recorder().clone();
    with_local_recorder(&recorder, || {
        metrics::describe_counter!("jobs_total", "Jobs run");
        counter!("jobs_total").increment(2);
    });
    assert_eq!(monitor.counter("jobs_total", &[]).unwrap().value(), 2);
    assert!(format!("{recorder:?}").starts_with("PerfCoreRecorder"));
}
