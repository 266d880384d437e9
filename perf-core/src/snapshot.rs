//! [`HistogramSnapshot`]: an immutable, mergeable copy of a histogram.
//!
//! Snapshots are what every reader works on: statistics, sliding windows,
//! merging many series or processes, and (in the export module) conversion to
//! other formats. Buckets are kept sparse and sorted by key, so a snapshot of
//! a typical latency series holds a few hundred `(key, count)` pairs and any
//! percentile is one linear scan.

use crate::bucket::{accepted_bits, bucket_of_bits, Bucket, Precision, MAX_EXCLUSIVE, OCTAVES};
use crate::error::{PerfError, Result};

/// One step of Neumaier's compensated summation: returns the new sum and the
/// new compensation, which together carry the rounding error `sum + v` lost.
#[inline(always)]
pub(crate) fn compensated_add(sum: f64, compensation: f64, v: f64) -> (f64, f64) {
    let t = sum + v;
    let lost = if sum.abs() >= v.abs() {
        (sum - t) + v
    } else {
        (v - t) + sum
    };
    (t, compensation + lost)
}

/// An immutable copy of a histogram's counts and summary values.
///
/// # Invariants
///
/// * `buckets` is sorted by key, keys are distinct, counts are non-zero.
/// * `count == zero_count + Σ bucket counts`, every addition saturating at
///   `u64::MAX` (counts never wrap).
/// * For a non-empty snapshot, `min <= max` and every recorded value lies in
///   `[min, max]`; for an empty one both are NaN.
///
/// ```
/// use perf_core::{HistogramSnapshot, Precision};
/// let mut a = HistogramSnapshot::from_values(Precision::DEFAULT, &[1.0, 2.0]).unwrap();
/// let b = HistogramSnapshot::from_values(Precision::DEFAULT, &[3.0]).unwrap();
/// a.merge(&b);
/// assert_eq!(a.count(), 3);
/// assert_eq!(a.sum(), 6.0);
/// assert_eq!(a.max(), 3.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    pub(crate) precision: Precision,
    pub(crate) zero_count: u64,
    pub(crate) buckets: Vec<(u32, u64)>,
    pub(crate) count: u64,
    /// The sum is `sum + sum_compensation`: a Neumaier pair, kept apart so
    /// that window deltas subtract the parts exactly (see `delta_since`).
    pub(crate) sum: f64,
    pub(crate) sum_compensation: f64,
    /// Sum of squared deviations from the mean ("M2"), kept instead of a raw
    /// sum of squares so the variance does not cancel catastrophically.
    pub(crate) m2: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl HistogramSnapshot {
    /// An empty snapshot.
    pub fn empty(precision: Precision) -> Self {
        HistogramSnapshot {
            precision,
            zero_count: 0,
            buckets: Vec::new(),
            count: 0,
            sum: 0.0,
            sum_compensation: 0.0,
            m2: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        }
    }

    /// A snapshot of `values`, as if each were recorded into a histogram.
    /// Refuses the first invalid value like [`crate::Histogram::record`].
    pub fn from_values(precision: Precision, values: &[f64]) -> Result<Self> {
        let mut snap = HistogramSnapshot::empty(precision);
        let mut keys = Vec::with_capacity(values.len());
        let (mut sum, mut compensation) = (0.0, 0.0);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let shift = values.first().copied().unwrap_or(0.0);
        let mut shifted_squares = 0.0;
        for &value in values {
            let bits = accepted_bits(value)?;
            match bucket_of_bits(precision, bits) {
                Bucket::Zero => snap.zero_count += 1,
                Bucket::Key(key) => keys.push(key),
            }
            let v = f64::from_bits(bits);
            (sum, compensation) = compensated_add(sum, compensation, v);
            shifted_squares += (v - shift) * (v - shift);
            (min, max) = (min.min(v), max.max(v));
        }
        keys.sort_unstable();
        for key in keys {
            match snap.buckets.last_mut() {
                Some((last, count)) if *last == key => *count += 1,
                _ => snap.buckets.push((key, 1)),
            }
        }
        snap.count = values.len() as u64;
        (snap.sum, snap.sum_compensation) = (sum, compensation);
        snap.m2 = shifted_m2(snap.count, snap.sum(), shift, shifted_squares);
        if snap.count > 0 {
            (snap.min, snap.max) = (min, max);
        }
        Ok(snap)
    }

    /// The precision of the buckets.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Number of values (exact).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether no value was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Sum of the values.
    pub fn sum(&self) -> f64 {
        self.sum + self.sum_compensation
    }

    /// Smallest value (NaN when empty). Exact for cumulative snapshots; within
    /// the precision bound for sliding windows.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Largest value (NaN when empty); exactness as for [`Self::min`].
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Arithmetic mean (NaN when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum() / self.count as f64
        }
    }

    /// Population standard deviation (NaN when empty).
    pub fn stddev(&self) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        (self.m2 / self.count as f64).sqrt()
    }

    /// Number of values in `[0, 2^-64)`, reported as 0.
    pub fn zero_count(&self) -> u64 {
        self.zero_count
    }

    /// The non-empty buckets in increasing order, as `(lo, hi, count)`: each
    /// counted value `v` satisfies `lo <= v < hi`. The zero bucket is not
    /// included (see [`Self::zero_count`]).
    pub fn buckets(&self) -> impl Iterator<Item = (f64, f64, u64)> + '_ {
        self.buckets.iter().map(|&(key, count)| {
            let (lo, hi) = self.precision.bounds(key);
            (lo, hi, count)
        })
    }

    /// The `q`-th percentile, `q` in `[0, 100]`, by the nearest-rank rule: the
    /// value of rank `max(1, ceil(q/100 · count))` in sorted order. Within
    /// `precision().relative_error()` of the exact value; `q = 0` and `q = 100`
    /// give `min` and `max`. NaN when empty.
    ///
    /// ```
    /// use perf_core::{HistogramSnapshot, Precision};
    /// let values: Vec<f64> = (1..=100).map(f64::from).collect();
    /// let s = HistogramSnapshot::from_values(Precision::DEFAULT, &values).unwrap();
    /// let p90 = s.percentile(90.0).unwrap();
    /// assert!((p90 - 90.0).abs() <= 90.0 * Precision::DEFAULT.relative_error());
    /// ```
    pub fn percentile(&self, q: f64) -> Result<f64> {
        if !(0.0..=100.0).contains(&q) {
            return Err(PerfError::InvalidPercentile { q });
        }
        if self.count == 0 {
            return Ok(f64::NAN);
        }
        let rank = self.rank(q);
        if rank <= self.count / 2 || rank >= self.count {
            return Ok(RankCursor::new(self).value_at_rank(rank));
        }
        // High percentiles: scan from the top, which is where they are.
        let mut below = self.count;
        for &(key, count) in self.buckets.iter().rev() {
            below = below.saturating_sub(count);
            if below < rank {
                let v = self.precision.representative(key);
                return Ok(clamp_lenient(v, self.min, self.max));
            }
        }
        Ok(clamp_lenient(0.0, self.min, self.max)) // the zero bucket
    }

    /// Several percentiles in one scan; same rules as [`Self::percentile`].
    pub fn percentiles(&self, qs: &[f64]) -> Result<Vec<f64>> {
        if let Some(&q) = qs.iter().find(|q| !(0.0..=100.0).contains(*q)) {
            return Err(PerfError::InvalidPercentile { q });
        }
        if self.count == 0 {
            return Ok(vec![f64::NAN; qs.len()]);
        }
        let mut order: Vec<usize> = (0..qs.len()).collect();
        order.sort_by(|&a, &b| qs[a].total_cmp(&qs[b]));
        let mut out = vec![f64::NAN; qs.len()];
        let mut cursor = RankCursor::new(self);
        for i in order {
            out[i] = cursor.value_at_rank(self.rank(qs[i]));
        }
        Ok(out)
    }

    /// The 1-based nearest rank of percentile `q`: `ceil(q/100 · count)`,
    /// where a product within a relative 1e-12 of a whole number counts as
    /// that number, so that decimal percentiles such as 99.9 (not exactly
    /// representable in binary) hit their intended rank.
    fn rank(&self, q: f64) -> u64 {
        let exact = q / 100.0 * self.count as f64;
        let whole = exact.round();
        let product = if (exact - whole).abs() <= exact * 1e-12 {
            whole
        } else {
            exact
        };
        (product.ceil() as u64).clamp(1, self.count)
    }

    /// Adds `other` into `self`, as if its values had been recorded here.
    /// Snapshots of different precisions merge at the coarser one, losing no
    /// count.
    pub fn merge(&mut self, other: &HistogramSnapshot) {
        let precision = self.precision.min(other.precision);
        let add = u64::saturating_add;
        let union = self.buckets.len() + other.buckets.len();
        self.buckets = if self.precision == other.precision {
            merge_sorted(&self.buckets, &other.buckets, add, union)
        } else {
            let ours = coarsened(&self.buckets, self.precision, precision);
            let theirs = coarsened(&other.buckets, other.precision, precision);
            merge_sorted(&ours, &theirs, add, union)
        };
        self.precision = precision;
        self.merge_summary(other);
    }

    /// Adds everything but the buckets of `other`: counts, sum, moments and
    /// extremes.
    pub(crate) fn merge_summary(&mut self, other: &HistogramSnapshot) {
        self.m2 = combined_m2(self.moments(), other.moments());
        self.zero_count = self.zero_count.saturating_add(other.zero_count);
        self.count = self.count.saturating_add(other.count);
        let (sum, compensation) = compensated_add(self.sum, self.sum_compensation, other.sum);
        self.sum = sum;
        self.sum_compensation = compensation + other.sum_compensation;
        self.min = self.min.min(other.min); // f64::min ignores a NaN side
        self.max = self.max.max(other.max);
    }

    /// The values recorded since `earlier`, a snapshot of the same histogram
    /// taken before this one. Counts and sums are exact differences; min and
    /// max are estimated from the buckets (within the precision bound).
    pub(crate) fn delta_since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        debug_assert_eq!(self.precision, earlier.precision);
        // A later cumulative snapshot has every key of an earlier one.
        let mut buckets = merge_sorted(
            &self.buckets,
            &earlier.buckets,
            u64::saturating_sub,
            self.buckets.len(),
        );
        buckets.retain(|&(_, count)| count > 0);
        // Deltas live in window rings: keep only what this interval touched.
        buckets.shrink_to_fit();
        let mut delta = HistogramSnapshot {
            precision: self.precision,
            zero_count: self.zero_count.saturating_sub(earlier.zero_count),
            buckets,
            count: self.count.saturating_sub(earlier.count),
            // The high parts of two cumulative sums are close, so their
            // difference is exact (Sterbenz); the low parts carry the rest.
            sum: self.sum - earlier.sum,
            sum_compensation: self.sum_compensation - earlier.sum_compensation,
            m2: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        };
        delta.m2 =
            remaining_m2(self.moments(), earlier.moments()).unwrap_or_else(|| delta.bucket_m2());
        delta.estimate_extremes(self.min, self.max);
        delta
    }

    /// Adds a packed delta of the same precision in place: its counts go
    /// into the existing buckets (binary search), new keys are inserted.
    pub(crate) fn add_packed(&mut self, delta: &PackedSnapshot) {
        debug_assert_eq!(self.precision, delta.summary.precision);
        self.merge_summary(&delta.summary);
        delta.for_each_bucket(|key, count| {
            match self.buckets.binary_search_by_key(&key, |b| b.0) {
                Ok(i) => self.buckets[i].1 = self.buckets[i].1.saturating_add(count),
                Err(i) => self.buckets.insert(i, (key, count)),
            }
        });
    }

    /// Removes in place a packed delta that was added before: counts and
    /// buckets exactly, the sum by subtraction (rounding aside), M2 as in
    /// [`Self::delta_since`], and the extremes estimated from the buckets
    /// left (within the precision bound).
    pub(crate) fn subtract_packed(&mut self, delta: &PackedSnapshot) {
        let whole = self.moments();
        let part = &delta.summary;
        let mut emptied = false;
        delta.for_each_bucket(|key, count| {
            if let Ok(i) = self.buckets.binary_search_by_key(&key, |b| b.0) {
                self.buckets[i].1 = self.buckets[i].1.saturating_sub(count);
                emptied |= self.buckets[i].1 == 0;
            }
        });
        if emptied {
            self.buckets.retain(|&(_, count)| count > 0);
        }
        self.count = self.count.saturating_sub(part.count);
        self.zero_count = self.zero_count.saturating_sub(part.zero_count);
        if self.count == 0 {
            *self = HistogramSnapshot::empty(self.precision);
            return;
        }
        self.sum -= part.sum;
        self.sum_compensation -= part.sum_compensation;
        self.m2 = remaining_m2(whole, part.moments()).unwrap_or_else(|| self.bucket_m2());
        let (lower, upper) = (self.min, self.max);
        self.estimate_extremes(lower, upper);
    }

    /// Checks the invariants of a snapshot built from untrusted parts (a
    /// file written by another process): keys valid for the precision,
    /// strictly increasing, counts non-zero and adding up to `count`, and
    /// finite, non-negative summary values with `min <= max` when not empty.
    pub(crate) fn check_invariants(&self) -> std::result::Result<(), String> {
        let p = self.precision;
        let (first, last) = (p.join(0, 0), p.join(OCTAVES - 1, p.sub_buckets() - 1));
        let mut previous = None;
        for &(key, count) in &self.buckets {
            if key < first || key > last {
                return Err(format!("bucket key {key} is outside the precision's range"));
            }
            if previous.is_some_and(|k| k >= key) || count == 0 {
                return Err("buckets must be sorted, distinct and non-empty".into());
            }
            previous = Some(key);
        }
        if saturating_total(self.zero_count, &self.buckets) != self.count {
            return Err("count is not the sum of the buckets".into());
        }
        if self.count == 0 {
            return Ok(());
        }
        let summary = [self.sum, self.sum_compensation, self.m2, self.min, self.max];
        if summary.iter().any(|x| !x.is_finite()) || self.m2 < 0.0 || self.sum() < 0.0 {
            return Err("sum, m2, min and max must be finite and non-negative".into());
        }
        if !(0.0 <= self.min && self.min <= self.max && self.max < MAX_EXCLUSIVE) {
            return Err(format!(
                "min {} and max {} are out of order or range",
                self.min, self.max
            ));
        }
        Ok(())
    }

    /// `(count, sum, m2)`, the input of the moment-combining formulas.
    fn moments(&self) -> Moments {
        (self.count, self.sum(), self.m2)
    }

    /// M2 of the bucket representatives: each value moved by at most the
    /// precision bound `ε·v`, so `sqrt(M2/n)` is within `ε · rms(v)` of the
    /// true standard deviation.
    fn bucket_m2(&self) -> f64 {
        let mean = self.mean();
        let deviation = |v: f64| (v - mean) * (v - mean);
        let zeros = self.zero_count as f64 * deviation(0.0);
        self.buckets.iter().fold(zeros, |m2, &(key, count)| {
            m2 + count as f64 * deviation(self.precision.representative(key))
        })
    }

    /// Sets min/max from the outermost non-empty buckets, clamped to the
    /// known bounds `[lower, upper]`.
    fn estimate_extremes(&mut self, lower: f64, upper: f64) {
        if self.count == 0 {
            return;
        }
        let p = self.precision;
        let first = if self.zero_count > 0 {
            0.0
        } else {
            self.buckets
                .first()
                .map_or(0.0, |&(k, _)| p.representative(k))
        };
        let last = self
            .buckets
            .last()
            .map_or(0.0, |&(k, _)| p.representative(k));
        self.min = clamp_lenient(first, lower, upper);
        self.max = clamp_lenient(last, lower, upper);
    }
}

/// `(count, sum, m2)` of a set of values.
pub(crate) type Moments = (u64, f64, f64);

/// M2 of a set from its count, sum and `Σ (v - shift)²` for any `shift`
/// (ideally a value near the mean; perf-core uses the first value).
pub(crate) fn shifted_m2(count: u64, sum: f64, shift: f64, shifted_squares: f64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let n = count as f64;
    let deviation = sum - n * shift;
    (shifted_squares - deviation * deviation / n).max(0.0)
}

/// M2 of the union of two disjoint sets (Chan, Golub & LeVeque).
pub(crate) fn combined_m2(a: Moments, b: Moments) -> f64 {
    if a.0 == 0 || b.0 == 0 {
        return a.2 + b.2;
    }
    let (na, nb) = (a.0 as f64, b.0 as f64);
    let delta = b.1 / nb - a.1 / na;
    a.2 + b.2 + delta * delta * na * nb / (na + nb)
}

/// M2 of `whole` minus its subset `part`: [`combined_m2`] solved for the
/// other part. `None` when the subtraction is ill-conditioned — the result
/// is less than a million times its rounding noise, as when a window of
/// small values follows huge ones — so the caller can use another estimate.
fn remaining_m2(whole: Moments, part: Moments) -> Option<f64> {
    let rest = whole.0.saturating_sub(part.0);
    if rest == 0 {
        return Some(0.0);
    }
    if part.0 == 0 {
        return Some(whole.2);
    }
    let (n1, n2) = (part.0 as f64, rest as f64);
    let delta = (whole.1 - part.1) / n2 - part.1 / n1;
    let mixing = delta * delta * n1 * n2 / (n1 + n2);
    let m2 = whole.2 - part.2 - mixing;
    let noise = 4.0 * f64::EPSILON * (whole.2 + part.2 + mixing);
    (m2 > 1e6 * noise || m2 == 0.0 && noise == 0.0).then_some(m2)
}

/// A snapshot packed for keeping in window rings: the summary values as is,
/// and the buckets as LEB128 varints of (gap to the previous key, count) —
/// a few bytes per bucket instead of sixteen.
#[derive(Clone, PartialEq)]
pub(crate) struct PackedSnapshot {
    /// Everything but the buckets (its `buckets` is empty).
    summary: HistogramSnapshot,
    buckets: Box<[u8]>,
    /// The first and last bucket keys (meaningless when `buckets` is empty).
    first_key: u32,
    last_key: u32,
}

impl HistogramSnapshot {
    /// Packs this snapshot (see [`PackedSnapshot`]).
    pub(crate) fn pack(mut self) -> PackedSnapshot {
        let mut bytes = Vec::with_capacity(self.buckets.len() * 3);
        let first_key = self.buckets.first().map_or(0, |b| b.0);
        let mut previous = 0;
        for &(key, count) in &self.buckets {
            write_varint(&mut bytes, u64::from(key - previous));
            write_varint(&mut bytes, count);
            previous = key;
        }
        self.buckets = Vec::new();
        PackedSnapshot {
            summary: self,
            buckets: bytes.into_boxed_slice(),
            first_key,
            last_key: previous,
        }
    }
}

impl PackedSnapshot {
    /// The snapshot this was packed from.
    pub(crate) fn unpack(&self) -> HistogramSnapshot {
        let mut snap = self.summary.clone();
        self.for_each_bucket(|key, count| snap.buckets.push((key, count)));
        snap
    }

    /// Calls `f(key, count)` for each bucket, in key order.
    fn for_each_bucket(&self, mut f: impl FnMut(u32, u64)) {
        let mut bytes = &self.buckets[..];
        let mut key = 0u64;
        while !bytes.is_empty() {
            key += read_varint(&mut bytes);
            let count = read_varint(&mut bytes);
            // Keys were u32 when packed, so the sum of gaps fits again.
            f(key as u32, count);
        }
    }

    /// The sum of packed deltas of one histogram (all of `empty`'s
    /// precision): what merging them one by one would give, in one pass
    /// over their buckets instead of one merge each. Buckets are added into
    /// a dense array over the deltas' key range when it is small, else
    /// sorted and coalesced.
    pub(crate) fn sum(
        mut total: HistogramSnapshot,
        deltas: &[&PackedSnapshot],
    ) -> HistogramSnapshot {
        debug_assert!(total.buckets.is_empty());
        let (mut lo, mut hi, mut pairs) = (u32::MAX, 0, 0usize);
        for d in deltas {
            debug_assert_eq!(d.summary.precision, total.precision);
            total.merge_summary(&d.summary);
            if !d.buckets.is_empty() {
                lo = lo.min(d.first_key);
                hi = hi.max(d.last_key);
                pairs += d.buckets.len() / 2; // at least two bytes per bucket
            }
        }
        if lo > hi {
            return total;
        }
        let range = (hi - lo) as usize + 1;
        total.buckets = if range <= DENSE_RANGE.max(8 * pairs) {
            let mut dense = vec![0u64; range];
            for d in deltas {
                d.for_each_bucket(|key, count| {
                    let total = &mut dense[(key - lo) as usize];
                    *total = total.saturating_add(count);
                });
            }
            let nonzero = dense.iter().enumerate().filter(|(_, &c)| c > 0);
            nonzero.map(|(i, &c)| (lo + i as u32, c)).collect()
        } else {
            let mut all = Vec::with_capacity(pairs);
            for d in deltas {
                d.for_each_bucket(|key, count| all.push((key, count)));
            }
            all.sort_unstable_by_key(|&(key, _)| key);
            coalesce(all)
        };
        total
    }
}

/// `zero + Σ bucket counts`, saturating at `u64::MAX`: how every count is
/// added up, so `count == saturating_total(zero_count, buckets)` holds even
/// for a saturated histogram.
pub(crate) fn saturating_total(zero: u64, buckets: &[(u32, u64)]) -> u64 {
    buckets
        .iter()
        .fold(zero, |total, &(_, count)| total.saturating_add(count))
}

/// Key ranges up to this many buckets are summed in a dense array.
const DENSE_RANGE: usize = 4096;

/// Adds up the counts of equal keys in a key-sorted list.
fn coalesce(sorted: Vec<(u32, u64)>) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::with_capacity(sorted.len());
    for (key, count) in sorted {
        match out.last_mut() {
            Some((last, total)) if *last == key => *total = total.saturating_add(count),
            _ => out.push((key, count)),
        }
    }
    out
}

/// Appends `v` as an LEB128 varint (7 bits a byte, low bits first).
pub(crate) fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint written by `write_varint`, advancing `bytes`.
fn read_varint(bytes: &mut &[u8]) -> u64 {
    let mut v = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *bytes = &bytes[i + 1..];
            return v;
        }
    }
    *bytes = &[];
    v
}

/// Walks the buckets in order, tracking the cumulative count.
struct RankCursor<'a> {
    snapshot: &'a HistogramSnapshot,
    next_bucket: usize,
    /// Cumulative count up to and including the current position.
    seen: u64,
    /// Value reported for ranks within the current position.
    current: f64,
}

impl<'a> RankCursor<'a> {
    fn new(snapshot: &'a HistogramSnapshot) -> Self {
        RankCursor {
            snapshot,
            next_bucket: 0,
            seen: snapshot.zero_count,
            current: 0.0,
        }
    }

    /// The value of the `rank`-th smallest value (1-based, non-decreasing
    /// across calls).
    fn value_at_rank(&mut self, rank: u64) -> f64 {
        let s = self.snapshot;
        if rank <= 1 {
            return s.min;
        }
        if rank >= s.count {
            return s.max;
        }
        while self.seen < rank {
            // `count == zero_count + Σ buckets` makes this always `Some`; the
            // fallback only guards against a malformed snapshot.
            let Some(&(key, count)) = s.buckets.get(self.next_bucket) else {
                return s.max;
            };
            self.next_bucket += 1;
            self.seen = self.seen.saturating_add(count);
            self.current = s.precision.representative(key);
        }
        clamp_lenient(self.current, s.min, s.max)
    }
}

/// Clamps `v` to `[lo, hi]`, ignoring a NaN bound. Unlike `f64::clamp` it never
/// panics, even on the inconsistent bounds a snapshot racing with writers can see.
fn clamp_lenient(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

fn coarsened(buckets: &[(u32, u64)], from: Precision, to: Precision) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::with_capacity(buckets.len());
    for &(key, count) in buckets {
        let key = from.coarsen(key, to);
        match out.last_mut() {
            Some((last, total)) if *last == key => *total = total.saturating_add(count),
            _ => out.push((key, count)),
        }
    }
    out
}

/// Merge-joins two key-sorted lists; `combine(a, b)` for keys in both, a key
/// in one list only gets `combine(count, 0)` or `combine(0, count)`.
/// `capacity`: the most keys the result may have.
fn merge_sorted(
    a: &[(u32, u64)],
    b: &[(u32, u64)],
    combine: impl Fn(u64, u64) -> u64,
    capacity: usize,
) -> Vec<(u32, u64)> {
    let mut out = Vec::with_capacity(capacity);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let ((ka, ca), (kb, cb)) = (a[i], b[j]);
        if ka == kb {
            out.push((ka, combine(ca, cb)));
            i += 1;
            j += 1;
        } else if ka < kb {
            out.push((ka, combine(ca, 0)));
            i += 1;
        } else {
            out.push((kb, combine(0, cb)));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|&(k, c)| (k, combine(c, 0))));
    out.extend(b[j..].iter().map(|&(k, c)| (k, combine(0, c))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(values: &[f64]) -> HistogramSnapshot {
        HistogramSnapshot::from_values(Precision::DEFAULT, values).unwrap()
    }

    #[test]
    fn empty_snapshot_reports_nan_and_zero_count() {
        let s = HistogramSnapshot::empty(Precision::DEFAULT);
        assert!(s.is_empty());
        assert!(s.percentile(50.0).unwrap().is_nan());
        assert!(s.mean().is_nan() && s.stddev().is_nan() && s.min().is_nan());
    }

    #[test]
    fn percentiles_follow_nearest_rank_and_hit_min_max_exactly() {
        let s = snap(&[10.0, 20.0, 30.0, 40.0]);
        assert_eq!(s.percentile(0.0).unwrap(), 10.0);
        assert_eq!(s.percentile(100.0).unwrap(), 40.0);
        let p50 = s.percentile(50.0).unwrap(); // rank 2 -> 20
        assert!((p50 - 20.0).abs() <= 20.0 * 0.004, "{p50}");
        let p51 = s.percentile(51.0).unwrap(); // rank 3 -> 30
        assert!((p51 - 30.0).abs() <= 30.0 * 0.004, "{p51}");
    }

    #[test]
    fn percentiles_in_any_order_match_single_queries() {
        let values: Vec<f64> = (1..1000).map(|i| f64::from(i) * 1.7).collect();
        let s = snap(&values);
        let qs = [99.0, 50.0, 0.0, 75.0, 100.0, 99.9];
        let many = s.percentiles(&qs).unwrap();
        for (q, v) in qs.iter().zip(many) {
            assert_eq!(s.percentile(*q).unwrap(), v);
        }
    }

    #[test]
    fn invalid_percentiles_are_refused() {
        let s = snap(&[1.0]);
        for q in [-0.1, 100.1, f64::NAN] {
            assert!(matches!(
                s.percentile(q),
                Err(PerfError::InvalidPercentile { .. })
            ));
        }
    }

    #[test]
    fn zero_values_are_counted_and_reported_as_zero() {
        let s = snap(&[0.0, 0.0, 0.0, 5.0]);
        assert_eq!(s.zero_count(), 3);
        assert_eq!(s.percentile(50.0).unwrap(), 0.0);
        assert_eq!(s.min(), 0.0);
        assert_eq!(s.count(), 4);
    }

    #[test]
    fn mean_and_stddev_are_exact_for_simple_data() {
        let s = snap(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean(), 5.0);
        assert_eq!(s.stddev(), 2.0);
    }

    #[test]
    fn stddev_survives_a_large_offset() {
        // A raw sum of squares would cancel to garbage here.
        let s = snap(&[1e8, 1e8 + 1.0, 1e8 + 2.0]);
        assert!(
            (s.stddev() - (2.0f64 / 3.0).sqrt()).abs() < 1e-9,
            "{}",
            s.stddev()
        );
        let mut a = snap(&[1e8, 1e8 + 1.0]);
        a.merge(&snap(&[1e8 + 2.0]));
        assert!(
            (a.stddev() - (2.0f64 / 3.0).sqrt()).abs() < 1e-9,
            "{}",
            a.stddev()
        );
        let late = snap(&[1e8, 1e8 + 1.0, 1e8 + 2.0, 1e8 + 4.0, 1e8 + 6.0]);
        let window = late.delta_since(&snap(&[1e8, 1e8 + 1.0, 1e8 + 2.0]));
        assert!((window.stddev() - 1.0).abs() < 1e-6, "{}", window.stddev());
    }

    #[test]
    fn window_moments_stay_accurate_after_huge_earlier_values() {
        let mut values = vec![1e12; 1000];
        let before = snap(&values);
        values.extend([0.1, 0.2, 0.3]);
        let delta = snap(&values).delta_since(&before);
        assert_eq!(delta.count(), 3);
        assert!((delta.sum() - 0.6).abs() < 1e-9, "{}", delta.sum());
        let exact = (0.02f64 / 3.0).sqrt();
        // Ill-conditioned subtraction: falls back to the buckets, within ε·rms.
        let bound = Precision::DEFAULT.relative_error() * (0.14f64 / 3.0).sqrt();
        assert!(
            (delta.stddev() - exact).abs() <= bound,
            "{}",
            delta.stddev()
        );
    }

    #[test]
    fn packing_round_trips_and_is_compact() {
        let values: Vec<f64> = (1..5000).map(|i| f64::from(i) * 0.37).collect();
        let s = snap(&values);
        let packed = s.clone().pack();
        assert_eq!(packed.unpack(), s);
        assert!(
            packed.buckets.len() < s.buckets.len() * 4,
            "{}",
            packed.buckets.len()
        );
        let mut big = HistogramSnapshot::empty(Precision::DEFAULT);
        big.buckets = vec![(1, u64::MAX), (u32::MAX, 1)];
        assert_eq!(big.clone().pack().unpack().buckets, big.buckets); // min/max are NaN
        let empty = HistogramSnapshot::empty(Precision::DEFAULT);
        assert_eq!(empty.clone().pack().unpack().buckets, empty.buckets);
    }

    #[test]
    fn merging_different_precisions_keeps_every_count() {
        let mut fine =
            HistogramSnapshot::from_values(Precision::new(9).unwrap(), &[1.0, 2.5]).unwrap();
        let coarse = HistogramSnapshot::from_values(Precision::new(4).unwrap(), &[3.0]).unwrap();
        fine.merge(&coarse);
        assert_eq!(fine.precision(), Precision::new(4).unwrap());
        assert_eq!(fine.count(), 3);
        assert_eq!(fine.buckets().map(|b| b.2).sum::<u64>(), 3);
    }

    #[test]
    fn delta_since_recovers_the_values_added_later() {
        let before = snap(&[1.0, 2.0]);
        let after = snap(&[1.0, 2.0, 100.0, 200.0]);
        let delta = after.delta_since(&before);
        assert_eq!(delta.count(), 2);
        assert_eq!(delta.sum(), 300.0);
        assert!((delta.min() - 100.0).abs() <= 100.0 * 0.004);
        assert_eq!(delta.max(), 200.0); // clamped to the exact cumulative max
    }

    #[test]
    fn summing_packed_deltas_equals_merging_them() {
        // Narrow ranges take the dense path; 1e-15 .. 1e15 the sorted one.
        for values in [vec![1.0, 2.0, 2.5, 3.0], vec![1e-15, 7.0, 1e15, 0.0]] {
            let deltas: Vec<PackedSnapshot> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| snap(&[v, v * 1.5, f64::from(i as u32)]).pack())
                .collect();
            let refs: Vec<&PackedSnapshot> = deltas.iter().collect();
            let summed = PackedSnapshot::sum(HistogramSnapshot::empty(Precision::DEFAULT), &refs);
            let mut merged = HistogramSnapshot::empty(Precision::DEFAULT);
            for d in &deltas {
                merged.merge(&d.unpack());
            }
            assert_eq!(summed, merged);
        }
    }

    #[test]
    fn one_percentile_matches_the_multi_percentile_scan() {
        let mut values: Vec<f64> = (0..500).map(|i| f64::from(i * i % 997) * 0.37).collect();
        values.extend([0.0, 0.0, 1e-30]);
        let s = snap(&values);
        for q in (0..=1000).map(|i| f64::from(i) / 10.0) {
            assert_eq!(
                s.percentile(q).unwrap(),
                s.percentiles(&[q]).unwrap()[0],
                "q = {q}"
            );
        }
    }
}
