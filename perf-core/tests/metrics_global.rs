//! Installing perf-core as the global `metrics` recorder (feature
//! `metrics`). In its own test binary: the global recorder is process-wide
//! and can be set only once.

#![cfg(feature = "metrics")]

use perf_core::{Monitor, PerfError};

#[test]
fn installs_once_and_refuses_a_second_recorder() {
    let monitor = Monitor::builder().windows(false).build().unwrap();
    monitor.install_metrics_recorder().unwrap();
    metrics::counter!("global_total", "via" => "macro").increment(5);
    let total = monitor
        .counter("global_total", &[("via", "macro")])
        .unwrap();
    assert_eq!(total.value(), 5);

    let other = Monitor::builder().windows(false).build().unwrap();
    let again = other.install_metrics_recorder();
    assert!(matches!(again, Err(PerfError::InvalidConfig(_))));
    metrics::counter!("global_total", "via" => "macro").increment(1);
    assert_eq!(total.value(), 6); // the first recorder stays
}
