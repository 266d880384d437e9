//! Properties of the histogram statistics: every percentile within the
//! precision bound of the exact nearest-rank percentile, exact count, exact
//! (integer) sums, exact cumulative min/max, merge = recording the union, and
//! the zero bucket.

mod common;

use common::{check_percentiles, exact_percentile, nearest_rank, sorted, FIXED_QS};
use perf_core::{
    HistogramSnapshot, ManualClock, Monitor, Precision, Timestamp, MAX_EXCLUSIVE, MIN_BUCKETED,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal, Pareto};

// ---------------------------------------------------------------------------
// Value generators
// ---------------------------------------------------------------------------

/// Whether `v` is in the range the accuracy guarantee covers.
fn bucketed(v: f64) -> bool {
    (MIN_BUCKETED..MAX_EXCLUSIVE).contains(&v)
}

/// Uniform values on `[lo, 1000 lo)` for a random `lo` between 1e-3 and 1e6.
fn uniform() -> impl Strategy<Value = Vec<f64>> {
    (1e-3f64..1e6).prop_flat_map(|lo| prop::collection::vec(lo..lo * 1000.0, 1..600))
}

/// Log-uniform values spread across the 12 decades 1e-3 .. 1e9.
fn twelve_decades() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-3.0f64..9.0).prop_map(|e| 10f64.powf(e)), 1..600)
}

/// Pareto samples (shape 0.3..3: infinite mean and variance at the low end).
fn pareto() -> impl Strategy<Value = Vec<f64>> {
    (any::<u64>(), 0.3f64..3.0, 1e-3f64..10.0, 1usize..1500).prop_map(|(seed, shape, scale, n)| {
        let mut rng = StdRng::seed_from_u64(seed);
        let dist = Pareto::new(scale, shape).unwrap();
        let mut v: Vec<f64> = (0..n)
            .map(|_| dist.sample(&mut rng))
            .filter(|&x| bucketed(x))
            .collect();
        if v.is_empty() {
            v.push(scale);
        }
        v
    })
}

/// Lognormal samples with a large sigma (up to 6: ~26 decades at ±4 sigma).
fn lognormal() -> impl Strategy<Value = Vec<f64>> {
    (any::<u64>(), -5.0f64..10.0, 1.0f64..6.0, 1usize..1500).prop_map(|(seed, mu, sigma, n)| {
        let mut rng = StdRng::seed_from_u64(seed);
        let dist = LogNormal::new(mu, sigma).unwrap();
        let mut v: Vec<f64> = (0..n)
            .map(|_| dist.sample(&mut rng))
            .filter(|&x| bucketed(x))
            .collect();
        if v.is_empty() {
            v.push(1.0);
        }
        v
    })
}

/// Small integers: many ties, which is where nearest-rank off-by-ones show.
fn ties() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((1u32..40).prop_map(f64::from), 1..1000)
}

/// Any value of the whole bucketed range `[2^-64, 2^64)`, uniform in bits.
fn full_range() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        (MIN_BUCKETED.to_bits()..MAX_EXCLUSIVE.to_bits()).prop_map(f64::from_bits),
        1..400,
    )
}

/// One of all the positive distributions above.
fn any_positive() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        uniform(),
        twelve_decades(),
        pareto(),
        lognormal(),
        ties(),
        full_range()
    ]
}

/// Arbitrary extra percentiles in `[0, 100]`, plus the fixed list.
fn qs() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0f64..=100.0, 0..10).prop_map(|mut extra| {
        extra.extend_from_slice(&FIXED_QS);
        extra
    })
}

fn precision(bits: u8) -> Precision {
    Precision::new(bits).unwrap()
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// Every accuracy property of one snapshot of `values`.
fn check_snapshot(bits: u8, values: &[f64], qs: &[f64]) -> Result<(), TestCaseError> {
    let p = precision(bits);
    let snap = HistogramSnapshot::from_values(p, values).unwrap();
    let bound = p.relative_error();
    prop_assert_eq!(bound, 0.5f64.powi(i32::from(bits) + 1));
    prop_assert_eq!(snap.count(), values.len() as u64);
    let s = sorted(values);
    // Cumulative extremes are exact, and q = 0 / q = 100 report them.
    prop_assert_eq!(snap.min(), s[0]);
    prop_assert_eq!(snap.max(), s[s.len() - 1]);
    prop_assert_eq!(snap.percentile(0.0).unwrap(), s[0]);
    prop_assert_eq!(snap.percentile(100.0).unwrap(), s[s.len() - 1]);
    check_percentiles(values, qs, bound, |q| snap.percentile(q).unwrap())
        .map_err(|e| TestCaseError::fail(format!("precision {bits}: {e}")))?;
    // The batch form agrees with single queries, in the caller's order.
    let batch = snap.percentiles(qs).unwrap();
    prop_assert_eq!(batch.len(), qs.len());
    for (&q, &v) in qs.iter().zip(&batch) {
        prop_assert_eq!(v, snap.percentile(q).unwrap(), "q = {}", q);
    }
    // Percentiles never decrease with q.
    let mut ordered = qs.to_vec();
    ordered.sort_by(f64::total_cmp);
    let values_in_q_order = snap.percentiles(&ordered).unwrap();
    for w in values_in_q_order.windows(2) {
        prop_assert!(
            w[0] <= w[1],
            "percentiles not monotonic: {:?}",
            values_in_q_order
        );
    }
    Ok(())
}

fn same_f64(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn close_sum(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// `a` and `b` hold the same data: count, zero bucket, buckets and extremes
/// identical; sums within 1e-12 relative.
fn same_data(a: &HistogramSnapshot, b: &HistogramSnapshot) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.precision(), b.precision());
    prop_assert_eq!(a.count(), b.count());
    prop_assert_eq!(a.zero_count(), b.zero_count());
    prop_assert_eq!(
        a.buckets().collect::<Vec<_>>(),
        b.buckets().collect::<Vec<_>>()
    );
    prop_assert!(same_f64(a.min(), b.min()), "min {} vs {}", a.min(), b.min());
    prop_assert!(same_f64(a.max(), b.max()), "max {} vs {}", a.max(), b.max());
    prop_assert!(
        close_sum(a.sum(), b.sum()),
        "sum {} vs {}",
        a.sum(),
        b.sum()
    );
    let qs = [0.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0];
    let (pa, pb) = (a.percentiles(&qs).unwrap(), b.percentiles(&qs).unwrap());
    for (x, y) in pa.iter().zip(&pb) {
        prop_assert!(same_f64(*x, *y), "percentiles {:?} vs {:?}", pa, pb);
    }
    Ok(())
}

/// Values for merge tests: possibly empty, with zeros and tiny values.
fn merge_values() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            1 => Just(0.0),
            1 => (0u64..MIN_BUCKETED.to_bits()).prop_map(f64::from_bits),
            8 => (-3.0f64..9.0).prop_map(|e| 10f64.powf(e)),
            2 => (1u32..100).prop_map(f64::from),
        ],
        0..300,
    )
}

// ---------------------------------------------------------------------------
// Percentile accuracy
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn percentiles_within_bound_uniform(values in uniform(), qs in qs()) {
        check_snapshot(7, &values, &qs)?;
    }

    #[test]
    fn percentiles_within_bound_twelve_decades(values in twelve_decades(), qs in qs()) {
        check_snapshot(7, &values, &qs)?;
    }

    #[test]
    fn percentiles_within_bound_pareto(values in pareto(), qs in qs()) {
        check_snapshot(7, &values, &qs)?;
    }

    #[test]
    fn percentiles_within_bound_lognormal(values in lognormal(), qs in qs()) {
        check_snapshot(7, &values, &qs)?;
    }

    #[test]
    fn percentiles_within_bound_with_ties(values in ties(), qs in qs()) {
        check_snapshot(7, &values, &qs)?;
    }

    #[test]
    fn percentiles_within_bound_over_the_whole_range(values in full_range(), qs in qs()) {
        check_snapshot(7, &values, &qs)?;
    }

    #[test]
    fn percentiles_within_bound_at_every_precision(
        bits in Precision::MIN_BITS..=Precision::MAX_BITS,
        values in any_positive(),
        qs in qs(),
    ) {
        check_snapshot(bits, &values, &qs)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same guarantee through the public recording path: a monitor's
    /// histogram handle, one-shot records, and the `Stats` fields.
    #[test]
    fn monitor_stats_within_bound(
        bits in Precision::MIN_BITS..=Precision::MAX_BITS,
        values in any_positive(),
        qs in qs(),
    ) {
        let p = precision(bits);
        let monitor = Monitor::builder()
            .clock(ManualClock::new(Timestamp::ZERO))
            .precision(p)
            .build()
            .unwrap();
        prop_assert_eq!(monitor.precision(), p);
        let h = monitor.histogram("latency", &[("route", "/x")]).unwrap();
        for (i, &v) in values.iter().enumerate() {
            if i % 2 == 0 {
                h.record(v).unwrap();
            } else {
                monitor.record("latency", &[("route", "/x")], v).unwrap();
            }
        }
        let stats = monitor.stats("latency", &[("route", "/x")]).unwrap();
        prop_assert_eq!(&stats, &h.stats());
        let s = sorted(&values);
        prop_assert_eq!(stats.count, values.len() as u64);
        prop_assert_eq!(stats.min, s[0]);
        prop_assert_eq!(stats.max, s[s.len() - 1]);
        prop_assert_eq!(stats.rejected, 0);
        let bound = p.relative_error();
        let fields = [
            (50.0, stats.p50),
            (75.0, stats.p75),
            (90.0, stats.p90),
            (95.0, stats.p95),
            (99.0, stats.p99),
            (99.9, stats.p999),
        ];
        for (q, reported) in fields {
            common::within(reported, exact_percentile(&s, q), bound)
                .map_err(|e| TestCaseError::fail(format!("Stats field p{q}: {e}")))?;
            prop_assert_eq!(reported, stats.percentile(q).unwrap());
        }
        check_percentiles(&values, &qs, bound, |q| stats.percentile(q).unwrap())
            .map_err(TestCaseError::fail)?;
        let mean = stats.sum / values.len() as f64;
        prop_assert_eq!(stats.mean, mean);
    }
}

#[test]
fn nearest_rank_reference_matches_the_spec_examples() {
    // The reference itself: rank = max(1, ceil(q/100 * n)), q as written.
    assert_eq!(nearest_rank(0.0, 10), 1);
    assert_eq!(nearest_rank(1e-300, 10), 1);
    assert_eq!(nearest_rank(50.0, 10), 5);
    assert_eq!(nearest_rank(50.0, 4), 2);
    assert_eq!(nearest_rank(51.0, 10), 6);
    assert_eq!(nearest_rank(100.0, 10), 10);
    assert_eq!(nearest_rank(99.9, 1000), 999);
    assert_eq!(nearest_rank(99.9, 1001), 1000);
    assert_eq!(nearest_rank(99.0, 1000), 990);
    assert_eq!(nearest_rank(10.0, 30), 3);
    assert_eq!(nearest_rank(12.5, 8), 1);
    assert_eq!(nearest_rank(12.5000001, 8), 2);
    assert_eq!(nearest_rank(99.99, 10_000), 9_999);
    let s: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(exact_percentile(&s, 90.0), 90.0);
}

#[test]
fn decimal_percentiles_hit_their_rank() {
    // In f64, 10 / 100 * 30 = 3.0000000000000004 and 99.9 / 100 * 1000 =
    // 999.0000000000001; the nearest rank of the decimal percentile is 3 and
    // 999, not 4 and 1000.
    let bound = Precision::DEFAULT.relative_error();
    let thirty: Vec<f64> = (1..=30).map(f64::from).collect();
    let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &thirty).unwrap();
    let p10 = snap.percentile(10.0).unwrap();
    assert!((p10 - 3.0).abs() <= 3.0 * bound, "p10 of 1..=30 = {p10}");
    let thousand: Vec<f64> = (1..=1000).map(f64::from).collect();
    let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &thousand).unwrap();
    let p999 = snap.percentile(99.9).unwrap();
    assert!(
        (p999 - 999.0).abs() <= 999.0 * bound,
        "p99.9 of 1..=1000 = {p999}"
    );
    // 999 ones and one 1000: p99.9 is 1, not the outlier.
    let mut outlier = vec![1.0; 999];
    outlier.push(1000.0);
    let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &outlier).unwrap();
    let p999 = snap.percentile(99.9).unwrap();
    assert!((p999 - 1.0).abs() <= bound, "p99.9 = {p999}");
    let stats = perf_core::Stats::from_snapshot(snap, 0);
    assert_eq!(stats.p999, p999);
}

#[test]
fn percentiles_of_a_known_distribution() {
    let values: Vec<f64> = (1..=10_000).map(f64::from).collect();
    let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &values).unwrap();
    for (q, exact) in [
        (50.0, 5000.0),
        (90.0, 9000.0),
        (99.0, 9900.0),
        (99.9, 9990.0),
    ] {
        let v = snap.percentile(q).unwrap();
        assert!(
            (v - exact).abs() <= exact * Precision::DEFAULT.relative_error(),
            "p{q} = {v}, exact {exact}"
        );
    }
    assert_eq!(snap.percentile(0.0).unwrap(), 1.0);
    assert_eq!(snap.percentile(100.0).unwrap(), 10_000.0);
    assert_eq!(Precision::DEFAULT.relative_error(), 0.00390625);
}

#[test]
fn bucket_boundaries_are_within_the_bound() {
    // Values sitting exactly on bucket edges (powers of two and their
    // sub-bucket edges) are the worst case of the midpoint error.
    for bits in Precision::MIN_BITS..=Precision::MAX_BITS {
        let p = precision(bits);
        let mut values = Vec::new();
        for e in [-64, -10, 0, 1, 20, 63] {
            let base = 2f64.powi(e);
            for sub in [0u32, 1, 3] {
                values.push(base * (1.0 + f64::from(sub) / f64::from(1u32 << bits)));
            }
            values.push(base * (2.0 - f64::EPSILON)); // just below the next octave
        }
        let snap = HistogramSnapshot::from_values(p, &values).unwrap();
        check_percentiles(&values, &FIXED_QS, p.relative_error(), |q| {
            snap.percentile(q).unwrap()
        })
        .unwrap_or_else(|e| panic!("precision {bits}: {e}"));
        // Every single value, alone in its own rank.
        let s = sorted(&values);
        for (i, &v) in s.iter().enumerate() {
            let q = (i as f64 + 0.5) / s.len() as f64 * 100.0;
            let reported = snap.percentile(q).unwrap();
            common::within(reported, v, p.relative_error())
                .unwrap_or_else(|e| panic!("precision {bits}, value {v}: {e}"));
        }
    }
}

// ---------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_equals_recording_the_union(
        bits in Precision::MIN_BITS..=Precision::MAX_BITS,
        a in merge_values(),
        b in merge_values(),
    ) {
        let p = precision(bits);
        let mut merged = HistogramSnapshot::from_values(p, &a).unwrap();
        merged.merge(&HistogramSnapshot::from_values(p, &b).unwrap());
        let union: Vec<f64> = a.iter().chain(&b).copied().collect();
        let direct = HistogramSnapshot::from_values(p, &union).unwrap();
        same_data(&merged, &direct)?;
    }

    #[test]
    fn merge_is_commutative(
        bits in Precision::MIN_BITS..=Precision::MAX_BITS,
        a in merge_values(),
        b in merge_values(),
    ) {
        let p = precision(bits);
        let sa = HistogramSnapshot::from_values(p, &a).unwrap();
        let sb = HistogramSnapshot::from_values(p, &b).unwrap();
        let mut ab = sa.clone();
        ab.merge(&sb);
        let mut ba = sb.clone();
        ba.merge(&sa);
        same_data(&ab, &ba)?;
        prop_assert_eq!(ab.sum(), ba.sum());
        prop_assert!(same_f64(ab.mean(), ba.mean()));
    }

    #[test]
    fn merge_with_empty_is_identity(bits in Precision::MIN_BITS..=Precision::MAX_BITS, a in merge_values()) {
        let p = precision(bits);
        let sa = HistogramSnapshot::from_values(p, &a).unwrap();
        let mut left = HistogramSnapshot::empty(p);
        left.merge(&sa);
        same_data(&left, &sa)?;
        let mut right = sa.clone();
        right.merge(&HistogramSnapshot::empty(p));
        same_data(&right, &sa)?;
    }

    #[test]
    fn merge_of_different_precisions_equals_the_union_at_the_coarser(
        bits_a in Precision::MIN_BITS..=Precision::MAX_BITS,
        bits_b in Precision::MIN_BITS..=Precision::MAX_BITS,
        a in merge_values(),
        b in merge_values(),
    ) {
        let mut merged = HistogramSnapshot::from_values(precision(bits_a), &a).unwrap();
        merged.merge(&HistogramSnapshot::from_values(precision(bits_b), &b).unwrap());
        let coarse = precision(bits_a.min(bits_b));
        let union: Vec<f64> = a.iter().chain(&b).copied().collect();
        let direct = HistogramSnapshot::from_values(coarse, &union).unwrap();
        same_data(&merged, &direct)?;
    }

    /// Merging the snapshots of several handles of a monitor equals one
    /// histogram of everything (the way many processes' snapshots combine).
    #[test]
    fn merging_series_snapshots_equals_one_histogram(parts in prop::collection::vec(merge_values(), 1..5)) {
        let monitor = Monitor::builder().windows(false).build().unwrap();
        let mut merged = HistogramSnapshot::empty(monitor.precision());
        let mut all = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let idx = i.to_string();
            let h = monitor.histogram("part", &[("i", idx.as_str())]).unwrap();
            for &v in part {
                h.record(v).unwrap();
            }
            merged.merge(&h.snapshot());
            all.extend_from_slice(part);
        }
        let direct = HistogramSnapshot::from_values(monitor.precision(), &all).unwrap();
        same_data(&merged, &direct)?;
    }
}

// ---------------------------------------------------------------------------
// Count and sum
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Integer inputs: the sum is the exact total when the total is
    /// representable, and the correctly rounded total otherwise.
    #[test]
    fn integer_sums_are_exact(values in prop::collection::vec(0u64..(1u64 << 53), 0..500)) {
        let floats: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        let total: u128 = values.iter().map(|&v| u128::from(v)).sum();
        let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &floats).unwrap();
        prop_assert_eq!(snap.count(), values.len() as u64);
        prop_assert_eq!(snap.sum(), total as f64);
    }

    /// Small integers next to a huge one: compensation keeps every unit.
    #[test]
    fn small_integers_next_to_a_huge_one_are_not_lost(
        huge in (1u64 << 52)..(1u64 << 62),
        small in prop::collection::vec(1u64..16, 1..2000),
        huge_first in any::<bool>(),
    ) {
        // The value actually recorded (above 2^53 not every integer is a double).
        let huge = huge as f64;
        let monitor = Monitor::builder().windows(false).build().unwrap();
        let h = monitor.histogram("sum", &[]).unwrap();
        if huge_first {
            h.record(huge).unwrap();
        }
        for &v in &small {
            h.record(v as f64).unwrap();
        }
        if !huge_first {
            h.record(huge).unwrap();
        }
        let total = huge as u128 + small.iter().map(|&v| u128::from(v)).sum::<u128>();
        let stats = h.stats();
        prop_assert_eq!(stats.count, small.len() as u64 + 1);
        prop_assert_eq!(stats.sum, total as f64);
    }

    /// Dyadic fractions (k / 1024) sum exactly too.
    #[test]
    fn dyadic_sums_are_exact(ks in prop::collection::vec(0u64..(1u64 << 30), 0..500)) {
        let values: Vec<f64> = ks.iter().map(|&k| k as f64 / 1024.0).collect();
        let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &values).unwrap();
        let total: u64 = ks.iter().sum();
        prop_assert_eq!(snap.sum(), total as f64 / 1024.0);
        prop_assert_eq!(snap.count(), ks.len() as u64);
    }

    /// Count is exact for any positive input, and equals zero bucket + buckets.
    #[test]
    fn count_is_exact(bits in Precision::MIN_BITS..=Precision::MAX_BITS, values in merge_values()) {
        let snap = HistogramSnapshot::from_values(precision(bits), &values).unwrap();
        prop_assert_eq!(snap.count(), values.len() as u64);
        let in_buckets: u64 = snap.buckets().map(|(_, _, c)| c).sum();
        prop_assert_eq!(snap.zero_count() + in_buckets, snap.count());
        // Every value lies in the bucket that counts it.
        for &v in &values {
            if v >= MIN_BUCKETED {
                let hits: u64 = snap
                    .buckets()
                    .filter(|&(lo, hi, _)| lo <= v && v < hi)
                    .map(|(_, _, c)| c)
                    .sum();
                prop_assert!(hits > 0, "value {} is in no bucket", v);
            }
        }
        prop_assert_eq!(snap.is_empty(), values.is_empty());
    }
}

/// Population mean and standard deviation by the two-pass formula.
fn exact_moments(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let m2: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (m2 / n).sqrt())
}

/// Values with a large common offset and a comparatively small spread.
fn offset_values() -> impl Strategy<Value = Vec<f64>> {
    (
        0.0f64..1e9,
        0.01f64..100.0,
        prop::collection::vec(0u32..1000, 2..400),
    )
        .prop_map(|(offset, scale, noise)| {
            noise
                .into_iter()
                .map(|k| offset + f64::from(k) * scale)
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Mean and stddev of cumulative statistics, of merged snapshots, and of
    /// data with a large offset agree with the two-pass values.
    #[test]
    fn mean_and_stddev_match_the_two_pass_values(
        values in prop_oneof![offset_values(), any_positive()],
        split in 0.0f64..1.0,
    ) {
        let (mean, stddev) = exact_moments(&values);
        let monitor = Monitor::builder().windows(false).build().unwrap();
        let h = monitor.histogram("moments", &[]).unwrap();
        for &v in &values {
            h.record(v).unwrap();
        }
        let at = ((values.len() as f64 * split) as usize).min(values.len());
        let mut merged = HistogramSnapshot::from_values(Precision::DEFAULT, &values[..at]).unwrap();
        merged.merge(&HistogramSnapshot::from_values(Precision::DEFAULT, &values[at..]).unwrap());
        let stats = h.stats();
        for (what, m, sd) in [
            ("stats", stats.mean, stats.stddev),
            ("merged", merged.mean(), merged.stddev()),
        ] {
            prop_assert!((m - mean).abs() <= 1e-12 * mean, "{} mean {} vs {}", what, m, mean);
            // Relative to the spread, with a floor for (nearly) constant data.
            let tolerance = 1e-6 * stddev + 1e-12 * mean;
            prop_assert!(
                (sd - stddev).abs() <= tolerance,
                "{} stddev {} vs two-pass {} (mean {})", what, sd, stddev, mean
            );
        }
    }
}

#[test]
fn compensated_sum_of_decimal_values_is_correctly_rounded() {
    // 0.1 a hundred thousand times: naive summation drifts away from the
    // correctly rounded total.
    let monitor = Monitor::builder().windows(false).build().unwrap();
    let h = monitor.histogram("tenths", &[]).unwrap();
    let n = 100_000;
    for _ in 0..n {
        h.record(0.1).unwrap();
    }
    // The exact sum of n copies of the double nearest 0.1, correctly rounded.
    let exact = 0.1f64 * n as f64; // one rounding of the exact product
    assert_eq!(h.stats().sum, exact);
    assert_eq!(h.stats().count, n);
}

// ---------------------------------------------------------------------------
// Zero and tiny values
// ---------------------------------------------------------------------------

fn tiny() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        (0u64..MIN_BUCKETED.to_bits()).prop_map(f64::from_bits),
        Just(MIN_BUCKETED * (1.0 - f64::EPSILON)),
        Just(f64::from_bits(1)), // smallest subnormal
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tiny_values_are_counted_and_reported_as_zero(
        tiny in prop::collection::vec(tiny(), 1..100),
        normal in prop::collection::vec((-3.0f64..9.0).prop_map(|e| 10f64.powf(e)), 0..100),
        with_exact_zero in any::<bool>(),
        qs in qs(),
    ) {
        let mut tiny = tiny;
        if with_exact_zero {
            tiny.push(0.0);
        }
        let mut values = tiny.clone();
        values.extend_from_slice(&normal);
        let monitor = Monitor::builder().windows(false).build().unwrap();
        let h = monitor.histogram("tiny", &[]).unwrap();
        for &v in &values {
            h.record(v).unwrap();
        }
        let stats = h.stats();
        let snap = stats.snapshot();
        prop_assert_eq!(stats.count, values.len() as u64);
        prop_assert_eq!(snap.zero_count(), tiny.len() as u64);
        prop_assert_eq!(stats.rejected, 0);
        let n = values.len();
        let zeros = tiny.len();
        let sorted_normal = sorted(&normal);
        let has_zero = tiny.contains(&0.0); // matches -0.0 too
        for &q in &qs {
            let reported = stats.percentile(q).unwrap();
            let rank = nearest_rank(q, n);
            if rank <= zeros {
                // In the zero bucket: reported as 0 (at most 2^-64 away), never negative.
                prop_assert!(
                    (0.0..MIN_BUCKETED).contains(&reported) && !reported.is_sign_negative(),
                    "q={} rank {} of {} zero-bucket values: reported {:e}", q, rank, zeros, reported
                );
                if rank == n {
                    // The top rank is the exact maximum (itself a tiny value).
                    prop_assert_eq!(reported, stats.max, "q={}", q);
                } else if has_zero {
                    prop_assert_eq!(reported.to_bits(), 0.0f64.to_bits(), "q={}", q);
                }
            } else {
                let exact = sorted_normal[rank - zeros - 1];
                common::within(reported, exact, monitor.precision().relative_error())
                    .map_err(|e| TestCaseError::fail(format!("q={q}: {e}")))?;
            }
        }
        prop_assert!(stats.min >= 0.0 && stats.min < MIN_BUCKETED && !stats.min.is_sign_negative());
    }
}

#[test]
fn zeros_and_negative_zeros_only() {
    let monitor = Monitor::builder().windows(false).build().unwrap();
    let h = monitor.histogram("zeros", &[]).unwrap();
    for v in [0.0, -0.0, 0.0, -0.0] {
        h.record(v).unwrap();
    }
    monitor.record("zeros", &[], -0.0).unwrap();
    let stats = monitor.stats("zeros", &[]).unwrap();
    assert_eq!(stats.count, 5);
    assert_eq!(stats.snapshot().zero_count(), 5);
    assert_eq!(stats.rejected, 0);
    for v in [
        stats.min, stats.max, stats.sum, stats.mean, stats.p50, stats.p999,
    ] {
        assert_eq!(v.to_bits(), 0.0f64.to_bits(), "{v} should be +0.0");
    }
    for q in FIXED_QS {
        assert_eq!(stats.percentile(q).unwrap().to_bits(), 0.0f64.to_bits());
    }
    assert_eq!(stats.stddev, 0.0);
}

#[test]
fn values_just_around_the_zero_bucket_edge() {
    let below = f64::from_bits(MIN_BUCKETED.to_bits() - 1);
    let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &[below, MIN_BUCKETED]).unwrap();
    assert_eq!(snap.zero_count(), 1);
    assert_eq!(snap.buckets().map(|b| b.2).sum::<u64>(), 1);
    let (lo, hi, _) = snap.buckets().next().unwrap();
    assert!(lo <= MIN_BUCKETED && MIN_BUCKETED < hi);
    let top = f64::from_bits(MAX_EXCLUSIVE.to_bits() - 1);
    let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &[top]).unwrap();
    assert_eq!(snap.max(), top);
    assert_eq!(snap.percentile(50.0).unwrap(), top);
}
