//! The concurrent histogram: per-thread shards recorded without atomic
//! read-modify-write, merged by readers into a [`HistogramSnapshot`].
//!
//! # Memory model of the hot path
//!
//! A [`HistogramCore`] has one lazily allocated [`Shard`] per thread slot
//! (see [`crate::thread_slot`]). Slot `s < EXCLUSIVE_SLOTS` belongs to one live
//! thread at a time, so its shard has a **single writer**: every counter in it
//! is an `AtomicU64` updated with a `Relaxed` load and a `Relaxed` store — on
//! x86-64 ordinary loads and stores, no `lock` prefix. Each writer's counters
//! live in its own heap allocations (the shard header is aligned to 128
//! bytes), so writers do not contend for cache lines. Readers load the same atomics with `Relaxed` and sum
//! the shards; they never write.
//!
//! Each shard allocates its octave chunks (`2^p` counts each) on first use and
//! publishes them with a `Release` store of the chunk pointer; readers load
//! pointers with `Acquire`, so they see a zeroed chunk, never uninitialised
//! memory. Chunks and shards are freed only when the `HistogramCore` drops,
//! which needs every handle (`Arc`) gone: no reader or writer can still hold
//! a pointer.
//!
//! Each chunk ends in occupancy words, one bit per count, which the writer
//! sets before the count's first increment; a snapshot reads only the counts
//! whose bit is set in some shard, so its cost follows the buckets in use,
//! not the octave's width. A reader that sees a count's increment but not
//! yet its bit (possible on weakly ordered CPUs) misses that value until a
//! later snapshot, as it would a value recorded a moment later; a reader that
//! acquired the shard's `count` (as ticks do, see `fingerprint`) sees the
//! bits of every value that count includes.
//!
//! Threads without an exclusive slot record into the shard of
//! [`SHARED_SLOT`] while holding `shared_lock`, which restores single-writer
//! access for that shard.
//!
//! A snapshot taken while other threads record sees each field at some
//! recent value, not all at the same instant: a value may show in its bucket
//! before its sum or extremes, or the other way round. Nothing is ever lost:
//! once the recording thread's store is visible, every later snapshot
//! includes it, and a snapshot's `count` is always the sum of its buckets.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::bucket::{accepted_bits, bucket_of_bits, Bucket, Precision, OCTAVES};
use crate::clock::{Clock, Timestamp};
use crate::error::Result;
use crate::snapshot::{
    combined_m2, compensated_add, saturating_total, shifted_m2, HistogramSnapshot,
};
use crate::stats::Stats;
use crate::thread_slot::{self, EXCLUSIVE_SLOTS, SHARED_SLOT, SLOT_COUNT};

/// Adds `n` to a counter that has a single writer.
#[inline(always)]
fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).saturating_add(n), Relaxed);
}

/// One thread slot's counts. Aligned to 128 bytes (two cache lines, the
/// unit x86 prefetches) so the scalar fields of different writers' shards
/// never share a line.
#[repr(align(128))]
struct Shard {
    /// Values recorded: for change detection (`fingerprint`) and as the `n`
    /// of the shard's moments; a snapshot's `count` is derived from the
    /// buckets.
    count: AtomicU64,
    zero: AtomicU64,
    /// `f64` bits of the running sum and of its Neumaier compensation.
    sum: AtomicU64,
    sum_compensation: AtomicU64,
    /// `f64` bits of `Σ (v - shift)²`, for the variance.
    shifted_squares: AtomicU64,
    /// The shard's first value, which the squares are taken relative to.
    /// Written once before the shard is published, never changed.
    shift: f64,
    /// `f64` bits; for non-negative floats bit order is value order.
    min_bits: AtomicU64,
    max_bits: AtomicU64,
    /// Octave `i` counts values in `[2^(MIN_EXPONENT+i), 2^(MIN_EXPONENT+i+1))`;
    /// null until the first such value. Points at a chunk of `chunk_len`
    /// counts followed by `occupancy_words(chunk_len)` occupancy words: bit
    /// `sub` is set (before count `sub` first becomes non-zero) once the
    /// count is in use, so readers visit only used counts.
    octaves: [AtomicPtr<AtomicU64>; OCTAVES],
    chunk_len: usize,
}

/// Occupancy words after `chunk_len` counts: one bit per count.
const fn occupancy_words(chunk_len: usize) -> usize {
    chunk_len.div_ceil(64)
}

/// The indices of the bits set in `word`, lowest first.
fn set_bits(mut word: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let bit = (word != 0).then(|| word.trailing_zeros() as usize)?;
        word &= word - 1;
        Some(bit)
    })
}

impl Shard {
    fn new(precision: Precision, first_value: f64) -> Shard {
        Shard {
            count: AtomicU64::new(0),
            zero: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
            sum_compensation: AtomicU64::new(0f64.to_bits()),
            shifted_squares: AtomicU64::new(0f64.to_bits()),
            shift: first_value,
            min_bits: AtomicU64::new(u64::MAX),
            max_bits: AtomicU64::new(0),
            octaves: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            chunk_len: precision.sub_buckets(),
        }
    }

    /// Records a value given by its bits (in `[0, 2^64)`) `n` times. The
    /// caller must be this shard's only writer. On the hot path `n` is the
    /// constant 1 and the multiplications fold away.
    #[inline(always)]
    fn record(&self, bits: u64, n: u64, precision: Precision) {
        match bucket_of_bits(precision, bits) {
            Bucket::Zero => add(&self.zero, n),
            Bucket::Key(key) => {
                let (octave, sub) = precision.split(key);
                let chunk = self.chunk(octave);
                let count = &chunk[sub];
                let old = count.load(Relaxed);
                if old == 0 {
                    mark_occupied(&chunk[self.chunk_len..], sub);
                }
                count.store(old.saturating_add(n), Relaxed);
            }
        }
        let v = f64::from_bits(bits);
        let weight = n as f64;
        let (sum, compensation) = compensated_add(
            f64::from_bits(self.sum.load(Relaxed)),
            f64::from_bits(self.sum_compensation.load(Relaxed)),
            v * weight,
        );
        self.sum.store(sum.to_bits(), Relaxed);
        self.sum_compensation.store(compensation.to_bits(), Relaxed);
        let d = v - self.shift;
        let squares = f64::from_bits(self.shifted_squares.load(Relaxed)) + weight * d * d;
        self.shifted_squares.store(squares.to_bits(), Relaxed);
        if bits < self.min_bits.load(Relaxed) {
            self.min_bits.store(bits, Relaxed);
        }
        if bits > self.max_bits.load(Relaxed) {
            self.max_bits.store(bits, Relaxed);
        }
        // Last, with `Release`: a tick that sees the new count (`Acquire` in
        // `fingerprint`) then sees everything above in its snapshot.
        self.count
            .store(self.count.load(Relaxed).saturating_add(n), Release);
    }

    /// Makes this shard hold exactly the sum of `parts`, whose summary
    /// (count, sum, moments, extremes) is `snap`'s (see
    /// [`HistogramCore::replace_with_sum`]). The caller must be its only
    /// writer.
    fn overwrite(
        &self,
        snap: &HistogramSnapshot,
        parts: &[&HistogramSnapshot],
        precision: Precision,
    ) {
        for octave in 0..OCTAVES {
            let Some(chunk) = self.allocated_chunk(octave) else {
                continue;
            };
            let (counts, occupancy) = chunk.split_at(self.chunk_len);
            for (w, word) in occupancy.iter().enumerate() {
                for bit in set_bits(word.load(Relaxed)) {
                    counts[w * 64 + bit].store(0, Relaxed);
                }
            }
        }
        for &(key, count) in parts.iter().flat_map(|part| &part.buckets) {
            let (octave, sub) = precision.split(key);
            let chunk = self.chunk(octave);
            mark_occupied(&chunk[self.chunk_len..], sub);
            chunk[sub].store(chunk[sub].load(Relaxed) + count, Relaxed);
        }
        self.zero.store(snap.zero_count, Relaxed);
        self.sum.store(snap.sum.to_bits(), Relaxed);
        self.sum_compensation
            .store(snap.sum_compensation.to_bits(), Relaxed);
        // Σ (v - shift)² = M2 + n (mean - shift)², so `shifted_m2` gives M2 back.
        let n = snap.count as f64;
        let deviation = snap.sum() - n * self.shift;
        let squares = if snap.count > 0 {
            snap.m2 + deviation * deviation / n
        } else {
            0.0
        };
        self.shifted_squares.store(squares.to_bits(), Relaxed);
        let (min_bits, max_bits) = if snap.count > 0 {
            (snap.min.to_bits(), snap.max.to_bits())
        } else {
            (u64::MAX, 0)
        };
        self.min_bits.store(min_bits, Relaxed);
        self.max_bits.store(max_bits, Relaxed);
        self.count.store(snap.count, Release);
    }

    /// Words in a chunk: the counts, then the occupancy bits.
    fn chunk_words(&self) -> usize {
        self.chunk_len + occupancy_words(self.chunk_len)
    }

    /// The chunk of an octave, allocating it on first use (writer only).
    #[inline(always)]
    fn chunk(&self, octave: usize) -> &[AtomicU64] {
        match self.allocated_chunk(octave) {
            Some(chunk) => chunk,
            None => self.allocate_chunk(octave),
        }
    }

    #[cold]
    fn allocate_chunk(&self, octave: usize) -> &[AtomicU64] {
        let chunk: Box<[AtomicU64]> = (0..self.chunk_words()).map(|_| AtomicU64::new(0)).collect();
        let p = Box::into_raw(chunk) as *mut AtomicU64;
        // Only this shard's single writer allocates, so a plain store suffices.
        self.octaves[octave].store(p, Release);
        // SAFETY: just allocated with `chunk_words()` items.
        unsafe { std::slice::from_raw_parts(p, self.chunk_words()) }
    }

    /// The chunk of an octave if allocated (counts, then occupancy words).
    #[inline(always)]
    fn allocated_chunk(&self, octave: usize) -> Option<&[AtomicU64]> {
        let p = self.octaves[octave].load(Acquire);
        // SAFETY: non-null pointers come from `allocate_chunk`: a leaked
        // `Box<[AtomicU64]>` of `chunk_words()` items, freed only in `drop`.
        (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, self.chunk_words()) })
    }

    fn heap_bytes(&self) -> usize {
        let chunks = (0..OCTAVES).filter(|&i| self.allocated_chunk(i).is_some());
        std::mem::size_of::<Shard>()
            + chunks.count() * self.chunk_words() * std::mem::size_of::<AtomicU64>()
    }
}

/// Sets bit `sub` of a chunk's occupancy words (the shard's writer only).
#[cold]
fn mark_occupied(occupancy: &[AtomicU64], sub: usize) {
    let word = &occupancy[sub / 64];
    word.store(word.load(Relaxed) | 1 << (sub % 64), Relaxed);
}

impl Drop for Shard {
    fn drop(&mut self) {
        for p in &self.octaves {
            let p = p.load(Acquire);
            if !p.is_null() {
                let chunk = ptr::slice_from_raw_parts_mut(p, self.chunk_words());
                // SAFETY: allocated by `allocate_chunk` with `chunk_words()`
                // items, and `&mut self` proves no one else can reach it.
                drop(unsafe { Box::from_raw(chunk) });
            }
        }
    }
}

/// The storage behind a histogram series (shared by all its handles).
pub(crate) struct HistogramCore {
    precision: Precision,
    /// The monitor's clock, for timers. Kept here so a handle is one `Arc`.
    clock: Arc<dyn Clock>,
    shards: [AtomicPtr<Shard>; SLOT_COUNT],
    /// Bit `i % 64` of word `i / 64` is set once `shards[i]` is allocated,
    /// so readers visit live shards without loading all the pointers.
    live: [AtomicU64; SLOT_COUNT.div_ceil(64)],
    /// Guards the shard of `SHARED_SLOT` against concurrent writers.
    shared_lock: Mutex<()>,
    /// Values refused by `record` (NaN, infinities, negatives, too large).
    rejected: AtomicU64,
}

impl HistogramCore {
    pub(crate) fn new(precision: Precision, clock: Arc<dyn Clock>) -> Self {
        HistogramCore {
            precision,
            clock,
            shards: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            live: std::array::from_fn(|_| AtomicU64::new(0)),
            shared_lock: Mutex::new(()),
            rejected: AtomicU64::new(0),
        }
    }

    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    /// Records a value: the hot path.
    #[inline(always)]
    pub(crate) fn record(&self, value: f64) -> Result<()> {
        self.record_n(value, 1)
    }

    /// Records `value` `n` times (pre-aggregated data, imported histograms).
    /// A refused value counts `n` refusals.
    #[inline(always)]
    pub(crate) fn record_n(&self, value: f64, n: u64) -> Result<()> {
        let bits = accepted_bits(value).inspect_err(|_| self.count_rejected(n))?;
        if n == 0 {
            return Ok(());
        }
        let slot = thread_slot::current();
        if slot < EXCLUSIVE_SLOTS {
            let shard = self.shard(slot, bits);
            // With the precision a constant, the bucket arithmetic compiles
            // to immediate shifts: a measurable share of the hot path.
            if self.precision == Precision::DEFAULT {
                shard.record(bits, n, Precision::DEFAULT);
            } else {
                shard.record(bits, n, self.precision);
            }
        } else {
            self.record_shared(bits, n);
        }
        Ok(())
    }

    /// Records every valid value of `values`, finding this thread's shard
    /// once; invalid ones are counted as refused. The first refusal, if
    /// any, is returned after the rest are recorded.
    pub(crate) fn record_many(&self, values: &[f64]) -> Result<()> {
        let slot = thread_slot::current();
        let mut first_error = Ok(());
        for &value in values {
            let recorded = match accepted_bits(value) {
                Ok(bits) if slot < EXCLUSIVE_SLOTS => {
                    self.shard(slot, bits).record(bits, 1, self.precision);
                    Ok(())
                }
                Ok(bits) => {
                    self.record_shared(bits, 1);
                    Ok(())
                }
                Err(err) => {
                    self.count_rejected(1);
                    Err(err)
                }
            };
            first_error = first_error.and(recorded);
        }
        first_error
    }

    /// Makes this histogram hold exactly the sum of `parts` (of its
    /// precision) and `rejected` refusals — merged straight into its
    /// buckets, with no merged copy made first. Only for a merged view's
    /// series, which nothing records into: it rewrites the shared slot's
    /// shard under its lock, and the caller must keep readers out meanwhile
    /// (the view's write lock), since a snapshot taken during the rewrite
    /// could mix old and new.
    pub(crate) fn replace_with_sum(&self, parts: &[&HistogramSnapshot], rejected: u64) {
        debug_assert!(parts.iter().all(|p| p.precision() == self.precision));
        let mut summary = HistogramSnapshot::empty(self.precision);
        for part in parts {
            summary.merge_summary(part);
        }
        let _writer = self.shared_lock.lock();
        let shift = if summary.is_empty() {
            0.0
        } else {
            summary.mean()
        };
        self.shard(SHARED_SLOT, shift.to_bits())
            .overwrite(&summary, parts, self.precision);
        self.rejected.store(rejected, Relaxed);
    }

    /// Records for a thread without an exclusive slot, under the lock.
    #[inline(never)]
    fn record_shared(&self, bits: u64, n: u64) {
        let _writer = self.shared_lock.lock();
        self.shard(SHARED_SLOT, bits)
            .record(bits, n, self.precision);
    }

    #[cold]
    fn count_rejected(&self, n: u64) {
        self.rejected.fetch_add(n, Relaxed);
    }

    /// The shard of `slot`, allocated on first use. Only the slot's writer
    /// (or, for `SHARED_SLOT`, the holder of `shared_lock`) may call this.
    #[inline(always)]
    /// `bits` is the value about to be recorded, the shard's shift if new.
    fn shard(&self, slot: usize, bits: u64) -> &Shard {
        let p = self.shards[slot].load(Acquire);
        if p.is_null() {
            self.allocate_shard(slot, f64::from_bits(bits))
        } else {
            // SAFETY: non-null pointers come from `allocate_shard` (a leaked
            // Box) and are freed only in `drop`.
            unsafe { &*p }
        }
    }

    #[cold]
    fn allocate_shard(&self, slot: usize, first_value: f64) -> &Shard {
        let p = Box::into_raw(Box::new(Shard::new(self.precision, first_value)));
        self.shards[slot].store(p, Release);
        self.live[slot / 64].fetch_or(1 << (slot % 64), Release);
        // SAFETY: just allocated.
        unsafe { &*p }
    }

    fn live_shards(&self) -> impl Iterator<Item = &Shard> {
        let slots =
            self.live.iter().enumerate().flat_map(|(word, bits)| {
                set_bits(bits.load(Acquire)).map(move |bit| word * 64 + bit)
            });
        slots.filter_map(|slot| {
            let p = self.shards[slot].load(Acquire);
            // SAFETY: as in `shard`.
            (!p.is_null()).then(|| unsafe { &*p })
        })
    }

    /// Number of values refused so far.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Relaxed)
    }

    /// Merges all shards into a snapshot. `count` is derived from the buckets,
    /// so the snapshot's invariants hold even while writers race with it.
    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let shards: Vec<&Shard> = self.live_shards().collect();
        let mut snap = HistogramSnapshot::empty(self.precision);
        let (mut sum, mut compensation) = (0.0, 0.0);
        let (mut count, mut m2) = (0, 0.0);
        let (mut min_bits, mut max_bits) = (u64::MAX, 0);
        for shard in &shards {
            // The shard's own count (stored last by its writer, so the sum
            // and squares read after it include at least these values).
            let shard_count = shard.count.load(Acquire);
            snap.zero_count = snap.zero_count.saturating_add(shard.zero.load(Relaxed));
            let shard_sum = f64::from_bits(shard.sum.load(Relaxed));
            let shard_m2 = shifted_m2(
                shard_count,
                shard_sum,
                shard.shift,
                f64::from_bits(shard.shifted_squares.load(Relaxed)),
            );
            m2 = combined_m2(
                (count, sum + compensation, m2),
                (shard_count, shard_sum, shard_m2),
            );
            count = u64::saturating_add(count, shard_count);
            (sum, compensation) = compensated_add(sum, compensation, shard_sum);
            compensation += f64::from_bits(shard.sum_compensation.load(Relaxed));
            min_bits = min_bits.min(shard.min_bits.load(Relaxed));
            max_bits = max_bits.max(shard.max_bits.load(Relaxed));
        }
        self.collect_buckets(&shards, &mut snap.buckets);
        snap.count = saturating_total(snap.zero_count, &snap.buckets);
        (snap.sum, snap.sum_compensation) = (sum, compensation);
        snap.m2 = m2;
        if snap.count > 0 {
            snap.min = f64::from_bits(min_bits);
            snap.max = f64::from_bits(max_bits);
        }
        snap
    }

    /// The bucket counts of all shards, octave by octave, in key order,
    /// visiting only the counts some shard marked occupied. Counts are read
    /// again here, so they may include values recorded since the shard
    /// totals were taken; `count` is derived from these.
    fn collect_buckets(&self, shards: &[&Shard], out: &mut Vec<(u32, u64)>) {
        let len = self.precision.sub_buckets();
        let mut chunks: Vec<&[AtomicU64]> = Vec::with_capacity(shards.len());
        let mut occupied = vec![0u64; occupancy_words(len)];
        for octave in 0..OCTAVES {
            chunks.clear();
            chunks.extend(shards.iter().filter_map(|s| s.allocated_chunk(octave)));
            if chunks.is_empty() {
                continue;
            }
            occupied.fill(0);
            for chunk in &chunks {
                for (bits, word) in occupied.iter_mut().zip(&chunk[len..]) {
                    *bits |= word.load(Relaxed);
                }
            }
            // Reserved up front: growing one push at a time reallocates
            // about log2(buckets) times per snapshot.
            out.reserve(occupied.iter().map(|bits| bits.count_ones() as usize).sum());
            for (w, &bits) in occupied.iter().enumerate() {
                for sub in set_bits(bits).map(|bit| w * 64 + bit) {
                    let total = chunks
                        .iter()
                        .fold(0u64, |t, c| t.saturating_add(c[sub].load(Relaxed)));
                    if total > 0 {
                        out.push((self.precision.join(octave, sub), total));
                    }
                }
            }
        }
    }

    /// The number of values recorded into all shards so far: it changes with
    /// every record, so ticks can skip unchanged series without merging
    /// their buckets. Call it *before* [`Self::snapshot`]: every record it
    /// counts is then fully in the snapshot.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.live_shards()
            .fold(0, |total: u64, s| total.wrapping_add(s.count.load(Acquire)))
    }

    /// Heap bytes held by the recording storage of this series.
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<HistogramCore>()
            + self.live_shards().map(Shard::heap_bytes).sum::<usize>()
    }
}

impl Drop for HistogramCore {
    fn drop(&mut self) {
        for p in &self.shards {
            let p = p.load(Acquire);
            if !p.is_null() {
                // SAFETY: allocated by `allocate_shard`; `&mut self` proves
                // no handle can reach it any more.
                drop(unsafe { Box::from_raw(p) });
            }
        }
    }
}

/// A handle to one histogram series: cheap to clone, safe to share between
/// threads, and recording without locks or atomic read-modify-write.
///
/// Values are in the metric's unit (milliseconds for durations, bytes,
/// or unitless), finite and non-negative.
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// let h = monitor.histogram("http.server.duration", &[("route", "/users")])?;
/// h.record(12.5)?;
/// h.record_duration(std::time::Duration::from_micros(7_250))?; // 7.25 ms
/// let stats = h.stats();
/// assert_eq!(stats.count, 2);
/// assert_eq!(stats.max, 12.5);
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone)]
pub struct Histogram {
    pub(crate) core: Arc<HistogramCore>,
}

impl Histogram {
    /// Records one value.
    ///
    /// NaN, ±∞, negative values and values ≥ 2^64 are refused with
    /// [`crate::PerfError::InvalidValue`] and counted in [`Self::rejected`];
    /// they never touch the statistics. `-0.0` counts as `0.0`.
    #[inline]
    pub fn record(&self, value: f64) -> Result<()> {
        self.core.record(value)
    }

    /// Records `value` `n` times at once: pre-aggregated data such as a
    /// bucket of another histogram. Equivalent to `n` calls of
    /// [`Self::record`], including the statistics (sum, mean, stddev); a
    /// refused value counts `n` refusals, and `n = 0` records nothing.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let h = monitor.histogram("batch.size", &[])?;
    /// h.record_n(4.0, 1_000)?;
    /// assert_eq!(h.stats().count, 1_000);
    /// assert_eq!(h.stats().sum, 4_000.0);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn record_n(&self, value: f64, n: u64) -> Result<()> {
        self.core.record_n(value, n)
    }

    /// Records a batch of values, as many calls of [`Self::record`] would
    /// but finding the thread's storage once: for bindings that buffer
    /// values (Node.js) and for replaying samples. Every valid value is
    /// recorded; invalid ones are refused and counted in [`Self::rejected`],
    /// and the first refusal is returned.
    ///
    /// ```
    /// use perf_core::{Monitor, PerfError};
    /// let monitor = Monitor::builder().build()?;
    /// let h = monitor.histogram("batch", &[])?;
    /// let err = h.record_many(&[1.0, f64::NAN, 3.0]).unwrap_err();
    /// assert!(matches!(err, PerfError::InvalidValue { .. }));
    /// assert_eq!((h.stats().count, h.rejected()), (2, 1));
    /// # Ok::<(), PerfError>(())
    /// ```
    pub fn record_many(&self, values: &[f64]) -> Result<()> {
        self.core.record_many(values)
    }

    /// Records a duration in milliseconds (the unit of latency histograms).
    #[inline]
    pub fn record_duration(&self, duration: Duration) -> Result<()> {
        // Nanoseconds are exact in f64 up to 104 days, so this rounds once.
        self.core.record(duration.as_nanos() as f64 / 1e6)
    }

    /// Starts a timer that records the elapsed milliseconds, read from the
    /// monitor's clock, when it is stopped or dropped.
    ///
    /// ```
    /// use perf_core::{ManualClock, Monitor, Timestamp};
    /// use std::time::Duration;
    /// let clock = ManualClock::new(Timestamp::ZERO);
    /// let monitor = Monitor::builder().clock(clock.clone()).build()?;
    /// let h = monitor.histogram("job.duration", &[])?;
    /// {
    ///     let _timer = h.start_timer();
    ///     clock.advance(Duration::from_millis(40));
    /// } // recorded here
    /// assert_eq!(h.stats().max, 40.0);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn start_timer(&self) -> HistogramTimer<'_> {
        HistogramTimer {
            histogram: self,
            start: self.core.clock.now(),
            armed: true,
        }
    }

    /// A snapshot of everything recorded so far.
    pub fn snapshot(&self) -> HistogramSnapshot {
        self.core.snapshot()
    }

    /// Cumulative statistics of everything recorded so far.
    pub fn stats(&self) -> Stats {
        Stats::from_snapshot(self.snapshot(), self.core.rejected())
    }

    /// Number of values refused by [`Self::record`].
    pub fn rejected(&self) -> u64 {
        self.core.rejected()
    }

    /// Heap bytes held by this series' recording storage (all threads'
    /// shards), not counting sliding-window history.
    pub fn memory_bytes(&self) -> usize {
        self.core.heap_bytes()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("precision", &self.core.precision)
            .finish_non_exhaustive()
    }
}

/// Records the time from [`Histogram::start_timer`] to [`Self::stop`] or drop,
/// in milliseconds.
#[must_use = "the timer records when dropped; bind it to a variable"]
pub struct HistogramTimer<'a> {
    histogram: &'a Histogram,
    start: Timestamp,
    armed: bool,
}

impl HistogramTimer<'_> {
    /// Records the elapsed time now and returns it.
    pub fn stop(mut self) -> Duration {
        self.finish()
    }

    /// Drops the timer without recording.
    pub fn discard(mut self) {
        self.armed = false;
    }

    fn finish(&mut self) -> Duration {
        let elapsed = self.histogram.core.clock.now() - self.start;
        if std::mem::take(&mut self.armed) {
            // A duration is always finite, non-negative and below 2^64 ms.
            let _ = self.histogram.record_duration(elapsed);
        }
        elapsed
    }
}

impl Drop for HistogramTimer<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_of_many_threads_merge_into_exact_counts() {
        let core = Arc::new(HistogramCore::new(
            Precision::DEFAULT,
            Arc::new(crate::clock::SystemClock::new()),
        ));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let core = core.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        core.record(f64::from(t * 1000 + i)).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let s = core.snapshot();
        assert_eq!(s.count(), 4000);
        assert_eq!(s.sum(), (0..4000).sum::<u32>() as f64);
        assert_eq!((s.min(), s.max()), (0.0, 3999.0));
    }

    #[test]
    fn rejected_values_leave_statistics_untouched() {
        let core = HistogramCore::new(
            Precision::DEFAULT,
            Arc::new(crate::clock::SystemClock::new()),
        );
        core.record(5.0).unwrap();
        let before = core.snapshot();
        for v in [f64::NAN, f64::INFINITY, -1.0, 1e30] {
            assert!(core.record(v).is_err());
        }
        assert_eq!(core.snapshot(), before);
        assert_eq!(core.rejected(), 4);
        core.record(-0.0).unwrap();
        assert_eq!(core.snapshot().zero_count(), 1);
    }

    #[test]
    fn a_batch_records_like_single_calls_and_refuses_the_same_values() {
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock::new());
        let (batched, single) = (
            HistogramCore::new(Precision::DEFAULT, clock.clone()),
            HistogramCore::new(Precision::DEFAULT, clock),
        );
        let values = [3.5, 0.0, f64::NAN, 1e9, -2.0, 3.5, 42.0];
        let err = batched.record_many(&values).unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
        for v in values {
            let _ = single.record(v);
        }
        assert_eq!(batched.snapshot(), single.snapshot());
        assert_eq!((batched.rejected(), single.rejected()), (2, 2));
        assert!(batched.record_many(&[]).is_ok());
    }

    #[test]
    fn compensated_sum_keeps_small_values_next_to_large_ones() {
        let core = HistogramCore::new(
            Precision::DEFAULT,
            Arc::new(crate::clock::SystemClock::new()),
        );
        core.record(1e16).unwrap();
        for _ in 0..1000 {
            core.record(1.0).unwrap();
        }
        assert_eq!(core.snapshot().sum(), 1e16 + 1000.0);
    }

    #[test]
    fn memory_grows_only_with_the_octaves_used() {
        let core = HistogramCore::new(
            Precision::DEFAULT,
            Arc::new(crate::clock::SystemClock::new()),
        );
        let empty = core.heap_bytes();
        core.record(1.5).unwrap();
        let one = core.heap_bytes();
        core.record(1.7).unwrap(); // same octave
        assert_eq!(core.heap_bytes(), one);
        core.record(100.0).unwrap(); // another octave: 128 counts, 2 words of bits
        assert_eq!(core.heap_bytes(), one + (128 + 2) * 8);
        assert!(one > empty);
    }
}
