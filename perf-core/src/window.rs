//! Sliding windows: a ring of per-interval deltas for each series.
//!
//! Recording never reads the clock. Instead, time is cut into intervals of
//! fixed length (`interval`, 1 s by default, aligned to the clock's epoch)
//! and, at each interval boundary, a *tick* diffs each series' cumulative
//! state against the state at the previous tick and files the difference
//! under the interval that just ended. A window of length `W` is the merge of
//! the last `n = ceil(W / interval)` intervals, the current one included.
//!
//! # Exact boundaries
//!
//! A value recorded at time `t` belongs to interval `k = floor(t / interval)`
//! and is part of every window read before `(k + n) · interval`, and of none
//! read from then on: **it leaves the window at the last interval boundary at
//! or before `t + n · interval`**. When `W` is a whole number of intervals
//! (as with the defaults), a window never holds a value older than `W`;
//! otherwise `W` is effectively rounded up to `n · interval`.
//!
//! Who ticks: a [`crate::ManualClock`] tells its monitors before it moves, so
//! ticks are exact in tests. With a real clock, the monitor's ticker thread
//! ticks at each boundary; values recorded between a boundary and the
//! ticker's wake-up (typically well under a millisecond) count in the interval
//! before; conversely, if a read ticks a series in that gap, the last values
//! of the interval that just ended are filed under the new one. Every read
//! ticks the series it reads first, so a read never misses a value.
//!
//! # Memory
//!
//! Per series, at most `retention / interval` deltas are kept, and only for
//! intervals in which something was recorded, plus the cumulative snapshot
//! of the previous tick. A histogram delta is packed: its summary values
//! (about 100 bytes) and, per distinct bucket touched in the interval, the
//! gap to the previous bucket key and the count as LEB128 varints — usually
//! two or three bytes. A counter delta is one `u64`.

use std::collections::VecDeque;
use std::time::Duration;

use crate::clock::{duration_nanos, Timestamp};
use crate::error::{PerfError, Result};
use crate::snapshot::{HistogramSnapshot, PackedSnapshot};

/// Interval length and retention of sliding windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowConfig {
    interval_nanos: u64,
    retention: Duration,
    /// Intervals kept: `ceil(retention / interval)`.
    intervals: u64,
}

impl WindowConfig {
    pub(crate) fn new(interval: Duration, retention: Duration) -> Result<Self> {
        let interval_nanos = duration_nanos(interval);
        if interval_nanos < 1_000_000 || interval > retention {
            return Err(PerfError::InvalidConfig(format!(
                "window interval must be at least 1 ms and at most the retention, \
                 got interval {interval:?}, retention {retention:?}"
            )));
        }
        let intervals = duration_nanos(retention).div_ceil(interval_nanos);
        if intervals > 100_000 {
            return Err(PerfError::InvalidConfig(format!(
                "window retention / interval must be at most 100000, got {intervals}"
            )));
        }
        Ok(WindowConfig {
            interval_nanos,
            retention,
            intervals,
        })
    }

    pub(crate) fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos)
    }

    pub(crate) fn retention(&self) -> Duration {
        self.retention
    }

    /// The index of the interval containing `t`.
    pub(crate) fn interval_of(&self, t: Timestamp) -> u64 {
        t.as_nanos() / self.interval_nanos
    }

    /// The start of the interval after the one containing `t`.
    pub(crate) fn next_boundary(&self, t: Timestamp) -> Timestamp {
        Timestamp::from_nanos((self.interval_of(t) + 1).saturating_mul(self.interval_nanos))
    }

    /// The first interval of a window of length `window` read at `now`.
    pub(crate) fn first_interval(&self, window: Duration, now: Timestamp) -> Result<u64> {
        let n = self.length(window);
        // `n <= intervals` follows from `window <= retention`.
        if n == 0 || window > self.retention {
            return Err(PerfError::InvalidWindow {
                window,
                retention: self.retention(),
            });
        }
        Ok((self.interval_of(now) + 1).saturating_sub(n))
    }

    /// The number of intervals a window of length `window` spans.
    pub(crate) fn length(&self, window: Duration) -> u64 {
        duration_nanos(window).div_ceil(self.interval_nanos)
    }

    /// The nominal length of the windows that [`Self::first_interval`] makes
    /// from `window` (a whole number of intervals).
    pub(crate) fn rounded(&self, window: Duration) -> Duration {
        Duration::from_nanos(self.length(window).saturating_mul(self.interval_nanos))
    }
}

/// Cumulative state whose growth can be split into per-interval deltas.
pub(crate) trait Windowed: Clone {
    /// How the ring keeps one interval's delta (compactly, for histograms).
    type Stored: Clone + PartialEq;
    /// What was added between `earlier` and `self`.
    fn delta_since(&self, earlier: &Self) -> Self;
    /// Adds a delta into a running total.
    fn accumulate(&mut self, delta: &Self);
    /// Whether a delta holds nothing.
    fn is_nothing(&self) -> bool;
    /// Packs a delta for keeping.
    fn store(delta: Self) -> Self::Stored;
    /// Unpacks a kept delta.
    fn load(stored: &Self::Stored) -> Self;
    /// Adds a kept delta in place.
    fn add_stored(&mut self, delta: &Self::Stored) {
        self.accumulate(&Self::load(delta));
    }
    /// Removes a kept delta that was added before, in place.
    fn subtract_stored(&mut self, delta: &Self::Stored);
    /// `total` plus the kept deltas, as repeated `accumulate` would give.
    fn sum(total: Self, deltas: &[&Self::Stored]) -> Self {
        deltas.iter().fold(total, |mut total, d| {
            total.accumulate(&Self::load(d));
            total
        })
    }
}

impl Windowed for HistogramSnapshot {
    type Stored = PackedSnapshot;
    fn delta_since(&self, earlier: &Self) -> Self {
        HistogramSnapshot::delta_since(self, earlier)
    }
    fn accumulate(&mut self, delta: &Self) {
        self.merge(delta);
    }
    /// A delta can hold a sum without a count: a snapshot racing a
    /// recording thread may see a value's bucket before its sum, and the
    /// next delta then carries the sum alone. Filing it keeps window sums
    /// exact.
    fn is_nothing(&self) -> bool {
        self.is_empty() && self.sum() == 0.0
    }
    fn store(delta: Self) -> PackedSnapshot {
        delta.pack()
    }
    fn load(stored: &PackedSnapshot) -> Self {
        stored.unpack()
    }
    fn sum(total: Self, deltas: &[&PackedSnapshot]) -> Self {
        PackedSnapshot::sum(total, deltas)
    }
    fn add_stored(&mut self, delta: &PackedSnapshot) {
        self.add_packed(delta);
    }
    fn subtract_stored(&mut self, delta: &PackedSnapshot) {
        self.subtract_packed(delta);
    }
}

impl Windowed for u64 {
    type Stored = u64;
    fn delta_since(&self, earlier: &Self) -> Self {
        self.wrapping_sub(*earlier)
    }
    fn accumulate(&mut self, delta: &Self) {
        *self = self.wrapping_add(*delta);
    }
    fn is_nothing(&self) -> bool {
        *self == 0
    }
    fn store(delta: Self) -> u64 {
        delta
    }
    fn load(stored: &u64) -> Self {
        *stored
    }
    fn subtract_stored(&mut self, delta: &u64) {
        *self = self.wrapping_sub(*delta);
    }
}

/// One series' window history: the cumulative state at the last tick and the
/// deltas of the intervals still retained, oldest first.
pub(crate) struct WindowTracker<T: Windowed> {
    last: T,
    /// The newest interval any tick has named. Deltas of older intervals
    /// are final: later ticks file under `newest` or after.
    newest: u64,
    /// The intervals of `deltas`, ascending — kept apart so that searching
    /// them touches a few dense cache lines.
    intervals: VecDeque<u64>,
    deltas: VecDeque<T::Stored>,
    /// Intervals before this may have been dropped from `deltas`.
    dropped_before: u64,
    /// Bumped whenever `deltas` changes.
    version: u64,
    /// Running window sums for [`Self::since_incremental`], by window length.
    memos: Vec<Memo<T>>,
}

/// A running window sum for windows of `length` intervals: the final deltas
/// of intervals `first..upto` plus `current`, the newest interval and its
/// delta as it was when added (it may still grow, so it is taken out before the next
/// read and added again).
struct Memo<T: Windowed> {
    length: u64,
    first: u64,
    upto: u64,
    current: Option<(u64, T::Stored)>,
    /// The tracker's `version` when `total` was last brought up to date.
    version: u64,
    total: T,
}

/// Most window lengths [`WindowTracker::since_incremental`] keeps sums for.
const MEMOS: usize = 4;

impl<T: Windowed> WindowTracker<T> {
    /// A tracker whose history starts at `initial` (the empty state).
    pub(crate) fn new(initial: T) -> Self {
        WindowTracker {
            last: initial,
            newest: 0,
            intervals: VecDeque::new(),
            deltas: VecDeque::new(),
            dropped_before: 0,
            version: 0,
            memos: Vec::new(),
        }
    }

    /// Takes `current` as the state the next tick counts from, filing
    /// nothing: what it holds is history from before this tracker's view
    /// of it began (a merged view's first read of its group).
    pub(crate) fn rebase(&mut self, current: T) {
        self.last = current;
    }

    /// Files everything added since the last tick under `interval` and drops
    /// the intervals that no window of `config` can reach any more.
    pub(crate) fn tick(&mut self, current: T, interval: u64, config: &WindowConfig) {
        let delta = current.delta_since(&self.last);
        self.last = current;
        // Ticks from racing readers may arrive out of order; never file under
        // an interval older than the newest one.
        self.newest = self.newest.max(interval);
        let interval = self.newest;
        if !delta.is_nothing() {
            self.version += 1;
            match self.deltas.back_mut() {
                Some(stored) if self.intervals.back() == Some(&interval) => {
                    let mut total = T::load(stored);
                    total.accumulate(&delta);
                    *stored = T::store(total);
                }
                _ => {
                    self.intervals.push_back(interval);
                    self.deltas.push_back(T::store(delta));
                }
            }
        }
        while let Some(&oldest) = self.intervals.front() {
            if oldest + config.intervals > interval {
                break;
            }
            self.intervals.pop_front();
            self.deltas.pop_front();
            self.dropped_before = oldest + 1;
            self.version += 1;
        }
    }

    /// The sum of the deltas of intervals `>= first`, added to `empty`.
    pub(crate) fn since(&self, first: u64, empty: T) -> T {
        T::sum(empty, &self.stored_in(first, u64::MAX))
    }

    /// What [`Self::since`] returns, read from a running sum kept for
    /// windows of `length` intervals: a read adds in place the intervals
    /// that became final and subtracts those that left the window since the
    /// previous read, so it touches a few deltas instead of all of them, and
    /// nothing at all when nothing changed. Counts and buckets are exact; a
    /// histogram's sum may differ from [`Self::since`] by rounding (about an
    /// ulp per subtraction), and its stddev and extremes are estimated as in
    /// `delta_since`.
    pub(crate) fn since_incremental(&mut self, first: u64, length: u64, empty: T) -> &T {
        let upto = self.newest.max(first);
        let found = self.memos.iter().position(|m| m.length == length);
        let memo = match found.map(|i| self.memos.swap_remove(i)) {
            Some(m) if m.first == first && m.version == self.version => m,
            Some(m) if m.first <= first && m.upto <= upto && m.first >= self.dropped_before => {
                self.advance(m, first, upto)
            }
            _ => self.rebuild(length, first, upto, empty),
        };
        if self.memos.len() == MEMOS {
            self.memos.remove(0);
        }
        self.memos.push(memo);
        &self.memos[self.memos.len() - 1].total
    }

    /// Brings a running sum to the window `first..`. The delta added as the
    /// current one last time stays in if it is unchanged and still in the
    /// window (the common case: its interval just became final).
    fn advance(&self, mut m: Memo<T>, first: u64, upto: u64) -> Memo<T> {
        let mut carried = None;
        if let Some((interval, current)) = m.current.take() {
            let unchanged = self.stored_at(interval) == Some(&current);
            if unchanged && interval >= first {
                carried = Some(interval);
            } else {
                m.total.subtract_stored(&current);
            }
        }
        for (_, d) in self.kept_in(m.first, first.min(m.upto)) {
            m.total.subtract_stored(d);
        }
        for (i, d) in self.kept_in(m.upto.max(first), upto) {
            if carried != Some(i) {
                m.total.add_stored(d);
            }
        }
        m.current = self.current_delta(upto);
        if let Some((i, d)) = &m.current {
            if carried != Some(*i) {
                m.total.add_stored(d);
            }
        }
        Memo {
            first,
            upto,
            version: self.version,
            ..m
        }
    }

    /// A running sum computed from scratch.
    fn rebuild(&self, length: u64, first: u64, upto: u64, empty: T) -> Memo<T> {
        let mut total = T::sum(empty, &self.stored_in(first, upto));
        let current = self.current_delta(upto);
        if let Some((_, d)) = &current {
            total.add_stored(d);
        }
        Memo {
            length,
            first,
            upto,
            current,
            version: self.version,
            total,
        }
    }

    /// The delta of the newest interval, if it is `upto` or later (a copy:
    /// it may still grow).
    fn current_delta(&self, upto: u64) -> Option<(u64, T::Stored)> {
        let (i, d) = self.kept_in(upto, u64::MAX).next()?;
        Some((i, d.clone()))
    }

    /// The kept delta of `interval`.
    fn stored_at(&self, interval: u64) -> Option<&T::Stored> {
        self.kept_in(interval, interval + 1).next().map(|(_, d)| d)
    }

    /// The kept intervals `from..to` with their deltas.
    fn kept_in(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, &T::Stored)> {
        let start = self.intervals.partition_point(|&i| i < from);
        let end = self.intervals.partition_point(|&i| i < to);
        self.intervals
            .range(start..end)
            .copied()
            .zip(self.deltas.range(start..end))
    }

    /// The kept deltas of intervals `from..to`.
    /// The deltas of the intervals in `from..to` that have any, one per
    /// interval, oldest first.
    pub(crate) fn deltas_in(&self, from: u64, to: u64) -> Vec<T> {
        self.stored_in(from, to).into_iter().map(T::load).collect()
    }

    fn stored_in(&self, from: u64, to: u64) -> Vec<&T::Stored> {
        let start = self.intervals.partition_point(|&i| i < from);
        let end = self.intervals.partition_point(|&i| i < to);
        self.deltas.range(start..end).collect()
    }

    /// The cumulative state at the last tick.
    #[cfg(test)]
    pub(crate) fn last(&self) -> &T {
        &self.last
    }

    /// Number of retained interval deltas.
    #[cfg(test)]
    pub(crate) fn retained(&self) -> usize {
        self.deltas.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WindowConfig {
        WindowConfig::new(Duration::from_secs(1), Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn config_validates_and_rounds() {
        assert!(WindowConfig::new(Duration::from_micros(10), Duration::from_secs(1)).is_err());
        assert!(WindowConfig::new(Duration::from_secs(2), Duration::from_secs(1)).is_err());
        let c = config();
        assert_eq!(c.retention(), Duration::from_secs(10));
        assert_eq!(
            c.rounded(Duration::from_millis(1500)),
            Duration::from_secs(2)
        );
        let now = Timestamp::from_secs(100) + Duration::from_millis(300);
        assert_eq!(c.first_interval(Duration::from_secs(3), now).unwrap(), 98);
        assert!(c.first_interval(Duration::ZERO, now).is_err());
        assert!(c.first_interval(Duration::from_secs(11), now).is_err());
        assert_eq!(c.next_boundary(now), Timestamp::from_secs(101));
    }

    #[test]
    fn counter_deltas_are_filed_per_interval_and_expire() {
        let c = config();
        let mut t = WindowTracker::new(0u64);
        t.tick(5, 0, &c);
        t.tick(7, 0, &c); // same interval: accumulated
        t.tick(10, 3, &c);
        assert_eq!(t.since(0, 0), 10);
        assert_eq!(t.since(1, 0), 3);
        t.tick(10, 10, &c); // interval 0 is now out of reach
        assert_eq!(t.retained(), 1);
        assert_eq!(t.since(0, 0), 3);
        t.tick(11, 2, &c); // late tick files under the newest interval
        assert_eq!(t.since(10, 0), 1);
        assert_eq!(*t.last(), 11);
    }

    #[test]
    fn a_sum_that_arrives_after_its_count_is_still_filed() {
        use crate::bucket::Precision;
        let c = config();
        let complete = HistogramSnapshot::from_values(Precision::DEFAULT, &[4.0]).unwrap();
        // A snapshot that raced the recording thread: the bucket, not the sum.
        let mut torn = complete.clone();
        torn.sum = 0.0;
        let mut t = WindowTracker::new(HistogramSnapshot::empty(Precision::DEFAULT));
        t.tick(torn, 0, &c);
        t.tick(complete, 1, &c); // a delta of count 0 and sum 4
        let window = t.since(0, HistogramSnapshot::empty(Precision::DEFAULT));
        assert_eq!(window.count(), 1);
        assert_eq!(window.sum(), 4.0);
    }

    proptest::proptest! {
        /// Running window sums always equal the exact ones: for counters
        /// exactly, for histograms in counts and buckets (sums to rounding).
        #[test]
        fn incremental_reads_equal_exact_reads(
            steps in proptest::collection::vec((0u64..4, 0u32..5, 1u64..12), 1..80),
        ) {
            use crate::bucket::Precision;
            let c = config();
            let mut counts = WindowTracker::new(0u64);
            let mut histogram = WindowTracker::new(HistogramSnapshot::empty(Precision::DEFAULT));
            let (mut interval, mut total, mut values) = (0u64, 0u64, Vec::new());
            for (advance, added, length) in steps {
                interval += advance;
                total += u64::from(added);
                values.extend((0..added).map(|k| f64::from(k + 1) * interval as f64));
                counts.tick(total, interval, &c);
                let cumulative = HistogramSnapshot::from_values(Precision::DEFAULT, &values).unwrap();
                histogram.tick(cumulative, interval, &c);
                let first = (interval + 1).saturating_sub(length.min(10));
                let length = length.min(10);
                proptest::prop_assert_eq!(
                    *counts.since_incremental(first, length, 0),
                    counts.since(first, 0)
                );
                let empty = || HistogramSnapshot::empty(Precision::DEFAULT);
                let fast = histogram.since_incremental(first, length, empty()).clone();
                let exact = histogram.since(first, empty());
                proptest::prop_assert_eq!(fast.count(), exact.count());
                proptest::prop_assert_eq!(&fast.buckets, &exact.buckets);
                proptest::prop_assert!((fast.sum() - exact.sum()).abs() <= 1e-9 * exact.sum().max(1.0));
            }
        }
    }
}
