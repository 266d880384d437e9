//! HdrHistogram interchange at the monitor: export of a series, import and
//! merge of many, errors, and `record_n`'s equivalence with `n` records.

mod common;

use perf_core::{HdrOptions, Monitor, PerfError, Precision};
use proptest::prelude::*;

/// Combined bound of a round trip: perf-core's error twice (export, then
/// import) plus HdrHistogram's at 3 digits, relative.
const ROUND_TRIP_ERROR: f64 = 0.0039 * 2.0 + 0.001;

fn monitor() -> Monitor {
    Monitor::builder().build().unwrap()
}

fn latencies(seed: u64, n: usize) -> Vec<f64> {
    // A deterministic long-tailed spread over 0.05 ms .. 5 s.
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            0.05 * 10f64.powf(5.0 * u * u)
        })
        .collect()
}

fn assert_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= a.abs() * ROUND_TRIP_ERROR + 1e-3,
        "{what}: {a} vs {b}"
    );
}

#[test]
fn imports_of_many_processes_merge_into_one_view() {
    let fleet = monitor();
    let mut all = Vec::new();
    for host in 0..5u64 {
        let process = monitor();
        let values = latencies(host, 2_000);
        for &v in &values {
            process
                .record("http.duration", &[("route", "/api")], v)
                .unwrap();
        }
        all.extend(values);
        let hdr = process
            .export_hdr("http.duration", &[("route", "/api")])
            .unwrap();
        fleet
            .import_hdr("http.duration", &[("route", "/api")], &hdr)
            .unwrap();
    }
    let merged = fleet.stats("http.duration", &[("route", "/api")]).unwrap();
    assert_eq!(merged.count, 10_000);
    let exact = common::sorted(&all);
    for q in [50.0, 90.0, 99.0, 99.9] {
        assert_close(
            common::exact_percentile(&exact, q),
            merged.percentile(q).unwrap(),
            &format!("p{q}"),
        );
    }
    let sum: f64 = all.iter().sum();
    assert_close(sum, merged.sum, "sum");
}

#[test]
fn imported_values_count_in_the_current_window() {
    let fleet = monitor();
    let other = monitor();
    other.record("q", &[], 7.0).unwrap();
    fleet
        .import_hdr("q", &[], &other.export_hdr("q", &[]).unwrap())
        .unwrap();
    let window = fleet
        .window_stats("q", &[], std::time::Duration::from_secs(60))
        .unwrap();
    assert_eq!(window.count, 1);
}

#[test]
fn a_scale_maps_units() {
    let seconds = monitor();
    seconds.record("job.seconds", &[], 1.25).unwrap();
    let micros = HdrOptions::new().scale(1e6);
    let hdr = seconds
        .export_hdr_with("job.seconds", &[], &micros)
        .unwrap();
    let back = monitor();
    back.import_hdr_with("job.seconds", &[], &hdr, &micros)
        .unwrap();
    assert_close(1.25, back.stats("job.seconds", &[]).unwrap().max, "max");
    // Read with the default scale the same integers are 1,000 times larger.
    let milli = monitor();
    milli.import_hdr("job.seconds", &[], &hdr).unwrap();
    assert_close(
        1250.0,
        milli.stats("job.seconds", &[]).unwrap().max,
        "max at 1e3",
    );
}

#[test]
fn an_empty_histogram_round_trips() {
    let m = monitor();
    m.histogram("idle", &[]).unwrap();
    let hdr = m.export_hdr("idle", &[]).unwrap();
    let back = monitor();
    back.import_hdr("idle", &[], &hdr).unwrap();
    assert_eq!(back.stats("idle", &[]).unwrap().count, 0);
}

#[test]
fn errors_are_typed_and_record_nothing() {
    let m = monitor();
    assert!(matches!(
        m.export_hdr("missing", &[]),
        Err(PerfError::UnknownSeries { .. })
    ));
    m.counter("jobs", &[]).unwrap().increment(1);
    assert!(matches!(
        m.export_hdr("jobs", &[]),
        Err(PerfError::KindMismatch { .. })
    ));
    let other = monitor();
    other.record("q", &[], 1.0).unwrap();
    let hdr = other.export_hdr("q", &[]).unwrap();
    assert!(matches!(
        m.import_hdr("jobs", &[], &hdr),
        Err(PerfError::KindMismatch { .. })
    ));
    m.record("q", &[], 2.0).unwrap();
    for bad in ["", "HISTF", "bm90IGEgaGlzdG9ncmFt", &hdr[..hdr.len() - 8]] {
        let err = m.import_hdr("q", &[], bad).unwrap_err();
        assert!(
            matches!(err, PerfError::InvalidHdr { .. }),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(m.stats("q", &[]).unwrap().count, 1);
    assert!(matches!(
        m.import_hdr("bad name!", &[], &hdr),
        Err(PerfError::InvalidName { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `record_n(v, n)` leaves the same statistics as `n` calls of `record(v)`.
    #[test]
    fn record_n_equals_n_records(values in prop::collection::vec((0.0f64..1e6, 0u64..50), 1..20)) {
        let m = monitor();
        let (batched, single) = (m.histogram("batched", &[]).unwrap(), m.histogram("single", &[]).unwrap());
        for &(v, n) in &values {
            batched.record_n(v, n).unwrap();
            for _ in 0..n {
                single.record(v).unwrap();
            }
        }
        let (a, b) = (batched.snapshot(), single.snapshot());
        prop_assert_eq!(a.count(), b.count());
        prop_assert_eq!(a.buckets().collect::<Vec<_>>(), b.buckets().collect::<Vec<_>>());
        prop_assert_eq!(a.zero_count(), b.zero_count());
        prop_assert!((a.sum() - b.sum()).abs() <= b.sum() * 1e-12);
        if b.count() > 1 {
            prop_assert!((a.stddev() - b.stddev()).abs() <= b.stddev() * 1e-6 + 1e-9);
        }
        prop_assert_eq!(a.min().to_bits(), b.min().to_bits());
    }

    /// An export imported elsewhere keeps every count and every percentile
    /// within the round-trip bound, at any precision.
    #[test]
    fn round_trip_counts_are_exact(seed in any::<u64>(), n in 1usize..3_000, bits in 4u8..=10) {
        let precision = Precision::new(bits).unwrap();
        let src = Monitor::builder().precision(precision).build().unwrap();
        let values = latencies(seed, n);
        for &v in &values {
            src.record("x", &[], v).unwrap();
        }
        let back = monitor();
        back.import_hdr("x", &[], &src.export_hdr("x", &[]).unwrap()).unwrap();
        let (a, b) = (src.stats("x", &[]).unwrap(), back.stats("x", &[]).unwrap());
        prop_assert_eq!(a.count, b.count);
        let bound = precision.relative_error() + ROUND_TRIP_ERROR;
        for q in [50.0, 99.0] {
            let (pa, pb) = (a.percentile(q).unwrap(), b.percentile(q).unwrap());
            prop_assert!((pa - pb).abs() <= pa * bound + 1e-3, "p{}: {} vs {}", q, pa, pb);
        }
    }
}
