//! A recorder for the [`metrics`] facade (feature `metrics`): `counter!`,
//! `gauge!` and `histogram!` feed perf-core series, the key's name as the
//! metric name and its labels as tags.
//!
//! The recorder asks a [`SeriesSource`] for handles (the monitor facade
//! implements it), so this module never names the monitor. Nothing here
//! panics on bad input: a key perf-core refuses (invalid name or labels, a
//! name already used by another kind, too many metric names) and a value a
//! series refuses (NaN, ±∞) are each counted once in
//! [`METRICS_ADAPTER_ERRORS_COUNTER`] and otherwise dropped.

use std::fmt;
use std::sync::Arc;

use metrics::{CounterFn, GaugeFn, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};

use crate::counter::Counter;
use crate::error::Result;
use crate::gauge::Gauge;
use crate::histogram::Histogram;
use crate::series::Tag;

/// Name of the counter of keys and values the [`PerfCoreRecorder`] could
/// not record (created on the first such error).
pub const METRICS_ADAPTER_ERRORS_COUNTER: &str = "perf_core_metrics_adapter_errors_total";

/// Where the recorder gets its series: perf-core handles by name and tags,
/// and the counter of adapter errors.
pub(crate) trait SeriesSource: Send + Sync + 'static {
    /// The counter series `name{tags}`, created on first use.
    fn counter(&self, name: &str, tags: &[Tag<'_>]) -> Result<Counter>;
    /// The gauge series `name{tags}`, created on first use.
    fn gauge(&self, name: &str, tags: &[Tag<'_>]) -> Result<Gauge>;
    /// The histogram series `name{tags}`, created on first use.
    fn histogram(&self, name: &str, tags: &[Tag<'_>]) -> Result<Histogram>;
    /// The [`METRICS_ADAPTER_ERRORS_COUNTER`] series.
    fn adapter_errors(&self) -> Counter;
}

/// A [`metrics::Recorder`] that records into a perf-core monitor (feature
/// `metrics`); get one from `Monitor::metrics_recorder`, or install one
/// globally with `Monitor::install_metrics_recorder`.
///
/// * A key's name is the metric name and its labels are the tags, in the
///   rules of `docs/concepts.md` (names such as `http.requests` or
///   `http_requests_total` are fine; label keys must be valid tag keys).
/// * Counters: `increment` adds; `absolute(v)` raises the total to `v` if
///   it is larger and ignores it otherwise (a read then an add: two racing
///   `absolute` calls may add twice).
/// * Gauges: `set`, `increment` and `decrement` are atomic.
/// * Histograms: each `record` is one observation.
/// * Descriptions and units (`describe_*`) are not kept: give help texts
///   and units to the exposition through `ExpositionConfig`.
/// * Every registration (each `counter!` call) looks the series up: keep
///   the returned handle on hot paths.
/// * A refused key or value is counted in
///   [`METRICS_ADAPTER_ERRORS_COUNTER`] and dropped; the recorder never
///   panics.
///
/// The recorder holds a clone of the monitor, so a globally installed one
/// keeps that monitor alive for the rest of the process.
#[derive(Clone)]
pub struct PerfCoreRecorder {
    source: Arc<dyn SeriesSource>,
}

impl fmt::Debug for PerfCoreRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerfCoreRecorder").finish_non_exhaustive()
    }
}

impl PerfCoreRecorder {
    /// A recorder over `source`.
    pub(crate) fn new(source: Arc<dyn SeriesSource>) -> Self {
        PerfCoreRecorder { source }
    }

    /// The handle `wrap` makes of a found series, or — when perf-core
    /// refused the key — a no-op handle, the refusal counted.
    fn or_noop<T, H>(&self, found: Result<T>, wrap: impl FnOnce(T) -> H, noop: fn() -> H) -> H {
        match found {
            Ok(series) => wrap(series),
            Err(_) => {
                self.refused();
                noop()
            }
        }
    }

    /// Counts one refused key or value.
    fn refused(&self) {
        self.source.adapter_errors().increment(1);
    }
}

/// The labels of `key` as perf-core tags.
fn tags_of(key: &Key) -> Vec<Tag<'_>> {
    key.labels().map(|l| (l.key(), l.value())).collect()
}

impl metrics::Recorder for PerfCoreRecorder {
    /// Not kept (see the type's documentation).
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    /// Not kept (see the type's documentation).
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    /// Not kept (see the type's documentation).
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        let found = self.source.counter(key.name(), &tags_of(key));
        self.or_noop(
            found,
            |counter| metrics::Counter::from_arc(Arc::new(CounterHandle(counter))),
            metrics::Counter::noop,
        )
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        let found = self.source.gauge(key.name(), &tags_of(key));
        let source = Arc::clone(&self.source);
        let wrap = |gauge| metrics::Gauge::from_arc(Arc::new(GaugeHandle { gauge, source }));
        self.or_noop(found, wrap, metrics::Gauge::noop)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        let found = self.source.histogram(key.name(), &tags_of(key));
        let source = Arc::clone(&self.source);
        let wrap = |histogram| {
            metrics::Histogram::from_arc(Arc::new(HistogramHandle { histogram, source }))
        };
        self.or_noop(found, wrap, metrics::Histogram::noop)
    }
}

/// A perf-core counter behind a `metrics::Counter`.
struct CounterHandle(Counter);

impl CounterFn for CounterHandle {
    fn increment(&self, value: u64) {
        self.0.increment(value);
    }

    /// Raises the total to `value` if it is larger (not atomic: a read,
    /// then an add).
    fn absolute(&self, value: u64) {
        let current = self.0.value();
        if value > current {
            self.0.increment(value - current);
        }
    }
}

/// A perf-core gauge behind a `metrics::Gauge`; refused values are counted.
struct GaugeHandle {
    gauge: Gauge,
    source: Arc<dyn SeriesSource>,
}

impl GaugeHandle {
    /// Counts `outcome` as an adapter error if it is one.
    fn check(&self, outcome: Result<()>) {
        if outcome.is_err() {
            self.source.adapter_errors().increment(1);
        }
    }
}

impl GaugeFn for GaugeHandle {
    fn increment(&self, value: f64) {
        self.check(self.gauge.add(value));
    }

    fn decrement(&self, value: f64) {
        self.check(self.gauge.add(-value));
    }

    fn set(&self, value: f64) {
        self.check(self.gauge.set(value));
    }
}

/// A perf-core histogram behind a `metrics::Histogram`; refused values are
/// counted (and also in the series' own `rejected` statistic).
struct HistogramHandle {
    histogram: Histogram,
    source: Arc<dyn SeriesSource>,
}

impl HistogramFn for HistogramHandle {
    fn record(&self, value: f64) {
        if self.histogram.record(value).is_err() {
            self.source.adapter_errors().increment(1);
        }
    }
}
