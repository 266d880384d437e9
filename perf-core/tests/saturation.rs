//! Counts saturate at `u64::MAX`, never wrap: bulk records, imported
//! histograms, counters, and what is saved and merged from them.

use perf_core::{Baseline, Monitor};

const MAX: u64 = u64::MAX;

#[test]
fn record_n_past_the_largest_count_saturates() {
    let monitor = Monitor::builder().build().unwrap();
    let h = monitor.histogram("bulk", &[]).unwrap();
    h.record_n(1.0, MAX).unwrap();
    h.record_n(1.0, 2).unwrap();
    h.record(1.0).unwrap();
    let stats = monitor.stats("bulk", &[]).unwrap();
    assert_eq!(stats.count, MAX);
    assert!((stats.p50 - 1.0).abs() <= 0.004);
    // Another bucket and another thread add up saturating too.
    std::thread::scope(|s| {
        s.spawn(|| h.record_n(1000.0, MAX / 2).unwrap());
    });
    let stats = monitor.stats("bulk", &[]).unwrap();
    assert_eq!(stats.count, MAX);
    assert_eq!(stats.max, 1000.0);
}

#[test]
fn importing_counts_near_two_to_the_63_three_times_saturates() {
    let source = Monitor::builder().build().unwrap();
    source
        .histogram("big", &[])
        .unwrap()
        .record_n(5.0, (1 << 63) - 1)
        .unwrap();
    let encoded = source.export_hdr("big", &[]).unwrap();
    let target = Monitor::builder().build().unwrap();
    for expected in [(1 << 63) - 1, MAX - 1, MAX] {
        target.import_hdr("big", &[], &encoded).unwrap();
        assert_eq!(target.stats("big", &[]).unwrap().count, expected);
    }
}

#[test]
fn a_counter_past_the_largest_count_saturates() {
    let monitor = Monitor::builder().build().unwrap();
    let c = monitor.counter("bytes", &[]).unwrap();
    c.increment(MAX - 1);
    c.increment(5);
    c.increment(1);
    assert_eq!(c.value(), MAX);
    assert!(monitor
        .export_prometheus()
        .contains(&format!("bytes_total {MAX}\n")));
}

#[test]
fn a_saturated_histogram_is_saved_and_read_back() {
    let monitor = Monitor::builder().build().unwrap();
    let h = monitor.histogram("bulk", &[]).unwrap();
    h.record_n(1.0, MAX).unwrap();
    h.record_n(9.0, MAX).unwrap();
    let baseline = monitor.baseline("run");
    let back = Baseline::from_json(&baseline.to_json()).unwrap();
    assert_eq!(back.to_json(), baseline.to_json());
    assert!(baseline.to_json().contains(&MAX.to_string()));
}
