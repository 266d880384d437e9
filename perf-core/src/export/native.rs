//! A [`HistogramSnapshot`] as a Prometheus native histogram: sparse,
//! exponential buckets (schema [`NATIVE_SCHEMA`]), a zero bucket, the exact
//! count and sum.
//!
//! # The layout
//!
//! A native histogram of schema `n` has the bucket boundaries
//! `base^i`, `base = 2^(2^-n)`: bucket `i` covers `(base^(i-1), base^i]`,
//! and every power of two is a boundary. Values in `[-t, t]` (`t` the zero
//! threshold) count in the zero bucket.
//!
//! perf-core's buckets are linear inside each octave (`2^bits` equal
//! sub-buckets of `[2^e, 2^(e+1))`, see [`crate::Precision`]), so for any
//! schema above 0 their edges and the native ones do not line up: a
//! perf-core bucket straddles native boundaries. The conversion therefore
//! counts each perf-core bucket `[lo, hi)` whole in the native bucket that
//! holds its midpoint `r = (lo + hi) / 2` — the value perf-core itself
//! reports for that bucket. Count and order are kept: the `k`-th smallest
//! value `v` is represented by the `k`-th smallest midpoint `r(v)`, and
//! `|r(v) - v| <= ε·v` with `ε = 2^-(bits+1)` (perf-core's own bound).
//!
//! Zero bucket: perf-core's zero bucket `[0, 2^-64)` becomes the native
//! zero bucket with threshold `t = 2^-64` ([`NATIVE_ZERO_THRESHOLD`],
//! `MIN_BUCKETED`). Every midpoint is above `2^-64`, so no perf-core bucket
//! lands in it, and a quantile read from it is in `[0, 2^-64]`: the same
//! absolute error perf-core has in-process.
//!
//! # The error bound
//!
//! A quantile `q` read from the native histogram the Prometheus way
//! (`histogram_quantile`: the rank `q·count`, the first bucket whose
//! cumulative count reaches it, a value inside that bucket's bounds) lies in
//! the native bucket `(L, U]`, `U = L·base`, that holds `r*`, the midpoint
//! standing for the exact nearest-rank value `v*` (rank `⌈q·count⌉`). So
//! `r*/base <= x <= r*·base`, and with `(1-ε)·v* <= r* <= (1+ε)·v*`:
//!
//! ```text
//! |x - v*| / v*  <=  (1 + ε) · base - 1  =  (1 + 2^-(bits+1)) · 2^(2^-n) - 1
//! ```
//!
//! (the lower side, `1 - (1-ε)/base`, is smaller). At schema 8 and the
//! default 7 bits that is **0.663 %** (0.39 % from perf-core, 0.27 % from the
//! native bucket); at 10 bits 0.32 %, at 6 bits 1.05 %, at 2 bits 12.8 %.
//! [`NativeHistogram::error_bound`] computes it. The bound does not depend
//! on how Prometheus interpolates inside the bucket (linearly in 2.42).
//! Floating-point aside: native boundaries are computed with `exp2`, and
//! Prometheus uses its own table of the same constants, so a midpoint within
//! one ulp of a boundary may land on the other side of it.
//!
//! # Why schema 8 at every precision
//!
//! The bound falls as the schema grows, for every precision: the midpoint's
//! error `ε` and the native bucket's `base - 1` add, and no schema above 0
//! aligns with perf-core's linear sub-buckets (schemas 0 and below align
//! with octaves, but their buckets are whole octaves wide). The finest
//! schema Prometheus accepts, 8 (256 buckets per octave, `base - 1` =
//! 0.27 %), is therefore the one that loses least at every precision
//! perf-core offers (2 to 10 bits). It costs no extra counts: each
//! perf-core bucket goes into exactly one native bucket, so a native
//! histogram never has more non-empty buckets than its snapshot (only the
//! gaps between them, encoded as spans, grow with the schema). One schema
//! for every precision also means histograms of processes with different
//! precisions add up in Prometheus without being coarsened.
//!
//! # Counts
//!
//! `count` (Prometheus's `sample_count`, a `uint64`) and `zero_count` are
//! the snapshot's exactly, and the sum is the snapshot's sum. Native bucket
//! counts are delta-encoded `int64`s: a count above `i64::MAX` (only
//! reachable through perf-core's saturation at `u64::MAX`) is written as
//! `i64::MAX`.

use std::sync::OnceLock;

use crate::bucket::{Precision, MIN_BUCKETED};
use crate::snapshot::HistogramSnapshot;

/// The schema of perf-core's native histograms: 256 exponential buckets per
/// power of two (see the module docs for why at every precision).
pub const NATIVE_SCHEMA: i32 = 8;

/// The zero bucket's threshold: perf-core's zero bucket is `[0, 2^-64)`
/// ([`crate::MIN_BUCKETED`]).
pub const NATIVE_ZERO_THRESHOLD: f64 = MIN_BUCKETED;

/// Buckets per power of two at [`NATIVE_SCHEMA`].
const PER_OCTAVE: i32 = 1 << NATIVE_SCHEMA;

/// A run of consecutive native buckets: `offset` is the gap (in buckets)
/// after the previous span, or the index of the first bucket for the first
/// span; `length` buckets follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSpan {
    /// Gap to the previous span, or the first span's starting index.
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// A Prometheus native histogram with integer counts and no negative
/// buckets, converted from a [`HistogramSnapshot`].
///
/// # Invariants
///
/// * `schema` is [`NATIVE_SCHEMA`], `zero_threshold` [`NATIVE_ZERO_THRESHOLD`].
/// * `deltas` has one entry per bucket of the spans (`Σ length`); the
///   absolute counts (running sums of the deltas) are in `0..=i64::MAX`, and
///   every span starts and ends with a non-zero count.
/// * Spans after the first have an offset of at least 3 (gaps of one or two
///   empty buckets are written as zero counts, as client_golang does).
/// * Without saturation, `zero_count + Σ counts == count`.
///
/// ```
/// use perf_core::{HistogramSnapshot, NativeHistogram, Precision};
/// let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &[0.0, 1.0, 10.0, 10.0])?;
/// let native = NativeHistogram::from_snapshot(&snap);
/// assert_eq!((native.count(), native.zero_count(), native.sum()), (4, 1, 21.0));
/// assert_eq!(native.deltas().iter().sum::<i64>(), 2); // counts 1 then 2
/// let p75 = native.quantile(0.75);
/// assert!((p75 - 10.0).abs() <= 10.0 * NativeHistogram::error_bound(Precision::DEFAULT));
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NativeHistogram {
    count: u64,
    sum: f64,
    zero_count: u64,
    spans: Vec<BucketSpan>,
    deltas: Vec<i64>,
}

impl NativeHistogram {
    /// The native histogram of `snapshot`: each perf-core bucket counted in
    /// the native bucket of its midpoint; count, zero count and sum exact.
    pub fn from_snapshot(snapshot: &HistogramSnapshot) -> NativeHistogram {
        let counts = native_counts(snapshot);
        let (spans, deltas) = encode(&counts);
        NativeHistogram {
            count: snapshot.count(),
            sum: snapshot.sum(),
            zero_count: snapshot.zero_count(),
            spans,
            deltas,
        }
    }

    /// The bound on the relative error of a quantile read from the native
    /// histogram of a snapshot of `precision`, against the exact
    /// nearest-rank value: `(1 + 2^-(bits+1)) · 2^(2^-8) - 1`.
    ///
    /// ```
    /// use perf_core::{NativeHistogram, Precision};
    /// let bound = NativeHistogram::error_bound(Precision::DEFAULT);
    /// assert!(bound > 0.0066 && bound < 0.0067);
    /// ```
    pub fn error_bound(precision: Precision) -> f64 {
        let base = (-f64::from(NATIVE_SCHEMA)).exp2().exp2();
        (1.0 + precision.relative_error()) * base - 1.0
    }

    /// The schema ([`NATIVE_SCHEMA`]).
    pub fn schema(&self) -> i32 {
        NATIVE_SCHEMA
    }

    /// The zero bucket's threshold ([`NATIVE_ZERO_THRESHOLD`]).
    pub fn zero_threshold(&self) -> f64 {
        NATIVE_ZERO_THRESHOLD
    }

    /// Number of values (exact).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Values in the zero bucket, `[0, 2^-64)` (exact).
    pub fn zero_count(&self) -> u64 {
        self.zero_count
    }

    /// The positive spans.
    pub fn spans(&self) -> &[BucketSpan] {
        &self.spans
    }

    /// The positive buckets' counts, each as the difference from the
    /// previous bucket's (the first from 0).
    pub fn deltas(&self) -> &[i64] {
        &self.deltas
    }

    /// Every positive bucket of the spans in increasing order, as
    /// `(lower, upper, count)`: the bucket `(lower, upper]` holds `count`
    /// values (zero for the gaps written inside a span).
    ///
    /// ```
    /// use perf_core::{HistogramSnapshot, NativeHistogram, Precision};
    /// let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &[1.5])?;
    /// let buckets: Vec<_> = NativeHistogram::from_snapshot(&snap).buckets().collect();
    /// let (lower, upper, count) = buckets[0];
    /// // The bucket of 1.5's perf-core bucket [1.5, 1.5078125): its midpoint's.
    /// assert!(lower < 1.5039 && 1.5039 <= upper && count == 1);
    /// assert!((upper / lower - 2f64.powf(1.0 / 256.0)).abs() < 1e-12);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn buckets(&self) -> impl Iterator<Item = (f64, f64, u64)> + '_ {
        let mut index = 0i32;
        let indices = self.spans.iter().flat_map(move |span| {
            // `index` is one past the previous span (0 before the first).
            index += span.offset;
            let start = index;
            index += span.length as i32;
            start..start + span.length as i32
        });
        let mut running = 0i64;
        indices.zip(&self.deltas).map(move |(i, delta)| {
            running += delta;
            (upper_bound(i - 1), upper_bound(i), running as u64)
        })
    }

    /// The `q`-quantile (`q` in `(0, 1]`) as Prometheus's
    /// `histogram_quantile` reads it: the bucket where the cumulative count
    /// (zero bucket first) reaches `q · count`, interpolated linearly
    /// inside it (the zero bucket's lower bound taken as 0). Within
    /// [`Self::error_bound`] of the exact nearest-rank value. NaN when empty
    /// or `q` is outside `(0, 1]`.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 || !(q > 0.0 && q <= 1.0) {
            return f64::NAN;
        }
        let rank = q * self.count as f64;
        let zero = (0.0, NATIVE_ZERO_THRESHOLD, self.zero_count);
        let mut below = 0.0;
        let mut last = zero;
        for (lower, upper, count) in std::iter::once(zero).chain(self.buckets()) {
            let cumulative = below + count as f64;
            last = (lower, upper, count);
            if count > 0 && cumulative >= rank {
                return lower + (upper - lower) * ((rank - below) / count as f64);
            }
            below = cumulative;
        }
        last.1 // rounding left the rank just above the total
    }
}

/// The native bucket counts of `snapshot`, `(index, count)` by index, each
/// clamped to `i64::MAX`.
fn native_counts(snapshot: &HistogramSnapshot) -> Vec<(i32, i64)> {
    let precision = snapshot.precision();
    let mut counts: Vec<(i32, u64)> = Vec::new();
    for &(key, count) in &snapshot.buckets {
        let index = bucket_index(precision.representative(key));
        match counts.last_mut() {
            // Midpoints grow with the key, so equal indices are adjacent.
            Some((last, total)) if *last == index => *total = total.saturating_add(count),
            _ => counts.push((index, count)),
        }
    }
    let clamp = |c: u64| i64::try_from(c).unwrap_or(i64::MAX);
    counts.into_iter().map(|(i, c)| (i, clamp(c))).collect()
}

/// Spans and delta-encoded counts of non-empty buckets sorted by index:
/// gaps of up to two buckets are filled with zeros, longer ones start a
/// new span.
fn encode(counts: &[(i32, i64)]) -> (Vec<BucketSpan>, Vec<i64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(counts.len());
    let (mut previous_index, mut previous_count) = (0i32, 0i64);
    for &(index, count) in counts {
        let gap = index - previous_index - 1;
        match spans.last_mut() {
            Some(span) if gap <= 2 => {
                span.length += gap as u32 + 1;
                for _ in 0..gap {
                    deltas.push(-previous_count);
                    previous_count = 0;
                }
            }
            Some(_) => spans.push(BucketSpan {
                offset: gap,
                length: 1,
            }),
            None => spans.push(BucketSpan {
                offset: index,
                length: 1,
            }),
        }
        deltas.push(count - previous_count);
        (previous_index, previous_count) = (index, count);
    }
    (spans, deltas)
}

/// `2^(j/256) / 2` for `j` in `0..256`: the fractions (in `[0.5, 1)`) of
/// the boundaries in one octave, as `frexp` splits values.
fn fractions() -> &'static [f64; PER_OCTAVE as usize] {
    static TABLE: OnceLock<[f64; PER_OCTAVE as usize]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|j| (j as f64 / f64::from(PER_OCTAVE)).exp2() / 2.0))
}

/// The upper bound `base^index` of native bucket `index`.
fn upper_bound(index: i32) -> f64 {
    let (octave, j) = (index.div_euclid(PER_OCTAVE), index.rem_euclid(PER_OCTAVE));
    fractions()[j as usize] * (f64::from(octave + 1)).exp2()
}

/// The native bucket holding `value` (positive, normal): the `index` with
/// `base^(index-1) < value <= base^index`.
fn bucket_index(value: f64) -> i32 {
    let (fraction, exponent) = frexp(value);
    let j = fractions().partition_point(|&f| f < fraction) as i32;
    j + (exponent - 1) * PER_OCTAVE
}

/// `value = fraction · 2^exponent` with `fraction` in `[0.5, 1)`, for a
/// positive normal `value`.
fn frexp(value: f64) -> (f64, i32) {
    let bits = value.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let fraction = f64::from_bits((bits & ((1 << 52) - 1)) | (1022 << 52));
    (fraction, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::MAX_EXCLUSIVE;

    fn native(values: &[f64]) -> NativeHistogram {
        let snap = HistogramSnapshot::from_values(Precision::DEFAULT, values).unwrap();
        NativeHistogram::from_snapshot(&snap)
    }

    fn absolute(h: &NativeHistogram) -> Vec<u64> {
        h.buckets().map(|b| b.2).collect()
    }

    #[test]
    fn bucket_indices_follow_the_boundaries() {
        // Powers of two are upper bounds: 1 = base^0 is in bucket 0.
        assert_eq!(bucket_index(1.0), 0);
        assert_eq!(bucket_index(2.0), 256);
        assert_eq!(bucket_index(0.5), -256);
        assert_eq!(bucket_index(1.0 + 1e-12), 1);
        assert_eq!(bucket_index(MIN_BUCKETED), -64 * 256);
        for i in [-16_000, -300, -1, 0, 1, 77, 255, 256, 16_383] {
            let (lo, hi) = (upper_bound(i - 1), upper_bound(i));
            assert!(lo < hi);
            assert_eq!(bucket_index(hi), i, "upper bound of {i}");
            assert_eq!(bucket_index(lo), i - 1, "lower bound of {i}");
            assert_eq!(bucket_index((lo * hi).sqrt()), i, "inside {i}");
        }
        let base = upper_bound(1) / upper_bound(0);
        assert!((base - 2f64.powf(1.0 / 256.0)).abs() < 1e-15);
    }

    #[test]
    fn an_empty_snapshot_has_no_buckets_and_no_quantile() {
        let h = NativeHistogram::from_snapshot(&HistogramSnapshot::empty(Precision::DEFAULT));
        assert_eq!((h.count(), h.zero_count(), h.sum()), (0, 0, 0.0));
        assert!(h.spans().is_empty() && h.deltas().is_empty());
        assert!(h.quantile(0.5).is_nan());
        assert_eq!(h.schema(), 8);
        assert_eq!(h.zero_threshold(), MIN_BUCKETED);
    }

    #[test]
    fn only_zeros_go_to_the_zero_bucket() {
        let h = native(&[0.0, 0.0, 1e-30]);
        assert_eq!((h.count(), h.zero_count()), (3, 3));
        assert!(h.spans().is_empty());
        let q = h.quantile(0.99);
        assert!((0.0..=MIN_BUCKETED).contains(&q), "{q}");
    }

    #[test]
    fn a_single_value_is_one_bucket_around_it() {
        let h = native(&[123.456]);
        assert_eq!(h.spans().len(), 1);
        assert_eq!(h.deltas(), [1]);
        let bound = NativeHistogram::error_bound(Precision::DEFAULT);
        for q in [0.01, 0.5, 1.0] {
            let x = h.quantile(q);
            assert!((x - 123.456).abs() <= bound * 123.456, "q={q}: {x}");
        }
    }

    #[test]
    fn values_at_bucket_boundaries_stay_within_the_bound() {
        let mut values: Vec<f64> = (-20..20).map(|e| 2f64.powi(e)).collect();
        values.extend((0..50).map(|i| upper_bound(i * 7)));
        values.extend((0..50).map(|i| upper_bound(i * 7).next_up_compat()));
        values.push(MIN_BUCKETED);
        values.sort_by(f64::total_cmp);
        let h = native(&values);
        assert_eq!(h.count(), values.len() as u64);
        check_all_quantiles(&h, &values, Precision::DEFAULT);
    }

    #[test]
    fn the_largest_values_are_converted() {
        let top = MAX_EXCLUSIVE * (1.0 - 1e-16);
        let values = [1e18, 1e19, top, top];
        let h = native(&values);
        assert_eq!(h.count(), 4);
        let last = h.buckets().last().unwrap();
        assert!(last.1 <= MAX_EXCLUSIVE && last.2 == 2, "{last:?}");
        check_all_quantiles(&h, &values, Precision::DEFAULT);
    }

    #[test]
    fn saturated_counts_are_clamped_to_int64() {
        let mut snap = HistogramSnapshot::from_values(Precision::DEFAULT, &[1.0, 3.0]).unwrap();
        snap.buckets[0].1 = u64::MAX;
        snap.count = u64::MAX;
        snap.zero_count = 7;
        let h = NativeHistogram::from_snapshot(&snap);
        assert_eq!((h.count(), h.zero_count()), (u64::MAX, 7));
        let counts = absolute(&h);
        assert_eq!(counts.first(), Some(&(i64::MAX as u64)));
        assert_eq!(counts.last(), Some(&1));
        assert!(h.quantile(0.5).is_finite());
    }

    #[test]
    fn gaps_of_up_to_two_buckets_are_zeros_and_longer_ones_new_spans() {
        let counts = [(5, 2), (6, 3), (9, 1), (13, 4)];
        let (spans, deltas) = encode(&counts);
        assert_eq!(
            spans,
            [
                BucketSpan {
                    offset: 5,
                    length: 5
                },
                BucketSpan {
                    offset: 3,
                    length: 1
                }
            ]
        );
        assert_eq!(deltas, [2, 1, -3, 0, 1, 3]);
        let h = NativeHistogram {
            count: 10,
            sum: 0.0,
            zero_count: 0,
            spans,
            deltas,
        };
        let indices: Vec<u64> = absolute(&h);
        assert_eq!(indices, [2, 3, 0, 0, 1, 4]);
    }

    #[test]
    fn schema_8_minimizes_the_bound_at_every_precision() {
        for bits in Precision::MIN_BITS..=Precision::MAX_BITS {
            let eps = Precision::new(bits).unwrap().relative_error();
            let bound = |n: i32| (1.0 + eps) * (-f64::from(n)).exp2().exp2() - 1.0;
            assert!((-4..8).all(|n| bound(n) > bound(8)), "bits {bits}");
        }
        let default = NativeHistogram::error_bound(Precision::DEFAULT);
        assert!((default - 0.006_628).abs() < 1e-6, "{default}");
    }

    /// Every quantile `k / n` (and some between) within the bound of the
    /// exact nearest-rank value.
    fn check_all_quantiles(h: &NativeHistogram, values: &[f64], precision: Precision) {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let bound = NativeHistogram::error_bound(precision);
        let n = sorted.len() as f64;
        for k in 1..=sorted.len() {
            for q in [k as f64 / n, (k as f64 - 0.5) / n] {
                let rank = ((q * n).ceil() as usize).clamp(1, sorted.len());
                let exact = sorted[rank - 1];
                let x = h.quantile(q);
                let slack = if exact < MIN_BUCKETED {
                    MIN_BUCKETED
                } else {
                    0.0
                };
                assert!(
                    (x - exact).abs() <= bound * exact + slack + exact * 1e-12,
                    "q={q}: {x} vs {exact}"
                );
            }
        }
    }

    trait NextUp {
        fn next_up_compat(self) -> f64;
    }

    impl NextUp for f64 {
        fn next_up_compat(self) -> f64 {
            f64::from_bits(self.to_bits() + 1)
        }
    }
}
