//! Shared helpers for the perf-core comparison benches (`benches/compare.rs`,
//! `benches/memory.rs`): realistic latency values, a pair of long-lived worker
//! threads for concurrent recording, a `metrics` recorder backed by
//! `metrics-util`'s registry, and HdrHistogram sizing.
//!
//! Units: perf-core, prometheus-client, prometheus and `metrics` record `f64`
//! milliseconds; HdrHistogram records `u64` nanoseconds (its values must be
//! integers, and nanoseconds keep 3 significant digits down to 1 µs).

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

/// Length of the value arrays the record loops cycle through: a power of two
/// (the index is masked), long enough that the values spread over hundreds of
/// buckets, and small (8 KiB of `f64`) so the inputs take little of the L1
/// cache the recorders' own counts need: the benches measure recording, not
/// memory traffic for the inputs.
pub const VALUES_LEN: usize = 1024;
/// `i & VALUES_MASK` cycles through a [`VALUES_LEN`] array.
pub const VALUES_MASK: usize = VALUES_LEN - 1;

/// Median of the realistic latency distribution, in milliseconds.
pub const MEDIAN_MS: f64 = 20.0;

/// `n` lognormal latencies in milliseconds with the given median and shape
/// `sigma` (σ = 1 is a typical service latency: p99 ≈ 10 × median).
/// Deterministic for a given seed.
pub fn lognormal_ms(n: usize, median_ms: f64, sigma: f64, seed: u64) -> Vec<f64> {
    let dist = LogNormal::new(median_ms.ln(), sigma).expect("valid lognormal parameters");
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| dist.sample(&mut rng)).collect()
}

/// `n` values spread log-uniformly over `[lo, hi)` milliseconds.
pub fn log_uniform_ms(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(a..b).exp()).collect()
}

/// The realistic latency values the record benches cycle through
/// (lognormal, median 20 ms, σ = 1), in milliseconds.
pub fn latency_values() -> Vec<f64> {
    lognormal_ms(VALUES_LEN, MEDIAN_MS, 1.0, 42)
}

/// Milliseconds to whole nanoseconds (at least 1), HdrHistogram's input.
pub fn ms_to_ns(values: &[f64]) -> Vec<u64> {
    values
        .iter()
        .map(|&ms| ((ms * 1e6).round() as u64).max(1))
        .collect()
}

/// One hour in nanoseconds: the usual highest trackable value of a latency
/// HdrHistogram recording nanoseconds.
pub const HOUR_NS: u64 = 3_600_000_000_000;

/// The HdrHistogram a latency recorder typically uses: 1 ns .. 1 h, 3
/// significant digits (fixed size: 33 × 1024 `u64` counts = 264 KiB).
pub fn hdr_latency() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, HOUR_NS, 3).expect("valid HdrHistogram bounds")
}

/// Classic buckets for the Prometheus peers: 0.1 ms × 2^k, 20 bounds
/// (0.1 ms .. 52 s) plus +Inf: covers the latency data at a factor-2
/// resolution, a usual latency layout.
pub fn prometheus_buckets() -> Vec<f64> {
    (0..20).map(|k| 0.1 * 2f64.powi(k)).collect()
}

/// Long-lived worker threads that run a recording loop together.
///
/// Each [`Self::run`] hands every worker the same iteration count; the
/// workers meet at a barrier, each times its own loop from the barrier's
/// release, and `run` returns the longest of those times: the wall time of
/// the concurrent phase. Divided by `iters` (criterion does this), it is the
/// time per record per thread, so a recorder that does not slow down under
/// concurrency shows the same ns as its single-thread bench.
pub struct Workers {
    jobs: Vec<mpsc::Sender<u64>>,
    done: mpsc::Receiver<Duration>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `n` threads; thread `t` runs the loop `make(t)` returns, which
    /// must perform `iters` records when called with `iters`.
    pub fn start<M, F>(n: usize, make: M) -> Workers
    where
        M: Fn(usize) -> F,
        F: FnMut(u64) + Send + 'static,
    {
        let barrier = Arc::new(Barrier::new(n));
        let (done_tx, done) = mpsc::channel();
        let mut jobs = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for t in 0..n {
            let (job_tx, job_rx) = mpsc::channel::<u64>();
            let mut body = make(t);
            let barrier = barrier.clone();
            let done_tx = done_tx.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("bench-worker-{t}"))
                    .spawn(move || {
                        while let Ok(iters) = job_rx.recv() {
                            barrier.wait();
                            let start = Instant::now();
                            body(iters);
                            let elapsed = start.elapsed();
                            if done_tx.send(elapsed).is_err() {
                                return;
                            }
                        }
                    })
                    .expect("spawn bench worker"),
            );
            jobs.push(job_tx);
        }
        Workers {
            jobs,
            done,
            threads,
        }
    }

    /// Runs `iters` records on every worker at once; returns the wall time.
    pub fn run(&self, iters: u64) -> Duration {
        for job in &self.jobs {
            job.send(iters).expect("bench worker alive");
        }
        (0..self.jobs.len())
            .map(|_| self.done.recv().expect("bench worker alive"))
            .max()
            .unwrap_or_default()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.jobs.clear(); // closes the channels: the workers return
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The storage `metrics-util` offers exporters: a sharded registry of
/// atomic counters/gauges and, for histograms, `AtomicBucket<f64>` (a
/// lock-free append-only list of raw values that the exporter drains).
pub type MetricsRegistry = Registry<Key, AtomicStorage>;

/// A minimal `metrics` recorder over [`MetricsRegistry`], the way exporters
/// such as `metrics-exporter-prometheus` are built: `register_*` looks the
/// key up in the registry (creating it once) and returns a handle wrapping
/// the storage `Arc`.
#[derive(Clone)]
pub struct RegistryRecorder {
    /// The registry the handles point into.
    pub registry: Arc<MetricsRegistry>,
}

impl RegistryRecorder {
    /// A recorder with an empty atomic registry.
    pub fn new() -> Self {
        RegistryRecorder {
            registry: Arc::new(Registry::atomic()),
        }
    }

    /// Drops every recorded histogram value (what an exporter's drain does),
    /// so long benches do not grow the buckets without bound.
    pub fn clear_histograms(&self) {
        self.registry.visit_histograms(|_, bucket| bucket.clear());
    }
}

impl Default for RegistryRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder for RegistryRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

/// HdrHistogram bytes: the `u64` counts array (its only heap allocation,
/// `distinct_values()` entries) plus the struct itself.
pub fn hdr_bytes(h: &hdrhistogram::Histogram<u64>) -> usize {
    h.distinct_values() * std::mem::size_of::<u64>()
        + std::mem::size_of::<hdrhistogram::Histogram<u64>>()
}

/// An HdrHistogram with 3 significant digits sized as tightly as possible
/// for values in `[min_ns, max_ns]` nanoseconds: the most favourable sizing
/// for HdrHistogram.
///
/// HdrHistogram resolves values below `2048 · L` (L = lowest discernible
/// value, rounded down to a power of two) in steps of `L`, and each further
/// doubling of the range adds a bucket of 1024 counts. Choosing
/// `L = 2^floor(log2(min / 1024))` (at least 1) keeps the smallest value at
/// ≥ 1024 steps, i.e. 3 significant digits, while skipping the counts below
/// it; the highest trackable value is the data's maximum.
pub fn hdr_fitted(min_ns: u64, max_ns: u64) -> hdrhistogram::Histogram<u64> {
    let lowest = (min_ns / 1024).max(1);
    let lowest = 1u64 << (63 - lowest.leading_zeros()); // power of two at or below
    let highest = max_ns.max(2 * lowest);
    hdrhistogram::Histogram::new_with_bounds(lowest, highest, 3).expect("valid HdrHistogram bounds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_values_have_the_stated_median() {
        let mut v = lognormal_ms(100_001, MEDIAN_MS, 1.0, 1);
        v.sort_by(f64::total_cmp);
        let median = v[50_000];
        assert!((median / MEDIAN_MS - 1.0).abs() < 0.03, "{median}");
    }

    #[test]
    fn fixed_hdr_latency_histogram_is_264_kib() {
        assert_eq!(hdr_latency().distinct_values() * 8, 264 * 1024);
    }

    #[test]
    fn fitted_hdr_holds_its_range() {
        let mut h = hdr_fitted(200_000, 2_000_000_000);
        h.record(200_000).unwrap();
        h.record(2_000_000_000).unwrap();
        assert!(h.distinct_values() < hdr_latency().distinct_values());
    }

    #[test]
    fn workers_run_every_iteration() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let total = Arc::new(AtomicU64::new(0));
        let workers = Workers::start(2, |_| {
            let total = total.clone();
            move |iters| {
                total.fetch_add(iters, Ordering::Relaxed);
            }
        });
        workers.run(10);
        workers.run(5);
        drop(workers);
        assert_eq!(total.load(Ordering::Relaxed), 30);
    }

    #[test]
    fn recorder_hands_out_shared_handles() {
        let rec = RegistryRecorder::new();
        metrics::with_local_recorder(&rec, || {
            metrics::histogram!("x", "a" => "1").record(1.0);
            metrics::histogram!("x", "a" => "1").record(2.0);
        });
        let mut n = 0;
        rec.registry
            .visit_histograms(|_, b| b.data_with(|d| n += d.len()));
        assert_eq!(n, 2);
        rec.clear_histograms();
        let mut n = 0;
        rec.registry
            .visit_histograms(|_, b| b.data_with(|d| n += d.len()));
        assert_eq!(n, 0);
    }
}
