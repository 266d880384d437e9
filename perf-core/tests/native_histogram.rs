//! Native histograms ([`NativeHistogram`]): every quantile read from the
//! conversion of random values, the way Prometheus's `histogram_quantile`
//! reads it, is within the documented bound of the exact value; counts and
//! sums are exact.

use perf_core::{HistogramSnapshot, NativeHistogram, Precision, MIN_BUCKETED};
use proptest::prelude::*;

/// Values spread over many octaves, zeros and repeats included.
fn values() -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        4 => (-20.0f64..40.0).prop_map(f64::exp2),
        2 => 1.0f64..2000.0,
        1 => Just(0.0),
        1 => 1e-30f64..1e-20,
        1 => (0u32..40).prop_map(|e| f64::from(e).exp2()),
        1 => 1e17f64..1.8e19,
    ];
    prop::collection::vec(value, 1..400)
}

/// The exact value Prometheus's rank `q · n` stands for: the one of rank
/// `ceil(q · n)` (nearest rank), from the sorted values.
fn exact(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn check(values: &[f64], bits: u8) -> Result<(), TestCaseError> {
    let precision = Precision::new(bits).unwrap();
    let snapshot = HistogramSnapshot::from_values(precision, values).unwrap();
    let native = NativeHistogram::from_snapshot(&snapshot);
    prop_assert_eq!(native.count(), values.len() as u64);
    prop_assert_eq!(native.sum(), snapshot.sum());
    let zeros = values.iter().filter(|&&v| v < MIN_BUCKETED).count() as u64;
    prop_assert_eq!(native.zero_count(), zeros);
    let bucketed: u64 = native.buckets().map(|b| b.2).sum();
    prop_assert_eq!(bucketed + zeros, native.count());

    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let bound = NativeHistogram::error_bound(precision);
    let n = sorted.len() as f64;
    let quantiles = (1..=sorted.len())
        .flat_map(|k| [k as f64 / n, (k as f64 - 0.5) / n])
        .chain([0.5, 0.9, 0.95, 0.99, 0.999]);
    for q in quantiles {
        let (x, v) = (native.quantile(q), exact(&sorted, q));
        // The zero bucket reads as [0, 2^-64]: an absolute error.
        let allowed = bound * v + if v < MIN_BUCKETED { MIN_BUCKETED } else { 0.0 };
        prop_assert!(
            (x - v).abs() <= allowed * (1.0 + 1e-12),
            "bits {} q {}: {} vs exact {} (error {:.5} %, bound {:.5} %)",
            bits,
            q,
            x,
            v,
            (x - v).abs() / v * 100.0,
            bound * 100.0
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_quantile_is_within_the_bound_at_the_default_precision(values in values()) {
        check(&values, Precision::DEFAULT.bits())?;
    }

    #[test]
    fn every_quantile_is_within_the_bound_at_every_precision(
        values in values(),
        bits in Precision::MIN_BITS..=Precision::MAX_BITS,
    ) {
        check(&values, bits)?;
    }
}

#[test]
fn the_bound_at_the_default_precision_is_below_one_percent() {
    let bound = NativeHistogram::error_bound(Precision::DEFAULT);
    assert!(bound < 0.01, "{bound}");
    assert!((bound - 0.006_628).abs() < 1e-6, "{bound}");
}

#[test]
fn dense_latencies_stay_within_the_bound() {
    // 20,000 values, lognormal-like around 20 ms, at the default precision.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let values: Vec<f64> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            20.0 * (4.0 * (u - 0.5)).exp()
        })
        .collect();
    check(&values, 7).unwrap();
}
